"""`deelwijzer decide` honours the contract: JSON shape, exit codes, clear input errors."""
from __future__ import annotations

import json
import subprocess
import sys

from engine_helpers import ROOT

VT_CASE = """answers:
  professional.role: jeugdhulpverlener
  share.recipient: veilig_thuis
  share.purpose: protection
  client.age: 15
  concern.exploitation: [sexual]
  concern.parent_suspected: false
  danger.structural: true
  share.data: [identity, signals, health]
"""


def run(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "cli.main", *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_decide_json_matches_the_contract(tmp_path):
    case = tmp_path / "case.yaml"
    case.write_text(VT_CASE, encoding="utf-8")
    result = run("decide", case, "--format", "json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert set(out) >= {"ruleset", "complete", "missing", "advice"}
    assert set(out["ruleset"]) == {"name", "version", "fingerprint"}
    assert out["complete"] is True and out["missing"] == []
    adv = out["advice"]
    assert adv["outcome"] == "MELD_VEILIG_THUIS" and adv["verdict"] == "share" and adv["recipient"] == "veilig_thuis"
    assert {"id": "wmo-5.2.6", "citation": "art. 5.2.6 Wmo 2015"}.items() <= next(
        b for b in adv["legal_bases"] if b["id"] == "wmo-5.2.6").items()
    assert set(adv["data"]) == {"allowed", "withheld"}
    assert all(set(w) == {"category", "reason"} for w in adv["data"]["withheld"])
    assert all({"rule", "text", "cites"} <= set(step) for step in adv["explanation"])


def test_json_case_file_and_english(tmp_path):
    case = tmp_path / "case.json"
    case.write_text(json.dumps({"answers": {"professional.role": "jeugdhulpverlener", "share.recipient": "colleague_involved"}}))
    result = run("decide", case, "--format", "text", "--lang", "en")
    assert result.returncode == 0, result.stderr
    assert "Share" in result.stdout and "art. 7.3.11 lid 2 onder a Jeugdwet" in result.stdout


def test_incomplete_case_exits_zero_with_missing(tmp_path):
    case = tmp_path / "case.yaml"
    case.write_text("answers: {professional.role: jeugdhulpverlener, share.recipient: police}\n")
    result = run("decide", case, "--format", "json")
    assert result.returncode == 0
    out = json.loads(result.stdout)
    assert out["complete"] is False and out["advice"] is None and out["missing"] == ["client.age"]


def test_bad_value_names_fact_and_allowed_values(tmp_path):
    case = tmp_path / "case.yaml"
    case.write_text("answers: {professional.role: jeugdhulpverlener, share.recipient: politie}\n")
    result = run("decide", case)
    assert result.returncode == 2
    assert "share.recipient" in result.stderr and "allowed:" in result.stderr and "police" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_fact_and_out_of_range_age(tmp_path):
    case = tmp_path / "case.yaml"
    case.write_text("answers: {client.agee: 15}\n")
    result = run("decide", case)
    assert result.returncode == 2 and "client.agee: unknown fact id" in result.stderr
    case.write_text("answers: {professional.role: jeugdhulpverlener, share.recipient: police, client.age: 30}\n")
    result = run("decide", case)
    assert result.returncode == 2 and "client.age" in result.stderr and "0 to 23" in result.stderr


def test_broken_case_files(tmp_path):
    missing = run("decide", tmp_path / "nope.yaml")
    assert missing.returncode == 2 and "case file not found" in missing.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("answers: {client.age: 15\n")
    result = run("decide", bad)
    assert result.returncode == 2 and "bad.yaml:" in result.stderr and "Traceback" not in result.stderr
    no_answers = tmp_path / "x.yaml"
    no_answers.write_text("facts: {}\n")
    result = run("decide", no_answers)
    assert result.returncode == 2 and "'answers:'" in result.stderr


def test_usage_errors_exit_two():
    assert run("decide").returncode == 2
    assert run("frobnicate").returncode == 2


def test_rules_test_and_coverage_exit_codes(tmp_path):
    result = run("rules", "test")
    assert result.returncode == 0, result.stdout
    assert " passed, 0 failed" in result.stdout
    assert run("rules", "coverage").returncode == 0


def test_rules_archive_round_trip(tmp_path, ruleset):
    from engine.archive import load_archived
    result = run("rules", "archive", "--out", tmp_path / "archive")
    assert result.returncode == 0, result.stderr
    again = load_archived(tmp_path / "archive", ruleset.fingerprint)
    assert again.fingerprint == ruleset.fingerprint
    # tampering with the archived copy is detected
    routes = tmp_path / "archive" / ruleset.fingerprint.split(":")[1] / "rules" / "30-routes.yaml"
    routes.write_text(routes.read_text(encoding="utf-8").replace("avg-6-1-e]", "avg-6-1-f]", 1), encoding="utf-8")
    import pytest
    from engine import RulesetError
    with pytest.raises(RulesetError, match="archive was altered"):
        load_archived(tmp_path / "archive", ruleset.fingerprint)


def test_decide_sign_with_only_the_contract_options(tmp_path):
    """`decide CASE --sign --key KEY --log LOG --passphrase-file F` works without further
    configuration and writes a record that verifies (the organisation is recorded as not set)."""
    import os
    import audit.keys
    (tmp_path / "pw").write_text("a-long-passphrase-123\n")
    audit.keys.init_keypair(tmp_path / "keys", "Test", b"a-long-passphrase-123")
    case = tmp_path / "case.yaml"
    case.write_text(VT_CASE, encoding="utf-8")
    env = {**os.environ, "DEELWIJZER_HOME": str(tmp_path / "home")}
    env.pop("DEELWIJZER_PROFESSIONAL", None)
    env.pop("DEELWIJZER_ORGANISATION", None)

    def dw(*args):
        return subprocess.run([sys.executable, "-m", "cli.main", *map(str, args)], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)
    signed = dw("decide", case, "--sign", "--key", tmp_path / "keys", "--log", tmp_path / "log.jsonl",
                "--passphrase-file", tmp_path / "pw", "--format", "json")
    assert signed.returncode == 0, signed.stderr
    assert json.loads(signed.stdout)["audit_record"]
    assert "no organisation configured" in signed.stderr
    trusted = tmp_path / "trusted.json"
    assert dw("keys", "trust", tmp_path / "keys" / "public-key.pem", "--trusted-keys", trusted, "--owner", "Test").returncode == 0
    verified = dw("audit", "verify", tmp_path / "log.jsonl", "--trusted-keys", trusted)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    wrong = tmp_path / "wrong"
    wrong.write_text("not-the-passphrase-1\n")
    refused = dw("decide", case, "--sign", "--key", tmp_path / "keys", "--log", tmp_path / "log.jsonl", "--passphrase-file", wrong)
    assert refused.returncode == 2 and "wrong passphrase" in refused.stderr and "Traceback" not in refused.stderr


def test_rules_diff_shows_what_a_change_does(tmp_path, ruleset):
    """A privacy officer narrows the GI own-initiative right to under-16s; the diff names the
    affected paths (16- and 17-year-olds under an OTS) and how their advice changes."""
    from engine import load_ruleset
    from engine.diff import compare
    from engine_helpers import copy_rules
    changed = copy_rules(tmp_path)
    path = changed / "30-routes.yaml"
    old = "    when: [{derived: gi_route}, {share.requested: false}]"
    path.write_text(path.read_text(encoding="utf-8").replace(old, old[:-1] + ", {client.age: {below: 16}}]"), encoding="utf-8")
    report = compare(ruleset, load_ruleset(changed), recipient="gi_ots")
    assert report.paths > 0 and report.changed > 0
    kinds = list(report.changes)
    assert kinds[0].startswith("outcome: SHARE_LEGAL_OBLIGATION -> ")
    example = report.changes[kinds[0]].example
    assert example["client.age"] >= 16 and example["share.requested"] is False
    assert report.unchanged > 0  # the paths under 16, on request, without OTS keep their advice
    result = run("rules", "diff", ROOT / "rules", changed, "--recipient", "gi_ots")
    assert result.returncode == 1 and "SHARE_LEGAL_OBLIGATION -> " in result.stdout
    assert run("rules", "diff", ROOT / "rules", "--recipient", "nobody").returncode == 2
