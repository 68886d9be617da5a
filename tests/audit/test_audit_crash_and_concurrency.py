"""Crash safety (SIGKILL at random moments) and concurrent writers (flock)."""
from __future__ import annotations

import multiprocessing as mp
import os
import random
import signal
import time

import pytest
from audit_helpers import ACTOR, append, make_decision, read_lines, trust_file

from audit.codes import Code
from audit import repair, trust, verify_log
from audit.errors import TornTailError
from audit.keys import SigningKey
from audit.log import AuditLogWriter

FORK = mp.get_context("fork")


def _big(i):
    """A decision with long rule texts (~800 KiB line): its single write spans ~200 pages, so a
    SIGKILL can land inside it (the kernel stops a write between pages on a fatal signal)."""
    d, a = make_decision(i)
    d["advice"]["explanation"] = [{"rule": f"rule{j}", "text": "ä" * 3000, "cites": []} for j in range(100)]
    return d, a


def _write_forever(log, key):
    with AuditLogWriter(log) as w:
        i = 0
        while True:
            d, a = _big(i) if i % 3 else make_decision(i)
            w.append_decision(key, decision=d, answers=a, actor=ACTOR, case_ref_source=f"case-{i}")
            i += 1


def _check_after_crash(log, store):
    """Invariants after a crash: complete records verify, a torn tail is reported (only that),
    and repair keeps every complete record. Returns True when the tail was torn."""
    data = log.read_bytes()
    complete = data[: data.rfind(b"\n") + 1]
    n_complete = complete.count(b"\n")
    torn = not data.endswith(b"\n") and data != b""
    report = verify_log(log, store, jobs=1)
    assert report.records == n_complete
    if torn:
        assert [(f.line, f.code) for f in report.failures] == [(n_complete + 1, Code.TORN_TAIL)]
        res = repair(log)
        assert res.torn
        after = log.read_bytes()
        assert after.startswith(complete)  # not one complete record lost or changed
        again = verify_log(log, store, jobs=1)
        assert again.ok and again.records in (n_complete, n_complete + 1)  # +1: a whole record lacking "\n"
        if not res.completed:
            assert after == complete and res.side_file.read_bytes() == data[len(complete):]
    else:
        assert report.ok, report.failures
    return torn


def test_sigkill_at_random_moments(tmp_path, key):
    """The real writer, killed with SIGKILL at random moments, at least 50 times (until torn
    tails have been seen too). Every outcome must satisfy the invariants."""
    store = trust.load(trust_file(tmp_path / "tk.json", key))
    rng = random.Random(4)  # seeded kill times: reproducible as far as scheduling allows
    kills, torn = 0, 0
    while kills < 50 or (torn < 1 and kills < 400):
        log = tmp_path / f"log-{kills}.jsonl"
        proc = FORK.Process(target=_write_forever, args=(log, key), daemon=True)
        proc.start()
        time.sleep(rng.uniform(0.0, 0.05))
        os.kill(proc.pid, signal.SIGKILL)
        proc.join()
        assert proc.exitcode == -signal.SIGKILL
        kills += 1
        if log.exists():
            torn += _check_after_crash(log, store)
        for f in tmp_path.glob(f"log-{kills - 1}.jsonl*"):
            f.unlink()
    print(f"\n{kills} SIGKILLs, {torn} torn tails reported and repaired")
    assert kills >= 50 and torn >= 1


def test_truncation_at_every_byte_of_the_last_record(tmp_path, key):
    """A crash can cut the last write anywhere: every cut is reported as TORN_TAIL and repaired
    without losing a complete record."""
    log = tmp_path / "log.jsonl"
    append(log, key, 2)
    store = trust.load(trust_file(tmp_path / "tk.json", key))
    full = log.read_bytes()
    start = full.rfind(b"\n", 0, len(full) - 1) + 1
    for cut in range(start + 1, len(full)):
        log.write_bytes(full[:cut])
        report = verify_log(log, store, jobs=1)
        assert [(f.line, f.code) for f in report.failures] == [(3, Code.TORN_TAIL)], cut
        assert report.records == 2
        if cut % 97 == 0 or cut == len(full) - 1:
            for side in tmp_path.glob("log.jsonl.torn-*"):
                side.unlink()
            res = repair(log)
            assert res.completed == (cut == len(full) - 1)
            assert verify_log(log, store, jobs=1).ok
            assert log.read_bytes() == (full if res.completed else full[:start])


