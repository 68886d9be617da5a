"""The advice: verdict in words and symbol, data allowed/withheld, conditions, sources.

"Waarom?" (F3) opens the drill-down; "Bevestig en leg vast" (F4) signs the record.
"""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Footer, Static

from tui import labels
from tui.lang import Catalog, pick
from tui.screens.base import SCROLL_BINDINGS, BaseScreen, ScrollBody


def titled_list(title: str, items: list[tuple[str, str, str]]) -> Group:
    """A bold title over a list whose long lines wrap with a hanging indent.

    Each item is (symbol, text, reason); the reason follows the text after a dash.
    """
    grid = Table.grid(padding=(0, 1))
    grid.add_column(width=3, justify="right")
    grid.add_column(ratio=1)
    for symbol, text, reason in items:
        line = Text(text, style="bold" if reason else "")
        if reason:
            line.append(" — " + reason, style="")
        grid.add_row(symbol, line)
    return Group(Text(title, style="bold"), grid)


def advice_widgets(rs: Any, decision: Any, cat: Catalog) -> list[Static]:
    """The body of the advice; shared by the advice screen and the recorded screen."""
    t = cat.t
    advice = decision.advice
    out: list[Static] = []
    verdict = advice.verdict
    badge = Text(f" {labels.verdict_symbol(verdict)} {labels.verdict_words(verdict, cat)} ",
                 style="bold")
    out.append(Static(badge, classes=f"verdict verdict-{verdict}", id="verdict"))
    out.append(Static(labels.outcome_label(rs, advice.outcome, cat), classes="heading", id="outcome"))
    desc = labels.outcome_description(rs, advice.outcome, cat)
    if desc:
        out.append(Static(desc, classes="help-text"))
    out.append(Static(t("advice.recipient", recipient=labels.recipient_label(rs, advice.recipient, cat)),
                      classes="line"))

    allowed = [("✔", labels.category_label(rs, code, cat), "") for code in advice.allowed]
    out.append(Static(titled_list(t("advice.allowed_heading"), allowed or
                                  [("", t("advice.nothing_allowed"), "")]), classes="block", id="data"))
    if advice.withheld:
        withheld = [("✖", labels.category_label(rs, item.category, cat), pick(item.reason, cat.lang))
                    for item in advice.withheld]
        out.append(Static(titled_list(t("advice.withheld_heading"), withheld), classes="block",
                          id="withheld"))
    conditions = [("•", labels.condition_text(rs, code, cat), "") for code in advice.conditions]
    out.append(Static(titled_list(t("advice.conditions_heading"), conditions or
                                  [("", t("advice.no_conditions"), "")]), classes="block", id="conditions"))
    if advice.unverified:
        unverified = [("-", labels.source_line(rs, source_id, cat), "") for source_id in advice.unverified]
        out.append(Static(titled_list("! " + t("advice.unverified_intro"), unverified), classes="notice",
                          id="unverified"))
    grounds = [("§", labels.source_line(rs, source_id, cat), "") for source_id in advice.legal_bases]
    out.append(Static(titled_list(t("advice.grounds_heading"), grounds), classes="block", id="grounds"))
    return out


class AdviceScreen(ScrollBody, BaseScreen):
    interview_screen = True

    BINDINGS = [
        Binding("escape,alt+left", "back", "change_answers", id="change_answers"),
        Binding("f3", "explain", "why", id="why"),
        Binding("f1", "explain", "why", show=False, id="why_f1"),
        Binding("f4", "record", "record", id="record"),
    ] + SCROLL_BINDINGS

    def compose(self) -> ComposeResult:
        app = self.app
        interview = app.interview
        yield Static(self.t("app.title") + "  ·  " + self.t("advice.caption"), classes="titlebar")
        with VerticalScroll(classes="body", id="advice-body"):
            yield from advice_widgets(interview.rs, interview.decision, app.cat)
            yield Static(self.t("advice.record_intro"), classes="hint")
        with Horizontal(classes="buttons bar"):
            yield Button(self.t("advice.why_button"), id="why-button")
            yield Button(self.t("advice.record_button"), id="record-button", variant="primary")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#record-button", Button).focus()

    def after_relabel(self) -> None:
        self.query_one("#record-button", Button).focus()

    @on(Button.Pressed, "#why-button")
    def why_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_explain()

    @on(Button.Pressed, "#record-button")
    def record_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_record()

    def action_explain(self) -> None:
        from tui.screens.why import WhyScreen

        self.app.push_screen(WhyScreen())

    def action_back(self) -> None:
        self.app.show("review")

    def action_record(self) -> None:
        app = self.app
        if app.actor_missing():
            from tui.screens.settings import SettingsScreen

            app.notify(self.t("record.need_actor"), severity="warning", timeout=8)
            app.push_screen(SettingsScreen())
            return
        if not app.key_file.exists():
            from tui.screens.keysetup import KeySetupScreen

            app.notify(self.t("record.need_key"), severity="warning")
            app.push_screen(KeySetupScreen(first_use=False),
                            callback=lambda made: self.action_record() if made else None)
            return
        from tui.screens.passphrase import PassphraseScreen

        app.push_screen(PassphraseScreen(), callback=self._after_sign)

    def _after_sign(self, record: dict[str, Any] | None) -> None:
        if record:
            # let the passphrase dialog finish closing before this screen is replaced
            self.app.call_later(self.app.signed, record)
