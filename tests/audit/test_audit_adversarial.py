"""The adversarial suite (issue 4, 'Must show'): every manipulation is rejected with its reason code."""
from __future__ import annotations

import base64
import json
import uuid

import pytest

from audit.codes import Code
from audit import verify_log, write_checkpoint
from audit.errors import TrustFileError
from audit.timeutil import format_ts, parse_ts

from audit_helpers import (append, codes_of, keep_signature, payload_of, read_lines, rechain, resign, trust_file,
                           write_lines)


def first(report):
    assert not report.ok, "the manipulated log was accepted"
    return report.failures[0].line, report.failures[0].code




def test_clean_log_is_accepted(clean_log):
    log, tk = clean_log
    report = verify_log(log, tk)
    assert report.ok and report.failures == []
    assert report.records == 12
    assert [w.code for w in report.warnings] == [Code.UNANCHORED]  # no checkpoint held outside: said so


def test_clean_log_with_held_checkpoint_is_fully_anchored(clean_log, key, tmp_path):
    log, tk = clean_log
    held = tmp_path / "held.cp"
    write_checkpoint(log, key, export_to=held)
    report = verify_log(log, tk, checkpoints=[held])
    assert report.ok and report.warnings == [] and report.anchored == 12


def test_changed_field(clean_log):
    log, tk = clean_log
    lines = read_lines(log)
    lines[5] = keep_signature(lines[5], lambda b: b["advice"].__setitem__("outcome", "DO_NOT_SHARE"))
    write_lines(log, lines)
    report = verify_log(log, tk)
    assert first(report) == (6, Code.BAD_SIGNATURE)
    # the next record no longer chains onto the changed one either
    assert (7, Code.CHAIN_BROKEN) in codes_of(report)


def test_reordered_records(clean_log):
    log, tk = clean_log
    lines = read_lines(log)
    lines[5], lines[6] = lines[6], lines[5]
    write_lines(log, lines)
    report = verify_log(log, tk)
    assert first(report) == (6, Code.CHAIN_BROKEN)
    assert {c for _, c in codes_of(report)} == {Code.CHAIN_BROKEN}


def test_deleted_middle_record(clean_log):
    log, tk = clean_log
    lines = read_lines(log)
    del lines[5]
    write_lines(log, lines)
    report = verify_log(log, tk)
    assert codes_of(report) == [(6, Code.CHAIN_BROKEN)]
    assert "expected seq 5, found seq 6" in report.failures[0].message


def test_dropped_first_record(clean_log):
    log, tk = clean_log
    write_lines(log, read_lines(log)[1:])
    report = verify_log(log, tk)
    assert first(report) == (1, Code.CHAIN_BROKEN)
    assert "genesis" in report.failures[0].message


def test_truncated_tail_against_held_checkpoint(clean_log, key, tmp_path):
    log, tk = clean_log
    held = tmp_path / "held.cp"
    write_checkpoint(log, key, export_to=held)
    write_lines(log, read_lines(log)[:-3])
    (log.with_name("log.checkpoints.jsonl")).unlink()  # the attacker removes the side file as well
    report = verify_log(log, tk, checkpoints=[held])
    assert codes_of(report) == [(None, Code.TRUNCATED)]
    assert "commits to 12 records, the log has 9" in report.failures[0].message


def test_truncated_tail_without_checkpoint_is_reported_unanchored(clean_log):
    """Undetectable from the file alone: the verifier must say the tail is not anchored."""
    log, tk = clean_log
    write_lines(log, read_lines(log)[:-3])
    report = verify_log(log, tk)
    assert report.ok
    assert [w.code for w in report.warnings] == [Code.UNANCHORED]


def test_truncated_tail_caught_by_side_file_checkpoint(clean_log, key):
    log, tk = clean_log
    write_checkpoint(log, key)
    write_lines(log, read_lines(log)[:-2])
    assert codes_of(verify_log(log, tk)) == [(None, Code.TRUNCATED)]


def test_duplicated_record_at_end(clean_log):
    log, tk = clean_log
    lines = read_lines(log)
    write_lines(log, lines + [lines[5]])
    report = verify_log(log, tk)
    assert codes_of(report) == [(13, Code.DUPLICATE_RECORD)]
    assert "exact copy of line 6" in report.failures[0].message


def test_duplicated_record_inserted_next_to_original(clean_log):
    log, tk = clean_log
    lines = read_lines(log)
    write_lines(log, lines[:6] + [lines[5]] + lines[6:])
    assert codes_of(verify_log(log, tk)) == [(7, Code.DUPLICATE_RECORD)]


