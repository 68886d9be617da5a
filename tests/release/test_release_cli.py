"""The command line: `rules release`, `rules verify-release`, `decide --release`, and the auditor's
`audit verify --rules-archive RELEASES_DIR`, with real key files made by `keys init`."""
from __future__ import annotations

import base64
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from release_helpers import ROOT, complete_case, copy_release, rule_file, statement, writable

from audit import keys, trust
from audit.release import STATEMENT_FILE, create_release, open_release, release_line
from audit.timeutil import format_ts, now_ts
from cli.decide_cmd import UNRELEASED_LINE
from cli.main import main


@pytest.fixture(scope="session")
def keydirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Real key files: the privacy officer's release key and a professional's record key."""
    base = tmp_path_factory.mktemp("keys")
    pp = base / "passphrase"
    pp.write_text("correct horse battery\n")
    pp.chmod(0o600)
    for name, owner in (("fg", "Privacy officer (FG)"), ("prof", "J. de Vries")):
        assert main(["keys", "init", "--out", str(base / name), "--owner", owner, "--passphrase-file", str(pp)]) == 0
    return {"fg": base / "fg", "prof": base / "prof", "pp": pp}


@pytest.fixture(scope="session")
def fg_key(keydirs: dict[str, Path]) -> keys.SigningKey:
    return keys.load_signing_key(keydirs["fg"], b"correct horse battery")


@pytest.fixture(scope="session")
def fg_release(tmp_path_factory: pytest.TempPathFactory, ruleset, fg_key: keys.SigningKey) -> Path:
    """A release of the bundled rules signed with the officer's key file (copy it before changing it)."""
    return create_release(ruleset, fg_key, tmp_path_factory.mktemp("fg") / "release").path


