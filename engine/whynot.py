"""Why not? For the routes that did not fire: the nearest way they could, and what blocks it.

A route's condition is a set of alternatives (its disjunctive normal form over answers and
derived facts). An alternative is *blocked* by its leaves that do not hold on the answers.
A derived fact that holds counts as met; one that does not is looked into the same way, its
nearest alternative standing in for it. Only blockers the professional can change by acting
count: a question that declares a ``next_step`` in the rule set ("overleg eerst met ...").
An alternative blocked by anything else -- another recipient, another age, a fact of the
case -- is not a way to that route and is left out, and so are routes whose verdict is not
to share (they are not a way forward). The nearest alternative of a route is
the one with the fewest blockers; routes are listed nearest first, then by precedence.

The answer is only ever read from the rule set: the interview's "Wat nu?" panel and
``decide --explain`` show it, they do not invent law.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.conditions import Conjunct, DerivedRef
from engine.ruleset import ADVICE_OUTCOME, ADVICE_VERDICT, Ruleset
from legal_bases.catalogue import Text

ADVICE_FACTS = (ADVICE_OUTCOME, ADVICE_VERDICT)
MAX_BLOCKERS = 3
MAX_ROUTES = 3


@dataclass(frozen=True)
class Blocker:
    fact: str
    needed: str          # the test that does not hold, e.g. "conflict.consulted = true"
    answer: Any          # the current answer (None: not answered yet)
    next_step: Text      # what the professional can do (the question's next_step)


@dataclass(frozen=True)
class WhyNot:
    rule: str
    outcome: str
    title: Text
    blockers: tuple[Blocker, ...]

    def to_json(self, lang: str = "nl") -> dict[str, Any]:
        return {"rule": self.rule, "outcome": self.outcome, "title": self.title.get(lang),
                "blockers": [{"fact": b.fact, "needed": b.needed, "answer": b.answer, "next_step": b.next_step.get(lang)}
                             for b in self.blockers]}


def why_not(rs: Ruleset, known: dict[str, Any], outcome: str, fired: set[str]) -> list[WhyNot]:
    """The nearest blocked alternative of each route that did not fire (see the module doc).
    ``fired`` holds the ids of the rules and derived facts that fired on ``known``."""
    memo: dict[str, tuple[Blocker, ...] | None] = {}

    def conj_blockers(conj: Conjunct) -> tuple[Blocker, ...] | None:
        blockers: dict[str, Blocker] = {}
        for leaf in conj:
            if isinstance(leaf, DerivedRef):
                if leaf.name in fired:
                    continue
                inner = derived_blockers(leaf.name)
                if inner is None:
                    return None
                blockers.update((b.fact, b) for b in inner)
            else:
                if leaf.fact in known and leaf.holds(known[leaf.fact]):
                    continue
                q = rs.question(leaf.fact) if leaf.fact in rs.facts and leaf.fact not in ADVICE_FACTS else None
                if q is None or q.next_step is None:
                    return None
                blockers.setdefault(leaf.fact, Blocker(leaf.fact, leaf.describe(), known.get(leaf.fact), q.next_step))
            if len(blockers) > MAX_BLOCKERS:
                return None
        return tuple(blockers.values())

    def nearest(conjuncts: list[Conjunct]) -> tuple[Blocker, ...] | None:
        best: tuple[Blocker, ...] | None = None
        for conj in conjuncts:
            b = conj_blockers(conj)
            if b is not None and (best is None or len(b) < len(best)):
                best = b
        return best

    def derived_blockers(name: str) -> tuple[Blocker, ...] | None:
        if name not in memo:
            memo[name] = None  # the checker refuses cycles; this only guards the recursion
            memo[name] = nearest(rs.derived[name].conjuncts)
        return memo[name]

    found: list[WhyNot] = []
    for cr in rs.rules:
        if cr.kind != "route" or cr.id in fired or cr.rule is None or cr.rule.then.outcome == outcome:
            continue
        if cr.rule.then.outcome is None or rs.outcomes[cr.rule.then.outcome].verdict == "do_not_share":
            continue  # a way to "do not share" is not a way forward
        best = nearest(cr.conjuncts)
        if best:
            found.append(WhyNot(cr.id, cr.rule.then.outcome or "", cr.rule.title, best))
    order = {code: i for i, code in enumerate(rs.precedence)}
    found.sort(key=lambda w: (len(w.blockers), order.get(w.outcome, len(order))))
    return found[:MAX_ROUTES]
