"""The trusted-keys file: the verifier's root of trust, kept by the auditor / DPO.

JSON, human-readable (see docs/audit.md)::

    {"version": 1,
     "keys": [{"key_id": "ed25519:<64 hex>", "owner": "...", "public_key": "-----BEGIN PUBLIC KEY-----...",
               "valid_from": null | "YYYY-MM-DDTHH:MM:SS.mmmZ", "valid_until": null | ts, "revoked_at": null | ts}],
     "logs": [{"log_id": "<uuid4>", "genesis": "<64 hex leaf hash of the genesis record>", "pinned_at": ts}]}

A key is valid for a record whose signed ``ts`` satisfies ``valid_from <= ts < valid_until``
and ``ts < revoked_at`` (half-open windows, as in Sigstore's trusted root). The key id is
recomputed from the PEM on load; a mismatch makes the whole file invalid. ``logs`` pins a log's
identity and its genesis record, so that even a holder of a valid key cannot pass off a
rebuilt log (the record says which log it belongs to; the pin says which log that must be).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from audit import canonical, keys
from audit.digest import sha256
from audit.errors import KeyFileError, TrustFileError
from audit.files import fsync_dir
from audit.record import KEY_ID_PATTERN, UUID4_PATTERN, Ts, validation_message
from audit.timeutil import now_ts


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class TrustedKey(_Strict):
    key_id: Annotated[str, StringConstraints(pattern=KEY_ID_PATTERN)]
    owner: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    public_key: Annotated[str, StringConstraints(max_length=1000)]
    valid_from: Ts | None = None
    valid_until: Ts | None = None
    revoked_at: Ts | None = None


class PinnedLog(_Strict):
    log_id: Annotated[str, StringConstraints(pattern=UUID4_PATTERN)]
    genesis: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    pinned_at: Ts | None = None


class TrustFile(_Strict):
    version: Annotated[int, Field(ge=1, le=1)]
    keys: list[TrustedKey]
    logs: list[PinnedLog] = []


@dataclass(frozen=True)
class KeyEntry:
    info: TrustedKey
    public_key: Ed25519PublicKey
    raw: bytes  # 32-byte raw public key (for worker processes)


class TrustStore:
    """A loaded, checked trusted-keys file."""

    def __init__(self, doc: TrustFile, path: Path | None = None, digest: str | None = None):
        self.doc = doc
        self.path = path
        self.sha256 = digest
        self.keys: dict[str, KeyEntry] = {}
        where = str(path) if path else "trusted-keys"
        for k in doc.keys:
            try:
                pub = keys.public_key_from_pem(k.public_key.encode("ascii", "replace"), f"{where}: key {k.key_id[:24]}")
            except KeyFileError as exc:
                raise TrustFileError(str(exc)) from None
            if keys.key_id_for(pub) != k.key_id:
                raise TrustFileError(f"{where}: key id {k.key_id} does not match its public key "
                                     f"(which has id {keys.key_id_for(pub)}); the file was edited by hand or damaged")
            if k.key_id in self.keys:
                raise TrustFileError(f"{where}: key {k.key_id} is listed twice")
            if k.valid_from and k.valid_until and k.valid_until <= k.valid_from:
                raise TrustFileError(f"{where}: key {k.key_id[:24]}: valid_until {k.valid_until} is not after "
                                     f"valid_from {k.valid_from}")
            raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            self.keys[k.key_id] = KeyEntry(k, pub, raw)
        self.logs: dict[str, str] = {}
        for pin in doc.logs:
            if pin.log_id in self.logs:
                raise TrustFileError(f"{where}: log {pin.log_id} is pinned twice")
            self.logs[pin.log_id] = pin.genesis

    def invalid_at(self, key_id: str, ts: str) -> str | None:
        """Why ``key_id`` is not valid at ``ts`` (None when it is). Timestamps compare as strings."""
        k = self.keys[key_id].info
        if k.valid_from is not None and ts < k.valid_from:
            return f"key {short(key_id)} ({k.owner}) is valid only from {k.valid_from}; record time is {ts}"
        if k.valid_until is not None and ts >= k.valid_until:
            return f"key {short(key_id)} ({k.owner}) expired at {k.valid_until}; record time is {ts}"
        if k.revoked_at is not None and ts >= k.revoked_at:
            return f"key {short(key_id)} ({k.owner}) was revoked at {k.revoked_at}; record time is {ts}"
        return None


def short(key_id: str) -> str:
    return key_id[:24] + "…"


def load(path: Path) -> TrustStore:
    """Load and check a trusted-keys file. Raises TrustFileError with a fix-it message."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise TrustFileError(f"trusted-keys file {path} does not exist; create it with "
                             f"`deelwijzer keys trust PUBLIC_KEY --trusted-keys {path} --owner NAME`") from None
    except OSError as exc:
        raise TrustFileError(f"cannot read trusted-keys file {path}: {exc.strerror or exc}") from None
    try:
        raw = canonical.loads(data)
    except canonical.CanonicalError as exc:
        raise TrustFileError(f"trusted-keys file {path} is not valid JSON: {exc}") from None
    try:
        doc = TrustFile.model_validate(raw)
    except ValidationError as exc:
        raise TrustFileError(f"trusted-keys file {path} is invalid at {validation_message(exc)}") from None
    return TrustStore(doc, path, sha256(data).hex())


