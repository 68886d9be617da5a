"""Deelwijzer's signed, hash-chained audit log (issue 4; contract section 5; docs/audit.md).

Interface used by the CLI and the interview::

    audit.keys.init_keypair(out_dir, owner, passphrase) -> KeyInfo
    audit.keys.load_signing_key(private_path, passphrase) -> SigningKey
    audit.record_decision(log_path, key, *, decision, answers, actor, case_ref_source) -> AppendedRecord
    audit.verify_log(log_path, trusted_keys, rules_archive=None, *, checkpoints=(), jobs=None) -> VerifyReport
    audit.write_checkpoint(log_path, key, export_to=None) -> Checkpoint   # at the end of a session
    audit.repair(log_path, key=None) -> RepairResult

This package never imports Textual; it imports the engine only inside ``audit.replay``.
"""
from __future__ import annotations

from audit import codes, errors, keys
from audit.checkpoint import Checkpoint, checkpoint_path, write_checkpoint
from audit.errors import (AuditError, CheckpointError, KeyFileError, LogCorruptError, LogError, ProofError,
                          RecordError, TornTailError, TrustFileError, WrongPassphrase)
from audit.keys import KeyInfo, SigningKey
from audit.log import AppendedRecord, AuditLogWriter, RepairResult, record_decision, repair
from audit.verify import Failure, VerifyReport, verify_log

__all__ = [
    "codes", "errors", "keys",
    "record_decision", "verify_log", "write_checkpoint", "repair", "checkpoint_path",
    "AuditLogWriter", "AppendedRecord", "RepairResult", "Checkpoint", "Failure", "VerifyReport",
    "KeyInfo", "SigningKey",
    "AuditError", "CheckpointError", "KeyFileError", "LogCorruptError", "LogError", "ProofError", "RecordError",
    "TornTailError", "TrustFileError", "WrongPassphrase",
]
