"""The offline verifier: streams a log, reports every failure with line, record id and code.

Inputs: a source of raw record lines (a file, or anything that streams lines: ``LineSource``),
a trust store, optionally checkpoint files (held by the auditor, or the log's side file) and a
rule-set archive for replay. Per line (in worker processes when the log is large):

1. the envelope, through ``audit.signed.open_envelope``: exact canonical DSSE form, record
   payloadType, one signature, canonical base64; trusted key; Ed25519 over PAE(payloadType,
   payload bytes) before the payload is parsed; the key's role ``record``;
2. payload: strict JSON, byte-identical to its RFC 8785 form (NOT_CANONICAL), the record
   schema, payload kid equals the envelope keyid (``record.parse_payload``: a fast check of the
   fixed shape, the strict pydantic models for anything it does not accept);
3. replay (optional) against the archived rule set: vocabulary and the whole advice.

Then in order, in the parent (cheap): genesis and pins, log id, seq/prev chain, duplicates,
time order within the tolerance, time not in the future (verifier's clock, covering
checkpoints), key validity at the record's time, Merkle root at every checkpoint's size and at
the previous checkpoint each one names, the checkpoint signer's right to sign for this log,
truncation against checkpoints, torn tail, anchoring.

Memory stays flat: lines are read in batches with a bounded number in flight; the Merkle root
uses a compact range; duplicates are confirmed in a second streaming pass only when a record
with an already-used seq turns up.
"""
from __future__ import annotations

import bisect
import datetime as dt
import math
import multiprocessing as mp
import os
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from multiprocessing.pool import AsyncResult
from pathlib import Path
from typing import Any

from audit import envelope, record
from audit import trust as trustmod
from audit.checkpoint import Checkpoint, checkpoint_path, read_checkpoints
from audit.codes import STRICT_FAILURES, Code
from audit.errors import EnvelopeError, InvalidArgument, TrustFileError
from audit.merkle import CompactRange, leaf_hash
from audit.record import PayloadError
from audit.signed import open_envelopes
from audit.timeutil import format_ts, parse_ts

CHUNK_BYTES = 1 << 20
PARALLEL_MIN_BYTES = 4 << 20
DEFAULT_TIME_TOLERANCE = 300.0  # seconds of clock skew allowed between records, and into the future
MAX_DUP_CANDIDATES = 10_000
MAX_LISTED_FAILURES = 10_000  # beyond this, failures are counted, not kept (memory stays flat)
TOO_LONG = b"\x00too-long "  # marker for a skipped over-long line (a real line never starts with NUL)
RECORD_ROLES = ("record",)
_UUID = re.compile(record.UUID4_PATTERN)

# (failures, info, leaf): info is (seq, prev, ts, kid, record_id, log_id, type, extra) for a readable
# record, (None, record_id hint) for an unreadable one, or None.
LineResult = tuple[tuple[tuple[Code, str], ...] | None, tuple[Any, ...] | None, bytes]


@dataclass(frozen=True)
class Failure:
    line: int | None
    record_id: str | None
    code: Code
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
    trusted_keys_authenticated: str | None = None  # how the trusted-keys file was authenticated, if it was
    strict: bool = False

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["failures"] = [asdict(f) for f in self.failures]
        d["warnings"] = [asdict(w) for w in self.warnings]
        return d


@dataclass(frozen=True)
class LineSource:
    """Where the records come from: ``name`` for messages, and ``open()`` streaming the raw lines
    from the start each time it is called (the verifier may call it twice). Each line ends in
    ``\\n``; only a torn last line may lack it. A database source yields each stored record
    line plus ``\\n``."""

    name: str
    open: Callable[[], Iterable[bytes]]
    size_hint: int | None = None   # bytes, when known (chooses parallel verification)


def file_source(path: Path) -> LineSource:
    path = Path(path)

    def lines() -> Iterator[bytes]:
        with open(path, "rb") as fh:
            yield from _file_lines(fh, CHUNK_BYTES)

    return LineSource(str(path), lines, os.stat(path).st_size)


