"""Verifying an organisation store: ``deelwijzer audit verify URL``.

Everything is read in one REPEATABLE READ, READ ONLY transaction (one snapshot), through
server-side cursors, so memory stays flat in the size of the store:

1. **the organisation sequence** (one pass in ``org_seq`` order): org_seq runs 1, 2, 3, ... without
   a gap, each entry names a record that is in the store, and no record is missing from it while
   later ones are in it; each record's index columns (log id, seq, record id) are those of its own
   signed line (ORG_SEQUENCE_BROKEN otherwise). Records committed after the last ``sequence()``
   (an interrupted push) are reported as waiting, not as a failure; the RFC 6962 tree over the records' leaf hashes -- computed
   from the lines -- matches every organisation checkpoint, those kept in the store and those the
   auditor holds (``--checkpoint``), at its size and at the size of the checkpoint it names as its
   previous one (CHECKPOINT_MISMATCH), none commits to more records than the store holds
   (TRUNCATED), each is signed by a trusted key with the role ``checkpoint`` and none is dated in
   the future; no record is dated after an organisation checkpoint that covers it (FUTURE_TIMESTAMP);
2. **each professional's log** (``WHERE log_id = … ORDER BY arrival``): exactly the file verifier
   (``audit.verify_source``), with the same checks, reason codes and report as for that log's
   file -- signature, key role and window, canonical form, schema, chain, genesis and pins,
   duplicates, time, replay with ``--rules-archive``.

Anchoring: a record is anchored when an organisation checkpoint held outside the store covers it
(its org_seq is within the checkpoint's size and the store matches that checkpoint), or a
checkpoint of its own log held outside does. Records beyond are reported per log as UNANCHORED
(a failure with ``--strict``). Checkpoints kept in the store are checked but anchor nothing: a
database superuser could remove them together with the records they cover.
"""
from __future__ import annotations

import binascii
import datetime as dt
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import IsolationLevel

from audit import checkpoint as log_checkpoint
from audit import trust as trustmod
from audit.codes import STRICT_FAILURES, Code
from audit.errors import CheckpointError, InvalidArgument, TrustFileError
from audit.merkle import CompactRange, leaf_hash
from audit.store import db
from audit.store.orgcheckpoint import (OrgCheckpoint, is_org_checkpoint_file, log_lines, org_rows, parse_line,
                                       read_file)
from audit.timeutil import format_ts, parse_ts
from audit.verify import DEFAULT_TIME_TOLERANCE, Failure, LineSource, VerifyReport, check_tolerance, verify_source

_LOG_ID = re.compile(rb'"log_id":"([0-9a-f-]{36})"')
_RECORD_ID = re.compile(rb'"record_id":"([0-9a-f-]{36})"')
_SEQ = re.compile(rb'"seq":(0|[1-9][0-9]{0,15})[,}]')
_TS = re.compile(rb'"ts":"([0-9T:.Z-]{24})"')
MAX_ORG_FAILURES = 10_000


@dataclass
class OrgReport:
    """What the organisation-wide checks found."""

    store_id: str | None = None
    records: int = 0
    logs: int = 0
    root: str | None = None
    head: str | None = None
    anchored: int = 0
    checkpoints_checked: int = 0
    failures: list[Failure] = field(default_factory=list)
    warnings: list[Failure] = field(default_factory=list)
    failures_not_listed: int = 0
    waiting: int = 0     # records in the store, committed after the last sequence() (not yet in the sequence)


@dataclass
class StoreVerifyReport:
    url: str                                     # redacted
    ok: bool = False
    org: OrgReport = field(default_factory=OrgReport)
    logs: list[VerifyReport] = field(default_factory=list)
    trusted_keys_sha256: str | None = None
    trusted_keys_authenticated: str | None = None
    strict: bool = False

    @property
    def records(self) -> int:
        return self.org.records

    def failure_count(self) -> int:
        return (len(self.org.failures) + self.org.failures_not_listed
                + sum(len(r.failures) + r.failures_not_listed for r in self.logs))

    def warning_count(self) -> int:
        return len(self.org.warnings) + sum(len(r.warnings) for r in self.logs)

    def to_json(self) -> dict[str, Any]:
        org = asdict(self.org)
        return {"url": self.url, "ok": self.ok, "strict": self.strict, "trusted_keys_sha256": self.trusted_keys_sha256,
                "trusted_keys_authenticated": self.trusted_keys_authenticated, "org": org,
                "logs": [r.to_json() for r in self.logs]}


