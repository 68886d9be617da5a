"""Exceptions raised by the audit package.

Every exception carries ``code`` (an ``audit.codes.Code``: the reason, stable and documented)
and a message written for the person at the keyboard: what went wrong, where, and how to fix
it. The CLI prints one line per error and never a traceback.
"""
from __future__ import annotations

from audit.codes import Code


class AuditError(Exception):
    """Base class of every error the audit package raises on bad input or bad files."""

    default_code: Code = Code.INVALID_ARGUMENT

    def __init__(self, message: str, code: Code | None = None):
        super().__init__(message)
        self.message = message
        self.code: Code = code if code is not None else self.default_code


class InvalidArgument(AuditError, ValueError):
    """An argument outside its range (e.g. a time tolerance that is NaN or negative)."""

    default_code = Code.INVALID_ARGUMENT


class KeyFileError(AuditError):
    """A key file is missing, unreadable, malformed, damaged, too costly to open or too widely readable."""

    default_code = Code.KEY_FILE_INVALID


class WrongPassphrase(KeyFileError):
    """The passphrase does not open the private key file."""

    default_code = Code.WRONG_PASSPHRASE


class TrustFileError(AuditError):
    """The trusted-keys file is missing, malformed, inconsistent (e.g. a key id that does not
    match its public key), or fails the authentication the caller asked for."""

    default_code = Code.TRUST_FILE_INVALID


class CanonicalError(AuditError, ValueError):
    """A value cannot be written as canonical JSON in the restricted schema (floats, integers
    beyond 2^53-1, non-ASCII keys, lone surrogates, unsupported types)."""

    default_code = Code.NOT_CANONICAL


class RecordError(AuditError):
    """The decision, answers or actor handed to ``record_decision`` cannot form a valid record."""

    default_code = Code.RECORD_INVALID


class LogError(AuditError):
    """The log file cannot be appended to as it is."""

    default_code = Code.LOG_IO_ERROR


class TornTailError(LogError):
    """The log ends in an incomplete line left by an interrupted write."""

    default_code = Code.TORN_TAIL


class LogCorruptError(LogError):
    """The last complete record of the log is not a well-formed record."""

    default_code = Code.MALFORMED_RECORD


class CheckpointError(AuditError):
    """A checkpoint cannot be written or read, or contradicts the log."""

    default_code = Code.BAD_CHECKPOINT


class ProofError(AuditError):
    """An inclusion or consistency proof cannot be built or does not verify."""

    default_code = Code.INCLUSION_PROOF_INVALID


class EnvelopeError(AuditError, ValueError):
    """A signed DSSE envelope does not open: its form, key, role, validity or signature.

    ``payload`` holds the (unverified!) payload bytes when the envelope's form was sound, and
    ``keyid`` the key it names, so that a verifier can still report where the record sits in
    the chain; never trust either."""

    default_code = Code.MALFORMED_RECORD

    def __init__(self, message: str, code: Code | None = None, *, payload: bytes | None = None,
                 keyid: str | None = None):
        super().__init__(message, code)
        self.payload = payload
        self.keyid = keyid


class StoreError(AuditError):
    """The organisation store (PostgreSQL) cannot be reached or used: STORE_UNAVAILABLE (not
    reachable, or the connection broke mid-command), STORE_NOT_READY (no store schema, another
    schema version, missing rights), or STORE_CONFLICT (a pushed record differs from the stored one)."""

    default_code = Code.STORE_UNAVAILABLE


class ReleaseError(AuditError):
    """A rule-set release cannot be made, or does not verify (``audit.release``).

    ``code`` names the check that failed (e.g. RELEASE_FILES_CHANGED, KEY_ROLE_NOT_ALLOWED),
    ``message`` says what failed and where, ``hint`` whom to ask and what to do (in English;
    ``audit.release.whom_to_ask(code, lang)`` gives it in Dutch too)."""

    default_code = Code.RELEASE_INVALID

    def __init__(self, message: str, code: Code | None = None, *, hint: str = ""):
        super().__init__(message, code)
        self.hint = hint
