"""`deelwijzer decide` and `rules archive|diff` honour their contract: the JSON shape, exit
codes (0 advice or incomplete, 1 problems found / advice changed, 2 bad input or usage),
``--explain``, a diff that names what a small edit does, and lean imports."""

from __future__ import annotations

import json
import os
import textwrap

import pytest
from engine_helpers import ROOT, assert_clean, complete_interview, copy_workspace, edit, run_cli, run_python

from engine import RulesetError, decide, load_ruleset
from engine.diff import compare


VT = {
    "professional.role": "jeugdhulpverlener",
    "share.recipient": "veilig_thuis",
    "share.purpose": "protection",
    "client.age": 15,
    "client.authority": "parents",
    "concern.exploitation": ["sexual"],
    "danger.structural": True,
    "share.data": ["identity", "signals", "health"],
}


@pytest.fixture(scope="module")
def vt_case(ruleset):
    return complete_interview(ruleset, VT)


def write(path, data) -> str:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    return str(path)


def test_decide_json_matches_the_contract(tmp_path, main, ruleset, vt_case):
    run = main("decide", write(tmp_path / "case.json", {"answers": vt_case}), "--format", "json")
    assert_clean(run)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert set(out) >= {"ruleset", "complete", "missing", "assumed", "ignored", "warnings", "advice"}
    assert out["ruleset"] == ruleset.meta()
    assert out["complete"] is True and out["missing"] == []
    adv = out["advice"]
    expected = decide(ruleset, vt_case).to_json()["advice"]
    assert adv == expected, "the CLI gives exactly the engine's decision"
    assert adv["verdict"] in ("share", "do_not_share", "consult_anonymised") and adv["recipient"] == "veilig_thuis"
    assert all({"id", "citation", "status"} == set(b) for b in adv["legal_bases"])
    assert set(adv["data"]) == {"allowed", "withheld"}
    assert sorted(adv["data"]["allowed"] + [w["category"] for w in adv["data"]["withheld"]]) == sorted(VT["share.data"])
    assert all(set(w) == {"category", "reason"} and w["reason"] for w in adv["data"]["withheld"])
    assert all({"rule", "text", "cites", "facts"} <= set(step) for step in adv["explanation"])
    assert "why_not" not in out, "only with --explain"


def test_decide_yaml_case_in_english_text(tmp_path, main, vt_case):
    case = tmp_path / "case.yaml"
    case.write_text(
        "case_id: t-1\ndescription: test\nanswers:\n" + "".join(f"  {k}: {json.dumps(v)}\n" for k, v in vt_case.items()),
        encoding="utf-8",
    )
    run = main("decide", case, "--lang", "en")
    assert_clean(run)
    assert run.returncode == 0, run.stderr
    assert "Veilig Thuis" in run.stdout and "art. 5.2.6 Wmo 2015" in run.stdout


def test_incomplete_case_exits_zero_with_what_is_missing(tmp_path, main, ruleset):
    answers = {"professional.role": "jeugdhulpverlener", "share.recipient": "police"}
    run = main("decide", write(tmp_path / "case.json", {"answers": answers}), "--format", "json")
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["complete"] is False and out["advice"] is None
    assert out["missing"] == decide(ruleset, answers).missing and out["missing"]


def test_decide_explain_says_why_not_and_what_next(tmp_path, main, ruleset):
    answers = complete_interview(
        ruleset,
        {
            "professional.role": "jeugdhulpverlener",
            "share.recipient": "police",
            "share.purpose": "protection",
            "client.age": 15,
            "client.authority": "parents",
            "share.requested": True,
            "share.data": ["identity"],
        },
        {"consent.status": "refused"},
    )
    run = main("decide", write(tmp_path / "case.json", {"answers": answers}), "--format", "json", "--explain", "--lang", "en")
    assert_clean(run)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["advice"]["verdict"] == "do_not_share"
    order = next(w for w in out["why_not"] if w["rule"] == "route.police-order")
    assert order["blockers"] == [
        {
            "fact": "share.legal_order",
            "needed": "share.legal_order = true",
            "answer": False,
            "next_step": ruleset.question("share.legal_order").next_step.en,
        }
    ]
    unblock = [n for n in out["advice"]["next_steps"] if n["kind"] == "unblock"]
    assert {"kind": "unblock", "fact": "share.legal_order", "rule": "route.police-order"}.items() <= unblock[0].items()
    text = main("decide", tmp_path / "case.json", "--explain", "--lang", "en")
    assert text.returncode == 0 and ruleset.question("share.legal_order").next_step.en in text.stdout


