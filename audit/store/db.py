"""Connecting to the organisation store, and turning database errors into reason codes.

A store is named by a libpq URL (``postgresql://user@host:port/db?sslmode=verify-full``; the
contract's §6). Messages never show a password: ``redact(url)`` replaces it. Every database
error that reaches a caller is a ``StoreError`` (or, for a record that does not hold, a
``StoreError`` with the failure's code), never a psycopg exception:

- STORE_UNAVAILABLE: the server cannot be reached, refuses the login, or the connection broke
  during a command (the message says what was committed before);
- STORE_NOT_READY: no ``deelwijzer`` schema in that database (run ``store init``), another schema
  version, a database not in UTF-8, or a role without the rights the command needs;
- STORE_CONFLICT: the store already holds another record at a log position or under a record id;
- MALFORMED_RECORD: the store's own check refused a line as no record.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import conninfo

from audit.codes import Code
from audit.errors import StoreError
from audit.store.url import is_store_url as is_store_url
from audit.store.url import redact as redact

SCHEMA = "deelwijzer"
SCHEMA_VERSION = 1
WRITER_ROLE = "deelwijzer_writer"
AUDITOR_ROLE = "deelwijzer_auditor"
ORG_LOCK = 0x6465656C776A7A72  # "deelwjzr": the organisation lock: shared by inserts, exclusive for sequence()
CONNECT_TIMEOUT = 10           # seconds, unless the URL says otherwise
STATEMENT_TIMEOUT_MS = 120_000  # a hung server gives an error, never a hang

# SQLSTATEs raised by the store's own functions (schema.py): class "DW" is not used by PostgreSQL.
SQLSTATE_CHAIN = "DW001"        # the record does not continue the stored chain of its log
SQLSTATE_CONFLICT = "DW002"     # another record is stored at that position
SQLSTATE_ISOLATION = "DW003"    # appends need READ COMMITTED
SQLSTATE_NOT_RECORD = "DW004"   # the line is not a record envelope
SQLSTATE_SEQUENCE = "DW005"     # the organisation sequence only grows by its next record
SQLSTATE_APPEND_ONLY = "DW010"  # UPDATE, DELETE or TRUNCATE refused by the trigger

def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return "; ".join(lines[:2])[:400]


def connect(url: str, *, connect_timeout: float | None = None) -> psycopg.Connection[Any]:
    """An autocommit connection to the store's database, or StoreError(STORE_UNAVAILABLE) that
    says what failed, where, and how to check it. The URL's own settings win over the defaults
    (connect timeout, statement timeout)."""
    if not is_store_url(url):
        raise StoreError(f"{url!r} is not a store URL (postgresql://USER@HOST/DB)", Code.INVALID_ARGUMENT)
    try:
        params = conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        raise StoreError(f"{redact(url)} is not a valid PostgreSQL URL: {_first_line(exc)}",
                         Code.INVALID_ARGUMENT) from None
    extra: dict[str, Any] = {"application_name": "deelwijzer", "autocommit": True}
    if "connect_timeout" not in params:
        extra["connect_timeout"] = max(1, round(connect_timeout or CONNECT_TIMEOUT))
    options = str(params.get("options", ""))
    if "statement_timeout" not in options:
        extra["options"] = (options + f" -c statement_timeout={STATEMENT_TIMEOUT_MS}").strip()
    try:
        return psycopg.connect(url, **extra)
    except psycopg.Error as exc:
        raise StoreError(f"cannot connect to the store {redact(url)} ({_first_line(exc)}). Check that PostgreSQL runs "
                         f"and is reachable, and that the URL (host, port, database, user; password in ~/.pgpass "
                         f"or PGPASSWORD) is right: `pg_isready -d URL` tells", Code.STORE_UNAVAILABLE) from None


def translate(exc: psycopg.Error, url: str, doing: str, committed: str = "") -> StoreError:
    """A psycopg error as a StoreError with the reason code the caller reports."""
    state = getattr(exc.diag, "sqlstate", None) or exc.sqlstate or ""
    where = redact(url)
    detail = (exc.diag.message_primary or "").strip() or _first_line(exc)
    after = f" {committed};" if committed else ""
    if state in (SQLSTATE_CHAIN, SQLSTATE_CONFLICT):
        return StoreError(f"{where}: {detail}", Code.STORE_CONFLICT)
    if state == "23505":  # unique_violation: a record id (or position) already taken by another record
        return StoreError(f"{where}: the store already holds another record under the same record id or log "
                          f"position ({detail})", Code.STORE_CONFLICT)
    if state == SQLSTATE_NOT_RECORD:
        return StoreError(f"{where}: {detail}", Code.MALFORMED_RECORD)
    if state in ("3F000", "42P01", "42883"):  # no schema, table or function
        return StoreError(f"{where} holds no deelwijzer store (or an incomplete one): {detail}. Create it with "
                          f"`deelwijzer store init URL` as the database owner", Code.STORE_NOT_READY)
    if state == "42501":  # insufficient_privilege
        return StoreError(f"{where}: the database user may not {doing}: {detail}. Writers log in as members of "
                          f"{WRITER_ROLE}, auditors of {AUDITOR_ROLE} (docs/store.md)", Code.STORE_NOT_READY)
    if state in (SQLSTATE_APPEND_ONLY, SQLSTATE_SEQUENCE):
        return StoreError(f"{where}: {detail}", Code.STORE_NOT_READY)
    if state in ("57014", "55P03"):  # query_canceled (statement_timeout), lock_not_available
        return StoreError(f"{where} did not answer in time while it was asked to {doing} ({detail});{after} "
                          f"try again later", Code.STORE_UNAVAILABLE)
    if isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError)):
        return StoreError(f"the store {where} went away while it was asked to {doing} ({detail});{after} "
                          f"nothing else was changed. Run the command again when the database is back",
                          Code.STORE_UNAVAILABLE)
    return StoreError(f"{where}: the database refused to {doing}: {detail}", Code.STORE_NOT_READY)


@contextmanager
def errors(url: str, doing: str, committed: str = "") -> Iterator[None]:
    """Turn every psycopg error inside the block into a StoreError."""
    try:
        yield
    except psycopg.Error as exc:
        raise translate(exc, url, doing, committed) from None


def store_info(conn: psycopg.Connection[Any], url: str) -> tuple[str, int]:
    """(store id, schema version) of the store in this database; StoreError(STORE_NOT_READY) when
    there is none or it has another version."""
    with errors(url, "read the store's identity"):
        row = conn.execute(f"SELECT store_id::text, schema_version FROM {SCHEMA}.meta").fetchone()
    if row is None:
        raise StoreError(f"{redact(url)}: the store's identity row is missing (deelwijzer.meta is empty); run "
                         f"`deelwijzer store init URL` as the database owner", Code.STORE_NOT_READY)
    store_id, version = str(row[0]), int(row[1])
    if version != SCHEMA_VERSION:
        raise StoreError(f"{redact(url)} holds a store of schema version {version}; this deelwijzer knows version "
                         f"{SCHEMA_VERSION}. Use the deelwijzer version that matches the store", Code.STORE_NOT_READY)
    return store_id, version