def _file_lines(fh: Any, chunk_bytes: int) -> Iterator[bytes]:
    """The lines of a file, read in chunks. A line longer than twice MAX_LINE is not kept in
    memory: it is skipped to its end and replaced by a marker line (MALFORMED_RECORD)."""
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
            parts = block[:cut - 1].split(b"\n")
            for part in parts:
                yield part + b"\n"
        if len(rest) > 2 * envelope.MAX_LINE:
            skipping, rest = len(rest), b""
    if skipping:
        yield TOO_LONG + b"%d" % skipping  # torn (no newline), and too long
    elif rest:
        yield rest


# --- per-line checks (run in workers) ----------------------------------------------------------

_CTX: dict[str, Any] = {}


def _init_worker(trust_data: tuple[dict[str, Any], str | None, str | None], rules_archive: str | None) -> None:
    _CTX["trust"] = trustmod.TrustStore.from_portable(trust_data)
    _CTX["replayer"] = None
    if rules_archive is not None:
        from audit.replay import Replayer
        _CTX["replayer"] = Replayer(Path(rules_archive), _CTX["trust"])  # the trust store also checks releases


def _record_id_hint(payload: bytes) -> str | None:
    """The record id of a payload that failed, for the report (best effort, never trusted)."""
    m = re.search(rb'"record_id":"([0-9a-f-]{36})"', payload)
    rid = m.group(1).decode("ascii") if m else None
    return rid if rid and _UUID.match(rid) else None


def check_lines(lines: Sequence[bytes], trust: trustmod.TrustStore, replayer: Any) -> list[LineResult]:
    """All checks of each line that need no other line, phase by phase over the batch (envelopes
    and signatures, then payloads, then leaf hashes): the same checks as one line at a time,
    with each code path kept warm."""
    n = len(lines)
    out: list[LineResult | None] = [None] * n
    todo: list[int] = []
    for i, line in enumerate(lines):
        if line.startswith(TOO_LONG) or len(line) > envelope.MAX_LINE:
            size = int(line[len(TOO_LONG):]) if line.startswith(TOO_LONG) else len(line)
            out[i] = (((Code.MALFORMED_RECORD, f"line is {size} bytes, longer than {envelope.MAX_LINE}"),), None,
                      leaf_hash(line))
        else:
            todo.append(i)
    opened = open_envelopes([lines[i] for i in todo], envelope.RECORD_TYPE, trust, RECORD_ROLES)
    parsed: list[tuple[int, bytes, str, list[tuple[Code, str]]]] = []
    for i, res in zip(todo, opened):
        if isinstance(res, EnvelopeError):
            if res.payload is None or res.keyid is None:
                out[i] = (((res.code, res.message),), None, leaf_hash(lines[i]))
                continue
            parsed.append((i, res.payload, res.keyid, [(res.code, res.message)]))
        else:
            parsed.append((i, res.payload, res.key.key_id, []))
    recs: list[dict[str, Any] | record.Header | PayloadError] = []
    for _i, payload, _keyid, _fails in parsed:
        header = record.decision_header(payload) if replayer is None else None  # the usual case, on raw bytes
        if header is not None:
            recs.append(header)
            continue
        try:
            recs.append(record.parse_payload(payload))
        except PayloadError as exc:
            recs.append(exc)
    for (i, payload, keyid, fails), rec in zip(parsed, recs):
        leaf = leaf_hash(payload)
        if isinstance(rec, tuple):  # a decision record's header (seq, prev, ts, kid, record_id, log_id, type)
            kid = rec[3]
            if kid != keyid:
                fails.append((Code.MALFORMED_RECORD, f"payload names key {trustmod.short(kid)} but the envelope "
                                                     f"is signed by {trustmod.short(keyid)}"))
            out[i] = ((tuple(fails) if fails else None), (*rec, None), leaf)
            continue
        if isinstance(rec, PayloadError):
            fails.append((rec.code, rec.message))
            out[i] = (tuple(fails), (None, _record_id_hint(payload)), leaf)
            continue
        assert isinstance(rec, dict)
        if rec["kid"] != keyid:
            fails.append((Code.MALFORMED_RECORD, f"payload names key {trustmod.short(rec['kid'])} but the envelope "
                                                 f"is signed by {trustmod.short(keyid)}"))
        rtype = rec["type"]
        extra: Any = None
        if rtype == "recovery":
            t = rec["torn"]
            extra = (t["offset"], t["length"], t["sha256"], t["side_file"])
        elif rtype == "decision" and replayer is not None and not fails:
            problem = replayer.check(rec)
            extra = "replayed"
            if problem is not None:
                fails.append(problem)
        info = (rec["seq"], rec["prev"], rec["ts"], rec["kid"], rec["record_id"], rec["log_id"], rtype, extra)
        out[i] = ((tuple(fails) if fails else None), info, leaf)
    return [r for r in out if r is not None]


