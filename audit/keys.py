"""Signing keys: create, store encrypted, load; key ids; the pseudonymisation key.

Files written by ``init_keypair(DIR, owner, passphrase)``:

- ``DIR/private-key.ossh`` (mode 0600): the Ed25519 private key in the OpenSSH private-key
  format, written and read by ``cryptography`` alone: bcrypt_pbkdf (the ``bcrypt`` package)
  at ``BCRYPT_ROUNDS`` rounds derives the AES-256-CTR key. Every passphrase guess costs those
  rounds: more than PBKDF2-HMAC-SHA256 at 600 000 iterations (``bench/audit.py`` measures
  both in one run), and the file holds no cheaper check (no MAC; the only test of a guess is
  decrypting with the derived key). ``ssh-keygen -y -f private-key.ossh`` reads it.
- ``DIR/public-key.pem``: the SubjectPublicKeyInfo, for ``deelwijzer keys trust``.
- ``DIR/pseudonym-key.json`` (mode 0600): 32 random bytes, the HMAC key that turns a case
  identifier into the pseudonymous ``case_ref`` stored in the log. Encrypted with AES-256-GCM
  under a key derived from the same passphrase (PBKDF2-HMAC-SHA256, 600 000 iterations, own
  salt; at most ``MAX_PBKDF2_ITERATIONS`` accepted on load). It never enters the log; the log
  only names it by ``pseudonym_key_id``.

Keys made by earlier versions (``DIR/private-key.p12``, PKCS#12) still load, with a note to
re-encrypt them (``reencrypt``, ``deelwijzer keys reencrypt``).

Opening a private key file runs the KDF whose work factor the file itself states, so a
damaged or replaced file could demand hours of work. The file is therefore opened by
``cryptography`` in a child process that is killed after ``KEY_OPEN_TIMEOUT`` seconds, after
a size check; nothing here parses the file format or implements a KDF.

The key id is ``"ed25519:" + hex(SHA-256(DER SubjectPublicKeyInfo))``, as RFC 6962 names log keys.
"""
from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import constant_time, hashes, hmac, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from audit.codes import Code
from audit.digest import sha256
from audit.errors import KeyFileError, RecordError, WrongPassphrase
from audit.files import fsync_dir, replace_atomically, write_new

