"""durable-rules against the plain-Python backend (hypothesis): identical decisions for random
complete and partial answer sets drawn per the rule set's questions, including the boundary
integers (each compared number t-1, t, t+1, the fact's min and max); the same case asserted
in any order fires the same rules; bad answers are input errors, never crashes.

The same differential test runs on a copy of the rules whose age range is the whole range
durable-rules represents exactly (+-(2^53-1)), with conditions at its very ends: an int beyond
2^63 once made the two backends disagree (wrong advice), the bound now keeps them together.
"""

from __future__ import annotations

import random

import pytest
from engine_helpers import MAX_SAFE_INT, answers_strategy, boundary_integers, copy_rules, edit, interview_strategy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import AnswerError, decide, load_ruleset, parse_answers
from engine.conditions import kleene
from engine.reference import derived_value, relevance

SETTINGS = settings(
    max_examples=120, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


def same_decision(rs, answers):
    durable = decide(rs, answers, backend="durable")
    python = decide(rs, answers, backend="python")
    assert durable.to_json() == python.to_json(), answers
    assert (durable.advice is None) == (python.advice is None)
    if durable.advice is not None:
        assert durable.advice.fired == python.advice.fired, answers
    return durable


def test_boundary_integers_cover_parameters(ruleset):
    points = boundary_integers(ruleset, "client.age")
    low, high = ruleset.facts["client.age"].min, ruleset.facts["client.age"].max
    assert points[0] == low and points[-1] == high
    for pid, p in ruleset.parameters.items():
        if low < p.value <= high:
            assert {p.value - 1, p.value} <= set(points), pid


def test_durable_agrees_with_python_on_complete_interviews(ruleset):
    @SETTINGS
    @given(answers=interview_strategy(ruleset))
    def check(answers):
        d = same_decision(ruleset, answers)
        assert d.advice is not None, f"a completed interview gave no advice: {answers}"

    check()


def test_durable_agrees_with_python_on_partial_answer_sets(ruleset):
    """Random subsets of the vocabulary (relevant or not, complete or not) and interviews
    broken off early: the same questions still needed, the same advice when there is one."""

    @SETTINGS
    @given(answers=st.one_of(answers_strategy(ruleset), interview_strategy(ruleset, stop_early=True)))
    def check(answers):
        same_decision(ruleset, answers)

    check()


def test_every_boundary_age_agrees(ruleset):
    """Each boundary integer of client.age on every interview branch that asks it, both backends."""
    ages = boundary_integers(ruleset, "client.age")

    @settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(answers=interview_strategy(ruleset))
    def check(answers):
        if "client.age" not in answers:
            return
        for age in ages:
            same_decision(ruleset, {**answers, "client.age": age})

    check()


def test_assertion_order_does_not_change_the_fired_rules(ruleset):
    @SETTINGS
    @given(answers=interview_strategy(ruleset), seed=st.integers(0, 2**32 - 1))
    def check(answers, seed):
        first = decide(ruleset, answers, backend="durable")
        order = list(answers)
        random.Random(seed).shuffle(order)
        again = decide(ruleset, answers, backend="durable", order=order)
        backwards = decide(ruleset, answers, backend="durable", order=list(reversed(sorted(answers))))
        assert again.to_json() == first.to_json() == backwards.to_json()
        assert first.advice is not None
        assert again.advice.fired == first.advice.fired == backwards.advice.fired

    check()


def test_missing_questions_are_relevant_and_citations_exist(ruleset):
    @SETTINGS
    @given(answers=st.one_of(interview_strategy(ruleset, stop_early=True), answers_strategy(ruleset)))
    def check(answers):
        d = decide(ruleset, answers, backend="python")
        walk = relevance(ruleset, answers)
        for fact in d.missing:
            assert fact not in answers
            assert kleene(ruleset.ask_when[fact], walk.known, derived_value(ruleset, walk.known)) is True
        assert set(d.missing) <= set(d.relevant)
        assert not set(d.ignored) & set(d.relevant)
        if d.advice is None:
            assert d.missing
            return
        for step in d.advice.explanation:
            assert all(s in ruleset.sources for s in step.cites)
        assert set(d.advice.allowed) | {w.category for w in d.advice.withheld} == set(walk.known.get("share.data", []))

    check()


def test_bad_answers_are_input_errors_not_crashes(ruleset):
    junk = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.floats(),
        st.text(max_size=8),
        st.lists(st.one_of(st.text(max_size=5), st.integers()), max_size=3),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    )

    @SETTINGS
    @given(raw=st.dictionaries(st.sampled_from([q.fact for q in ruleset.questions] + ["bogus.fact", ""]), junk, max_size=6))
    def check(raw):
        try:
            answers = parse_answers(ruleset, raw)
        except AnswerError as exc:
            assert exc.allowed and exc.problems and str(exc)
            return
        same_decision(ruleset, answers)

    check()


