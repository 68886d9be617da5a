"""What screens tell the App ("messages up"). The App decides what follows (``tui.flow``).

Screens never reach into the App: they get what they need in ``__init__`` and post one of
these. A message that moves to another page makes the App hold typed-ahead keys until the next
page has the focus (``DeelwijzerApp.on_event``), so no key lands in a field the user left.
"""

from __future__ import annotations

from typing import Any

from textual.message import Message

from tui.flow import Target


class Stay(Message):
    """No move after all (e.g. the answer was refused): give the held keys back to this page."""


class Navigate(Message):
    """Go to a target (a question, the check-answers page, the advice, the start ...)."""

    def __init__(self, target: Target) -> None:
        super().__init__()
        self.target = target


class GoBack(Message):
    """Back from the page that shows ``current``."""

    def __init__(self, current: Target) -> None:
        super().__init__()
        self.current = current


class AnswerGiven(Message):
    """A checked answer to store; then the flow goes on."""

    def __init__(self, fact: str, value: Any, *, change: bool) -> None:
        super().__init__()
        self.fact = fact
        self.value = value
        self.change = change


class WarningsConfirmed(Message):
    """ "Klopt dit?" -- yes: the answers stand as given."""

    def __init__(self, target: Target) -> None:
        super().__init__()
        self.target = target


class NewCase(Message):
    pass


class ResumeCase(Message):
    def __init__(self, case_id: str) -> None:
        super().__init__()
        self.case_id = case_id


class OpenSettings(Message):
    pass


class OpenHelp(Message):
    def __init__(self, fact: str) -> None:
        super().__init__()
        self.fact = fact


class OpenWhy(Message):
    pass


class OpenDossier(Message):
    """The dossier document (a concept before signing)."""


class RecordRequested(Message):
    """ "Bevestig en leg vast": the App checks name, key and passphrase, then signs."""


class WeighingChanged(Message):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class SaveDocument(Message):
    """Write the dossier document as ``kind`` ("pdf" or "text") to ``path``."""

    def __init__(self, kind: str, path: str) -> None:
        super().__init__()
        self.kind = kind
        self.path = path


class CloseCase(Message):
    """Back to the start page; the case stays saved."""


class Quit(Message):
    pass
