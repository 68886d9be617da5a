"""Canonical JSON (RFC 8785, JCS) for a restricted schema, and a strict parser.

Within the restricted schema -- no floats, integers within +-(2^53-1), ASCII object keys,
strings without lone surrogates -- ``json.dumps(sort_keys=True, separators=(",", ":"),
ensure_ascii=False)`` encoded as UTF-8 produces exactly the RFC 8785 bytes (number formatting
and UTF-16 key ordering, the two places where Python differs, cannot occur). The test suite
checks this against the ``rfc8785`` package as an oracle.

``dumps`` enforces the restrictions before serialising; ``loads`` rejects floats, NaN/Infinity,
duplicate keys and invalid UTF-8. ``is_canonical`` is the verifier's check: the bytes must be
byte-identical to the canonical serialisation of what they parse to.
"""
from __future__ import annotations

import json
from typing import Any

import pydantic_core

from audit.errors import CanonicalError

MAX_SAFE_INT = 2**53 - 1

_encoder = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False, check_circular=False
)


def check(value: Any, path: str = "$") -> None:
    """Raise CanonicalError when ``value`` is outside the restricted JSON schema."""
    if value is None or value is True or value is False:
        return
    t = type(value)
    if t is str:
        _check_str(value, path)
    elif t is int:
        if not -MAX_SAFE_INT <= value <= MAX_SAFE_INT:
            raise CanonicalError(f"{path}: integer {value} is outside +-(2^53-1)")
    elif t is float:
        raise CanonicalError(f"{path}: floating-point number {value!r} is not allowed (use an integer or a string)")
    elif t is list or t is tuple:
        for i, item in enumerate(value):
            check(item, f"{path}[{i}]")
    elif t is dict:
        for key, item in value.items():
            if type(key) is not str:
                raise CanonicalError(f"{path}: object key {key!r} is not a string")
            if not key.isascii():
                raise CanonicalError(f"{path}: object key {key!r} is not ASCII")
            check(item, f"{path}.{key}")
    else:
        raise CanonicalError(f"{path}: value of type {t.__name__} cannot be written as JSON")


def _check_str(value: str, path: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise CanonicalError(f"{path}: string contains a lone surrogate and is not valid Unicode") from None


def dumps(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of ``value`` (restricted schema enforced)."""
    check(value)
    return _encoder.encode(value).encode("utf-8")


def dumps_unchecked(value: Any) -> bytes:
    """Canonical bytes of a value already known to be inside the restricted schema.

    May raise UnicodeEncodeError (lone surrogate) or ValueError; callers treat both as
    "not canonical"."""
    return _encoder.encode(value).encode("utf-8")


def dumps_ordered(value: Any) -> bytes:
    """Compact JSON of a value whose objects already have their keys in sorted order (the
    writer builds records that way): then this is the RFC 8785 form, written by pydantic-core
    (several times faster than sorting in ``json``). Callers check the bytes afterwards."""
    data: bytes = pydantic_core.to_json(value)
    return data


def _reject_float(text: str) -> Any:
    raise CanonicalError(f"number {text} is not an integer; floats are not allowed")


def _reject_constant(text: str) -> Any:
    raise CanonicalError(f"{text} is not valid JSON")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise CanonicalError(f"duplicate JSON key {key!r}")
            seen.add(key)
    return out


def loads(data: bytes) -> Any:
    """Parse strict JSON from UTF-8 bytes: no floats, no NaN, no duplicate keys.

    Raises CanonicalError with the reason."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CanonicalError(f"not valid UTF-8 at byte {exc.start}") from None
    try:
        return json.loads(
            text, parse_float=_reject_float, parse_constant=_reject_constant, object_pairs_hook=_no_duplicates
        )
    except CanonicalError:
        raise
    except (ValueError, RecursionError) as exc:
        raise CanonicalError(f"not valid JSON: {exc}") from None


def loads_fast(data: bytes) -> Any:
    """Parse JSON without the duplicate-key hook (faster). Only for bytes that are then
    required to be canonical: a duplicate key can never survive the ``is_canonical`` check,
    because the parsed object re-serialises without it."""
    return json.loads(data.decode("utf-8"), parse_float=_reject_float, parse_constant=_reject_constant)


def is_canonical(data: bytes, parsed: Any) -> bool:
    """True when ``data`` is exactly the canonical serialisation of ``parsed``."""
    try:
        return dumps_unchecked(parsed) == data
    except (UnicodeEncodeError, ValueError):
        return False
