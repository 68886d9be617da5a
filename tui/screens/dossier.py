"""The dossier document: the professional's own weighing, a preview, and saving it as PDF or text.

Before signing the document is a concept ("print concept") and the weighing can be edited;
after signing it shows the record it belongs to and the weighing is fixed (its keyed hash is in
the record). The weighing is personal data: the screen says so, and it goes into this document
and the local case file only. Writing the files is the App's (a :class:`SaveDocument` message).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Footer, Input, Static, TextArea

from tui.lang import Catalog
from tui.messages import SaveDocument, WeighingChanged
from tui.screens.base import BaseScreen, TextField

if TYPE_CHECKING:
    from tui.document import Document


class WeighingArea(TextArea):
    """The weighing field. Textual re-wraps a soft-wrapped text area on a resize but does not
    draw it again while its size stays the same: after 100x30 -> 80x24 the old line breaks
    stayed on screen (words cut off, others twice) until the cursor moved."""

    def _on_resize(self) -> None:
        super()._on_resize()
        self.refresh()


class DossierScreen(BaseScreen[str]):
    BINDINGS = [
        Binding("escape", "close", "back", id="back"),
        # F6/F7 are on the buttons ("Bewaar als PDF (F6)"); in the footer too they cut it off at 80 columns
        Binding("f6", "save('pdf')", "save_pdf", id="save_pdf", priority=True, show=False),
        Binding("f7", "save('text')", "save_text", id="save_text", priority=True, show=False),
    ]

    def __init__(self, cat: Catalog, make_document: Callable[[str, str], Document], *, weighing: str,
                 editable: bool, default_path: Path) -> None:
        super().__init__(cat)
        self.make_document = make_document     # (lang, weighing) -> Document
        self.weighing = weighing
        self.editable = editable
        self.default_path = default_path
        self._path: str | None = None
        self._status = ""
        self._cursor: tuple[int, int] | None = None   # where the user was typing (kept over a re-render)

    def compose(self) -> ComposeResult:
        doc = self.make_document(self.lang, self.weighing)
        caption = self.t("dossier_screen.caption_concept" if doc.concept else "dossier_screen.caption")
        yield Static(self.t("app.title") + "  ·  " + caption, classes="titlebar")
        with VerticalScroll(classes="body", id="dossier-body"):
            if doc.concept:
                yield Static("! " + self.t("dossier_screen.concept_notice"), classes="notice", id="concept")
            yield Static(self.t("dossier_screen.weighing_label"), classes="label")
            note = "dossier_screen.weighing_note" if self.editable else "dossier_screen.weighing_fixed"
            yield Static(self.t(note), classes="hint", id="personal-data")
            area = WeighingArea(self.weighing, id="weighing", read_only=not self.editable, soft_wrap=True,
                            show_line_numbers=False, tab_behavior="focus")
            yield area
            yield Static(self.t("dossier_screen.preview"), classes="subheading")
            yield Static(doc.text(), classes="dossier", id="preview")
        with Vertical(classes="savebar"):
            yield Static(self.t("dossier_screen.save_label"), classes="label")
            yield TextField(self._path or str(self.default_path), id="dossier-path")
            with Horizontal(classes="buttons"):
                yield Button(self.t("dossier_screen.save_pdf"), id="pdf", variant="primary")
                yield Button(self.t("dossier_screen.save_text"), id="text")
                yield Static(self._status, id="save-status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        area = self.query_one("#weighing", TextArea)
        # go on where the user was typing, else after what is already there (never before it)
        area.cursor_location = self._cursor if self._cursor is not None else area.document.end
        target = "#weighing" if self.editable else "#dossier-path"
        self.focus_in_view(self.query_one(target))

    def after_relabel(self) -> None:
        self.on_mount()

    def remember_state(self) -> None:
        area = self.query_one("#weighing", TextArea)
        self.weighing = area.text
        self._cursor = area.cursor_location
        self._path = self.query_one("#dossier-path", Input).value
        self._status = ""

    @on(TextArea.Changed, "#weighing")
    def weighing_changed(self, event: TextArea.Changed) -> None:
        if not self.editable:
            return
        self.weighing = event.text_area.text
        self.query_one("#preview", Static).update(self.make_document(self.lang, self.weighing).text())
        self.post_message(WeighingChanged(self.weighing))  # saved in the case file at once

    def show_status(self, text: str) -> None:
        self._status = text
        self.query_one("#save-status", Static).update(text)

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_save("pdf" if event.button.id == "pdf" else "text")

    @on(Input.Submitted, "#dossier-path")
    def path_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save("pdf")

    def action_save(self, kind: str) -> None:
        raw = self.query_one("#dossier-path", Input).value.strip()
        if not raw:
            self.show_status("✖ " + self.t("recorded.path_empty"))
            return
        path = Path(raw).expanduser()
        wanted = path.with_suffix(".pdf" if kind == "pdf" else ".txt")
        self.post_message(SaveDocument(kind, str(wanted)))

    def action_close(self) -> None:
        self.dismiss(self.query_one("#weighing", TextArea).text)