BCRYPT_ROUNDS = 32          # bcrypt_pbkdf rounds of the private key file (see bench/audit.py)
PBKDF2_ITERATIONS = 600_000  # the pseudonymisation key file; also the reference cost of a guess
MAX_PBKDF2_ITERATIONS = 10 * PBKDF2_ITERATIONS
MIN_PASSPHRASE_BYTES = 8
MAX_KEY_FILE_BYTES = 64 << 10
KEY_OPEN_TIMEOUT = 30.0     # seconds; a key we wrote opens in well under a second
PRIVATE_KEY_FILE = "private-key.ossh"
LEGACY_PRIVATE_KEY_FILE = "private-key.p12"
PUBLIC_KEY_FILE = "public-key.pem"
PSEUDONYM_KEY_FILE = "pseudonym-key.json"
OPENSSH_HEADER = b"-----BEGIN OPENSSH PRIVATE KEY-----"
_PSEUD_AAD = b"deelwijzer-pseudonym-key-v1|"
_CASE_REF_DOMAIN = b"deelwijzer-case-ref-v1\x00"
_WEIGHING_DOMAIN = b"deelwijzer-weighing-v1\x00"


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
    except (ValueError, TypeError, UnsupportedAlgorithm):
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
        with open(path, "rb") as fh:
            data = fh.read(MAX_KEY_FILE_BYTES)
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
    key id, not the key. ``notes`` holds advice about the file it came from (e.g. re-encrypt)."""

    __slots__ = ("_private", "public_key", "key_id", "_pseud", "pseudonym_key_id", "notes")

    def __init__(self, private_key: Ed25519PrivateKey, pseudonym_key: bytes, notes: tuple[str, ...] = ()):
        if not isinstance(private_key, Ed25519PrivateKey):
            raise KeyFileError("signing keys must be Ed25519")
        if len(pseudonym_key) != 32:
            raise KeyFileError("the pseudonymisation key must be 32 bytes")
        self._private = private_key
        self.public_key = private_key.public_key()
        self.key_id = key_id_for(self.public_key)
        self._pseud = bytes(pseudonym_key)
        self.pseudonym_key_id = pseudonym_key_id(self._pseud)
        self.notes = notes

    @classmethod
    def generate(cls) -> SigningKey:
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

    def weighing_hash(self, text: str) -> str:
        """The keyed hash of a professional's own weighing (HMAC-SHA256 under the pseudonymisation
        key, its own domain): the text is normalised first (Unicode NFC, every run of white space
        one space, trimmed), so a text copied back from the dossier document gives the same hash."""
        normal = " ".join(unicodedata.normalize("NFC", text).split())
        if not normal:
            raise RecordError("the weighing is empty: record no weighing_hash for it")
        mac = hmac.HMAC(self._pseud, hashes.SHA256())
        mac.update(_WEIGHING_DOMAIN + normal.encode("utf-8"))
        return "hmac-sha256:" + base64.urlsafe_b64encode(mac.finalize()).rstrip(b"=").decode("ascii")

    def __repr__(self) -> str:
        return f"SigningKey({self.key_id})"

    def __reduce__(self) -> NoReturn:
        raise TypeError("SigningKey cannot be pickled (it would copy the private key)")


def pseudonym_key_id(key: bytes) -> str:
    mac = hmac.HMAC(key, hashes.SHA256())
    mac.update(b"deelwijzer-pseudonym-key-id")
    return "pk-" + mac.finalize()[:8].hex()


# --- writing --------------------------------------------------------------------------------

def check_owner(owner: str) -> str:
    if not isinstance(owner, str) or not owner.strip():
        raise KeyFileError("the key owner is empty: give --owner NAME (person or installation)", Code.INVALID_ARGUMENT)
    owner = owner.strip()
    if len(owner) > 200 or any(ord(c) < 32 or ord(c) == 127 for c in owner):
        raise KeyFileError("the key owner must be at most 200 characters without control characters",
                           Code.INVALID_ARGUMENT)
    return owner


def _check_new_passphrase(passphrase: bytes) -> None:
    if not isinstance(passphrase, bytes):
        raise KeyFileError("the passphrase must be bytes", Code.INVALID_ARGUMENT)
    if len(passphrase) < MIN_PASSPHRASE_BYTES:
        raise KeyFileError(f"the passphrase is too short: use at least {MIN_PASSPHRASE_BYTES} characters",
                           Code.INVALID_ARGUMENT)


def _derive_wrap_key(passphrase: bytes, salt: bytes, iterations: int) -> bytes:
    return PBKDF2HMAC(hashes.SHA256(), 32, salt, iterations).derive(passphrase)


def _pseudonym_file(key: bytes, passphrase: bytes) -> bytes:
    salt, nonce = os.urandom(16), os.urandom(12)
    kid = pseudonym_key_id(key)
    ct = AESGCM(_derive_wrap_key(passphrase, salt, PBKDF2_ITERATIONS)).encrypt(nonce, key, _PSEUD_AAD + kid.encode())
    doc = {
        "v": 1,
        "type": "deelwijzer-pseudonym-key",
        "pseudonym_key_id": kid,
        "kdf": {"name": "pbkdf2-hmac-sha256", "iterations": PBKDF2_ITERATIONS, "salt": base64.b64encode(salt).decode()},
        "cipher": "aes-256-gcm",
        "nonce": base64.b64encode(nonce).decode(),
        "ciphertext": base64.b64encode(ct).decode(),
    }
    return (json.dumps(doc, indent=2) + "\n").encode()


def private_key_bytes(private_key: Ed25519PrivateKey, passphrase: bytes, rounds: int = BCRYPT_ROUNDS) -> bytes:
    """The private key file's content: OpenSSH format, bcrypt_pbkdf at ``rounds``, AES-256-CTR."""
    enc = serialization.PrivateFormat.OpenSSH.encryption_builder().kdf_rounds(rounds).build(passphrase)
    return private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, enc)


