"""The offline verifier: streams the log, reports every failure with line, record id and code.

Inputs: the log, a trusted-keys file, optionally auditor-held checkpoint files and a rule-set
archive for replay. Per line (in worker processes when the log is large):

1. envelope: exact canonical DSSE form, record payloadType, one signature, canonical base64;
2. key: the envelope keyid is in the trusted-keys file (UNTRUSTED_KEY);
3. signature: Ed25519 over PAE(payloadType, payload bytes), before the payload is parsed;
4. payload: strict JSON, byte-identical to its RFC 8785 form (NOT_CANONICAL), schema (pydantic
   strict), payload kid equals the envelope keyid;
5. replay (optional) against the archived rule set.

Then in order, in the parent (cheap): genesis and pins, log id, seq/prev chain, duplicates,
time order within the tolerance, key validity at the record's time, Merkle root at every
checkpoint's size, truncation against checkpoints, torn tail, anchoring.

Memory stays flat: the file is read in chunks with a bounded number in flight; the Merkle root
uses a compact range; duplicates are confirmed in a second streaming pass only when a record
with an already-used seq turns up.
"""
from __future__ import annotations

import multiprocessing as mp
import os
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit import canonical, codes, envelope, record
from audit import trust as trustmod
from audit.checkpoint import Checkpoint, checkpoint_path, read_checkpoints
from audit.merkle import CompactRange, leaf_hash
from audit.timeutil import parse_ts

CHUNK_BYTES = 1 << 20
PARALLEL_MIN_BYTES = 4 << 20
DEFAULT_TIME_TOLERANCE = 300.0  # seconds a timestamp may lie before the previous one (clock skew)
MAX_DUP_CANDIDATES = 10_000
MAX_LISTED_FAILURES = 10_000  # beyond this, failures are counted, not kept (memory stays flat)
TOO_LONG = b"\x00too-long "  # marker for a skipped over-long line (a real line never starts with NUL)


@dataclass(frozen=True)
class Failure:
    line: int | None
    record_id: str | None
    code: str
    message: str


@dataclass
class VerifyReport:
    log_path: str
    ok: bool = False
    failures: list[Failure] = field(default_factory=list)
    warnings: list[Failure] = field(default_factory=list)
    records: int = 0
    failures_not_listed: int = 0   # failures beyond MAX_LISTED_FAILURES (counted only)
    log_id: str | None = None
    head: str | None = None
    root: str | None = None
    anchored: int = 0
    checkpoints_checked: int = 0
    replayed: int = 0
    trusted_keys_sha256: str | None = None

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["failures"] = [asdict(f) for f in self.failures]
        d["warnings"] = [asdict(w) for w in self.warnings]
        return d


# --- per-line checks (run in workers) ----------------------------------------------------------

_CTX: dict[str, Any] = {}


def _init_worker(raw_keys: dict[str, bytes], rules_archive: str | None) -> None:
    _CTX["keys"] = {kid: Ed25519PublicKey.from_public_bytes(raw) for kid, raw in raw_keys.items()}
    _CTX["replayer"] = None
    if rules_archive is not None:
        from audit.replay import Replayer
        _CTX["replayer"] = Replayer(Path(rules_archive))


