"""Answer inputs: one-of choice, several-of choice, whole number.

Both lists behave the same from the start: a fresh question has no highlight, the first ↓ goes
to the first option (↑ to the last), and a stored answer is highlighted when the question opens
again. So a hurried Enter never answers a fresh question, and no arrow press ever skips an
option. Enter itself is handled by the question screen; a widget posts :class:`Edited` (or
the list's own ``OptionHighlighted``) when its value changes, so an old error message goes away.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from tui.screens.base import TextField


class Edited(Message):
    """The answer on screen changed (not yet given)."""


def _key(value: Any) -> str:
    return repr(value)


class Choices(OptionList):
    """The shared cursor behaviour of both lists (see the module doc)."""

    def __init__(self, *options: Option, start: int | None, **kwargs: Any) -> None:
        super().__init__(*options, **kwargs)
        self._start = start

    def on_mount(self) -> None:
        self.highlighted = self._start

    def action_cursor_down(self) -> None:
        if self.highlighted is None and self.option_count:
            self.highlighted = 0
        else:
            super().action_cursor_down()

    def action_cursor_up(self) -> None:
        if self.highlighted is None and self.option_count:
            self.highlighted = self.option_count - 1
        else:
            super().action_cursor_up()


class ChoiceList(Choices):
    """Choose one option with the arrow keys; the stored answer is marked ``●``."""

    def __init__(self, options: list[tuple[Any, str]], current: Any = None, *,
                 highlighted_value: Any = None, **kwargs: Any) -> None:
        self._values = [value for value, _ in options]
        has_current = current is not None and any(_key(v) == _key(current) for v in self._values)
        prompts = []
        for value, label in options:
            mark = "●" if has_current and _key(value) == _key(current) else "○"
            prompts.append(Option(Text.assemble((f"{mark} ", "bold"), label)))
        want = highlighted_value if highlighted_value is not None else (current if has_current else None)
        start = next((i for i, v in enumerate(self._values) if want is not None and _key(v) == _key(want)), None)
        super().__init__(*prompts, start=start, **kwargs)

    @property
    def highlighted_value(self) -> Any:
        if self.highlighted is None or not self._values:
            return None
        return self._values[self.highlighted]

    def action_select(self) -> None:  # Enter is the screen's; a click only moves the cursor
        pass


class MultiChoice(Choices):
    """Choose several options: Space switches the highlighted one on or off (☑/☐, never colour alone)."""

    BINDINGS = [Binding("space", "toggle", "toggle", id="toggle")]

    def __init__(self, options: list[tuple[Any, str]], current: list[Any] | None = None,
                 *, highlighted: int | None = None, **kwargs: Any) -> None:
        chosen = {_key(v) for v in (current or [])}
        self._order = [value for value, _ in options]
        self._labels = [label for _, label in options]
        self._on = {index for index, value in enumerate(self._order) if _key(value) in chosen}
        start = highlighted if highlighted is not None else (min(self._on) if self._on else None)
        super().__init__(*[self._prompt(i) for i in range(len(options))], start=start, **kwargs)

    def _prompt(self, index: int) -> Text:
        mark = "☑" if index in self._on else "☐"
        return Text.assemble((f"{mark} ", "bold"), self._labels[index])

    @property
    def selected(self) -> list[int]:
        return sorted(self._on)

    @property
    def chosen(self) -> list[Any]:
        return [value for index, value in enumerate(self._order) if index in self._on]

    def _set(self, index: int, on: bool) -> None:
        if on:
            self._on.add(index)
        else:
            self._on.discard(index)
        self.replace_option_prompt_at_index(index, self._prompt(index))
        self.post_message(Edited())

    def deselect(self, index: int) -> None:
        self._set(index, False)

    def action_toggle(self) -> None:
        if self.highlighted is None:
            self.action_cursor_down()  # Space on a fresh list first shows where the cursor is
            return
        self._set(self.highlighted, self.highlighted not in self._on)

    def action_select(self) -> None:  # a click on an option switches it
        self.action_toggle()


class NumberInput(TextField):
    """A whole number. Letters cannot be typed."""

    def __init__(self, current: Any = None, **kwargs: Any) -> None:
        super().__init__("" if current is None else str(current), type="integer", **kwargs)

    def on_input_changed(self, event: TextField.Changed) -> None:
        self.post_message(Edited())
