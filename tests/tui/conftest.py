"""Fixtures for the terminal-interview tests: temp data home, UTC, animations off,
the bundled rule set loaded once."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tui_helpers import make_app


@pytest.fixture(autouse=True)
def _utc_and_quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")


@pytest.fixture(scope="session")
def ruleset() -> Any:
    import engine

    return engine.load_ruleset()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "home"
    data.mkdir()
    monkeypatch.setenv("DEELWIJZER_HOME", str(data))
    return data


@pytest.fixture
def app_factory(home: Path, ruleset: Any):
    def factory(**kwargs: Any) -> Any:
        return make_app(home, ruleset, **kwargs)

    return factory
