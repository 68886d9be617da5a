"""Properties: any byte change in any archived file is refused; the record's ``release`` field is
checked identically by the verifier's fast paths and the strict models, and old records without
it still verify."""
from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from release_helpers import copy_release, writable

from audit import canonical, record
from audit.codes import Code
from audit.errors import AuditError, ReleaseError
from audit.release import open_release
from audit.trust import TrustStore


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory, made: Path, officer) -> tuple[Path, list[Path], TrustStore]:
    from audit.release import _self_trust
    release = copy_release(made, tmp_path_factory.mktemp("prop") / "release")
    files = sorted(p for p in release.rglob("*.yaml"))
    for f in files:
        writable(f)
    return release, files, _self_trust(officer)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_any_byte_change_in_any_archived_file_is_refused(sandbox, data):
    release, files, trust = sandbox
    victim = data.draw(st.sampled_from(files))
    original = victim.read_bytes()
    kind = data.draw(st.sampled_from(["replace", "insert", "delete", "truncate", "append"]))
    pos = data.draw(st.integers(0, len(original) - 1))
    if kind == "replace":
        new = bytes([data.draw(st.integers(0, 255).filter(lambda b: b != original[pos]))])
        changed = original[:pos] + new + original[pos + 1:]
    elif kind == "insert":
        changed = original[:pos] + bytes([data.draw(st.integers(0, 255))]) + original[pos:]
    elif kind == "delete":
        changed = original[:pos] + original[pos + 1:]
    elif kind == "truncate":
        changed = original[:pos]
    else:
        changed = original + data.draw(st.binary(min_size=1, max_size=8))
    assert changed != original
    victim.write_bytes(changed)
    try:
        with pytest.raises(ReleaseError) as info:
            open_release(release, trust)
        assert info.value.code is Code.RELEASE_FILES_CHANGED
        assert victim.relative_to(release).as_posix() in info.value.message
    finally:
        victim.write_bytes(original)
    assert open_release(release, trust).files  # restored: verifies again


@settings(max_examples=30, deadline=None)
@given(name=st.from_regex(r"\A[A-Za-z0-9._ -]{1,20}\Z", fullmatch=True).filter(lambda n: n not in (".", "..")),
       where=st.integers(0, 3))
def test_no_extra_file_is_accepted_anywhere(sandbox, name, where):
    release, files, trust = sandbox
    dirs = [release, files[0].parent.parent, files[0].parent, files[-1].parent]
    extra = dirs[where] / name
    if extra.exists():
        return
    extra.write_bytes(b"")
    try:
        with pytest.raises(ReleaseError) as info:
            open_release(release, trust)
        assert info.value.code is Code.RELEASE_FILES_CHANGED and "was added" in info.value.message
    finally:
        extra.unlink()


# --- the record's release field -----------------------------------------------------------------

def _decision(release: Any, with_field: bool = True) -> dict[str, Any]:
    body = {
        "actor": {"organisation": "Jeugdteam Noord", "professional": "J. de Vries"},
        "advice": {"conditions": ["minimise"], "data": {"allowed": ["identity"], "withheld": []},
                   "explanation": [{"cites": ["jw-7.3.11-1"], "rule": "r1", "text": "Tekst."}],
                   "legal_bases": [{"citation": "art. 7.3.11 lid 1 Jeugdwet", "id": "jw-7.3.11-1", "status": "verified"}],
                   "outcome": "SHARE_DIRECTLY_INVOLVED", "recipient": "colleague_involved", "verdict": "share"},
        "answers": {"professional.role": "jeugdhulpverlener"},
        "app": {"name": "deelwijzer", "version": "0.1.0"}, "case_ref": "hmac-sha256:" + "A" * 43,
        "fired_rules": ["r1"], "kid": "ed25519:" + "a" * 64, "log_id": str(uuid.uuid4()), "prev": "b" * 64,
        "pseudonym_key_id": "pk-" + "c" * 16, "record_id": str(uuid.uuid4()),
        "ruleset": {"fingerprint": "sha256:" + "d" * 64, "name": "deelwijzer-mensenhandel", "version": "2026.1"},
        "seq": 3, "ts": "2026-11-22T11:48:50.329Z", "type": "decision", "v": 1,
    }
    if with_field:
        body["release"] = release
    return body


def _strict(payload: bytes) -> bool:
    try:
        record.strict_parse(payload)
    except AuditError:
        return False
    return True


def _agree(payload: bytes) -> bool:
    """All three checks say the same; returns whether they accept."""
    strict = _strict(payload)
    fast = record.fast_check(payload)
    header = record.decision_header(payload)
    assert (fast is not None) == strict, payload
    assert header is None or strict, payload
    if strict:
        assert header is not None, "a genuine record missed the raw-bytes check"
        assert record.parse_payload(payload) == json.loads(payload)
    return strict


REF = {"kid": "ed25519:" + "e" * 64, "statement": "sha256:" + "f" * 64}


@pytest.mark.parametrize("release", [None, REF])
def test_a_record_with_release_null_or_a_release_is_accepted(release):
    assert _agree(canonical.dumps(_decision(release)))


def test_an_old_record_without_the_field_still_verifies():
    assert _agree(canonical.dumps(_decision(None, with_field=False)))


ODD = [True, 0, "", "x", [], {}, {"kid": REF["kid"]}, {"statement": REF["statement"]}, {**REF, "name": "x"},
       {**REF, "kid": "ed25519:" + "E" * 64}, {**REF, "statement": "sha256:" + "f" * 63},
       {**REF, "statement": "f" * 64}, {"kid": REF["kid"], "statement": None}]


@settings(max_examples=150, deadline=None)
@given(value=st.sampled_from(ODD) | st.dictionaries(st.sampled_from(["kid", "statement", "x"]),
                                                    st.text(max_size=80) | st.none(), max_size=3),
       mutation=st.sampled_from(["value", "order", "space", "dup"]))
def test_fast_paths_and_strict_models_agree_on_the_release_field(value, mutation):
    if mutation == "value":
        payload = canonical.dumps_unchecked(_decision(value))
    elif mutation == "order":  # the release object's keys in the wrong order
        good = canonical.dumps(_decision(REF))
        payload = good.replace(b'"release":{"kid":"' + REF["kid"].encode() + b'","statement":"'
                               + REF["statement"].encode() + b'"}',
                               b'"release":{"statement":"' + REF["statement"].encode() + b'","kid":"'
                               + REF["kid"].encode() + b'"}')
        assert payload != good
    elif mutation == "space":
        payload = canonical.dumps(_decision(REF)).replace(b'"release":', b'"release": ')
    else:
        payload = canonical.dumps(_decision(None)).replace(b'"release":null', b'"release":null,"release":null')
    accepted = _agree(payload)
    if mutation != "value":
        assert not accepted
    elif value in (None, REF) or (isinstance(value, dict) and value == REF):
        assert accepted


def test_the_release_field_sits_in_canonical_order():
    names = list(record.DecisionRecord.model_fields)
    assert names == sorted(names) and names.index("release") == names.index("record_id") + 1
