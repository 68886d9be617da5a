"""Organisation checkpoints: a signed RFC 6962 tree head over the store's organisation-wide sequence.

The leaves are the records of every professional's log in the order of the store's organisation
sequence (``org_seq`` 1, 2, ...; ``audit.store.schema``),
each leaf the record's own RFC 6962 leaf hash ``SHA-256(0x00 || payload)`` -- computed from the
stored line, never taken from an index column. An organisation checkpoint is a DSSE envelope
with its own payloadType (so that it can never pass for a log's checkpoint, nor a log's for it)::

    {"head":"<leaf of org record N>","kid":..,"prev":null|{"checkpoint","root","size"},
     "root":"<MTH of org records 1..N>","size":N,"store_id":"<uuid4>","ts":..,"type":"org-checkpoint","v":1}

It must be signed by a key with the trust role ``checkpoint`` (a professional's ``record`` key may
not: KEY_ROLE_NOT_ALLOWED). ``prev`` names the previous organisation checkpoint it extends.
Consistency proofs between two of them use ``audit.consistency`` (the same proof file, with the
store id where a log id stands) and ``audit.merkle``; inclusion proofs place one record in the
organisation tree.

An auditor who keeps these checkpoints (``audit checkpoint URL --key ORG_KEY --out CP``) detects
any change to the store, even by a database superuser with the triggers off: an edited, removed,
reordered or inserted record changes the root at the checkpoint's size (CHECKPOINT_MISMATCH), a
removed tail makes the store smaller than the checkpoint (TRUNCATED).
"""
from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import psycopg
from psycopg import IsolationLevel
from pydantic import BaseModel, ConfigDict, Field

from audit import canonical, envelope, record
from audit.checkpoint import PrevRef, _append_line, signed_payload
from audit.codes import Code
from audit.consistency import check_proof, proof_bundle
from audit.digest import sha256
from audit.errors import CheckpointError, EnvelopeError, ProofError, StoreError
from audit.keys import SigningKey
from audit.proof import open_proof_record
from audit.merkle import CompactRange, consistency_proof, inclusion_proof, leaf_hash, verify_inclusion
from audit.record import Hex64, KeyId, Ts, Uuid4
from audit.signed import open_envelope
from audit.store import db
from audit.timeutil import now_ts
from audit.trust import TrustStore, short

ORG_CHECKPOINT_TYPE = "application/vnd.deelwijzer.org-checkpoint.v1+json"
ORG_CHECKPOINT_ROLES = ("checkpoint",)
ORG_PROOF_TYPE = "deelwijzer-org-inclusion-proof"
Size = Annotated[int, Field(ge=1, le=2**53 - 1)]
ROWS_PER_FETCH = 2000
_UUID = re.compile(record.UUID4_PATTERN)
_CURSORS = itertools.count(1)


class OrgCheckpointPayload(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)
    head: Hex64
    kid: KeyId
    prev: PrevRef | None
    root: Hex64
    size: Size
    store_id: Uuid4
    ts: Ts
    type: Literal["org-checkpoint"]
    v: Literal[1]


@dataclass(frozen=True)
class OrgCheckpoint:
    payload: OrgCheckpointPayload
    line: bytes      # the envelope line, with "\n"
    source: str      # where it was read from, for messages
    digest: str      # hex SHA-256 of the payload bytes: how the next checkpoint names this one


def _payload(data: bytes, source: str) -> OrgCheckpointPayload:
    return signed_payload(data, source, OrgCheckpointPayload.model_validate, "organisation checkpoint")


def parse_line(line: bytes, trust: TrustStore, source: str) -> OrgCheckpoint:
    """A verified organisation checkpoint: signed by a trusted key with the role ``checkpoint``,
    valid at the checkpoint's time. CheckpointError whose code names the check that failed."""
    body = line[:-1] if line.endswith(b"\n") else line
    try:
        opened = open_envelope(body, ORG_CHECKPOINT_TYPE, trust, ORG_CHECKPOINT_ROLES)
    except EnvelopeError as exc:
        code = Code.BAD_CHECKPOINT if exc.code is Code.MALFORMED_RECORD else exc.code
        raise CheckpointError(f"{source}: {exc.message}", code) from None
    cp = _payload(opened.payload, source)
    if cp.kid != opened.key.key_id:
        raise CheckpointError(f"{source}: payload names key {short(cp.kid)} but is signed by {short(opened.key.key_id)}")
    why = trust.invalid_at(cp.kid, cp.ts)
    if why:
        raise CheckpointError(f"{source}: {why}", Code.KEY_NOT_VALID_AT_TIME)
    return OrgCheckpoint(cp, body + b"\n", source, sha256(opened.payload).hex())


