"""Walk every reachable branch of the interview, for invariant checks, diffs and benchmarks.

The walk follows exactly what the engine says is asked next, so it covers the reachable
answer space rather than a guess of it. To keep it finite and fast, at every branch the
answers to the next question are grouped into classes that no *still possible* condition
can tell apart: a test on that fact matters only if it sits in an alternative (of a rule,
derived fact, companion or ask_when) that the answers so far have not already made false.
Answers grow down a branch and three-valued logic is monotone, so an alternative that is
false stays false below: two answers that agree on every live test lead to the same
questions and the same advice in the whole subtree. Numbers are grouped by intervals
between the live tests' boundaries (never by enumerating a range). List answers are
branched over representative selections. The walk reports how many concrete answer sets
each path stands for.

Passing several rule sets (``classify_with``) makes the classes the common refinement of
all of them, so that two versions of a rule set are walked on the same representatives
(``engine.diff``).
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from math import prod
from typing import Any

from engine.conditions import Conjunct, DerivedRef, Test, TooManyAlternatives, dnf, facts_of, nnf
from engine.reference import DerivedValues, Resume, Walk, relevance
from engine.ruleset import Ruleset

ALL_DATA = ["identity", "contact", "signals", "health", "sexual_life", "suspect_info", "third_parties"]
SET_REPRESENTATIVES = {
    # every data category at once: each must then be allowed or withheld with a reason,
    # so one selection exercises every data rule of the route
    "share.data": [ALL_DATA],
    "concern.exploitation": [[], ["sexual", "criminal", "labour", "other"]],
    "consent.given_by": [["client"], ["parents"], ["client", "parents"], ["representative"]],
}
MAX_ASK_WHEN_ALTERNATIVES = 4096


@dataclass(frozen=True)
class ValueClass:
    representative: Any
    size: int


# (where it comes from, the alternative, its leaves on other facts, its tests on this fact)
Context = tuple[str, Conjunct, frozenset[Any], tuple[Test, ...]]


def _contexts(rs: Ruleset) -> dict[str, list[Context]]:
    """Per fact, every alternative (of rules, derived facts, companions and ask_when) that
    tests it; cached on the rule set."""
    cached = rs.memo.get("enumerate")
    if cached is not None:
        result: dict[str, list[Context]] = cached
        return result
    conjuncts: list[tuple[str, Conjunct]] = [(cr.id, c) for cr in rs.all_rules() for c in cr.conjuncts]
    for question, node in rs.ask_when.items():
        if node is None:
            continue
        try:
            conjuncts.extend((f"ask:{question}", c) for c in dnf(nnf(node), limit=MAX_ASK_WHEN_ALTERNATIVES))
        except TooManyAlternatives:  # keep every test of an unexpandable condition live
            conjuncts.extend((f"ask:{question}:{i}", (t,)) for i, t in enumerate(_tests_of(node)))
    out: dict[str, list[Context]] = {}
    for origin, conj in conjuncts:
        for fact in dict.fromkeys(leaf.fact for leaf in conj if isinstance(leaf, Test)):
            tests = tuple(leaf for leaf in conj if isinstance(leaf, Test) and leaf.fact == fact)
            rest = frozenset(leaf for leaf in conj if not (isinstance(leaf, Test) and leaf.fact == fact))
            out.setdefault(fact, []).append((origin, conj, rest, tests))
    rs.memo["enumerate"] = out
    return out


def _tests_of(node: Any) -> list[Test]:
    if isinstance(node, Test):
        return [node]
    if isinstance(node, DerivedRef) or node is None:
        return []
    items = getattr(node, "items", None)
    if items is None:
        return _tests_of(node.item)
    return [t for i in items for t in _tests_of(i)]


def _open_rest(rest: frozenset[Any], known: dict[str, Any], values: DerivedValues) -> frozenset[Any] | None:
    """The leaves of ``rest`` still open under the known answers; None when one is already false
    (the alternative cannot hold, whatever comes)."""
    open_leaves = []
    for leaf in rest:
        if isinstance(leaf, Test):
            if leaf.fact in known:
                if not leaf.holds(known[leaf.fact]):
                    return None
                continue
        else:
            v = values(leaf.name)
            if v is False:
                return None
            if v is True:
                continue
        open_leaves.append(leaf)
    return frozenset(open_leaves)


def live_atoms(rulesets: Sequence[Ruleset], fact: str, known: dict[str, Any]) -> list[tuple[Test, ...] | frozenset[Any]]:
    """What can still tell answers to ``fact`` apart under the known answers.

    Each live alternative constrains ``fact`` by the conjunction of its tests on it;
    alternatives of one condition that agree on every leaf still open (one `in: [...]`
    expands into several; a negation into a product) act as their union. For choice facts an atom is the set of values that pass
    it; for numbers it is the tests themselves (their boundaries cut the range)."""
    spec = rulesets[0].facts.get(fact)
    domain: list[Any] | None = None
    if spec is not None and spec.type in ("bool", "enum"):
        domain = list(spec.values)
    atoms: dict[Any, None] = {}
    groups: dict[tuple[int, str, frozenset[Any]], set[Any]] = {}
    for i, rs in enumerate(rulesets):
        if fact not in rs.facts:
            continue
        values = DerivedValues(rs, known)
        for origin, _conj, rest, tests in _contexts(rs).get(fact, ()):
            still = _open_rest(rest, known, values)
            if still is None:
                continue
            if domain is None:
                atoms[tests] = None
            else:  # alternatives of one condition that agree on everything still open: their union
                groups.setdefault((i, origin, still), set()).update(v for v in domain if all(t.holds(v) for t in tests))
    for members in groups.values():
        atoms[frozenset(members)] = None
    return list(atoms)


def _reads(rs: Ruleset, fact: str) -> frozenset[str]:
    """Every fact whose answer can change which alternatives testing ``fact`` are still live
    (the facts of their other leaves, through derived facts)."""
    cache: dict[str, frozenset[str]] = rs.memo.setdefault("enumerate_reads", {})
    hit = cache.get(fact)
    if hit is None:
        out: set[str] = set()
        for _origin, _conj, rest, _tests in _contexts(rs).get(fact, ()):
            for leaf in rest:
                out |= {leaf.fact} if isinstance(leaf, Test) else facts_of(leaf, rs.definition)
        hit = cache[fact] = frozenset(out)
    return hit


def _frozen(v: Any) -> Any:
    return tuple(v) if isinstance(v, list) else v


def classes_at(rulesets: Sequence[Ruleset], rs: Ruleset, fact: str, known: dict[str, Any]) -> list[ValueClass]:
    """The answer classes for ``fact`` given the answers so far (see the module doc).

    Memoised on the answers that can matter to them (``_reads``): the same question is
    reached on thousands of branches that differ only in answers it does not depend on."""
    reads = sorted(set().union(*(_reads(r, fact) for r in rulesets if fact in r.facts)))
    key = (tuple(map(id, rulesets)), fact, tuple((f, _frozen(known[f])) for f in reads if f in known))
    cache: dict[Any, list[ValueClass]] = rs.memo.setdefault("enumerate_classes", {})
    hit = cache.get(key)
    if hit is None:
        hit = cache[key] = _classes_at(rulesets, rs, fact, known)
    return hit


def _classes_at(rulesets: Sequence[Ruleset], rs: Ruleset, fact: str, known: dict[str, Any]) -> list[ValueClass]:
    q = rs.question(fact)
    if q.type == "set":
        values: list[Any] = SET_REPRESENTATIVES.get(fact) or [[], [o.value for o in q.options or []]]
        return [ValueClass(v, 1) for v in values]
    atoms = live_atoms(rulesets, fact, known)
    if q.type == "int":
        spec = rs.facts[fact]
        assert spec.min is not None and spec.max is not None
        cuts = {spec.min, spec.max + 1}
        for tests in atoms:
            for t in tests:
                v = t.value
                cuts |= {v, v + 1} if t.op in ("eq", "neq") else {v} if t.op in ("lt", "gte") else {v + 1}
        points = sorted(c for c in cuts if spec.min <= c <= spec.max + 1)
        return [ValueClass(a, b - a) for a, b in zip(points, points[1:])]
    domain = [True, False] if q.type == "bool" else [o.value for o in q.options or []]
    sets = sorted((a for a in atoms if isinstance(a, frozenset)), key=lambda a: sorted(map(repr, a)))
    signatures: dict[tuple[bool, ...], list[Any]] = {}
    for v in domain:
        signatures.setdefault(tuple(v in a for a in sets), []).append(v)
    return [ValueClass(members[0], len(members)) for members in signatures.values()]


def complete_paths(rs: Ruleset, start: tuple[dict[str, Any], list[int]] | None = None
                   ) -> Iterator[tuple[dict[str, Any], int]]:
    """Every complete answer set the interview can produce (one per answer class), with the
    number of concrete answer sets it stands for; optionally only below a ``start`` prefix."""
    for answers, weight, _walk in walked_paths(rs, start):
        yield answers, weight


def walked_paths(rs: Ruleset, start: tuple[dict[str, Any], list[int]] | None = None,
                 classify_with: Sequence[Ruleset] | None = None) -> Iterator[tuple[dict[str, Any], int, Walk]]:
    """``complete_paths`` with the relevance walk of each path (for ``decide(..., walk=)``).

    Each child path resumes its parent's walk at the question it answers, so the whole tree
    is walked in time proportional to its size, not to size x depth."""
    rulesets = list(classify_with) if classify_with else [rs]
    first = start or ({}, [])
    stack: list[tuple[dict[str, Any], list[int], Resume | None]] = [(first[0], first[1], None)]
    while stack:
        answers, weights, resume = stack.pop()
        walk = relevance(rs, answers, resume)
        if not walk.to_ask:
            yield answers, prod(weights) if weights else 1, walk
            continue
        fact = walk.to_ask[0]
        answered = {f: v for f, v in walk.known.items() if f in answers}  # never an assumed default: it may change
        for vc in reversed(classes_at(rulesets, rs, fact, answered)):
            stack.append(({**answers, fact: vc.representative}, [*weights, vc.size], walk.resume))


def walked_pairs(primary: Ruleset, secondary: Ruleset, start: tuple[dict[str, Any], list[int]] | None = None,
                 same_interview: bool = False) -> Iterator[tuple[dict[str, Any], Walk, Walk]]:
    """Every complete path of ``primary``'s interview on the classes of both rule sets, with
    the relevance walk of each version on it (``engine.diff``). Both walks resume at each
    branch: the answer added is to the question ``primary`` asks next, which ``secondary``
    either asks at or after where it stopped, or does not ask at all (then it reads nothing
    of it), so its snapshot stays valid. With ``same_interview`` (``engine.diff.same_interview``:
    the same questions, conditions, answers and derived facts) the one walk serves both."""
    rulesets = [primary, secondary]
    first = start or ({}, [])
    if same_interview:
        for answers, _weight, walk in walked_paths(primary, start, classify_with=rulesets):
            yield answers, walk, walk
        return
    stack: list[tuple[dict[str, Any], Resume | None, Resume | None, Walk | None]] = [(first[0], None, None, None)]
    while stack:
        answers, resume_p, resume_s, done_s = stack.pop()
        walk = relevance(primary, answers, resume_p)
        other = done_s if done_s is not None else relevance(secondary, answers, resume_s)
        if not walk.to_ask:
            yield answers, walk, other
            continue
        fact = walk.to_ask[0]
        answered = {f: v for f, v in walk.known.items() if f in answers}
        # once the secondary interview is complete, further answers are to questions it does not ask
        finished = other if not other.to_ask else None
        for vc in reversed(classes_at(rulesets, primary, fact, answered)):
            stack.append(({**answers, fact: vc.representative}, walk.resume, other.resume, finished))


def prefixes(rs: Ruleset, depth: int, classify_with: Sequence[Ruleset] | None = None
             ) -> list[tuple[dict[str, Any], list[int]]]:
    """The interview's branches after its first ``depth`` questions: independent subtrees to
    walk in parallel (on the same classes as ``walked_paths(..., classify_with=)``)."""
    rulesets = list(classify_with) if classify_with else [rs]
    level: list[tuple[dict[str, Any], list[int]]] = [({}, [])]
    for _ in range(depth):
        nxt = []
        for answers, weights in level:
            walk = relevance(rs, answers)
            if not walk.to_ask:
                nxt.append((answers, weights))
                continue
            fact = walk.to_ask[0]
            answered = {f: v for f, v in walk.known.items() if f in answers}
            nxt += [({**answers, fact: vc.representative}, [*weights, vc.size])
                    for vc in classes_at(rulesets, rs, fact, answered)]
        level = nxt
    return level
