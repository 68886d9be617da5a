"""Inclusion proofs: show one record to a court or a client without the rest of the log.

A proof bundle (JSON) holds the record's line, its index, the RFC 6962 audit path and a signed
checkpoint whose tree contains the record. Checking it needs only the bundle and the
trusted-keys file: the record's signature and key validity, the checkpoint's signature, the
same log id on both (and the pinned log, if any), ``seq == index``, and the audit path from
the record's leaf hash to the checkpoint's root (RFC 9162 2.1.3.2). Because every record holds
a random record_id, the path's hashes reveal nothing about the other records.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from pydantic import ValidationError

from audit import canonical, envelope, record
from audit import trust as trustmod
from audit.checkpoint import CheckpointPayload, checkpoint_path, parse_checkpoint_line
from audit.errors import CheckpointError, ProofError
from audit.merkle import CompactRange, inclusion_proof, leaf_hash, verify_inclusion

BUNDLE_TYPE = "deelwijzer-inclusion-proof"


def _leaves(log_path: Path):
    with open(log_path, "rb") as fh:
        for line in fh:
            if not line.endswith(b"\n"):
                return
            try:
                payload, _kid, _sig = envelope.parse(line[:-1], envelope.RECORD_TYPE)
            except envelope.EnvelopeError:
                yield leaf_hash(line[:-1])
                continue
            yield leaf_hash(payload)


def _find(log_path: Path, record_id: str) -> tuple[int, bytes]:
    with open(log_path, "rb") as fh:
        for index, line in enumerate(fh):
            try:
                payload, _kid, _sig = envelope.parse(line.rstrip(b"\n"), envelope.RECORD_TYPE)
                obj = canonical.loads_fast(payload)
            except (ValueError, RecursionError):
                continue
            if isinstance(obj, dict) and obj.get("record_id") == record_id:
                return index, line.rstrip(b"\n")
    raise ProofError(f"no record with id {record_id} in {log_path}")


def _checkpoint_payload(line: bytes, source: str) -> CheckpointPayload:
    try:
        payload, _kid, _sig = envelope.parse(line.rstrip(b"\n"), envelope.CHECKPOINT_TYPE)
        return CheckpointPayload.model_validate(canonical.loads(payload))
    except (ValueError, ValidationError) as exc:
        raise ProofError(f"{source} is not a checkpoint: {exc}") from None


def prove(log_path: Path, record_id: str, checkpoint: Path | None = None) -> dict[str, Any]:
    """Build a proof bundle for ``record_id`` using the newest checkpoint that covers it (from
    ``checkpoint`` if given, else from the log's checkpoint side file)."""
    log_path = Path(log_path)
    index, line = _find(log_path, record_id)
    source = Path(checkpoint) if checkpoint is not None else checkpoint_path(log_path)
    try:
        cp_lines = [ln for ln in Path(source).read_bytes().split(b"\n") if ln.strip()]
    except OSError:
        raise ProofError(f"no checkpoint file {source}; sign one with `deelwijzer audit checkpoint {log_path} --key KEY`") from None
    best = None
    for ln in cp_lines:
        p = _checkpoint_payload(ln, str(source))
        if p.size > index and (best is None or p.size > best[0].size):
            best = (p, ln)
    if best is None:
        raise ProofError(f"no checkpoint in {source} covers record {record_id} (line {index + 1}); sign a new one with "
                         f"`deelwijzer audit checkpoint {log_path} --key KEY`")
    cp, cp_line = best
    cr = CompactRange()
    for leaf in _leaves(log_path):
        if cr.size == cp.size:
            break
        cr.append(leaf)
    if cr.size < cp.size or cr.root().hex() != cp.root:
        raise ProofError(f"the log no longer matches its checkpoint of {cp.ts} (size {cp.size}); run "
                         f"`deelwijzer audit verify` - no proof is built from a log that contradicts its checkpoint")
    path = inclusion_proof(_leaves(log_path), index, cp.size)
    return {"v": 1, "type": BUNDLE_TYPE, "record": line.decode("ascii"), "index": index, "tree_size": cp.size,
            "proof": [h.hex() for h in path], "checkpoint": cp_line.decode("ascii")}


@dataclass(frozen=True)
class ProofReport:
    record: Any           # the validated record
    checkpoint: CheckpointPayload
    index: int


def verify_proof(bundle: dict[str, Any] | Path, trusted_keys: Path | trustmod.TrustStore) -> ProofReport:
    """Check a proof bundle offline; raises ProofError naming what does not hold."""
    if not isinstance(bundle, dict):
        try:
            bundle = json.loads(Path(bundle).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ProofError(f"cannot read proof bundle {bundle}: {exc}") from None
    trust = trusted_keys if isinstance(trusted_keys, trustmod.TrustStore) else trustmod.load(Path(trusted_keys))
    try:
        if set(bundle) != {"v", "type", "record", "index", "tree_size", "proof", "checkpoint"} or bundle["v"] != 1 \
                or bundle["type"] != BUNDLE_TYPE:
            raise ProofError("not a deelwijzer inclusion-proof bundle (unexpected fields or type)")
        index, size = bundle["index"], bundle["tree_size"]
        if type(index) is not int or type(size) is not int or not isinstance(bundle["proof"], list):
            raise ProofError("index, tree_size and proof have the wrong types")
        rec_line = bundle["record"].encode("ascii")
        cp_line = bundle["checkpoint"].encode("ascii")
        path = [bytes.fromhex(h) for h in bundle["proof"]]
        if any(len(h) != 32 for h in path):
            raise ProofError("proof hashes must be 32 bytes")
    except (KeyError, TypeError, AttributeError, UnicodeEncodeError, ValueError) as exc:
        if isinstance(exc, ProofError):
            raise
        raise ProofError(f"malformed proof bundle: {exc}") from None
    try:
        payload, keyid, sig = envelope.parse(rec_line, envelope.RECORD_TYPE)
    except envelope.EnvelopeError as exc:
        raise ProofError(f"record: {exc.code}: {exc.message}") from None
    entry = trust.keys.get(keyid)
    if entry is None:
        raise ProofError(f"record: UNTRUSTED_KEY: signed by {trustmod.short(keyid)}, not in the trusted-keys file")
    try:
        entry.public_key.verify(sig, envelope.pae(envelope.RECORD_TYPE, payload))
    except InvalidSignature:
        raise ProofError("record: BAD_SIGNATURE: the record was changed after signing") from None
    try:
        rec = record.parse_payload(payload)
    except record.PayloadError as exc:
        raise ProofError(f"record: {exc.code}: {exc.message}") from None
    if rec.kid != keyid:
        raise ProofError("record: MALFORMED_RECORD: payload kid differs from the signing key")
    why = trust.invalid_at(keyid, rec.ts)
    if why:
        raise ProofError(f"record: KEY_NOT_VALID_AT_TIME: {why}")
    try:
        cp = parse_checkpoint_line(cp_line, trust, "checkpoint").payload
    except CheckpointError as exc:
        raise ProofError(f"BAD_CHECKPOINT: {exc}") from None
    if cp.log_id != rec.log_id:
        raise ProofError(f"LOG_ID_MISMATCH: the record belongs to log {rec.log_id}, the checkpoint to {cp.log_id}")
    if trust.logs and rec.log_id not in trust.logs:
        raise ProofError(f"LOG_ID_MISMATCH: log {rec.log_id} is not pinned in the trusted-keys file")
    if size != cp.size:
        raise ProofError(f"tree_size {size} differs from the checkpoint's size {cp.size}")
    if rec.seq != index:
        raise ProofError(f"the record has seq {rec.seq} but the proof places it at index {index}")
    if not verify_inclusion(leaf_hash(payload), index, size, path, bytes.fromhex(cp.root)):
        raise ProofError("the audit path does not lead from the record to the checkpoint's root: the record is not "
                         "in the log the checkpoint commits to")
    return ProofReport(rec, cp, index)
