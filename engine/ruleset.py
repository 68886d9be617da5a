"""A loaded, checked rule set: everything the engine and the interview read."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.conditions import Conjunct, Evaluator, FactSpec, Node, compile_kleene
from engine.model import (CategoryInfo, Check, ConditionInfo, Derived, GlossaryTerm, OutcomeInfo, Parameter, Question,
                          Rule, RulesetInfo, Then)
from legal_bases.catalogue import LegalSource, Text

ADVICE_OUTCOME = "advice.outcome"
ADVICE_VERDICT = "advice.verdict"
VERDICTS = ("share", "do_not_share", "consult_anonymised")


@dataclass(frozen=True)
class Origin:
    path: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass
class CompiledCheck:
    """A plausibility check with its parsed condition."""

    check: Check
    when: Node
    origin: Origin


@dataclass
class CompiledRule:
    """A rule or derived fact with its parsed condition and its DNF conjuncts."""

    id: str
    kind: str                      # derived | route | data | condition
    when: Node
    conjuncts: list[Conjunct]
    origin: Origin
    rule: Rule | None = None
    derived: Derived | None = None

    @property
    def source(self) -> Rule | Derived:
        src = self.rule or self.derived
        assert src is not None, f"{self.id} has neither a rule nor a derived definition"
        return src

    @property
    def then(self) -> Then:
        """What a (non-derived) rule concludes."""
        assert self.rule is not None, f"{self.id} is a derived fact, it concludes only itself"
        return self.rule.then

    @property
    def cites(self) -> list[str]:
        return list(self.source.cites)

    @property
    def explain(self) -> Text:
        return self.source.explain

    @property
    def title(self) -> Text:
        return self.source.title


@dataclass
class Ruleset:
    info: RulesetInfo
    precedence: list[str]
    sections: dict[str, Text]
    outcomes: dict[str, OutcomeInfo]
    conditions: dict[str, ConditionInfo]
    data_categories: dict[str, CategoryInfo]
    glossary: dict[str, GlossaryTerm]
    questions: list[Question]
    ask_when: dict[str, Node | None]
    derived: dict[str, CompiledRule]
    rules: list[CompiledRule]
    sources: dict[str, LegalSource]
    facts: dict[str, FactSpec]
    fingerprint: str
    rules_dir: Path
    sources_dir: Path
    files: list[Path] = field(default_factory=list)
    parameters: dict[str, Parameter] = field(default_factory=dict)
    param_uses: dict[str, list[str]] = field(default_factory=dict)  # parameter -> rules/questions/texts that use it
    checks: list[CompiledCheck] = field(default_factory=list)
    program: Any = field(default=None, repr=False)   # the compiled durable program (engine.compiler), cached with the rule set
    memo: dict[str, Any] = field(default_factory=dict, repr=False)  # derived views (engine.whynot, engine.reference)
    _by_fact: dict[str, Question] = field(default_factory=dict, repr=False)
    _by_rule: dict[str, CompiledRule] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._by_fact = {q.fact: q for q in self.questions}
        self._by_rule = {r.id: r for r in self.rules}

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def version(self) -> str:
        return self.info.version

    def question(self, fact: str) -> Question:
        return self._by_fact[fact]

    def rule(self, rule_id: str) -> CompiledRule:
        if rule_id in self.derived:
            return self.derived[rule_id]
        return self._by_rule[rule_id]

    def all_rules(self) -> list[CompiledRule]:
        return list(self.derived.values()) + self.rules

    def evaluator(self, node: Node | None) -> Evaluator:
        """The compiled three-valued evaluator of one of this rule set's conditions (memoised)."""
        cache: dict[int, tuple[Node | None, Evaluator]] = self.memo.setdefault("kleene", {})
        hit = cache.get(id(node))
        if hit is None:
            hit = cache[id(node)] = (node, compile_kleene(node))  # the node pins its id
        return hit[1]

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["memo"] = {}  # derived views hold closures; they are rebuilt on demand
        return state

    def definition(self, name: str) -> Node:
        return self.derived[name].when

    def meta(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "fingerprint": self.fingerprint}
