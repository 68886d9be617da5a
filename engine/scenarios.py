"""Scenario tests that live beside the rules (``rules/tests/*.yaml``), and rule coverage.

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
          complete: false                 # for incomplete cases, with
          missing: [client.age]           #   exactly these facts still needed
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import Field

from engine.answers import AnswerError, parse_answers
from engine.decide import decide
from engine.model import Strict
from engine.ruleset import Ruleset
from legal_bases.yamlfile import Problem, YamlFileError, load_yaml, validate


class Expect(Strict):
    complete: bool = True
    missing: list[str] | None = None
    outcome: str | None = None
    verdict: str | None = None
    cites: list[str] = Field(default_factory=list)
    not_cites: list[str] = Field(default_factory=list)
    conditions: list[str] = Field(default_factory=list)
    not_conditions: list[str] = Field(default_factory=list)
    allowed: list[str] | None = None
    withheld: list[str] | None = None


class Scenario(Strict):
    id: str
    description: str = Field(min_length=10)
    answers: dict[str, Any]
    expect: Expect
    on: dt.date | None = None


class ScenarioFile(Strict):
    scenarios: list[Scenario]


@dataclass
class Result:
    scenario: Scenario
    where: str
    failures: list[str]

    @property
    def ok(self) -> bool:
        return not self.failures


@dataclass
class Report:
    results: list[Result] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)   # files that could not be read
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


def _check(rs: Ruleset, sc: Scenario) -> tuple[list[str], Any]:
    try:
        answers = parse_answers(rs, sc.answers)
    except AnswerError as exc:
        return [f"bad answer: {exc}"], None
    d = decide(rs, answers, on=sc.on)
    e, fails = sc.expect, []
    if d.complete != e.complete:
        fails.append(f"expected complete={e.complete}, got complete={d.complete} (missing: {', '.join(d.missing) or 'none'})")
    if e.missing is not None and d.missing != e.missing:
        fails.append(f"expected missing {e.missing}, got {d.missing}")
    a = d.advice
    if a is None:
        if any(v for v in (e.outcome, e.verdict, e.cites, e.conditions, e.allowed, e.withheld)):
            fails.append("expected an advice, but the case is incomplete")
        return fails, d
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
    return fails, d


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
            parsed = validate(doc, ScenarioFile)
        except YamlFileError as exc:
            report.problems.extend(exc.problems)
            continue
        for i, sc in enumerate(parsed.scenarios):
            line, col = doc.pos(("scenarios", i))
            where = f"{path}:{line}:{col}"
            if sc.id in seen:
                report.problems.append(Problem(str(path), line, col, f"duplicate scenario id '{sc.id}' (first at {seen[sc.id]})"))
                continue
            seen[sc.id] = where
            fails, d = _check(rs, sc)
            report.results.append(Result(sc, where, fails))
            if d is not None and d.advice is not None:
                report.fired_rules.update(k.rpartition("#")[0] for k in d.advice.fired)
                if any(s.rule == "fallback" for s in d.advice.explanation):
                    report.fired_rules.add("fallback")
                report.cited_sources.update(d.advice.legal_bases)
                report.outcomes.add(d.advice.outcome)
    return report
