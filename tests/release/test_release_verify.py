"""A release verifies; every way it can be wrong is refused with its own reason code.

Real files and real Ed25519 keys throughout; the refusals are what a professional's Deelwijzer
does at start (``verify_release``) and what ``rules verify-release`` reports.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import shutil
import threading
from pathlib import Path

import pytest
from release_helpers import (canon, rule_file, statement, statement_line, trust_file, writable,
                             write_statement)

from audit import trust
from audit.codes import Code
from audit.errors import ReleaseError
from audit.keys import SigningKey
from audit.release import (MAX_STATEMENT, PREDICATE_TYPE, RELEASE_TYPE, STATEMENT_FILE, create_release, open_release,
                           verify_release, whom_to_ask)
from audit.timeutil import format_ts, now_ts


def refused(release: Path, trusted: Path | trust.TrustStore, code: Code, **kw) -> ReleaseError:
    with pytest.raises(ReleaseError) as info:
        verify_release(release, trusted, **kw)
    assert info.value.code is code, (info.value.code, info.value.message)
    assert info.value.hint, "every refusal says what to do and whom to ask"
    return info.value


# --- a release verifies ----------------------------------------------------------------------------

def test_a_release_verifies(release: Path, trusted: Path, ruleset, officer: SigningKey):
    v = verify_release(release, trusted)
    assert (v.name, v.version, v.fingerprint) == (ruleset.name, ruleset.version, ruleset.fingerprint)
    assert v.signer_key_id == officer.key_id and v.signer_owner == "Privacy officer (FG)"
    assert v.notes == "Eerste vrijgave.\nMet twee regels." and v.changes is None
    assert v.valid_from == v.signed_at
    assert v.ruleset.fingerprint == ruleset.fingerprint and v.rules_dir == release / ruleset.fingerprint[7:] / "rules"
    # the statement's digest names the release in records
    env = json.loads(statement_line(release))
    assert v.statement == "sha256:" + hashlib.sha256(base64.b64decode(env["payload"])).hexdigest()
    assert v.record_ref == {"kid": officer.key_id, "statement": v.statement}


def test_the_statement_is_an_in_toto_statement_in_a_dsse_envelope(release: Path, ruleset, officer: SigningKey):
    env = json.loads(statement_line(release))
    assert env["payloadType"] == RELEASE_TYPE == "application/vnd.in-toto+json"
    assert env["signatures"][0]["keyid"] == officer.key_id
    st = statement(release)
    assert st["_type"] == "https://in-toto.io/Statement/v1" and st["predicateType"] == PREDICATE_TYPE
    pred = st["predicate"]
    assert pred["fingerprint"] == ruleset.fingerprint and pred["kid"] == officer.key_id
    # every archived file is a subject with the SHA-256 of its exact bytes, and there is nothing else
    on_disk = {p.relative_to(release).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
               for p in release.rglob("*") if p.is_file() and p.name != STATEMENT_FILE}
    assert {s["name"]: s["digest"]["sha256"] for s in st["subject"]} == on_disk
    n_rules = len(list(Path(ruleset.rules_dir).glob("*.yaml")))
    assert sum(s["name"].split("/")[1] == "rules" for s in st["subject"]) == n_rules
    assert statement_line(release) == canon(env) + b"\n"  # canonical, one line


def test_the_release_directory_itself_may_be_a_symlink(release: Path, trusted: Path, tmp_path: Path):
    current = tmp_path / "current"
    current.symlink_to(release, target_is_directory=True)
    assert verify_release(current, trusted).fingerprint


# --- the files are exactly what was signed ---------------------------------------------------------

def test_a_changed_rule_file_is_refused(release: Path, trusted: Path):
    f = writable(rule_file(release))
    f.write_bytes(f.read_bytes() + b"# only a comment: the fingerprint stays, the bytes do not\n")
    err = refused(release, trusted, Code.RELEASE_FILES_CHANGED)
    assert f"{f.relative_to(release).as_posix()} was changed after signing" in err.message
    assert "privacy officer" in err.hint


@pytest.mark.parametrize("change", ["added file", "added hidden file", "added directory", "removed file",
                                    "renamed file", "catalogue changed"])
def test_files_added_removed_or_changed_are_refused(release: Path, trusted: Path, change: str):
    entry = next(p for p in release.iterdir() if p.is_dir())
    if change == "added file":
        (entry / "rules" / "99-extra.yaml").write_text("rules: []\n")
        expect = "99-extra.yaml was added"
    elif change == "added hidden file":
        (release / ".DS_Store").write_bytes(b"\0")
        expect = ".DS_Store was added"
    elif change == "added directory":
        (entry / "rules" / "tests").mkdir()
        expect = "directory " + (entry / "rules" / "tests").relative_to(release).as_posix() + " was added"
    elif change == "removed file":
        victim = rule_file(release)
        victim.unlink()
        expect = victim.relative_to(release).as_posix() + " was removed"
    elif change == "renamed file":
        victim = rule_file(release)
        victim.rename(victim.with_name("zz-" + victim.name))
        expect = "was removed"
    else:
        cat = writable(sorted((entry / "legal_bases").glob("*.yaml"))[0])
        cat.write_bytes(cat.read_bytes().replace(b"verified", b"unverified", 1) + b"\n")
        expect = cat.name + " was changed after signing"
    assert expect in refused(release, trusted, Code.RELEASE_FILES_CHANGED).message


def test_symlinks_inside_a_release_are_refused_even_to_identical_content(release: Path, trusted: Path, tmp_path: Path):
    victim = rule_file(release)
    outside = tmp_path / "outside.yaml"
    outside.write_bytes(victim.read_bytes())  # the same bytes: only the link itself is wrong
    victim.unlink()
    victim.symlink_to(outside)
    assert "is a symbolic link" in refused(release, trusted, Code.RELEASE_FILES_CHANGED).message


def test_a_symlinked_directory_pointing_outside_is_refused(release: Path, trusted: Path, tmp_path: Path):
    entry = next(p for p in release.iterdir() if p.is_dir())
    moved = tmp_path / "elsewhere"
    shutil.move(str(entry / "legal_bases"), moved)
    (entry / "legal_bases").symlink_to(moved, target_is_directory=True)
    assert "legal_bases is a symbolic link" in refused(release, trusted, Code.RELEASE_FILES_CHANGED).message


def test_a_fifo_in_a_release_is_refused_without_hanging(release: Path, trusted: Path):
    victim = rule_file(release)
    victim.unlink()
    os.mkfifo(victim)
    done = threading.Event()
    result: list[BaseException] = []

    def run() -> None:
        try:
            verify_release(release, trusted)
        except BaseException as exc:
            result.append(exc)
        done.set()
    threading.Thread(target=run, daemon=True).start()
    assert done.wait(20), "verifying a release with a FIFO in it hung"
    assert isinstance(result[0], ReleaseError) and result[0].code is Code.RELEASE_FILES_CHANGED
    assert "is not a regular file" in result[0].message


def test_an_oversized_file_is_refused_unread(release: Path, trusted: Path):
    victim = writable(rule_file(release))
    with open(victim, "ab") as fh:
        fh.truncate(5 << 20)  # sparse: 5 MiB, over the 4 MiB a release file may have
    assert "more than the" in refused(release, trusted, Code.RELEASE_FILES_CHANGED).message


def test_a_release_with_a_huge_number_of_entries_is_refused(release: Path, trusted: Path):
    junk = next(p for p in release.iterdir() if p.is_dir()) / "rules"
    for i in range(2100):
        (junk / f"x{i}.txt").touch()
    assert "more than" in refused(release, trusted, Code.RELEASE_FILES_CHANGED).message


# --- the statement and its signature ------------------------------------------------------------------

def test_a_statement_signed_by_a_record_key_is_refused(tmp_path: Path, ruleset, professional: SigningKey, trusted: Path):
    rel = create_release(ruleset, professional, tmp_path / "by-record-key")  # no trust check when making it
    err = refused(rel.path, trusted, Code.KEY_ROLE_NOT_ALLOWED)
    assert "not for release" in err.message and "privacy officer" in err.hint


def test_a_revoked_signer_is_refused(release: Path, trusted: Path, officer: SigningKey):
    assert verify_release(release, trusted)
    trust.revoke_key(trusted, officer.key_id, now_ts())
    err = refused(release, trusted, Code.KEY_NOT_VALID_AT_TIME)
    assert "revoked" in err.message and "current key" in err.hint


def test_an_expired_signer_is_refused(made: Path, tmp_path: Path, officer: SigningKey):
    later = format_ts(dt.datetime.now(dt.UTC) + dt.timedelta(days=30))
    tk = trust_file(tmp_path / "tk.json", (officer, "FG", ["release"]), valid_until=later)
    assert verify_release(made, tk)
    assert "expired" in refused(made, tk, Code.KEY_NOT_VALID_AT_TIME,
                                now=dt.datetime.now(dt.UTC) + dt.timedelta(days=31)).message


def test_a_signer_not_yet_valid_when_it_signed_is_refused(made: Path, tmp_path: Path, officer: SigningKey):
    later = format_ts(dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
    tk = trust_file(tmp_path / "tk.json", (officer, "FG", ["release"]), valid_from=later)
    assert "valid only from" in refused(made, tk, Code.KEY_NOT_VALID_AT_TIME).message


def test_a_release_not_yet_valid_is_refused_until_its_date(tmp_path: Path, ruleset, officer: SigningKey, trusted: Path):
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=10)
    rel = create_release(ruleset, officer, tmp_path / "next", valid_from=format_ts(start))
    assert rel.valid_from == format_ts(start)
    err = refused(rel.path, trusted, Code.RELEASE_NOT_YET_VALID)
    assert format_ts(start) in err.message and "current release" in err.hint
    assert verify_release(rel.path, trusted, now=start + dt.timedelta(seconds=1)).valid_from == format_ts(start)


def test_valid_from_in_the_past_means_from_signing(tmp_path: Path, ruleset, officer: SigningKey):
    rel = create_release(ruleset, officer, tmp_path / "r", valid_from="2001-01-01T00:00:00.000Z")
    assert rel.valid_from == rel.signed_at


def test_an_untrusted_signer_is_refused(made: Path, tmp_path: Path, professional: SigningKey):
    tk = trust_file(tmp_path / "tk.json", (professional, "someone else", ["release"]))
    refused(made, tk, Code.UNTRUSTED_KEY)


def test_a_changed_statement_is_refused(release: Path, trusted: Path):
    env = json.loads(statement_line(release))
    body = statement(release)
    body["predicate"]["valid_from"] = "2001-01-01T00:00:00.000Z"
    env["payload"] = base64.b64encode(canon(body)).decode()
    path = writable(release / STATEMENT_FILE)
    path.write_bytes(canon(env) + b"\n")
    refused(release, trusted, Code.BAD_SIGNATURE)


def test_another_releases_statement_does_not_fit_these_files(tmp_path: Path, ruleset_v2, officer: SigningKey,
                                                             trusted: Path, release: Path):
    """A genuine, validly signed statement of another rule set, put beside these files."""
    other = create_release(ruleset_v2, officer, tmp_path / "other")
    shutil.copy(other.path / STATEMENT_FILE, writable(release / STATEMENT_FILE))
    err = refused(release, trusted, Code.RELEASE_FILES_CHANGED)
    assert "was added" in err.message and "was removed" in err.message


def test_a_signed_statement_with_a_false_fingerprint_is_refused(release: Path, trusted: Path, officer: SigningKey):
    """Files exactly as signed, but the rule set they hold is not the one the statement names."""
    body = statement(release)
    real = body["predicate"]["fingerprint"].removeprefix("sha256:")
    fake = hashlib.sha256(b"another rule set").hexdigest()
    (release / real).rename(release / fake)
    body["predicate"]["fingerprint"] = "sha256:" + fake
    for s in body["subject"]:
        s["name"] = s["name"].replace(real, fake)
    body["subject"].sort(key=lambda s: s["name"])
    write_statement(release, body, officer)
    err = refused(release, trusted, Code.RELEASE_FINGERPRINT_MISMATCH)
    assert f"sha256:{real}" in err.message


@pytest.mark.parametrize("edit", ["extra field", "extra predicate field", "valid before signing", "unsorted subjects",
                                  "subject outside", "other predicate type", "kid differs", "not canonical",
                                  "not json", "float"])
def test_a_validly_signed_but_malformed_statement_is_refused(release: Path, trusted: Path, officer: SigningKey,
                                                             professional: SigningKey, edit: str):
    body = statement(release)
    pred = body["predicate"]
    raw = None
    if edit == "extra field":
        body["comment"] = "x"
    elif edit == "extra predicate field":
        pred["approved_by_court"] = True
    elif edit == "valid before signing":
        pred["valid_from"] = "2001-01-01T00:00:00.000Z"
    elif edit == "unsorted subjects":
        body["subject"].reverse()
    elif edit == "subject outside":
        body["subject"][0]["name"] = "../../etc/passwd"
    elif edit == "other predicate type":
        body["predicateType"] = "https://slsa.dev/provenance/v1"
    elif edit == "kid differs":
        pred["kid"] = professional.key_id
    elif edit == "not canonical":
        raw = json.dumps(body, indent=1).encode()
    elif edit == "not json":
        raw = b"\xff\xfe not json"
    else:
        raw = canon(body).replace(b'"paths":', b'"paths":1.5,"x":', 1) if b'"paths":' in canon(body) else \
            canon(body)[:-1] + b',"f":1.5}'
    write_statement(release, raw if raw is not None else body, officer)
    refused(release, trusted, Code.RELEASE_INVALID)


@pytest.mark.parametrize("damage", ["missing", "empty", "two lines", "no newline", "huge", "garbage", "symlink",
                                    "directory", "fifo"])
def test_a_damaged_statement_file_is_refused(release: Path, trusted: Path, tmp_path: Path, damage: str):
    path = writable(release / STATEMENT_FILE)
    line = path.read_bytes()
    path.unlink()
    if damage == "empty":
        path.write_bytes(b"")
    elif damage == "two lines":
        path.write_bytes(line + line)
    elif damage == "no newline":
        path.write_bytes(line[:-1])
    elif damage == "huge":
        with open(path, "wb") as fh:
            fh.truncate(MAX_STATEMENT + 10)
    elif damage == "garbage":
        path.write_bytes(b'{"payload": 1}\n')
    elif damage == "symlink":
        (tmp_path / "elsewhere.json").write_bytes(line)
        path.symlink_to(tmp_path / "elsewhere.json")
    elif damage == "directory":
        path.mkdir()
    elif damage == "fifo":
        os.mkfifo(path)
    refused(release, trusted, Code.RELEASE_INVALID)


def test_a_missing_or_broken_trusted_keys_file_is_refused(release: Path, tmp_path: Path):
    err = refused(release, tmp_path / "nope.json", Code.TRUST_FILE_INVALID)
    assert "does not exist" in err.message and "IT" in err.hint
    (tmp_path / "bad.json").write_text("{")
    refused(release, tmp_path / "bad.json", Code.TRUST_FILE_INVALID)


def test_a_missing_release_directory_is_refused(tmp_path: Path, trusted: Path):
    assert "does not exist" in refused(tmp_path / "nowhere", trusted, Code.RELEASE_INVALID).message


# --- making a release -----------------------------------------------------------------------------

def test_a_release_is_never_overwritten(made: Path, ruleset, officer: SigningKey, tmp_path: Path):
    before = statement_line(made)
    with pytest.raises(ReleaseError) as info:
        create_release(ruleset, officer, made)
    assert info.value.code is Code.INVALID_ARGUMENT and "never changed or overwritten" in info.value.message
    assert statement_line(made) == before
    empty = tmp_path / "empty"
    empty.mkdir()
    assert create_release(ruleset, officer, empty).path == empty  # an empty directory may receive one


def test_with_a_trusted_keys_file_only_a_release_key_may_sign(tmp_path: Path, ruleset, professional: SigningKey,
                                                             officer: SigningKey, trusted: Path):
    store = trust.load(trusted)
    with pytest.raises(ReleaseError) as info:
        create_release(ruleset, professional, tmp_path / "r", trust=store)
    assert info.value.code is Code.KEY_ROLE_NOT_ALLOWED and "record key" in info.value.hint
    assert not (tmp_path / "r").exists() and not list(tmp_path.glob(".release-*"))
    made = create_release(ruleset, officer, tmp_path / "r", trust=store)
    assert made.signer_owner == "Privacy officer (FG)"


def test_release_files_are_read_only_and_readable_by_all(made: Path):
    for p in made.rglob("*"):
        mode = p.stat().st_mode & 0o777
        assert mode == (0o755 if p.is_dir() else 0o444), (p, oct(mode))


def test_open_release_checks_the_signer_at_the_signing_time_only(release: Path, trusted: Path, officer: SigningKey):
    """The auditor's replay uses open_release, then checks the record's time itself: a key
    revoked after the release was used does not void the records made before."""
    trust.revoke_key(trusted, officer.key_id, now_ts())
    assert open_release(release, trust.load(trusted)).signer_key_id == officer.key_id


def test_every_hint_names_whom_to_ask_in_both_languages():
    for code in (Code.RELEASE_INVALID, Code.RELEASE_FILES_CHANGED, Code.RELEASE_FINGERPRINT_MISMATCH,
                 Code.RELEASE_NOT_YET_VALID, Code.UNTRUSTED_KEY, Code.BAD_SIGNATURE, Code.KEY_ROLE_NOT_ALLOWED,
                 Code.KEY_NOT_VALID_AT_TIME, Code.TRUST_FILE_INVALID):
        nl, en = whom_to_ask(code, "nl"), whom_to_ask(code, "en")
        assert nl != en
        assert ("privacy officer" in nl or "IT" in nl) and ("privacy officer" in en or "IT" in en), code


def test_the_change_summary_counts_every_path_and_lists_the_most_frequent_kinds(release: Path, trusted: Path):
    from collections import Counter

    from engine.diff import Change, DiffReport

    from audit.release import MAX_KINDS, changes_from_diff
    previous = verify_release(release, trusted)
    report = DiffReport("old", "new", paths=1000, unchanged=400, decided=1000,
                        new_paths=Counter({"DO_NOT_SHARE": 3}), changed_rules=["r1", "r2"])
    for i in range(MAX_KINDS + 50):
        kind = f"outcome: A{i} -> B" + ("; legal_bases: +x" * 60 if i == 0 else "")
        report.changes[kind] = Change(kind, paths=2 if i < 300 else 1)
    changes = changes_from_diff(report, previous)
    assert changes.changed == report.changed == 500 and changes.paths == 1000 and changes.unchanged == 400
    assert len(changes.kinds) == MAX_KINDS and changes.kinds_not_listed == 50
    assert len(changes.kinds[0].kind) == 500 and changes.kinds[0].kind.endswith("…")
    assert changes.previous.statement == previous.statement and changes.new_paths[0].outcome == "DO_NOT_SHARE"
