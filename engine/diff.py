"""What a rule change does: compare two rule-set versions over every reachable interview path.

A privacy officer who edits a rule wants to see its effect before it ships. ``compare``
walks the interviews of both versions. A path (a complete answer set) that both can produce
is decided under both only when the change can touch it: when a rule, derived fact or
cited source that differs between the versions could fire on its answers, or when
something every advice depends on changed (precedence, outcomes, the fallback, defaults).
Any other path gets the same advice by construction -- the advice is a function of the
fired rules, and none of the changed ones fires. Paths only the new version produces (a
new question, a new option) and paths it no longer produces are reported with the spread
of their outcomes. Differences are grouped by how the advice changed (outcome, verdict,
conditions, data allowed/withheld, cited sources), with one example answer set per group.
"""
from __future__ import annotations

import dataclasses
from collections import Counter, OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from engine.conditions import derived_of
from engine.decide import Advice, decide, route_outcome
from engine.enumerate import walked_paths
from engine.fingerprint import canonical_bytes
from engine.reference import DerivedValues, Walk
from engine.ruleset import CompiledRule, Ruleset

PathKey = tuple[tuple[str, Any], ...]


def _summary(advice: Advice) -> dict[str, Any]:
    return {
        "outcome": advice.outcome,
        "verdict": advice.verdict,
        "conditions": tuple(sorted(advice.conditions)),
        "allowed": tuple(sorted(advice.allowed)),
        "withheld": tuple(sorted(w.category for w in advice.withheld)),
        "legal_bases": tuple(sorted(advice.legal_bases)),
    }


@dataclass
class Change:
    kind: str                       # e.g. "outcome: SEEK_CONSENT_FIRST -> SHARE_WITH_CONSENT"
    paths: int = 0
    example: dict[str, Any] = field(default_factory=dict)


@dataclass
class DiffReport:
    old: str
    new: str
    paths: int = 0                  # paths both versions produce
    unchanged: int = 0
    decided: int = 0                # of those, how many had to be decided (the rest cannot be touched)
    new_paths: Counter[str] = field(default_factory=Counter)       # outcome -> paths only the new version has
    removed_paths: Counter[str] = field(default_factory=Counter)   # outcome -> paths only the old version had
    new_example: dict[str, Any] = field(default_factory=dict)
    removed_example: dict[str, Any] = field(default_factory=dict)
    changed_rules: list[str] = field(default_factory=list)
    changes: OrderedDict[str, Change] = field(default_factory=OrderedDict)

    @property
    def changed(self) -> int:
        return sum(c.paths for c in self.changes.values())

    @property
    def differs(self) -> bool:
        return bool(self.changes or self.new_paths or self.removed_paths)


def _describe(before: dict[str, Any], after: dict[str, Any]) -> str:
    if before["outcome"] != after["outcome"]:
        return f"outcome: {before['outcome']} -> {after['outcome']}"
    parts = []
    for key in ("verdict", "conditions", "allowed", "withheld", "legal_bases"):
        if before[key] != after[key]:
            gone = sorted(set(before[key]) - set(after[key])) if isinstance(before[key], tuple) else [before[key]]
            came = sorted(set(after[key]) - set(before[key])) if isinstance(after[key], tuple) else [after[key]]
            parts.append(f"{key}: " + ", ".join([f"-{g}" for g in gone] + [f"+{c}" for c in came]))
    return f"{after['outcome']}: " + "; ".join(parts)


def _key(answers: dict[str, Any]) -> PathKey:
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in answers.items()))


def _paths(rs: Ruleset, recipient: str | None) -> Iterator[tuple[dict[str, Any], Walk]]:
    fact = rs.info.recipient_fact
    for answers, _weight, walk in walked_paths(rs):
        if recipient is None or answers.get(fact) == recipient:
            yield answers, walk


def _rule_form(cr: CompiledRule, rs: Ruleset) -> bytes:
    """What a rule means for the advice summary: its condition, conclusion and cited sources
    (with their status and validity, which decide the privacy-officer caution)."""
    item = cr.rule or cr.derived
    assert item is not None
    sources = {sid: (rs.sources[sid].status, str(rs.sources[sid].valid_from), str(rs.sources[sid].valid_to))
               for sid in cr.cites if sid in rs.sources}
    then = dataclasses.asdict(cr.rule.then) if cr.rule is not None else None
    return canonical_bytes({"when": repr(cr.conjuncts), "then": then,
                            "cites": sources, "confirm": getattr(item, "confirm", None) is not None})


