"""Can a rule ever fire? A bounded search over the interview's ``ask_when`` conditions.

A rule can fire when some answers make its condition hold *and* every fact it reads is
actually asked under those answers. The search takes a satisfiable alternative of the
rule's condition (derived facts expanded), picks a fact it reads whose question has an
``ask_when`` not yet included, branches over the alternatives of that ``ask_when``, and so on
until every fact read is accounted for. Satisfiability of numbers is decided by intervals
(``engine.conditions.satisfiable``), never by enumerating a range.

The search is bounded (``BUDGET`` steps, ``MAX_ALTERNATIVES`` per expansion); when a rule is
too large to decide within the bound the answer is "can fire" (the cautious default for a
checker: the scenario coverage report still shows a rule no scenario reaches).
"""
from __future__ import annotations

from collections.abc import Callable

from engine.conditions import (NEGATED, All, AnyOf, Conjunct, DerivedRef, FactSpec, Node, Not, Test, TooManyAlternatives,
                               dnf, nnf, satisfiable)

BUDGET = 20_000
MAX_ALTERNATIVES = 4096


class _TooLarge(Exception):
    pass


def can_fire(conjuncts: list[Conjunct], facts: dict[str, FactSpec], definition: Callable[[str], Node],
             ask_when: dict[str, Node | None]) -> bool:
    """True when some answers make one of ``conjuncts`` hold with every fact it reads asked."""
    budget = [BUDGET]

    def expand(node: Node) -> Node:
        if isinstance(node, DerivedRef):
            if node.name.startswith(NEGATED):
                return Not(expand(definition(node.name[1:])))
            return expand(definition(node.name))
        if isinstance(node, Test):
            return node
        if isinstance(node, Not):
            return Not(expand(node.item))
        items = tuple(expand(i) for i in node.items)
        return All(items) if isinstance(node, All) else AnyOf(items)

    def alternatives(node: Node) -> list[Conjunct]:
        try:
            return dnf(nnf(expand(node)), limit=MAX_ALTERNATIVES)
        except TooManyAlternatives:
            raise _TooLarge from None

    def search(conj: Conjunct, included: frozenset[str]) -> bool:
        budget[0] -= 1
        if budget[0] < 0:
            raise _TooLarge
        if not satisfiable(conj, facts):
            return False
        pending = sorted({leaf.fact for leaf in conj if isinstance(leaf, Test)} - included)
        pending = [f for f in pending if ask_when.get(f) is not None]
        if not pending:
            return True
        fact = pending[0]
        condition = ask_when[fact]
        assert condition is not None
        return any(search(conj + alt, included | {fact}) for alt in alternatives(condition))

    try:
        for conj in conjuncts:
            for alt in alternatives(All(conj)):
                if search(alt, frozenset()):
                    return True
    except (_TooLarge, RecursionError):
        return True
    return False
