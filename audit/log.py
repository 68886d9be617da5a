"""Appending to the log: JSON Lines, one signed record per line, under flock + fsync.

Protocol of one append (see docs/audit.md):

1. open ``O_RDWR|O_APPEND|O_CREAT`` (mode 0600); fsync the directory when the file was created;
2. ``flock(LOCK_EX)`` -- several terminals on one disk serialise here, so the chain never forks;
3. read the tail: an incomplete last line (no ``\\n``) stops the append with TornTailError, the
   last record must be well formed; it gives ``seq``, ``prev`` and the log id;
4. build the payload, validate it (pydantic strict), canonicalise, sign, make one line;
5. one ``write`` of the whole line, then ``fsync`` (``F_FULLFSYNC`` on macOS); a short write is
   cut back before the error is raised;
6. unlock. Only after this returns may the caller say "recorded".

Nothing ever rewrites or removes a complete line. ``repair`` only touches bytes after the
last ``\\n``: it completes a whole record that lacks only its newline, or copies a fragment
into a side file (fsynced) before cutting it off, and can append a signed ``recovery`` record.
A complete last line that is no record at all (zero-filled pages after a power loss) is set aside
the same way; a well-formed record is never touched.
"""
from __future__ import annotations

import fcntl
import os
import sys
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from pydantic import ValidationError

from audit import canonical, envelope, record
from audit.digest import sha256
from audit.errors import LogCorruptError, LogError, RecordError, TornTailError
from audit.files import fsync_dir, write_new
from audit.keys import SigningKey
from audit.merkle import leaf_hash
from audit.timeutil import now_ts
from audit.version import app_version


@dataclass(frozen=True)
class AppendedRecord:
    record_id: str
    seq: int
    line: int          # 1-based line number in the log (= seq + 1)
    log_id: str
    leaf_hash: str     # hex; the next record's ``prev``
    ts: str


@dataclass(frozen=True)
class RepairResult:
    torn: bool                      # was an incomplete (or unreadable) last line found?
    offset: int = 0                 # where it started
    length: int = 0
    sha256: str = ""
    side_file: Path | None = None   # where the fragment was moved (None when completed or nothing torn)
    completed: bool = False         # the fragment was a whole record missing only "\n": newline added
    recovery: AppendedRecord | None = None


@dataclass
class _Tail:
    ino: tuple[int, int]
    size: int
    seq: int
    leaf: bytes
    log_id: str


def _full_fsync(fd: int) -> None:
    if sys.platform == "darwin" and hasattr(fcntl, "F_FULLFSYNC"):
        fcntl.fcntl(fd, fcntl.F_FULLFSYNC)
    else:
        os.fsync(fd)


def _last_line_start(fd: int, end: int) -> int:
    """Offset just after the last ``\\n`` before ``end`` (0 when there is none)."""
    pos = end
    block = 65536
    while pos > 0:
        lo = max(0, pos - block)
        chunk = os.pread(fd, pos - lo, lo)
        i = chunk.rfind(b"\n")
        if i >= 0:
            return lo + i + 1
        pos = lo
    return 0


def parse_record_line(line: bytes) -> tuple[bytes, Any]:
    """(payload bytes, validated record) of a complete line, for the writer's own checks.

    Does not verify the signature (the writer holds no trusted-keys file); raises ValueError."""
    payload, keyid, _sig = envelope.parse(line, envelope.RECORD_TYPE)
    rec = record.parse_payload(payload)
    if rec.kid != keyid:
        raise ValueError("payload kid differs from envelope keyid")
    return payload, rec


