""""Waarom?": verdict → rule → article (citation, status) → the answers behind it.

Each step is a collapsible block (Tab moves between them, Enter opens or closes one), so long
texts wrap instead of being cut off. Titles come from the presentation model: a rule's own title,
or the engine's words for its own steps ("Let op", "Voor de privacyfunctionaris"); never an id.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Collapsible, Footer, Static

from tui.lang import Catalog
from tui.screens.base import BaseModal

if TYPE_CHECKING:
    from engine.present import DecisionView, StepView


def step_body(step: StepView, lang: str) -> Text:
    """The step's explanation, its articles with their status, and the answers behind it."""
    from engine.present import heading

    body = Text()
    body.append(step.text.strip() + "\n")
    for s in step.sources:
        body.append("§ " if s.verified else "! § ", style="bold")
        body.append(s.line() + "\n", style="" if s.verified else "bold")
    if step.facts:
        body.append(heading("answers_behind", lang) + ":\n", style="bold")
        for f in step.facts:
            origin = heading("entered" if f.entered else "derived", lang)
            body.append(f"  • {f.prompt} ")
            body.append(f.answer, style="bold")
            body.append(f"  ({origin})\n")
    return body


class WhyScreen(BaseModal[None]):
    BINDINGS = [Binding("escape,f3", "close", "close", id="close")]

    def __init__(self, cat: Catalog, make_view: Callable[[str], DecisionView]) -> None:
        super().__init__(cat)
        self.make_view = make_view

    def compose(self) -> ComposeResult:
        a = self.make_view(self.lang).advice
        assert a is not None
        with Vertical(classes="dialog"):
            yield Static(self.t("why.title"), classes="dialog-title")
            with VerticalScroll(id="why-body"):
                yield Static(self.t("why.intro"), classes="hint")
                yield Static(Text(a.headline, style="bold"), classes="heading", id="why-verdict")
                for index, step in enumerate(a.explanation):
                    with Collapsible(title=Content(step.title), collapsed=False, id=f"step-{index}"):
                        yield Static(step_body(step, self.lang))
            yield Static(self.t("why.usage"), classes="usage")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        steps = self.query(Collapsible)
        if steps:
            self.set_focus(steps.first().query_one("CollapsibleTitle"))
        self.query_one("#why-body").scroll_home(animate=False)

    def after_relabel(self) -> None:
        self.on_mount()

    def action_close(self) -> None:
        self.dismiss(None)
