"""After signing: record id, rule-set fingerprint, the dossier text and saving it as a file.

Going back is no longer possible: the signed record must match the answers.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.events import Key
from textual.widgets import Footer, Input, Static

from tui.dossier import verantwoording
from tui.screens.advice import advice_widgets
from tui.screens.base import SCROLL_BINDINGS, BaseScreen, ScrollBody
from tui.settings import atomic_write_text


def readable_time(stamp: str) -> str:
    """``2025-03-14T09:30:00+01:00`` → ``14-03-2025 09:30`` (as written in the record's time zone)."""
    from datetime import datetime

    try:
        return datetime.fromisoformat(stamp).strftime("%d-%m-%Y %H:%M")
    except ValueError:
        return stamp


class RecordedScreen(ScrollBody, BaseScreen):
    interview_screen = True

    BINDINGS = [
        Binding("escape,alt+left", "back", "back", id="back"),
        Binding("f3", "explain", "why", id="why"),
        Binding("f5", "save_dossier", "save_dossier", id="save_dossier"),
        Binding("ctrl+n", "to_start", "to_start", id="to_start"),
        Binding("ctrl+q", "app.quit", "stop", id="stop", priority=True),
    ] + SCROLL_BINDINGS

    def __init__(self) -> None:
        super().__init__()
        self._saved_to: set[Path] = set()
        self._path_text: str | None = None

    def dossier_text(self) -> str:
        app = self.app
        interview = app.interview
        return verantwoording(rs=interview.rs, decision=interview.decision,
                              answers=interview.recorded_answers(), actor=app.actor(),
                              record=interview.case.record, case_id=interview.case.id, cat=app.cat)

    def default_path(self) -> Path:
        return self.app.home / "verantwoording" / f"{self.app.interview.case.id}.txt"

    def compose(self) -> ComposeResult:
        app = self.app
        interview = app.interview
        record = interview.case.record or {}
        yield Static(self.t("app.title") + "  ·  " + self.t("recorded.caption"), classes="titlebar")
        with VerticalScroll(classes="body", id="recorded-body"):
            yield Static("✔ " + self.t("recorded.heading"), classes="heading", id="recorded-heading")
            info = Text()
            info.append(self.t("recorded.record_id") + " ", style="bold")
            info.append(str(record.get("record_id", "")) + "\n")
            info.append(self.t("recorded.fingerprint") + " ", style="bold")
            info.append(str(record.get("ruleset_fingerprint", interview.rs.fingerprint)) + "\n")
            info.append(self.t("recorded.when") + " ", style="bold")
            info.append(readable_time(str(record.get("signed_at", ""))) + "\n")
            info.append(self.t("recorded.log") + " ", style="bold")
            info.append(str(record.get("log", "")))
            yield Static(info, classes="block", id="record-info")
            yield Static("! " + self.t("recorded.no_back"), classes="notice", id="no-back")
            yield from advice_widgets(interview.rs, interview.decision, app.cat)
            yield Static(self.t("recorded.dossier_heading"), classes="subheading")
            yield Static(self.dossier_text(), classes="dossier", id="dossier")
        with Vertical(classes="savebar"):
            yield Static(self.t("recorded.save_label"), classes="label")
            yield Input(self._path_text or str(self.default_path()), id="dossier-path")
            yield Static("", id="save-status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#dossier-path", Input).focus()

    def remember_state(self) -> None:
        self._path_text = self.query_one("#dossier-path", Input).value

    def after_relabel(self) -> None:
        self.query_one("#dossier-path", Input).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "back":
            return False  # the record is signed: no back (the screen says why; Esc tells again)
        return True

    def on_key(self, event: Key) -> None:
        if event.key in ("escape", "alt+left"):
            event.stop()
            self.action_back()

    def action_back(self) -> None:
        self.notify(self.t("recorded.no_back"), title=self.t("recorded.no_back_title"),
                    severity="warning", timeout=8)

    def action_explain(self) -> None:
        from tui.screens.why import WhyScreen

        self.app.push_screen(WhyScreen())

    def action_to_start(self) -> None:
        self.app.close_case()

    @on(Input.Submitted, "#dossier-path")
    def path_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save_dossier()

    def action_save_dossier(self) -> None:
        status = self.query_one("#save-status", Static)
        raw = self.query_one("#dossier-path", Input).value.strip()
        if not raw:
            status.update("✖ " + self.t("recorded.path_empty"))
            return
        path = Path(raw).expanduser()
        if path.is_dir():
            status.update("✖ " + self.t("recorded.path_is_dir"))
            return
        if path.exists() and path.resolve() not in self._saved_to:
            status.update("✖ " + self.t("recorded.path_exists"))
            return
        try:
            atomic_write_text(path, self.dossier_text(), mode=0o600)
        except OSError as exc:
            status.update("✖ " + self.t("recorded.save_failed", error=exc.strerror or str(exc)))
            return
        self._saved_to.add(path.resolve())
        status.update("✔ " + self.t("recorded.saved", path=str(path)))
        self.notify(self.t("recorded.saved", path=str(path)))
