"""Interview state for one case: answers, navigation, progress (no Textual import).

The engine decides which questions are needed; this class only walks them:

* the next question after a fresh answer is ``decision.to_ask[0]`` (relevant and unanswered,
  including questions with a legal default); the interview is finished when ``to_ask`` is empty;
* when the user went back and answers again, the walk continues along
  ``decision.relevant`` (answered questions are shown again with their
  answer), but a question that became newly needed *earlier* in the order
  is asked first;
* answers the engine reports as ``ignored`` are moved to ``case.dropped`` so
  the check-answers screen can show them as "no longer needed" and they are
  never written into the signed record.

``engine`` is passed in as a module so this file imports neither the engine
nor Textual at module scope.
"""

from __future__ import annotations

from typing import Any

from tui.case_store import STATUS_COMPLETE, STATUS_IN_PROGRESS, STATUS_SIGNED, Case, CaseStore

REVIEW = "review"
ADVICE = "advice"


class Interview:
    def __init__(self, engine: Any, ruleset: Any, case: Case, store: CaseStore) -> None:
        self.engine = engine
        self.rs = ruleset
        self.case = case
        self.store = store
        self.decision: Any = None
        self.invalid_on_load: list[str] = []
        previous = case.ruleset.get("fingerprint") if case.ruleset else None
        self.rules_changed = previous is not None and previous != str(ruleset.fingerprint)
        self._sanitise()
        self.evaluate()

    # -- answers -----------------------------------------------------------------
    def _sanitise(self) -> None:
        """Move stored answers the current rule set rejects to ``dropped``."""
        known = {q.fact for q in self.rs.questions}
        for fact in list(self.case.answers):
            value = self.case.answers[fact]
            ok = fact in known
            if ok:
                try:
                    self.engine.parse_answers(self.rs, {fact: value})
                except self.engine.AnswerError:
                    ok = False
            if not ok:
                self.invalid_on_load.append(fact)
                self.case.dropped[fact] = self.case.answers.pop(fact)

    def typed_answers(self) -> dict[str, Any]:
        return self.engine.parse_answers(self.rs, dict(self.case.answers))

    @property
    def signed(self) -> bool:
        return self.case.status == STATUS_SIGNED

    def evaluate(self) -> Any:
        decision = self.engine.decide(self.rs, self.typed_answers())
        if decision.ignored:
            for fact in decision.ignored:
                if fact in self.case.answers:
                    self.case.dropped[fact] = self.case.answers.pop(fact)
            decision = self.engine.decide(self.rs, self.typed_answers())
        self.decision = decision
        self.case.ruleset = {"name": str(self.rs.name), "version": str(self.rs.version),
                             "fingerprint": str(self.rs.fingerprint)}
        if not self.signed:
            self.case.status = STATUS_COMPLETE if self.finished else STATUS_IN_PROGRESS
            self.case.progress = max(self.case.progress, self.fraction())
        return decision

    def validate(self, fact: str, value: Any) -> Any:
        """Parse one answer; raises ``engine.AnswerError`` with a message for the user."""
        return self.engine.parse_answers(self.rs, {fact: value})[fact]

    def answer(self, fact: str, value: Any) -> None:
        """Store a validated answer, re-evaluate and autosave."""
        if self.signed:
            raise RuntimeError("case is signed")
        self.validate(fact, value)
        self.case.answers[fact] = value
        self.case.dropped.pop(fact, None)
        self.evaluate()
        self.save()

    def save(self, position: str | None = None) -> None:
        if position is not None:
            self.case.position = position
        self.store.save(self.case)

    def prefill(self, fact: str) -> Any:
        """The value to show on a question: the answer, else a dropped earlier answer."""
        if fact in self.case.answers:
            return self.case.answers[fact]
        return self.case.dropped.get(fact)

    # -- navigation --------------------------------------------------------------
    @property
    def relevant(self) -> list[str]:
        return list(self.decision.relevant)

    @property
    def missing(self) -> list[str]:
        """Questions still to ask, in interview order (``decision.to_ask``)."""
        return list(self.decision.to_ask)

    @property
    def finished(self) -> bool:
        """Every question the engine asks under these answers is answered (so there is an advice)."""
        return not self.decision.to_ask and self.decision.advice is not None

    def first_target(self) -> str:
        """Where a (resumed) case opens: saved position if still valid, else the next question."""
        if self.signed:
            return ADVICE
        pos = self.case.position
        if pos in self.relevant:
            # never skip a newly needed earlier question
            missing = self.missing
            if missing and self.relevant.index(missing[0]) < self.relevant.index(pos):
                return missing[0]
            return pos
        if self.missing:
            return self.missing[0]
        if pos == ADVICE:
            return ADVICE
        return REVIEW

    def next_after(self, fact: str) -> str:
        """Target after answering ``fact``: a question id, or :data:`REVIEW`."""
        relevant = self.relevant
        missing = self.missing
        if fact not in relevant:
            return missing[0] if missing else REVIEW
        index = relevant.index(fact)
        if missing and relevant.index(missing[0]) < index:
            return missing[0]
        if index + 1 < len(relevant):
            return relevant[index + 1]
        return missing[0] if missing else REVIEW

    def previous_before(self, target: str) -> str | None:
        """The question before ``target`` (a fact or REVIEW/ADVICE); ``None`` = the start."""
        relevant = self.relevant
        if target in relevant:
            earlier = relevant[: relevant.index(target)]
        else:
            earlier = relevant
        answered = [f for f in earlier if f in self.case.answers]
        return answered[-1] if answered else None

    def number(self, fact: str) -> int:
        """1-based position of ``fact`` on the current path."""
        relevant = self.relevant
        return relevant.index(fact) + 1 if fact in relevant else len(relevant) + 1

    def fraction(self) -> float:
        if self.decision is None:
            return 0.0
        if self.finished:
            return 1.0
        answered = sum(1 for f in self.decision.relevant if f in self.case.answers)
        todo = len(self.decision.to_ask)
        return answered / (answered + todo) if answered + todo else 0.0

    # -- record -----------------------------------------------------------------
    def recorded_answers(self) -> dict[str, Any]:
        """The answers that count (relevant ones only), as stored (JSON types)."""
        return {f: self.case.answers[f] for f in self.relevant if f in self.case.answers}

    def mark_signed(self, record: dict[str, Any]) -> None:
        self.case.status = STATUS_SIGNED
        self.case.record = record
        self.case.position = ADVICE
        self.store.save(self.case)
