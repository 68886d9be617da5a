"""Organisation-store benchmark (issue 12): one command, every ratio against a baseline measured in
the same run, on a throw-away PostgreSQL cluster (fsync on, synchronous commit: the defaults).

    .venv/bin/python bench/store.py [--records N] [--writers W] [--dir DIR]

1. append: the file log, one writer (``AuditLogWriter``, one process: sign, write, fsync per
   record) -- the baseline -- against the store with W writer processes over a Unix socket, each
   recording through the outbox as the interview does: its own local log first (fsync), and its
   pusher thread sending what waits (every record that came in during the previous push, in one
   transaction, WAL flush). Aggregate rate = all records / (last writer's last record *in the
   store* - first writer started). Target (issue 12): >= 2x.
   For comparison, on a tenth of the records: W writers appending to their local logs only (no
   store: the ceiling for the store path on this machine at this moment), the outbox pushing each
   record before ``record`` returns (as ``decide --sign --log URL`` does), and the push alone
   (logs written beforehand).
   Also: the push alone (W processes pushing logs written beforehand, in chunks), for scale.
2. verify: the same N records verified from the W local log files (``audit verify`` on each,
   one after the other) against verified from the store (``audit verify URL``: the organisation
   pass and the file verifier per log, streamed from the database). Target: >= 0.6x.
3. memory: verifying the store at N/10 and at N records, each in a fresh process: peak RSS of the
   verifier and of its worker processes (RSS, not tracemalloc: libpq's buffers are outside Python's
   allocator) -- flat means streaming.

Records are the same shape as the interview's (about 2.3 KB per line).
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from audit import keys, trust  # noqa: E402
from audit.keys import SigningKey  # noqa: E402
from audit.log import AuditLogWriter  # noqa: E402
from audit.store.outbox import Outbox  # noqa: E402
from audit.store.push import push_log  # noqa: E402
from audit.store.schema import init_store  # noqa: E402
from audit.store.tempcluster import TempCluster  # noqa: E402
from audit.store.verify import verify_store  # noqa: E402
from audit.verify import verify_log  # noqa: E402

ACTOR = {"professional": "J. de Vries", "organisation": "Jeugdteam Noord"}
OUTCOMES = [("MELD_VEILIG_THUIS", "share", "veilig_thuis"), ("SEEK_CONSENT_FIRST", "do_not_share", "parent"),
            ("SHARE_DIRECTLY_INVOLVED", "share", "colleague_involved"), ("DO_NOT_SHARE", "do_not_share", "police")]


def decision(i: int) -> tuple[dict, dict]:
    outcome, verdict, recipient = OUTCOMES[i % len(OUTCOMES)]
    d = {"ruleset": {"name": "deelwijzer-mensenhandel", "version": "1.0.0", "fingerprint": "sha256:" + "5f" * 32},
         "complete": True, "missing": [],
         "advice": {"outcome": outcome, "verdict": verdict, "recipient": recipient,
                    "legal_bases": [{"id": "avg-6-1-c", "citation": "art. 6 lid 1 sub c AVG", "status": "verified"},
                                    {"id": "jw-7.3.11-4", "citation": "art. 7.3.11 lid 4 Jeugdwet",
                                     "status": "verified"}],
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


def seeded_key(seed: int) -> SigningKey:
    raw = seed.to_bytes(4, "big") * 8
    return SigningKey(Ed25519PrivateKey.from_private_bytes(raw), bytes(reversed(raw)))


def rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


# --- 1. append ---------------------------------------------------------------------------------------

def file_single_writer(log: Path, key: SigningKey, n: int) -> float:
    prepared = [decision(i) for i in range(64)]
    with AuditLogWriter(log) as w:
        t = time.perf_counter()
        for i in range(n):
            d, a = prepared[i % 64]
            w.append_decision(key, decision=d, answers=a, actor=ACTOR, case_ref_source=f"case-{i}")
        return time.perf_counter() - t


def _outbox_writer(log: str, url: str, seed: int, n: int, background: bool, barrier: object, out: object) -> None:
    key = seeded_key(seed)
    prepared = [decision(i) for i in range(64)]
    barrier.wait()  # type: ignore[attr-defined]
    t0 = time.time()
    bad = 0
    box = Outbox(Path(log), url, retry_after=1, background=background)
    for i in range(n):
        d, a = prepared[i % 64]
        box.record(key, decision=d, answers=a, actor=ACTOR, case_ref_source=f"case-{seed}-{i}")
    last = box.flush(600)  # until every record is in the store
    bad = box.waiting() + (last is None or last.error is not None or last.failure is not None)
    box.close()
    out.put((t0, time.time(), bad))  # type: ignore[attr-defined]


def _local_writer(log: str, seed: int, n: int, barrier: object, out: object) -> None:
    key = seeded_key(seed)
    prepared = [decision(i) for i in range(64)]
    barrier.wait()  # type: ignore[attr-defined]
    t0 = time.time()
    with AuditLogWriter(Path(log)) as wr:
        for i in range(n):
            d, a = prepared[i % 64]
            wr.append_decision(key, decision=d, answers=a, actor=ACTOR, case_ref_source=f"case-{seed}-{i}")
    out.put((t0, time.time(), 0))  # type: ignore[attr-defined]


def _pusher(log: str, url: str, barrier: object, out: object) -> None:
    barrier.wait()  # type: ignore[attr-defined]
    t0 = time.time()
    res = push_log(Path(log), url)
    out.put((t0, time.time(), res.new))  # type: ignore[attr-defined]


def run_parallel(target, argsets) -> list[tuple]:  # type: ignore[no-untyped-def]
    ctx = mp.get_context("fork")
    barrier, out = ctx.Barrier(len(argsets)), ctx.Queue()
    procs = [ctx.Process(target=target, args=(*a, barrier, out)) for a in argsets]
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
        if p.exitcode != 0:
            raise SystemExit(f"a writer process failed (exit {p.exitcode})")
    return results


# --- 3. memory ----------------------------------------------------------------------------------------

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {root!r})
from audit import trust
from audit.store.verify import verify_store
t = time.perf_counter()
rep = verify_store({url!r}, trust.load({tk!r}))
elapsed = time.perf_counter() - t
me, ch = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({{"ok": rep.ok, "records": rep.org.records, "seconds": elapsed, "maxrss_kib": me.ru_maxrss,
                  "children_maxrss_kib": ch.ru_maxrss}}))
"""