def init_keypair(out_dir: Path, owner: str, passphrase: bytes) -> KeyInfo:
    """Create a new Ed25519 key pair and pseudonymisation key in ``out_dir``.

    Refuses to overwrite existing key files."""
    owner = check_owner(owner)
    _check_new_passphrase(passphrase)
    out_dir = Path(out_dir)
    private_path = out_dir / PRIVATE_KEY_FILE
    public_path = out_dir / PUBLIC_KEY_FILE
    pseud_path = out_dir / PSEUDONYM_KEY_FILE
    for p in (private_path, out_dir / LEGACY_PRIVATE_KEY_FILE, public_path, pseud_path):
        if p.exists() or p.is_symlink():
            raise KeyFileError(f"{p} already exists; refusing to overwrite a key. Choose another --out directory",
                               Code.INVALID_ARGUMENT)
    try:
        out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise KeyFileError(f"cannot create key directory {out_dir}: {exc.strerror or exc}") from None

    sk = Ed25519PrivateKey.generate()
    pseud = os.urandom(32)
    try:
        write_new(private_path, private_key_bytes(sk, passphrase), 0o600)
        write_new(pseud_path, _pseudonym_file(pseud, passphrase), 0o600)
        write_new(public_path, public_key_pem(sk.public_key()).encode("ascii"), 0o644)
    except OSError as exc:
        raise KeyFileError(f"cannot write key files in {out_dir}: {exc.strerror or exc}") from None
    fsync_dir(out_dir)
    return KeyInfo(key_id_for(sk.public_key()), owner, private_path, public_path, pseud_path, pseudonym_key_id(pseud))


# --- loading --------------------------------------------------------------------------------

def resolve_private_path(path: Path) -> Path:
    """Accept the key directory given to ``keys init --out`` or the private key file itself.

    In a directory, ``private-key.ossh`` is used, else an earlier version's ``private-key.p12``."""
    path = Path(path)
    if not path.is_dir():
        return path
    new = path / PRIVATE_KEY_FILE
    legacy = path / LEGACY_PRIVATE_KEY_FILE
    return legacy if not new.exists() and legacy.exists() else new


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
    if st.st_size > MAX_KEY_FILE_BYTES:
        raise KeyFileError(f"{what} {path} is {st.st_size} bytes, far larger than a key file: it is damaged or not a "
                           f"key file", Code.KEY_FILE_CORRUPTED)
    try:
        with open(path, "rb") as fh:
            return fh.read(MAX_KEY_FILE_BYTES + 1)
    except OSError as exc:
        raise KeyFileError(f"cannot read {what} {path}: {exc.strerror or exc}") from None


# The child that opens a private key file: only cryptography (and, through it, bcrypt), so that a
# KDF work factor stated by a damaged or replaced file can be cut short by killing the process.
_CHILD = r"""
import json, sys
cfg = json.loads(sys.stdin.buffer.readline())
sys.path[:0] = cfg["path"]
buf = sys.stdin.buffer.read()
n = int.from_bytes(buf[:4], "big")
password, data = buf[4:4 + n], buf[4 + n:]
out = sys.stdout.buffer
try:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    if cfg["kind"] == "openssh":
        key = serialization.load_ssh_private_key(data, password)
    else:
        from cryptography.hazmat.primitives.serialization import pkcs12
        key = pkcs12.load_key_and_certificates(data, password)[0]
    if not isinstance(key, Ed25519PrivateKey):
        out.write(b"ERtype|" + type(key).__name__.encode())
    else:
        out.write(b"OK" + key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                            serialization.NoEncryption()))
except ValueError as exc:
    out.write(b"ERvalue|" + str(exc).encode("utf-8", "replace"))
except Exception as exc:
    out.write(b"ERother|" + (type(exc).__name__ + ": " + str(exc)).encode("utf-8", "replace"))
"""


