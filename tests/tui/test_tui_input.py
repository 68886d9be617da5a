"""Validation in place, language switch at runtime, palette, footer keys, colours."""

from __future__ import annotations

import json
from pathlib import Path

from tui_helpers import (SIZE, answer_by_keys, footer_text, highlight_option, make_app, open_case,
                         prepare_home, screen_text, seed_case, settle, start_case)
from tui_scenarios import VEILIG_THUIS

from tui.lang import pick
from tui.screens.question import QuestionScreen
from tui.widgets.answers import MultiChoice


def first_question_of_type(ruleset, kind: str) -> str:
    return next(q.fact for q in ruleset.questions if q.type == kind)


async def open_at(pilot, fact: str) -> None:
    """Resume the case seeded just before ``fact``."""
    await open_case(pilot)
    assert isinstance(pilot.app.screen, QuestionScreen) and pilot.app.screen.fact == fact


async def test_number_out_of_range_letters_and_empty_are_refused_in_place(home: Path, ruleset) -> None:
    prepare_home(home)
    fact = "client.age"
    seed_case(home, ruleset, VEILIG_THUIS, position="", until=fact)
    app = make_app(home, ruleset)
    async with app.run_test(size=SIZE) as pilot:
        await open_at(pilot, fact)
        low, high = app.interview.bounds(fact)
        await pilot.press("enter")  # empty
        await pilot.pause()
        assert "Vul een getal in" in screen_text(app)
        await pilot.press("a", "b", "-", "x")  # letters cannot be typed at all
        assert app.screen.query_one("#answer").value in ("", "-")
        await pilot.press("end", "backspace", "backspace")
        await pilot.press(*str(high + 1))
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, QuestionScreen) and app.screen.fact == fact
        assert f"Vul een getal in van {low} tot en met {high}." in screen_text(app)
        assert fact not in app.interview.case.answers
        assert app.screen.query_one("#answer").has_class("-invalid")
        await answer_by_keys(pilot, VEILIG_THUIS[fact])
        assert app.interview.case.answers[fact] == VEILIG_THUIS[fact]
        assert app.screen.fact != fact


async def test_a_set_question_needs_a_choice(home: Path, ruleset) -> None:
    prepare_home(home)
    app = make_app(home, ruleset)
    async with app.run_test(size=SIZE) as pilot:
        await start_case(pilot)
        for _ in range(40):
            if isinstance(app.screen.query_one("#answer"), MultiChoice):
                break
            await answer_by_keys(pilot, VEILIG_THUIS[app.screen.fact])
        widget = app.screen.query_one("#answer")
        assert isinstance(widget, MultiChoice)
        for index in list(widget.selected):
            widget.deselect(index)
        fact = app.screen.fact
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.fact == fact
        assert "Kies minstens één antwoord" in screen_text(app)


async def test_switch_language_keeps_typed_input_and_is_saved(home: Path, ruleset) -> None:
    prepare_home(home)
    fact = "client.age"
    q = ruleset.question(fact)
    seed_case(home, ruleset, VEILIG_THUIS, position="", until=fact)
    app = make_app(home, ruleset)
    async with app.run_test(size=SIZE) as pilot:
        await open_at(pilot, fact)
        await pilot.press("1", "2")
        assert pick(q.prompt, "nl") in screen_text(app)
        await pilot.press("ctrl+l")
        await pilot.pause()
        text = screen_text(app)
        assert pick(q.prompt, "en") in text
        assert "Back" in footer_text(app) and "Nederlands" in footer_text(app)
        assert app.screen.query_one("#answer").value == "12"
        assert json.loads((home / "settings.json").read_text())["language"] == "en"
        await pilot.press("end", "backspace", "backspace", "9", "9", "enter")
        await pilot.pause()
        low, high = app.interview.bounds(fact)
        assert f"Enter a number from {low} to {high}." in screen_text(app)
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert pick(q.prompt, "nl") in screen_text(app)
        assert "Vorige" in footer_text(app)


async def test_command_palette_switches_language_and_goes_to_a_question(home: Path, ruleset) -> None:
    prepare_home(home)
    app = make_app(home, ruleset)
    async with app.run_test(size=SIZE) as pilot:
        await start_case(pilot)
        first = app.screen.fact
        for _ in range(3):
            await answer_by_keys(pilot, VEILIG_THUIS[app.screen.fact])
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"wissel", "space", *"taal")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert app.language == "en"
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"go", "space", *"to", "space", *"question", "space", "1")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, QuestionScreen) and app.screen.fact == first