def check_line(line: bytes, trust: trustmod.TrustStore, replayer: Any) -> LineResult:
    """``check_lines`` for one line."""
    return check_lines([line], trust, replayer)[0]


def _check_batch(lines: list[bytes]) -> list[LineResult]:
    return check_lines(lines, _CTX["trust"], _CTX["replayer"])


# --- batching -------------------------------------------------------------------------------------

def _batches(lines: Iterable[bytes], max_bytes: int, torn: list[int]) -> Iterator[list[bytes]]:
    """Complete lines (without their newline) in batches of about ``max_bytes``; the length of an
    incomplete last line goes to ``torn``."""
    batch: list[bytes] = []
    size = 0
    pending: bytes | None = None
    for line in lines:
        if pending is not None:  # a line without "\n" that was not the last: treat as a complete line
            batch.append(pending)
            pending = None
        if line.endswith(b"\n"):
            batch.append(line[:-1])
            size += len(line)
            if size >= max_bytes:
                yield batch
                batch, size = [], 0
        else:
            pending = line
    if pending is not None:
        torn.append(int(pending[len(TOO_LONG):]) if pending.startswith(TOO_LONG) else len(pending))
    if batch:
        yield batch


# --- the sequential checks ------------------------------------------------------------------------

class _Chain:
    def __init__(self, report: VerifyReport, trust: trustmod.TrustStore,
                 checkpoints: dict[int, list[tuple[Checkpoint, bool]]], tolerance: float, now: dt.datetime):
        self.r = report
        self.trust = trust
        self.cps = checkpoints
        self.tolerance = dt.timedelta(seconds=tolerance)
        self.tolerance_s = tolerance
        self.future_limit = format_ts(now + self.tolerance)
        self.line = 0
        self.expected: int | None = 0
        self.last_leaf: str | None = None
        self.last_ts: str | None = None
        self.log_id: str | None = None
        self.cr = CompactRange()
        self.line_leaf = b""
        self.dups: list[tuple[int, str, int, bytes]] = []
        self.kids: set[str] = set()            # keys that signed a record of this log so far
        self.checkpoint_contradicted = False   # a checkpoint the log contradicts anchors nothing
        self.prev_checks: dict[int, list[tuple[Checkpoint, str]]] = {}
        for entries in checkpoints.values():
            for cp, _anchor in entries:
                prev = cp.payload.prev
                if prev is not None:
                    self.prev_checks.setdefault(prev.size, []).append((cp, prev.root))
        self.bound_sizes: list[int] = []       # covering-checkpoint time bounds, set once the log id is known
        self.bound_ts: list[str] = []

    def fail(self, code: Code, message: str, record_id: str | None, line: int | None = None) -> None:
        if len(self.r.failures) >= MAX_LISTED_FAILURES:
            self.r.failures_not_listed += 1
            return
        self.r.failures.append(Failure(self.line if line is None else line, record_id, code, message))

    def warn(self, code: Code, message: str, record_id: str | None = None, line: int | None = None) -> None:
        self.r.warnings.append(Failure(line, record_id, code, message))

    def feed(self, result: LineResult) -> None:
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
            self._chain(info, leaf, bool(fails))
        size = self.cr.size
        if size in self.cps:
            for cp, _anchor in self.cps[size]:
                self._check_checkpoint(cp, leaf)
        if size in self.prev_checks:
            root = self.cr.root().hex()
            for cp, want in self.prev_checks[size]:
                if cp.payload.log_id == self.log_id and want != root:
                    self.checkpoint_contradicted = True
                    self.fail(Code.CHECKPOINT_MISMATCH, f"checkpoint {cp.source} extends a checkpoint of size {size} "
                                                        f"with root {want[:16]}…, but the log's root there is "
                                                        f"{root[:16]}…: records up to here were changed", None)

    def _chain(self, info: tuple[Any, ...], leaf: bytes, failed: bool) -> None:
        seq, prev, ts, kid, rid, log_id, rtype, extra = info
        if extra == "replayed":
            self.r.replayed += 1
        if self.log_id is None:  # the first readable record (normally line 1) fixes the log's identity
            self._first(seq, prev, rid, log_id, rtype, leaf)
        elif log_id != self.log_id:
            self.fail(Code.LOG_ID_MISMATCH, f"record belongs to log {log_id}, not to this log {self.log_id} "
                                            f"(copied from another log)", rid)
            return
        elif rtype == "genesis":
            self.fail(Code.GENESIS_MISMATCH, f"a second genesis record (seq {seq}) in the middle of the log", rid)
            return
        elif self.expected is not None and seq < self.expected:
            if len(self.dups) < MAX_DUP_CANDIDATES:
                self.dups.append((self.line, rid, seq, leaf))
            else:  # too many to confirm one by one: still a failure, named by what is certain
                self.fail(Code.CHAIN_BROKEN, f"seq {seq} goes backwards (expected {self.expected})", rid)
            return
        elif self.expected is not None:
            if seq != self.expected:
                gap = seq - self.expected
                self.fail(Code.CHAIN_BROKEN, f"expected seq {self.expected}, found seq {seq}: {gap} record(s) "
                                             f"missing before this one (deleted or moved)", rid)
            elif prev != self.last_leaf:
                self.fail(Code.CHAIN_BROKEN, f"prev {prev[:16]}… is not the hash of the previous record "
                                             f"({(self.last_leaf or '')[:16]}…): the previous record was changed or "
                                             f"replaced", rid)
        future = self._time_and_key(ts, kid, rid)
        if not failed and kid in self.trust.keys:
            self.kids.add(kid)
        if rtype == "recovery":
            off, length, sha, side = extra
            self.warn(Code.RECOVERED, f"the writer set aside a torn tail here ({length} bytes at offset {off}, "
                                      f"sha256 {sha[:16]}…, side file {side})", rid, self.line)
        self.expected = seq + 1
        self.last_leaf = leaf.hex()
        if not future and (self.last_ts is None or ts > self.last_ts):
            self.last_ts = ts  # a record dated in the future does not hold back the genuine ones after it

    def _first(self, seq: int, prev: str, rid: str, log_id: str, rtype: str, leaf: bytes) -> None:
        self.log_id = log_id
        self.r.log_id = log_id
        self._time_bounds(log_id)
        if self.line != 1:
            pass  # line 1 was unreadable and is already reported; do not blame this record for it
        elif rtype != "genesis":
            self.fail(Code.CHAIN_BROKEN, f"the log does not start with its genesis record: line 1 is a {rtype} "
                                         f"record with seq {seq} (the start of the log was removed)", rid)
        elif seq != 0 or prev != record.GENESIS_PREV:
            self.fail(Code.GENESIS_MISMATCH, "the genesis record must have seq 0 and prev = 64 zeros "
                                             f"(found seq {seq}, prev {prev[:16]}…)", rid)
        pins = self.trust.logs
        if not pins:
            self.warn(Code.UNPINNED, f"the trusted-keys file pins no log; log {log_id} is accepted on its keys "
                                     f"alone (a key holder could rebuild it). Pin it: `deelwijzer audit pin LOG "
                                     f"--trusted-keys FILE`")
        elif log_id not in pins:
            self.fail(Code.LOG_ID_MISMATCH, f"log {log_id} is not pinned in the trusted-keys file "
                                            f"(pinned: {', '.join(sorted(pins))}): this is another or a rebuilt log", rid)
        elif rtype == "genesis" and seq == 0 and leaf.hex() != pins[log_id]:
            self.fail(Code.GENESIS_MISMATCH, f"genesis hash {leaf.hex()[:16]}… differs from the pinned genesis "
                                             f"{pins[log_id][:16]}…: the log was rebuilt from its start", rid)

    def _time_bounds(self, log_id: str) -> None:
        """For each record index, the earliest checkpoint time that covers it (+ tolerance)."""
        cps = sorted((cp.payload.size, cp.payload.ts) for entries in self.cps.values() for cp, _a in entries
                     if cp.payload.log_id == log_id)
        suffix: list[tuple[int, str]] = []
        best: str | None = None
        for size, ts in reversed(cps):
            best = ts if best is None or ts < best else best
            suffix.append((size, best))
        suffix.reverse()
        self.bound_sizes = [s for s, _ in suffix]
        self.bound_ts = [format_ts(parse_ts(t) + self.tolerance) for _, t in suffix]

    def _time_and_key(self, ts: str, kid: str, rid: str) -> bool:
        """Time and key-window checks; True when the record is dated in the future."""
        future = False
        if ts > self.future_limit:
            future = True
            self.fail(Code.FUTURE_TIMESTAMP, f"timestamp {ts} lies after the verifier's clock ({self.future_limit} "
                                             f"with the tolerance of {self.tolerance_s:g} s)", rid)
        elif self.bound_sizes:
            i = bisect.bisect_right(self.bound_sizes, self.line - 1)  # checkpoints with size > this record's index
            if i < len(self.bound_sizes) and ts > self.bound_ts[i]:
                future = True
                self.fail(Code.FUTURE_TIMESTAMP, f"timestamp {ts} lies after a checkpoint that already covers this "
                                                 f"record (signed by {self.bound_ts[i]} with the tolerance)", rid)
        if not future and self.last_ts is not None and ts < self.last_ts:
            back = (parse_ts(self.last_ts) - parse_ts(ts)).total_seconds()
            if back > self.tolerance_s:
                self.fail(Code.TIME_WENT_BACKWARDS, f"timestamp {ts} is {back:.0f} s before an earlier record's "
                                                    f"{self.last_ts} (tolerance {self.tolerance_s:g} s)", rid)
        if kid in self.trust.keys:
            why = self.trust.invalid_at(kid, ts)
            if why:
                self.fail(Code.KEY_NOT_VALID_AT_TIME, why, rid)
        return future

    def _check_checkpoint(self, cp: Checkpoint, leaf: bytes) -> None:
        p = cp.payload
        self.r.checkpoints_checked += 1
        if self.log_id is not None and p.log_id != self.log_id:
            return  # reported once, in _finish()
        if self.cr.root().hex() != p.root or leaf.hex() != p.head:
            self.checkpoint_contradicted = True
            self.fail(Code.CHECKPOINT_MISMATCH, f"Merkle root over the first {p.size} records differs from checkpoint "
                                                f"{cp.source} signed at {p.ts}: records up to here were changed, "
                                                f"removed or reordered (history rewritten)", None)
        entry = self.trust.keys.get(p.kid)
        if entry is not None and "checkpoint" not in entry.roles and p.kid not in self.kids:
            self.checkpoint_contradicted = True
            self.fail(Code.KEY_ROLE_NOT_ALLOWED, f"checkpoint {cp.source} is signed by {trustmod.short(p.kid)} "
                                                 f"({entry.info.owner}), a record key that signed no record of this "
                                                 f"log: a record key only checkpoints the log it writes", None)


