"""Helpers for the terminal-interview tests: frozen clock, app factory, keyboard drivers."""

from __future__ import annotations

import io
from datetime import datetime, UTC
from pathlib import Path
from typing import Any

FROZEN = datetime(2025, 3, 14, 9, 30, 0, tzinfo=UTC)
SIZE = (100, 30)


def frozen_clock() -> datetime:
    return FROZEN


def prepare_home(home: Path, *, with_key_file: bool = False, language: str = "nl") -> None:
    """Settings as after first use (no signing key unless asked: a placeholder that cannot sign)."""
    from tui.settings import Settings

    Settings(name="Sam de Vries", organisation="Jeugdteam Noord", language=language).save(home)
    if with_key_file:
        keys = home / "keys"
        keys.mkdir(parents=True, exist_ok=True)
        (keys / "private-key.p12").write_bytes(b"placeholder: never used to sign in this test")


def make_app(home: Path, ruleset: Any, **kwargs: Any) -> Any:
    from tui.app import DeelwijzerApp

    counter = iter(range(1, 1000))
    kwargs.setdefault("clock", frozen_clock)
    kwargs.setdefault("new_case_id", lambda now: f"case-{next(counter):04d}")
    return DeelwijzerApp(home=home, ruleset=ruleset, load_in_thread=False, **kwargs)


def screen_text(app: Any) -> str:
    """The current screen as plain text (what a user would read)."""
    from rich.console import Console

    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True,
                      color_system="truecolor", record=True, legacy_windows=False, safe_box=False)
    console.print(app.screen._compositor.render_update(
        full=True, screen_stack=app._background_screens, simplify=False))
    return console.export_text()


async def settle(pilot: Any) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def no_blink(app: Any) -> None:
    from textual.widgets import Input

    for widget in app.screen.query(Input):
        widget.cursor_blink = False


async def answer_by_keys(pilot: Any, value: Any) -> None:
    """Answer the question on screen with the keyboard only (arrows, space, digits, Enter)."""
    from tui.widgets.answers import ChoiceList, MultiChoice, NumberInput

    app = pilot.app
    widget = app.screen.query_one("#answer")
    if isinstance(widget, ChoiceList):
        values = [repr(v) for v in widget._values]
        assert repr(value) in values, f"{value!r} is not an option of {app.screen.fact}: {values}"
        target = values.index(repr(value))
        if widget.highlighted is None:  # a fresh question highlights nothing: the first arrow does
            await pilot.press("down")
        current = widget.highlighted or 0
        key = "down" if target > current else "up"
        for _ in range(abs(target - current)):
            await pilot.press(key)
    elif isinstance(widget, MultiChoice):
        wanted = {repr(v) for v in value}
        if widget.highlighted is None:  # a fresh list highlights nothing: the first arrow does
            await pilot.press("down")
        for index, option_value in enumerate(widget._order):
            current = widget.highlighted or 0
            key = "down" if index > current else "up"
            for _ in range(abs(index - current)):
                await pilot.press(key)
            is_on = index in set(widget.selected)
            if (repr(option_value) in wanted) != is_on:
                await pilot.press("space")
    else:
        assert isinstance(widget, NumberInput)
        await pilot.press("end", *(["backspace"] * len(widget.value)))
        await pilot.press(*list(str(value)))
    await pilot.press("enter")
    await pilot.pause()


async def walk(pilot: Any, answers: dict[str, Any], *, stop_at: str | None = None) -> list[str]:
    """Answer questions from ``answers`` until the check-answers screen; returns the facts asked."""
    from tui.screens.question import QuestionScreen

    asked: list[str] = []
    for _ in range(80):
        screen = pilot.app.screen
        if not isinstance(screen, QuestionScreen):
            return asked
        if screen.fact == stop_at:
            return asked
        assert screen.fact in answers, f"the interview asked {screen.fact}, which the test has no answer for"
        asked.append(screen.fact)
        await answer_by_keys(pilot, answers[screen.fact])
    raise AssertionError("interview did not end")


def expected_decision(ruleset: Any, answers: dict[str, Any]) -> Any:
    """What the engine itself says for exactly the answers a walk gave."""
    import engine

    return engine.decide(ruleset, engine.parse_answers(ruleset, answers))


async def highlight_option(pilot: Any, option_list: Any, option_id: str) -> None:
    """Move the highlight of an OptionList to ``option_id`` with the arrow keys."""
    target = option_list.get_option_index(option_id)
    for _ in range(200):
        current = option_list.highlighted
        if current == target:
            return
        await pilot.press("down" if current is None or current < target else "up")
    raise AssertionError(f"could not reach option {option_id}")


async def start_case(pilot: Any) -> None:
    """From the start screen: Enter on "Nieuwe casus starten"."""
    from tui.screens.start import StartScreen

    await settle(pilot)
    assert isinstance(pilot.app.screen, StartScreen)
    menu = pilot.app.screen.query_one("#menu")
    await highlight_option(pilot, menu, "new")
    await pilot.press("enter")
    await pilot.pause()


def footer_text(app: Any) -> str:
    return screen_text(app).rstrip("\n").splitlines()[-1]


