"""Shared behaviour of all interview screens: translated texts and key descriptions."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen

if TYPE_CHECKING:
    from tui.app import DeelwijzerApp
    from tui.lang import Catalog

# Bindings without an id (Textual's own) that we still translate, by action.
_ACTION_KEYS = {"command_palette": "palette", "quit": "quit"}


def translate_bindings(node: DOMNode, cat: "Catalog") -> None:
    """Replace each binding's footer text by the catalog entry ``keys.<binding id>``.

    Textual has no i18n layer; bindings are frozen dataclasses, so the node's
    own binding map is rebuilt with translated descriptions.
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


class Localized:
    """Mixin: ``self.t(key)`` and re-rendering when the language changes."""

    app: "DeelwijzerApp"

    def t(self, key: str, **values: Any) -> str:
        return self.app.cat.t(key, **values)

    @property
    def lang(self) -> str:
        return self.app.cat.lang

    def on_mount(self) -> None:
        translate_bindings(self, self.app.cat)  # type: ignore[arg-type]

    def remember_state(self) -> None:
        """Keep what the user typed or chose before a re-render (override)."""

    async def relabel(self) -> None:
        """Re-render in the current language, keeping the state the user built up."""
        self.remember_state()
        await self.recompose()  # type: ignore[attr-defined]
        translate_bindings(self, self.app.cat)  # type: ignore[arg-type]
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
]


class ScrollBody:
    """Mixin for screens with a ``.body`` scroll area and focus elsewhere."""

    def action_scroll_body(self, how: str) -> None:
        body = self.query_one(".body")  # type: ignore[attr-defined]
        getattr(body, f"scroll_{how}")(animate=False)


class BaseScreen(Localized, Screen[ResultType]):
    pass


class BaseModal(Localized, ModalScreen[ResultType]):
    pass
