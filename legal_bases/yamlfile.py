"""YAML files with positions: every value keeps the line and column it came from.

Privacy officers edit the rule files and the legal-source catalogue by hand, so every
problem must be reported as ``path:line:col: message``. This module loads YAML with
ruamel.yaml, turns it into plain Python data and remembers where each value stood, and
turns pydantic validation errors into such positioned problems.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

Loc = tuple[str | int, ...]


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

    def pos(self, loc: Loc) -> tuple[int, int]:
        """Position of the value at ``loc``, or of its nearest ancestor."""
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


def _plain(node: Any, loc: Loc, positions: dict[Loc, tuple[int, int]]) -> Any:
    if isinstance(node, CommentedMap):
        out: dict[str, Any] = {}
        for key in node:
            kloc = loc + (str(key),)
            try:
                line, col = node.lc.value(key)
                kline, kcol = node.lc.key(key)
            except (KeyError, TypeError, AttributeError):  # pragma: no cover - ruamel internals
                line, col = kline, kcol = node.lc.line, node.lc.col
            # Point at the key: that is what a reader looks for in the file.
            positions[kloc] = (kline + 1, kcol + 1)
            positions[kloc + ("<value>",)] = (line + 1, col + 1)
            out[str(key)] = _plain(node[key], kloc, positions)
        return out
    if isinstance(node, CommentedSeq):
        items = []
        for i, item in enumerate(node):
            try:
                line, col = node.lc.item(i)
                positions[loc + (i,)] = (line + 1, col + 1)
            except (KeyError, TypeError, AttributeError):  # pragma: no cover
                pass
            items.append(_plain(item, loc + (i,), positions))
        return items
    if isinstance(node, str):
        return str(node)
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, (_dt.date, _dt.datetime)):
        return node
    return node


def load_yaml(path: Path) -> YamlDocument:
    """Load one YAML file; raise YamlFileError with a positioned problem if it cannot be parsed."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise YamlFileError([Problem(str(path), 1, 1, f"file is not UTF-8 text ({exc.reason}); save it as UTF-8")]) from None
    except OSError as exc:
        raise YamlFileError([Problem(str(path), 1, 1, f"cannot read file: {exc.strerror}")]) from None
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        node = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = (exc.problem or exc.context or "invalid YAML").strip()
        if "duplicate key" in str(exc):
            what = "duplicate key " + str(exc).split("duplicate key", 1)[1].split("\n", 1)[0].strip()
        raise YamlFileError([Problem(str(path), line, col, f"YAML syntax error: {what}; check indentation, colons and quotes")]) from None
    except YAMLError as exc:
        raise YamlFileError([Problem(str(path), 1, 1, f"YAML syntax error: {exc}")]) from None
    positions: dict[Loc, tuple[int, int]] = {(): (1, 1)}
    return YamlDocument(path, _plain(node, (), positions), positions)


def _describe(err: dict[str, Any]) -> str:
    kind = err.get("type", "")
    loc = err.get("loc", ())
    name = str(loc[-1]) if loc else "value"
    if kind == "extra_forbidden":
        return f"unknown key '{name}'; remove it or check its spelling"
    if kind == "missing":
        return f"missing required key '{name}'"
    if kind.startswith("literal_error") or kind == "enum":
        expected = err.get("ctx", {}).get("expected", "")
        return f"'{name}' has value {err.get('input')!r}; allowed: {expected}"
    msg = err.get("msg", "invalid value")
    return f"'{name}': {msg} (got {err.get('input')!r})"


def validation_problems(doc: YamlDocument, exc: ValidationError, prefix: Loc = ()) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = prefix + tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        problems.append(doc.problem(loc, _describe(err)))
    return problems


def validate(doc: YamlDocument, model: type[BaseModel], data: Any = None, prefix: Loc = ()):
    """Validate ``data`` (default: the whole document) against ``model``; positioned errors."""
    try:
        return model.model_validate(doc.data if data is None else data)
    except ValidationError as exc:
        raise YamlFileError(validation_problems(doc, exc, prefix)) from None
