"""The rule language: what a rule file may contain.

A rule set is a directory of YAML files. Every file may hold any of these top-level
sections; the loader merges them in file-name order:

``ruleset``         name, version, which facts carry the recipient and the data, fallback
``parameters``      named, dated numbers (age thresholds) that conditions and texts use
``precedence``      outcome codes, strongest first: when several routes apply, the first wins
``sections``        captions that group the interview questions
``outcomes``        outcome codes with their verdict and texts
``conditions``      condition codes (e.g. ``inform_client_first``) with their texts
``data_categories`` the data categories that may be shared, and whether they are special
``glossary``        plain-language explanations of jargon
``questions``       the interview: one fact per question, asked when ``ask_when`` holds
``derived``         named conclusions (``minor``, ``consent_valid``) that other rules use
``rules``           rules that conclude an outcome (route), allow/withhold data, or add conditions
``checks``          plausibility checks: answer combinations the interview asks to confirm

The entries are frozen dataclasses, validated strictly (types, unknown keys, constraints
in ``metadata``, and each class's ``problems()``) by ``legal_bases.schema`` when a rule set is
checked, and used without pydantic when it runs. Conditions (``when``, ``ask_when``) are
kept as plain data here and parsed by ``engine.conditions`` so that errors can point at the
exact line.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from legal_bases.catalogue import Text
from legal_bases.textfile import Loc

FACT_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
NAME_ID = re.compile(r"^[a-z][a-z0-9_]*([.-][a-z0-9_]+)*$")
CODE = re.compile(r"^[A-Z][A-Z0-9_]*$")
WORD = re.compile(r"^[a-z][a-z0-9_]*$")

MAX_SAFE_INT = 2**53 - 1   # durable-rules and the audit log's canonical JSON hold integers exactly up to here
MAX_SET_OPTIONS = 200      # a list answer becomes one engine property per option; durable allows ~250 per fact
MAX_OPTIONS = 200

FactType = Literal["bool", "int", "enum", "set"]
Verdict = Literal["share", "do_not_share", "consult_anonymised"]
Special = Literal["none", "art9", "art10"]
Problems = list[tuple[Loc, str]]


NONEMPTY = {"min_length": 1}


def _well_formed(value: str, pattern: re.Pattern[str], what: str, example: str, key: str) -> Problems:
    if pattern.match(value):
        return []
    return [((key,), f"{what} {value!r} is not well formed; write it like {example!r}")]


@dataclass(frozen=True, eq=False)
class Fallback:
    outcome: str
    explain: Text
    cites: list[str] = field(metadata=NONEMPTY)


@dataclass(frozen=True, eq=False)
class RulesetInfo:
    name: str = field(metadata={"pattern": r"^[a-z][a-z0-9-]*$"})
    version: str = field(metadata=NONEMPTY)
    description: Text
    recipient_fact: str
    data_fact: str
    fallback: Fallback
    default_withhold_reason: Text
    default_withhold_cites: list[str] = field(metadata=NONEMPTY)


@dataclass(frozen=True, eq=False)
class Parameter:
    """A named number the law fixes (an age threshold), declared once with its source.

    Conditions use it instead of the number (``client.age: {below: age.self_consent}``) and
    texts by name (``((age.self_consent))``), so changing the value changes every rule and
    sentence that means it. ``valid_from``/``valid_to`` say when the value is in force; an
    advice on a date outside that window asks the privacy officer to check the rules."""

    id: str
    value: int = field(metadata={"ge": -MAX_SAFE_INT, "le": MAX_SAFE_INT})
    title: Text
    cites: list[str] = field(metadata=NONEMPTY)
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    note: str | None = None

    def problems(self) -> Problems:
        out = _well_formed(self.id, NAME_ID, "parameter id", "age.self_consent", "id")
        if self.valid_from and self.valid_to and self.valid_to <= self.valid_from:
            out.append((("valid_to",), "valid_to must be after valid_from"))
        return out

    def valid_on(self, day: dt.date) -> bool:
        return not ((self.valid_from and day < self.valid_from) or (self.valid_to and day >= self.valid_to))


@dataclass(frozen=True, eq=False)
class Section:
    id: str
    title: Text


@dataclass(frozen=True, eq=False)
class OutcomeInfo:
    code: str
    verdict: Verdict
    label: Text
    description: Text
    data_reason: Text  # why data are withheld when this outcome shares nothing (or nothing identifying)
    next: Text | None = None  # the next concrete step for the professional (a route rule may say it more precisely)

    def problems(self) -> Problems:
        return _well_formed(self.code, CODE, "outcome code", "MELD_VEILIG_THUIS", "code")


@dataclass(frozen=True, eq=False)
class ConditionInfo:
    code: str
    text: Text

    def problems(self) -> Problems:
        return _well_formed(self.code, WORD, "condition code", "record_in_dossier", "code")


@dataclass(frozen=True, eq=False)
class CategoryInfo:
    code: str
    label: Text
    special: Special

    def problems(self) -> Problems:
        return _well_formed(self.code, WORD, "data category", "sexual_life", "code")


@dataclass(frozen=True, eq=False)
class GlossaryTerm:
    id: str
    term: Text
    definition: Text

    def problems(self) -> Problems:
        return _well_formed(self.id, re.compile(r"^[a-z][a-z0-9_-]*$"), "glossary id", "meldcode", "id")


@dataclass(frozen=True, eq=False)
class Option:
    value: str | bool
    label: Text


@dataclass(frozen=True, eq=False)
class Question:
    fact: str
    type: FactType
    section: str
    prompt: Text
    hint: Text
    help: Text
    options: list[Option] | None = field(default=None, metadata={"max_length": MAX_OPTIONS})
    min: int | str | None = None   # a number, or a parameter id
    max: int | str | None = None
    sources: list[str] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)
    ask_when: Any = None
    # Assumed when not answered -- only a value the law itself supplies, cited in
    # default_cites, and never one that widens sharing (the invariants check that).
    default: Any = None
    default_cites: list[str] = field(default_factory=list)
    # What the professional can do when this answer stands in the way of a route
    # ("Overleg eerst met ..."): used by "why not?" and the advice's next steps.
    next_step: Text | None = None

    def problems(self) -> Problems:
        out = _well_formed(self.fact, FACT_ID, "fact id", "client.age", "fact")
        if self.type in ("enum", "set"):
            if not self.options:
                return [*out, ((), f"a question of type {self.type} needs 'options'")]
            if self.type == "set" and len(self.options) > MAX_SET_OPTIONS:
                out.append((("options",), f"a list question may have at most {MAX_SET_OPTIONS} options (the engine's "
                                          f"limit); this one has {len(self.options)}"))
            for i, o in enumerate(self.options):
                if not isinstance(o.value, str):
                    out.append((("options", i, "value"), f"options of a {self.type} question are words, not {o.value!r}"))
        if self.type == "bool" and self.options is not None:
            labels = sorted(str(o.value) for o in self.options)
            if labels != ["False", "True"]:
                out.append((("options",), "a yes/no question may only relabel the options true and false"))
        if self.type == "int":
            if self.min is None or self.max is None:
                out.append(((), "a number question needs 'min' and 'max' (numbers or parameter ids)"))
            for key in ("min", "max"):
                bound = getattr(self, key)
                if isinstance(bound, int) and not -MAX_SAFE_INT <= bound <= MAX_SAFE_INT:
                    out.append(((key,), f"'{key}' must lie between -{MAX_SAFE_INT} and {MAX_SAFE_INT}"))
            if isinstance(self.min, int) and isinstance(self.max, int) and self.min > self.max:
                out.append((("min",), "a number question needs min <= max"))
        elif self.min is not None or self.max is not None:
            out.append((("min",), "'min' and 'max' only belong to number (int) questions"))
        if self.options:
            seen = [o.value for o in self.options]
            if len(seen) != len(set(seen)):
                out.append((("options",), "option values must be unique"))
        if self.default is None and self.default_cites:
            out.append((("default_cites",), "'default_cites' belongs with a 'default'"))
        if self.default is not None:
            d = self.default
            values: list[Any] = [o.value for o in self.options or []]
            ok = {
                "bool": isinstance(d, bool),
                "int": isinstance(d, int) and not isinstance(d, bool),
                "enum": isinstance(d, str) and d in values,
                "set": isinstance(d, list) and all(v in values for v in d),
            }[self.type]
            if not ok:
                out.append((("default",), f"default {d!r} is not a valid answer to this {self.type} question"))
        return out


@dataclass(frozen=True, eq=False)
class Derived:
    id: str
    title: Text
    explain: Text
    when: Any
    cites: list[str] = field(default_factory=list)

    def problems(self) -> Problems:
        return _well_formed(self.id, NAME_ID, "derived fact id", "consent_valid", "id")


@dataclass(frozen=True, eq=False)
class Then:
    outcome: str | None = None
    allow: list[str] = field(default_factory=list)
    withhold: list[str] = field(default_factory=list)
    reason: Text | None = None
    conditions: list[str] = field(default_factory=list)

    def problems(self) -> Problems:
        kinds = [k for k, v in (("outcome", self.outcome), ("allow", self.allow), ("withhold", self.withhold)) if v]
        if len(kinds) > 1:
            return [((), f"a rule concludes one thing; this one has {' and '.join(kinds)} — split it into separate rules")]
        if not kinds and not self.conditions:
            return [((), "'then' concludes nothing: give an outcome, allow, withhold or conditions")]
        if self.withhold and self.reason is None:
            return [(("withhold",), "'withhold' needs a 'reason' (nl and en) that the professional will read")]
        if self.reason is not None and not self.withhold:
            return [(("reason",), "'reason' only belongs with 'withhold'")]
        if (self.allow or self.withhold) and self.conditions:
            return [(("conditions",), "data rules (allow/withhold) cannot add conditions; write a separate condition rule")]
        return []

    @property
    def stage(self) -> str:
        if self.outcome:
            return "route"
        if self.allow or self.withhold:
            return "data"
        return "condition"


@dataclass(frozen=True, eq=False)
class Rule:
    id: str
    title: Text
    explain: Text
    when: Any
    then: Then
    cites: list[str] = field(metadata=NONEMPTY)
    confirm: Text | None = None  # what a privacy officer must confirm before relying on this rule
    officer_note: Text | None = None  # shown with the advice for the privacy officer; does not block
    next: Text | None = None     # route rules: the next concrete step when this route is the advice
    note: str | None = None      # for rule authors only; never shown to professionals

    def problems(self) -> Problems:
        return _well_formed(self.id, NAME_ID, "rule id", "route.meld-veilig-thuis", "id")


@dataclass(frozen=True, eq=False)
class Check:
    """A plausibility check: an answer combination that is possible but unusual enough that
    the interview asks "Klopt dit?" before computing on it (an age of 3 in a loverboy case)."""

    id: str
    when: Any
    message: Text
    facts: list[str] = field(metadata=NONEMPTY)  # the answers to show (and offer to change)

    def problems(self) -> Problems:
        return _well_formed(self.id, NAME_ID, "check id", "check.young-for-exploitation", "id")


@dataclass(frozen=True, eq=False)
class RuleFile:
    ruleset: RulesetInfo | None = None
    parameters: list[Any] = field(default_factory=list)  # validated on their own (engine.params), first
    precedence: list[str] | None = None
    sections: list[Section] = field(default_factory=list)
    outcomes: list[OutcomeInfo] = field(default_factory=list)
    conditions: list[ConditionInfo] = field(default_factory=list)
    data_categories: list[CategoryInfo] = field(default_factory=list)
    glossary: list[GlossaryTerm] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)
    derived: list[Derived] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
