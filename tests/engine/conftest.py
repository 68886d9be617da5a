"""Fixtures of the engine tests (the shared ``ruleset`` fixture is in tests/conftest.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from engine_helpers import Run, cli_env


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    """One private rule-set cache for every CLI run on the bundled rules in this session."""
    return tmp_path_factory.mktemp("rules-cache")


@pytest.fixture(scope="session")
def bundled_env(cache_dir) -> dict[str, str]:
    """The environment of a subprocess CLI run that shares the session's cache."""
    return cli_env(cache_dir)


@pytest.fixture
def main(capsys, monkeypatch, cache_dir):
    """``deelwijzer ARGS`` in this process (``cli.main.main``), with the session's cache:
    for the CLI behaviour that does not need a process of its own."""
    for key in [k for k in os.environ if k.startswith("DEELWIJZER_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("DEELWIJZER_CACHE_DIR", str(cache_dir))

    def run(*args) -> Run:
        from cli.main import main as cli_main

        argv = [str(a) for a in args]
        capsys.readouterr()
        code = cli_main(argv)
        out, err = capsys.readouterr()
        return Run(argv, code, out, err)

    return run
