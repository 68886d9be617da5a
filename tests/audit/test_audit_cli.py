"""The `keys` and `audit` sub-commands: exit codes, one-line errors, no tracebacks."""
from __future__ import annotations

import argparse
import json

import pytest
from audit_helpers import ACTOR, append, make_decision, read_lines, write_lines

from audit import keys, record_decision
from cli import audit_cmd, keys_cmd

PASS = b"correct horse battery staple"


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="deelwijzer")
    sub = parser.add_subparsers(dest="command", required=True)
    keys_cmd.register(sub)
    audit_cmd.register(sub)
    args = parser.parse_args([str(a) for a in argv])
    return args.func(args)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """Keys made with `keys init`, trusted with `keys trust`, a log written with them."""
    d = tmp_path_factory.mktemp("cli")
    pw = d / "pw"
    pw.write_bytes(PASS + b"\n")
    assert run("keys", "init", "--out", d / "keys", "--owner", "Laptop 3", "--passphrase-file", pw) == 0
    tk = d / "trusted-keys.json"
    assert run("keys", "trust", d / "keys", "--trusted-keys", tk, "--owner", "Laptop 3") == 0
    key = keys.load_signing_key(d / "keys", PASS)
    return d, pw, tk, key


@pytest.fixture
def log(setup, tmp_path):
    d, pw, tk, key = setup
    log = tmp_path / "log.jsonl"
    for i in range(4):
        dec, ans = make_decision(i)
        record_decision(log, key, decision=dec, answers=ans, actor=ACTOR, case_ref_source=f"c{i}")
    return log


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1 and err.startswith("deelwijzer: "), err
    return err


def test_verify_clean_then_tampered(setup, log, capsys):
    _d, _pw, tk, _key = setup
    assert run("audit", "verify", log, "--trusted-keys", tk) == 0
    out = capsys.readouterr().out
    assert "RESULT: WARN records=5 failures=0" in out and "UNANCHORED" in out and "UNPINNED" in out
    assert run("audit", "verify", log, "--trusted-keys", tk, "--strict") == 1
    capsys.readouterr()
    lines = read_lines(log)
    del lines[2]
    write_lines(log, lines)
    assert run("audit", "verify", log, "--trusted-keys", tk) == 1
    out = capsys.readouterr().out
    assert f"{log}:3: CHAIN_BROKEN record " in out and "RESULT: FAIL" in out
    assert run("audit", "verify", log, "--trusted-keys", tk, "--format", "json") == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] is False and doc["failures"][0]["code"] == "CHAIN_BROKEN" and doc["failures"][0]["line"] == 3


def test_verify_usage_errors_exit_2(setup, log, tmp_path, capsys):
    _d, _pw, tk, _key = setup
    assert run("audit", "verify", tmp_path / "missing.jsonl", "--trusted-keys", tk) == 2
    assert "not found" in one_line_error(capsys)
    assert run("audit", "verify", log, "--trusted-keys", tmp_path / "missing.json") == 2
    assert "keys trust" in one_line_error(capsys)
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    assert run("audit", "verify", log, "--trusted-keys", bad) == 2
    assert "not valid JSON" in one_line_error(capsys)


