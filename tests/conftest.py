"""Shared fixtures: the bundled rule set, loaded once per test session."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # tests also run from a plain checkout before `pip install -e .`
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("HYPOTHESIS_PROFILE", "ci")


@pytest.fixture(scope="session")
def ruleset():
    from engine import load_ruleset
    return load_ruleset()


# The longest tests start first, so that on two cores (make test: -n 2) the short ones fill the
# end instead of one long test running alone (durations: `make test` prints the slowest ten).
HEAVY = (
    "tests/engine/test_engine_invariants.py::test_invariants_hold_on_every_reachable_path",
    "tests/release/test_release_cli.py::test_the_whole_path_release_decide_and_replay",
    "tests/tui/test_tui_walkthrough.py::test_keyboard_only_walkthrough_to_a_signed_record_that_verifies",
    "tests/engine/test_engine_durable.py::test_several_rule_sets_in_one_process_interleaved",
)


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: 0 if item.nodeid in HEAVY else 1)  # stable: otherwise the collected order