def parse_unverified(line: bytes, source: str) -> OrgCheckpoint:
    """The content of an organisation checkpoint without checking its signature (for the writer and
    the prover, which hold no trust store; whoever receives what they make verifies it)."""
    body = line[:-1] if line.endswith(b"\n") else line
    try:
        data, _kid, _sig = envelope.parse(body, ORG_CHECKPOINT_TYPE)
    except EnvelopeError as exc:
        raise CheckpointError(f"{source}: {exc.message}") from None
    return OrgCheckpoint(_payload(data, source), body + b"\n", source, sha256(data).hex())


def _file_lines(path: Path) -> list[tuple[int, bytes]]:
    return [(i, ln) for i, ln in enumerate(Path(path).read_bytes().split(b"\n"), 1) if ln.strip()]


def is_org_checkpoint_file(path: Path) -> bool:
    """True when the last line of a checkpoint file is an organisation checkpoint (by its payloadType)."""
    try:
        lines = _file_lines(path)
    except OSError:
        return False
    return bool(lines) and f'"payloadType":"{ORG_CHECKPOINT_TYPE}"'.encode("ascii") in lines[-1][1]


def read_file(path: Path, trust: TrustStore) -> tuple[list[OrgCheckpoint], list[tuple[Code, str]]]:
    """All organisation checkpoints in a file: (valid ones, [(code, problem)])."""
    try:
        entries = _file_lines(path)
    except OSError as exc:
        return [], [(Code.BAD_CHECKPOINT, f"{path}: cannot read checkpoint file: {exc.strerror or exc}")]
    good: list[OrgCheckpoint] = []
    bad: list[tuple[Code, str]] = []
    for i, line in entries:
        try:
            good.append(parse_line(line, trust, f"{path}:{i}"))
        except CheckpointError as exc:
            bad.append((exc.code, exc.message))
    if not good and not bad:
        bad.append((Code.BAD_CHECKPOINT, f"{path}: holds no organisation checkpoint"))
    return good, bad


def last_in_file(path: Path, trust: TrustStore | None = None) -> OrgCheckpoint:
    """The last organisation checkpoint in a file (verified against ``trust`` when given)."""
    try:
        entries = _file_lines(path)
    except OSError as exc:
        raise CheckpointError(f"cannot read checkpoint file {path}: {exc.strerror or exc}", Code.INVALID_ARGUMENT) from None
    if not entries:
        raise CheckpointError(f"{path} holds no checkpoint")
    i, line = entries[-1]
    return parse_line(line, trust, f"{path}:{i}") if trust is not None else parse_unverified(line, f"{path}:{i}")


def stored_checkpoints(conn: psycopg.Connection[Any], url: str) -> list[tuple[int, bytes]]:
    """(n, line) of the organisation checkpoints kept in the store, in order."""
    with db.errors(url, "read the organisation checkpoints"):
        return [(int(n), bytes(line)) for n, line in
                conn.execute(f"SELECT n, line FROM {db.SCHEMA}.org_checkpoints ORDER BY n").fetchall()]


# --- streaming the organisation sequence ------------------------------------------------------------