def _global_form(rs: Ruleset) -> bytes:
    """Everything every advice depends on besides the rules themselves."""
    fb = rs.info.fallback
    return canonical_bytes({
        "precedence": rs.precedence,
        "verdicts": {code: o.verdict for code, o in rs.outcomes.items()},
        "fallback": [fb.outcome, {s: rs.sources[s].status for s in fb.cites}],
        "withhold": {s: rs.sources[s].status for s in rs.info.default_withhold_cites},
        "defaults": {q.fact: [q.default, q.default_cites] for q in rs.questions},
        "parameters": {p: [v.value, str(v.valid_from), str(v.valid_to)] for p, v in rs.parameters.items()},
    })


def changed_rules(old: Ruleset, new: Ruleset) -> set[str]:
    """Rule and derived-fact ids whose meaning differs, plus everything built on a changed
    derived fact (in either version)."""
    forms_old = {cr.id: _rule_form(cr, old) for cr in old.all_rules()}
    forms_new = {cr.id: _rule_form(cr, new) for cr in new.all_rules()}
    changed = {rid for rid in forms_old.keys() | forms_new.keys() if forms_old.get(rid) != forms_new.get(rid)}
    grew = True
    while grew:
        grew = False
        for rs in (old, new):
            for cr in rs.all_rules():
                if cr.id not in changed and derived_of(cr.when) & changed:
                    changed.add(cr.id)
                    grew = True
    return changed


def _touched(rs: Ruleset, ids: set[str], known: dict[str, Any]) -> bool | None:
    """Does one of the rules ``ids`` fire on these answers: True, False, or None when that
    depends on the advice itself (a data or condition rule reading advice.outcome)."""
    values = DerivedValues(rs, known)
    result: bool | None = False
    for rid in ids:
        try:
            cr = rs.rule(rid)
        except KeyError:
            continue
        v = rs.evaluator(cr.when)(known, values)
        if v is True:
            return True
        if v is None:
            result = None
    return result


def compare(old: Ruleset, new: Ruleset, recipient: str | None = None) -> DiffReport:
    """Compare ``old`` and ``new`` over every reachable path (optionally only one recipient's)."""
    report = DiffReport(f"{old.name} {old.version} {old.fingerprint}", f"{new.name} {new.version} {new.fingerprint}")
    everything = _global_form(old) != _global_form(new)
    ids = changed_rules(old, new)
    report.changed_rules = sorted(i for i in ids if not i.startswith("!"))
    route_changed = any(rs.rule(i).kind in ("route", "derived") for rs in (old, new) for i in ids
                        if i in rs.derived or i in {r.id for r in rs.rules})
    old_paths = {_key(a): (a, w) for a, w in _paths(old, recipient)}
    seen: set[PathKey] = set()
    for answers, walk in _paths(new, recipient):
        key = _key(answers)
        seen.add(key)
        before = old_paths.get(key)
        if before is None:
            advice = decide(new, answers, backend="python", walk=walk).advice
            outcome = advice.outcome if advice else "(incomplete)"
            report.new_paths[outcome] += 1
            report.new_example = report.new_example or dict(answers)
            continue
        report.paths += 1
        if not everything:
            touched = {_touched(new, ids, walk.known), _touched(old, ids, before[1].known)}
            if touched == {False}:
                report.unchanged += 1
                continue
            if True not in touched and not route_changed:
                # only data/condition rules changed and they read the advice: the route (and so the
                # outcome) is the same in both versions. First: can they fire with any outcome at all?
                # If so, work out this path's outcome and look again with it.
                if not any(_touched(rs, ids, {**k, "advice.outcome": o, "advice.verdict": new.outcomes[o].verdict})
                           for o in new.precedence for rs, k in ((new, walk.known), (old, before[1].known))):
                    report.unchanged += 1
                    continue
                outcome, verdict = route_outcome(new, walk.known)
                facts = {"advice.outcome": outcome, "advice.verdict": verdict}
                if not _touched(new, ids, {**walk.known, **facts}) and not _touched(old, ids, {**before[1].known, **facts}):
                    report.unchanged += 1
                    continue
        report.decided += 1
        after_advice = decide(new, answers, backend="python", walk=walk).advice
        before_advice = decide(old, before[0], backend="python", walk=before[1]).advice
        assert after_advice is not None and before_advice is not None
        b, a = _summary(before_advice), _summary(after_advice)
        if b == a:
            report.unchanged += 1
            continue
        kind = _describe(b, a)
        change = report.changes.setdefault(kind, Change(kind, example=dict(answers)))
        change.paths += 1
    for key, (answers, walk) in old_paths.items():
        if key in seen:
            continue
        advice = decide(old, answers, backend="python", walk=walk).advice
        report.removed_paths[advice.outcome if advice else "(incomplete)"] += 1
        report.removed_example = report.removed_example or dict(answers)
    report.changes = OrderedDict(sorted(report.changes.items(), key=lambda kv: -kv[1].paths))
    return report
