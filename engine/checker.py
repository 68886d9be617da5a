"""Check a rule-set directory thoroughly and build the Ruleset, one section at a time.

Every problem is a positioned ``Problem`` with a hint how to fix it. Beyond the schema:
unknown facts, values and ids (with "did you mean"), unknown legal sources, parameters
and their uses, undefined or circular derived facts, outcomes missing from the precedence
list, questions that depend on later questions, defaults without a cited source, rules that
can never fire (``engine.reachability``), and durable-rules' own limits.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.conditions import (MAX_CONJUNCTS, NEGATED, ConditionParser, DerivedRef, FactSpec, Node, Not, Test,
                               TooManyAlternatives, derived_of, dnf, facts_of, nnf)
from engine.compiler import MAX_CASE_PROPERTIES
from engine.errors import RulesetError
from engine.fingerprint import fingerprint
from engine.loader import rule_files
from engine.model import Check, Derived, Question, Rule, RuleFile
from engine.params import Parameters, collect, substitute
from engine.reachability import can_fire
from engine.ruleset import (ADVICE_OUTCOME, ADVICE_VERDICT, VERDICTS, CompiledCheck, CompiledRule, Origin, Ruleset)
from legal_bases.catalogue import Catalogue, Text, load_catalogue
from legal_bases.yamlfile import Problem, YamlDocument, YamlFileError, echo, load_yaml, suggest, validate

MAX_PATTERNS = 16        # durable-rules MAX_MESSAGE_FRAMES: a rule with more never matches (error 304)
MAX_DERIVED_DEPTH = 24   # derived facts built on derived facts, this many levels at most
MAX_FILES = 100
ADVICE_FACTS = {ADVICE_OUTCOME, ADVICE_VERDICT}


@dataclass
class Item:
    """One entry of a section, with the document and location it came from."""

    doc: YamlDocument
    loc: tuple[str | int, ...]
    value: Any

    def problem(self, message: str, *sub: str | int) -> Problem:
        return self.doc.problem(self.loc + tuple(sub), message)

    def origin(self) -> Origin:
        line, col = self.doc.pos(self.loc)
        return Origin(str(self.doc.path), line, col)


class Checker:
    def __init__(self, rules_dir: Path, sources_dir: Path):
        self.rules_dir, self.sources_dir = Path(rules_dir), Path(sources_dir)
        self.problems: list[Problem] = []
        self.items: dict[str, list[Item]] = {}
        self.docs: list[YamlDocument] = []

    def fail_if_problems(self) -> None:
        if self.problems:
            raise RulesetError(self.problems)

    # -- reading --------------------------------------------------------------------------------
    def run(self) -> Ruleset:
        catalogue = self._catalogue()
        files = rule_files(self.rules_dir)
        if not files:
            raise RulesetError([Problem(str(self.rules_dir), 1, 1, "no rule files (*.yaml) in this directory")])
        if len(files) > MAX_FILES:
            raise RulesetError([Problem(str(self.rules_dir), 1, 1, f"more than {MAX_FILES} rule files; merge some")])
        for path in files:
            try:
                doc = load_yaml(path)
            except YamlFileError as exc:
                self.problems.extend(exc.problems)
                continue
            if doc.data is not None:
                self.docs.append(doc)
        self.fail_if_problems()
        if not any(isinstance(doc.data, dict) and "ruleset" in doc.data for doc in self.docs):
            # the root cause first: without it, every ((parameter)) in the other files is 'unknown'
            self._single("ruleset")
            self.fail_if_problems()
        params = collect(self.docs)
        filled = substitute(self.docs, params)
        self.problems.extend(params.problems)
        for doc, data in zip(self.docs, filled):
            try:
                parsed = validate(doc, RuleFile, data)
            except YamlFileError as exc:
                self.problems.extend(exc.problems)
                continue
            for section in (f.name for f in dataclasses.fields(RuleFile)):
                value = getattr(parsed, section)
                if value is None or section == "parameters":
                    continue
                if isinstance(value, list) and section != "precedence":
                    for i, v in enumerate(value):
                        self.items.setdefault(section, []).append(Item(doc, (section, i), v))
                else:
                    self.items.setdefault(section, []).append(Item(doc, (section,), value))
        if catalogue is None:
            self.fail_if_problems()
        self.fail_if_problems()
        assert catalogue is not None
        return self._build(catalogue, params, files)

    def _catalogue(self) -> Catalogue | None:
        try:
            return load_catalogue(self.sources_dir)
        except YamlFileError as exc:
            self.problems.extend(exc.problems)
            return None

    def _single(self, section: str) -> Item | None:
        found = self.items.get(section, [])
        if not found:
            where = str(self.rules_dir / "00-ruleset.yaml")
            self.problems.append(Problem(where, 1, 1,
                                         f"the rule set has no '{section}:' section; add one (exactly one file defines it)"))
            return None
        for extra in found[1:]:
            self.problems.append(extra.problem(f"'{section}:' is defined twice (first at {found[0].origin()}); keep one"))
        return found[0]

    def _unique(self, section: str, key: str) -> dict[str, Item]:
        out: dict[str, Item] = {}
        singular = section[:-1] if section.endswith("s") else section
        for item in self.items.get(section, []):
            ident = getattr(item.value, key)
            if ident in out:
                self.problems.append(item.problem(f"duplicate {singular} id '{ident}' (first at {out[ident].origin()})", key))
                continue
            out[ident] = item
        return out

    # -- building -------------------------------------------------------------------------------
    def _build(self, catalogue: Catalogue, params: Parameters, files: list[Path]) -> Ruleset:
        info_item, prec_item = self._single("ruleset"), self._single("precedence")
        v = _Vocabulary(
            sections=self._unique("sections", "id"), outcomes=self._unique("outcomes", "code"),
            conditions=self._unique("conditions", "code"), categories=self._unique("data_categories", "code"),
            glossary=self._unique("glossary", "id"), questions=self._unique("questions", "fact"),
            derived=self._unique("derived", "id"), rules=self._unique("rules", "id"), checks=self._unique("checks", "id"),
            catalogue=catalogue, params=params)
        for name in v.derived:
            if name in v.rules:
                self.problems.append(v.rules[name].problem(f"id '{name}' is used by a derived fact and a rule; rename one", "id"))
        for pid, declared in params.declared.items():
            self._sources(Item(declared.doc, declared.loc, declared.parameter), declared.parameter.cites, catalogue, "cites")
            if pid in v.questions:
                self.problems.append(declared.doc.problem(declared.loc + ("id",),
                                                          f"parameter id '{pid}' is also a fact id; rename it"))
        if info_item is None or prec_item is None:
            self.fail_if_problems()
        assert info_item is not None and prec_item is not None
        facts = self._facts(v)
        self._ruleset_section(info_item, v, facts)
        self._precedence(prec_item, v)
        derived = self._derived(v, facts)
        self.fail_if_problems()

        def definition(name: str) -> Node:
            return derived[name].when

        rules = self._rules(v, facts, definition)
        ask_when = self._ask_when(v, facts, definition)
        checks = self._checks(v, facts)
        self.fail_if_problems()
        self._normal_forms(v, derived, rules, facts, definition, ask_when)
        self._not_guidance_alone(derived, rules, v)
        self._unused(v, derived, rules, ask_when, checks, params)
        self.fail_if_problems()

        uses: dict[str, list[str]] = {pid: sorted(set(u)) for pid, u in v.param_uses.items()}
        for pid, texts in params.text_uses.items():
            uses.setdefault(pid, []).extend(f"text:{t}" for t in texts)
        info = info_item.value
        return Ruleset(
            info=info, precedence=list(prec_item.value),
            sections={k: i.value.title for k, i in v.sections.items()},
            outcomes={k: i.value for k, i in v.outcomes.items()},
            conditions={k: i.value for k, i in v.conditions.items()},
            data_categories={k: i.value for k, i in v.categories.items()},
            glossary={k: i.value for k, i in v.glossary.items()},
            questions=[i.value for i in v.questions.values()], ask_when=ask_when, derived=derived, rules=rules,
            sources=dict(catalogue.sources), facts=facts,
            fingerprint=fingerprint(self.docs, catalogue, self.rules_dir, self.sources_dir),
            rules_dir=self.rules_dir, sources_dir=self.sources_dir, files=files,
            parameters={pid: d.parameter for pid, d in params.declared.items()}, param_uses=uses, checks=checks,
        )

    def _sources(self, item: Item, ids: list[str], catalogue: Catalogue, *loc: str | int) -> None:
        for i, sid in enumerate(ids):
            if sid not in catalogue:
                self.problems.append(item.problem(f"unknown legal source '{sid}'{suggest(sid, catalogue.sources)}; "
                                                  "add it to legal_bases/catalogue/ or use an existing id", *loc, i))

    def _known(self, item: Item, value: str, known: dict[str, Any], what: str, where: str, *loc: str | int) -> bool:
        if value in known:
            return True
        self.problems.append(item.problem(f"unknown {what} '{value}'{suggest(value, known)}; define it under '{where}:'", *loc))
        return False

    def _facts(self, v: _Vocabulary) -> dict[str, FactSpec]:
        """The questions as facts, plus the advice pseudo-facts that data/condition rules may read."""
        facts: dict[str, FactSpec] = {}
        for fact, item in v.questions.items():
            q: Question = item.value
            if q.type == "bool":
                facts[fact] = FactSpec("bool", (True, False))
            elif q.type == "int":
                low, high = self._bound(item, q.min, "min", v), self._bound(item, q.max, "max", v)
                if low is not None and high is not None and low > high:
                    self.problems.append(item.problem(f"min {low} is above max {high}", "min"))
                facts[fact] = FactSpec("int", (), low if low is not None else 0, high if high is not None else 0)
                if isinstance(q.default, int) and low is not None and high is not None and not low <= q.default <= high:
                    self.problems.append(item.problem(f"default {q.default} is outside {low}–{high}", "default"))
            else:
                for i, opt in enumerate(q.options or []):
                    if isinstance(opt.value, str) and not _well_formed_option(opt.value):
                        self.problems.append(item.problem(f"option value {echo(opt.value)} is not well formed: use lower-case "
                                                          "letters, digits and '_'", "options", i, "value"))
                facts[fact] = FactSpec(q.type, tuple(o.value for o in q.options or []))
            self._known(item, q.section, v.sections, "section", "sections", "section")
            self._sources(item, q.sources, v.catalogue, "sources")
            for i, term in enumerate(q.terms):
                self._known(item, term, v.glossary, "glossary term", "glossary", "terms", i)
            if q.default is not None:
                if not q.default_cites:
                    self.problems.append(item.problem(
                        "a default must name the legal source that supplies it (default_cites: [...]); a fact of the "
                        "case is asked, not assumed", "default"))
                self._sources(item, q.default_cites, v.catalogue, "default_cites")
        total = 0
        for fact, item in v.questions.items():   # the engine carries a case as one fact (engine.compiler)
            total += len(item.value.options or ()) if item.value.type == "set" else 1
            if total > MAX_CASE_PROPERTIES:
                self.problems.append(item.problem(
                    f"the questions up to '{fact}' need {total} engine properties (one per question, one per option of a "
                    f"list question); the engine allows {MAX_CASE_PROPERTIES}: use fewer options or questions", "fact"))
                break
        facts[ADVICE_OUTCOME] = FactSpec("enum", tuple(v.outcomes))
        facts[ADVICE_VERDICT] = FactSpec("enum", VERDICTS)
        return facts

    def _bound(self, item: Item, bound: int | str | None, key: str, v: _Vocabulary) -> int | None:
        if isinstance(bound, str):
            values = v.params.values
            if bound not in values:
                self.problems.append(item.problem(f"'{key}' {echo(bound)} is not a parameter{suggest(bound, values)}", key))
                return None
            v.param_uses.setdefault(bound, []).append(f"question:{item.value.fact}")
            return values[bound]
        return bound

    def _ruleset_section(self, info_item: Item, v: _Vocabulary, facts: dict[str, FactSpec]) -> None:
        info = info_item.value
        for fact_key, want in (("recipient_fact", "enum"), ("data_fact", "set")):
            fact = getattr(info, fact_key)
            if fact not in v.questions or facts[fact].type != want:
                self.problems.append(info_item.problem(f"{fact_key} '{fact}' must be a question of type {want}", fact_key))
        if info.data_fact in v.questions:
            item = v.questions[info.data_fact]
            for i, opt in enumerate(item.value.options or []):
                if opt.value not in v.categories:
                    self.problems.append(item.problem(f"data option '{opt.value}' has no entry under 'data_categories:'",
                                                      "options", i, "value"))
        self._known(info_item, info.fallback.outcome, v.outcomes, "outcome", "outcomes", "fallback", "outcome")
        self._sources(info_item, info.fallback.cites, v.catalogue, "fallback", "cites")
        self._sources(info_item, info.default_withhold_cites, v.catalogue, "default_withhold_cites")
        if "consult_privacy_officer" not in v.conditions:
            self.problems.append(info_item.problem(
                "the conditions vocabulary must define 'consult_privacy_officer' (the engine adds it to cautious advice)"))

    def _precedence(self, prec_item: Item, v: _Vocabulary) -> None:
        seen: set[str] = set()
        for i, code in enumerate(prec_item.value):
            if code not in v.outcomes:
                self.problems.append(prec_item.problem(f"unknown outcome '{code}' in precedence{suggest(code, v.outcomes)}; "
                                                       "define it under 'outcomes:'", i))
            elif code in seen:
                self.problems.append(prec_item.problem(f"outcome '{code}' appears twice in precedence", i))
            seen.add(code)
        for code, item in v.outcomes.items():
            if code not in seen:
                self.problems.append(item.problem(f"outcome '{code}' is missing from 'precedence:'; add it where it ranks",
                                                  "code"))

    def _parse(self, item: Item, v: _Vocabulary, facts: dict[str, FactSpec], key: str, owner: str) -> Node | None:
        parser = ConditionParser(item.doc, facts, set(v.derived), v.params.values)
        node = parser.parse(getattr(item.value, key), item.loc + (key,))
        self.problems.extend(parser.problems)
        for pid in parser.used_params:
            v.param_uses.setdefault(pid, []).append(owner)
        return node

    def _derived(self, v: _Vocabulary, facts: dict[str, FactSpec]) -> dict[str, CompiledRule]:
        compiled: dict[str, CompiledRule] = {}
        for name, item in v.derived.items():
            node = self._parse(item, v, facts, "when", f"derived:{name}")
            self._sources(item, item.value.cites, v.catalogue, "cites")
            if node is None:
                continue
            if facts_of(node) & ADVICE_FACTS:
                self.problems.append(item.problem("derived facts cannot read advice.outcome/advice.verdict", "when"))
            compiled[name] = CompiledRule(name, "derived", node, [], item.origin(), derived=item.value)
        self._cycles(v.derived, compiled)
        return compiled

    def _cycles(self, items: dict[str, Item], compiled: dict[str, CompiledRule]) -> None:
        state: dict[str, int] = {}
        depth: dict[str, int] = {}

        def visit(name: str, path: list[str]) -> int:
            if name not in compiled:
                return 0
            if state.get(name) == 2:
                return depth[name]
            if state.get(name) == 1:
                cycle = " -> ".join([*path[path.index(name):], name])
                self.problems.append(items[name].problem(f"derived facts depend on each other in a circle: {cycle}", "when"))
                return 0
            if len(path) > MAX_DERIVED_DEPTH:
                return 0
            state[name] = 1
            d = 1 + max((visit(dep, [*path, name]) for dep in sorted(derived_of(compiled[name].when))), default=0)
            state[name], depth[name] = 2, d
            if d > MAX_DERIVED_DEPTH:
                self.problems.append(items[name].problem(
                    f"derived facts are built on each other more than {MAX_DERIVED_DEPTH} levels deep here; flatten them",
                    "when"))
            return d

        for name in compiled:
            visit(name, [])

    def _rules(self, v: _Vocabulary, facts: dict[str, FactSpec], definition: Any) -> list[CompiledRule]:
        compiled: list[CompiledRule] = []
        for rid, item in v.rules.items():
            rule: Rule = item.value
            node = self._parse(item, v, facts, "when", f"rule:{rid}")
            self._sources(item, rule.cites, v.catalogue, "cites")
            then = rule.then
            if then.outcome:
                self._known(item, then.outcome, v.outcomes, "outcome", "outcomes", "then", "outcome")
            for key in ("allow", "withhold"):
                for i, cat in enumerate(getattr(then, key)):
                    self._known(item, cat, v.categories, "data category", "data_categories", "then", key, i)
            for i, cond in enumerate(then.conditions):
                self._known(item, cond, v.conditions, "condition", "conditions", "then", "conditions", i)
            if rule.next is not None and then.stage != "route":
                self.problems.append(item.problem("'next' belongs to route rules (the advice's next step)", "next"))
            if node is None:
                continue
            if then.stage == "route" and facts_of(node, definition) & ADVICE_FACTS:
                self.problems.append(item.problem("a route rule decides the outcome, so it cannot read "
                                                  "advice.outcome/advice.verdict", "when"))
            compiled.append(CompiledRule(rid, then.stage, node, [], item.origin(), rule=rule))
        return compiled

    def _ask_when(self, v: _Vocabulary, facts: dict[str, FactSpec], definition: Any) -> dict[str, Node | None]:
        out: dict[str, Node | None] = {}
        order = list(v.questions)
        for idx, (fact, item) in enumerate(v.questions.items()):
            if item.value.ask_when is None:
                out[fact] = None
                continue
            node = self._parse(item, v, facts, "ask_when", f"question:{fact}")
            out[fact] = node
            if node is None:
                continue
            earlier = set(order[:idx])
            for dep in sorted(facts_of(node, definition)):
                if dep in ADVICE_FACTS:
                    self.problems.append(item.problem("ask_when cannot read the advice; questions come before the advice",
                                                      "ask_when"))
                elif dep not in earlier:
                    self.problems.append(item.problem(
                        f"ask_when depends on '{dep}', which is asked later (or never); a question may only depend on "
                        "questions above it",
                        "ask_when"))
        return out

    def _checks(self, v: _Vocabulary, facts: dict[str, FactSpec]) -> list[CompiledCheck]:
        out: list[CompiledCheck] = []
        for cid, item in v.checks.items():
            check: Check = item.value
            node = self._parse(item, v, facts, "when", f"check:{cid}")
            for i, fact in enumerate(check.facts):
                self._known(item, fact, v.questions, "fact", "questions", "facts", i)
            if node is None:
                continue
            if facts_of(node) & ADVICE_FACTS:
                self.problems.append(item.problem("a plausibility check reads answers, not the advice", "when"))
            out.append(CompiledCheck(check, node, item.origin()))
        return out

    # -- normal forms, engine limits, reachability -----------------------------------------------------
    def _normal_forms(self, v: _Vocabulary, derived: dict[str, CompiledRule], rules: list[CompiledRule],
                      facts: dict[str, FactSpec], definition: Any, ask_when: dict[str, Node | None]) -> None:
        too_large: set[str] = set()
        for cr in [*derived.values(), *rules]:
            try:
                cr.conjuncts = dnf(nnf(cr.when))
            except TooManyAlternatives:
                too_large.add(cr.id)
                item = (v.derived if cr.kind == "derived" else v.rules)[cr.id]
                self.problems.append(item.problem(f"condition expands to more than {MAX_CONJUNCTS} alternatives; split the "
                                                  "rule or name parts of it as derived facts", "when"))
        if too_large:
            return
        self._companions(derived, rules, v)
        for cr in [*derived.values(), *rules]:
            item = (v.derived if cr.kind == "derived" else v.rules)[cr.id.lstrip(NEGATED)]
            for conj in cr.conjuncts:
                patterns = len({leaf.fact if isinstance(leaf, Test) else ("derived", leaf.name) for leaf in conj})
                if patterns > MAX_PATTERNS:
                    self.problems.append(item.problem(
                        f"one alternative of this condition reads {patterns} facts; the engine allows {MAX_PATTERNS} — "
                        "move part of it into a derived fact", "when"))
                    break
            if cr.id.startswith(NEGATED):
                continue
            if not can_fire(cr.conjuncts, facts, definition, ask_when):
                self.problems.append(item.problem(
                    "this can never fire: its conditions contradict each other, or need an answer to a question "
                    "that is not asked in that situation (check ask_when of the facts it reads)", "when"))

    def _companions(self, derived: dict[str, CompiledRule], rules: list[CompiledRule], v: _Vocabulary) -> None:
        """For every derived fact used negatively, add '!name': true when it is known false."""
        pending = [leaf.name for cr in [*derived.values(), *rules] for conj in cr.conjuncts for leaf in conj
                   if isinstance(leaf, DerivedRef) and leaf.name.startswith(NEGATED)]
        while pending:
            name = pending.pop()
            if name in derived:
                continue
            base = derived[name[1:]]
            try:
                conjuncts = dnf(nnf(base.when, negate=True))
            except TooManyAlternatives:
                self.problems.append(v.derived[base.id].problem(
                    f"'not' of this derived fact expands to more than {MAX_CONJUNCTS} alternatives; simplify it", "when"))
                continue
            d = base.derived
            assert d is not None
            title = Text(nl=f"Niet: {d.title.nl}", en=f"Not: {d.title.en}")
            companion = Derived(id=d.id, title=title, explain=Text(
                nl=f"Dit geldt hier niet: {d.title.nl.lower()}.", en=f"This does not apply here: {d.title.en.lower()}."),
                when=None, cites=[])
            derived[name] = CompiledRule(name, "derived", Not(base.when), conjuncts, base.origin, derived=companion)
            pending.extend(leaf.name for conj in conjuncts for leaf in conj
                           if isinstance(leaf, DerivedRef) and leaf.name.startswith(NEGATED))

    def _not_guidance_alone(self, derived: dict[str, CompiledRule], rules: list[CompiledRule], v: _Vocabulary) -> None:
        """Every way a route can fire must rest on at least one source that is not guidance,
        counting the sources of the derived facts it builds on."""
        catalogue = v.catalogue

        def sources(name: str, seen: frozenset[str] = frozenset()) -> set[str]:
            if name in seen or name not in derived:
                return set()
            cr = derived[name]
            out = set(cr.cites)
            for conj in cr.conjuncts[:1]:
                for leaf in conj:
                    if isinstance(leaf, DerivedRef):
                        out |= sources(leaf.name, seen | {name})
            return out

        for cr in rules:
            if cr.kind != "route":
                continue
            for conj in cr.conjuncts:
                cited = set(cr.cites).union(*(sources(leaf.name) for leaf in conj if isinstance(leaf, DerivedRef)))
                if all(sid in catalogue and catalogue[sid].kind == "guidance" for sid in cited):
                    self.problems.append(v.rules[cr.id].problem(
                        "a route cannot rest on guidance alone; cite the statute or unwritten-law source it applies", "cites"))
                    break

    def _unused(self, v: _Vocabulary, derived: dict[str, CompiledRule], rules: list[CompiledRule],
                ask_when: dict[str, Node | None], checks: list[CompiledCheck], params: Parameters) -> None:
        used: set[str] = set()
        for cr in [*derived.values(), *rules]:
            used |= derived_of(cr.when)
        for node in [*ask_when.values(), *(c.when for c in checks)]:
            used |= derived_of(node)
        for name, item in v.derived.items():
            if name not in used:
                self.problems.append(item.problem(f"derived fact '{name}' is never used by a rule or question; "
                                                  "remove it or use it", "id"))
        for pid, declared in params.declared.items():
            if pid not in v.param_uses and pid not in params.text_uses:
                self.problems.append(declared.doc.problem(declared.loc + ("id",),
                                                          f"parameter '{pid}' is never used by a condition or text; "
                                                          "remove it or use it"))


def _well_formed_option(value: str) -> bool:
    return bool(value) and value[0].isalnum() and value.isascii() and all(c.islower() or c.isdigit() or c == "_" for c in value)


@dataclass
class _Vocabulary:
    sections: dict[str, Item]
    outcomes: dict[str, Item]
    conditions: dict[str, Item]
    categories: dict[str, Item]
    glossary: dict[str, Item]
    questions: dict[str, Item]
    derived: dict[str, Item]
    rules: dict[str, Item]
    checks: dict[str, Item]
    catalogue: Catalogue
    params: Parameters

    def __post_init__(self) -> None:
        self.param_uses: dict[str, list[str]] = {}
