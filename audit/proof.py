"""Inclusion proofs: show one record to a court or a client without the rest of the log.

A proof bundle (JSON) holds the record's line, its index, the RFC 6962 audit path and a signed
checkpoint whose tree contains the record. Checking it needs only the bundle and the
trusted-keys file: the record's signature, key role and validity, the checkpoint's signature
and role, the same log id on both (and the pinned log, if any), ``seq == index``, and the audit
path from the record's leaf hash to the checkpoint's root (RFC 9162 2.1.3.2). Because every
record holds a random record_id, the path's hashes reveal nothing about the other records.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit import canonical, envelope, record
from audit import trust as trustmod
from audit.checkpoint import Checkpoint, CheckpointPayload, checkpoint_path, parse_checkpoint_line, parse_unverified
from audit.codes import Code
from audit.errors import AuditError, CheckpointError, EnvelopeError, ProofError
from audit.merkle import CompactRange, inclusion_proof, leaf_hash, verify_inclusion
from audit.signed import open_envelope
from audit.trust import TrustStore

BUNDLE_TYPE = "deelwijzer-inclusion-proof"
RECORD_ROLES = ("record",)


def _leaves(log_path: Path) -> Iterator[bytes]:
    with open(log_path, "rb") as fh:
        for line in fh:
            if not line.endswith(b"\n"):
                return
            try:
                payload, _kid, _sig = envelope.parse(line[:-1], envelope.RECORD_TYPE)
            except EnvelopeError:
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
    raise ProofError(f"no record with id {record_id} in {log_path}", Code.INVALID_ARGUMENT)


def prove(log_path: Path, record_id: str, checkpoint: Path | None = None) -> dict[str, Any]:
    """Build a proof bundle for ``record_id`` using the newest checkpoint that covers it (from
    ``checkpoint`` if given, else from the log's checkpoint side file)."""
    log_path = Path(log_path)
    index, line = _find(log_path, record_id)
    source = Path(checkpoint) if checkpoint is not None else checkpoint_path(log_path)
    try:
        cp_lines = [ln for ln in Path(source).read_bytes().split(b"\n") if ln.strip()]
    except OSError:
        raise ProofError(f"no checkpoint file {source}; sign one with `deelwijzer audit checkpoint {log_path} --key KEY`",
                         Code.INVALID_ARGUMENT) from None
    best: Checkpoint | None = None
    for n, ln in enumerate(cp_lines, 1):
        try:
            cp = parse_unverified(ln, f"{source}:{n}")
        except CheckpointError as exc:
            raise ProofError(exc.message, exc.code) from None
        if cp.payload.size > index and (best is None or cp.payload.size > best.payload.size):
            best = cp
    if best is None:
        raise ProofError(f"no checkpoint in {source} covers record {record_id} (line {index + 1}); sign a new one with "
                         f"`deelwijzer audit checkpoint {log_path} --key KEY`", Code.INVALID_ARGUMENT)
    cp_payload = best.payload
    cr = CompactRange()
    for leaf in _leaves(log_path):
        if cr.size == cp_payload.size:
            break
        cr.append(leaf)
    if cr.size < cp_payload.size or cr.root().hex() != cp_payload.root:
        raise ProofError(f"the log no longer matches its checkpoint of {cp_payload.ts} (size {cp_payload.size}); run "
                         f"`deelwijzer audit verify` - no proof is built from a log that contradicts its checkpoint",
                         Code.CHECKPOINT_MISMATCH)
    path = inclusion_proof(_leaves(log_path), index, cp_payload.size)
    return {"v": 1, "type": BUNDLE_TYPE, "record": line.decode("ascii"), "index": index, "tree_size": cp_payload.size,
            "proof": [h.hex() for h in path], "checkpoint": best.line.rstrip(b"\n").decode("ascii")}


@dataclass(frozen=True)
class ProofReport:
    record: dict[str, Any]    # the verified record
    checkpoint: CheckpointPayload
    index: int


def open_proof_record(rec_line: bytes, trust: TrustStore) -> tuple[Any, dict[str, Any]]:
    """The record line of an inclusion-proof bundle, opened and checked: signed by a trusted key
    with the role ``record``, its payload a record naming that key, the key valid at its time.
    ProofError otherwise (the file and the organisation store's proofs both use this)."""
    try:
        opened = open_envelope(rec_line, envelope.RECORD_TYPE, trust, RECORD_ROLES)
        rec = record.parse_payload(opened.payload)
    except AuditError as exc:
        raise ProofError(f"record: {exc.message}", exc.code) from None
    if rec["kid"] != opened.key.key_id:
        raise ProofError("record: payload kid differs from the signing key", Code.MALFORMED_RECORD)
    why = trust.invalid_at(opened.key.key_id, rec["ts"])
    if why:
        raise ProofError(f"record: {why}", Code.KEY_NOT_VALID_AT_TIME)
    return opened, rec


def _fields(bundle: dict[str, Any]) -> tuple[int, int, bytes, bytes, list[bytes]]:
    invalid = Code.INCLUSION_PROOF_INVALID
    if set(bundle) != {"v", "type", "record", "index", "tree_size", "proof", "checkpoint"} or bundle["v"] != 1 \
            or bundle["type"] != BUNDLE_TYPE:
        raise ProofError("not a deelwijzer inclusion-proof bundle (unexpected fields or type)", invalid)
    index, size = bundle["index"], bundle["tree_size"]
    if type(index) is not int or type(size) is not int or not isinstance(bundle["proof"], list):
        raise ProofError("index, tree_size and proof have the wrong types", invalid)
    try:
        rec_line = bundle["record"].encode("ascii")
        cp_line = bundle["checkpoint"].encode("ascii")
        path = [bytes.fromhex(h) for h in bundle["proof"]]
    except (TypeError, AttributeError, UnicodeEncodeError, ValueError) as exc:
        raise ProofError(f"malformed proof bundle: {exc}", invalid) from None
    if any(len(h) != 32 for h in path):
        raise ProofError("proof hashes must be 32 bytes", invalid)
    return index, size, rec_line, cp_line, path


def verify_proof(bundle: dict[str, Any] | Path, trusted_keys: Path | TrustStore) -> ProofReport:
    """Check a proof bundle offline; raises ProofError whose code names what does not hold."""
    if not isinstance(bundle, dict):
        try:
            bundle = json.loads(Path(bundle).read_text(encoding="utf-8"))
        except OSError as exc:
            raise ProofError(f"cannot read proof bundle {bundle}: {exc.strerror or exc}", Code.INVALID_ARGUMENT) from None
        except ValueError as exc:
            raise ProofError(f"proof bundle {bundle} is not JSON: {exc}", Code.INCLUSION_PROOF_INVALID) from None
        if not isinstance(bundle, dict):
            raise ProofError("not a deelwijzer inclusion-proof bundle", Code.INCLUSION_PROOF_INVALID)
    trust = trusted_keys if isinstance(trusted_keys, TrustStore) else trustmod.load(Path(trusted_keys))
    index, size, rec_line, cp_line, path = _fields(bundle)
    opened, rec = open_proof_record(rec_line, trust)
    try:
        cp = parse_checkpoint_line(cp_line, trust, "checkpoint").payload
    except CheckpointError as exc:
        raise ProofError(exc.message, exc.code) from None
    if cp.log_id != rec["log_id"]:
        raise ProofError(f"the record belongs to log {rec['log_id']}, the checkpoint to {cp.log_id}",
                         Code.LOG_ID_MISMATCH)
    if trust.logs and rec["log_id"] not in trust.logs:
        raise ProofError(f"log {rec['log_id']} is not pinned in the trusted-keys file", Code.LOG_ID_MISMATCH)
    if size != cp.size:
        raise ProofError(f"tree_size {size} differs from the checkpoint's size {cp.size}", Code.INCLUSION_PROOF_INVALID)
    if rec["seq"] != index:
        raise ProofError(f"the record has seq {rec['seq']} but the proof places it at index {index}",
                         Code.INCLUSION_PROOF_INVALID)
    if not verify_inclusion(leaf_hash(opened.payload), index, size, path, bytes.fromhex(cp.root)):
        raise ProofError("the audit path does not lead from the record to the checkpoint's root: the record is not "
                         "in the log the checkpoint commits to", Code.INCLUSION_PROOF_INVALID)
    return ProofReport(rec, cp, index)
