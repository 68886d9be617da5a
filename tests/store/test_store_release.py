"""Where the organisation store and signed rule-set releases meet: `decide --sign --release REL --log URL`
records on the release (the record's ``release`` names it), the record arrives in the store byte for byte,
and `audit verify URL --rules-archive RELEASES` replays it on that release."""
from __future__ import annotations

import json
import os
import shutil
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
from store_helpers import local_log_id, payload, read_lines, stored_lines

from audit import keys, trust
from audit.release import create_release
from cli.main import main

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "release"))  # release_helpers
from release_helpers import complete_case


@pytest.fixture(scope="module")
def setup(tmp_path_factory, ruleset) -> dict[str, Any]:
    """A professional's record key and the privacy officer's release key (real key files), a trusted-keys
    file for both, one release of the bundled rules in a directory of releases, a complete case."""
    d = tmp_path_factory.mktemp("store-release")
    (d / "pw").write_text("a-long-passphrase-123\n")
    keys.init_keypair(d / "prof", "J. de Vries laptop", b"a-long-passphrase-123")
    keys.init_keypair(d / "fg", "Privacy officer (FG)", b"a-long-passphrase-123")
    tk = d / "trusted-keys.json"
    trust.trust_key(tk, d / "prof" / "public-key.pem", "J. de Vries laptop", roles=("record",))
    trust.trust_key(tk, d / "fg" / "public-key.pem", "Privacy officer (FG)", roles=("release",))
    officer = keys.load_signing_key(d / "fg", b"a-long-passphrase-123")
    rel = create_release(ruleset, officer, d / "releases" / "2026-1", notes="Eerste vrijgave")
    (d / "case.json").write_text(json.dumps({"case_id": "dossier-21", "answers": complete_case(ruleset)}))
    return {"dir": d, "tk": tk, "release": rel.path, "releases": d / "releases", "kid": rel.signer_key_id,
            "statement": rel.statement}


def test_decide_sign_on_a_release_to_the_store_records_the_release_and_verifies(store, setup, tmp_path, monkeypatch,
                                                                               capsys):
    d, local = setup["dir"], tmp_path / "local.jsonl"
    for var in ("DEELWIJZER_RELEASE", "DEELWIJZER_TRUSTED_KEYS", "DEELWIJZER_RULES"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("DEELWIJZER_HOME", str(tmp_path / "home"))
    argv = ["decide", str(d / "case.json"), "--release", str(setup["release"]), "--trusted-keys", str(setup["tk"]),
            "--sign", "--key", str(d / "prof"), "--passphrase-file", str(d / "pw"), "--log", store.writer,
            "--local-log", str(local), "--professional", "J. de Vries", "--organisation", "Jeugdteam Noord",
            "--format", "json"]
    capsys.readouterr()
    assert main(argv) == 0
    out = capsys.readouterr()
    assert "stored in postgresql://" in out.err and "2 new, 0 waiting" in out.err  # genesis and the record, out.err
    shown = json.loads(out.out)
    assert shown["release"]["statement"] == setup["statement"] and shown["audit_record"]

    # the record names the release, and the store holds exactly the local log's lines
    lines = read_lines(local)
    rec = payload(lines[-1])
    assert rec["release"] == {"kid": setup["kid"], "statement": setup["statement"]}
    assert rec["record_id"] == shown["audit_record"]
    assert stored_lines(store, local_log_id(local)) == [ln.rstrip(b"\n") for ln in lines]

    # the auditor verifies the store, replaying the record on the release it names
    verify = ["audit", "verify", store.auditor, "--trusted-keys", str(setup["tk"]), "--rules-archive",
              str(setup["releases"])]
    assert main(verify) == 0, capsys.readouterr().out
    out = capsys.readouterr().out
    assert "replayed=1" in out and "failures=0" in out, out

    # a release changed after signing makes the stored record made on it fail, with the release's code
    copy = tmp_path / "releases"
    shutil.copytree(setup["releases"], copy, symlinks=True)
    victim = sorted(copy.glob("*/*/rules/*.yaml"))[-1]
    os.chmod(victim, os.stat(victim).st_mode | stat.S_IWUSR)
    victim.write_bytes(victim.read_bytes() + b"# edited\n")
    assert main([*verify[:-1], str(copy)]) == 1
    out = capsys.readouterr().out
    assert "RELEASE_FILES_CHANGED" in out, out
