"""JSON case files: strict (no duplicate keys, no NaN), bounded, positioned on demand.

A valid case is read with the standard ``json`` module and checked against the same limits
as a YAML file (nesting, number of values, length of a value, whole numbers within
±(2^53-1)). Line and column of a value are worked out only when a message needs one, by
reading the text again with the positioned YAML parser (JSON is YAML 1.2 flow syntax).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from legal_bases.textfile import (MAX_BYTES, MAX_DEPTH, MAX_NODES, MAX_SAFE_INT, MAX_SCALAR, Loc, Problem, YamlDocument,
                                  YamlFileError, echo, read_text)


def load_json(path: Path, max_bytes: int = MAX_BYTES) -> YamlDocument:
    """Load one JSON file strictly (no duplicate keys, no NaN, bounded nesting and numbers).

    Positions come from the positioned YAML parser, on first use only."""
    path = Path(path)
    text = read_text(path, max_bytes)
    try:
        json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except _JsonDuplicate as exc:
        raise YamlFileError(_duplicate_problems(text, path, exc.key)) from None
    except json.JSONDecodeError as exc:
        raise YamlFileError([Problem(str(path), exc.lineno, exc.colno, f"invalid JSON: {exc.msg}")]) from None
    except RecursionError:
        raise YamlFileError([Problem(str(path), 1, 1, "invalid JSON: nested too deeply; flatten the structure")]) from None
    except ValueError as exc:
        if "digits" in str(exc):  # Python's int-string limit: the positioned parser names the number and its line
            raise YamlFileError(_positioned_problems(text, path, "a number is too large")) from None
        raise YamlFileError([Problem(str(path), 1, 1, f"invalid JSON: {str(exc)[:200]}")]) from None
    data = json.loads(text)
    problems: list[Problem] = []
    _check_plain(data, path, problems, 0, [0])
    if problems:  # say where: the positioned parser applies the same limits and knows the lines
        raise YamlFileError(_positioned_problems(text, path, "") or problems[:20])
    return YamlDocument(path, data, {(): (1, 1)}, locate=lambda: _positions(text, path))


def _positions(text: str, path: Path) -> dict[Loc, tuple[int, int]]:
    from legal_bases.yamlfile import parse_text
    try:
        return parse_text(text, path).positions
    except YamlFileError:  # valid JSON the YAML parser does not take (e.g. tab indentation): no positions
        return {(): (1, 1)}


def _positioned_problems(text: str, path: Path, fallback: str) -> list[Problem]:
    """The same problems as the positioned YAML parser reports them (with line and column);
    ``fallback`` at 1:1 when it reports none (an empty fallback gives an empty list)."""
    from legal_bases.yamlfile import parse_text
    try:
        parse_text(text, path)
    except YamlFileError as exc:
        if exc.problems:
            return exc.problems[:20]
    return [Problem(str(path), 1, 1, f"invalid JSON: {fallback}")] if fallback else []


class _JsonDuplicate(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _JsonDuplicate(key)
        out[key] = value
    return out


def _no_constant(text: str) -> Any:
    raise ValueError(f"{text} is not allowed")


def _duplicate_problems(text: str, path: Path, key: str) -> list[Problem]:
    """The positioned parser names the line of the duplicate; fall back to the key alone."""
    return _positioned_problems(text, path, "") or [Problem(str(path), 1, 1, f"duplicate key {key!r}; keep one")]


def _check_plain(data: Any, path: Path, problems: list[Problem], depth: int, count: list[int]) -> None:
    count[0] += 1
    if count[0] == MAX_NODES + 1:
        problems.append(Problem(str(path), 1, 1, f"more than {MAX_NODES} values; is this the right file?"))
    if depth > MAX_DEPTH:
        problems.append(Problem(str(path), 1, 1, f"nested more than {MAX_DEPTH} levels deep"))
        return
    if isinstance(data, dict):
        for k, v in data.items():
            if len(k) > MAX_SCALAR:
                problems.append(Problem(str(path), 1, 1, f"a key is longer than {MAX_SCALAR} characters"))
            _check_plain(v, path, problems, depth + 1, count)
    elif isinstance(data, list):
        for v in data:
            _check_plain(v, path, problems, depth + 1, count)
    elif isinstance(data, str) and len(data) > MAX_SCALAR:
        problems.append(Problem(str(path), 1, 1, f"a value is longer than {MAX_SCALAR} characters: {echo(data)}"))
    elif isinstance(data, int) and not isinstance(data, bool) and not -MAX_SAFE_INT <= data <= MAX_SAFE_INT:
        problems.append(Problem(str(path), 1, 1, f"number {echo(data)} is too large"))


