"""Offline-safe recording: the local log first, then the organisation store.

The interview and ``decide --sign --log URL`` record through an ``Outbox``::

    box = Outbox(local_log, store_url)        # store_url None: the local log only (``make run``)
    res = box.record(key, decision=..., answers=..., actor=..., case_ref_source=...)
    res.appended       # AppendedRecord: durable in the local log (fsynced) -- only now say "vastgelegd"
    res.push           # PushResult(new, waiting, error, failure, ...): what happened with the store
    box.push_waiting() # push whatever waits (at the start of a session, or on request)
    box.waiting()      # how many local records are not in the store (offline too, from the state file)
    box.close()

``record`` raises only what the local log raises (``AuditError``: then nothing was recorded). A
store that cannot be reached, or goes away, never raises: the record waits in the local log, and
``res.push.error`` says why. A record the store holds differently (``res.push.failure``, code
STORE_CONFLICT) is an alarm to show, not an outage. After a failed attempt, ``record`` does not
try the store again for ``retry_after`` seconds (so that recording stays quick while the
database is away); ``push_waiting`` always tries.

Nothing is lost or stored twice whatever fails when: the local append is acknowledged only after
its fsync; the push is idempotent (``audit.store.push``), and each of its transactions commits
whole or not at all.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import psycopg

from audit.codes import Code
from audit.errors import StoreError
from audit.keys import SigningKey
from audit.log import AppendedRecord, AuditLogWriter
from audit.store import db
from audit.store.push import PushResult, known_pushed, local_last_seq, push_log
from audit.trust import TrustStore

RETRY_AFTER = 30.0       # seconds between automatic attempts after the store could not be reached
CONNECT_TIMEOUT = 5.0    # seconds: the interview should not wait long for a store that is away


@dataclass(frozen=True)
class RecordResult:
    appended: AppendedRecord     # the record, durable in the local log
    push: PushResult             # what happened with the store

    @property
    def stored(self) -> bool:
        """True when the record (and everything before it) is in the store."""
        return self.push.error is None and self.push.failure is None and self.push.waiting == 0 \
            and self.push.store_id is not None


class Outbox:
    """One per session (thread-safe). See the module doc."""

    def __init__(self, local_log: Path, store_url: str | None, *, trust: TrustStore | None = None,
                 connect_timeout: float = CONNECT_TIMEOUT, retry_after: float = RETRY_AFTER):
        if store_url is not None and not db.is_store_url(store_url):
            raise StoreError(f"{store_url!r} is not a store URL (postgresql://USER@HOST/DB)", Code.INVALID_ARGUMENT)
        self.local_log = Path(local_log)
        self.store_url = store_url
        self.trust = trust
        self.connect_timeout = connect_timeout
        self.retry_after = retry_after
        self._writer = AuditLogWriter(self.local_log)
        self._conn: psycopg.Connection[Any] | None = None
        self._lock = threading.Lock()
        self._failed_at: float | None = None
        self.last: PushResult | None = None

    # -- recording ---------------------------------------------------------------------------
    def record(self, key: SigningKey, *, decision: Any, answers: dict[str, Any], actor: dict[str, Any],
               case_ref_source: str, push: bool = True) -> RecordResult:
        """Append one signed decision record to the local log (fsync), then push what waits
        (unless ``push`` is False, or the store failed less than ``retry_after`` seconds ago)."""
        appended = self._writer.append_decision(key, decision=decision, answers=answers, actor=actor,
                                                case_ref_source=case_ref_source)
        if not push or self.store_url is None:
            return RecordResult(appended, PushResult(0, self.waiting()))
        recent = self._failed_at is not None and time.monotonic() - self._failed_at < self.retry_after
        if recent and self.last is not None:
            return RecordResult(appended, replace(self.last, new=0, waiting=self.waiting()))
        return RecordResult(appended, self.push_waiting())

    def push_waiting(self) -> PushResult:
        """Push every local record the store lacks. Never raises on a database outage: the
        result's ``error`` says why nothing (more) could be pushed."""
        if self.store_url is None or not self.local_log.exists():
            return PushResult(0, 0)
        with self._lock:
            try:
                if self._conn is None or self._conn.closed:
                    self._conn = db.connect(self.store_url, connect_timeout=self.connect_timeout)
                result = push_log(self.local_log, self.store_url, trust=self.trust, conn=self._conn)
            except StoreError as exc:
                self._drop()
                result = PushResult(0, self.waiting(), f"{exc.code}: {exc.message}", error_code=exc.code)
            except psycopg.Error as exc:  # anything the translation did not cover: still never raise
                self._drop()
                err = db.translate(exc, self.store_url, "store the waiting records")
                result = PushResult(0, self.waiting(), f"{err.code}: {err.message}", error_code=err.code)
            self._failed_at = time.monotonic() if result.error is not None else None
            self.last = result
            return result

    def waiting(self) -> int:
        """Local records not (known to be) in the store: from the local log's last seq and the
        state file of the last successful push -- no database needed. 0 without a store."""
        if self.store_url is None:
            return 0
        last = local_last_seq(self.local_log)
        if last is None:
            return 0
        known = known_pushed(self.local_log, self.store_url)
        pushed = known[1] if known is not None and known[0] == _local_log_id(self.local_log) else -1
        return max(0, last - pushed)

    # -- life cycle --------------------------------------------------------------------------
    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except psycopg.Error:
                pass
            self._conn = None

    def close(self) -> None:
        with self._lock:
            self._drop()
        self._writer.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _local_log_id(path: Path) -> str | None:
    from audit.log import parse_record_line
    from audit.errors import AuditError
    try:
        with open(path, "rb") as fh:
            line = fh.readline(1 << 21)
        _p, rec = parse_record_line(line.rstrip(b"\n"))
        return str(rec["log_id"])
    except (OSError, AuditError):
        return None
