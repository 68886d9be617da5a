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
from dataclasses import dataclass, field
from typing import Any

from engine.conditions import derived_of
from engine.decide import Advice, decide, route_outcome
from engine.enumerate import walked_pairs
from engine.fingerprint import canonical_bytes
from engine.reference import DerivedValues
from engine.ruleset import CompiledRule, Ruleset

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


def _interview_form(rs: Ruleset) -> tuple[Any, ...]:
    """What the relevance walk reads: the questions in order with their answers to choose from
    and defaults, when each is asked, the facts' ranges, and the derived facts' conditions."""
    questions = [(q.fact, q.type, [o.value for o in q.options or []], repr(q.default), tuple(q.default_cites))
                 for q in rs.questions]
    return (repr(questions), repr(sorted(rs.ask_when.items(), key=lambda kv: kv[0])), repr(sorted(rs.facts.items())),
            repr(sorted((k, d.conjuncts) for k, d in rs.derived.items())))


def same_interview(old: Ruleset, new: Ruleset) -> bool:
    """Both versions ask the same questions under the same conditions with the same answers:
    then one relevance walk is the walk of both on every path (a change of rules, sources or
    texts only -- the common case of a release)."""
    return _interview_form(old) == _interview_form(new)


def _global_form(rs: Ruleset) -> bytes:
    """Everything every advice depends on besides the rules themselves."""
    fb = rs.info.fallback
    return canonical_bytes({
        "precedence": rs.precedence,
        "verdicts": {code: o.verdict for code, o in rs.outcomes.items()},
        "fallback": [fb.outcome, {s: rs.sources[s].status for s in fb.cites}],
        "withhold": {s: rs.sources[s].status for s in rs.info.default_withhold_cites},
        "defaults": {q.fact: [q.default, q.default_cites] for q in rs.questions},
        # a parameter's value reaches the advice through the conditions that use it (their forms
        # carry the number); its validity decides the stale-value caution on every advice
        "parameters": {p: [str(v.valid_from), str(v.valid_to)] for p, v in rs.parameters.items()},
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


def compare(old: Ruleset, new: Ruleset, recipient: str | None = None, workers: int = 1) -> DiffReport:
    """Compare ``old`` and ``new`` over every reachable path (optionally only one recipient's).

    Both interviews are walked on the *common refinement* of their answer classes
    (``classify_with``): a threshold moved from 16 to 15 splits "12-15" into "12-14" and
    "15", and the 15-year-old path is compared, not reported as new. A path of the new walk
    on which the old version still needs another answer is new; a path of the old walk on
    which the new version needs another answer is removed. The walks are split over
    ``workers`` processes by their first branches."""
    from engine.enumerate import prefixes
    both = [old, new]
    new_starts = [s for s in prefixes(new, depth=2, classify_with=both) if _wanted(new, s[0], recipient)]
    old_starts = [s for s in prefixes(old, depth=2, classify_with=both) if _wanted(old, s[0], recipient)]
    dirs = ((old.rules_dir, old.sources_dir), (new.rules_dir, new.sources_dir))
    jobs = [(dirs, new_starts[i::workers], old_starts[i::workers], recipient) for i in range(workers)]
    if workers > 1:
        import multiprocessing as mp
        with mp.get_context("spawn").Pool(workers) as pool:
            parts = pool.map(_compare_part, jobs, chunksize=1)
    else:
        parts = [_compare(old, new, *jobs[0][1:])]
    report = DiffReport(f"{old.name} {old.version} {old.fingerprint}", f"{new.name} {new.version} {new.fingerprint}")
    report.changed_rules = sorted(i for i in changed_rules(old, new) if not i.startswith("!"))
    for part in parts:
        report.paths += part.paths
        report.unchanged += part.unchanged
        report.decided += part.decided
        report.new_paths.update(part.new_paths)
        report.removed_paths.update(part.removed_paths)
        report.new_example = report.new_example or part.new_example
        report.removed_example = report.removed_example or part.removed_example
        for kind, change in part.changes.items():
            mine = report.changes.setdefault(kind, Change(kind, example=change.example))
            mine.paths += change.paths
    report.changes = OrderedDict(sorted(report.changes.items(), key=lambda kv: (-kv[1].paths, kv[0])))
    return report


def _wanted(rs: Ruleset, answers: dict[str, Any], recipient: str | None) -> bool:
    fact = rs.info.recipient_fact
    return recipient is None or fact not in answers or answers[fact] == recipient


def _compare_part(args: tuple[Any, ...]) -> DiffReport:
    from engine.loader import load_ruleset
    ((old_rules, old_sources), (new_rules, new_sources)), new_starts, old_starts, recipient = args
    return _compare(load_ruleset(old_rules, old_sources), load_ruleset(new_rules, new_sources), new_starts, old_starts,
                    recipient)


def _compare(old: Ruleset, new: Ruleset, new_starts: list[Any], old_starts: list[Any], recipient: str | None) -> DiffReport:
    report = DiffReport("", "")
    one_walk = same_interview(old, new)
    everything = _global_form(old) != _global_form(new)
    ids = direct_changes(old, new)
    fact = new.info.recipient_fact
    for start in new_starts:
        for answers, walk, before in walked_pairs(new, old, start, same_interview=one_walk):
            if recipient is not None and answers.get(fact) != recipient:
                continue
            if before.missing or not _answerable(old, answers, before.relevant):
                advice = decide(new, answers, backend="python", walk=walk).advice
                report.new_paths[advice.outcome if advice else "(incomplete)"] += 1
                report.new_example = report.new_example or dict(answers)
                continue
            report.paths += 1
            if not everything and before.relevant == walk.relevant and _same_on_path(old, new, ids, before.known, walk.known):
                report.unchanged += 1
                continue
            report.decided += 1
            after_advice = decide(new, answers, backend="python", walk=walk).advice
            before_advice = decide(old, answers, backend="python", walk=before).advice
            assert after_advice is not None and before_advice is not None
            b, a = _summary(before_advice), _summary(after_advice)
            if b == a:
                report.unchanged += 1
                continue
            kind = _describe(b, a)
            change = report.changes.setdefault(kind, Change(kind, example=dict(answers)))
            change.paths += 1
    for start in old_starts:
        for answers, walk, after in walked_pairs(old, new, start, same_interview=one_walk):
            if recipient is not None and answers.get(fact) != recipient:
                continue
            if after.missing or not _answerable(new, answers, after.relevant):
                advice = decide(old, answers, backend="python", walk=walk).advice
                report.removed_paths[advice.outcome if advice else "(incomplete)"] += 1
                report.removed_example = report.removed_example or dict(answers)
    return report


def _answerable(rs: Ruleset, answers: dict[str, Any], relevant: list[str]) -> bool:
    """Whether this version's interview can give these answers (a value it does not offer,
    such as a new recipient, makes the path one only the other version has)."""
    for fact in relevant:
        spec, value = rs.facts[fact], answers.get(fact)
        if value is None:
            continue
        if spec.type == "int":
            if not (spec.min or 0) <= value <= (spec.max or 0):
                return False
        elif spec.type == "set":
            if not set(value) <= set(spec.values):
                return False
        elif value not in spec.values:
            return False
    return True


def direct_changes(old: Ruleset, new: Ruleset) -> set[str]:
    """Rule and derived-fact ids whose own meaning differs between the versions."""
    forms_old = {cr.id: _rule_form(cr, old) for cr in old.all_rules()}
    forms_new = {cr.id: _rule_form(cr, new) for cr in new.all_rules()}
    return {rid for rid in forms_old.keys() | forms_new.keys() if forms_old.get(rid) != forms_new.get(rid)}


def _value(rs: Ruleset, rid: str, known: dict[str, Any], values: DerivedValues) -> bool | None:
    if rid in rs.derived:
        return values(rid)
    try:
        cr = rs.rule(rid)
    except KeyError:
        return False  # not in this version: it never fires
    return rs.evaluator(cr.when)(known, values)


def _same_on_path(old: Ruleset, new: Ruleset, ids: set[str], old_known: dict[str, Any], new_known: dict[str, Any]) -> bool:
    """True when every changed rule and derived fact is false on this path in both versions:
    then every rule that fires is unchanged, and the advice (a function of the fired rules)
    is the same by construction. A changed rule that holds in either version must be
    decided: its conclusion, conditions or sources may be what changed. Data and condition
    rules that read the advice are evaluated with the path's outcome (the same in both once
    the routes and derived facts agree)."""
    vo, vn = DerivedValues(old, old_known), DerivedValues(new, new_known)
    later = []
    for rid in sorted(ids):
        a, b = _value(old, rid, old_known, vo), _value(new, rid, new_known, vn)
        if a or b:
            return False
        if a is None or b is None:
            later.append(rid)
    if not later:
        return True
    outcome, verdict = route_outcome(new, new_known)
    facts = {"advice.outcome": outcome, "advice.verdict": verdict}
    ko, kn = {**old_known, **facts}, {**new_known, **facts}
    vo, vn = DerivedValues(old, ko), DerivedValues(new, kn)
    return not any(_value(old, rid, ko, vo) or _value(new, rid, kn, vn) for rid in later)
