"""Exceptions raised by the audit package.

Every exception carries a message written for the person at the keyboard: what went wrong,
where, and how to fix it. The CLI prints ``str(exc)`` as one line and never a traceback.
"""
from __future__ import annotations


class AuditError(Exception):
    """Base class of every error the audit package raises on bad input or bad files."""


class KeyFileError(AuditError):
    """A key file is missing, unreadable, malformed, too weak or too widely readable."""


class WrongPassphrase(KeyFileError):
    """The passphrase does not open the private key file."""


class TrustFileError(AuditError):
    """The trusted-keys file is missing, malformed, or inconsistent (e.g. a key id that does
    not match its public key)."""


class CanonicalError(AuditError, ValueError):
    """A value cannot be written as canonical JSON in the restricted schema (floats, integers
    beyond 2^53-1, non-ASCII keys, lone surrogates, unsupported types)."""


class RecordError(AuditError):
    """The decision, answers or actor handed to ``record_decision`` cannot form a valid record."""


class LogError(AuditError):
    """The log file cannot be appended to as it is."""


class TornTailError(LogError):
    """The log ends in an incomplete line left by an interrupted write."""


class LogCorruptError(LogError):
    """The last complete record of the log is not a well-formed record."""


class CheckpointError(AuditError):
    """A checkpoint cannot be written or read."""


class ProofError(AuditError):
    """An inclusion proof cannot be built or does not verify."""
