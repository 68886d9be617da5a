"""Issue 3 invariants over the whole reachable interview (every path, real engine)."""

from __future__ import annotations

from engine.invariants import check_all


def test_invariants_hold_on_every_reachable_path(ruleset):
    """Every path on durable-rules (the production engine; each distinct stage input evaluated
    by durable once), and every 8th path also with the plain-Python evaluator of the same
    compiled rules, which must give the identical decision."""
    report = check_all(ruleset, workers=2, backend="durable", cross_check_every=8)
    print(
        f"\ninvariants: {report.paths} paths ({report.concrete} concrete answer sets) in {report.seconds:.1f} s, "
        f"{report.cross_checked} cross-checked with the Python evaluator"
    )
    assert report.cross_checked > report.paths // 10
    assert report.paths > 1000
    assert not report.failures, "\n".join(f"{problems}: {answers}" for answers, problems in report.failures[:10])
    assert report.fallbacks == 0, "some complete interviews are covered by no route rule"
    assert set(report.outcomes) == set(ruleset.precedence), "every outcome is reachable"