def test_record_copied_from_another_log(clean_log, key, tmp_path):
    log, tk = clean_log
    other = tmp_path / "other.jsonl"
    append(other, key, 8)  # same key, another log
    lines = read_lines(log)
    write_lines(log, lines[:7] + [read_lines(other)[7]] + lines[7:])
    assert codes_of(verify_log(log, tk)) == [(8, Code.LOG_ID_MISMATCH)]


def test_whole_other_log_with_same_key_is_not_the_pinned_log(clean_log, key, tmp_path):
    _log, tk = clean_log
    other = tmp_path / "other.jsonl"
    append(other, key, 5)
    assert first(verify_log(other, tk)) == (1, Code.LOG_ID_MISMATCH)


def test_untrusted_key(clean_log, attacker):
    log, tk = clean_log
    lines = read_lines(log)
    lines[5] = resign(lines[5], attacker, lambda b: (b["advice"].__setitem__("verdict", "do_not_share"),
                                                     b.__setitem__("kid", attacker.key_id)))
    write_lines(log, lines)
    report = verify_log(log, tk)
    assert first(report) == (6, Code.UNTRUSTED_KEY)


def test_keyid_swapped_to_trusted_key(clean_log, key, attacker):
    log, tk = clean_log
    lines = read_lines(log)
    lines[5] = resign(lines[5], attacker, lambda b: b["advice"].__setitem__("verdict", "do_not_share"),
                      keyid=key.key_id)
    write_lines(log, lines)
    assert first(verify_log(log, tk)) == (6, Code.BAD_SIGNATURE)


def test_malleated_signature(clean_log):
    log, tk = clean_log
    lines = read_lines(log)
    env = json.loads(lines[3])
    sig = base64.b64decode(env["signatures"][0]["sig"])
    ell = 2**252 + 27742317777372353535851937790883648493
    s = (int.from_bytes(sig[32:], "little") + ell).to_bytes(32, "little")
    env["signatures"][0]["sig"] = base64.b64encode(sig[:32] + s).decode()
    lines[3] = json.dumps(env, separators=(",", ":"), sort_keys=True).encode() + b"\n"
    write_lines(log, lines)
    assert first(verify_log(log, tk)) == (4, Code.BAD_SIGNATURE)


def test_key_revoked_before_the_records_time(tmp_path, key):
    log = tmp_path / "log.jsonl"
    append(log, key, 6)
    ts5 = payload_of(read_lines(log)[4])["ts"]
    tk = trust_file(tmp_path / "tk.json", key, valid_from=None, valid_until=None)
    from audit import trust
    trust.revoke_key(tk, key.key_id, ts5)
    report = verify_log(log, tk)
    stamps = [payload_of(line)["ts"] for line in read_lines(log)]
    expected = [(n, Code.KEY_NOT_VALID_AT_TIME) for n, ts in enumerate(stamps, 1) if ts >= ts5]
    assert codes_of(report) == expected and (5, Code.KEY_NOT_VALID_AT_TIME) in expected
    assert len(expected) < len(stamps)  # records signed before the revocation stay valid
    assert "revoked at" in report.failures[0].message


def test_key_outside_its_validity_window(tmp_path, key):
    log = tmp_path / "log.jsonl"
    append(log, key, 2)
    t0 = parse_ts(payload_of(read_lines(log)[0])["ts"])
    import datetime as dt
    later = format_ts(t0 + dt.timedelta(days=1))
    tk = trust_file(tmp_path / "tk.json", key, valid_from=later)
    assert {c for _, c in codes_of(verify_log(log, tk))} == {Code.KEY_NOT_VALID_AT_TIME}
    tk2 = trust_file(tmp_path / "tk2.json", key, valid_until=format_ts(t0 - dt.timedelta(days=1)))
    assert "expired" in verify_log(log, tk2).failures[0].message


def test_signature_over_non_canonical_form(clean_log, key):
    log, tk = clean_log
    lines = read_lines(log)
    lines[5] = resign(lines[5], key, encode=lambda b: json.dumps(b, sort_keys=True).encode())  # ", " and ": "
    write_lines(log, lines)
    assert codes_of(verify_log(log, tk)) == [(6, Code.NOT_CANONICAL)]


def test_signed_duplicate_json_key_is_not_canonical(clean_log, key):
    """Parser differential: a correctly signed payload with "outcome" twice."""
    log, tk = clean_log
    lines = read_lines(log)

    def dup(body):
        raw = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
        return raw.replace(b'"outcome":', b'"outcome":"DO_NOT_SHARE","outcome":', 1)
    lines[5] = resign(lines[5], key, encode=dup)
    write_lines(log, lines)
    assert codes_of(verify_log(log, tk))[0] == (6, Code.NOT_CANONICAL)


