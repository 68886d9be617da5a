"""YAML (and JSON) files with positions: every value keeps the line and column it came from.

Privacy officers edit the rule files and the legal-source catalogue by hand, so every
problem is reported as ``path:line:col: message``. The files are parsed with libyaml's C
parser (PyYAML's ``CParser``; the pure-Python parser when libyaml is missing) into a node
tree that carries positions, then turned into plain Python data by a small walker that also
enforces the limits a hostile or broken file could otherwise abuse:

* at most ``MAX_BYTES`` per file, ``MAX_DEPTH`` levels of nesting, ``MAX_NODES`` values and
  ``MAX_SCALAR`` characters per value (a 10 MB glossary is refused at once, not parsed);
* no aliases (``*name``) or merge keys: an alias bomb ("billion laughs") is refused at the
  first alias, before anything is expanded;
* no duplicate keys, no explicit tags, one document per file;
* whole numbers between -(2^53-1) and 2^53-1, the range both durable-rules and the audit
  log's canonical JSON represent exactly.

Scalars resolve by the YAML 1.2 core schema (``true``/``false``, ``null``/``~``, decimal,
``0o`` and ``0x`` integers, floats) plus ISO dates, so ``no``, ``on`` or ``1:20`` stay text.
Validation errors from pydantic are rewritten into messages for people (``describe``).
"""
from __future__ import annotations

import datetime as _dt
import re
import typing
from pathlib import Path
from typing import Any

import yaml

from legal_bases.textfile import (ECHO, MAX_BYTES, MAX_DEPTH, MAX_NODES, MAX_SAFE_INT, MAX_SCALAR, Loc, Problem,
                                  YamlDocument, YamlFileError, echo, read_text, suggest)

if typing.TYPE_CHECKING:
    from pydantic import ValidationError


# --- YAML 1.2 core schema resolver -------------------------------------------------------------

_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"


class _Core12Resolver(yaml.resolver.BaseResolver):
    pass


