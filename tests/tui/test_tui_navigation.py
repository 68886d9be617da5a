"""Back restores answers; changing an answer re-evaluates, drops what no longer counts and asks
newly needed questions before returning to the check-answers page."""

from __future__ import annotations

from pathlib import Path

from tui_helpers import (SIZE, answer_by_keys, complete_answers, expected_decision, highlight_option,
                         make_app, open_case, prepare_home, screen_text, seed_case, start_case,
                         walk)
from tui_scenarios import COLLEAGUE, VEILIG_THUIS

from tui.screens.question import QuestionScreen
from tui.screens.review import ReviewScreen
from tui.screens.start import StartScreen
from tui.widgets.answers import ChoiceList, MultiChoice, NumberInput


def shown_value(app):
    widget = app.screen.query_one("#answer")
    if isinstance(widget, ChoiceList):
        return widget.highlighted_value
    if isinstance(widget, MultiChoice):
        return widget.chosen
    assert isinstance(widget, NumberInput)
    return int(widget.value)


async def test_back_restores_each_answer_and_forward_keeps_them(home: Path, ruleset) -> None:
    prepare_home(home)
    app = make_app(home, ruleset)
    async with app.run_test(size=SIZE) as pilot:
        await start_case(pilot)
        first_four = []
        for _ in range(4):
            first_four.append(app.screen.fact)
            await answer_by_keys(pilot, VEILIG_THUIS[app.screen.fact])
        fifth = app.screen.fact
        assert fifth not in first_four
        # Back three times: each earlier question shows its answer (marked ● and highlighted).
        for fact in reversed(first_four[1:]):
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, QuestionScreen) and app.screen.fact == fact
            assert shown_value(app) == VEILIG_THUIS[fact]
        if isinstance(app.screen.query_one("#answer"), ChoiceList):
            assert "●" in screen_text(app)
        # Enter keeps the answer and walks forward through the answered questions.
        for fact in first_four[2:]:
            await pilot.press("enter")
            await pilot.pause()
            assert app.screen.fact == fact
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.fact == fifth
        # Back from the first question returns to the start; the case is kept.
        for _ in range(5):
            await pilot.press("escape")
            await pilot.pause()
        assert isinstance(app.screen, StartScreen)
        assert "case-0001.json" in {p.name for p in (home / "cases").iterdir()}


async def test_change_from_check_answers_reevaluates(home: Path, ruleset) -> None:
    prepare_home(home)
    seed_case(home, ruleset, VEILIG_THUIS, position="review")
    app = make_app(home, ruleset)
    async with app.run_test(size=SIZE) as pilot:
        await open_case(pilot)
        assert isinstance(app.screen, ReviewScreen)
        before = dict(app.interview.case.answers)
        assert set(before) == set(app.interview.relevant)

        rows = app.screen.query_one("#rows")
        await highlight_option(pilot, rows, "change:share.recipient")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, QuestionScreen) and app.screen.change
        assert shown_value(app) == "veilig_thuis"  # the old answer is shown
        # Answer the changed question and any newly needed ones (asked before the review).
        newly_asked = await walk(pilot, COLLEAGUE)
        assert newly_asked[0] == "share.recipient"
        assert isinstance(app.screen, ReviewScreen), screen_text(app)

        final_answers = dict(app.interview.case.answers)
        expected = expected_decision(ruleset, final_answers)
        assert expected.complete and not expected.to_ask and not expected.ignored
        assert app.interview.decision.advice.outcome == expected.advice.outcome
        # What the engine no longer needs is shown apart as dropped, never silently kept.
        old_decision = expected_decision(ruleset, {**before, "share.recipient": COLLEAGUE["share.recipient"]})
        assert set(app.interview.case.dropped) == set(old_decision.ignored)
        for fact in newly_asked[1:]:
            assert fact in old_decision.to_ask
        if old_decision.ignored:
            assert "Niet meer nodig" in screen_text(app)
            assert not set(old_decision.ignored) & set(app.interview.recorded_answers())


async def test_f2_goes_to_check_answers_only_when_complete(home: Path, ruleset) -> None:
    prepare_home(home)
    second = complete_answers(ruleset, VEILIG_THUIS)
    second = list(second)[1]
    seed_case(home, ruleset, VEILIG_THUIS, position="", until=second, case_id="part")
    seed_case(home, ruleset, VEILIG_THUIS, position="review", case_id="done")
    app = make_app(home, ruleset)
    async with app.run_test(size=SIZE) as pilot:
        await open_case(pilot, "part")
        assert isinstance(app.screen, QuestionScreen) and app.screen.fact == second
        await pilot.press("f2")  # not everything is answered: F2 does nothing
        await pilot.pause()
        assert isinstance(app.screen, QuestionScreen)
        await pilot.press("escape", "escape")
        await pilot.pause()
        assert isinstance(app.screen, StartScreen)
        await open_case(pilot, "done")
        assert isinstance(app.screen, ReviewScreen)
        rows = app.screen.query_one("#rows")
        first_fact = app.interview.relevant[0]
        await highlight_option(pilot, rows, f"change:{first_fact}")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, QuestionScreen) and app.screen.fact == first_fact
        await pilot.press("f2")
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)
        await pilot.press("escape")  # back from the check-answers page: the last question
        await pilot.pause()
        assert isinstance(app.screen, QuestionScreen)
        assert app.screen.fact == app.interview.relevant[-1]
