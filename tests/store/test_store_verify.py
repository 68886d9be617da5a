"""`audit verify URL`: the same report as the file; a superuser's edits (triggers off) fail with the
right reason code; an organisation checkpoint held by the auditor exposes what the store alone
cannot show; consistency and inclusion proofs over the organisation sequence."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from store_helpers import (ACTOR, append, local_log_id, make_decision, org_trust, read_lines, seeded_key,
                           with_payload)

from audit import keys, verify_log
from audit import trust as trustmod
from audit.codes import Code
from audit.errors import ProofError
from audit.log import AuditLogWriter
from audit.store.orgcheckpoint import (prove_org, prove_org_consistency, verify_org_consistency, verify_org_proof,
                                       write_org_checkpoint)
from audit.store.push import push_log
from audit.store.verify import verify_store
from cli.main import main

PASS = b"org-passphrase-1"
ORG = "(SELECT arrival FROM deelwijzer.org_sequence WHERE org_seq = {})"


@pytest.fixture(scope="module")
def org_keydir(tmp_path_factory):
    """An organisation key on disk (for the CLI), and the same key unlocked."""
    d = tmp_path_factory.mktemp("orgkey")
    keys.init_keypair(d / "key", "Organisatie", PASS)
    (d / "pass").write_bytes(PASS)
    return d / "key", d / "pass", keys.load_signing_key(d / "key", PASS)


def _setup(store, tmp_path, key, key2, org_key, n=(8, 5)):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    append(a, key, n[0])
    append(b, key2, n[1])
    assert push_log(a, store.writer).new == n[0] + 1
    assert push_log(b, store.writer).new == n[1] + 1
    tk = org_trust(tmp_path / "tk.json", org_key, key, key2)
    return a, b, tk


def _codes(rep) -> set[Code]:
    out = {f.code for f in rep.org.failures}
    for r in rep.logs:
        out |= {f.code for f in r.failures}
    return out


def _same(file_rep, store_rep) -> None:
    def view(r):
        return ([(f.line, f.record_id, f.code) for f in r.failures], [(w.line, w.code) for w in r.warnings],
                r.records, r.log_id, r.head, r.root, r.anchored, r.ok)
    assert view(file_rep) == view(store_rep)


def test_the_same_log_gives_the_same_report_from_the_file_and_from_the_store(store, key, key2, org_key, tmp_path):
    a, b, tk = _setup(store, tmp_path, key, key2, org_key)
    trust = trustmod.load(tk)
    rep = verify_store(store.auditor, trust)
    assert rep.ok and rep.org.records == 15 and len(rep.logs) == 2
    by_id = {r.log_id: r for r in rep.logs}
    for log in (a, b):
        _same(verify_log(log, trust), by_id[local_log_id(log)])
    # and when records were changed: in the file, and the same change in the store (as a superuser)
    lines = read_lines(a)
    bad = with_payload(lines[4], lambda body: body["advice"].__setitem__("recipient", "police"))
    shutil.copy(a, tmp_path / "a-copy.jsonl")
    (tmp_path / "a-copy.jsonl").write_bytes(b"".join(lines[:4] + [bad + b"\n"] + lines[5:]))
    store.superuser_edit(f"UPDATE deelwijzer.records SET line = '\\x{bad.hex()}'::bytea "
                         f"WHERE log_id = '{local_log_id(a)}' AND seq = 4")
    file_rep = verify_log(tmp_path / "a-copy.jsonl", trust)
    store_rep = verify_store(store.auditor, trust, log_id=local_log_id(a))
    assert [f.code for f in file_rep.failures] == [Code.BAD_SIGNATURE, Code.CHAIN_BROKEN]
    _same(file_rep, store_rep.logs[0])


def test_superuser_edit_of_a_record_fails_and_the_held_checkpoint_exposes_it(store, key, key2, org_key, tmp_path,
                                                                             capsys):
    a, b, tk = _setup(store, tmp_path, key, key2, org_key)
    write_org_checkpoint(store.writer, org_key, tmp_path / "held.cp")
    args = ["audit", "verify", store.auditor, "--trusted-keys", str(tk), "--checkpoint", str(tmp_path / "held.cp")]
    assert main(args) == 0
    assert "RESULT: PASS" not in capsys.readouterr().out  # WARN: unpinned
    rid = local_log_id(b)
    line = bytes(store.sql(f"SELECT line FROM deelwijzer.records WHERE log_id = '{rid}' AND seq = 2")[0][0])
    bad = with_payload(line, lambda body: body["advice"].__setitem__("outcome", "SHARE_LEGAL_OBLIGATION"))
    store.superuser_edit(f"UPDATE deelwijzer.records SET line = '\\x{bad.hex()}'::bytea "
                         f"WHERE log_id = '{rid}' AND seq = 2")
    assert main(args) == 1
    out = capsys.readouterr().out
    assert f"#{rid}:3: BAD_SIGNATURE" in out
    assert ": CHECKPOINT_MISMATCH: the organisation tree over the first" in out
    assert "RESULT: FAIL" in out


def test_superuser_removes_the_tail_and_the_stored_checkpoints_only_the_held_checkpoint_shows_it(
        store, key, key2, org_key, tmp_path, capsys):
    a, b, tk = _setup(store, tmp_path, key, key2, org_key)
    write_org_checkpoint(store.writer, org_key, tmp_path / "held.cp")
    trust = trustmod.load(tk)
    store.superuser_edit("DELETE FROM deelwijzer.records WHERE arrival = (SELECT max(arrival) FROM deelwijzer.records)",
                         "DELETE FROM deelwijzer.org_sequence WHERE org_seq = (SELECT max(org_seq) FROM "
                         "deelwijzer.org_sequence)", "DELETE FROM deelwijzer.org_checkpoints")
    alone = verify_store(store.auditor, trust)
    assert alone.ok  # nothing in the store itself shows a removed tail ...
    held = verify_store(store.auditor, trust, checkpoints=[tmp_path / "held.cp"])
    assert not held.ok and _codes(held) == {Code.TRUNCATED}  # ... the auditor's checkpoint does
    assert main(["audit", "verify", store.auditor, "--trusted-keys", str(tk), "--checkpoint",
                 str(tmp_path / "held.cp")]) == 1
    assert "TRUNCATED" in capsys.readouterr().out


@pytest.mark.parametrize("attack, codes", [
    # a record removed (its entry in the sequence names nothing now) ...
    ([f"DELETE FROM deelwijzer.records WHERE arrival = {ORG.format(7)}"],
     {Code.CHAIN_BROKEN, Code.ORG_SEQUENCE_BROKEN, Code.CHECKPOINT_MISMATCH}),
    # ... or removed together with its entry: a gap in the sequence
    ([f"DELETE FROM deelwijzer.records WHERE arrival = {ORG.format(7)}",
      "DELETE FROM deelwijzer.org_sequence WHERE org_seq = 7"],
     {Code.CHAIN_BROKEN, Code.ORG_SEQUENCE_BROKEN, Code.TRUNCATED, Code.CHECKPOINT_MISMATCH}),
    # only the entry removed: the record is out of the sequence while later ones are in it
    (["DELETE FROM deelwijzer.org_sequence WHERE org_seq = 7"],
     {Code.ORG_SEQUENCE_BROKEN, Code.TRUNCATED, Code.CHECKPOINT_MISMATCH}),
    # a's last record and b's genesis swap places in the organisation order: each log on its own is still whole
    (["UPDATE deelwijzer.org_sequence SET org_seq = 1000 WHERE org_seq = 9",
      "UPDATE deelwijzer.org_sequence SET org_seq = 9 WHERE org_seq = 10",
      "UPDATE deelwijzer.org_sequence SET org_seq = 10 WHERE org_seq = 1000"], {Code.CHECKPOINT_MISMATCH}),
    # only an index column changes (the signed records and their order do not): the store shows it by itself
    ([f"UPDATE deelwijzer.records SET log_id = gen_random_uuid() WHERE arrival = {ORG.format(5)}"],
     {Code.ORG_SEQUENCE_BROKEN, Code.CHAIN_BROKEN}),
    ([f"UPDATE deelwijzer.records SET record_id = gen_random_uuid() WHERE arrival = {ORG.format(5)}"],
     {Code.ORG_SEQUENCE_BROKEN}),
])
def test_superuser_edits_are_named_by_their_reason_code(store, key, key2, org_key, tmp_path, attack, codes):
    a, b, tk = _setup(store, tmp_path, key, key2, org_key)
    write_org_checkpoint(store.writer, org_key, tmp_path / "held.cp")
    trust = trustmod.load(tk)
    store.superuser_edit(*attack)
    alone = verify_store(store.auditor, trust)  # what the store shows by itself
    held = verify_store(store.auditor, trust, checkpoints=[tmp_path / "held.cp"])
    assert not held.ok and _codes(held) <= codes and _codes(alone) <= codes
    if codes & {Code.CHECKPOINT_MISMATCH, Code.TRUNCATED}:  # records or their order changed:
        assert _codes(held) & {Code.CHECKPOINT_MISMATCH, Code.TRUNCATED}  # the auditor's checkpoint exposes it
    if codes != {Code.CHECKPOINT_MISMATCH}:
        assert not alone.ok and _codes(alone) & (codes - {Code.CHECKPOINT_MISMATCH, Code.TRUNCATED})


def test_a_record_inserted_by_a_superuser_with_another_key_is_untrusted(store, key, key2, org_key, tmp_path):
    a, b, tk = _setup(store, tmp_path, key, key2, org_key)
    thief = seeded_key(4242)
    fake = tmp_path / "fake.jsonl"
    shutil.copy(a, fake)
    with AuditLogWriter(fake) as w:  # continues a's chain, signed with a key nobody trusts
        d, ans = make_decision(2)
        w.append_decision(thief, decision=d, answers=ans, actor=ACTOR, case_ref_source="forged")
    assert push_log(fake, store.admin).new == 1  # the chain is fine, so the store takes it
    rep = verify_store(store.auditor, trustmod.load(tk))
    assert _codes(rep) == {Code.UNTRUSTED_KEY}


def test_org_checkpoints_chain_and_their_consistency_proofs(store, key, key2, org_key, tmp_path, org_keydir, capsys):
    keydir, passfile, org_disk = org_keydir
    a, b, tk = _setup(store, tmp_path, key, key2, org_key)
    trustmod.trust_key(tk, keydir / "public-key.pem", "Organisatie (schijf)", roles=("checkpoint",))
    cp1, cp2 = tmp_path / "cp1", tmp_path / "cp2"
    assert main(["audit", "checkpoint", store.writer, "--key", str(keydir), "--passphrase-file", str(passfile),
                 "--out", str(cp1), "--trusted-keys", str(tk)]) == 0
    assert "organisation checkpoint store" in capsys.readouterr().out
    append(a, key, 4, start=8)
    push_log(a, store.writer)
    c2 = write_org_checkpoint(store.writer, org_disk, cp2)
    assert c2.payload.prev is not None and c2.payload.prev.size == 15 and c2.payload.size == 19
    proof = tmp_path / "proof.json"
    assert main(["audit", "prove-consistency", store.auditor, "--from", str(cp1), "--to", str(cp2),
                 "--out", str(proof)]) == 0
    assert main(["audit", "verify-consistency", str(cp1), str(cp2), str(proof), "--trusted-keys", str(tk)]) == 0
    assert "PASS: store" in capsys.readouterr().out
    # a store truncated and regrown behind cp1 can give no proof that verifies
    store.superuser_edit(f"DELETE FROM deelwijzer.records WHERE arrival >= {ORG.format(10)}",
                         "DELETE FROM deelwijzer.org_sequence WHERE org_seq >= 10")
    append(b, key2, 12, start=5)
    with pytest.raises(ProofError) as exc:
        prove_org_consistency(store.auditor, cp1, cp2)
    assert exc.value.code in (Code.CHECKPOINT_MISMATCH, Code.TRUNCATED, Code.ORG_SEQUENCE_BROKEN)
    doc = json.loads(proof.read_text())
    doc["proof"][0] = "00" * 32
    proof.write_text(json.dumps(doc))
    assert main(["audit", "verify-consistency", str(cp1), str(cp2), str(proof), "--trusted-keys", str(tk)]) == 1
    assert "CONSISTENCY_PROOF_INVALID" in capsys.readouterr().out


def test_only_a_checkpoint_key_may_sign_the_organisation_tree(store, key, key2, org_key, tmp_path):
    a, b, tk = _setup(store, tmp_path, key, key2, org_key)
    trust = trustmod.load(tk)
    # a professional's record key signs an organisation checkpoint: refused everywhere it is checked
    write_org_checkpoint(store.writer, key, tmp_path / "by-record-key.cp")
    rep = verify_store(store.auditor, trust, checkpoints=[tmp_path / "by-record-key.cp"])
    assert not rep.ok and _codes(rep) == {Code.KEY_ROLE_NOT_ALLOWED}
    ok = write_org_checkpoint(store.writer, org_key, tmp_path / "org.cp")
    with pytest.raises(ProofError) as exc:
        verify_org_consistency(tmp_path / "by-record-key.cp", tmp_path / "org.cp",
                               prove_org_consistency(store.auditor, tmp_path / "by-record-key.cp", tmp_path / "org.cp"),
                               trust)
    assert exc.value.code is Code.KEY_ROLE_NOT_ALLOWED and ok.payload.size == 15
    from audit.errors import CheckpointError
    with pytest.raises(CheckpointError) as cexc:
        write_org_checkpoint(store.writer, key, trust=trust)
    assert cexc.value.code is Code.KEY_ROLE_NOT_ALLOWED


def test_inclusion_proof_of_one_record_in_the_organisation_tree(store, key, key2, org_key, tmp_path, capsys):
    a, b, tk = _setup(store, tmp_path, key, key2, org_key)
    write_org_checkpoint(store.writer, org_key)
    rid = json.loads(__import__("base64").b64decode(json.loads(read_lines(b)[3])["payload"]))["record_id"]
    out = tmp_path / "record.proof"
    assert main(["audit", "prove", store.auditor, "--id", rid, "--out", str(out)]) == 0
    assert main(["audit", "verify-proof", str(out), "--trusted-keys", str(tk)]) == 0
    assert f"PASS: record {rid}" in capsys.readouterr().out
    bundle = prove_org(store.auditor, rid)
    rep = verify_org_proof(bundle, trustmod.load(tk))
    assert rep.record["record_id"] == rid
    bundle["index"] = bundle["index"] - 1
    with pytest.raises(ProofError) as exc:
        verify_org_proof(bundle, trustmod.load(tk))
    assert exc.value.code is Code.INCLUSION_PROOF_INVALID


def test_auditor_mode_pins_and_anchors_through_the_organisation_checkpoint(store, key, key2, org_key, tmp_path,
                                                                           capsys):
    a, b, tk = _setup(store, tmp_path, key, key2, org_key)
    assert main(["audit", "pin", store.auditor, "--trusted-keys", str(tk)]) == 0
    assert "2 log(s) newly pinned" in capsys.readouterr().out
    sha = trustmod.load(tk).sha256
    base = ["audit", "verify", store.auditor, "--trusted-keys", str(tk), "--strict", "--trusted-keys-sha256", sha]
    assert main(base) == 1
    assert "UNANCHORED" in capsys.readouterr().out
    write_org_checkpoint(store.writer, org_key, tmp_path / "held.cp")
    assert main(base + ["--checkpoint", str(tmp_path / "held.cp")]) == 0
    out = capsys.readouterr().out
    assert "RESULT: PASS" in out and "mode=auditor" in out and "anchored=15" in out
    # records pushed after the held checkpoint are not anchored yet
    append(a, key, 2, start=8)
    push_log(a, store.writer)
    assert main(base + ["--checkpoint", str(tmp_path / "held.cp"), "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    by_log = {r["log_id"]: r for r in doc["logs"]}
    assert by_log[local_log_id(a)]["anchored"] == 9 and by_log[local_log_id(b)]["ok"]


def test_show_and_verify_from_a_store_do_not_print_the_password(pg, tmp_path):
    url = f"postgresql://user:hunter2@/x?host={tmp_path}&port=5999"
    import subprocess
    import sys
    for cmd in (["audit", "verify", url, "--trusted-keys", str(tmp_path / "none.json")], ["audit", "show", url]):
        proc = subprocess.run([sys.executable, "-m", "cli.main", *cmd], capture_output=True, text=True,
                              cwd=Path(__file__).resolve().parents[2], timeout=60)
        assert proc.returncode == 2 and "hunter2" not in proc.stderr + proc.stdout and "Traceback" not in proc.stderr


def test_a_pg_dump_restored_elsewhere_verifies_the_same(store, key, key2, org_key, tmp_path):
    """Backups: pg_dump copies the lines byte for byte; after pg_restore (and `store init`) the store
    verifies as before, against the same held checkpoint."""
    import subprocess

    from store_helpers import new_database

    from audit.store.schema import init_store
    a, b, tk = _setup(store, tmp_path, key, key2, org_key)
    write_org_checkpoint(store.writer, org_key, tmp_path / "held.cp")
    trust = trustmod.load(tk)
    before = verify_store(store.auditor, trust, checkpoints=[tmp_path / "held.cp"])
    dump = tmp_path / "store.dump"
    bindir = store.cluster.bindir
    subprocess.run([str(bindir / "pg_dump"), "-Fc", "-f", str(dump), "-d", store.admin], check=True,
                   capture_output=True, timeout=120)
    target = new_database(store.cluster)
    subprocess.run([str(bindir / "pg_restore"), "-d", store.cluster.url(target), str(dump)], check=True,
                   capture_output=True, timeout=120)
    assert init_store(store.cluster.url(target)).store_id == store.store_id
    after = verify_store(store.cluster.url(target), trust, checkpoints=[tmp_path / "held.cp"])
    assert before.ok and after.ok and after.org.anchored == before.org.anchored == 15
    assert (after.org.root, after.org.head, [r.root for r in after.logs]) == \
        (before.org.root, before.org.head, [r.root for r in before.logs])
    append(a, key, 1, start=8)  # the restored store takes the next records like the old one
    assert push_log(a, store.cluster.url(target)).new == 1