@pytest.mark.parametrize(
    "args, fragment",
    [
        ([], "the following arguments are required: case"),
        (["--format", "xml", "case.json"], "invalid choice: 'xml'"),
        (["case.json", "--rules", "/nonexistent/rules"], "/nonexistent/rules: rule-set directory not found"),
        (["case.json", "--sources", "/nonexistent/src"], "/nonexistent/src: catalogue directory not found"),
        (["case.json", "--sign"], "--sign needs --key KEY and --log LOG"),
    ],
    ids=["no-case", "bad-format", "rules-dir-missing", "sources-dir-missing", "sign-without-key"],
)
def test_decide_usage_errors_exit_two(tmp_path, main, monkeypatch, args, fragment):
    write(tmp_path / "case.json", {"answers": {}})
    monkeypatch.chdir(tmp_path)
    run = main("decide", *args)
    assert_clean(run)
    assert run.returncode == 2, run.output
    assert fragment in run.stderr, run.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["frobnicate"],
        ["rules"],
        ["rules", "check", "/nonexistent"],
        ["rules", "test", "/nonexistent"],
        ["rules", "diff", "/nonexistent"],
    ],
    ids=["unknown-command", "rules-without-action", "check-missing-dir", "test-missing-dir", "diff-missing-dir"],
)
def test_usage_errors_exit_two(main, args):
    run = main(*args)
    assert_clean(run)
    assert run.returncode == 2, run.output


def test_a_broken_rule_set_makes_decide_refuse(tmp_path, main, vt_case):
    rules = copy_workspace(tmp_path / "ws")
    edit(rules / "50-conditions.yaml", "then: {conditions: [record_in_dossier]}", "then: {conditions: [record_in_dosier]}")
    run = main("decide", write(tmp_path / "case.json", {"answers": vt_case}), "--rules", rules)
    assert_clean(run)
    assert run.returncode == 2
    assert "unknown condition 'record_in_dosier'" in run.stderr and "run 'deelwijzer rules check'" in run.stderr


def test_rules_archive_round_trip(tmp_path, main, ruleset):
    from engine.archive import load_archived

    run = main("rules", "archive", "--out", tmp_path / "archive")
    assert run.returncode == 0, run.stderr
    again = load_archived(tmp_path / "archive", ruleset.fingerprint)
    assert again.fingerprint == ruleset.fingerprint
    routes = tmp_path / "archive" / ruleset.fingerprint.split(":")[1] / "rules" / "30-routes.yaml"
    routes.write_text(routes.read_text(encoding="utf-8").replace("avg-6-1-c]", "avg-6-1-e]", 1), encoding="utf-8")
    with pytest.raises(RulesetError, match="archive was altered"):
        load_archived(tmp_path / "archive", ruleset.fingerprint)


# --- rules diff on a small edit ----------------------------------------------------------------

WGBO_COLLEAGUE = "    when: [{share.recipient: colleague_involved}, {derived: confidentiality_wgbo}]\n"


def test_rules_diff_of_identical_rule_sets(main):
    run = main("rules", "diff", ROOT / "rules", ROOT / "rules", "--recipient", "colleague_involved")
    assert_clean(run)
    assert run.returncode == 0, run.output
    assert " same advice, 0 changed " in run.stdout and "rules that differ" not in run.stdout