class AuditLogWriter:
    """Appends records to one log file. Keep one per session (the tail is cached between
    appends and re-read whenever another process has appended); ``close()`` when done."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._fd: int | None = None
        self._tail: _Tail | None = None
        self._lock = threading.Lock()

    # -- file handling ----------------------------------------------------------------------
    def _open(self) -> int:
        if self._fd is not None:
            try:
                cur = os.stat(self.path)
                mine = os.fstat(self._fd)
                if (cur.st_dev, cur.st_ino) == (mine.st_dev, mine.st_ino):
                    return self._fd
            except FileNotFoundError:
                pass
            self.close()  # the file was moved or replaced: follow the path
        parent = self.path.parent
        try:
            parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            flags = os.O_RDWR | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)
            try:
                fd = os.open(self.path, flags | os.O_CREAT | os.O_EXCL, 0o600)
                fsync_dir(parent)
            except FileExistsError:
                fd = os.open(self.path, flags)
        except OSError as exc:
            raise LogError(f"cannot open audit log {self.path}: {exc.strerror or exc}") from None
        self._fd = fd
        self._tail = None
        return fd

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
            self._tail = None

    def __enter__(self) -> "AuditLogWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _read_tail(self, fd: int, st: os.stat_result) -> _Tail | None:
        ino = (st.st_dev, st.st_ino)
        t = self._tail
        if t is not None and t.ino == ino and t.size == st.st_size:
            return t
        size = st.st_size
        if size == 0:
            return None
        if os.pread(fd, 1, size - 1) != b"\n":
            start = _last_line_start(fd, size)
            raise TornTailError(
                f"{self.path} ends in an incomplete record ({size - start} bytes at offset {start}) left by an "
                f"interrupted write; nothing was appended. Run `deelwijzer audit repair {self.path}` and try again")
        start = _last_line_start(fd, size - 1)
        line = os.pread(fd, size - 1 - start, start)
        try:
            payload, rec = parse_record_line(line)
        except (ValueError, ValidationError) as exc:
            msg = exc.message if isinstance(exc, envelope.EnvelopeError) else (
                record.validation_message(exc) if isinstance(exc, ValidationError) else str(exc))
            raise LogCorruptError(f"the last record of {self.path} (at offset {start}) is not a well-formed record "
                                  f"({msg}); nothing was appended. Run `deelwijzer audit verify {self.path}`; if only "
                                  f"that last line is damaged, `deelwijzer audit repair {self.path}` sets it aside") from None
        self._tail = _Tail(ino, size, rec.seq, leaf_hash(payload), rec.log_id)
        return self._tail

    # -- appending --------------------------------------------------------------------------
    def _header(self, key: SigningKey, log_id: str, seq: int, prev: bytes | None) -> dict[str, Any]:
        return {
            "v": record.SCHEMA_VERSION, "log_id": log_id, "seq": seq,
            "prev": prev.hex() if prev is not None else record.GENESIS_PREV,
            "ts": now_ts(), "kid": key.key_id, "record_id": str(uuid.uuid4()),
            "app": {"name": record.APP_NAME, "version": app_version()},
        }

    @staticmethod
    def _encode(key: SigningKey, payload: dict[str, Any]) -> tuple[bytes, bytes]:
        try:
            rec = record.validate_payload(payload)
        except ValidationError as exc:
            raise RecordError(f"the record is invalid at {record.validation_message(exc)}") from None
        try:
            # The strict schema admits only str/int(+-2^53)/bool/None/list/dict with ASCII keys, so the
            # canonical-JSON restrictions already hold; only a lone surrogate can still fail here.
            body = canonical.dumps_unchecked(payload)
        except (UnicodeEncodeError, ValueError) as exc:
            raise RecordError(f"the record cannot be written as canonical JSON: {exc}") from None
        if body != record.canonical_bytes(rec):  # never write what the verifier would call non-canonical
            raise RecordError("internal error: the record's canonical forms disagree; nothing was written")
        line = envelope.make_line(body, envelope.RECORD_TYPE, key)
        if len(line) > envelope.MAX_LINE:
            raise RecordError(f"the record would be {len(line)} bytes, more than the {envelope.MAX_LINE} a log line "
                              f"may hold (the explanation texts are too long); nothing was written")
        return body, line

    def _append_locked(self, fd: int, key: SigningKey, body: Callable[[dict[str, Any]], dict[str, Any]]) -> AppendedRecord:
        st = os.fstat(fd)
        tail = self._read_tail(fd, st)
        size = st.st_size
        out = []
        if tail is None:
            log_id = str(uuid.uuid4())
            g_body, g_line = self._encode(key, {**self._header(key, log_id, 0, None), "type": "genesis"})
            out.append(g_line)
            seq, prev = 1, leaf_hash(g_body)
        else:
            log_id, seq, prev = tail.log_id, tail.seq + 1, tail.leaf
        header = self._header(key, log_id, seq, prev)
        payload, line = self._encode(key, body(header))
        out.append(line)
        data = b"".join(out)
        try:
            written = os.write(fd, data)
        except OSError as exc:
            self._cut_back(fd, size)
            raise LogError(f"cannot write to audit log {self.path}: {exc.strerror or exc}; nothing was recorded") from None
        if written != len(data):
            self._cut_back(fd, size)
            raise LogError(f"short write to audit log {self.path} (disk full?); nothing was recorded")
        try:
            _full_fsync(fd)
        except OSError as exc:
            raise LogError(f"cannot flush audit log {self.path} to disk: {exc.strerror or exc}; "
                           f"the record may not be durable") from None
        new_leaf = leaf_hash(payload)
        self._tail = _Tail((st.st_dev, st.st_ino), size + len(data), seq, new_leaf, log_id)
        return AppendedRecord(header["record_id"], seq, seq + 1, log_id, new_leaf.hex(), header["ts"])

    def _cut_back(self, fd: int, size: int) -> None:
        try:
            os.ftruncate(fd, size)
            os.fsync(fd)
        except OSError:
            pass
        self._tail = None

    def _locked(self, fn: Callable[[int], Any]) -> Any:
        with self._lock:
            fd = self._open()
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                return fn(fd)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def append_decision(self, key: SigningKey, *, decision: dict, answers: dict, actor: dict,
                        case_ref_source: str) -> AppendedRecord:
        fields = record.decision_fields(decision, answers)
        who = record.actor_fields(actor)
        case_ref = key.case_ref(case_ref_source)

        def body(header: dict[str, Any]) -> dict[str, Any]:
            return {**header, "type": "decision", "actor": who, "case_ref": case_ref,
                    "pseudonym_key_id": key.pseudonym_key_id, **fields}

        return self._locked(lambda fd: self._append_locked(fd, key, body))

    # -- repair -----------------------------------------------------------------------------
    def repair(self, key: SigningKey | None = None) -> RepairResult:
        if not self.path.exists():
            raise LogError(f"audit log {self.path} does not exist")
        return self._locked(lambda fd: self._repair_locked(fd, key))

    def _repair_locked(self, fd: int, key: SigningKey | None) -> RepairResult:
        size = os.fstat(fd).st_size
        if size == 0:
            return RepairResult(torn=False)
        if os.pread(fd, 1, size - 1) == b"\n":
            # A complete last line that is not a record at all (e.g. zero-filled pages after a power
            # loss: the write was never acknowledged) is set aside like a torn tail. A well-formed
            # record is never touched, whatever else may be wrong with it.
            start = _last_line_start(fd, size - 1)
            try:
                parse_record_line(os.pread(fd, size - 1 - start, start))
                return RepairResult(torn=False)
            except (ValueError, ValidationError):
                fragment = os.pread(fd, size - start, start)
                return self._set_aside(fd, start, fragment, sha256(fragment).hex(), key)
        start = _last_line_start(fd, size)
        fragment = os.pread(fd, size - start, start)
        digest = sha256(fragment).hex()
        if self._is_whole_next_record(fd, start, fragment):
            if os.write(fd, b"\n") != 1:
                raise LogError(f"cannot write to audit log {self.path}")
            _full_fsync(fd)
            self._tail = None
            return RepairResult(True, start, len(fragment), digest, None, True)
        return self._set_aside(fd, start, fragment, digest, key)

    def _set_aside(self, fd: int, start: int, fragment: bytes, digest: str, key: SigningKey | None) -> RepairResult:
        side = self.path.with_name(f"{self.path.name}.torn-{start}-{digest[:16]}")
        try:
            write_new(side, fragment, 0o600)
        except FileExistsError:
            if side.read_bytes() != fragment:
                raise LogError(f"side file {side} exists with other content; move it away and run repair again") from None
        except OSError as exc:
            raise LogError(f"cannot write side file {side}: {exc.strerror or exc}; the log was not changed") from None
        fsync_dir(side.parent)
        os.ftruncate(fd, start)
        _full_fsync(fd)
        self._tail = None
        rec = None
        if key is not None and start > 0:
            torn = {"offset": start, "length": len(fragment), "sha256": digest, "side_file": side.name}
            rec = self._append_locked(fd, key, lambda h: {**h, "type": "recovery", "torn": torn})
        return RepairResult(True, start, len(fragment), digest, side, False, rec)

    def _is_whole_next_record(self, fd: int, start: int, fragment: bytes) -> bool:
        """True when ``fragment`` is a complete record that continues the chain, missing only "\\n"."""
        try:
            payload, rec = parse_record_line(fragment)
        except (ValueError, ValidationError):
            return False
        if start == 0:
            return rec.type == "genesis" and rec.seq == 0 and rec.prev == record.GENESIS_PREV
        prev_start = _last_line_start(fd, start - 1)
        try:
            prev_payload, prev = parse_record_line(os.pread(fd, start - 1 - prev_start, prev_start))
        except (ValueError, ValidationError):
            return False
        return rec.seq == prev.seq + 1 and rec.prev == leaf_hash(prev_payload).hex() and rec.log_id == prev.log_id


def record_decision(log_path: Path, key: SigningKey, *, decision: dict, answers: dict, actor: dict,
                    case_ref_source: str) -> AppendedRecord:
    """Append one signed decision record (creating the log and its genesis when absent)."""
    with AuditLogWriter(log_path) as writer:
        return writer.append_decision(key, decision=decision, answers=answers, actor=actor,
                                      case_ref_source=case_ref_source)


def repair(log_path: Path, key: SigningKey | None = None) -> RepairResult:
    """Set a torn last line aside (see module doc); never removes a complete record."""
    with AuditLogWriter(log_path) as writer:
        return writer.repair(key)
