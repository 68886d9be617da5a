"""Consistency proofs (RFC 9162 section 2.1.4): an auditor holding only checkpoints can show
that the log only grew -- and a truncated-and-regrown or rewritten log cannot."""
from __future__ import annotations

import json

import pytest
from audit_helpers import append, pin, read_lines, trust_file, write_lines
from hypothesis import given, settings
from hypothesis import strategies as st

from audit import prove_consistency, trust, verify_consistency, verify_log, write_checkpoint
from audit.checkpoint import checkpoint_path, last_checkpoint, log_leaves
from audit.codes import Code
from audit.errors import CheckpointError, ProofError
from audit.keys import SigningKey, public_key_pem
from audit.merkle import _subproof_ranges, consistency_proof, leaf_hash, mth
from audit.merkle import verify_consistency as merkle_verify

from cli import audit_cmd


def _reference_proof(leaves: list[bytes], m: int) -> list[bytes]:
    """PROOF(m, D[n]) straight from the RFC's recursive definition (the streaming version must agree)."""
    def sub(m: int, d: list[bytes], complete: bool) -> list[bytes]:
        n = len(d)
        if m == n:
            return [] if complete else [mth(d)]
        k = 1 << ((n - 1).bit_length() - 1)
        if m <= k:
            return sub(m, d[:k], complete) + [mth(d[k:])]
        return sub(m - k, d[k:], False) + [mth(d[:k])]
    return sub(m, leaves, True) if 0 < m < len(leaves) else []


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 200), st.data())
def test_consistency_proofs_verify_and_mutations_fail(n, data):
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]
    m = data.draw(st.integers(0, n))
    old, new = mth(leaves[:m]), mth(leaves)
    proof = consistency_proof(leaves, m, n)
    assert proof == _reference_proof(leaves, m)
    assert all(0 <= a < b <= n for a, b in (_subproof_ranges(m, 0, n, True) if 0 < m < n else []))
    assert merkle_verify(m, n, old, new, proof)
    if m == 0:  # the empty tree is a prefix of every tree; only a non-empty proof is wrong
        assert not merkle_verify(0, n, old, new, [old])
        return
    # (the sizes are bound to the roots by the signed checkpoints; the probes change roots and paths)
    probes = [(m, n, new, new, proof), (m, n, old, old, proof) if 0 < m < n else None,
              (m, n, old, new, proof + [old]), (m, n, old, new, proof[:-1]) if proof else None,
              (m, n, old, new, proof[::-1]) if len(proof) > 1 and proof[0] != proof[-1] else None]
    for i in range(len(proof)):
        flipped = list(proof)
        flipped[i] = bytes([flipped[i][0] ^ 1]) + flipped[i][1:]
        probes.append((m, n, old, new, flipped))
    if 0 < m < n:
        other = [leaf_hash(b"x" + i.to_bytes(4, "big")) for i in range(n)]
        probes.append((m, n, mth(other[:m]), new, proof))  # an old tree that is not a prefix
    for probe in filter(None, probes):
        if probe[1] < probe[0] or probe == (m, n, old, new, proof):
            continue
        assert not merkle_verify(*probe), (m, n, probe[:2])


@pytest.fixture
def grown(tmp_path, key):
    """A log with a checkpoint at 6 records (the auditor keeps it), grown to 11, checkpointed again."""
    log = tmp_path / "log.jsonl"
    append(log, key, 5)
    tk = trust_file(tmp_path / "trusted-keys.json", key)
    pin(log, tk)
    old = tmp_path / "old.cp"
    write_checkpoint(log, key, export_to=old)
    append(log, key, 5, start=5)
    new = tmp_path / "new.cp"
    write_checkpoint(log, key, export_to=new)
    return log, tk, old, new


def test_checkpoints_name_the_checkpoint_they_extend(grown):
    log, _tk, old, new = grown
    o, n = last_checkpoint(old), last_checkpoint(new)
    assert o.payload.v == 2 and o.payload.prev is None and o.payload.size == 6
    assert n.payload.prev is not None
    assert (n.payload.prev.size, n.payload.prev.root, n.payload.prev.checkpoint) == (6, o.payload.root, o.digest)
    assert checkpoint_path(log).read_bytes().count(b"\n") == 2


def test_prove_and_verify_consistency(grown, tmp_path):
    log, tk, old, new = grown
    proof = prove_consistency(log, old, new)
    assert (proof["old_size"], proof["new_size"]) == (6, 11) and proof["proof"]
    rep = verify_consistency(old, new, proof, trust.load(tk))
    assert rep.log_id == last_checkpoint(new).payload.log_id
    # the same checkpoint twice is trivially consistent
    same = prove_consistency(log, new, new)
    assert same["proof"] == [] and verify_consistency(new, new, same, trust.load(tk))


