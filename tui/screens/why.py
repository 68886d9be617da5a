""""Waarom?": verdict → rule → article (citation, status) → the answers behind it.

Each step is a collapsible block (Tab moves between them, Enter opens or closes one), so long
texts wrap instead of being cut off. Titles come from the presentation model: a rule's own title,
or the engine's words for its own steps ("Let op", "Voor de privacyfunctionaris"); never an id.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from collections.abc import Callable

from rich.console import Group
from rich.table import Table
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


def step_body(step: StepView, lang: str) -> Group:
    """The step's explanation, its articles with their status, and the answers behind it.

    Articles and answers are lists whose long lines wrap under their text, not under the
    ``§`` or the bullet (at 80 columns "(door jou ingevuld)" went on at the left edge)."""
    from engine.present import heading

    def listing() -> Table:
        grid = Table.grid(padding=(0, 1))
        grid.add_column(width=3, justify="right", no_wrap=True)
        grid.add_column(ratio=1)
        return grid

    parts: list[Any] = [Text(step.text.strip())]
    if step.sources:
        sources = listing()
        for s in step.sources:
            sources.add_row(Text("§" if s.verified else "! §", style="bold"),
                            Text(s.line(), style="" if s.verified else "bold"))
        parts.append(sources)
    if step.facts:
        parts.append(Text(heading("answers_behind", lang) + ":", style="bold"))
        facts = listing()
        for f in step.facts:
            line = Text(f"{f.prompt} ")
            line.append(f.answer, style="bold")
            line.append(f"  ({heading('entered' if f.entered else 'derived', lang)})")
            facts.add_row("•", line)
        parts.append(facts)
    return Group(*parts)


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