def _load_checkpoints(files: Sequence[tuple[Path, bool]], trust: trustmod.TrustStore, report: VerifyReport,
                      future_limit: str) -> dict[int, list[tuple[Checkpoint, bool]]]:
    out: dict[int, list[tuple[Checkpoint, bool]]] = {}
    for path, anchor in files:
        good, bad = read_checkpoints(path, trust)
        for code, msg in bad:
            report.failures.append(Failure(None, None, code, msg))
        for cp in good:
            if cp.payload.ts > future_limit:
                report.failures.append(Failure(None, None, Code.FUTURE_TIMESTAMP,
                                               f"checkpoint {cp.source} is dated {cp.payload.ts}, after the verifier's "
                                               f"clock: it is not used"))
                continue
            out.setdefault(cp.payload.size, []).append((cp, anchor))
    return out


def _second_pass_duplicates(source: LineSource, chain: _Chain) -> None:
    """Confirm duplicate candidates: an earlier line with the same record id."""
    wanted = {rid: (line, seq, leaf) for line, rid, seq, leaf in chain.dups}
    found: dict[str, tuple[int, bytes]] = {}
    for n, line in enumerate(source.open(), 1):
        if not line.endswith(b"\n"):
            break
        try:
            payload, _kid, _sig = envelope.parse(line[:-1], envelope.RECORD_TYPE)
        except EnvelopeError:
            continue
        rid = _record_id_hint(payload)
        if rid in wanted and rid not in found and n < wanted[rid][0]:
            found[rid] = (n, leaf_hash(payload))
    for line_no, rid, seq, leaf in chain.dups:
        if rid in found:
            first, first_leaf = found[rid]
            what = "an exact copy of" if first_leaf == leaf else "a different record reusing the record id of"
            chain.fail(Code.DUPLICATE_RECORD, f"record (seq {seq}) is {what} line {first}", rid, line_no)
        else:
            chain.fail(Code.CHAIN_BROKEN, f"seq {seq} goes backwards: records were reordered", rid, line_no)


