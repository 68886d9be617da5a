"""Key files: the OpenSSH format written and read by cryptography alone, modes, passphrases,
damaged files, the bounded cost of opening a file, earlier versions' PKCS#12 files, the
pseudonymisation key."""
from __future__ import annotations

import base64
import json
import os
import shutil
import stat
import subprocess
import time

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.hazmat.primitives.serialization.pkcs12 import PBES

from audit import keys
from audit.codes import Code
from audit.errors import KeyFileError, RecordError, WrongPassphrase

PASS = b"correct horse battery staple"


@pytest.fixture(scope="module")
def keydir(tmp_path_factory):
    d = tmp_path_factory.mktemp("keys") / "k"
    info = keys.init_keypair(d, "Jeugdteam Noord laptop 3", PASS)
    return d, info


def _copy(keydir, tmp_path):
    d = tmp_path / "k"
    shutil.copytree(keydir[0], d)
    return d


def _openssh_body(data: bytes) -> bytes:
    lines = data.decode().strip().splitlines()
    return base64.b64decode("".join(lines[1:-1]))


def _openssh_file(body: bytes) -> bytes:
    text = base64.b64encode(body).decode()
    return ("-----BEGIN OPENSSH PRIVATE KEY-----\n" + "\n".join(text[i:i + 70] for i in range(0, len(text), 70))
            + "\n-----END OPENSSH PRIVATE KEY-----\n").encode()


ROUNDS_AT = 15 + (4 + 10) + (4 + 6) + 4 + (4 + 16)  # magic, "aes256-ctr", "bcrypt", kdfoptions length, salt


