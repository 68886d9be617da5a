"""Fixtures for the audit tests (helpers live in audit_helpers.py)."""
from __future__ import annotations

from pathlib import Path

import pytest
from audit_helpers import append, pin, trust_file

from audit.keys import SigningKey


@pytest.fixture(scope="session")
def key() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture(scope="session")
def attacker() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture
def clean_log(tmp_path: Path, key: SigningKey):
    """(log path, trusted-keys path) of a 12-record log (genesis + 11 decisions), pinned."""
    log = tmp_path / "log.jsonl"
    append(log, key, 11)
    tk = trust_file(tmp_path / "trusted-keys.json", key)
    pin(log, tk)
    return log, tk
