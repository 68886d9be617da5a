"""Signed checkpoints: (log id, size, Merkle root, head) signed by a key of the log.

A checkpoint is a DSSE envelope line with payloadType ``CHECKPOINT_TYPE`` (so it can never be
passed off as a record) and the canonical payload (version 2)::

    {"head":"<hex leaf hash of record N-1>","kid":..,"log_id":..,
     "prev":null | {"checkpoint":"<hex SHA-256 of the previous checkpoint's payload>","root":..,"size":M},
     "root":"<hex MTH of records 0..N-1>","size":N,"ts":..,"type":"checkpoint","v":2}

``prev`` names the previous checkpoint of this log that this one extends (RFC 9162 section
2.1.4 consistency proofs show that it does: ``audit.consistency``). Version 1 checkpoints
(no ``prev``, written by earlier versions) are still read.

``write_checkpoint`` appends one to the log's side file ``<log stem>.checkpoints.jsonl`` (and,
with ``export_to``, to a file for the auditor to keep elsewhere). It refuses to sign when the
log contradicts any checkpoint already in the side file: a log never signs two histories.
Only checkpoints held outside the machine anchor the log: a checkpoint next to the log can be
deleted along with the tail it covers.

Checkpoints of a log are signed by keys with the role ``record`` (the log's own writers) or
``checkpoint`` (organisation-wide tree heads).
"""
from __future__ import annotations

import fcntl
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from audit import canonical, envelope, record
from audit.codes import Code
from audit.digest import sha256
from audit.errors import CanonicalError, AuditError, CheckpointError, EnvelopeError, LogError
from audit.files import O_CLOEXEC, O_NOFOLLOW, fsync_dir
from audit.keys import SigningKey
from audit.log import full_fsync, parse_record_line
from audit.merkle import CompactRange, leaf_hash
from audit.record import Hex64, KeyId, Ts, Uuid4
from audit.signed import open_envelope
from audit.timeutil import now_ts
from audit.trust import TrustStore, short

CHECKPOINT_ROLES = ("record", "checkpoint")
Size = Annotated[int, Field(ge=1, le=2**53 - 1)]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class PrevRef(_Strict):
    checkpoint: Hex64   # SHA-256 of the previous checkpoint's payload bytes
    root: Hex64
    size: Size


class CheckpointV1(_Strict):
    head: Hex64
    kid: KeyId
    log_id: Uuid4
    root: Hex64
    size: Size
    ts: Ts
    type: Literal["checkpoint"]
    v: Literal[1]

    @property
    def prev(self) -> PrevRef | None:
        return None


class CheckpointV2(_Strict):
    head: Hex64
    kid: KeyId
    log_id: Uuid4
    prev: PrevRef | None
    root: Hex64
    size: Size
    ts: Ts
    type: Literal["checkpoint"]
    v: Literal[2]


CheckpointPayload = CheckpointV1 | CheckpointV2
_ADAPTER: TypeAdapter[CheckpointPayload] = TypeAdapter(
    Annotated[CheckpointV1 | CheckpointV2, Field(discriminator="v")])


@dataclass(frozen=True)
class Checkpoint:
    payload: CheckpointPayload
    line: bytes          # the envelope line, with "\n"
    source: str          # "<file>:<line>" it was read from, for messages
    digest: str          # hex SHA-256 of the payload bytes: how the next checkpoint names this one


def checkpoint_path(log_path: Path) -> Path:
    """The side file next to the log: ``log.jsonl`` -> ``log.checkpoints.jsonl``."""
    log_path = Path(log_path)
    return log_path.with_name(log_path.stem + ".checkpoints.jsonl")


T = TypeVar("T")


def signed_payload(payload: bytes, source: str, validate: Callable[[Any], T], what: str = "checkpoint") -> T:
    """A signed checkpoint's payload: canonical JSON that ``validate`` accepts (a log's or the
    organisation's checkpoint model). CheckpointError naming ``source`` and ``what`` otherwise."""
    try:
        obj = canonical.loads(payload)
        if not canonical.is_canonical(payload, obj):
            raise CheckpointError(f"{source}: signed {what} payload is not canonical JSON", Code.NOT_CANONICAL)
        return validate(obj)
    except CanonicalError as exc:
        raise CheckpointError(f"{source}: malformed {what}: {exc.message}") from None
    except ValidationError as exc:
        raise CheckpointError(f"{source}: malformed {what}: {record.validation_message(exc)}") from None


def _payload(payload: bytes, source: str) -> CheckpointPayload:
    return signed_payload(payload, source, _ADAPTER.validate_python)


