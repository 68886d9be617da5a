"""The Deelwijzer terminal interview (Textual App).

Start-up rule: nothing from ``engine`` or ``audit`` is imported at module
scope. The rule set is loaded in a worker thread after the first screen has
been painted (see :meth:`DeelwijzerApp.after_first_paint`).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterable

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen

from tui.case_store import Case, CaseStore, CaseStoreError, utc_now
from tui.interview import ADVICE, REVIEW, Interview
from tui.lang import LANGUAGES, Catalog
from tui.screens.base import Localized, translate_bindings
from tui.screens.start import StartScreen
from tui.settings import THEMES, Settings, audit_log_path, data_home, trusted_keys_path


def _interview_commands() -> type:
    """The palette provider, imported when the palette first opens (start-up time)."""
    from tui.commands import InterviewCommands

    return InterviewCommands


class DeelwijzerApp(App[int]):
    """Keyboard-only interview: start → questions → check answers → advice → signed record."""

    TITLE = "Deelwijzer"
    CSS_PATH = Path(__file__).with_name("app.tcss")
    COMMANDS = App.COMMANDS | {_interview_commands}
    BINDINGS = [
        # ctrl+q always stops (answers are saved after every answer); it is shown in the
        # footer by the screens where stopping is the thing to do (start, recorded).
        Binding("ctrl+q", "quit", "quit", id="quit", priority=True, show=False),
        Binding("ctrl+l", "toggle_language", "language", id="language"),
        Binding("ctrl+s", "save_and_stop", "save_stop", id="save_stop"),
        Binding("ctrl+c", "help_quit", show=False, system=True),
    ]

    language: reactive[str] = reactive("nl", init=False)

    def __init__(self, *, home: Path | None = None, rules_dir: Path | None = None,
                 ruleset: Any = None, clock: Callable[[], datetime] = utc_now,
                 new_case_id: Callable[[datetime], str] | None = None,
                 load_in_thread: bool = True) -> None:
        self.home = Path(home) if home is not None else data_home()
        self.settings = Settings.load(self.home)
        self.first_use = not self.settings.exists(self.home)
        self.cat = Catalog(self.settings.language)
        super().__init__()
        self.set_reactive(DeelwijzerApp.language, self.cat.lang)
        self.clock = clock
        self.store = CaseStore(self.home, clock=clock, new_id=new_case_id)
        self.rules_dir = rules_dir
        self.rs: Any = ruleset
        self.engine: Any = None
        self.rules_error: str | None = None
        self.rules_ready = asyncio.Event()
        self._load_in_thread = load_in_thread
        self.interview: Interview | None = None
        self.exit_message: str | None = None
        self.animation_level = "none"
        if self.settings.theme in THEMES:
            self.theme = self.settings.theme

    # -- start-up ------------------------------------------------------------------
    async def on_mount(self) -> None:
        translate_bindings(self, self.cat)
        await self.push_screen(StartScreen())
        self.call_after_refresh(self.after_first_paint)

    def after_first_paint(self) -> None:
        """The first screen is on the terminal: now load the engine and rule set."""
        if self._load_in_thread:
            self.run_worker(self._load_rules, thread=True, exclusive=True, group="rules")
        else:
            self._load_rules()
        if self.first_use:
            from tui.screens.keysetup import KeySetupScreen

            self.push_screen(KeySetupScreen(first_use=True))

    def _load_rules(self) -> None:
        error: str | None = None
        engine_mod = None
        rs = self.rs
        try:
            import engine as engine_mod  # noqa: PLC0415 - deliberately late (start-up time)

            if rs is None:
                rs = engine_mod.load_ruleset(self.rules_dir)
        except Exception as exc:  # noqa: BLE001 - shown to the user, never a traceback
            problems = getattr(exc, "problems", None)
            detail = str(exc)
            if problems:
                detail = "; ".join(str(p) for p in problems[:3])
            error = detail or exc.__class__.__name__
        if self._load_in_thread:
            self.call_from_thread(self._rules_loaded, engine_mod, rs, error)
        else:
            self._rules_loaded(engine_mod, rs, error)

    def _rules_loaded(self, engine_mod: Any, rs: Any, error: str | None) -> None:
        self.engine = engine_mod
        self.rs = rs if error is None else None
        self.rules_error = error
        self.rules_ready.set()
        for screen in self.screen_stack:
            hook = getattr(screen, "on_rules_loaded", None)
            if hook is not None:
                hook()

    # -- paths -----------------------------------------------------------------------
    @property
    def key_file(self) -> Path:
        return self.settings.key_file(self.home)

    @property
    def log_path(self) -> Path:
        return audit_log_path(self.home)

    @property
    def trusted_keys(self) -> Path:
        return trusted_keys_path(self.home)

    # -- language and theme ------------------------------------------------------
    def action_toggle_language(self) -> None:
        order = list(LANGUAGES)
        self.language = order[(order.index(self.language) + 1) % len(order)]

    async def watch_language(self, language: str) -> None:
        self.cat = Catalog(language)
        self.settings.language = self.cat.lang
        self._save_settings()
        if self.interview is not None:
            self.interview.case.language = self.cat.lang
        translate_bindings(self, self.cat)
        for screen in list(self.screen_stack):
            if isinstance(screen, Localized):
                await screen.relabel()

    def set_theme(self, name: str) -> None:
        if name not in THEMES:
            return
        self.theme = name
        self.settings.theme = name
        self._save_settings()

    def _save_settings(self) -> None:
        try:
            self.settings.save(self.home)
        except OSError as exc:
            self.notify(self.cat.t("errors.settings_not_saved", error=exc.strerror or str(exc)),
                        severity="error")

    # -- quitting ----------------------------------------------------------------
    def action_help_quit(self) -> None:
        self.notify(self.cat.t("quit.how"), title=self.cat.t("quit.title"))

    async def action_quit(self) -> None:
        self._remember_exit()
        self.exit(0)

    def action_save_and_stop(self) -> None:
        if self.interview is not None and not self.interview.signed:
            if not self._autosave():
                return
        self._remember_exit()
        self.exit(0)

    def _remember_exit(self) -> None:
        if self.interview is not None and not self.interview.signed:
            self.exit_message = self.cat.t("quit.saved", id=self.interview.case.id)

    def _autosave(self, position: str | None = None) -> bool:
        if self.interview is None:
            return True
        try:
            self.interview.save(position)
        except CaseStoreError as exc:
            self.notify(self.cat.t("errors.case_not_saved", error=str(exc)), severity="error",
                        timeout=15)
            return False
        return True

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "save_and_stop":
            # "continue later" only means something while an unsigned case is open
            return self.interview is not None and not self.interview.signed
        return True

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        t = self.cat.t
        yield SystemCommand(t("palette.keys"), t("palette.keys_help"), self.action_show_help_panel)
        yield SystemCommand(t("palette.quit"), t("palette.quit_help"), self.action_quit)

    def action_command_palette(self) -> None:
        from textual.command import CommandPalette

        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(CommandPalette(id="--command-palette",
                                            placeholder=self.cat.t("palette.placeholder")))

    # -- cases -------------------------------------------------------------------
    def _require_rules(self) -> bool:
        if self.rs is None or self.engine is None:
            key = "start.rules_error" if self.rules_error else "start.rules_loading"
            self.notify(self.cat.t(key, error=self.rules_error or ""), severity="warning")
            return False
        return True

    def new_case(self) -> None:
        if not self._require_rules():
            return
        try:
            case = self.store.new(self.cat.lang)
        except CaseStoreError as exc:
            self.notify(self.cat.t("errors.case_not_saved", error=str(exc)), severity="error")
            return
        self._open(case)

    def resume_case(self, case_id: str) -> None:
        if not self._require_rules():
            return
        try:
            case = self.store.load(case_id)
        except CaseStoreError as exc:
            self.notify(self.cat.t("errors.case_unreadable", error=str(exc)), severity="error")
            return
        self._open(case)

    def _open(self, case: Case) -> None:
        try:
            self.interview = Interview(self.engine, self.rs, case, self.store)
        except self.engine.AnswerError as exc:  # pragma: no cover - sanitised above
            self.notify(str(exc), severity="error")
            return
        if self.interview.invalid_on_load:
            self.notify(self.cat.t("resume.invalid_answers", n=len(self.interview.invalid_on_load)),
                        severity="warning", timeout=10)
        if self.interview.rules_changed and not self.interview.signed:
            self.notify(self.cat.t("resume.rules_changed"), severity="warning", timeout=10)
        target = self.interview.first_target()
        if self.interview.signed:
            self.show_recorded()
        else:
            self.show(target)

    def close_case(self) -> None:
        """Back to the start screen; the case stays saved."""
        if self.interview is not None and not self.interview.signed:
            self._autosave()
            self.notify(self.cat.t("start.case_saved"), timeout=4)
        self.interview = None
        while len(self.screen_stack) > 1 and not isinstance(self.screen, StartScreen):
            self.pop_screen()
        if isinstance(self.screen, StartScreen):
            self.screen.refresh_cases()

    # -- navigation ----------------------------------------------------------------
    def _replace(self, screen: Screen) -> None:
        while getattr(self.screen, "is_modal", False) and len(self.screen_stack) > 2:
            self.pop_screen()
        if getattr(self.screen, "interview_screen", False):
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    def show(self, target: str, *, change: bool = False) -> None:
        """Show a question (fact id), the check-answers page or the advice."""
        assert self.interview is not None
        if self.interview.signed:
            self.show_recorded()
            return
        if target == REVIEW:
            from tui.screens.review import ReviewScreen

            self._autosave(REVIEW)
            self._replace(ReviewScreen())
        elif target == ADVICE:
            if not self.interview.finished:
                self.show(REVIEW)
                return
            from tui.screens.advice import AdviceScreen

            self._autosave(ADVICE)
            self._replace(AdviceScreen())
        else:
            from tui.screens.question import QuestionScreen

            self._autosave(target)
            self._replace(QuestionScreen(target, change=change))

    def go_back(self, current: str, *, change: bool = False) -> None:
        assert self.interview is not None
        if change:
            self.show(REVIEW)
            return
        previous = self.interview.previous_before(current)
        if previous is None:
            self.close_case()
        else:
            self.show(previous)

    def after_answer(self, fact: str, *, change: bool) -> None:
        assert self.interview is not None
        if change:
            missing = self.interview.missing
            self.show(missing[0] if missing else REVIEW, change=bool(missing))
        else:
            self.show(self.interview.next_after(fact))

    def show_recorded(self) -> None:
        from tui.screens.recorded import RecordedScreen

        self._replace(RecordedScreen())

    # -- signing -----------------------------------------------------------------
    def trust_own_key(self, info: Any, owner: str) -> None:
        """Add a newly made public key to ``<home>/trusted-keys.json`` so the log verifies here."""
        import audit.trust  # noqa: PLC0415 - late import (start-up time)

        audit.trust.trust_key(self.trusted_keys, Path(info.public_path), owner)

    def actor_missing(self) -> bool:
        return not (self.settings.name.strip() and self.settings.organisation.strip())

    def actor(self) -> dict[str, str]:
        return {"name": self.settings.name, "organisation": self.settings.organisation}

    def sign_current(self, passphrase: bytes) -> dict[str, Any]:
        """Load the key and append the signed record (runs in a worker thread)."""
        import audit  # noqa: PLC0415 - late import (start-up time)
        import audit.keys  # noqa: PLC0415

        assert self.interview is not None
        interview = self.interview
        key = audit.keys.load_signing_key(self.key_file, passphrase)
        decision_json = interview.decision.to_json(lang="nl")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        appended = audit.record_decision(
            self.log_path, key, decision=decision_json, answers=interview.recorded_answers(),
            actor=self.actor(), case_ref_source=interview.case.id)
        # End of this session's writing: a signed checkpoint (size + Merkle root) that an
        # auditor can keep, so a later deletion of the tail becomes detectable.
        checkpoint_error = None
        try:
            audit.write_checkpoint(self.log_path, key)
        except audit.errors.AuditError as exc:  # the record itself is written and signed
            checkpoint_error = str(exc)
        return {
            "checkpoint_error": checkpoint_error,
            "record_id": str(appended.record_id),
            "seq": getattr(appended, "seq", None),
            "log": str(self.log_path),
            "signed_at": self.clock().astimezone().isoformat(timespec="seconds"),
            "ruleset_fingerprint": str(self.rs.fingerprint),
            "key_file": str(self.key_file),
        }

    def signed(self, record: dict[str, Any]) -> None:
        assert self.interview is not None
        try:
            self.interview.mark_signed(record)
        except CaseStoreError as exc:
            self.notify(self.cat.t("errors.case_not_saved", error=str(exc)), severity="error")
        if record.get("checkpoint_error"):
            self.notify(self.cat.t("errors.checkpoint_not_written", error=record["checkpoint_error"]), severity="warning")
        self.show_recorded()


def run_app(**kwargs: Any) -> int:
    app = DeelwijzerApp(**kwargs)
    result = app.run()
    if app.exit_message:
        print(app.exit_message)
    return 0 if result is None else int(result)

