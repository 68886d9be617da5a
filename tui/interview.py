"""Interview state for one case: answers, the engine's decision, confirmations (no Textual import).

The engine decides which questions are needed (``decision.to_ask``, ``decision.relevant``);
:mod:`tui.flow` walks them. This class keeps the answers true to what the professional gave:

* answers the engine reports as ``ignored`` move to ``case.dropped``, so the check-answers page
  shows them as "no longer needed" and they never go into the signed record;
* stored answers the current rule set rejects are set aside when a case is opened;
* a plausibility warning (``decision.warnings``, from the rule set's ``checks``) counts as
  confirmed only for the exact answers that were confirmed.

``engine`` is passed in as a module so this file imports neither the engine nor Textual.
"""

from __future__ import annotations

from typing import Any

from tui.case_store import STATUS_COMPLETE, STATUS_IN_PROGRESS, STATUS_SIGNED, Case, CaseStore


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
            ok = fact in known
            if ok:
                try:
                    self.engine.parse_answers(self.rs, {fact: self.case.answers[fact]})
                except self.engine.AnswerError:
                    ok = False
            if not ok:
                self.invalid_on_load.append(fact)
                self.case.dropped[fact] = self.case.answers.pop(fact)

    def typed_answers(self) -> dict[str, Any]:
        return dict(self.engine.parse_answers(self.rs, dict(self.case.answers)))

    @property
    def signed(self) -> bool:
        return self.case.status == STATUS_SIGNED

    def evaluate(self) -> Any:
        decision = self.engine.decide(self.rs, self.typed_answers(), explain=True)
        if decision.ignored:
            for fact in decision.ignored:
                if fact in self.case.answers:
                    self.case.dropped[fact] = self.case.answers.pop(fact)
            decision = self.engine.decide(self.rs, self.typed_answers(), explain=True)
        self.decision = decision
        self.case.ruleset = {"name": str(self.rs.name), "version": str(self.rs.version),
                             "fingerprint": str(self.rs.fingerprint)}
        if not self.signed:
            self.case.status = STATUS_COMPLETE if self.finished else STATUS_IN_PROGRESS
        return decision

    def bounds(self, fact: str) -> tuple[int | None, int | None]:
        """A number question's range, with parameter ids (``age.youth_care_last``) resolved."""
        q = self.rs.question(fact)

        def value(bound: Any) -> int | None:
            if isinstance(bound, str):
                param = self.rs.parameters.get(bound)
                return int(param.value) if param is not None else None
            return bound if isinstance(bound, int) else None

        return value(q.min), value(q.max)

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

    def save(self, position: dict[str, Any] | None = None) -> None:
        if position is not None:
            self.case.position = position
        self.store.save(self.case)

    def prefill(self, fact: str) -> Any:
        """The value to show on a question: the answer, else a dropped earlier answer."""
        if fact in self.case.answers:
            return self.case.answers[fact]
        return self.case.dropped.get(fact)

    # -- plausibility ("Klopt dit?") ----------------------------------------------------
    def _confirmation_key(self, warning: Any) -> dict[str, Any]:
        return {fact: self.case.answers.get(fact) for fact in warning.facts}

    def unconfirmed_warnings(self) -> list[Any]:
        """The warnings that hold and were not confirmed for exactly these answers."""
        return [w for w in self.decision.warnings
                if self.case.confirmed.get(w.check) != self._confirmation_key(w)]

    def confirm_warnings(self) -> None:
        for warning in self.decision.warnings:
            self.case.confirmed[warning.check] = self._confirmation_key(warning)
        self.save()

    # -- the professional's own weighing (dossier only) ---------------------------------
    def set_weighing(self, text: str) -> None:
        if self.signed:
            raise RuntimeError("case is signed")
        self.case.weighing = text
        self.save()

    # -- paths --------------------------------------------------------------------------
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

    # -- record -----------------------------------------------------------------
    def recorded_answers(self) -> dict[str, Any]:
        """The answers that count (relevant ones only), as stored (JSON types)."""
        return {f: self.case.answers[f] for f in self.relevant if f in self.case.answers}

    def mark_signed(self, record: dict[str, Any]) -> None:
        self.case.status = STATUS_SIGNED
        self.case.record = record
        self.case.position = {"page": "recorded"}
        self.store.save(self.case)