def parse_checkpoint_line(line: bytes, trust: TrustStore, source: str) -> Checkpoint:
    """Check one checkpoint line against the trust store; raises CheckpointError whose code names
    the check that failed (BAD_CHECKPOINT, NOT_CANONICAL, UNTRUSTED_KEY, BAD_SIGNATURE,
    KEY_ROLE_NOT_ALLOWED, KEY_NOT_VALID_AT_TIME)."""
    body = line[:-1] if line.endswith(b"\n") else line
    try:
        opened = open_envelope(body, envelope.CHECKPOINT_TYPE, trust, CHECKPOINT_ROLES)
    except EnvelopeError as exc:
        code = Code.BAD_CHECKPOINT if exc.code is Code.MALFORMED_RECORD else exc.code
        raise CheckpointError(f"{source}: {exc.message}", code) from None
    cp = _payload(opened.payload, source)
    if cp.kid != opened.key.key_id:
        raise CheckpointError(f"{source}: payload names key {short(cp.kid)} but is signed by "
                              f"{short(opened.key.key_id)}")
    why = trust.invalid_at(cp.kid, cp.ts)
    if why:
        raise CheckpointError(f"{source}: {why}", Code.KEY_NOT_VALID_AT_TIME)
    return Checkpoint(cp, body + b"\n", source, sha256(opened.payload).hex())


def parse_unverified(line: bytes, source: str) -> Checkpoint:
    """A checkpoint's content without checking its signature: for the writer and the prover,
    which hold no trust store (what they produce is verified by whoever receives it)."""
    body = line[:-1] if line.endswith(b"\n") else line
    try:
        payload, _kid, _sig = envelope.parse(body, envelope.CHECKPOINT_TYPE)
    except EnvelopeError as exc:
        raise CheckpointError(f"{source}: {exc.message}") from None
    return Checkpoint(_payload(payload, source), body + b"\n", source, sha256(payload).hex())


def _lines(path: Path) -> Iterator[tuple[int, bytes, bool]]:
    """(line number, line, complete) of a checkpoint file."""
    data = Path(path).read_bytes()
    lines = data.split(b"\n")
    last = lines.pop()
    for i, line in enumerate(lines, 1):
        yield i, line, True
    if last:
        yield len(lines) + 1, last, False


def read_checkpoints(path: Path, trust: TrustStore) -> tuple[list[Checkpoint], list[tuple[Code, str]]]:
    """All checkpoints in a file: (valid ones, [(code, problem)])."""
    good: list[Checkpoint] = []
    bad: list[tuple[Code, str]] = []
    try:
        entries = list(_lines(path))
    except OSError as exc:
        return [], [(Code.BAD_CHECKPOINT, f"{path}: cannot read checkpoint file: {exc.strerror or exc}")]
    for i, line, complete in entries:
        if not complete:
            bad.append((Code.BAD_CHECKPOINT, f"{path}:{i}: incomplete last line (interrupted write)"))
            continue
        try:
            good.append(parse_checkpoint_line(line, trust, f"{path}:{i}"))
        except CheckpointError as exc:
            bad.append((exc.code, exc.message))
    if not good and not bad:
        bad.append((Code.BAD_CHECKPOINT, f"{path}: holds no checkpoint"))
    return good, bad


def last_checkpoint(path: Path, trust: TrustStore | None = None) -> Checkpoint:
    """The last checkpoint in a checkpoint file (what a command means by "the checkpoint in
    FILE"); verified against ``trust`` when given. Raises CheckpointError."""
    try:
        entries = [(i, line) for i, line, complete in _lines(path) if complete and line.strip()]
    except OSError as exc:
        raise CheckpointError(f"cannot read checkpoint file {path}: {exc.strerror or exc}",
                              Code.INVALID_ARGUMENT) from None
    if not entries:
        raise CheckpointError(f"{path} holds no checkpoint")
    i, line = entries[-1]
    source = f"{path}:{i}"
    return parse_checkpoint_line(line, trust, source) if trust is not None else parse_unverified(line, source)


