"""Why not? For the routes that did not fire: the nearest way they could, and what blocks it.

Each route rule's condition is expanded (derived facts replaced by their definitions) into
alternatives. An alternative is *blocked* by the leaves that do not hold on the answers
(false, or not answered). Only blockers the professional can change by acting count: a
question that declares a ``next_step`` in the rule set ("overleg eerst met ..."). An
alternative blocked by anything else -- another recipient, another age, a fact of the case
-- is not a way to that route and is left out. The nearest alternative of a route is the
one with the fewest blockers; routes are listed nearest first, then by precedence.

The answer is only ever read from the rule set: the interview's "Wat nu?" panel and
``decide --explain`` show it, they do not invent law.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.conditions import (NEGATED, All, AnyOf, Conjunct, DerivedRef, Node, Not, Test, TooManyAlternatives, dnf,
                               nnf)
from engine.ruleset import CompiledRule, Ruleset
from legal_bases.catalogue import Text

MAX_EXPANDED = 4096
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


def _expanded(rs: Ruleset, cr: CompiledRule) -> list[Conjunct] | None:
    cache: dict[str, Any] = rs.memo.setdefault("whynot", {})
    if cr.id not in cache:
        def expand(node: Node) -> Node:
            if isinstance(node, DerivedRef):
                if node.name.startswith(NEGATED):
                    return Not(expand(rs.derived[node.name[1:]].when))
                return expand(rs.derived[node.name].when)
            if isinstance(node, Test):
                return node
            if isinstance(node, Not):
                return Not(expand(node.item))
            items = tuple(expand(i) for i in node.items)
            return All(items) if isinstance(node, All) else AnyOf(items)
        try:
            cache[cr.id] = dnf(nnf(expand(cr.when)), limit=MAX_EXPANDED)
        except (TooManyAlternatives, RecursionError):
            cache[cr.id] = None
    result: list[Conjunct] | None = cache[cr.id]
    return result


def why_not(rs: Ruleset, known: dict[str, Any], outcome: str, fired: set[str]) -> list[WhyNot]:
    """The nearest blocked alternative of each route that did not fire (see the module doc)."""
    found: list[WhyNot] = []
    for cr in rs.rules:
        if cr.kind != "route" or cr.id in fired or cr.rule is None or cr.rule.then.outcome == outcome:
            continue
        alternatives = _expanded(rs, cr)
        if not alternatives:
            continue
        best: tuple[Blocker, ...] | None = None
        for conj in alternatives:
            blockers: list[Blocker] = []
            for leaf in conj:
                assert isinstance(leaf, Test)
                if leaf.fact in known and leaf.holds(known[leaf.fact]):
                    continue
                q = rs.question(leaf.fact) if leaf.fact in rs.facts and leaf.fact not in ("advice.outcome", "advice.verdict") else None
                if q is None or q.next_step is None:
                    blockers = []
                    break
                blockers.append(Blocker(leaf.fact, leaf.describe(), known.get(leaf.fact), q.next_step))
                if len(blockers) > MAX_BLOCKERS:
                    break
            if blockers and len(blockers) <= MAX_BLOCKERS and (best is None or len(blockers) < len(best)):
                unique = tuple({b.fact: b for b in blockers}.values())
                best = unique
        if best:
            found.append(WhyNot(cr.id, cr.rule.then.outcome or "", cr.rule.title, best))
    order = {code: i for i, code in enumerate(rs.precedence)}
    found.sort(key=lambda w: (len(w.blockers), order.get(w.outcome, len(order))))
    return found[:MAX_ROUTES]
