"""Scenario tests beside the rules (engine/scenarios.py): the bundled scenarios pass and cover
every rule, source and outcome; a wrong or malformed scenario fails on its own with a
positioned message while the others run."""

from __future__ import annotations

import datetime as dt

from engine.scenarios import run_scenarios


def test_bundled_scenarios_pass_and_cover_everything(ruleset):
    report = run_scenarios(ruleset)
    failures = [f"{r.where} {r.scenario_id}: {r.failures}" for r in report.results if not r.ok]
    assert not report.problems and not failures, "\n".join(map(str, report.problems)) + "\n".join(failures[:20])
    assert len(report.results) >= 40
    assert report.uncovered(ruleset) == {"rules": [], "sources": [], "outcomes": []}


SCENARIOS = """scenarios:
  - id: wrong
    description: a colleague case whose expectation is deliberately wrong
    answers: {professional.role: jeugdhulpverlener, share.recipient: colleague_involved, share.data: [identity]}
    expect: {outcome: DO_NOT_SHARE, verdict: share}
  - id: right
    description: the same colleague case with the right expectation
    answers: {professional.role: jeugdhulpverlener, share.recipient: colleague_involved, share.data: [identity]}
    expect: {outcome: SHARE_DIRECTLY_INVOLVED, allowed: [identity], withheld: []}
  - id: right
    description: a second scenario with the same id
    answers: {professional.role: jeugdhulpverlener}
    expect: {complete: false}
  - id: incomplete
    description: only the role is known, so the recipient is still needed
    answers: {professional.role: jeugdhulpverlener}
    expect: {complete: false, missing: [share.recipient, share.data]}
  - id: no-expect
    description: a scenario without expectations at all
    answers: {professional.role: jeugdhulpverlener}
  - id: unknown-codes
    description: expectations that name codes the rule set does not have
    answers: {professional.role: jeugdhulpverlener, share.recipient: colleague_involved, share.data: [identity]}
    expect: {cites: [avg-6-1-x], conditions: [record_in_dosier], allowed: [identiti], warnings: [check.nope]}
  - id: short
    description: short
    answers: {}
    expect: {}
  - id: dated
    description: a colleague case decided on a date in the past
    on: 2019-06-01
    answers: {professional.role: jeugdhulpverlener, share.recipient: colleague_involved, share.data: [identity]}
    expect: {outcome: SHARE_DIRECTLY_INVOLVED}
"""


def test_each_bad_scenario_fails_on_its_own(ruleset, tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(SCENARIOS, encoding="utf-8")
    report = run_scenarios(ruleset, tmp_path)
    assert not report.ok and not report.problems
    by_id = {}
    for r in report.results:
        by_id.setdefault(r.scenario_id, []).append(r)
    wrong = by_id["wrong"][0].failures
    assert "expected outcome DO_NOT_SHARE, got SHARE_DIRECTLY_INVOLVED" in wrong
    right, duplicate = by_id["right"]
    assert right.ok and duplicate.failures[0].startswith("duplicate scenario id 'right' (first at ")
    assert by_id["incomplete"][0].ok
    assert by_id["no-expect"][0].failures == [f"{by_id['no-expect'][0].where}: missing required key 'expect'"]
    codes = by_id["unknown-codes"][0].failures
    assert any("expect.cites: unknown legal source 'avg-6-1-x'" in f for f in codes)
    assert any("expect.conditions: unknown condition 'record_in_dosier'; did you mean 'record_in_dossier'?" in f for f in codes)
    assert any("expect.allowed: unknown data category 'identiti'; did you mean 'identity'?" in f for f in codes)
    assert any("expect.warnings: unknown plausibility check 'check.nope'" in f for f in codes)
    assert all(f.startswith("line ") for f in codes)
    assert any("'description' must" in f or "description" in f for f in by_id["short"][0].failures)
    dated = by_id["dated"][0]
    assert dated.ok and dated.scenario.on == dt.date(2019, 6, 1)
    assert sum(r.ok for r in report.results) == 3
