"""The one place that talks to durable-rules.

durable-rules 2.0.28 is an unmaintained C extension with sharp edges, measured in
``../shared/notes/durable-rules.md``. This wrapper keeps them out of reach:

* it drives the C module (``durable_rules_engine``) directly and never starts durable's
  Python ``Host``: no timer or dispatcher threads, no JSON round trip of the session state
  per action, no exceptions swallowed into the state -- an action is our own code, run on
  the calling thread, and its errors propagate;
* one process-wide lock around every engine call (the C handle table is not thread-safe);
* rulesets are registered once under a content-addressed name (they cannot be replaced);
* an evaluation runs the program's stages (``engine.compiler``) one after the other, each in
  a fresh session that is deleted afterwards, so nothing leaks between evaluations; a
  session is deleted only after an action has run in it (every stage has a ``start`` rule
  that fires on the case), because durable frees uninitialised action buffers otherwise;
* facts are asserted one by one (batch paths have corrupted memory): the case, the state
  (the derived facts the earlier stages concluded) and, in the last stage, the advice;
  a fact no rule reads is "not handled" (code 1), which is not an error;
* an action's message starts with the name of the rule that fired (``{"<name>":``,
  state.c ``serializeResult``); only that name is read, never the matched facts;
* every failure of the C module is raised as DurableError with the durable error code
  explained, never as a crash of the process.
"""
from __future__ import annotations

import json
import os
import re
import threading

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import durable_rules_engine as _dre

from engine.compiler import START, STATE, Program, Stage
from engine.errors import DurableError

# Meaning of the error codes durable-rules reports (src/rules/rules.h), for the messages we show.
_CODES = {
    "101": "out of memory", "102": "unexpected type", "103": "unexpected value", "104": "parse error",
    "105": "the compiled rule set is not valid for durable-rules", "202": "unknown operator",
    "302": "a fact has too many properties", "304": "a rule has too many patterns", "309": "unknown session",
}
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _explain(exc: BaseException) -> str:
    text = str(exc)
    m = re.search(r"error code: (\d+)", text)
    if m and m.group(1) in _CODES:
        return f"{text} ({_CODES[m.group(1)]})"
    return text


@dataclass
class _Evaluation:
    program: Program
    fired: list[str] = field(default_factory=list)
    held: set[str] = field(default_factory=set)   # flags of the derived facts concluded so far


Choose = Callable[[list[str]], tuple[dict[str, Any], Any]]


class StageMemo(dict[Any, tuple[str, ...]]):
    """What durable fired for each distinct stage input, during one walk (see ``evaluate``)."""

    misses = 0


