"""Deelwijzer's signed, hash-chained audit log (contract section 5; docs/audit.md).

Interface used by the CLI and the interview (and built on by later tasks; docs/architecture.md,
"Audit interface")::

    audit.keys.init_keypair(out_dir, owner, passphrase) -> KeyInfo
    audit.keys.load_signing_key(private_path, passphrase) -> SigningKey
    audit.record_decision(log_path, key, *, decision, answers, actor, case_ref_source) -> AppendedRecord
    audit.verify_log(log_path, trusted_keys, rules_archive=None, *, checkpoints=(), jobs=None,
                     time_tolerance=300, now=None, strict=False, trusted_keys_signed_by=None,
                     trusted_keys_sha256=None) -> VerifyReport
    audit.verify_source(LineSource(name, open), trust_store, ...) -> VerifyReport   # any line source
    audit.open_envelope(line, payload_type, trust_store, roles, *, at=None) -> Opened  # EnvelopeError(.code)
    audit.write_checkpoint(log_path, key, export_to=None) -> Checkpoint   # at the end of a session
    audit.prove_consistency(log_path, old, new) -> dict; audit.verify_consistency(old, new, proof, trust)
    audit.repair(log_path, key=None) -> RepairResult
    audit.verify_release(release_dir, trusted_keys, *, now=None) -> VerifiedRelease   # ReleaseError(.code, .hint)

Every exception is an ``audit.errors.AuditError`` carrying ``code`` (an ``audit.codes.Code``).
This package never imports Textual; it imports the engine only inside ``audit.replay`` and
``audit.release``, when a rule set is loaded.
"""
from __future__ import annotations

from audit import codes, errors, keys
from audit.checkpoint import Checkpoint, checkpoint_path, read_checkpoints, write_checkpoint
from audit.codes import Code
from audit.consistency import ConsistencyReport, prove_consistency, verify_consistency
from audit.errors import (AuditError, CheckpointError, EnvelopeError, InvalidArgument, KeyFileError, LogCorruptError,
                          LogError, ProofError, RecordError, ReleaseError, TornTailError, TrustFileError,
                          WrongPassphrase)
from audit.keys import KeyInfo, SigningKey
from audit.log import AppendedRecord, AuditLogWriter, RepairResult, record_decision, repair
from audit.release import VerifiedRelease, verify_release
from audit.signed import Opened, open_envelope
from audit.trust import KeyEntry, TrustStore
from audit.verify import Failure, LineSource, VerifyReport, file_source, verify_log, verify_source

__all__ = [
    "codes", "errors", "keys", "Code",
    "record_decision", "verify_log", "verify_source", "file_source", "LineSource", "write_checkpoint", "repair",
    "checkpoint_path", "read_checkpoints", "open_envelope", "Opened", "prove_consistency", "verify_consistency",
    "ConsistencyReport", "TrustStore", "KeyEntry",
    "AuditLogWriter", "AppendedRecord", "RepairResult", "Checkpoint", "Failure", "VerifyReport",
    "KeyInfo", "SigningKey", "VerifiedRelease", "verify_release",
    "AuditError", "CheckpointError", "EnvelopeError", "InvalidArgument", "KeyFileError", "LogCorruptError",
    "LogError", "ProofError", "RecordError", "ReleaseError", "TornTailError", "TrustFileError", "WrongPassphrase",
]
