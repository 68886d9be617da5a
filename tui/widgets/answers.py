"""Answer inputs: one-of choice, several-of choice, whole number.

Each posts :class:`AnswerSubmitted` when the user presses Enter, so the
question screen handles all three the same way.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option


class AnswerSubmitted(Message):
    """The user pressed Enter on an answer input; ``value`` is the raw answer (or None)."""

    def __init__(self, value: Any, *, empty: bool = False) -> None:
        super().__init__()
        self.value = value
        self.empty = empty


def _key(value: Any) -> str:
    return repr(value)


class ChoiceList(OptionList):
    """Choose one option with the arrow keys and Enter.

    The stored answer is marked ``●`` and highlighted when the question opens,
    so Back and Change show what was chosen before. A fresh question highlights nothing
    (as GOV.UK radios pre-select nothing): Enter alone never answers it, so a hurried
    press cannot pick the first option by accident.
    """

    def __init__(self, options: list[tuple[Any, str]], current: Any = None, *,
                 highlighted_value: Any = None, **kwargs: Any) -> None:
        self._values = [value for value, _ in options]
        has_current = any(_key(v) == _key(current) for v in self._values) and current is not None
        prompts = []
        for value, label in options:
            mark = "●" if has_current and _key(value) == _key(current) else "○"
            prompts.append(Option(Text.assemble((f"{mark} ", "bold"), label), id=None))
        super().__init__(*prompts, **kwargs)
        start = highlighted_value if highlighted_value is not None else (current if has_current else None)
        self._start_index: int | None = None
        for index, value in enumerate(self._values):
            if start is not None and _key(value) == _key(start):
                self._start_index = index

    def on_mount(self) -> None:
        if self._values and self._start_index is not None:
            self.highlighted = self._start_index
        else:
            self.highlighted = None

    @property
    def highlighted_value(self) -> Any:
        if self.highlighted is None or not self._values:
            return None
        return self._values[self.highlighted]

    def action_select(self) -> None:
        if self.highlighted is None or not self._values:
            self.post_message(AnswerSubmitted(None, empty=True))
            return
        self.post_message(AnswerSubmitted(self._values[self.highlighted]))


class MultiChoice(OptionList):
    """Choose several options: Space switches an option on or off, Enter goes on.

    Each option shows ☑ (on) or ☐ (off), so the choice never depends on colour.
    """

    BINDINGS = [
        Binding("space", "toggle", "toggle", id="toggle"),
        Binding("enter", "submit", "next", show=False),
    ]

    def __init__(self, options: list[tuple[Any, str]], current: list[Any] | None = None,
                 *, highlighted: int | None = None, **kwargs: Any) -> None:
        chosen = {_key(v) for v in (current or [])}
        self._order = [value for value, _ in options]
        self._labels = [label for _, label in options]
        self._on = {index for index, value in enumerate(self._order) if _key(value) in chosen}
        super().__init__(*[self._prompt(index) for index in range(len(options))], **kwargs)
        self._start_highlight = highlighted

    def _prompt(self, index: int) -> Text:
        mark = "☑" if index in self._on else "☐"
        return Text.assemble((f"{mark} ", "bold"), self._labels[index])

    def on_mount(self) -> None:
        from tui.screens.base import translate_bindings

        translate_bindings(self, self.app.cat)  # type: ignore[attr-defined]
        if self._order:
            self.highlighted = self._start_highlight or 0

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

    def deselect(self, index: int) -> None:
        self._set(index, False)

    def action_toggle(self) -> None:
        if self.highlighted is not None:
            self._set(self.highlighted, self.highlighted not in self._on)

    def action_select(self) -> None:  # a click on an option switches it too
        self.action_toggle()

    def action_submit(self) -> None:
        self.post_message(AnswerSubmitted(self.chosen, empty=not self.chosen))


class NumberInput(Input):
    """A whole number; Enter goes on. Letters cannot be typed."""

    def __init__(self, current: Any = None, **kwargs: Any) -> None:
        value = "" if current is None else str(current)
        super().__init__(value=value, type="integer", **kwargs)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = self.value.strip()
        if not text:
            self.post_message(AnswerSubmitted(None, empty=True))
            return
        try:
            number = int(text)
        except ValueError:
            self.post_message(AnswerSubmitted(text))
            return
        self.post_message(AnswerSubmitted(number))