@dataclass
class _HeldCp:
    cp: OrgCheckpoint
    anchor: bool


class _OrgPass:
    """The organisation-wide checks, fed one row at a time in org_seq order."""

    def __init__(self, report: OrgReport, url: str, cps: list[_HeldCp], tolerance: float):
        self.r = report
        self.url = url
        self.cr = CompactRange()
        self.expected = 1
        self.counts: dict[str, int] = {}        # records per log (by the log_id column)
        self.sizes: dict[str, int] = {}         # bytes per log
        self.at_size: dict[int, list[_HeldCp]] = {}
        self.prev_at: dict[int, list[tuple[_HeldCp, str]]] = {}
        self.anchor_counts: dict[int, dict[str, int]] = {}  # per-log counts at each anchoring size
        self.contradicted = False
        self.head = b""
        for h in cps:
            p = h.cp.payload
            self.at_size.setdefault(p.size, []).append(h)
            if p.prev is not None:
                self.prev_at.setdefault(p.prev.size, []).append((h, p.prev.root))
        tol = dt.timedelta(seconds=tolerance)
        bounds = sorted((h.cp.payload.size, h.cp.payload.ts) for h in cps)
        best: str | None = None
        suffix: list[tuple[int, str]] = []
        for size, ts in reversed(bounds):  # for a record at index i: the earliest checkpoint time with size > i
            best = ts if best is None or ts < best else best
            suffix.append((size, format_ts(parse_ts(best) + tol)))
        suffix.reverse()
        self.bound_sizes = [s for s, _ in suffix]
        self.bound_ts = [t for _, t in suffix]

    def fail(self, code: Code, message: str, line: int | None, record_id: str | None = None) -> None:
        if len(self.r.failures) >= MAX_ORG_FAILURES:
            self.r.failures_not_listed += 1
            return
        self.r.failures.append(Failure(line, record_id, code, message))

    def feed(self, org_seq: int, log_id: str | None, seq: int | None, record_id: str | None,
             line: bytes | None) -> None:
        if line is None or log_id is None or seq is None or record_id is None:
            self.fail(Code.ORG_SEQUENCE_BROKEN, f"organisation record {org_seq} names a record that is no longer in "
                                                f"the store: the record was removed", org_seq)
            self.expected = org_seq + 1
            self.cr.append(leaf_hash(b""))  # keep its place: the tree then differs from any checkpoint covering it
            return
        if org_seq != self.expected:
            if org_seq > self.expected:
                self.fail(Code.ORG_SEQUENCE_BROKEN, f"organisation record {self.expected} expected, found {org_seq}: "
                                                    f"{org_seq - self.expected} record(s) of the organisation-wide "
                                                    f"sequence are missing (removed from the store)", org_seq)
            else:
                self.fail(Code.ORG_SEQUENCE_BROKEN, f"organisation record {org_seq} appears again after "
                                                    f"{self.expected - 1}", org_seq)
        self.expected = org_seq + 1
        payload = _payload(line)
        leaf = leaf_hash(payload if payload is not None else line)
        rid = None
        if payload is not None:
            got_log, got_rid, got_seq = _LOG_ID.search(payload), _RECORD_ID.search(payload), _SEQ.search(payload)
            rid = got_rid.group(1).decode("ascii") if got_rid else None
            if (got_log is None or got_log.group(1).decode("ascii") != log_id or rid != record_id
                    or got_seq is None or int(got_seq.group(1)) != seq):
                self.fail(Code.ORG_SEQUENCE_BROKEN, f"the store's index columns of organisation record {org_seq} (log "
                                                    f"{log_id}, seq {seq}, record {record_id}) are not those of its "
                                                    f"signed record: the row was changed in the database", org_seq,
                          rid or record_id)
            ts = _TS.search(payload)
            if ts is not None and self.bound_sizes:
                self._time(org_seq, ts.group(1).decode("ascii"), rid)
        self.cr.append(leaf)
        self.head = leaf
        self.counts[log_id] = self.counts.get(log_id, 0) + 1
        self.sizes[log_id] = self.sizes.get(log_id, 0) + len(line) + 1
        size = self.cr.size
        if size in self.at_size:
            root = self.cr.root().hex()
            for h in self.at_size[size]:
                self.r.checkpoints_checked += 1
                p = h.cp.payload
                if root != p.root or leaf.hex() != p.head:
                    self.contradicted = True
                    self.fail(Code.CHECKPOINT_MISMATCH, f"the organisation tree over the first {size} records differs "
                                                        f"from organisation checkpoint {h.cp.source} signed at {p.ts}: "
                                                        f"records up to here were changed, removed, inserted or "
                                                        f"reordered in the store", None)
                if h.anchor:
                    self.anchor_counts[size] = dict(self.counts)
        if size in self.prev_at:
            root = self.cr.root().hex()
            for h, want in self.prev_at[size]:
                if want != root:
                    self.contradicted = True
                    self.fail(Code.CHECKPOINT_MISMATCH, f"organisation checkpoint {h.cp.source} extends a checkpoint "
                                                        f"of size {size} with root {want[:16]}…, but the store's root "
                                                        f"there is {root[:16]}…: records up to here were changed",
                              None)

    def _time(self, org_seq: int, ts: str, rid: str | None) -> None:
        import bisect
        i = bisect.bisect_right(self.bound_sizes, org_seq - 1)
        if i < len(self.bound_sizes) and ts > self.bound_ts[i]:
            self.fail(Code.FUTURE_TIMESTAMP, f"organisation record {org_seq} is dated {ts}, after an organisation "
                                             f"checkpoint that already covers it (signed by {self.bound_ts[i]} with "
                                             f"the tolerance)", org_seq, rid)

    def finish(self, held: list[_HeldCp]) -> None:
        r = self.r
        r.records = self.cr.size
        if self.cr.size:
            r.root = self.cr.root().hex()
            r.head = self.head.hex()
        anchored = 0
        for h in held:
            p = h.cp.payload
            if p.size > self.cr.size:
                self.contradicted = True
                r.failures.append(Failure(None, None, Code.TRUNCATED,
                                          f"organisation checkpoint {h.cp.source} signed at {p.ts} commits to {p.size} "
                                          f"records, the store holds {self.cr.size}: records were removed from the end"))
            elif h.anchor:
                anchored = max(anchored, p.size)
        r.anchored = 0 if self.contradicted else anchored
        if self.cr.size == 0:
            r.warnings.append(Failure(None, None, Code.EMPTY_LOG, "the store holds no records"))


