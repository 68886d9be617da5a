"""Answers: check a case's answers against the fact vocabulary before anything runs."""
from __future__ import annotations

from typing import Any

from engine.errors import AnswerError
from engine.ruleset import Ruleset
from legal_bases.textfile import YamlDocument, echo, suggest

__all__ = ["AnswerError", "allowed_text", "parse_answers"]


def allowed_text(rs: Ruleset, fact: str) -> str:
    q = rs.question(fact)
    if q.type == "bool":
        return "true, false"
    if q.type == "int":
        spec = rs.facts[fact]
        return f"a whole number from {spec.min} to {spec.max}"
    values = ", ".join(str(o.value) for o in q.options or [])
    return values if q.type == "enum" else f"a list of: {values}"


def parse_answers(rs: Ruleset, raw: Any, *, doc: YamlDocument | None = None,
                  loc: tuple[str | int, ...] = ()) -> dict[str, Any]:
    """Typed answers, in canonical form; AnswerError on the first answer that is not allowed.

    With ``doc`` (the case or scenario file the answers came from) and ``loc`` (where the
    answers mapping sits in it), the error points at the answer's line."""

    def fail(fact: str, message: str, allowed: str) -> AnswerError:
        where = doc.problem(loc + (fact,), "") if doc is not None else None
        return AnswerError(fact, message, allowed, where=where)

    if not isinstance(raw, dict):
        where = doc.problem(loc, "") if doc is not None else None
        raise AnswerError("answers", f"expected a mapping of fact ids to values, got {type(raw).__name__}",
                          "{fact: value}", where=where)
    known = {q.fact: q for q in rs.questions}
    out: dict[str, Any] = {}
    for fact, value in raw.items():
        if not isinstance(fact, str) or fact not in known:
            raise fail(str(fact), f"unknown fact id{suggest(str(fact), known)}", ", ".join(known))
        q = known[fact]
        allowed = allowed_text(rs, fact)
        if value is None:
            continue  # null means "not answered"
        if q.type == "bool":
            if not isinstance(value, bool):
                raise fail(fact, f"{echo(value)} is not yes/no", allowed)
        elif q.type == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise fail(fact, f"{echo(value)} is not a whole number", allowed)
            spec = rs.facts[fact]
            assert spec.min is not None and spec.max is not None
            if not spec.min <= value <= spec.max:
                raise fail(fact, f"{echo(value)} is out of range (out of scope of this rule set)", allowed)
        elif q.type == "enum":
            options = [o.value for o in q.options or []]
            if value not in options:
                raise fail(fact, f"{echo(value)} is not one of the values{suggest(str(value), map(str, options))}", allowed)
        else:
            options = [o.value for o in q.options or []]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise fail(fact, f"{echo(value)} is not a list of values", allowed)
            bad = [v for v in value if v not in options]
            if bad:
                raise fail(fact, f"{echo(bad[0])} is not one of the values{suggest(bad[0], map(str, options))}", allowed)
            if len(set(value)) != len(value):
                raise fail(fact, "a value is listed twice", allowed)
            value = [o for o in options if o in value]  # canonical order
        out[fact] = value
    return out
