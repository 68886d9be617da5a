"""Load a rule-set directory and check it thoroughly before anything runs.

Every problem is reported as ``path:line:col: message`` with a hint how to fix it. The
checks go beyond the schema: unknown facts and values, unknown legal sources, undefined or
circular derived facts, outcomes missing from the precedence list, questions that depend
on later questions, rules that can never fire (contradictory conditions, or conditions on
a question that is never asked in that situation), and durable-rules' own limits.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.conditions import (NEGATED, All, AnyOf, ConditionParser, DerivedRef, FactSpec, Node, Not, Test, derived_of,
                               dnf, facts_of, nnf, satisfiable)
from engine.fingerprint import fingerprint
from engine.model import Derived, RuleFile
from legal_bases.catalogue import Text
from engine.ruleset import ADVICE_OUTCOME, ADVICE_VERDICT, VERDICTS, CompiledRule, Origin, Ruleset
from legal_bases.catalogue import DEFAULT_DIR as DEFAULT_SOURCES_DIR
from legal_bases.catalogue import Catalogue, load_catalogue
from legal_bases.yamlfile import Problem, YamlDocument, YamlFileError, load_yaml, validate

DEFAULT_RULES_DIR = Path(__file__).resolve().parent.parent / "rules"
MAX_PATTERNS = 16        # durable-rules MAX_MESSAGE_FRAMES: a rule with more never matches (error 304)
MAX_CONJUNCTS = 256      # one engine rule per conjunct; more means the condition should be split
MAX_REACHABILITY_CONJUNCTS = 4096


class RulesetError(Exception):
    """The rule set cannot be used; ``problems`` says exactly where and why."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(set(problems))
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass
class _Item:
    doc: YamlDocument
    loc: tuple
    value: Any

    def problem(self, message: str, *sub) -> Problem:
        return self.doc.problem(self.loc + tuple(sub), message)

    def origin(self) -> Origin:
        line, col = self.doc.pos(self.loc)
        return Origin(str(self.doc.path), line, col)


def rule_files(rules_dir: Path) -> list[Path]:
    return sorted(p for p in Path(rules_dir).glob("*.yaml") if p.is_file())


def load_ruleset(rules_dir: Path | None = None, sources_dir: Path | None = None) -> Ruleset:
    return _Loader(Path(rules_dir or DEFAULT_RULES_DIR), Path(sources_dir or DEFAULT_SOURCES_DIR)).load()