def _payload(line: bytes) -> bytes | None:
    """The payload bytes of an envelope line, decoded without the form checks: every line is checked
    in full by the verifier of its log; here only its leaf hash and index columns are needed (a line
    that is no envelope is hashed whole, so that the tree still shows it)."""
    if not line.startswith(b'{"payload":"'):
        return None
    end = line.find(b'"', 12)
    try:
        return binascii.a2b_base64(line[12:end]) if end > 0 else None
    except (binascii.Error, ValueError):
        return None


def _classify(path: Path) -> tuple[str, str | None]:
    """("org", None) for a file of organisation checkpoints, ("log", log_id) for a file of one log's
    checkpoints; ("bad", why) otherwise."""
    if is_org_checkpoint_file(path):
        return "org", None
    ids: set[str] = set()
    try:
        lines = [ln for ln in Path(path).read_bytes().split(b"\n") if ln.strip()]
    except OSError as exc:
        return "bad", f"{path}: cannot read checkpoint file: {exc.strerror or exc}"
    for i, ln in enumerate(lines, 1):
        try:
            ids.add(log_checkpoint.parse_unverified(ln, f"{path}:{i}").payload.log_id)
        except CheckpointError:
            continue
    if len(ids) == 1:
        return "log", ids.pop()
    if not ids:
        return "bad", f"{path}: holds no readable checkpoint"
    return "bad", f"{path}: holds checkpoints of several logs ({', '.join(sorted(ids))}); give one file per log"