@pytest.fixture
def env(tmp_path: Path, keydirs: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A trusted-keys file (officer: release, professional: record), an empty data home, a case file."""
    for var in ("DEELWIJZER_RELEASE", "DEELWIJZER_TRUSTED_KEYS", "DEELWIJZER_RULES"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("DEELWIJZER_HOME", str(tmp_path / "home"))
    tk = tmp_path / "trusted-keys.json"
    assert main(["keys", "trust", str(keydirs["fg"]), "--trusted-keys", str(tk), "--owner", "Privacy officer (FG)",
                 "--role", "release"]) == 0
    assert main(["keys", "trust", str(keydirs["prof"]), "--trusted-keys", str(tk), "--owner", "J. de Vries laptop"]) == 0
    return {**keydirs, "tk": tk, "log": tmp_path / "log.jsonl", "tmp": tmp_path}


@pytest.fixture(scope="session")
def case_file(tmp_path_factory: pytest.TempPathFactory, ruleset) -> Path:
    path = tmp_path_factory.mktemp("case") / "case.yaml"
    path.write_text(yaml.safe_dump({"case_id": "case-7", "answers": complete_case(ruleset)}, allow_unicode=True))
    return path


def decide(env: dict[str, Path], case: Path, *extra: str, sign: bool = True) -> list[str]:
    argv = ["decide", str(case), *extra]
    if sign:
        argv += ["--sign", "--key", str(env["prof"]), "--log", str(env["log"]), "--passphrase-file", str(env["pp"]),
                 "--professional", "J. de Vries", "--organisation", "Jeugdteam Noord"]
    return argv


def last_record(log: Path) -> dict:
    line = log.read_bytes().splitlines()[-1]
    return json.loads(base64.b64decode(json.loads(line)["payload"]))


# --- the privacy officer's path, end to end -----------------------------------------------------------

def test_the_whole_path_release_decide_and_replay(env, case_file, ruleset, ruleset_v2, capsys):
    releases = env["tmp"] / "releases"
    rel1, rel2 = releases / "2026-1", releases / "2026-2"
    fg = ["--key", str(env["fg"]), "--passphrase-file", str(env["pp"]), "--trusted-keys", str(env["tk"])]
    assert main(["rules", "release", *fg, "--out", str(rel1), "--notes", "Eerste vrijgave"]) == 0
    out = capsys.readouterr().out
    assert f"released {ruleset.name} {ruleset.version} {ruleset.fingerprint}" in out
    # the next version, compared with the one in use (`rules diff` inside the statement)
    assert main(["rules", "release", "--rules", str(ruleset_v2.rules_dir), *fg, "--out", str(rel2),
                 "--previous", str(rel1), "--valid-from", "2001-01-01"]) == 0
    out = capsys.readouterr().out
    assert f"changes since {ruleset.name} {ruleset.version}" in out
    changes = statement(rel2)["predicate"]["changes"]
    assert changes["previous"]["fingerprint"] == ruleset.fingerprint and changes["paths"] > 0
    assert changes["changed"] + changes["unchanged"] == changes["paths"]

    assert main(["rules", "verify-release", str(rel2), "--trusted-keys", str(env["tk"])]) == 0
    out = capsys.readouterr().out
    assert "RESULT: PASS" in out and "changes since" in out and "Privacy officer (FG), role release" in out

    # professionals decide on a release; the advice and the record name it
    assert main(decide(env, case_file, "--release", str(rel1), "--trusted-keys", str(env["tk"]))) == 0
    out = capsys.readouterr().out
    assert f"Vrijgave: {ruleset.name} {ruleset.version}, vrijgegeven door Privacy officer (FG)" in out
    fg_kid = keys.key_id_for(keys.load_public_key(env["fg"]))
    on_rel1 = last_record(env["log"])
    assert on_rel1["release"]["kid"] == fg_kid and on_rel1["ruleset"]["fingerprint"] == ruleset.fingerprint
    assert main(decide(env, case_file, "--release", str(rel2), "--trusted-keys", str(env["tk"]))) == 0
    assert last_record(env["log"])["release"]["statement"] != on_rel1["release"]["statement"]
    # on plain rule files they still can, but it says so
    assert main(decide(env, case_file)) == 0
    out = capsys.readouterr().out
    assert "Vrijgave: regels niet vrijgegeven" in out and last_record(env["log"])["release"] is None

    # the auditor replays every record against the directory of releases
    assert main(["audit", "verify", str(env["log"]), "--trusted-keys", str(env["tk"]), "--rules-archive",
                 str(releases)]) == 0
    out = capsys.readouterr().out
    assert "replayed=3" in out and "failures=0" in out
    # ... and a release changed afterwards makes the records made on it fail, with its reason code
    victim = writable(rule_file(rel1))
    victim.write_bytes(victim.read_bytes() + b"# edited\n")
    assert main(["audit", "verify", str(env["log"]), "--trusted-keys", str(env["tk"]), "--rules-archive",
                 str(releases)]) == 1
    out = capsys.readouterr().out
    # only the record made on it: the plain-rules record replays on the same rule set, which the edit
    # (a comment) did not change, and the record on the other release is untouched
    assert out.count("RELEASE_FILES_CHANGED") == 1 and "failures=1" in out
    assert f"{env['log']}:2: RELEASE_FILES_CHANGED" in out


# --- a bad release: exit 2, no advice, nothing recorded ------------------------------------------------

def _bad_release(kind: str, env, fg_release: Path, fg_key, ruleset) -> Path:
    target = env["tmp"] / f"bad-{kind}"
    if kind == "changed rule file":
        copy_release(fg_release, target)
        f = writable(rule_file(target))
        f.write_bytes(f.read_bytes().replace(b"\n", b"\n\n", 1))
    elif kind == "signed by a record key":
        create_release(ruleset, keys.load_signing_key(env["prof"], b"correct horse battery"), target)
    elif kind == "revoked signer":
        copy_release(fg_release, target)
        trust.revoke_key(env["tk"], fg_key.key_id, now_ts())
    elif kind == "not yet valid":
        create_release(ruleset, fg_key, target, valid_from=format_ts(dt.datetime.now(dt.UTC) + dt.timedelta(days=7)))
    elif kind == "statement removed":
        copy_release(fg_release, target)
        writable(target / STATEMENT_FILE).unlink()
    return target


@pytest.mark.parametrize("kind, code", [("changed rule file", "RELEASE_FILES_CHANGED"),
                                        ("signed by a record key", "KEY_ROLE_NOT_ALLOWED"),
                                        ("revoked signer", "KEY_NOT_VALID_AT_TIME"),
                                        ("not yet valid", "RELEASE_NOT_YET_VALID"),
                                        ("statement removed", "RELEASE_INVALID")])
def test_decide_on_a_bad_release_gives_exit_2_no_advice_and_no_record(env, case_file, fg_release, fg_key, ruleset,
                                                                      capsys, kind, code):
    bad = _bad_release(kind, env, fg_release, fg_key, ruleset)
    assert main(["rules", "verify-release", str(fg_release), "--trusted-keys", str(env["tk"])]) == (
        1 if kind == "revoked signer" else 0)  # the same release, unchanged, verifies
    assert main(decide(env, case_file)) == 0  # the log exists: nothing may be added to it
    before = env["log"].read_bytes()
    capsys.readouterr()
    for fmt in ("text", "json"):
        assert main(decide(env, case_file, "--release", str(bad), "--trusted-keys", str(env["tk"]),
                           "--format", fmt)) == 2
        captured = capsys.readouterr()
        assert captured.out == "", "no advice on a refused release"
        assert f"release {bad} refused: {code}" in captured.err
        assert "what to do:" in captured.err and "nothing was recorded" in captured.err
    assert env["log"].read_bytes() == before
    assert main(["rules", "verify-release", str(bad), "--trusted-keys", str(env["tk"])]) == 1
    assert f"RESULT: FAIL {code}" in capsys.readouterr().out


def test_decide_takes_the_release_from_the_environment(env, case_file, made, fg_release, ruleset, monkeypatch,
                                                       capsys):
    monkeypatch.setenv("DEELWIJZER_RELEASE", str(made))
    monkeypatch.setenv("DEELWIJZER_TRUSTED_KEYS", str(env["tk"]))
    assert main(["decide", str(case_file), "--format", "json"]) == 2  # made was signed by another key
    assert "UNTRUSTED_KEY" in capsys.readouterr().err
    rel = fg_release
    monkeypatch.setenv("DEELWIJZER_RELEASE", str(rel))
    assert main(["decide", str(case_file), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["release"]["fingerprint"] == ruleset.fingerprint and out["release"]["signer"] == "Privacy officer (FG)"
    # explicit plain rule files win over the environment, and say so
    assert main(["decide", str(case_file), "--rules", str(ruleset.rules_dir), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["release"] is None
    assert main(["decide", str(case_file), "--release", str(rel), "--rules", str(ruleset.rules_dir)]) == 2
    assert "leave out --rules" in capsys.readouterr().err


def test_the_default_trusted_keys_file_is_the_data_homes(env, case_file, fg_release, capsys):
    rel = fg_release
    assert main(["decide", str(case_file), "--release", str(rel)]) == 2
    err = capsys.readouterr().err
    assert "TRUST_FILE_INVALID" in err and str(env["tmp"] / "home" / "trusted-keys.json") in err
    (env["tmp"] / "home").mkdir()
    (env["tmp"] / "home" / "trusted-keys.json").write_bytes(env["tk"].read_bytes())
    assert main(["decide", str(case_file), "--release", str(rel)]) == 0


# --- rules release / verify-release: usage and failures -----------------------------------------------

def test_rules_release_refusals(env, ruleset, capsys, tmp_path):
    out = tmp_path / "r"
    base = ["rules", "release", "--key", str(env["prof"]), "--out", str(out)]
    bad_pp = tmp_path / "bad-pp"
    bad_pp.write_text("wrong passphrase\n")
    assert main([*base, "--passphrase-file", str(bad_pp)]) == 2
    assert "WRONG_PASSPHRASE" in capsys.readouterr().err and not out.exists()
    assert main([*base, "--passphrase-file", str(env["pp"]), "--trusted-keys", str(env["tk"])]) == 2
    err = capsys.readouterr().err
    assert "KEY_ROLE_NOT_ALLOWED" in err and "record key" in err and not out.exists()
    assert main([*base, "--passphrase-file", str(env["pp"]), "--previous", str(tmp_path)]) == 2
    assert "--previous needs --trusted-keys" in capsys.readouterr().err
    assert main([*base, "--passphrase-file", str(env["pp"]), "--valid-from", "tomorrow"]) == 2
    assert "--valid-from" in capsys.readouterr().err
    broken = tmp_path / "broken" / "rules"
    broken.mkdir(parents=True)
    (broken / "00-ruleset.yaml").write_text("ruleset: [\n")
    assert main(["rules", "release", "--rules", str(broken), "--key", str(env["fg"]), "--passphrase-file",
                 str(env["pp"]), "--out", str(out)]) == 1
    assert "00-ruleset.yaml" in capsys.readouterr().out and not out.exists()
    fg = ["--key", str(env["fg"]), "--passphrase-file", str(env["pp"])]
    assert main(["rules", "release", *fg, "--out", str(out)]) == 0
    assert "rules verify-release" in capsys.readouterr().err  # no trusted-keys file given: a note to check
    assert main(["rules", "release", *fg, "--out", str(out)]) == 2
    assert "never changed or overwritten" in capsys.readouterr().err


def test_verify_release_exit_codes_and_json(env, made, fg_release, tmp_path, capsys):
    assert main(["rules", "verify-release", str(tmp_path / "nowhere"), "--trusted-keys", str(env["tk"])]) == 2
    assert "release directory not found" in capsys.readouterr().err
    assert main(["rules", "verify-release", str(made), "--trusted-keys", str(tmp_path / "none.json")]) == 2
    assert "TRUST_FILE_INVALID" in capsys.readouterr().err
    assert main(["rules", "verify-release", str(made), "--trusted-keys", str(env["tk"]), "--format", "json"]) == 1
    fail = json.loads(capsys.readouterr().out)
    assert fail["ok"] is False and fail["code"] == "UNTRUSTED_KEY" and fail["hint"]
    assert main(["rules", "verify-release", str(fg_release), "--trusted-keys", str(env["tk"]), "--format",
                 "json"]) == 0
    ok = json.loads(capsys.readouterr().out)
    assert ok["ok"] is True and ok["signer"] == "Privacy officer (FG)" and len(ok["files"]) > 1


def test_release_notes_may_not_hold_control_characters(env, tmp_path, capsys):
    assert main(["rules", "release", "--key", str(env["fg"]), "--passphrase-file", str(env["pp"]), "--out",
                 str(tmp_path / "r"), "--notes", "Regel 1\n\x1b[31mrood\x1b[0m"]) == 2
    assert "notes" in capsys.readouterr().err and not (tmp_path / "r").exists()
    notes = tmp_path / "notes.txt"
    notes.write_text("Wat is er veranderd:\n\t- de leeftijdsgrens\n", encoding="utf-8")
    assert main(["rules", "release", "--key", str(env["fg"]), "--passphrase-file", str(env["pp"]), "--out",
                 str(tmp_path / "r"), "--notes-file", str(notes), "--trusted-keys", str(env["tk"])]) == 0
    capsys.readouterr()
    assert main(["rules", "verify-release", str(tmp_path / "r"), "--trusted-keys", str(env["tk"])]) == 0
    assert "  Wat is er veranderd:\n  \t- de leeftijdsgrens\n" in capsys.readouterr().out


# --- what plain rule files say, and what decide imports --------------------------------------------------

def test_plain_rule_files_say_regels_niet_vrijgegeven():
    for lang in ("nl", "en"):
        assert UNRELEASED_LINE[lang] == release_line(None, lang)
        assert "regels niet vrijgegeven" in UNRELEASED_LINE[lang]


def test_audit_show_names_the_release(env, case_file, fg_release, capsys):
    rel = fg_release
    made = open_release(rel, trust.load(env["tk"]))
    assert main(decide(env, case_file, "--release", str(rel), "--trusted-keys", str(env["tk"]))) == 0
    assert main(decide(env, case_file)) == 0
    capsys.readouterr()
    assert main(["audit", "show", str(env["log"])]) == 0
    out = capsys.readouterr().out
    assert f"release    {made.statement[:23]}… signed by {made.signer_key_id[:32]}…" in out
    assert "release    regels niet vrijgegeven" in out


def test_decide_on_plain_rules_loads_no_cryptography(case_file, tmp_path):
    probe = ("import sys, io, contextlib\nfrom cli.main import main\n"
             f"with contextlib.redirect_stdout(io.StringIO()):\n    rc = main(['decide', {str(case_file)!r}])\n"
             "print(rc, sorted({m.split('.')[0] for m in sys.modules} & {'cryptography', 'audit', 'textual'}))")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEELWIJZER_RELEASE")}
    env["DEELWIJZER_HOME"] = str(tmp_path)
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert out.stdout.strip() == "0 []", out.stderr
