"""Ask the passphrase, then sign ("Bevestig en leg vast") with the :class:`tui.signing.Signer`
the App made for this decision. A wrong passphrase gives a message in place; the field is a
password field and is emptied after every try."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Footer, Input, Static

from tui.lang import Catalog
from tui.screens.base import BaseModal, TextField
from tui.signing import SignedRecord, SigningError


def describe(exc: SigningError, cat: Catalog) -> str:
    if exc.reason == "wrong_passphrase":
        return cat.t("record.wrong_passphrase")
    if exc.reason == "key_unreadable":
        return cat.t("record.key_unreadable", error=exc.detail)
    return cat.t("record.failed", error=exc.detail or exc.reason)


class PassphraseScreen(BaseModal[SignedRecord | None]):
    BINDINGS = [Binding("escape", "cancel", "cancel", id="cancel")]

    def __init__(self, cat: Catalog, signer: Callable[[bytes], SignedRecord]) -> None:
        super().__init__(cat)
        self.signer = signer
        self.busy = False
        self._typed: tuple[str, int] | None = None   # (passphrase, cursor) kept over a language switch

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.t("record.title"), classes="dialog-title")
            yield Static(self.t("record.intro"), classes="help-text")
            yield Static(self.t("record.passphrase_label"), classes="label")
            yield TextField(self._typed[0] if self._typed else "", password=True, id="passphrase")
            yield Static("", id="error", classes="error")
            yield Static(("… " + self.t("record.signing")) if self.busy else self.t("record.usage"),
                         classes="usage", id="status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#passphrase", Input))

    def remember_state(self) -> None:
        field = self.query_one("#passphrase", Input)
        self._typed = (field.value, field.cursor_position)

    def after_relabel(self) -> None:
        self.on_mount()
        if self._typed is not None:
            self.query_one("#passphrase", Input).cursor_position = self._typed[1]
        self._typed = None   # in memory only as long as the re-render needs it

    def show_error(self, message: str) -> None:
        error = self.query_one("#error", Static)
        error.update("✖ " + message)
        error.add_class("-visible")
        self.query_one("#passphrase", Input).add_class("-invalid")

    @on(Input.Changed, "#passphrase")
    def typing(self, event: Input.Changed) -> None:
        if event.value:
            self.query_one("#error", Static).remove_class("-visible")
            event.input.remove_class("-invalid")

    @on(Input.Submitted, "#passphrase")
    def submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.busy:
            return
        if not event.value:
            self.show_error(self.t("record.passphrase_empty"))
            return
        self.busy = True
        self.query_one("#status", Static).update("… " + self.t("record.signing"))
        self.run_worker(self._sign(event.value.encode("utf-8")), exclusive=True, group="sign")

    async def _sign(self, passphrase: bytes) -> None:
        try:
            record = await asyncio.to_thread(self.signer, passphrase)
        except SigningError as exc:
            self.busy = False
            self.query_one("#status", Static).update(self.t("record.usage"))
            field = self.query_one("#passphrase", Input)
            field.value = ""
            self.set_focus(field)
            self.show_error(describe(exc, self.cat))
            return
        self.busy = False
        self.dismiss(record)

    def action_cancel(self) -> None:
        if not self.busy:
            self.dismiss(None)
