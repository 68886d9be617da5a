"""The one place that talks to durable-rules.

durable-rules 2.0.28 is an unmaintained C extension with sharp edges, measured in
``../shared/notes/durable-rules.md``. This wrapper keeps them out of reach:

* one Host per process (every Host starts timer threads that never stop), and its
  background dispatcher threads are switched off: all actions run synchronously on the
  calling thread, inside our lock;
* one process-wide lock around every engine call (the C handle table is not thread-safe);
* rulesets are registered once under a content-addressed name (they cannot be replaced),
  from a deep copy (registration mutates its input);
* facts are asserted one by one (batch paths have corrupted memory), and a sink rule in
  every program means no fact is ever "not handled";
* a fresh session id per evaluation, always deleted afterwards, so nothing leaks between
  evaluations;
* exceptions raised inside actions are swallowed by durable into the session state: we
  read the state after every evaluation and raise them as EngineError.
"""
from __future__ import annotations

import copy
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator

from durable.engine import Host

from engine.compiler import SINK, Program


class EngineError(Exception):
    """durable-rules failed; the message says what and the evaluation is discarded."""


@dataclass
class _Session:
    program: Program
    sid: str
    fired: list[tuple[str, dict[str, dict[str, Any]]]] = field(default_factory=list)
    derived: set[str] = field(default_factory=set)


class _QuietHost(Host):
    """A durable Host without background threads, whose actions record what fired."""

    def __init__(self, owner: "DurableEngine"):
        self._owner = owner
        super().__init__()

    def _run(self) -> None:  # no dispatcher/timer threads: we never use timers or async actions
        return None

    def get_action(self, action_name: str):
        program_name, _, rule_key = action_name.partition("|")
        if rule_key == SINK:
            def sink(c):
                return None
            return sink
        owner = self._owner

        def fire(c):
            owner._on_fire(program_name, rule_key, c)
        return fire


class DurableEngine:
    _instance: "DurableEngine | None" = None
    _instance_lock = threading.Lock()

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._host = _QuietHost(self)
        self._programs: dict[str, Program] = {}
        self._sessions: dict[str, _Session] = {}

    @classmethod
    def get(cls) -> "DurableEngine":
        with cls._instance_lock:
            if cls._instance is None:
                cls._instance = DurableEngine()
            return cls._instance

    def _register(self, program: Program) -> None:
        if program.name in self._programs:
            return
        try:
            self._host.register_rulesets({program.name: copy.deepcopy(program.definition)})
        except Exception as exc:  # durable reports problems as bare Exception with an error code
            raise EngineError(f"durable-rules rejected the compiled rule set {program.name}: {exc}") from None
        self._programs[program.name] = program

    def _on_fire(self, program_name: str, rule_key: str, c) -> None:
        session = self._sessions.get(c.s.sid)
        if session is None or session.program.name != program_name:
            raise EngineError(f"action for {rule_key} fired outside its session")
        program = session.program
        matched = {}
        for alias in program.aliases.get(rule_key, ()):
            content = getattr(c, alias)
            if content is not None:
                matched[alias] = {k: v for k, v in content._d.items() if k != "sid"}
        session.fired.append((rule_key, matched))
        conclusion = program.concludes.get(rule_key)
        if conclusion and conclusion not in session.derived:
            session.derived.add(conclusion)
            c.assert_fact({"t": "d", "n": conclusion})

    @contextmanager
    def session(self, program: Program) -> Iterator["SessionHandle"]:
        with self._lock:
            self._register(program)
            sid = uuid.uuid4().hex
            session = _Session(program, sid)
            self._sessions[sid] = session
            try:
                yield SessionHandle(self, session)
            finally:
                self._sessions.pop(sid, None)
                try:
                    self._host.delete_state(program.name, sid)
                except Exception:
                    pass  # no state was created (nothing asserted): nothing to delete


class SessionHandle:
    def __init__(self, engine: DurableEngine, session: _Session):
        self._engine, self._session = engine, session

    def assert_facts(self, facts: list[dict[str, Any]]) -> None:
        name, sid = self._session.program.name, self._session.sid
        for fact in facts:
            try:
                self._engine._host.assert_fact(name, {**fact, "sid": sid})
            except Exception as exc:
                raise EngineError(f"durable-rules could not take the fact {fact!r}: {getattr(exc, 'message', exc)}") from None
        try:
            state = self._engine._host.get_state(name, sid)
        except Exception as exc:
            raise EngineError(f"durable-rules lost the session state: {exc}") from None
        if "exception" in state:
            raise EngineError(f"a rule action failed inside durable-rules: {state['exception']}")

    @property
    def fired(self) -> list[tuple[str, dict[str, dict[str, Any]]]]:
        return list(self._session.fired)