def _load_org_checkpoints(conn: psycopg.Connection[Any], url: str, store_id: str, files: Sequence[Path],
                          trust: trustmod.TrustStore, report: OrgReport, future_limit: str) -> list[_HeldCp]:
    out: list[_HeldCp] = []
    found: list[tuple[OrgCheckpoint, bool]] = []
    with db.errors(url, "read the organisation checkpoints"):
        rows = conn.execute(f"SELECT n, line FROM {db.SCHEMA}.org_checkpoints ORDER BY n").fetchall()
    for n, line in rows:
        try:
            found.append((parse_line(bytes(line), trust, f"store checkpoint {n}"), False))
        except CheckpointError as exc:
            report.failures.append(Failure(None, None, exc.code, exc.message))
    for path in files:
        good, bad = read_file(path, trust)
        for code, msg in bad:
            report.failures.append(Failure(None, None, code, msg))
        found += [(cp, True) for cp in good]
    for cp, anchor in found:
        p = cp.payload
        if p.store_id != store_id:
            report.failures.append(Failure(None, None, Code.BAD_CHECKPOINT, f"{cp.source}: organisation checkpoint is "
                                                                             f"for store {p.store_id}, not {store_id}"))
        elif p.ts > future_limit:
            report.failures.append(Failure(None, None, Code.FUTURE_TIMESTAMP, f"organisation checkpoint {cp.source} is "
                                                                               f"dated {p.ts}, after the verifier's "
                                                                               f"clock: it is not used"))
        else:
            out.append(_HeldCp(cp, anchor))
    return out


def verify_store(url: str, trust: trustmod.TrustStore, rules_archive: Path | None = None, *,
                 checkpoints: Sequence[Path] = (), log_id: str | None = None, jobs: int | None = None,
                 time_tolerance: float = DEFAULT_TIME_TOLERANCE, now: dt.datetime | None = None, strict: bool = False,
                 trusted_keys_signed_by: str | Path | None = None, trusted_keys_sha256: str | None = None,
                 each_log: Callable[[VerifyReport, LineSource], None] | None = None) -> StoreVerifyReport:
    """Verify the store at ``url`` (module doc) against ``trust``. ``checkpoints``: files the
    auditor holds -- organisation checkpoints, or one log's checkpoints. ``log_id``: check only
    that professional's log (the organisation-wide checks always run). ``each_log(report,
    source)`` is called after each log is verified, inside the same snapshot, with a source that
    streams exactly the lines just verified (``audit report`` counts from it). Raises StoreError (the
    store cannot be read), InvalidArgument and TrustFileError (usage); everything wrong with the
    records or checkpoints is reported."""
    tolerance = check_tolerance(time_tolerance)
    now = now or dt.datetime.now(dt.UTC)
    report = StoreVerifyReport(db.redact(url), trusted_keys_sha256=trust.sha256, strict=strict)
    if trusted_keys_signed_by is not None or trusted_keys_sha256 is not None or strict:
        try:
            auth = trustmod.authenticate(trust, signed_by=trusted_keys_signed_by, expected_sha256=trusted_keys_sha256)
        except TrustFileError as exc:
            if exc.code is not Code.TRUST_FILE_UNAUTHENTICATED:
                raise
            report.org.failures.append(Failure(None, None, Code.TRUST_FILE_UNAUTHENTICATED,
                                               f"{exc.message}; the store was not checked against it"))
            return report
        report.trusted_keys_authenticated = auth.detail
    org_files: list[Path] = []
    log_files: dict[str, list[Path]] = {}
    for path in checkpoints:
        kind, what = _classify(Path(path))
        if kind == "org":
            org_files.append(Path(path))
        elif kind == "log" and what is not None:
            log_files.setdefault(what, []).append(Path(path))
        else:
            report.org.failures.append(Failure(None, None, Code.BAD_CHECKPOINT, what or str(path)))
    future_limit = format_ts(now + dt.timedelta(seconds=tolerance))
    conn = db.connect(url)
    try:
        store_id, _v = db.store_info(conn, url)
        report.org.store_id = store_id
        conn.isolation_level = IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with db.errors(url, "read the store for verification"), conn.transaction():
            held = _load_org_checkpoints(conn, url, store_id, org_files, trust, report.org, future_limit)
            org = _OrgPass(report.org, url, held, tolerance)
            for org_seq, lid, seq, rid, line in org_rows(conn, "s.org_seq, r.log_id::text, r.seq, r.record_id::text, "
                                                               "r.line"):
                org.feed(int(org_seq), lid, seq, rid, bytes(line) if line is not None else None)
            org.finish(held)
            _unsequenced(conn, report.org)
            logs = {str(lid): int(size) for lid, size in conn.execute(
                f"SELECT log_id::text, sum(length(line) + 1) FROM {db.SCHEMA}.records GROUP BY log_id "
                f"ORDER BY min(arrival)").fetchall()}
            report.org.logs = len(logs)
            if log_id is not None and log_id not in logs:
                raise InvalidArgument(f"the store {db.redact(url)} holds no log {log_id}")
            for lid in ([log_id] if log_id is not None else list(logs)):
                files = [(p, True) for p in log_files.get(lid, [])]
                rep = verify_source(_log_source(conn, url, lid, logs[lid]), trust, rules_archive,
                                    checkpoint_files=files, jobs=jobs, time_tolerance=tolerance, now=now)
                _anchor(rep, org, lid, report.org.anchored)
                if strict:
                    _strict(rep)
                rep.trusted_keys_authenticated = report.trusted_keys_authenticated
                report.logs.append(rep)
                if each_log is not None:
                    each_log(rep, _log_source(conn, url, lid, logs[lid]))
    finally:
        conn.close()
    if strict:
        keep = []
        for w in report.org.warnings:
            if w.code in STRICT_FAILURES:
                report.org.failures.append(Failure(w.line, w.record_id, w.code, w.message + " (auditor mode: --strict)"))
            else:
                keep.append(w)
        report.org.warnings = keep
    report.ok = not report.org.failures and not report.org.failures_not_listed and all(r.ok for r in report.logs)
    return report