def _check_line(line: bytes, keys: dict[str, Ed25519PublicKey], replayer: Any) -> tuple:
    """-> (failures tuple | None, info tuple | None, leaf)."""
    if line.startswith(TOO_LONG):
        n = int(line[len(TOO_LONG):])
        return ((codes.MALFORMED_RECORD, f"line is {n} bytes, longer than {envelope.MAX_LINE}"),), None, leaf_hash(line)
    if len(line) > envelope.MAX_LINE:
        return ((codes.MALFORMED_RECORD, f"line is {len(line)} bytes, longer than {envelope.MAX_LINE}"),), None, leaf_hash(line)
    try:
        payload, keyid, sig = envelope.parse(line, envelope.RECORD_TYPE)
    except envelope.EnvelopeError as exc:
        return ((exc.code, exc.message),), None, leaf_hash(line)
    fails = []
    pub = keys.get(keyid)
    if pub is None:
        fails.append((codes.UNTRUSTED_KEY, f"signed by key {trustmod.short(keyid)}, which is not in the trusted-keys file"))
    else:
        try:
            pub.verify(sig, envelope.pae(envelope.RECORD_TYPE, payload))
        except InvalidSignature:
            fails.append((codes.BAD_SIGNATURE, f"signature does not verify with key {trustmod.short(keyid)}: "
                                                f"the record was changed after signing"))
    leaf = leaf_hash(payload)
    try:
        rec = record.parse_payload(payload)
    except record.PayloadError as exc:
        fails.append((exc.code, exc.message))
        return tuple(fails), (None, _record_id_hint(payload)), leaf
    if rec.kid != keyid:
        fails.append((codes.MALFORMED_RECORD, f"payload names key {trustmod.short(rec.kid)} but the envelope is "
                                              f"signed by {trustmod.short(keyid)}"))
    extra = None
    if rec.type == "recovery":
        extra = (rec.torn.offset, rec.torn.length, rec.torn.sha256, rec.torn.side_file)
    elif rec.type == "decision" and replayer is not None and not fails:
        problem = replayer.check(rec)
        extra = "replayed"
        if problem is not None:
            fails.append(problem)
    info = (rec.seq, rec.prev, rec.ts, rec.kid, rec.record_id, rec.log_id, rec.type, extra)
    return (tuple(fails) if fails else None), info, leaf


def _record_id_hint(payload: bytes) -> str | None:
    """The record id of a payload that failed, for the report (best effort, never trusted)."""
    try:
        obj = canonical.loads_fast(payload)
    except (ValueError, RecursionError):
        return None
    rid = obj.get("record_id") if isinstance(obj, dict) else None
    return rid if isinstance(rid, str) and len(rid) <= 100 else None


def _check_chunk(data: bytes) -> list[tuple]:
    keys, replayer = _CTX["keys"], _CTX["replayer"]
    lines = data.split(b"\n")
    lines.pop()  # chunks end with "\n"
    return [_check_line(line, keys, replayer) for line in lines]


# --- chunking ------------------------------------------------------------------------------------

def _chunks(fh, chunk_bytes: int, torn: list) -> Iterable[bytes]:
    """Yield byte chunks that end in "\\n". An incomplete last line is reported through ``torn``
    (its length). A line longer than twice MAX_LINE is not kept in memory: it is skipped to its
    end and replaced by a marker line, reported as MALFORMED_RECORD."""
    rest = b""
    skipping = 0
    while True:
        block = fh.read(chunk_bytes)
        if not block:
            break
        if skipping:
            i = block.find(b"\n")
            if i < 0:
                skipping += len(block)
                continue
            yield TOO_LONG + b"%d\n" % (skipping + i)
            skipping = 0
            block = block[i + 1:]
        block = rest + block
        cut = block.rfind(b"\n") + 1
        rest = block[cut:]
        if cut:
            yield block[:cut]
        if len(rest) > 2 * envelope.MAX_LINE:
            skipping, rest = len(rest), b""
    if skipping or rest:
        torn.append(skipping or len(rest))


# --- the sequential checks ------------------------------------------------------------------------

