"""Trusted-keys file handling and building records from the engine's JSON."""
from __future__ import annotations

import json

import pytest
from audit_helpers import ACTOR, make_decision, trust_file

from audit import record_decision, trust
from audit.errors import RecordError, TrustFileError
from audit.keys import SigningKey, public_key_pem
from audit.timeutil import parse_user_time


def test_trust_revoke_pin_round_trip(tmp_path, key):
    tk = trust_file(tmp_path / "tk.json", key, valid_from="2026-01-01T00:00:00.000Z")
    store = trust.load(tk)
    assert list(store.keys) == [key.key_id]
    assert store.invalid_at(key.key_id, "2025-12-31T23:59:59.999Z")
    assert store.invalid_at(key.key_id, "2026-01-01T00:00:00.000Z") is None
    trust.revoke_key(tk, key.key_id[8:20], "2026-06-01T00:00:00.000Z")  # by hex prefix
    store = trust.load(tk)
    assert store.invalid_at(key.key_id, "2026-05-31T23:59:59.999Z") is None
    assert "revoked" in store.invalid_at(key.key_id, "2026-06-01T00:00:00.000Z")
    with pytest.raises(TrustFileError, match="only be moved earlier"):
        trust.revoke_key(tk, key.key_id, "2026-07-01T00:00:00.000Z")
    trust.revoke_key(tk, key.key_id, "2026-05-01T00:00:00.000Z")
    trust.pin_log(tk, "3f1c0a9e-2b7d-4c55-9a1e-0f2f6b8d7c11", "ab" * 32)
    assert trust.load(tk).logs == {"3f1c0a9e-2b7d-4c55-9a1e-0f2f6b8d7c11": "ab" * 32}
    with pytest.raises(TrustFileError, match="another genesis"):
        trust.pin_log(tk, "3f1c0a9e-2b7d-4c55-9a1e-0f2f6b8d7c11", "cd" * 32)


def test_trust_refuses_duplicates_and_unknown_keys(tmp_path, key):
    tk = trust_file(tmp_path / "tk.json", key)
    pem = tmp_path / "k.pem"
    pem.write_text(public_key_pem(key.public_key))
    with pytest.raises(TrustFileError, match="already in"):
        trust.trust_key(tk, pem, "again")
    with pytest.raises(TrustFileError, match="no key"):
        trust.revoke_key(tk, "deadbeef00", "2026-01-01T00:00:00.000Z")
    with pytest.raises(TrustFileError, match="too short"):
        trust.revoke_key(tk, "dead", "2026-01-01T00:00:00.000Z")


@pytest.mark.parametrize("content, match", [
    ("{", "not valid JSON"),
    ('{"version": 1, "keys": [], "extra": 1}', "invalid at extra"),
    ('{"version": 2, "keys": []}', "invalid at version"),
    ('{"version": 1, "keys": [{"key_id": "ed25519:00", "owner": "x", "public_key": "x"}]}', "invalid at keys.0.key_id"),
])
def test_malformed_trust_files(tmp_path, content, match):
    f = tmp_path / "tk.json"
    f.write_text(content)
    with pytest.raises(TrustFileError, match=match):
        trust.load(f)
    with pytest.raises(TrustFileError, match="does not exist"):
        trust.load(tmp_path / "missing.json")


