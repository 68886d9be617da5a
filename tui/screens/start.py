"""Start screen: new case, resume an unfinished case, settings, stop; the rules' status below.

The App gives the screen its lines (:class:`StartPage`) and updates them when the rules are
loaded or a count changes (:meth:`StartScreen.update`); the screen posts what was chosen.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from tui.lang import Catalog
from tui.messages import NewCase, OpenSettings, Quit, ResumeCase
from tui.screens.base import BaseScreen


@dataclass(frozen=True)
class CaseLine:
    id: str
    when: str
    recipient: str | None      # in words; None while the rules are not loaded (never a raw id)
    answered: int
    status: str                # in_progress | complete | signed


@dataclass
class StartPage:
    cases: list[CaseLine] = field(default_factory=list)
    unreadable: int = 0
    status: list[str] = field(default_factory=list)   # rules loaded / loading / error; later: records to push
    waiting: str | None = None                        # an action that runs once the rules are loaded


class StartScreen(BaseScreen[None]):
    BINDINGS = [
        Binding("ctrl+n", "new_case", "new_case", id="new_case"),
        Binding("ctrl+o", "settings", "settings", id="settings"),
        Binding("ctrl+q", "quit", "stop", id="stop", priority=True),
        # Enter is handled when pressed: the keys typed right after it are held for the next page
        # (through the list's own Enter they reached the menu first and chose another line)
        Binding("enter", "choose", show=False, priority=True),
    ]

    def __init__(self, cat: Catalog, page: StartPage) -> None:
        super().__init__(cat)
        self.page = page
        self._highlight: str | None = None

    def compose(self) -> ComposeResult:
        yield Static(self.t("app.title"), classes="titlebar")
        with VerticalScroll(classes="body"):
            yield Static(self.t("start.heading"), classes="heading")
            yield Static(self.t("start.intro"), classes="intro")
            yield OptionList(*self._options(), id="menu")
            yield Static(self._status(), id="rules-status", classes="status")
        yield Footer(compact=True)

    def _options(self) -> list[Option | None]:
        options: list[Option | None] = [Option("＋ " + self.t("start.new_case"), id="new")]
        if self.page.cases:
            options += [None, Option(self.t("start.resume_heading"), id="resume-heading", disabled=True)]
            for line in self.page.cases:
                parts = [line.when]
                if line.recipient:
                    parts.append(line.recipient)
                parts += [self.tn("start.answers", line.answered), self.t(f"status.{line.status}")]
                options.append(Option("↻ " + " · ".join(parts), id=f"case:{line.id}"))
        if self.page.unreadable:
            options.append(Option(self.tn("start.unreadable", self.page.unreadable), id="unreadable", disabled=True))
        options += [None, Option("⚙ " + self.t("start.settings"), id="settings"),
                    Option("⏻ " + self.t("start.quit"), id="quit")]
        return options

    def _status(self) -> str:
        lines = list(self.page.status)
        if self.page.waiting:
            lines.append("… " + self.page.waiting)
        return "\n".join(lines)

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#menu", OptionList))

    def remember_state(self) -> None:
        option = self.query_one("#menu", OptionList).highlighted_option
        self._highlight = option.id if option is not None else None

    def after_relabel(self) -> None:
        menu = self.query_one("#menu", OptionList)
        self.set_focus(menu)
        try:   # the line that was highlighted, else (the case it was is gone: signed) "new case"
            menu.highlighted = menu.get_option_index(self._highlight or "new")
        except Exception:
            menu.highlighted = menu.get_option_index("new")

    def update(self, page: StartPage) -> None:
        """New lines from the App (rules loaded, a case saved, a count changed)."""
        self.remember_state()
        self.page = page
        menu = self.query_one("#menu", OptionList)
        menu.clear_options()
        menu.add_options(self._options())
        self.query_one("#rules-status", Static).update(self._status())
        self.after_relabel()

    def action_choose(self) -> None:
        option = self.query_one("#menu", OptionList).highlighted_option
        if option is not None and not option.disabled and not self.hold_keys:
            self.choose(option.id or "")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()   # a click
        if not self.hold_keys:
            self.choose(event.option.id or "")

    def choose(self, option_id: str) -> None:
        if option_id == "new":
            self.action_new_case()
        elif option_id.startswith("case:"):
            self.request(ResumeCase(option_id.removeprefix("case:")))
        elif option_id == "settings":
            self.action_settings()
        elif option_id == "quit":
            self.action_quit()

    def action_new_case(self) -> None:
        self.request(NewCase())

    def action_settings(self) -> None:
        self.request(OpenSettings())

    def action_quit(self) -> None:
        self.post_message(Quit())
