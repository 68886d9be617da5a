"""The checker (`deelwijzer rules check`): the bundled rule set passes, and the mistakes a
privacy officer makes are reported as ``path:line:col: message`` at the line of the mistake,
naming the bad value, a close match ("did you mean ...?") and what to do.

The mistakes are made in batches on one copy each: the checker lists every problem of a
phase at once (the YAML and schema of every file, then the vocabulary and derived facts, then
the rules, questions and checks, then normal forms, reachability and unused definitions), so
each batch is one load and every edit in it must be reported at its own line. Parameters
(declared once, used by conditions and texts, boundary scenarios t-1/t) are tested at the end.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from engine_helpers import PROBLEM, ROOT, assert_clean, cli_env, complete_interview, copy_workspace, edit, line_of, run_cli

from engine import RulesetError, decide, load_ruleset
from engine.conditions import Test as Leaf
from legal_bases.catalogue import Text

# (file, old text, new text, fragments the message must contain, lines from the edit to the problem)
Edit = tuple[str, str, str, tuple[str, ...], int]

SCHEMA: list[Edit] = [
    (
        "00-ruleset.yaml",
        "    value: 12\n",
        "    value: 12\n    valid_to: 2010-01-01\n",
        ("valid_to must be after valid_from",),
        1,
    ),
    (
        "10-questions.yaml",
        "    ask_when: {derived: emergency_possible}\n",
        "    ask_when: {derived: emergency_possible}\n    default_cites: [avg-13]\n",
        ("'default_cites' belongs with a 'default'",),
        1,
    ),
    (
        "20-derived.yaml",
        "    title: {nl: Jonger dan ((age.majority)), en: Under ((age.majority))}\n",
        "",
        ("missing required key 'title'",),
        -1,
    ),
    (
        "30-routes.yaml",
        "    then: {outcome: SHARE_RVDK_MELDRECHT}\n",
        "    then: {outcome: SHARE_RVDK_MELDRECHT}\n    notes: extra\n",
        ("unknown key 'notes'", "did you mean 'note'?", "remove it or check its spelling"),
        1,
    ),
    (
        "40-data.yaml",
        "then: {allow: [identity, contact, signals]}",
        "then: {allow: [identity], outcome: DO_NOT_SHARE}",
        ("a rule concludes one thing", "outcome and allow", "split it into separate rules"),
        0,
    ),
    (
        "50-conditions.yaml",
        "((age.self_consent))",
        "((age.self_consnt))",
        ("unknown parameter '((age.self_consnt))'", "did you mean 'age.self_consent'?", "declare it under 'parameters:'"),
        0,
    ),
    (
        "60-checks.yaml",
        "  - id: check.very-young-for-exploitation\n",
        "  - id: Check.Very-Young\n",
        ("check id 'Check.Very-Young' is not well formed", "write it like"),
        0,
    ),
]

VOCABULARY: list[Edit] = [
    ("00-ruleset.yaml", "  - SEEK_CONSENT_FIRST\n", "", (), 0),  # reported at the outcome, see below
    (
        "10-questions.yaml",
        "    default: false\n    default_cites: [avg-13, avg-14, uavg-41]\n",
        "    default: false\n",
        ("a default must name the legal source that supplies it (default_cites: [...])",),
        0,
    ),
    (
        "10-questions.yaml",
        "    section: danger\n",
        "    section: dangr\n",
        ("unknown section 'dangr'", "did you mean 'danger'?"),
        0,
    ),
    (
        "10-questions.yaml",
        "    terms: [gezag]\n",
        "    terms: [gezagg]\n",
        ("unknown glossary term 'gezagg'", "did you mean 'gezag'?"),
        0,
    ),
    (
        "10-questions.yaml",
        "    sources: [avg-5-1-b]\n",
        "    sources: [avg-5-1-bb]\n",
        ("unknown legal source 'avg-5-1-bb'", "did you mean 'avg-5-1-b'?", "add it to legal_bases/catalogue/"),
        0,
    ),
    (
        "20-derived.yaml",
        "[{share.recipient: parent}, {share.recipient_suspected: true}]",
        "[{share.recipient: parent}, {share.recipient_suspectd: true}]",
        ("unknown fact or keyword 'share.recipient_suspectd'", "did you mean 'share.recipient_suspected'?"),
        0,
    ),
    (
        "20-derived.yaml",
        "{derived: minor}, {client.age: {at_least: age.with_parents}}",
        "{derived: minor}, {client.age: {at_least: age.with_parent}}",
        ("'age.with_parent' is not a number or a parameter", "did you mean 'age.with_parents'?"),
        0,
    ),
    (
        "20-derived.yaml",
        "    when: [{derived: minor}, {client.age: {below: age.self_consent}}]\n",
        "    when: [{derived: minor}, {client.age: {below: 99}}]\n",
        ("99 is outside the range of client.age (0–22)",),
        0,
    ),
    (
        "20-derived.yaml",
        "    when: [{derived: minor}, {client.age: {at_least: age.self_consent}}]\n",
        "    when: [{derived: minor}, {client.age: {at_leest: age.self_consent}}]\n",
        ("unknown operator 'at_leest'", "did you mean 'at_least'?"),
        0,
    ),
    (
        "20-derived.yaml",
        "    when: {concern.exploitation: {includes_any: [sexual, criminal, labour, other]}}\n",
        "    when: {concern.exploitation: sexual}\n",
        ("is a list of values; test it with includes",),
        0,
    ),
    (
        "20-derived.yaml",
        "    when: {professional.role: big_hulpverlener}\n",
        "    when: {professional.role: big_hulpverlenr}\n",
        ("'big_hulpverlenr' is not a value of professional.role", "did you mean 'big_hulpverlener'?"),
        0,
    ),
    (
        "20-derived.yaml",
        "    when: [{share.recipient: veilig_thuis}, {share.purpose: advice}]\n",
        "    when: " + "{not: " * 14 + "{share.purpose: advice}" + "}" * 14 + "\n",
        ("nests all/any/not more than 12 levels deep", "name a part of it as a derived fact"),
        0,
    ),
    (
        "20-derived.yaml",
        "    when: {client.age: {below: age.majority}}\n",
        "    when: [{client.age: {below: age.majority}}, {not: {derived: under_12}}]\n",
        ("derived facts depend on each other in a circle",),
        0,
    ),
]

RULES: list[Edit] = [
    (
        "30-routes.yaml",
        "then: {outcome: SHARE_RVDK_MELDRECHT}",
        "then: {outcome: SHARE_RVDK_MELDRECH}",
        ("unknown outcome 'SHARE_RVDK_MELDRECH'", "did you mean 'SHARE_RVDK_MELDRECHT'?", "define it under 'outcomes:'"),
        0,
    ),
    (
        "30-routes.yaml",
        "    cites: [wmo-5.2.6, avg-6-1-d, meldcode-afwegingskader]\n",
        "    cites: [wmo-5.2.7, avg-6-1-d, meldcode-afwegingskader]\n",
        ("unknown legal source 'wmo-5.2.7'", "did you mean 'wmo-5.2.6'?"),
        0,
    ),
    (
        "30-routes.yaml",
        "    when: {derived: rvdk_route}\n",
        "    when: {derived: rvdk_rout}\n",
        ("unknown derived fact 'rvdk_rout'", "did you mean 'rvdk_route'?", "define it under 'derived:'"),
        0,
    ),
    (
        "40-data.yaml",
        "then: {allow: [identity, contact, signals]}",
        "then: {allow: [identity, contact, signal]}",
        ("unknown data category 'signal'", "did you mean 'signals'?"),
        0,
    ),
    (
        "50-conditions.yaml",
        "then: {conditions: [record_in_dossier]}",
        "then: {conditions: [record_in_dosier]}",
        ("unknown condition 'record_in_dosier'", "did you mean 'record_in_dossier'?"),
        0,
    ),
    (
        "10-questions.yaml",
        "    ask_when: {not: {share.recipient: {in: [colleague_involved, parent, inspectie]}}}\n",
        "    ask_when: {consent.status: given}\n",
        ("ask_when depends on 'consent.status', which is asked later", "may only depend on questions above it"),
        0,
    ),
    (
        "60-checks.yaml",
        "    facts: [client.age, concern.exploitation]\n",
        "    facts: [client.age, concern.exploitaton]\n",
        ("unknown fact 'concern.exploitaton'", "did you mean 'concern.exploitation'?"),
        0,
    ),
]

BOOLS = [
    "danger.acute",
    "concern.parent_suspected",
    "concern.domestic_context",
    "client.under_ots",
    "share.requested",
    "share.legal_order",
    "concern.within_care_setting",
    "danger.structural",
    "meldcode.steps_done",
    "meldcode.own_help_sufficient",
    "meldcode.help_accepted",
    "share.anonymous_possible",
    "consent.explicit_written",
    "conflict.consent_effort",
    "conflict.serious_harm",
    "conflict.no_alternative",
    "conflict.effective",
]
GUIDANCE_ONLY = """  - id: route.school-on-guidance
    title: {nl: School, en: School}
    explain: {nl: Alleen een handreiking., en: Only guidance.}
    when: [{share.recipient: school}, {share.purpose: advice}]
    then: {outcome: CONSULT_ANONYMISED}
    cites: [handreiking-mensenhandel-2020]
