"""The trusted-keys file: the verifier's root of trust, kept by the auditor / DPO.

JSON, human-readable (see docs/audit.md section 4)::

    {"version": 1,
     "keys": [{"key_id": "ed25519:<64 hex>", "owner": "...", "public_key": "-----BEGIN PUBLIC KEY-----...",
               "roles": ["record"], "valid_from": null | ts, "valid_until": null | ts, "revoked_at": null | ts}],
     "logs": [{"log_id": "<uuid4>", "genesis": "<64 hex leaf hash of the genesis record>", "pinned_at": ts}]}

Roles say what a key may sign (``ROLES``): ``record`` (decision records, and the checkpoints of
the log it writes), ``checkpoint`` (organisation-wide tree heads), ``release`` (rule-set
releases), ``trust`` (this file). A key entry without ``roles`` (files written before roles
existed) is a ``record`` key.

A key is valid for a signature whose signed time ``ts`` satisfies ``valid_from <= ts <
valid_until`` and ``ts < revoked_at`` (half-open windows, as in Sigstore's trusted root). Key
ids are recomputed from the PEMs on load; a mismatch makes the whole file invalid. ``logs``
pins a log's identity and genesis record, so that even a holder of a valid key cannot pass
off a rebuilt log.

The file itself can be authenticated (``authenticate``): by an expected SHA-256, or by a
detached signature ``FILE.sig`` (``sign``) made by a ``trust`` key that the verifier names
out of band (``--trusted-keys-signed-by``).
"""
from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from audit import canonical, envelope, keys
from audit.codes import Code
from audit.digest import sha256
from audit.errors import CanonicalError, EnvelopeError, KeyFileError, TrustFileError
from audit.files import replace_atomically
from audit.record import KEY_ID_PATTERN, NAME_PATTERN, UUID4_PATTERN, Ts, validation_message
from audit.timeutil import now_ts

Role = Literal["record", "checkpoint", "release", "trust"]
ROLES: tuple[Role, ...] = ("record", "checkpoint", "release", "trust")
SIGNATURE_SUFFIX = ".sig"
MAX_TRUST_FILE = 4 << 20  # bytes


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class TrustedKey(_Strict):
    key_id: Annotated[str, StringConstraints(pattern=KEY_ID_PATTERN)]
    owner: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NAME_PATTERN)]
    public_key: Annotated[str, StringConstraints(max_length=1000)]
    roles: Annotated[list[Role], Field(min_length=1, max_length=len(ROLES))] = ["record"]
    valid_from: Ts | None = None
    valid_until: Ts | None = None
    revoked_at: Ts | None = None

    @field_validator("roles")
    @classmethod
    def _unique(cls, roles: list[Role]) -> list[Role]:
        if len(set(roles)) != len(roles):
            raise ValueError("a role is listed twice")
        return roles


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
    """One trusted key: its file entry, the loaded public key and its roles."""

    info: TrustedKey
    public_key: Ed25519PublicKey
    raw: bytes               # 32-byte raw public key
    roles: frozenset[str]    # what it may sign

    @property
    def key_id(self) -> str:
        return self.info.key_id


