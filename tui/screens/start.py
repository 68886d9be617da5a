"""Start screen: new case, resume an unfinished case, settings, stop."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from tui import labels
from tui.screens.base import BaseScreen


class StartScreen(BaseScreen):
    BINDINGS = [
        Binding("ctrl+n", "new_case", "new_case", id="new_case"),
        Binding("ctrl+o", "settings", "settings", id="settings"),
        Binding("ctrl+q", "app.quit", "stop", id="stop", priority=True),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._highlight: str | None = None

    def compose(self) -> ComposeResult:
        yield Static(self.t("app.title"), classes="titlebar")
        with VerticalScroll(classes="body"):
            yield Static(self.t("start.heading"), classes="heading")
            yield Static(self.t("start.intro"), classes="intro")
            yield OptionList(*self._options(), id="menu")
            yield Static(self._rules_status(), id="rules-status", classes="status")
        yield Footer(compact=True)

    def _options(self) -> list[Option | None]:
        app = self.app
        options: list[Option | None] = [Option("＋ " + self.t("start.new_case"), id="new")]
        summaries, unreadable = app.store.summaries()
        if summaries:
            options.append(None)
            options.append(Option(self.t("start.resume_heading"), id="resume-heading", disabled=True))
            for summary in summaries:
                when = summary.updated.astimezone().strftime("%d-%m-%Y %H:%M") if summary.updated else "?"
                recipient = labels.recipient_label(app.rs, summary.recipient, app.cat)
                status = self.t(f"status.{summary.status}")
                text = self.t("start.case_line", date=when, recipient=recipient,
                              n=summary.answered, pct=round(summary.progress * 100), status=status)
                options.append(Option("↻ " + text, id=f"case:{summary.id}"))
        if unreadable:
            options.append(Option(self.t("start.unreadable", n=unreadable), id="unreadable", disabled=True))
        options.append(None)
        options.append(Option("⚙ " + self.t("start.settings"), id="settings"))
        options.append(Option("⏻ " + self.t("start.quit"), id="quit"))
        return options

    def _rules_status(self) -> str:
        app = self.app
        if app.rules_error:
            return "✖ " + self.t("start.rules_error", error=app.rules_error)
        if app.rs is None:
            return "… " + self.t("start.rules_loading")
        return self.t("start.rules_ok", name=app.rs.name, version=app.rs.version)

    def on_mount(self) -> None:
        self.query_one("#menu", OptionList).focus()

    def remember_state(self) -> None:
        menu = self.query_one("#menu", OptionList)
        option = menu.highlighted_option
        self._highlight = option.id if option is not None else None

    def after_relabel(self) -> None:
        menu = self.query_one("#menu", OptionList)
        menu.focus()
        if self._highlight:
            try:
                menu.highlighted = menu.get_option_index(self._highlight)
            except Exception:  # noqa: BLE001 - option vanished; keep the default
                pass

    def refresh_cases(self) -> None:
        self.remember_state()
        menu = self.query_one("#menu", OptionList)
        menu.clear_options()
        menu.add_options(self._options())
        self.after_relabel()

    def on_rules_loaded(self) -> None:
        self.query_one("#rules-status", Static).update(self._rules_status())
        self.refresh_cases()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        option_id = event.option.id or ""
        if option_id == "new":
            self.action_new_case()
        elif option_id.startswith("case:"):
            self.app.resume_case(option_id.removeprefix("case:"))
        elif option_id == "settings":
            self.action_settings()
        elif option_id == "quit":
            self.app.exit(0)

    def action_new_case(self) -> None:
        self.app.new_case()

    def action_settings(self) -> None:
        from tui.screens.settings import SettingsScreen

        self.app.push_screen(SettingsScreen())
