"""First use (and Settings → new key): who you are, and the signing key with its passphrase twice.

Enter moves to the next field the moment it is pressed (a priority binding), so a fast typist's
next keys land in the field they meant -- never a passphrase in the name field. Passphrases
are only ever typed into password fields. Making the key is :class:`tui.signing.KeyMaker`'s
job; the screen runs it in a thread and returns a :class:`KeySetupResult` for the App to keep.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Footer, Input, Static

from tui.lang import Catalog
from tui.screens.base import BaseScreen, TextField, after_pending_keys
from tui.signing import MIN_PASSPHRASE, KeyMade, KeyMaker, SigningError


@dataclass(frozen=True)
class KeySetupResult:
    name: str
    organisation: str
    made: KeyMade | None      # None: a key was there already, or "later"
    later: bool = False


class KeySetupScreen(BaseScreen[KeySetupResult]):
    BINDINGS = [
        Binding("enter", "enter", show=False, priority=True),
        Binding("escape", "later", "later", id="later"),
    ]

    def __init__(self, cat: Catalog, *, first_use: bool, name: str, organisation: str, has_key: bool,
                 make_key: KeyMaker) -> None:
        super().__init__(cat)
        self.first_use = first_use
        self.has_key = has_key            # first use with a key already provided (IT, the `make run` demo)
        self.make_key = make_key
        self.busy = False
        self._values = {"name": name, "organisation": organisation, "passphrase": "", "passphrase2": ""}
        self._focus: str | None = None

    def compose(self) -> ComposeResult:
        v = self._values
        caption = "keysetup.caption_first" if self.first_use else "keysetup.caption"
        yield Static(self.t("app.title") + "  ·  " + self.t(caption), classes="titlebar")
        with VerticalScroll(classes="body"):
            yield Static(self.t("keysetup.heading_existing" if self.has_key else "keysetup.heading"), classes="heading")
            yield Static(self.t("keysetup.intro_existing" if self.has_key else "keysetup.intro"), classes="help-text")
            yield Static(self.t("keysetup.name"), classes="label")
            yield TextField(v["name"], id="name")
            yield Static(self.t("keysetup.organisation"), classes="label")
            yield TextField(v["organisation"], id="organisation")
            if not self.has_key:
                yield Static(self.t("keysetup.passphrase", n=MIN_PASSPHRASE), classes="label")
                yield TextField(v["passphrase"], password=True, id="passphrase")
                yield Static(self.t("keysetup.passphrase_again"), classes="label")
                yield TextField(v["passphrase2"], password=True, id="passphrase2")
            yield Static("", id="error", classes="error")
            yield Static(self.t("keysetup.usage"), classes="usage", id="status")
            with Horizontal(classes="buttons"):
                yield Button(self.t("keysetup.save" if self.has_key else "keysetup.create"), id="create",
                             variant="primary")
                yield Button(self.t("keysetup.later"), id="later")
        yield Footer(compact=True)

    def _fields(self) -> list[str]:
        return ["name", "organisation"] + ([] if self.has_key else ["passphrase", "passphrase2"])

    def on_mount(self) -> None:
        self._focus_field(self._focus)

    def after_relabel(self) -> None:
        self._focus_field(self._focus)

    def _focus_field(self, wanted: str | None) -> None:
        order = self._fields()
        if wanted not in order:
            wanted = next((f for f in order if not self.query_one("#" + f, Input).value), order[-1])
        self.focus_in_view(self.query_one("#" + wanted, Input))

    def _collect(self) -> dict[str, str]:
        return {f: self.query_one("#" + f, Input).value for f in self._fields()} | (
            {"passphrase": "", "passphrase2": ""} if self.has_key else {})

    def remember_state(self) -> None:
        self._values = self._collect()
        focused = self.focused
        self._focus = focused.id if isinstance(focused, Input) else None

    def show_error(self, message: str, field: str | None = None) -> None:
        error = self.query_one("#error", Static)
        error.update("✖ " + message)
        error.add_class("-visible")
        for widget in self.query(Input):
            widget.remove_class("-invalid")
        if field:
            widget = self.query_one("#" + field, Input)
            widget.add_class("-invalid")
            self.set_focus(widget)

    @on(Input.Changed)
    def changed(self, event: Input.Changed) -> None:
        """Typing fixes the problem the message was about: the message goes."""
        error = self.query_one("#error", Static)
        if error.has_class("-visible") and event.input.has_class("-invalid"):
            error.update("")
            error.remove_class("-visible")
            event.input.remove_class("-invalid")

    def action_enter(self) -> None:
        """Enter: the next field now (before any key typed after it arrives), or create on the last."""
        focused = self.focused
        order = self._fields()
        if isinstance(focused, Button):
            focused.press()
            return
        current = focused.id if isinstance(focused, Input) else None
        if current in order[:-1]:
            self.focus_in_view(self.query_one("#" + order[order.index(current) + 1], Input))
            return
        if isinstance(focused, Input):
            after_pending_keys(focused, self.action_create)  # after the keys typed into it before Enter
        else:
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
            return self.t("keysetup.error_name"), "name"
        if not values["organisation"].strip():
            return self.t("keysetup.error_organisation"), "organisation"
        if self.has_key:
            return None
        if len(values["passphrase"]) < MIN_PASSPHRASE:
            return self.t("keysetup.error_short", n=MIN_PASSPHRASE), "passphrase"
        if values["passphrase"] != values["passphrase2"]:
            return self.t("keysetup.error_mismatch"), "passphrase2"
        return None

    def action_create(self) -> None:
        if self.busy:
            return
        values = self._collect()
        problem = self.validate(values)
        if problem:
            self.show_error(*problem)
            return
        name, organisation = values["name"].strip(), values["organisation"].strip()
        if self.has_key:  # a key was provided: keep it, only remember who you are
            self.dismiss(KeySetupResult(name, organisation, None))
            return
        self.busy = True
        self.query_one("#status", Static).update("… " + self.t("keysetup.working"))
        self.run_worker(self._create(name, organisation, values["passphrase"]), exclusive=True, group="keysetup")

    async def _create(self, name: str, organisation: str, passphrase: str) -> None:
        try:
            made = await asyncio.to_thread(self.make_key, name, passphrase.encode("utf-8"))
        except SigningError as exc:
            self.busy = False
            self.query_one("#status", Static).update(self.t("keysetup.usage"))
            self.show_error(self.t("keysetup.error_failed", error=exc.detail or exc.reason))
            return
        self.busy = False
        self.dismiss(KeySetupResult(name, organisation, made))

    def action_later(self) -> None:
        if self.busy:
            return
        values = self._collect()
        self.dismiss(KeySetupResult(values["name"].strip(), values["organisation"].strip(), None, later=True))