def test_forged_genesis_same_log_id(clean_log, key):
    """An insider with the valid key rebuilds the log from scratch, keeping the log id."""
    log, tk = clean_log
    lines = read_lines(log)
    lines[0] = resign(lines[0], key, lambda b: b.__setitem__("record_id", str(uuid.uuid4())))
    write_lines(log, rechain(lines, 1, key))
    report = verify_log(log, tk)
    assert codes_of(report) == [(1, Code.GENESIS_MISMATCH)]


def test_forged_genesis_with_wrong_prev(clean_log, key):
    log, tk = clean_log
    lines = read_lines(log)
    lines[0] = resign(lines[0], key, lambda b: b.__setitem__("prev", "1" * 64))
    write_lines(log, lines)
    assert first(verify_log(log, tk)) == (1, Code.GENESIS_MISMATCH)


def test_second_genesis_in_the_middle(clean_log, key):
    log, tk = clean_log
    lines = read_lines(log)
    g = resign(lines[0], key, lambda b: b.update(seq=12, record_id=str(uuid.uuid4())))
    write_lines(log, lines + [g])
    assert codes_of(verify_log(log, tk)) == [(13, Code.GENESIS_MISMATCH)]


def test_history_rewritten_with_valid_key_against_held_checkpoint(clean_log, key, tmp_path):
    log, tk = clean_log
    held = tmp_path / "held.cp"
    write_checkpoint(log, key, export_to=held)
    lines = read_lines(log)
    lines[8] = resign(lines[8], key, lambda b: b["advice"].__setitem__("outcome", "DO_NOT_SHARE"))
    write_lines(log, rechain(lines, 9, key))
    log.with_name("log.checkpoints.jsonl").unlink()
    report = verify_log(log, tk, checkpoints=[held])
    assert codes_of(report) == [(12, Code.CHECKPOINT_MISMATCH)]
    assert report.anchored == 0


def test_time_went_backwards(clean_log, key):
    log, tk = clean_log
    lines = read_lines(log)
    import datetime as dt
    old = format_ts(parse_ts(payload_of(lines[5])["ts"]) - dt.timedelta(hours=2))
    lines[6] = resign(lines[6], key, lambda b: b.__setitem__("ts", old))
    write_lines(log, rechain(lines, 7, key))
    report = verify_log(log, tk)
    assert codes_of(report) == [(7, Code.TIME_WENT_BACKWARDS)]
    # within the tolerance it is clock skew, not an error
    assert verify_log(log, tk, time_tolerance=3 * 3600).ok


def test_torn_tail(clean_log):
    log, tk = clean_log
    data = log.read_bytes()
    log.write_bytes(data + read_lines(log)[4][:100])
    report = verify_log(log, tk)
    assert codes_of(report) == [(13, Code.TORN_TAIL)]
    assert report.records == 12  # every complete record verified


def test_checkpoint_spliced_into_the_log(clean_log, key):
    log, tk = clean_log
    cp = write_checkpoint(log, key)
    lines = read_lines(log)
    write_lines(log, lines[:4] + [cp.line] + lines[4:])
    report = verify_log(log, tk)
    assert report.failures[0].line == 5 and report.failures[0].code == Code.MALFORMED_RECORD
    assert "checkpoint" in report.failures[0].message


@pytest.mark.parametrize("mutation, code", [
    (lambda env: env.__setitem__("signatures", []), Code.MALFORMED_RECORD),
    (lambda env: env["signatures"].append(dict(env["signatures"][0])), Code.MALFORMED_RECORD),
    (lambda env: env.__setitem__("extra", 1), Code.MALFORMED_RECORD),
    (lambda env: env.__setitem__("payloadType", "application/json"), Code.MALFORMED_RECORD),
])
def test_envelope_manipulations(clean_log, mutation, code):
    log, tk = clean_log
    lines = read_lines(log)
    env = json.loads(lines[2])
    mutation(env)
    lines[2] = json.dumps(env, sort_keys=True, separators=(",", ":")).encode() + b"\n"
    write_lines(log, lines)
    assert first(verify_log(log, tk)) == (3, code)


def test_non_canonical_base64_padding_bits(clean_log):
    log, tk = clean_log
    lines = read_lines(log)
    env = json.loads(lines[2])
    sig = env["signatures"][0]["sig"]  # 64 bytes -> 86 chars + "==", 4 padding bits in char 86
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    env["signatures"][0]["sig"] = sig[:85] + alphabet[alphabet.index(sig[85]) | 1] + "=="
    assert base64.b64decode(env["signatures"][0]["sig"]) == base64.b64decode(sig)  # same bytes, other text
    lines[2] = json.dumps(env, sort_keys=True, separators=(",", ":")).encode() + b"\n"
    write_lines(log, lines)
    assert first(verify_log(log, tk)) == (3, Code.MALFORMED_RECORD)


