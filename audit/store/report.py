"""What an auditor asks: ``deelwijzer audit report LOG_OR_URL [--from D --to D] [--format text|json|csv]``.

Counts over a period -- by outcome, verdict, recipient, legal basis, organisation, and recipient
with legal basis ("how often did we share with the police this year, on which grounds?") -- plus
the records whose advice rested on a source that was not verified against the official text.

**Only verified records are counted.** The log (or every log in the store) is verified first,
exactly as ``audit verify`` does; then the very lines that were verified are read again (in the
same database snapshot; for a file, the same bytes, which the Merkle root over them proves) and a
decision record is counted only when no check failed on its line. Records that failed are
counted as excluded, never as advice. A report is never made from the database's index columns.

The period is by the record's signed time (``ts``, UTC): ``--from`` a date (from 00:00 UTC) or a
date-time with zone, inclusive; ``--to`` a date (to the end of that day, UTC) or a date-time,
inclusive.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audit import canonical, envelope
from audit import trust as trustmod
from audit.errors import EnvelopeError, InvalidArgument
from audit.merkle import CompactRange, leaf_hash
from audit.timeutil import format_ts, parse_ts, parse_user_time
from audit.verify import LineSource, VerifyReport, file_source, verify_log

UNVERIFIED_STATUSES = ("unverified", None)   # a source not checked against the official text (null: unknown)


@dataclass(frozen=True)
class Period:
    since: str | None      # inclusive, fixed-width ts
    until: str | None      # exclusive

    @classmethod
    def parse(cls, since: str | None, until: str | None) -> Period:
        try:
            s = parse_user_time(since) if since else None
            u = None
            if until:
                text = until.strip()
                end = parse_ts(parse_user_time(text))
                end += dt.timedelta(days=1) if len(text) == 10 else dt.timedelta(milliseconds=1)
                u = format_ts(end)
        except ValueError as exc:
            raise InvalidArgument(f"--from/--to: {exc}") from None
        if s and u and u <= s:
            raise InvalidArgument(f"--to {until} lies before --from {since}")
        return cls(s, u)

    def holds(self, ts: str) -> bool:
        return (self.since is None or ts >= self.since) and (self.until is None or ts < self.until)


@dataclass
class LogSummary:
    name: str
    log_id: str | None
    verified: str          # PASS, WARN or FAIL
    records: int
    failures: int
    warnings: int
    excluded: int = 0      # records on a line where a check failed


@dataclass
class Report:
    source: str
    since: str | None
    until: str | None
    trusted_keys_sha256: str | None
    verified: str = "PASS"                     # worst of the logs (and the store's own checks)
    store_failures: int = 0
    decisions: int = 0                         # counted decision records in the period
    excluded: int = 0                          # records not counted because a check failed on them
    logs: list[LogSummary] = field(default_factory=list)
    by_outcome: Counter[str] = field(default_factory=Counter)
    by_verdict: Counter[str] = field(default_factory=Counter)
    by_recipient: Counter[str] = field(default_factory=Counter)
    by_legal_basis: Counter[str] = field(default_factory=Counter)
    by_organisation: Counter[str] = field(default_factory=Counter)
    by_recipient_and_basis: Counter[tuple[str, str]] = field(default_factory=Counter)
    unverified: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source, "from": self.since, "to_before": self.until,
            "trusted_keys_sha256": self.trusted_keys_sha256, "verified": self.verified,
            "counted": "only records that passed verification", "decisions": self.decisions,
            "excluded": self.excluded, "store_failures": self.store_failures,
            "logs": [vars(s) for s in self.logs],
            "by_outcome": dict(sorted(self.by_outcome.items())), "by_verdict": dict(sorted(self.by_verdict.items())),
            "by_recipient": dict(sorted(self.by_recipient.items())),
            "by_legal_basis": dict(sorted(self.by_legal_basis.items())),
            "by_organisation": dict(sorted(self.by_organisation.items())),
            "by_recipient_and_legal_basis": [{"recipient": r, "legal_basis": b, "count": n}
                                             for (r, b), n in sorted(self.by_recipient_and_basis.items())],
            "unverified_source": self.unverified,
        }

    def comparable(self) -> dict[str, Any]:
        """The counts without where they came from (a file and a store give the same)."""
        d = self.to_json()
        d.pop("source")
        d["logs"] = [{k: v for k, v in s.items() if k != "name"} for s in d["logs"]]
        return d


def _worse(a: str, b: str) -> str:
    order = {"PASS": 0, "WARN": 1, "FAIL": 2}
    return a if order[a] >= order[b] else b


def _status(rep: VerifyReport) -> str:
    return "FAIL" if not rep.ok else ("WARN" if rep.warnings else "PASS")


def _tally(report: Report, rep: VerifyReport, source: LineSource, period: Period) -> None:
    """Count the decision records of one verified log, reading the verified lines again."""
    failed = {f.line for f in rep.failures if f.line is not None}
    summary = LogSummary(rep.log_path, rep.log_id, _status(rep), rep.records,
                         len(rep.failures) + rep.failures_not_listed, len(rep.warnings))
    report.logs.append(summary)
    report.verified = _worse(report.verified, summary.verified)
    if rep.failures_not_listed:
        raise InvalidArgument(f"{rep.log_path} has more failures than can be listed; no record can be told apart as "
                              f"verified, so nothing is counted. Run `deelwijzer audit verify`")
    cr = CompactRange()
    n = 0
    lines: Iterator[bytes] = iter(source.open())
    for raw in lines:
        if n == rep.records or not raw.endswith(b"\n"):
            break
        n += 1
        line = raw[:-1]
        try:
            payload, _kid, _sig = envelope.parse(line, envelope.RECORD_TYPE)
        except EnvelopeError:
            payload = None
        cr.append(leaf_hash(payload if payload is not None else line))
        if n in failed or payload is None:
            summary.excluded += 1
            report.excluded += 1
            continue
        rec = canonical.loads_fast(payload)
        if rec.get("type") != "decision" or not period.holds(rec["ts"]):
            continue
        _count(report, rec)
    if n != rep.records or (rep.records and cr.root().hex() != rep.root):
        raise InvalidArgument(f"{rep.log_path} changed while the report was being made (the lines read again are not "
                              f"the ones verified); run the report again")


def _count(report: Report, rec: dict[str, Any]) -> None:
    a = rec["advice"]
    report.decisions += 1
    report.by_outcome[a["outcome"]] += 1
    report.by_verdict[a["verdict"]] += 1
    recipient = a["recipient"] or "-"
    report.by_recipient[recipient] += 1
    report.by_organisation[rec["actor"]["organisation"]] += 1
    bases = list(dict.fromkeys(b["id"] for b in a["legal_bases"]))
    for b in bases:
        report.by_legal_basis[b] += 1
        report.by_recipient_and_basis[(recipient, b)] += 1
    weak = [b for b in a["legal_bases"] if b["status"] in UNVERIFIED_STATUSES]
    if weak:
        report.unverified.append({
            "record_id": rec["record_id"], "ts": rec["ts"], "log_id": rec["log_id"],
            "organisation": rec["actor"]["organisation"], "professional": rec["actor"]["professional"],
            "outcome": a["outcome"], "recipient": a["recipient"],
            "sources": [{"id": b["id"], "citation": b["citation"], "status": b["status"]} for b in weak]})


def report_file(log_path: Path, trust: trustmod.TrustStore, period: Period, *, checkpoints: Sequence[Path] = (),
                **verify_options: Any) -> Report:
    """The report over one local log file (verified first: ``audit.verify_log``)."""
    rep = verify_log(Path(log_path), trust, checkpoints=checkpoints, **verify_options)
    report = Report(str(log_path), period.since, period.until, trust.sha256)
    _tally(report, rep, file_source(Path(log_path)), period)
    return report


def report_store(url: str, trust: trustmod.TrustStore, period: Period, *, checkpoints: Sequence[Path] = (),
                 **verify_options: Any) -> Report:
    """The report over every log in the store (verified first, in one snapshot: ``verify_store``)."""
    from audit.store import db
    from audit.store.verify import verify_store
    report = Report(db.redact(url), period.since, period.until, trust.sha256)
    store_rep = verify_store(url, trust, checkpoints=checkpoints,
                             each_log=lambda rep, source: _tally(report, rep, source, period), **verify_options)
    report.store_failures = len(store_rep.org.failures) + store_rep.org.failures_not_listed
    if report.store_failures:
        report.verified = "FAIL"
    elif store_rep.org.warnings:
        report.verified = _worse(report.verified, "WARN")
    report.unverified.sort(key=lambda u: (u["ts"], u["record_id"]))
    return report


# --- output ----------------------------------------------------------------------------------------

def _table(title: str, counts: Counter[str], out: list[str]) -> None:
    out.append(f"{title}:")
    if not counts:
        out.append("  -")
    width = max((len(k) for k in counts), default=0)
    for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        out.append(f"  {k.ljust(width)}  {n}")


def render_text(r: Report, safe: Any = str) -> str:
    period = f"{r.since or 'the first record'} .. before {r.until or 'now'}"
    out = [f"Deelwijzer audit report: {safe(r.source)}",
           f"Period (signed record times, UTC): {period}",
           f"Verification: {r.verified} -- counted are only records that passed every check against the trusted-keys "
           f"file (sha256 {r.trusted_keys_sha256}); {r.excluded} record(s) failed a check and are not counted"
           + (f"; the store itself failed {r.store_failures} check(s)" if r.store_failures else "")
           + ("" if r.verified == "PASS" else " (run `deelwijzer audit verify` for the details)"),
           f"Logs: {len(r.logs)}", f"Decisions in the period: {r.decisions}", ""]
    _table("By outcome", r.by_outcome, out)
    _table("By verdict", r.by_verdict, out)
    _table("By recipient", r.by_recipient, out)
    _table("By legal basis (records citing it)", r.by_legal_basis, out)
    _table("By organisation", r.by_organisation, out)
    out.append("By recipient and legal basis:")
    if not r.by_recipient_and_basis:
        out.append("  -")
    for (rec, basis), n in sorted(r.by_recipient_and_basis.items()):
        out.append(f"  {rec}  {basis}  {n}")
    out.append(f"Records whose advice rested on an unverified source (ask the privacy officer): {len(r.unverified)}")
    for u in r.unverified:
        srcs = ", ".join(f"{s['id']} ({s['status'] or 'status unknown'})" for s in u["sources"])
        out.append(f"  {u['ts']}  record {u['record_id']}  {safe(u['organisation'])}  {u['outcome']}"
                   + (f" -> {u['recipient']}" if u["recipient"] else "") + f"  sources: {safe(srcs)}")
    return "\n".join(out) + "\n"


CSV_FIELDS = ("kind", "dimension", "value", "count", "record_id", "ts", "log_id", "organisation", "outcome", "recipient",
              "sources")


def render_csv(r: Report) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_FIELDS)
    w.writerow(["summary", "verified", r.verified, "", "", "", "", "", "", "", ""])
    w.writerow(["summary", "decisions", "", r.decisions, "", "", "", "", "", "", ""])
    w.writerow(["summary", "excluded_failed_verification", "", r.excluded, "", "", "", "", "", "", ""])
    for dim, counts in (("outcome", r.by_outcome), ("verdict", r.by_verdict), ("recipient", r.by_recipient),
                        ("legal_basis", r.by_legal_basis), ("organisation", r.by_organisation)):
        for k, n in sorted(counts.items()):
            w.writerow(["count", dim, _cell(k), n, "", "", "", "", "", "", ""])
    for (rec, basis), n in sorted(r.by_recipient_and_basis.items()):
        w.writerow(["count", "recipient+legal_basis", f"{rec}+{basis}", n, "", "", "", "", "", "", ""])
    for u in r.unverified:
        w.writerow(["record", "unverified_source", "", 1, u["record_id"], u["ts"], u["log_id"], _cell(u["organisation"]),
                    u["outcome"], u["recipient"] or "", " ".join(s["id"] for s in u["sources"])])
    return buf.getvalue()


def _cell(text: str) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text

