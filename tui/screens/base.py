"""What every interview screen shares: its catalog, re-rendering in another language, holding
typed-ahead keys while the App moves to another page, and text fields that never swallow input.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, TypeVar

from textual.binding import Binding
from textual.dom import DOMNode
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Input

from tui.lang import Catalog

# Bindings without an id (Textual's own) that we still translate, by action.
_ACTION_KEYS = {"command_palette": "palette", "quit": "quit"}


def translate_bindings(node: DOMNode, cat: Catalog) -> None:
    """Replace each binding's footer text by the catalog entry ``keys.<binding id>``.

    Textual has no i18n layer; bindings are frozen dataclasses, so the node's own binding
    map is rebuilt with translated descriptions.
    """
    table = node._bindings.key_to_bindings
    for key, bindings in list(table.items()):
        new = []
        for binding in bindings:
            name = binding.id or _ACTION_KEYS.get(binding.action)
            if name and cat.has(f"keys.{name}"):
                binding = replace(binding, description=cat.t(f"keys.{name}"))
            new.append(binding)
        table[key] = new
    node.refresh_bindings()


def translate_tree(screen: DOMNode, cat: Catalog) -> None:
    """:func:`translate_bindings` for a screen and every widget on it with bindings of its own
    (the several-answers list's Space said "toggle" in the Dutch footer)."""
    translate_bindings(screen, cat)
    for node in screen.walk_children(with_self=False):
        if node._bindings.key_to_bindings:
            translate_bindings(node, cat)


def after_pending_keys(widget: DOMNode, callback: Any) -> None:
    """Run ``callback`` once every key already sent to ``widget`` has been handled.

    A key goes to the focused widget's queue and, when the widget itself does not use it,
    bubbles up through each ancestor's queue to the App, which then runs the binding (an arrow
    in a list). Queuing the callback once per hop, widget first and App last, puts it behind all
    of that: the answer read then is the one the user typed before Enter.
    """
    chain = list(widget.ancestors_with_self)

    def hop(index: int) -> None:
        if index == len(chain):
            callback()
        else:
            chain[index].call_later(hop, index + 1)

    hop(0)


class TextField(Input):
    """An input that keeps its text when it gets the focus again (after a language switch, a
    dialog, a resize): no select-all, so the next key adds to the text instead of replacing it."""

    def __init__(self, value: str = "", **kwargs: Any) -> None:
        kwargs.setdefault("select_on_focus", False)
        super().__init__(value, **kwargs)

    def on_mount(self) -> None:
        self.cursor_position = len(self.value)


class Localized:
    """Mixin: ``self.t(key)``, re-rendering in another language with the user's state kept, and
    ``self.request(message)``, which posts a message that moves to another page."""

    cat: Catalog
    hold_keys: bool = False

    def t(self, key: str, **values: Any) -> str:
        return self.cat.t(key, **values)

    def tn(self, key: str, n: int, **values: Any) -> str:
        return self.cat.n(key, n, **values)

    @property
    def lang(self) -> str:
        return self.cat.lang

    def focus_in_view(self, widget: Any) -> None:
        """Give ``widget`` the focus, scrolling only as far as needed to show it.

        Textual's own ``set_focus`` scrolls the widget to the middle of the screen: on a small
        terminal that hid the heading and the label above a field (the dossier's weighing, the
        name in the settings). After the layout, the field is brought into view from the top.
        """
        self.set_focus(widget, scroll_visible=False)  # type: ignore[attr-defined]
        self.call_after_refresh(widget.scroll_visible, animate=False)  # type: ignore[attr-defined]

    def request(self, message: Message) -> None:
        """Post a message that leads to another page. Keys typed from now on are held by the App
        and replayed once the next page has the focus (see ``DeelwijzerApp.on_event``)."""
        self.hold_keys = True
        self.post_message(message)  # type: ignore[attr-defined]

    def on_mount(self) -> None:
        translate_tree(self, self.cat)  # type: ignore[arg-type]

    def remember_state(self) -> None:
        """Keep what the user typed or chose before a re-render (override)."""

    async def relabel(self, cat: Catalog) -> None:
        """Re-render in ``cat``'s language, keeping the state the user built up."""
        self.remember_state()
        self.cat = cat
        await self.recompose()  # type: ignore[attr-defined]
        translate_tree(self, cat)  # type: ignore[arg-type]
        self.after_relabel()

    def after_relabel(self) -> None:
        """Restore focus after re-rendering (override)."""


ResultType = TypeVar("ResultType")

# Arrow keys scroll the body of long screens even while a button or field has the focus.
SCROLL_BINDINGS = [
    Binding("up", "scroll_body('up')", show=False),
    Binding("down", "scroll_body('down')", show=False),
    Binding("pageup", "scroll_body('page_up')", show=False),
    Binding("pagedown", "scroll_body('page_down')", show=False),
    Binding("home", "scroll_body('home')", show=False),
    Binding("end", "scroll_body('end')", show=False),
]


class ScrollBody:
    """Mixin for screens with a ``.body`` scroll area and focus elsewhere."""

    def action_scroll_body(self, how: str) -> None:
        body = self.query_one(".body")  # type: ignore[attr-defined]
        getattr(body, f"scroll_{how}")(animate=False)


class BaseScreen(Localized, Screen[ResultType]):
    def __init__(self, cat: Catalog) -> None:
        super().__init__()
        self.cat = cat


class BaseModal(Localized, ModalScreen[ResultType]):
    # A modal screen cuts the App's own (non-priority) bindings off: without this, ctrl+l did
    # nothing in Waarom?, the help and the passphrase dialog, though it works "everywhere".
    BINDINGS = [Binding("ctrl+l", "app.toggle_language", "language", id="language")]

    def __init__(self, cat: Catalog) -> None:
        super().__init__()
        self.cat = cat
