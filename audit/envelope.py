"""DSSE envelopes, one per log line.

A line is exactly (canonical JSON, then ``\\n``)::

    {"payload":"<base64>","payloadType":"<type>","signatures":[{"keyid":"ed25519:<hex>","sig":"<base64>"}]}

The signature is Ed25519 over ``PAE(payloadType, payload_bytes)``, the DSSE v1
pre-authentication encoding, so a checkpoint can never be passed off as a record (different
payloadType). The verifier checks the signature over the exact payload bytes before parsing
them, then requires those bytes to be canonical JSON. Base64 must be canonical too (standard
alphabet, padding, zero padding bits): a string that decodes but does not re-encode to itself
is rejected.
"""
from __future__ import annotations

import base64
import binascii
import re
from typing import NoReturn, Protocol

from audit import canonical
from audit.codes import Code
from audit.errors import CanonicalError, EnvelopeError

RECORD_TYPE = "application/vnd.deelwijzer.audit-record.v1+json"
CHECKPOINT_TYPE = "application/vnd.deelwijzer.audit-checkpoint.v1+json"
TRUST_SIGNATURE_TYPE = "application/vnd.deelwijzer.trusted-keys-signature.v1+json"
RELEASE_TYPE = "application/vnd.in-toto+json"  # an in-toto Statement v1 (audit.release)
MAX_LINE = 1 << 20  # bytes; longer lines are rejected unread (a record is a few KiB)

_PREFIX = b'{"payload":"'
_TAIL_RE = re.compile(
    rb'","payloadType":"([A-Za-z0-9.+/\-]{1,100})",'
    rb'"signatures":\[\{"keyid":"(ed25519:[0-9a-f]{64})","sig":"([A-Za-z0-9+/]{86}==)"\}\]\}'
)
_PAD_MASK = {2: 0x0F, 1: 0x03}  # padding characters -> bits of the last character that must be zero
_B64_VALUE = {c: i for i, c in enumerate(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}


class Signer(Protocol):
    """What signs an envelope: an unlocked ``audit.keys.SigningKey``."""

    @property
    def key_id(self) -> str: ...

    def sign(self, data: bytes) -> bytes: ...


def pae(payload_type: str, body: bytes) -> bytes:
    t = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode_canonical(text: bytes | memoryview) -> bytes | None:
    """Decode standard base64; None unless ``text`` is the one canonical encoding.

    ``strict_mode`` rejects characters outside the alphabet and bad padding; what it lets through
    beyond the canonical form are non-zero padding bits in the last character, checked here."""
    try:
        raw = binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError):
        return None
    n = len(text)
    if n and text[n - 1] == 0x3D:  # "="
        pad = 2 if n > 1 and text[n - 2] == 0x3D else 1
        if n <= pad or _B64_VALUE.get(text[n - pad - 1], 0xFF) & _PAD_MASK[pad]:
            return None
    return raw


def make_line(payload: bytes, payload_type: str, key: Signer) -> bytes:
    """Sign ``payload`` with ``key`` and return the envelope line (with its ``\\n``).

    The line is assembled directly (all parts are from fixed alphabets); the result is the
    canonical JSON of the envelope, which ``parse`` accepts."""
    sig = key.sign(pae(payload_type, payload))
    line = b"".join((_PREFIX, base64.b64encode(payload), b'","payloadType":"', payload_type.encode("ascii"),
                     b'","signatures":[{"keyid":"', key.key_id.encode("ascii"), b'","sig":"', base64.b64encode(sig),
                     b'"}]}'))
    if _TAIL_RE.fullmatch(line, line.find(b'"', len(_PREFIX))) is None:
        raise ValueError("internal error: envelope line does not have the canonical form")
    return line + b"\n"


def parse(line: bytes, expected_type: str) -> tuple[bytes, str, bytes]:
    """Split one line (without its ``\\n``) into (payload_bytes, keyid, signature).

    Checks only the form. Raises EnvelopeError with MALFORMED_RECORD or NOT_CANONICAL."""
    end = line.find(b'"', len(_PREFIX))
    m = _TAIL_RE.fullmatch(line, end) if end > 0 and line.startswith(_PREFIX) else None
    if m is None:
        _diagnose(line, expected_type)
    ptype, keyid, sig_b64 = m.groups()
    if ptype != expected_type.encode("ascii"):
        got = ptype.decode("ascii")
        raise EnvelopeError(f"payloadType is {got!r}, expected {expected_type!r}"
                            + (" (a checkpoint spliced into the log)" if got == CHECKPOINT_TYPE else ""))
    payload = b64decode_canonical(memoryview(line)[len(_PREFIX):end])
    if payload is None:
        raise EnvelopeError("payload is not canonical base64")
    sig = b64decode_canonical(sig_b64)
    if sig is None or len(sig) != 64:
        raise EnvelopeError("signature is not 64 bytes of canonical base64")
    return payload, keyid.decode("ascii"), sig


def _diagnose(line: bytes, expected_type: str) -> NoReturn:
    """Explain why a line does not have the exact envelope form."""
    if not line.strip():
        raise EnvelopeError("empty line")
    try:
        env = canonical.loads(line)
    except CanonicalError as exc:
        raise EnvelopeError(f"not a JSON envelope: {exc}") from None
    if not isinstance(env, dict) or set(env) != {"payload", "payloadType", "signatures"}:
        got = sorted(env) if isinstance(env, dict) else type(env).__name__
        raise EnvelopeError(f"envelope must have exactly the fields payload, payloadType, "
                            f"signatures (found {got})")
    sigs = env["signatures"]
    if not isinstance(sigs, list) or len(sigs) != 1:
        n = len(sigs) if isinstance(sigs, list) else "no"
        raise EnvelopeError(f"expected exactly 1 signature, found {n}")
    s = sigs[0]
    if not isinstance(s, dict) or set(s) != {"keyid", "sig"}:
        raise EnvelopeError("signature entry must have exactly the fields keyid, sig")
    if not isinstance(s["keyid"], str) or not re.fullmatch(r"ed25519:[0-9a-f]{64}", s["keyid"]):
        raise EnvelopeError(f"keyid {str(s['keyid'])[:80]!r} is not ed25519:<64 hex>")
    for field, value in (("payload", env["payload"]), ("payloadType", env["payloadType"]), ("sig", s["sig"])):
        if not isinstance(value, str):
            raise EnvelopeError(f"{field} must be a string")
    if env["payloadType"] != expected_type:
        raise EnvelopeError(f"payloadType is {env['payloadType'][:100]!r}, expected {expected_type!r}")
    if b64decode_canonical(env["payload"].encode("ascii", "replace")) is None:
        raise EnvelopeError("payload is not canonical base64")
    sig = b64decode_canonical(s["sig"].encode("ascii", "replace"))
    if sig is None or len(sig) != 64:
        raise EnvelopeError("signature is not 64 bytes of canonical base64")
    raise EnvelopeError("envelope JSON is not in canonical form (RFC 8785: no white space, sorted keys, minimal "
                        "escapes)", Code.NOT_CANONICAL)
