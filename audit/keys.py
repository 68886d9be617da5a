"""Signing keys: create, store encrypted, load; key ids; the pseudonymisation key.

Files written by ``init_keypair(DIR, owner, passphrase)``:

- ``DIR/private-key.p12`` (mode 0600): the Ed25519 private key in PKCS#12, key bag PBES2 with
  PBKDF2-HMAC-SHA256 at 600 000 iterations and AES-256-CBC; the file MAC is re-derived at the
  same 600 000 iterations (see ``audit.p12mac``), so no part of the file is a cheap passphrase
  oracle.
- ``DIR/public-key.pem``: the SubjectPublicKeyInfo, for ``deelwijzer keys trust``.
- ``DIR/pseudonym-key.json`` (mode 0600): 32 random bytes, the HMAC key that turns a case
  identifier into the pseudonymous ``case_ref`` stored in the log. Encrypted with AES-256-GCM
  under a key derived from the same passphrase (PBKDF2-HMAC-SHA256, 600 000 iterations, own
  salt). It never enters the log; the log only names it by ``pseudonym_key_id``.

The key id is ``"ed25519:" + hex(SHA-256(DER SubjectPublicKeyInfo))``, as RFC 6962 names log keys.
"""
from __future__ import annotations

import base64
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import constant_time, hashes, hmac, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.hazmat.primitives.serialization.pkcs12 import PBES

from audit import p12mac
from audit.digest import sha256
from audit.errors import KeyFileError, RecordError, WrongPassphrase
from audit.files import fsync_dir, write_new

ITERATIONS = 600_000
MIN_PASSPHRASE_BYTES = 8
PRIVATE_KEY_FILE = "private-key.p12"
PUBLIC_KEY_FILE = "public-key.pem"
PSEUDONYM_KEY_FILE = "pseudonym-key.json"
_PSEUD_AAD = b"deelwijzer-pseudonym-key-v1|"
_CASE_REF_DOMAIN = b"deelwijzer-case-ref-v1\x00"


def key_id_for(public_key: Ed25519PublicKey) -> str:
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "ed25519:" + sha256(der).hex()


def public_key_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def public_key_from_pem(data: bytes, where: str) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError):
        raise KeyFileError(f"{where}: not a PEM public key (expected '-----BEGIN PUBLIC KEY-----')") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(f"{where}: the public key is {type(key).__name__}, only Ed25519 keys are accepted")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """Read a public key from a PEM file, or from ``DIR/public-key.pem`` when given a directory."""
    path = Path(path)
    if path.is_dir():
        path = path / PUBLIC_KEY_FILE
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read public key {path}: {exc.strerror or exc}") from None
    return public_key_from_pem(data, str(path))


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    owner: str
    private_path: Path
    public_path: Path
    pseudonym_key_path: Path
    pseudonym_key_id: str


class SigningKey:
    """An unlocked signing key, held in process memory only. Never printed: ``repr`` shows the
    key id, not the key."""

    __slots__ = ("_private", "public_key", "key_id", "_pseud", "pseudonym_key_id")

    def __init__(self, private_key: Ed25519PrivateKey, pseudonym_key: bytes):
        if not isinstance(private_key, Ed25519PrivateKey):
            raise KeyFileError("signing keys must be Ed25519")
        if len(pseudonym_key) != 32:
            raise KeyFileError("the pseudonymisation key must be 32 bytes")
        self._private = private_key
        self.public_key = private_key.public_key()
        self.key_id = key_id_for(self.public_key)
        self._pseud = bytes(pseudonym_key)
        self.pseudonym_key_id = pseudonym_key_id(self._pseud)

    @classmethod
    def generate(cls) -> "SigningKey":
        """A fresh in-memory key (tests, benchmarks, tools). Use ``init_keypair`` for real keys."""
        return cls(Ed25519PrivateKey.generate(), os.urandom(32))

    def sign(self, data: bytes) -> bytes:
        return self._private.sign(data)

    def case_ref(self, source: str) -> str:
        """The pseudonymous case reference: HMAC-SHA256 under the pseudonymisation key."""
        if not isinstance(source, str) or not source.strip():
            raise RecordError("case_ref_source is empty: give the case identifier to pseudonymise")
        try:
            data = source.strip().encode("utf-8")
        except UnicodeEncodeError:
            raise RecordError("case_ref_source is not valid Unicode text") from None
        mac = hmac.HMAC(self._pseud, hashes.SHA256())
        mac.update(_CASE_REF_DOMAIN + data)
        return "hmac-sha256:" + base64.urlsafe_b64encode(mac.finalize()).rstrip(b"=").decode("ascii")

    def __repr__(self) -> str:
        return f"SigningKey({self.key_id})"

    def __reduce__(self):
        raise TypeError("SigningKey cannot be pickled (it would copy the private key)")