def _load_or_new(path: Path) -> TrustFile:
    if Path(path).exists():
        return load(path).doc
    return TrustFile(version=1, keys=[], logs=[])


def save(path: Path, doc: TrustFile) -> None:
    """Write atomically (temporary file, fsync, rename, fsync directory)."""
    TrustStore(doc, Path(path))  # never write a file that would not load
    path = Path(path)
    text = doc.model_dump_json(indent=2) + "\n"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise TrustFileError(f"cannot write trusted-keys file {path}: {exc.strerror or exc}") from None
    fsync_dir(path.parent)


def trust_key(path: Path, public_key_path: Path, owner: str, valid_from: str | None = None,
              valid_until: str | None = None) -> TrustedKey:
    pub = keys.load_public_key(public_key_path)
    owner = keys._check_owner(owner)
    doc = _load_or_new(path)
    kid = keys.key_id_for(pub)
    if any(k.key_id == kid for k in doc.keys):
        raise TrustFileError(f"key {kid} is already in {path}; to end its validity use `deelwijzer keys revoke`")
    entry = TrustedKey(key_id=kid, owner=owner, public_key=keys.public_key_pem(pub),
                       valid_from=valid_from, valid_until=valid_until, revoked_at=None)
    doc.keys.append(entry)
    save(path, doc)
    return entry


def find_key(doc: TrustFile, key_ref: str, path: Path) -> TrustedKey:
    """A key by full id, or by a unique prefix of its hex (at least 8 characters)."""
    ref = key_ref.strip().lower()
    hexpart = ref.split(":", 1)[1] if ref.startswith("ed25519:") else ref
    if len(hexpart) < 8:
        raise TrustFileError(f"key id {key_ref!r} is too short; give at least 8 hex characters")
    hits = [k for k in doc.keys if k.key_id[len("ed25519:"):].startswith(hexpart)]
    if not hits:
        raise TrustFileError(f"no key {key_ref!r} in {path}")
    if len(hits) > 1:
        raise TrustFileError(f"key id {key_ref!r} matches {len(hits)} keys in {path}; give more characters")
    return hits[0]


def revoke_key(path: Path, key_ref: str, at: str) -> TrustedKey:
    doc = load(path).doc
    k = find_key(doc, key_ref, path)
    if k.revoked_at is not None and k.revoked_at <= at:
        raise TrustFileError(f"key {k.key_id} is already revoked at {k.revoked_at}; a revocation can only be "
                             f"moved earlier")
    k.revoked_at = at
    save(path, doc)
    return k


def pin_log(path: Path, log_id: str, genesis_hex: str) -> PinnedLog:
    doc = load(path).doc
    for pin in doc.logs:
        if pin.log_id == log_id:
            if pin.genesis == genesis_hex:
                return pin
            raise TrustFileError(f"log {log_id} is already pinned in {path} with another genesis ({pin.genesis}); "
                                 f"this log's genesis is {genesis_hex}: it is not the log that was pinned")
    pin = PinnedLog(log_id=log_id, genesis=genesis_hex, pinned_at=now_ts())
    doc.logs.append(pin)
    save(path, doc)
    return pin
