"""Fixtures for the release tests: keys, a trusted-keys file, one signed release of the bundled rules."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from release_helpers import copy_release, trust_file

from audit.keys import SigningKey
from audit.release import create_release


@pytest.fixture(scope="session")
def officer() -> SigningKey:
    """The privacy officer's release key."""
    return SigningKey.generate()


@pytest.fixture(scope="session")
def professional() -> SigningKey:
    """A professional's record key (may sign records, not releases)."""
    return SigningKey.generate()


@pytest.fixture
def trusted(tmp_path: Path, officer: SigningKey, professional: SigningKey) -> Path:
    return trust_file(tmp_path / "trusted-keys.json", (officer, "Privacy officer (FG)", ["release"]),
                      (professional, "J. de Vries laptop", ["record"]))


@pytest.fixture(scope="session")
def made(tmp_path_factory: pytest.TempPathFactory, ruleset, officer: SigningKey) -> Path:
    """One release of the bundled rules, signed by the officer (copy it before changing it)."""
    out = tmp_path_factory.mktemp("made") / "release-1"
    create_release(ruleset, officer, out, notes="Eerste vrijgave.\nMet twee regels.")
    return out


@pytest.fixture
def release(tmp_path: Path, made: Path) -> Path:
    return copy_release(made, tmp_path / "release")


@pytest.fixture(scope="session")
def ruleset_v2(tmp_path_factory: pytest.TempPathFactory, ruleset):
    """The bundled rules under another version (a working copy as the privacy officer keeps one:
    X/rules beside X/legal_bases)."""
    from engine import load_ruleset
    base = tmp_path_factory.mktemp("v2")
    shutil.copytree(ruleset.rules_dir, base / "rules")
    shutil.copytree(ruleset.sources_dir, base / "legal_bases")
    head = base / "rules" / "00-ruleset.yaml"
    text, n = re.subn(r'(\n  version: )"?([^"\n]+)"?', r'\1"\2-v2"', head.read_text(encoding="utf-8"), count=1)
    assert n == 1, "the rule set's version line moved; adjust this fixture"
    head.write_text(text, encoding="utf-8")
    rs = load_ruleset(base / "rules")
    assert rs.version.endswith("-v2") and rs.fingerprint != ruleset.fingerprint
    return rs
