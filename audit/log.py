"""Appending to the log: JSON Lines, one signed record per line, under flock + fsync.

Protocol of one append (see docs/audit.md section 5):

1. build the record body (the engine's JSON projected onto the record schema) -- outside every lock;
2. open the log without following a symlink (``O_NOFOLLOW``); it must be a regular file of
   mode 0600 (a new log is created ``O_EXCL`` with exactly 0600, and its directory fsynced);
3. ``flock(LOCK_EX)`` -- several terminals on one disk serialise here, so the chain never forks;
4. read the tail: an incomplete last line (no ``\\n``) stops the append with TornTailError, the
   last record must be well formed; it gives ``seq``, ``prev`` and the log id;
5. add the header (seq, prev, time, record id), canonicalise, check the bytes with the verifier's
   own payload check (canonical form, strict schema), sign, make one line;
6. one ``write`` of all lines, then ``fsync`` (``F_FULLFSYNC`` on macOS); a short write is cut
   back before the error is raised;
7. unlock. Only after this returns may the caller say "recorded".

Group commit: threads that append through one ``AuditLogWriter`` at the same time share step
3-7: whichever thread takes the lock writes every record queued so far with one write and one
fsync, and every caller returns only after that fsync.

Nothing ever rewrites or removes a complete line. ``repair`` only touches bytes after the
last ``\\n``: it completes a whole record that lacks only its newline, or copies a fragment
into a side file (fsynced) before cutting it off, and can append a signed ``recovery`` record.
A complete last line that is no record at all (zero-filled pages after a power loss) is set aside
the same way; a well-formed record is never touched.
"""
from __future__ import annotations

import errno
import fcntl
import os
import stat
import sys
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


from audit import canonical, envelope, record
from audit.codes import Code
from audit.digest import sha256
from audit.errors import AuditError, EnvelopeError, LogCorruptError, LogError, RecordError, TornTailError
from audit.files import O_CLOEXEC, O_NOFOLLOW, fsync_dir, write_new
from audit.keys import SigningKey
from audit.merkle import leaf_hash
from audit.timeutil import now_ts
from audit.version import app_version

LOG_MODE = 0o600


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


@dataclass
class _Request:
    key: SigningKey
    body: dict[str, Any]            # the record without its header
    done: bool = False
    result: AppendedRecord | None = None
    error: BaseException | None = None
    taken: bool = field(default=False)


def full_fsync(fd: int) -> None:
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


def parse_record_line(line: bytes) -> tuple[bytes, dict[str, Any]]:
    """(payload bytes, record) of a complete line, for the writer's own checks.

    Does not verify the signature (the writer holds no trusted-keys file); raises EnvelopeError
    or record.PayloadError (both AuditError)."""
    payload, keyid, _sig = envelope.parse(line, envelope.RECORD_TYPE)
    rec = record.parse_payload(payload)
    if rec["kid"] != keyid:
        raise EnvelopeError("payload kid differs from envelope keyid")
    return payload, rec


def encode_record(key: SigningKey, payload: dict[str, Any]) -> tuple[bytes, bytes]:
    """(payload bytes, envelope line) of a record, or RecordError naming what is wrong.

    The bytes are checked with the verifier's own ``record.parse_payload`` (canonical form and the
    strict schema) before they are signed: the writer never writes what the verifier would refuse."""
    ordered = dict(sorted(payload.items()))
    try:
        data = canonical.dumps_ordered(ordered)
        data.decode("utf-8")
    except Exception:  # e.g. a lone surrogate: name the field
        try:
            canonical.check(ordered)
        except AuditError as exc:
            raise RecordError(f"the record cannot be written as canonical JSON: {exc.message}") from None
        raise RecordError("the record cannot be written as canonical JSON") from None
    if record.fast_check(data) is None:
        try:
            record.strict_parse(data)
        except AuditError as exc:
            raise RecordError(f"the record is invalid: {exc.message}") from None
    line = envelope.make_line(data, envelope.RECORD_TYPE, key)
    if len(line) > envelope.MAX_LINE:
        raise RecordError(f"the record would be {len(line)} bytes, more than the {envelope.MAX_LINE} a log line may "
                          f"hold (the explanation texts are too long); nothing was written")
    return data, line