def test_rules_diff_names_a_changed_outcome(tmp_path, main):
    """The WGBO colleague route now concludes CONSULT_FIRST instead of SHARE_DIRECTLY_INVOLVED.

    The changed rule fires in both versions and only its conclusion changed: the diff must
    decide those paths, not skip them as "the same by construction" (engine/diff.py
    ``_same_on_path``; it once printed "3 same advice, 0 changed" and exited 0)."""
    new = copy_workspace(tmp_path / "ws")
    edit(
        new / "30-routes.yaml",
        WGBO_COLLEAGUE + "    then: {outcome: SHARE_DIRECTLY_INVOLVED}\n",
        WGBO_COLLEAGUE + "    then: {outcome: CONSULT_FIRST}\n",
    )
    run = main("rules", "diff", ROOT / "rules", new, "--recipient", "colleague_involved")
    assert_clean(run)
    assert "rules that differ: 1 (route.directly-involved.wgbo)" in run.stdout, run.stdout
    assert "1 x outcome: SHARE_DIRECTLY_INVOLVED -> CONSULT_FIRST" in run.stdout, run.stdout
    assert "e.g. professional.role=big_hulpverlener, share.recipient=colleague_involved" in run.stdout
    assert run.returncode == 1


def test_diff_reports_a_changed_citation(tmp_path, ruleset):
    """A changed legal source of a route that fires: the advice cites another article.

    Same cause as test_rules_diff_names_a_changed_outcome (once reported 0 changed)."""
    new = copy_workspace(tmp_path / "ws")
    edit(
        new / "30-routes.yaml",
        "    then: {outcome: SHARE_DIRECTLY_INVOLVED}\n    cites: [bw-7-457-2, avg-6-1-c]",
        "    then: {outcome: SHARE_DIRECTLY_INVOLVED}\n    cites: [bw-7-457-2, avg-6-1-e]",
    )
    report = compare(ruleset, load_ruleset(new, use_cache=False), recipient="colleague_involved")
    assert list(report.changes) == ["SHARE_DIRECTLY_INVOLVED: legal_bases: -avg-6-1-c, +avg-6-1-e"], report.changes
    assert report.changed == 1 and report.changes[next(iter(report.changes))].example["professional.role"] == "big_hulpverlener"


def test_diff_reports_a_changed_condition(tmp_path, ruleset):
    new = copy_workspace(tmp_path / "ws")
    edit(
        new / "30-routes.yaml",
        WGBO_COLLEAGUE,
        "    when: [{share.recipient: colleague_involved}, {derived: confidentiality_wgbo}, {share.data: {excludes: health}}]\n",
    )
    report = compare(ruleset, load_ruleset(new, use_cache=False), recipient="colleague_involved")
    assert report.changed_rules == ["route.directly-involved.wgbo"]
    assert report.paths == report.unchanged + report.changed and report.changed >= 1
    kind = next(iter(report.changes))
    assert kind.startswith("outcome: SHARE_DIRECTLY_INVOLVED -> "), report.changes
    assert "health" in report.changes[kind].example["share.data"]


def test_rules_diff_with_an_unknown_recipient_is_a_usage_error(main):
    run = main("rules", "diff", ROOT / "rules", "--recipient", "nobody")
    assert run.returncode == 2 and "is not a recipient of the new rule set" in run.stderr


# --- import hygiene ------------------------------------------------------------------------------

HEAVY = ("textual", "cryptography", "pydantic", "ruamel", "audit", "tui", "bcrypt", "fpdf")


def test_decide_without_sign_imports_nothing_heavy(tmp_path, bundled_env, vt_case):
    """``decide`` without ``--sign`` on a warm cache: no Textual, cryptography, pydantic,
    ruamel (nor audit or the interview), and not the checker either."""
    case = write(tmp_path / "case.json", {"answers": vt_case})
    script = textwrap.dedent(f"""
        import sys
        from cli.main import main
        code = main(["decide", {case!r}, "--format", "json"])
        heavy = sorted({{m.split(".")[0] for m in sys.modules}} & set({HEAVY!r}))
        print("EXIT", code, "HEAVY", ",".join(heavy) or "-", "CHECKER", "engine.checker" in sys.modules, file=sys.stderr)
    """)
    warm = run_python(script, env=bundled_env)  # the session's cache holds the rules after this
    assert warm.returncode == 0, warm.stderr
    done = run_python(script, env=bundled_env)
    assert done.returncode == 0, done.stderr
    assert "EXIT 0 HEAVY - CHECKER False" in done.stderr, done.stderr