class _Chain:
    def __init__(self, report: VerifyReport, trust: trustmod.TrustStore, checkpoints: dict[int, list[tuple[Checkpoint, bool]]],
                 tolerance: float):
        self.r = report
        self.trust = trust
        self.cps = checkpoints
        self.tolerance = tolerance
        self.line = 0
        self.expected: int | None = 0
        self.last_leaf: str | None = None
        self.last_ts: str | None = None
        self.log_id: str | None = None
        self.cr = CompactRange()
        self.dups: list[tuple[int, str, int, bytes]] = []

    def fail(self, code: str, message: str, record_id: str | None, line: int | None = None) -> None:
        if len(self.r.failures) >= MAX_LISTED_FAILURES:
            self.r.failures_not_listed += 1
            return
        self.r.failures.append(Failure(self.line if line is None else line, record_id, code, message))

    def warn(self, code: str, message: str, record_id: str | None = None, line: int | None = None) -> None:
        self.r.warnings.append(Failure(line, record_id, code, message))

    def feed(self, result: tuple) -> None:
        fails, info, leaf = result
        self.line += 1
        self.cr.append(leaf)
        self.line_leaf = leaf
        rid = info[4] if info is not None and info[0] is not None else (info[1] if info else None)
        for code, msg in fails or ():
            self.fail(code, msg, rid)
        if info is None or info[0] is None:
            self.expected = None  # cannot chain through an unreadable record: resynchronise on the next
            self.last_leaf = None
        else:
            self._chain(info, leaf)
        for cp, _anchor in self.cps.get(self.cr.size, ()):
            self._check_checkpoint(cp, leaf)

    def _chain(self, info: tuple, leaf: bytes) -> None:
        seq, prev, ts, kid, rid, log_id, rtype, extra = info
        if extra == "replayed":
            self.r.replayed += 1
        if self.log_id is None:  # the first readable record (normally line 1) fixes the log's identity
            self._first(seq, prev, rid, log_id, rtype, leaf)
        elif log_id != self.log_id:
            self.fail(codes.LOG_ID_MISMATCH, f"record belongs to log {log_id}, not to this log {self.log_id} "
                                             f"(copied from another log)", rid)
            return
        elif rtype == "genesis":
            self.fail(codes.GENESIS_MISMATCH, f"a second genesis record (seq {seq}) in the middle of the log", rid)
            return
        elif self.expected is not None and seq < self.expected:
            if len(self.dups) < MAX_DUP_CANDIDATES:
                self.dups.append((self.line, rid, seq, leaf))
            else:  # too many to confirm one by one: still a failure, named by what is certain
                self.fail(codes.CHAIN_BROKEN, f"seq {seq} goes backwards (expected {self.expected})", rid)
            return
        elif self.expected is not None:
            if seq != self.expected:
                gap = seq - self.expected
                self.fail(codes.CHAIN_BROKEN, f"expected seq {self.expected}, found seq {seq}: {gap} record(s) "
                                              f"missing before this one (deleted or moved)", rid)
            elif prev != self.last_leaf:
                self.fail(codes.CHAIN_BROKEN, f"prev {prev[:16]}… is not the hash of the previous record "
                                              f"({self.last_leaf[:16]}…): the previous record was changed or replaced", rid)
        self._time_and_key(ts, kid, rid)
        if rtype == "recovery":
            off, length, sha, side = extra
            self.warn(codes.RECOVERED, f"the writer set aside a torn tail here ({length} bytes at offset {off}, "
                                       f"sha256 {sha[:16]}…, side file {side})", rid, self.line)
        self.expected = seq + 1
        self.last_leaf = leaf.hex()
        self.last_ts = ts if self.last_ts is None or ts > self.last_ts else self.last_ts

    def _first(self, seq: int, prev: str, rid: str, log_id: str, rtype: str, leaf: bytes) -> None:
        self.log_id = log_id
        self.r.log_id = log_id
        if self.line != 1:
            pass  # line 1 was unreadable and is already reported; do not blame this record for it
        elif rtype != "genesis":
            self.fail(codes.CHAIN_BROKEN, f"the log does not start with its genesis record: line 1 is a {rtype} "
                                          f"record with seq {seq} (the start of the log was removed)", rid)
        elif seq != 0 or prev != record.GENESIS_PREV:
            self.fail(codes.GENESIS_MISMATCH, "the genesis record must have seq 0 and prev = 64 zeros "
                                              f"(found seq {seq}, prev {prev[:16]}…)", rid)
        pins = self.trust.logs
        if not pins:
            self.warn(codes.UNPINNED, f"the trusted-keys file pins no log; log {log_id} is accepted on its keys "
                                      f"alone (a key holder could rebuild it). Pin it: `deelwijzer audit pin LOG "
                                      f"--trusted-keys FILE`")
        elif log_id not in pins:
            self.fail(codes.LOG_ID_MISMATCH, f"log {log_id} is not pinned in the trusted-keys file "
                                             f"(pinned: {', '.join(sorted(pins))}): this is another or a rebuilt log", rid)
        elif rtype == "genesis" and seq == 0 and leaf.hex() != pins[log_id]:
            self.fail(codes.GENESIS_MISMATCH, f"genesis hash {leaf.hex()[:16]}… differs from the pinned genesis "
                                              f"{pins[log_id][:16]}…: the log was rebuilt from its start", rid)

    def _time_and_key(self, ts: str, kid: str, rid: str) -> None:
        if self.last_ts is not None and ts < self.last_ts:
            back = (parse_ts(self.last_ts) - parse_ts(ts)).total_seconds()
            if back > self.tolerance:
                self.fail(codes.TIME_WENT_BACKWARDS, f"timestamp {ts} is {back:.0f} s before an earlier record's "
                                                     f"{self.last_ts} (tolerance {self.tolerance:.0f} s)", rid)
        if kid in self.trust.keys:
            why = self.trust.invalid_at(kid, ts)
            if why:
                self.fail(codes.KEY_NOT_VALID_AT_TIME, why, rid)

    def _check_checkpoint(self, cp: Checkpoint, leaf: bytes) -> None:
        p = cp.payload
        self.r.checkpoints_checked += 1
        if self.log_id is not None and p.log_id != self.log_id:
            return  # reported once, in finish()
        if self.cr.root().hex() != p.root or leaf.hex() != p.head:
            self.fail(codes.CHECKPOINT_MISMATCH, f"Merkle root over the first {p.size} records differs from checkpoint "
                                                 f"{cp.source} signed at {p.ts}: records up to here were changed, "
                                                 f"removed or reordered (history rewritten)", None)


