"""A plain-Python evaluator of the same compiled conjuncts that durable-rules runs.

It exists for two reasons: the differential test (durable's fired set must equal this
one for any answers, which catches durable's known condition bugs), and the three-valued
view the interview needs (which questions are still relevant), which durable cannot give.

Evaluation is indexed: each conjunct that tests a fact for equality is filed under that
(fact, value), so only conjuncts whose key matches an answer are checked at all. The
relevance walk can resume from a snapshot taken where it stopped (``Walk.resume``), which
the path enumeration uses so that a child path does not walk its parent's prefix again.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Callable
from typing import Any

from engine.conditions import Conjunct, DerivedRef, Evaluator, Test
from engine.ruleset import CompiledRule, Ruleset

_MISSING = object()


@dataclass(frozen=True)
class _Conj:
    rule: CompiledRule
    k: int
    conj: Conjunct
    key: tuple[str, Any] | None   # (fact, value) of an equality it needs, for the index
    name: str                     # the engine rule: "<rule id>#<k>"
    holds: Callable[[dict[str, Any], set[str]], bool]


_SAFE_LITERALS = (bool, int, str)


def _predicate(tests: tuple[tuple[str, str, Any], ...], derived: tuple[str, ...]) -> Callable[[dict[str, Any], set[str]], bool]:
    """The conjunct as one small Python function (generated once per rule set): the walks
    evaluate every conjunct hundreds of thousands of times. Only ``repr`` of fact ids and of
    checked values (bool, int, str: the rule language's only literals) enters the source."""
    body = []
    for fact, op, x in tests:
        if not isinstance(x, _SAFE_LITERALS) or not isinstance(fact, str):  # pragma: no cover - checker guarantees it
            raise TypeError(f"unexpected literal {x!r} in a condition")
        kind = type(x).__name__
        body.append(f"    v = facts.get({fact!r}, M)\n    if v is M: return False")
        test = {"eq": f"v != {x!r} or type(v) is not {kind}", "neq": f"v == {x!r} and type(v) is {kind}",
                "has": f"{x!r} not in v", "lacks": f"{x!r} in v", "lt": f"not v < {x!r}", "lte": f"not v <= {x!r}",
                "gt": f"not v > {x!r}", "gte": f"not v >= {x!r}"}[op]
        body.append(f"    if {test}: return False")
    body.append("    return " + (" and ".join(f"{d!r} in derived" for d in derived) or "True"))
    source = "def holds(facts, derived):\n" + "\n".join(body) + "\n"
    namespace: dict[str, Any] = {"M": _MISSING, "bool": bool, "int": int, "str": str}
    exec(compile(source, "<conjunct>", "exec"), namespace)  # noqa: S102 - literals only, see above
    fn: Callable[[dict[str, Any], set[str]], bool] = namespace["holds"]
    return fn


def _compile(rs: Ruleset, cr: CompiledRule) -> list[_Conj]:
    out = []
    for k, conj in enumerate(cr.conjuncts):
        tests = tuple((leaf.fact, leaf.op, leaf.value) for leaf in conj if isinstance(leaf, Test))
        derived = tuple(leaf.name for leaf in conj if isinstance(leaf, DerivedRef))
        # index on the equality whose fact has the most values: it rules out the most cases
        eqs = sorted(((len(rs.facts[f].values), f, v) for f, op, v in tests if op == "eq"), key=lambda e: (-e[0], e[1]))
        key = (eqs[0][1], eqs[0][2]) if eqs else None
        out.append(_Conj(cr, k, conj, key, f"{cr.id}#{k}", _predicate(tests, derived)))
    return out


@dataclass
class _Group:
    """Conjuncts filed by the equality they need (``key``), plus those that need none."""

    index: dict[tuple[str, Any], list[_Conj]]
    keyless: list[_Conj]

    @staticmethod
    def of(conjs: list[_Conj]) -> _Group:
        index: dict[tuple[str, Any], list[_Conj]] = {}
        keyless: list[_Conj] = []
        for c in conjs:
            if c.key is None:
                keyless.append(c)
            else:
                index.setdefault(c.key, []).append(c)
        return _Group(index, keyless)

    def candidates(self, active: set[tuple[str, Any]]) -> list[_Conj]:
        out = list(self.keyless)
        for key in active:
            hit = self.index.get(key)
            if hit:
                out += hit
        return out


@dataclass
class _Program:
    strata: list[_Group]          # derived facts, stratum by stratum (each reads only lower strata)
    rules: dict[str, _Group]      # the other rules, by kind


def _program(rs: Ruleset) -> _Program:
    prog = rs.memo.get("reference")
    if prog is None:
        from engine.compiler import strata
        level = strata(rs)
        by_level: dict[int, list[_Conj]] = {}
        for cr in rs.derived.values():
            by_level.setdefault(level[cr.id], []).extend(_compile(rs, cr))
        kinds: dict[str, list[_Conj]] = {}
        for cr in rs.rules:
            kinds.setdefault(cr.kind, []).extend(_compile(rs, cr))
        prog = _Program([_Group.of(by_level[n]) for n in sorted(by_level)], {k: _Group.of(v) for k, v in kinds.items()})
        rs.memo["reference"] = prog
    result: _Program = prog
    return result


def _active(facts: dict[str, Any]) -> set[tuple[str, Any]]:
    return {(f, v) for f, v in facts.items() if not isinstance(v, list)}


def firings(rs: Ruleset, facts: dict[str, Any], *, only: tuple[str, ...] | None = None,
            derived: set[str] | None = None) -> list[str]:
    """Every engine rule (``<rule>#<k>``) that fires on these facts, sorted, as durable reports
    them. Derived facts are computed to a fixpoint (one pass in dependency order). ``only``
    limits the rules (not derived facts) to these kinds, and ``derived`` passes the derived
    facts already known to hold (skipping their pass)."""
    prog = _program(rs)
    active = _active(facts)
    fired: list[str] = []
    if derived is None:
        derived = set()
        for group in prog.strata:
            for c in group.candidates(active):
                if c.holds(facts, derived):
                    fired.append(c.name)
                    derived.add(c.rule.id)
    for kind, group in prog.rules.items():
        if only is not None and kind not in only:
            continue
        fired += [c.name for c in group.candidates(active) if c.holds(facts, derived)]
    return sorted(fired)


def _dependency_order(rs: Ruleset) -> list[CompiledRule]:
    """Derived facts (and their '!' companions) ordered so that each comes after every
    derived fact its conjuncts read; the checker guarantees there are no cycles."""
    order: list[CompiledRule] = []
    seen: set[str] = set()

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
    return order


def fired_keys(rs: Ruleset, facts: dict[str, Any]) -> set[str]:
    return set(firings(rs, facts))


class DerivedValues:
    """Three-valued value of each derived fact under (growing) partial answers, memoised.

    Kleene logic is monotone: answering more questions can turn 'unknown' into true or
    false but never changes a known value. So when answers are added only the unknown
    entries are forgotten."""

    def __init__(self, rs: Ruleset, answers: dict[str, Any], memo: dict[str, bool | None] | None = None):
        self.rs, self.answers = rs, answers
        self.memo: dict[str, bool | None] = dict(memo) if memo else {}
        fns = rs.memo.get("derived_eval")
        if fns is None:
            fns = rs.memo["derived_eval"] = {name: rs.evaluator(d.when) for name, d in rs.derived.items()}
        self.fns: dict[str, Evaluator] = fns

    def __call__(self, name: str) -> bool | None:
        memo = self.memo
        if name in memo:
            return memo[name]
        v = memo[name] = self.fns[name](self.answers, self)
        return v

    def answers_grew(self) -> None:
        self.memo = {k: v for k, v in self.memo.items() if v is not None}


def derived_value(rs: Ruleset, answers: dict[str, Any]) -> DerivedValues:
    return DerivedValues(rs, answers)


@dataclass
class Resume:
    """Where a walk stopped: the first question still to ask, and the state just before it."""

    index: int
    relevant: list[str]
    missing: list[str]
    to_ask: list[str]
    assumed: dict[str, Any]
    known: dict[str, Any]
    memo: dict[str, bool | None]


@dataclass
class Walk:
    relevant: list[str] = field(default_factory=list)   # asked under these answers
    missing: list[str] = field(default_factory=list)    # relevant, unanswered, no default: still needed
    to_ask: list[str] = field(default_factory=list)     # relevant and unanswered (the interview asks these)
    assumed: dict[str, Any] = field(default_factory=dict)  # unanswered relevant facts given their default
    known: dict[str, Any] = field(default_factory=dict)    # relevant answers plus assumed defaults
    resume: Resume | None = None                         # state at to_ask[0], for resuming with it answered


def relevance(rs: Ruleset, answers: dict[str, Any], start: Resume | None = None) -> Walk:
    """Walk the interview in order, deciding for each question whether it is asked.

    ``start`` resumes a walk from a snapshot, valid when ``answers`` adds answers only at or
    after the snapshot's question (the path enumeration answers exactly that question)."""
    if start is None:
        walk, first, memo = Walk(), 0, None
    else:
        walk = Walk(list(start.relevant), list(start.missing), list(start.to_ask), dict(start.assumed), dict(start.known))
        first, memo = start.index, start.memo
    values = DerivedValues(rs, walk.known, memo)
    questions = rs.questions
    ask_fns = rs.memo.get("ask_eval")
    if ask_fns is None:
        ask_fns = rs.memo["ask_eval"] = [None if rs.ask_when[q.fact] is None else rs.evaluator(rs.ask_when[q.fact])
                                          for q in questions]
    for index in range(first, len(questions)):
        q = questions[index]
        ask = ask_fns[index]
        if ask is not None and ask(walk.known, values) is not True:
            continue
        if q.fact not in answers and walk.resume is None:
            walk.resume = Resume(index, list(walk.relevant), list(walk.missing), list(walk.to_ask), dict(walk.assumed),
                                 dict(walk.known), {k: v for k, v in values.memo.items() if v is not None})
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