class TrustStore:
    """A loaded, checked trusted-keys file (or one built in memory, e.g. from a database)."""

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
                raise TrustFileError(exc.message) from None
            if keys.key_id_for(pub) != k.key_id:
                raise TrustFileError(f"{where}: key id {k.key_id} does not match its public key "
                                     f"(which has id {keys.key_id_for(pub)}); the file was edited by hand or damaged")
            if k.key_id in self.keys:
                raise TrustFileError(f"{where}: key {k.key_id} is listed twice")
            if k.valid_from and k.valid_until and k.valid_until <= k.valid_from:
                raise TrustFileError(f"{where}: key {k.key_id[:24]}: valid_until {k.valid_until} is not after "
                                     f"valid_from {k.valid_from}")
            raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            self.keys[k.key_id] = KeyEntry(k, pub, raw, frozenset(k.roles))
        self.logs: dict[str, str] = {}
        for pin in doc.logs:
            if pin.log_id in self.logs:
                raise TrustFileError(f"{where}: log {pin.log_id} is pinned twice")
            self.logs[pin.log_id] = pin.genesis

    def invalid_at(self, key_id: str, ts: str) -> str | None:
        """Why ``key_id`` is not valid at ``ts`` (None when it is). Timestamps compare as strings."""
        k = self.keys[key_id].info
        if k.valid_from is not None and ts < k.valid_from:
            return f"key {short(key_id)} ({k.owner}) is valid only from {k.valid_from}; signed time is {ts}"
        if k.valid_until is not None and ts >= k.valid_until:
            return f"key {short(key_id)} ({k.owner}) expired at {k.valid_until}; signed time is {ts}"
        if k.revoked_at is not None and ts >= k.revoked_at:
            return f"key {short(key_id)} ({k.owner}) was revoked at {k.revoked_at}; signed time is {ts}"
        return None

    def role_problem(self, key_id: str, allowed: Collection[str]) -> str | None:
        """Why ``key_id`` may not sign this kind of object (None when one of its roles allows it)."""
        entry = self.keys[key_id]
        if not entry.roles.isdisjoint(allowed):
            return None
        return (f"key {short(key_id)} ({entry.info.owner}) is trusted for {', '.join(sorted(entry.roles))}, "
                f"not for {' or '.join(allowed)}; a key with that role must sign this")

    def portable(self) -> tuple[dict[str, Any], str | None, str | None]:
        """A picklable form, for worker processes (``TrustStore.from_portable``)."""
        return self.doc.model_dump(), str(self.path) if self.path else None, self.sha256

    @classmethod
    def from_portable(cls, data: tuple[dict[str, Any], str | None, str | None]) -> TrustStore:
        doc, path, digest = data
        return cls(TrustFile.model_validate(doc), Path(path) if path else None, digest)


def short(key_id: str) -> str:
    return key_id[:24] + "…"


def parse(data: bytes, path: Path | None = None) -> TrustStore:
    """Check the bytes of a trusted-keys file. Raises TrustFileError with a fix-it message."""
    where = path if path is not None else "trusted-keys file"
    try:
        raw = canonical.loads(data)
    except CanonicalError as exc:
        raise TrustFileError(f"trusted-keys file {where} is not valid JSON: {exc.message}") from None
    try:
        doc = TrustFile.model_validate(raw)
    except ValidationError as exc:
        raise TrustFileError(f"trusted-keys file {where} is invalid at {validation_message(exc)}") from None
    return TrustStore(doc, path, sha256(data).hex())


