"""The scenarios beside the bundled rules pass, and together they exercise every rule,
every cited source and every outcome."""
from __future__ import annotations

from engine.scenarios import run_scenarios


def test_bundled_scenarios_pass_and_cover_everything(ruleset):
    report = run_scenarios(ruleset)
    failures = [f"{r.where} {r.scenario.id}: {r.failures}" for r in report.results if not r.ok]
    assert not report.problems and not failures, "\n".join(map(str, report.problems)) + "\n".join(failures)
    assert len(report.results) >= 40
    assert report.uncovered(ruleset) == {"rules": [], "sources": [], "outcomes": []}


def test_a_wrong_expectation_fails(ruleset, tmp_path):
    (tmp_path / "t.yaml").write_text(
        "scenarios:\n"
        "  - id: wrong\n"
        "    description: a colleague case whose expectation is deliberately wrong\n"
        "    answers: {professional.role: jeugdhulpverlener, share.recipient: colleague_involved}\n"
        "    expect: {outcome: DO_NOT_SHARE}\n", encoding="utf-8")
    report = run_scenarios(ruleset, tmp_path)
    assert not report.ok
    assert "expected outcome DO_NOT_SHARE, got SHARE_DIRECTLY_INVOLVED" in report.results[0].failures[0]