def check_tolerance(time_tolerance: float) -> float:
    """The time tolerance in seconds: finite and >= 0 (InvalidArgument otherwise)."""
    if isinstance(time_tolerance, bool) or not isinstance(time_tolerance, (int, float)) \
            or not math.isfinite(time_tolerance) or time_tolerance < 0:
        raise InvalidArgument(f"the time tolerance must be a finite number of seconds >= 0, not {time_tolerance!r}")
    if time_tolerance > 10 * 365 * 86400:
        raise InvalidArgument(f"a time tolerance of {time_tolerance:g} s (over ten years) disables the time checks")
    return float(time_tolerance)


def verify_source(source: LineSource, trust: trustmod.TrustStore, rules_archive: Path | None = None, *,
                  checkpoint_files: Sequence[tuple[Path, bool]] = (), jobs: int | None = None,
                  time_tolerance: float = DEFAULT_TIME_TOLERANCE, now: dt.datetime | None = None,
                  strict: bool = False, trusted_keys_signed_by: str | Path | None = None,
                  trusted_keys_sha256: str | None = None) -> VerifyReport:
    """Verify the records ``source`` streams (see ``verify_log`` for the options).

    ``checkpoint_files`` are (path, anchors) pairs: anchors=True for checkpoints held outside the
    machine (they make a removed tail detectable), False for the log's own side file. Raises
    InvalidArgument and TrustFileError (usage); everything wrong with the records, the
    checkpoints or the authentication of the trust store is reported in the VerifyReport."""
    tolerance = check_tolerance(time_tolerance)
    now = now or dt.datetime.now(dt.UTC)
    report = VerifyReport(source.name, trusted_keys_sha256=trust.sha256, strict=strict)
    if trusted_keys_signed_by is not None or trusted_keys_sha256 is not None or strict:
        try:
            auth = trustmod.authenticate(trust, signed_by=trusted_keys_signed_by, expected_sha256=trusted_keys_sha256)
        except TrustFileError as exc:
            if exc.code is not Code.TRUST_FILE_UNAUTHENTICATED:
                raise
            report.failures.append(Failure(None, None, Code.TRUST_FILE_UNAUTHENTICATED,
                                           f"{exc.message}; the log was not checked against it"))
            return report
        report.trusted_keys_authenticated = auth.detail
    future_limit = format_ts(now + dt.timedelta(seconds=tolerance))
    cps = _load_checkpoints(checkpoint_files, trust, report, future_limit)
    chain = _Chain(report, trust, cps, tolerance, now)
    if jobs is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        jobs = min(cores, 4) if (source.size_hint or 0) >= PARALLEL_MIN_BYTES else 1
    if jobs < 1:
        raise InvalidArgument(f"jobs must be at least 1, not {jobs}")
    archive = str(rules_archive) if rules_archive is not None else None
    torn: list[int] = []
    batches = _batches(source.open(), CHUNK_BYTES, torn)
    if jobs == 1:
        _init_worker(trust.portable(), archive)
        for batch in batches:
            for res in _check_batch(batch):
                chain.feed(res)
    else:
        ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
        with ctx.Pool(jobs, initializer=_init_worker, initargs=(trust.portable(), archive)) as pool:
            pending: deque[AsyncResult[list[LineResult]]] = deque()
            for batch in batches:
                pending.append(pool.apply_async(_check_batch, (batch,)))
                if len(pending) >= 2 * jobs:
                    for res in pending.popleft().get():
                        chain.feed(res)
            while pending:
                for res in pending.popleft().get():
                    chain.feed(res)
            pool.close()
            pool.join()
    _finish(source, chain, cps, torn)
    return report


