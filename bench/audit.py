"""Audit-log benchmark (issue 4): one command, all figures measured in the same run.

    .venv/bin/python bench/audit.py [--records N] [--dir DIR]

1. append: N decision records through one AuditLogWriter session (flock + one write + fsync per
   record) vs a bare ``write`` + ``fsync`` loop of lines of the same size on the same disk;
2. verify: the N-record log, one process (jobs=1) and all cores (jobs=2 on this machine), vs raw
   Ed25519 verifications/s of the same library over messages of the same size, on one core;
3. memory: verify runs in a fresh subprocess; its peak RSS (parent + worker processes) and
   tracemalloc peak are compared for N/10 and N records -- flat means streaming.

Targets (issue 4): append >= 0.8x the bare loop; verify >= 0.7x raw Ed25519 per core.

"Per core" is reported twice: per wall second divided by the cores used (what a user sees, but
skewed when other processes share the cores), and per CPU-second consumed by the verifier's
parent and worker processes against raw verifications per CPU-second (independent of other load).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from audit import keys, trust  # noqa: E402
from audit.keys import SigningKey  # noqa: E402
from audit.log import AuditLogWriter  # noqa: E402

OUTCOMES = [("MELD_VEILIG_THUIS", "share", "veilig_thuis"), ("SEEK_CONSENT_FIRST", "do_not_share", "parent"),
            ("SHARE_DIRECTLY_INVOLVED", "share", "colleague_involved"), ("DO_NOT_SHARE", "do_not_share", "police")]


def decision(i: int) -> tuple[dict, dict]:
    outcome, verdict, recipient = OUTCOMES[i % len(OUTCOMES)]
    d = {"ruleset": {"name": "deelwijzer-mensenhandel", "version": "1.0.0", "fingerprint": "sha256:" + "5f" * 32},
         "complete": True, "missing": [],
         "advice": {"outcome": outcome, "verdict": verdict, "recipient": recipient,
                    "legal_bases": [{"id": "avg-6-1-c", "citation": "art. 6 lid 1 sub c AVG"},
                                    {"id": "jw-7.3.11-4", "citation": "art. 7.3.11 lid 4 Jeugdwet"}],
                    "conditions": ["minimise", "record_in_dossier", "inform_client_first"],
                    "data": {"allowed": ["identity", "contact", "signals"],
                             "withheld": [{"category": "health", "reason": "Niet nodig voor het doel van deze melding."}]},
                    "explanation": [{"rule": "meldcode.stap5", "text": "Er is een vermoeden van structurele onveiligheid; "
                                     "de meldcode geeft u het recht te melden bij Veilig Thuis.", "cites": ["jw-7.3.11-4"]},
                                    {"rule": "minimise", "text": "Deel alleen wat nodig is voor het doel.",
                                     "cites": ["avg-5-1-c"]}]}}
    answers = {"professional.role": "jeugdhulpverlener", "client.age": 10 + i % 8, "client.authority": "parents",
               "concern.exploitation": ["sexual"], "danger.acute": False, "danger.structural": True,
               "share.recipient": recipient, "share.purpose": "protection", "meldcode.steps_done": True}
    return d, answers


def rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


def bench_append_vs_bare(work: Path, key: SigningKey, n: int, block: int = 500) -> tuple[float, float, int]:
    """Append n records through one writer session, and write+fsync n bare lines of the same size,
    in alternating blocks so that both see the same machine load. Returns (append/s, bare/s, line)."""
    actor = {"professional": "J. de Vries", "organisation": "Jeugdteam Noord"}
    prepared = [decision(i) for i in range(64)]
    log = work / "log.jsonl"
    t_append = t_bare = 0.0
    with AuditLogWriter(log) as w:
        w.append_decision(key, decision=prepared[0][0], answers=prepared[0][1], actor=actor, case_ref_source="warm-up")
        line = b"x" * (log.stat().st_size // 2 - 1) + b"\n"  # genesis + first record: about one record
        fd = os.open(work / "bare.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            done = 0
            while done < n - 1:
                m = min(block, n - 1 - done)
                t = time.perf_counter()
                for i in range(done, done + m):
                    d, a = prepared[i % len(prepared)]
                    w.append_decision(key, decision=d, answers=a, actor=actor, case_ref_source=f"case-{i}")
                t_append += time.perf_counter() - t
                t = time.perf_counter()
                for _ in range(m):
                    os.write(fd, line)
                    os.fsync(fd)
                t_bare += time.perf_counter() - t
                done += m
        finally:
            os.close(fd)
    return rate(n - 1, t_append), rate(n - 1, t_bare), log.stat().st_size // n


def bench_raw_verify(msg_len: int, n: int) -> tuple[float, float]:
    """Raw Ed25519 verifications per second on one core: (per wall second, per CPU second)."""
    sk = Ed25519PrivateKey.generate()
    pk = sk.public_key()
    msgs = [os.urandom(msg_len) for _ in range(min(n, 256))]
    sigs = [sk.sign(m) for m in msgs]
    t, c = time.perf_counter(), time.process_time()
    for i in range(n):
        pk.verify(sigs[i % len(msgs)], msgs[i % len(msgs)])
    return rate(n, time.perf_counter() - t), rate(n, time.process_time() - c)


CHILD = r"""
import json, resource, sys, time, tracemalloc
sys.path.insert(0, {root!r})
from pathlib import Path
import audit
trace = {trace!r}
if trace:
    tracemalloc.start()
