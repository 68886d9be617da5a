"""Replay (`audit verify --rules-archive`): each decision re-run on the archived rule set it names."""
from __future__ import annotations

import copy

import pytest
from audit_helpers import ACTOR, trust_file

from audit import codes, record_decision, verify_log

engine_archive = pytest.importorskip("engine.archive")
engine = pytest.importorskip("engine")

CASES = [
    {"professional.role": "jeugdhulpverlener", "share.recipient": "colleague_involved",
     "share.data": ["identity", "signals", "health"]},
    {"professional.role": "big_hulpverlener", "share.recipient": "colleague_involved", "share.data": ["identity", "health"]},
]


@pytest.fixture(scope="module")
def ruleset_and_archive(tmp_path_factory):
    try:
        rs = engine.load_ruleset()
    except engine.RulesetError as exc:  # the bundled rules are owned (and tested) by the engine
        pytest.skip(f"the bundled rule set does not load right now: {exc}")
    archive = tmp_path_factory.mktemp("archive")
    engine_archive.archive_ruleset(rs, archive)
    return rs, archive


def _sign(log, key, rs, raw, mutate=None):
    answers = engine.parse_answers(rs, raw)
    decision = engine.decide(rs, answers).to_json()
    assert decision["complete"], decision["missing"]
    if mutate:
        decision = copy.deepcopy(decision)
        mutate(decision)
    return record_decision(log, key, decision=decision, answers=answers, actor=ACTOR, case_ref_source="c")


def test_replay_reproduces_the_recorded_advice(tmp_path, key, ruleset_and_archive):
    rs, archive = ruleset_and_archive
    log = tmp_path / "log.jsonl"
    for raw in CASES:
        _sign(log, key, rs, raw)
    tk = trust_file(tmp_path / "tk.json", key)
    report = verify_log(log, tk, archive)
    assert report.ok, report.failures
    assert report.replayed == len(CASES)


def test_replay_mismatch_and_unavailable(tmp_path, key, ruleset_and_archive):
    rs, archive = ruleset_and_archive
    log = tmp_path / "log.jsonl"
    _sign(log, key, rs, CASES[0])
    # a key holder signs advice the rule set never gave (line 3) ...
    _sign(log, key, rs, CASES[0], lambda d: d["advice"].update(outcome="DO_NOT_SHARE", verdict="do_not_share"))
    _sign(log, key, rs, CASES[1], lambda d: d["advice"]["data"].update(allowed=["identity"]))
    # ... and a record naming a rule-set version that is not in the archive (line 5)
    _sign(log, key, rs, CASES[1], lambda d: d["ruleset"].update(fingerprint="sha256:" + "0" * 64))
    tk = trust_file(tmp_path / "tk.json", key)
    report = verify_log(log, tk, archive)
    got = [(f.line, f.code) for f in report.failures]
    assert got == [(3, codes.REPLAY_MISMATCH), (4, codes.REPLAY_MISMATCH), (5, codes.REPLAY_UNAVAILABLE)]
    assert "outcome: recorded DO_NOT_SHARE" in report.failures[0].message
    assert "data.allowed" in report.failures[1].message
    assert verify_log(log, tk).ok  # without --rules-archive the signatures and chain do hold
    assert [(f.line, f.code) for f in verify_log(log, tk, archive, jobs=2).failures] == got