def test_rules_check_never_imports_the_interview_or_audit(bundled_env):
    script = textwrap.dedent("""
        import sys
        from cli.main import main
        code = main(["rules", "check"])
        print("EXIT", code, "HEAVY", ",".join(sorted({m.split(".")[0] for m in sys.modules} & {"textual", "tui", "audit",
              "cryptography", "ruamel"})) or "-", file=sys.stderr)
    """)
    done = run_python(script, env=bundled_env)
    assert done.returncode == 0, done.stderr
    assert "EXIT 0 HEAVY -" in done.stderr, done.stderr


def test_decide_sign_with_only_the_contract_options(tmp_path, bundled_env, vt_case):
    """`decide CASE --sign --key KEY --log LOG --passphrase-file F` works without further
    configuration and writes a record that verifies (the organisation is recorded as not set)."""
    import audit.keys

    (tmp_path / "pw").write_text("a-long-passphrase-123\n")
    audit.keys.init_keypair(tmp_path / "keys", "Test", b"a-long-passphrase-123")
    case = write(tmp_path / "case.json", {"answers": vt_case})
    signing = {**bundled_env, "DEELWIJZER_HOME": str(tmp_path / "home")}
    signed = run_cli(
        "decide",
        case,
        "--sign",
        "--key",
        tmp_path / "keys",
        "--log",
        tmp_path / "log.jsonl",
        "--passphrase-file",
        tmp_path / "pw",
        "--format",
        "json",
        env=signing,
        timeout=60,
    )
    assert signed.returncode == 0, signed.stderr
    assert json.loads(signed.stdout)["audit_record"]
    assert "no organisation configured" in signed.stderr
    trusted = tmp_path / "trusted.json"
    trust = run_cli(
        "keys",
        "trust",
        tmp_path / "keys" / "public-key.pem",
        "--trusted-keys",
        trusted,
        "--owner",
        "Test",
        env=signing,
        timeout=60,
    )
    assert trust.returncode == 0, trust.output
    verified = run_cli("audit", "verify", tmp_path / "log.jsonl", "--trusted-keys", trusted, env=signing, timeout=60)
    assert verified.returncode == 0, verified.output
    (tmp_path / "wrong").write_text("not-the-passphrase-1\n")
    refused = run_cli(
        "decide",
        case,
        "--sign",
        "--key",
        tmp_path / "keys",
        "--log",
        tmp_path / "log.jsonl",
        "--passphrase-file",
        tmp_path / "wrong",
        env=signing,
        timeout=60,
    )
    assert_clean(refused)
    assert refused.returncode == 2 and "wrong passphrase" in refused.stderr
    assert os.path.getsize(tmp_path / "log.jsonl") > 0


def _summary(report):
    return (report.paths, report.unchanged, report.decided, sorted((k, c.paths) for k, c in report.changes.items()),
            dict(report.new_paths), dict(report.removed_paths))


def test_one_walk_for_both_versions_gives_the_same_report(tmp_path, ruleset, monkeypatch):
    """A change of rules only (the interview is the same) is compared on one relevance walk;
    the report must equal the one from walking both versions."""
    import engine.diff as diff

    new = copy_workspace(tmp_path / "ws")
    edit(new / "40-data.yaml", "then: {allow: [identity, contact, signals]}", "then: {allow: [identity, signals]}")
    changed = load_ruleset(new, use_cache=False)
    assert diff.same_interview(ruleset, changed)
    fast = _summary(compare(ruleset, changed, recipient="parent"))
    monkeypatch.setattr(diff, "same_interview", lambda old, new: False)
    slow = _summary(compare(ruleset, changed, recipient="parent"))
    assert fast == slow
    assert fast[3] and all("-contact" in kind for kind, _ in fast[3])


def test_a_moved_threshold_or_a_new_answer_is_not_the_same_interview(tmp_path, ruleset):
    import engine.diff as diff

    moved = copy_workspace(tmp_path / "moved")
    edit(moved / "00-ruleset.yaml", "    value: 12\n", "    value: 13\n")
    assert not diff.same_interview(ruleset, load_ruleset(moved, use_cache=False))
    texts = copy_workspace(tmp_path / "texts")
    edit(texts / "10-questions.yaml", "Hoe oud is de jongere?", "Wat is de leeftijd van de jongere?")
    assert diff.same_interview(ruleset, load_ruleset(texts, use_cache=False))
