"""Copying a local log's records into the organisation store: ``deelwijzer audit push LOG --to URL``.

Idempotent and safe to interrupt at any moment (process killed, database stopped):

1. ask the store for the head of this log (its highest stored seq), without a lock;
2. read the local log from there under a shared ``flock`` (the writer's exclusive lock keeps a
   half-written line out), in bounded chunks, and check each new line: the envelope and payload
   (canonical, the record schema, payload kid = envelope keyid), the chain (seq + 1, prev = the
   previous leaf hash, one log id); with a trust store also the signature, the key's role and
   its validity at the record's time;
3. send each chunk to ``deelwijzer.push`` in one call: one transaction under the store's
   organisation-wide lock. The chunk starts with the line the store already holds at its head,
   which must be stored byte for byte (else STORE_CONFLICT); lines already stored are counted
   as present, the rest inserted (the database checks the chain once more). A chunk commits
   whole or not at all, so a push killed half-way leaves a prefix of the log in the store, and
   the next push continues from there: nothing is lost, nothing stored twice.

A record that fails its checks, or differs from the record the store holds at the same place
(or under the same record id), stops the push there: ``PushResult.failure`` (an alarm; the CLI
exits 1). Everything before it was pushed.

``<log stem>.store-state.json`` beside the log remembers, per store, how far the log was pushed
(seq and byte offset). It is a hint only -- to start reading near the end instead of at the
start, and to tell offline how many records wait -- checked against the log on every use and
never trusted for what the store holds.
"""
from __future__ import annotations

import fcntl
import functools
import os
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import psycopg
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from audit import envelope, record
from audit.codes import Code
from audit.errors import AuditError, EnvelopeError, StoreError
from audit.files import O_CLOEXEC, O_NOFOLLOW
from audit.log import parse_record_line
from audit.merkle import leaf_hash
from audit.signed import open_envelope
from audit.store import db
from audit.trust import TrustStore, short

CHUNK_RECORDS = 500
CHUNK_BYTES = 4 << 20
READ_BYTES = 4 << 20


@dataclass(frozen=True)
class PushFailure:
    code: Code
    message: str
    line: int | None       # 1-based line in the local log, when one record is at fault


@dataclass(frozen=True)
class PushResult:
    new: int                          # records this push added to the store
    waiting: int                      # local records still not in the store afterwards
    error: str | None = None          # set by the outbox when the store could not be reached (never by push_log)
    present: int = 0                  # records of this push the store already held, byte for byte
    log_id: str | None = None
    store_id: str | None = None
    stored: int = 0                   # records of this log in the store after the push
    behind: int = 0                   # records the store holds beyond the end of the local log
    torn: bool = False                # the local log ends in an incomplete line (not pushed; `audit repair`)
    failure: PushFailure | None = None  # a record that does not verify or conflicts: an alarm
    chunks: int = 0                   # transactions committed
    error_code: Code | None = None    # the reason code of ``error``
    pending: bool = False             # set by a background outbox: the push is under way


# --- the state file ---------------------------------------------------------------------------