def verify_log(log_path: Path, trusted_keys: Path | trustmod.TrustStore, rules_archive: Path | None = None, *,
               checkpoints: Sequence[Path] = (), jobs: int | None = None,
               time_tolerance: float = DEFAULT_TIME_TOLERANCE, now: dt.datetime | None = None, strict: bool = False,
               trusted_keys_signed_by: str | Path | None = None,
               trusted_keys_sha256: str | None = None) -> VerifyReport:
    """Verify a log file against a trusted-keys file (or a loaded TrustStore).

    ``checkpoints``: files held outside the machine (anchors); the log's side file
    ``<stem>.checkpoints.jsonl`` is checked too. ``time_tolerance``: seconds of clock skew (a
    finite number >= 0). ``now``: the verifier's clock (default: the system clock). ``strict``:
    auditor mode (UNPINNED, UNANCHORED, EMPTY_LOG fail; the trusted-keys file must be
    authenticated by ``trusted_keys_signed_by`` -- a public-key file, key directory or full key
    id -- or ``trusted_keys_sha256``).

    Raises TrustFileError (bad trusted-keys file), InvalidArgument (bad option) and OSError
    (unreadable log); everything wrong with the log itself is reported in the VerifyReport."""
    log_path = Path(log_path)
    trust = trusted_keys if isinstance(trusted_keys, trustmod.TrustStore) else trustmod.load(Path(trusted_keys))
    files: list[tuple[Path, bool]] = []
    side = checkpoint_path(log_path)
    if side.exists():
        files.append((side, False))
    files += [(Path(p), True) for p in checkpoints]
    return verify_source(file_source(log_path), trust, rules_archive, checkpoint_files=files, jobs=jobs,
                         time_tolerance=time_tolerance, now=now, strict=strict,
                         trusted_keys_signed_by=trusted_keys_signed_by, trusted_keys_sha256=trusted_keys_sha256)


