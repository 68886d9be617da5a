"""Decide one case: which questions are still needed, and once complete, the advice.

The advice is resolved in Python from the *set* of rules durable-rules fired, never from
firing order:

1. route rules conclude candidate outcomes; the candidate highest in ``precedence`` wins
   (no route at all gives the rule set's ``fallback``: do not share);
2. the winning outcome and its verdict are asserted as ``advice.outcome`` and
   ``advice.verdict``, so that data and condition rules can depend on them;
3. each requested data category is withheld when a fired withhold rule names it, allowed
   when a fired allow rule names it, and otherwise withheld by default (data
   minimisation); with a ``do_not_share`` verdict everything is withheld;
4. conditions are those of the winning route rules and of fired condition rules; the
   engine adds ``consult_privacy_officer`` when the advice rests on a source that is not
   verified or not in force on the decision date, on a parameter not in force on that date,
   or on a rule marked ``confirm``;
5. the next steps: the winning route's ``next`` (else its outcome's), and -- with
   ``explain=True`` -- for routes that did not fire, what blocks them (``engine.whynot``).

Plausibility checks (``checks:`` in the rule files) that hold on the answers are reported as
``Decision.warnings``: the interview asks "Klopt dit?" before it computes on them.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from engine.compiler import ADVICE, encode_case, program_for
from engine.conditions import NEGATED, DerivedRef, Test
from engine.durable_host import DurableEngine, StageMemo
from engine.reference import Walk, derived_value, firings, relevance
from engine.ruleset import ADVICE_OUTCOME, ADVICE_VERDICT, CompiledRule, Ruleset
from legal_bases.catalogue import Text

CONSULT_PRIVACY_OFFICER = "consult_privacy_officer"


@dataclass(frozen=True)
class Withheld:
    category: str
    reason: Text
    rule: str


@dataclass(frozen=True)
class Step:
    rule: str
    kind: str           # assumed | derived | route | data | condition | fallback | caution | officer_note
    text: Text
    cites: list[str]
    facts: dict[str, Any]


@dataclass(frozen=True)
class NextStep:
    """What the professional does next: the route's own step, or what unblocks another route."""

    kind: str            # "route" (the advice's own next step) | "unblock" (makes another route possible)
    text: Text
    rule: str            # the route rule it comes from
    route_title: Text | None = None   # for "unblock": the route it would open
    fact: str | None = None           # for "unblock": the answer that stands in the way


@dataclass(frozen=True)
class Warning:
    """A plausibility check that holds: ask "Klopt dit?" before relying on these answers."""

    check: str
    message: Text
    facts: tuple[str, ...]


@dataclass
class Advice:
    outcome: str
    verdict: str
    recipient: str | None
    legal_bases: list[str]
    conditions: list[str]
    allowed: list[str]
    withheld: list[Withheld]
    explanation: list[Step]
    unverified: list[str]
    fired: list[str] = field(default_factory=list)   # every durable rule that fired, sorted
    next_steps: list[NextStep] = field(default_factory=list)
    why_not: list[Any] = field(default_factory=list)  # engine.whynot.WhyNot; only with decide(..., explain=True)


@dataclass
class Decision:
    ruleset: Ruleset
    answers: dict[str, Any]
    relevant: list[str]
    missing: list[str]
    ignored: list[str]
    advice: Advice | None
    to_ask: list[str] = field(default_factory=list)
    assumed: dict[str, Any] = field(default_factory=dict)
    warnings: list[Warning] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.missing

    def to_json(self, lang: str = "nl") -> dict[str, Any]:
        rs = self.ruleset
        out: dict[str, Any] = {"ruleset": rs.meta(), "complete": self.complete, "missing": list(self.missing),
                               "assumed": dict(self.assumed), "ignored": list(self.ignored),
                               "warnings": [{"check": w.check, "message": w.message.get(lang), "facts": list(w.facts)}
                                            for w in self.warnings],
                               "advice": None}
        a = self.advice
        if a is None:
            return out
        out["advice"] = {
            "outcome": a.outcome,
            "verdict": a.verdict,
            "recipient": a.recipient,
            "legal_bases": [{"id": s, "citation": rs.sources[s].citation, "status": rs.sources[s].status}
                            for s in a.legal_bases],
            "conditions": list(a.conditions),
            "data": {"allowed": list(a.allowed),
                     "withheld": [{"category": w.category, "reason": w.reason.get(lang)} for w in a.withheld]},
            "explanation": [{"rule": s.rule, "text": s.text.get(lang), "cites": list(s.cites), "facts": dict(s.facts)}
                            for s in a.explanation],
            "unverified": list(a.unverified),
            "next_steps": [{"kind": n.kind, "text": n.text.get(lang), "rule": n.rule, "fact": n.fact,
                            "route": n.route_title.get(lang) if n.route_title else None} for n in a.next_steps],
        }
        if a.why_not:
            out["why_not"] = [w.to_json(lang) for w in a.why_not]
        return out


