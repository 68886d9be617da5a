"""Walk every reachable branch of the interview, for invariant checks and benchmarks.

The walk follows exactly what the engine says is asked next, so it covers the reachable
answer space rather than a guess of it. To keep it finite and fast, values that no
condition in the rule set can tell apart are merged into one class (computed from the
compiled conditions: two values are equivalent when every test on that fact gives the
same result for both), and list answers are branched over representative selections.
The walk reports how many concrete answer sets each path stands for.
"""
from __future__ import annotations

from dataclasses import dataclass
from math import prod
from typing import Any, Iterator

from engine.conditions import Test
from engine.reference import Resume, Walk, relevance
from engine.ruleset import Ruleset

ALL_DATA = ["identity", "contact", "signals", "health", "sexual_life", "suspect_info", "third_parties"]
SET_REPRESENTATIVES = {
    # every data category at once: each must then be allowed or withheld with a reason,
    # so one selection exercises every data rule of the route
    "share.data": [ALL_DATA],
    "concern.exploitation": [[], ["sexual", "criminal", "labour", "other"]],
    "consent.given_by": [["client"], ["parents"], ["client", "parents"]],
}


@dataclass(frozen=True)
class ValueClass:
    representative: Any
    size: int


def _atoms(rs: Ruleset) -> dict[str, set]:
    """Per fact, the distinct tests conditions make on it. A group of equality tests joined by
    'any' (how `in: [...]` is written) counts as one test: membership of that group."""
    from engine.conditions import AnyOf, DerivedRef, Not
    atoms: dict[str, set] = {}

    def visit(node) -> None:
        if node is None or isinstance(node, DerivedRef):
            return
        if isinstance(node, Test):
            atoms.setdefault(node.fact, set()).add(node)
            return
        if isinstance(node, Not):
            visit(node.item)
            return
        items = node.items
        if (isinstance(node, AnyOf) and all(isinstance(i, Test) and i.op == "eq" for i in items)
                and len({i.fact for i in items}) == 1):
            atoms.setdefault(items[0].fact, set()).add(("in", frozenset(i.value for i in items)))
            return
        for i in items:
            visit(i)

    for cr in rs.all_rules():
        if not cr.id.startswith("!"):
            visit(cr.when)
    for cond in rs.ask_when.values():
        visit(cond)
    return atoms


def _holds(atom, value) -> bool:
    if isinstance(atom, Test):
        return atom.holds(value)
    return value in atom[1]


def value_classes(rs: Ruleset) -> dict[str, list[ValueClass]]:
    atoms = _atoms(rs)
    out: dict[str, list[ValueClass]] = {}
    for q in rs.questions:
        if q.type == "set":
            values = SET_REPRESENTATIVES.get(q.fact) or [[], [o.value for o in q.options]]
            out[q.fact] = [ValueClass(v, 1) for v in values]
            continue
        domain = [True, False] if q.type == "bool" else (
            list(range(q.min, q.max + 1)) if q.type == "int" else [o.value for o in q.options])
        classes: dict[tuple, list[Any]] = {}
        ordered = sorted(atoms.get(q.fact, set()), key=repr)
        for v in domain:
            signature = tuple(_holds(a, v) for a in ordered)
            classes.setdefault(signature, []).append(v)
        out[q.fact] = [ValueClass(members[0], len(members)) for members in classes.values()]
    return out


def complete_paths(rs: Ruleset, start: tuple[dict[str, Any], list[int]] | None = None
                   ) -> Iterator[tuple[dict[str, Any], int]]:
    """Every complete answer set the interview can produce (one per value class), with the
    number of concrete answer sets it stands for; optionally only below a ``start`` prefix."""
    for answers, weight, _walk in walked_paths(rs, start):
        yield answers, weight


def walked_paths(rs: Ruleset, start: tuple[dict[str, Any], list[int]] | None = None
                 ) -> Iterator[tuple[dict[str, Any], int, Walk]]:
    """``complete_paths`` with the relevance walk of each path (for ``decide(..., walk=)``).

    Each child path resumes its parent's walk at the question it answers, so the whole tree
    is walked in time proportional to its size, not to size x depth."""
    classes = value_classes(rs)
    first = start or ({}, [])
    stack: list[tuple[dict[str, Any], list[int], Resume | None]] = [(first[0], first[1], None)]
    while stack:
        answers, weights, resume = stack.pop()
        walk = relevance(rs, answers, resume)
        if not walk.to_ask:
            yield answers, prod(weights) if weights else 1, walk
            continue
        fact = walk.to_ask[0]
        for vc in reversed(classes[fact]):
            stack.append(({**answers, fact: vc.representative}, [*weights, vc.size], walk.resume))


def prefixes(rs: Ruleset, depth: int) -> list[tuple[dict[str, Any], list[int]]]:
    """The interview's branches after its first ``depth`` questions: independent subtrees to
    walk in parallel."""
    classes = value_classes(rs)
    level: list[tuple[dict[str, Any], list[int]]] = [({}, [])]
    for _ in range(depth):
        nxt = []
        for answers, weights in level:
            walk = relevance(rs, answers)
            if not walk.to_ask:
                nxt.append((answers, weights))
                continue
            fact = walk.to_ask[0]
            nxt += [({**answers, fact: vc.representative}, weights + [vc.size]) for vc in classes[fact]]
        level = nxt
    return level
