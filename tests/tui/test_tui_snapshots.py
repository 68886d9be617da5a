"""Snapshot tests of the main screens (frozen clock, fixed case ids, no animations, no blinking
cursor). Review changes in the HTML report before `pytest tests/tui --snapshot-update`."""

from __future__ import annotations

from pathlib import Path

import pytest
from tui_helpers import (answer_by_keys, make_app, no_blink, open_case, prepare_home, seed_case,
                         settle, start_case, complete_answers)
from tui_scenarios import VEILIG_THUIS

BIG = (100, 30)
SMALL = (80, 24)


@pytest.fixture
def seeded(home: Path, ruleset) -> Path:
    prepare_home(home)
    seed_case(home, ruleset, VEILIG_THUIS, position="advice")
    return home


def help_fact(ruleset) -> str:
    """Of the questions this scenario asks, the one with the richest F1 help (sources + terms)."""
    asked = list(complete_answers(ruleset, VEILIG_THUIS))
    return max(asked, key=lambda f: (len(ruleset.question(f).sources) + len(ruleset.question(f).terms),
                                     -asked.index(f)))


def test_start_screen_with_a_case_to_resume(snap_compare, home: Path, ruleset) -> None:
    prepare_home(home)
    seed_case(home, ruleset, VEILIG_THUIS, position="review")

    async def before(pilot):
        await settle(pilot)

    assert snap_compare(make_app(home, ruleset), terminal_size=BIG, run_before=before)


def test_first_use_key_screen(snap_compare, home: Path, ruleset) -> None:
    async def before(pilot):
        await settle(pilot)
        no_blink(pilot.app)

    assert snap_compare(make_app(home, ruleset), terminal_size=SMALL, run_before=before)


def test_first_question(snap_compare, home: Path, ruleset) -> None:
    prepare_home(home)

    async def before(pilot):
        await start_case(pilot)

    assert snap_compare(make_app(home, ruleset), terminal_size=BIG, run_before=before)


def test_number_question_with_an_error_at_80x24(snap_compare, home: Path, ruleset) -> None:
    prepare_home(home)
    fact = next(f for f in complete_answers(ruleset, VEILIG_THUIS) if ruleset.question(f).type == "int")
    seed_case(home, ruleset, VEILIG_THUIS, position="", until=fact)

    async def before(pilot):
        await open_case(pilot)
        await pilot.press("9", "9", "enter")

    assert snap_compare(make_app(home, ruleset), terminal_size=SMALL, run_before=before)


def test_set_question(snap_compare, home: Path, ruleset) -> None:
    prepare_home(home)
    from tui.widgets.answers import MultiChoice

    async def before(pilot):
        await start_case(pilot)
        for _ in range(40):
            if isinstance(pilot.app.screen.query_one("#answer"), MultiChoice):
                return
            await answer_by_keys(pilot, VEILIG_THUIS[pilot.app.screen.fact])

    assert snap_compare(make_app(home, ruleset), terminal_size=BIG, run_before=before)


def test_help_screen(snap_compare, home: Path, ruleset) -> None:
    prepare_home(home)
    fact = help_fact(ruleset)
    seed_case(home, ruleset, VEILIG_THUIS, position="", until=fact)

    async def before(pilot):
        await open_case(pilot)
        await pilot.press("f1")

    assert snap_compare(make_app(home, ruleset), terminal_size=BIG, run_before=before)


def test_check_answers(snap_compare, home: Path, ruleset) -> None:
    prepare_home(home)
    seed_case(home, ruleset, VEILIG_THUIS, position="review")

    async def before(pilot):
        await open_case(pilot)

    assert snap_compare(make_app(home, ruleset), terminal_size=BIG, run_before=before)


def test_advice(snap_compare, seeded: Path, ruleset) -> None:
    assert snap_compare(make_app(seeded, ruleset), terminal_size=BIG, run_before=open_case)


def test_advice_at_80x24(snap_compare, seeded: Path, ruleset) -> None:
    assert snap_compare(make_app(seeded, ruleset), terminal_size=SMALL, run_before=open_case)


def test_advice_in_english(snap_compare, seeded: Path, ruleset) -> None:
    async def before(pilot):
        await open_case(pilot)
        await pilot.press("ctrl+l")

    assert snap_compare(make_app(seeded, ruleset), terminal_size=BIG, run_before=before)


