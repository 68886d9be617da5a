"""Audit-log benchmark (issues 4 and 11): one command, all figures measured in the same run.

    .venv/bin/python bench/audit.py [--records N] [--dir DIR] [--writers W]

0. passphrase guess: one bcrypt_pbkdf at the private key file's rounds (what every guess against
   the file costs) vs PBKDF2-HMAC-SHA256 at 600 000 iterations, and the time to open a key file;
1. append: N decision records, W threads sharing one AuditLogWriter (group commit: one write and
   one fsync per batch, every caller acknowledged after the fsync), and one writer alone, vs a
   bare ``write`` + ``fsync`` loop of lines of the same size on the same disk, in alternating blocks;
2. verify: the N-record log, one process (jobs=1) and all cores, vs raw Ed25519 verifications of
   the same library over messages of the same size, on one core;
3. memory: verify runs in a fresh subprocess; its peak RSS (parent + worker processes) and
   tracemalloc peak are compared for N/10 and N records -- flat means streaming.

Targets (issue 11): a guess >= 1x PBKDF2-600k; append >= 0.8x the bare loop with several writers;
verify >= 0.7x raw Ed25519 per CPU-second on one core, scaling with cores.

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
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bcrypt  # noqa: E402
from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC  # noqa: E402

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


def best_of(fn, runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def bench_guess(work: Path) -> tuple[float, float, float]:
    """(one bcrypt_pbkdf guess, one PBKDF2-HMAC-SHA256 600k guess, opening a key file), seconds."""
    pw, salt = b"correct horse battery staple", os.urandom(16)
    # the file's KDF: bcrypt_pbkdf for AES-256-CTR key + IV (48 bytes: both output blocks are needed)
    guess = best_of(lambda: bcrypt.kdf(pw, salt, 48, keys.BCRYPT_ROUNDS, ignore_few_rounds=True))
    pbkdf2 = best_of(lambda: PBKDF2HMAC(hashes.SHA256(), 32, salt, 600_000).derive(pw))
    keys.init_keypair(work / "k", "bench", pw)
    opening = best_of(lambda: keys.load_signing_key(work / "k", pw), runs=2)
    return guess, pbkdf2, opening


def bench_append_vs_bare(work: Path, key: SigningKey, n: int, writers: int, block: int = 400) -> dict:
    """Append n records with ``writers`` threads sharing one writer session (group commit), and
    n with one thread; write+fsync n bare lines of the same size; in alternating blocks so that
    all three see the same machine load."""
    actor = {"professional": "J. de Vries", "organisation": "Jeugdteam Noord"}
    prepared = [decision(i) for i in range(64)]
    log = work / "log.jsonl"
    solo_log = work / "solo.jsonl"
    t_group = t_solo = t_bare = 0.0
    done = 0
    with AuditLogWriter(log) as w, AuditLogWriter(solo_log) as solo:
        w.append_decision(key, decision=prepared[0][0], answers=prepared[0][1], actor=actor, case_ref_source="warm-up")
        line = b"x" * (log.stat().st_size // 2 - 1) + b"\n"  # genesis + first record: about one record
        fd = os.open(work / "bare.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

        def run(writer: AuditLogWriter, start: int, count: int) -> None:
            for i in range(start, start + count):
                d, a = prepared[i % len(prepared)]
                writer.append_decision(key, decision=d, answers=a, actor=actor, case_ref_source=f"case-{i}")

        try:
            while done < n - 1:
                m = min(block, n - 1 - done)
                share = [m // writers + (1 if t < m % writers else 0) for t in range(writers)]
                threads = [threading.Thread(target=run, args=(w, done + sum(share[:t]), share[t])) for t in range(writers)]
                t = time.perf_counter()
                for th in threads:
                    th.start()
                for th in threads:
                    th.join()
                t_group += time.perf_counter() - t
                t = time.perf_counter()
                for _ in range(m):
                    os.write(fd, line)
                    os.fsync(fd)
                t_bare += time.perf_counter() - t
                t = time.perf_counter()
                run(solo, done, m // 4 or 1)  # one writer alone: a quarter of the block keeps the run short
                t_solo += (time.perf_counter() - t) * m / (m // 4 or 1)
                done += m
        finally:
            os.close(fd)
    return {"group": rate(n - 1, t_group), "solo": rate(n - 1, t_solo), "bare": rate(n - 1, t_bare),
            "line": log.stat().st_size // n}


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
print(json.dumps({{"ok": rep.ok, "records": rep.records, "failures": len(rep.failures), "seconds": elapsed,
                  "cpu_seconds": cpu, "cpu_all": cpu_all, "tracemalloc_peak": peak, "maxrss_kib": rss,
                  "children_maxrss_kib": rss_children}}))
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
    ap.add_argument("--writers", type=int, default=4, help="threads appending at once (default 4)")
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
        guess, pbkdf2, opening = bench_guess(work)
        print(f"passphrase guess        {guess * 1000:9.0f} ms   bcrypt_pbkdf, {keys.BCRYPT_ROUNDS} rounds (the private key "
              f"file's KDF; no cheaper check in the file)")
        print(f"PBKDF2-HMAC-SHA256 600k {pbkdf2 * 1000:9.0f} ms   (OWASP reference)")
        print(f"  ratio                 {guess / pbkdf2:9.2f}x  target >= 1.00x: {verdict(guess / pbkdf2, 1.0)}")
        print(f"open a key file         {opening * 1000:9.0f} ms   (load_signing_key: bounded child process + the "
              f"pseudonym key's PBKDF2)")
        ap = bench_append_vs_bare(work, key, n, args.writers)
        line_len = ap["line"]
        r_group, r_solo = ap["group"] / ap["bare"], ap["solo"] / ap["bare"]
        print(f"append, {args.writers} writers       {ap['group']:9.0f} records/s   (record line {line_len} bytes; threads "
              f"sharing one writer: group commit, acknowledged after fsync)")
        print(f"append, 1 writer        {ap['solo']:9.0f} records/s")
        print(f"bare write+fsync        {ap['bare']:9.0f} lines/s     (same size, same disk, alternating blocks)")
        print(f"  ratio                 {r_group:9.2f}x with {args.writers} writers  target >= 0.80x: "
              f"{verdict(r_group, 0.8)};  {r_solo:.2f}x with one writer")

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
        c1 = rate(n + 1, v1["cpu_all"]) / raw_cpu
        print(f"verify, 1 process       {rate(n + 1, v1['cpu_all']):9.0f} records per CPU-second = {c1:.2f}x raw per "
              f"CPU-second  target >= 0.70x: {verdict(c1, 0.7)}")
        print(f"                        {rate1:9.0f} records per wall second = {r1:.2f}x raw per wall second "
              f"(skewed by other load)")
        if cores > 1:
            vj = run_verify(log, tk, cores)
            assert vj["ok"] and vj["records"] == n + 1, vj
            raw2 = bench_raw_verify(pae_len, n_raw)
            raw_b = (raw1[0] + raw2[0]) / 2
            ratej = rate(n + 1, vj["seconds"])
            rj = ratej / cores / raw_b
            cj = rate(n + 1, vj["cpu_all"]) / ((raw1[1] + raw2[1]) / 2)
            print(f"verify, {cores} processes     {ratej:9.0f} records/s = {ratej / rate1:.2f}x one process (scaling); "
                  f"per core {rj:.2f}x raw per wall second ({raw_b:.0f}/s)")
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