def decide(rs: Ruleset, answers: dict[str, Any], *, on: dt.date | None = None, backend: str = "durable",
           order: list[str] | None = None, explain: bool = False, walk: Walk | None = None,
           memo: StageMemo | None = None) -> Decision:
    """``walk`` may pass the relevance walk of exactly these answers (the path enumeration has it);
    ``memo`` lets a walk over many cases reuse durable's result for a repeated stage input."""
    walk = walk if walk is not None else relevance(rs, answers)
    ignored = [q.fact for q in rs.questions if q.fact in answers and q.fact not in walk.relevant]
    advice = None
    if not walk.missing:
        if order is not None:
            order = [f for f in order if f in walk.known] + [f for f in sorted(walk.known) if f not in order]
        advice = _advise(rs, walk.known, walk.assumed, on or dt.date.today(), backend, order, explain, memo)
    return Decision(rs, dict(answers), walk.relevant, walk.missing, ignored, advice, walk.to_ask, walk.assumed,
                    _warnings(rs, walk.known))


def _warnings(rs: Ruleset, known: dict[str, Any]) -> list[Warning]:
    if not rs.checks:
        return []
    values = derived_value(rs, known)
    return [Warning(c.check.id, c.check.message, tuple(c.check.facts)) for c in rs.checks
            if rs.evaluator(c.when)(known, values) is True]


BACKENDS = ("durable", "python")


def run_engine(rs: Ruleset, known: dict[str, Any], choose, *, backend: str = "durable",
               order: list[str] | None = None, memo: StageMemo | None = None) -> tuple[list, Any]:
    """Evaluate in two phases; ``choose(fired)`` returns (extra facts, result).

    ``durable`` is the production engine. ``python`` evaluates the same compiled conjuncts
    in plain Python: the baseline for benchmarks and the differential tests. ``order`` fixes
    the order in which answers are asserted (default: sorted), to prove it does not matter.
    """
    facts = order if order is not None else sorted(known)
    if backend == "python":
        fired = firings(rs, known)
        extra, result = choose(fired)
        # the advice facts are read only by data and condition rules: evaluate just those again
        index = _conjunct_index(rs)
        derived = {index[key][0] for key in fired} & rs.derived.keys()
        more = firings(rs, {**known, **extra}, only=("data", "condition"), derived=derived)
        return sorted(set(fired) | set(more)), result
    if backend != "durable":
        raise ValueError(f"unknown backend {backend!r}; use one of {BACKENDS}")
    program = program_for(rs)

    def advice_fact(fired: list[str]) -> tuple[dict[str, Any], Any]:
        extra, result = choose(fired)
        return encode_case(rs, program.props, extra, ADVICE), result

    case = encode_case(rs, program.props, {f: known[f] for f in facts})
    return DurableEngine.get().evaluate(program, case, advice_fact, memo)


def route_outcome(rs: Ruleset, known: dict[str, Any]) -> tuple[str, str]:
    """The outcome and verdict the routes give on complete answers (plain-Python evaluation of
    the route rules only; ``decide`` gives the same, with everything else)."""
    route_rules = {r.id: r for r in rs.rules if r.kind == "route"}
    fired = firings(rs, known, only=("route",))
    outcomes = {route_rules[k.rpartition("#")[0]].rule.then.outcome for k in fired if k.rpartition("#")[0] in route_rules}
    outcome = min(outcomes, key=rs.precedence.index) if outcomes else rs.info.fallback.outcome
    return outcome, rs.outcomes[outcome].verdict


def _conjunct_index(rs: Ruleset) -> dict[str, tuple[str, int, tuple[str, ...], tuple[str, ...]]]:
    """Per engine rule ``<rule>#<k>``: the rule id, k, the derived facts and the answers its
    conjunct reads (sorted; memoised on the rule set)."""
    index: dict[str, tuple[str, int, tuple[str, ...], tuple[str, ...]]] | None = rs.memo.get("conjuncts")
    if index is None:
        index = {}
        for cr in rs.all_rules():
            for k, conj in enumerate(cr.conjuncts):
                index[f"{cr.id}#{k}"] = (cr.id, k, tuple(sorted({leaf.name for leaf in conj if isinstance(leaf, DerivedRef)})),
                                         tuple(sorted({leaf.fact for leaf in conj if isinstance(leaf, Test)})))
        rs.memo["conjuncts"] = index
    return index


