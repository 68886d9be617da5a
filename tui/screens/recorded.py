"""After signing: the record's number and hash, the rule set's fingerprint, the advice, and the
dossier document (F5). Going back is no longer possible: the signed record must match the answers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.events import Key
from textual.widgets import Footer, Static

from tui.document import readable_time
from tui.lang import Catalog
from tui.messages import CloseCase, OpenDossier, OpenWhy, Quit
from tui.screens.base import SCROLL_BINDINGS, BaseScreen, ScrollBody
from tui.widgets.advice import advice_widgets

if TYPE_CHECKING:
    from engine.present import DecisionView


class RecordedScreen(ScrollBody, BaseScreen[None]):
    BINDINGS = [
        Binding("escape,alt+left", "back", "back", id="back"),
        Binding("f3", "explain", "why", id="why"),
        Binding("f5", "dossier", "dossier", id="dossier"),
        Binding("ctrl+n", "to_start", "to_start", id="to_start"),
        Binding("ctrl+q", "quit", "stop", id="stop", priority=True),
    ] + SCROLL_BINDINGS

    def __init__(self, cat: Catalog, make_view: Callable[[str], DecisionView], record: dict[str, Any]) -> None:
        super().__init__(cat)
        self.make_view = make_view
        self.record = record

    def compose(self) -> ComposeResult:
        view = self.make_view(self.lang)
        assert view.advice is not None
        record = self.record
        yield Static(self.t("app.title") + "  ·  " + self.t("recorded.caption"), classes="titlebar")
        with VerticalScroll(classes="body", id="recorded-body"):
            yield Static("✔ " + self.t("recorded.heading"), classes="heading", id="recorded-heading")
            info = Text()
            for label, value in (("recorded.record_id", record.get("record_id", "")),
                                 ("recorded.record_hash", record.get("leaf_hash", "")),
                                 ("recorded.fingerprint", record.get("ruleset_fingerprint", view.ruleset["fingerprint"])),
                                 ("recorded.when", readable_time(str(record.get("signed_at", "")))),
                                 ("recorded.log", record.get("log", ""))):
                info.append(self.t(label) + " ", style="bold")
                info.append(f"{value}\n")
            yield Static(info, classes="block", id="record-info")
            yield Static("! " + self.t("recorded.no_back"), classes="notice", id="no-back")
            yield Static(self.t("recorded.dossier_hint"), classes="hint")
            yield from advice_widgets(view.advice, self.cat)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#recorded-body"))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return action != "back"  # the record is signed: no back (the screen says why; Esc tells again)

    def on_key(self, event: Key) -> None:
        if event.key in ("escape", "alt+left"):
            event.stop()
            self.action_back()

    def action_back(self) -> None:
        self.notify(self.t("recorded.no_back"), title=self.t("recorded.no_back_title"), severity="warning", timeout=8)

    def action_explain(self) -> None:
        self.request(OpenWhy())

    def action_dossier(self) -> None:
        self.request(OpenDossier())

    def action_to_start(self) -> None:
        self.request(CloseCase())

    def action_quit(self) -> None:
        self.post_message(Quit())
