"""The advice: verdict in words and symbol, data allowed/withheld, conditions, "Wat nu?", sources.

F3 "Waarom?" opens the drill-down, F5 the dossier document (a concept until signed), F4
"Bevestig en leg vast" signs the record. Laid out from the presentation model only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Footer, Static

from tui import flow
from tui.lang import Catalog
from tui.messages import GoBack, OpenDossier, OpenWhy, RecordRequested
from tui.screens.base import SCROLL_BINDINGS, BaseScreen, ScrollBody
from tui.widgets.advice import advice_widgets

if TYPE_CHECKING:
    from engine.present import DecisionView


class AdviceScreen(ScrollBody, BaseScreen[None]):
    BINDINGS = [
        Binding("escape,alt+left", "back", "change_answers", id="change_answers"),
        Binding("f3", "explain", "why", id="why"),
        Binding("f1", "explain", "why", show=False, id="why_f1"),
        Binding("f5", "dossier", "dossier", id="dossier", show=False),  # the "Dossier (F5)" button shows it
        Binding("f4", "record", "record", id="record"),
    ] + SCROLL_BINDINGS

    def __init__(self, cat: Catalog, make_view: Callable[[str], DecisionView]) -> None:
        super().__init__(cat)
        self.make_view = make_view

    def compose(self) -> ComposeResult:
        view = self.make_view(self.lang)
        assert view.advice is not None
        yield Static(self.t("app.title") + "  ·  " + self.t("advice.caption"), classes="titlebar")
        with VerticalScroll(classes="body", id="advice-body"):
            yield from advice_widgets(view.advice, self.cat)
            yield Static(self.t("advice.record_intro"), classes="hint", id="record-intro")
        with Horizontal(classes="buttons bar"):
            yield Button(self.t("advice.why_button"), id="why-button")
            yield Button(self.t("advice.dossier_button"), id="dossier-button")
            yield Button(self.t("advice.record_button"), id="record-button", variant="primary")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#record-button", Button))

    def after_relabel(self) -> None:
        self.on_mount()

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        event.stop()
        {"why-button": self.action_explain, "dossier-button": self.action_dossier,
         "record-button": self.action_record}[event.button.id or ""]()

    def action_explain(self) -> None:
        self.request(OpenWhy())

    def action_dossier(self) -> None:
        self.request(OpenDossier())

    def action_back(self) -> None:
        self.request(GoBack(flow.Advice()))

    def action_record(self) -> None:
        self.request(RecordRequested())