async def test_footer_lists_the_keys_of_each_screen(home: Path, ruleset) -> None:
    prepare_home(home)
    seed_case(home, ruleset, VEILIG_THUIS, position="review")
    app = make_app(home, ruleset)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        footer = footer_text(app)
        for word in ("Nieuwe casus", "Instellingen", "Stop", "English", "Opdrachten"):
            assert word in footer, footer
        await open_case(pilot)
        footer = footer_text(app)
        for word in ("Vorige", "Naar advies", "English", "Later verder", "Opdrachten"):
            assert word in footer, footer
        await highlight_option(pilot, app.screen.query_one("#rows"), f"change:{app.interview.relevant[0]}")
        await pilot.press("enter")
        await pilot.pause()
        footer = footer_text(app)
        for word in ("Vorige", "Uitleg", "Overzicht", "English", "Later verder", "Opdrachten"):
            assert word in footer, footer
        await pilot.press("f2", "f4")
        await pilot.pause()
        footer = footer_text(app)
        for word in ("Wijzig", "Waarom?", "Leg vast", "English", "Later verder", "Opdrachten"):
            assert word in footer, footer


async def test_no_color_and_terminal_colours(home: Path, ruleset, monkeypatch) -> None:
    from textual.filter import Monochrome

    prepare_home(home)
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(home, ruleset)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert any(isinstance(f, Monochrome) for f in app._filters)
    monkeypatch.delenv("NO_COLOR")
    from tui.settings import Settings

    settings = Settings.load(home)
    settings.theme = "ansi-dark"
    settings.save(home)
    app = make_app(home, ruleset)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.theme == "ansi-dark" and app.native_ansi_color
        assert not any(isinstance(f, Monochrome) for f in app._filters)


async def test_start_without_rules_says_so_and_never_crashes(home: Path, tmp_path: Path) -> None:
    from tui.app import DeelwijzerApp

    prepare_home(home)
    empty = tmp_path / "no-rules"
    empty.mkdir()
    app = DeelwijzerApp(home=home, rules_dir=empty, load_in_thread=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.pause()
        assert app.rules_error
        assert "De regels konden niet worden geladen" in screen_text(app)
        await pilot.press("enter")  # new case: refused with a message, no crash
        await pilot.pause()
        assert app.interview is None


async def test_recording_without_a_key_or_a_name_leads_to_the_right_screen(home: Path, ruleset) -> None:
    from tui.screens.advice import AdviceScreen
    from tui.screens.keysetup import KeySetupScreen
    from tui.screens.settings import SettingsScreen
    from tui.settings import Settings

    prepare_home(home)  # settings, but no key yet ("later" on first use)
    seed_case(home, ruleset, VEILIG_THUIS, position="advice")
    app = make_app(home, ruleset)
    async with app.run_test(size=SIZE) as pilot:
        await open_case(pilot)
        assert isinstance(app.screen, AdviceScreen)
        await pilot.press("f4")
        await pilot.pause()
        assert isinstance(app.screen, KeySetupScreen)  # walks to key creation, no failure
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, AdviceScreen)
    Settings(name="", organisation="").save(home)
    app = make_app(home, ruleset)
    async with app.run_test(size=SIZE) as pilot:
        await open_case(pilot)
        await pilot.press("f4")
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen)  # name and organisation go into the record


async def test_first_use_with_a_provided_key_asks_only_who_you_are(home: Path, ruleset) -> None:
    """`make run` (and IT departments) provide a key before first use: keep it, ask name and
    organisation only, and make no second key."""
    import audit.keys

    from tui.screens.keysetup import KeySetupScreen
    from tui.settings import Settings

    info = audit.keys.init_keypair(home / "keys", "Demo", b"demo-passphrase-0123")
    app = make_app(home, ruleset)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, KeySetupScreen)
        assert not app.screen.query("#passphrase")
        await pilot.press(*"Sam", "enter", *"Team Noord", "enter")
        await settle(pilot)
        assert not isinstance(app.screen, KeySetupScreen)
    saved = Settings.load(home)
    assert (saved.name, saved.organisation) == ("Sam", "Team Noord")
    assert sorted(p.name for p in (home / "keys").iterdir()) == sorted(
        [info.private_path.name, info.public_path.name, "pseudonym-key.json"])


async def test_enter_alone_does_not_answer_a_fresh_question(home: Path, ruleset) -> None:
    """Nothing is pre-selected: a hurried Enter gets a message, never the first option."""
    prepare_home(home)
    app = make_app(home, ruleset)
    async with app.run_test(size=SIZE) as pilot:
        await start_case(pilot)
        first = app.screen.fact
        assert app.screen.query_one("#answer").highlighted is None
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, QuestionScreen) and app.screen.fact == first
        assert first not in app.interview.case.answers
        await pilot.press("down", "enter")
        await pilot.pause()
        assert app.screen.fact != first
