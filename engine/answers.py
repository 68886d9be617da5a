"""Answers: check a case's answers against the fact vocabulary before anything runs."""
from __future__ import annotations

from typing import Any

from engine.ruleset import Ruleset


class AnswerError(ValueError):
    """An answer that is not in the vocabulary: names the fact and what is allowed."""

    def __init__(self, fact: str, message: str, allowed: str):
        self.fact, self.allowed = fact, allowed
        super().__init__(f"{fact}: {message}; allowed: {allowed}")


def allowed_text(rs: Ruleset, fact: str) -> str:
    q = rs.question(fact)
    if q.type == "bool":
        return "true, false"
    if q.type == "int":
        return f"a whole number from {q.min} to {q.max}"
    values = ", ".join(str(o.value) for o in q.options or [])
    return values if q.type == "enum" else f"a list of: {values}"


def parse_answers(rs: Ruleset, raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise AnswerError("answers", f"expected a mapping of fact ids to values, got {type(raw).__name__}", "{fact: value}")
    known = {q.fact: q for q in rs.questions}
    out: dict[str, Any] = {}
    for fact, value in raw.items():
        if not isinstance(fact, str) or fact not in known:
            raise AnswerError(str(fact), "unknown fact id", ", ".join(known))
        q = known[fact]
        allowed = allowed_text(rs, fact)
        if value is None:
            continue  # null means "not answered"
        if q.type == "bool":
            if not isinstance(value, bool):
                raise AnswerError(fact, f"{value!r} is not yes/no", allowed)
        elif q.type == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise AnswerError(fact, f"{value!r} is not a whole number", allowed)
            if not q.min <= value <= q.max:
                raise AnswerError(fact, f"{value} is out of range (out of scope of this rule set)", allowed)
        elif q.type == "enum":
            if value not in [o.value for o in q.options]:
                raise AnswerError(fact, f"{value!r} is not one of the values", allowed)
        else:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise AnswerError(fact, f"{value!r} is not a list of values", allowed)
            options = [o.value for o in q.options]
            bad = [v for v in value if v not in options]
            if bad:
                raise AnswerError(fact, f"{bad[0]!r} is not one of the values", allowed)
            if len(set(value)) != len(value):
                raise AnswerError(fact, "a value is listed twice", allowed)
            value = [o for o in options if o in value]  # canonical order
        out[fact] = value
    return out