def test_append_refuses_a_torn_log_and_changes_nothing(tmp_path, key):
    log = tmp_path / "log.jsonl"
    append(log, key, 2)
    data = log.read_bytes() + b'{"payload":"eyJh'
    log.write_bytes(data)
    with pytest.raises(TornTailError, match="audit repair"):
        append(log, key, 1)
    assert log.read_bytes() == data


def test_repair_with_key_writes_a_signed_recovery_record(tmp_path, key):
    log = tmp_path / "log.jsonl"
    append(log, key, 3)
    log.write_bytes(log.read_bytes() + b"\x00" * 700)  # power loss can leave zero-filled blocks
    res = repair(log, key)
    assert res.side_file.read_bytes() == b"\x00" * 700 and res.recovery.seq == 4
    append(log, key, 1)
    report = verify_log(log, trust_file(tmp_path / "tk.json", key))
    assert report.ok and report.records == 6
    assert Code.RECOVERED in [w.code for w in report.warnings]


def _append_many(log, key, n, barrier, queue):
    barrier.wait()
    ids = []
    with AuditLogWriter(log) as w:
        for i in range(n):
            d, a = make_decision(i)
            ids.append(w.append_decision(key, decision=d, answers=a, actor=ACTOR,
                                         case_ref_source=f"{os.getpid()}-{i}").record_id)
    queue.put(ids)


def test_four_processes_appending_at_once(tmp_path):
    log = tmp_path / "shared" / "log.jsonl"  # not there yet: the processes race to create it
    writers = [SigningKey.generate() for _ in range(4)]  # four professionals, four keys
    barrier, queue = FORK.Barrier(4), FORK.Queue()
    n = 60
    procs = [FORK.Process(target=_append_many, args=(log, k, n, barrier, queue)) for k in writers]
    for p in procs:
        p.start()
    ids = [rid for _ in procs for rid in queue.get(timeout=120)]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    report = verify_log(log, trust_file(tmp_path / "tk.json", *writers), jobs=1)
    assert report.ok, report.failures
    assert report.records == 1 + 4 * n  # one genesis, every record
    import json
    import base64
    stored = [json.loads(base64.b64decode(json.loads(line)["payload"]))["record_id"] for line in read_lines(log)[1:]]
    assert sorted(stored) == sorted(ids)
    kids = {json.loads(line)["signatures"][0]["keyid"] for line in read_lines(log)[1:]}
    assert kids == {k.key_id for k in writers}  # the writers really interleaved on one chain


def test_unreadable_last_line_after_power_loss(tmp_path, key):
    """Lost pages can leave a last line of zeros that still ends in a newline."""
    from audit.errors import LogCorruptError
    log = tmp_path / "log.jsonl"
    append(log, key, 3)
    good = log.read_bytes()
    log.write_bytes(good + b"\x00" * 1500 + b"\n")
    tk = trust_file(tmp_path / "tk.json", key)
    report = verify_log(log, tk)
    assert [(f.line, f.code) for f in report.failures] == [(5, Code.MALFORMED_RECORD)]
    with pytest.raises(LogCorruptError, match="audit repair"):
        append(log, key, 1)
    res = repair(log, key)
    assert res.torn and res.side_file.read_bytes() == b"\x00" * 1500 + b"\n"
    assert log.read_bytes().startswith(good)
    assert verify_log(log, tk).ok
    assert repair(log).torn is False  # a well-formed last record is never touched
