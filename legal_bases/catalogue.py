"""The catalogue of legal sources that rules cite.

Each entry says exactly which article (lid, onderdeel) it is, where the official text is,
and how sure we are of its wording: ``verified`` (read in the official text or a faithful
copy of it), ``secondary`` (seen only in a commentary or third-party copy) or ``unverified``
(not checked against a text). Rules that rest on an unverified source must say so.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from legal_bases.yamlfile import Problem, YamlFileError, load_yaml, validate

DEFAULT_DIR = Path(__file__).resolve().parent / "catalogue"

Status = Literal["verified", "secondary", "unverified"]
Kind = Literal["statute", "regulation", "unwritten_law", "professional_norm", "guidance", "case_law"]
# What a source can do for a decision; the invariant checks use these to verify that every
# "share" advice cites both an exception to professional secrecy and an AVG ground.
Role = Literal["secrecy_exception", "avg_basis", "art9_exception", "art10_basis"]

_ID = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9.]+)*$")


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class Text(_Strict):
    """A text in Dutch and English."""

    nl: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.nl


class Verification(_Strict):
    checked: dt.date
    seen_at: list[str] = Field(default_factory=list)
    note: str = ""


class LegalSource(_Strict):
    id: str
    citation: str = Field(min_length=3)
    title: str = Field(min_length=3)
    instrument: str = Field(min_length=2)
    kind: Kind
    roles: list[Role] = Field(default_factory=list)
    url: str
    status: Status
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    dpv: str | None = None
    summary: Text
    quote: str | None = None
    verification: Verification

    @field_validator("id")
    @classmethod
    def _id_shape(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError("source ids are lower-case words joined by '-', e.g. 'avg-6-1-a'")
        return v

    @field_validator("url")
    @classmethod
    def _https(cls, v: str) -> str:
        if not v.startswith("https://"):
            raise ValueError("the official text must be an https:// URL")
        return v

    @model_validator(mode="after")
    def _window(self) -> "LegalSource":
        if self.valid_from and self.valid_to and self.valid_to <= self.valid_from:
            raise ValueError("valid_to must be after valid_from")
        if self.status == "verified" and not self.verification.seen_at:
            raise ValueError("a verified source must list where its text was read (verification.seen_at)")
        return self

    def valid_on(self, day: dt.date) -> bool:
        if self.valid_from and day < self.valid_from:
            return False
        if self.valid_to and day >= self.valid_to:
            return False
        return True


class CatalogueFile(_Strict):
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
