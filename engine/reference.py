"""A plain-Python evaluator of the same compiled conjuncts that durable-rules runs.

It exists for two reasons: the differential test (durable's fired set must equal this
one for any answers, which catches durable's known condition bugs), and the three-valued
view the interview needs (which questions are still relevant), which durable cannot give.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.conditions import DerivedRef, Test, kleene
from engine.ruleset import Ruleset


def _conjunct_holds(conj, facts: dict[str, Any], derived: set[str]) -> bool:
    for leaf in conj:
        if isinstance(leaf, Test):
            if leaf.fact not in facts or not leaf.holds(facts[leaf.fact]):
                return False
        elif isinstance(leaf, DerivedRef):
            if leaf.name not in derived:
                return False
    return True


def fired_keys(rs: Ruleset, facts: dict[str, Any]) -> tuple[set[str], set[str]]:
    """Durable rule names (``<rule>#<k>``) that fire on these facts, and the derived facts."""
    derived: set[str] = set()
    fired: set[str] = set()
    changed = True
    while changed:
        changed = False
        for cr in rs.derived.values():
            for k, conj in enumerate(cr.conjuncts):
                key = f"{cr.id}#{k}"
                if key not in fired and _conjunct_holds(conj, facts, derived):
                    fired.add(key)
                    if cr.id not in derived:
                        derived.add(cr.id)
                        changed = True
    for cr in rs.rules:
        for k, conj in enumerate(cr.conjuncts):
            if _conjunct_holds(conj, facts, derived):
                fired.add(f"{cr.id}#{k}")
    return fired, derived


def derived_value(rs: Ruleset, answers: dict[str, Any]):
    """Three-valued value of each derived fact under partial answers (memoised)."""
    memo: dict[str, bool | None] = {}

    def value(name: str) -> bool | None:
        if name not in memo:
            memo[name] = kleene(rs.derived[name].when, answers, value)
        return memo[name]
    return value


@dataclass
class Walk:
    relevant: list[str] = field(default_factory=list)   # asked under these answers
    missing: list[str] = field(default_factory=list)    # relevant, unanswered, no default: still needed
    to_ask: list[str] = field(default_factory=list)     # relevant and unanswered (the interview asks these)
    assumed: dict[str, Any] = field(default_factory=dict)  # unanswered relevant facts given their default
    known: dict[str, Any] = field(default_factory=dict)    # relevant answers plus assumed defaults


def relevance(rs: Ruleset, answers: dict[str, Any]) -> Walk:
    """Walk the interview in order, deciding for each question whether it is asked."""
    walk = Walk()
    for q in rs.questions:
        cond = rs.ask_when[q.fact]
        if kleene(cond, walk.known, derived_value(rs, walk.known)) is not True:
            continue
        walk.relevant.append(q.fact)
        if q.fact in answers:
            walk.known[q.fact] = answers[q.fact]
            continue
        walk.to_ask.append(q.fact)
        if q.default is None:
            walk.missing.append(q.fact)
        else:
            walk.assumed[q.fact] = q.default
            walk.known[q.fact] = q.default
    return walk