def _stream(conn: psycopg.Connection[Any], query: str, params: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Rows through a server-side cursor (memory stays flat). Must run inside a transaction."""
    with conn.cursor(name=f"deelwijzer_rows_{next(_CURSORS)}", binary=True) as cur:
        cur.itersize = ROWS_PER_FETCH
        cur.execute(query, params)
        yield from cur


def org_rows(conn: psycopg.Connection[Any], columns: str = "s.org_seq, r.line") -> Iterator[tuple[Any, ...]]:
    """The organisation sequence in org_seq order, each entry with its record (``s.*`` the sequence
    entry, ``r.*`` the record; the record's columns are NULL when the record it names is gone)."""
    return _stream(conn, f"SELECT {columns} FROM {db.SCHEMA}.org_sequence s LEFT JOIN {db.SCHEMA}.records r "
                         f"ON r.arrival = s.arrival ORDER BY s.org_seq")


def record_rows(conn: psycopg.Connection[Any], columns: str, where: str = "",
                params: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Records in arrival order (``r.*``), with their place in the organisation sequence (``s.org_seq``,
    NULL while a record waits to be sequenced)."""
    return _stream(conn, f"SELECT {columns} FROM {db.SCHEMA}.records r LEFT JOIN {db.SCHEMA}.org_sequence s "
                         f"ON s.arrival = r.arrival {where} ORDER BY r.arrival", params)


def log_lines(conn: psycopg.Connection[Any], log_id: str) -> Iterator[bytes]:
    """The lines of one professional's log, in the order the store accepted them."""
    for (line,) in _stream(conn, f"SELECT line FROM {db.SCHEMA}.records WHERE log_id = %s ORDER BY arrival",
                           (log_id,)):
        yield bytes(line)


def sequence(conn: psycopg.Connection[Any], url: str) -> int:
    """Append every committed record that is not yet in the organisation sequence (``sequence()``
    in the database); the number appended."""
    with db.errors(url, "extend the organisation sequence"):
        row = conn.execute(f"SELECT {db.SCHEMA}.sequence()").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def line_leaf(line: bytes) -> bytes:
    """The leaf hash of a stored line: of its payload when it is an envelope, else of the line
    itself (a damaged row still takes a place in the tree, so that the tree shows the damage)."""
    try:
        data, _kid, _sig = envelope.parse(line, envelope.RECORD_TYPE)
    except EnvelopeError:
        return leaf_hash(line)
    return leaf_hash(data)


@dataclass(frozen=True)
class OrgTree:
    store_id: str
    size: int
    root: bytes
    head: bytes
    roots: dict[int, tuple[bytes, bytes]]   # (root, head) at each size asked for that the store reaches


def compute_tree(conn: psycopg.Connection[Any], url: str, store_id: str, sizes: Iterable[int] = ()) -> OrgTree:
    """The organisation tree as stored now (one snapshot), refusing a visibly damaged sequence:
    org_seq must run 1, 2, 3, ... and every row must be a record envelope."""
    want = set(sizes)
    cr = CompactRange()
    head = b""
    roots: dict[int, tuple[bytes, bytes]] = {}
    with db.errors(url, "read the organisation sequence"):
        for org_seq, line in org_rows(conn):
            if org_seq != cr.size + 1 or line is None:
                what = f"jumps from {cr.size} to {org_seq}" if line is not None else \
                    f"names a record at {org_seq} that is not in the store"
                raise CheckpointError(f"{db.redact(url)}: the organisation sequence {what} (records were removed); run "
                                      f"`deelwijzer audit verify URL` -- nothing is signed over a damaged store",
                                      Code.ORG_SEQUENCE_BROKEN)
            try:
                data, _kid, _sig = envelope.parse(bytes(line), envelope.RECORD_TYPE)
            except EnvelopeError:
                raise CheckpointError(f"{db.redact(url)}: organisation record {org_seq} is not a record envelope; run "
                                      f"`deelwijzer audit verify URL` -- nothing is signed over a damaged store",
                                      Code.MALFORMED_RECORD) from None
            head = leaf_hash(data)
            cr.append(head)
            if cr.size in want:
                roots[cr.size] = (cr.root(), head)
    if cr.size == 0:
        raise CheckpointError(f"{db.redact(url)} holds no records yet; nothing to checkpoint", Code.INVALID_ARGUMENT)
    return OrgTree(store_id, cr.size, cr.root(), head, roots)


def _snapshot(conn: psycopg.Connection[Any]) -> None:
    conn.isolation_level = IsolationLevel.REPEATABLE_READ
    conn.read_only = True


def write_org_checkpoint(url: str, key: SigningKey, export_to: Path | None = None, *,
                         trust: TrustStore | None = None) -> OrgCheckpoint:
    """Sign a tree head over the store's organisation-wide sequence as it is now, naming the
    store's last organisation checkpoint as the one it extends; keep it in the store (and append
    it to ``export_to``, the auditor's file). Refuses when the store contradicts a checkpoint it
    keeps. With ``trust``, only checkpoints that verify against it are considered (and the key
    must have the role ``checkpoint`` there)."""
    if trust is not None:
        entry = trust.keys.get(key.key_id)
        if entry is None or "checkpoint" not in entry.roles:
            problem = trust.role_problem(key.key_id, ORG_CHECKPOINT_ROLES) if entry else "it is not in the file"
            raise CheckpointError(f"key {short(key.key_id)} may not sign organisation checkpoints by the trusted-keys "
                                  f"file: {problem}", Code.KEY_ROLE_NOT_ALLOWED)
    conn = db.connect(url)
    try:
        store_id, _v = db.store_info(conn, url)
        sequence(conn, url)  # records committed but not yet sequenced (an interrupted push) are covered too
        earlier: list[tuple[int, OrgCheckpoint]] = []
        seen = 0
        _snapshot(conn)
        with db.errors(url, "read the store for a checkpoint"), conn.transaction():
            for n, line in stored_checkpoints(conn, url):
                seen = max(seen, n)
                try:
                    cp = (parse_line(line, trust, f"store checkpoint {n}") if trust is not None
                          else parse_unverified(line, f"store checkpoint {n}"))
                except CheckpointError:
                    continue  # an unreadable row proves nothing; the verifier reports it
                if cp.payload.store_id == store_id:
                    earlier.append((n, cp))
            tree = compute_tree(conn, url, store_id, {cp.payload.size for _n, cp in earlier})
        for _n, cp in earlier:
            p = cp.payload
            got = tree.roots.get(p.size)
            if p.size > tree.size or got is None or got[0].hex() != p.root or got[1].hex() != p.head:
                what = "now holds fewer records" if p.size > tree.size else "has another history"
                raise CheckpointError(f"{db.redact(url)} {what} than its organisation checkpoint {cp.source} of {p.ts} "
                                      f"(size {p.size}): records were removed or changed. Run `deelwijzer audit verify "
                                      f"URL`; no checkpoint is signed over a store that contradicts an earlier one",
                                      Code.CHECKPOINT_MISMATCH)
        prev = None
        if earlier:
            last = earlier[-1][1]
            prev = {"checkpoint": last.digest, "root": last.payload.root, "size": last.payload.size}
        payload = {"head": tree.head.hex(), "kid": key.key_id, "prev": prev, "root": tree.root.hex(), "size": tree.size,
                   "store_id": store_id, "ts": now_ts(), "type": "org-checkpoint", "v": 1}
        data = canonical.dumps(payload)
        model = OrgCheckpointPayload.model_validate(payload)
        line = envelope.make_line(data, ORG_CHECKPOINT_TYPE, key)
        conn.isolation_level = IsolationLevel.READ_COMMITTED
        conn.read_only = False
        with db.errors(url, "keep the organisation checkpoint"), conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (db.ORG_LOCK,))
            if _newer_checkpoint(conn, seen, store_id, trust):
                raise StoreError(f"{db.redact(url)}: another organisation checkpoint was written meanwhile; run the "
                                 f"command again", Code.STORE_CONFLICT)
            conn.execute(f"INSERT INTO {db.SCHEMA}.org_checkpoints (size, line) VALUES (%s, %s)",
                         (tree.size, line[:-1]))
        if export_to is not None:
            try:
                _append_line(Path(export_to), line)
            except OSError as exc:
                raise CheckpointError(f"the checkpoint is kept in the store, but cannot be written to {export_to}: "
                                      f"{exc.strerror or exc}", Code.LOG_IO_ERROR) from None
        return OrgCheckpoint(model, line, f"{db.redact(url)} (organisation checkpoint)", sha256(data).hex())
    finally:
        conn.close()


def _newer_checkpoint(conn: psycopg.Connection[Any], seen: int, store_id: str, trust: TrustStore | None) -> bool:
    """True when a checkpoint of this store was kept after row ``seen`` (the last one read): this
    checkpoint would then not extend the newest one. Rows that are no checkpoint do not count."""
    rows = conn.execute(f"SELECT line FROM {db.SCHEMA}.org_checkpoints WHERE n > %s ORDER BY n", (seen,)).fetchall()
    for (line,) in rows:
        try:
            cp = parse_line(bytes(line), trust, "store") if trust is not None else parse_unverified(bytes(line), "store")
        except CheckpointError:
            continue
        if cp.payload.store_id == store_id:
            return True
    return False


# --- consistency proofs between organisation checkpoints ------------------------------------------

def _load(cp: OrgCheckpoint | Path, trust: TrustStore | None) -> OrgCheckpoint:
    return cp if isinstance(cp, OrgCheckpoint) else last_in_file(Path(cp), trust)


def prove_org_consistency(url: str, old: OrgCheckpoint | Path, new: OrgCheckpoint | Path) -> dict[str, Any]:
    """The RFC 9162 proof that the organisation tree of ``new`` extends that of ``old``, computed from
    the store. ProofError with CHECKPOINT_MISMATCH / TRUNCATED when the store no longer matches them."""
    try:
        o_cp, n_cp = _load(old, None), _load(new, None)
    except CheckpointError as exc:
        raise ProofError(exc.message, exc.code) from None
    o, n = o_cp.payload, n_cp.payload
    if o.store_id != n.store_id:
        raise ProofError(f"the checkpoints are for different stores ({o.store_id} and {n.store_id})",
                         Code.LOG_ID_MISMATCH)
    if o.size > n.size:
        raise ProofError(f"the old checkpoint ({o.size} records) is larger than the new one ({n.size}); give them in "
                         f"the order --from OLD --to NEW", Code.INVALID_ARGUMENT)
    conn = db.connect(url)
    try:
        store_id, _v = db.store_info(conn, url)
        if store_id != n.store_id:
            raise ProofError(f"{db.redact(url)} is store {store_id}; the checkpoints are for {n.store_id}",
                             Code.LOG_ID_MISMATCH)
        _snapshot(conn)
        with conn.transaction():
            try:
                tree = compute_tree(conn, url, store_id, {o.size, n.size})
            except CheckpointError as exc:
                raise ProofError(exc.message, exc.code) from None
            for cp in (o_cp, n_cp):
                p = cp.payload
                got = tree.roots.get(p.size)
                if got is None:
                    raise ProofError(f"{db.redact(url)} holds {tree.size} records, the checkpoint {cp.source} commits to "
                                     f"{p.size}: records were removed", Code.TRUNCATED)
                if got[0].hex() != p.root:
                    raise ProofError(f"{db.redact(url)} does not match the checkpoint {cp.source}: its first {p.size} "
                                     f"organisation records have another root (the store was changed)",
                                     Code.CHECKPOINT_MISMATCH)
            with db.errors(url, "read the organisation sequence"):
                path = consistency_proof((line_leaf(bytes(line or b"")) for (line,) in org_rows(conn, "r.line")),
                                         o.size, n.size)
    finally:
        conn.close()
    return proof_bundle(store_id, o.size, o.root, n.size, n.root, path)


@dataclass(frozen=True)
class OrgConsistency:
    old: OrgCheckpoint
    new: OrgCheckpoint
    store_id: str
    proof_length: int


def verify_org_consistency(old: OrgCheckpoint | Path, new: OrgCheckpoint | Path, proof: dict[str, Any] | Path,
                           trust: TrustStore) -> OrgConsistency:
    """Offline: both organisation checkpoints signed by trusted ``checkpoint`` keys, for the same
    store, and the RFC 9162 proof between them (``audit.consistency.check_proof``). ProofError."""
    try:
        o_cp, n_cp = _load(old, trust), _load(new, trust)
    except CheckpointError as exc:
        raise ProofError(exc.message, exc.code) from None
    o, n = o_cp.payload, n_cp.payload
    length = check_proof((o.store_id, o.size, o.root), (n.store_id, n.size, n.root, n.prev), proof)
    return OrgConsistency(o_cp, n_cp, n.store_id, length)


def is_org_consistency(old: Path, new: Path) -> bool:
    return is_org_checkpoint_file(old) or is_org_checkpoint_file(new)


# --- inclusion proofs in the organisation tree -----------------------------------------------------

def prove_org(url: str, record_id: str, checkpoint: Path | None = None) -> dict[str, Any]:
    """An inclusion proof of one record in the organisation tree of the newest organisation
    checkpoint that covers it (from ``checkpoint``, else from the store)."""
    conn = db.connect(url)
    try:
        store_id, _v = db.store_info(conn, url)
        _snapshot(conn)
        with conn.transaction():
            with db.errors(url, "find the record"):
                row = conn.execute(f"SELECT s.org_seq, r.line FROM {db.SCHEMA}.records r LEFT JOIN "
                                   f"{db.SCHEMA}.org_sequence s ON s.arrival = r.arrival WHERE r.record_id = %s",
                                   (record_id,)).fetchone() if _UUID.match(record_id) else None
            if row is None:
                raise ProofError(f"no record with id {record_id} in {db.redact(url)}", Code.INVALID_ARGUMENT)
            if row[0] is None:
                raise ProofError(f"record {record_id} is in the store but not yet in the organisation sequence; the "
                                 f"next push or `deelwijzer audit checkpoint URL` adds it", Code.INVALID_ARGUMENT)
            index, line = int(row[0]) - 1, bytes(row[1])
            if checkpoint is not None:
                try:
                    cands = [last_in_file(Path(checkpoint))]
                except CheckpointError as exc:
                    raise ProofError(exc.message, exc.code) from None
            else:
                cands = []
                for n, ln in stored_checkpoints(conn, url):
                    try:
                        cands.append(parse_unverified(ln, f"store checkpoint {n}"))
                    except CheckpointError:
                        continue
            best = max((c for c in cands if c.payload.store_id == store_id and c.payload.size > index),
                       key=lambda c: c.payload.size, default=None)
            if best is None:
                raise ProofError(f"no organisation checkpoint covers record {record_id} (organisation record "
                                 f"{index + 1}); sign one with `deelwijzer audit checkpoint URL --key ORG_KEY`",
                                 Code.INVALID_ARGUMENT)
            p = best.payload
            try:
                tree = compute_tree(conn, url, store_id, {p.size})
            except CheckpointError as exc:
                raise ProofError(exc.message, exc.code) from None
            got = tree.roots.get(p.size)
            if got is None or got[0].hex() != p.root:
                raise ProofError(f"the store no longer matches its organisation checkpoint of {p.ts} (size {p.size}); "
                                 f"run `deelwijzer audit verify URL`", Code.CHECKPOINT_MISMATCH)
            with db.errors(url, "read the organisation sequence"):
                path = inclusion_proof((line_leaf(bytes(ln or b"")) for (ln,) in org_rows(conn, "r.line")), index,
                                       p.size)
    finally:
        conn.close()
    return {"v": 1, "type": ORG_PROOF_TYPE, "record": line.decode("ascii", "replace"), "index": index,
            "tree_size": p.size, "proof": [h.hex() for h in path], "checkpoint": best.line.rstrip(b"\n").decode("ascii")}


@dataclass(frozen=True)
class OrgProofReport:
    record: dict[str, Any]
    checkpoint: OrgCheckpointPayload
    index: int


def is_org_proof(bundle: dict[str, Any]) -> bool:
    return bundle.get("type") == ORG_PROOF_TYPE


def verify_org_proof(bundle: dict[str, Any], trust: TrustStore) -> OrgProofReport:
    """Offline: the record's signature, role and validity; the organisation checkpoint's signature
    (role ``checkpoint``); the audit path from the record's leaf to the checkpoint's root."""
    invalid = Code.INCLUSION_PROOF_INVALID
    if set(bundle) != {"v", "type", "record", "index", "tree_size", "proof", "checkpoint"} or bundle["v"] != 1 \
            or bundle["type"] != ORG_PROOF_TYPE:
        raise ProofError("not a deelwijzer organisation inclusion-proof bundle (unexpected fields or type)", invalid)
    index, size = bundle["index"], bundle["tree_size"]
    if type(index) is not int or type(size) is not int or not isinstance(bundle["proof"], list):
        raise ProofError("index, tree_size and proof have the wrong types", invalid)
    try:
        rec_line = str(bundle["record"]).encode("ascii")
        cp_line = str(bundle["checkpoint"]).encode("ascii")
        path = [bytes.fromhex(h) for h in bundle["proof"]]
    except (TypeError, UnicodeEncodeError, ValueError) as exc:
        raise ProofError(f"malformed proof bundle: {exc}", invalid) from None
    if any(len(h) != 32 for h in path):
        raise ProofError("proof hashes must be 32 bytes", invalid)
    opened, rec = open_proof_record(rec_line, trust)
    try:
        cp = parse_line(cp_line, trust, "checkpoint").payload
    except CheckpointError as exc:
        raise ProofError(exc.message, exc.code) from None
    if size != cp.size:
        raise ProofError(f"tree_size {size} differs from the checkpoint's size {cp.size}", invalid)
    if not verify_inclusion(leaf_hash(opened.payload), index, size, path, bytes.fromhex(cp.root)):
        raise ProofError("the audit path does not lead from the record to the organisation checkpoint's root: the "
                         "record is not in the store's sequence the checkpoint commits to", invalid)
    return OrgProofReport(rec, cp, index)


def load_bundle(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProofError(f"cannot read proof bundle {path}: {exc.strerror or exc}", Code.INVALID_ARGUMENT) from None
    except ValueError as exc:
        raise ProofError(f"proof bundle {path} is not JSON: {exc}", Code.INCLUSION_PROOF_INVALID) from None
    if not isinstance(data, dict):
        raise ProofError("not a deelwijzer inclusion-proof bundle", Code.INCLUSION_PROOF_INVALID)
    return data