def test_pin_checkpoint_prove_and_verify_proof(setup, log, tmp_path, capsys):
    d, pw, tk, _key = setup
    tk2 = tmp_path / "tk.json"
    tk2.write_bytes(tk.read_bytes())
    assert run("audit", "pin", log, "--trusted-keys", tk2) == 0
    held = tmp_path / "held.cp"
    assert run("audit", "checkpoint", log, "--key", d / "keys", "--passphrase-file", pw, "--out", held) == 0
    capsys.readouterr()
    assert run("audit", "verify", log, "--trusted-keys", tk2, "--checkpoint", held) == 0
    assert "RESULT: PASS records=5 failures=0 warnings=0" in capsys.readouterr().out
    assert run("audit", "show", log, "--format", "json") == 0
    rid = [json.loads(x)["record"]["record_id"] for x in capsys.readouterr().out.splitlines()][2]
    proof_file = tmp_path / "p.json"
    assert run("audit", "prove", log, "--id", rid, "--out", proof_file) == 0
    assert run("audit", "verify-proof", proof_file, "--trusted-keys", tk2) == 0
    assert f"PASS: record {rid}" in capsys.readouterr().out
    doc = json.loads(proof_file.read_text())
    doc["index"] += 1
    proof_file.write_text(json.dumps(doc))
    assert run("audit", "verify-proof", proof_file, "--trusted-keys", tk2) == 1
    # the auditor's checkpoint catches a removed tail
    write_lines(log, read_lines(log)[:-1])
    log.with_name("log.checkpoints.jsonl").unlink()
    capsys.readouterr()
    assert run("audit", "verify", log, "--trusted-keys", tk2, "--checkpoint", held) == 1
    assert "TRUNCATED" in capsys.readouterr().out


def test_wrong_passphrase_exit_2(setup, log, tmp_path, capsys):
    d, _pw, _tk, _key = setup
    wrong = tmp_path / "wrong"
    wrong.write_text("not it at all\n")
    assert run("audit", "checkpoint", log, "--key", d / "keys" / "private-key.ossh", "--passphrase-file", wrong) == 2
    msg = one_line_error(capsys)
    assert "wrong passphrase" in msg and PASS.decode() not in msg


def test_show_text_and_id(setup, log, capsys):
    assert run("audit", "show", log) == 0
    out = capsys.readouterr().out
    assert "NOT verified" in out and "advice     SHARE_DIRECTLY_INVOLVED (share) to colleague_involved" in out
    assert "J. de Vries, Jeugdteam Noord" in out and "hmac-sha256:" in out
    assert run("audit", "show", log, "--id", "00000000-0000-4000-8000-000000000000") == 2
    assert "no record" in one_line_error(capsys)


def test_repair_cli(setup, log, capsys):
    d, pw, tk, _key = setup
    data = log.read_bytes()
    log.write_bytes(data + b'{"payload":"eyJ')
    assert run("audit", "verify", log, "--trusted-keys", tk) == 1
    assert "TORN_TAIL" in capsys.readouterr().out
    assert run("audit", "repair", log, "--key", d / "keys", "--passphrase-file", pw) == 0
    out = capsys.readouterr().out
    assert "moved the torn tail" in out and "signed recovery record" in out
    assert log.read_bytes().startswith(data)
    assert run("audit", "verify", log, "--trusted-keys", tk) == 0
    assert "RECOVERED" in capsys.readouterr().out
    assert run("audit", "repair", log) == 0
    assert "nothing to repair" in capsys.readouterr().out


def test_keys_cli_errors(setup, tmp_path, capsys):
    d, pw, tk, key = setup
    assert run("keys", "init", "--out", d / "keys", "--owner", "x", "--passphrase-file", pw) == 2
    assert "refusing to overwrite" in one_line_error(capsys)
    assert run("keys", "revoke", key.key_id, "--trusted-keys", tk, "--at", "2026-13-01") == 2
    assert "not a date" in one_line_error(capsys)
    assert run("keys", "trust", tmp_path / "nope.pem", "--trusted-keys", tk, "--owner", "x") == 2
    assert "cannot read public key" in one_line_error(capsys)
    empty = tmp_path / "empty"
    empty.write_text("")
    assert run("keys", "init", "--out", tmp_path / "k2", "--owner", "x", "--passphrase-file", empty) == 2
    assert "empty" in one_line_error(capsys)


def test_revoke_cli_then_verify(setup, tmp_path, capsys):
    d, _pw, tk, key = setup
    tk2 = tmp_path / "tk.json"
    tk2.write_bytes(tk.read_bytes())
    log = tmp_path / "l.jsonl"
    append(log, key, 2)
    assert run("keys", "revoke", key.key_id[8:24], "--trusted-keys", tk2, "--at", "2000-01-01") == 0
    capsys.readouterr()
    assert run("audit", "verify", log, "--trusted-keys", tk2) == 1
    assert "KEY_NOT_VALID_AT_TIME" in capsys.readouterr().out