def _finish(source: LineSource, chain: _Chain, cps: dict[int, list[tuple[Checkpoint, bool]]], torn: list[int]) -> None:
    r = chain.r
    r.records = chain.line
    if chain.dups:
        _second_pass_duplicates(source, chain)
    for n in torn:
        r.failures.append(Failure(chain.line + 1, None, Code.TORN_TAIL,
                                  f"incomplete last line ({n} bytes, no newline): an interrupted write. "
                                  f"Complete records are verified above; run `deelwijzer audit repair {source.name}` "
                                  f"to set the fragment aside"))
    anchored = 0
    for size, entries in sorted(cps.items()):
        for cp, anchor in entries:
            p = cp.payload
            if chain.log_id is not None and p.log_id != chain.log_id:
                r.failures.append(Failure(None, None, Code.BAD_CHECKPOINT,
                                          f"{cp.source}: checkpoint is for log {p.log_id}, not {chain.log_id}"))
            elif size > chain.line:
                r.failures.append(Failure(None, None, Code.TRUNCATED,
                                          f"checkpoint {cp.source} signed at {p.ts} commits to {size} records, "
                                          f"the log has {chain.line}: records were removed from the end"))
            elif anchor:
                anchored = max(anchored, size)
    if chain.checkpoint_contradicted:
        anchored = 0
    r.anchored = anchored
    if chain.line == 0 and not torn:
        r.warnings.append(Failure(None, None, Code.EMPTY_LOG, "the log holds no records"))
    elif chain.line > anchored:
        r.warnings.append(Failure(None, None, Code.UNANCHORED,
                                  f"records {anchored + 1}..{chain.line} are not covered by a checkpoint held outside "
                                  f"this log: removing them from the end would go unnoticed. Export checkpoints "
                                  f"(`deelwijzer audit checkpoint`) and pass them with --checkpoint"))
    if chain.line:
        r.root = chain.cr.root().hex()
        r.head = chain.line_leaf.hex()
    if r.strict:  # auditor mode: what would otherwise only be said is a failure
        keep = []
        for w in r.warnings:
            if w.code in STRICT_FAILURES:
                r.failures.append(Failure(w.line, w.record_id, w.code, w.message + " (auditor mode: --strict)"))
            else:
                keep.append(w)
        r.warnings = keep
    r.failures.sort(key=lambda f: (f.line is None, f.line or 0))
    r.ok = not r.failures and not r.failures_not_listed


__all__ = ["DEFAULT_TIME_TOLERANCE", "Failure", "LineSource", "VerifyReport", "check_line", "check_tolerance",
           "file_source", "verify_log", "verify_source"]
