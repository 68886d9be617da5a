"""Engine benchmark: one command, every figure against a baseline measured in the same run.

    .venv/bin/python bench/engine.py [--rounds N] [--cases N] [--workers W] [--skip-walks] [--skip-diff]

1. ``deelwijzer decide CASE`` start to exit (compiled rule-set cache warm), paired round by
   round with a bare interpreter that imports pydantic and ruamel.yaml (what a start cost
   before the cache, minus the rules). Target: median ratio <= 2.0.
2. ``deelwijzer rules check`` cold (no cache: parse, validate, reachability) and warm (cache
   hit), against the same bare interpreter.
3. One full re-evaluation (relevance walk + engine + advice), durable-rules against the
   plain-Python evaluator of the same compiled conditions, p50/p95.
4. The invariant walk over every reachable interview path with ``--workers`` processes, once
   entirely on durable-rules (every distinct stage input evaluated by durable) and once on
   the Python evaluator with every 16th path cross-checked on durable. Target for the
   durable walk: < 30 s on 2 cores.
5. ``rules diff`` of the bundled rules against a copy with one edited data rule (a typical
   small change) and against a copy with a moved age threshold (a change that touches every
   age band), each against deciding every path in both versions, estimated from the measured
   cost of a decision on a sample of paths in the same run.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine import decide, load_ruleset  # noqa: E402
from engine.enumerate import complete_paths  # noqa: E402

PY = sys.executable
CASE = {"answers": {"professional.role": "jeugdhulpverlener", "share.recipient": "veilig_thuis",
                    "share.purpose": "protection", "share.data": ["identity", "signals"], "client.age": 14,
                    "client.authority": "parents", "danger.acute": False, "concern.parent_suspected": False,
                    "concern.exploitation": ["sexual"], "share.requested": False, "danger.structural": True}}


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def run(cmd: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - t


def startup(rounds: int, cache_dir: str) -> bool:
    env = {**os.environ, "DEELWIJZER_CACHE_DIR": cache_dir}
    case = Path(cache_dir) / "case.json"
    import json
    case.write_text(json.dumps(CASE))
    bare = [PY, "-c", "import pydantic, ruamel.yaml"]
    dw = [PY, "-m", "cli.main"]
    run(dw + ["decide", str(case)], env)  # fill the cache
    base, dec, warm, cold = [], [], [], []
    for _ in range(rounds):  # paired: machine noise hits both alike
        base.append(run(bare, env))
        dec.append(run(dw + ["decide", str(case)], env))
        warm.append(run(dw + ["rules", "check"], env))
        cold.append(run(dw + ["rules", "check"], {**env, "DEELWIJZER_NO_CACHE": "1"}))
    b = statistics.median(base)
    ratios = sorted(d / x for d, x in zip(dec, base))
    r = statistics.median(ratios)
    print(f"start to exit, median of {rounds} paired rounds (baseline: python -c 'import pydantic, ruamel.yaml' "
          f"= {b * 1000:.0f} ms):")
    print(f"  decide CASE (cache warm)   {statistics.median(dec) * 1000:6.0f} ms  = {r:.2f}x baseline   "
          f"target <= 2.0x: {'MET' if r <= 2.0 else 'NOT MET'}")
    print(f"  rules check, warm          {statistics.median(warm) * 1000:6.0f} ms  = {statistics.median(warm) / b:.2f}x baseline")
    print(f"  rules check, cold          {statistics.median(cold) * 1000:6.0f} ms  = {statistics.median(cold) / b:.2f}x baseline")
    return r <= 2.0


def reevaluation(rs, n: int) -> None:
    paths = [a for a, _ in complete_paths(rs)]
    cases = random.Random(7).sample(paths, min(n, len(paths)))
    decide(rs, cases[0])
    durable: list[float] = []
    python: list[float] = []
    for i in range(0, len(cases), 200):
        for backend, out in (("durable", durable), ("python", python)):
            for answers in cases[i:i + 200]:
                t = time.perf_counter()
                decide(rs, answers, backend=backend)
                out.append((time.perf_counter() - t) * 1000)
    print(f"one full re-evaluation, {len(cases)} complete paths of {len(paths)}:")
    for name, xs in (("durable-rules", durable), ("plain Python", python)):
        print(f"  {name:14s} p50 {percentile(xs, 50):5.2f} ms  p95 {percentile(xs, 95):5.2f} ms")
    print(f"  ratio durable/python p50 {percentile(durable, 50) / percentile(python, 50):.2f}x")


def walks(rs, workers: int) -> bool:
    from engine.invariants import check_all
    ok = True
    for backend, every in (("durable", 0), ("python", 16)):
        t = time.process_time()
        report = check_all(rs, workers=workers, backend=backend, cross_check_every=every)
        extra = (f", {report.cross_checked} cross-checked on durable" if every
                 else f", {report.stage_runs} durable stage runs")
        print(f"invariant walk on {backend}: {report.paths} paths ({report.concrete} concrete answer sets) in "
              f"{report.seconds:.1f} s wall with {workers} worker(s){extra}; {len(report.failures)} violation(s); "
              f"main process CPU {time.process_time() - t:.1f} s")
        if backend == "durable":
            met = report.seconds < 30
            print(f"  target < 30 s on 2 cores: {'MET' if met else 'NOT MET'} ({report.seconds / 30:.2f} of the budget)")
            ok = ok and met
        ok = ok and not report.failures
    return ok


def edited_copy(tmp: Path, name: str, edit) -> Path:
    dst = tmp / name
    shutil.copytree(ROOT / "rules", dst / "rules")
    shutil.copytree(ROOT / "legal_bases", dst / "legal_bases")
    edit(dst / "rules")
    return dst / "rules"


def diffs(rs, tmp: Path) -> None:
    from engine.diff import compare

    def data_rule(rules: Path) -> None:
        p = rules / "40-data.yaml"
        s = p.read_text()
        old = "    when: {advice.outcome: EMERGENCY_SHARE}\n    then: {allow: [third_parties]}"
        assert old in s
        narrowed = "    when: [{advice.outcome: EMERGENCY_SHARE}, {derived: minor}]\n    then: {allow: [third_parties]}"
        p.write_text(s.replace(old, narrowed))

    def threshold(rules: Path) -> None:
        p = rules / "00-ruleset.yaml"
        s = p.read_text()
        i = s.index("  - id: age.self_consent")
        j = s.index("value: 16", i)
        p.write_text(s[:j] + "value: 15" + s[j + len("value: 16"):])

    paths = [a for a, _ in complete_paths(rs)]
    sample = random.Random(3).sample(paths, min(400, len(paths)))
    t = time.perf_counter()
    for answers in sample:
        decide(rs, answers, backend="python")
    per = (time.perf_counter() - t) / len(sample)
    for label, edit in (("one data rule narrowed", data_rule), ("age.self_consent 16 -> 15", threshold)):
        new = load_ruleset(edited_copy(tmp, label.split()[0], edit))
        t = time.perf_counter()
        report = compare(rs, new, workers=2)
        took = time.perf_counter() - t
        naive = 2 * per * (report.paths + sum(report.new_paths.values()) + sum(report.removed_paths.values()))
        print(f"rules diff, {label}: {took:.1f} s ({report.paths} shared paths, {report.decided} decided, "
              f"{report.changed} changed); deciding every path in both versions: ~{naive:.0f} s of CPU "
              f"(= {naive / took:.1f}x the diff's wall time)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--cases", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--skip-walks", action="store_true")
    ap.add_argument("--skip-diff", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ok = startup(args.rounds, tmp)
        rs = load_ruleset()
        print(f"rule set {rs.name} {rs.version} {rs.fingerprint[:19]}…")
        reevaluation(rs, args.cases)
        if not args.skip_walks:
            ok = walks(rs, args.workers) and ok
        if not args.skip_diff:
            diffs(rs, Path(tmp))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
