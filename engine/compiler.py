"""Compile a checked rule set into durable-rules rulesets (JSON form), one per stage.

Each conjunct of each rule's condition (disjunctive normal form) becomes one durable rule
named ``<rule id>#<k>``, so that durable only ever sees flat conjunctions (its OR/array
paths have known bugs). The answers of a case are asserted as **one** fact,
``{"t": "c", "a0": …, "a1": …}``, one property per question (``a<i>``, by the question's
place in the interview, so a fact id never becomes a durable property path): yes/no
becomes 1/0, and a list answer becomes one 0/1 flag per possible value (``a<i>_<j>``), so
no array operators are needed. A conjunct is one pattern on the case fact with all its
tests (durable's ``$and`` of many terms is reliable), one on the *state* fact when it
reads derived facts (``{"t": "s", "d<i>": 1, …}``: the derived facts concluded so far),
and one on the advice fact when it reads the advice (``{"t": "x", …}``). A test on an
answer that is not given never matches (every non-equality test also requires the
property to exist), the same as in the Python evaluator. The checker keeps the number of
properties under durable's limit (``MAX_CASE_PROPERTIES``).

**Stages.** durable tests every asserted fact against every rule of its ruleset (measured:
about 1–3 µs per rule per fact, whatever the fact's type), so the rules are split into
stages, each its own durable ruleset, run one after the other in a fresh session each:
one stage per *stratum* of derived facts (a derived fact's stratum is one more than the
highest stratum of the derived facts it reads; the checker refuses cycles), then the
route rules, then the data and condition rules, which also read the advice the routes
chose. Each stage sees the case and the state after the stages before it. An evaluation
thus tests each rule against two or three facts instead of every fact against every rule.

Every stage also has a ``start`` rule that fires on the case. durable leaves a session's
action buffers uninitialised until an action has run, and ``delete_state`` then frees
whatever the memory held (``free(): invalid pointer`` once a second ruleset lives in the
process; state.c ``createStateNode``). Running at least one action in every session sets
and clears them. There is no catch-all "sink" rule: a fact that no pattern reads comes back
"not handled" (code 1), which only means that no rule reads it; a two-pattern sink was
the other half of that crash (``tests/engine/test_engine_durable.py`` reproduces both).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from engine.conditions import DerivedRef, FactSpec, Test
from engine.ruleset import ADVICE_OUTCOME, ADVICE_VERDICT, Ruleset

CASE, ADVICE, STATE = "c", "x", "s"
START = "start"
ADVICE_FACTS = (ADVICE_OUTCOME, ADVICE_VERDICT)
# durable's MAX_OBJECT_PROPERTIES is 255 per fact, including its own "sid" and "id" and our "t"
MAX_CASE_PROPERTIES = 250
MAX_DERIVED_FACTS = 250  # each is a flag on the state fact
FORMAT = 3  # bump when the shape of the compiled program changes


@dataclass(frozen=True)
class Stage:
    name: str                               # the durable ruleset (content-addressed: durable cannot replace one)
    definition: dict[str, dict[str, Any]]   # durable JSON ruleset (never mutated)
    reads_state: bool                       # some rule of this stage reads derived facts
    kind: str                               # derived | route | advice
    case_props: tuple[str, ...] = ()        # the case properties its rules test (only these are sent)
    state_props: tuple[str, ...] = ()       # the derived-fact flags its rules test


@dataclass(frozen=True)
class Program:
    """What durable runs, plus what our actions need to know about each durable rule."""

    name: str
    stages: tuple[Stage, ...]
    concludes: dict[str, str]                   # durable rule name -> derived fact it asserts
    rule_of: dict[str, tuple[str, int]]         # durable rule name -> (our rule id, conjunct index)
    props: dict[str, str]                       # fact id -> its property on the case (or advice) fact
    derived_props: dict[str, str]               # derived fact -> its flag on the state fact


def properties(rs: Ruleset) -> dict[str, str]:
    """The durable property of every fact: ``a<i>`` for the i-th question, ``x<i>`` for the advice."""
    props = {q.fact: f"a{i}" for i, q in enumerate(rs.questions)}
    props.update({f: f"x{i}" for i, f in enumerate(ADVICE_FACTS)})
    return props


def case_property_count(rs: Ruleset) -> int:
    """How many properties the case fact of this rule set carries (the checker bounds it)."""
    return sum(len(q.options or ()) if q.type == "set" else 1 for q in rs.questions)


def encode_case(rs: Ruleset, props: dict[str, str], answers: dict[str, Any], kind: str = CASE) -> dict[str, Any]:
    out: dict[str, Any] = {"t": kind}
    for fact, value in answers.items():
        prop, spec = props[fact], rs.facts[fact]
        if spec.type == "set":
            members = set(value)
            out.update({f"{prop}_{j}": int(v in members) for j, v in enumerate(spec.values)})
        elif spec.type == "bool":
            out[prop] = int(value)
        else:
            out[prop] = value
    return out


def _term(test: Test, spec: FactSpec, prop: str) -> list[dict[str, Any]]:
    if test.op in ("has", "lacks"):
        return [{f"{prop}_{spec.values.index(test.value)}": int(test.op == "has")}]
    value = int(test.value) if spec.type == "bool" else test.value
    if test.op == "eq":
        return [{prop: value}]
    op = {"neq": "$neq", "lt": "$lt", "lte": "$lte", "gt": "$gt", "gte": "$gte"}[test.op]
    return [{"$ex": {prop: 1}}, {op: {prop: value}}]


def _props_of(terms: list[dict[str, Any]]) -> set[str]:
    out: set[str] = set()
    for term in terms:
        for key, value in term.items():
            out.update(value) if key.startswith("$") else out.add(key)
    return out


def strata(rs: Ruleset) -> dict[str, int]:
    """Each derived fact's stratum: 1 + the highest stratum of the derived facts it reads."""
    out: dict[str, int] = {}

    def visit(name: str) -> int:
        if name not in out:
            refs = {leaf.name for conj in rs.derived[name].conjuncts for leaf in conj if isinstance(leaf, DerivedRef)}
            out[name] = 1 + max((visit(r) for r in sorted(refs)), default=0)
        return out[name]

    for name in sorted(rs.derived):
        visit(name)
    return out