def load(path: Path) -> TrustStore:
    """Load and check a trusted-keys file. Raises TrustFileError with a fix-it message."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_TRUST_FILE + 1)
    except FileNotFoundError:
        raise TrustFileError(f"trusted-keys file {path} does not exist; create it with "
                             f"`deelwijzer keys trust PUBLIC_KEY --trusted-keys {path} --owner NAME`") from None
    except OSError as exc:
        raise TrustFileError(f"cannot read trusted-keys file {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_TRUST_FILE:
        raise TrustFileError(f"trusted-keys file {path} is larger than {MAX_TRUST_FILE} bytes; it is not one "
                             f"deelwijzer wrote")
    return parse(data, path)


def _load_or_new(path: Path) -> TrustFile:
    if Path(path).exists():
        return load(path).doc
    return TrustFile(version=1, keys=[], logs=[])


def save(path: Path, doc: TrustFile) -> None:
    """Write atomically (a new temporary file, fsync, rename, fsync directory)."""
    TrustStore(doc, Path(path))  # never write a file that would not load
    text = doc.model_dump_json(indent=2) + "\n"
    try:
        replace_atomically(Path(path), text.encode("utf-8"), 0o644)
    except OSError as exc:
        raise TrustFileError(f"cannot write trusted-keys file {path}: {exc.strerror or exc}") from None


def signature_path(path: Path) -> Path:
    return Path(path).with_name(Path(path).name + SIGNATURE_SUFFIX)


def stale_signature_note(path: Path) -> str | None:
    """After an edit: a note when ``FILE.sig`` exists and therefore no longer matches."""
    sig = signature_path(path)
    if sig.exists():
        return (f"{sig} no longer matches the edited file: an auditor who checks it will refuse the file until it "
                f"is signed again with `deelwijzer keys sign-trust --trusted-keys {path} --key KEY`")
    return None


def window_warnings(entry: TrustedKey, now: str | None = None) -> list[str]:
    """Warnings about a validity window that cannot be what was meant."""
    now = now or now_ts()
    out = []
    if entry.valid_until is not None and entry.valid_until <= now:
        out.append(f"the validity window of {short(entry.key_id)} ended at {entry.valid_until}, before now ({now}): "
                   f"the key cannot sign any new record or checkpoint")
    return out


def trust_key(path: Path, public_key_path: Path, owner: str, valid_from: str | None = None,
              valid_until: str | None = None, roles: Iterable[Role] = ("record",)) -> TrustedKey:
    pub = keys.load_public_key(public_key_path)
    owner = keys.check_owner(owner)
    roles = list(dict.fromkeys(roles))
    bad = [r for r in roles if r not in ROLES]
    if bad or not roles:
        raise TrustFileError(f"unknown role {bad[0] if bad else '(none)'}; roles are {', '.join(ROLES)}",
                             Code.INVALID_ARGUMENT)
    doc = _load_or_new(path)
    kid = keys.key_id_for(pub)
    if any(k.key_id == kid for k in doc.keys):
        raise TrustFileError(f"key {kid} is already in {path}; to end its validity use `deelwijzer keys revoke`")
    if valid_from and valid_until and valid_until <= valid_from:
        raise TrustFileError(f"--valid-until {valid_until} is not after --valid-from {valid_from}",
                             Code.INVALID_ARGUMENT)
    entry = TrustedKey(key_id=kid, owner=owner, public_key=keys.public_key_pem(pub), roles=roles,
                       valid_from=valid_from, valid_until=valid_until, revoked_at=None)
    doc.keys.append(entry)
    save(path, doc)
    return entry


def find_key(doc: TrustFile, key_ref: str, path: Path) -> TrustedKey:
    """A key by full id, or by a unique prefix of its hex (at least 8 characters)."""
    ref = key_ref.strip().lower()
    hexpart = ref.split(":", 1)[1] if ref.startswith("ed25519:") else ref
    if len(hexpart) < 8:
        raise TrustFileError(f"key id {key_ref!r} is too short; give at least 8 hex characters", Code.INVALID_ARGUMENT)
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


# --- authenticating the file -------------------------------------------------------------------

class TrustSignature(BaseModel):
    """The payload of ``FILE.sig``: which exact bytes a ``trust`` key vouched for, and when."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)
    kid: Annotated[str, StringConstraints(pattern=KEY_ID_PATTERN)]
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    ts: Ts
    type: Literal["trusted-keys-signature"]
    v: Literal[1]


@dataclass(frozen=True)
class TrustAuthentication:
    """How a trusted-keys file was authenticated: ``how`` is ``sha256`` or ``signature``."""

    how: str
    detail: str
    signed_by: str | None = None
    signed_at: str | None = None


def sign(path: Path, key: keys.SigningKey) -> Path:
    """Write ``FILE.sig``: a DSSE envelope over the file's SHA-256, by a key with role ``trust``
    that the file itself lists. Returns the signature path."""
    path = Path(path)
    store = load(path)
    entry = store.keys.get(key.key_id)
    if entry is None:
        raise TrustFileError(f"key {short(key.key_id)} is not in {path}: add it first with `deelwijzer keys trust "
                             f"PUBLIC_KEY --trusted-keys {path} --owner NAME --role trust`", Code.UNTRUSTED_KEY)
    problem = store.role_problem(key.key_id, ("trust",))
    if problem:
        raise TrustFileError(f"{path}: {problem}", Code.KEY_ROLE_NOT_ALLOWED)
    ts = now_ts()
    why = store.invalid_at(key.key_id, ts)
    if why:
        raise TrustFileError(f"{path}: {why}", Code.KEY_NOT_VALID_AT_TIME)
    assert store.sha256 is not None
    payload = {"kid": key.key_id, "sha256": store.sha256, "ts": ts, "type": "trusted-keys-signature", "v": 1}
    line = envelope.make_line(canonical.dumps(payload), envelope.TRUST_SIGNATURE_TYPE, key)
    sig = signature_path(path)
    try:
        replace_atomically(sig, line, 0o644)
    except OSError as exc:
        raise TrustFileError(f"cannot write {sig}: {exc.strerror or exc}") from None
    return sig


