"""What a rule change does: compare two rule-set versions over every reachable interview path.

A privacy officer who edits a rule wants to see its effect before it ships. ``compare``
walks the interview of the *new* rule set (the paths a professional can now take), decides
every path under both versions, and groups the differences by how the advice changed
(outcome, verdict, conditions, data allowed/withheld, cited sources), with one example
answer set per group.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from engine.answers import AnswerError, parse_answers
from engine.decide import decide
from engine.enumerate import complete_paths, prefixes
from engine.ruleset import Ruleset


def _summary(advice) -> dict[str, Any]:
    return {
        "outcome": advice.outcome,
        "verdict": advice.verdict,
        "conditions": tuple(advice.conditions),
        "allowed": tuple(sorted(advice.allowed)),
        "withheld": tuple(sorted(w.category for w in advice.withheld)),
        "legal_bases": tuple(sorted(advice.legal_bases)),
    }


@dataclass
class Change:
    kind: str                       # e.g. "outcome: SEEK_CONSENT_FIRST -> SHARE_WITH_CONSENT"
    paths: int = 0
    example: dict[str, Any] = field(default_factory=dict)
    detail: str = ""


@dataclass
class DiffReport:
    old: str
    new: str
    paths: int = 0
    unchanged: int = 0
    not_comparable: int = 0          # answers the old rule set does not accept, or leaves incomplete
    changes: "OrderedDict[str, Change]" = field(default_factory=OrderedDict)

    @property
    def changed(self) -> int:
        return sum(c.paths for c in self.changes.values())


def _describe(before: dict[str, Any], after: dict[str, Any]) -> tuple[str, str]:
    if before["outcome"] != after["outcome"]:
        return f"outcome: {before['outcome']} -> {after['outcome']}", ""
    parts = []
    for key in ("verdict", "conditions", "allowed", "withheld", "legal_bases"):
        if before[key] != after[key]:
            gone = sorted(set(before[key]) - set(after[key])) if isinstance(before[key], tuple) else [before[key]]
            came = sorted(set(after[key]) - set(before[key])) if isinstance(after[key], tuple) else [after[key]]
            parts.append(f"{key}: " + ", ".join([f"-{g}" for g in gone] + [f"+{c}" for c in came]))
    return f"{after['outcome']}: " + "; ".join(parts), ""


def _paths(rs: Ruleset, recipient: str | None):
    if recipient is None:
        yield from complete_paths(rs)
        return
    # walk only the subtrees below the chosen recipient (asked among the first questions)
    fact = rs.info.recipient_fact
    depth = next(i for i, q in enumerate(rs.questions) if q.fact == fact) + 1
    for start in prefixes(rs, depth):
        if start[0].get(fact) == recipient:
            yield from complete_paths(rs, start)
        elif fact not in start[0]:  # the recipient was not asked yet on this branch: filter
            yield from ((a, w) for a, w in complete_paths(rs, start) if a.get(fact) == recipient)


def compare(old: Ruleset, new: Ruleset, recipient: str | None = None) -> DiffReport:
    """Decide every reachable path of ``new`` under both versions (optionally only the paths
    for one recipient) and group the differences."""
    report = DiffReport(f"{old.name} {old.version} {old.fingerprint}", f"{new.name} {new.version} {new.fingerprint}")
    for answers, _weight in _paths(new, recipient):
        report.paths += 1
        after = decide(new, answers, backend="python").advice
        try:
            old_answers = parse_answers(old, answers)
        except AnswerError:
            report.not_comparable += 1
            continue
        before_decision = decide(old, old_answers, backend="python")
        if before_decision.advice is None or after is None:
            report.not_comparable += 1
            continue
        before, now = _summary(before_decision.advice), _summary(after)
        if before == now:
            report.unchanged += 1
            continue
        kind, detail = _describe(before, now)
        change = report.changes.setdefault(kind, Change(kind, example=dict(answers), detail=detail))
        change.paths += 1
    report.changes = OrderedDict(sorted(report.changes.items(), key=lambda kv: -kv[1].paths))
    return report
