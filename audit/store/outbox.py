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

``Outbox(..., background=True, on_push=callback)`` is for the interview: ``record`` returns as
soon as the record is durable locally (``res.push.pending`` is True) and a pusher thread sends
whatever waits -- one push for every record that came in meanwhile -- calling ``on_push(result)``
after each attempt (from that thread). ``flush(timeout)`` waits until nothing is being pushed;
``close`` flushes first.

Nothing is lost or stored twice whatever fails when: the local append is acknowledged only after
its fsync; the push is idempotent (``audit.store.push``), and each of its transactions commits
whole or not at all.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import psycopg

from audit.codes import Code
from audit.errors import AuditError, StoreError
from audit.keys import SigningKey
from audit.log import AppendedRecord, AuditLogWriter
from audit.store import db
from audit.store.push import PushResult, known_pushed, local_last_seq, local_log_id, push_log
from audit.trust import TrustStore

RETRY_AFTER = 30.0       # seconds between automatic attempts after the store could not be reached
CONNECT_TIMEOUT = 5.0    # seconds: the interview should not wait long for a store that is away
BATCH_DELAY = 0.05       # seconds the pusher thread lets records gather before a push (one transaction for all)


@dataclass(frozen=True)
class RecordResult:
    appended: AppendedRecord     # the record, durable in the local log
    push: PushResult             # what happened with the store (``pending``: the pusher thread has it)

    @property
    def stored(self) -> bool:
        """True when the record (and everything before it) is in the store."""
        return (not self.push.pending and self.push.error is None and self.push.failure is None
                and self.push.waiting == 0 and self.push.store_id is not None)


class Outbox:
    """One per session (thread-safe). See the module doc."""

    def __init__(self, local_log: Path, store_url: str | None, *, trust: TrustStore | None = None,
                 connect_timeout: float = CONNECT_TIMEOUT, retry_after: float = RETRY_AFTER, background: bool = False,
                 on_push: Callable[[PushResult], None] | None = None, batch_delay: float = BATCH_DELAY):
        if store_url is not None and not db.is_store_url(store_url):
            raise StoreError(f"{store_url!r} is not a store URL (postgresql://USER@HOST/DB)", Code.INVALID_ARGUMENT)
        self.local_log = Path(local_log)
        self.store_url = store_url
        self.trust = trust
        self.connect_timeout = connect_timeout
        self.retry_after = retry_after
        self.on_push = on_push
        self.batch_delay = batch_delay
        self._writer = AuditLogWriter(self.local_log)
        self._conn: psycopg.Connection[Any] | None = None
        self._lock = threading.Lock()
        self._failed_at: float | None = None
        self.last: PushResult | None = None
        self._wake = threading.Condition()
        self._wanted = 0          # push requests not yet served by the pusher thread
        self._busy = False
        self._stop = False
        self._thread: threading.Thread | None = None
        if background and store_url is not None:
            self._thread = threading.Thread(target=self._pusher, name="deelwijzer-outbox", daemon=True)
            self._thread.start()

    # -- recording ---------------------------------------------------------------------------
    def record(self, key: SigningKey, *, decision: Any, answers: dict[str, Any], actor: dict[str, Any],
               case_ref_source: str, weighing: str | None = None, push: bool = True) -> RecordResult:
        """Append one signed decision record to the local log (fsync), then push what waits
        (unless ``push`` is False, or the store failed less than ``retry_after`` seconds ago; with
        ``background``, the pusher thread pushes it). ``weighing``: the professional's own weighing,
        recorded only as its keyed hash (``AuditLogWriter.append_decision``)."""
        appended = self._writer.append_decision(key, decision=decision, answers=answers, actor=actor,
                                                case_ref_source=case_ref_source, weighing=weighing)
        if not push or self.store_url is None:
            return RecordResult(appended, PushResult(0, self.waiting()))
        if self._thread is not None:
            with self._wake:
                self._wanted += 1
                self._wake.notify_all()
            return RecordResult(appended, PushResult(0, self.waiting(), pending=True))
        recent = self._failed_at is not None and time.monotonic() - self._failed_at < self.retry_after
        if recent and self.last is not None:
            return RecordResult(appended, replace(self.last, new=0, waiting=self.waiting()))
        return RecordResult(appended, self.push_waiting())

    def push_waiting(self) -> PushResult:
        """Push every local record the store lacks, now. Never raises on a database outage: the
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
        pushed = known[1] if known is not None and known[0] == local_log_id(self.local_log) else -1
        return max(0, last - pushed)

    # -- the pusher thread (background=True) -------------------------------------------------
    def _pusher(self) -> None:
        while True:
            with self._wake:
                while not self._wanted and not self._stop:
                    self._wake.wait()
                if self._stop and not self._wanted:
                    return
                self._busy = True
            if self.batch_delay > 0 and not self._stop:
                time.sleep(self.batch_delay)  # records that come in meanwhile go in the same push
            with self._wake:
                self._wanted = 0
            try:
                result = self.push_waiting()
            except AuditError as exc:  # the local log cannot be read: say so, keep the thread alive
                result = PushResult(0, 0, f"{exc.code}: {exc.message}", error_code=exc.code)
            if self.on_push is not None:
                try:
                    self.on_push(result)
                except Exception:
                    pass
            with self._wake:
                self._busy = False
                self._wake.notify_all()
                if result.error is not None and not self._stop:  # the store is away: try again after a while
                    self._wake.wait_for(lambda: self._stop, timeout=self.retry_after)
                    self._wanted += 1

    def flush(self, timeout: float | None = None) -> PushResult | None:
        """With ``background``: wait until the pusher has nothing more to do (or ``timeout``
        seconds); the last push result. Without: ``push_waiting()``."""
        if self._thread is None:
            return self.push_waiting() if self.store_url is not None else None
        with self._wake:
            self._wake.wait_for(lambda: not self._busy and (not self._wanted or (
                self.last is not None and self.last.error is not None)), timeout=timeout)
        return self.last

    # -- life cycle --------------------------------------------------------------------------
    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except psycopg.Error:
                pass
            self._conn = None

    def close(self, timeout: float | None = 30.0) -> None:
        """Stop the pusher thread (after it pushed what was asked, or ``timeout`` seconds), close."""
        if self._thread is not None:
            self.flush(timeout)
            with self._wake:
                self._stop = True
                self._wake.notify_all()
            self._thread.join(timeout)
            self._thread = None
        with self._lock:
            self._drop()
        self._writer.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
