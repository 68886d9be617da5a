"""Offline-safe recording: the local log first, then the store. With the database stopped halfway,
records wait (and are counted), nothing raises, and they arrive once it is back. `decide --sign
--log URL` goes the same way."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
import subprocess
import sys
from pathlib import Path

import pytest
from store_helpers import ACTOR, local_log_id, make_decision, org_sequence_ok, payload, read_lines, stored_lines

from audit import keys
from audit.codes import Code
from audit.store.outbox import Outbox

ROOT = Path(__file__).resolve().parents[2]
CASE = {"case_id": "dossier-17", "answers": {
    "professional.role": "jeugdhulpverlener", "share.recipient": "veilig_thuis", "share.purpose": "protection",
    "client.age": 15, "concern.exploitation": ["sexual"], "concern.parent_suspected": False,
    "danger.structural": True, "share.data": ["identity", "signals", "health"]}}


def _record(box: Outbox, key, i: int):
    d, a = make_decision(i)
    return box.record(key, decision=d, answers=a, actor=ACTOR, case_ref_source=f"case-{i}")


def test_records_wait_while_the_database_is_away_and_arrive_when_it_is_back(store, key, tmp_path):
    log = tmp_path / "home" / "audit" / "log.jsonl"
    box = Outbox(log, store.writer, retry_after=3600)
    try:
        for i in range(3):
            res = _record(box, key, i)
            assert res.stored and res.push.waiting == 0
        assert box.waiting() == 0
        store.cluster.crash()  # the database goes away halfway through the session
        res = _record(box, key, 3)
        assert not res.stored and res.push.error is not None and res.push.error_code is Code.STORE_UNAVAILABLE
        assert res.push.waiting == 1 and box.waiting() == 1
        res = _record(box, key, 4)  # within retry_after: no new attempt, no wait
        assert res.push.waiting == 2 and res.push.error is not None
        assert len(read_lines(log)) == 6  # every record is in the local log, fsynced
        again = box.push_waiting()  # an explicit push still tries, and does not raise
        assert again.error is not None and again.waiting == 2
        # the next session starts while the database is still away: the count is known offline
        with Outbox(log, store.writer) as later:
            assert later.waiting() == 2
        store.cluster.start()
        back = box.push_waiting()
        assert (back.new, back.waiting, back.error, back.failure) == (2, 0, None, None)
        assert box.waiting() == 0
        res = _record(box, key, 5)  # a success clears the back-off
        assert res.stored
    finally:
        box.close()
        if not store.cluster.running:
            store.cluster.start()
    assert stored_lines(store, local_log_id(log)) == [ln.rstrip(b"\n") for ln in read_lines(log)]
    assert org_sequence_ok(store) == (7, 7, 7)


def test_background_pushing_as_the_interview_does(store, key, tmp_path):
    """The interview's way: record() returns once the record is durable locally; a pusher thread
    sends what waits and reports each attempt. The database stops halfway and comes back."""
    log = tmp_path / "log.jsonl"
    seen = []
    box = Outbox(log, store.writer, background=True, batch_delay=0.01, retry_after=0.2, on_push=seen.append)
    try:
        for i in range(3):
            res = _record(box, key, i)
            assert res.push.pending and not res.stored
        done = box.flush(30)
        assert done is not None and done.error is None and done.waiting == 0 and box.waiting() == 0
        store.cluster.crash()
        for i in range(3, 5):
            _record(box, key, i)
        away = box.flush(30)
        assert away is not None and away.error_code is Code.STORE_UNAVAILABLE and box.waiting() == 2
        store.cluster.start()
        box.push_waiting()  # (the pusher also retries by itself every retry_after seconds)
        assert box.waiting() == 0
    finally:
        box.close()
        if not store.cluster.running:
            store.cluster.start()
    assert any(r.error_code is Code.STORE_UNAVAILABLE for r in seen) and sum(r.new for r in seen) >= 4
    assert box.last is not None and box.last.error is None
    assert stored_lines(store, local_log_id(log)) == [ln.rstrip(b"\n") for ln in read_lines(log)]
    assert org_sequence_ok(store) == (6, 6, 6)


def test_without_a_store_the_outbox_is_the_local_log(tmp_path, key):
    box = Outbox(tmp_path / "log.jsonl", None)
    res = _record(box, key, 0)
    assert res.appended.seq == 1 and res.push.new == 0 and res.push.waiting == 0 and not res.stored
    assert box.waiting() == 0 and box.push_waiting().new == 0
    box.close()


def test_the_weighing_goes_to_the_store_as_its_keyed_hash_only(store, key, tmp_path):
    log = tmp_path / "log.jsonl"
    d, a = make_decision(0)
    text = "Eigen afweging: de ouders weten het al, de jongere stemt in."
    with Outbox(log, store.writer) as box:
        res = box.record(key, decision=d, answers=a, actor=ACTOR, case_ref_source="case-w", weighing=text)
    assert res.stored
    stored = stored_lines(store, local_log_id(log))
    assert stored == [ln.rstrip(b"\n") for ln in read_lines(log)]
    assert payload(stored[-1])["weighing_hash"] == key.weighing_hash(text)
    assert b"ouders" not in b"".join(stored)  # the text itself is never in the log or the store


def test_a_local_log_problem_is_raised_nothing_recorded(tmp_path, key, store):
    log = tmp_path / "log.jsonl"
    log.write_bytes(b"")
    os.chmod(log, 0o644)  # the writer refuses a log others can read
    from audit.errors import LogError
    with Outbox(log, store.writer) as box, pytest.raises(LogError):
        _record(box, key, 0)


def complete_case(ruleset) -> dict:
    """CASE, completed the way the interview would (each question still needed gets an answer), so
    that the test does not depend on which facts the current rule set asks for."""
    from engine import decide, parse_answers
    answers = dict(CASE["answers"])
    for _ in range(50):
        d = decide(ruleset, parse_answers(ruleset, answers))
        if d.complete:
            return {"case_id": CASE["case_id"], "answers": answers}
        q = ruleset.question(d.missing[0] if d.missing else d.to_ask[0])
        if q.type == "bool":
            answers[q.fact] = False
        elif q.type == "int":
            answers[q.fact] = q.min if q.min is not None else 0
        elif q.type == "set":
            answers[q.fact] = [q.options[0].value]
        else:
            answers[q.fact] = q.options[0].value
    raise AssertionError("the rule set never completed the case")


@pytest.fixture(scope="module")
def keydir(tmp_path_factory, ruleset):
    d = tmp_path_factory.mktemp("decide")
    keys.init_keypair(d / "keys", "Laptop 17", b"a-long-passphrase-123")
    (d / "pw").write_text("a-long-passphrase-123\n")
    (d / "case.json").write_text(json.dumps(complete_case(ruleset)))
    return d


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def decide_cli(monkeypatch, capsys):
    """``deelwijzer decide CASE --sign --key KEY --log URL ...`` in this process (the first run in a
    subprocess: the same code path, and the real process boundary)."""
    def run(keydir, home, url, *extra, subprocess_run=False):
        args = ["decide", str(keydir / "case.json"), "--sign", "--key", str(keydir / "keys"), "--log", url,
                "--passphrase-file", str(keydir / "pw"), *extra]
        env = {"DEELWIJZER_HOME": str(home), "DEELWIJZER_PROFESSIONAL": "J. de Vries",
               "DEELWIJZER_ORGANISATION": "Jeugdteam Noord"}
        if subprocess_run:
            p = subprocess.run([sys.executable, "-m", "cli.main", *args], cwd=ROOT, env={**os.environ, **env},
                               capture_output=True, text=True, timeout=120)
            return Ran(p.returncode, p.stdout, p.stderr)
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        from cli.main import main
        capsys.readouterr()
        rc = main(args)
        out = capsys.readouterr()
        return Ran(rc, out.out, out.err)
    return run


def test_decide_sign_log_url_writes_locally_first_then_to_the_store(store, keydir, tmp_path, decide_cli):
    _decide = decide_cli
    home = tmp_path / "home"
    ok = _decide(keydir, home, store.writer, subprocess_run=True)
    assert ok.returncode == 0, ok.stderr
    assert "Audit record: " in ok.stdout and "stored in postgresql://" in ok.stderr
    local = home / "audit" / "log.jsonl"  # the interview's log, by default
    assert len(read_lines(local)) == 2
    store.cluster.crash()
    try:
        away = _decide(keydir, home, store.writer, "--format", "json")
        assert away.returncode == 0, away.stderr  # the advice and the record stand; the record waits
        assert json.loads(away.stdout)["audit_record"]
        assert "warning: the store could not take the record (STORE_UNAVAILABLE" in away.stderr
        assert "1 record(s) wait" in away.stderr and "Traceback" not in away.stderr
    finally:
        store.cluster.start()
    back = _decide(keydir, home, store.writer)
    assert back.returncode == 0 and "2 new, 0 waiting" in back.stderr
    assert stored_lines(store, local_log_id(local)) == [ln.rstrip(b"\n") for ln in read_lines(local)]
    other = tmp_path / "elsewhere.jsonl"
    assert _decide(keydir, home, store.writer, "--local-log", str(other)).returncode == 0
    assert len(read_lines(other)) == 2 and org_sequence_ok(store) == (6, 6, 6)


def test_decide_sign_reports_a_conflicting_store_as_an_alarm(store, keydir, tmp_path, decide_cli):
    _decide = decide_cli
    home = tmp_path / "home"
    assert _decide(keydir, home, store.writer).returncode == 0
    local = home / "audit" / "log.jsonl"
    lines = read_lines(local)
    local.write_bytes(lines[0])  # the local log lost its last record (e.g. a restored backup) ...
    res = _decide(keydir, home, store.writer)  # ... and writes another one at that place: a fork
    assert res.returncode == 1 and "ALARM STORE_CONFLICT" in res.stderr and "Audit record: " in res.stdout