"""
UNUSED_DERIVED = """  - id: never_used
    title: {nl: Nooit gebruikt, en: Never used}
    explain: {nl: Niemand leest dit., en: Nobody reads this.}
    when: {danger.acute: true}
"""
UNUSED_PARAMETER = """  - id: age.unused
    value: 14
    title: {nl: Ongebruikt, en: Unused}
    cites: [bw-1-233]
"""

REACHABILITY: list[Edit] = [
    (
        "30-routes.yaml",
        "    when: {derived: rvdk_route}\n",
        "    when: [{derived: rvdk_route}, {client.age: {at_least: 18}}]\n",
        ("this can never fire", "check ask_when of the facts it reads"),
        0,
    ),
    (
        "30-routes.yaml",
        "rules:\n",
        "rules:\n" + GUIDANCE_ONLY,
        ("a route cannot rest on guidance alone", "cite the statute or unwritten-law source it applies"),
        6,
    ),
    (
        "30-routes.yaml",
        "    when: [{derived: emergency}, {share.recipient: veilig_thuis}, {derived: minor}]\n",
        "    when: [" + ", ".join(f"{{{f}: true}}" for f in BOOLS) + "]\n",
        ("one alternative of this condition reads 17 facts", "the engine allows 16", "move part of it into a derived fact"),
        0,
    ),
    (
        "20-derived.yaml",
        "  - id: under_18\n",
        UNUSED_DERIVED + "  - id: under_18\n",
        ("derived fact 'never_used' is never used by a rule or question", "remove it or use it"),
        0,
    ),
    (
        "00-ruleset.yaml",
        "  - id: age.with_parents\n",
        UNUSED_PARAMETER + "  - id: age.with_parents\n",
        ("parameter 'age.unused' is never used by a condition or text",),
        0,
    ),
]


def problems_after(tmp_path: Path, edits: list[Edit]) -> tuple[Path, list[tuple[str, int, str]], list[tuple[str, int, Edit]]]:
    rules = copy_workspace(tmp_path / "ws")
    at = [edit(rules / e[0], e[1], e[2]) for e in edits]
    # lines counted after all edits (an edit above another one shifts it)
    expected = [(e[0], (line_of(rules / e[0], e[2]) if e[2] else line) + e[4], e) for e, line in zip(edits, at)]
    with pytest.raises(RulesetError) as info:
        load_ruleset(rules, use_cache=False)
    got = []
    for p in info.value.problems:
        text = str(p)
        assert PROBLEM.match(text) and "\n" not in text, text
        got.append((Path(p.path).name, p.line, p.message))
    return rules, got, expected


def assert_reported(got, expected) -> None:
    missing = []
    for file, line, (_, _, _, fragments, _) in expected:
        if not fragments:
            continue
        if not any(f == file and n == line and all(x in m for x in fragments) for f, n, m in got):
            missing.append(f"{file}:{line}: {' … '.join(fragments)}")
    listing = "\n".join(f"{f}:{n}: {m}" for f, n, m in got)
    assert not missing, "not reported:\n" + "\n".join(missing) + "\n\nreported:\n" + listing


@pytest.mark.parametrize(
    "edits",
    [SCHEMA, VOCABULARY, RULES, REACHABILITY],
    ids=["schema", "vocabulary-and-derived", "rules-questions-checks", "reachability-and-unused"],
)
def test_every_mistake_is_reported_at_its_line(tmp_path, edits):
    rules, got, expected = problems_after(tmp_path, edits)
    assert_reported(got, expected)
    if edits is VOCABULARY:  # an outcome missing from precedence is reported where the outcome is defined
        line = line_of(rules / "00-ruleset.yaml", "  - code: SEEK_CONSENT_FIRST")
        assert (
            "00-ruleset.yaml",
            line,
            "outcome 'SEEK_CONSENT_FIRST' is missing from 'precedence:'; add it where it ranks",
        ) in got


def test_bundled_rules_check_ok(tmp_path):
    run = run_cli("rules", "check", env=cli_env(tmp_path / "cache"))
    assert_clean(run)
    assert run.returncode == 0, run.output
    assert run.stdout.startswith("ok: deelwijzer-mensenhandel ")
    assert "fingerprint sha256:" in run.stdout
    rs = load_ruleset()
    for pid, p in rs.parameters.items():
        assert f"parameter {pid} = {p.value} (" in run.stdout, pid


def test_rules_check_on_a_copy_finds_the_catalogue_beside_it(tmp_path):
    """A privacy officer's working copy: rules/ with legal_bases/ beside it, no --sources."""
    rules = copy_workspace(tmp_path / "ws")
    sources = tmp_path / "ws" / "legal_bases" / "catalogue" / "avg.yaml"
    line = edit(sources, "  status: verified\n", "  staus: verified\n")
    run = run_cli("rules", "check", rules)
    assert_clean(run)
    assert run.returncode == 1
    assert any(
        Path(m["path"]) == sources
        and int(m["line"]) == line
        and "unknown key 'staus'" in m["msg"]
        and "did you mean 'status'?" in m["msg"]
        for m in run.problems()
    ), run.output