for _tag, _regexp, _first in (
    (_NULL, r"^(?:~|null|Null|NULL|)$", list("~nN") + [""]),
    (_BOOL, r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    (_INT, r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", list("-+0123456789")),
    (_FLOAT, r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
     list("-+.0123456789")),
    (_TIMESTAMP, r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?"
                 r"(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?$", list("0123456789")),
):
    _Core12Resolver.add_implicit_resolver(_tag, re.compile(_regexp), _first)

if getattr(yaml, "__with_libyaml__", False):
    from yaml.cyaml import CParser  # type: ignore[attr-defined]

    class _Composer(CParser, _Core12Resolver):
        """libyaml's C parser and composer with the YAML 1.2 core resolver (no constructor: nodes are walked)."""

        def __init__(self, text: str) -> None:
            CParser.__init__(self, text)
            _Core12Resolver.__init__(self)

    _BYTE_OFFSETS = True  # libyaml reads the text as UTF-8 bytes: its error positions count bytes
else:  # pragma: no cover - only without libyaml: the same in pure Python, slower
    class _Composer(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser,  # type: ignore[no-redef]
                    yaml.composer.Composer, _Core12Resolver):
        def __init__(self, text: str) -> None:
            yaml.reader.Reader.__init__(self, text)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            yaml.composer.Composer.__init__(self)
            _Core12Resolver.__init__(self)

    _BYTE_OFFSETS = False


_TIMESTAMP_CONSTRUCTOR = yaml.constructor.SafeConstructor()


class _Walker:
    """Turns a composed node tree into plain data, recording positions and enforcing limits."""

    def __init__(self, path: Path):
        self.path = path
        self.positions: dict[Loc, tuple[int, int]] = {(): (1, 1)}
        self.problems: list[Problem] = []
        self.seen: set[int] = set()
        self.count = 0

    def bad(self, node: yaml.Node, message: str) -> None:
        mark = node.start_mark
        self.problems.append(Problem(str(self.path), mark.line + 1, mark.column + 1, message))

    def walk(self, node: yaml.Node, loc: Loc, depth: int) -> Any:
        if id(node) in self.seen:
            raise _AliasFound
        self.seen.add(id(node))
        self.count += 1
        if self.count > MAX_NODES:
            self.bad(node, f"the file holds more than {MAX_NODES} values; split it into smaller files")
            raise _Stop
        if depth > MAX_DEPTH:
            self.bad(node, f"nested more than {MAX_DEPTH} levels deep; flatten the structure (e.g. use derived facts)")
            raise _Stop
        if isinstance(node, yaml.MappingNode):
            if node.tag != _MAP:
                self.bad(node, f"explicit tag {node.tag!r} is not allowed; remove it")
                return None
            out: dict[str, Any] = {}
            first: dict[str, yaml.Node] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    self.bad(key_node, "a key must be a plain word, not a list or mapping")
                    continue
                if key_node.tag == "tag:yaml.org,2002:merge" or key_node.value == "<<":
                    self.bad(key_node, "merge keys (<<) are not allowed; write the keys out in full")
                    continue
                key = self.scalar(key_node)
                name = str(key)
                if name in first:
                    where = first[name].start_mark.line + 1
                    self.bad(key_node, f"duplicate key {name!r} (first at line {where}); keep one")
                    continue
                first[name] = key_node
                kloc = loc + (name,)
                self.positions[kloc] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                self.positions[kloc + ("<value>",)] = (value_node.start_mark.line + 1, value_node.start_mark.column + 1)
                out[name] = self.walk(value_node, kloc, depth + 1)
            return out
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ:
                self.bad(node, f"explicit tag {node.tag!r} is not allowed; remove it")
                return None
            items = []
            for i, item in enumerate(node.value):
                self.positions[loc + (i,)] = (item.start_mark.line + 1, item.start_mark.column + 1)
                items.append(self.walk(item, loc + (i,), depth + 1))
            return items
        return self.scalar(node)

    def scalar(self, node: yaml.Node) -> Any:
        value: str = node.value
        tag = node.tag
        if len(value) > MAX_SCALAR:
            self.bad(node, f"a value of {len(value)} characters is longer than the {MAX_SCALAR} allowed")
            return None
        if tag == _STR or tag == "!":
            return value
        if tag == _NULL:
            return None
        if tag == _BOOL:
            return value.lower() == "true"
        if tag == _INT:
            digits = value.lstrip("+-")
            if len(digits) > 20:
                self.bad(node, f"number {echo(value)} is too large; whole numbers here must lie between "
                               f"-{MAX_SAFE_INT} and {MAX_SAFE_INT}")
                return None
            number = int(value, 8) if value.startswith("0o") else int(value, 16) if value.startswith("0x") else int(value)
            if not -MAX_SAFE_INT <= number <= MAX_SAFE_INT:
                self.bad(node, f"number {echo(value)} is too large; whole numbers here must lie between "
                               f"-{MAX_SAFE_INT} and {MAX_SAFE_INT}")
                return None
            return number
        if tag == _FLOAT:
            return float(value)
        if tag == _TIMESTAMP:
            try:
                assert isinstance(node, yaml.ScalarNode)
                return _TIMESTAMP_CONSTRUCTOR.construct_yaml_timestamp(node)
            except (ValueError, TypeError):
                self.bad(node, f"{echo(value)} is not a real date; write it as YYYY-MM-DD")
                return None
        self.bad(node, f"explicit tag {tag!r} is not allowed; remove it")
        return None


class _Stop(Exception):
    pass


class _AliasFound(Exception):
    pass


def _first_alias(text: str) -> tuple[int, int]:
    """Where the first alias (``*name``) stands; found by a second, event-level parse."""
    loader = yaml.CSafeLoader if getattr(yaml, "__with_libyaml__", False) else yaml.SafeLoader
    try:
        for event in yaml.parse(text, Loader=loader):
            mark = event.start_mark
            if isinstance(event, yaml.AliasEvent) and mark is not None:
                return mark.line + 1, mark.column + 1
    except yaml.YAMLError:
        pass
    return 1, 1


def _line_col(text: str, position: int) -> tuple[int, int]:
    """1-based line and column of an error position (a byte offset under libyaml)."""
    if _BYTE_OFFSETS:
        position = len(text.encode("utf-8")[:max(0, position)].decode("utf-8", "ignore"))
    position = max(0, min(position, len(text)))
    line = text.count("\n", 0, position) + 1
    return line, position - (text.rfind("\n", 0, position) + 1) + 1


def parse_text(text: str, path: Path) -> YamlDocument:
    """Parse YAML text (one document) into a positioned plain document; YamlFileError otherwise."""
    try:
        composer = _Composer(text)
        try:
            node = composer.get_single_node()
        finally:
            composer.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = (exc.problem or exc.context or "invalid YAML").strip()
        context = str(exc.context or "")
        if "nesting depth" in what or "flow level" in context or "indent level" in context:
            message = f"nested too deeply; flatten the structure (at most {MAX_DEPTH} levels)"
        elif "expected a single document" in context + what:
            message = "more than one document (---) in the file; keep one"
        else:
            message = f"YAML syntax error: {what}; check indentation, colons and quotes"
        raise YamlFileError([Problem(str(path), line, col, message)]) from None
    except yaml.reader.ReaderError as exc:  # a character text files do not hold (NUL, other controls)
        line, col = _line_col(text, exc.position)
        char = f"#x{exc.character:04x}" if isinstance(exc.character, int) else repr(exc.character)
        raise YamlFileError([Problem(str(path), line, col, f"the file holds control character {char}, which text "
                                                           "cannot hold; is this the right file? remove the character or "
                                                           "save the file again as plain UTF-8 text")]) from None
    except yaml.YAMLError as exc:
        raise YamlFileError([Problem(str(path), 1, 1, f"YAML syntax error: {str(exc)[:200]}")]) from None
    except RecursionError:
        raise YamlFileError([Problem(str(path), 1, 1, "nested too deeply; flatten the structure")]) from None
    if node is None:
        return YamlDocument(path, None, {(): (1, 1)})
    walker = _Walker(path)
    try:
        data = walker.walk(node, (), 0)
    except _Stop:
        data = None
    except _AliasFound:
        line, col = _first_alias(text)
        raise YamlFileError([Problem(str(path), line, col, "aliases (*name) are not allowed in these files; "
                                                           "write the value out in full")]) from None
    if walker.problems:
        raise YamlFileError(walker.problems)
    return YamlDocument(path, data, walker.positions)


def load_yaml(path: Path, max_bytes: int = MAX_BYTES) -> YamlDocument:
    """Load one YAML file; raise YamlFileError with positioned problems if it cannot be used."""
    path = Path(path)
    return parse_text(read_text(path, max_bytes), path)


# --- validation messages for people ---------------------------------------------------------

_KIND = {
    "string_type": "text", "int_type": "a whole number", "int_parsing": "a whole number", "bool_type": "true or false",
    "bool_parsing": "true or false", "list_type": "a list", "dict_type": "a mapping (key: value lines)",
    "model_type": "a mapping (key: value lines)", "model_attributes_type": "a mapping (key: value lines)",
    "date_type": "a date (YYYY-MM-DD)", "date_parsing": "a date (YYYY-MM-DD)",
    "date_from_datetime_inexact": "a date (YYYY-MM-DD)",
    "int_from_float": "a whole number", "float_type": "a number",
}

_PATTERN_HINTS = {
    r"^[a-z][a-z0-9-]*$": "lower-case letters, digits and '-', starting with a letter",
    r"^[a-z][a-z0-9_]*$": "lower-case letters, digits and '_', starting with a letter",
    r"^[a-z][a-z0-9_-]*$": "lower-case letters, digits, '_' and '-', starting with a letter",
}


def describe(err: Any, model: Any = None) -> str:
    """One pydantic error as a sentence a privacy officer can act on (no pydantic wording)."""
    kind = err.get("type", "")
    loc = tuple(p for p in err.get("loc", ()) if not (isinstance(p, str) and p.startswith("function-")))
    name = next((str(p) for p in reversed(loc) if isinstance(p, str)), "value")
    got = err.get("input")
    if kind == "extra_forbidden":
        from legal_bases.schema import field_names
        known = field_names(model, loc[:-1]) if model is not None else []
        allowed = f" (allowed here: {', '.join(known)})" if known and not suggest(name, known) else ""
        return f"unknown key '{name}'{suggest(name, known)}{allowed}; remove it or check its spelling"
    if kind == "missing":
        return f"missing required key '{name}'"
    if kind.startswith("literal_error") or kind == "enum":
        expected = str(err.get("ctx", {}).get("expected", ""))
        options = re.findall(r"'([^']*)'", expected)
        return f"'{name}' is {echo(got)}{suggest(str(got), options)}; allowed: {expected}"
    if kind == "string_pattern_mismatch":
        pattern = str(err.get("ctx", {}).get("pattern", ""))
        hint = _PATTERN_HINTS.get(pattern, "")
        return f"'{name}' is {echo(got)}, which is not well formed" + (f": use {hint}" if hint else "")
    if kind in _KIND:
        return f"'{name}' must be {_KIND[kind]}, not {echo(got)}"
    if kind in ("too_short", "too_long"):
        ctx = err.get("ctx", {})
        if isinstance(got, str):
            return f"'{name}' must not be empty" if kind == "too_short" else f"'{name}' is too long"
        n = ctx.get("min_length") if kind == "too_short" else ctx.get("max_length")
        return f"'{name}' needs at least {n} item(s)" if kind == "too_short" else f"'{name}' may hold at most {n} item(s)"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        bound = next(iter(err.get("ctx", {}).values()), "")
        word = {"greater_than_equal": "at least", "less_than_equal": "at most",
                "greater_than": "more than", "less_than": "less than"}[kind]
        return f"'{name}' must be {word} {bound}, not {echo(got)}"
    if kind in ("value_error", "assertion_error"):
        msg = str(err.get("msg", ""))
        for prefix in ("Value error, ", "Assertion failed, "):
            msg = msg.removeprefix(prefix)
        return msg
    if kind == "union_tag_invalid" or kind == "union_tag_not_found":
        return f"'{name}' is not one of the allowed kinds"
    return f"'{name}' is not valid here ({echo(got)})"


def validation_problems(doc: YamlDocument, exc: ValidationError, prefix: Loc = (), model: Any = None) -> list[Problem]:
    """Positioned problems for every error of a pydantic ValidationError (``model``: the
    dataclass that was validated, for "did you mean" on unknown keys)."""
    problems: list[Problem] = []
    seen: set[tuple[Loc, str]] = set()
    for err in exc.errors(include_url=False):
        loc = prefix + tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        # a value that fails every member of a union yields one error per member: report it once
        key_loc = tuple(p for p in loc if not (isinstance(p, str) and ("[" in p or p in ("str", "bool", "int", "list"))))
        if (key_loc, "") in seen and err.get("type") not in ("missing", "extra_forbidden"):
            continue
        seen.add((key_loc, ""))
        sub = err.copy()
        sub["loc"] = key_loc[len(prefix):]
        problems.append(doc.problem(key_loc, describe(sub, model)))
    return problems


def validate(doc: YamlDocument, model: type, data: Any = None, prefix: Loc = ()) -> Any:
    """Validate ``data`` (default: the whole document) as dataclass ``model`` (strictly, through
    ``legal_bases.schema``); every problem positioned in the file."""
    from legal_bases.schema import ValidationError, validate_as
    try:
        value, problems = validate_as(model, doc.data if data is None else data)
    except ValidationError as exc:
        raise YamlFileError(validation_problems(doc, exc, prefix, model)) from None
    if problems:
        raise YamlFileError([doc.problem(prefix + loc, message) for loc, message in problems])
    return value


def is_date(value: Any) -> bool:
    return isinstance(value, _dt.date)


def load_json(path: Path, max_bytes: int = MAX_BYTES) -> YamlDocument:
    """JSON through ``legal_bases.jsonfile`` (kept here for the callers that read both)."""
    from legal_bases.jsonfile import load_json as _load_json
    return _load_json(path, max_bytes)


__all__ = ["ECHO", "MAX_BYTES", "MAX_DEPTH", "MAX_NODES", "MAX_SAFE_INT", "MAX_SCALAR", "Loc", "Problem", "YamlDocument",
           "YamlFileError", "describe", "echo", "is_date", "load_json", "load_yaml", "parse_text", "read_text", "suggest",
           "validate", "validation_problems"]
