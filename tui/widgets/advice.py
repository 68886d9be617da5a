"""The advice laid out for the terminal from the presentation model (``engine.present``).

Used by the advice screen and the recorded screen. The words are the model's; this module only
arranges them: verdict badge, outcome, recipient, data allowed and withheld (with reasons),
conditions, the "Wat nu?" panel, unverified sources, legal basis.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from tui.lang import Catalog

if TYPE_CHECKING:
    from engine.present import AdviceView


def hanging(symbol: str, text: str) -> Table:
    """``→ text`` whose wrapped lines go on under the text, not under the arrow."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(width=len(symbol), no_wrap=True)
    grid.add_column(ratio=1)
    grid.add_row(symbol, text)
    return grid


def titled_list(title: str, items: list[tuple[str, Any, str]]) -> Group:
    """A bold title over a list whose long lines wrap with a hanging indent.

    Each item is (symbol, text, reason); the reason follows the text after a dash.
    """
    grid = Table.grid(padding=(0, 1))
    grid.add_column(width=3, justify="right")
    grid.add_column(ratio=1)
    for symbol, text, reason in items:
        if not isinstance(text, str):   # already laid out (a hanging line)
            grid.add_row(symbol, text)
            continue
        line = Text(text, style="bold" if reason else "")
        if reason:
            line.append(" — " + reason, style="")
        grid.add_row(symbol, line)
    return Group(Text(title, style="bold"), grid)


def what_next(a: AdviceView, cat: Catalog) -> Group:
    """ "Wat nu?": the next concrete step, what stood in the way of the other routes (when the
    advice is not to share), and how to change an answer. All from the engine's advice."""
    from engine.present import heading

    lang = a.lang
    items: list[tuple[str, Any, str]] = [("→", text, "") for text in a.next_step_lines]
    if a.verdict != "share":
        for route in a.blocked:
            items.append(("✖", heading("blocked_route", lang, route=route.title or route.outcome_label), ""))
            for b in route.blockers:
                items.append(("", f"{b.prompt} ({b.answer_words(lang)})", ""))
                if b.next_step:
                    items.append(("", hanging("→", b.next_step), ""))
    items.append(("↩", cat.t("advice.change_hint"), ""))
    return titled_list(heading("next", lang), items)


def advice_widgets(a: AdviceView, cat: Catalog) -> list[Static]:
    from engine.present import heading

    lang = a.lang
    out: list[Static] = []
    badge = Text(f" {a.symbol} {a.verdict_words} ", style="bold")
    out.append(Static(badge, classes=f"verdict verdict-{a.verdict}", id="verdict"))
    if a.outcome_label.strip().casefold() != a.verdict_words.strip().casefold():
        out.append(Static(a.outcome_label, classes="heading", id="outcome"))
    if a.description:
        out.append(Static(a.description, classes="help-text"))
    out.append(Static(f"{heading('recipient', lang)}: {a.recipient_label}", classes="line"))
    allowed = [("✔", x.label, "") for x in a.allowed] or [("", heading("nothing_allowed", lang), "")]
    out.append(Static(titled_list(heading("allowed", lang) + ":", allowed), classes="block", id="data"))
    if a.withheld:
        withheld = [("✖", x.label, x.reason or "") for x in a.withheld]
        out.append(Static(titled_list(heading("withheld", lang) + ":", withheld), classes="block", id="withheld"))
    conditions = [("•", text, "") for _code, text in a.conditions] or [("", heading("no_conditions", lang), "")]
    out.append(Static(titled_list(heading("conditions", lang) + ":", conditions), classes="block", id="conditions"))
    out.append(Static(what_next(a, cat), classes="panel what-next", id="what-next"))
    if a.unverified:
        unverified = [("-", s.line(), "") for s in a.unverified]
        out.append(Static(titled_list("! " + heading("unverified", lang) + ":", unverified), classes="notice",
                          id="unverified"))
    grounds = [("§", s.line(), "") for s in a.sources]
    out.append(Static(titled_list(heading("sources", lang) + ":", grounds), classes="block", id="grounds"))
    return out
