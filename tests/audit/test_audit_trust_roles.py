"""Key roles, the authenticated trusted-keys file and the auditor's mode (--strict)."""
from __future__ import annotations

import json

import pytest
from audit_helpers import ACTOR, append, make_decision, pin, read_lines, trust_file

from audit import open_envelope, record_decision, trust, verify_log, write_checkpoint
from audit.codes import Code
from audit.envelope import RECORD_TYPE
from audit.errors import EnvelopeError, TrustFileError
from audit.keys import SigningKey, public_key_pem


def _add(tk, key, owner, roles, tmp_path):
    pem = tmp_path / f"{owner}.pem"
    pem.write_text(public_key_pem(key.public_key))
    return trust.trust_key(tk, pem, owner, roles=roles)


@pytest.fixture(scope="module")
def org():
    return SigningKey.generate()


def test_a_file_without_roles_loads_with_every_key_a_record_key(tmp_path, key):
    tk = tmp_path / "old.json"
    doc = {"version": 1, "keys": [{"key_id": key.key_id, "owner": "old", "public_key": public_key_pem(key.public_key),
                                   "valid_from": None, "valid_until": None, "revoked_at": None}], "logs": []}
    tk.write_text(json.dumps(doc))
    store = trust.load(tk)
    assert store.keys[key.key_id].roles == frozenset({"record"})
    log = tmp_path / "log.jsonl"
    append(log, key, 2)
    assert verify_log(log, store).ok


def test_open_envelope_returns_payload_and_key_or_a_reason(tmp_path, key, attacker):
    tk = trust_file(tmp_path / "tk.json", key, valid_from="2000-01-01T00:00:00.000Z")
    log = tmp_path / "log.jsonl"
    append(log, key, 1)
    line = read_lines(log)[1][:-1]
    store = trust.load(tk)
    opened = open_envelope(line, RECORD_TYPE, store, ("record",))
    assert opened.key.key_id == key.key_id and opened.payload.startswith(b'{"actor"')
    for roles, payload_type, code in [(("release",), RECORD_TYPE, Code.KEY_ROLE_NOT_ALLOWED),
                                      (("record",), "application/vnd.other+json", Code.MALFORMED_RECORD)]:
        with pytest.raises(EnvelopeError) as exc:
            open_envelope(line, payload_type, store, roles)
        assert exc.value.code is code
    with pytest.raises(EnvelopeError) as exc:
        open_envelope(line, RECORD_TYPE, trust.load(trust_file(tmp_path / "other.json", attacker)), ("record",))
    assert exc.value.code is Code.UNTRUSTED_KEY
    with pytest.raises(EnvelopeError) as exc:
        open_envelope(line, RECORD_TYPE, store, ("record",), at="1999-01-01T00:00:00.000Z")
    assert exc.value.code is Code.KEY_NOT_VALID_AT_TIME
    assert exc.value.code.kind == "failure"


def test_records_signed_by_a_key_without_the_record_role_fail(tmp_path, key):
    releaser = SigningKey.generate()
    log = tmp_path / "log.jsonl"
    append(log, key, 2)
    d, a = make_decision(5)
    record_decision(log, releaser, decision=d, answers=a, actor=ACTOR, case_ref_source="x")
    tk = trust_file(tmp_path / "tk.json", key)
    _add(tk, releaser, "releases", ["release", "checkpoint"], tmp_path)
    report = verify_log(log, tk)
    assert [(f.line, f.code) for f in report.failures] == [(4, Code.KEY_ROLE_NOT_ALLOWED)]
    assert "trusted for checkpoint, release, not for record" in report.failures[0].message


def test_a_record_key_may_checkpoint_only_the_log_it_writes(tmp_path, key):
    other = SigningKey.generate()
    log = tmp_path / "log.jsonl"
    append(log, key, 3)
    tk = trust_file(tmp_path / "tk.json", key, other)  # both record keys; `other` never wrote to this log
    held = tmp_path / "held.cp"
    write_checkpoint(log, other, export_to=held)
    report = verify_log(log, tk, checkpoints=[held])
    assert Code.KEY_ROLE_NOT_ALLOWED in [f.code for f in report.failures] and report.anchored == 0
    tk2 = trust_file(tmp_path / "tk2.json", key)
    _add(tk2, other, "organisation tree heads", ["checkpoint"], tmp_path)
    assert verify_log(log, tk2, checkpoints=[held]).ok


