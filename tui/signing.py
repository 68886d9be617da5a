"""Making the signing key and signing a decision, apart from any screen (no Textual import).

The screens get a :class:`Signer` or :class:`KeyMaker` in ``__init__`` and call it in a worker
thread; a failure is a :class:`SigningError` whose ``reason`` the screen turns into words
(``wrong_passphrase``, ``key_unreadable``, ``failed``). ``audit`` is imported only here, and only
when a key is made or a record is signed (start-up time).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from collections.abc import Callable

from tui.settings import KEY_FILE, LEGACY_KEY_FILE

MIN_PASSPHRASE = 10


class SigningError(Exception):
    """Signing or key creation failed; ``reason`` names why, ``detail`` says more."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail or reason)
        self.reason = reason
        self.detail = detail


def _as_error(exc: BaseException) -> SigningError:
    name = type(exc).__name__
    if name == "WrongPassphrase":
        return SigningError("wrong_passphrase")
    if name == "KeyFileError":
        return SigningError("key_unreadable", str(exc))
    if isinstance(exc, OSError):
        return SigningError("failed", exc.strerror or str(exc))
    return SigningError("failed", str(exc) or name)


@dataclass(frozen=True)
class SignedRecord:
    """What the case keeps of the signed record (and the dossier document shows)."""

    record_id: str
    seq: int | None
    leaf_hash: str            # the record's hash in the log (hex): matches the document to the record
    weighing_hash: str | None
    log: str
    signed_at: str
    ruleset_fingerprint: str
    key_file: str
    checkpoint_error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Signer:
    """Signs one decision; everything but the passphrase is fixed when the screen is made."""

    key_file: Path
    log_path: Path
    decision: Any            # engine Decision (its Dutch JSON is recorded)
    answers: dict[str, Any]
    actor: dict[str, str]
    case_id: str
    weighing: str
    clock: Callable[[], datetime]

    def __call__(self, passphrase: bytes) -> SignedRecord:
        try:
            return self._sign(passphrase)
        except SigningError:
            raise
        except Exception as exc:
            raise _as_error(exc) from exc

    def _sign(self, passphrase: bytes) -> SignedRecord:
        import audit
        import audit.keys

        key = audit.keys.load_signing_key(self.key_file, passphrase)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        weighing = self.weighing if self.weighing.strip() else None
        appended = audit.record_decision(
            self.log_path, key, decision=self.decision.to_json(lang="nl"), answers=self.answers,
            actor=self.actor, case_ref_source=self.case_id, weighing=weighing)
        # End of this session's writing: a signed checkpoint (size + Merkle root) that an auditor
        # can keep, so a later deletion of the tail becomes detectable.
        checkpoint_error = None
        try:
            audit.write_checkpoint(self.log_path, key)
        except audit.errors.AuditError as exc:  # the record itself is written and signed
            checkpoint_error = str(exc)
        leaf = getattr(appended, "leaf_hash", b"")
        return SignedRecord(
            record_id=str(appended.record_id), seq=getattr(appended, "seq", None),
            leaf_hash=leaf.hex() if isinstance(leaf, (bytes, bytearray)) else str(leaf),
            weighing_hash=key.weighing_hash(weighing) if weighing else None,
            log=str(self.log_path), signed_at=self.clock().astimezone().isoformat(timespec="seconds"),
            ruleset_fingerprint=str(self.decision.ruleset.fingerprint), key_file=str(self.key_file),
            checkpoint_error=checkpoint_error)


@dataclass(frozen=True)
class KeyMade:
    key_id: str
    private_path: Path


@dataclass(frozen=True)
class KeyMaker:
    """Makes a passphrase-protected key pair and trusts it in the local trusted-keys file."""

    home: Path
    trusted_keys: Path
    clock: Callable[[], datetime]

    def target_dir(self) -> Path:
        base = self.home / "keys"
        if not (base / KEY_FILE).exists() and not (base / LEGACY_KEY_FILE).exists():
            return base
        return base / self.clock().strftime("%Y%m%d-%H%M%S")

    def __call__(self, owner: str, passphrase: bytes) -> KeyMade:
        if len(passphrase.decode("utf-8", "replace")) < MIN_PASSPHRASE:
            raise SigningError("too_short")
        try:
            import audit.keys
            import audit.trust

            out_dir = self.target_dir()
            out_dir.mkdir(parents=True, exist_ok=True)
            info = audit.keys.init_keypair(out_dir, owner, passphrase)
            audit.trust.trust_key(self.trusted_keys, Path(info.public_path), owner)
        except Exception as exc:
            raise _as_error(exc) from exc
        return KeyMade(str(info.key_id), Path(info.private_path))
