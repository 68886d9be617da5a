"""Hypothesis properties: any single-byte change is rejected; sign -> verify round-trips."""
from __future__ import annotations

import base64
import json
import tempfile
from pathlib import Path

import pytest
from audit_helpers import ACTOR, append, make_decision, pin, trust_file
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit import record, record_decision, trust, verify_log
from audit.errors import RecordError


@pytest.fixture(scope="module")
def small_log(tmp_path_factory, key):
    d = tmp_path_factory.mktemp("small")
    log = d / "log.jsonl"
    append(log, key, 1)  # genesis + one decision: two signed records and one chain link
    tk = trust_file(d / "tk.json", key)
    pin(log, tk)
    store = trust.load(tk)
    assert verify_log(log, store).ok
    return log.read_bytes(), store


def _verify_bytes(data: bytes, store) -> object:
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "log.jsonl"
        log.write_bytes(data)
        return verify_log(log, store, jobs=1)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_single_byte_change_is_rejected(small_log, data):
    original, store = small_log
    pos = data.draw(st.integers(0, len(original) - 1), label="position")
    new = data.draw(st.integers(0, 255).filter(lambda b: b != original[pos]), label="new byte")
    changed = original[:pos] + bytes([new]) + original[pos + 1:]
    report = _verify_bytes(changed, store)
    assert not report.ok, f"byte {pos} {original[pos]:#04x} -> {new:#04x} was not detected"


def test_every_position_flipped_is_rejected(small_log):
    """Deterministic sweep: flip the lowest bit of every byte of the log (systemd-style)."""
    original, store = small_log
    missed = []
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "log.jsonl"
        for pos in range(len(original)):
            log.write_bytes(original[:pos] + bytes([original[pos] ^ 1]) + original[pos + 1:])
            if verify_log(log, store, jobs=1).ok:
                missed.append(pos)
    assert missed == []


# --- round trip -----------------------------------------------------------------------------------

code = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_.:/#+\-]{0,24}\Z", fullmatch=True)
text = st.text(max_size=300)  # any Unicode except lone surrogates, incl. control characters and emoji
advice = st.fixed_dictionaries({
    "outcome": code, "verdict": code, "recipient": st.none() | code,
    "legal_bases": st.lists(st.fixed_dictionaries({"id": code, "citation": text,
                                                    "status": st.sampled_from(["verified", "secondary", "unverified"])}),
                            max_size=6),
    "conditions": st.lists(code, max_size=6),
    "data": st.fixed_dictionaries({"allowed": st.lists(code, max_size=6),
                                   "withheld": st.lists(st.fixed_dictionaries({"category": code, "reason": text}),
                                                        max_size=4)}),
    "explanation": st.lists(st.fixed_dictionaries({"rule": code, "text": text, "cites": st.lists(code, max_size=3)}),
                            max_size=6),
})
fact = st.from_regex(r"\A[a-z][a-z0-9_]{0,10}\.[a-z][a-z0-9_]{0,10}\Z", fullmatch=True)
value = (st.booleans() | st.integers(-(2**53 - 1), 2**53 - 1) | st.from_regex(r"\A[a-z0-9_]{1,12}\Z", fullmatch=True)
         | st.lists(st.from_regex(r"\A[a-z0-9_]{1,12}\Z", fullmatch=True), max_size=4))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(adv=advice, answers=st.dictionaries(fact, value, max_size=8),
       professional=st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40).filter(str.strip))
def test_sign_verify_round_trip(key, adv, answers, professional):
    decision = {"ruleset": {"name": "r", "version": "1", "fingerprint": "sha256:" + "a" * 64},
                "complete": True, "missing": [], "advice": adv}
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "log.jsonl"
        rec = record_decision(log, key, decision=decision, answers=answers,
                              actor={"professional": professional, "organisation": "Org"}, case_ref_source="c-1")
        tk = trust_file(Path(tmp) / "tk.json", key)
        report = verify_log(log, tk, jobs=1)
        assert report.ok, report.failures
        line = log.read_bytes().splitlines()[rec.line - 1]
        stored = json.loads(base64.b64decode(json.loads(line)["payload"]))
    assert stored["advice"] == adv
    assert stored["answers"] == answers
    assert stored["fired_rules"] == list(dict.fromkeys(s["rule"] for s in adv["explanation"]))
    assert stored["actor"]["professional"] == professional.strip()


def test_lone_surrogate_is_refused_with_a_clear_error(tmp_path, key):
    d, a = make_decision()
    d["advice"]["explanation"][0]["text"] = "bad \ud800 text"
    with pytest.raises(RecordError, match=r"explanation\[0\]\.text: .*lone surrogate"):
        record_decision(tmp_path / "log.jsonl", key, decision=d, answers=a, actor=ACTOR, case_ref_source="c")
    assert not (tmp_path / "log.jsonl").exists() or (tmp_path / "log.jsonl").read_bytes() == b""


def test_record_models_declare_fields_in_sorted_order():
    """pydantic serialises in declaration order; sorted order makes that the RFC 8785 form."""
    for model in record.MODELS:
        names = list(model.model_fields)
        assert names == sorted(names), model.__name__
