"""Never lose work: every answer is on disk at once; a crashed process resumes where it was."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tui_helpers import (SIZE, answer_by_keys, highlight_option, make_app, prepare_home,
                         screen_text, settle, start_case)
from tui_scenarios import VEILIG_THUIS

from tui.screens.question import QuestionScreen
from tui.screens.start import StartScreen

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

CRASHER = textwrap.dedent("""
    import asyncio, os, sys, json
    from pathlib import Path
    sys.path.insert(0, {here!r})
    import engine
    from tui_helpers import make_app, start_case, answer_by_keys
    from tui_scenarios import VEILIG_THUIS

    async def main():
        home = Path(sys.argv[1])
        app = make_app(home, engine.load_ruleset())
        async with app.run_test(size=(100, 30)) as pilot:
            await start_case(pilot)
            for _ in range(3):
                await answer_by_keys(pilot, VEILIG_THUIS[app.screen.fact])
            print(json.dumps({{"next": app.screen.fact, "answers": app.interview.case.answers}}))
            sys.stdout.flush()
            os._exit(9)  # a hard crash: no clean-up, no exit handlers, no final save

    asyncio.run(main())
""")


async def test_resume_after_a_hard_crash(home: Path, ruleset) -> None:
    prepare_home(home)
    result = subprocess.run([sys.executable, "-c", CRASHER.format(here=str(HERE)), str(home)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert result.returncode == 9, result.stderr[-2000:]
    before = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(before["answers"]) == 3

    app = make_app(home, ruleset)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, StartScreen)
        text = screen_text(app)
        assert "3 antwoorden" in text and "Bezig" in text and "14-03-2025 09:30" in text
        menu = app.screen.query_one("#menu")
        await highlight_option(pilot, menu, "case:case-0001")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, QuestionScreen)
        assert app.screen.fact == before["next"]
        assert app.interview.case.answers == before["answers"]
        # and it simply goes on
        await answer_by_keys(pilot, VEILIG_THUIS[app.screen.fact])
        assert len(app.interview.case.answers) == 4


async def test_every_answer_is_written_before_the_next_question(home: Path, ruleset) -> None:
    prepare_home(home)
    app = make_app(home, ruleset)
    async with app.run_test(size=SIZE) as pilot:
        await start_case(pilot)
        case_file = home / "cases" / "case-0001.json"
        for count in range(1, 4):
            fact = app.screen.fact
            await answer_by_keys(pilot, VEILIG_THUIS[fact])
            on_disk = json.loads(case_file.read_text())
            assert on_disk["answers"][fact] == VEILIG_THUIS[fact]
            assert len(on_disk["answers"]) == count
            assert on_disk["position"] == {"page": "question", "fact": app.screen.fact}  # where to resume
        # ctrl+s: "Later verder" saves and stops with a message naming the case
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert app.return_code == 0
    assert "case-0001" in (app.exit_message or "")


async def test_stored_answers_the_rules_no_longer_accept_are_asked_again(home: Path, ruleset) -> None:
    prepare_home(home)
    from tui.case_store import CaseStore

    store = CaseStore(home, new_id=lambda now: "old-case")
    case = store.new()
    first = ruleset.questions[0].fact
    case.answers = {first: "not-a-valid-value-anymore", "no.such.fact": True}
    store.save(case)
    app = make_app(home, ruleset)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await highlight_option(pilot, app.screen.query_one("#menu"), "case:old-case")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, QuestionScreen) and app.screen.fact == first
        assert app.interview.case.answers == {}
        assert set(app.interview.case.dropped) == {first, "no.such.fact"}


async def test_resuming_under_changed_rules_says_so(home: Path, ruleset) -> None:
    prepare_home(home)
    from tui.case_store import CaseStore

    store = CaseStore(home, new_id=lambda now: "older")
    case = store.new()
    case.ruleset = {"name": ruleset.name, "version": "0", "fingerprint": "sha256:" + "0" * 64}
    store.save(case)
    app = make_app(home, ruleset)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await highlight_option(pilot, app.screen.query_one("#menu"), "case:older")
        await pilot.press("enter")
        await pilot.pause()
        assert app.interview.rules_changed
        assert any("regels zijn veranderd" in str(n.message) for n in app._notifications)
        assert app.interview.case.ruleset["fingerprint"] == ruleset.fingerprint
