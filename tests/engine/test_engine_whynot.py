"""Why not? (engine/whynot.py): ``decide(..., explain=True)`` names, for routes that did not
fire, the nearest way they could and the answer that blocks it, and turns blockers into
next steps when the advice is not to share. Each suggestion must be a real way forward: with
the blocking answers changed as suggested, that route fires and its outcome is the advice."""

from __future__ import annotations

from engine_helpers import complete_interview, interview_strategy
from hypothesis import HealthCheck, given, settings

from engine import decide
from engine.reference import firings, relevance

POLICE = {
    "professional.role": "jeugdhulpverlener",
    "share.recipient": "police",
    "share.purpose": "protection",
    "client.age": 15,
    "client.authority": "parents",
    "share.requested": True,
    "share.data": ["identity"],
}


def test_a_police_request_without_an_order(ruleset):
    answers = complete_interview(ruleset, POLICE, {"consent.status": "refused"})
    d = decide(ruleset, answers, explain=True)
    assert d.advice is not None and d.advice.verdict == "do_not_share"
    order = next(w for w in d.advice.why_not if w.rule == "route.police-order")
    assert order.outcome == "SHARE_LEGAL_OBLIGATION"
    (blocker,) = order.blockers
    assert (blocker.fact, blocker.needed, blocker.answer) == ("share.legal_order", "share.legal_order = true", False)
    assert blocker.next_step == ruleset.question("share.legal_order").next_step
    unblock = [n for n in d.advice.next_steps if n.kind == "unblock"]
    assert unblock and unblock[0].fact == "share.legal_order" and unblock[0].rule == "route.police-order"
    assert unblock[0].route_title == order.title
    js = d.to_json("en")
    assert js["why_not"][0]["blockers"][0]["next_step"] == blocker.next_step.en


def test_no_why_not_without_explain_and_none_on_a_share(ruleset):
    answers = complete_interview(ruleset, POLICE, {"consent.status": "refused"})
    d = decide(ruleset, answers)
    assert d.advice.why_not == [] and "why_not" not in d.to_json()
    assert not [n for n in d.advice.next_steps if n.kind == "unblock"]
    with_order = complete_interview(ruleset, {**POLICE, "share.legal_order": True}, {"consent.status": "refused"})
    shared = decide(ruleset, with_order, explain=True)
    assert shared.advice.verdict == "share"
    assert not [n for n in shared.advice.next_steps if n.kind == "unblock"], "a share advice needs no way forward"


def _fix(rs, blocker, answers):
    """An answer that makes the blocker's test hold (``needed`` is ``fact op value``)."""
    fact, op, value = blocker.needed.split(" ", 2)
    value = value.split(" (")[0]
    q = rs.question(fact)
    if q.type == "bool":
        v = {"true": True, "false": False}[value]
        return v if op == "=" else not v
    if q.type == "enum":
        return value if op == "=" else next(o.value for o in q.options if o.value != value)
    if q.type == "int":
        n = int(value)
        return {"=": n, "<": n - 1, "≤": n, ">": n + 1, "≥": n, "≠": n + 1}[op]
    current = list(answers.get(fact) or [])
    return current + [value] if op == "includes" else [v for v in current if v != value]


def test_every_suggestion_is_a_way_forward(ruleset):
    @settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(answers=interview_strategy(ruleset))
    def check(answers):
        d = decide(ruleset, answers, backend="python", explain=True)
        assert d.advice is not None
        for w in d.advice.why_not:
            assert w.outcome != d.advice.outcome and ruleset.outcomes[w.outcome].verdict != "do_not_share"
            assert 1 <= len(w.blockers) <= 3
            fixed = dict(answers)
            for b in w.blockers:
                assert ruleset.question(b.fact).next_step == b.next_step
                assert b.answer == answers.get(b.fact)
                fixed[b.fact] = _fix(ruleset, b, fixed)
            walk = relevance(ruleset, fixed)
            fired = {k.rpartition("#")[0] for k in firings(ruleset, walk.known)}
            assert w.rule in fired, f"{w.rule} does not fire with {[(b.fact, fixed[b.fact]) for b in w.blockers]}"
            if not walk.missing:
                assert decide(ruleset, fixed, backend="python").advice.outcome == w.outcome
        if d.advice.verdict != "share":
            facts = {b.fact for w in d.advice.why_not for b in w.blockers}
            assert {n.fact for n in d.advice.next_steps if n.kind == "unblock"} == facts

    check()


def test_why_not_agrees_between_backends(ruleset):
    answers = complete_interview(ruleset, POLICE, {"consent.status": "refused"})
    assert decide(ruleset, answers, explain=True).to_json() == decide(ruleset, answers, backend="python", explain=True).to_json()