def compile_ruleset(rs: Ruleset) -> Program:
    props = properties(rs)
    stratum = strata(rs)
    levels = max(stratum.values(), default=0)
    derived_props = {d: f"d{i}" for i, d in enumerate(sorted(rs.derived))}
    groups: list[tuple[str, list[Any]]] = [("derived", [cr for cr in rs.derived.values() if stratum[cr.id] == s])
                                            for s in range(1, levels + 1)]
    groups.append(("route", [cr for cr in rs.rules if cr.kind == "route"]))
    groups.append(("advice", [cr for cr in rs.rules if cr.kind != "route"]))
    concludes: dict[str, str] = {}
    rule_of: dict[str, tuple[str, int]] = {}
    bodies: list[tuple[str, dict[str, dict[str, Any]], bool, list[str], list[str]]] = []
    for kind, rules in groups:
        definition: dict[str, dict[str, Any]] = {START: {"all": [{"p0": {"$and": [{"t": CASE}]}}]}}
        reads_state = False
        case_props: set[str] = set()
        state_props: set[str] = set()
        for cr in rules:
            for k, conj in enumerate(cr.conjuncts):
                terms: dict[str, list[dict[str, Any]]] = {CASE: [], ADVICE: []}
                for leaf in sorted((t for t in conj if isinstance(t, Test)), key=lambda t: (t.fact, t.op, repr(t.value))):
                    terms[ADVICE if leaf.fact in ADVICE_FACTS else CASE] += _term(leaf, rs.facts[leaf.fact], props[leaf.fact])
                patterns = [{"$and": [{"t": t}, *ts]} for t, ts in terms.items() if ts]
                case_props.update(_props_of(terms[CASE]))
                derived = sorted({leaf.name for leaf in conj if isinstance(leaf, DerivedRef)})
                if derived:
                    reads_state = True
                    state_props.update(derived_props[d] for d in derived)
                    patterns.append({"$and": [{"t": STATE}, *({derived_props[d]: 1} for d in derived)]})
                if not patterns:  # a condition that always holds: it fires on the case itself
                    patterns = [{"$and": [{"t": CASE}]}]
                key = f"{cr.id}#{k}"
                definition[key] = {"all": [{f"p{i}": p} for i, p in enumerate(patterns)]}
                rule_of[key] = (cr.id, k)
                if cr.kind == "derived":
                    concludes[key] = cr.id
        if len(definition) > 1:
            bodies.append((kind, definition, reads_state, sorted(case_props), sorted(state_props)))
    digest = hashlib.sha256(json.dumps([FORMAT, rs.fingerprint, bodies], sort_keys=True).encode()).hexdigest()[:24]
    name = f"deelwijzer_{digest}"
    stages = tuple(Stage(f"{name}_{i}", definition, reads_state, kind, tuple(cp), tuple(sp))
                   for i, (kind, definition, reads_state, cp, sp) in enumerate(bodies))
    return Program(name, stages, concludes, rule_of, props, derived_props)


def program_for(rs: Ruleset) -> Program:
    """The durable program of a rule set, compiled once and kept on it (and in the cache)."""
    if rs.program is None:
        rs.program = compile_ruleset(rs)
    program: Program = rs.program
    return program