def test_non_ed25519_key_is_refused(tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    pem = tmp_path / "p256.pem"
    pem.write_bytes(ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    with pytest.raises(Exception, match="only Ed25519"):
        trust.trust_key(tmp_path / "tk.json", pem, "x")


def test_user_times():
    assert parse_user_time("2026-03-01") == "2026-03-01T00:00:00.000Z"
    assert parse_user_time("2026-03-01T09:00:00+01:00") == "2026-03-01T08:00:00.000Z"
    assert parse_user_time("2026-03-01T08:00:00Z") == "2026-03-01T08:00:00.000Z"
    with pytest.raises(ValueError, match="no time zone"):
        parse_user_time("2026-03-01T09:00:00")
    with pytest.raises(ValueError, match="not a date"):
        parse_user_time("tomorrow")


# --- records ------------------------------------------------------------------------------------

def _rec(tmp_path, key, **changes):
    d, a = make_decision()
    actor = changes.pop("actor", ACTOR)
    for path, value in changes.items():
        target = d
        *parents, last = path.split("__")
        for p in parents:
            target = target[p]
        target[last] = value
    return record_decision(tmp_path / "log.jsonl", key, decision=d, answers=a, actor=actor, case_ref_source="c")


def test_record_contents(tmp_path, key):
    rec = _rec(tmp_path, key)
    lines = (tmp_path / "log.jsonl").read_bytes().splitlines()
    assert rec.line == 2 and rec.seq == 1 and len(lines) == 2  # genesis + the record
    import base64
    body = json.loads(base64.b64decode(json.loads(lines[1])["payload"]))
    assert set(body) == {"v", "type", "log_id", "seq", "prev", "ts", "kid", "record_id", "app", "actor", "case_ref",
                         "pseudonym_key_id", "ruleset", "release", "answers", "advice", "fired_rules"}
    assert body["release"] is None  # decided on plain rule files: "regels niet vrijgegeven"
    assert body["case_ref"] == key.case_ref("c") and body["case_ref"] != "c"
    assert body["actor"] == {"professional": "J. de Vries", "organisation": "Jeugdteam Noord"}
    assert body["advice"]["legal_bases"][1] == {"id": "uavg-30", "citation": "art. 30 lid 3 onder a UAVG",
                                                "status": "secondary"}
    assert "facts" not in body["advice"]["explanation"][0]  # only the contract's fields are stored
    assert body["fired_rules"] == ["confidentiality_jeugdwet"] and body["app"]["name"] == "deelwijzer"
    assert list(body["answers"]) == sorted(body["answers"])


@pytest.mark.parametrize("changes, match", [
    ({"complete": False, "missing": ["client.age"]}, "incomplete.*client.age"),
    ({"advice": None}, "incomplete"),
    ({"advice__outcome": "share with Jan Jansen"}, "advice.outcome"),
    ({"ruleset__fingerprint": "md5:00"}, "ruleset.fingerprint"),
    ({"advice__data": {"allowed": []}}, "no 'withheld'"),
    ({"actor": {"name": "", "organisation": "x"}}, "professional name is not configured"),
    ({"actor": {"professional": "x", "organisation": "y", "client": "Jan"}}, "unknown field"),
])
def test_bad_input_gives_a_clear_error_and_writes_nothing(tmp_path, key, changes, match):
    with pytest.raises(RecordError, match=match):
        _rec(tmp_path, key, **changes)
    assert not (tmp_path / "log.jsonl").exists() or (tmp_path / "log.jsonl").read_bytes() == b""


def test_answers_with_free_text_are_refused(tmp_path, key):
    d, a = make_decision()
    a["share.recipient"] = "Jan Jansen, Dorpsstraat 1"
    with pytest.raises(RecordError, match="answers.share.recipient"):
        record_decision(tmp_path / "log.jsonl", key, decision=d, answers=a, actor=ACTOR, case_ref_source="c")


def test_tui_actor_shape_is_accepted(tmp_path, key):
    rec = _rec(tmp_path, key, actor={"name": "A. Bakker", "organisation": "Wijkteam Zuid"})
    assert rec.seq == 1


def test_audit_never_imports_textual():
    import subprocess
    import sys
    code = ("import sys, audit, audit.verify, audit.proof, audit.replay, audit.checkpoint, cli.audit_cmd, cli.keys_cmd; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'tui', 'engine')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root)
    assert out.returncode == 0, out.stdout + out.stderr


def test_fresh_key_is_distinct():
    assert SigningKey.generate().key_id != SigningKey.generate().key_id
