"""The catalogue of legal sources that rules cite.

Each entry says exactly which article (lid, onderdeel) it is, where the official text is,
and how sure we are of its wording: ``verified`` (read in the official text or a faithful
copy of it), ``secondary`` (seen only in a commentary or third-party copy) or ``unverified``
(not checked against a text). Rules that rest on an unverified source must say so.

The entries are plain frozen dataclasses (no pydantic at run time); ``load_catalogue``
validates the files strictly through ``legal_bases.schema``.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from legal_bases.textfile import Loc, Problem, YamlFileError

DEFAULT_DIR = Path(__file__).resolve().parent / "catalogue"

Status = Literal["verified", "secondary", "unverified"]
Kind = Literal["statute", "regulation", "unwritten_law", "professional_norm", "guidance", "case_law"]
# What a source can do for a decision; the invariant checks use these to verify that every
# "share" advice cites both an exception to professional secrecy and an AVG ground.
Role = Literal["secrecy_exception", "avg_basis", "art9_exception", "art10_basis"]

_ID = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9.]+)*$")


@dataclass(frozen=True, eq=False)
class Text:
    """A text in Dutch and English."""

    nl: str = field(metadata={"min_length": 1})
    en: str = field(metadata={"min_length": 1})

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.nl


@dataclass(frozen=True, eq=False)
class Verification:
    checked: dt.date
    seen_at: list[str] = field(default_factory=list)
    note: str = ""


@dataclass(frozen=True, eq=False)
class LegalSource:
    id: str
    citation: str = field(metadata={"min_length": 3})
    title: str = field(metadata={"min_length": 3})
    instrument: str = field(metadata={"min_length": 2})
    kind: Kind
    url: str
    status: Status
    summary: Text
    verification: Verification
    roles: list[Role] = field(default_factory=list)
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    dpv: str | None = None
    quote: str | None = None

    def problems(self) -> list[tuple[Loc, str]]:
        out: list[tuple[Loc, str]] = []
        if not _ID.match(self.id):
            out.append((("id",), f"source id {self.id!r} is not well formed: lower-case words joined by '-', e.g. 'avg-6-1-a'"))
        if not self.url.startswith("https://"):
            out.append((("url",), "the official text must be an https:// URL"))
        if self.valid_from and self.valid_to and self.valid_to <= self.valid_from:
            out.append((("valid_to",), "valid_to must be after valid_from"))
        if self.status == "verified" and not self.verification.seen_at:
            out.append((("verification",), "a verified source must list where its text was read (verification.seen_at)"))
        return out

    def valid_on(self, day: dt.date) -> bool:
        if self.valid_from and day < self.valid_from:
            return False
        return not (self.valid_to and day >= self.valid_to)


@dataclass(frozen=True, eq=False)
class CatalogueFile:
    sources: list[LegalSource]


class Catalogue:
    """All sources by id, with the file and position each came from."""

    def __init__(self, sources: dict[str, LegalSource], origins: dict[str, tuple[str, int, int]],
                 documents: dict[Path, object] | None = None):
        self.sources = sources
        self.origins = origins
        self.documents = documents or {}  # file -> plain YAML content, for the rule-set fingerprint

    def __contains__(self, source_id: str) -> bool:
        return source_id in self.sources

    def __getitem__(self, source_id: str) -> LegalSource:
        return self.sources[source_id]

    def files(self) -> list[Path]:
        return sorted(self.documents)


def catalogue_files(directory: Path) -> list[Path]:
    return sorted(p for p in Path(directory).glob("*.yaml") if p.is_file())


def load_catalogue(directory: Path | None = None) -> Catalogue:
    """Load every ``*.yaml`` in the directory; raise YamlFileError listing all problems."""
    directory = Path(directory) if directory else DEFAULT_DIR
    problems: list[Problem] = []
    sources: dict[str, LegalSource] = {}
    origins: dict[str, tuple[str, int, int]] = {}
    documents: dict[Path, object] = {}
    files = catalogue_files(directory)
    if not files:
        raise YamlFileError([Problem(str(directory), 1, 1, "no legal-source files (*.yaml) found in this directory")])
    for path in files:
        try:
            from legal_bases.yamlfile import load_yaml, validate  # only when the catalogue is read
            doc = load_yaml(path)
            parsed = validate(doc, CatalogueFile)
        except YamlFileError as exc:
            problems.extend(exc.problems)
            continue
        documents[path] = doc.data
        for i, src in enumerate(parsed.sources):
            line, col = doc.pos(("sources", i))
            if src.id in sources:
                first = origins[src.id]
                problems.append(Problem(str(path), line, col,
                                        f"duplicate source id '{src.id}' (first defined at {first[0]}:{first[1]})"))
                continue
            sources[src.id] = src
            origins[src.id] = (str(path), line, col)
    if problems:
        raise YamlFileError(sorted(problems))
    return Catalogue(sources, origins, documents)