def test_a_signed_trusted_keys_file_refuses_edits(tmp_path, key, org, attacker):
    log = tmp_path / "log.jsonl"
    append(log, key, 3)
    tk = trust_file(tmp_path / "tk.json", key)
    pin(log, tk)
    _add(tk, org, "Privacy officer", ["trust"], tmp_path)
    with pytest.raises(TrustFileError) as exc:  # only a trust key may sign
        trust.sign(tk, key)
    assert exc.value.code is Code.KEY_ROLE_NOT_ALLOWED
    trust.sign(tk, org)
    report = verify_log(log, tk, trusted_keys_signed_by=org.key_id)
    assert report.ok and "signed by" in (report.trusted_keys_authenticated or "")
    # an editor adds their own key (and could re-sign the file with it -- but the auditor names the org key)
    _add(tk, attacker, "intruder", ["record", "trust"], tmp_path)
    assert trust.stale_signature_note(tk)
    report = verify_log(log, tk, trusted_keys_signed_by=org.key_id)
    assert [f.code for f in report.failures] == [Code.TRUST_FILE_UNAUTHENTICATED] and report.records == 0
    assert "changed after it was signed" in report.failures[0].message
    trust.sign(tk, attacker)
    report = verify_log(log, tk, trusted_keys_signed_by=org.key_id)
    assert [f.code for f in report.failures] == [Code.TRUST_FILE_UNAUTHENTICATED]
    assert "not by the expected key" in report.failures[0].message
    trust.signature_path(tk).unlink()
    assert [f.code for f in verify_log(log, tk, trusted_keys_signed_by=org.key_id).failures] == [
        Code.TRUST_FILE_UNAUTHENTICATED]


def test_an_expected_hash_pins_the_trusted_keys_file(tmp_path, key):
    log = tmp_path / "log.jsonl"
    append(log, key, 2)
    tk = trust_file(tmp_path / "tk.json", key)
    digest = trust.load(tk).sha256
    assert verify_log(log, tk, trusted_keys_sha256=digest).ok
    tk.write_text(tk.read_text().replace('"owner 0"', '"owner 0 "'))
    report = verify_log(log, tk, trusted_keys_sha256=digest)
    assert [f.code for f in report.failures] == [Code.TRUST_FILE_UNAUTHENTICATED]
    with pytest.raises(TrustFileError) as exc:
        verify_log(log, tk, trusted_keys_sha256="xyz")
    assert exc.value.code is Code.INVALID_ARGUMENT


def test_auditor_mode_fails_what_the_default_mode_only_says(tmp_path, key, org):
    log = tmp_path / "log.jsonl"
    append(log, key, 2)
    tk = trust_file(tmp_path / "tk.json", key)
    default = verify_log(log, tk)
    assert default.ok and {w.code for w in default.warnings} == {Code.UNPINNED, Code.UNANCHORED}
    strict = verify_log(log, tk, strict=True)  # an unauthenticated trusted-keys file: nothing else is checked
    assert [f.code for f in strict.failures] == [Code.TRUST_FILE_UNAUTHENTICATED]
    digest = trust.load(tk).sha256
    strict = verify_log(log, tk, strict=True, trusted_keys_sha256=digest)
    assert not strict.ok and {f.code for f in strict.failures} == {Code.UNPINNED, Code.UNANCHORED}
    pin(log, tk)
    held = tmp_path / "held.cp"
    write_checkpoint(log, key, export_to=held)
    digest = trust.load(tk).sha256
    assert verify_log(log, tk, strict=True, trusted_keys_sha256=digest, checkpoints=[held]).ok


def test_keys_trust_roles_and_windows(tmp_path, key):
    tk = tmp_path / "tk.json"
    pem = tmp_path / "k.pem"
    pem.write_text(public_key_pem(key.public_key))
    entry = trust.trust_key(tk, pem, "laptop", valid_until="2001-01-01T00:00:00.000Z", roles=["record", "checkpoint"])
    assert entry.roles == ["record", "checkpoint"]
    assert trust.window_warnings(entry) and "ended at 2001-01-01" in trust.window_warnings(entry)[0]
    with pytest.raises(TrustFileError) as exc:
        trust.trust_key(tmp_path / "tk2.json", pem, "x", roles=["admin"])  # type: ignore[list-item]
    assert exc.value.code is Code.INVALID_ARGUMENT