def complete_answers(ruleset: Any, scenario: dict[str, Any], *, until: str | None = None) -> dict[str, Any]:
    """The answers an interview following ``scenario`` has given (asking the engine each step),
    at the end, or just before it asks ``until``."""
    import engine

    answers: dict[str, Any] = {}
    for _ in range(100):
        decision = engine.decide(ruleset, engine.parse_answers(ruleset, answers))
        if not decision.to_ask:
            if until is not None:
                raise AssertionError(f"the scenario never asks {until}")
            return answers
        fact = decision.to_ask[0]
        if fact == until:
            return answers
        answers[fact] = scenario[fact]
    raise AssertionError("scenario does not complete")


def seed_case(home: Path, ruleset: Any, scenario: dict[str, Any], *, position: str,
              case_id: str = "case-seeded", until: str | None = None) -> None:
    """Write a case to disk as autosave would have left it: finished, or stopped at ``until``."""
    from tui.case_store import STATUS_COMPLETE, STATUS_IN_PROGRESS, CaseStore

    store = CaseStore(home, clock=frozen_clock, new_id=lambda now: case_id)
    case = store.new()
    case.answers = complete_answers(ruleset, scenario, until=until)
    case.status = STATUS_IN_PROGRESS if until else STATUS_COMPLETE
    case.position = until or position   # a plain string, as earlier versions wrote it (still read)
    store.save(case)


async def open_case(pilot: Any, case_id: str = "case-seeded") -> None:
    await settle(pilot)
    menu = pilot.app.screen.query_one("#menu")
    await highlight_option(pilot, menu, f"case:{case_id}")
    await pilot.press("enter")
    await pilot.pause()
    no_blink(pilot.app)


def burst(app: Any, keys: list[str]) -> None:
    """Keys arriving all at once, as from a fast typist or a paste: posted to the app without
    waiting for any of them to be handled (``pilot.press`` waits after every key)."""
    from textual import events

    for key in keys:
        char = " " if key == "space" else (key if len(key) == 1 else None)
        event = events.Key(key, char)
        event.set_sender(app)
        app.post_message(event)


def keys_for(text: str) -> list[str]:
    return ["space" if ch == " " else ch for ch in text]


def scenario_answers(ruleset: Any, predicate: Any) -> dict[str, Any]:
    """The answers of the first scenario in rules/tests whose complete decision satisfies
    ``predicate(decision)`` (the scenarios are the rule set's own; nothing is hard-coded here)."""
    import engine
    from ruamel.yaml import YAML

    for path in sorted((Path(ruleset.rules_dir) / "tests").glob("*.yaml")):
        data = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8")) or {}
        for scenario in data.get("scenarios") or []:
            try:
                answers = engine.parse_answers(ruleset, dict(scenario.get("answers") or {}))
            except engine.AnswerError:
                continue
            decision = engine.decide(ruleset, answers, explain=True)
            if decision.advice is not None and not decision.to_ask and predicate(decision):
                return dict(scenario["answers"])
    raise AssertionError("no scenario in rules/tests fits this test")


def seed_answers(home: Path, answers: dict[str, Any], *, position: str = "advice", case_id: str = "case-seeded") -> None:
    from tui.case_store import STATUS_COMPLETE, CaseStore

    store = CaseStore(home, clock=frozen_clock, new_id=lambda now: case_id)
    case = store.new()
    case.answers = dict(answers)
    case.status = STATUS_COMPLETE
    case.position = position
    store.save(case)


def find_answers(ruleset: Any, predicate: Any) -> dict[str, Any]:
    """Complete answers for which ``predicate(decision)`` holds, searched over variations of the
    test scenarios (each recipient, each consent status, consulted or not); facts the scenarios
    do not know get their first option. Only the rule set decides what fits."""
    import itertools

    import engine
    from tui_scenarios import ACUTE, COLLEAGUE, VEILIG_THUIS

    def first_value(fact: str) -> Any:
        q = ruleset.question(fact)
        if q.type == "bool":
            return False
        if q.type == "int":
            return 15
        if q.type == "set":
            return [q.options[0].value]
        return q.options[0].value

    recipients = [o.value for o in ruleset.question(ruleset.info.recipient_fact).options]
    consent = [o.value for o in ruleset.question("consent.status").options] if "consent.status" in ruleset.facts else [None]
    for base, recipient, status, flag in itertools.product((VEILIG_THUIS, COLLEAGUE, ACUTE), recipients, consent,
                                                          (True, False)):
        scenario = dict(base, **{ruleset.info.recipient_fact: recipient})
        if status is not None:
            scenario["consent.status"] = status
        for fact in ("conflict.consulted", "meldcode.steps_done"):
            scenario[fact] = flag
        answers: dict[str, Any] = {}
        for _ in range(100):
            decision = engine.decide(ruleset, engine.parse_answers(ruleset, answers), explain=True)
            if not decision.to_ask:
                break
            fact = decision.to_ask[0]
            answers[fact] = scenario[fact] if fact in scenario else first_value(fact)
        if decision.advice is not None and predicate(decision):
            return answers
    raise AssertionError("no variation of the test scenarios fits this test")
