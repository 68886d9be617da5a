"""A push interrupted at random moments -- the pushing process killed (SIGKILL), or the database
stopped hard (crash, no shutdown checkpoint) -- loses nothing and stores nothing twice once it is
pushed again. At least 20 interruptions that hit a push in the middle (at least 7 of each kind)."""
from __future__ import annotations

import multiprocessing as mp
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from store_helpers import append, local_log_id, org_sequence_ok, read_lines, stored_lines

from audit.codes import Code
from audit.errors import StoreError
from audit.store.push import push_log

ROOT = Path(__file__).resolve().parents[2]
INTERRUPTIONS = 20   # pushes cut in the middle, in all
EACH = 7             # of them at least this many by each kind of kill


def _pusher(log: str, url: str) -> None:
    try:
        res = push_log(Path(log), url, chunk_records=4)
    except StoreError as exc:  # the database went away: a clear error with its reason code, nothing else
        os._exit(3 if exc.code is Code.STORE_UNAVAILABLE else 5)
    except BaseException:
        os._exit(6)
    os._exit(0 if res.failure is None else 7)


_POLL: dict[str, psycopg.Connection] = {}


def _count(url: str) -> int | None:
    """Records in the store now (None while the database is down); one connection kept for polling."""
    for _try in range(2):
        try:
            conn = _POLL.get(url)
            if conn is None or conn.closed:
                conn = _POLL[url] = psycopg.connect(url, autocommit=True, connect_timeout=2)
            row = conn.execute("SELECT count(*) FROM deelwijzer.records").fetchone()
            return int(row[0]) if row else 0
        except psycopg.Error:
            stale = _POLL.pop(url, None)
            if stale is not None:
                stale.close()
    return None


def _check(store, logs: list[Path]) -> None:
    total = 0
    for log in logs:
        lines = [ln.rstrip(b"\n") for ln in read_lines(log)]
        assert stored_lines(store, local_log_id(log)) == lines  # nothing lost, nothing twice, byte for byte
        total += len(lines)
    assert org_sequence_ok(store) == (total, total, total)


def test_killed_pusher_or_database_at_random_moments(store, key, key2, tmp_path):
    rng = random.Random(12)
    logs = [tmp_path / "a.jsonl", tmp_path / "b.jsonl"]
    append(logs[0], key, 1)
    append(logs[1], key2, 1)
    ctx = mp.get_context("fork")
    hit = {"pusher": 0, "database": 0}
    rounds = 0
    seq = {0: 1, 1: 1}
    while (sum(hit.values()) < INTERRUPTIONS or min(hit.values()) < EACH) and rounds < 150:
        rounds += 1
        which = rounds % 2
        victim = "database" if rounds % 3 == 0 else "pusher"  # (a database restart costs more time)
        # stopping the database takes a moment to bite: give those pushes more to do, and aim early
        grow = rng.randint(100, 160) if victim == "database" else rng.randint(12, 40)
        append(logs[which], key if which == 0 else key2, grow, start=seq[which])
        seq[which] += grow
        before = _count(store.writer)
        assert before is not None
        target = before + rng.randint(1, grow // 3 if victim == "database" else grow - 1)  # kill at this many
        proc = ctx.Process(target=_pusher, args=(str(logs[which]), store.writer))
        proc.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            n = _count(store.writer)
            if n is not None and n >= target or not proc.is_alive():
                break
            time.sleep(0.0005)
        mid_push = proc.is_alive()
        if victim == "pusher":
            os.kill(proc.pid, signal.SIGKILL)
        else:
            store.cluster.crash()
        proc.join(30)
        if victim == "database":
            store.cluster.start()
            assert proc.exitcode in (0, 3), proc.exitcode  # finished first, or a clean STORE_UNAVAILABLE
        else:
            assert proc.exitcode in (0, -signal.SIGKILL)
        after = _count(store.writer)
        assert after is not None and before <= after
        if mid_push and after < before + grow + (1 if before == 0 else 0):
            hit[victim] += 1
        for log in logs:  # push again: everything arrives, once
            res = push_log(log, store.writer)
            assert res.failure is None and res.waiting == 0
        _check(store, logs)
    for conn in _POLL.values():
        conn.close()
    for conn in _POLL.values():
        conn.close()
    assert sum(hit.values()) >= INTERRUPTIONS and min(hit.values()) >= EACH, (hit, rounds)


def test_cli_push_when_the_database_stops_mid_command(store, key, tmp_path):
    """The CLI is connected and waiting inside its push (another session holds the store's lock)
    when the database stops: exit 2, one line that says what happened, no traceback."""
    from audit.store.db import ORG_LOCK
    log = tmp_path / "log.jsonl"
    append(log, key, 30)
    cmd = [sys.executable, "-m", "cli.main", "audit", "push", str(log), "--to", store.writer]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    holder = psycopg.connect(store.admin)
    holder.execute("SELECT pg_advisory_xact_lock(%s)", (ORG_LOCK,))
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            waiting = store.sql("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                "AND application_name = 'deelwijzer'")
            if waiting[0][0] or proc.poll() is not None:
                break
            time.sleep(0.01)
        assert proc.poll() is None, proc.communicate()
        store.cluster.crash()
        out, errs = proc.communicate(timeout=60)
    finally:
        holder.close()
        if not store.cluster.running:
            store.cluster.start()
    assert proc.returncode == 2, (out, errs)
    assert errs.startswith("deelwijzer: STORE_UNAVAILABLE: the store ") and "went away" in errs
    assert "Traceback" not in errs + out and len(errs.strip().splitlines()) == 1
    assert f"no record of {log} was stored yet" in errs and "Run the command again" in errs
    assert store.sql("SELECT count(*) FROM deelwijzer.records") == [(0,)]
    res = push_log(log, store.writer)
    assert res.failure is None and res.waiting == 0 and res.new == 31
    _check(store, [log])