def _load_checkpoints(log_path: Path, trust: trustmod.TrustStore, held: Sequence[Path],
                      report: VerifyReport) -> dict[int, list[tuple[Checkpoint, bool]]]:
    out: dict[int, list[tuple[Checkpoint, bool]]] = {}
    sources = []
    side = checkpoint_path(log_path)
    if side.exists():
        sources.append((side, False))
    sources += [(Path(p), True) for p in held]
    for path, anchor in sources:
        good, bad = read_checkpoints(path, trust)
        for msg in bad:
            report.failures.append(Failure(None, None, codes.BAD_CHECKPOINT, msg))
        for cp in good:
            out.setdefault(cp.payload.size, []).append((cp, anchor))
    return out


def _second_pass_duplicates(log_path: Path, chain: _Chain) -> None:
    """Confirm duplicate candidates: an earlier line with the same record id."""
    wanted = {rid: (line, seq, leaf) for line, rid, seq, leaf in chain.dups}
    found: dict[str, tuple[int, bytes]] = {}
    with open(log_path, "rb") as fh:
        for n, line in enumerate(fh, 1):
            if not line.endswith(b"\n"):
                break
            try:
                payload, _kid, _sig = envelope.parse(line[:-1], envelope.RECORD_TYPE)
                obj = canonical.loads_fast(payload)
                rid = obj.get("record_id") if isinstance(obj, dict) else None
            except (ValueError, RecursionError):
                continue
            if rid in wanted and rid not in found and n < wanted[rid][0]:
                found[rid] = (n, leaf_hash(payload))
    for line, rid, seq, leaf in chain.dups:
        if rid in found:
            first, first_leaf = found[rid]
            what = "an exact copy of" if first_leaf == leaf else "a different record reusing the record id of"
            chain.fail(codes.DUPLICATE_RECORD, f"record (seq {seq}) is {what} line {first}", rid, line)
        else:
            chain.fail(codes.CHAIN_BROKEN, f"seq {seq} goes backwards: records were reordered", rid, line)
    chain.r.failures.sort(key=lambda f: (f.line is None, f.line or 0))


