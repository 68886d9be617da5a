"""Command palette (ctrl+p): go to question, switch language, save and stop, explain, theme."""

from __future__ import annotations

from typing import TYPE_CHECKING
from collections.abc import Callable

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from tui.app import DeelwijzerApp


class InterviewCommands(Provider):
    """Context-dependent commands, in the user's language."""

    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        app: DeelwijzerApp = self.app  # type: ignore[assignment]
        screen = self.screen
        t = app.cat.t
        commands: list[tuple[str, str, Callable[[], object]]] = []
        explain = getattr(screen, "action_explain", None)
        if explain is not None:
            commands.append((t("palette.explain"), t("palette.explain_help"), explain))
        interview = app.interview
        if interview is not None and not interview.signed:
            from tui import flow
            from tui.messages import Navigate

            for number, fact in enumerate(interview.relevant, 1):
                if fact not in interview.case.answers:
                    continue
                prompt = interview.rs.question(fact).prompt.get(app.cat.lang)
                commands.append((t("palette.goto", n=number, question=prompt), t("palette.goto_help"),
                                 lambda fact=fact: app.post_message(Navigate(flow.Question(fact)))))
            if interview.finished:
                commands.append((t("palette.review"), t("palette.review_help"),
                                 lambda: app.post_message(Navigate(flow.CheckAnswers()))))
        commands.append((t("palette.language"), t("palette.language_help"),
                         app.action_toggle_language))
        commands.append((t("palette.save_stop"), t("palette.save_stop_help"),
                         app.action_save_and_stop))
        for theme in ("textual-dark", "textual-light", "ansi-dark", "ansi-light"):
            commands.append((t("palette.theme", theme=t(f"themes.{theme}")), t("palette.theme_help"),
                             lambda theme=theme: app.set_theme(theme)))
        return commands

    async def discover(self) -> Hits:
        for title, help_text, callback in self._commands():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