# --- the whole exactly-representable integer range ---------------------------------------------

EDGE = MAX_SAFE_INT - 1
EXTREME_RULES = f"""
  - id: cond.test-extreme-high
    title: {{nl: Test hoog, en: Test high}}
    explain: {{nl: Een test aan de bovenrand., en: A test at the upper edge.}}
    when: [{{client.age: {{at_least: {EDGE}}}}}]
    then: {{conditions: [record_in_dossier]}}
    cites: [avg-5-1-c]
  - id: cond.test-extreme-low
    title: {{nl: Test laag, en: Test low}}
    explain: {{nl: Een test aan de onderrand., en: A test at the lower edge.}}
    when: [{{client.age: {{below: -{EDGE}}}}}]
    then: {{conditions: [minimise]}}
    cites: [avg-5-1-c]
  - id: cond.test-extreme-equal
    title: {{nl: Test gelijk, en: Test equal}}
    explain: {{nl: Een test op de grootste waarde., en: A test on the largest value.}}
    when: [{{client.age: {MAX_SAFE_INT}}}]
    then: {{conditions: [record_in_dossier]}}
    cites: [avg-5-1-c]
"""


@pytest.fixture(scope="module")
def extreme_ruleset(tmp_path_factory):
    rules = copy_rules(tmp_path_factory.mktemp("extreme"))
    edit(
        rules / "10-questions.yaml",
        "    min: 0\n    max: age.youth_care_last\n",
        f"    min: -{MAX_SAFE_INT}\n    max: {MAX_SAFE_INT}\n",
    )
    text = (rules / "50-conditions.yaml").read_text(encoding="utf-8")
    (rules / "50-conditions.yaml").write_text(text.rstrip("\n") + "\n" + EXTREME_RULES, encoding="utf-8")
    return load_ruleset(rules, use_cache=False)


def test_extreme_range_is_accepted_and_bounded(extreme_ruleset):
    spec = extreme_ruleset.facts["client.age"]
    assert (spec.min, spec.max) == (-MAX_SAFE_INT, MAX_SAFE_INT)
    points = boundary_integers(extreme_ruleset, "client.age")
    assert {-MAX_SAFE_INT, -EDGE - 1, -EDGE, EDGE - 1, EDGE, MAX_SAFE_INT} <= set(points)


def test_durable_agrees_with_python_at_the_ends_of_the_integer_range(extreme_ruleset):
    """Interviews on the extreme rule set; ages are drawn from its boundary integers (and at
    random over the whole range), so the ends of the range are hit on both sides."""
    rs = extreme_ruleset

    @settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(answers=interview_strategy(rs))
    def check(answers):
        d = same_decision(rs, answers)
        assert d.advice is not None
        if "client.age" not in answers:
            return
        age = answers["client.age"]
        fired = {k.rpartition("#")[0] for k in d.advice.fired}
        assert ("cond.test-extreme-high" in fired) == (age >= EDGE)
        assert ("cond.test-extreme-low" in fired) == (age < -EDGE)
        assert ("cond.test-extreme-equal" in fired) == (age == MAX_SAFE_INT)

    check()


def test_each_end_of_the_integer_range_agrees(extreme_ruleset):
    """Every boundary integer of the extreme range on one fixed police case, both backends."""
    rs = extreme_ruleset
    base = {
        "professional.role": "jeugdhulpverlener",
        "share.recipient": "police",
        "share.purpose": "protection",
        "share.data": ["identity"],
    }
    for age in boundary_integers(rs, "client.age"):
        same_decision(rs, {**base, "client.age": age})
