"""The store's schema and ``deelwijzer store init URL`` (idempotent).

Schema ``deelwijzer`` (version 1), owned by whoever runs ``store init`` (the database owner):

- ``meta``: one row, the store's identity (``store_id``, a UUIDv4 fixed at the first init; the
  organisation checkpoints name it) and the schema version;
- ``records``: every record of every professional's log, exactly the DSSE envelope line of the
  file log (``line``, without its newline), plus index columns the database derives from that
  line itself when it is inserted (``log_id``, ``seq``, ``record_id``, type, time, key, leaf
  hash) and ``arrival``, the order in which the store accepted it;
- ``org_sequence``: the organisation-wide sequence, ``org_seq`` 1, 2, 3, ... without a gap, each
  naming one record (by its ``arrival``). It only grows: each extension is one transaction of
  ``sequence()``, which takes every record committed since the last one, in arrival order;
- ``org_checkpoints``: signed organisation tree heads (``audit checkpoint URL``), numbered 1, 2, ...

Rules the database itself enforces, for every role but a superuser who disables triggers:

- append-only: a statement trigger refuses UPDATE, DELETE and TRUNCATE on every table, besides
  the writer and auditor roles having no such privilege;
- an insert into ``records`` supplies only ``line``; the ``BEFORE INSERT`` trigger parses the
  envelope and payload, fills the index columns, takes the log's advisory lock (held to commit:
  two writers of one log take turns) and refuses a record that does not continue its log's stored
  chain (seq = head + 1 and prev = the head's leaf hash; a log starts with its genesis record) --
  so concurrent writers can never fork or reorder a chain. It also holds the organisation lock in
  *shared* mode to commit, so that writers of different logs commit side by side (their WAL
  flushes are shared: group commit);
- ``org_sequence`` accepts only its next entry: org_seq = last + 1 for the earliest record not yet
  in it (SQLSTATE DW005 otherwise), under the exclusive organisation lock;
- ``sequence()`` holds the organisation lock *exclusively*: it waits until no insert is in
  flight, then appends every record committed since its last run to ``org_sequence`` in arrival
  order (so ``org_seq`` follows the order in which records were committed, and within one run the
  order in which the store accepted them; each log's records keep their chain order). New inserts
  wait for it, so every later record arrives after everything sequenced: the sequence never gains
  an entry in its past. The sequence is thus exactly the records in arrival order, a function of the
  records alone, which lets ``sequence()`` commit without a WAL flush of its own (a crash that loses
  entries loses nothing: the next run appends the same ones again; an organisation checkpoint's
  synchronous commit makes everything it covers durable first);
- ``push(log_id, first_seq, lines[])`` appends a run of one log's lines in one call: lines already
  stored byte for byte are counted as present, another record at the same position is a conflict
  (SQLSTATE DW002), the rest is inserted.

Roles (cluster-wide, NOLOGIN groups: log in as a member, ``GRANT deelwijzer_writer TO laptop17``):
``deelwijzer_writer`` may SELECT and INSERT (and call ``push`` and ``sequence``),
``deelwijzer_auditor`` may SELECT. Neither may UPDATE, DELETE, TRUNCATE, create objects or
change the triggers.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import psycopg

from audit.codes import Code
from audit.errors import StoreError
from audit.store import db
from audit.store.db import AUDITOR_ROLE, ORG_LOCK, SCHEMA, SCHEMA_VERSION, WRITER_ROLE

TABLES = ("meta", "records", "org_sequence", "org_checkpoints")
LOG_LOCK_CLASS = 0x64776C67  # "dwlg": per-log advisory locks are (LOG_LOCK_CLASS, hashtext(log_id))

DDL = f"""
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
REVOKE ALL ON SCHEMA {SCHEMA} FROM PUBLIC;

