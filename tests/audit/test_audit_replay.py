"""Replay (`audit verify --rules-archive`): each decision is re-run on the archived rule set it
names, and the record must hold exactly the advice that rule set gives. A key holder who signs
other advice -- another recipient, a false citation, another reason for withholding, English
texts, a made-up legal source -- is caught, with the first differing field named."""
from __future__ import annotations

import copy
from typing import Any

import pytest
from audit_helpers import ACTOR, trust_file

from audit import record_decision, verify_log
from audit.codes import Code

import engine
import engine.archive as engine_archive

CASES = [
    {"professional.role": "jeugdhulpverlener", "share.recipient": "colleague_involved",
     "share.data": ["identity", "signals", "health"]},
    {"professional.role": "big_hulpverlener", "share.recipient": "colleague_involved", "share.data": ["identity", "health"]},
    {"professional.role": "jeugdhulpverlener", "share.recipient": "parent", "client.age": 13, "client.authority": "parents",
     "concern.parent_suspected": False, "share.recipient_suspected": False,
     "share.data": ["signals", "health", "suspect_info", "third_parties"]},
]


@pytest.fixture(scope="module")
def ruleset_and_archive(tmp_path_factory):
    rs = engine.load_ruleset()
    archive = tmp_path_factory.mktemp("archive")
    engine_archive.archive_ruleset(rs, archive)
    return rs, archive


def _sign(log, key, rs, raw, mutate=None, lang="nl"):
    answers = engine.parse_answers(rs, raw)
    decision = engine.decide(rs, answers).to_json(lang)
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
    # the Decision itself may be handed to the writer: its Dutch JSON is recorded
    answers = engine.parse_answers(rs, CASES[0])
    record_decision(log, key, decision=engine.decide(rs, answers), answers=answers, actor=ACTOR, case_ref_source="d")
    tk = trust_file(tmp_path / "tk.json", key)
    report = verify_log(log, tk, archive)
    assert report.ok, report.failures
    assert report.replayed == len(CASES) + 1


def _withheld_reason(d: dict[str, Any]) -> None:
    d["advice"]["data"]["withheld"][0]["reason"] = "De ouder mag alles weten."


# (case, mutation, expected code, first differing field named in the message)
ATTACKS = [
    ("changed outcome", 0, lambda d: d["advice"].update(outcome="DO_NOT_SHARE", verdict="do_not_share"),
     Code.REPLAY_MISMATCH, "advice.outcome"),
    ("changed recipient", 0, lambda d: d["advice"].update(recipient="police"), Code.REPLAY_MISMATCH,
     "advice.recipient: recorded 'police'"),
    ("changed citation", 0, lambda d: d["advice"]["legal_bases"][0].update(citation="art. 7.3.11 lid 4 Jeugdwet"),
     Code.REPLAY_MISMATCH, "advice.legal_bases[0].citation"),
    ("changed source status", 1, lambda d: d["advice"]["legal_bases"][-1].update(status="unverified"),
     Code.REPLAY_MISMATCH, "advice.legal_bases[8].status"),
    ("changed withheld reason", 2, _withheld_reason, Code.REPLAY_MISMATCH, "advice.data.withheld[0].reason"),
    ("data moved from withheld to allowed", 2, lambda d: d["advice"]["data"].update(
        allowed=d["advice"]["data"]["allowed"] + ["suspect_info"]), Code.REPLAY_MISMATCH, "advice.data.allowed"),
    ("condition dropped", 1, lambda d: d["advice"]["conditions"].remove("minimise"), Code.REPLAY_MISMATCH,
     "advice.conditions"),
    ("explanation text changed", 1, lambda d: d["advice"]["explanation"][0].update(text="Alles mag."),
     Code.REPLAY_MISMATCH, "advice.explanation[0].text"),
    ("a made-up legal source", 0, lambda d: d["advice"]["legal_bases"].append(
        {"id": "wet-op-alles", "citation": "art. 1 Wet op alles", "status": "verified"}),
     Code.VOCABULARY_MISMATCH, "advice.legal_bases[9].id 'wet-op-alles'"),
    ("a name in the recipient field", 0, lambda d: d["advice"].update(recipient="Jan_Jansen"),
     Code.VOCABULARY_MISMATCH, "advice.recipient 'Jan_Jansen'"),
    ("a name in the outcome field", 0, lambda d: d["advice"].update(outcome="Jan_Jansen"),
     Code.VOCABULARY_MISMATCH, "advice.outcome 'Jan_Jansen'"),
    ("a category the rule set does not know", 1, lambda d: d["advice"]["data"]["allowed"].append("bank_account"),
     Code.VOCABULARY_MISMATCH, "advice.data.allowed[2] 'bank_account'"),
]


@pytest.mark.parametrize("name, case, mutate, code, where", ATTACKS, ids=[a[0] for a in ATTACKS])
def test_a_key_holder_cannot_record_other_advice(tmp_path, key, ruleset_and_archive, name, case, mutate, code, where):
    rs, archive = ruleset_and_archive
    log = tmp_path / "log.jsonl"
    _sign(log, key, rs, CASES[case])
    _sign(log, key, rs, CASES[case], mutate)  # validly signed by a trusted key; only replay can tell
    tk = trust_file(tmp_path / "tk.json", key)
    assert verify_log(log, tk).ok  # signatures and chain hold
    report = verify_log(log, tk, archive)
    assert [(f.line, f.code) for f in report.failures] == [(3, code)], report.failures
    assert where in report.failures[0].message, report.failures[0].message


def test_english_texts_in_a_record_do_not_replay(tmp_path, key, ruleset_and_archive):
    """Records hold the Dutch texts (what `decide --sign --lang en` and the interview write)."""
    rs, archive = ruleset_and_archive
    log = tmp_path / "log.jsonl"
    _sign(log, key, rs, CASES[0], lang="en")
    report = verify_log(log, trust_file(tmp_path / "tk.json", key), archive)
    assert [f.code for f in report.failures] == [Code.REPLAY_MISMATCH]
    assert "advice.explanation[0].text" in report.failures[0].message


def test_answers_outside_the_rule_set_and_unavailable_rule_sets(tmp_path, key, ruleset_and_archive):
    rs, archive = ruleset_and_archive
    log = tmp_path / "log.jsonl"
    answers = dict(engine.parse_answers(rs, CASES[0]))
    decision = engine.decide(rs, answers).to_json("nl")
    record_decision(log, key, decision=decision, answers={**answers, "share.recipient": "buurman"}, actor=ACTOR,
                    case_ref_source="c")
    _sign(log, key, rs, CASES[1], lambda d: d["ruleset"].update(fingerprint="sha256:" + "0" * 64))
    tk = trust_file(tmp_path / "tk.json", key)
    report = verify_log(log, tk, archive)
    got = [(f.line, f.code) for f in report.failures]
    assert got == [(2, Code.VOCABULARY_MISMATCH), (3, Code.REPLAY_UNAVAILABLE)]
    assert "share.recipient" in report.failures[0].message
    assert [(f.line, f.code) for f in verify_log(log, tk, archive, jobs=2).failures] == got
