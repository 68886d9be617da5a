"""The dossier document ("verantwoording"): the advice as the professional files it (no Textual import).

One :class:`Document` is built from the presentation model (``engine.present``) plus what only the
case knows -- who decided, when, the answers, the confirmed "Klopt dit?" checks, the
professional's own weighing and the signed record -- and written two ways: plain text
(:meth:`Document.text`) and PDF (:func:`write_pdf`, fpdf2, PDF/A-2U, DejaVu Sans embedded so that
Dutch diacritics and the ✔ ✖ symbols print). Before signing it is a concept and says so on every
page.

The weighing is personal data: it is in this document and in the local case file, never in the
signed log; the record holds only its keyed hash (``weighing_hash``), printed here so the
document can be matched to the record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from engine.present import DecisionView, heading, what_next_lines
from tui.lang import Catalog, pick

FONT_DIR = Path(__file__).with_name("fonts")


@dataclass
class Block:
    """A titled part of the document; each line is (indent level, text, bold)."""

    title: str
    lines: list[tuple[int, str, bool]] = field(default_factory=list)

    def add(self, text: str, *, level: int = 0, bold: bool = False) -> None:
        self.lines.append((level, text, bold))


@dataclass
class Document:
    title: str
    concept: bool
    facts: list[tuple[str, str]]       # the head: (label, value)
    blocks: list[Block]
    footer: str

    def text(self) -> str:
        out = [self.title, "=" * len(self.title)]
        if self.concept:
            out.append(self.footer)
        out.append("")
        width = max((len(label) for label, _ in self.facts), default=0)
        out += [f"{label.ljust(width)}  {value}" for label, value in self.facts]
        for block in self.blocks:
            out += ["", block.title, "-" * len(block.title)]
            out += ["  " * level + text for level, text, _bold in block.lines]
        out.append("")
        return "\n".join(out)


def readable_time(stamp: str) -> str:
    """``2025-03-14T09:30:00+01:00`` -> ``14-03-2025 09:30`` (in the stamp's own time zone)."""
    try:
        return datetime.fromisoformat(stamp).strftime("%d-%m-%Y %H:%M")
    except ValueError:
        return stamp


def build(*, view: DecisionView, rs: Any, answers: dict[str, Any], confirmed: list[str], actor: dict[str, str],
          case_id: str, weighing: str, record: dict[str, Any] | None, now: datetime, cat: Catalog) -> Document:
    """The dossier document of one case (``record`` is None before signing: a concept)."""
    t, lang = cat.t, cat.lang
    a = view.advice
    concept = record is None
    facts = [(t("dossier.case"), case_id),
             (t("dossier.date"), readable_time(record["signed_at"]) if record else now.strftime("%d-%m-%Y %H:%M")),
             (t("dossier.professional"), f"{actor.get('name') or '-'}, {actor.get('organisation') or '-'}")]
    if a is not None:
        facts.append((heading("recipient", lang), a.recipient_label))
    blocks: list[Block] = []
    advice = Block(heading("advice", lang))
    if a is None:
        advice.add(t("advice.incomplete"))
    else:
        advice.add(a.headline, bold=True)
        if a.description:
            advice.add(a.description)
    blocks.append(advice)
    if a is not None:
        data = Block(t("dossier.h_data"))
        data.add(heading("allowed", lang) + ":", bold=True)
        for x in a.allowed:
            data.add("✔ " + x.label, level=1)
        if not a.allowed:
            data.add(heading("nothing_allowed", lang), level=1)
        if a.withheld:
            data.add(heading("withheld", lang) + ":", bold=True)
            for x in a.withheld:
                data.add(f"✖ {x.label}: {x.reason}", level=1)
        blocks.append(data)
        conditions = Block(heading("conditions", lang))
        for _code, text in a.conditions:
            conditions.add("• " + text)
        if not a.conditions:
            conditions.add(heading("no_conditions", lang))
        blocks.append(conditions)
        steps = what_next_lines(a)
        if steps:
            nxt = Block(heading("next", lang))
            for line in steps:
                stripped = line.lstrip(" ")
                nxt.add(stripped, level=(len(line) - len(stripped)) // 2)
            blocks.append(nxt)
    blocks.append(_answers_block(rs, answers, cat))
    if view.warnings or confirmed:
        checks = Block(t("dossier.h_checks"))
        for w in view.warnings:
            checks.add(w.message)
            checks.add(t("dossier.check_confirmed") if w.check in confirmed else t("dossier.check_open"), level=1)
        blocks.append(checks)
    if a is not None:
        sources = Block(heading("sources", lang))
        for s in a.sources:
            sources.add(("§ " if s.verified else "! § ") + s.line())
        blocks.append(sources)
        why = Block(heading("explanation", lang))
        for i, step in enumerate(a.explanation, 1):
            why.add(f"{i}. {step.title}", bold=True)
            why.add(step.text.strip(), level=1)
        blocks.append(why)
    own = Block(t("dossier.h_weighing"))
    own.add(t("dossier.weighing_note"))
    for paragraph in (weighing.strip() or t("dossier.no_weighing")).splitlines():
        own.add(paragraph, level=1)
    blocks.append(own)
    proof = Block(t("dossier.h_record"))
    if record:
        proof.add(t("dossier.record_id", id=record.get("record_id", "")))
        proof.add(t("dossier.record_hash", hash=record.get("leaf_hash", "")))
        if record.get("weighing_hash"):
            proof.add(t("dossier.weighing_hash", hash=record["weighing_hash"]))
        proof.add(t("dossier.log", log=record.get("log", "")))
    else:
        proof.add(t("dossier.not_recorded"))
    rsm = view.ruleset
    proof.add(t("dossier.ruleset", name=rsm["name"], version=rsm["version"], fingerprint=rsm["fingerprint"]))
    if record:
        release = record.get("release")
        proof.add(t("dossier.release", statement=release) if release else t("dossier.unreleased"))
    blocks.append(proof)
    title = t("dossier.title")
    footer = t("dossier.concept_footer") if concept else t("dossier.footer", id=record.get("record_id", "") if record else "")
    return Document(title=title, concept=concept, facts=facts, blocks=blocks, footer=footer)


def _answers_block(rs: Any, answers: dict[str, Any], cat: Catalog) -> Block:
    """The answers the advice rests on, by section (the meldcode steps are one of them)."""
    from engine.present import answer_label

    block = Block(cat.t("dossier.h_answers"))
    groups: dict[str, list[str]] = {}
    for fact in answers:
        try:
            section = rs.question(fact).section
        except KeyError:
            section = ""
        groups.setdefault(section, []).append(fact)
    for section, facts in groups.items():
        block.add(pick(rs.sections.get(section), cat.lang) or cat.t("review.other"), bold=True)
        for fact in facts:
            prompt = rs.question(fact).prompt.get(cat.lang)
            block.add(f"{prompt} {answer_label(rs, fact, answers[fact], cat.lang)}", level=1)
    return block


_LINE_H = 5      # mm, one line of body text
_TITLE_H = 8.5   # mm, a block title with its rule
_KEEP_TOGETHER = 65   # mm: a block up to this high (the record, a short weighing) is never split
_MARKERS = ("! § ", "§ ", "• ", "✔ ", "✖ ", "→ ", "- ")
_NUMBERED = re.compile(r"^(\d+\. )")


def split_marker(text: str) -> tuple[str, str]:
    """``"• Vertel de jongere…"`` -> ``("•", "Vertel de jongere…")``; text without a list marker
    (a bullet, ``§``, ``✔``, ``✖``, ``→`` or ``1.``) -> ``("", text)``."""
    for marker in _MARKERS:
        if text.startswith(marker):
            return marker.strip(), text[len(marker):]
    match = _NUMBERED.match(text)
    if match:
        return match.group(1).strip(), text[match.end():]
    return "", text


def _marker_width(pdf: Any, marker: str) -> float:
    return max(5.5, pdf.get_string_width(marker) + 2 * pdf.c_margin + 1.5)


def _block_height(pdf: Any, block: Block, width: float) -> float:
    """The height a block takes on the page (measured with the fonts it is set in)."""
    height = _TITLE_H + 1.5
    for level, text, bold in block.lines:
        pdf.set_font("DejaVu", "B" if bold else "", 10)
        marker, rest = split_marker(text)
        w = width - 6 * level - (_marker_width(pdf, marker) if marker else 0)
        height += pdf.multi_cell(w, _LINE_H, rest if marker else text, align="L", dry_run=True, output="HEIGHT")
    return height


def write_pdf(document: Document, path: Path) -> None:
    """Write ``document`` as a PDF/A-2U file (fonts embedded), atomically."""
    from fpdf import FPDF

    from tui.settings import atomic_write_bytes

    class _PDF(FPDF):
        def footer(self) -> None:
            self.set_y(-14)
            self.set_font("DejaVu", "", 8)
            self.set_text_color(90, 90, 90)
            self.multi_cell(0, 4, f"{document.footer}  ·  {self.page_no()}/{{nb}}", align="C")

    pdf = _PDF(format="A4", enforce_compliance="PDF/A-2U")
    pdf.set_title(document.title)
    pdf.set_author("Deelwijzer")
    pdf.set_creator("Deelwijzer")
    pdf.set_lang("nl")
    pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_margins(18, 16, 18)
    pdf.set_auto_page_break(True, margin=20)
    pdf.alias_nb_pages()
    pdf.add_page()
    width = pdf.epw
    pdf.set_font("DejaVu", "B", 16)
    pdf.multi_cell(width, 8, document.title, new_x="LMARGIN", new_y="NEXT")
    if document.concept:
        pdf.set_font("DejaVu", "B", 11)
        pdf.set_text_color(160, 0, 0)
        pdf.multi_cell(width, 6, document.footer, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
    pdf.ln(2)
    label_w = 38
    for label, value in document.facts:
        pdf.set_font("DejaVu", "B", 10)
        y = pdf.get_y()
        pdf.multi_cell(label_w, 5, label)
        end = pdf.get_y()
        pdf.set_xy(pdf.l_margin + label_w, y)
        pdf.set_font("DejaVu", "", 10)
        pdf.multi_cell(width - label_w, 5, value, align="L")
        pdf.set_y(max(end, pdf.get_y()))
    for block in document.blocks:
        pdf.ln(3)
        # A short block (the record for the auditor, the weighing) is kept on one page; a long one
        # starts where at least its title and first lines fit. Never a page with a lone line.
        needed = _block_height(pdf, block, width)
        if needed <= _KEEP_TOGETHER:
            wanted = needed
        else:
            wanted = min(needed, _TITLE_H + 3 * _LINE_H)
        if pdf.get_y() + wanted > pdf.h - pdf.b_margin:
            pdf.add_page()
        pdf.set_font("DejaVu", "B", 12)
        pdf.multi_cell(width, 7, block.title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_draw_color(150, 150, 150)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + width, pdf.get_y())
        pdf.ln(1.5)
        for level, text, bold in block.lines:
            pdf.set_font("DejaVu", "B" if bold else "", 10)
            indent = 6 * level
            marker, rest = split_marker(text)
            pdf.set_x(pdf.l_margin + indent)
            if marker:
                # a hanging indent: the wrapped lines go on under the text, not under the bullet
                mark_w = _marker_width(pdf, marker)
                pdf.multi_cell(mark_w, _LINE_H, marker, align="L", new_x="RIGHT", new_y="TOP")
                pdf.multi_cell(width - indent - mark_w, _LINE_H, rest, align="L", new_x="LMARGIN", new_y="NEXT")
            else:
                pdf.multi_cell(width - indent, _LINE_H, text, align="L", new_x="LMARGIN", new_y="NEXT")
    atomic_write_bytes(path, bytes(pdf.output()), mode=0o600)