def test_advice_terminal_colours(snap_compare, seeded: Path, ruleset) -> None:
    from tui.settings import Settings

    settings = Settings.load(seeded)
    settings.theme = "ansi-dark"
    settings.save(seeded)
    assert snap_compare(make_app(seeded, ruleset), terminal_size=BIG, run_before=open_case)


def test_advice_no_color(snap_compare, seeded: Path, ruleset, monkeypatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    assert snap_compare(make_app(seeded, ruleset), terminal_size=BIG, run_before=open_case)


def test_why(snap_compare, seeded: Path, ruleset) -> None:
    async def before(pilot):
        await open_case(pilot)
        await pilot.press("f3")

    assert snap_compare(make_app(seeded, ruleset), terminal_size=BIG, run_before=before)


def test_passphrase_dialog(snap_compare, seeded: Path, ruleset) -> None:
    prepare_home(seeded, with_key_file=True)  # F4 asks the passphrase only when a key exists
    async def before(pilot):
        await open_case(pilot)
        await pilot.press("f4")
        await pilot.pause()
        no_blink(pilot.app)

    assert snap_compare(make_app(seeded, ruleset), terminal_size=SMALL, run_before=before)


@pytest.fixture
def fixed_home(monkeypatch) -> Path:
    """A data home at a fixed path, for screens that show file paths."""
    import shutil
    import tempfile

    path = Path(tempfile.gettempdir()) / "deelwijzer-snapshot-home"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir()
    monkeypatch.setenv("DEELWIJZER_HOME", str(path))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.xdist_group("fixed-home")  # one fixed path: never two of these at once (make test runs -n 2)
def test_settings(snap_compare, fixed_home: Path, ruleset) -> None:
    home = fixed_home
    prepare_home(home)

    async def before(pilot):
        await settle(pilot)
        await pilot.press("ctrl+o")
        await pilot.pause()
        no_blink(pilot.app)

    assert snap_compare(make_app(home, ruleset), terminal_size=BIG, run_before=before)


def test_what_next_panel(snap_compare, seeded: Path, ruleset) -> None:
    """The "Wat nu?" panel of the advice (scrolled into view)."""
    async def before(pilot):
        await open_case(pilot)
        pilot.app.screen.query_one("#what-next").scroll_visible(animate=False, top=True)
        await pilot.pause()

    assert snap_compare(make_app(seeded, ruleset), terminal_size=BIG, run_before=before)


def test_what_next_when_not_sharing(snap_compare, home: Path, ruleset) -> None:
    """A "do not share" advice: the panel names what stood in the way and what to do."""
    from tui_helpers import find_answers, seed_answers

    answers = find_answers(ruleset, lambda d: d.advice.verdict != "share")
    prepare_home(home)
    seed_answers(home, answers)

    async def before(pilot):
        await open_case(pilot)
        pilot.app.screen.query_one("#what-next").scroll_visible(animate=False, top=True)
        await pilot.pause()

    assert snap_compare(make_app(home, ruleset), terminal_size=BIG, run_before=before)


@pytest.mark.xdist_group("fixed-home")
def test_dossier_view(snap_compare, fixed_home: Path, ruleset) -> None:
    """The dossier document before signing: the concept notice, the own weighing, the preview."""
    prepare_home(fixed_home)
    seed_case(fixed_home, ruleset, VEILIG_THUIS, position="advice")

    async def before(pilot):
        await open_case(pilot)
        await pilot.press("f5")
        await pilot.pause()
        await pilot.press(*"Overleg", "space", *"gehad")
        no_blink(pilot.app)
        pilot.app.screen.query_one("#dossier-body").scroll_home(animate=False)
        await pilot.pause()

    assert snap_compare(make_app(fixed_home, ruleset), terminal_size=BIG, run_before=before)


def test_klopt_dit(snap_compare, home: Path, ruleset) -> None:
    from test_tui_defects import after, asked_of_type, implausible_age

    scenario, _ = implausible_age(ruleset)
    prepare_home(home)
    seed_case(home, ruleset, scenario, position="", until=after(ruleset, scenario, asked_of_type(ruleset, "int")))

    async def before(pilot):
        await open_case(pilot)
        await answer_by_keys(pilot, scenario[pilot.app.screen.fact])

    assert snap_compare(make_app(home, ruleset), terminal_size=BIG, run_before=before)
