"""Strengthen the integrity MAC of a PKCS#12 file to the same iteration count as its key bag.

Why: cryptography's PKCS#12 writer protects the key bag with PBES2 / PBKDF2-HMAC-SHA256 at the
rounds we ask for (600 000), but it always derives the file's MAC key with the PKCS#12 KDF at
2 048 iterations. The MAC is computed from the same passphrase, so it is a cheap oracle: an
attacker could test passphrase guesses against the MAC 300x faster than against the key bag.
We therefore recompute the MAC (HMAC-SHA256, key from the RFC 7292 appendix B.2 KDF) with the
strong iteration count and rewrite the MacData. The file stays standard PKCS#12: OpenSSL and
cryptography verify the new MAC on load (checked by the tests), and ``openssl pkcs12 -info``
shows "MAC: sha256, Iteration 600000".

Only the small DER subset cryptography writes is handled (definite lengths); anything else
raises KeyFileError rather than being guessed at.
"""
from __future__ import annotations

from cryptography.hazmat.primitives import hashes, hmac

from audit.errors import KeyFileError

_SHA256_OID = bytes.fromhex("0609608648016503040201")  # DER of OID 2.16.840.1.101.3.4.2.1


def _read_tlv(data: bytes, pos: int) -> tuple[int, int, int, int]:
    """Return (tag, value_start, value_end, next_pos) of the DER element at ``pos``."""
    if pos + 2 > len(data):
        raise KeyFileError("PKCS#12 data ends inside an ASN.1 header")
    tag = data[pos]
    first = data[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    else:
        n = first & 0x7F
        if n == 0 or n > 4 or pos + n > len(data):
            raise KeyFileError("PKCS#12 data uses an unsupported ASN.1 length encoding")
        length = int.from_bytes(data[pos:pos + n], "big")
        pos += n
    end = pos + length
    if end > len(data):
        raise KeyFileError("PKCS#12 data is truncated")
    return tag, pos, end, end


def _encode_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _tlv(tag: int, value: bytes) -> bytes:
    return bytes([tag]) + _encode_len(len(value)) + value


def _der_int(n: int) -> bytes:
    raw = n.to_bytes(n.bit_length() // 8 + 1, "big")
    return _tlv(0x02, raw)


def _bmp_password(passphrase: bytes) -> bytes:
    """PKCS#12 passwords are BMPStrings with a two-byte NUL terminator (RFC 7292 B.1)."""
    try:
        text = passphrase.decode("utf-8")
    except UnicodeDecodeError:
        raise KeyFileError("the passphrase is not valid UTF-8 text") from None
    if any(ord(ch) > 0xFFFF for ch in text):
        raise KeyFileError("the passphrase contains characters outside the Basic Multilingual Plane "
                           "(e.g. emoji), which PKCS#12 cannot encode; choose another passphrase")
    return text.encode("utf-16-be") + b"\x00\x00"


def _fill(data: bytes, v: int) -> bytes:
    """Concatenate copies of ``data`` to a multiple of ``v`` bytes (RFC 7292 B.2 steps 2-3)."""
    if not data:
        return b""
    n = v * ((len(data) + v - 1) // v)
    return (data * (n // len(data) + 1))[:n]


def pkcs12_kdf_sha256(passphrase: bytes, salt: bytes, iterations: int, key_id: int = 3, n: int = 32) -> bytes:
    """RFC 7292 appendix B.2 with SHA-256 (u=32, v=64), for a key of at most 32 bytes."""
    if n > 32:
        raise ValueError("only keys up to one hash block are needed here")
    v = 64
    d = bytes([key_id]) * v
    s = _fill(salt, v)
    p = _fill(_bmp_password(passphrase), v)
    a = d + s + p
    for _ in range(iterations):
        h = hashes.Hash(hashes.SHA256())
        h.update(a)
        a = h.finalize()
    return a[:n]


def _parse(pfx: bytes) -> dict:
    tag, start, end, _ = _read_tlv(pfx, 0)
    if tag != 0x30 or end != len(pfx):
        raise KeyFileError("not a PKCS#12 file (no outer ASN.1 SEQUENCE)")
    pos = start
    tag, vs, ve, pos = _read_tlv(pfx, pos)          # version
    version = pfx[start:pos]
    auth_start = pos
    tag, as_s, as_e, pos = _read_tlv(pfx, pos)      # authSafe ContentInfo
    auth_safe = pfx[auth_start:pos]
    t, oid_s, oid_e, p2 = _read_tlv(pfx, as_s)       # contentType OID
    t, c_s, c_e, p2 = _read_tlv(pfx, p2)             # [0] EXPLICIT
    if t != 0xA0:
        raise KeyFileError("PKCS#12 authSafe has no [0] content")
    t, o_s, o_e, _ = _read_tlv(pfx, c_s)             # OCTET STRING
    if t != 0x04:
        raise KeyFileError("PKCS#12 authSafe content is not a definite-length OCTET STRING")
    content = pfx[o_s:o_e]
    if pos >= end:
        raise KeyFileError("PKCS#12 file has no MAC")
    tag, md_s, md_e, pos = _read_tlv(pfx, pos)       # MacData
    t, di_s, di_e, q = _read_tlv(pfx, md_s)          # DigestInfo
    t, alg_s, alg_e, r = _read_tlv(pfx, di_s)        # AlgorithmIdentifier
    alg = pfx[di_s:r]
    t, dg_s, dg_e, r = _read_tlv(pfx, r)             # digest OCTET STRING
    t, salt_s, salt_e, q = _read_tlv(pfx, q)         # macSalt
    iterations = 1
    if q < md_e:
        t, it_s, it_e, q = _read_tlv(pfx, q)
        iterations = int.from_bytes(pfx[it_s:it_e], "big")
    if _SHA256_OID not in pfx[alg_s:alg_e]:
        raise KeyFileError("PKCS#12 MAC does not use SHA-256")
    return {"version": version, "auth_safe": auth_safe, "content": content, "alg": alg,
            "digest": pfx[dg_s:dg_e], "salt": pfx[salt_s:salt_e], "iterations": iterations}


def mac_iterations(pfx: bytes) -> int:
    """The iteration count of the file's MAC."""
    return _parse(pfx)["iterations"]


def _mac(passphrase: bytes, salt: bytes, iterations: int, content: bytes) -> bytes:
    key = pkcs12_kdf_sha256(passphrase, salt, iterations)
    m = hmac.HMAC(key, hashes.SHA256())
    m.update(content)
    return m.finalize()


def strengthen_mac(pfx: bytes, passphrase: bytes, iterations: int) -> bytes:
    """Return ``pfx`` with its MAC recomputed at ``iterations`` (same salt, same content).

    The existing MAC is checked first, so a KDF mismatch can never produce a broken file."""
    parts = _parse(pfx)
    if _mac(passphrase, parts["salt"], parts["iterations"], parts["content"]) != parts["digest"]:
        raise KeyFileError("internal check failed: the PKCS#12 MAC written by cryptography could not be "
                           "reproduced; the key file was not written")
    digest = _mac(passphrase, parts["salt"], iterations, parts["content"])
    digest_info = _tlv(0x30, parts["alg"] + _tlv(0x04, digest))
    mac_data = _tlv(0x30, digest_info + _tlv(0x04, parts["salt"]) + _der_int(iterations))
    return _tlv(0x30, parts["version"] + parts["auth_safe"] + mac_data)
