"""RFC 6962 Merkle tree: known answers, streaming vs recursive, inclusion proofs and probes."""
from __future__ import annotations

import json

import pytest
from audit_helpers import append, pin, read_lines, write_lines
from hypothesis import given, settings
from hypothesis import strategies as st

from audit import proof, write_checkpoint
from audit.errors import ProofError
from audit.codes import Code
from audit.merkle import CompactRange, inclusion_proof, leaf_hash, mth, verify_inclusion

# transparency-dev/merkle known roots for the leaves "", 00, 10, 2021, 3031, 40414243, 50..57, 60..6f
KAT_LEAVES = [b"", b"\x00", b"\x10", b"\x20\x21", b"\x30\x31", b"\x40\x41\x42\x43", bytes(range(0x50, 0x58)),
              bytes(range(0x60, 0x70))]
KAT_ROOTS = ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
             "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
             "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
             "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
             "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
             "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
             "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
             "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"]


def test_known_answer_roots():
    leaves = [leaf_hash(x) for x in KAT_LEAVES]
    for n, want in enumerate(KAT_ROOTS, 1):
        assert mth(leaves[:n]).hex() == want
        cr = CompactRange()
        for leaf in leaves[:n]:
            cr.append(leaf)
        assert cr.root().hex() == want
    assert mth([]).hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 300), st.data())
