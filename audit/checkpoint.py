"""Signed checkpoints: (log id, size, Merkle root, head) signed by the installation's key.

A checkpoint is a DSSE envelope line with payloadType ``CHECKPOINT_TYPE`` (so it can never be
passed off as a record) and the canonical payload::

    {"v":1,"type":"checkpoint","log_id":..,"size":N,"root":"<hex MTH of records 0..N-1>",
     "head":"<hex leaf hash of record N-1>","ts":..,"kid":..}

``write_checkpoint`` appends one to the log's side file ``<log stem>.checkpoints.jsonl`` (and,
with ``export_to``, to a file for the auditor to keep elsewhere). Only checkpoints held
outside the machine anchor the log: a checkpoint next to the log can be deleted along with the
tail it covers. The verifier therefore treats the side file as a consistency check and
auditor-held files (``--checkpoint``) as anchors.
"""
from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from cryptography.exceptions import InvalidSignature
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from audit import canonical, envelope, record
from audit.errors import CheckpointError, LogError
from audit.files import fsync_dir
from audit.keys import SigningKey
from audit.log import _full_fsync, parse_record_line
from audit.merkle import CompactRange, leaf_hash
from audit.record import Hex64, KeyId, Ts, Uuid4
from audit.timeutil import now_ts
from audit.trust import TrustStore, short


class CheckpointPayload(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)
    v: Literal[1]
    type: Literal["checkpoint"]
    log_id: Uuid4
    size: Annotated[int, Field(ge=1, le=2**53 - 1)]
    root: Hex64
    head: Hex64
    ts: Ts
    kid: KeyId


@dataclass(frozen=True)
class Checkpoint:
    payload: CheckpointPayload
    line: bytes          # the envelope line, with "\n"
    source: str          # "<file>:<line>" it was read from, for messages


def checkpoint_path(log_path: Path) -> Path:
    """The side file next to the log: ``log.jsonl`` -> ``log.checkpoints.jsonl``."""
    log_path = Path(log_path)
    return log_path.with_name(log_path.stem + ".checkpoints.jsonl")


def parse_checkpoint_line(line: bytes, trust: TrustStore, source: str) -> Checkpoint:
    """Check one checkpoint line against the trusted keys; raises CheckpointError(message)."""
    body = line[:-1] if line.endswith(b"\n") else line
    try:
        payload, keyid, sig = envelope.parse(body, envelope.CHECKPOINT_TYPE)
    except envelope.EnvelopeError as exc:
        raise CheckpointError(f"{source}: {exc.message}") from None
    entry = trust.keys.get(keyid)
    if entry is None:
        raise CheckpointError(f"{source}: signed by key {short(keyid)} which is not in the trusted-keys file")
    try:
        entry.public_key.verify(sig, envelope.pae(envelope.CHECKPOINT_TYPE, payload))
    except InvalidSignature:
        raise CheckpointError(f"{source}: signature does not verify with key {short(keyid)}") from None
    try:
        obj = canonical.loads_fast(payload)
        if not canonical.is_canonical(payload, obj):
            raise CheckpointError(f"{source}: signed payload is not canonical JSON")
        cp = CheckpointPayload.model_validate(obj)
    except (ValueError, ValidationError) as exc:
        msg = record.validation_message(exc) if isinstance(exc, ValidationError) else str(exc)
        raise CheckpointError(f"{source}: malformed checkpoint: {msg}") from None
    if cp.kid != keyid:
        raise CheckpointError(f"{source}: payload names key {short(cp.kid)} but is signed by {short(keyid)}")
    why = trust.invalid_at(keyid, cp.ts)
    if why:
        raise CheckpointError(f"{source}: {why}")
    return Checkpoint(cp, body + b"\n", source)


def read_checkpoints(path: Path, trust: TrustStore) -> tuple[list[Checkpoint], list[str]]:
    """All checkpoints in a file: (valid ones, problems)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return [], [f"{path}: cannot read checkpoint file: {exc.strerror or exc}"]
    good, bad = [], []
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    elif lines:
        bad.append(f"{path}:{len(lines)}: incomplete last line (interrupted write)")
        lines.pop()
    for i, line in enumerate(lines, 1):
        try:
            good.append(parse_checkpoint_line(line, trust, f"{path}:{i}"))
        except CheckpointError as exc:
            bad.append(str(exc))
    if not good and not bad:
        bad.append(f"{path}: holds no checkpoint")
    return good, bad


def compute_tree(log_path: Path) -> tuple[str, int, bytes, bytes]:
    """(log_id, size, root, head) of the complete records; checks the chain structure (not the
    signatures) so that a checkpoint is never signed over a visibly broken log."""
    cr = CompactRange()
    log_id, prev, head = None, record.GENESIS_PREV, b""
    with open(log_path, "rb") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_SH)
        for n, line in enumerate(fh, 1):
            if not line.endswith(b"\n"):
                raise CheckpointError(f"{log_path} ends in an incomplete record (line {n}); run "
                                      f"`deelwijzer audit repair {log_path}` first")
            try:
                payload, rec = parse_record_line(line[:-1])
            except (ValueError, ValidationError):
                raise CheckpointError(f"{log_path}:{n}: not a well-formed record; run `deelwijzer audit verify` "
                                      f"- no checkpoint is signed over a damaged log") from None
            if rec.seq != n - 1 or rec.prev != prev or (log_id is not None and rec.log_id != log_id):
                raise CheckpointError(f"{log_path}:{n}: the hash chain is broken here; run `deelwijzer audit verify` "
                                      f"- no checkpoint is signed over a damaged log")
            log_id = rec.log_id
            head = leaf_hash(payload)
            prev = head.hex()
            cr.append(head)
    if log_id is None:
        raise CheckpointError(f"{log_path} holds no records yet; nothing to checkpoint")
    return log_id, cr.size, cr.root(), head


def _append_line(path: Path, line: bytes) -> None:
    created = not path.exists()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if os.write(fd, line) != len(line):
            raise CheckpointError(f"short write to {path}")
        _full_fsync(fd)
    finally:
        os.close(fd)
    if created:
        fsync_dir(path.parent)


def write_checkpoint(log_path: Path, key: SigningKey, export_to: Path | None = None) -> Checkpoint:
    """Sign a checkpoint over the log as it is now; append it to the side file (and ``export_to``)."""
    log_path = Path(log_path)
    if not log_path.exists():
        raise CheckpointError(f"audit log {log_path} does not exist")
    try:
        log_id, size, root, head = compute_tree(log_path)
    except OSError as exc:
        raise LogError(f"cannot read audit log {log_path}: {exc.strerror or exc}") from None
    payload = {"v": 1, "type": "checkpoint", "log_id": log_id, "size": size, "root": root.hex(),
               "head": head.hex(), "ts": now_ts(), "kid": key.key_id}
    cp = CheckpointPayload.model_validate(payload)
    line = envelope.make_line(canonical.dumps(payload), envelope.CHECKPOINT_TYPE, key)
    try:
        _append_line(checkpoint_path(log_path), line)
        if export_to is not None:
            _append_line(Path(export_to), line)
    except OSError as exc:
        raise CheckpointError(f"cannot write checkpoint: {exc.strerror or exc}") from None
    return Checkpoint(cp, line, str(checkpoint_path(log_path)))
