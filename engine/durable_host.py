"""The one place that talks to durable-rules.

durable-rules 2.0.28 is an unmaintained C extension with sharp edges, measured in
``../shared/notes/durable-rules.md``. This wrapper keeps them out of reach:

* it drives the C module (``durable_rules_engine``) directly and never starts durable's
  Python ``Host``: no timer or dispatcher threads, no JSON round trip of the session state
  per action, no exceptions swallowed into the state -- an action is our own code, run on
  the calling thread, and its errors propagate;
* one process-wide lock around every engine call (the C handle table is not thread-safe);
* rulesets are registered once under a content-addressed name (they cannot be replaced),
  from a copy without the action names;
* facts are asserted one by one (batch paths have corrupted memory); a derived fact that a
  firing concludes is queued and asserted after the firing completes (the rule language is
  monotone, so the order of assertion cannot change what fires); a sink rule in every
  program means no fact is ever "not handled";
* a fresh session id per evaluation, always deleted afterwards, so nothing leaks between
  evaluations;
* every failure of the C module is raised as DurableError with the durable error code
  explained, never as a crash of the process.
"""
from __future__ import annotations

import json
import os
import re
import threading

from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import durable_rules_engine as _dre

from engine.compiler import SINK, Program
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
class _Session:
    program: Program
    handle: int
    sid: str
    fired: list[tuple[str, dict[str, dict[str, Any]]]] = field(default_factory=list)
    derived: set[str] = field(default_factory=set)


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

    def _register(self, program: Program) -> int:
        handle = self._handles.get(program.name)
        if handle is not None:
            return handle
        definition = {name: {k: v for k, v in rule.items() if k != "run"} for name, rule in program.definition.items()}
        try:
            handle = _dre.create_ruleset(program.name, _encode(definition))
        except Exception as exc:  # durable reports problems as a bare Exception with an error code
            raise DurableError(f"durable-rules rejected the compiled rule set {program.name}: {_explain(exc)}") from None
        self._handles[program.name] = handle
        return handle

    @contextmanager
    def session(self, program: Program) -> Iterator[SessionHandle]:
        with self._lock:
            handle = self._register(program)
            session = _Session(program, handle, os.urandom(16).hex())
            try:
                yield SessionHandle(session)
            finally:
                try:
                    _dre.delete_state(handle, session.sid)
                except Exception:  # noqa: BLE001 - no state was created (nothing asserted): nothing to delete
                    pass


class SessionHandle:
    def __init__(self, session: _Session):
        self._session = session

    def assert_facts(self, facts: list[dict[str, Any]]) -> None:
        s = self._session
        pending = deque(facts)
        while pending:
            fact = pending.popleft()
            try:
                result = _dre.assert_fact(s.handle, _encode({**fact, "sid": s.sid}))
            except Exception as exc:  # noqa: BLE001 - every C failure becomes a DurableError
                raise DurableError(f"durable-rules could not take the fact {str(fact)[:120]}: {_explain(exc)}") from None
            code = result[0]
            if code == 1:
                raise DurableError(f"durable-rules matched no rule for {str(fact)[:120]} (the sink rule is missing)")
            if code == 2:
                raise DurableError(f"durable-rules saw the fact {str(fact)[:120]} twice in one session")
            if code == 3:
                continue
            pending.extend(self._run_actions(result[1]))

    def _run_actions(self, state: int) -> list[dict[str, Any]]:
        s = self._session
        concluded: list[dict[str, Any]] = []
        try:
            started = _dre.start_action_for_state(s.handle, state)
            message = started[1] if started else None
            while message:
                for rule_key, matched in json.loads(message).items():
                    concluded.extend(self._fire(rule_key, matched))
                message = _dre.complete_and_start_action(s.handle, state)
        except DurableError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise DurableError(f"durable-rules failed while running its actions: {_explain(exc)}") from None
        return concluded

    def _fire(self, rule_key: str, matched: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
        s = self._session
        if rule_key == SINK:
            raise DurableError("durable-rules fired the sink rule, which can never match")
        if rule_key not in s.program.rule_of:
            raise DurableError(f"durable-rules fired {rule_key!r}, which is not in the compiled program")
        s.fired.append((rule_key, {alias: {k: v for k, v in content.items() if k != "sid"}
                                   for alias, content in matched.items()}))
        conclusion = s.program.concludes.get(rule_key)
        if conclusion and conclusion not in s.derived:
            s.derived.add(conclusion)
            return [{"t": "d", "n": conclusion}]
        return []

    @property
    def fired(self) -> list[tuple[str, dict[str, dict[str, Any]]]]:
        return list(self._session.fired)
