"""`store init`: idempotent schema and roles; append-only by privileges *and* triggers; the
database's own chain check; clear errors (exit 2, no traceback) when the store is unreachable."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from store_helpers import AUDITOR, WRITER, append, local_log_id, new_database, read_lines

from audit.codes import Code
from audit.errors import StoreError
from audit.store import db
from audit.store.push import push_log
from audit.store.schema import init_store, privileges
from cli.main import main

ROOT = Path(__file__).resolve().parents[2]


def test_init_is_idempotent_and_grants_exactly_insert_and_select(pg, capsys):
    name = new_database(pg)
    assert main(["store", "init", pg.url(name)]) == 0
    first = capsys.readouterr().out
    assert "created" in first and "deelwijzer_writer (SELECT, INSERT)" in first
    store_id = first.split()[1]
    assert main(["store", "init", pg.url(name)]) == 0
    again = capsys.readouterr().out
    assert again.split()[1] == store_id and "already present" in again
    with psycopg.connect(pg.url(name), autocommit=True) as conn:
        writer = privileges(conn, "deelwijzer_writer")
        auditor = privileges(conn, "deelwijzer_auditor")
        assert writer == {"meta": {"SELECT"}, "records": {"SELECT", "INSERT"}, "org_sequence": {"SELECT", "INSERT"},
                          "org_checkpoints": {"SELECT", "INSERT"}}
        assert auditor == {"meta": {"SELECT"}, "records": {"SELECT"}, "org_sequence": {"SELECT"},
                           "org_checkpoints": {"SELECT"}}
        public = privileges(conn, "public")
        assert all(not p for p in public.values())
        n = conn.execute("SELECT count(*) FROM deelwijzer.meta").fetchone()
        assert n == (1,)


def test_writer_update_delete_truncate_refused_by_privileges_and_by_triggers(store, key, tmp_path):
    append(tmp_path / "log.jsonl", key, 3)
    assert push_log(tmp_path / "log.jsonl", store.writer).new == 4
    for table in ("records", "org_sequence", "org_checkpoints", "meta"):
        for stmt in ({"meta": "UPDATE deelwijzer.meta SET schema_version = 2",
                      "org_sequence": "UPDATE deelwijzer.org_sequence SET sequenced_at = now()"}.get(
                          table, f"UPDATE deelwijzer.{table} SET stored_at = now()"),
                     f"DELETE FROM deelwijzer.{table}", f"TRUNCATE deelwijzer.{table}"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                store.sql(stmt, user=WRITER)
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                store.sql(stmt, user=AUDITOR)
            # the triggers refuse even the table's owner, and a role that was wrongly given the privilege
            with pytest.raises(psycopg.Error) as owner:
                store.sql(stmt)
            assert owner.value.diag.sqlstate == db.SQLSTATE_APPEND_ONLY, stmt
    store.sql(f"CREATE ROLE careless_{store.db} LOGIN IN ROLE deelwijzer_writer")
    store.sql(f"GRANT UPDATE, DELETE, TRUNCATE ON deelwijzer.records TO careless_{store.db}")
    for stmt in ("UPDATE deelwijzer.records SET ts = 'x'", "DELETE FROM deelwijzer.records",
                 "TRUNCATE deelwijzer.records"):
        with pytest.raises(psycopg.Error) as exc:
            store.sql(stmt, user=f"careless_{store.db}")
        assert exc.value.diag.sqlstate == db.SQLSTATE_APPEND_ONLY
    assert store.sql("SELECT count(*) FROM deelwijzer.records") == [(4,)]
    # the auditor cannot add anything either
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        store.sql("INSERT INTO deelwijzer.records (line) VALUES ('x')", user=AUDITOR)


def test_the_database_refuses_a_record_that_does_not_continue_its_chain(store, key, tmp_path):
    log = tmp_path / "log.jsonl"
    append(log, key, 4)
    lines = [ln.rstrip(b"\n") for ln in read_lines(log)]
    insert = "INSERT INTO deelwijzer.records (line) VALUES (%s)"
    with pytest.raises(psycopg.Error) as exc:  # a log must start with its genesis record
        store.sql(insert, (lines[1],), user=WRITER)
    assert exc.value.diag.sqlstate == db.SQLSTATE_CHAIN
    store.sql(insert, (lines[0],), user=WRITER)
    with pytest.raises(psycopg.Error) as exc:  # a gap
        store.sql(insert, (lines[2],), user=WRITER)
    assert exc.value.diag.sqlstate == db.SQLSTATE_CHAIN
    store.sql(insert, (lines[1],), user=WRITER)
    with pytest.raises(psycopg.Error) as exc:  # the same record again
        store.sql(insert, (lines[1],), user=WRITER)
    assert exc.value.diag.sqlstate == db.SQLSTATE_CHAIN
    for junk in (b"not a record", b'{"payload":"@@@","payloadType":"x"}', b""):
        with pytest.raises(psycopg.Error) as exc:
            store.sql(insert, (junk,), user=WRITER)
        assert exc.value.diag.sqlstate == db.SQLSTATE_NOT_RECORD
    # the index columns come from the line itself, whatever a writer claims
    store.sql("INSERT INTO deelwijzer.records (line, arrival, seq, log_id, record_id, rtype, ts, kid, leaf, stored_at) "
              "VALUES (%s, 99, 7, gen_random_uuid(), gen_random_uuid(), 'x', 'x', 'x', 'x', now())", (lines[2],),
              user=WRITER)
    rows = store.sql("SELECT seq, log_id::text FROM deelwijzer.records ORDER BY arrival")
    assert rows == [(0, local_log_id(log)), (1, local_log_id(log)), (2, local_log_id(log))]
    assert store.sql("SELECT max(arrival) < 99 FROM deelwijzer.records") == [(True,)]


def test_the_organisation_sequence_only_grows_by_its_next_record(store, key, tmp_path):
    log = tmp_path / "log.jsonl"
    append(log, key, 3)
    lines = [ln.rstrip(b"\n") for ln in read_lines(log)]
    for line in lines:
        store.sql("INSERT INTO deelwijzer.records (line) VALUES (%s)", (line,), user=WRITER)
    arrivals = [r[0] for r in store.sql("SELECT arrival FROM deelwijzer.records ORDER BY arrival")]
    insert = "INSERT INTO deelwijzer.org_sequence (org_seq, arrival, sequenced_at) VALUES (%s, %s, now())"
    for bad in ((1, arrivals[1]), (2, arrivals[0]), (1, 12345)):  # out of order, a gap, no such record
        with pytest.raises(psycopg.Error) as exc:
            store.sql(insert, bad, user=WRITER)
        assert exc.value.diag.sqlstate == db.SQLSTATE_SEQUENCE, bad
    store.sql(insert, (1, arrivals[0]), user=WRITER)  # the next one, by hand, is what sequence() would do
    assert store.sql("SELECT deelwijzer.sequence()", user=WRITER) == [(3,)]
    assert store.sql("SELECT deelwijzer.sequence()", user=WRITER) == [(0,)]
    assert store.sql("SELECT org_seq, arrival FROM deelwijzer.org_sequence ORDER BY org_seq") == \
        [(i + 1, a) for i, a in enumerate(arrivals)]


def test_unreachable_store_exit_2_one_line_no_password(tmp_path, pg):
    url = f"postgresql://someone:s3cret@/nodb?host={tmp_path}&port=5999"
    proc = subprocess.run([sys.executable, "-m", "cli.main", "store", "init", url], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.startswith("deelwijzer: STORE_UNAVAILABLE: cannot connect to the store")
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert "s3cret" not in proc.stderr and "someone:***@" in proc.stderr
    assert "pg_isready" in proc.stderr  # how to check


def test_a_database_without_the_store_says_how_to_create_it(pg, tmp_path, key):
    name = new_database(pg)
    append(tmp_path / "log.jsonl", key, 1)
    with pytest.raises(StoreError) as exc:
        push_log(tmp_path / "log.jsonl", pg.url(name))
    assert exc.value.code is Code.STORE_NOT_READY and "deelwijzer store init" in exc.value.message


def test_a_database_not_in_utf8_is_refused(pg):
    with psycopg.connect(pg.url(), autocommit=True) as conn:
        conn.execute("CREATE DATABASE latin ENCODING 'LATIN1' TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'")
    with pytest.raises(StoreError) as exc:
        init_store(pg.url("latin"))
    assert exc.value.code is Code.STORE_NOT_READY and "UTF8" in exc.value.message


def test_decide_without_sign_imports_no_database_driver():
    probe = ("import sys, runpy; from cli.main import main; "
             "rc = main(['decide', 'tests/store/data/case.json', '--format', 'json']); "
             "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('psycopg', 'psycopg_binary', 'audit', "
             "'cryptography')); print(rc, bad)")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    rc, bad = proc.stdout.strip().splitlines()[-1].split(" ", 1)
    assert rc == "0" and bad == "[]", proc.stdout
