"""The case at hand: the App's handlers for what screens ask, and the page for each flow target.

A mixin of :class:`tui.app.DeelwijzerApp` (kept apart so each file reads in one sitting). Every
handler that moves to another page holds the keys typed meanwhile and releases them when the
new page has the focus (``hold_keys`` / ``release_keys`` in the App).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.screen import Screen

from tui import flow, messages
from tui.case_store import Case, CaseStoreError
from tui.interview import Interview
from tui.lang import Catalog

if TYPE_CHECKING:
    from tui.app import DeelwijzerApp
    from tui.document import Document

_Base = object if not TYPE_CHECKING else DeelwijzerApp  # type: ignore[misc]


class Pages(_Base):  # type: ignore[misc, valid-type]
    interview: Interview | None
    flow: flow.Flow | None
    current: flow.Target

    def init_case(self) -> None:
        self.interview = None
        self.flow = None
        self.current = flow.Start()
        self._views: dict[tuple[int, str], Any] = {}
        self._saved_documents: set[Path] = set()
        self._weighing_timer: Any = None

    # -- opening and closing a case ---------------------------------------------------------
    def _rules_ready_or_wait(self, message: messages.NewCase | messages.ResumeCase) -> bool:
        if self.rs is not None and self.engine is not None:
            return True
        if self.rules_error or self.refusal:
            self.notify(self._rules_problem(), severity="error", timeout=10)
        else:
            self._waiting = message            # runs as soon as the rules are loaded
            self.notify(self.cat.t("start.waiting_note"), timeout=4)
        self.refresh_start()
        return False

    async def on_new_case(self, message: messages.NewCase) -> None:
        try:
            if not self._rules_ready_or_wait(message):
                return
            try:
                case = self.store.new(self.cat.lang)
            except CaseStoreError as exc:
                self.notify(self.cat.t("errors.case_not_saved", error=str(exc)), severity="error")
                return
            await self._open(case)
        finally:
            self.release_keys()

    async def on_resume_case(self, message: messages.ResumeCase) -> None:
        try:
            if not self._rules_ready_or_wait(message):
                return
            try:
                case = self.store.load(message.case_id)
            except CaseStoreError as exc:
                self.notify(self.cat.t("errors.case_unreadable", error=str(exc)), severity="error")
                return
            await self._open(case)
        finally:
            self.release_keys()

    async def _open(self, case: Case) -> None:
        self.interview = Interview(self.engine, self.rs, case, self.store)
        self.flow = flow.Flow(self.interview)
        self._views.clear()
        self._saved_documents.clear()
        if self.interview.invalid_on_load:
            self.notify(self.cat.n("resume.invalid_answers", len(self.interview.invalid_on_load)),
                        severity="warning", timeout=10)
        if self.interview.rules_changed and not self.interview.signed:
            self.notify(self.cat.t("resume.rules_changed"), severity="warning", timeout=10)
        await self.go(self.flow.first())

    async def on_close_case(self, message: messages.CloseCase) -> None:
        try:
            await self.close_case()
        finally:
            self.release_keys()

    async def close_case(self) -> None:
        """Back to the start screen; the case stays saved."""
        from tui.screens.start import StartScreen

        if self.interview is not None and not self.interview.signed:
            self.autosave()
            self.notify(self.cat.t("start.case_saved"), timeout=4)
        self.init_case()
        while len(self.screen_stack) > 2 and not isinstance(self.screen, StartScreen):
            await self.pop_screen()
        if not isinstance(self.screen, StartScreen):
            await self.switch_screen(StartScreen(self.cat, self.start_page()))
        self.refresh_start()

    def autosave(self, target: flow.Target | None = None) -> bool:
        if self.interview is None:
            return True
        try:
            self.interview.save(flow.encode(target) if target is not None else None)
        except CaseStoreError as exc:
            self.notify(self.cat.t("errors.case_not_saved", error=str(exc)), severity="error", timeout=15)
            return False
        return True

    # -- moving -------------------------------------------------------------------------------
    async def go(self, target: flow.Target) -> None:
        """Show ``target`` (made valid for the current answers first)."""
        if isinstance(target, flow.Start):
            await self.close_case()
            return
        assert self.flow is not None and self.interview is not None
        target = self.flow.resolve(target)
        if not isinstance(target, (flow.Plausibility, flow.Recorded)):
            self.autosave(target)
        self.current = target
        await self._show(self._screen_for(target))

    async def _show(self, screen: Screen[Any]) -> None:
        from tui.screens.start import StartScreen

        while getattr(self.screen, "is_modal", False) and len(self.screen_stack) > 2:
            await self.pop_screen()
        while len(self.screen_stack) > 2 and not getattr(self.screen, "interview_page", False):
            await self.pop_screen()   # e.g. the dossier or settings on top of a page
        if isinstance(self.screen, StartScreen) or not getattr(self.screen, "interview_page", False):
            await self.push_screen(screen)
        else:
            await self.switch_screen(screen)
        screen.interview_page = True  # type: ignore[attr-defined]

    def on_stay(self, message: messages.Stay) -> None:
        self.release_keys()

    async def on_navigate(self, message: messages.Navigate) -> None:
        try:
            if self.flow is not None:
                await self.go(message.target)
        finally:
            self.release_keys()

    async def on_go_back(self, message: messages.GoBack) -> None:
        try:
            if self.flow is not None:
                await self.go(self.flow.back(message.current))
        finally:
            self.release_keys()

    async def on_answer_given(self, message: messages.AnswerGiven) -> None:
        try:
            if self.interview is None or self.flow is None:
                return
            try:
                self.interview.answer(message.fact, message.value)
            except CaseStoreError as exc:
                screen = self.screen
                if hasattr(screen, "show_error"):
                    screen.show_error(self.cat.t("errors.case_not_saved", error=str(exc)))
                return
            self._views.clear()
            await self.go(self.flow.after_answer(message.fact, change=message.change))
        finally:
            self.release_keys()

    async def on_warnings_confirmed(self, message: messages.WarningsConfirmed) -> None:
        try:
            if self.interview is None or self.flow is None or not isinstance(message.target, flow.Plausibility):
                return
            self.interview.confirm_warnings()
            await self.go(self.flow.after_confirm(message.target))
        finally:
            self.release_keys()

    # -- the page for each target ----------------------------------------------------------
    def view(self, lang: str) -> Any:
        """The presentation model of the current decision in ``lang`` (memoised per decision)."""
        from engine.present import present

        assert self.interview is not None
        decision = self.interview.decision
        key = (id(decision), lang)
        if key not in self._views:
            self._views[key] = present(decision, lang)
        return self._views[key]

    def _screen_for(self, target: flow.Target) -> Screen[Any]:
        iv, fl = self.interview, self.flow
        assert iv is not None and fl is not None
        if isinstance(target, flow.Question):
            from tui.screens.question import QuestionPage, QuestionScreen

            q = iv.rs.question(target.fact)
            page = QuestionPage(question=q, section=iv.rs.sections.get(q.section), number=fl.number(target.fact),
                                current=iv.prefill(target.fact), bounds=iv.bounds(target.fact), change=target.change,
                                can_review=iv.finished, validate=lambda value, fact=target.fact: self._validate(fact, value))
            return QuestionScreen(self.cat, page)
        if isinstance(target, flow.CheckAnswers):
            from tui.screens.review import ReviewScreen

            return ReviewScreen(self.cat, self._review_page)
        if isinstance(target, flow.Plausibility):
            from tui.screens.plausibility import PlausibilityScreen

            unconfirmed = {w.check for w in iv.unconfirmed_warnings()}
            return PlausibilityScreen(self.cat, target,
                                      lambda lang: [w for w in self.view(lang).warnings if w.check in unconfirmed])
        if isinstance(target, flow.Advice):
            from tui.screens.advice import AdviceScreen

            return AdviceScreen(self.cat, self.view)
        from tui.screens.recorded import RecordedScreen

        return RecordedScreen(self.cat, self.view, iv.case.record or {})

    def _validate(self, fact: str, value: Any) -> str | None:
        assert self.interview is not None
        try:
            self.interview.validate(fact, value)
        except self.engine.AnswerError as exc:
            return str(getattr(exc, "message", None) or exc)
        return None

    def _review_page(self, lang: str) -> Any:
        from engine.present import answer_label
        from tui.lang import pick
        from tui.screens.review import ReviewPage, Row

        iv = self.interview
        assert iv is not None
        rs = iv.rs
        groups: dict[str, list[Row]] = {}
        for fact in iv.relevant:
            if fact in iv.case.answers:
                q = rs.question(fact)
                groups.setdefault(q.section, []).append(
                    Row(fact, q.prompt.get(lang), answer_label(rs, fact, iv.case.answers[fact], lang)))
        dropped = []
        for fact, value in iv.case.dropped.items():
            try:
                q = rs.question(fact)
                dropped.append(Row(fact, q.prompt.get(lang), answer_label(rs, fact, value, lang)))
            except KeyError:
                dropped.append(Row(fact, fact, str(value)))
        sections = [(pick(rs.sections.get(s), lang), rows) for s, rows in groups.items()]
        return ReviewPage(sections, dropped, len(iv.missing))

    # -- help, why -----------------------------------------------------------------------------
    async def on_open_help(self, message: messages.OpenHelp) -> None:
        from tui.screens.help import HelpScreen

        try:
            if self.interview is not None:
                await self.push_screen(HelpScreen(self.cat, self.interview.rs, message.fact))
        finally:
            self.release_keys()

    async def on_open_why(self, message: messages.OpenWhy) -> None:
        from tui.screens.why import WhyScreen

        try:
            if self.interview is not None and self.interview.decision.advice is not None:
                await self.push_screen(WhyScreen(self.cat, self.view))
        finally:
            self.release_keys()

    # -- the dossier document ---------------------------------------------------------------------
    def document(self, lang: str, weighing: str | None = None) -> Document:
        from tui import document

        iv = self.interview
        assert iv is not None
        return document.build(view=self.view(lang), rs=iv.rs, answers=iv.recorded_answers(),
                              confirmed=list(iv.case.confirmed), actor=self.actor(), case_id=iv.case.id,
                              weighing=iv.case.weighing if weighing is None else weighing, record=iv.case.record,
                              now=self.clock().astimezone(), cat=Catalog(lang))

    async def on_open_dossier(self, message: messages.OpenDossier) -> None:
        from tui.screens.dossier import DossierScreen

        try:
            iv = self.interview
            if iv is None or iv.decision.advice is None:
                return
            # the concept and the signed document each have their own file: saving the signed one
            # never runs into the concept ("bestaat al") nor silently replaces it
            name = iv.case.id if iv.signed else f"{iv.case.id}-concept"
            default = self.home / "verantwoording" / f"{name}.pdf"
            await self.push_screen(DossierScreen(self.cat, self.document, weighing=iv.case.weighing,
                                                 editable=not iv.signed, default_path=default),
                                   callback=self._weighing_done)
        finally:
            self.release_keys()

    def _weighing_done(self, text: str | None) -> None:
        if text is not None and self.interview is not None and not self.interview.signed:
            self._save_weighing(text)

    def on_weighing_changed(self, message: messages.WeighingChanged) -> None:
        """Keep the weighing in the case file: at once in memory, on disk a moment after typing stops."""
        if self.interview is None or self.interview.signed:
            return
        self.interview.case.weighing = message.text
        if self._weighing_timer is not None:
            self._weighing_timer.stop()
        self._weighing_timer = self.set_timer(0.4, lambda: self._save_weighing(self.interview.case.weighing
                                                                                if self.interview else ""))

    def _save_weighing(self, text: str) -> None:
        if self.interview is None or self.interview.signed:
            return
        try:
            self.interview.set_weighing(text)
        except CaseStoreError as exc:
            self.notify(self.cat.t("errors.case_not_saved", error=str(exc)), severity="error", timeout=15)

    def on_save_document(self, message: messages.SaveDocument) -> None:
        from tui import document
        from tui.settings import atomic_write_text

        screen = self.screen
        say = getattr(screen, "show_status", None) or (lambda text: self.notify(text))
        path = Path(message.path)
        if path.is_dir():
            say("✖ " + self.cat.t("recorded.path_is_dir"))
            return
        if path.exists() and path.resolve() not in self._saved_documents:
            say("✖ " + self.cat.t("recorded.path_exists"))
            return
        weighing = getattr(screen, "weighing", None)
        if weighing is not None and self.interview is not None and not self.interview.signed:
            self._save_weighing(weighing)
        doc = self.document(self.cat.lang, weighing)
        try:
            if message.kind == "pdf":
                document.write_pdf(doc, path)
            else:
                atomic_write_text(path, doc.text(), mode=0o600)
        except OSError as exc:
            say("✖ " + self.cat.t("recorded.save_failed", error=exc.strerror or str(exc)))
            return
        self._saved_documents.add(path.resolve())
        if getattr(screen, "show_status", None) is not None:   # the dossier screen: the path is in its field
            say("✔ " + self.cat.t("dossier_screen.saved_pdf" if message.kind == "pdf" else "dossier_screen.saved_text"))
        else:
            say("✔ " + self.cat.t("recorded.saved", path=str(path)))

    # -- settings and keys ------------------------------------------------------------------------
    async def on_open_settings(self, message: messages.OpenSettings) -> None:
        try:
            await self.open_settings()
        finally:
            self.release_keys()

    async def open_settings(self) -> None:
        from tui.screens.settings import SettingsScreen
        from tui.settings import KEY_FILE

        await self.push_screen(SettingsScreen(self.cat, self.settings, key_file=self.key_file,
                                              default_key=self.home / "keys" / KEY_FILE),
                               callback=self._settings_done)

    def _settings_done(self, result: Any) -> None:
        if result is None:
            return
        language = result.settings.language
        self.settings = result.settings
        self.settings.language = self.cat.lang
        if result.settings.theme in ("textual-dark", "textual-light", "ansi-dark", "ansi-light"):
            self.theme = result.settings.theme
        self.save_settings()
        self.notify(self.cat.t("settings.saved"))
        if result.new_key:
            self.open_key_setup(first_use=False, then=lambda: self.call_later(self.open_settings))
        if language != self.language:
            self.language = language

    def open_key_setup(self, *, first_use: bool, then: Any = None) -> None:
        from tui.screens.keysetup import KeySetupScreen
        from tui.signing import KeyMaker

        has_key = first_use and self.key_file.exists()
        maker = KeyMaker(self.home, self.trusted_keys, self.clock)

        def done(result: Any) -> None:
            self._key_setup_done(result, first_use)
            if then is not None and result is not None and (result.made is not None or has_key):
                then()

        self.push_screen(KeySetupScreen(self.cat, first_use=first_use, name=self.settings.name,
                                        organisation=self.settings.organisation, has_key=has_key, make_key=maker),
                         callback=done)

    def _key_setup_done(self, result: Any, first_use: bool) -> None:
        from tui.settings import KEY_FILE

        if result is None:
            return
        if result.name or not result.later:
            self.settings.name = result.name
            self.settings.organisation = result.organisation
        if result.made is not None:
            private = Path(result.made.private_path)
            self.settings.key_path = "" if private == self.home / "keys" / KEY_FILE else str(private)
            self.notify(self.cat.t("keysetup.done", key_id=result.made.key_id), timeout=8)
        elif result.later and first_use:
            self.notify(self.cat.t("keysetup.later_note"), timeout=8)
        self.first_use = False
        self.save_settings()

    # -- signing -----------------------------------------------------------------------------------
    def actor(self) -> dict[str, str]:
        return {"name": self.settings.name, "organisation": self.settings.organisation}

    async def on_record_requested(self, message: messages.RecordRequested) -> None:
        try:
            await self.record()
        finally:
            self.release_keys()

    async def record(self) -> None:
        from tui.screens.passphrase import PassphraseScreen
        from tui.signing import Signer

        iv = self.interview
        if iv is None or iv.signed or not iv.finished:
            return
        if not (self.settings.name.strip() and self.settings.organisation.strip()):
            self.notify(self.cat.t("record.need_actor"), severity="warning", timeout=8)
            await self.open_settings()
            return
        if not self.key_file.exists():
            self.notify(self.cat.t("record.need_key"), severity="warning")
            self.open_key_setup(first_use=False, then=lambda: self.call_later(self.record))
            return
        signer = Signer(key_file=self.key_file, log_path=self.log_path, decision=iv.decision,
                        answers=iv.recorded_answers(), actor=self.actor(), case_id=iv.case.id,
                        weighing=iv.case.weighing, clock=self.clock, release=self.release,
                        recorder=self.recorder)
        await self.push_screen(PassphraseScreen(self.cat, signer), callback=self._signed)

    def _signed(self, record: Any) -> None:
        if record is None or self.interview is None:
            return
        try:
            self.interview.mark_signed(record.to_json())
        except CaseStoreError as exc:
            self.notify(self.cat.t("errors.case_not_saved", error=str(exc)), severity="error")
        if record.checkpoint_error:
            self.notify(self.cat.t("errors.checkpoint_not_written", error=record.checkpoint_error), severity="warning")
        self.call_later(self.go, flow.Recorded())