CREATE TABLE IF NOT EXISTS {SCHEMA}.meta (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    store_id uuid NOT NULL,
    schema_version integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE SEQUENCE IF NOT EXISTS {SCHEMA}.arrival AS bigint;

CREATE TABLE IF NOT EXISTS {SCHEMA}.records (
    arrival bigint PRIMARY KEY,
    log_id uuid NOT NULL,
    seq bigint NOT NULL CHECK (seq >= 0),
    record_id uuid NOT NULL UNIQUE,
    rtype text NOT NULL,
    ts text NOT NULL,
    kid text NOT NULL,
    leaf bytea NOT NULL,
    line bytea NOT NULL,
    stored_at timestamptz NOT NULL,
    UNIQUE (log_id, seq)
);

CREATE TABLE IF NOT EXISTS {SCHEMA}.org_sequence (
    org_seq bigint PRIMARY KEY CHECK (org_seq >= 1),
    arrival bigint NOT NULL UNIQUE,
    sequenced_at timestamptz NOT NULL
);

CREATE TABLE IF NOT EXISTS {SCHEMA}.org_checkpoints (
    n bigint PRIMARY KEY CHECK (n >= 1),
    size bigint NOT NULL CHECK (size >= 1),
    line bytea NOT NULL,
    stored_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE OR REPLACE FUNCTION {SCHEMA}.refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'DW010',
        MESSAGE = format('the deelwijzer store is append-only: %s on %I.%I is refused', TG_OP, TG_TABLE_SCHEMA,
                         TG_TABLE_NAME),
        HINT = 'records are only ever added; nothing in the store is changed or removed';
END
$fn$;

CREATE OR REPLACE FUNCTION {SCHEMA}.records_before_insert() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    v_end integer;
    v_payload bytea;
    v_rec jsonb;
    v_head_seq bigint;
    v_head_leaf bytea;
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION USING ERRCODE = 'DW003',
            MESSAGE = 'records are appended in READ COMMITTED transactions only (the organisation-wide order '
                      'follows commit order)';
    END IF;
    IF NEW.line IS NULL OR substring(NEW.line FROM 1 FOR 12) <> '\\x7b227061796c6f6164223a22'::bytea THEN
        RAISE EXCEPTION USING ERRCODE = 'DW004', MESSAGE = 'not a record line: it does not start with {{"payload":"';
    END IF;
    v_end := position('\\x22'::bytea IN substring(NEW.line FROM 13));
    BEGIN
        v_payload := decode(convert_from(substring(NEW.line FROM 13 FOR v_end - 1), 'UTF8'), 'base64');
        v_rec := convert_from(v_payload, 'UTF8')::jsonb;
        NEW.log_id := (v_rec->>'log_id')::uuid;
        NEW.seq := (v_rec->>'seq')::bigint;
        NEW.record_id := (v_rec->>'record_id')::uuid;
        NEW.rtype := v_rec->>'type';
        NEW.ts := v_rec->>'ts';
        NEW.kid := v_rec->>'kid';
    EXCEPTION WHEN others THEN
        RAISE EXCEPTION USING ERRCODE = 'DW004', MESSAGE = 'not a record line: ' || SQLERRM;
    END;
    IF NEW.log_id IS NULL OR NEW.seq IS NULL OR NEW.record_id IS NULL OR NEW.rtype IS NULL OR NEW.ts IS NULL
            OR NEW.kid IS NULL OR jsonb_typeof(v_rec->'prev') IS DISTINCT FROM 'string' THEN
        RAISE EXCEPTION USING ERRCODE = 'DW004', MESSAGE = 'not a record line: log_id, seq, record_id, type, ts, kid '
                                                           'or prev missing';
    END IF;
    NEW.leaf := sha256('\\x00'::bytea || v_payload);
    PERFORM pg_advisory_xact_lock_shared({ORG_LOCK});  -- sequence() waits for this insert to end
    PERFORM pg_advisory_xact_lock({LOG_LOCK_CLASS}, hashtext(NEW.log_id::text));  -- one writer per log at a time
    SELECT r.seq, r.leaf INTO v_head_seq, v_head_leaf
        FROM {SCHEMA}.records r WHERE r.log_id = NEW.log_id ORDER BY r.seq DESC LIMIT 1;
    IF v_head_seq IS NULL THEN
        IF NEW.seq <> 0 OR NEW.rtype <> 'genesis' OR v_rec->>'prev' <> repeat('0', 64) THEN
            RAISE EXCEPTION USING ERRCODE = 'DW001',
                MESSAGE = format('log %s has no record in the store yet, so its first record must be its genesis '
                                 'record (seq 0), not %s record seq %s', NEW.log_id, NEW.rtype, NEW.seq);
        END IF;
    ELSIF NEW.seq <> v_head_seq + 1 OR v_rec->>'prev' <> encode(v_head_leaf, 'hex') THEN
        RAISE EXCEPTION USING ERRCODE = 'DW001',
            MESSAGE = format('record seq %s of log %s does not continue the stored chain (stored up to seq %s): '
                             'the log forked, or records are missing before it', NEW.seq, NEW.log_id, v_head_seq);
    END IF;
    NEW.arrival := nextval('{SCHEMA}.arrival');  -- after the locks: later than everything sequenced
    NEW.stored_at := clock_timestamp();
    RETURN NEW;
END
$fn$;

CREATE OR REPLACE FUNCTION {SCHEMA}.org_checkpoints_before_insert() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION USING ERRCODE = 'DW003', MESSAGE = 'checkpoints are appended in READ COMMITTED transactions only';
    END IF;
    PERFORM pg_advisory_xact_lock({ORG_LOCK});
    SELECT coalesce(max(c.n), 0) + 1 INTO NEW.n FROM {SCHEMA}.org_checkpoints c;
    NEW.stored_at := clock_timestamp();
    RETURN NEW;
END
$fn$;

CREATE OR REPLACE FUNCTION {SCHEMA}.push(p_log_id uuid, p_first_seq bigint, p_lines bytea[])
RETURNS TABLE (inserted integer, present integer, head bigint)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    i integer;
    v_seq bigint;
    v_stored bytea;
    v_log uuid;
    v_got bigint;
BEGIN
    inserted := 0;
    present := 0;
    PERFORM pg_advisory_xact_lock_shared({ORG_LOCK});
    PERFORM pg_advisory_xact_lock({LOG_LOCK_CLASS}, hashtext(p_log_id::text));
    FOR i IN 1 .. coalesce(array_length(p_lines, 1), 0) LOOP
        v_seq := p_first_seq + i - 1;
        SELECT r.line INTO v_stored FROM {SCHEMA}.records r WHERE r.log_id = p_log_id AND r.seq = v_seq;
        IF FOUND THEN
            IF v_stored = p_lines[i] THEN
                present := present + 1;
                CONTINUE;
            END IF;
            RAISE EXCEPTION USING ERRCODE = 'DW002',
                MESSAGE = format('the store holds another record at seq %s of log %s than the one pushed: the log '
                                 'forked (two copies of one log were written apart) or was changed', v_seq, p_log_id);
        END IF;
        INSERT INTO {SCHEMA}.records (line) VALUES (p_lines[i]) RETURNING log_id, seq INTO v_log, v_got;
        IF v_log <> p_log_id OR v_got <> v_seq THEN
            RAISE EXCEPTION USING ERRCODE = 'DW002',
                MESSAGE = format('line %s of the push is record seq %s of log %s, not seq %s of log %s', i, v_got,
                                 v_log, v_seq, p_log_id);
        END IF;
        inserted := inserted + 1;
    END LOOP;
    SELECT max(r.seq) INTO head FROM {SCHEMA}.records r WHERE r.log_id = p_log_id;
    RETURN NEXT;
END
$fn$;

CREATE OR REPLACE FUNCTION {SCHEMA}.org_sequence_before_insert() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    v_seq bigint;
    v_arrival bigint;
BEGIN
    PERFORM pg_advisory_xact_lock({ORG_LOCK});  -- exclusive (sequence() holds it already)
    SELECT coalesce(max(s.org_seq), 0), coalesce(max(s.arrival), 0) INTO v_seq, v_arrival FROM {SCHEMA}.org_sequence s;
    SELECT min(r.arrival) INTO v_arrival FROM {SCHEMA}.records r WHERE r.arrival > v_arrival;
    IF NEW.org_seq IS DISTINCT FROM v_seq + 1 OR NEW.arrival IS DISTINCT FROM v_arrival THEN
        RAISE EXCEPTION USING ERRCODE = 'DW005',
            MESSAGE = format('the organisation sequence only grows by the next record in arrival order: expected '
                             'org_seq %s for arrival %s, not org_seq %s for arrival %s', v_seq + 1, v_arrival,
                             NEW.org_seq, NEW.arrival);
    END IF;
    NEW.sequenced_at := clock_timestamp();
    RETURN NEW;
END
$fn$;

CREATE OR REPLACE FUNCTION {SCHEMA}.sequence() RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    v_seq bigint;
    v_arrival bigint;
    v_n bigint;
BEGIN
    SELECT coalesce(max(s.arrival), 0) INTO v_arrival FROM {SCHEMA}.org_sequence s;
    IF NOT EXISTS (SELECT 1 FROM {SCHEMA}.records r WHERE r.arrival > v_arrival) THEN
        RETURN 0;  -- nothing new that this session could see: everything it committed is sequenced
    END IF;
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION USING ERRCODE = 'DW003', MESSAGE = 'the sequence is extended in READ COMMITTED transactions only';
    END IF;
    PERFORM pg_advisory_xact_lock({ORG_LOCK});  -- exclusive: no insert is in flight now
    -- No WAL flush of its own: the entries follow from the (flushed) records alone -- every record,
    -- in arrival order -- so a crash that loses them loses nothing the next sequence() does not
    -- append again, identically; a checkpoint's own (synchronous) commit flushes those it covers.
    PERFORM set_config('synchronous_commit', 'off', true);
    SELECT coalesce(max(s.org_seq), 0), coalesce(max(s.arrival), 0) INTO v_seq, v_arrival FROM {SCHEMA}.org_sequence s;
    INSERT INTO {SCHEMA}.org_sequence (org_seq, arrival, sequenced_at)
        SELECT v_seq + row_number() OVER (ORDER BY r.arrival), r.arrival, clock_timestamp()
        FROM {SCHEMA}.records r WHERE r.arrival > v_arrival ORDER BY r.arrival;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    RETURN v_n;
END
$fn$;

CREATE OR REPLACE TRIGGER records_before_insert BEFORE INSERT ON {SCHEMA}.records
    FOR EACH ROW EXECUTE FUNCTION {SCHEMA}.records_before_insert();
CREATE OR REPLACE TRIGGER org_sequence_before_insert BEFORE INSERT ON {SCHEMA}.org_sequence
    FOR EACH ROW EXECUTE FUNCTION {SCHEMA}.org_sequence_before_insert();
CREATE OR REPLACE TRIGGER org_checkpoints_before_insert BEFORE INSERT ON {SCHEMA}.org_checkpoints
    FOR EACH ROW EXECUTE FUNCTION {SCHEMA}.org_checkpoints_before_insert();
""" + "".join(f"""
CREATE OR REPLACE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {SCHEMA}.{t}
    FOR EACH STATEMENT EXECUTE FUNCTION {SCHEMA}.refuse_change();
""" for t in TABLES)

ROLES_DDL = f"""
DO $do$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{WRITER_ROLE}') THEN
        CREATE ROLE {WRITER_ROLE} NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{AUDITOR_ROLE}') THEN
        CREATE ROLE {AUDITOR_ROLE} NOLOGIN;
    END IF;
EXCEPTION WHEN duplicate_object THEN
    NULL;  -- created by a concurrent init
END
$do$;
"""

GRANTS = f"""
GRANT USAGE ON SCHEMA {SCHEMA} TO {WRITER_ROLE}, {AUDITOR_ROLE};
REVOKE ALL ON ALL TABLES IN SCHEMA {SCHEMA} FROM PUBLIC, {WRITER_ROLE}, {AUDITOR_ROLE};
GRANT SELECT ON ALL TABLES IN SCHEMA {SCHEMA} TO {WRITER_ROLE}, {AUDITOR_ROLE};
GRANT INSERT ON {SCHEMA}.records, {SCHEMA}.org_sequence, {SCHEMA}.org_checkpoints TO {WRITER_ROLE};
REVOKE ALL ON SEQUENCE {SCHEMA}.arrival FROM PUBLIC;
GRANT USAGE ON SEQUENCE {SCHEMA}.arrival TO {WRITER_ROLE};
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA {SCHEMA} FROM PUBLIC, {WRITER_ROLE}, {AUDITOR_ROLE};
GRANT EXECUTE ON FUNCTION {SCHEMA}.push(uuid, bigint, bytea[]), {SCHEMA}.sequence() TO {WRITER_ROLE};
GRANT EXECUTE ON FUNCTION {SCHEMA}.records_before_insert(), {SCHEMA}.org_sequence_before_insert(),
    {SCHEMA}.org_checkpoints_before_insert(), {SCHEMA}.refuse_change() TO {WRITER_ROLE};
"""


@dataclass(frozen=True)
class InitResult:
    store_id: str
    created: bool          # False: the store was already there (init is idempotent)
    database: str
    server_version: str


def init_store(url: str) -> InitResult:
    """Create the schema, roles, grants and triggers if absent; bring functions and triggers up to
    date. Safe to run again (and concurrently). Raises StoreError."""
    conn = db.connect(url)
    try:
        with db.errors(url, "create the store (run `store init` as the database owner or a superuser)"):
            enc, version, dbname = conn.execute(
                "SELECT pg_encoding_to_char(encoding), current_setting('server_version_num')::int, current_database() "
                "FROM pg_database WHERE datname = current_database()").fetchone() or ("", 0, "")
            if version < 150000:
                raise StoreError(f"{db.redact(url)} runs PostgreSQL {version // 10000}; the store needs PostgreSQL 15 "
                                 f"or later", Code.STORE_NOT_READY)
            if enc != "UTF8":
                raise StoreError(f"database {dbname} is encoded {enc}; the store needs UTF8 (record texts are Unicode): "
                                 f"create it with `createdb -E UTF8 -T template0 {dbname}`", Code.STORE_NOT_READY)
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (ORG_LOCK + 1,))  # one init at a time
                existed = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"{SCHEMA}.meta",)).fetchone()
                conn.execute(ROLES_DDL)
                conn.execute(DDL)
                conn.execute(GRANTS)
                conn.execute(f"INSERT INTO {SCHEMA}.meta (store_id, schema_version) VALUES (%s, %s) "
                             f"ON CONFLICT (singleton) DO NOTHING", (str(uuid.uuid4()), SCHEMA_VERSION))
        store_id, _v = db.store_info(conn, url)
        server = str(conn.info.parameter_status("server_version") or version)
        return InitResult(store_id, not (existed and existed[0]), str(dbname), server)
    finally:
        conn.close()


def privileges(conn: psycopg.Connection[Any], role: str) -> dict[str, set[str]]:
    """{table: privileges} that ``role`` holds on the store's tables (for ``store init`` output and tests)."""
    out: dict[str, set[str]] = {}
    for t in TABLES:
        got = set()
        for p in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"):
            row = conn.execute("SELECT has_table_privilege(%s, %s, %s)", (role, f"{SCHEMA}.{t}", p)).fetchone()
            if row and row[0]:
                got.add(p)
        out[t] = got
    return out