def test_whitespace_in_envelope_is_not_canonical(clean_log):
    log, tk = clean_log
    lines = read_lines(log)
    lines[2] = json.dumps(json.loads(lines[2]), sort_keys=True).encode() + b"\n"
    write_lines(log, lines)
    assert codes_of(verify_log(log, tk)) == [(3, Code.NOT_CANONICAL)]


def test_empty_and_overlong_lines(clean_log):
    log, tk = clean_log
    lines = read_lines(log)
    write_lines(log, lines[:3] + [b"\n"] + lines[3:6] + [b"x" * (3 << 20) + b"\n"] + lines[6:])
    report = verify_log(log, tk)
    got = codes_of(report)
    assert got[0] == (4, Code.MALFORMED_RECORD) and (8, Code.MALFORMED_RECORD) in got
    assert "longer than" in report.failures[[f.line for f in report.failures].index(8)].message


def test_schema_violation_signed_by_trusted_key(clean_log, key):
    """Even a key holder cannot put a client name into a code field, or add fields."""
    log, tk = clean_log
    lines = read_lines(log)
    lines[3] = resign(lines[3], key, lambda b: b.__setitem__("client_name", "Jan Jansen"))
    lines[4] = resign(lines[4], key, lambda b: b["answers"].__setitem__("share.recipient", "Jan Jansen, Dorpsstraat 1"))
    write_lines(log, lines)
    report = verify_log(log, tk)
    assert codes_of(report)[:2] == [(4, Code.MALFORMED_RECORD), (5, Code.MALFORMED_RECORD)]


def test_unpinned_log_is_accepted_with_a_warning(tmp_path, key):
    log = tmp_path / "log.jsonl"
    append(log, key, 3)
    tk = trust_file(tmp_path / "tk.json", key)
    report = verify_log(log, tk)
    assert report.ok and Code.UNPINNED in [w.code for w in report.warnings]


def test_trusted_keys_file_with_mismatched_key_id(clean_log, attacker):
    log, tk = clean_log
    doc = json.loads(tk.read_text())
    from audit import keys
    doc["keys"][0]["public_key"] = keys.public_key_pem(attacker.public_key)
    tk.write_text(json.dumps(doc))
    with pytest.raises(TrustFileError, match="does not match its public key"):
        verify_log(log, tk)


def test_parallel_and_serial_verification_agree(clean_log, key, attacker):
    """The multi-process path reports exactly what the single-process path reports."""
    log, tk = clean_log
    append(log, key, 300, start=20)
    lines = read_lines(log)
    lines[50] = keep_signature(lines[50], lambda b: b["advice"].__setitem__("outcome", "DO_NOT_SHARE"))
    del lines[120]
    lines[200] = resign(lines[200], attacker, lambda b: b.__setitem__("kid", attacker.key_id))
    write_lines(log, lines + [lines[10]])
    import audit.verify as v
    old = v.CHUNK_BYTES
    v.CHUNK_BYTES = 64 * 1024  # many chunks, so records straddle chunk boundaries
    try:
        serial = verify_log(log, tk, jobs=1)
        parallel = verify_log(log, tk, jobs=2)
    finally:
        v.CHUNK_BYTES = old
    assert serial.failures == parallel.failures and serial.root == parallel.root
    assert {c for _, c in codes_of(serial)} == {Code.BAD_SIGNATURE, Code.CHAIN_BROKEN, Code.UNTRUSTED_KEY,
                                                Code.DUPLICATE_RECORD}


def test_unreadable_first_line_is_reported_once(clean_log):
    log, tk = clean_log
    lines = read_lines(log)
    lines[0] = b"garbage\n"
    write_lines(log, lines)
    assert codes_of(verify_log(log, tk)) == [(1, Code.MALFORMED_RECORD)]


def test_failures_beyond_the_cap_are_counted_not_kept(clean_log, monkeypatch):
    import audit.verify as v
    log, tk = clean_log
    lines = read_lines(log)
    write_lines(log, [lines[0]] + lines[1:][::-1])  # everything out of order
    monkeypatch.setattr(v, "MAX_LISTED_FAILURES", 2)
    report = verify_log(log, tk)
    assert len(report.failures) == 2 and report.failures_not_listed > 0 and not report.ok
