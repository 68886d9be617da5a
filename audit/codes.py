"""Reason codes of the verifier: stable names, one meaning each (documented in docs/audit.md).

Failures make ``audit verify`` exit 1. Warnings are reported but do not fail a log unless the
caller asks for strictness (``--strict``).
"""
from __future__ import annotations

# Failures ---------------------------------------------------------------------------------
MALFORMED_RECORD = "MALFORMED_RECORD"        # line is not a well-formed record (JSON, envelope, base64, schema)
NOT_CANONICAL = "NOT_CANONICAL"              # envelope or signed payload not in RFC 8785 canonical form
UNTRUSTED_KEY = "UNTRUSTED_KEY"              # signed by a key that is not in the trusted-keys file
BAD_SIGNATURE = "BAD_SIGNATURE"              # Ed25519 signature does not verify over the payload
KEY_NOT_VALID_AT_TIME = "KEY_NOT_VALID_AT_TIME"  # key not yet valid, expired or revoked at the record's time
CHAIN_BROKEN = "CHAIN_BROKEN"                # seq / prev do not continue the previous record
DUPLICATE_RECORD = "DUPLICATE_RECORD"        # a record that already appeared earlier in the log
LOG_ID_MISMATCH = "LOG_ID_MISMATCH"          # record belongs to another log, or the log is not the pinned one
GENESIS_MISMATCH = "GENESIS_MISMATCH"        # genesis record differs from the pinned one, or is misplaced
TIME_WENT_BACKWARDS = "TIME_WENT_BACKWARDS"  # timestamp earlier than the previous one beyond the tolerance
TORN_TAIL = "TORN_TAIL"                      # incomplete last line (interrupted write); run `audit repair`
TRUNCATED = "TRUNCATED"                      # a checkpoint commits to more records than the log holds
CHECKPOINT_MISMATCH = "CHECKPOINT_MISMATCH"  # the log's Merkle root at a checkpoint's size differs (history rewritten)
BAD_CHECKPOINT = "BAD_CHECKPOINT"            # a checkpoint is malformed, untrusted, badly signed or for another log
REPLAY_MISMATCH = "REPLAY_MISMATCH"          # replaying the answers on the archived rule set gives other advice
REPLAY_UNAVAILABLE = "REPLAY_UNAVAILABLE"    # the rule set the record names is not in the archive (or fails to load)

FAILURE_CODES = (
    MALFORMED_RECORD, NOT_CANONICAL, UNTRUSTED_KEY, BAD_SIGNATURE, KEY_NOT_VALID_AT_TIME,
    CHAIN_BROKEN, DUPLICATE_RECORD, LOG_ID_MISMATCH, GENESIS_MISMATCH, TIME_WENT_BACKWARDS,
    TORN_TAIL, TRUNCATED, CHECKPOINT_MISMATCH, BAD_CHECKPOINT, REPLAY_MISMATCH, REPLAY_UNAVAILABLE,
)

# Warnings ---------------------------------------------------------------------------------
UNANCHORED = "UNANCHORED"      # records not covered by any checkpoint held outside the log
UNPINNED = "UNPINNED"          # the trusted-keys file does not pin this log's identity and genesis
RECOVERED = "RECOVERED"        # a signed recovery record: a torn tail was set aside by `audit repair`
EMPTY_LOG = "EMPTY_LOG"        # the log file holds no record at all

WARNING_CODES = (UNANCHORED, UNPINNED, RECOVERED, EMPTY_LOG)
