"""F1 help for a question: explanation, the exact legal articles with their status, glossary."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Footer, Static

from tui.lang import Catalog, pick
from tui.screens.base import BaseModal


def source_block(rs: Any, source_id: str, cat: Catalog) -> Text:
    """Citation, title, status (said plainly when not verified), URL and summary."""
    src = rs.sources.get(source_id)
    text = Text()
    if src is None:
        text.append(cat.t("source.unknown", id=source_id), style="bold")
        return text
    text.append(src.citation, style="bold")
    title = src.title if isinstance(src.title, str) else pick(src.title, cat.lang)
    if title:
        text.append(f" — {title}")
    text.append("\n")
    status = cat.t(f"source_status.{src.status}")
    mark = "✔" if src.status == "verified" else "!"
    text.append(f"{mark} {status}\n", style="bold" if src.status != "verified" else "")
    summary = pick(getattr(src, "summary", None), cat.lang)
    if summary:
        text.append(summary.strip() + "\n")
    if getattr(src, "url", None):
        text.append(src.url, style="underline")
        text.append("\n")
    return text


class HelpScreen(BaseModal[None]):
    BINDINGS = [
        Binding("escape,f1", "close", "close", id="close"),
    ]

    def __init__(self, cat: Catalog, rs: Any, fact: str) -> None:
        super().__init__(cat)
        self.rs = rs
        self.fact = fact

    def compose(self) -> ComposeResult:
        rs, cat = self.rs, self.cat
        q = rs.question(self.fact)
        with Vertical(classes="dialog"):
            yield Static(self.t("help.title"), classes="dialog-title")
            with VerticalScroll(id="help-body", can_focus=True):
                yield Static(pick(q.prompt, self.lang), classes="heading")
                help_text = pick(q.help, self.lang) or pick(q.hint, self.lang)
                yield Static(help_text, classes="help-text")
                sources = list(getattr(q, "sources", None) or [])
                yield Static(self.t("help.sources"), classes="subheading")
                if sources:
                    for source_id in sources:
                        yield Static(source_block(rs, source_id, cat), classes="source")
                else:
                    yield Static(self.t("help.no_sources"), classes="source")
                terms = [term for term in (getattr(q, "terms", None) or []) if term in rs.glossary]
                if terms:
                    yield Static(self.t("help.glossary"), classes="subheading")
                    for term_id in terms:
                        entry = rs.glossary[term_id]
                        text = Text()
                        text.append(pick(entry.term, self.lang), style="bold")
                        text.append(": " + pick(entry.definition, self.lang))
                        yield Static(text, classes="term")
            yield Static(self.t("help.close_hint"), classes="usage")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#help-body"))

    def action_close(self) -> None:
        self.dismiss(None)
