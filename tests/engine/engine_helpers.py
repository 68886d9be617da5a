"""Helpers for engine tests: copying the bundled rule set, and answer-set strategies."""
from __future__ import annotations

import shutil
from pathlib import Path

from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "rules"
SOURCES = ROOT / "legal_bases" / "catalogue"


def copy_rules(tmp_path: Path) -> Path:
    """A private copy of the bundled rules (without scenarios) to break on purpose."""
    target = tmp_path / "rules"
    shutil.copytree(RULES, target, ignore=shutil.ignore_patterns("tests"))
    return target


def value_strategy(question):
    if question.type == "bool":
        return st.booleans()
    if question.type == "int":
        return st.integers(question.min, question.max)
    values = [o.value for o in question.options]
    if question.type == "enum":
        return st.sampled_from(values)
    return st.lists(st.sampled_from(values), unique=True).map(lambda v: sorted(v, key=values.index))


def answers_strategy(ruleset):
    """Any subset of the vocabulary, each with a valid value: relevant or not, complete or not."""
    return st.fixed_dictionaries({}, optional={q.fact: value_strategy(q) for q in ruleset.questions})


def interview_strategy(ruleset):
    """Answers built the way the interview builds them: always the next question asked."""
    from engine import decide

    @st.composite
    def walk(draw):
        answers: dict = {}
        for _ in range(len(ruleset.questions)):
            d = decide(ruleset, answers, backend="python")
            if not d.to_ask:
                break
            q = ruleset.question(d.to_ask[0])
            answers[q.fact] = draw(value_strategy(q))
        return answers
    return walk()
