"""`audit push`: idempotent, byte for byte, alarms on a conflicting record, stops at a record that
does not verify (pushing what came before), never pushes a torn tail."""
from __future__ import annotations

import json
import shutil

import pytest
from store_helpers import (append, local_log_id, org_sequence_ok, org_trust, read_lines, seeded_key, stored_lines,
                           with_payload)

from audit import trust as trustmod
from audit.codes import Code
from audit.log import AuditLogWriter
from audit.store.push import push_log, state_path
from cli.main import main


def test_push_copies_every_line_byte_for_byte_and_twice_adds_nothing(store, key, tmp_path, capsys):
    log = tmp_path / "log.jsonl"
    append(log, key, 12)
    assert main(["audit", "push", str(log), "--to", store.writer]) == 0
    out = capsys.readouterr().out
    assert "13 new record(s) pushed" in out and "13 stored, 0 waiting" in out
    assert main(["audit", "push", str(log), "--to", store.writer]) == 0
    assert "0 new record(s) pushed" in capsys.readouterr().out
    assert stored_lines(store, local_log_id(log)) == [ln.rstrip(b"\n") for ln in read_lines(log)]
    append(log, key, 3, start=12)
    res = push_log(log, store.writer)
    assert (res.new, res.waiting, res.stored, res.failure) == (3, 0, 16, None)
    assert org_sequence_ok(store) == (16, 16, 16)


def test_push_in_small_chunks_and_from_a_wrong_state_file(store, key, tmp_path):
    log = tmp_path / "log.jsonl"
    append(log, key, 20)
    res = push_log(log, store.writer, chunk_records=3)
    assert res.new == 21 and res.chunks == 7
    # a state file that lies (another offset, a seq beyond the store) is checked, not believed
    state = json.loads(state_path(log).read_text())
    entry = next(iter(state["stores"].values()))
    entry["offset"], entry["seq"] = 17, 5
    state_path(log).write_text(json.dumps(state))
    append(log, key, 2, start=20)
    assert push_log(log, store.writer).new == 2
    state_path(log).write_text("garbage")
    append(log, key, 1, start=22)
    assert push_log(log, store.writer).new == 1
    assert stored_lines(store, local_log_id(log)) == [ln.rstrip(b"\n") for ln in read_lines(log)]


def test_a_forked_log_is_an_alarm_exit_1(store, key, tmp_path, capsys):
    a = tmp_path / "a" / "log.jsonl"
    append(a, key, 5)
    b = tmp_path / "b" / "log.jsonl"
    b.parent.mkdir()
    shutil.copy(a, b)  # one log, copied to a second laptop: both go on writing under the same log id
    append(a, key, 2, start=5)
    append(b, key, 2, start=50)
    assert push_log(a, store.writer).new == 8
    assert main(["audit", "push", str(b), "--to", store.writer]) == 1
    out = capsys.readouterr().out
    assert "FAIL STORE_CONFLICT" in out and "forked" in out
    res = push_log(b, store.writer)
    assert res.failure is not None and res.failure.code is Code.STORE_CONFLICT and res.new == 0
    assert res.waiting == 2
    assert stored_lines(store, local_log_id(a)) == [ln.rstrip(b"\n") for ln in read_lines(a)]


def test_a_record_id_reused_in_another_log_is_an_alarm(store, key, key2, tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    append(a, key, 3)
    append(b, key2, 3)
    lines = read_lines(b)
    stolen = json.loads(__import__("base64").b64decode(json.loads(read_lines(a)[2])["payload"]))["record_id"]
    # an insider with the key re-signs b's last record under a record id that a's log already used
    from audit_helpers import resign
    lines[3] = resign(lines[3], key2, lambda body: body.__setitem__("record_id", stolen))
    b.write_bytes(b"".join(lines))
    assert push_log(a, store.writer).new == 4
    res = push_log(b, store.writer)
    assert res.failure is not None and res.failure.code is Code.STORE_CONFLICT
    assert res.new == 3 and res.waiting == 1


def test_a_record_that_does_not_verify_stops_the_push_after_the_good_ones(store, key, tmp_path, capsys):
    log = tmp_path / "log.jsonl"
    append(log, key, 6)
    lines = read_lines(log)
    lines[4] = with_payload(lines[4], lambda body: body["advice"].__setitem__("recipient", "police")) + b"\n"
    log.write_bytes(b"".join(lines))
    # with a trusted-keys file, the signature itself: the records before it are pushed
    tk = org_trust(tmp_path / "tk.json", seeded_key(9), key)
    assert main(["audit", "push", str(log), "--to", store.writer, "--trusted-keys", str(tk)]) == 1
    assert f"{log}:5: FAIL BAD_SIGNATURE" in capsys.readouterr().out
    assert len(stored_lines(store, local_log_id(log))) == 4
    # without one, the form and the chain are checked: the edit breaks the next record's prev
    res = push_log(log, store.writer)
    assert res.failure is not None and res.failure.code is Code.CHAIN_BROKEN and res.failure.line == 6
    assert res.new == 1 and len(stored_lines(store, local_log_id(log))) == 5


def test_push_with_trusted_keys_refuses_an_unknown_key(store, key, tmp_path):
    log = tmp_path / "log.jsonl"
    append(log, key, 2)
    other = seeded_key(77)
    tk = org_trust(tmp_path / "tk.json", seeded_key(9), other)
    res = push_log(log, store.writer, trust=trustmod.load(tk))
    assert res.failure is not None and res.failure.code is Code.UNTRUSTED_KEY and res.new == 0


def test_a_torn_tail_is_not_pushed(store, key, tmp_path, capsys):
    log = tmp_path / "log.jsonl"
    append(log, key, 3)
    with open(log, "ab") as fh:
        fh.write(read_lines(log)[-1][:100])
    assert main(["audit", "push", str(log), "--to", store.writer]) == 0
    out = capsys.readouterr().out
    assert "4 new record(s)" in out and "incomplete line" in out


def test_a_local_log_behind_the_store_loses_nothing(store, key, tmp_path, capsys):
    log = tmp_path / "log.jsonl"
    append(log, key, 6)
    assert push_log(log, store.writer).new == 7
    lines = read_lines(log)
    log.write_bytes(b"".join(lines[:4]))  # the laptop restored an old backup of its log
    res = push_log(log, store.writer)
    assert (res.new, res.behind, res.failure) == (0, 3, None)
    assert main(["audit", "push", str(log), "--to", store.writer]) == 0
    assert "beyond the local log's end" in capsys.readouterr().out
    # writing on from there forks the log: the next push says so
    with AuditLogWriter(log) as w:
        from store_helpers import ACTOR, make_decision
        d, a = make_decision(1)
        w.append_decision(key, decision=d, answers=a, actor=ACTOR, case_ref_source="x")
    res = push_log(log, store.writer)
    assert res.failure is not None and res.failure.code is Code.STORE_CONFLICT


@pytest.mark.parametrize("url", ["postgresql://x@/nodb?host=/nonexistent-dir", "not-a-url"])
def test_push_to_an_unusable_store_is_exit_2(tmp_path, key, url, capsys):
    log = tmp_path / "log.jsonl"
    append(log, key, 1)
    assert main(["audit", "push", str(log), "--to", url]) == 2
    errline = capsys.readouterr().err
    assert errline.startswith("deelwijzer: ") and len(errline.strip().splitlines()) == 1