def _log_source(conn: psycopg.Connection[Any], url: str, log_id: str, size: int) -> LineSource:
    def lines() -> Iterator[bytes]:
        for line in log_lines(conn, log_id):
            yield line + b"\n"

    return LineSource(f"{db.redact(url)}#{log_id}", lines, size)


def _unsequenced(conn: psycopg.Connection[Any], report: OrgReport) -> None:
    """Records not in the organisation sequence: waiting (arrived after everything sequenced) or --
    when later records are in it -- taken out of it."""
    row = conn.execute(f"SELECT count(*), min(r.arrival), (SELECT max(arrival) FROM {db.SCHEMA}.org_sequence) "
                       f"FROM {db.SCHEMA}.records r WHERE NOT EXISTS (SELECT 1 FROM {db.SCHEMA}.org_sequence s "
                       f"WHERE s.arrival = r.arrival)").fetchone()
    if row is None or not row[0]:
        return
    count, first, last_sequenced = int(row[0]), int(row[1]), row[2]
    if last_sequenced is not None and first < int(last_sequenced):
        missing = conn.execute(f"SELECT count(*) FROM {db.SCHEMA}.records r WHERE r.arrival < %s AND NOT EXISTS "
                               f"(SELECT 1 FROM {db.SCHEMA}.org_sequence s WHERE s.arrival = r.arrival)",
                               (int(last_sequenced),)).fetchone()
        n = int(missing[0]) if missing else 0
        report.failures.append(Failure(None, None, Code.ORG_SEQUENCE_BROKEN,
                                       f"{n} record(s) in the store are missing from the organisation sequence, though "
                                       f"records that came after them are in it: their sequence entries were removed"))
        count -= n
    report.waiting = count


def _anchor(rep: VerifyReport, org: _OrgPass, log_id: str, org_anchored: int) -> None:
    """Replace the file verifier's anchoring (its own checkpoints only) by the store's: a record is
    anchored by a held checkpoint of its log, or by a held organisation checkpoint covering it."""
    by_org = org.anchor_counts.get(org_anchored, {}).get(log_id, 0) if org_anchored else 0
    anchored = max(rep.anchored, by_org)
    rep.anchored = anchored
    rep.warnings = [w for w in rep.warnings if w.code is not Code.UNANCHORED]
    if rep.records > anchored:
        rep.warnings.append(Failure(None, None, Code.UNANCHORED,
                                    f"records {anchored + 1}..{rep.records} of log {log_id} are not covered by an "
                                    f"organisation checkpoint (or a checkpoint of this log) held outside the store: "
                                    f"removing them would go unnoticed. Sign one (`deelwijzer audit checkpoint URL "
                                    f"--key ORG_KEY --out CP`), keep it, and pass it with --checkpoint"))


def _strict(rep: VerifyReport) -> None:
    keep = []
    for w in rep.warnings:
        if w.code in STRICT_FAILURES:
            rep.failures.append(Failure(w.line, w.record_id, w.code, w.message + " (auditor mode: --strict)"))
        else:
            keep.append(w)
    rep.warnings = keep
    rep.strict = True
    rep.failures.sort(key=lambda f: (f.line is None, f.line or 0))
    rep.ok = not rep.failures and not rep.failures_not_listed
