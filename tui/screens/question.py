"""One question per screen: caption (section · vraag n), heading (the question), hint, answer,
error, Back/Next. Progress is the section and the question's number on the current path: no
percentage and no total, because the path changes with the answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Footer, OptionList, Static

from tui import flow
from tui.lang import Catalog, pick
from tui.messages import AnswerGiven, GoBack, Navigate, OpenHelp, Stay
from tui.screens.base import BaseScreen, after_pending_keys
from tui.widgets.answers import ChoiceList, Edited, MultiChoice, NumberInput


@dataclass(frozen=True)
class QuestionPage:
    """Everything the screen shows and checks, fixed by the App when it opens the page."""

    question: Any                   # the rule set's Question (texts in both languages)
    section: Any                    # the section's title (Text) or None
    number: int
    current: Any                    # the stored (or dropped) answer, None when fresh
    bounds: tuple[int | None, int | None]
    change: bool
    can_review: bool                # every question answered: F2 goes to the check-answers page
    validate: Callable[[Any], str | None]   # None when the engine accepts the value, else why not


class QuestionScreen(BaseScreen[None]):
    BINDINGS = [
        # Enter is handled when it is pressed (priority), before any key typed after it reaches
        # this page's field: the App then holds those keys for the next page.
        Binding("enter", "submit", show=False, priority=True),
        Binding("escape,alt+left", "back", "back", id="back"),
        Binding("f1", "explain", "help", id="help"),
        Binding("f2", "review", "review", id="review"),
    ]

    def __init__(self, cat: Catalog, page: QuestionPage) -> None:
        super().__init__(cat)
        self.page = page
        self.fact: str = page.question.fact
        self.change = page.change
        self.target = flow.Question(self.fact, change=page.change)
        self._pending: Any = None
        self._has_pending = False
        self._highlight: Any = None
        self._cursor: int | None = None
        self._error: str | None = None

    # -- layout --------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        q = self.page.question
        section = pick(self.page.section, self.lang)
        caption = self.t("question.caption", section=section, n=self.page.number)
        if self.change:
            caption += " · " + self.t("question.changing")
        yield Static(self.t("app.title") + "  ·  " + caption, classes="titlebar", id="caption")
        with VerticalScroll(classes="body"):
            yield Static(pick(q.prompt, self.lang), classes="heading", id="prompt")
            hint = pick(q.hint, self.lang)
            if hint:
                yield Static(hint, classes="hint", id="hint")
            yield Static("", id="error", classes="error")
            yield self._answer_widget()
            usage = {"set": "question.usage_set", "int": "question.usage_int"}.get(q.type, "question.usage_choice")
            yield Static(self.t(usage), classes="usage", id="usage")
            with Horizontal(classes="buttons"):
                yield Button("← " + self.t("question.back"), id="back-button")
                yield Button(self.t("question.next") + " →", id="next-button", variant="primary")
        yield Footer(compact=True)

    def _options(self) -> list[tuple[Any, str]]:
        q = self.page.question
        options = [(o.value, pick(o.label, self.lang)) for o in (q.options or [])]
        if not options and q.type == "bool":
            options = [(True, self.t("answer.yes")), (False, self.t("answer.no"))]
        return options

    def _answer_widget(self) -> ChoiceList | MultiChoice | NumberInput:
        q = self.page.question
        current = self._pending if self._has_pending else self.page.current
        if q.type in ("bool", "enum"):
            return ChoiceList(self._options(), current, highlighted_value=self._highlight, id="answer")
        if q.type == "set":
            return MultiChoice(self._options(), current if isinstance(current, list) else None,
                               highlighted=self._highlight, id="answer")
        return NumberInput(current, id="answer", placeholder=self._range_text())

    def _range_text(self) -> str:
        low, high = self.page.bounds
        if low is not None and high is not None:
            return self.t("question.range", min=low, max=high)
        return ""

    def on_mount(self) -> None:
        self._focus_answer()
        if self._error:
            self.show_error(self._error)

    def _focus_answer(self) -> None:
        widget = self.query_one("#answer")
        self.focus_in_view(widget)
        if isinstance(widget, NumberInput) and self._cursor is not None:
            widget.cursor_position = min(self._cursor, len(widget.value))

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
            self._cursor = widget.cursor_position
        self._error = None  # messages are made again in the new language on the next Enter

    def after_relabel(self) -> None:
        self._focus_answer()

    # -- validation ---------------------------------------------------------------
    def show_error(self, message: str) -> None:
        self._error = message
        error = self.query_one("#error", Static)
        error.update("✖ " + message)
        error.add_class("-visible")
        self.query_one("#answer").add_class("-invalid")

    def clear_error(self) -> None:
        if self._error is None:
            return
        self._error = None
        error = self.query_one("#error", Static)
        error.update("")
        error.remove_class("-visible")
        self.query_one("#answer").remove_class("-invalid")

    @on(Edited)
    @on(OptionList.OptionHighlighted)
    def edited(self, event: Any) -> None:
        """The user is fixing the answer: the old message no longer applies."""
        self.clear_error()

    def check(self, value: Any, empty: bool) -> str | None:
        """A message in the user's language if ``value`` cannot be accepted, else None."""
        q = self.page.question
        if empty:
            if q.type == "int":
                return self.t("errors.int_empty", range=self._range_text())
            if q.type == "set":
                return self.t("errors.set_empty")
            return self.t("errors.choice_empty")
        if q.type == "int":
            if not isinstance(value, int):
                return self.t("errors.int_not_number")
            low, high = self.page.bounds
            if (low is not None and value < low) or (high is not None and value > high):
                return self.t("errors.int_range", min=low, max=high)
        detail = self.page.validate(value)
        return self.t("errors.not_allowed", detail=detail) if detail else None

    def current_value(self) -> tuple[Any, bool]:
        widget = self.query_one("#answer")
        if isinstance(widget, ChoiceList):
            value = widget.highlighted_value
            return value, value is None
        if isinstance(widget, MultiChoice):
            return widget.chosen, not widget.chosen
        assert isinstance(widget, NumberInput)
        text = widget.value.strip()
        if not text:
            return None, True
        try:
            return int(text), False
        except ValueError:
            return text, False

    # -- actions ---------------------------------------------------------------------
    def action_submit(self) -> None:
        """Enter. Handled when pressed (a priority binding), so keys typed after it are held for
        the next page; the answer itself is read once the field has handled the keys typed
        before Enter (a callback queued behind them on the field)."""
        if self.hold_keys:
            return  # already on its way
        if isinstance(self.focused, Button) and self.focused.id == "back-button":
            self.action_back()
            return
        self.hold_keys = True
        after_pending_keys(self.query_one("#answer"), self._submit_now)

    def _submit_now(self) -> None:
        value, empty = self.current_value()
        problem = self.check(value, empty)
        if problem:
            self.show_error(problem)
            self.request(Stay())  # the keys typed after Enter belong to this page after all
            return
        self.clear_error()
        self.request(AnswerGiven(self.fact, value, change=self.change))

    @on(Button.Pressed, "#next-button")
    def next_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_submit()

    @on(Button.Pressed, "#back-button")
    def back_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_back()

    def action_back(self) -> None:
        if not self.hold_keys:
            self.request(GoBack(self.target))

    def action_explain(self) -> None:
        self.request(OpenHelp(self.fact))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "review":
            return self.page.can_review  # hidden until everything is answered
        return True

    def action_review(self) -> None:
        if self.page.can_review and not self.hold_keys:
            self.request(Navigate(flow.CheckAnswers()))
