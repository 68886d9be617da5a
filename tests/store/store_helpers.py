"""Helpers for the store tests: trust files with an organisation key, seeded keys for child
processes, reading back what the store holds."""
from __future__ import annotations

import base64
import json
from pathlib import Path

from audit_helpers import ACTOR, append, make_decision, read_lines, trust_file  # noqa: F401  (re-exported)
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import keys, trust
from audit.keys import SigningKey


def org_trust(path: Path, org_key: SigningKey, *record_keys: SigningKey) -> Path:
    """A trusted-keys file: the record keys (role record) and the organisation key (role checkpoint)."""
    trust_file(path, *record_keys)
    pem = path.parent / f"{path.stem}-org.pem"
    pem.write_text(keys.public_key_pem(org_key.public_key))
    trust.trust_key(path, pem, "Organisatie (checkpoints)", roles=("checkpoint",))
    return path


def seeded_key(seed: int) -> SigningKey:
    """The same key in every process (SigningKey cannot be pickled, by design)."""
    raw = seed.to_bytes(4, "big") * 8
    return SigningKey(Ed25519PrivateKey.from_private_bytes(raw), bytes(reversed(raw)))


def stored_lines(store, log_id: str) -> list[bytes]:
    rows = store.sql("SELECT line FROM deelwijzer.records WHERE log_id = %s ORDER BY seq", (log_id,))
    return [bytes(r[0]) for r in rows]


def local_log_id(log: Path) -> str:
    return payload(read_lines(log)[0])["log_id"]


def payload(line: bytes) -> dict:
    return json.loads(base64.b64decode(json.loads(line)["payload"]))


def with_payload(line: bytes, change) -> bytes:
    """The envelope line with its payload changed (canonically re-encoded), signature kept: an edit
    by someone without the key."""
    env = json.loads(line)
    body = payload(line)
    change(body)
    env["payload"] = base64.b64encode(_canon(body)).decode()
    return _canon(env)


def _canon(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def org_sequence_ok(store) -> tuple[int, int, int]:
    """(rows, distinct record ids, max org_seq): all equal when the organisation sequence is whole."""
    rows = store.sql("SELECT count(*), count(DISTINCT record_id), coalesce(max(org_seq), 0) FROM deelwijzer.records")
    return tuple(int(x) for x in rows[0])  # type: ignore[return-value]
