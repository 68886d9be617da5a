"""Settings: name, organisation, language, theme, signing key."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Footer, Input, Select, Static

from tui.lang import LANGUAGES
from tui.screens.base import BaseScreen
from tui.settings import KEY_FILE, THEMES


class SettingsScreen(BaseScreen):
    BINDINGS = [
        Binding("escape", "close", "cancel", id="cancel"),
        Binding("ctrl+s", "save", "save", id="save", priority=True),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._values: dict[str, str] | None = None

    def compose(self) -> ComposeResult:
        s = self.app.settings
        values = self._values or {
            "name": s.name, "organisation": s.organisation, "language": self.app.cat.lang,
            "theme": s.theme, "key_path": str(self.app.key_file),
        }
        yield Static(self.t("app.title") + "  ·  " + self.t("settings.caption"), classes="titlebar")
        with VerticalScroll(classes="body"):
            yield Static(self.t("settings.heading"), classes="heading")
            yield Static(self.t("settings.name"), classes="label")
            yield Input(values["name"], id="name")
            yield Static(self.t("settings.organisation"), classes="label")
            yield Input(values["organisation"], id="organisation")
            yield Static(self.t("settings.language"), classes="label")
            yield Select([(self.t(f"languages.{code}"), code) for code in LANGUAGES],
                         value=values["language"], allow_blank=False, id="language")
            yield Static(self.t("settings.theme"), classes="label")
            yield Select([(self.t(f"themes.{name}"), name) for name in THEMES],
                         value=values["theme"], allow_blank=False, id="theme")
            yield Static(self.t("settings.key_path"), classes="label")
            yield Input(values["key_path"], id="key-path")
            key_state = "settings.key_present" if self.app.key_file.exists() else "settings.key_missing"
            yield Static(self.t(key_state), classes="hint", id="key-state")
            yield Static("", id="error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button(self.t("settings.save"), id="save", variant="primary")
                yield Button(self.t("settings.new_key"), id="new-key")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()

    def _collect(self) -> dict[str, str]:
        return {
            "name": self.query_one("#name", Input).value,
            "organisation": self.query_one("#organisation", Input).value,
            "language": str(self.query_one("#language", Select).value),
            "theme": str(self.query_one("#theme", Select).value),
            "key_path": self.query_one("#key-path", Input).value,
        }

    def remember_state(self) -> None:
        self._values = self._collect()

    def after_relabel(self) -> None:
        self.query_one("#name", Input).focus()

    @on(Button.Pressed, "#save")
    def save_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_save()

    @on(Button.Pressed, "#new-key")
    def new_key_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        from tui.screens.keysetup import KeySetupScreen

        self.app.push_screen(KeySetupScreen(first_use=False), callback=self._key_made)

    def _key_made(self, made: bool | None) -> None:
        if made:
            self.query_one("#key-path", Input).value = str(self.app.key_file)
            self.query_one("#key-state", Static).update(self.t("settings.key_present"))

    async def action_save(self) -> None:
        values = self._collect()
        error = self.query_one("#error", Static)
        key_path = values["key_path"].strip()
        if key_path and Path(key_path).expanduser().is_dir():
            error.update("✖ " + self.t("settings.key_path_is_dir"))
            error.add_class("-visible")
            return
        app = self.app
        s = app.settings
        s.name = values["name"].strip()
        s.organisation = values["organisation"].strip()
        default_key = str(app.home / "keys" / KEY_FILE)
        s.key_path = "" if key_path in ("", default_key) else key_path
        if values["theme"] in THEMES:
            app.set_theme(values["theme"])
        app._save_settings()
        app.notify(self.t("settings.saved"))
        language = values["language"]
        self.dismiss()
        if language in LANGUAGES and language != app.language:
            app.language = language

    def action_close(self) -> None:
        self.dismiss()
