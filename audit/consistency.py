"""Consistency proofs between two checkpoints (RFC 9162 section 2.1.4).

An auditor who holds only checkpoints -- no log -- can show that the log only grew between
them: the installation (which has the log) runs ``prove_consistency`` and hands over a small
proof file; ``verify_consistency`` checks it offline against the two signed checkpoints and the
trusted-keys file. A log that was truncated and regrown, or rewritten, cannot produce a proof
that verifies: its old tree is not a prefix of its new one.

Proof file (JSON)::

    {"v":1,"type":"deelwijzer-consistency-proof","log_id":..,"old_size":M,"old_root":..,
     "new_size":N,"new_root":..,"proof":["<hex>",...]}
"""
from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit.checkpoint import Checkpoint, PrevRef, last_checkpoint, log_leaves
from audit.codes import Code
from audit.errors import CheckpointError, ProofError
from audit.merkle import CompactRange, consistency_proof, verify_consistency as merkle_verify_consistency
from audit.trust import TrustStore

BUNDLE_TYPE = "deelwijzer-consistency-proof"
_FIELDS = {"v", "type", "log_id", "old_size", "old_root", "new_size", "new_root", "proof"}
INVALID = Code.CONSISTENCY_PROOF_INVALID


def prove_consistency(log_path: Path, old: Checkpoint | Path, new: Checkpoint | Path) -> dict[str, Any]:
    """The proof that ``new``'s tree extends ``old``'s, computed from the log. Raises ProofError
    with CHECKPOINT_MISMATCH when the log does not match one of the checkpoints (it was
    rewritten or truncated since), or when the checkpoints are for another log."""
    old_cp = old if isinstance(old, Checkpoint) else last_checkpoint(Path(old))
    new_cp = new if isinstance(new, Checkpoint) else last_checkpoint(Path(new))
    o, n = old_cp.payload, new_cp.payload
    if o.log_id != n.log_id:
        raise ProofError(f"the checkpoints are for different logs ({o.log_id} and {n.log_id})", Code.LOG_ID_MISMATCH)
    if o.size > n.size:
        raise ProofError(f"the old checkpoint ({o.size} records) is larger than the new one ({n.size}); give them in "
                         f"the order --from OLD --to NEW", Code.INVALID_ARGUMENT)
    cr = CompactRange()
    try:
        for leaf, rec in log_leaves(Path(log_path)):  # first pass: the log matches both checkpoints
            if rec["log_id"] != n.log_id:
                raise ProofError(f"{log_path} is log {rec['log_id']}, the checkpoints are for {n.log_id}",
                                 Code.LOG_ID_MISMATCH)
            if cr.size == n.size:
                break
            cr.append(leaf)
            if cr.size == o.size and cr.root().hex() != o.root:
                raise ProofError(f"{log_path} does not match the old checkpoint {old_cp.source}: its first {o.size} "
                                 f"records have another root (the log was truncated and regrown, or rewritten)",
                                 Code.CHECKPOINT_MISMATCH)
        if cr.size < n.size:
            raise ProofError(f"{log_path} has {cr.size} records, the new checkpoint {new_cp.source} commits to "
                             f"{n.size}: records were removed", Code.TRUNCATED)
        if cr.root().hex() != n.root:
            raise ProofError(f"{log_path} does not match the new checkpoint {new_cp.source}: its first {n.size} "
                             f"records have another root", Code.CHECKPOINT_MISMATCH)
        path = consistency_proof((leaf for leaf, _rec in log_leaves(Path(log_path))), o.size, n.size)  # second pass
    except CheckpointError as exc:
        raise ProofError(exc.message, exc.code) from None
    return proof_bundle(n.log_id, o.size, o.root, n.size, n.root, path)


@dataclass(frozen=True)
class ConsistencyReport:
    old: Checkpoint
    new: Checkpoint
    log_id: str
    proof_length: int