def _open_in_child(kind: str, data: bytes, passphrase: bytes, path: Path) -> Ed25519PrivateKey:
    header = json.dumps({"kind": kind, "path": [p for p in sys.path if isinstance(p, str) and p]}).encode() + b"\n"
    message = header + len(passphrase).to_bytes(4, "big") + passphrase + data
    try:
        done = subprocess.run([sys.executable, "-I", "-c", _CHILD], input=message, capture_output=True,
                              timeout=KEY_OPEN_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise KeyFileError(f"{path} takes more than {KEY_OPEN_TIMEOUT:.0f} s to open: the work factor it states is not "
                           f"one deelwijzer writes, so the file is damaged or was replaced. Restore it from a "
                           f"backup", Code.KEY_FILE_CORRUPTED) from None
    except OSError as exc:
        raise KeyFileError(f"cannot start the process that opens {path}: {exc.strerror or exc}") from None
    out = done.stdout
    if out.startswith(b"OK") and len(out) == 34:
        return Ed25519PrivateKey.from_private_bytes(out[2:])
    kind_of_error, _, detail = out[2:].decode("utf-8", "replace").partition("|")
    if not out.startswith(b"ER"):
        raise KeyFileError(f"the process that opens {path} failed (exit {done.returncode}): "
                           f"{done.stderr.decode('utf-8', 'replace').strip().splitlines()[-1:] or ['no output']}")
    if kind_of_error == "type":
        raise KeyFileError(f"{path} holds a {detail} key, not an Ed25519 signing key")
    if kind == "pkcs12":
        if kind_of_error == "value":
            raise WrongPassphrase(f"wrong passphrase for {path}, or the file is damaged (the PKCS#12 format of "
                                  f"earlier versions cannot tell these apart)")
        raise KeyFileError(f"{path} is not a PKCS#12 key file written by an earlier `deelwijzer keys init` ({detail})",
                           Code.KEY_FILE_CORRUPTED)
    if kind_of_error == "value" and "checksum" in detail:
        raise WrongPassphrase(f"wrong passphrase for {path} (or its encrypted part is damaged: the format has no "
                              f"separate integrity check that could tell)")
    raise KeyFileError(f"{path} is damaged: the passphrase opens it, but its content is inconsistent ({detail}). "
                       f"Restore it from a backup", Code.KEY_FILE_CORRUPTED)


def _check_openssh_structure(data: bytes, path: Path) -> None:
    """Check the file's structure without running its KDF (no passphrase: cryptography stops
    right before it), so that a damaged file is reported as damaged."""
    try:
        serialization.load_ssh_private_key(data, None)
    except TypeError:
        return  # "password-protected": the structure up to the encrypted part is sound
    except UnsupportedAlgorithm as exc:
        raise KeyFileError(f"{path} is not a key file deelwijzer writes ({exc}); it is damaged or from another tool",
                           Code.KEY_FILE_CORRUPTED) from None
    except ValueError as exc:
        raise KeyFileError(f"{path} is damaged ({exc}); restore it from a backup", Code.KEY_FILE_CORRUPTED) from None
    raise KeyFileError(f"{path} holds an unencrypted private key; protect it with `deelwijzer keys reencrypt`")


def load_private_key(private_path: Path, passphrase: bytes) -> tuple[Ed25519PrivateKey, Path, bool]:
    """(private key, file, is_legacy) for the key directory or file. Raises WrongPassphrase or
    KeyFileError (code KEY_FILE_INVALID or KEY_FILE_CORRUPTED)."""
    path = resolve_private_path(private_path)
    data = _read_secret_file(path, "private key")
    if data.lstrip().startswith(OPENSSH_HEADER):
        _check_openssh_structure(data, path)
        return _open_in_child("openssh", data, passphrase, path), path, False
    if data[:1] == b"\x30":  # a DER SEQUENCE: the PKCS#12 files of earlier versions
        return _open_in_child("pkcs12", data, passphrase, path), path, True
    raise KeyFileError(f"{path} is not a private key file written by `deelwijzer keys init` (expected "
                       f"'{OPENSSH_HEADER.decode()}')")


def load_signing_key(private_path: Path, passphrase: bytes) -> SigningKey:
    """Unlock the signing key (and its pseudonymisation key next to it).

    Raises WrongPassphrase when the passphrase does not open the key, KeyFileError for missing,
    malformed, damaged or world-readable files."""
    key, path, legacy = load_private_key(private_path, passphrase)
    pseud = _load_pseudonym_key(path.parent / PSEUDONYM_KEY_FILE, passphrase, path)
    notes: tuple[str, ...] = ()
    if legacy:
        notes = (f"{path} is in the PKCS#12 format of earlier versions; re-encrypt it in the current format with "
                 f"`deelwijzer keys reencrypt {path.parent}`",)
    return SigningKey(key, pseud, notes)


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
              and isinstance(kid, str) and type(iterations) is int and len(nonce) == 12)
    except (ValueError, KeyError, TypeError):
        ok = False
    if not ok:
        raise KeyFileError(f"{path} is not a pseudonymisation key file written by `deelwijzer keys init`",
                           Code.KEY_FILE_CORRUPTED)
    if not PBKDF2_ITERATIONS <= iterations <= MAX_PBKDF2_ITERATIONS:
        raise KeyFileError(f"{path} states {iterations} PBKDF2 iterations; deelwijzer writes {PBKDF2_ITERATIONS} and "
                           f"accepts {PBKDF2_ITERATIONS}..{MAX_PBKDF2_ITERATIONS}: the file is damaged or was replaced",
                           Code.KEY_FILE_CORRUPTED)
    try:
        key = AESGCM(_derive_wrap_key(passphrase, salt, iterations)).decrypt(nonce, ct, _PSEUD_AAD + kid.encode())
    except InvalidTag:
        raise KeyFileError(f"{path} does not open with the passphrase that opens {private_path} "
                           f"(the file was changed or belongs to another key)", Code.KEY_FILE_CORRUPTED) from None
    if not constant_time.bytes_eq(pseudonym_key_id(key).encode(), kid.encode()):
        raise KeyFileError(f"{path}: pseudonymisation key does not match its id {kid}", Code.KEY_FILE_CORRUPTED)
    return key