t = time.perf_counter()
c = time.process_time()
before = resource.getrusage(resource.RUSAGE_SELF)
rep = audit.verify_log(Path({log!r}), Path({tk!r}), jobs={jobs})
elapsed = time.perf_counter() - t
cpu = time.process_time() - c
peak = tracemalloc.get_traced_memory()[1] if trace else None
me, ch = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
rss, rss_children = me.ru_maxrss, ch.ru_maxrss
cpu_all = (me.ru_utime + me.ru_stime - before.ru_utime - before.ru_stime  # the verify call itself ...
           + ch.ru_utime + ch.ru_stime)                                    # ... and its worker processes
print(json.dumps({{"ok": rep.ok, "records": rep.records, "failures": len(rep.failures), "seconds": elapsed, "cpu_seconds": cpu, "cpu_all": cpu_all,
                  "tracemalloc_peak": peak, "maxrss_kib": rss, "children_maxrss_kib": rss_children}}))
"""


def run_verify(log: Path, tk: Path, jobs: int, trace: bool = False) -> dict:
    code = CHILD.format(root=str(ROOT), log=str(log), tk=str(tk), jobs=jobs, trace=trace)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def prefix_log(src: Path, dst: Path, n_lines: int) -> None:
    with open(src, "rb") as fi, open(dst, "wb") as fo:
        for i, line in enumerate(fi):
            if i >= n_lines:
                break
            fo.write(line)


def verdict(ratio: float, target: float) -> str:
    return "meets target" if ratio >= target else "BELOW target"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=100_000, help="records in the benchmark log (default 100000)")
    ap.add_argument("--dir", type=Path, default=None, help="scratch directory (default: a new temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = ap.parse_args()
    n = max(args.records, 1000)
    cores = os.cpu_count() or 1
    work = Path(tempfile.mkdtemp(prefix="deelwijzer-bench-", dir=args.dir))
    try:
        key = SigningKey.generate()
        pub = work / "public-key.pem"
        pub.write_text(keys.public_key_pem(key.public_key))
        tk = work / "trusted-keys.json"
        trust.trust_key(tk, pub, "bench")
        log = work / "log.jsonl"

        print(f"deelwijzer audit benchmark: {n} records, {cores} core(s), load average {os.getloadavg()[0]:.2f}, "
              f"scratch {work}")
        append_rate, bare_rate, line_len = bench_append_vs_bare(work, key, n)
        r_append = append_rate / bare_rate
        print(f"append with fsync       {append_rate:9.0f} records/s   (record line {line_len} bytes; one writer session)")
        print(f"bare write+fsync        {bare_rate:9.0f} lines/s     (same size, same disk, alternating blocks)")
        print(f"  ratio                 {r_append:9.2f}x  target >= 0.80x: {verdict(r_append, 0.8)}")

        pae_len = line_len * 3 // 4 + 60
        n_raw = min(n, 20_000)
        raw0 = bench_raw_verify(pae_len, n_raw)
        v1 = run_verify(log, tk, 1)
        assert v1["ok"] and v1["records"] == n + 1, v1  # + the genesis record
        raw1 = bench_raw_verify(pae_len, n_raw)
        raw_wall = (raw0[0] + raw1[0]) / 2
        raw_cpu = (raw0[1] + raw1[1]) / 2
        rate1 = rate(n + 1, v1["seconds"])
        r1 = rate1 / raw_wall
        print(f"raw Ed25519 verify      {raw_wall:9.0f} /s on one core ({pae_len}-byte messages; {raw0[0]:.0f} before, "
              f"{raw1[0]:.0f} after; {raw_cpu:.0f} per CPU-second)")
        print(f"verify, 1 process       {rate1:9.0f} records/s   ratio {r1:.2f}x raw  target >= 0.70x: {verdict(r1, 0.7)}")
        c1 = rate(n + 1, v1["cpu_all"]) / raw_cpu
        print(f"                        {rate(n + 1, v1['cpu_all']):9.0f} records per CPU-second = {c1:.2f}x raw per "
              f"CPU-second (independent of other load)")
        if cores > 1:
            vj = run_verify(log, tk, cores)
            assert vj["ok"] and vj["records"] == n + 1, vj
            raw2 = bench_raw_verify(pae_len, n_raw)
            raw_b = (raw1[0] + raw2[0]) / 2
            ratej = rate(n + 1, vj["seconds"])
            rj = ratej / cores / raw_b
            print(f"verify, {cores} processes     {ratej:9.0f} records/s   per core {ratej / cores:.0f}/s = {rj:.2f}x raw "
                  f"({raw_b:.0f}/s)  target >= 0.70x: {verdict(rj, 0.7)}")
            cj = rate(n + 1, vj["cpu_all"]) / ((raw1[1] + raw2[1]) / 2)
            print(f"                        {rate(n + 1, vj['cpu_all']):9.0f} records per CPU-second (parent + workers) = "
                  f"{cj:.2f}x raw per CPU-second; parent used {vj['cpu_seconds']:.1f} s CPU of {vj['seconds']:.1f} s")

        small = work / "log-small.jsonl"
        prefix_log(log, small, n // 10)
        m_small = run_verify(small, tk, 1, trace=True)
        m_big = run_verify(log, tk, 1, trace=True)
        print(f"verify peak memory      {n // 10} records: tracemalloc {m_small['tracemalloc_peak'] / 1e6:.1f} MB, "
              f"max RSS {m_small['maxrss_kib'] / 1024:.1f} MiB")
        print(f"                        {n} records: tracemalloc {m_big['tracemalloc_peak'] / 1e6:.1f} MB, "
              f"max RSS {m_big['maxrss_kib'] / 1024:.1f} MiB")
        if cores > 1:
            print(f"                        {n} records, {cores} processes: parent max RSS {vj['maxrss_kib'] / 1024:.1f} MiB, "
                  f"largest worker {vj['children_maxrss_kib'] / 1024:.1f} MiB")
        print(f"load average at the end {os.getloadavg()[0]:.2f} (other processes on the machine skew the ratios)")
        grow = m_big["tracemalloc_peak"] / max(m_small["tracemalloc_peak"], 1)
        print(f"  growth x10 records -> x{grow:.2f} traced memory ({'flat' if grow < 1.5 else 'NOT flat'})")
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
