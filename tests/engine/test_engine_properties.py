"""Properties of evaluation (hypothesis): deterministic in any assertion order, never
crashing the process, citing only catalogued sources, asking only relevant questions, and
durable-rules agreeing with a plain-Python evaluation of the same compiled conditions."""
from __future__ import annotations

import json
import random
import subprocess
import sys

from engine_helpers import ROOT, answers_strategy, interview_strategy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import AnswerError, decide, parse_answers
from engine.conditions import kleene
from engine.decide import run_engine
from engine.reference import derived_value, firings, relevance

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def test_deterministic_in_any_assertion_order(ruleset):
    @SETTINGS
    @given(answers=interview_strategy(ruleset), seed=st.integers(0, 2**32 - 1))
    def check(answers, seed):
        first = decide(ruleset, answers)
        order = list(answers)
        random.Random(seed).shuffle(order)
        again = decide(ruleset, answers, order=order)
        assert again.to_json() == first.to_json()
        if first.advice:
            assert again.advice.fired == first.advice.fired
    check()


def test_durable_agrees_with_plain_python(ruleset):
    """Differential test: the same compiled conjuncts, two evaluators, identical firings."""
    @SETTINGS
    @given(answers=st.one_of(interview_strategy(ruleset), answers_strategy(ruleset)))
    def check(answers):
        walk = relevance(ruleset, answers)
        extra = {}

        def choose(fired):
            return extra, None
        for phase_extra in ({}, {"advice.outcome": "MELD_VEILIG_THUIS", "advice.verdict": "share"}):
            extra = phase_extra
            durable_fired, _ = run_engine(ruleset, walk.known, choose)
            python_fired = firings(ruleset, {**walk.known, **phase_extra})
            assert sorted(k for k, _ in durable_fired) == sorted(k for k, _ in python_fired)
        if not walk.missing:
            assert decide(ruleset, answers).to_json() == decide(ruleset, answers, backend="python").to_json()
    check()


def test_citations_exist_and_missing_is_relevant(ruleset):
    @SETTINGS
    @given(answers=st.one_of(interview_strategy(ruleset), answers_strategy(ruleset)))
    def check(answers):
        d = decide(ruleset, answers)
        walk = relevance(ruleset, answers)
        for fact in d.missing:
            assert fact not in answers
            # asked under the current answers: its condition holds on the answers before it
            assert kleene(ruleset.ask_when[fact], walk.known, derived_value(ruleset, walk.known)) is True
        assert set(d.missing) <= set(d.relevant)
        assert not set(d.ignored) & set(d.relevant)
        if d.advice:
            for step in d.advice.explanation:
                assert all(s in ruleset.sources for s in step.cites)
            for fired in d.advice.fired:
                rule = ruleset.rule(fired.rpartition("#")[0])
                assert all(s in ruleset.sources for s in rule.cites)
        else:
            assert d.missing
    check()


def test_bad_answers_are_input_errors_not_crashes(ruleset):
    junk = st.one_of(st.none(), st.booleans(), st.integers(-5, 50), st.text(max_size=8),
                     st.lists(st.text(max_size=5), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))

    @SETTINGS
    @given(raw=st.dictionaries(st.sampled_from([q.fact for q in ruleset.questions] + ["bogus.fact"]), junk, max_size=6))
    def check(raw):
        try:
            answers = parse_answers(ruleset, raw)
        except AnswerError as exc:
            assert exc.fact and exc.allowed
            return
        decide(ruleset, answers)
    check()


def test_no_answer_set_crashes_the_process(ruleset, tmp_path):
    """durable-rules is a C extension: a crash would kill the interpreter, so the answer sets
    are evaluated in a child process and we check it exits cleanly having done them all."""
    cases = []

    @settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(answers=st.one_of(answers_strategy(ruleset), interview_strategy(ruleset)))
    def collect(answers):
        cases.append(answers)
    collect()
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join(json.dumps(c) for c in cases), encoding="utf-8")
    script = (
        "import json, sys\n"
        "from engine import load_ruleset, decide, parse_answers\n"
        "rs = load_ruleset()\n"
        "n = 0\n"
        "for line in open(sys.argv[1], encoding='utf-8'):\n"
        "    d = decide(rs, parse_answers(rs, json.loads(line)))\n"
        "    for _ in range(2):\n"
        "        decide(rs, parse_answers(rs, json.loads(line)), backend='durable')\n"
        "    n += 1\n"
        "print(n)\n")
    result = subprocess.run([sys.executable, "-c", script, str(path)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert int(result.stdout.strip()) == len(cases)