def test_files_and_modes(keydir):
    d, info = keydir
    assert info.private_path == d / "private-key.ossh" and info.public_path == d / "public-key.pem"
    assert stat.S_IMODE(os.stat(info.private_path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(info.pseudonym_key_path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(d).st_mode) == 0o700
    assert info.key_id == keys.key_id_for(keys.load_public_key(info.public_path))
    assert info.key_id.startswith("ed25519:") and len(info.key_id) == 8 + 64


def test_the_file_is_standard_openssh_with_bcrypt_at_the_chosen_rounds(keydir):
    data = keydir[1].private_path.read_bytes()
    assert data.startswith(b"-----BEGIN OPENSSH PRIVATE KEY-----\n")
    body = _openssh_body(data)
    assert body.startswith(b"openssh-key-v1\x00\x00\x00\x00\x0aaes256-ctr\x00\x00\x00\x06bcrypt")
    assert int.from_bytes(body[ROUNDS_AT:ROUNDS_AT + 4], "big") == keys.BCRYPT_ROUNDS
    # no unencrypted key and nothing else to check a guess against: cryptography alone opens it
    with pytest.raises(TypeError, match="password"):
        serialization.load_ssh_private_key(data, None)


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen not installed")
def test_ssh_keygen_reads_the_file(keydir):
    _d, info = keydir
    out = subprocess.run(["ssh-keygen", "-y", "-P", PASS.decode(), "-f", str(info.private_path)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    pub = keys.load_public_key(info.public_path).public_bytes(serialization.Encoding.OpenSSH,
                                                              serialization.PublicFormat.OpenSSH).decode()
    assert out.stdout.split()[:2] == pub.split()[:2]


def test_load_round_trip_and_accepts_dir_or_file(keydir):
    d, info = keydir
    a = keys.load_signing_key(d, PASS)
    b = keys.load_signing_key(info.private_path, PASS)
    assert a.key_id == b.key_id == info.key_id and a.notes == ()
    assert a.pseudonym_key_id == info.pseudonym_key_id
    assert a.case_ref("dossier 4711") == b.case_ref("dossier 4711") != a.case_ref("dossier 4712")
    assert "PRIVATE" not in repr(a) and info.key_id in repr(a)


def test_wrong_passphrase(keydir):
    with pytest.raises(WrongPassphrase, match="wrong passphrase") as exc:
        keys.load_signing_key(keydir[0], b"not the passphrase")
    assert exc.value.code is Code.WRONG_PASSPHRASE and "intact" not in exc.value.message


@pytest.mark.parametrize("where", ["header", "public part"])
def test_a_damaged_file_is_reported_as_damaged(keydir, tmp_path, where):
    d = _copy(keydir, tmp_path)
    f = d / "private-key.ossh"
    body = bytearray(_openssh_body(f.read_bytes()))
    body[20 if where == "header" else 100] ^= 1  # the cipher name / the public key in the clear
    f.write_bytes(_openssh_file(bytes(body)))
    with pytest.raises(KeyFileError) as exc:
        keys.load_signing_key(d, PASS)
    assert exc.value.code is Code.KEY_FILE_CORRUPTED and not isinstance(exc.value, WrongPassphrase)


def test_a_file_that_demands_endless_work_is_cut_short(keydir, tmp_path, monkeypatch):
    """A damaged or replaced file may state any bcrypt work factor: the child that opens it is killed."""
    d = _copy(keydir, tmp_path)
    f = d / "private-key.ossh"
    body = bytearray(_openssh_body(f.read_bytes()))
    body[ROUNDS_AT:ROUNDS_AT + 4] = (2**31 - 1).to_bytes(4, "big")
    f.write_bytes(_openssh_file(bytes(body)))
    monkeypatch.setattr(keys, "KEY_OPEN_TIMEOUT", 3.0)
    t = time.monotonic()
    with pytest.raises(KeyFileError, match="takes more than 3 s") as exc:
        keys.load_signing_key(d, PASS)
    assert exc.value.code is Code.KEY_FILE_CORRUPTED and time.monotonic() - t < 30


def test_world_readable_key_is_refused(keydir, tmp_path):
    d = _copy(keydir, tmp_path)
    os.chmod(d / "private-key.ossh", 0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        keys.load_signing_key(d, PASS)


def test_missing_oversized_and_garbage_files(tmp_path):
    with pytest.raises(KeyFileError, match="keys init"):
        keys.load_signing_key(tmp_path / "nope", PASS)
    f = tmp_path / "private-key.ossh"
    f.write_bytes(b"-----BEGIN PRIVATE KEY-----\n")
    os.chmod(f, 0o600)
    with pytest.raises(KeyFileError, match="not a private key file") as exc:
        keys.load_signing_key(f, PASS)
    assert exc.value.code is Code.KEY_FILE_INVALID
    f.write_bytes(b"\x30" * (keys.MAX_KEY_FILE_BYTES + 1))
    with pytest.raises(KeyFileError, match="far larger") as exc:
        keys.load_signing_key(f, PASS)
    assert exc.value.code is Code.KEY_FILE_CORRUPTED


# --- keys made by earlier versions ---------------------------------------------------------------

@pytest.fixture(scope="module")
def legacy_dir(tmp_path_factory, keydir):
    """A key directory as an earlier version wrote it: private-key.p12 next to the pseudonym key."""
    d = tmp_path_factory.mktemp("legacy") / "k"
    d.mkdir(mode=0o700)
    sk = Ed25519PrivateKey.generate()
    enc = (serialization.PrivateFormat.PKCS12.encryption_builder().kdf_rounds(600_000)
           .key_cert_algorithm(PBES.PBESv2SHA256AndAES256CBC).hmac_hash(hashes.SHA256()).build(PASS))
    (d / "private-key.p12").write_bytes(pkcs12.serialize_key_and_certificates(b"old", sk, None, None, enc))
    os.chmod(d / "private-key.p12", 0o600)
    shutil.copy2(keydir[0] / "pseudonym-key.json", d / "pseudonym-key.json")
    (d / "public-key.pem").write_text(keys.public_key_pem(sk.public_key()))
    return d, keys.key_id_for(sk.public_key())


def test_an_earlier_versions_key_still_loads_with_a_note(legacy_dir):
    d, kid = legacy_dir
    k = keys.load_signing_key(d, PASS)
    assert k.key_id == kid and len(k.notes) == 1 and "keys reencrypt" in k.notes[0]
    with pytest.raises(WrongPassphrase, match="cannot tell"):
        keys.load_signing_key(d, b"not the passphrase")


def test_an_earlier_versions_key_with_an_endless_mac_count_is_cut_short(legacy_dir, tmp_path, monkeypatch):
    """The PKCS#12 MAC iteration count is not covered by the MAC: set it to 2^31-1. (The attack
    is built here by patching the file's last INTEGER; the product never parses the format.)"""
    data = bytearray((legacy_dir[0] / "private-key.p12").read_bytes())
    mac = len(data) - 67  # MacData: SEQUENCE { DigestInfo (51), salt (10), iterations (4) }
    assert data[:2] == b"\x30\x82" and data[mac:mac + 2] == b"\x30\x41" and data[-4:] == b"\x02\x02\x08\x00"
    data[-4:] = b"\x02\x04\x7f\xff\xff\xff"
    data[mac + 1] += 2
    data[2:4] = (int.from_bytes(data[2:4], "big") + 2).to_bytes(2, "big")
    d = tmp_path / "k"
    shutil.copytree(legacy_dir[0], d)
    (d / "private-key.p12").write_bytes(bytes(data))
    monkeypatch.setattr(keys, "KEY_OPEN_TIMEOUT", 3.0)
    with pytest.raises(KeyFileError, match="takes more than 3 s") as exc:
        keys.load_signing_key(d, PASS)
    assert exc.value.code is Code.KEY_FILE_CORRUPTED


def test_reencrypt_converts_an_earlier_versions_key(legacy_dir, tmp_path):
    d = tmp_path / "k"
    shutil.copytree(legacy_dir[0], d)
    done = keys.reencrypt(d, PASS)
    assert done.key_id == legacy_dir[1] and done.removed == d / "private-key.p12"
    assert not (d / "private-key.p12").exists() and stat.S_IMODE(os.stat(d / "private-key.ossh").st_mode) == 0o600
    k = keys.load_signing_key(d, PASS)
    assert k.key_id == legacy_dir[1] and k.notes == ()


def test_init_refuses_to_overwrite_and_short_passphrases(keydir, tmp_path):
    with pytest.raises(KeyFileError, match="refusing to overwrite"):
        keys.init_keypair(keydir[0], "x", PASS)
    with pytest.raises(KeyFileError, match="too short"):
        keys.init_keypair(tmp_path / "new", "x", b"short")
    with pytest.raises(KeyFileError, match="owner is empty"):
        keys.init_keypair(tmp_path / "new", "  ", PASS)


def test_pseudonym_key_bound_to_passphrase(keydir, tmp_path):
    d = _copy(keydir, tmp_path)
    doc = (d / "pseudonym-key.json").read_text().replace('"ciphertext": "', '"ciphertext": "AAAA', 1)
    (d / "pseudonym-key.json").write_text(doc)
    with pytest.raises(KeyFileError, match="does not open"):
        keys.load_signing_key(d, PASS)


def test_pseudonym_key_iteration_count_is_bounded(keydir, tmp_path):
    d = _copy(keydir, tmp_path)
    doc = json.loads((d / "pseudonym-key.json").read_text())
    doc["kdf"]["iterations"] = 10**12
    (d / "pseudonym-key.json").write_text(json.dumps(doc))
    t = time.monotonic()
    with pytest.raises(KeyFileError, match="accepts 600000..6000000") as exc:
        keys.load_signing_key(d, PASS)
    assert exc.value.code is Code.KEY_FILE_CORRUPTED and time.monotonic() - t < 30


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
