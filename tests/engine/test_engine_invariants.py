"""Issue 3 invariants over the whole reachable interview (every path, real engine)."""
from __future__ import annotations

from engine.invariants import check_all


def test_invariants_hold_on_every_reachable_path(ruleset):
    report = check_all(ruleset, workers=2)
    print(f"\ninvariants: {report.paths} paths ({report.concrete} concrete answer sets) in {report.seconds:.1f} s")
    assert report.paths > 1000
    assert not report.failures, "\n".join(f"{problems}: {answers}" for answers, problems in report.failures[:10])
    assert report.fallbacks == 0, "some complete interviews are covered by no route rule"
    assert set(report.outcomes) == set(ruleset.precedence), "every outcome is reachable"