def test_fingerprint_ignores_comments_but_not_meaning(tmp_path, ruleset):
    rules = copy_workspace(tmp_path / "ws")
    routes = rules / "30-routes.yaml"
    routes.write_text("# a comment\n" + routes.read_text(encoding="utf-8"), encoding="utf-8")
    assert load_ruleset(rules, use_cache=False).fingerprint == ruleset.fingerprint
    edit(routes, "    cites: [bw-1-240, avg-6-1-e]\n", "    cites: [bw-1-240, avg-6-1-f]\n")
    assert load_ruleset(rules, use_cache=False).fingerprint != ruleset.fingerprint


# --- parameters ----------------------------------------------------------------------------------


def _texts(value, seen=None):
    """Every Text reachable from a rule set (questions, rules, outcomes, glossary, ...)."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, Text):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _texts(getattr(value, f.name), seen)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _texts(v, seen)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _texts(v, seen)


def all_texts(rs):
    roots = [
        rs.info,
        rs.sections,
        rs.outcomes,
        rs.conditions,
        rs.data_categories,
        rs.glossary,
        rs.questions,
        [c.check for c in rs.checks],
        [r.rule or r.derived for r in rs.all_rules()],
    ]
    return [t for root in roots for t in _texts(root)]


def test_parameter_placeholders_are_filled_in_every_text(ruleset):
    texts = all_texts(ruleset)
    assert len(texts) > 300
    left = [t for t in texts if "((" in t.nl + t.en]
    assert not left, left[:3]
    age = ruleset.question("client.age")
    assert "0 tot en met 22 jaar" in age.hint.nl and "from 0 to 22" in age.hint.en
    assert "onder 12 de ouders met gezag" in age.help.nl and "vanaf 16 de jongere zelf" in age.help.nl


def test_parameters_are_used_by_conditions_and_texts(ruleset):
    uses = ruleset.param_uses
    assert set(uses) == set(ruleset.parameters), "every parameter is used (the checker refuses unused ones)"
    in_conditions = {pid for pid, u in uses.items() if any(x.startswith(("rule:", "derived:")) for x in u)}
    assert {"age.self_consent", "age.with_parents", "age.majority"} <= in_conditions
    assert all(any(x.startswith("text:") for x in u) for u in uses.values()), "each is also named in a text"
    assert any(u.startswith("question:client.age") for u in uses["age.youth_care_last"])
    # a list, not a set: a Test compares without its parameter, so equal numbers would merge
    tests = [
        leaf for cr in ruleset.all_rules() for conj in cr.conjuncts for leaf in conj if isinstance(leaf, Leaf) and leaf.param
    ]
    assert {t.param for t in tests} == in_conditions
    for t in tests:
        assert t.value == ruleset.parameters[t.param].value
        assert f"({t.param})" in t.describe()


def test_moving_a_threshold_moves_every_rule_and_sentence(tmp_path, ruleset):
    """age.self_consent from 16 to 15: the conditions, the texts and the advice all follow."""
    rules = copy_workspace(tmp_path / "ws")
    edit(rules / "00-ruleset.yaml", "  - id: age.self_consent\n    value: 16\n", "  - id: age.self_consent\n    value: 15\n")
    moved = load_ruleset(rules, use_cache=False)
    assert moved.parameters["age.self_consent"].value == 15
    assert "vanaf 15 de jongere zelf" in moved.question("client.age").help.nl
    tests = [
        leaf
        for cr in moved.all_rules()
        for conj in cr.conjuncts
        for leaf in conj
        if isinstance(leaf, Leaf) and leaf.param == "age.self_consent"
    ]
    assert tests and all(t.value == 15 for t in tests)
    base = {
        "professional.role": "jeugdhulpverlener",
        "share.recipient": "comensha",
        "share.purpose": "registration",
        "client.age": 15,
        "client.authority": "parents",
    }
    before = decide(ruleset, complete_interview(ruleset, base))
    after = decide(moved, complete_interview(moved, base))
    assert before.advice is not None and after.advice is not None
    assert {k.rpartition("#")[0] for k in before.advice.fired} != {k.rpartition("#")[0] for k in after.advice.fired}


def test_a_parameter_outside_its_validity_asks_the_privacy_officer(tmp_path):
    import datetime as dt

    rules = copy_workspace(tmp_path / "ws")
    edit(
        rules / "00-ruleset.yaml",
        "  - id: age.self_consent\n    value: 16\n",
        "  - id: age.self_consent\n    value: 16\n    valid_to: 2020-01-01\n",
    )
    rs = load_ruleset(rules, use_cache=False)
    answers = complete_interview(
        rs,
        {
            "professional.role": "jeugdhulpverlener",
            "share.recipient": "comensha",
            "share.purpose": "registration",
            "client.age": 17,
            "client.authority": "parents",
        },
    )
    d = decide(rs, answers, on=dt.date(2026, 1, 1))
    assert d.advice is not None
    assert "consult_privacy_officer" in d.advice.conditions
    assert any("age.self_consent = 16" in s.text.nl for s in d.advice.explanation if s.kind == "caution")
    early = decide(rs, answers, on=dt.date(2019, 6, 1))
    assert not any("age.self_consent" in s.text.nl for s in early.advice.explanation if s.kind == "caution")


SCENARIO = """scenarios:
  - id: {id}
    description: Een scenario dat de leeftijdsgrenzen van de regels raakt.
    answers: {answers}
    expect:
      outcome: {outcome}
