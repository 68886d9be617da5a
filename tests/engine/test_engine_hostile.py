"""Hostile and broken input (issue 10, "What to build" 2 and 3): each case runs the real CLI in a
subprocess on a copy of the bundled rules (``rules/`` with ``legal_bases/`` beside it) with one
hostile edit, and asserts the exit code, one positioned message that names the file, the line
and what to do, no traceback, no internal error -- and that the run finished within
``TIMEOUT`` seconds (the subprocess timeout; nothing here measures speed).

Exit codes (docs/architecture.md, README): ``rules check``/``rules test`` exit 1 when they
find problems in a rule or scenario file; ``decide`` exits 2 on bad input (a bad case file),
and every command exits 2 on a usage error such as a directory that does not exist.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from engine_helpers import MAX_SAFE_INT, PROBLEM, Run, assert_clean, cli_env, copy_workspace, edit, line_of, run_cli

WORKERS = 2  # hostile runs in flight at once (the machine has two cores)
RANGE = f"between -{MAX_SAFE_INT} and {MAX_SAFE_INT}"


@dataclass
class Expect:
    """What one hostile run must print: exit code, the file and line of the problem, and
    fragments of its message (including the fix)."""

    args: list[str]
    returncode: int
    file: str | None
    line: int | None
    fragments: tuple[str, ...]
    col: int | None = None


def check(run: Run, want: Expect) -> None:
    assert_clean(run)
    assert run.returncode == want.returncode, f"exit {run.returncode}, want {want.returncode}\n{run.output[-3000:]}"
    if want.returncode == 1 and run.args[:2] == ["rules", "check"]:
        # rules check prints nothing but problems, one per line, on stdout
        bad = [line for line in run.stdout.splitlines() if not PROBLEM.match(line)]
        assert not bad, f"not path:line:col: message: {bad[:3]}"
    if want.file is None:
        text = run.output
        for fragment in want.fragments:
            assert fragment in text, f"{fragment!r} not in\n{text[-3000:]}"
        return
    problems = [m for m in run.problems() if Path(m["path"]).name == want.file]
    matching = [m for m in problems if all(f in m["msg"] for f in want.fragments)]
    assert matching, f"no problem in {want.file} with {want.fragments}; got:\n" + run.output[-3000:]
    m = matching[0]
    assert len(m["msg"]) < 1000, f"the message is not bounded: {len(m['msg'])} characters"
    if want.line is not None:
        assert int(m["line"]) == want.line, f"{m.group(0)}\nwant line {want.line}"
    if want.col is not None:
        assert int(m["col"]) == want.col, f"{m.group(0)}\nwant column {want.col}"


# --- hostile rule files (`rules check DIR`, exit 1) ---------------------------------------------------


def billion_laughs(levels: int = 10) -> tuple[list[str], str]:
    lines = ['lol0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"lol{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, levels)]
    return lines, "*a0"


def _append(path: Path, text: str) -> int:
    """Append ``text``; return the line number of its first line."""
    old = path.read_text(encoding="utf-8")
    if not old.endswith("\n"):
        old += "\n"
    path.write_text(old + text, encoding="utf-8")
    return old.count("\n") + 1


def rule_alias_bomb(rules: Path) -> Expect:
    lines, first = billion_laughs()
    start = _append(rules / "60-checks.yaml", "\n".join(lines) + "\n")
    return Expect(
        ["rules", "check", str(rules)],
        1,
        "60-checks.yaml",
        start + 1,
        ("aliases (*name) are not allowed", "write the value out in full"),
        col=lines[1].index(first) + 1,
    )


def max_float(rules: Path) -> Expect:
    line = edit(rules / "10-questions.yaml", "    max: age.youth_care_last\n", "    max: 1e8\n")
    return Expect(["rules", "check", str(rules)], 1, "10-questions.yaml", line, ("'max' must be a whole number", "100000000.0"))


def max_huge_int(rules: Path) -> Expect:
    """A huge but representable range: satisfiability is decided on intervals, so the check
    and the reachability search finish at once and the rule set is valid."""
    edit(rules / "10-questions.yaml", "    min: 0\n    max: age.youth_care_last\n", "    min: 0\n    max: 100000000000000\n")
    return Expect(["rules", "check", str(rules)], 0, None, None, ("ok: deelwijzer-mensenhandel",))


def deep_not(rules: Path) -> Expect:
    old = "when: [{derived: emergency}, {share.recipient: veilig_thuis}, {derived: minor}]"
    line = edit(rules / "30-routes.yaml", old, "when: " + "{not: " * 500 + "{danger.acute: true}" + "}" * 500)
    return Expect(["rules", "check", str(rules)], 1, "30-routes.yaml", line, ("nested more than 32 levels deep", "flatten"))


def digits_5000_rule(rules: Path) -> Expect:
    line = edit(rules / "00-ruleset.yaml", "    value: 12\n", "    value: " + "9" * 5000 + "\n")
    return Expect(["rules", "check", str(rules)], 1, "00-ruleset.yaml", line, ("is too large", RANGE))


def beyond_2_53_rule(rules: Path) -> Expect:
    line = edit(rules / "00-ruleset.yaml", "    value: 12\n", f"    value: {MAX_SAFE_INT + 1}\n")
    return Expect(["rules", "check", str(rules)], 1, "00-ruleset.yaml", line, (f"'{MAX_SAFE_INT + 1}' is too large", RANGE))


def below_minus_2_53_rule(rules: Path) -> Expect:
    line = edit(
        rules / "10-questions.yaml",
        "    min: 0\n    max: age.youth_care_last\n",
        f"    min: -{MAX_SAFE_INT + 1}\n    max: age.youth_care_last\n",
    )
    return Expect(["rules", "check", str(rules)], 1, "10-questions.yaml", line, (f"'-{MAX_SAFE_INT + 1}' is too large", RANGE))


def set_question(fact: str, options: int) -> str:
    opts = "".join(f"      - {{value: o{i}, label: {{nl: Optie {i}, en: Option {i}}}}}\n" for i in range(options))
    return (
        f"  - fact: {fact}\n    type: set\n    section: client\n    prompt: {{nl: Welke?, en: Which?}}\n"
        f"    hint: {{nl: Kies., en: Choose.}}\n    help: {{nl: Uitleg., en: Help.}}\n    options:\n{opts}\n"
    )


def set_300_options(rules: Path) -> Expect:
    anchor = "  - fact: concern.exploitation\n"
    line = edit(rules / "10-questions.yaml", anchor, set_question("concern.many", 300) + anchor)
    return Expect(["rules", "check", str(rules)], 1, "10-questions.yaml", line + 6, ("at most 200",))


def too_many_properties(rules: Path) -> Expect:
    anchor = "  - fact: concern.exploitation\n"
    line = edit(
        rules / "10-questions.yaml", anchor, set_question("concern.many", 150) + set_question("concern.more", 150) + anchor
    )
    second = line + set_question("concern.many", 150).count("\n")
    return Expect(
        ["rules", "check", str(rules)],
        1,
        "10-questions.yaml",
        second,
        (
            "the questions up to 'concern.more' need",
            "engine properties",
            "the engine allows 250",
            "use fewer options or questions",
        ),
    )


def dnf_2_19(rules: Path) -> Expect:
    """19 two-way alternatives in one condition: 2^19 conjuncts if expanded. The bound is found
    from the tree before anything is built."""
    either = "{any: [{danger.acute: true}, {danger.structural: true}]}"
    old = "when: [{derived: emergency}, {share.recipient: veilig_thuis}, {derived: minor}]"
    line = edit(rules / "30-routes.yaml", old, "when: {all: [" + ", ".join([either] * 19) + "]}")
    return Expect(
        ["rules", "check", str(rules)],
        1,
        "30-routes.yaml",
        line,
        ("expands to more than 256 alternatives", "split the rule or name parts of it as derived facts"),
    )


def duplicate_key_rule(rules: Path) -> Expect:
    first = line_of(rules / "30-routes.yaml", "      outcome: EMERGENCY_SHARE\n")
    edit(
        rules / "30-routes.yaml",
        "      outcome: EMERGENCY_SHARE\n",
        "      outcome: EMERGENCY_SHARE\n      outcome: DO_NOT_SHARE\n",
    )
    return Expect(
        ["rules", "check", str(rules)],
        1,
        "30-routes.yaml",
        first + 1,
        ("duplicate key 'outcome'", f"first at line {first}", "keep one"),
    )


def glossary_10mb(rules: Path) -> Expect:
    entry = "  - id: term{}\n    term: {{nl: Term, en: Term}}\n    definition: {{nl: " + "x" * 120 + ", en: " + "y" * 120 + "}}\n"
    text = "glossary:\n" + "".join(entry.format(i) for i in range(35_000))
    assert len(text) > 10_000_000
    (rules / "05-glossary.yaml").write_text(text, encoding="utf-8")
    return Expect(["rules", "check", str(rules)], 1, "05-glossary.yaml", 1, ("file is larger than 2048 KiB", "split it"))


def merge_key(rules: Path) -> Expect:
    old = "  - id: check.very-young-for-exploitation\n"
    line = edit(rules / "60-checks.yaml", old, "  - <<: {id: check.very-young-for-exploitation}\n")
    return Expect(
        ["rules", "check", str(rules)], 1, "60-checks.yaml", line, ("merge keys (<<) are not allowed", "write the keys out")
    )


def explicit_tag(rules: Path) -> Expect:
    old = "  - id: check.very-young-for-exploitation\n"
    line = edit(rules / "60-checks.yaml", old, "  - id: !!python/object/apply:os.system check.very-young-for-exploitation\n")
    return Expect(["rules", "check", str(rules)], 1, "60-checks.yaml", line, ("explicit tag", "is not allowed; remove it"))


def local_tag(rules: Path) -> Expect:
    old = "    facts: [client.age, concern.exploitation]\n"
    line = edit(rules / "60-checks.yaml", old, "    facts: !include other.yaml\n")
    return Expect(["rules", "check", str(rules)], 1, "60-checks.yaml", line, ("explicit tag '!include' is not allowed",))


def two_documents(rules: Path) -> Expect:
    line = _append(rules / "60-checks.yaml", "---\nchecks: []\n")
    return Expect(["rules", "check", str(rules)], 1, "60-checks.yaml", line, ("more than one document (---)", "keep one"))


def typo_in_id(rules: Path) -> Expect:
    line = edit(rules / "50-conditions.yaml", "then: {conditions: [record_in_dossier]}", "then: {conditions: [record_in_dosier]}")
    return Expect(
        ["rules", "check", str(rules)],
        1,
        "50-conditions.yaml",
        line,
        ("unknown condition 'record_in_dosier'", "did you mean 'record_in_dossier'?", "define it under 'conditions:'"),
    )


def wrong_type(rules: Path) -> Expect:
    line = edit(
        rules / "30-routes.yaml", "    cites: [wmo-5.2.6, avg-6-1-d, meldcode-afwegingskader]\n", "    cites: wmo-5.2.6\n"
    )
    return Expect(["rules", "check", str(rules)], 1, "30-routes.yaml", line, ("'cites' must be a list, not 'wmo-5.2.6'",))


def binary_garbage_rule(rules: Path) -> Expect:
    (rules / "70-garbage.yaml").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    return Expect(["rules", "check", str(rules)], 1, "70-garbage.yaml", 1, ("file is not UTF-8 text", "save it as UTF-8"))


def invalid_utf8_rule(rules: Path) -> Expect:
    path = rules / "60-checks.yaml"
    line = line_of(path, "Klopt de leeftijd?")
    path.write_bytes(path.read_bytes().replace(b"Klopt de leeftijd?", b"Klopt de \xe9 leeftijd?", 1))
    return Expect(["rules", "check", str(rules)], 1, "60-checks.yaml", line, ("file is not UTF-8 text", "save it as UTF-8"))


def control_characters_rule(rules: Path) -> Expect:
    """Valid UTF-8 that is still binary (NUL bytes), on line 3 of a new file.

    libyaml's ReaderError is not a MarkedYAMLError: it must still be placed at its line and
    name the character, without parser internals ('in "<unicode string>", position 13')."""
    (rules / "70-binary.yaml").write_bytes(b"checks:\n  - id: check.x\n    when: \x00\x00\x01\x02\n")
    return Expect(["rules", "check", str(rules)], 1, "70-binary.yaml", 3, ("#x0000",))


def empty_ruleset_file(rules: Path) -> Expect:
    """00-ruleset.yaml emptied (an editor that crashed while saving).

    The root cause is named first, at 00-ruleset.yaml (the checker once stopped after the
    parameter substitution with 143 "unknown parameter" lines in the other files)."""
    (rules / "00-ruleset.yaml").write_text("", encoding="utf-8")
    return Expect(["rules", "check", str(rules)], 1, "00-ruleset.yaml", 1, ("the rule set has no 'ruleset:' section", "add one"))


def missing_rules_dir(rules: Path) -> Expect:
    return Expect(
        ["rules", "check", str(rules.parent / "does-not-exist")],
        2,
        None,
        None,
        ("rule-set directory not found; give an existing directory",),
    )


RULE_FILES: dict[str, Callable[[Path], Expect]] = {
    "alias-bomb": rule_alias_bomb,
    "max-1e8": max_float,
    "max-huge-int-range": max_huge_int,
    "not-nested-500-deep": deep_not,
    "integer-5000-digits": digits_5000_rule,
    "integer-above-2^53": beyond_2_53_rule,
    "set-question-300-options": set_300_options,
    "too-many-case-properties": too_many_properties,
    "dnf-2^19-alternatives": dnf_2_19,
    "duplicate-key": duplicate_key_rule,
    "glossary-10MB": glossary_10mb,
    "merge-key": merge_key,
    "explicit-python-tag": explicit_tag,
    "two-documents": two_documents,
    "typo-condition-id": typo_in_id,
    "wrong-type": wrong_type,
    "binary-garbage": binary_garbage_rule,
    "invalid-utf8": invalid_utf8_rule,
    "control-characters": control_characters_rule,
    "empty-ruleset-file": empty_ruleset_file,
    "nonexistent-dir": missing_rules_dir,
}


@pytest.fixture(scope="module")
def rule_runs(tmp_path_factory):
    """Every hostile rule-file run, started together two at a time (each is still its own
    subprocess with its own timeout; the tests below wait for theirs)."""
    root = tmp_path_factory.mktemp("hostile-rules")
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        runs = {}
        for name, make in RULE_FILES.items():
            want = make(copy_workspace(root / name))
            runs[name] = (want, pool.submit(run_cli, *want.args))
        yield runs


@pytest.mark.parametrize("name", RULE_FILES)
def test_hostile_rule_file(rule_runs, name):
    want, run = rule_runs[name]
    check(run.result(), want)


# --- hostile case files (`decide CASE`, exit 2) ---------------------------------------------------

GOOD = {"professional.role": "jeugdhulpverlener", "share.recipient": "police"}


def case_json(path: Path, text: str) -> Path:
    target = path / "case.json"
    target.write_text(text, encoding="utf-8")
    return target


def case_yaml(path: Path, text: str) -> Path:
    target = path / "case.yaml"
    target.write_text(text, encoding="utf-8")
    return target


def case_alias_bomb(d: Path) -> Expect:
    lines, first = billion_laughs()
    text = "answers:\n  professional.role: jeugdhulpverlener\n" + "\n".join(lines) + "\n"
    return Expect(
        ["decide", str(case_yaml(d, text))],
        2,
        "case.yaml",
        4,
        ("aliases (*name) are not allowed", "write the value out in full"),
        col=lines[1].index(first) + 1,
    )


def case_deep_json(d: Path) -> Expect:
    text = '{"answers": {"client.age": ' + "[" * 100_000 + "]" * 100_000 + "}}"
    return Expect(["decide", str(case_json(d, text))], 2, "case.json", 1, ("nested too deeply",))


def case_deep_yaml(d: Path) -> Expect:
    text = "answers: {client.age: " + "[" * 100_000 + "]" * 100_000 + "}\n"
    return Expect(["decide", str(case_yaml(d, text))], 2, "case.yaml", 1, ("nested too deeply", "flatten"))


def case_digits_json(d: Path) -> Expect:
    """``json.loads`` refuses a 5000-digit integer (Python's int-string limit); the message must
    still give the answer's line and the allowed range (it once said only 1:1 "too large")."""
    text = '{\n  "answers": {\n    "professional.role": "jeugdhulpverlener",\n    "client.age": ' + "9" * 5000 + "\n  }\n}\n"
    return Expect(["decide", str(case_json(d, text))], 2, "case.json", 4, ("too large", RANGE))


def case_digits_yaml(d: Path) -> Expect:
    text = "answers:\n  professional.role: jeugdhulpverlener\n  client.age: " + "9" * 5000 + "\n"
    return Expect(["decide", str(case_yaml(d, text))], 2, "case.yaml", 3, ("is too large", RANGE))


def case_beyond_2_53(d: Path) -> Expect:
    """A JSON answer beyond 2^53 is reported at the answer's line (5) with the allowed range,
    as the same case in YAML is (it was once reported at 1:1 without the range)."""
    text = json.dumps({"answers": {**GOOD, "client.age": MAX_SAFE_INT + 2}}, indent=1)
    return Expect(["decide", str(case_json(d, text))], 2, "case.json", 5, (f"'{MAX_SAFE_INT + 2}' is too large", RANGE))


def case_below_minus_2_53(d: Path) -> Expect:
    """As ``case_beyond_2_53``, below -(2^53-1)."""
    text = json.dumps({"answers": {**GOOD, "client.age": -MAX_SAFE_INT - 1}}, indent=1)
    return Expect(["decide", str(case_json(d, text))], 2, "case.json", 5, (f"'-{MAX_SAFE_INT + 1}' is too large", RANGE))


def case_duplicate_json(d: Path) -> Expect:
    text = '{"answers": {\n  "professional.role": "jeugdhulpverlener",\n  "client.age": 15,\n  "client.age": 3\n}}\n'
    return Expect(
        ["decide", str(case_json(d, text))], 2, "case.json", 4, ("duplicate key 'client.age'", "first at line 3", "keep one")
    )


def case_duplicate_yaml(d: Path) -> Expect:
    text = "answers:\n  client.age: 15\n  client.age: 3\n"
    return Expect(["decide", str(case_yaml(d, text))], 2, "case.yaml", 3, ("duplicate key 'client.age'", "first at line 2"))


def case_too_large(d: Path) -> Expect:
    text = json.dumps({"answers": GOOD, "description": "x" * 300_000})
    return Expect(["decide", str(case_json(d, text))], 2, "case.json", 1, ("file is larger than 256 KiB",))


def case_wrong_value_type_yaml(d: Path) -> Expect:
    text = "answers:\n  professional.role: jeugdhulpverlener\n  share.recipient: police\n  client.age: fifteen\n"
    return Expect(
        ["decide", str(case_yaml(d, text))],
        2,
        "case.yaml",
        4,
        ("client.age: 'fifteen' is not a whole number", "allowed: a whole number from 0 to 22"),
    )


def case_wrong_value_type_json(d: Path) -> Expect:
    text = (
        '{"answers": {\n  "professional.role": "jeugdhulpverlener",\n  "share.recipient": "police",\n  "client.age": "15"\n}}\n'
    )
    return Expect(["decide", str(case_json(d, text))], 2, "case.json", 4, ("client.age: '15' is not a whole number",))


def case_wrong_enum_value(d: Path) -> Expect:
    text = "answers:\n  professional.role: jeugdhulpverlener\n  share.recipient: politie\n"
    return Expect(
        ["decide", str(case_yaml(d, text))],
        2,
        "case.yaml",
        3,
        ("share.recipient: 'politie' is not one of the values", "did you mean 'police'?", "allowed:"),
    )


def case_typo_fact(d: Path) -> Expect:
    text = "answers:\n  professional.role: jeugdhulpverlener\n  client.agee: 15\n"
    return Expect(
        ["decide", str(case_yaml(d, text))], 2, "case.yaml", 3, ("client.agee: unknown fact id", "did you mean 'client.age'?")
    )


def case_long_value(d: Path) -> Expect:
    """A 19 000-character answer is echoed cut short (the message stays one readable line)."""
    text = "answers:\n  professional.role: jeugdhulpverlener\n  share.recipient: " + "x" * 19_000 + "\n"
    return Expect(["decide", str(case_yaml(d, text))], 2, "case.yaml", 3, ("share.recipient:", "…", "is not one of the values"))


def case_binary(d: Path) -> Expect:
    target = d / "case.json"
    target.write_bytes(b'{"answers": {"client.age": "\xff\xfe\x00\x01"}}')
    return Expect(["decide", str(target)], 2, "case.json", 1, ("file is not UTF-8 text", "save it as UTF-8"))


def case_empty_json(d: Path) -> Expect:
    return Expect(["decide", str(case_json(d, ""))], 2, "case.json", 1, ("invalid JSON",))


def case_empty_yaml(d: Path) -> Expect:
    return Expect(["decide", str(case_yaml(d, ""))], 2, "case.yaml", 1, ("a case file is a mapping with an 'answers:' key",))


def case_nan(d: Path) -> Expect:
    return Expect(["decide", str(case_json(d, '{"answers": {"client.age": NaN}}'))], 2, "case.json", 1, ("NaN is not allowed",))


def case_merge_key(d: Path) -> Expect:
    text = "base: &b {professional.role: jeugdhulpverlener}\nanswers:\n  <<: *b\n"
    return Expect(["decide", str(case_yaml(d, text))], 2, "case.yaml", None, ("are not allowed",))


def case_tag(d: Path) -> Expect:
    text = "answers:\n  professional.role: !!python/name:os.system jeugdhulpverlener\n"
    return Expect(["decide", str(case_yaml(d, text))], 2, "case.yaml", 2, ("explicit tag", "is not allowed"))


def case_missing(d: Path) -> Expect:
    return Expect(["decide", str(d / "nope.json")], 2, None, None, ("case file not found",))


CASE_FILES: dict[str, Callable[[Path], Expect]] = {
    "alias-bomb": case_alias_bomb,
    "json-100000-deep": case_deep_json,
    "json-integer-5000-digits": case_digits_json,
    "yaml-integer-5000-digits": case_digits_yaml,
    "answer-above-2^53": case_beyond_2_53,
    "json-duplicate-key": case_duplicate_json,
    "yaml-duplicate-key": case_duplicate_yaml,
    "file-over-256KiB": case_too_large,
    "wrong-value-type": case_wrong_value_type_yaml,
    "binary-garbage": case_binary,
    "empty-file": case_empty_json,
}

# more of the same kind, cheap enough to run through the CLI's code in this process
CASE_FILES_IN_PROCESS: dict[str, Callable[[Path], Expect]] = {
    "yaml-100000-deep": case_deep_yaml,
    "answer-below-minus-2^53": case_below_minus_2_53,
    "wrong-value-type-json": case_wrong_value_type_json,
    "wrong-enum-value": case_wrong_enum_value,
    "typo-fact-id": case_typo_fact,
    "long-value-echo-truncated": case_long_value,
    "empty-yaml": case_empty_yaml,
    "json-nan": case_nan,
    "yaml-merge-key": case_merge_key,
    "yaml-python-tag": case_tag,
    "case-file-not-found": case_missing,
}


@pytest.fixture(scope="module")
def case_workspace(tmp_path_factory, cache_dir):
    """One rules copy for every case-file test, with the session's cache: checked once."""
    rules = copy_workspace(tmp_path_factory.mktemp("case-ws") / "ws")
    return rules, cli_env(cache_dir)


@pytest.fixture(scope="module")
def case_runs(tmp_path_factory, case_workspace):
    rules, env = case_workspace
    root = tmp_path_factory.mktemp("hostile-cases")
    warm = run_cli("decide", case_json(root, json.dumps({"answers": GOOD})), "--rules", rules, "--format", "json", env=env)
    assert warm.returncode == 0, warm.output  # the control: a valid case decides; the cache now holds the rule set
    assert json.loads(warm.stdout)["missing"]
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        runs = {}
        for name, make in CASE_FILES.items():
            (root / name).mkdir()
            want = make(root / name)
            runs[name] = (want, pool.submit(run_cli, *want.args, "--rules", rules, env=env))
        yield runs


@pytest.mark.parametrize("name", CASE_FILES)
def test_hostile_case_file(case_runs, name):
    want, run = case_runs[name]
    check(run.result(), want)


@pytest.mark.parametrize("name", CASE_FILES_IN_PROCESS)
def test_hostile_case_file_in_process(tmp_path, case_workspace, main, name):
    rules, _ = case_workspace
    want = CASE_FILES_IN_PROCESS[name](tmp_path)
    check(main(*want.args, "--rules", rules), want)


RULE_FILES_IN_PROCESS: dict[str, Callable[[Path], Expect]] = {
    "integer-below-minus-2^53": below_minus_2_53_rule,
    "local-include-tag": local_tag,
}


@pytest.mark.parametrize("name", RULE_FILES_IN_PROCESS)
def test_hostile_rule_file_in_process(tmp_path, main, name):
    want = RULE_FILES_IN_PROCESS[name](copy_workspace(tmp_path / "ws"))
    check(main(*want.args), want)


# --- hostile scenario files (`rules test DIR`, exit 1) ------------------------------------------

GOOD_SCENARIOS = """scenarios:
  - id: colleague-jeugdwet
    description: Een jeugdhulpverlener wil signalen delen met een collega die rechtstreeks betrokken is.
    answers:
      professional.role: jeugdhulpverlener
      share.recipient: colleague_involved
      share.data: [identity, health]
    expect:
      outcome: SHARE_DIRECTLY_INVOLVED
      verdict: share
      allowed: [identity, health]
  - id: bad-answer-type
    description: Een scenario met een leeftijd in woorden in plaats van een getal.
    answers:
      professional.role: jeugdhulpverlener
      share.recipient: police
      client.age: vijftien
    expect:
      outcome: DO_NOT_SHARE
  - id: unknown-outcome
    description: Een scenario dat een uitkomst verwacht die niet bestaat (tikfout).
    answers:
      professional.role: jeugdhulpverlener
      share.recipient: colleague_involved
      share.data: [identity]
    expect:
      outcome: SHARE_DIRECTLY_INVOLVD
  - id: colleague-wgbo
    description: Een BIG-geregistreerde behandelaar deelt met een collega die rechtstreeks betrokken is.
    answers:
      professional.role: big_hulpverlener
      share.recipient: colleague_involved
      share.data: [identity]
    expect:
      outcome: SHARE_DIRECTLY_INVOLVED
"""


def test_scenario_files_with_bad_scenarios_run_the_rest(tmp_path):
    """One scenario with an answer of the wrong type, one with a typo in ``expect``, and a
    scenario file that is an alias bomb: each fails with a positioned message (the answer's
    line; did you mean; the alias), the other scenarios still run and pass, and the summary
    counts the bad ones as failed."""
    rules = copy_workspace(tmp_path / "ws")
    (rules / "tests").mkdir()
    scenarios = rules / "tests" / "10-mixed.yaml"
    scenarios.write_text(GOOD_SCENARIOS, encoding="utf-8")
    lines, _ = billion_laughs()
    (rules / "tests" / "20-bomb.yaml").write_text("scenarios: []\n" + "\n".join(lines) + "\n", encoding="utf-8")
    age_line = line_of(scenarios, "      client.age: vijftien")
    outcome_line = line_of(scenarios, "      outcome: SHARE_DIRECTLY_INVOLVD")
    run = run_cli("rules", "test", rules, "--verbose")
    assert_clean(run)
    assert run.returncode == 1, run.output
    assert "2 passed, 2 failed" in run.stdout, run.stdout
    assert "ok   colleague-jeugdwet" in run.stdout and "ok   colleague-wgbo" in run.stdout
    assert f"FAIL {scenarios}:" in run.stdout and ": bad-answer-type" in run.stdout and ": unknown-outcome" in run.stdout
    assert f"{scenarios}:{age_line}:7: client.age: 'vijftien' is not a whole number" in run.stdout, run.stdout
    assert (
        f"line {outcome_line}: expect.outcome: unknown outcome 'SHARE_DIRECTLY_INVOLVD'; "
        "did you mean 'SHARE_DIRECTLY_INVOLVED'?" in run.stdout
    ), run.stdout
    assert any(
        Path(m["path"]).name == "20-bomb.yaml" and int(m["line"]) == 3 and "aliases" in m["msg"] for m in run.problems()
    ), run.output