def _in_file_order(rs: Ruleset, firings: dict[str, int]) -> list[CompiledRule]:
    """The fired rules (not derived facts), in the order of the rule files."""
    position: dict[str, int] | None = rs.memo.get("rule_position")
    if position is None:
        position = rs.memo["rule_position"] = {r.id: i for i, r in enumerate(rs.rules)}
    return [rs.rules[i] for i in sorted(position[rid] for rid in firings if rid in position)]


def _first_firings(rs: Ruleset, fired: list[str]) -> dict[str, int]:
    """For each rule id, its lowest-numbered conjunct that fired (deterministic)."""
    index = _conjunct_index(rs)
    out: dict[str, int] = {}
    for key in fired:
        rule_id, k, _, _ = index[key]
        if rule_id not in out or k < out[rule_id]:
            out[rule_id] = k
    return out


def _advise(rs: Ruleset, known: dict[str, Any], assumed: dict[str, Any], on: dt.date,
            backend: str = "durable", order: list[str] | None = None, explain: bool = False,
            memo: StageMemo | None = None) -> Advice:
    route_rules = rs.memo.get("route_rules")
    if route_rules is None:
        route_rules = rs.memo["route_rules"] = {r.id: r for r in rs.rules if r.kind == "route"}
    index = _conjunct_index(rs)

    def choose(fired):
        outcomes = {route_rules[rid].rule.then.outcome for rid in _first_firings(rs, fired) if rid in route_rules}
        outcome = min(outcomes, key=rs.precedence.index) if outcomes else rs.info.fallback.outcome
        return {ADVICE_OUTCOME: outcome, ADVICE_VERDICT: rs.outcomes[outcome].verdict}, (outcome, bool(outcomes))

    fired, (outcome, routed) = run_engine(rs, known, choose, backend=backend, order=order, memo=memo)
    verdict = rs.outcomes[outcome].verdict
    firings = _first_firings(rs, fired)
    steps: list[Step] = []
    done: set[str] = set()


    if assumed:
        steps.append(Step("assumed", "assumed", Text(
            nl="Niet beantwoord, dus aangenomen (het normale geval): " + ", ".join(f"{f} = {v}" for f, v in assumed.items()) + ".",
            en="Not answered, so assumed (the normal case): " + ", ".join(f"{f} = {v}" for f, v in assumed.items()) + "."),
            [], dict(assumed)))

    def add(cr: CompiledRule) -> None:
        if cr.id in done:
            return
        done.add(cr.id)
        _, _, derived, facts = index[f"{cr.id}#{firings[cr.id]}"]
        # the derived facts this firing rested on come first (sorted: independent of engine order)
        for name in derived:
            add(rs.derived[name])
        if cr.id.startswith(NEGATED):       # "x does not apply": implied by the steps around it
            return
        steps.append(Step(cr.id, cr.kind, cr.explain, cr.cites, {f: known[f] for f in facts if f in known}))

    in_order = _in_file_order(rs, firings)
    winners = [r for r in in_order if r.kind == "route" and r.rule.then.outcome == outcome]
    for r in winners:
        add(r)
    if not routed:
        fb = rs.info.fallback
        steps.append(Step("fallback", "fallback", fb.explain, list(fb.cites), {}))

    # data
    requested = list(known.get(rs.info.data_fact, []))
    allowed: list[str] = []
    withheld: list[Withheld] = []
    data_rules = [r for r in in_order if r.kind == "data"]
    used_data_rules: list[CompiledRule] = []
    for cat in requested:
        if verdict == "do_not_share":
            withheld.append(Withheld(cat, rs.outcomes[outcome].data_reason, outcome))
            continue
        blocker = next((r for r in data_rules if cat in r.rule.then.withhold), None)
        if blocker:
            withheld.append(Withheld(cat, blocker.rule.then.reason, blocker.id))
            used_data_rules.append(blocker)
            continue
        opener = next((r for r in data_rules if cat in r.rule.then.allow), None)
        if opener:
            allowed.append(cat)
            used_data_rules.append(opener)
        else:
            withheld.append(Withheld(cat, rs.info.default_withhold_reason, "default"))
    used_ids = {r.id for r in used_data_rules}
    for r in in_order:                      # keep file order in the explanation
        if r.id in used_ids:
            add(r)
    if any(w.rule == "default" for w in withheld):
        steps.append(Step("default-withhold", "data", rs.info.default_withhold_reason,
                          list(rs.info.default_withhold_cites), {}))

    # conditions
    conditions: set[str] = set()
    for r in winners:
        conditions.update(r.rule.then.conditions)
    for r in in_order:
        if r.kind == "condition":
            conditions.update(r.rule.then.conditions)
            add(r)

    # sources and caution
    legal_bases: list[str] = []
    for s in steps:
        for sid in s.cites:
            if sid not in legal_bases:
                legal_bases.append(sid)
    unverified = [sid for sid in legal_bases if rs.sources[sid].status != "verified"]
    caution_reasons = []
    route_sources = {sid for s in steps if s.kind in ("route", "derived", "fallback") for sid in s.cites}
    weak = sorted(sid for sid in route_sources if rs.sources[sid].status == "unverified")
    if weak:
        caution_reasons.append(Text(
            nl="Deze route steunt op een bron die nog niet is gecontroleerd: " + ", ".join(rs.sources[s].citation for s in weak)
               + ". Vraag de privacyfunctionaris dit te bevestigen voordat je deelt.",
            en="This route rests on a source that has not been verified: " + ", ".join(rs.sources[s].citation for s in weak)
               + ". Ask the privacy officer to confirm before you share."))
    stale = sorted(sid for sid in legal_bases if not rs.sources[sid].valid_on(on))
    if stale:
        caution_reasons.append(Text(
            nl="Deze bron geldt niet (meer) op " + on.isoformat() + ": " + ", ".join(rs.sources[s].citation for s in stale)
               + ". Laat de privacyfunctionaris de regels controleren.",
            en="This source is not in force on " + on.isoformat() + ": " + ", ".join(rs.sources[s].citation for s in stale)
               + ". Have the privacy officer check the rules."))
    stale_params = sorted(pid for pid, p in rs.parameters.items() if not p.valid_on(on)
                          and any(use.split(":", 1)[1] in done for use in rs.param_uses.get(pid, [])
                                  if use.startswith(("rule:", "derived:"))))
    if stale_params:
        names = ", ".join(f"{pid} = {rs.parameters[pid].value}" for pid in stale_params)
        caution_reasons.append(Text(
            nl=f"Deze vaste waarde geldt niet (meer) op {on.isoformat()}: {names}. Laat de privacyfunctionaris de regels "
               "controleren.",
            en=f"This fixed value is not in force on {on.isoformat()}: {names}. Have the privacy officer check the rules."))
    notes = []
    for s in list(steps):
        cr = rs.rule(s.rule) if s.rule in done else None
        if cr is not None and cr.rule is not None and cr.rule.confirm is not None:
            caution_reasons.append(cr.rule.confirm)
        if cr is not None and cr.rule is not None and cr.rule.officer_note is not None:
            notes.append(Step(f"note:{cr.id}", "officer_note", cr.rule.officer_note, [], {}))
    for i, reason in enumerate(caution_reasons):
        steps.append(Step(f"caution-{i + 1}", "caution", reason, [], {}))
    steps.extend(notes)
    if caution_reasons:
        conditions.add(CONSULT_PRIVACY_OFFICER)

    ordered_conditions = [c for c in rs.conditions if c in conditions]
    next_steps: list[NextStep] = []
    for r in winners:
        if r.rule is not None and r.rule.next is not None:
            next_steps.append(NextStep("route", r.rule.next, r.id))
    if not next_steps and rs.outcomes[outcome].next is not None:
        next_steps.append(NextStep("route", rs.outcomes[outcome].next, winners[0].id if winners else "fallback"))
    blocked = []
    if explain:
        from engine.whynot import why_not
        blocked = why_not(rs, known, outcome, set(firings))
        if verdict != "share":
            for w in blocked:
                for b in w.blockers:
                    if not any(n.fact == b.fact for n in next_steps):
                        next_steps.append(NextStep("unblock", b.next_step, w.rule, w.title, b.fact))
    return Advice(outcome=outcome, verdict=verdict, recipient=known.get(rs.info.recipient_fact),
                  legal_bases=legal_bases, conditions=ordered_conditions, allowed=allowed, withheld=withheld,
                  explanation=steps, unverified=unverified, fired=sorted(fired),
                  next_steps=next_steps, why_not=blocked)