def test_truncated_and_regrown_log_has_no_valid_proof(grown, key, tmp_path):
    """The key holder cuts the log back to 4 records, appends new ones and signs a fresh checkpoint."""
    log, tk, old, _new = grown
    write_lines(log, read_lines(log)[:4])
    checkpoint_path(log).unlink()  # the side file would make write_checkpoint refuse; the attacker removes it
    append(log, key, 8, start=40)
    regrown = tmp_path / "regrown.cp"
    write_checkpoint(log, key, export_to=regrown)
    with pytest.raises(ProofError) as exc:
        prove_consistency(log, old, regrown)
    assert exc.value.code is Code.CHECKPOINT_MISMATCH
    # a proof made up from the regrown log alone does not verify against the auditor's checkpoint
    o, r = last_checkpoint(old).payload, last_checkpoint(regrown).payload
    leaves = [leaf for leaf, _rec in log_leaves(log)]
    forged = {"v": 1, "type": "deelwijzer-consistency-proof", "log_id": r.log_id, "old_size": o.size,
              "old_root": o.root, "new_size": r.size, "new_root": r.root,
              "proof": [h.hex() for h in consistency_proof(leaves, o.size, r.size)]}
    with pytest.raises(ProofError) as exc:
        verify_consistency(old, regrown, forged, trust.load(tk))
    assert exc.value.code is Code.CONSISTENCY_PROOF_INVALID
    # and the verifier, given the auditor's checkpoint, sees the rewrite
    assert Code.CHECKPOINT_MISMATCH in [f.code for f in verify_log(log, tk, checkpoints=[old]).failures]


def test_the_writer_never_signs_a_checkpoint_the_log_contradicts(grown, key):
    log, _tk, _old, _new = grown
    lines = read_lines(log)
    write_lines(log, lines[:3])
    append(log, key, 4, start=70)
    with pytest.raises(CheckpointError, match="another history") as exc:
        write_checkpoint(log, key)
    assert exc.value.code is Code.CHECKPOINT_MISMATCH


def test_verify_consistency_refuses_foreign_untrusted_and_shrunk(grown, key, attacker, tmp_path):
    log, tk, old, new = grown
    store = trust.load(tk)
    proof = prove_consistency(log, old, new)
    with pytest.raises(ProofError) as exc:  # swapped: the "new" tree is smaller
        verify_consistency(new, old, {**proof, "old_size": 11, "new_size": 6}, store)
    assert exc.value.code is Code.CONSISTENCY_PROOF_INVALID
    forged = tmp_path / "forged.cp"
    write_checkpoint(log, attacker, export_to=forged)
    with pytest.raises(ProofError) as exc:
        verify_consistency(old, forged, proof, store)
    assert exc.value.code is Code.UNTRUSTED_KEY
    other = tmp_path / "o" / "log.jsonl"
    other.parent.mkdir()
    append(other, key, 3)
    foreign = tmp_path / "foreign.cp"
    write_checkpoint(other, key, export_to=foreign)
    with pytest.raises(ProofError) as exc:
        verify_consistency(old, foreign, proof, store)
    assert exc.value.code is Code.LOG_ID_MISMATCH
    with pytest.raises(ProofError) as exc:
        verify_consistency(old, new, {**proof, "proof": proof["proof"][:-1]}, store)
    assert exc.value.code is Code.CONSISTENCY_PROOF_INVALID


def test_a_checkpoint_key_without_the_role_is_refused(grown, tmp_path):
    log, tk, old, new = grown
    releaser = SigningKey.generate()
    pem = tmp_path / "release.pem"
    pem.write_text(public_key_pem(releaser.public_key))
    trust.trust_key(tk, pem, "release signer", roles=["release"])
    wrong = tmp_path / "wrong.cp"
    write_checkpoint(log, releaser, export_to=wrong)
    with pytest.raises(ProofError) as exc:
        verify_consistency(old, wrong, prove_consistency(log, old, wrong), trust.load(tk))
    assert exc.value.code is Code.KEY_ROLE_NOT_ALLOWED


def _run(*argv):
    import argparse
    parser = argparse.ArgumentParser(prog="deelwijzer")
    sub = parser.add_subparsers(dest="command", required=True)
    audit_cmd.register(sub)
    args = parser.parse_args([str(a) for a in argv])
    return args.func(args)


def test_cli_exit_codes(grown, key, tmp_path, capsys):
    log, tk, old, new = grown
    out = tmp_path / "proof.json"
    assert _run("audit", "prove-consistency", log, "--from", old, "--to", new, "--out", out) == 0
    assert _run("audit", "verify-consistency", old, new, out, "--trusted-keys", tk) == 0
    assert "PASS: log" in capsys.readouterr().out
    doc = json.loads(out.read_text())
    doc["proof"][0] = "00" * 32
    out.write_text(json.dumps(doc))
    assert _run("audit", "verify-consistency", old, new, out, "--trusted-keys", tk) == 1
    assert "FAIL CONSISTENCY_PROOF_INVALID" in capsys.readouterr().out
    assert _run("audit", "verify-consistency", old, tmp_path / "missing.cp", out, "--trusted-keys", tk) == 2
    assert "not found" in capsys.readouterr().err
    write_lines(log, read_lines(log)[:4])
    assert _run("audit", "prove-consistency", log, "--from", old, "--to", new, "--out", out) == 1
    assert "FAIL TRUNCATED" in capsys.readouterr().out
