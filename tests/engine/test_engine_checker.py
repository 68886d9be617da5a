"""`deelwijzer rules check`: a valid rule set passes; every kind of mistake a privacy officer
can make is reported as path:line:col: message, naming the bad value, without a traceback."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from engine_helpers import ROOT, SOURCES, copy_rules

from engine import RulesetError, load_ruleset

LINE = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<msg>.+)$")


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli.main", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def problems_of(rules_dir: Path, sources: Path = SOURCES) -> list[str]:
    with pytest.raises(RulesetError) as info:
        load_ruleset(rules_dir, sources)
    return [str(p) for p in info.value.problems]


def edit(path: Path, old: str, new: str) -> int:
    """Replace one occurrence; return the 1-based line where it happened."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= 1, f"fixture text not found: {old!r}"
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return line


def test_bundled_rules_check_ok():
    result = cli("rules", "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "fingerprint sha256:" in result.stdout


def test_unknown_source_id_points_at_the_line(tmp_path):
    rules = copy_rules(tmp_path)
    line = edit(rules / "30-routes.yaml", "cites: [bw-1-240, avg-6-1-e]", "cites: [bw-1-240, avg-6-1-x]")
    result = cli("rules", "check", str(rules))
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    out = [LINE.match(l) for l in result.stdout.splitlines()]
    assert all(out), result.stdout
    hits = [m for m in out if "avg-6-1-x" in m["msg"]]
    assert hits and hits[0]["path"].endswith("30-routes.yaml") and int(hits[0]["line"]) == line
    assert "unknown legal source" in hits[0]["msg"]


def test_malformed_yaml(tmp_path):
    rules = copy_rules(tmp_path)
    edit(rules / "40-data.yaml", "    when: {advice.verdict: share}\n", "    when: {advice.verdict: share\n")
    result = cli("rules", "check", str(rules))
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert re.search(r"40-data\.yaml:\d+:\d+: YAML syntax error", result.stdout)


@pytest.mark.parametrize("file, old, new, expected", [
    ("30-routes.yaml", "{derived: rvdk_route}", "{derived: rvdk_rout}", "unknown derived fact 'rvdk_rout'"),
    ("30-routes.yaml", "then: {outcome: SHARE_RVDK_MELDRECHT}", "then: {outcome: SHARE_RVDK}", "unknown outcome 'SHARE_RVDK'"),
    ("30-routes.yaml", "when: [{derived: gi_route}, {share.requested: true}]", "when: [{derived: gi_route}, {share.requested: yes_please}]",
     "'yes_please' is not a value of share.requested"),
    ("30-routes.yaml", "when: [{derived: gi_route}, {share.requested: true}]", "when: [{derived: gi_route}, {share.requestd: true}]",
     "unknown fact or keyword 'share.requestd'"),
    ("20-derived.yaml", "when: {client.age: {below: 18}}", "when: {client.age: {below: 99}}", "99 is outside the range of client.age"),
    ("20-derived.yaml", "when: {client.age: {below: 18}}", "when: {client.age: {under: 18}}", "unknown operator 'under'"),
    ("20-derived.yaml", "when: {client.age: {below: 18}}", "when: {concern.exploitation: sexual}", "is a list of values; test it with includes"),
    ("40-data.yaml", "then: {allow: [identity, contact, signals]}", "then: {allow: [identity, contact, signal]}", "unknown data category 'signal'"),
    ("50-conditions.yaml", "then: {conditions: [record_in_dossier]}", "then: {conditions: [record_in_file]}", "unknown condition 'record_in_file'"),
    ("30-routes.yaml", "    then: {outcome: SHARE_RVDK_MELDRECHT}\n", "    then: {outcome: SHARE_RVDK_MELDRECHT}\n    priority: 3\n", "unknown key 'priority'"),
    ("30-routes.yaml", "  - id: route.raad-kinderbescherming", "  - id: route.gi-ots.on-request", "duplicate rule id 'route.gi-ots.on-request'"),
    ("00-ruleset.yaml", "  - SEEK_CONSENT_FIRST\n", "", "outcome 'SEEK_CONSENT_FIRST' is missing from 'precedence:'"),
    ("10-questions.yaml", "    ask_when: {not: {share.recipient: colleague_involved}}\n",
     "    ask_when: {not: {share.recipient: colleague_involved}, consent.status: given}\n",
     "a condition is one 'key: value' pair"),
    ("10-questions.yaml", "    ask_when: {share.recipient: gi_ots}\n", "    ask_when: {consent.status: given}\n",
     "depends on 'consent.status', which is asked later"),
    ("30-routes.yaml", "when: {derived: rvdk_route}", "when: [{derived: rvdk_route}, {client.age: {at_least: 18}}]", "this can never fire"),
    ("30-routes.yaml", "when: {derived: rvdk_route}", "when: [{derived: rvdk_route}, {share.requested: true}]", "this can never fire"),
    ("30-routes.yaml", "    cites: [bw-1-240, avg-6-1-e]", "    cites: [handreiking-mensenhandel-2020]", "cannot rest on guidance alone"),
])
def test_mistakes_are_reported_with_position(tmp_path, file, old, new, expected):
    rules = copy_rules(tmp_path)
    edit(rules / file, old, new)
    problems = problems_of(rules)
    matching = [p for p in problems if expected in p]
    assert matching, "\n".join(problems)
    assert all(LINE.match(p) for p in problems)


def test_more_than_sixteen_patterns_is_rejected(tmp_path):
    rules = copy_rules(tmp_path)
    facts = [q for q in load_ruleset().questions if q.type == "bool"][:17]
    many = ", ".join(f"{{{q.fact}: true}}" for q in facts)
    edit(rules / "30-routes.yaml", "when: {derived: rvdk_route}", f"when: [{many}]")
    problems = problems_of(rules)
    assert any("the engine allows 16" in p for p in problems), "\n".join(problems)


def test_unknown_key_in_the_catalogue(tmp_path):
    import shutil
    sources = tmp_path / "sources"
    shutil.copytree(SOURCES, sources)
    edit(sources / "avg.yaml", "    status: verified", "    staus: verified")
    result = cli("rules", "check", "--sources", str(sources))
    assert result.returncode == 1
    assert re.search(r"avg\.yaml:\d+:\d+: unknown key 'staus'", result.stdout), result.stdout


def test_missing_directory_is_a_clear_error(tmp_path):
    result = cli("rules", "check", str(tmp_path / "nope"))
    assert result.returncode == 1
    assert "rule-set directory not found" in result.stdout
    assert "Traceback" not in result.stderr


def test_fingerprint_ignores_comments_but_not_meaning(tmp_path):
    base = load_ruleset().fingerprint
    rules = copy_rules(tmp_path)
    (rules / "30-routes.yaml").write_text("# a comment\n" + (rules / "30-routes.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    assert load_ruleset(rules).fingerprint == base
    edit(rules / "30-routes.yaml", "cites: [bw-1-240, avg-6-1-e]", "cites: [bw-1-240, avg-6-1-f]")
    assert load_ruleset(rules).fingerprint != base


def test_circular_derived_facts(tmp_path):
    rules = copy_rules(tmp_path)
    edit(rules / "20-derived.yaml", "    when: {client.age: {below: 16}}\n", "    when: [{client.age: {below: 16}}, {not: {derived: sixteen_plus}}]\n")
    edit(rules / "20-derived.yaml", "    when: {client.age: {at_least: 16}}\n", "    when: [{client.age: {at_least: 16}}, {not: {derived: under_16}}]\n")
    problems = problems_of(rules)
    assert any("derived facts depend on each other in a circle" in p and "under_16" in p for p in problems), "\n".join(problems)