def pseudonym_key_id(key: bytes) -> str:
    mac = hmac.HMAC(key, hashes.SHA256())
    mac.update(b"deelwijzer-pseudonym-key-id")
    return "pk-" + mac.finalize()[:8].hex()


# --- writing --------------------------------------------------------------------------------

def _check_owner(owner: str) -> str:
    if not isinstance(owner, str) or not owner.strip():
        raise KeyFileError("the key owner is empty: give --owner NAME (person or installation)")
    owner = owner.strip()
    if len(owner) > 200 or any(ord(c) < 32 for c in owner):
        raise KeyFileError("the key owner must be at most 200 characters without control characters")
    return owner


def _check_new_passphrase(passphrase: bytes) -> None:
    if not isinstance(passphrase, bytes):
        raise KeyFileError("the passphrase must be bytes")
    if len(passphrase) < MIN_PASSPHRASE_BYTES:
        raise KeyFileError(f"the passphrase is too short: use at least {MIN_PASSPHRASE_BYTES} characters")


def _derive_wrap_key(passphrase: bytes, salt: bytes, iterations: int) -> bytes:
    return PBKDF2HMAC(hashes.SHA256(), 32, salt, iterations).derive(passphrase)


def _pseudonym_file(key: bytes, passphrase: bytes) -> bytes:
    salt, nonce = os.urandom(16), os.urandom(12)
    kid = pseudonym_key_id(key)
    ct = AESGCM(_derive_wrap_key(passphrase, salt, ITERATIONS)).encrypt(nonce, key, _PSEUD_AAD + kid.encode())
    doc = {
        "v": 1,
        "type": "deelwijzer-pseudonym-key",
        "pseudonym_key_id": kid,
        "kdf": {"name": "pbkdf2-hmac-sha256", "iterations": ITERATIONS, "salt": base64.b64encode(salt).decode()},
        "cipher": "aes-256-gcm",
        "nonce": base64.b64encode(nonce).decode(),
        "ciphertext": base64.b64encode(ct).decode(),
    }
    return (json.dumps(doc, indent=2) + "\n").encode()


def init_keypair(out_dir: Path, owner: str, passphrase: bytes) -> KeyInfo:
    """Create a new Ed25519 key pair and pseudonymisation key in ``out_dir``.

    Refuses to overwrite existing key files."""
    owner = _check_owner(owner)
    _check_new_passphrase(passphrase)
    out_dir = Path(out_dir)
    private_path = out_dir / PRIVATE_KEY_FILE
    public_path = out_dir / PUBLIC_KEY_FILE
    pseud_path = out_dir / PSEUDONYM_KEY_FILE
    for p in (private_path, public_path, pseud_path):
        if p.exists():
            raise KeyFileError(f"{p} already exists; refusing to overwrite a key. Choose another --out directory")
    try:
        out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise KeyFileError(f"cannot create key directory {out_dir}: {exc.strerror or exc}") from None

    sk = Ed25519PrivateKey.generate()
    enc = (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(ITERATIONS)
        .key_cert_algorithm(PBES.PBESv2SHA256AndAES256CBC)
        .hmac_hash(hashes.SHA256())
        .build(passphrase)
    )
    p12 = pkcs12.serialize_key_and_certificates(owner.encode("utf-8"), sk, None, None, enc)
    p12 = p12mac.strengthen_mac(p12, passphrase, ITERATIONS)
    pseud = os.urandom(32)
    try:
        write_new(private_path, p12, 0o600)
        write_new(pseud_path, _pseudonym_file(pseud, passphrase), 0o600)
        write_new(public_path, public_key_pem(sk.public_key()).encode("ascii"), 0o644)
    except OSError as exc:
        raise KeyFileError(f"cannot write key files in {out_dir}: {exc.strerror or exc}") from None
    fsync_dir(out_dir)
    return KeyInfo(key_id_for(sk.public_key()), owner, private_path, public_path, pseud_path, pseudonym_key_id(pseud))


