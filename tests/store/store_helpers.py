"""Helpers for the store tests: trust files with an organisation key, seeded keys for child
processes, reading back what the store holds."""
from __future__ import annotations

import base64
import itertools
import json
from pathlib import Path

import psycopg

from audit_helpers import ACTOR, append, make_decision, read_lines, trust_file  # noqa: F401  (re-exported)
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import keys, trust
from audit.keys import SigningKey

WRITER, AUDITOR = "laptop_writer", "the_auditor"   # login roles the session fixture creates
_DB = itertools.count(1)


def new_database(cluster) -> str:
    """A new, empty database in the test cluster (no store in it yet)."""
    name = f"store_{next(_DB)}"
    with psycopg.connect(cluster.url(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return name


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
    """(records, distinct record ids, entries of the organisation sequence that name a record, with org_seq
    running 1..N): all equal when every record is in the store once and in the organisation sequence once."""
    rows = store.sql("SELECT count(*), count(DISTINCT record_id) FROM deelwijzer.records")
    seq = store.sql("SELECT count(*), coalesce(max(s.org_seq), 0), count(DISTINCT s.arrival) FROM "
                    "deelwijzer.org_sequence s JOIN deelwijzer.records r ON r.arrival = s.arrival")
    n, top, distinct = (int(x) for x in seq[0])
    return int(rows[0][0]), int(rows[0][1]), n if n == top == distinct else -1


def org_order(store, columns: str = "r.log_id::text") -> list[tuple]:
    """The records in organisation order."""
    return store.sql(f"SELECT {columns} FROM deelwijzer.org_sequence s JOIN deelwijzer.records r "
                     f"ON r.arrival = s.arrival ORDER BY s.org_seq")
