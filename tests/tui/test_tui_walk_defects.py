"""Defects seen in the tmux walk of issue 9 (four cases, 80x24 and 100x30, resizes, kill -9,
language switches, the dossier PDF): each test fails on the interview as it was (main f0cd1ac).

As in test_tui_defects.py, questions, outcomes and answers come from the loaded rule set and
its scenarios, never from this file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tui_helpers import (complete_answers, find_answers, footer_text, make_app, open_case,
                         prepare_home, screen_text, seed_answers, seed_case, settle)
from tui_scenarios import VEILIG_THUIS

from tui.lang import Catalog

SMALL = (80, 24)
BIG = (100, 30)


def nl(key: str, **values: Any) -> str:
    return Catalog("nl").t(key, **values)


async def open_dossier(pilot: Any) -> None:
    await open_case(pilot)
    await pilot.press("f5")
    await settle(pilot)


def region_bottom(widget: Any) -> int:
    region = widget.region
    return region.y + region.height


# -- The footer hid the last line of every bar docked above it ------------------------------------

async def test_saving_the_dossier_shows_its_message_above_the_footer_at_80x24(home: Path, ruleset) -> None:
    """F6 wrote the file, but "✔ Bewaard in …" was drawn under the footer: no confirmation."""
    from textual.widgets import Footer

    prepare_home(home)
    seed_case(home, ruleset, VEILIG_THUIS, position="advice")
    app = make_app(home, ruleset)
    async with app.run_test(size=SMALL) as pilot:
        await open_dossier(pilot)
        await pilot.press("f6")
        await settle(pilot)
        status = app.screen.query_one("#save-status")
        footer = app.screen.query_one(Footer)
        assert str(status.render()).startswith("✔")
        assert region_bottom(status) <= footer.region.y
        assert "✔" in screen_text(app)


async def test_the_advice_buttons_keep_their_bottom_edge_above_the_footer(home: Path, ruleset) -> None:
    from textual.widgets import Footer

    prepare_home(home)
    seed_case(home, ruleset, VEILIG_THUIS, position="advice")
    app = make_app(home, ruleset)
    async with app.run_test(size=SMALL) as pilot:
        await open_case(pilot)
        button = app.screen.query_one("#record-button")
        assert region_bottom(button) <= app.screen.query_one(Footer).region.y


# -- Screens opened scrolled down, hiding the label above the field -------------------------------

async def test_the_dossier_opens_at_the_top_with_the_weighing_field_in_view(home: Path, ruleset) -> None:
    """The body was scrolled so that the weighing field was the first line: the concept notice
    and the label saying what to write were out of sight, at 80x24 and at 100x30."""
    from textual.widgets import TextArea

    prepare_home(home)
    seed_case(home, ruleset, VEILIG_THUIS, position="advice")
    for size in (SMALL, BIG):
        app = make_app(home, ruleset)
        async with app.run_test(size=size) as pilot:
            await open_dossier(pilot)
            body = app.screen.query_one("#dossier-body")
            area = app.screen.query_one("#weighing", TextArea)
            assert app.focused is area
            notice = app.screen.query_one("#concept")
            assert notice.region.y >= body.region.y and notice.region.height == notice.size.height, size
            text = screen_text(app)
            assert nl("dossier_screen.weighing_label").rstrip(":") in text, size
            assert area.region.y >= body.region.y and region_bottom(area) <= region_bottom(body), size


async def test_settings_open_with_the_first_label_in_view(home: Path, ruleset) -> None:
    prepare_home(home)
    app = make_app(home, ruleset)
    async with app.run_test(size=BIG) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert app.focused is app.screen.query_one("#name")
        assert app.screen.query_one(".body").scroll_y == 0
        assert nl("settings.name").rstrip(":") in screen_text(app)


# -- The weighing: a language switch moved the cursor to the start --------------------------------

async def test_language_switch_in_the_weighing_keeps_the_cursor_at_the_end(home: Path, ruleset) -> None:
    """Typed "Eerst", ctrl+l, " dan": the weighing became " danEerst"."""
    prepare_home(home)
    seed_case(home, ruleset, VEILIG_THUIS, position="advice")
    app = make_app(home, ruleset)
    async with app.run_test(size=BIG) as pilot:
        await open_dossier(pilot)
        await pilot.press(*"Eerst")
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert app.language == "en"
        await pilot.press("space", *"dan")
        await settle(pilot)
        assert app.screen.query_one("#weighing").text == "Eerst dan"


# -- ctrl+l did nothing in the dialogs (Waarom?, help, passphrase) ---------------------------------

async def test_language_switch_works_in_the_why_dialog(home: Path, ruleset) -> None:
    from tui.screens.why import WhyScreen

    prepare_home(home)
    seed_case(home, ruleset, VEILIG_THUIS, position="advice")
    app = make_app(home, ruleset)
    async with app.run_test(size=BIG) as pilot:
        await open_case(pilot)
        await pilot.press("f3")
        await settle(pilot)
        assert isinstance(app.screen, WhyScreen)
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert app.language == "en"
        assert isinstance(app.screen, WhyScreen)
        assert Catalog("en").t("why.title") in screen_text(app)


async def test_language_switch_in_the_passphrase_dialog_keeps_what_was_typed(home: Path, ruleset) -> None:
    from tui.screens.passphrase import PassphraseScreen

    prepare_home(home, with_key_file=True)
    seed_case(home, ruleset, VEILIG_THUIS, position="advice")
    app = make_app(home, ruleset)
    async with app.run_test(size=BIG) as pilot:
        await open_case(pilot)
        await pilot.press("f4")
        await settle(pilot)
        assert isinstance(app.screen, PassphraseScreen)
        await pilot.press(*"geheim")
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert app.language == "en"
        await pilot.press(*"-1")
        field = app.screen.query_one("#passphrase")
        assert field.value == "geheim-1" and field.password


# -- English in Dutch mode -------------------------------------------------------------------------

async def test_the_several_answers_footer_is_in_dutch(home: Path, ruleset) -> None:
    """The footer of a several-answers question said "space toggle" in Dutch mode."""
    from tui_helpers import footer_text as footer

    fact = next(f for f in complete_answers(ruleset, VEILIG_THUIS) if ruleset.question(f).type == "set")
    prepare_home(home)
    seed_case(home, ruleset, VEILIG_THUIS, position="", until=fact)
    app = make_app(home, ruleset)
    async with app.run_test(size=BIG) as pilot:
        await open_case(pilot)
        assert app.screen.fact == fact
        line = footer(app)
        assert "toggle" not in line
        assert nl("keys.toggle") in line


async def test_the_dossier_footer_fits_at_80_columns(home: Path, ruleset) -> None:
    """"^s Later verd": the last footer entry was cut off on the dossier screen."""
    prepare_home(home)
    seed_case(home, ruleset, VEILIG_THUIS, position="advice")
    app = make_app(home, ruleset)
    async with app.run_test(size=SMALL) as pilot:
        await open_dossier(pilot)
        assert nl("keys.save_stop") in footer_text(app)


# -- "Wat nu?" was empty after a "share" advice whose route has no next step ----------------------

def share_without_next_step(ruleset: Any) -> dict[str, Any]:
    from engine.present import present

    def fits(decision: Any) -> bool:
        a = present(decision, "nl").advice
        return a is not None and a.verdict == "share" and not a.route_steps

    return find_answers(ruleset, fits)


async def test_what_next_always_has_a_next_step(home: Path, ruleset) -> None:
    answers = share_without_next_step(ruleset)
    prepare_home(home)
    seed_answers(home, answers)
    app = make_app(home, ruleset)
    async with app.run_test(size=BIG) as pilot:
        await open_case(pilot)
        panel = app.screen.query_one("#what-next")
        panel.scroll_visible(animate=False, top=True)
        await pilot.pause()
        from engine.present import heading
        assert heading("next_default", "nl")[:40] in screen_text(app)
        doc = app.document("nl", "")
        assert any(block.title == heading("next", "nl") for block in doc.blocks)


# -- The dossier PDF --------------------------------------------------------------------------------

class Recorder:
    """Every piece of text the PDF writer puts on a page: (page, x, text)."""

    def __init__(self, monkeypatch: Any) -> None:
        from fpdf import FPDF

        self.calls: list[tuple[int, float, str]] = []
        original = FPDF.multi_cell
        recorder = self

        def multi_cell(pdf: Any, w: float, h: float | None = None, text: str = "", *args: Any, **kw: Any) -> Any:
            if not kw.get("dry_run"):
                recorder.calls.append((pdf.page_no(), pdf.get_x(), text))
            return original(pdf, w, h, text, *args, **kw)

        monkeypatch.setattr(FPDF, "multi_cell", multi_cell)


async def save_pdf(pilot: Any) -> None:
    await open_dossier(pilot)
    await pilot.press("f6")
    await settle(pilot)


def test_the_pdf_keeps_the_record_block_on_one_page(tmp_path: Path, monkeypatch) -> None:
    """A last page held only the rule set's fingerprint; a label stood on one page, its hash on
    the next. Wherever the record block (for the auditor) falls, it is kept on one page."""
    from tui.document import Block, Document, write_pdf

    recorder = Recorder(monkeypatch)
    record = Block(nl("dossier.h_record"))
    for line in (nl("dossier.record_id", id="684eb231-5651-4c26-a66c-b6b95613c9e1"),
                 nl("dossier.record_hash", hash="8870a8fa9e9ee1daa77ca8efe1b0f41b5e3881173bc74add8e1ed933ae05a124"),
                 nl("dossier.weighing_hash", hash="hmac-sha256:1Eb38GWplj4zmOicCZ2_SR5Vfe91BAPliQT9gUrotA"),
                 nl("dossier.log", log="/home/sam/.local/share/deelwijzer/audit/log.jsonl"),
                 nl("dossier.ruleset", name="deelwijzer-mensenhandel", version="2026.12.1",
                    fingerprint="sha256:ef3406d7c1e1ecd227d1f04157ee44ae5636a7b018aabbdb668dca74029fd15f")):
        record.add(line)
    for filler in range(30, 60):
        recorder.calls.clear()
        body = Block("Antwoorden")
        for i in range(filler):
            body.add(f"Vraag {i}? Een antwoord dat de regel vult, ja of nee.", level=1)
        doc = Document("Verantwoording gegevens delen", False, [("Casus", "case-1")], [body, record], "voettekst")
        write_pdf(doc, tmp_path / f"doc-{filler}.pdf")
        start = max(i for i, (_page, _x, text) in enumerate(recorder.calls) if text == record.title)
        pages = {page for page, _x, _text in recorder.calls[start:]
                 if not _text.startswith("voettekst")}
        assert len(pages) == 1, f"{filler} lines before it: the record block runs over pages {sorted(pages)}"


async def test_the_pdf_lists_wrap_under_the_text_not_under_the_bullet(home: Path, ruleset, monkeypatch) -> None:
    """A wrapped "• …", "§ …" or "✔ …" line went on under its bullet; the text now has its own
    column (a hanging indent)."""
    recorder = Recorder(monkeypatch)
    prepare_home(home)
    seed_case(home, ruleset, VEILIG_THUIS, position="advice")
    app = make_app(home, ruleset)
    async with app.run_test(size=BIG) as pilot:
        await save_pdf(pilot)
    markers = ("• ", "§ ", "! § ", "✔ ", "✖ ", "→ ")
    glued = [text for _page, _x, text in recorder.calls if text.startswith(markers)]
    assert not glued, glued[:3]
    assert any(text in ("•", "§") for _page, _x, text in recorder.calls)


# -- Concept and final dossier documents have their own default file ------------------------------

async def test_the_concept_has_its_own_default_file_name(home: Path, ruleset) -> None:
    """Concept and signed document shared one default path: after a restart the signed document
    could not be saved there ("bestaat al"), and in one session it silently replaced the concept."""
    prepare_home(home)
    seed_case(home, ruleset, VEILIG_THUIS, position="advice")
    app = make_app(home, ruleset)
    async with app.run_test(size=BIG) as pilot:
        await open_dossier(pilot)
        path = Path(app.screen.query_one("#dossier-path").value)
        assert path.name == f"{app.interview.case.id}-concept.pdf"


# -- Smaller things seen on the way ----------------------------------------------------------------

async def test_check_answers_shows_the_first_section_title_at_the_top(home: Path, ruleset) -> None:
    """At 80x24 the list scrolled to the first answer alone: "Over jou" was never in view."""
    from tui.screens.review import ReviewScreen
    from tui_helpers import highlight_option

    prepare_home(home)
    seed_case(home, ruleset, VEILIG_THUIS, position="review")
    app = make_app(home, ruleset)
    async with app.run_test(size=SMALL) as pilot:
        await open_case(pilot)
        assert isinstance(app.screen, ReviewScreen)
        first_title, rows = app.screen.page.sections[0]
        await highlight_option(pilot, app.screen.query_one("#rows"), f"change:{rows[0].fact}")
        await pilot.pause()
        assert first_title in screen_text(app)


def test_why_answers_wrap_under_their_text() -> None:
    """At 80 columns "(door jou ingevuld)" went on at the left edge, under the bullet."""
    import io

    from rich.console import Console

    from engine.present import FactLine, SourceLine, StepView
    from tui.screens.why import step_body

    step = StepView("r", "route", "Vermoeden van uitbuiting", "Je vermoedt uitbuiting.",
                    [SourceLine("s", "art. 1.1 Jeugdwet (kindermishandeling)", "Definitie kindermishandeling en meer",
                                "verified", "gecontroleerd", "")],
                    [FactLine("f", "Welke vorm van uitbuiting vermoed je?", "Seksuele uitbuiting", True)])
    console = Console(width=50, file=io.StringIO(), record=True)
    console.print(step_body(step, "nl"))
    lines = console.export_text().splitlines()
    bullet = next(i for i, line in enumerate(lines) if "•" in line)
    text_column = lines[bullet].index("Welke")
    assert lines[bullet + 1].strip() and lines[bullet + 1].index(lines[bullet + 1].strip()) >= text_column
    section = next(i for i, line in enumerate(lines) if "§" in line)
    assert lines[section + 1].index(lines[section + 1].strip()) >= lines[section].index("art.")


def answers_with_one_no(ruleset: Any, predicate: Any) -> dict[str, Any]:
    """Complete answers for which ``predicate(decision)`` holds: the Veilig Thuis scenario for
    each recipient and purpose, with one yes/no answer turned to "no" (the rule set decides)."""
    import engine

    recipients = [o.value for o in ruleset.question(ruleset.info.recipient_fact).options]
    purposes = [o.value for o in ruleset.question("share.purpose").options]
    flips = [None] + [f for f, v in VEILIG_THUIS.items() if v is True]
    for recipient in recipients:
        for purpose in purposes:
            for flip in flips:
                scenario = dict(VEILIG_THUIS, **{ruleset.info.recipient_fact: recipient, "share.purpose": purpose,
                                                 "consent.status": "refused"})
                if flip:
                    scenario[flip] = False
                try:
                    answers = complete_answers(ruleset, scenario)
                except (KeyError, AssertionError):
                    continue
                decision = engine.decide(ruleset, engine.parse_answers(ruleset, answers), explain=True)
                if decision.advice is not None and predicate(decision):
                    return answers
    raise AssertionError("no variation of the Veilig Thuis scenario fits this test")


async def test_a_blocker_never_answered_says_not_asked(home: Path, ruleset) -> None:
    """"(je antwoord: nog niet beantwoord)" for a question the interview never asked."""
    from engine.present import heading, present

    def fits(decision: Any) -> bool:
        a = present(decision, "nl").advice
        return a is not None and a.verdict != "share" and any(not b.asked for r in a.blocked for b in r.blockers)

    answers = answers_with_one_no(ruleset, fits)
    prepare_home(home)
    seed_answers(home, answers)
    app = make_app(home, ruleset)
    async with app.run_test(size=BIG) as pilot:
        await open_case(pilot)
        app.screen.query_one("#what-next").scroll_visible(animate=False, top=True)
        await pilot.pause()
        assert heading("not_asked", "nl") in screen_text(app)
        text = app.document("nl", "").text()
        assert heading("not_asked", "nl") in text
        assert heading("your_answer", "nl", answer="nog niet beantwoord") not in text


async def test_a_signed_dossier_says_the_weighing_is_fixed() -> None:
    """After signing the weighing cannot change, but the screen still said "Schrijf waarom…"."""
    from textual.app import App

    from tui.document import Block, Document
    from tui.screens.dossier import DossierScreen

    cat = Catalog("nl")

    def make_document(lang: str, weighing: str) -> Document:
        return Document("Verantwoording", False, [("Casus", "c-1")], [Block("Afweging", [(0, weighing, False)])], "v")

    class One(App[None]):
        def on_mount(self) -> None:
            self.push_screen(DossierScreen(cat, make_document, weighing="Overlegd.", editable=False,
                                           default_path=Path("/tmp/c-1.pdf")))

    app = One()
    async with app.run_test(size=BIG) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert cat.t("dossier_screen.weighing_fixed")[:40] in text
        assert cat.t("dossier_screen.weighing_note")[:30] not in text


async def test_end_goes_to_the_bottom_of_the_advice(home: Path, ruleset) -> None:
    prepare_home(home)
    seed_case(home, ruleset, VEILIG_THUIS, position="advice")
    app = make_app(home, ruleset)
    async with app.run_test(size=SMALL) as pilot:
        await open_case(pilot)
        await pilot.press("end")
        await pilot.pause()
        body = app.screen.query_one("#advice-body")
        assert body.scroll_y == body.max_scroll_y > 0
        assert nl("advice.record_intro")[:30] in screen_text(app)


# -- Back at the start after a signed case, Enter did something else than "new case" --------------

async def test_enter_at_the_start_after_a_resumed_and_signed_case_starts_a_new_one(home: Path, ruleset) -> None:
    """The menu remembered the line of the case that was opened; once signed, that line is gone
    and the highlight fell on another line: Enter opened the settings (or another case), and
    the answers typed after it went nowhere."""
    from tui import messages
    from tui.case_store import STATUS_SIGNED, CaseStore
    from tui.screens.question import QuestionScreen
    from tui.screens.recorded import RecordedScreen
    from tui.screens.start import StartScreen
    from tui_helpers import burst, frozen_clock

    prepare_home(home)
    store = CaseStore(home, clock=frozen_clock, new_id=lambda now: "signed-1")
    case = store.new()
    case.answers = complete_answers(ruleset, VEILIG_THUIS)
    case.status = STATUS_SIGNED
    case.position = {"page": "recorded"}
    case.record = {"record_id": "r-1", "leaf_hash": "ab" * 32, "signed_at": "2025-03-14T09:30:00+00:00", "log": "x"}
    store.save(case)
    seed_case(home, ruleset, VEILIG_THUIS, position="review", case_id="other-case")
    app = make_app(home, ruleset)
    async with app.run_test(size=BIG) as pilot:
        await settle(pilot)
        app.post_message(messages.ResumeCase("signed-1"))   # as if opened from the list, signed since
        await settle(pilot)
        assert isinstance(app.screen, RecordedScreen)
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert isinstance(app.screen, StartScreen)
        assert app.screen.query_one("#menu").highlighted_option.id == "new"
        burst(app, ["enter", "down", "enter"])
        for _ in range(8):
            await pilot.pause()
        await settle(pilot)
        assert isinstance(app.screen, QuestionScreen)
        first = next(iter(app.interview.case.answers))
        assert app.interview.case.id not in ("signed-1", "other-case")
        assert app.interview.case.answers[first] == ruleset.question(first).options[0].value


async def test_keys_typed_after_enter_on_check_answers_go_to_the_question_it_opens(home: Path, ruleset) -> None:
    """Enter on "Wijzig" went through the list's own message: a ↓ and Enter typed right after it
    still moved the list and opened the next row's question instead."""
    from tui.screens.question import QuestionScreen
    from tui.screens.review import ReviewScreen
    from tui_helpers import burst, highlight_option

    prepare_home(home)
    seed_case(home, ruleset, VEILIG_THUIS, position="review")
    app = make_app(home, ruleset)
    async with app.run_test(size=BIG) as pilot:
        await open_case(pilot)
        assert isinstance(app.screen, ReviewScreen)
        rows = [row for _title, section in app.screen.page.sections for row in section]
        await highlight_option(pilot, app.screen.query_one("#rows"), f"change:{rows[0].fact}")
        burst(app, ["enter", "down"])
        for _ in range(8):
            await pilot.pause()
        await settle(pilot)
        assert isinstance(app.screen, QuestionScreen) and app.screen.fact == rows[0].fact
        assert app.screen.hold_keys is False and app.screen.query_one("#answer") is app.focused
        await pilot.press("escape")      # back to check answers, the same row highlighted
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        await highlight_option(pilot, app.screen.query_one("#rows"), f"change:{rows[0].fact}")
        burst(app, ["enter", "down", "enter"])
        for _ in range(10):
            await pilot.pause()
        await settle(pilot)
        assert not (isinstance(app.screen, QuestionScreen) and app.screen.fact == rows[1].fact), \
            "the keys typed after Enter chose the next row"


async def test_the_weighing_is_drawn_again_after_a_resize(home: Path, ruleset) -> None:
    """After the terminal went from 100x30 to 80x24, the weighing field showed its old line
    breaks: words cut off at the right edge and others twice, until the cursor moved."""
    prepare_home(home)
    seed_case(home, ruleset, VEILIG_THUIS, position="advice")
    words = "Cliënt (19) wil zelf geregistreerd worden; formulier getekend op 2-12. Verdachte niet genoemd."
    app = make_app(home, ruleset)
    async with app.run_test(size=BIG) as pilot:
        await open_dossier(pilot)
        await pilot.press(*["space" if ch == " " else ch for ch in words])
        await settle(pilot)
        await pilot.resize_terminal(*SMALL)
        await settle(pilot)
        area = app.screen.query_one("#weighing")
        lines = screen_text(app).splitlines()[area.region.y + 1:area.region.y + area.region.height - 1]
        shown = " ".join(line.strip().strip("▊▎").strip() for line in lines)
        assert " ".join(shown.split()) == words
