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
        - client.age: {below: age.self_consent}  # a named parameter instead of a number

A plain list means ``all``. A test on a fact that has not been answered is *unknown*,
never false: conditions use three-valued (Kleene) logic, so "not answered" is never
mistaken for "no". The same tree is turned into disjunctive normal form for durable-rules
(one engine rule per conjunct) and evaluated directly in Python for the interview and for
the differential test.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable, Iterable

from legal_bases.textfile import Problem, YamlDocument, echo, suggest

Loc = tuple[str | int, ...]
MAX_NESTING = 12      # all/any/not levels in one condition; deeper is unreadable and is refused
MAX_CONJUNCTS = 256   # alternatives a condition may expand to (one durable rule each)


@dataclass(frozen=True)
class Test:
    """A test on one fact. ``op`` is one of eq, neq, lt, lte, gt, gte, has, lacks.

    ``param`` names the rule-set parameter the number came from (``age.self_consent``), so
    explanations, boundary tests and diffs can say which named value a rule depends on."""

    fact: str
    op: str
    value: Any
    param: str | None = field(default=None, compare=False)

    def holds(self, v: Any) -> bool:
        op, x = self.op, self.value
        if op == "eq":
            return v == x and type(v) is type(x)
        if op == "neq":
            return not (v == x and type(v) is type(x))
        if op == "lt":
            return bool(v < x)
        if op == "lte":
            return bool(v <= x)
        if op == "gt":
            return bool(v > x)
        if op == "gte":
            return bool(v >= x)
        if op == "has":
            return bool(x in v)
        if op == "lacks":
            return bool(x not in v)
        raise ValueError(op)  # pragma: no cover - parser never builds other ops

    def negated(self) -> Test:
        if self.op == "eq" and isinstance(self.value, bool):
            return Test(self.fact, "eq", not self.value)
        flip = {"eq": "neq", "neq": "eq", "lt": "gte", "gte": "lt", "gt": "lte", "lte": "gt", "has": "lacks", "lacks": "has"}
        return Test(self.fact, flip[self.op], self.value, self.param)

    def describe(self) -> str:
        """The test as a privacy officer writes it: ``client.age < 16``, ``consent.status = given``."""
        sym = {"eq": "=", "neq": "≠", "lt": "<", "lte": "≤", "gt": ">", "gte": "≥", "has": "includes", "lacks": "lacks"}[self.op]
        value = {True: "true", False: "false"}.get(self.value, self.value) if isinstance(self.value, bool) else self.value
        shown = f"{value} ({self.param})" if self.param else f"{value}"
        return f"{self.fact} {sym} {shown}"


@dataclass(frozen=True)
class DerivedRef:
    name: str


@dataclass(frozen=True)
class All:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


