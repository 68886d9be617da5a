"""Concurrent writers never fork or lose a chain: 8 writer processes x 50 records into one store,
each through the outbox (local log first, then the store); and processes sharing one local log."""
from __future__ import annotations

import multiprocessing as mp
import os
import random
from pathlib import Path

from store_helpers import (ACTOR, local_log_id, make_decision, org_order, org_sequence_ok, org_trust, read_lines,
                           seeded_key)

from audit import trust as trustmod
from audit.store.outbox import Outbox
from audit.store.verify import verify_store

WRITERS, RECORDS = 8, 50


def _writer(log: str, url: str, seed: int, n: int, barrier: object, alone: bool) -> None:
    key = seeded_key(seed)
    rng = random.Random(seed)
    barrier.wait()  # type: ignore[attr-defined]
    with Outbox(Path(log), url, retry_after=0) as box:
        for i in range(n):
            d, a = make_decision(rng.randrange(1000))
            res = box.record(key, decision=d, answers=a, actor=ACTOR, case_ref_source=f"case-{seed}-{i}")
            if res.push.error is not None or res.push.failure is not None:
                os._exit(3)
        if alone and box.push_waiting().waiting != 0:  # (a shared log may still grow from the others)
            os._exit(4)
    os._exit(0)


def _run(logs: list[Path], url: str, seeds: list[int], n: int) -> None:
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(len(logs))
    alone = len(set(logs)) == len(logs)
    procs = [ctx.Process(target=_writer, args=(str(log), url, seed, n, barrier, alone))
             for log, seed in zip(logs, seeds)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0] * len(procs)


def test_eight_writer_processes_fifty_records_each(store, tmp_path):
    logs = [tmp_path / f"laptop{i}" / "log.jsonl" for i in range(WRITERS)]
    seeds = list(range(100, 100 + WRITERS))
    _run(logs, store.writer, seeds, RECORDS)
    total = WRITERS * (RECORDS + 1)  # each log: genesis + 50 decisions
    assert org_sequence_ok(store) == (total, total, total)  # every record once, org_seq 1..N without a gap
    for log in logs:  # each chain in the store is exactly its local log, in order
        rows = [r[1:] for r in org_order(store, "r.log_id::text, r.seq, r.line") if r[0] == local_log_id(log)]
        assert [int(s) for s, _ in rows] == list(range(RECORDS + 1))
        assert [bytes(line) for _, line in rows] == [ln.rstrip(b"\n") for ln in read_lines(log)]
    # the writers really ran at the same time: their records interleave in the organisation order
    order = [r[0] for r in org_order(store)]
    switches = sum(1 for a, b in zip(order, order[1:]) if a != b)
    assert switches > WRITERS
    tk = org_trust(tmp_path / "tk.json", seeded_key(1), *[seeded_key(s) for s in seeds])
    rep = verify_store(store.auditor, trustmod.load(tk))
    assert rep.ok and rep.org.records == total and len(rep.logs) == WRITERS
    assert all(r.ok and r.records == RECORDS + 1 and not r.failures for r in rep.logs)


def test_processes_sharing_one_local_log_keep_one_chain(store, tmp_path):
    log = tmp_path / "shared" / "log.jsonl"  # several terminals on one laptop, one log
    seeds = [200, 201, 202, 203]
    _run([log] * len(seeds), store.writer, seeds, 25)
    lines = read_lines(log)
    assert len(lines) == 4 * 25 + 1
    rows = org_order(store, "r.seq, r.line")
    assert [int(s) for s, _ in rows] == list(range(len(lines)))
    assert [bytes(line) for _, line in rows] == [ln.rstrip(b"\n") for ln in lines]
    tk = org_trust(tmp_path / "tk.json", seeded_key(1), *[seeded_key(s) for s in seeds])
    rep = verify_store(store.auditor, trustmod.load(tk))
    assert rep.ok and rep.logs[0].records == len(lines)
