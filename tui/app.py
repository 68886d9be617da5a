"""The Deelwijzer terminal interview (Textual App): start-up, language, keys, and the case at hand.

Start-up rule: nothing from ``engine`` or ``audit`` is imported at module scope. The rule set is
loaded in a worker thread after the first screen has been painted; an action asked for while the
rules load (ctrl+n, resume) waits and runs once they are ready. Start-up checks (``startup_checks``)
run with the rules and can refuse the interview with a message. A configured rule-set release
(``tui.organisation``) is verified in the same thread: one that fails refuses the interview
with its reason code and whom to ask. A configured organisation store gets the records through
a background outbox; the start page shows how many wait.

Screens get what they need in ``__init__`` and post messages (``tui.messages``); the App asks
``tui.flow`` where to go and shows it (``tui.pages``). While the App moves to another page it
holds the keys typed ahead and replays them once the new page has the focus.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Any
from collections.abc import Callable, Iterable

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen

from tui import messages
from tui.case_store import CaseStore, utc_now
from tui.lang import LANGUAGES, Catalog
from tui.organisation import Place, Recorder, Refused, StoreState, open_release, place_for
from tui.pages import Pages
from tui.screens.base import Localized, translate_bindings
from tui.screens.start import StartPage, StartScreen
from tui.settings import THEMES, Settings, audit_log_path, data_home, trusted_keys_path

StartupCheck = Callable[[Any], "str | None"]   # (rule set) -> a refusal message, or None


def _interview_commands() -> type:
    """The palette provider, imported when the palette first opens (start-up time)."""
    from tui.commands import InterviewCommands

    return InterviewCommands


class DeelwijzerApp(Pages, App[int]):
    """Keyboard-only interview: start → questions → check answers → advice → signed record."""

    TITLE = "Deelwijzer"
    CSS_PATH = Path(__file__).with_name("app.tcss")
    COMMANDS = App.COMMANDS | {_interview_commands}
    BINDINGS = [
        # ctrl+q always stops (answers are saved after every answer); it is shown in the footer
        # by the screens where stopping is the thing to do (start, recorded).
        Binding("ctrl+q", "quit", "quit", id="quit", priority=True, show=False),
        Binding("ctrl+l", "toggle_language", "language", id="language"),
        Binding("ctrl+s", "save_and_stop", "save_stop", id="save_stop"),
        Binding("ctrl+c", "help_quit", show=False, system=True),
    ]

    language: reactive[str] = reactive("nl", init=False)

    def __init__(self, *, home: Path | None = None, rules_dir: Path | None = None,
                 ruleset: Any = None, clock: Callable[[], datetime] = utc_now,
                 new_case_id: Callable[[datetime], str] | None = None,
                 load_in_thread: bool = True, startup_checks: Iterable[StartupCheck] = (),
                 place: Place | None = None) -> None:
        self.home = Path(home) if home is not None else data_home()
        self.settings = Settings.load(self.home)
        self.first_use = not self.settings.exists(self.home)
        self.cat = Catalog(self.settings.language)
        super().__init__()
        self.set_reactive(DeelwijzerApp.language, self.cat.lang)
        self.clock = clock
        self.store = CaseStore(self.home, clock=clock, new_id=new_case_id)
        self.rules_dir = rules_dir
        self.place = place if place is not None else place_for(self.settings, self.home)
        self.release: dict[str, Any] | None = None      # the verified release the advice rests on
        self.release_lines: dict[str, str] = {}
        self.refused: Refused | None = None
        self.recorder: Recorder | None = None
        self.store_state: StoreState | None = None
        self.store_problem: str | None = None
        self.rs: Any = ruleset
        self.engine: Any = None
        self.rules_error: str | None = None
        self.refusal: str | None = None
        self.rules_ready = asyncio.Event()
        self.startup_checks = list(startup_checks)
        self._load_in_thread = load_in_thread
        self._waiting: messages.NewCase | messages.ResumeCase | None = None
        self._held: list[events.Key] = []
        self._hold = False
        self.exit_message: str | None = None
        self.animation_level = "none"
        if self.settings.theme in THEMES:
            self.theme = self.settings.theme
        self.init_case()

    # -- start-up ------------------------------------------------------------------
    async def on_mount(self) -> None:
        translate_bindings(self, self.cat)
        await self.push_screen(StartScreen(self.cat, self.start_page()))
        self.call_after_refresh(self.after_first_paint)

    def after_first_paint(self) -> None:
        """The first screen is on the terminal: now load the engine and the rule set."""
        if self._load_in_thread:
            self.run_worker(self._load_rules, thread=True, exclusive=True, group="rules")
        else:
            self._load_rules()
        if self.first_use:
            self.open_key_setup(first_use=True)

    def _load_rules(self) -> None:
        error: str | None = None
        refusal: str | None = None
        engine_mod = None
        rs = self.rs
        try:
            import engine as engine_mod

            if rs is None and self.place.release_dir is not None:
                try:
                    released = open_release(self.place)
                except Refused as exc:
                    self.refused = exc
                    refusal = f"{exc.code}: {exc.message}"
                else:
                    rs, self.release, self.release_lines = released.ruleset, released.release, released.lines
            elif rs is None:
                rs = engine_mod.load_ruleset(self.rules_dir)
            for check in self.startup_checks if refusal is None else ():
                refusal = refusal or check(rs)
        except Exception as exc:
            problems = getattr(exc, "problems", None)
            detail = "; ".join(str(p) for p in problems[:3]) if problems else str(exc)
            error = detail or exc.__class__.__name__
        if self._load_in_thread:
            self.call_from_thread(self._rules_loaded, engine_mod, rs, error, refusal)
        else:
            self._rules_loaded(engine_mod, rs, error, refusal)
        if refusal is None and error is None:
            self._open_store()

    # -- the organisation store --------------------------------------------------------
    def _open_store(self) -> None:
        """With a store configured: open the outbox and push what waits from earlier sessions
        (blocking, so this runs in the rules' worker thread; the count shows meanwhile)."""
        if self.place.store_url is None or self.recorder is not None:
            return
        try:
            self.recorder = Recorder(self.place, on_change=lambda state: self.post_message(messages.StoreChanged(state)))
        except Exception as exc:  # a bad URL, an unreadable local log: records still go nowhere else
            self.post_message(messages.StoreChanged(StoreState(0, error=str(exc))))
            self.store_problem = str(exc)
            return
        self.post_message(messages.StoreChanged(self.recorder.state()))
        try:
            self.recorder.push_waiting()
        except Exception as exc:  # the local log cannot be read: say so; the outbox stays usable
            self.post_message(messages.StoreChanged(StoreState(0, error=str(exc))))

    def on_store_changed(self, message: messages.StoreChanged) -> None:
        from tui.screens.recorded import RecordedScreen

        state = self.store_state = message.state
        self.refresh_start()
        if state.pending:
            return
        for screen in self.screen_stack:
            if isinstance(screen, RecordedScreen):
                screen.store_changed(state.waiting, state.error, state.alarm)

    def store_status(self) -> list[str]:
        state, t = self.store_state, self.cat.t
        if self.place.store_url is None:
            return []
        if self.store_problem:
            return ["✖ " + t("start.store_unusable", error=self.store_problem)]
        if state is None:
            return ["… " + t("start.store_connecting")]
        lines = []
        if state.alarm:
            lines.append("✖ " + t("start.store_alarm", alarm=state.alarm))
        if state.waiting:
            line = "⏳ " + self.cat.n("start.store_waiting", state.waiting)
            if state.error:
                line += " " + t("start.store_away", error=state.error)
            lines.append(line)
        elif state.error:
            lines.append("⚠ " + t("start.store_unreachable"))
        elif not state.alarm:
            lines.append("✔ " + t("start.store_ok"))
        return lines

    def close_store(self, timeout: float = 5.0) -> None:
        """At the end of the session: let the outbox finish a push under way (briefly), then stop it."""
        if self.recorder is not None:
            self.recorder.close(timeout)
            self.recorder = None

    def _rules_loaded(self, engine_mod: Any, rs: Any, error: str | None, refusal: str | None) -> None:
        self.engine = engine_mod
        self.rs = rs if error is None and refusal is None else None
        self.rules_error = error
        self.refusal = refusal
        self.rules_ready.set()
        waiting, self._waiting = self._waiting, None
        self.refresh_start()
        if waiting is not None and self.rs is not None:
            self.post_message(waiting)
        elif waiting is not None:
            self.notify(self._rules_problem(), severity="error", timeout=10)

    def _rules_problem(self) -> str:
        if self.refused is not None:  # in the language on screen now
            exc = self.refused
            return self.cat.t("start.release_refused", code=exc.code, message=exc.message,
                              what=exc.what_to_do.get(self.cat.lang, exc.what_to_do["nl"]))
        if self.refusal:
            return self.cat.t("start.refused", reason=self.refusal)
        return self.cat.t("start.rules_error", error=self.rules_error or "")

    def rules_status(self) -> list[str]:
        if self.refusal:
            return ["✖ " + self._rules_problem()]
        if self.rules_error:
            return ["✖ " + self._rules_problem()]
        if self.rs is None:
            return ["… " + self.cat.t("start.rules_loading")]
        lines = [self.cat.t("start.rules_ok", name=self.rs.name, version=self.rs.version)]
        if self.release_lines:
            lines.append(self.release_lines.get(self.cat.lang, self.release_lines["nl"]))
        return lines + self.store_status()

    # -- typed-ahead keys ---------------------------------------------------------------
    def _holding(self) -> bool:
        return self._hold or bool(getattr(self.screen, "hold_keys", False))

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded and self._holding():
            self._held.append(event)  # replayed once the next page has the focus
            return
        await super().on_event(event)

    def hold_keys(self) -> None:
        self._hold = True

    def release_keys(self) -> None:
        """After a move: keys typed meanwhile go, in order, to the page that now has the focus."""
        def release() -> None:
            self._hold = False
            for screen in self.screen_stack:
                if isinstance(screen, Localized):
                    screen.hold_keys = False
            held, self._held = self._held, []
            for key in held:
                replay = events.Key(key.key, key.character)
                replay.set_sender(self)
                self.post_message(replay)

        self.call_after_refresh(release)

    # -- language and theme ------------------------------------------------------
    def action_toggle_language(self) -> None:
        order = list(LANGUAGES)
        self.language = order[(order.index(self.language) + 1) % len(order)]

    async def watch_language(self, language: str) -> None:
        self.cat = Catalog(language)
        self.settings.language = self.cat.lang
        self.save_settings()
        if self.interview is not None:
            self.interview.case.language = self.cat.lang
        translate_bindings(self, self.cat)
        for screen in list(self.screen_stack):
            if isinstance(screen, Localized):
                await screen.relabel(self.cat)
        self.refresh_start()  # its status lines (rules, release, store) are words too

    def set_theme(self, name: str) -> None:
        if name in THEMES:
            self.theme = name
            self.settings.theme = name
            self.save_settings()

    def save_settings(self) -> None:
        try:
            self.settings.save(self.home)
        except OSError as exc:
            self.notify(self.cat.t("errors.settings_not_saved", error=exc.strerror or str(exc)), severity="error")

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

    # -- quitting ----------------------------------------------------------------
    def action_help_quit(self) -> None:
        self.notify(self.cat.t("quit.how"), title=self.cat.t("quit.title"))

    async def action_quit(self) -> None:
        self._remember_exit()
        self.exit(0)

    def on_quit(self, message: messages.Quit) -> None:
        self._remember_exit()
        self.exit(0)

    def action_save_and_stop(self) -> None:
        if self.interview is not None and not self.interview.signed and not self.autosave():
            return
        self._remember_exit()
        self.exit(0)

    def _remember_exit(self) -> None:
        if self.interview is not None and not self.interview.signed:
            self.exit_message = self.cat.t("quit.saved", id=self.interview.case.id)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "save_and_stop":
            # "continue later" only means something while an unsigned case is open
            return self.interview is not None and not self.interview.signed
        return True

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        t = self.cat.t
        yield SystemCommand(t("palette.keys"), t("palette.keys_help"), self.action_show_help_panel)
        yield SystemCommand(t("palette.quit"), t("palette.quit_help"), self.action_quit)

    def action_command_palette(self) -> None:
        from textual.command import CommandPalette

        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(CommandPalette(id="--command-palette", placeholder=self.cat.t("palette.placeholder")))

    # -- the start page --------------------------------------------------------------
    def start_page(self) -> StartPage:
        from tui.document import readable_time
        from tui.screens.start import CaseLine

        rs = self.rs
        summaries, unreadable = self.store.summaries(recipient_fact=rs.info.recipient_fact if rs is not None else None)
        lines = []
        for s in summaries:
            when = readable_time(s.updated.astimezone().isoformat()) if s.updated else "?"
            recipient = None
            if rs is not None and s.recipient is not None:
                from engine.present import answer_label

                recipient = answer_label(rs, rs.info.recipient_fact, s.recipient, self.cat.lang)
            lines.append(CaseLine(s.id, when, recipient, s.answered, s.status))
        waiting = None
        if self._waiting is not None:
            waiting = self.cat.t("start.waiting_new" if isinstance(self._waiting, messages.NewCase)
                                 else "start.waiting_resume")
        return StartPage(lines, unreadable, self.rules_status(), waiting)

    def refresh_start(self) -> None:
        for screen in self.screen_stack:
            if isinstance(screen, StartScreen):
                screen.page = self.start_page()
                screen.update(screen.page)


def run_app(**kwargs: Any) -> int:
    app = DeelwijzerApp(**kwargs)
    try:
        result = app.run()
    finally:
        app.close_store()   # the records are in the local log already; this waits briefly for the push
    if app.exit_message:
        print(app.exit_message)
    return 0 if result is None else int(result)
