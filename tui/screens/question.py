"""One question per screen: caption, heading (the question), hint, answer, error, Back/Next."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Footer, Input, ProgressBar, Static

from tui import labels
from tui.lang import pick
from tui.screens.base import BaseScreen
from tui.widgets.answers import AnswerSubmitted, ChoiceList, MultiChoice, NumberInput


class QuestionScreen(BaseScreen):
    interview_screen = True

    BINDINGS = [
        Binding("escape,alt+left", "back", "back", id="back"),
        Binding("f1", "explain", "help", id="help"),
        Binding("f2", "review", "review", id="review"),
    ]

    def __init__(self, fact: str, *, change: bool = False) -> None:
        super().__init__()
        self.fact = fact
        self.change = change
        self._pending: Any = None
        self._has_pending = False
        self._highlight: Any = None
        self._error: str | None = None

    # -- layout --------------------------------------------------------------------
    @property
    def question(self) -> Any:
        return self.app.interview.rs.question(self.fact)

    def compose(self) -> ComposeResult:
        interview = self.app.interview
        q = self.question
        section = pick(interview.rs.sections.get(q.section), self.lang) if q.section else ""
        caption = self.t("question.caption", section=section, n=interview.number(self.fact))
        if self.change:
            caption += " · " + self.t("question.changing")
        yield Static(self.t("app.title") + "  ·  " + caption, classes="titlebar", id="caption")
        bar = ProgressBar(total=100, show_eta=False, show_percentage=True, id="progress")
        with VerticalScroll(classes="body"):
            yield bar
            yield Static(pick(q.prompt, self.lang), classes="heading", id="prompt")
            hint = pick(q.hint, self.lang)
            if hint:
                yield Static(hint, classes="hint", id="hint")
            yield Static("", id="error", classes="error")
            yield from self._answer_widget(q)
            yield Static(self._usage(q), classes="usage", id="usage")
            with Horizontal(classes="buttons"):
                yield Button("← " + self.t("question.back"), id="back-button")
                yield Button(self.t("question.next") + " →", id="next-button", variant="primary")
        yield Footer(compact=True)

    def _usage(self, q: Any) -> str:
        if q.type == "set":
            return self.t("question.usage_set")
        if q.type == "int":
            return self.t("question.usage_int")
        return self.t("question.usage_choice")

    def _answer_widget(self, q: Any) -> ComposeResult:
        interview = self.app.interview
        current = self._pending if self._has_pending else interview.prefill(self.fact)
        options = labels.question_options(q, self.app.cat)
        if q.type in ("bool", "enum"):
            yield ChoiceList(options, current, highlighted_value=self._highlight, id="answer")
        elif q.type == "set":
            yield MultiChoice(options, current if isinstance(current, list) else None,
                              highlighted=self._highlight, id="answer")
        else:
            yield NumberInput(current, id="answer", placeholder=self._range_text(q))

    def _range_text(self, q: Any) -> str:
        if q.min is not None and q.max is not None:
            return self.t("question.range", min=q.min, max=q.max)
        return ""

    def on_mount(self) -> None:
        self.query_one("#answer").focus()
        bar = self.query_one("#progress", ProgressBar)
        bar.update(progress=round(self.app.interview.case.progress * 100))
        if self._error:
            self.show_error(self._error)

    # -- state across language switches --------------------------------------------
    def remember_state(self) -> None:
        widget = self.query_one("#answer")
        if isinstance(widget, ChoiceList):
            self._highlight = widget.highlighted_value
        elif isinstance(widget, MultiChoice):
            self._pending, self._has_pending = widget.chosen, True
            self._highlight = widget.highlighted
        elif isinstance(widget, NumberInput):
            self._pending, self._has_pending = widget.value, True
        self._error = None  # messages are re-made in the new language on the next Enter

    def after_relabel(self) -> None:
        self.query_one("#answer").focus()
        self.query_one("#progress", ProgressBar).update(
            progress=round(self.app.interview.case.progress * 100))

    # -- validation ---------------------------------------------------------------
    def show_error(self, message: str) -> None:
        self._error = message
        error = self.query_one("#error", Static)
        error.update("✖ " + message)
        error.add_class("-visible")
        self.query_one("#answer").add_class("-invalid")

    def clear_error(self) -> None:
        self._error = None
        error = self.query_one("#error", Static)
        error.update("")
        error.remove_class("-visible")
        self.query_one("#answer").remove_class("-invalid")

    def check(self, value: Any, empty: bool) -> str | None:
        """A message in the user's language if ``value`` cannot be accepted, else None."""
        q = self.question
        if empty:
            if q.type == "int":
                return self.t("errors.int_empty", range=self._range_text(q) or "")
            if q.type == "set":
                if getattr(q, "min", None) == 0:
                    return None
                return self.t("errors.set_empty")
            return self.t("errors.choice_empty")
        if q.type == "int":
            if not isinstance(value, int):
                return self.t("errors.int_not_number")
            low, high = q.min, q.max
            if (low is not None and value < low) or (high is not None and value > high):
                return self.t("errors.int_range", min=low, max=high)
        engine = self.app.engine
        try:
            self.app.interview.validate(self.fact, value)
        except engine.AnswerError as exc:
            return self.t("errors.not_allowed", detail=getattr(exc, "message", None) or str(exc))
        return None

    # -- actions ---------------------------------------------------------------------
    @on(AnswerSubmitted)
    def submitted(self, event: AnswerSubmitted) -> None:
        event.stop()
        self.submit(event.value, event.empty)

    def submit(self, value: Any, empty: bool = False) -> None:
        q = self.question
        if empty and q.type == "set" and getattr(q, "min", None) == 0:
            value, empty = [], False
        problem = self.check(value, empty)
        if problem:
            self.show_error(problem)
            return
        self.clear_error()
        try:
            self.app.interview.answer(self.fact, value)
        except Exception as exc:  # noqa: BLE001 - a save error must never crash the interview
            from tui.case_store import CaseStoreError

            if isinstance(exc, CaseStoreError):
                self.show_error(self.t("errors.case_not_saved", error=str(exc)))
                return
            raise
        self.app.after_answer(self.fact, change=self.change)

    def current_value(self) -> tuple[Any, bool]:
        widget = self.query_one("#answer")
        if isinstance(widget, ChoiceList):
            value = widget.highlighted_value
            return value, value is None
        if isinstance(widget, MultiChoice):
            chosen = widget.chosen
            return chosen, not chosen
        assert isinstance(widget, Input)
        text = widget.value.strip()
        if not text:
            return None, True
        try:
            return int(text), False
        except ValueError:
            return text, False

    @on(Button.Pressed, "#next-button")
    def next_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.submit(*self.current_value())

    @on(Button.Pressed, "#back-button")
    def back_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_back()

    def action_back(self) -> None:
        self.app.go_back(self.fact, change=self.change)

    def action_explain(self) -> None:
        from tui.screens.help import HelpScreen

        self.app.push_screen(HelpScreen(self.fact))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "review":
            interview = self.app.interview
            return interview is not None and interview.finished  # hidden until everything is answered
        return True

    def action_review(self) -> None:
        if self.app.interview.finished:
            self.app.show("review")