def expected_key_id(ref: str | Path) -> str:
    """The key id an auditor names with ``--trusted-keys-signed-by``: a public-key PEM file, a key
    directory, or a full key id ``ed25519:<64 hex>`` (a prefix would be no pin at all)."""
    text = str(ref).strip()
    if text.startswith("ed25519:"):
        if len(text) != 8 + 64 or any(c not in "0123456789abcdef" for c in text[8:]):
            raise TrustFileError(f"{text!r} is not a full key id ed25519:<64 hex>; give the whole id or the "
                                 f"public-key file", Code.INVALID_ARGUMENT)
        return text
    try:
        return keys.key_id_for(keys.load_public_key(Path(text)))
    except KeyFileError as exc:
        raise TrustFileError(exc.message, Code.INVALID_ARGUMENT) from None


def authenticate(store: TrustStore, *, signed_by: str | Path | None = None,
                 expected_sha256: str | None = None) -> TrustAuthentication:
    """Check that the trusted-keys file is the one the auditor means. Raises TrustFileError with
    code TRUST_FILE_UNAUTHENTICATED when it is not (edited, re-signed by another key, unsigned)."""
    from audit.signed import open_envelope  # here, not at the top: audit.signed imports this module

    fail = Code.TRUST_FILE_UNAUTHENTICATED
    where = store.path or "trusted-keys file"
    if expected_sha256 is not None:
        want = expected_sha256.strip().lower().removeprefix("sha256:")
        if len(want) != 64 or any(c not in "0123456789abcdef" for c in want):
            raise TrustFileError(f"--trusted-keys-sha256 {expected_sha256!r} is not 64 hex characters",
                                 Code.INVALID_ARGUMENT)
        if store.sha256 != want:
            raise TrustFileError(f"{where} has SHA-256 {store.sha256}, not the expected {want}: the file was edited "
                                 f"(or this is another file)", fail)
        if signed_by is None:
            return TrustAuthentication("sha256", f"sha256 {want}")
    if signed_by is None:
        raise TrustFileError("no authentication asked for: give --trusted-keys-signed-by KEY or "
                             "--trusted-keys-sha256 HEX", fail)
    want_kid = expected_key_id(signed_by)
    if store.path is None:
        raise TrustFileError("an in-memory trust store has no signature file", fail)
    sig_path = signature_path(store.path)
    try:
        with open(sig_path, "rb") as fh:
            line = fh.read(1 << 16)
    except FileNotFoundError:
        raise TrustFileError(f"{where} is not signed: there is no {sig_path}; the organisation signs it with "
                             f"`deelwijzer keys sign-trust --trusted-keys {where} --key KEY`", fail) from None
    except OSError as exc:
        raise TrustFileError(f"cannot read {sig_path}: {exc.strerror or exc}", fail) from None
    line = line[:-1] if line.endswith(b"\n") else line
    try:
        opened = open_envelope(line, envelope.TRUST_SIGNATURE_TYPE, store, ("trust",))
    except EnvelopeError as exc:
        raise TrustFileError(f"{sig_path}: {exc.code}: {exc.message}", fail) from None
    if opened.key.key_id != want_kid:
        raise TrustFileError(f"{sig_path} is signed by {short(opened.key.key_id)} ({opened.key.info.owner}), not by "
                             f"the expected key {short(want_kid)}", fail)
    try:
        obj = canonical.loads(opened.payload)
        if not canonical.is_canonical(opened.payload, obj):
            raise TrustFileError(f"{sig_path}: the signed payload is not canonical JSON", fail)
        signed = TrustSignature.model_validate(obj)
    except (CanonicalError, ValidationError) as exc:
        msg = validation_message(exc) if isinstance(exc, ValidationError) else exc.message
        raise TrustFileError(f"{sig_path}: malformed signature payload: {msg}", fail) from None
    if signed.kid != opened.key.key_id:
        raise TrustFileError(f"{sig_path}: payload names key {short(signed.kid)} but is signed by "
                             f"{short(opened.key.key_id)}", fail)
    why = store.invalid_at(signed.kid, signed.ts)
    if why:
        raise TrustFileError(f"{sig_path}: {why}", fail)
    if signed.sha256 != store.sha256:
        raise TrustFileError(f"{where} was changed after it was signed: it has SHA-256 {store.sha256}, the signature "
                             f"of {signed.ts} covers {signed.sha256}", fail)
    return TrustAuthentication("signature", f"signed by {short(signed.kid)} ({opened.key.info.owner}) at {signed.ts}",
                               signed.kid, signed.ts)
