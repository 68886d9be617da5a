"""Key files: PKCS#12 parameters, modes, passphrases, pseudonymisation key."""
from __future__ import annotations

import os
import shutil
import stat
import subprocess

import pytest

from audit import keys, p12mac
from audit.errors import KeyFileError, RecordError, WrongPassphrase

PASS = b"correct horse battery staple"
OID_PBES2 = bytes.fromhex("06092a864886f70d01050d")
OID_PBKDF2 = bytes.fromhex("06092a864886f70d01050c")
OID_AES256_CBC = bytes.fromhex("060960864801650304012a")
OID_HMAC_SHA256 = bytes.fromhex("06082a864886f70d0209")
INT_600000 = bytes.fromhex("020309 27c0".replace(" ", ""))


@pytest.fixture(scope="module")
def keydir(tmp_path_factory):
    d = tmp_path_factory.mktemp("keys") / "k"
    info = keys.init_keypair(d, "Jeugdteam Noord laptop 3", PASS)
    return d, info


def test_files_and_modes(keydir):
    d, info = keydir
    assert info.private_path == d / "private-key.p12" and info.public_path == d / "public-key.pem"
    assert stat.S_IMODE(os.stat(info.private_path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(info.pseudonym_key_path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(d).st_mode) == 0o700
    assert info.key_id == keys.key_id_for(keys.load_public_key(info.public_path))
    assert info.key_id.startswith("ed25519:") and len(info.key_id) == 8 + 64


def test_pkcs12_uses_pbes2_pbkdf2_sha256_aes256_and_600000_rounds(keydir):
    data = keydir[1].private_path.read_bytes()
    for oid in (OID_PBES2, OID_PBKDF2, OID_AES256_CBC, OID_HMAC_SHA256):
        assert oid in data
    assert INT_600000 in data
    assert p12mac.mac_iterations(data) == 600_000  # the MAC is no cheap passphrase oracle either
    assert b"\x02\x02\x08\x00" not in data  # no 2048-iteration count anywhere


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl command not installed")
def test_openssl_reads_the_file_and_reports_the_parameters(keydir, tmp_path):
    pw = tmp_path / "pw"
    pw.write_bytes(PASS)
    out = subprocess.run(["openssl", "pkcs12", "-info", "-noout", "-in", str(keydir[1].private_path),
                          "-passin", f"file:{pw}"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "MAC: sha256, Iteration 600000" in out.stderr
    assert "PBES2, PBKDF2, AES-256-CBC, Iteration 600000, PRF hmacWithSHA256" in out.stderr


def test_load_round_trip_and_accepts_dir_or_file(keydir):
    d, info = keydir
    a = keys.load_signing_key(d, PASS)
    b = keys.load_signing_key(info.private_path, PASS)
    assert a.key_id == b.key_id == info.key_id
    assert a.pseudonym_key_id == info.pseudonym_key_id
    assert a.case_ref("dossier 4711") == b.case_ref("dossier 4711") != a.case_ref("dossier 4712")
    assert "PRIVATE" not in repr(a) and info.key_id in repr(a)


def test_wrong_passphrase(keydir):
    with pytest.raises(WrongPassphrase, match="wrong passphrase"):
        keys.load_signing_key(keydir[0], b"not the passphrase")


def test_tampered_mac_is_refused(keydir, tmp_path):
    data = bytearray(keydir[1].private_path.read_bytes())
    data[-40] ^= 1  # inside the MAC digest
    bad = tmp_path / "k"
    bad.mkdir()
    (bad / "private-key.p12").write_bytes(bytes(data))
    os.chmod(bad / "private-key.p12", 0o600)
    with pytest.raises(KeyFileError):
        keys.load_signing_key(bad, PASS)


def test_world_readable_key_is_refused(keydir, tmp_path):
    d = tmp_path / "k"
    shutil.copytree(keydir[0], d)
    os.chmod(d / "private-key.p12", 0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        keys.load_signing_key(d, PASS)


def test_missing_and_garbage_files(tmp_path):
    with pytest.raises(KeyFileError, match="keys init"):
        keys.load_signing_key(tmp_path / "nope", PASS)
    f = tmp_path / "private-key.p12"
    f.write_bytes(b"-----BEGIN PRIVATE KEY-----\n")
    os.chmod(f, 0o600)
    with pytest.raises(KeyFileError, match="not a PKCS#12"):
        keys.load_signing_key(f, PASS)


def test_weak_pkcs12_from_elsewhere_is_refused(tmp_path):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12
    f = tmp_path / "private-key.p12"
    f.write_bytes(pkcs12.serialize_key_and_certificates(b"x", Ed25519PrivateKey.generate(), None, None,
                                                         BestAvailableEncryption(PASS)))
    os.chmod(f, 0o600)
    with pytest.raises(KeyFileError, match="only 2048 iterations"):
        keys.load_signing_key(f, PASS)


def test_init_refuses_to_overwrite_and_short_passphrases(keydir, tmp_path):
    with pytest.raises(KeyFileError, match="refusing to overwrite"):
        keys.init_keypair(keydir[0], "x", PASS)
    with pytest.raises(KeyFileError, match="too short"):
        keys.init_keypair(tmp_path / "new", "x", b"short")
    with pytest.raises(KeyFileError, match="owner is empty"):
        keys.init_keypair(tmp_path / "new", "  ", PASS)


def test_pseudonym_key_bound_to_passphrase(keydir, tmp_path):
    d = tmp_path / "k"
    shutil.copytree(keydir[0], d)
    doc = (d / "pseudonym-key.json").read_text().replace('"ciphertext": "', '"ciphertext": "AAAA', 1)
    (d / "pseudonym-key.json").write_text(doc)
    with pytest.raises(KeyFileError, match="does not open"):
        keys.load_signing_key(d, PASS)


def test_case_ref_is_keyed_and_never_the_source(keydir):
    k = keys.load_signing_key(keydir[0], PASS)
    other = keys.SigningKey.generate()
    ref = k.case_ref("123456782")  # a BSN-like id
    assert ref.startswith("hmac-sha256:") and "123456782" not in ref
    assert other.case_ref("123456782") != ref  # another pseudonymisation domain
    with pytest.raises(RecordError):
        k.case_ref("   ")


def test_signing_key_cannot_be_pickled():
    import pickle
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(keys.SigningKey.generate())
