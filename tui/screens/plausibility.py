""" "Klopt dit?": the rule set's plausibility checks that hold on these answers (``Decision.warnings``),
asked before the interview goes on or computes an advice on them. Yes: the answers stand (and
are remembered as confirmed for exactly these values); no: change one of the answers involved.
The screen shows only what the rule set says; it has no checks of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option


from tui import flow
from tui.lang import Catalog
from tui.messages import GoBack, Navigate, WarningsConfirmed
from tui.screens.base import BaseScreen
from tui.widgets.answers import Choices

if TYPE_CHECKING:
    from engine.present import WarningView


class PlausibilityScreen(BaseScreen[None]):
    BINDINGS = [
        Binding("escape,alt+left", "back", "back", id="back"),
        Binding("enter", "choose", show=False, priority=True),   # at once: keys typed after it are held
    ]

    def __init__(self, cat: Catalog, target: flow.Plausibility,
                 make_warnings: Callable[[str], list[WarningView]]) -> None:
        super().__init__(cat)
        self.target = target
        self.make_warnings = make_warnings
        self.warnings = make_warnings(cat.lang)

    def compose(self) -> ComposeResult:
        yield Static(self.t("app.title") + "  ·  " + self.t("check.caption"), classes="titlebar")
        with VerticalScroll(classes="body"):
            yield Static("? " + self.t("check.heading"), classes="heading", id="check-heading")
            for w in self.warnings:
                body = Text(w.message + "\n", style="bold")
                for f in w.facts:
                    body.append(f"  • {f.prompt} ", style="")
                    body.append(f.answer + "\n", style="bold")
                yield Static(body, classes="notice warning")
            yield Static(self.t("check.intro"), classes="hint")
            yield Choices(*self._options(), start=None, id="choices")  # nothing chosen until ↓
            yield Static(self.t("check.usage"), classes="usage")
        yield Footer(compact=True)

    def _options(self) -> list[Option | None]:
        options: list[Option | None] = [Option("✔ " + self.t("check.yes"), id="confirm"), None]
        seen: set[str] = set()
        for w in self.warnings:
            for f in w.facts:
                if f.fact not in seen:
                    seen.add(f.fact)
                    options.append(Option("✎ " + self.t("check.change", question=f.prompt, answer=f.answer),
                                          id=f"change:{f.fact}"))
        return options

    async def relabel(self, cat: Catalog) -> None:
        self.warnings = self.make_warnings(cat.lang)
        await super().relabel(cat)

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#choices", OptionList))

    def after_relabel(self) -> None:
        self.on_mount()

    def action_choose(self) -> None:
        option = self.query_one("#choices", OptionList).highlighted_option
        if option is not None and not option.disabled and not self.hold_keys:
            self.choose(option.id or "")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()   # a click
        if not self.hold_keys:
            self.choose(event.option.id or "")

    def choose(self, option_id: str) -> None:
        if option_id == "confirm":
            self.request(WarningsConfirmed(self.target))
        elif option_id.startswith("change:"):
            self.request(Navigate(flow.Question(option_id.removeprefix("change:"), change=self.target.change)))

    def action_back(self) -> None:
        self.request(GoBack(self.target))