class _StoreState(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    url: Annotated[str, Field(max_length=2000)]   # redacted
    log_id: Annotated[str, Field(pattern=record.UUID4_PATTERN)]
    seq: Annotated[int, Field(ge=0)]              # the highest seq known to be in the store
    offset: Annotated[int, Field(ge=0)]           # byte offset of that record's line in the log


class _StateFile(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    v: Annotated[int, Field(ge=1, le=1)]
    stores: dict[str, _StoreState]                # by store id


@functools.lru_cache(maxsize=256)
def state_path(log_path: Path) -> Path:
    log_path = Path(log_path)
    return log_path.with_name(log_path.stem + ".store-state.json")


def _read_state(log_path: Path) -> _StateFile:
    try:
        data = state_path(log_path).read_bytes()
        return _StateFile.model_validate_json(data)
    except (OSError, ValidationError, ValueError):
        return _StateFile(v=1, stores={})


def _write_state(log_path: Path, store_id: str, entry: _StoreState) -> None:
    """Best effort, written in place and not flushed: the file is a hint that every reader checks
    (a torn or stale one only makes the next push read the log from its start)."""
    path = state_path(log_path)
    try:
        fd = os.open(log_path, os.O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
    except OSError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # concurrent pushers of one log keep the highest seq
        state = _read_state(log_path)
        old = state.stores.get(store_id)
        if old is not None and old.log_id == entry.log_id and old.seq >= entry.seq:
            return
        state.stores[store_id] = entry
        data = state.model_dump_json().encode("ascii") + b"\n"
        try:
            sfd = os.open(path, os.O_WRONLY | os.O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
            try:
                os.pwrite(sfd, data, 0)
                os.ftruncate(sfd, len(data))
            finally:
                os.close(sfd)
        except OSError:
            pass
    finally:
        os.close(fd)


def known_pushed(log_path: Path, url: str) -> tuple[str, int] | None:
    """(log id, highest seq) the state file says was pushed to the store at ``url``, if any."""
    want = db.redact(url)
    for entry in _read_state(log_path).stores.values():
        if entry.url == want:
            return entry.log_id, entry.seq
    return None


# --- reading the local log -------------------------------------------------------------------

@dataclass
class _Reader:
    """Complete lines of the local log from a byte offset, read in bounded chunks under a shared
    flock (the writer appends under an exclusive one)."""

    path: Path
    offset: int = 0
    torn: bool = False
    number: int = 0   # 1-based line number of the last line returned (when known)
    _buf: deque[tuple[int, bytes]] = field(default_factory=deque)

    def _fill(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        except OSError as exc:
            raise StoreError(f"cannot read local log {self.path}: {exc.strerror or exc}", Code.LOG_IO_ERROR) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
            size = os.fstat(fd).st_size
            want = READ_BYTES
            while True:
                data = os.pread(fd, min(want, max(0, size - self.offset)), self.offset)
                cut = data.rfind(b"\n") + 1
                if cut or self.offset + len(data) >= size or want > 4 * envelope.MAX_LINE + READ_BYTES:
                    break
                want *= 2  # one line longer than the window: read more (it is refused as too long later)
        finally:
            os.close(fd)
        if not cut:
            self.torn = self.offset < size
            return
        pos = self.offset
        for line in data[:cut - 1].split(b"\n"):
            self._buf.append((pos, line))
            pos += len(line) + 1
        self.offset = pos
        self.torn = False

    def lines(self) -> Iterator[tuple[int, bytes]]:
        """(offset, line without newline) until the end of the complete lines. Leaving the loop
        early loses nothing: the next call goes on after the last line returned."""
        while True:
            if not self._buf:
                self._fill()
                if not self._buf:
                    return
            item = self._buf.popleft()
            self.number += 1
            yield item


_LOG_ID = re.compile(rb'"log_id":"([0-9a-f-]{36})"')
_SEQ = re.compile(rb'"seq":(0|[1-9][0-9]{0,15})[,}]')


def _peek(line: bytes) -> tuple[str, int, bytes] | None:
    """(log id, seq, payload) of a line, read cheaply and not checked: for finding one's way in the
    log; every line that is pushed is checked in full (or is compared byte for byte by the store)."""
    try:
        payload, _kid, _sig = envelope.parse(line, envelope.RECORD_TYPE)
    except EnvelopeError:
        return None
    lid, seq = _LOG_ID.search(payload), _SEQ.search(payload)
    if lid is None or seq is None:
        return None
    return lid.group(1).decode("ascii"), int(seq.group(1)), payload


def _first_line(path: Path) -> bytes | None:
    with open(path, "rb") as fh:
        line = fh.readline(envelope.MAX_LINE + 2)
    return line[:-1] if line.endswith(b"\n") else None


# --- checking -------------------------------------------------------------------------------

def _check_line(line: bytes, trust: TrustStore | None) -> tuple[bytes, dict[str, Any]]:
    """(payload, record) of a line that holds; AuditError naming the first check that fails."""
    if trust is None:
        return parse_record_line(line)
    opened = open_envelope(line, envelope.RECORD_TYPE, trust, ("record",))
    rec = record.parse_payload(opened.payload)
    if rec["kid"] != opened.key.key_id:
        raise AuditError(f"payload names key {short(rec['kid'])} but the envelope is signed by "
                         f"{short(opened.key.key_id)}", Code.MALFORMED_RECORD)
    why = trust.invalid_at(rec["kid"], rec["ts"])
    if why:
        raise AuditError(why, Code.KEY_NOT_VALID_AT_TIME)
    return opened.payload, rec


# --- pushing --------------------------------------------------------------------------------

def push_log(log_path: Path, url: str, *, trust: TrustStore | None = None, conn: psycopg.Connection[Any] | None = None,
             chunk_records: int = CHUNK_RECORDS, chunk_bytes: int = CHUNK_BYTES) -> PushResult:
    """Copy the records of ``log_path`` the store lacks into the store at ``url`` (see the module
    doc). Raises StoreError when the store cannot be reached or goes away (its message says how
    many records were committed before), and for a local log that cannot be read; a record that
    does not verify or conflicts is returned as ``PushResult.failure``."""
    log_path = Path(log_path)
    if not log_path.is_file():
        raise StoreError(f"local log {log_path} not found", Code.INVALID_ARGUMENT)
    first = _first_line(log_path)
    if first is None:
        raise StoreError(f"{log_path} holds no complete record yet; nothing to push", Code.INVALID_ARGUMENT)
    peek = _peek(first)
    if peek is None:
        try:
            _check_line(first, trust)
            raise AuditError("not a record", Code.MALFORMED_RECORD)
        except AuditError as exc:
            return PushResult(0, 0, failure=PushFailure(exc.code, f"line 1: {exc.message}", 1))
    log_id = peek[0]
    own = conn is None
    if conn is None:
        conn = db.connect(url)
    try:
        return _push(log_path, url, conn, log_id, trust, max(1, chunk_records), max(envelope.MAX_LINE, chunk_bytes))
    finally:
        if own:
            conn.close()


def _push(log_path: Path, url: str, conn: psycopg.Connection[Any], log_id: str, trust: TrustStore | None,
          chunk_records: int, chunk_bytes: int) -> PushResult:
    with db.errors(url, "tell how far this log is stored"):
        row = conn.execute(f"SELECT m.store_id::text, m.schema_version, (SELECT max(r.seq) FROM {db.SCHEMA}.records r "
                           f"WHERE r.log_id = %s) FROM {db.SCHEMA}.meta m", (log_id,)).fetchone()
    if row is None or int(row[1]) != db.SCHEMA_VERSION:
        db.store_info(conn, url)  # raises the reason (no identity row, another schema version)
    assert row is not None
    store_id = str(row[0])
    head: int | None = int(row[2]) if row[2] is not None else None
    stored_head = head
    start = head if head is not None else 0   # resend the stored head: the store checks it is the same record
    reader = _start_reader(log_path, store_id, log_id, start)
    new = present = chunks = 0
    agreed = -1                               # the highest seq known to be stored exactly as in the local log
    expected, prev_leaf = start, None
    last: tuple[int, int] | None = None       # (seq, offset) of the last line read
    batch: list[bytes] = []
    batch_bytes = 0
    batch_last: tuple[int, int] | None = None
    failure: PushFailure | None = None
    done = f"no record of {log_path} was stored yet"

    def send(lines: list[bytes], first_seq: int) -> None:
        nonlocal new, present, chunks, agreed, done, stored_head
        with db.errors(url, f"store records {first_seq}..{first_seq + len(lines) - 1} of log {log_id}",
                       committed=done + " (the next push finds out whether the last one was)"):
            got = conn.execute(f"SELECT inserted, present, head FROM {db.SCHEMA}.push(%s, %s, %s)",
                               (log_id, first_seq, lines)).fetchone()
        assert got is not None
        new += int(got[0])
        present += int(got[1])
        stored_head = int(got[2]) if got[2] is not None else stored_head
        chunks += 1
        agreed = first_seq + len(lines) - 1
        done = f"{new} record(s) of {log_path} were stored before"

    def flush() -> None:
        nonlocal batch, batch_bytes
        if not batch:
            return
        lines, first_seq = batch, expected - len(batch)
        batch, batch_bytes = [], 0
        try:
            send(lines, first_seq)
        except StoreError as exc:
            if exc.code is not Code.STORE_CONFLICT or len(lines) == 1:
                raise
            for i, line in enumerate(lines):  # the same lines in the same order, one per transaction:
                send([line], first_seq + i)   # what comes before the conflicting record is stored
        if batch_last is not None:
            _write_state(log_path, store_id, _StoreState(url=db.redact(url), log_id=log_id, seq=batch_last[0],
                                                         offset=batch_last[1]))

    for offset, line in reader.lines():
        number = reader.number
        peeked = _peek(line) if head is not None and expected == head else None
        rec: dict[str, Any]
        if peeked is not None and peeked[:2] == (log_id, head):
            # the line the store holds at its head: the store compares it byte for byte
            payload, rec = peeked[2], {"log_id": peeked[0], "seq": peeked[1], "prev": None}
        else:
            try:
                payload, rec = _check_line(line, trust)
            except AuditError as exc:
                failure = PushFailure(exc.code, f"line {number}: {exc.message}", number)
                break
        seq = rec["seq"]
        problem = None
        if rec["log_id"] != log_id:
            problem = (Code.LOG_ID_MISMATCH, f"line {number} belongs to log {rec['log_id']}, not {log_id}")
        elif seq != expected:
            problem = (Code.CHAIN_BROKEN, f"line {number} has seq {seq}, expected {expected}: the local log is "
                                          f"damaged (run `deelwijzer audit verify {log_path}`)")
        elif prev_leaf is not None and rec["prev"] is not None and rec["prev"] != prev_leaf:
            problem = (Code.CHAIN_BROKEN, f"line {number}: prev is not the hash of the record before it: the local "
                                          f"log is damaged (run `deelwijzer audit verify {log_path}`)")
        if problem is not None:
            failure = PushFailure(problem[0], problem[1], number)
            break
        prev_leaf = leaf_hash(payload).hex()
        expected = seq + 1
        last = batch_last = (seq, offset)
        batch.append(line)
        batch_bytes += len(line)
        if len(batch) >= chunk_records or batch_bytes >= chunk_bytes:
            try:
                flush()
            except StoreError as exc:
                if exc.code is not Code.STORE_CONFLICT:
                    raise
                failure = PushFailure(Code.STORE_CONFLICT, exc.message, None)
                break
    try:
        flush()  # what was read before a failing line is pushed all the same
    except StoreError as exc:
        if exc.code is not Code.STORE_CONFLICT:
            raise
        failure = failure or PushFailure(Code.STORE_CONFLICT, exc.message, None)
    local_last = last[0] if last is not None else None
    behind = 0
    if head is not None and (local_last is None or local_last < head) and failure is None:
        # the local log ends before the store's head of it: the local copy was cut or restored
        failure, behind = _check_behind(log_path, url, conn, log_id, head, trust)
        if failure is None:
            agreed = head - behind
    from audit.store.orgcheckpoint import sequence
    sequence(conn, url)  # into the organisation sequence: this push's records, and any an interrupted push left
    stored = stored_head + 1 if stored_head is not None else 0  # the store keeps each chain whole: seq 0..head
    local_end = _local_last_seq(log_path, reader, last)
    if failure is not None and failure.code is Code.STORE_CONFLICT and agreed < start:
        agreed = _fork_point(log_path, url, conn, log_id)
        failure = PushFailure(failure.code, f"{failure.message} (the store and the local log agree up to seq {agreed}; "
                                            f"they differ from seq {agreed + 1})", failure.line)
    waiting = max(0, local_end - agreed) if local_end is not None else 0
    return PushResult(new, waiting, None, present - (1 if head is not None and present else 0), log_id, store_id,
                      stored, behind, reader.torn, failure, chunks)


def _start_reader(log_path: Path, store_id: str, log_id: str, start: int) -> _Reader:
    """A reader positioned at the line holding seq ``start`` (line ``start + 1`` of a sound log),
    using the state file's offset when it checks out."""
    hint = _read_state(log_path).stores.get(store_id)
    reader = _Reader(log_path)
    skip = start
    if hint is not None and hint.log_id == log_id and hint.seq <= start:
        probe = _Reader(log_path, hint.offset)
        for _off, line in probe.lines():
            peeked = _peek(line)
            if peeked is not None and peeked[:2] == (log_id, hint.seq):
                reader = _Reader(log_path, hint.offset, number=hint.seq)
                skip = start - hint.seq
            break
    if skip:
        for _ in reader.lines():
            skip -= 1
            if not skip:
                break
    return reader


def _check_behind(log_path: Path, url: str, conn: psycopg.Connection[Any], log_id: str, head: int,
                  trust: TrustStore | None) -> tuple[PushFailure | None, int]:
    """The local log ends before the store's head: its last record must be the stored one there."""
    last_line: bytes | None = None
    for _off, line in _Reader(log_path).lines():
        last_line = line
    if last_line is None:
        return None, head + 1
    try:
        _payload, rec = _check_line(last_line, trust)
    except AuditError as exc:
        return PushFailure(exc.code, f"last line: {exc.message}", None), 0
    with db.errors(url, "compare the local log with the store"):
        row = conn.execute(f"SELECT line FROM {db.SCHEMA}.records WHERE log_id = %s AND seq = %s",
                           (log_id, rec["seq"])).fetchone()
    if row is None or bytes(row[0]) != last_line:
        return PushFailure(Code.STORE_CONFLICT, f"the store holds another record at seq {rec['seq']} of log {log_id} "
                                                f"than the local log's last line: the log forked", None), 0
    return None, head - int(rec["seq"])


def _fork_point(log_path: Path, url: str, conn: psycopg.Connection[Any], log_id: str) -> int:
    """The highest seq up to which the store and the local log hold the same lines (-1: none)."""
    agreed = -1
    with db.errors(url, "compare the local log with the store"), conn.transaction(), \
            conn.cursor(name="deelwijzer_fork_point", binary=True) as cur:
        cur.itersize = 1000
        cur.execute(f"SELECT seq, line FROM {db.SCHEMA}.records WHERE log_id = %s ORDER BY seq", (log_id,))
        for (seq, stored), (_off, line) in zip(cur, _Reader(log_path).lines()):
            if int(seq) != agreed + 1 or bytes(stored) != line:
                break
            agreed = int(seq)
    return agreed


def _local_last_seq(log_path: Path, reader: _Reader, last: tuple[int, int] | None) -> int | None:
    """The seq of the local log's last complete record (reading on from where the push stopped)."""
    seq = last[0] if last is not None else None
    for _off, line in reader.lines():
        try:
            _p, rec = parse_record_line(line)
            seq = int(rec["seq"])
        except AuditError:
            seq = (seq + 1) if seq is not None else None
    return seq


def local_last_seq(log_path: Path) -> int | None:
    """The seq of the last complete record of a local log (None when it has none), read from its end
    (cheaply: the line's seq is read, not checked)."""
    try:
        fd = os.open(log_path, os.O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        size = os.fstat(fd).st_size
        window = 64 << 10
        while True:
            tail = os.pread(fd, min(size, window), max(0, size - window))
            cut = tail.rfind(b"\n")
            start = tail.rfind(b"\n", 0, cut) + 1 if cut >= 0 else -1
            if cut < 0 or start > 0 or window >= size or window > 4 * envelope.MAX_LINE:
                break
            window *= 4
    finally:
        os.close(fd)
    if cut < 0:
        return None
    peeked = _peek(tail[start:cut])
    return peeked[1] if peeked is not None else None


def local_log_id(log_path: Path) -> str | None:
    """The log id named by a local log's first line (read cheaply, not checked)."""
    first = _first_line(Path(log_path)) if Path(log_path).exists() else None
    peeked = _peek(first) if first is not None else None
    return peeked[0] if peeked is not None else None