def verify_log(log_path: Path, trusted_keys: Path, rules_archive: Path | None = None, *,
               checkpoints: Sequence[Path] = (), jobs: int | None = None,
               time_tolerance: float = DEFAULT_TIME_TOLERANCE) -> VerifyReport:
    """Verify a log. Raises TrustFileError (bad trusted-keys file) and OSError (unreadable log);
    everything wrong with the log itself is reported in the VerifyReport."""
    log_path = Path(log_path)
    trust = trusted_keys if isinstance(trusted_keys, trustmod.TrustStore) else trustmod.load(Path(trusted_keys))
    report = VerifyReport(str(log_path), trusted_keys_sha256=trust.sha256)
    size = os.stat(log_path).st_size
    cps = _load_checkpoints(log_path, trust, checkpoints, report)
    chain = _Chain(report, trust, cps, time_tolerance)
    if jobs is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        jobs = min(cores, 4) if size >= PARALLEL_MIN_BYTES else 1
    raw = {kid: e.raw for kid, e in trust.keys.items()}
    archive = str(rules_archive) if rules_archive is not None else None
    torn: list = []
    with open(log_path, "rb") as fh:
        if jobs <= 1:
            _init_worker(raw, archive)
            for chunk in _chunks(fh, CHUNK_BYTES, torn):
                for res in _check_chunk(chunk):
                    chain.feed(res)
        else:
            ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
            with ctx.Pool(jobs, initializer=_init_worker, initargs=(raw, archive)) as pool:
                pending: deque = deque()
                for chunk in _chunks(fh, CHUNK_BYTES, torn):
                    pending.append(pool.apply_async(_check_chunk, (chunk,)))
                    if len(pending) >= 2 * jobs:
                        for res in pending.popleft().get():
                            chain.feed(res)
                while pending:
                    for res in pending.popleft().get():
                        chain.feed(res)
                pool.close()
                pool.join()
    _finish(log_path, chain, cps, torn)
    return report


def _finish(log_path: Path, chain: _Chain, cps: dict[int, list[tuple[Checkpoint, bool]]], torn: list) -> None:
    r = chain.r
    r.records = chain.line
    if chain.dups:
        _second_pass_duplicates(log_path, chain)
    for n in torn:
        r.failures.append(Failure(chain.line + 1, None, codes.TORN_TAIL,
                                  f"incomplete last line ({n} bytes, no newline): an interrupted write. "
                                  f"Complete records are verified above; run `deelwijzer audit repair {log_path}` "
                                  f"to set the fragment aside"))
    anchored = 0
    for size, entries in sorted(cps.items()):
        for cp, anchor in entries:
            p = cp.payload
            if chain.log_id is not None and p.log_id != chain.log_id:
                r.failures.append(Failure(None, None, codes.BAD_CHECKPOINT,
                                          f"{cp.source}: checkpoint is for log {p.log_id}, not {chain.log_id}"))
            elif size > chain.line:
                r.failures.append(Failure(None, None, codes.TRUNCATED,
                                          f"checkpoint {cp.source} signed at {p.ts} commits to {size} records, "
                                          f"the log has {chain.line}: records were removed from the end"))
            elif anchor:
                anchored = max(anchored, size)
    if any(f.code == codes.CHECKPOINT_MISMATCH for f in r.failures):
        anchored = 0
    r.anchored = anchored
    if chain.line == 0 and not torn:
        r.warnings.append(Failure(None, None, codes.EMPTY_LOG, "the log holds no records"))
    elif chain.line > anchored:
        r.warnings.append(Failure(None, None, codes.UNANCHORED,
                                  f"records {anchored + 1}..{chain.line} are not covered by a checkpoint held outside "
                                  f"this log: removing them from the end would go unnoticed. Export checkpoints "
                                  f"(`deelwijzer audit checkpoint`) and pass them with --checkpoint"))
    if chain.line:
        r.root = chain.cr.root().hex()
        r.head = chain.line_leaf.hex()
    r.failures.sort(key=lambda f: (f.line is None, f.line or 0))
    r.ok = not r.failures and not r.failures_not_listed
