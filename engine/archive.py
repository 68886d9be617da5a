"""Rule-set archive: every rule-set version stored under its fingerprint, for replay.

Layout: ``ARCHIVE/<fingerprint hex>/rules/*.yaml`` and ``ARCHIVE/<hex>/legal_bases/*.yaml``.
An auditor replays a signed decision against exactly the rule set it names; loading
checks that the stored files still hash to that fingerprint.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from engine.loader import RulesetError, load_ruleset, rule_files
from engine.ruleset import Ruleset
from legal_bases.catalogue import catalogue_files
from legal_bases.textfile import Problem


def _hex(fingerprint: str) -> str:
    value = fingerprint.split(":", 1)[1] if fingerprint.startswith("sha256:") else fingerprint
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise ValueError(f"not a rule-set fingerprint: {fingerprint!r} (expected sha256:<64 hex digits>)")
    return value


def archive_ruleset(rs: Ruleset, archive_dir: Path) -> Path:
    """Copy the rule set into the archive (idempotent); returns its directory."""
    target = Path(archive_dir) / _hex(rs.fingerprint)
    if target.is_dir():
        existing = load_archived(archive_dir, rs.fingerprint)
        if existing.fingerprint == rs.fingerprint:
            return target
    Path(archive_dir).mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".incoming-", dir=archive_dir))
    try:
        (staging / "rules").mkdir()
        (staging / "legal_bases").mkdir()
        for path in rule_files(rs.rules_dir):
            shutil.copy2(path, staging / "rules" / path.name)
        for path in catalogue_files(rs.sources_dir):
            shutil.copy2(path, staging / "legal_bases" / path.name)
        copy = load_ruleset(staging / "rules", staging / "legal_bases")
        if copy.fingerprint != rs.fingerprint:
            raise RulesetError([Problem(str(staging), 1, 1,
                                        "archived copy does not reproduce the fingerprint; files changed while archiving?")])
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target


def load_archived(archive_dir: Path, fingerprint: str) -> Ruleset:
    """The archived rule set with this fingerprint; RulesetError if absent or altered."""
    base = Path(archive_dir) / _hex(fingerprint)
    if not base.is_dir():
        raise RulesetError([Problem(str(base), 1, 1, f"rule set {fingerprint} is not in the archive; "
                                                        "run 'deelwijzer rules archive' for that version")])
    rs = load_ruleset(base / "rules", base / "legal_bases")
    if rs.fingerprint != "sha256:" + _hex(fingerprint):
        raise RulesetError([Problem(str(base), 1, 1,
                                    f"archived files hash to {rs.fingerprint}, not {fingerprint}: the archive was altered")])
    return rs