def test_auditor_mode_with_a_signed_trusted_keys_file(setup, log, tmp_path, capsys):
    d, pw, tk, key = setup
    tk2 = tmp_path / "tk.json"
    tk2.write_bytes(tk.read_bytes())
    assert run("keys", "init", "--out", tmp_path / "org", "--owner", "Privacy officer", "--passphrase-file", pw) == 0
    assert run("keys", "trust", tmp_path / "org", "--trusted-keys", tk2, "--owner", "Privacy officer",
               "--role", "trust") == 0
    assert run("audit", "pin", log, "--trusted-keys", tk2) == 0
    held = tmp_path / "held.cp"
    assert run("audit", "checkpoint", log, "--key", d / "keys", "--passphrase-file", pw, "--out", held) == 0
    assert run("audit", "verify", log, "--trusted-keys", tk2, "--checkpoint", held, "--strict") == 1
    assert "TRUST_FILE_UNAUTHENTICATED" in capsys.readouterr().out
    assert run("keys", "sign-trust", "--trusted-keys", tk2, "--key", tmp_path / "org", "--passphrase-file", pw) == 0
    capsys.readouterr()
    org_pem = tmp_path / "org" / "public-key.pem"
    assert run("audit", "verify", log, "--trusted-keys", tk2, "--checkpoint", held, "--strict",
               "--trusted-keys-signed-by", org_pem) == 0
    assert "RESULT: PASS records=5 failures=0 warnings=0" in capsys.readouterr().out
    # an edit (here: a revocation moved) is refused, and the editing command says the signature is stale
    assert run("keys", "revoke", key.key_id, "--trusted-keys", tk2, "--at", "2090-01-01") == 0
    assert "no longer matches" in capsys.readouterr().err
    assert run("audit", "verify", log, "--trusted-keys", tk2, "--checkpoint", held, "--strict",
               "--trusted-keys-signed-by", org_pem) == 1
    out = capsys.readouterr().out
    assert f"{log}: TRUST_FILE_UNAUTHENTICATED: " in out and "RESULT: FAIL records=0" in out


def test_verify_option_values_are_usage_errors(setup, log):
    _d, _pw, tk, _key = setup
    for bad in (["--time-tolerance", "nan"], ["--time-tolerance", "-5"], ["--time-tolerance", "inf"], ["--jobs", "0"]):
        with pytest.raises(SystemExit) as exc:
            run("audit", "verify", log, "--trusted-keys", tk, *bad)
        assert exc.value.code == 2


def test_keys_trust_warns_about_a_window_already_over_and_takes_roles(setup, tmp_path, capsys):
    d, _pw, _tk, _key = setup
    tk = tmp_path / "tk.json"
    assert run("keys", "trust", d / "keys", "--trusted-keys", tk, "--owner", "old laptop", "--valid-until",
               "2001-01-01", "--role", "record", "--role", "checkpoint") == 0
    captured = capsys.readouterr()
    assert "for record, checkpoint" in captured.out and "warning: the validity window" in captured.err
    with pytest.raises(SystemExit):
        run("keys", "trust", d / "keys", "--trusted-keys", tk, "--owner", "x", "--role", "admin")


def test_a_damaged_key_file_is_not_called_a_wrong_passphrase(setup, log, tmp_path, capsys):
    d, pw, _tk, _key = setup
    bad = tmp_path / "k"
    import shutil
    shutil.copytree(d / "keys", bad)
    text = (bad / "private-key.ossh").read_text().splitlines()
    text[1] = text[1][:10] + ("A" if text[1][10] != "A" else "B") + text[1][11:]  # inside the header
    (bad / "private-key.ossh").write_text("\n".join(text) + "\n")
    assert run("audit", "checkpoint", log, "--key", bad, "--passphrase-file", pw) == 2
    msg = one_line_error(capsys)
    assert "KEY_FILE_CORRUPTED" in msg and "wrong passphrase" not in msg
