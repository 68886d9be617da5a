"""Ask the passphrase, then write the signed audit record ("Bevestig en leg vast")."""

from __future__ import annotations

import asyncio
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Footer, Input, Static

from tui.screens.base import BaseModal


def describe_sign_error(exc: BaseException, t: Any) -> str:
    """A message in the user's language for a failure while signing."""
    name = type(exc).__name__
    if name == "WrongPassphrase":
        return t("record.wrong_passphrase")
    if name == "KeyFileError":
        return t("record.key_unreadable", error=str(exc))
    if isinstance(exc, OSError):
        return t("record.failed", error=exc.strerror or str(exc))
    return t("record.failed", error=str(exc) or name)


class PassphraseScreen(BaseModal[dict]):
    BINDINGS = [
        Binding("escape", "cancel", "cancel", id="cancel"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.busy = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.t("record.title"), classes="dialog-title")
            yield Static(self.t("record.intro"), classes="help-text")
            yield Static(self.t("record.passphrase_label"), classes="label")
            yield Input(password=True, id="passphrase")
            yield Static("", id="error", classes="error")
            yield Static(self.t("record.usage"), classes="usage", id="status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#passphrase", Input).focus()

    def after_relabel(self) -> None:
        self.query_one("#passphrase", Input).focus()

    def show_error(self, message: str) -> None:
        error = self.query_one("#error", Static)
        error.update("✖ " + message)
        error.add_class("-visible")
        self.query_one("#passphrase", Input).add_class("-invalid")

    @on(Input.Submitted, "#passphrase")
    def submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.busy:
            return
        secret = event.value
        if not secret:
            self.show_error(self.t("record.passphrase_empty"))
            return
        self.busy = True
        self.query_one("#status", Static).update("… " + self.t("record.signing"))
        self.run_worker(self._sign(secret.encode("utf-8")), exclusive=True, group="sign")

    async def _sign(self, passphrase: bytes) -> None:
        try:
            record = await asyncio.to_thread(self.app.sign_current, passphrase)
        except Exception as exc:  # noqa: BLE001 - shown as a message, never a traceback
            self.busy = False
            self.query_one("#status", Static).update(self.t("record.usage"))
            field = self.query_one("#passphrase", Input)
            field.value = ""
            field.focus()
            self.show_error(describe_sign_error(exc, self.t))
            return
        self.busy = False
        self.dismiss(record)

    def action_cancel(self) -> None:
        if not self.busy:
            self.dismiss(None)
