"""Records made on a release replay against it; `audit verify --rules-archive DIR` accepts a
directory of releases and checks each release's signature during replay."""
from __future__ import annotations

import datetime as dt
import shutil
import time
from pathlib import Path

import pytest
from release_helpers import ACTOR, complete_case, copy_release, rule_file, trust_file, writable

from audit import trust
from audit.codes import Code
from audit.keys import SigningKey
from audit.log import AuditLogWriter
from audit.release import create_release, open_release
from audit.timeutil import format_ts, now_ts
from audit.verify import verify_log


@pytest.fixture(scope="module")
def answers(ruleset) -> dict:
    from engine import parse_answers
    return parse_answers(ruleset, complete_case(ruleset))


def decision_on(rs, answers: dict, release=None) -> dict:
    from engine import decide
    return {**decide(rs, answers).to_json("nl"), "release": release}


def write(log: Path, key: SigningKey, *decisions: dict, answers: dict) -> None:
    with AuditLogWriter(log) as w:
        for i, d in enumerate(decisions):
            w.append_decision(key, decision=d, answers=answers, actor=ACTOR, case_ref_source=f"case-{i}")


def failures(report) -> list[tuple[int | None, str]]:
    return [(f.line, f.code) for f in report.failures]


@pytest.fixture
def releases(tmp_path: Path, made: Path, ruleset_v2, officer: SigningKey) -> Path:
    """A directory of two releases (the bundled rules and their next version) and nothing else."""
    base = tmp_path / "releases"
    base.mkdir()
    copy_release(made, base / "2026-1")
    create_release(ruleset_v2, officer, base / "2026-2")
    return base


def test_records_on_releases_replay_against_them(tmp_path, releases, trusted, ruleset, ruleset_v2, answers,
                                                 professional):
    tk = trust.load(trusted)
    r1, r2 = open_release(releases / "2026-1", tk), open_release(releases / "2026-2", tk)
    log = tmp_path / "log.jsonl"
    write(log, professional, decision_on(r1.ruleset, answers, r1.to_json()),
          decision_on(r2.ruleset, answers, r2.record_ref), decision_on(ruleset, answers), answers=answers)
    report = verify_log(log, trusted, releases)
    assert report.ok and failures(report) == [] and report.replayed == 3
    # one release as the archive works too (it is a one-entry archive)
    assert verify_log(log, trusted, releases / "2026-1").failures[0].line == 3  # record 2 names release 2026-2
    # the same log against an archive without releases: the records that name a release cannot be replayed
    archive = tmp_path / "archive"
    from engine.archive import archive_ruleset
    archive_ruleset(ruleset, archive)
    archive_ruleset(ruleset_v2, archive)
    assert failures(verify_log(log, trusted, archive)) == [(2, Code.REPLAY_UNAVAILABLE), (3, Code.REPLAY_UNAVAILABLE)]


def test_a_release_changed_after_the_records_fails_them(tmp_path, releases, trusted, answers, professional):
    r1 = open_release(releases / "2026-1", trust.load(trusted))
    log = tmp_path / "log.jsonl"
    write(log, professional, decision_on(r1.ruleset, answers, r1.record_ref), answers=answers)
    victim = writable(rule_file(releases / "2026-1"))
    victim.write_bytes(victim.read_bytes() + b"\n# harmless?\n")
    report = verify_log(log, trusted, releases)
    assert failures(report) == [(2, Code.RELEASE_FILES_CHANGED)]
    assert "was changed after signing" in report.failures[0].message


def test_a_release_signed_by_a_record_key_fails_its_records(tmp_path, trusted, ruleset, answers, professional):
    base = tmp_path / "releases"
    rel = create_release(ruleset, professional, base / "bad")
    log = tmp_path / "log.jsonl"
    write(log, professional, decision_on(ruleset, answers, rel.record_ref), answers=answers)
    assert failures(verify_log(log, trusted, base)) == [(2, Code.KEY_ROLE_NOT_ALLOWED)]


def test_a_record_made_before_its_release_applied_fails(tmp_path, trusted, ruleset, answers, officer, professional):
    base = tmp_path / "releases"
    start = format_ts(dt.datetime.now(dt.UTC) + dt.timedelta(days=3))
    rel = create_release(ruleset, officer, base / "next", valid_from=start)
    log = tmp_path / "log.jsonl"
    write(log, professional, decision_on(ruleset, answers, rel.record_ref), answers=answers)  # a writer that lied
    report = verify_log(log, trusted, base)
    assert failures(report) == [(2, Code.RELEASE_NOT_YET_VALID)] and start in report.failures[0].message


def test_a_record_naming_a_release_of_another_rule_set_fails(tmp_path, releases, trusted, ruleset_v2, answers,
                                                             professional):
    r1 = open_release(releases / "2026-1", trust.load(trusted))
    log = tmp_path / "log.jsonl"
    on_v2 = decision_on(ruleset_v2, answers, r1.record_ref)  # decided on v2, claims release 1
    write(log, professional, on_v2, {**on_v2, "release": {**r1.record_ref, "kid": professional.key_id}},
          answers=answers)
    assert failures(verify_log(log, trusted, releases)) == [(2, Code.RELEASE_MISMATCH), (3, Code.RELEASE_MISMATCH)]


def test_revoking_the_release_key_voids_only_the_records_made_after(tmp_path, releases, trusted, answers, officer,
                                                                   professional):
    r1 = open_release(releases / "2026-1", trust.load(trusted))
    log = tmp_path / "log.jsonl"
    write(log, professional, decision_on(r1.ruleset, answers, r1.record_ref), answers=answers)
    time.sleep(0.01)
    cut = now_ts()
    time.sleep(0.01)
    write(log, professional, decision_on(r1.ruleset, answers, r1.record_ref), answers=answers)
    assert r1.signed_at < cut  # the release itself was signed before the revocation
    trust.revoke_key(trusted, officer.key_id, cut)
    report = verify_log(log, trusted, releases)
    assert failures(report) == [(3, Code.KEY_NOT_VALID_AT_TIME)] and "revoked" in report.failures[0].message


def test_a_record_whose_release_is_missing_fails(tmp_path, releases, trusted, answers, professional):
    r1 = open_release(releases / "2026-1", trust.load(trusted))
    log = tmp_path / "log.jsonl"
    write(log, professional, decision_on(r1.ruleset, answers, r1.record_ref), answers=answers)
    _remove(releases / "2026-1")
    report = verify_log(log, trusted, releases)
    assert failures(report) == [(2, Code.REPLAY_UNAVAILABLE)] and r1.statement[:19] in report.failures[0].message


def test_a_release_key_trusted_only_in_another_file_is_untrusted(tmp_path, releases, answers, professional, trusted):
    r1 = open_release(releases / "2026-1", trust.load(trusted))
    log = tmp_path / "log.jsonl"
    write(log, professional, decision_on(r1.ruleset, answers, r1.record_ref), answers=answers)
    only_records = trust_file(tmp_path / "records-only.json", (professional, "laptop", ["record"]))
    assert failures(verify_log(log, only_records, releases)) == [(2, Code.UNTRUSTED_KEY)]


def _remove(path: Path) -> None:
    for p in path.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    shutil.rmtree(path)
