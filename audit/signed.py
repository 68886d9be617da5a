"""Opening a signed DSSE envelope: the one place where a signature is checked against trust.

``open_envelope(line, payload_type, trust, roles, at=None)`` is used for records (by the
verifier and ``audit pin``), checkpoints, inclusion and consistency proofs and the signature
of the trusted-keys file; later tasks use it for rule-set releases and organisation tree
heads. In order, it checks:

1. the form: exactly the canonical envelope, the expected ``payloadType``, one signature,
   canonical base64 (MALFORMED_RECORD / NOT_CANONICAL);
2. the key: the envelope's keyid is in the trust store (UNTRUSTED_KEY). The keyid is only a
   hint: the store recomputes key ids from the public keys it holds;
3. the signature: Ed25519 over PAE(payloadType, payload) of the exact bytes (BAD_SIGNATURE);
4. the role: the key is trusted for one of ``roles`` (KEY_ROLE_NOT_ALLOWED);
5. with ``at`` (a signed time the caller already knows): the key's validity window and
   revocation (KEY_NOT_VALID_AT_TIME).

It returns the verified payload bytes and the key entry, or raises ``EnvelopeError`` whose
``code`` names the first check that failed. The payload is not parsed here: what it means is
the caller's business (and a signed time inside it is checked by the caller, with
``TrustStore.invalid_at``).
"""
from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature

from audit import envelope
from audit.codes import Code
from audit.errors import EnvelopeError
from audit.trust import KeyEntry, TrustStore, short


@dataclass(frozen=True)
class Opened:
    payload: bytes     # the verified payload bytes (not yet parsed)
    key: KeyEntry      # the trusted key that signed them


def open_envelope(line: bytes, payload_type: str, trust: TrustStore, roles: Collection[str], *,
                  at: str | None = None) -> Opened:
    """Verify one envelope line (without its newline) of ``payload_type`` for ``roles``."""
    result = open_envelopes([line], payload_type, trust, roles, at=at)[0]
    if isinstance(result, EnvelopeError):
        raise result
    return result


def open_envelopes(lines: Sequence[bytes], payload_type: str, trust: TrustStore, roles: Collection[str], *,
                   at: str | None = None) -> list[Opened | EnvelopeError]:
    """``open_envelope`` for many lines: the same checks and errors (returned, not raised), done
    phase by phase -- every form, then every signature -- which keeps each code path warm and
    makes a verifier markedly faster than line by line."""
    results: list[Opened | EnvelopeError | None] = [None] * len(lines)
    formed: list[tuple[int, bytes, str, bytes, KeyEntry]] = []
    keys = trust.keys
    for i, line in enumerate(lines):
        try:
            payload, keyid, sig = envelope.parse(line, payload_type)
        except EnvelopeError as exc:
            results[i] = exc
            continue
        entry = keys.get(keyid)
        if entry is None:
            results[i] = EnvelopeError(f"signed by key {short(keyid)}, which is not in the trusted-keys file",
                                       Code.UNTRUSTED_KEY, payload=payload, keyid=keyid)
            continue
        formed.append((i, payload, keyid, sig, entry))
    for i, payload, keyid, sig, entry in formed:
        try:
            entry.public_key.verify(sig, envelope.pae(payload_type, payload))
        except InvalidSignature:
            results[i] = EnvelopeError(f"signature does not verify with key {short(keyid)}: the content was changed "
                                       f"after signing, or the keyid was swapped", Code.BAD_SIGNATURE,
                                       payload=payload, keyid=keyid)
            continue
        if entry.roles.isdisjoint(roles):
            results[i] = EnvelopeError(trust.role_problem(keyid, roles) or "", Code.KEY_ROLE_NOT_ALLOWED,
                                       payload=payload, keyid=keyid)
            continue
        why = trust.invalid_at(keyid, at) if at is not None else None
        results[i] = (EnvelopeError(why, Code.KEY_NOT_VALID_AT_TIME, payload=payload, keyid=keyid) if why
                      else Opened(payload, entry))
    return [r for r in results if r is not None]