def _bundle(proof: dict[str, Any] | Path) -> dict[str, Any]:
    if isinstance(proof, dict):
        return proof
    try:
        data = json.loads(Path(proof).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProofError(f"cannot read proof file {proof}: {exc.strerror or exc}", Code.INVALID_ARGUMENT) from None
    except ValueError as exc:
        raise ProofError(f"{proof} is not a JSON proof file: {exc}", INVALID) from None
    if not isinstance(data, dict):
        raise ProofError(f"{proof} is not a consistency-proof file", INVALID)
    return data


def verify_consistency(old: Checkpoint | Path, new: Checkpoint | Path, proof: dict[str, Any] | Path,
                       trust: TrustStore) -> ConsistencyReport:
    """Check offline that ``new`` extends ``old``: both checkpoints signed by trusted keys with
    the role to sign checkpoints, for the same (pinned) log, and the RFC 9162 proof between
    them. Raises ProofError whose code names the first check that failed."""
    try:
        old_cp = old if isinstance(old, Checkpoint) else last_checkpoint(Path(old), trust)
        new_cp = new if isinstance(new, Checkpoint) else last_checkpoint(Path(new), trust)
    except CheckpointError as exc:
        raise ProofError(exc.message, exc.code) from None
    o, n = old_cp.payload, new_cp.payload
    length = check_proof((o.log_id, o.size, o.root), (n.log_id, n.size, n.root, n.prev), proof,
                         trust.logs if trust.logs else None)
    return ConsistencyReport(old_cp, new_cp, n.log_id, length)


def proof_bundle(log_id: str, old_size: int, old_root: str, new_size: int, new_root: str,
                 path: list[bytes]) -> dict[str, Any]:
    """The proof file's content. ``log_id`` names the sequence: a log's id, or an organisation
    store's id for organisation checkpoints (``audit.store.orgcheckpoint``)."""
    return {"v": 1, "type": BUNDLE_TYPE, "log_id": log_id, "old_size": old_size, "old_root": old_root,
            "new_size": new_size, "new_root": new_root, "proof": [h.hex() for h in path]}


def check_proof(old: tuple[str, int, str], new: tuple[str, int, str, PrevRef | None], proof: dict[str, Any] | Path,
                pinned: Collection[str] | None = None) -> int:
    """The checks of ``verify_consistency`` once both checkpoints are verified: ``old`` is
    (id, size, root), ``new`` (id, size, root, prev); ``pinned``: the ids the trust store pins,
    if any. Returns the proof's length; raises ProofError."""
    o_id, o_size, o_root = old
    n_id, n_size, n_root, n_prev = new
    b = _bundle(proof)
    if set(b) != _FIELDS or b.get("v") != 1 or b.get("type") != BUNDLE_TYPE:
        raise ProofError("not a deelwijzer consistency-proof file (unexpected fields or type)", INVALID)
    hashes = b["proof"]
    if not isinstance(hashes, list) or not all(isinstance(h, str) and len(h) == 64 for h in hashes):
        raise ProofError("the proof must be a list of 64-hex-character hashes", INVALID)
    try:
        path = [bytes.fromhex(h) for h in hashes]
    except ValueError:
        raise ProofError("the proof holds a hash that is not hex", INVALID) from None
    if o_id != n_id:
        raise ProofError(f"the checkpoints are for different logs ({o_id} and {n_id})", Code.LOG_ID_MISMATCH)
    if pinned and n_id not in pinned:
        raise ProofError(f"log {n_id} is not pinned in the trusted-keys file", Code.LOG_ID_MISMATCH)
    if (b["log_id"], b["old_size"], b["old_root"], b["new_size"], b["new_root"]) != (o_id, o_size, o_root, n_size,
                                                                                     n_root):
        raise ProofError("the proof file is for other checkpoints (log id, sizes or roots differ)", INVALID)
    if o_size > n_size:
        raise ProofError(f"the new checkpoint commits to {n_size} records, fewer than the old one's {o_size}: the log "
                         f"shrank", INVALID)
    if n_prev is not None and n_prev.size == o_size and n_prev.root != o_root:
        raise ProofError(f"the new checkpoint extends a checkpoint of size {o_size} with another root than the old "
                         f"one: the log signed two different histories", INVALID)
    if not merkle_verify_consistency(o_size, n_size, bytes.fromhex(o_root), bytes.fromhex(n_root), path):
        raise ProofError(f"the proof does not show that the tree of {n_size} records extends the tree of {o_size}: "
                         f"the log was rewritten or truncated between the two checkpoints", INVALID)
    return len(path)