"""


def _scenarios_for(rs, rules: Path, cases: list[dict]) -> None:
    (rules / "tests").mkdir(exist_ok=True)
    text = "scenarios:\n" + "".join(
        SCENARIO.split("scenarios:\n", 1)[1].format(id=f"case-{i}", answers=json.dumps(a), outcome=decide(rs, a).advice.outcome)
        for i, a in enumerate(cases)
    )
    (rules / "tests" / "10-ages.yaml").write_text(text, encoding="utf-8")


AGE_CASES = [
    {
        "professional.role": "jeugdhulpverlener",
        "share.recipient": "comensha",
        "share.purpose": "registration",
        "client.age": 15,
        "client.authority": "parents",
    },
    {"professional.role": "jeugdhulpverlener", "share.recipient": "parent", "client.age": 13, "client.authority": "parents"},
]


def test_rules_test_generates_boundary_scenarios_for_each_parameter(tmp_path, ruleset):
    rules = copy_workspace(tmp_path / "ws")
    _scenarios_for(ruleset, rules, [complete_interview(ruleset, a) for a in AGE_CASES])
    run = run_cli("rules", "test", rules, "--verbose")
    assert_clean(run)
    assert "2 passed, 0 failed" in run.stdout, run.output
    lines = [line for line in run.stdout.splitlines() if line.startswith("ok   boundary ")]
    used = {pid for pid, uses in ruleset.param_uses.items() if any(u.startswith(("rule:", "derived:")) for u in uses)}
    for pid in used:
        t = ruleset.parameters[pid].value
        mine = [line for line in lines if line.startswith(f"ok   boundary {pid} = {t}: ")]
        assert mine, f"no boundary scenario for {pid}:\n{run.stdout}"
        assert all(f"client.age {t - 1} → " in line and f"client.age {t} → " in line for line in mine), mine
    assert "boundary test(s) passed, 0 failed" in run.stdout


def test_a_rule_that_misreads_its_parameter_fails_the_boundary_test(tmp_path, ruleset):
    """``at_most: age.self_consent`` holds at 15 and at 16: the boundary is not where the
    parameter puts it, and ``rules test`` says so."""
    rules = copy_workspace(tmp_path / "ws")
    edit(
        rules / "20-derived.yaml",
        "    when: [{derived: minor}, {client.age: {below: age.self_consent}}]\n",
        "    when: [{derived: minor}, {client.age: {at_most: age.self_consent}}]\n",
    )
    rs = load_ruleset(rules, use_cache=False)
    _scenarios_for(rs, rules, [complete_interview(rs, a) for a in AGE_CASES])
    run = run_cli("rules", "test", rules)
    assert_clean(run)
    assert run.returncode == 1, run.output
    assert "FAIL boundary age.self_consent = 16: under_16 (client.age ≤ 16 (age.self_consent))" in run.stdout, run.stdout
    assert "gives the same result at 15 and 16: the boundary is not where parameter age.self_consent puts it" in run.stdout


def test_rules_check_lists_where_each_parameter_is_used(tmp_path, ruleset):
    run = run_cli("rules", "check", ROOT / "rules", env=cli_env(tmp_path / "cache"))
    assert run.returncode == 0
    line = next(line for line in run.stdout.splitlines() if line.startswith("parameter age.self_consent = 16 "))
    rules = sum(u.startswith(("rule:", "derived:")) for u in ruleset.param_uses["age.self_consent"])
    assert f"used by {rules} rule(s)" in line and "text(s)" in line and "in force 2015-01-01" in line