Node = Test | DerivedRef | All | AnyOf | Not
Leaf = Test | DerivedRef
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
    """Parses raw YAML data into a Node, collecting positioned problems.

    ``params`` maps parameter ids to their numbers: wherever a number is expected, a
    parameter id may stand instead (``client.age: {below: age.self_consent}``)."""

    def __init__(self, doc: YamlDocument, facts: dict[str, FactSpec], derived: set[str],
                 params: dict[str, int] | None = None):
        self.doc, self.facts, self.derived = doc, facts, derived
        self.params = params or {}
        self.problems: list[Problem] = []
        self.used_params: set[str] = set()

    def _bad(self, loc: Loc, message: str) -> None:
        self.problems.append(self.doc.problem(loc, message))

    def parse(self, data: Any, loc: Loc, depth: int = 0) -> Node | None:
        if depth > MAX_NESTING:
            self._bad(loc, f"this condition nests all/any/not more than {MAX_NESTING} levels deep; "
                           "name a part of it as a derived fact")
            return None
        if isinstance(data, list):
            return self._group(All, data, loc, depth)
        if not isinstance(data, dict) or len(data) != 1:
            self._bad(loc, "a condition is one 'key: value' pair (a fact test, all, any, not or derived) or a list of them")
            return None
        (key, value), = data.items()
        kloc = loc + (key,)
        if key == "all":
            return self._group(All, value, kloc, depth)
        if key == "any":
            return self._group(AnyOf, value, kloc, depth)
        if key == "not":
            inner = self.parse(value, kloc, depth + 1)
            return Not(inner) if inner is not None else None
        if key == "derived":
            if not isinstance(value, str) or value not in self.derived:
                self._bad(kloc, f"unknown derived fact {echo(value)}{suggest(str(value), self.derived)}; "
                                "define it under 'derived:'")
                return None
            return DerivedRef(value)
        if key in self.facts:
            return self._fact_test(key, value, kloc)
        hint = suggest(key, list(self.facts) + ["all", "any", "not", "derived"])
        self._bad(kloc, f"unknown fact or keyword {echo(key)}{hint}; use a fact id from the questions, or all/any/not/derived")
        return None

    def _group(self, cls: type[All] | type[AnyOf], items: Any, loc: Loc, depth: int) -> Node | None:
        if not isinstance(items, list) or not items:
            self._bad(loc, "expects a non-empty list of conditions")
            return None
        parsed = [self.parse(item, loc + (i,), depth + 1) for i, item in enumerate(items)]
        if any(p is None for p in parsed):
            return None
        nodes = tuple(p for p in parsed if p is not None)
        return nodes[0] if len(nodes) == 1 else cls(nodes)

    def _number(self, fact: str, spec: FactSpec, value: Any, loc: Loc) -> tuple[int, str | None] | None:
        """A number for an int fact: a literal or a parameter id (resolved)."""
        param = None
        if isinstance(value, str):
            if value not in self.params:
                self._bad(loc, f"{echo(value)} is not a number or a parameter{suggest(value, self.params)}; "
                               "declare it under 'parameters:' or write the number")
                return None
            param, value = value, self.params[value]
            self.used_params.add(param)
        if not isinstance(value, int) or isinstance(value, bool):
            self._bad(loc, f"{echo(value)} is not a value of {fact}; allowed: a whole number from {spec.min} to {spec.max}"
                           " or a parameter id")
            return None
        assert spec.min is not None and spec.max is not None
        if not spec.min - 1 <= value <= spec.max + 1:
            where = f" (parameter {param})" if param else ""
            self._bad(loc, f"{value}{where} is outside the range of {fact} ({spec.min}–{spec.max})")
            return None
        return value, param

    def _value(self, fact: str, spec: FactSpec, value: Any, loc: Loc) -> bool:
        if spec.type == "bool":
            ok = isinstance(value, bool)
            allowed = "true or false"
        else:
            ok = isinstance(value, str) and value in spec.values
            allowed = ", ".join(str(v) for v in spec.values)
        if not ok:
            hint = suggest(str(value), [str(v) for v in spec.values]) if spec.type != "bool" else ""
            self._bad(loc, f"{echo(value)} is not a value of {fact}{hint}; allowed: {allowed}")
        return ok

    def _eq(self, fact: str, spec: FactSpec, value: Any, loc: Loc) -> Test | None:
        if spec.type == "int":
            got = self._number(fact, spec, value, loc)
            return Test(fact, "eq", got[0], got[1]) if got else None
        return Test(fact, "eq", value) if self._value(fact, spec, value, loc) else None

    def _fact_test(self, fact: str, value: Any, loc: Loc) -> Node | None:
        spec = self.facts[fact]
        if not isinstance(value, dict):
            if spec.type == "set":
                self._bad(loc, f"{fact} is a list of values; test it with includes, includes_any or includes_all")
                return None
            return self._eq(fact, spec, value, loc)
        if len(value) != 1:
            self._bad(loc, "a fact test has exactly one operator, e.g. {below: 16}")
            return None
        (op, arg), = value.items()
        oloc = loc + (op,)
        if op in _NUMERIC:
            if spec.type != "int":
                self._bad(oloc, f"'{op}' compares numbers, but {fact} is of type {spec.type}")
                return None
            got = self._number(fact, spec, arg, oloc)
            return Test(fact, _NUMERIC[op], got[0], got[1]) if got else None
        if op == "in":
            if spec.type not in ("enum", "int") or not isinstance(arg, list) or not arg:
                self._bad(oloc, f"'in' takes a non-empty list of values of {fact} (enum or number facts)")
                return None
            tests = [self._eq(fact, spec, a, oloc + (i,)) for i, a in enumerate(arg)]
            if any(t is None for t in tests):
                return None
            found = tuple(t for t in tests if t is not None)
            return found[0] if len(found) == 1 else AnyOf(found)
        if op == "excludes":
            if spec.type != "set":
                self._bad(oloc, f"'{op}' tests lists, but {fact} is of type {spec.type}; use not: with a plain value")
                return None
            return Test(fact, "lacks", arg) if self._value(fact, spec, arg, oloc) else None
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
            set_tests = tuple(Test(fact, "has", a) for a in args)
            if len(set_tests) == 1:
                return set_tests[0]
            return AnyOf(set_tests) if op == "includes_any" else All(set_tests)
        operators = [*_NUMERIC, "in", "includes", "includes_any", "includes_all", "excludes"]
        self._bad(oloc, f"unknown operator {echo(op)}{suggest(str(op), operators)}; use below, at_most, above, at_least, "
                        "in, includes, includes_any, includes_all or excludes")
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


class TooManyAlternatives(Exception):
    """A condition expands to more alternatives than allowed; raised while expanding, before
    the expansion is built."""

    def __init__(self, limit: int):
        super().__init__(f"more than {limit} alternatives")
        self.limit = limit


