"""The verifier's fast payload checks accept exactly what the strict pydantic models accept.

``record.decision_header`` (the fixed shape and canonical form of a decision record checked on
its raw bytes by one regular expression) and ``record.fast_check`` (TypedDict schema generated
from the models, one canonical comparison on the raw bytes) must never accept a payload that
``record.strict_parse`` rejects, and should accept every genuine record (or verification gets
slow, not wrong: the verifier falls back to the strict models). Hypothesis builds valid records, then mutates them in the ways an
attacker or a damaged disk would: values of other types or out of range, missing and extra
fields, key order, duplicate keys, white space, other escapes, number forms, long and control
characters, unsorted answers, inconsistent fired rules, random bytes.
"""
from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit import canonical, record
from audit.errors import AuditError

code = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_.:/#+\-]{0,24}\Z", fullmatch=True)
text = st.text(max_size=60)
name = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20)
fact = st.from_regex(r"\A[a-z][a-z0-9_]{0,6}\.[a-z][a-z0-9_]{0,6}\Z", fullmatch=True)
enum = st.from_regex(r"\A[A-Za-z0-9_.\-]{1,12}\Z", fullmatch=True)
value = st.booleans() | st.integers(-(2**53 - 1), 2**53 - 1) | enum | st.lists(enum, max_size=3)
step = st.fixed_dictionaries({"cites": st.lists(code, max_size=2), "rule": code, "text": text})


@st.composite
def decision_payload(draw: Any) -> dict[str, Any]:
    explanation = draw(st.lists(step, max_size=4))
    return {
        "actor": {"organisation": draw(name), "professional": draw(name)},
        "advice": {
            "conditions": draw(st.lists(code, max_size=3)),
            "data": {"allowed": draw(st.lists(code, max_size=3)),
                     "withheld": draw(st.lists(st.fixed_dictionaries({"category": code, "reason": text}), max_size=2))},
            "explanation": explanation,
            "legal_bases": draw(st.lists(st.fixed_dictionaries({
                "citation": text, "id": code,
                "status": st.sampled_from(["verified", "secondary", "unverified", None])}), max_size=3)),
            "outcome": draw(code), "recipient": draw(st.none() | code), "verdict": draw(code)},
        "answers": dict(sorted(draw(st.dictionaries(fact, value, max_size=5)).items())),
        "app": {"name": "deelwijzer", "version": "0.1.0"},
        "case_ref": "hmac-sha256:" + "A" * 43,
        "fired_rules": list(dict.fromkeys(s["rule"] for s in explanation)),
        "kid": "ed25519:" + "a" * 64, "log_id": str(uuid.UUID(int=draw(st.integers(0, 2**122)), version=4)),
        "prev": "b" * 64, "pseudonym_key_id": "pk-" + "c" * 16,
        "record_id": str(uuid.UUID(int=draw(st.integers(0, 2**122)), version=4)),
        "ruleset": {"fingerprint": "sha256:" + "d" * 64, "name": draw(name), "version": "2026.1"},
        "seq": draw(st.integers(0, 2**53 - 1)), "ts": "2026-11-22T11:48:50.329Z", "type": "decision", "v": 1,
    }


def header_payload(kind: str) -> dict[str, Any]:
    base = {"app": {"name": "deelwijzer", "version": "0.1.0"}, "kid": "ed25519:" + "a" * 64,
            "log_id": "846887fe-7847-4114-be6d-6424c95f25de", "prev": "0" * 64,
            "record_id": "9d69d042-c30c-427c-a2be-c846f66ac4b2", "seq": 0, "ts": "2026-11-22T11:48:50.329Z",
            "type": kind, "v": 1}
    if kind == "recovery":
        base["torn"] = {"length": 12, "offset": 400, "sha256": "e" * 64, "side_file": "log.jsonl.torn-400-abc"}
    return base


def strict_accepts(payload: bytes) -> bool:
    try:
        record.strict_parse(payload)
    except AuditError:
        return False
    return True


def agree(payload: bytes) -> None:
    fast = record.fast_check(payload)
    strict = strict_accepts(payload)
    assert (fast is not None) == strict, (payload[:300], fast is not None, strict)
    if fast is not None:
        assert fast == json.loads(payload)
        assert record.parse_payload(payload) == fast
    header = record.decision_header(payload)
    if header is not None:
        assert strict, payload[:300]
        o = json.loads(payload)
        assert header == (o["seq"], o["prev"], o["ts"], o["kid"], o["record_id"], o["log_id"], "decision")
    elif strict and fast is not None and fast["type"] == "decision" and all(
            abs(v) < 10**15 for v in fast["answers"].values() if type(v) is int):  # 16-digit answers: the slow path
        raise AssertionError(f"a genuine decision record missed the raw-bytes check: {payload[:300]!r}")