class AuditLogWriter:
    """Appends records to one log file. Keep one per session (the tail is cached between
    appends and re-read whenever another process has appended); ``close()`` when done. Safe to
    share between threads (their appends are group-committed)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._fd: int | None = None
        self._tail: _Tail | None = None
        self._lock = threading.Lock()          # the file, the fd and the tail cache
        self._cv = threading.Condition()       # the queue of pending appends
        self._pending: list[_Request] = []
        self._leader = False

    # -- file handling ----------------------------------------------------------------------
    def _unsafe(self, why: str) -> LogError:
        return LogError(f"refusing to write audit log {self.path}: {why}", Code.LOG_FILE_UNSAFE)

    def _open(self) -> int:
        if self._fd is not None:
            try:
                cur = os.lstat(self.path)
                mine = os.fstat(self._fd)
                if (cur.st_dev, cur.st_ino) == (mine.st_dev, mine.st_ino):
                    return self._fd
            except FileNotFoundError:
                pass
            self.close()  # the file was moved or replaced: follow the path
        parent = self.path.parent
        flags = os.O_RDWR | os.O_APPEND | O_CLOEXEC | O_NOFOLLOW | os.O_NONBLOCK
        try:
            parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            try:
                fd = os.open(self.path, flags | os.O_CREAT | os.O_EXCL, LOG_MODE)
                os.fchmod(fd, LOG_MODE)  # exactly 0600, whatever the umask
                fsync_dir(parent)
            except FileExistsError:
                fd = os.open(self.path, flags)
        except OSError as exc:
            if exc.errno == errno.ELOOP or self.path.is_symlink():
                raise self._unsafe("it is a symbolic link (a log is written only to a regular file it names "
                                   "directly)") from None
            raise LogError(f"cannot open audit log {self.path}: {exc.strerror or exc}") from None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                kind = "a FIFO" if stat.S_ISFIFO(st.st_mode) else "not a regular file"
                raise self._unsafe(f"it is {kind}")
            if stat.S_IMODE(st.st_mode) != LOG_MODE:
                raise self._unsafe(f"its mode is {stat.S_IMODE(st.st_mode):04o}, not 0600 (the log holds personal data); "
                                   f"check who could read or change it, then `chmod 600 {self.path}`")
            os.set_blocking(fd, True)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        self._tail = None
        return fd

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
            self._tail = None

    def __enter__(self) -> AuditLogWriter:
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
        except AuditError as exc:
            raise LogCorruptError(f"the last record of {self.path} (at offset {start}) is not a well-formed record "
                                  f"({exc.message}); nothing was appended. Run `deelwijzer audit verify {self.path}`; "
                                  f"if only that last line is damaged, `deelwijzer audit repair {self.path}` sets it "
                                  f"aside") from None
        self._tail = _Tail(ino, size, rec["seq"], leaf_hash(payload), rec["log_id"])
        return self._tail

    # -- appending --------------------------------------------------------------------------
    @staticmethod
    def _header(key: SigningKey, log_id: str, seq: int, prev: bytes | None) -> dict[str, Any]:
        return {
            "app": {"name": record.APP_NAME, "version": app_version()}, "kid": key.key_id, "log_id": log_id,
            "prev": prev.hex() if prev is not None else record.GENESIS_PREV, "record_id": str(uuid.uuid4()),
            "seq": seq, "ts": now_ts(), "v": record.SCHEMA_VERSION,
        }

    def _commit_locked(self, fd: int, batch: list[_Request]) -> list[AppendedRecord | None]:
        """Steps 4-6 for a batch: one write, one fsync. A request whose record is invalid gets its
        RecordError and is left out; the others are written."""
        st = os.fstat(fd)
        tail = self._read_tail(fd, st)
        size = st.st_size
        out: list[bytes] = []
        if tail is None:
            log_id = str(uuid.uuid4())
            g_body, g_line = encode_record(batch[0].key, {**self._header(batch[0].key, log_id, 0, None),
                                                          "type": "genesis"})
            seq, prev = 0, leaf_hash(g_body)
        else:
            log_id, seq, prev = tail.log_id, tail.seq, tail.leaf
        done: list[AppendedRecord | None] = []
        for req in batch:
            header = self._header(req.key, log_id, seq + 1, prev)
            try:
                body, line = encode_record(req.key, {**req.body, **header})
            except RecordError as exc:
                req.error = exc
                done.append(None)
                continue
            seq += 1
            out.append(line)
            prev = leaf_hash(body)
            done.append(AppendedRecord(header["record_id"], seq, seq + 1, log_id, prev.hex(), header["ts"]))
        if not out:
            return done
        if tail is None:
            out.insert(0, g_line)
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
            full_fsync(fd)
        except OSError as exc:
            self._tail = None
            raise LogError(f"cannot flush audit log {self.path} to disk: {exc.strerror or exc}; "
                           f"the record may not be durable") from None
        self._tail = _Tail((st.st_dev, st.st_ino), size + len(data), seq, prev, log_id)
        return done

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

    def _submit(self, key: SigningKey, body: dict[str, Any]) -> AppendedRecord:
        """Queue one append; the first waiting thread commits everything queued (group commit)."""
        req = _Request(key, body)
        with self._cv:
            self._pending.append(req)
            while not req.done and (self._leader or req.taken):
                self._cv.wait()
            if req.done:
                return self._outcome(req)
            self._leader = True
            batch, self._pending = self._pending, []
            for r in batch:
                r.taken = True
        try:
            results = self._locked(lambda fd: self._commit_locked(fd, batch))
            for r, res in zip(batch, results):
                if res is not None:
                    r.result = res
        except BaseException as exc:  # every caller in the batch learns that nothing was recorded
            for r in batch:
                r.error = exc
        finally:
            with self._cv:
                for r in batch:
                    r.done = True
                self._leader = False
                self._cv.notify_all()
        return self._outcome(req)

    @staticmethod
    def _outcome(req: _Request) -> AppendedRecord:
        if req.error is not None:
            raise req.error
        assert req.result is not None
        return req.result

    def append_decision(self, key: SigningKey, *, decision: Any, answers: dict[str, Any], actor: dict[str, Any],
                        case_ref_source: str, weighing: str | None = None) -> AppendedRecord:
        """Append one decision record. ``decision`` is ``Decision.to_json(lang="nl")`` (or the
        Decision itself: then its Dutch JSON is recorded, so that replay is deterministic).
        ``weighing``, the professional's own weighing (personal data, kept in the dossier
        document), is recorded only as its keyed hash ``weighing_hash``."""
        if hasattr(decision, "to_json"):
            decision = decision.to_json(lang="nl")
        body = {"type": "decision", "actor": record.actor_fields(actor), "case_ref": key.case_ref(case_ref_source),
                "pseudonym_key_id": key.pseudonym_key_id, **record.decision_fields(decision, answers)}
        if weighing is not None and weighing.strip():
            body["weighing_hash"] = key.weighing_hash(weighing)
        return self._submit(key, body)

    # -- repair -----------------------------------------------------------------------------
    def repair(self, key: SigningKey | None = None) -> RepairResult:
        if not self.path.exists() and not self.path.is_symlink():
            raise LogError(f"audit log {self.path} does not exist", Code.INVALID_ARGUMENT)
        result: RepairResult = self._locked(lambda fd: self._repair_locked(fd, key))
        return result

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
            except AuditError:
                fragment = os.pread(fd, size - start, start)
                return self._set_aside(fd, start, fragment, sha256(fragment).hex(), key)
        start = _last_line_start(fd, size)
        fragment = os.pread(fd, size - start, start)
        digest = sha256(fragment).hex()
        if self._is_whole_next_record(fd, start, fragment):
            if os.write(fd, b"\n") != 1:
                raise LogError(f"cannot write to audit log {self.path}")
            full_fsync(fd)
            self._tail = None
            return RepairResult(True, start, len(fragment), digest, None, True)
        return self._set_aside(fd, start, fragment, digest, key)

    def _set_aside(self, fd: int, start: int, fragment: bytes, digest: str, key: SigningKey | None) -> RepairResult:
        side = self.path.with_name(f"{self.path.name}.torn-{start}-{digest[:16]}")
        try:
            write_new(side, fragment, LOG_MODE)
        except FileExistsError:
            if side.is_symlink() or side.read_bytes() != fragment:
                raise LogError(f"side file {side} exists with other content; move it away and run repair again") from None
        except OSError as exc:
            raise LogError(f"cannot write side file {side}: {exc.strerror or exc}; the log was not changed") from None
        fsync_dir(side.parent)
        os.ftruncate(fd, start)
        full_fsync(fd)
        self._tail = None
        rec = None
        if key is not None and start > 0:
            torn = {"length": len(fragment), "offset": start, "sha256": digest, "side_file": side.name}
            req = _Request(key, {"type": "recovery", "torn": torn})
            rec = self._commit_locked(fd, [req])[0]
            if req.error is not None:
                raise req.error
        return RepairResult(True, start, len(fragment), digest, side, False, rec)

    def _is_whole_next_record(self, fd: int, start: int, fragment: bytes) -> bool:
        """True when ``fragment`` is a complete record that continues the chain, missing only "\\n"."""
        try:
            payload, rec = parse_record_line(fragment)
        except AuditError:
            return False
        if start == 0:
            return bool(rec["type"] == "genesis" and rec["seq"] == 0 and rec["prev"] == record.GENESIS_PREV)
        prev_start = _last_line_start(fd, start - 1)
        try:
            prev_payload, prev = parse_record_line(os.pread(fd, start - 1 - prev_start, prev_start))
        except AuditError:
            return False
        return bool(rec["seq"] == prev["seq"] + 1 and rec["prev"] == leaf_hash(prev_payload).hex()
                    and rec["log_id"] == prev["log_id"])


def record_decision(log_path: Path, key: SigningKey, *, decision: Any, answers: dict[str, Any], actor: dict[str, Any],
                    case_ref_source: str, weighing: str | None = None) -> AppendedRecord:
    """Append one signed decision record (creating the log and its genesis when absent).

    ``decision`` is ``Decision.to_json(lang="nl")`` or the Decision itself (see
    ``AuditLogWriter.append_decision``)."""
    with AuditLogWriter(log_path) as writer:
        return writer.append_decision(key, decision=decision, answers=answers, actor=actor,
                                      case_ref_source=case_ref_source, weighing=weighing)


def repair(log_path: Path, key: SigningKey | None = None) -> RepairResult:
    """Set a torn last line aside (see module doc); never removes a complete record."""
    with AuditLogWriter(log_path) as writer:
        return writer.repair(key)
