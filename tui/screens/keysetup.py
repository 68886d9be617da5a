"""First use (and Settings → new key): create the signing key, passphrase twice."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Footer, Input, Static

from tui.screens.base import BaseScreen
from tui.settings import KEY_FILE, LEGACY_KEY_FILE

MIN_PASSPHRASE = 10


class KeySetupScreen(BaseScreen[bool]):
    BINDINGS = [
        Binding("escape", "later", "later", id="later"),
    ]

    def __init__(self, *, first_use: bool) -> None:
        super().__init__()
        self.first_use = first_use
        self.busy = False
        self._values: dict[str, str] | None = None
        self.existing_key: bool | None = None  # first use with a key already provided (IT, `make run` demo)

    def _has_key(self) -> bool:
        if self.existing_key is None:
            self.existing_key = self.first_use and self.app.settings.key_file(self.app.home).exists()
        return self.existing_key

    def compose(self) -> ComposeResult:
        s = self.app.settings
        values = self._values or {"name": s.name, "organisation": s.organisation, "p1": "", "p2": ""}
        caption = "keysetup.caption_first" if self.first_use else "keysetup.caption"
        yield Static(self.t("app.title") + "  ·  " + self.t(caption), classes="titlebar")
        has_key = self._has_key()
        with VerticalScroll(classes="body"):
            yield Static(self.t("keysetup.heading_existing" if has_key else "keysetup.heading"), classes="heading")
            yield Static(self.t("keysetup.intro_existing" if has_key else "keysetup.intro"), classes="help-text")
            yield Static(self.t("keysetup.name"), classes="label")
            yield Input(values["name"], id="name")
            yield Static(self.t("keysetup.organisation"), classes="label")
            yield Input(values["organisation"], id="organisation")
            if not has_key:
                yield Static(self.t("keysetup.passphrase", n=MIN_PASSPHRASE), classes="label")
                yield Input(values["p1"], password=True, id="passphrase")
                yield Static(self.t("keysetup.passphrase_again"), classes="label")
                yield Input(values["p2"], password=True, id="passphrase2")
            yield Static("", id="error", classes="error")
            yield Static(self.t("keysetup.usage"), classes="usage", id="status")
            with Horizontal(classes="buttons"):
                yield Button(self.t("keysetup.save" if has_key else "keysetup.create"), id="create", variant="primary")
                yield Button(self.t("keysetup.later"), id="later")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._focus_first_empty()

    def after_relabel(self) -> None:
        self._focus_first_empty()

    def _fields(self) -> list[str]:
        return ["name", "organisation"] + ([] if self._has_key() else ["passphrase", "passphrase2"])

    def _focus_first_empty(self) -> None:
        for widget_id in self._fields():
            field = self.query_one("#" + widget_id, Input)
            if not field.value:
                field.focus()
                return
        self.query_one("#" + self._fields()[-1], Input).focus()

    def _collect(self) -> dict[str, str]:
        def value(widget_id: str) -> str:
            found = self.query("#" + widget_id)
            return found.first(Input).value if found else ""
        return {"name": value("name"), "organisation": value("organisation"),
                "p1": value("passphrase"), "p2": value("passphrase2")}

    def remember_state(self) -> None:
        self._values = self._collect()

    def show_error(self, message: str, field: str | None = None) -> None:
        error = self.query_one("#error", Static)
        error.update("✖ " + message)
        error.add_class("-visible")
        for widget in self.query(Input):
            widget.remove_class("-invalid")
        if field:
            widget = self.query_one(field, Input)
            widget.add_class("-invalid")
            widget.focus()

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        event.stop()
        order = self._fields()
        current = event.input.id or ""
        if current in order[:-1]:
            self.query_one("#" + order[order.index(current) + 1], Input).focus()
            return
        self.action_create()

    @on(Button.Pressed, "#create")
    def create_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_create()

    @on(Button.Pressed, "#later")
    def later_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_later()

    def validate(self, values: dict[str, str]) -> tuple[str, str] | None:
        if not values["name"].strip():
            return self.t("keysetup.error_name"), "#name"
        if not values["organisation"].strip():
            return self.t("keysetup.error_organisation"), "#organisation"
        if self._has_key():
            return None
        if len(values["p1"]) < MIN_PASSPHRASE:
            return self.t("keysetup.error_short", n=MIN_PASSPHRASE), "#passphrase"
        if values["p1"] != values["p2"]:
            return self.t("keysetup.error_mismatch"), "#passphrase2"
        return None

    def target_dir(self) -> Path:
        app = self.app
        base = app.home / "keys"
        if not (base / KEY_FILE).exists() and not (base / LEGACY_KEY_FILE).exists():
            return base
        return base / app.clock().strftime("%Y%m%d-%H%M%S")

    def action_create(self) -> None:
        if self.busy:
            return
        values = self._collect()
        problem = self.validate(values)
        if problem:
            self.show_error(*problem)
            return
        if self._has_key():  # a key was provided: keep it, only remember who you are
            app = self.app
            app.settings.name = values["name"].strip()
            app.settings.organisation = values["organisation"].strip()
            app._save_settings()
            app.first_use = False
            self.dismiss(True)
            return
        self.busy = True
        self.query_one("#status", Static).update("… " + self.t("keysetup.working"))
        self.run_worker(self._create(values), exclusive=True, group="keysetup")

    async def _create(self, values: dict[str, str]) -> None:
        app = self.app
        out_dir = self.target_dir()
        try:
            info = await asyncio.to_thread(self._make_key, out_dir, values["name"].strip(),
                                           values["p1"].encode("utf-8"))
        except Exception as exc:  # noqa: BLE001 - a message, never a traceback
            self.busy = False
            self.query_one("#status", Static).update(self.t("keysetup.usage"))
            detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            self.show_error(self.t("keysetup.error_failed", error=detail or type(exc).__name__))
            return
        s = app.settings
        s.name = values["name"].strip()
        s.organisation = values["organisation"].strip()
        private_path = Path(getattr(info, "private_path", out_dir / KEY_FILE))
        s.key_path = "" if private_path == app.home / "keys" / KEY_FILE else str(private_path)
        app._save_settings()
        app.first_use = False
        self.busy = False
        app.notify(self.t("keysetup.done", key_id=str(getattr(info, "key_id", ""))), timeout=8)
        self.dismiss(True)

    def _make_key(self, out_dir: Path, owner: str, passphrase: bytes) -> Any:
        import audit.keys  # noqa: PLC0415 - late import (start-up time)

        out_dir.mkdir(parents=True, exist_ok=True)
        info = audit.keys.init_keypair(out_dir, owner, passphrase)
        self.app.trust_own_key(info, owner)
        return info

    def action_later(self) -> None:
        if self.busy:
            return
        if self.first_use:
            self.app.settings.name = self.query_one("#name", Input).value.strip()
            self.app.settings.organisation = self.query_one("#organisation", Input).value.strip()
            self.app._save_settings()
            self.app.first_use = False
            self.app.notify(self.t("keysetup.later_note"), timeout=8)
        self.dismiss(False)
