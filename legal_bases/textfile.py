"""Reading a text file with limits, and problems positioned in it (no parser imported).

The shared vocabulary of every file Deelwijzer reads from a person: ``Problem`` (what is
wrong, at ``path:line:col``), ``YamlDocument`` (data with the position of every value; for
JSON the positions are worked out only when a message needs one), ``YamlFileError``, and
the limits a hostile file could otherwise abuse. ``legal_bases.yamlfile`` parses YAML and
``legal_bases.jsonfile`` JSON on top of this; the decision path (a cached rule set and a
JSON case) never imports a YAML parser.
"""
from __future__ import annotations

import difflib
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Loc = tuple[str | int, ...]

MAX_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 32
MAX_NODES = 200_000
MAX_SCALAR = 20_000
MAX_SAFE_INT = 2**53 - 1
ECHO = 60  # characters of an offending value repeated in a message


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in one file, at a 1-based line and column."""

    path: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.message}"


@dataclass
class YamlDocument:
    path: Path
    data: Any
    positions: dict[Loc, tuple[int, int]] = field(default_factory=dict)
    locate: Callable[[], dict[Loc, tuple[int, int]]] | None = field(default=None, repr=False, compare=False)

    def pos(self, loc: Loc) -> tuple[int, int]:
        """Position of the value at ``loc``, or of its nearest ancestor."""
        if self.locate is not None:  # positions worked out on first use (JSON)
            locate, self.locate = self.locate, None
            self.positions = locate()
        loc = tuple(loc)
        while loc:
            if loc in self.positions:
                return self.positions[loc]
            loc = loc[:-1]
        return self.positions.get((), (1, 1))

    def problem(self, loc: Loc, message: str) -> Problem:
        line, col = self.pos(loc)
        return Problem(str(self.path), line, col, message)


class YamlFileError(Exception):
    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def echo(value: Any) -> str:
    """A value as it may appear in a message: repr, cut to ``ECHO`` characters."""
    text = repr(value)
    return text if len(text) <= ECHO else text[: ECHO - 1] + "…"


def suggest(name: str, known: typing.Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for a close match among ``known``, else ``''``."""
    close = difflib.get_close_matches(str(name), sorted(set(known)), n=1, cutoff=0.7)
    return f"; did you mean '{close[0]}'?" if close else ""



def read_text(path: Path, max_bytes: int = MAX_BYTES) -> str:
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            raw = fh.read(max_bytes + 1)
    except IsADirectoryError:
        raise YamlFileError([Problem(str(path), 1, 1, "is a directory, not a file")]) from None
    except OSError as exc:
        raise YamlFileError([Problem(str(path), 1, 1, f"cannot read file: {exc.strerror}")]) from None
    if len(raw) > max_bytes:
        raise YamlFileError([Problem(str(path), 1, 1, f"file is larger than {max_bytes // 1024} KiB; split it or "
                                                      f"check that it is the right file")])
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise YamlFileError([Problem(str(path), line, 1, f"file is not UTF-8 text ({exc.reason}); save it as UTF-8")]) from None


