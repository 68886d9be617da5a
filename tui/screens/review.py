"""Check your answers: every answer that counts, grouped by section, "Wijzig" per row.

Answers that no longer count after a change are listed apart, as dropped.
The last row goes on to the advice (or to the questions still open).
"""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from tui import labels
from tui.interview import ADVICE
from tui.lang import pick
from tui.screens.base import BaseScreen


def _row(question: str, answer: str, action: str, *, style: str = "") -> Table:
    grid = Table.grid(expand=True, padding=(0, 1))
    grid.add_column(ratio=5)
    grid.add_column(ratio=4)
    grid.add_column(width=max(8, len(action) + 1), justify="right")
    grid.add_row(Text(question), Text(answer, style="bold " + style), Text(action, style="underline"))
    return grid


class ReviewScreen(BaseScreen):
    interview_screen = True

    BINDINGS = [
        Binding("escape,alt+left", "back", "back", id="back"),
        Binding("f4", "advice", "to_advice", id="to_advice"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._highlight: str | None = None

    def compose(self) -> ComposeResult:
        interview = self.app.interview
        yield Static(self.t("app.title") + "  ·  " + self.t("review.caption"), classes="titlebar")
        with Vertical(classes="body"):
            yield Static(self.t("review.heading"), classes="heading")
            yield Static(self.t("review.intro"), classes="hint")
            if interview.case.dropped:
                yield Static("! " + self.t("review.dropped_notice", n=len(interview.case.dropped)),
                             classes="notice", id="dropped-notice")
            yield OptionList(*self._options(), id="rows")
        yield Footer(compact=True)

    def _options(self) -> list[Option | None]:
        interview = self.app.interview
        rs = interview.rs
        cat = self.app.cat
        change = self.t("review.change")
        options: list[Option | None] = []
        # Group by section (in the order sections first appear), questions in interview order.
        groups: dict[Any, list[str]] = {}
        for fact in interview.relevant:
            if fact in interview.case.answers:
                groups.setdefault(rs.question(fact).section, []).append(fact)
        for section, facts in groups.items():
            title = pick(rs.sections.get(section), self.lang) if section else ""
            if options:
                options.append(None)
            options.append(Option(Text(title or self.t("review.other"), style="bold"),
                                  id=f"section:{section}", disabled=True))
            for fact in facts:
                q = rs.question(fact)
                answer = labels.answer_label(q, interview.case.answers[fact], cat)
                options.append(Option(_row(pick(q.prompt, self.lang), answer, change), id=f"change:{fact}"))
        if interview.case.dropped:
            options.append(None)
            options.append(Option(Text(self.t("review.dropped_heading"), style="bold"),
                                  id="dropped-heading", disabled=True))
            for fact, value in interview.case.dropped.items():
                try:
                    q = rs.question(fact)
                    prompt, answer = pick(q.prompt, self.lang), labels.answer_label(q, value, cat)
                except Exception:  # noqa: BLE001 - fact no longer in the rule set
                    prompt, answer = fact, str(value)
                options.append(Option(_row(prompt, f"{answer} — {self.t('review.dropped')}", "",
                                           style="strike"), id=f"dropped:{fact}", disabled=True))
        options.append(None)
        if interview.finished:
            options.append(Option(Text("→ " + self.t("review.to_advice"), style="bold"), id="continue"))
        else:
            options.append(Option(Text("→ " + self.t("review.open_questions", n=len(interview.missing)),
                                       style="bold"), id="continue"))
        return options

    def on_mount(self) -> None:
        rows = self.query_one("#rows", OptionList)
        rows.focus()
        self._restore(rows, self._highlight or "continue")

    def _restore(self, rows: OptionList, option_id: str) -> None:
        try:
            rows.highlighted = rows.get_option_index(option_id)
        except Exception:  # noqa: BLE001 - fall back to the default highlight
            pass

    def remember_state(self) -> None:
        option = self.query_one("#rows", OptionList).highlighted_option
        self._highlight = option.id if option is not None else None

    def after_relabel(self) -> None:
        rows = self.query_one("#rows", OptionList)
        rows.focus()
        self._restore(rows, self._highlight or "continue")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        option_id = event.option.id or ""
        if option_id.startswith("change:"):
            self.app.show(option_id.removeprefix("change:"), change=True)
        elif option_id == "continue":
            self.action_advice()

    def action_advice(self) -> None:
        interview = self.app.interview
        if interview.finished:
            self.app.show(ADVICE)
        else:
            self.app.show(interview.missing[0], change=True)

    def action_back(self) -> None:
        self.app.go_back("review")
