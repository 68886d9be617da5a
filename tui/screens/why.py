""""Waarom?": verdict → rule → article (citation, status) → the answers that triggered it.

Each rule is a collapsible block (Tab moves between them, Enter opens or closes one), so
long texts wrap instead of being cut off.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Collapsible, Footer, Static

from tui import labels
from tui.lang import pick
from tui.screens.base import BaseModal


def verdict_line(rs: Any, advice: Any, cat: Any) -> Text:
    return Text.assemble(
        (f"{labels.verdict_symbol(advice.verdict)} {labels.verdict_words(advice.verdict, cat)}", "bold"),
        ": " + labels.outcome_label(rs, advice.outcome, cat))


def step_title(rs: Any, step: Any, cat: Any) -> str:
    title = labels.rule_title(rs, step.rule, cat)
    return cat.t("why.rule", rule=title)


def step_body(rs: Any, step: Any, answers: dict[str, Any], cat: Any) -> Text:
    """The rule's explanation, its articles with their status, and the answers behind it."""
    t = cat.t
    body = Text()
    body.append(pick(step.text, cat.lang).strip() + "\n")
    for source_id in step.cites:
        src = rs.sources.get(source_id)
        verified = src is not None and src.status == "verified"
        body.append("§ " if verified else "! § ", style="bold")
        body.append(labels.source_line(rs, source_id, cat) + "\n", style="" if verified else "bold")
    facts = getattr(step, "facts", None) or {}
    if facts:
        body.append(t("why.answers") + "\n", style="bold")
        for fact, value in facts.items():
            try:
                q = rs.question(fact)
                prompt, shown = pick(q.prompt, cat.lang), labels.answer_label(q, value, cat)
            except Exception:  # noqa: BLE001 - a derived fact without a question
                prompt, shown = fact, str(value)
            origin = t("why.entered") if fact in answers else t("why.derived")
            body.append(f"  • {prompt} ")
            body.append(shown, style="bold")
            body.append(f"  ({origin})\n")
    body.append(t("why.rule_id", id=step.rule), style="dim")
    return body


class WhyScreen(BaseModal):
    BINDINGS = [
        Binding("escape,f3", "close", "close", id="close"),
    ]

    def compose(self) -> ComposeResult:
        interview = self.app.interview
        rs, cat = interview.rs, self.app.cat
        advice = interview.decision.advice
        with Vertical(classes="dialog"):
            yield Static(self.t("why.title"), classes="dialog-title")
            with VerticalScroll(id="why-body"):
                yield Static(self.t("why.intro"), classes="hint")
                yield Static(verdict_line(rs, advice, cat), classes="heading", id="why-verdict")
                for index, step in enumerate(advice.explanation):
                    with Collapsible(title=Content(step_title(rs, step, cat)), collapsed=False,
                                     id=f"step-{index}"):
                        yield Static(step_body(rs, step, interview.case.answers, cat))
                if advice.unverified:
                    warn = Text("! " + self.t("advice.unverified_intro") + "\n", style="bold")
                    for source_id in advice.unverified:
                        warn.append("  - " + labels.source_line(rs, source_id, cat) + "\n")
                    yield Static(warn, classes="notice")
            yield Static(self.t("why.usage"), classes="usage")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        steps = self.query(Collapsible)
        if steps:
            steps.first().query_one("CollapsibleTitle").focus()
        self.query_one("#why-body").scroll_home(animate=False)

    def after_relabel(self) -> None:
        self.on_mount()

    def action_close(self) -> None:
        self.dismiss(None)