def _paths(obj: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _paths(v, path + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _paths(v, path + (i,))
    return out


def _set(obj: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    obj[path[0]] = _set(obj[path[0]], path[1:], new)
    return obj


ODD_VALUES = [None, True, False, 0, -1, 1.5, 2**53, -(2**53), "", "x", "Jan Jansen", "a\nb", "\x1b[31m", "\x7f",
              "A" * 4001, "é", [], {}, ["x"], {"a": 1}, "2026-02-30T10:00:00.000Z", "ed25519:" + "A" * 64]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=decision_payload(), data=st.data())
def test_fast_check_agrees_with_the_strict_models(payload, data):
    good = canonical.dumps(payload)
    agree(good)
    assert record.fast_check(good) is not None  # a genuine record takes the fast path
    kind = data.draw(st.sampled_from(["value", "delete", "add", "order", "dup", "space", "escape", "number", "byte",
                                      "answers", "fired"]))
    obj = json.loads(good)
    if kind == "value":
        path = data.draw(st.sampled_from(_paths(obj)[1:]))
        mutated = canonical.dumps_unchecked(_set(obj, path, data.draw(st.sampled_from(ODD_VALUES))))
    elif kind in ("delete", "add"):
        dicts = [p for p in _paths(obj) if isinstance(_get(obj, p), dict) and _get(obj, p)]
        path = data.draw(st.sampled_from(dicts))
        target = _get(obj, path)
        if kind == "delete":
            del target[data.draw(st.sampled_from(sorted(target)))]
        else:
            target[data.draw(st.sampled_from(["extra", "client_name", "zz", "a.b"]))] = "x"
        mutated = canonical.dumps_unchecked(obj)
    elif kind == "order":
        mutated = json.dumps(dict(reversed(list(obj.items()))), separators=(",", ":"), ensure_ascii=False).encode()
    elif kind == "dup":
        mutated = good.replace(b'"outcome":', b'"outcome":"DO_NOT_SHARE","outcome":', 1)
    elif kind == "space":
        pos = data.draw(st.integers(1, len(good) - 1))
        mutated = good[:pos] + b" " + good[pos:]
    elif kind == "escape":
        mutated = good.replace(b'"deelwijzer"', b'"deelwijze\\u0072"', 1).replace(b"/", b"\\/", 1)
    elif kind == "number":
        mutated = good.replace(b'"v":1}', data.draw(st.sampled_from([b'"v":1.0}', b'"v":1e0}', b'"v":true}',
                                                                      b'"v":01}', b'"v":-0}'])), 1)
    elif kind == "byte":
        pos = data.draw(st.integers(0, len(good) - 1))
        mutated = good[:pos] + bytes([data.draw(st.integers(0, 255))]) + good[pos + 1:]
    elif kind == "answers":
        if len(obj["answers"]) < 2:
            return
        obj["answers"] = dict(reversed(list(obj["answers"].items())))
        mutated = _with_sorted_outer(obj)
    else:  # fired
        obj["fired_rules"] = obj["fired_rules"][::-1] + ["extra_rule"]
        mutated = canonical.dumps_unchecked(obj)
    agree(mutated)


def _get(obj: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        obj = obj[p]
    return obj


def _with_sorted_outer(obj: dict[str, Any]) -> bytes:
    """Canonical everywhere except the (reversed) order of the answers."""
    answers = obj.pop("answers")
    text = canonical.dumps_unchecked({**obj, "answers": {"__placeholder__": 0}}).decode()
    inner = json.dumps(answers, separators=(",", ":"), ensure_ascii=False)
    return text.replace('{"__placeholder__":0}', inner).encode()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=decision_payload(), texts=st.lists(
    st.builds(lambda seed, n: (seed * n)[:n], st.text(min_size=1, max_size=8), st.integers(3990, 4010)),
    min_size=1, max_size=2))
def test_long_texts_are_counted_in_characters(payload, texts):
    """Above TEXT_MAX + 2 characters the raw-bytes check counts every text to 4000 characters."""
    payload["advice"]["explanation"] = [{"cites": [], "rule": f"r{i}", "text": t} for i, t in enumerate(texts)]
    payload["fired_rules"] = [f"r{i}" for i in range(len(texts))]
    agree(canonical.dumps(payload))


@pytest.mark.parametrize("kind", ["genesis", "recovery"])
def test_the_other_record_types(kind):
    good = canonical.dumps(header_payload(kind))
    agree(good)
    assert record.fast_check(good) is not None
    for pos in range(len(good)):
        agree(good[:pos] + bytes([good[pos] ^ 0x20]) + good[pos + 1:])
