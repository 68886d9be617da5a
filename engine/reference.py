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


def firings(rs: Ruleset, facts: dict[str, Any]) -> list[tuple[str, dict[str, dict[str, Any]]]]:
    """Every engine rule (``<rule>#<k>``) that fires on these facts, with the facts it matched,
    in the same shape durable reports them. Derived facts are computed to a fixpoint."""
    from engine.compiler import encode_answer  # the same encoding durable sees

    derived: set[str] = set()
    fired: dict[str, dict[str, dict[str, Any]]] = {}

    def matched(conj) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for leaf in conj:
            if isinstance(leaf, Test):
                out[f"fact:{leaf.fact}"] = encode_answer(leaf.fact, facts[leaf.fact], rs.facts[leaf.fact])
            else:
                out[f"derived:{leaf.name}"] = {"t": "d", "n": leaf.name}
        return out

    for cr in _dependency_order(rs):  # each derived fact after the ones it reads: one pass suffices
        for k, conj in enumerate(cr.conjuncts):
            if _conjunct_holds(conj, facts, derived):
                fired[f"{cr.id}#{k}"] = matched(conj)
                derived.add(cr.id)
    for cr in rs.rules:
        for k, conj in enumerate(cr.conjuncts):
            if _conjunct_holds(conj, facts, derived):
                fired[f"{cr.id}#{k}"] = matched(conj)
    return sorted(fired.items())


_ORDER: dict[str, list] = {}


def _dependency_order(rs: Ruleset) -> list:
    """Derived facts (and their '!' companions) ordered so that each comes after every
    derived fact its conjuncts read; the loader guarantees there are no cycles."""
    if rs.fingerprint not in _ORDER:
        order, seen = [], set()

        def visit(name: str) -> None:
            if name in seen:
                return
            seen.add(name)
            for conj in rs.derived[name].conjuncts:
                for leaf in conj:
                    if isinstance(leaf, DerivedRef):
                        visit(leaf.name)
            order.append(rs.derived[name])
        for name in sorted(rs.derived):
            visit(name)
        _ORDER[rs.fingerprint] = order
    return _ORDER[rs.fingerprint]


def fired_keys(rs: Ruleset, facts: dict[str, Any]) -> set[str]:
    return {key for key, _ in firings(rs, facts)}


class DerivedValues:
    """Three-valued value of each derived fact under (growing) partial answers, memoised.

    Kleene logic is monotone: answering more questions can turn 'unknown' into true or
    false but never changes a known value. So when answers are added only the unknown
    entries are forgotten."""

    def __init__(self, rs: Ruleset, answers: dict[str, Any]):
        self.rs, self.answers = rs, answers
        self.memo: dict[str, bool | None] = {}

    def __call__(self, name: str) -> bool | None:
        if name not in self.memo:
            self.memo[name] = kleene(self.rs.derived[name].when, self.answers, self)
        return self.memo[name]

    def answers_grew(self) -> None:
        self.memo = {k: v for k, v in self.memo.items() if v is not None}


def derived_value(rs: Ruleset, answers: dict[str, Any]) -> DerivedValues:
    return DerivedValues(rs, answers)


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
    values = derived_value(rs, walk.known)
    for q in rs.questions:
        cond = rs.ask_when[q.fact]
        if kleene(cond, walk.known, values) is not True:
            continue
        walk.relevant.append(q.fact)
        values.answers_grew()  # known is about to change: forget only what was unknown
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