def test_streaming_root_and_proofs_agree_with_the_reference(n, data):
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]
    cr = CompactRange()
    for leaf in leaves:
        cr.append(leaf)
    root = mth(leaves)
    assert cr.root() == root
    m = data.draw(st.integers(0, n - 1))
    path = inclusion_proof(leaves, m, n)
    assert len(path) <= (n - 1).bit_length()
    assert verify_inclusion(leaves[m], m, n, path, root)
    # mutation probes in the style of transparency-dev/merkle: each must fail
    probes = [(leaves[m], m + 1, n, path), (leaves[m], m - 1, n, path), (leaves[m], m ^ 2, n, path),
              (leaves[m], m, n * 2, path), (leaves[m], m, n // 2, path), (leaf_hash(b"x"), m, n, path),
              (leaves[m], m, n, path + [root]), (leaves[m], m, n, [root] + path), (leaves[m], m, n, path[:-1]),
              (leaves[m], m, n, [bytes(32)] + path[1:])]
    for i in range(len(path)):
        flipped = list(path)
        flipped[i] = bytes([flipped[i][0] ^ 1]) + flipped[i][1:]
        probes.append((leaves[m], m, n, flipped))
    for leaf, idx, size, p in probes:
        if (leaf, idx, size, p) == (leaves[m], m, n, path):
            continue
        assert not verify_inclusion(leaf, idx, size, p, root), (m, n, idx, size, len(p))
    assert not verify_inclusion(leaves[m], m, n, path, bytes(32))
    with pytest.raises(ValueError):
        inclusion_proof(leaves, n, n)


@pytest.fixture
def proved(clean_log, key, tmp_path):
    log, tk = clean_log
    write_checkpoint(log, key)
    rid = json.loads(__import__("base64").b64decode(json.loads(read_lines(log)[6])["payload"]))["record_id"]
    return log, tk, rid, proof.prove(log, rid)


def test_inclusion_proof_round_trip(proved):
    log, tk, rid, bundle = proved
    rep = proof.verify_proof(bundle, tk)
    assert rep.record["record_id"] == rid and rep.index == 6 and rep.checkpoint.size == 12


INVALID = Code.INCLUSION_PROOF_INVALID


@pytest.mark.parametrize("mutate, codes, match", [
    (lambda b: b.__setitem__("index", b["index"] + 1), {INVALID}, "seq 6 but the proof places it at index 7"),
    (lambda b: b.__setitem__("tree_size", b["tree_size"] * 2), {INVALID}, "differs from the checkpoint"),
    (lambda b: b.__setitem__("proof", b["proof"][:-1]), {INVALID}, "does not lead"),
    (lambda b: b.__setitem__("proof", b["proof"] + [b["proof"][0]]), {INVALID}, "does not lead"),
    (lambda b: b["proof"].__setitem__(0, "00" * 32), {INVALID}, "does not lead"),
    (lambda b: b.__setitem__("record", b["record"].replace('"sig":"', '"sig":"A', 1)),
     {Code.MALFORMED_RECORD, Code.BAD_SIGNATURE}, "record"),
    (lambda b: b.__setitem__("checkpoint", b["checkpoint"][:-5] + 'AA"}]}'), {Code.BAD_CHECKPOINT, Code.BAD_SIGNATURE},
     "checkpoint"),
    (lambda b: b.__setitem__("extra", 1), {INVALID}, "unexpected fields"),
])
def test_inclusion_proof_mutations_fail(proved, mutate, codes, match):
    _log, tk, _rid, bundle = proved
    bad = json.loads(json.dumps(bundle))
    mutate(bad)
    with pytest.raises(ProofError, match=match) as exc:
        proof.verify_proof(bad, tk)
    assert exc.value.code in codes


def test_proof_for_another_record_or_log_fails(proved, key, tmp_path):
    log, tk, _rid, bundle = proved
    other = tmp_path / "o" / "log.jsonl"
    other.parent.mkdir()
    append(other, key, 11)
    write_checkpoint(other, key)
    rid = json.loads(__import__("base64").b64decode(json.loads(read_lines(other)[6])["payload"]))["record_id"]
    foreign = proof.prove(other, rid)
    mixed = dict(bundle, checkpoint=foreign["checkpoint"])
    with pytest.raises(ProofError, match="the checkpoint to") as exc:
        proof.verify_proof(mixed, tk)
    assert exc.value.code is Code.LOG_ID_MISMATCH
    with pytest.raises(ProofError, match="not pinned") as exc:
        proof.verify_proof(foreign, tk)
    assert exc.value.code is Code.LOG_ID_MISMATCH


def test_prove_needs_a_covering_checkpoint_and_a_consistent_log(clean_log, key):
    log, _tk = clean_log
    rid = json.loads(__import__("base64").b64decode(json.loads(read_lines(log)[3])["payload"]))["record_id"]
    with pytest.raises(ProofError, match="audit checkpoint"):
        proof.prove(log, rid)
    write_checkpoint(log, key)
    lines = read_lines(log)
    lines[1], lines[2] = lines[2], lines[1]
    write_lines(log, lines)
    with pytest.raises(ProofError, match="no longer matches"):
        proof.prove(log, rid)
    with pytest.raises(ProofError, match="no record"):
        proof.prove(log, "00000000-0000-4000-8000-000000000000")


def test_checkpoint_refuses_a_broken_log(clean_log, key):
    from audit.errors import CheckpointError
    log, _tk = clean_log
    lines = read_lines(log)
    del lines[4]
    write_lines(log, lines)
    with pytest.raises(CheckpointError, match="chain is broken"):
        write_checkpoint(log, key)
    log.write_bytes(b"".join(read_lines(log)[:4]) + b'{"pay')
    with pytest.raises(CheckpointError, match="audit repair"):
        write_checkpoint(log, key)


def test_bad_checkpoints_are_reported(clean_log, key, attacker, tmp_path):
    from audit import verify_log
    log, tk = clean_log
    forged = tmp_path / "forged.cp"
    write_checkpoint(log, attacker, export_to=forged)
    (log.with_name("log.checkpoints.jsonl")).unlink()
    report = verify_log(log, tk, checkpoints=[forged])
    assert [f.code for f in report.failures] == [Code.UNTRUSTED_KEY] and report.anchored == 0
    assert "forged.cp:1" in report.failures[0].message
    other = tmp_path / "o.jsonl"
    append(other, key, 3)
    foreign = tmp_path / "foreign.cp"
    write_checkpoint(other, key, export_to=foreign)
    report = verify_log(log, tk, checkpoints=[foreign])
    assert [f.code for f in report.failures] == [Code.BAD_CHECKPOINT]
    assert "is for log" in report.failures[0].message
    pin(other, tk)  # unrelated: pinning a second log does not disturb the first
    assert verify_log(log, tk).ok
