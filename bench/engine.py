"""Engine benchmark: one command, ratios against a baseline measured in the same run.

    .venv/bin/python bench/engine.py [--cases N] [--workers W] [--skip-invariants]

1. Full re-evaluation (what the interview does after every answer: relevance walk +
   durable-rules + advice resolution) on complete interview paths of the shipped rules,
   p50/p95, against the plain-Python evaluation of the same compiled conditions.
   Target: durable p95 < 10 ms.
2. The invariant check over every reachable interview path (issue 3), once with the
   plain-Python evaluator (every 8th path cross-checked against durable-rules; this is what
   the test suite runs; target: all paths in < 30 s) and once entirely on durable-rules
   (reported for information: durable's per-action Python callbacks make it ~2x slower).
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine import decide, load_ruleset
from engine.enumerate import complete_paths
from engine.invariants import check_all


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def timed(rs, cases, backend: str) -> list[float]:
    out = []
    for answers in cases:
        t = time.perf_counter()
        decide(rs, answers, backend=backend)
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--skip-invariants", action="store_true")
    args = ap.parse_args()

    rs = load_ruleset()
    print(f"rule set {rs.name} {rs.version} {rs.fingerprint[:19]}…")
    paths = [a for a, _ in complete_paths(rs)]
    cases = random.Random(7).sample(paths, min(args.cases, len(paths)))
    decide(rs, cases[0])  # register the ruleset with durable once (not part of a re-evaluation)
    # interleave the two backends in rounds so machine noise hits both alike
    durable, python = [], []
    for i in range(0, len(cases), 200):
        chunk = cases[i:i + 200]
        durable += timed(rs, chunk, "durable")
        python += timed(rs, chunk, "python")
    d50, d95, p50, p95 = (percentile(durable, 50), percentile(durable, 95), percentile(python, 50), percentile(python, 95))
    print(f"full re-evaluation, {len(cases)} complete interview paths:")
    print(f"  durable-rules   p50 {d50:6.2f} ms   p95 {d95:6.2f} ms   mean {statistics.mean(durable):6.2f} ms")
    print(f"  plain Python    p50 {p50:6.2f} ms   p95 {p95:6.2f} ms   mean {statistics.mean(python):6.2f} ms")
    print(f"  ratio durable/python: p50 {d50 / p50:.2f}x  p95 {d95 / p95:.2f}x")
    ok = d95 < 10
    print(f"  target p95 < 10 ms: {'MET' if ok else 'NOT MET'} ({d95:.2f} ms = {d95 / 10:.2f} of the budget)")

    if not args.skip_invariants:
        for backend, every in (("python", 8), ("durable", 0)):
            report = check_all(rs, workers=args.workers, backend=backend, cross_check_every=every)
            extra = f", {report.cross_checked} cross-checked with durable" if every else ""
            print(f"invariants over every reachable path, {backend} engine: {report.paths} paths "
                  f"({report.concrete} concrete answer sets) in {report.seconds:.1f} s with {args.workers} worker(s)"
                  f"{extra}; {len(report.failures)} violation(s), {report.fallbacks} uncovered")
            met = report.seconds < 30
            print(f"  target < 30 s: {'MET' if met else 'NOT MET'} ({report.seconds / 30:.2f} of the budget)")
            ok = ok and not report.failures and (met or backend == "durable")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
