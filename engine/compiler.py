"""Compile a checked rule set into a durable-rules ruleset (JSON form).

Each conjunct of each rule's condition (disjunctive normal form) becomes one durable rule
named ``<rule id>#<k>``, with one pattern per fact it reads, so that durable only ever sees
flat conjunctions (its OR/array paths have known bugs). Answers are asserted as one fact
each: ``{"t": "a", "f": <fact id>, "v": <value>}``; yes/no becomes 1/0, and a list answer
becomes one 0/1 flag per possible value (``s_<value>``), so no array operators are needed.
A derived fact that fires is asserted as ``{"t": "d", "n": <id>}`` and chains onward inside
durable. A sink rule matches every fact (and never fires), so durable never rejects a fact
as unhandled.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.conditions import DerivedRef, FactSpec, Test
from engine.ruleset import Ruleset

SINK = "sink"


@dataclass(frozen=True)
class Program:
    """What durable runs, plus what our actions need to know about each durable rule."""

    name: str                                   # content-addressed: durable cannot replace a ruleset
    definition: dict[str, dict[str, Any]]       # durable JSON ruleset (never mutated; deep-copied on registration)
    aliases: dict[str, tuple[str, ...]]         # durable rule name -> pattern aliases
    concludes: dict[str, str]                   # durable rule name -> derived fact it asserts
    rule_of: dict[str, tuple[str, int]]         # durable rule name -> (our rule id, conjunct index)


def encode_answer(fact: str, value: Any, spec: FactSpec) -> dict[str, Any]:
    if spec.type == "set":
        members = set(value)
        return {"t": "a", "f": fact, **{f"s_{v}": int(v in members) for v in spec.values}}
    if spec.type == "bool":
        return {"t": "a", "f": fact, "v": int(value)}
    return {"t": "a", "f": fact, "v": value}


def _test(test: Test, spec: FactSpec) -> dict[str, Any]:
    value = int(test.value) if spec.type == "bool" else test.value
    if test.op == "eq":
        return {"v": value}
    if test.op == "has":
        return {f"s_{test.value}": 1}
    if test.op == "lacks":
        return {f"s_{test.value}": 0}
    op = {"neq": "$neq", "lt": "$lt", "lte": "$lte", "gt": "$gt", "gte": "$gte"}[test.op]
    return {op: {"v": value}}


def compile_ruleset(rs: Ruleset) -> Program:
    name = "deelwijzer_" + rs.fingerprint.split(":", 1)[1][:24]
    definition: dict[str, dict[str, Any]] = {}
    aliases: dict[str, tuple[str, ...]] = {}
    concludes: dict[str, str] = {}
    rule_of: dict[str, tuple[str, int]] = {}
    for cr in rs.all_rules():
        for k, conj in enumerate(cr.conjuncts):
            by_fact: dict[str, list[Test]] = {}
            derived: list[str] = []
            for leaf in conj:
                if isinstance(leaf, Test):
                    by_fact.setdefault(leaf.fact, []).append(leaf)
                elif isinstance(leaf, DerivedRef) and leaf.name not in derived:
                    derived.append(leaf.name)
            patterns = []
            for fact in sorted(by_fact):
                spec = rs.facts[fact]
                terms = [{"t": "a"}, {"f": fact}] + [_test(t, spec) for t in by_fact[fact]]
                patterns.append({"$and": terms})
            for d in sorted(derived):
                patterns.append({"$and": [{"t": "d"}, {"n": d}]})
            key = f"{cr.id}#{k}"
            names = tuple(f"p{i}" for i in range(len(patterns)))
            definition[key] = {"all": [{a: p} for a, p in zip(names, patterns)], "run": f"{name}|{key}"}
            aliases[key] = names
            rule_of[key] = (cr.id, k)
            if cr.kind == "derived":
                concludes[key] = cr.id
    # The sink's first pattern matches every fact, so durable never rejects a fact as "not
    # handled"; its second pattern matches nothing, so it never fires (no action per fact).
    definition[SINK] = {"all": [{"m": {"$ex": {"t": 1}}}, {"never": {"t": "__never__"}}], "run": f"{name}|{SINK}"}
    return Program(name, definition, aliases, concludes, rule_of)


def program_for(rs: Ruleset) -> Program:
    """The durable program of a rule set, compiled once and kept on it (and in the cache)."""
    if rs.program is None:
        rs.program = compile_ruleset(rs)
    program: Program = rs.program
    return program
