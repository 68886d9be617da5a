"""Settings: name, organisation, language, theme, signing key.

The screen edits a copy of the settings and returns it (:class:`SettingsResult`); the App saves
it and applies the language and theme. Settings of later versions (a store, a rule release)
travel along in ``Settings.extra`` untouched.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Footer, Input, Select, Static

from tui.lang import LANGUAGES, Catalog
from tui.screens.base import BaseScreen, TextField
from tui.settings import THEMES, Settings


@dataclass(frozen=True)
class SettingsResult:
    settings: Settings
    new_key: bool = False     # "Nieuwe sleutel maken": the App opens the key screen, then this one again


class SettingsScreen(BaseScreen[SettingsResult | None]):
    BINDINGS = [
        Binding("escape", "close", "cancel", id="cancel"),
        Binding("ctrl+s", "save", "save", id="save", priority=True),
    ]

    def __init__(self, cat: Catalog, settings: Settings, *, key_file: Path, default_key: Path) -> None:
        super().__init__(cat)
        self.settings = settings
        self.key_file = key_file
        self.default_key = default_key
        self._values: dict[str, str] | None = None

    def compose(self) -> ComposeResult:
        s = self.settings
        values = self._values or {"name": s.name, "organisation": s.organisation, "language": self.lang,
                                  "theme": s.theme, "key_path": str(self.key_file)}
        yield Static(self.t("app.title") + "  ·  " + self.t("settings.caption"), classes="titlebar")
        with VerticalScroll(classes="body"):
            yield Static(self.t("settings.heading"), classes="heading")
            yield Static(self.t("settings.name"), classes="label")
            yield TextField(values["name"], id="name")
            yield Static(self.t("settings.organisation"), classes="label")
            yield TextField(values["organisation"], id="organisation")
            yield Static(self.t("settings.language"), classes="label")
            yield Select([(self.t(f"languages.{code}"), code) for code in LANGUAGES],
                         value=values["language"], allow_blank=False, id="language")
            yield Static(self.t("settings.theme"), classes="label")
            yield Select([(self.t(f"themes.{name}"), name) for name in THEMES],
                         value=values["theme"], allow_blank=False, id="theme")
            yield Static(self.t("settings.key_path"), classes="label")
            yield TextField(values["key_path"], id="key-path")
            key_state = "settings.key_present" if Path(values["key_path"]).expanduser().is_file() else "settings.key_missing"
            yield Static(self.t(key_state), classes="hint", id="key-state")
            yield Static("", id="error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button(self.t("settings.save"), id="save", variant="primary")
                yield Button(self.t("settings.new_key"), id="new-key")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.focus_in_view(self.query_one("#name", Input))

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
        self.on_mount()

    def _result(self) -> Settings | None:
        values = self._collect()
        key_path = values["key_path"].strip()
        if key_path and Path(key_path).expanduser().is_dir():
            error = self.query_one("#error", Static)
            error.update("✖ " + self.t("settings.key_path_is_dir"))
            error.add_class("-visible")
            return None
        return replace(self.settings, name=values["name"].strip(), organisation=values["organisation"].strip(),
                       key_path="" if key_path in ("", str(self.default_key)) else key_path,
                       theme=values["theme"] if values["theme"] in THEMES else self.settings.theme,
                       language=values["language"] if values["language"] in LANGUAGES else self.settings.language)

    @on(Button.Pressed, "#save")
    def save_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_save()

    @on(Button.Pressed, "#new-key")
    def new_key_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        settings = self._result()
        if settings is not None:
            self.dismiss(SettingsResult(settings, new_key=True))

    def action_save(self) -> None:
        settings = self._result()
        if settings is not None:
            self.dismiss(SettingsResult(settings))

    def action_close(self) -> None:
        self.dismiss(None)
