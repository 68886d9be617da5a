"""Check your answers: every answer that counts, grouped by section, "Wijzig" per row.

Answers that no longer count after a change are listed apart, as dropped. The last row goes on
to the advice (or to the questions still open).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Callable

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.geometry import Region
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from tui import flow
from tui.lang import Catalog
from tui.messages import GoBack, Navigate
from tui.screens.base import BaseScreen


@dataclass(frozen=True)
class Row:
    fact: str
    prompt: str
    answer: str


@dataclass
class ReviewPage:
    """The rows in the user's language (the App builds them again after a language switch)."""

    sections: list[tuple[str, list[Row]]] = field(default_factory=list)
    dropped: list[Row] = field(default_factory=list)
    open_questions: int = 0


def _row(question: str, answer: str, action: str, *, style: str = "") -> Table:
    grid = Table.grid(expand=True, padding=(0, 1))
    grid.add_column(ratio=5)
    grid.add_column(ratio=4)
    grid.add_column(width=max(8, len(action) + 1), justify="right")
    grid.add_row(Text(question), Text(answer, style="bold " + style), Text(action, style="underline"))
    return grid


class RowList(OptionList):
    """The rows of "check your answers". Moving onto the first answer of a section also brings
    the section's title above it into view (the list scrolled to the row alone, so the first
    section's title was never seen once the list had scrolled)."""

    def scroll_to_highlight(self, top: bool = False) -> None:
        index = self.highlighted
        if index is None or not self.is_mounted:
            return
        first = index
        while first > 0 and self._options[first - 1].disabled:
            first -= 1
        self._update_lines()
        try:
            start = 0 if first == 0 else self._index_to_line[first]
            end = self._index_to_line[index] + self._heights[index]
        except KeyError:
            start, end = 0, 0
        view = self.scrollable_content_region
        if first == index or not end or end - start > view.height:
            super().scroll_to_highlight(top)
            return
        self.scroll_to_region(Region(0, start, view.width, end - start), force=True, animate=False, top=top,
                              immediate=True)


class ReviewScreen(BaseScreen[None]):
    BINDINGS = [
        Binding("escape,alt+left", "back", "back", id="back"),
        Binding("f4", "advice", "to_advice", id="to_advice"),
        Binding("enter", "choose", show=False, priority=True),   # at once: keys typed after it are held
    ]

    def __init__(self, cat: Catalog, make_page: Callable[[str], ReviewPage]) -> None:
        super().__init__(cat)
        self.make_page = make_page   # the rows in a language (again after a language switch)
        self.page = make_page(cat.lang)
        self._highlight: str | None = None

    def compose(self) -> ComposeResult:
        yield Static(self.t("app.title") + "  ·  " + self.t("review.caption"), classes="titlebar")
        with Vertical(classes="body"):
            yield Static(self.t("review.heading"), classes="heading")
            yield Static(self.t("review.intro"), classes="hint")
            if self.page.dropped:
                yield Static("! " + self.tn("review.dropped_notice", len(self.page.dropped)),
                             classes="notice", id="dropped-notice")
            yield RowList(*self._options(), id="rows")
        yield Footer(compact=True)

    def _options(self) -> list[Option | None]:
        change = self.t("review.change")
        options: list[Option | None] = []
        for title, rows in self.page.sections:
            if options:
                options.append(None)
            options.append(Option(Text(title or self.t("review.other"), style="bold"), disabled=True))
            for row in rows:
                options.append(Option(_row(row.prompt, row.answer, change), id=f"change:{row.fact}"))
        if self.page.dropped:
            options += [None, Option(Text(self.t("review.dropped_heading"), style="bold"), disabled=True)]
            for row in self.page.dropped:
                options.append(Option(_row(row.prompt, f"{row.answer} — {self.t('review.dropped')}", "",
                                           style="strike"), id=f"dropped:{row.fact}", disabled=True))
        options.append(None)
        if self.page.open_questions:
            label = self.tn("review.open_questions", self.page.open_questions)
        else:
            label = self.t("review.to_advice")
        options.append(Option(Text("→ " + label, style="bold"), id="continue"))
        return options

    async def relabel(self, cat: Catalog) -> None:
        self.page = self.make_page(cat.lang)
        await super().relabel(cat)

    def on_mount(self) -> None:
        rows = self.query_one("#rows", OptionList)
        self.set_focus(rows)
        self._restore(rows, self._highlight or "continue")

    def _restore(self, rows: OptionList, option_id: str) -> None:
        try:
            rows.highlighted = rows.get_option_index(option_id)
        except Exception:
            pass

    def remember_state(self) -> None:
        option = self.query_one("#rows", OptionList).highlighted_option
        self._highlight = option.id if option is not None else None

    def after_relabel(self) -> None:
        self.on_mount()

    def action_choose(self) -> None:
        option = self.query_one("#rows", OptionList).highlighted_option
        if option is not None and not option.disabled and not self.hold_keys:
            self.choose(option.id or "")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()   # a click
        if not self.hold_keys:
            self.choose(event.option.id or "")

    def choose(self, option_id: str) -> None:
        if option_id.startswith("change:"):
            self.request(Navigate(flow.Question(option_id.removeprefix("change:"), change=True)))
        elif option_id == "continue":
            self.action_advice()

    def action_advice(self) -> None:
        self.request(Navigate(flow.Advice()))

    def action_back(self) -> None:
        self.request(GoBack(flow.CheckAnswers()))
