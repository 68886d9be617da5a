"""Where the interview goes next: typed targets and the rules between them (no Textual import).

A target names a kind of page, never a string that could be mistaken for a fact id:
:class:`Question` (one fact), :class:`CheckAnswers`, :class:`Plausibility` ("Klopt dit?"),
:class:`Advice`, :class:`Recorded` and :class:`Start`. :class:`Flow` answers every "where now?"
from the engine's decision (``to_ask``, ``relevant``, ``warnings``); the App only shows what it
returns. A case remembers its position as :func:`encode`'s small mapping.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tui.interview import Interview


@dataclass(frozen=True)
class Question:
    fact: str
    change: bool = False   # reached from the check-answers page: return there when done


@dataclass(frozen=True)
class CheckAnswers:
    pass


@dataclass(frozen=True)
class Plausibility:
    """Ask "Klopt dit?" about the rule set's plausibility checks that hold, then go on to ``then``."""

    then: Target
    after: str | None = None   # the question just answered (Back returns there)
    change: bool = False


@dataclass(frozen=True)
class Advice:
    pass


@dataclass(frozen=True)
class Recorded:
    pass


@dataclass(frozen=True)
class Start:
    pass


Target = Question | CheckAnswers | Plausibility | Advice | Recorded | Start


def encode(target: Target) -> dict[str, Any]:
    """The position kept in the case file (a question keeps its fact in its own field)."""
    if isinstance(target, Question):
        return {"page": "question", "fact": target.fact}
    if isinstance(target, Plausibility):
        return encode(target.then) if not isinstance(target.then, Plausibility) else {"page": "review"}
    return {"page": {CheckAnswers: "review", Advice: "advice", Recorded: "recorded", Start: "start"}[type(target)]}


def decode(raw: Any) -> Target | None:
    """A stored position; also the plain strings of earlier versions (a fact id, "review", "advice")."""
    if isinstance(raw, dict):
        page = raw.get("page")
        if page == "question" and isinstance(raw.get("fact"), str):
            return Question(raw["fact"])
        return {"review": CheckAnswers(), "advice": Advice(), "recorded": Recorded(), "start": Start()}.get(
            page if isinstance(page, str) else "")
    if isinstance(raw, str) and raw:
        legacy: dict[str, Target] = {"review": CheckAnswers(), "advice": Advice()}
        return legacy.get(raw, Question(raw))
    return None


class Flow:
    """The walk over one case's questions, decided by the engine after every answer.

    * after a fresh answer the next page is ``to_ask[0]``; after going back, the walk goes on
      along ``relevant`` through the answers already given, but a question that became newly
      needed earlier in the order is asked first;
    * a plausibility check of the rule set that holds on the answers and was not confirmed for
      exactly these answers is asked ("Klopt dit?") before the interview goes on or computes
      an advice on it;
    * the advice is shown only when every question is answered; after signing only the record.
    """

    def __init__(self, interview: Interview) -> None:
        self.interview = interview

    # -- where a case opens ---------------------------------------------------------------
    def first(self) -> Target:
        iv = self.interview
        if iv.signed:
            return Recorded()
        pos = decode(iv.case.position)
        relevant, missing = iv.relevant, iv.missing
        if isinstance(pos, Question) and pos.fact in relevant:
            if missing and relevant.index(missing[0]) < relevant.index(pos.fact):
                return Question(missing[0])
            return Question(pos.fact)
        if missing:
            return Question(missing[0])
        if isinstance(pos, Advice):
            return self.to_advice()
        return CheckAnswers()

    # -- forward ----------------------------------------------------------------------------
    def after_answer(self, fact: str, *, change: bool) -> Target:
        return self._gate(self._next(fact, change), after=fact, change=change)

    def _next(self, fact: str, change: bool) -> Target:
        iv = self.interview
        missing = iv.missing
        if change:
            return Question(missing[0], change=True) if missing else CheckAnswers()
        relevant = iv.relevant
        if fact not in relevant:
            return Question(missing[0]) if missing else CheckAnswers()
        index = relevant.index(fact)
        if missing and relevant.index(missing[0]) < index:
            return Question(missing[0])
        if index + 1 < len(relevant):
            return Question(relevant[index + 1])
        return Question(missing[0]) if missing else CheckAnswers()

    def _gate(self, then: Target, *, after: str | None = None, change: bool = False) -> Target:
        if self.interview.unconfirmed_warnings():
            return Plausibility(then=then, after=after, change=change)
        return then

    def to_advice(self) -> Target:
        """From the check-answers page: open questions first, then "Klopt dit?", then the advice."""
        iv = self.interview
        if iv.signed:
            return Recorded()
        if iv.missing:
            return Question(iv.missing[0], change=True)
        return self._gate(Advice() if iv.finished else CheckAnswers())

    def after_confirm(self, target: Plausibility) -> Target:
        return self.resolve(target.then)

    def resolve(self, target: Target) -> Target:
        """``target`` made valid for the current answers (an advice needs every answer, etc.)."""
        iv = self.interview
        if iv.signed and not isinstance(target, Start):
            return Recorded()
        if isinstance(target, Advice):
            return self.to_advice()
        if isinstance(target, Question) and target.fact not in iv.relevant:
            return Question(iv.missing[0], change=target.change) if iv.missing else CheckAnswers()
        return target

    # -- back ---------------------------------------------------------------------------------
    def back(self, current: Target) -> Target:
        iv = self.interview
        if isinstance(current, Plausibility):
            return Question(current.after, change=current.change) if current.after else CheckAnswers()
        if isinstance(current, Question) and current.change:
            return CheckAnswers()
        if isinstance(current, Advice):
            return CheckAnswers()
        relevant = iv.relevant
        if isinstance(current, Question) and current.fact in relevant:
            earlier = relevant[: relevant.index(current.fact)]
        else:
            earlier = relevant
        answered = [f for f in earlier if f in iv.case.answers]
        return Question(answered[-1]) if answered else Start()

    # -- numbering ------------------------------------------------------------------------------
    def number(self, fact: str) -> int:
        """The question's number on the current path ("vraag 6"); no total, no percentage."""
        relevant = self.interview.relevant
        return relevant.index(fact) + 1 if fact in relevant else len(relevant) + 1
