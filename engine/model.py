"""The rule language: what a rule file may contain (strict pydantic models).

A rule set is a directory of YAML files. Every file may hold any of these top-level
sections; the loader merges them in file-name order:

``ruleset``         name, version, which facts carry the recipient and the data, fallback
``precedence``      outcome codes, strongest first: when several routes apply, the first wins
``sections``        captions that group the interview questions
``outcomes``        outcome codes with their verdict and texts
``conditions``      condition codes (e.g. ``inform_client_first``) with their texts
``data_categories`` the data categories that may be shared, and whether they are special
``glossary``        plain-language explanations of jargon
``questions``       the interview: one fact per question, asked when ``ask_when`` holds
``derived``         named conclusions (``minor``, ``consent_valid``) that other rules use
``rules``           rules that conclude an outcome (route), allow/withhold data, or add conditions

Conditions (``when``, ``ask_when``) are kept as plain data here and parsed by
``engine.conditions`` so that errors can point at the exact line.
"""
from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from legal_bases.catalogue import Text

FACT_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
NAME_ID = re.compile(r"^[a-z][a-z0-9_]*([.-][a-z0-9_]+)*$")
CODE = re.compile(r"^[A-Z][A-Z0-9_]*$")

FactType = Literal["bool", "int", "enum", "set"]
Verdict = Literal["share", "do_not_share", "consult_anonymised"]
Special = Literal["none", "art9", "art10"]


class Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


def _check(pattern: re.Pattern[str], what: str, example: str):
    def validator(value: str) -> str:
        if not pattern.match(value):
            raise ValueError(f"{what} {value!r} is not well formed; write it like {example!r}")
        return value
    return validator


class Fallback(Strict):
    outcome: str
    explain: Text
    cites: list[str] = Field(min_length=1)


class RulesetInfo(Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    version: str = Field(min_length=1)
    description: Text
    recipient_fact: str
    data_fact: str
    fallback: Fallback
    default_withhold_reason: Text
    default_withhold_cites: list[str] = Field(min_length=1)


class Section(Strict):
    id: str
    title: Text


class OutcomeInfo(Strict):
    code: str
    verdict: Verdict
    label: Text
    description: Text
    data_reason: Text  # why data are withheld when this outcome shares nothing (or nothing identifying)

    _code = field_validator("code")(_check(CODE, "outcome code", "MELD_VEILIG_THUIS"))


class ConditionInfo(Strict):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    text: Text


class CategoryInfo(Strict):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: Text
    special: Special


class GlossaryTerm(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    term: Text
    definition: Text


class Option(Strict):
    value: str | bool
    label: Text


class Question(Strict):
    fact: str
    type: FactType
    section: str
    prompt: Text
    hint: Text
    help: Text
    options: list[Option] | None = None
    min: int | None = None
    max: int | None = None
    sources: list[str] = Field(default_factory=list)
    terms: list[str] = Field(default_factory=list)
    ask_when: Any = None
    default: Any = None  # assumed when not answered: only where the law makes it the normal case

    _fact = field_validator("fact")(_check(FACT_ID, "fact id", "client.age"))

    @model_validator(mode="after")
    def _shape(self) -> "Question":
        if self.type in ("enum", "set"):
            if not self.options:
                raise ValueError(f"a question of type {self.type} needs 'options'")
            for o in self.options:
                if not isinstance(o.value, str):
                    raise ValueError(f"options of a {self.type} question are words, not {o.value!r}")
        if self.type == "bool" and self.options is not None:
            values = sorted(str(o.value) for o in self.options)
            if values != ["False", "True"]:
                raise ValueError("a yes/no question may only relabel the options true and false")
        if self.type == "int":
            if self.min is None or self.max is None or self.min > self.max:
                raise ValueError("a number question needs 'min' and 'max' with min <= max")
        elif self.min is not None or self.max is not None:
            raise ValueError("'min' and 'max' only belong to number (int) questions")
        if self.options:
            seen = [o.value for o in self.options]
            if len(seen) != len(set(seen)):
                raise ValueError("option values must be unique")
        if self.default is not None:
            d = self.default
            ok = {
                "bool": isinstance(d, bool),
                "int": isinstance(d, int) and not isinstance(d, bool) and self.min <= d <= (self.max or 0),
                "enum": isinstance(d, str) and d in [o.value for o in self.options or []],
                "set": isinstance(d, list) and all(v in [o.value for o in self.options or []] for v in d),
            }[self.type]
            if not ok:
                raise ValueError(f"default {d!r} is not a valid answer to this {self.type} question")
        return self


class Derived(Strict):
    id: str
    title: Text
    explain: Text
    when: Any
    cites: list[str] = Field(default_factory=list)

    _id = field_validator("id")(_check(NAME_ID, "derived fact id", "consent_valid"))


class Then(Strict):
    outcome: str | None = None
    allow: list[str] = Field(default_factory=list)
    withhold: list[str] = Field(default_factory=list)
    reason: Text | None = None
    conditions: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_kind(self) -> "Then":
        kinds = [k for k, v in (("outcome", self.outcome), ("allow", self.allow), ("withhold", self.withhold)) if v]
        if len(kinds) > 1:
            raise ValueError(f"a rule concludes one thing; this one has {' and '.join(kinds)} — split it into separate rules")
        if not kinds and not self.conditions:
            raise ValueError("'then' concludes nothing: give an outcome, allow, withhold or conditions")
        if self.withhold and self.reason is None:
            raise ValueError("'withhold' needs a 'reason' (nl and en) that the professional will read")
        if self.reason is not None and not self.withhold:
            raise ValueError("'reason' only belongs with 'withhold'")
        if (self.allow or self.withhold) and self.conditions:
            raise ValueError("data rules (allow/withhold) cannot add conditions; write a separate condition rule")
        return self

    @property
    def stage(self) -> str:
        if self.outcome:
            return "route"
        if self.allow or self.withhold:
            return "data"
        return "condition"


class Rule(Strict):
    id: str
    title: Text
    explain: Text
    when: Any
    then: Then
    cites: list[str] = Field(min_length=1)
    confirm: Text | None = None  # what a privacy officer must confirm before relying on this rule
    officer_note: Text | None = None  # shown with the advice for the privacy officer; does not block
    note: str | None = None      # for rule authors only; never shown to professionals

    _id = field_validator("id")(_check(NAME_ID, "rule id", "route.meld-veilig-thuis"))


class RuleFile(Strict):
    ruleset: RulesetInfo | None = None
    precedence: list[str] | None = None
    sections: list[Section] = Field(default_factory=list)
    outcomes: list[OutcomeInfo] = Field(default_factory=list)
    conditions: list[ConditionInfo] = Field(default_factory=list)
    data_categories: list[CategoryInfo] = Field(default_factory=list)
    glossary: list[GlossaryTerm] = Field(default_factory=list)
    questions: list[Question] = Field(default_factory=list)
    derived: list[Derived] = Field(default_factory=list)
    rules: list[Rule] = Field(default_factory=list)
