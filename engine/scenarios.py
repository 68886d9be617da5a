"""Scenario tests that live beside the rules (``rules/tests/*.yaml``), rule coverage, and the
boundary scenarios generated from the rule set's parameters.

A scenario is a small story with the answers and what the advice must be::

    scenarios:
      - id: vt-minor-structural
        description: A 15-year-old ... (the story)
        answers: {share.recipient: veilig_thuis, client.age: 15, ...}
        expect:
          outcome: MELD_VEILIG_THUIS
          verdict: share
          cites: [wmo-5.2.6]              # must be among the advice's legal sources
          not_cites: [avg-6-1-a]          # must not be
          conditions: [inform_client_first]
          not_conditions: [consult_privacy_officer]
          allowed: [identity, signals]    # exactly these categories may go
          withheld: [suspect_info]        # exactly these are withheld
          warnings: [check.young-for-exploitation]   # exactly these plausibility checks hold
          complete: false                 # for incomplete cases, with
          missing: [client.age]           #   exactly these facts still needed

Every scenario is checked on its own: one that is malformed, names an unknown outcome or
source in ``expect``, or gives an answer outside the vocabulary fails with a positioned
message, and the others still run.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.answers import parse_answers
from engine.conditions import Test
from engine.decide import Decision, decide
from engine.errors import AnswerError
from engine.ruleset import VERDICTS, Ruleset
from legal_bases.yamlfile import Problem, YamlDocument, YamlFileError, load_yaml, suggest, validate


@dataclass(frozen=True)
class Expect:
    complete: bool = True
    missing: list[str] | None = None
    outcome: str | None = None
    verdict: str | None = None
    cites: list[str] = field(default_factory=list)
    not_cites: list[str] = field(default_factory=list)
    conditions: list[str] = field(default_factory=list)
    not_conditions: list[str] = field(default_factory=list)
    allowed: list[str] | None = None
    withheld: list[str] | None = None
    warnings: list[str] | None = None


@dataclass(frozen=True)
class Scenario:
    id: str = field(metadata={"min_length": 1})
    description: str = field(metadata={"min_length": 10})
    answers: dict[str, Any] = field(default_factory=dict)
    expect: Expect = field(default_factory=Expect)
    on: dt.date | None = None


@dataclass
class Result:
    scenario_id: str
    where: str
    failures: list[str]
    scenario: Scenario | None = None

    @property
    def ok(self) -> bool:
        return not self.failures


@dataclass
class Report:
    results: list[Result] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)   # files that could not be read at all
    fired_rules: set[str] = field(default_factory=set)
    cited_sources: set[str] = field(default_factory=set)
    outcomes: set[str] = field(default_factory=set)

    @property
    def ok(self) -> bool:
        return not self.problems and all(r.ok for r in self.results)

    def uncovered(self, rs: Ruleset) -> dict[str, list[str]]:
        rules = [r.id for r in rs.all_rules() if not r.id.startswith("!") and r.id not in self.fired_rules]
        cited = {s for r in rs.all_rules() for s in r.cites} | set(rs.info.fallback.cites) | set(rs.info.default_withhold_cites)
        return {
            "rules": rules,
            "sources": sorted(cited - self.cited_sources),
            "outcomes": [o for o in rs.precedence if o not in self.outcomes],
        }


def scenario_files(rules_dir: Path) -> list[Path]:
    return sorted((Path(rules_dir) / "tests").glob("*.yaml"))


def _static(rs: Ruleset, e: Expect, doc: YamlDocument, loc: tuple[str | int, ...]) -> list[str]:
    """Codes in ``expect`` that the rule set does not know (a typo would make the test vacuous)."""
    out: list[str] = []

    def need(key: str, values: list[str], known: Any, what: str) -> None:
        for i, value in enumerate(values):
            if value not in known:
                line, col = doc.pos(loc + ("expect", key, i))
                out.append(f"line {line}: expect.{key}: unknown {what} '{value}'{suggest(value, known)}")

    if e.outcome is not None:
        need("outcome", [e.outcome], rs.outcomes, "outcome")
    if e.verdict is not None:
        need("verdict", [e.verdict], VERDICTS, "verdict")
    need("cites", e.cites, rs.sources, "legal source")
    need("not_cites", e.not_cites, rs.sources, "legal source")
    need("conditions", e.conditions, rs.conditions, "condition")
    need("not_conditions", e.not_conditions, rs.conditions, "condition")
    need("allowed", e.allowed or [], rs.data_categories, "data category")
    need("withheld", e.withheld or [], rs.data_categories, "data category")
    need("missing", e.missing or [], rs.facts, "fact")
    need("warnings", e.warnings or [], {c.check.id for c in rs.checks}, "plausibility check")
    return out


def compare(d: Decision, e: Expect) -> list[str]:
    """What of ``e`` the decision does not meet."""
    fails = []
    if d.complete != e.complete:
        fails.append(f"expected complete={e.complete}, got complete={d.complete} (missing: {', '.join(d.missing) or 'none'})")
    if e.missing is not None and d.missing != e.missing:
        fails.append(f"expected missing {e.missing}, got {d.missing}")
    warnings = sorted(w.check for w in d.warnings)
    if e.warnings is not None and warnings != sorted(e.warnings):
        fails.append(f"expected plausibility warnings {sorted(e.warnings)}, got {warnings}")
    a = d.advice
    if a is None:
        if any(v for v in (e.outcome, e.verdict, e.cites, e.conditions, e.allowed, e.withheld)):
            fails.append("expected an advice, but the case is incomplete")
        return fails
    if e.outcome and a.outcome != e.outcome:
        fails.append(f"expected outcome {e.outcome}, got {a.outcome}")
    if e.verdict and a.verdict != e.verdict:
        fails.append(f"expected verdict {e.verdict}, got {a.verdict}")
    for s in e.cites:
        if s not in a.legal_bases:
            fails.append(f"expected source {s} to be cited; cited: {', '.join(a.legal_bases)}")
    for s in e.not_cites:
        if s in a.legal_bases:
            fails.append(f"source {s} must not be cited")
    for c in e.conditions:
        if c not in a.conditions:
            fails.append(f"expected condition {c}; got: {', '.join(a.conditions) or 'none'}")
    for c in e.not_conditions:
        if c in a.conditions:
            fails.append(f"condition {c} must not be present")
    if e.allowed is not None and sorted(a.allowed) != sorted(e.allowed):
        fails.append(f"expected allowed {sorted(e.allowed)}, got {sorted(a.allowed)}")
    withheld = sorted(w.category for w in a.withheld)
    if e.withheld is not None and withheld != sorted(e.withheld):
        fails.append(f"expected withheld {sorted(e.withheld)}, got {withheld}")
    return fails


def run_scenarios(rs: Ruleset, tests_dir: Path | None = None) -> Report:
    report = Report()
    files = sorted(Path(tests_dir).glob("*.yaml")) if tests_dir else scenario_files(rs.rules_dir)
    if not files:
        report.problems.append(Problem(str(tests_dir or Path(rs.rules_dir) / "tests"), 1, 1,
                                       "no scenario files (*.yaml) found; add scenarios beside the rules"))
    seen: dict[str, str] = {}
    for path in files:
        try:
            doc = load_yaml(path)
        except YamlFileError as exc:
            report.problems.extend(exc.problems)
            continue
        data = doc.data
        if not isinstance(data, dict) or set(data) != {"scenarios"} or not isinstance(data["scenarios"], list):
            report.problems.append(doc.problem((), "a scenario file holds one key, 'scenarios:', with a list of scenarios"))
            continue
        for i, raw in enumerate(data["scenarios"]):
            _run_one(rs, doc, i, raw, seen, report)
    return report


def _run_one(rs: Ruleset, doc: YamlDocument, i: int, raw: Any, seen: dict[str, str], report: Report) -> None:
    loc: tuple[str | int, ...] = ("scenarios", i)
    line, col = doc.pos(loc)
    where = f"{doc.path}:{line}:{col}"
    sid = str(raw.get("id")) if isinstance(raw, dict) and raw.get("id") else f"scenario #{i + 1}"
    if isinstance(raw, dict) and not {"answers", "expect"} <= set(raw):
        missing = sorted({"answers", "expect"} - set(raw))
        report.results.append(Result(sid, where, [f"{where}: missing required key '{missing[0]}'"]))
        return
    try:
        sc = validate(doc, Scenario, raw, loc)
    except YamlFileError as exc:
        report.results.append(Result(sid, where, [str(p) for p in exc.problems]))
        return
    if sc.id in seen:
        report.results.append(Result(sc.id, where, [f"duplicate scenario id '{sc.id}' (first at {seen[sc.id]})"], sc))
        return
    seen[sc.id] = where
    fails = _static(rs, sc.expect, doc, loc)
    if fails:
        report.results.append(Result(sc.id, where, fails, sc))
        return
    try:
        answers = parse_answers(rs, sc.answers, doc=doc, loc=(*loc, "answers"))
    except AnswerError as exc:
        report.results.append(Result(sc.id, where, [f"bad answer: {exc}"], sc))
        return
    d = decide(rs, answers, on=sc.on)
    report.results.append(Result(sc.id, where, compare(d, sc.expect), sc))
    if d.advice is not None:
        report.fired_rules.update(k.rpartition("#")[0] for k in d.advice.fired)
        if any(s.rule == "fallback" for s in d.advice.explanation):
            report.fired_rules.add("fallback")
        report.cited_sources.update(d.advice.legal_bases)
        report.outcomes.add(d.advice.outcome)


# --- boundary scenarios from parameters -------------------------------------------------------------

@dataclass
class Boundary:
    parameter: str
    value: int
    fact: str
    rule: str
    test: str                 # e.g. "client.age < 16 (age.self_consent)"
    base: str                 # the scenario whose answers were used
    below: Decision           # answer t-1
    at: Decision              # answer t
    failures: list[str]

    @property
    def ok(self) -> bool:
        return not self.failures


def boundaries(rs: Ruleset, report: Report) -> list[Boundary]:
    """For each parameter and each rule that tests a fact against it: take a scenario that
    fired that rule, answer the fact with t-1 and with t, and decide both. The test on the
    parameter must hold on exactly one side (the rule reads the boundary where the parameter
    says it lies), and both sides must give a complete advice."""
    out: list[Boundary] = []
    scenarios = [r.scenario for r in report.results if r.ok and r.scenario is not None]
    decided: dict[str, tuple[dict[str, Any], Decision]] = {}
    for sc in scenarios:
        try:
            answers = parse_answers(rs, sc.answers)
        except AnswerError:
            continue
        decided[sc.id] = (answers, decide(rs, answers, on=sc.on))
    for cr in rs.all_rules():
        tests = {leaf for conj in cr.conjuncts for leaf in conj if isinstance(leaf, Test) and leaf.param}
        for test in sorted(tests, key=lambda t: (t.param or "", t.fact, t.op)):
            assert test.param is not None
            t = rs.parameters[test.param].value
            base = next(((sid, a, d) for sid, (a, d) in decided.items() if d.advice is not None and test.fact in a
                         and any(k.rpartition("#")[0] == cr.id for k in d.advice.fired)), None)
            if base is None:
                base = next(((sid, a, d) for sid, (a, d) in decided.items() if test.fact in a and d.advice is not None), None)
            if base is None:
                continue
            sid, answers, _ = base
            spec = rs.facts[test.fact]
            assert spec.min is not None and spec.max is not None
            if not (spec.min <= t - 1 and t <= spec.max):
                continue
            below = decide(rs, {**answers, test.fact: t - 1})
            at = decide(rs, {**answers, test.fact: t})
            fails = []
            if test.holds(t - 1) == test.holds(t):
                fails.append(f"{test.describe()} gives the same result at {t - 1} and {t}: the boundary is not where "
                             f"parameter {test.param} puts it")
            out.append(Boundary(test.param, t, test.fact, cr.id, test.describe(), sid, below, at, fails))
    return out
