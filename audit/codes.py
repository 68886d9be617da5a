"""Reason codes: stable names, one meaning each (documented in docs/audit.md, section 7.1).

Three kinds:

- **failures** make ``audit verify`` (and ``verify-proof``, ``verify-consistency``) exit 1;
- **warnings** are reported; they fail a log only in auditor mode (``--strict``), except
  ``RECOVERED``, which stays a warning (a signed, verified repair);
- **errors** are the reasons carried by the exceptions of ``audit.errors``: the check could
  not run, or a file could not be written (the CLI exits 2 on them).

A test asserts that docs/audit.md lists exactly the members of ``Code``.
"""
from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    # --- failures: a record, checkpoint or proof does not hold --------------------------------
    MALFORMED_RECORD = "MALFORMED_RECORD"            # not a well-formed record / envelope (JSON, fields, base64, schema)
    NOT_CANONICAL = "NOT_CANONICAL"                  # envelope or signed payload not in RFC 8785 canonical form
    UNTRUSTED_KEY = "UNTRUSTED_KEY"                  # signed by a key that is not in the trusted-keys file
    BAD_SIGNATURE = "BAD_SIGNATURE"                  # the Ed25519 signature does not verify
    KEY_NOT_VALID_AT_TIME = "KEY_NOT_VALID_AT_TIME"  # key not yet valid, expired or revoked at the signed time
    KEY_ROLE_NOT_ALLOWED = "KEY_ROLE_NOT_ALLOWED"    # the key is trusted, but not for this kind of signature
    CHAIN_BROKEN = "CHAIN_BROKEN"                    # seq / prev do not continue the previous record
    DUPLICATE_RECORD = "DUPLICATE_RECORD"            # a record that already appeared earlier in the log
    LOG_ID_MISMATCH = "LOG_ID_MISMATCH"              # belongs to another log, or the log is not the pinned one
    GENESIS_MISMATCH = "GENESIS_MISMATCH"            # genesis differs from the pinned one, or is misplaced
    TIME_WENT_BACKWARDS = "TIME_WENT_BACKWARDS"      # earlier than a previous record beyond the tolerance
    FUTURE_TIMESTAMP = "FUTURE_TIMESTAMP"            # later than the verifier's clock, or than a checkpoint covering it
    TORN_TAIL = "TORN_TAIL"                          # incomplete last line (interrupted write); run `audit repair`
    TRUNCATED = "TRUNCATED"                          # a checkpoint commits to more records than the log holds
    CHECKPOINT_MISMATCH = "CHECKPOINT_MISMATCH"      # the log's Merkle root at a checkpoint's size differs
    BAD_CHECKPOINT = "BAD_CHECKPOINT"                # a checkpoint is malformed, not canonical, or for another log
    CONSISTENCY_PROOF_INVALID = "CONSISTENCY_PROOF_INVALID"  # RFC 9162 proof does not show the new tree extends the old
    INCLUSION_PROOF_INVALID = "INCLUSION_PROOF_INVALID"      # RFC 9162 audit path does not lead to the checkpoint's root
    REPLAY_MISMATCH = "REPLAY_MISMATCH"              # replaying the answers gives other advice (names the first field)
    REPLAY_UNAVAILABLE = "REPLAY_UNAVAILABLE"        # the rule set the record names is not in the archive
    VOCABULARY_MISMATCH = "VOCABULARY_MISMATCH"      # a code in the record is not in the named rule set's vocabulary
    TRUST_FILE_UNAUTHENTICATED = "TRUST_FILE_UNAUTHENTICATED"  # trusted-keys file not signed/hashed as required
    STORE_CONFLICT = "STORE_CONFLICT"                # the store holds another record at this log position or record id
    ORG_SEQUENCE_BROKEN = "ORG_SEQUENCE_BROKEN"      # the store's organisation-wide sequence has a gap, or a row lies
    RELEASE_INVALID = "RELEASE_INVALID"              # a release directory or statement is missing, malformed or too large
    RELEASE_FILES_CHANGED = "RELEASE_FILES_CHANGED"  # a file in a release was changed, added or removed after signing
    RELEASE_FINGERPRINT_MISMATCH = "RELEASE_FINGERPRINT_MISMATCH"  # the archived files do not give the signed fingerprint
    RELEASE_NOT_YET_VALID = "RELEASE_NOT_YET_VALID"  # the release's valid-from lies after now (or after the record)
    RELEASE_MISMATCH = "RELEASE_MISMATCH"            # a record names a release of another rule set
    # --- warnings ------------------------------------------------------------------------------
    UNANCHORED = "UNANCHORED"    # records not covered by any checkpoint held outside the log
    UNPINNED = "UNPINNED"        # the trusted-keys file does not pin this log's identity and genesis
    RECOVERED = "RECOVERED"      # a signed recovery record: `audit repair` set a torn tail aside here
    EMPTY_LOG = "EMPTY_LOG"      # the log holds no record at all
    # --- errors (exceptions; exit 2) -----------------------------------------------------------
    INVALID_ARGUMENT = "INVALID_ARGUMENT"    # an option value outside its range (e.g. --time-tolerance nan)
    TRUST_FILE_INVALID = "TRUST_FILE_INVALID"  # the trusted-keys file is missing, unreadable or inconsistent
    KEY_FILE_INVALID = "KEY_FILE_INVALID"    # a key file is missing, unreadable, too open, or not a key file
    KEY_FILE_CORRUPTED = "KEY_FILE_CORRUPTED"  # a key file is damaged (the format can tell)
    WRONG_PASSPHRASE = "WRONG_PASSPHRASE"    # the passphrase does not open the key file
    RECORD_INVALID = "RECORD_INVALID"        # the decision handed to the writer cannot form a valid record
    LOG_FILE_UNSAFE = "LOG_FILE_UNSAFE"      # the log path is a symlink, not a regular file, or not mode 0600
    LOG_IO_ERROR = "LOG_IO_ERROR"            # the log cannot be opened, written or flushed
    STORE_UNAVAILABLE = "STORE_UNAVAILABLE"  # the organisation store cannot be reached, or went away mid-command
    STORE_NOT_READY = "STORE_NOT_READY"      # no store schema in that database, another schema version, or no rights

    @property
    def kind(self) -> str:
        """``failure``, ``warning`` or ``error``."""
        if self in WARNINGS:
            return "warning"
        if self in ERRORS:
            return "error"
        return "failure"


WARNINGS = frozenset({Code.UNANCHORED, Code.UNPINNED, Code.RECOVERED, Code.EMPTY_LOG})
STRICT_FAILURES = frozenset({Code.UNANCHORED, Code.UNPINNED, Code.EMPTY_LOG})  # warnings that --strict fails
ERRORS = frozenset({Code.INVALID_ARGUMENT, Code.TRUST_FILE_INVALID, Code.KEY_FILE_INVALID, Code.KEY_FILE_CORRUPTED,
                    Code.WRONG_PASSPHRASE, Code.RECORD_INVALID, Code.LOG_FILE_UNSAFE, Code.LOG_IO_ERROR,
                    Code.STORE_UNAVAILABLE, Code.STORE_NOT_READY})
FAILURES = frozenset(set(Code) - WARNINGS - ERRORS)