def dnf_size(node: Node, limit: int) -> int:
    """An upper bound on the number of DNF alternatives (capped at ``limit + 1``)."""
    if isinstance(node, (Test, DerivedRef)):
        return 1
    if isinstance(node, Not):
        raise TypeError("dnf expects a node in negation normal form")
    if isinstance(node, AnyOf):
        return min(limit + 1, sum(dnf_size(i, limit) for i in node.items))
    total = 1
    for item in node.items:
        total = min(limit + 1, total * dnf_size(item, limit))
    return total


def dnf(node: Node, limit: int = MAX_CONJUNCTS) -> list[Conjunct]:
    """Disjunctive normal form of an NNF node: a list of conjunctions of leaves.

    Raises TooManyAlternatives as soon as the expansion would exceed ``limit`` (the size is
    bounded from the tree first, so a 2^19-way product is refused without being built)."""
    if dnf_size(node, limit) > limit:
        raise TooManyAlternatives(limit)
    return _dnf(node)


def _dnf(node: Node) -> list[Conjunct]:
    if isinstance(node, (Test, DerivedRef)):
        return [(node,)]
    if isinstance(node, AnyOf):
        out: list[Conjunct] = []
        for item in node.items:
            out.extend(_dnf(item))
        return _dedupe(out)
    if isinstance(node, All):
        result: list[Conjunct] = [()]
        for item in node.items:
            result = [a + b for a in result for b in _dnf(item)]
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
        if spec.type == "int":
            if not _int_satisfiable(tests, spec):
                return False
            continue
        domain: Iterable[Any] = (True, False) if spec.type == "bool" else spec.values
        if not any(all(t.holds(v) for t in tests) for v in domain):
            return False
    return True


def _int_satisfiable(tests: list[Test], spec: FactSpec) -> bool:
    """Some whole number in [min, max] passes every test: interval intersection, then the
    equalities and exclusions inside it (never an enumeration of the range)."""
    assert spec.min is not None and spec.max is not None
    lo, hi = spec.min, spec.max
    equal: set[int] = set()
    excluded: set[int] = set()
    for t in tests:
        v = t.value
        if t.op == "lt":
            hi = min(hi, v - 1)
        elif t.op == "lte":
            hi = min(hi, v)
        elif t.op == "gt":
            lo = max(lo, v + 1)
        elif t.op == "gte":
            lo = max(lo, v)
        elif t.op == "eq":
            equal.add(v)
        elif t.op == "neq":
            excluded.add(v)
    if lo > hi:
        return False
    if equal:
        if len(equal) > 1:
            return False
        (v,) = equal
        return lo <= v <= hi and v not in excluded
    inside = {v for v in excluded if lo <= v <= hi}
    return len(inside) < hi - lo + 1


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


Evaluator = Callable[[dict[str, Any], Callable[[str], "bool | None"]], "bool | None"]


def compile_kleene(node: Node | None) -> Evaluator:
    """``kleene`` turned into nested closures, once per condition: the walks evaluate the
    same conditions millions of times, and closures skip the type dispatch and stop at the
    first deciding item (false in ``all``, true in ``any``)."""
    if node is None:
        return lambda answers, derived: True
    if isinstance(node, Test):
        fact, holds = node.fact, node.holds
        op, x = node.op, node.value
        if op == "eq" and isinstance(x, (bool, str)):
            kind = type(x)

            def test_eq(answers: dict[str, Any], derived: Callable[[str], bool | None]) -> bool | None:
                v = answers.get(fact, _MISSING)
                if v is _MISSING:
                    return None
                return v == x and type(v) is kind
            return test_eq

        def test(answers: dict[str, Any], derived: Callable[[str], bool | None]) -> bool | None:
            v = answers.get(fact, _MISSING)
            return None if v is _MISSING else holds(v)
        return test
    if isinstance(node, DerivedRef):
        if node.name.startswith(NEGATED):
            name = node.name[1:]

            def negated_ref(answers: dict[str, Any], derived: Callable[[str], bool | None]) -> bool | None:
                v = derived(name)
                return None if v is None else not v
            return negated_ref
        ref = node.name
        return lambda answers, derived: derived(ref)
    if isinstance(node, Not):
        inner = compile_kleene(node.item)

        def negation(answers: dict[str, Any], derived: Callable[[str], bool | None]) -> bool | None:
            v = inner(answers, derived)
            return None if v is None else not v
        return negation
    items = tuple(compile_kleene(i) for i in node.items)
    if isinstance(node, All):
        def conjunction(answers: dict[str, Any], derived: Callable[[str], bool | None]) -> bool | None:
            unknown = False
            for f in items:
                v = f(answers, derived)
                if v is False:
                    return False
                if v is None:
                    unknown = True
            return None if unknown else True
        return conjunction

    def disjunction(answers: dict[str, Any], derived: Callable[[str], bool | None]) -> bool | None:
        unknown = False
        for f in items:
            v = f(answers, derived)
            if v is True:
                return True
            if v is None:
                unknown = True
        return None if unknown else False
    return disjunction


_MISSING = object()


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
