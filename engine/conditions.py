"""Conditions: the ``when`` / ``ask_when`` language, parsed into a small tree.

Written in YAML as a privacy officer would say it::

    when:
      all:
        - share.recipient: veilig_thuis          # a fact has this value
        - client.age: {below: 18}                # numbers: below, at_most, above, at_least
        - concern.exploitation: {includes: sexual}   # lists: includes, includes_any, includes_all
        - share.purpose: {in: [protection, advice]}  # one of several values
        - derived: consent_valid                 # a derived fact holds
        - not: {danger.acute: true}
        - any: [...]

A plain list means ``all``. A test on a fact that has not been answered is *unknown*,
never false: conditions use three-valued (Kleene) logic, so "not answered" is never
mistaken for "no". The same tree is turned into disjunctive normal form for durable-rules
(one engine rule per conjunct) and evaluated directly in Python for the interview and for
the differential test.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Union

from legal_bases.yamlfile import Problem, YamlDocument

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Test:
    """A test on one fact. ``op`` is one of eq, neq, lt, lte, gt, gte, has, lacks."""

    fact: str
    op: str
    value: Any

    def holds(self, v: Any) -> bool:
        op, x = self.op, self.value
        if op == "eq":
            return v == x and type(v) is type(x)
        if op == "neq":
            return not (v == x and type(v) is type(x))
        if op == "lt":
            return v < x
        if op == "lte":
            return v <= x
        if op == "gt":
            return v > x
        if op == "gte":
            return v >= x
        if op == "has":
            return x in v
        if op == "lacks":
            return x not in v
        raise ValueError(op)  # pragma: no cover - parser never builds other ops

    def negated(self) -> "Test":
        if self.op == "eq" and isinstance(self.value, bool):
            return Test(self.fact, "eq", not self.value)
        flip = {"eq": "neq", "neq": "eq", "lt": "gte", "gte": "lt", "gt": "lte", "lte": "gt", "has": "lacks", "lacks": "has"}
        return Test(self.fact, flip[self.op], self.value)


@dataclass(frozen=True)
class DerivedRef:
    name: str


@dataclass(frozen=True)
class All:
    items: tuple["Node", ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple["Node", ...]


@dataclass(frozen=True)
class Not:
    item: "Node"


Node = Union[Test, DerivedRef, All, AnyOf, Not]
Leaf = Union[Test, DerivedRef]
Conjunct = tuple[Leaf, ...]

_NUMERIC = {"below": "lt", "at_most": "lte", "above": "gt", "at_least": "gte"}


@dataclass(frozen=True)
class FactSpec:
    """What the parser needs to know about a fact: its type and allowed values."""

    type: str                  # bool | int | enum | set
    values: tuple[Any, ...] = ()
    min: int | None = None
    max: int | None = None


class ConditionParser:
    """Parses raw YAML data into a Node, collecting positioned problems."""

    def __init__(self, doc: YamlDocument, facts: dict[str, FactSpec], derived: set[str]):
        self.doc, self.facts, self.derived = doc, facts, derived
        self.problems: list[Problem] = []

    def _bad(self, loc: Loc, message: str) -> None:
        self.problems.append(self.doc.problem(loc, message))

    def parse(self, data: Any, loc: Loc) -> Node | None:
        if isinstance(data, list):
            return self._group(All, data, loc)
        if not isinstance(data, dict) or len(data) != 1:
            self._bad(loc, "a condition is one 'key: value' pair (a fact test, all, any, not or derived) or a list of them")
            return None
        (key, value), = data.items()
        kloc = loc + (key,)
        if key == "all":
            return self._group(All, value, kloc)
        if key == "any":
            return self._group(AnyOf, value, kloc)
        if key == "not":
            inner = self.parse(value, kloc)
            return Not(inner) if inner is not None else None
        if key == "derived":
            if not isinstance(value, str) or value not in self.derived:
                known = ", ".join(sorted(self.derived)) or "none"
                self._bad(kloc, f"unknown derived fact {value!r}; define it under 'derived:' (known: {known})")
                return None
            return DerivedRef(value)
        if key in self.facts:
            return self._fact_test(key, value, kloc)
        self._bad(kloc, f"unknown fact or keyword {key!r}; use a fact id from the questions, or all/any/not/derived")
        return None

    def _group(self, cls, items: Any, loc: Loc) -> Node | None:
        if not isinstance(items, list) or not items:
            self._bad(loc, "expects a non-empty list of conditions")
            return None
        parsed = [self.parse(item, loc + (i,)) for i, item in enumerate(items)]
        if any(p is None for p in parsed):
            return None
        return parsed[0] if len(parsed) == 1 else cls(tuple(parsed))

    def _value(self, fact: str, spec: FactSpec, value: Any, loc: Loc) -> bool:
        if spec.type == "bool":
            ok = isinstance(value, bool)
            allowed = "true or false"
        elif spec.type == "int":
            ok = isinstance(value, int) and not isinstance(value, bool)
            allowed = f"a whole number from {spec.min} to {spec.max}"
            if ok and not (spec.min - 1 <= value <= spec.max + 1):
                self._bad(loc, f"{value} is outside the range of {fact} ({spec.min}–{spec.max})")
                return False
        else:
            ok = isinstance(value, str) and value in spec.values
            allowed = ", ".join(str(v) for v in spec.values)
        if not ok:
            self._bad(loc, f"{value!r} is not a value of {fact}; allowed: {allowed}")
        return ok

    def _fact_test(self, fact: str, value: Any, loc: Loc) -> Node | None:
        spec = self.facts[fact]
        if not isinstance(value, dict):
            if spec.type == "set":
                self._bad(loc, f"{fact} is a list of values; test it with includes, includes_any or includes_all")
                return None
            return Test(fact, "eq", value) if self._value(fact, spec, value, loc) else None
        if len(value) != 1:
            self._bad(loc, "a fact test has exactly one operator, e.g. {below: 16}")
            return None
        (op, arg), = value.items()
        oloc = loc + (op,)
        if op in _NUMERIC:
            if spec.type != "int":
                self._bad(oloc, f"'{op}' compares numbers, but {fact} is of type {spec.type}")
                return None
            return Test(fact, _NUMERIC[op], arg) if self._value(fact, spec, arg, oloc) else None
        if op == "in":
            if spec.type not in ("enum", "int") or not isinstance(arg, list) or not arg:
                self._bad(oloc, f"'in' takes a non-empty list of values of {fact} (enum or number facts)")
                return None
            if not all(self._value(fact, spec, a, oloc + (i,)) for i, a in enumerate(arg)):
                return None
            tests = tuple(Test(fact, "eq", a) for a in arg)
            return tests[0] if len(tests) == 1 else AnyOf(tests)
        if op in ("includes", "includes_any", "includes_all"):
            if spec.type != "set":
                self._bad(oloc, f"'{op}' tests lists, but {fact} is of type {spec.type}; use a plain value or 'in'")
                return None
            args = [arg] if op == "includes" else arg
            if not isinstance(args, list) or not args:
                self._bad(oloc, f"'{op}' takes a list of values")
                return None
            if not all(self._value(fact, spec, a, oloc) for a in args):
                return None
            tests = tuple(Test(fact, "has", a) for a in args)
            if len(tests) == 1:
                return tests[0]
            return AnyOf(tests) if op == "includes_any" else All(tests)
        self._bad(oloc, f"unknown operator {op!r}; use below, at_most, above, at_least, in, includes, includes_any or includes_all")
        return None


# --- normal forms -------------------------------------------------------------------------

DerivedLookup = Callable[[str], Node]
NEGATED = "!"   # "!x" names the derived fact "x is known to be false"


def negated_name(name: str) -> str:
    return name[1:] if name.startswith(NEGATED) else NEGATED + name


def nnf(node: Node, negate: bool = False) -> Node:
    """Negation normal form. A negated derived fact becomes a reference to its companion
    ``!name`` (true when the derived fact is known to be false), so that durable can chain
    it like any other fact instead of the condition being expanded into its definition."""
    if isinstance(node, Test):
        return node.negated() if negate else node
    if isinstance(node, DerivedRef):
        return DerivedRef(negated_name(node.name)) if negate else node
    if isinstance(node, Not):
        return nnf(node.item, not negate)
    items = tuple(nnf(i, negate) for i in node.items)
    if isinstance(node, All):
        return AnyOf(items) if negate else All(items)
    return All(items) if negate else AnyOf(items)


def dnf(node: Node) -> list[Conjunct]:
    """Disjunctive normal form of an NNF node: a list of conjunctions of leaves."""
    if isinstance(node, (Test, DerivedRef)):
        return [(node,)]
    if isinstance(node, AnyOf):
        out: list[Conjunct] = []
        for item in node.items:
            out.extend(dnf(item))
        return _dedupe(out)
    if isinstance(node, All):
        result: list[Conjunct] = [()]
        for item in node.items:
            result = [a + b for a in result for b in dnf(item)]
        return _dedupe(result)
    raise TypeError("dnf expects a node in negation normal form")


def _dedupe(conjuncts: Iterable[Conjunct]) -> list[Conjunct]:
    seen: dict[Conjunct, None] = {}
    for c in conjuncts:
        key = tuple(dict.fromkeys(c))  # keep first-seen order, drop repeats
        seen.setdefault(key, None)
    return list(seen)


def satisfiable(conjunct: Conjunct, facts: dict[str, FactSpec]) -> bool:
    """Can some answer to each fact make every test in the conjunct hold at once?"""
    by_fact: dict[str, list[Test]] = {}
    for leaf in conjunct:
        if isinstance(leaf, Test):
            by_fact.setdefault(leaf.fact, []).append(leaf)
    for fact, tests in by_fact.items():
        spec = facts[fact]
        if spec.type == "set":
            has = {t.value for t in tests if t.op == "has"}
            lacks = {t.value for t in tests if t.op == "lacks"}
            if has & lacks:
                return False
            continue
        domain: Iterable[Any]
        if spec.type == "bool":
            domain = (True, False)
        elif spec.type == "int":
            domain = range(spec.min, spec.max + 1)
        else:
            domain = spec.values
        if not any(all(t.holds(v) for t in tests) for v in domain):
            return False
    return True


# --- three-valued evaluation ------------------------------------------------------------------


def kleene(node: Node | None, answers: dict[str, Any], derived: Callable[[str], bool | None]) -> bool | None:
    """True, False or None (unknown because a needed fact is unanswered)."""
    if node is None:
        return True
    if isinstance(node, Test):
        if node.fact not in answers:
            return None
        return node.holds(answers[node.fact])
    if isinstance(node, DerivedRef):
        if node.name.startswith(NEGATED):
            v = derived(node.name[1:])
            return None if v is None else not v
        return derived(node.name)
    if isinstance(node, Not):
        v = kleene(node.item, answers, derived)
        return None if v is None else not v
    values = [kleene(i, answers, derived) for i in node.items]
    if isinstance(node, All):
        if False in values:
            return False
        return None if None in values else True
    if True in values:
        return True
    return None if None in values else False


def facts_of(node: Node | None, definition: DerivedLookup | None = None) -> set[str]:
    """Every fact a condition reads, through derived facts when a lookup is given."""
    if node is None:
        return set()
    if isinstance(node, Test):
        return {node.fact}
    if isinstance(node, DerivedRef):
        return facts_of(definition(node.name.lstrip(NEGATED)), definition) if definition else set()
    if isinstance(node, Not):
        return facts_of(node.item, definition)
    out: set[str] = set()
    for i in node.items:
        out |= facts_of(i, definition)
    return out


def derived_of(node: Node | None) -> set[str]:
    if node is None or isinstance(node, Test):
        return set()
    if isinstance(node, DerivedRef):
        return {node.name}
    if isinstance(node, Not):
        return derived_of(node.item)
    out: set[str] = set()
    for i in node.items:
        out |= derived_of(i)
    return out