class _Loader:
    def __init__(self, rules_dir: Path, sources_dir: Path):
        self.rules_dir, self.sources_dir = rules_dir, sources_dir
        self.problems: list[Problem] = []
        self.items: dict[str, list[_Item]] = {}
        self.docs: list[tuple[YamlDocument, RuleFile]] = []

    # -- reading -------------------------------------------------------------------------
    def load(self) -> Ruleset:
        if not self.rules_dir.is_dir():
            raise RulesetError([Problem(str(self.rules_dir), 1, 1, "rule-set directory not found; give an existing directory")])
        catalogue = None
        try:
            catalogue = load_catalogue(self.sources_dir)
        except YamlFileError as exc:
            self.problems.extend(exc.problems)
        files = rule_files(self.rules_dir)
        if not files:
            raise RulesetError([Problem(str(self.rules_dir), 1, 1, "no rule files (*.yaml) in this directory")])
        for path in files:
            try:
                doc = load_yaml(path)
                if doc.data is None:
                    continue
                parsed = validate(doc, RuleFile)
            except YamlFileError as exc:
                self.problems.extend(exc.problems)
                continue
            self.docs.append((doc, parsed))
            for section in RuleFile.model_fields:
                value = getattr(parsed, section)
                if value is None:
                    continue
                if isinstance(value, list) and section != "precedence":
                    for i, v in enumerate(value):
                        self.items.setdefault(section, []).append(_Item(doc, (section, i), v))
                else:
                    self.items.setdefault(section, []).append(_Item(doc, (section,), value))
        if self.problems or catalogue is None:
            raise RulesetError(self.problems)
        ruleset = self._build(catalogue, files)
        if self.problems:
            raise RulesetError(self.problems)
        return ruleset

    def _single(self, section: str) -> _Item | None:
        found = self.items.get(section, [])
        if not found:
            where = str(self.rules_dir / "ruleset.yaml")
            self.problems.append(Problem(where, 1, 1, f"the rule set has no '{section}:' section; add one (exactly one file defines it)"))
            return None
        for extra in found[1:]:
            self.problems.append(extra.problem(f"'{section}:' is defined twice (first at {found[0].origin()}); keep one"))
        return found[0]

    def _unique(self, section: str, key: str) -> dict[str, _Item]:
        out: dict[str, _Item] = {}
        for item in self.items.get(section, []):
            ident = getattr(item.value, key)
            if ident in out:
                item_problem = item.problem(f"duplicate {section[:-1] if section.endswith('s') else section} id '{ident}' "
                                            f"(first at {out[ident].origin()})", key)
                self.problems.append(item_problem)
                continue
            out[ident] = item
        return out

    # -- building and checking -------------------------------------------------------------
    def _build(self, catalogue: Catalogue, files: list[Path]) -> Ruleset:
        info_item, prec_item = self._single("ruleset"), self._single("precedence")
        sections = self._unique("sections", "id")
        outcomes = self._unique("outcomes", "code")
        conditions = self._unique("conditions", "code")
        categories = self._unique("data_categories", "code")
        glossary = self._unique("glossary", "id")
        questions = self._unique("questions", "fact")
        derived_items = self._unique("derived", "id")
        rule_items = self._unique("rules", "id")
        for name in derived_items:
            if name in rule_items:
                self.problems.append(rule_items[name].problem(f"id '{name}' is used by a derived fact and a rule; rename one", "id"))
        if info_item is None or prec_item is None:
            return None  # type: ignore[return-value]
        info = info_item.value

        def need_source(item: _Item, ids: list[str], *loc) -> None:
            for i, sid in enumerate(ids):
                if sid not in catalogue:
                    self.problems.append(item.problem(
                        f"unknown legal source '{sid}'; add it to legal_bases/catalogue/ or use an existing id", *loc, i))

        # facts: the questions plus the advice pseudo-facts that data/condition rules may read
        facts: dict[str, FactSpec] = {}
        for fact, item in questions.items():
            q = item.value
            if q.type == "bool":
                facts[fact] = FactSpec("bool", (True, False))
            elif q.type == "int":
                facts[fact] = FactSpec("int", (), q.min, q.max)
            else:
                facts[fact] = FactSpec(q.type, tuple(o.value for o in q.options))
            if q.section not in sections:
                self.problems.append(item.problem(f"unknown section '{q.section}'; define it under 'sections:'", "section"))
            need_source(item, q.sources, "sources")
            for i, term in enumerate(q.terms):
                if term not in glossary:
                    self.problems.append(item.problem(f"unknown glossary term '{term}'; define it under 'glossary:'", "terms", i))
        facts[ADVICE_OUTCOME] = FactSpec("enum", tuple(outcomes))
        facts[ADVICE_VERDICT] = FactSpec("enum", VERDICTS)

        # the ruleset section
        for fact_key, want in (("recipient_fact", ("enum",)), ("data_fact", ("set",))):
            fact = getattr(info, fact_key)
            if fact not in questions or facts[fact].type not in want:
                self.problems.append(info_item.problem(f"{fact_key} '{fact}' must be a question of type {want[0]}", fact_key))
        if info.data_fact in questions:
            for i, opt in enumerate(questions[info.data_fact].value.options or []):
                if opt.value not in categories:
                    self.problems.append(questions[info.data_fact].problem(
                        f"data option '{opt.value}' has no entry under 'data_categories:'", "options", i, "value"))
        if info.fallback.outcome not in outcomes:
            self.problems.append(info_item.problem(f"unknown outcome '{info.fallback.outcome}'", "fallback", "outcome"))
        need_source(info_item, info.fallback.cites, "fallback", "cites")
        need_source(info_item, info.default_withhold_cites, "default_withhold_cites")

        if "consult_privacy_officer" not in conditions:
            self.problems.append(info_item.problem(
                "the conditions vocabulary must define 'consult_privacy_officer' (the engine adds it to cautious advice)"))

        # precedence: every outcome exactly once
        seen: set[str] = set()
        for i, code in enumerate(prec_item.value):
            if code not in outcomes:
                self.problems.append(prec_item.problem(f"unknown outcome '{code}' in precedence; define it under 'outcomes:'", i))
            elif code in seen:
                self.problems.append(prec_item.problem(f"outcome '{code}' appears twice in precedence", i))
            seen.add(code)
        for code, item in outcomes.items():
            if code not in seen:
                self.problems.append(item.problem(f"outcome '{code}' is missing from 'precedence:'; add it where it ranks", "code"))

        # derived facts and rules: parse conditions
        derived_names = set(derived_items)
        compiled_derived: dict[str, CompiledRule] = {}
        for name, item in derived_items.items():
            node = self._parse(item, facts, derived_names, "when")
            need_source(item, item.value.cites, "cites")
            if node is not None:
                if facts_of(node) & {ADVICE_OUTCOME, ADVICE_VERDICT}:
                    self.problems.append(item.problem("derived facts cannot read advice.outcome/advice.verdict", "when"))
                compiled_derived[name] = CompiledRule(name, "derived", node, [], item.origin(), derived=item.value)
        self._check_cycles(derived_items, compiled_derived)
        if self.problems:
            return None  # type: ignore[return-value]

        def definition(name: str) -> Node:
            return compiled_derived[name].when

        compiled_rules: list[CompiledRule] = []
        for rid, item in rule_items.items():
            rule = item.value
            node = self._parse(item, facts, derived_names, "when")
            need_source(item, rule.cites, "cites")
            then = rule.then
            if then.outcome and then.outcome not in outcomes:
                self.problems.append(item.problem(f"unknown outcome '{then.outcome}'", "then", "outcome"))
            for key in ("allow", "withhold"):
                for i, cat in enumerate(getattr(then, key)):
                    if cat not in categories:
                        self.problems.append(item.problem(f"unknown data category '{cat}'", "then", key, i))
            for i, cond in enumerate(then.conditions):
                if cond not in conditions:
                    self.problems.append(item.problem(f"unknown condition '{cond}'; define it under 'conditions:'", "then", "conditions", i))
            if node is None:
                continue
            if then.stage == "route":
                if facts_of(node, definition) & {ADVICE_OUTCOME, ADVICE_VERDICT}:
                    self.problems.append(item.problem("a route rule decides the outcome, so it cannot read advice.outcome/advice.verdict", "when"))
            compiled_rules.append(CompiledRule(rid, then.stage, node, [], item.origin(), rule=rule))

        # ask_when: parse, and only depend on questions above
        ask_when: dict[str, Node | None] = {}
        order = list(questions)
        for idx, (fact, item) in enumerate(questions.items()):
            if item.value.ask_when is None:
                ask_when[fact] = None
                continue
            node = self._parse(item, facts, derived_names, "ask_when")
            ask_when[fact] = node
            if node is None:
                continue
            earlier = set(order[:idx])
            for dep in sorted(facts_of(node, definition)):
                if dep in (ADVICE_OUTCOME, ADVICE_VERDICT):
                    self.problems.append(item.problem("ask_when cannot read the advice; questions come before the advice", "ask_when"))
                elif dep not in earlier:
                    self.problems.append(item.problem(
                        f"ask_when depends on '{dep}', which is asked later (or never); a question may only depend on questions above it",
                        "ask_when"))
        if self.problems:
            return None  # type: ignore[return-value]

        # normal forms, engine limits and reachability
        for cr in list(compiled_derived.values()) + compiled_rules:
            cr.conjuncts = dnf(nnf(cr.when))
        self._add_companions(compiled_derived, compiled_rules)
        for cr in list(compiled_derived.values()) + compiled_rules:
            unknown = {leaf.name for conj in cr.conjuncts for leaf in conj
                       if isinstance(leaf, DerivedRef) and leaf.name not in compiled_derived}
            if unknown:  # cannot happen for a parsed rule set; guards the compiler itself
                raise RulesetError([Problem(str(cr.origin.path), cr.origin.line, cr.origin.col,
                                            f"internal: no definition for derived fact(s) {sorted(unknown)}")])
        for cr in list(compiled_derived.values()) + compiled_rules:
            item = (derived_items if cr.kind == "derived" else rule_items)[cr.id.lstrip(NEGATED)]
            if len(cr.conjuncts) > MAX_CONJUNCTS:
                self.problems.append(item.problem(
                    f"condition expands to {len(cr.conjuncts)} alternatives (limit {MAX_CONJUNCTS}); split the rule or use derived facts", "when"))
                continue
            for conj in cr.conjuncts:
                patterns = len({leaf.fact if isinstance(leaf, Test) else ("derived", leaf.name) for leaf in conj})
                if patterns > MAX_PATTERNS:
                    self.problems.append(item.problem(
                        f"one alternative of this condition reads {patterns} facts; the engine allows {MAX_PATTERNS} — "
                        "move part of it into a derived fact", "when"))
                    break
            if cr.id.startswith(NEGATED):
                continue
            if not self._can_fire(cr, facts, definition, ask_when):
                self.problems.append(item.problem(
                    "this can never fire: its conditions contradict each other, or need an answer to a question "
                    "that is not asked in that situation (check ask_when of the facts it reads)", "when"))
        self._check_not_guidance_alone(compiled_derived, compiled_rules, rule_items, catalogue)
        used_derived: set[str] = set()
        for cr in list(compiled_derived.values()) + compiled_rules:
            used_derived |= derived_of(cr.when)
        for node in ask_when.values():
            used_derived |= derived_of(node)
        for name, item in derived_items.items():
            if name not in used_derived:
                self.problems.append(item.problem(f"derived fact '{name}' is never used by a rule or question; remove it or use it", "id"))
        if self.problems:
            return None  # type: ignore[return-value]

        q_list = [questions[f].value for f in order]
        return Ruleset(
            info=info, precedence=list(prec_item.value),
            sections={k: v.value.title for k, v in sections.items()},
            outcomes={k: v.value for k, v in outcomes.items()},
            conditions={k: v.value for k, v in conditions.items()},
            data_categories={k: v.value for k, v in categories.items()},
            glossary={k: v.value for k, v in glossary.items()},
            questions=q_list, ask_when=ask_when, derived=compiled_derived, rules=compiled_rules,
            sources=dict(catalogue.sources), facts=facts,
            fingerprint=fingerprint([d for d, _ in self.docs], catalogue, self.rules_dir, self.sources_dir),
            rules_dir=self.rules_dir, sources_dir=self.sources_dir, files=files,
        )

    def _check_not_guidance_alone(self, derived, rules, items, catalogue) -> None:
        """Every way a route can fire must rest on at least one source that is not guidance,
        counting the sources of the derived facts it builds on."""
        def sources(name: str, seen: frozenset = frozenset()) -> set[str]:
            if name in seen or name not in derived:
                return set()
            cr = derived[name]
            out = set(cr.cites)
            for conj in cr.conjuncts[:1]:  # the derived fact's own sources plus those it needs first
                for leaf in conj:
                    if isinstance(leaf, DerivedRef):
                        out |= sources(leaf.name, seen | {name})
            return out

        for cr in rules:
            if cr.kind != "route":
                continue
            for conj in cr.conjuncts:
                cited = set(cr.cites).union(*(sources(l.name) for l in conj if isinstance(l, DerivedRef)))
                if all(sid in catalogue and catalogue[sid].kind == "guidance" for sid in cited):
                    self.problems.append(items[cr.id].problem(
                        "a route cannot rest on guidance alone; cite the statute or unwritten-law source it applies", "cites"))
                    break

    def _add_companions(self, compiled: dict[str, CompiledRule], rules: list[CompiledRule]) -> None:
        """For every derived fact used negatively, add '!name': true when it is known false."""
        pending = [leaf.name for cr in list(compiled.values()) + rules for conj in cr.conjuncts for leaf in conj
                   if isinstance(leaf, DerivedRef) and leaf.name.startswith(NEGATED)]
        while pending:
            name = pending.pop()
            if name in compiled:
                continue
            base = compiled[name[1:]]
            conjuncts = dnf(nnf(base.when, negate=True))
            d = base.derived
            title = Text(nl=f"Niet: {d.title.nl}", en=f"Not: {d.title.en}")
            companion = Derived(id=d.id, title=title, explain=Text(
                nl=f"Dit geldt hier niet: {d.title.nl.lower()}.", en=f"This does not apply here: {d.title.en.lower()}."),
                when=None, cites=[])
            compiled[name] = CompiledRule(name, "derived", Not(base.when), conjuncts, base.origin, derived=companion)
            pending.extend(leaf.name for conj in conjuncts for leaf in conj
                           if isinstance(leaf, DerivedRef) and leaf.name.startswith(NEGATED))

    def _parse(self, item: _Item, facts, derived, key: str) -> Node | None:
        parser = ConditionParser(item.doc, facts, derived)
        node = parser.parse(getattr(item.value, key), item.loc + (key,))
        self.problems.extend(parser.problems)
        return node

    def _check_cycles(self, items: dict[str, _Item], compiled: dict[str, CompiledRule]) -> None:
        state: dict[str, int] = {}

        def visit(name: str, path: list[str]) -> None:
            if state.get(name) == 2 or name not in compiled:
                return
            if state.get(name) == 1:
                cycle = " -> ".join(path[path.index(name):] + [name])
                self.problems.append(items[name].problem(f"derived facts depend on each other in a circle: {cycle}", "when"))
                return
            state[name] = 1
            for dep in sorted(derived_of(compiled[name].when)):
                visit(dep, path + [name])
            state[name] = 2

        for name in compiled:
            visit(name, [])

    def _can_fire(self, cr: CompiledRule, facts, definition, ask_when) -> bool:
        """Some answers make the rule fire *and* every fact it reads is asked under them.

        A depth-first search over alternatives: take a satisfiable conjunct, pick a fact it
        reads whose question has an ask_when not yet included, branch over the alternatives
        of that ask_when, and so on until every fact read is accounted for."""
        def expand(node: Node) -> Node:
            if isinstance(node, DerivedRef):
                if node.name.startswith(NEGATED):
                    return Not(expand(definition(node.name[1:])))
                return expand(definition(node.name))
            if isinstance(node, Test):
                return node
            if isinstance(node, Not):
                return Not(expand(node.item))
            return type(node)(tuple(expand(i) for i in node.items))

        budget = [20000]

        def alternatives(node: Node) -> list:
            try:
                return _bounded_dnf(nnf(expand(node)))
            except _TooLarge:
                return None  # type: ignore[return-value]

        def search(conj: tuple, included: frozenset) -> bool:
            budget[0] -= 1
            if budget[0] < 0:
                raise _TooLarge
            if not satisfiable(conj, facts):
                return False
            pending = sorted({leaf.fact for leaf in conj if isinstance(leaf, Test)} - included)
            pending = [f for f in pending if ask_when.get(f) is not None]
            if not pending:
                return True
            fact = pending[0]
            alts = alternatives(ask_when[fact])
            if alts is None:
                raise _TooLarge
            return any(search(conj + alt, included | {fact}) for alt in alts)

        try:
            for conj in cr.conjuncts:
                alts = alternatives(All(conj))
                if alts is None:
                    raise _TooLarge
                for alt in alts:
                    if search(alt, frozenset()):
                        return True
        except _TooLarge:
            return True  # too large to decide cheaply; the scenario coverage report will show it
        return False


class _TooLarge(Exception):
    pass


def _bounded_dnf(node: Node) -> list:
    if isinstance(node, (Test, DerivedRef)):
        return [(node,)]
    if isinstance(node, AnyOf):
        out = []
        for item in node.items:
            out.extend(_bounded_dnf(item))
            if len(out) > MAX_REACHABILITY_CONJUNCTS:
                raise _TooLarge
        return out
    result = [()]
    for item in node.items:
        result = [a + b for a in result for b in _bounded_dnf(item)]
        if len(result) > MAX_REACHABILITY_CONJUNCTS:
            raise _TooLarge
    return result