def log_leaves(log_path: Path) -> Iterator[tuple[bytes, dict[str, Any]]]:
    """(leaf hash, record) of each complete record, checking the chain structure (not the
    signatures), so that nothing is signed or proved over a visibly broken log."""
    log_id: str | None = None
    prev = record.GENESIS_PREV
    with open(log_path, "rb") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_SH)
        for n, line in enumerate(fh, 1):
            if not line.endswith(b"\n"):
                raise CheckpointError(f"{log_path} ends in an incomplete record (line {n}); run "
                                      f"`deelwijzer audit repair {log_path}` first", Code.TORN_TAIL)
            try:
                payload, rec = parse_record_line(line[:-1])
            except AuditError:
                raise CheckpointError(f"{log_path}:{n}: not a well-formed record; run `deelwijzer audit verify` "
                                      f"- nothing is signed over a damaged log", Code.MALFORMED_RECORD) from None
            if rec["seq"] != n - 1 or rec["prev"] != prev or (log_id is not None and rec["log_id"] != log_id):
                raise CheckpointError(f"{log_path}:{n}: the hash chain is broken here; run `deelwijzer audit verify` "
                                      f"- nothing is signed over a damaged log", Code.CHAIN_BROKEN)
            log_id = rec["log_id"]
            leaf = leaf_hash(payload)
            prev = leaf.hex()
            yield leaf, rec


@dataclass(frozen=True)
class Tree:
    log_id: str
    size: int
    root: bytes
    head: bytes
    roots: dict[int, bytes]   # root at each size asked for (that the log reaches)


def compute_tree(log_path: Path, sizes: set[int] | frozenset[int] = frozenset()) -> Tree:
    """The log's tree, and its roots at ``sizes``."""
    cr = CompactRange()
    log_id, head = None, b""
    roots: dict[int, bytes] = {}
    for leaf, rec in log_leaves(log_path):
        log_id = rec["log_id"]
        head = leaf
        cr.append(leaf)
        if cr.size in sizes:
            roots[cr.size] = cr.root()
    if log_id is None:
        raise CheckpointError(f"{log_path} holds no records yet; nothing to checkpoint")
    return Tree(log_id, cr.size, cr.root(), head, roots)


def _append_line(path: Path, line: bytes) -> None:
    created = not path.exists()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | O_CLOEXEC | O_NOFOLLOW | os.O_NONBLOCK, 0o644)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise CheckpointError(f"refusing to write to {path}: it is not a regular file", Code.LOG_FILE_UNSAFE)
        os.set_blocking(fd, True)
        fcntl.flock(fd, fcntl.LOCK_EX)
        if os.write(fd, line) != len(line):
            raise CheckpointError(f"short write to {path}", Code.LOG_IO_ERROR)
        full_fsync(fd)
    finally:
        os.close(fd)
    if created:
        fsync_dir(path.parent)


def write_checkpoint(log_path: Path, key: SigningKey, export_to: Path | None = None) -> Checkpoint:
    """Sign a checkpoint over the log as it is now, naming the side file's last checkpoint as the
    one it extends; append it to the side file (and ``export_to``)."""
    log_path = Path(log_path)
    if not log_path.exists():
        raise CheckpointError(f"audit log {log_path} does not exist", Code.INVALID_ARGUMENT)
    side = checkpoint_path(log_path)
    earlier: list[Checkpoint] = []
    if side.exists():
        for i, line, complete in _lines(side):
            if complete and line.strip():
                earlier.append(parse_unverified(line, f"{side}:{i}"))
    try:
        tree = compute_tree(log_path, {cp.payload.size for cp in earlier})
    except OSError as exc:
        raise LogError(f"cannot read audit log {log_path}: {exc.strerror or exc}") from None
    mine = [cp for cp in earlier if cp.payload.log_id == tree.log_id]
    for cp in mine:
        p = cp.payload
        if p.size > tree.size or tree.roots.get(p.size, b"").hex() != p.root:
            what = "now has fewer records" if p.size > tree.size else "has another history"
            raise CheckpointError(f"{log_path} {what} than its checkpoint {cp.source} of {p.ts} (size {p.size}): "
                                  f"records were removed or changed. Run `deelwijzer audit verify`; no checkpoint "
                                  f"is signed over a log that contradicts an earlier one", Code.CHECKPOINT_MISMATCH)
    prev = None
    if mine:
        last = mine[-1]
        prev = {"checkpoint": last.digest, "root": last.payload.root, "size": last.payload.size}
    payload = {"head": tree.head.hex(), "kid": key.key_id, "log_id": tree.log_id, "prev": prev,
               "root": tree.root.hex(), "size": tree.size, "ts": now_ts(), "type": "checkpoint", "v": 2}
    data = canonical.dumps(payload)
    cp_payload = _ADAPTER.validate_python(payload)
    line = envelope.make_line(data, envelope.CHECKPOINT_TYPE, key)
    try:
        _append_line(side, line)
        if export_to is not None:
            _append_line(Path(export_to), line)
    except OSError as exc:
        raise CheckpointError(f"cannot write checkpoint: {exc.strerror or exc}", Code.LOG_IO_ERROR) from None
    return Checkpoint(cp_payload, line, str(side), sha256(data).hex())