def verify_in_child(url: str, tk: Path) -> dict:
    code = CHILD.format(root=str(ROOT), url=url, tk=str(tk))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def verdict(ratio: float, target: float) -> str:
    return "meets target" if ratio >= target else "BELOW target"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=100_000, help="records in all (default 100000)")
    ap.add_argument("--writers", type=int, default=8, help="writer processes for the store (default 8)")
    ap.add_argument("--dir", type=Path, default=None, help="scratch directory (default: a new temp dir)")
    args = ap.parse_args()
    n, w = args.records, args.writers
    per = n // w
    n = per * w
    work = Path(args.dir or tempfile.mkdtemp(prefix="deelwijzer-bench-store-"))
    work.mkdir(parents=True, exist_ok=True)
    cluster = TempCluster(fsync=True, settings={"max_wal_size": "'2GB'", "shared_buffers": "'256MB'"})
    try:
        cluster.start()
        with psycopg.connect(cluster.url(), autocommit=True) as conn:
            for db in ("bench", "small", "pushonly", "pushonly2"):
                conn.execute(f"CREATE DATABASE {db}")
        for db in ("bench", "small", "pushonly", "pushonly2"):
            init_store(cluster.url(db))
        with psycopg.connect(cluster.url(), autocommit=True) as conn:
            conn.execute("CREATE ROLE bench_writer LOGIN IN ROLE deelwijzer_writer")
        url = cluster.url("bench", "bench_writer")
        seeds = list(range(1000, 1000 + w))
        tk = work / "trusted-keys.json"
        for i, s in enumerate(seeds):
            pem = work / f"k{i}.pem"
            pem.write_text(keys.public_key_pem(seeded_key(s).public_key))
            trust.trust_key(tk, pem, f"laptop {i}")
        print(f"deelwijzer store benchmark: {n} records, {w} writers, PostgreSQL "
              f"{cluster.bindir.parent.name} on a Unix socket (fsync on), {os.cpu_count()} CPUs, "
              f"load average {os.getloadavg()[0]:.2f}")

        # 1. append: the baseline, then the store through the outbox
        t_file = file_single_writer(work / "file-solo.jsonl", seeded_key(1), n)
        logs = [work / f"laptop{i}" / "log.jsonl" for i in range(w)]
        res = run_parallel(_outbox_writer, [(str(log), url, s, per, True) for log, s in zip(logs, seeds)])
        t_store = max(r[1] for r in res) - min(r[0] for r in res)
        if sum(r[2] for r in res):
            raise SystemExit(f"{sum(r[2] for r in res)} records did not reach the store at once")
        with psycopg.connect(cluster.url("bench"), autocommit=True) as conn:
            stored = conn.execute("SELECT (SELECT count(*) FROM deelwijzer.records), "
                                  "(SELECT max(org_seq) FROM deelwijzer.org_sequence)").fetchone()
        assert stored == (n + w, n + w), stored
        line = (work / "file-solo.jsonl").stat().st_size // n
        r_file, r_store = rate(n, t_file), rate(n, t_store)
        print(f"append, file log, 1 writer            {r_file:8.0f} records/s   ({t_file:.1f} s; {line} B per line)")
        print(f"append, store, {w} writers (outbox)     {r_store:8.0f} records/s   ({t_store:.1f} s; each: local "
              f"append + fsync; pusher thread)")
        print(f"  ratio store / file                  {r_store / r_file:8.2f}x   target >= 2x: "
              f"{verdict(r_store / r_file, 2.0)}")
        sub = max(w, n // 10) // w * w  # (a tenth of the records for the comparisons below: the rate is what counts)
        res = run_parallel(_local_writer, [(str(work / f"local{i}.jsonl"), s + 200, sub // w)
                                           for i, s in enumerate(seeds)])
        t_local = max(r[1] for r in res) - min(r[0] for r in res)
        print(f"  for comparison: {w} writers, local log only (no store): {rate(sub, t_local):.0f} records/s = "
              f"{rate(sub, t_local) / r_file:.2f}x -- the most the store path could reach on this machine now")
        sync_n = sub
        sync_logs = [work / f"sync{i}" / "log.jsonl" for i in range(w)]
        res = run_parallel(_outbox_writer, [(str(log), cluster.url("pushonly", "bench_writer"), s + 100, sync_n // w,
                                             False) for log, s in zip(sync_logs, seeds)])
        t_sync = max(r[1] for r in res) - min(r[0] for r in res)
        print(f"append, store, {w} writers, each record pushed before record() returns (decide --sign): "
              f"{rate(sync_n // w * w, t_sync):.0f} records/s = {rate(sync_n // w * w, t_sync) / r_file:.2f}x")
        push_urls = cluster.url("pushonly2", "bench_writer")
        res = run_parallel(_pusher, [(str(log), push_urls) for log in logs])
        t_push = max(r[1] for r in res) - min(r[0] for r in res)
        print(f"push alone, {w} processes, chunks of 500 {rate(n, t_push):8.0f} records/s   ({t_push:.1f} s)")

        # 2. verify: the same records, from the files and from the store
        trusted = trust.load(tk)
        t = time.perf_counter()
        file_records = 0
        for log in logs:
            rep = verify_log(log, trusted)
            assert rep.ok, rep.failures[:3]
            file_records += rep.records
        t_vfile = time.perf_counter() - t
        t = time.perf_counter()
        srep = verify_store(cluster.url("bench"), trusted)
        t_vstore = time.perf_counter() - t
        assert srep.ok and srep.org.records == file_records, (srep.org.failures[:3], srep.org.records)
        ratio = rate(file_records, t_vstore) / rate(file_records, t_vfile)
        print(f"verify from the {w} files              {rate(file_records, t_vfile):8.0f} records/s   ({t_vfile:.1f} s)")
        print(f"verify from the store                 {rate(file_records, t_vstore):8.0f} records/s   ({t_vstore:.1f} s; "
              f"organisation pass + each log)")
        print(f"  ratio store / files                 {ratio:8.2f}x   target >= 0.6x: {verdict(ratio, 0.6)}")

        # 3. memory: N/10 and N records
        small = [work / "small" / f"log{i}.jsonl" for i in range(w)]
        for src, dst in zip(logs, small):
            dst.parent.mkdir(exist_ok=True)
            with open(src, "rb") as fi, open(dst, "wb") as fo:
                for j, ln in enumerate(fi):
                    if j > per // 10:
                        break
                    fo.write(ln)
            os.chmod(dst, 0o600)
            push_log(dst, cluster.url("small"))
        m_small = verify_in_child(cluster.url("small"), tk)
        m_big = verify_in_child(cluster.url("bench"), tk)
        assert m_small["ok"] and m_big["ok"], (m_small, m_big)
        for m in (m_small, m_big):
            print(f"verify memory, {m['records']:6d} records        max RSS {m['maxrss_kib'] / 1024:5.1f} MiB (worker "
                  f"processes {m['children_maxrss_kib'] / 1024:.1f} MiB; a fresh process)")
        grow = m_big["maxrss_kib"] / max(m_small["maxrss_kib"], 1)
        print(f"  RSS at {m_big['records'] / max(m_small['records'], 1):.0f}x the records: {grow:.2f}x   "
              f"{'flat' if grow < 1.5 else 'NOT flat'}")
    finally:
        cluster.stop()
        if args.dir is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