class DurableEngine:
    _instance: DurableEngine | None = None
    _instance_lock = threading.Lock()

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._handles: dict[str, int] = {}

    @classmethod
    def get(cls) -> DurableEngine:
        with cls._instance_lock:
            if cls._instance is None:
                cls._instance = DurableEngine()
            return cls._instance

    def register(self, program: Program) -> None:
        """Register every stage of a program (done once per process; also what ``rules check``
        uses to prove durable accepts the program)."""
        with self._lock:
            for stage in program.stages:
                self._handle(stage)

    def _handle(self, stage: Stage) -> int:
        handle = self._handles.get(stage.name)
        if handle is not None:
            return handle
        try:
            handle = _dre.create_ruleset(stage.name, _encode(stage.definition))
        except Exception as exc:  # durable reports problems as a bare Exception with an error code
            raise DurableError(f"durable-rules rejected the compiled rule set ({stage.kind} stage, "
                               f"{len(stage.definition) - 1} engine rules): {_explain(exc)}") from None
        self._handles[stage.name] = handle
        return handle

    def evaluate(self, program: Program, case: dict[str, Any], choose: Choose,
                 memo: StageMemo | None = None) -> tuple[list[str], Any]:
        """Run the stages on one case. ``choose(fired)`` is called once the routes have fired and
        returns the advice fact for the last stage and a result that is passed back.

        A stage is a pure function of the facts it is sent (a fresh session, fixed rules), so a
        walk over many cases may pass a ``memo``: each distinct stage input is then evaluated by
        durable once, and a repeated one reuses what durable fired for it."""
        with self._lock:
            ev = _Evaluation(program)
            chosen: tuple[dict[str, Any], Any] | None = None
            for stage in program.stages:
                # each stage is sent only the properties its rules test: smaller facts, cheaper asserts
                case_part = tuple(map(case.get, stage.case_props))
                state_part = tuple(map(ev.held.__contains__, stage.state_props))
                advice: dict[str, Any] | None = None
                if stage.kind == "advice":
                    chosen = choose(sorted(ev.fired))
                    advice = chosen[0]

                def facts() -> list[dict[str, Any]]:
                    out = [{"t": case["t"], **{p: v for p, v in zip(stage.case_props, case_part) if v is not None}}]
                    if stage.reads_state:
                        out.append({"t": STATE, **{p: 1 for p, h in zip(stage.state_props, state_part) if h}})
                    if advice is not None:
                        out.append(advice)
                    return out

                if memo is None:
                    self._run_stage(ev, stage, facts())
                    continue
                key = (stage.name, case_part, state_part, tuple(sorted(advice.items())) if advice else None)
                hit = memo.get(key)
                if hit is None:
                    sub = _Evaluation(program)
                    self._run_stage(sub, stage, facts())
                    hit = memo[key] = tuple(sub.fired)
                    memo.misses += 1
                for rule_key in hit:
                    ev.fired.append(rule_key)
                    conclusion = program.concludes.get(rule_key)
                    if conclusion:
                        ev.held.add(program.derived_props[conclusion])
            if chosen is None:
                chosen = choose(sorted(ev.fired))
            return sorted(ev.fired), chosen[1]

    def _run_stage(self, ev: _Evaluation, stage: Stage, facts: list[dict[str, Any]]) -> None:
        handle = self._handle(stage)
        sid = os.urandom(16).hex()
        clean = False  # durable's action buffers are initialised once an action has run
        try:
            for fact in facts:
                clean = self._assert(ev, handle, sid, fact) or clean
        finally:
            if clean:
                try:
                    _dre.delete_state(handle, sid)
                except Exception as exc:  # noqa: BLE001
                    raise DurableError(f"durable-rules could not end an evaluation: {_explain(exc)}") from None

    def _assert(self, ev: _Evaluation, handle: int, sid: str, fact: dict[str, Any]) -> bool:
        """Assert one fact and run the actions it triggers; True when an action ran."""
        try:
            result = _dre.assert_fact(handle, _encode({**fact, "sid": sid}))
        except Exception as exc:  # noqa: BLE001 - every C failure becomes a DurableError
            raise DurableError(f"durable-rules could not take the fact {str(fact)[:120]}: {_explain(exc)}") from None
        code = result[0]
        if code == 1:  # "not handled": no pattern reads this fact, so nothing can fire on it
            return False
        if code == 2:
            raise DurableError(f"durable-rules saw the fact {str(fact)[:120]} twice in one session")
        if code != 0:
            return False
        ran = False
        try:
            started = _dre.start_action_for_state(handle, result[1])
            message = started[1] if started else None
            while message:
                ran = True
                self._fire(ev, message)
                message = _dre.complete_and_start_action(handle, result[1])
        except DurableError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise DurableError(f"durable-rules failed while running its actions: {_explain(exc)}") from None
        return ran

    def _fire(self, ev: _Evaluation, message: str) -> None:
        end = message.find('":', 2)
        if not message.startswith('{"') or end < 0:
            raise DurableError(f"durable-rules sent an action message we cannot read: {message[:80]!r}")
        rule_key = message[2:end]
        if rule_key == START:
            return
        if rule_key not in ev.program.rule_of:
            raise DurableError(f"durable-rules fired {rule_key!r}, which is not in the compiled program")
        ev.fired.append(rule_key)
        conclusion = ev.program.concludes.get(rule_key)
        if conclusion:
            ev.held.add(ev.program.derived_props[conclusion])