# --- loading --------------------------------------------------------------------------------

def resolve_private_path(path: Path) -> Path:
    """Accept the key directory given to ``keys init --out`` or the ``.p12`` file itself."""
    path = Path(path)
    return path / PRIVATE_KEY_FILE if path.is_dir() else path


def _read_secret_file(path: Path, what: str) -> bytes:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise KeyFileError(f"no {what} at {path}; create one with `deelwijzer keys init --out DIR`") from None
    except OSError as exc:
        raise KeyFileError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        raise KeyFileError(f"{what} {path} is not a regular file")
    if st.st_mode & 0o077:
        raise KeyFileError(f"{what} {path} is accessible to other users (mode {stat.S_IMODE(st.st_mode):04o}); "
                           f"run `chmod 600 {path}`")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read {what} {path}: {exc.strerror or exc}") from None


def load_signing_key(private_path: Path, passphrase: bytes) -> SigningKey:
    """Unlock the signing key (and its pseudonymisation key next to it).

    Raises WrongPassphrase when the passphrase does not open the key, KeyFileError for missing,
    malformed, weakly protected or world-readable files."""
    path = resolve_private_path(private_path)
    data = _read_secret_file(path, "private key")
    try:
        mac_iter = p12mac.mac_iterations(data)
    except KeyFileError as exc:
        raise KeyFileError(f"{path} is not a PKCS#12 key file written by `deelwijzer keys init` ({exc})") from None
    if mac_iter < ITERATIONS:
        raise KeyFileError(f"{path} is protected with only {mac_iter} iterations (at least {ITERATIONS} required); "
                           f"create a new key with `deelwijzer keys init`")
    try:
        key, _cert, _cas = pkcs12.load_key_and_certificates(data, passphrase)
    except ValueError:
        raise WrongPassphrase(f"wrong passphrase for {path} (the file is intact but does not open with it)") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path} holds a {type(key).__name__}, not an Ed25519 signing key")
    pseud = _load_pseudonym_key(path.parent / PSEUDONYM_KEY_FILE, passphrase, path)
    return SigningKey(key, pseud)


def _load_pseudonym_key(path: Path, passphrase: bytes, private_path: Path) -> bytes:
    raw = _read_secret_file(path, "pseudonymisation key")
    try:
        doc = json.loads(raw)
        kid = doc["pseudonym_key_id"]
        iterations = doc["kdf"]["iterations"]
        salt = base64.b64decode(doc["kdf"]["salt"], validate=True)
        nonce = base64.b64decode(doc["nonce"], validate=True)
        ct = base64.b64decode(doc["ciphertext"], validate=True)
        ok = (doc.get("v") == 1 and doc["kdf"]["name"] == "pbkdf2-hmac-sha256" and doc["cipher"] == "aes-256-gcm"
              and isinstance(kid, str) and isinstance(iterations, int))
    except (ValueError, KeyError, TypeError):
        ok = False
    if not ok:
        raise KeyFileError(f"{path} is not a pseudonymisation key file written by `deelwijzer keys init`")
    if iterations < ITERATIONS:
        raise KeyFileError(f"{path} is protected with only {iterations} iterations (at least {ITERATIONS} required)")
    try:
        key = AESGCM(_derive_wrap_key(passphrase, salt, iterations)).decrypt(nonce, ct, _PSEUD_AAD + kid.encode())
    except InvalidTag:
        raise KeyFileError(f"{path} does not open with the passphrase that opens {private_path} "
                           f"(the file was changed or belongs to another key)") from None
    if not constant_time.bytes_eq(pseudonym_key_id(key).encode(), kid.encode()):
        raise KeyFileError(f"{path}: pseudonymisation key does not match its id {kid}")
    return key