# --- re-encrypting ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Reencrypted:
    key_id: str
    private_path: Path          # the file in the current format
    removed: Path | None        # the earlier version's file, removed after the new one was checked


def reencrypt(key_dir: Path, passphrase: bytes) -> Reencrypted:
    """Write the key in the current format under the same passphrase (the pseudonymisation key
    file stays as it is), check that the new file opens to the same key, then remove an earlier
    version's PKCS#12 file. For a key already in the current format, this rewrites it at the
    current work factor."""
    key, source, legacy = load_private_key(key_dir, passphrase)
    directory = source.parent
    _load_pseudonym_key(directory / PSEUDONYM_KEY_FILE, passphrase, source)  # same passphrase: checked first
    target = directory / PRIVATE_KEY_FILE
    if legacy and (target.exists() or target.is_symlink()):
        raise KeyFileError(f"{target} already exists next to {source}; move one of them away first",
                           Code.INVALID_ARGUMENT)
    try:
        replace_atomically(target, private_key_bytes(key, passphrase), 0o600)
    except OSError as exc:
        raise KeyFileError(f"cannot write {target}: {exc.strerror or exc}") from None
    check = load_signing_key(target, passphrase)
    if check.key_id != key_id_for(key.public_key()):
        raise KeyFileError(f"internal check failed: {target} does not open to the same key; {source} was kept")
    removed = None
    if legacy:
        os.unlink(source)
        fsync_dir(directory)
        removed = source
    return Reencrypted(check.key_id, target, removed)
