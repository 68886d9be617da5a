"""Where the interview's rules come from and where its records go (no Textual import).

An organisation sets two things for the interview (docs/releases.md §7, docs/store.md §4):

* **a signed rule-set release**: ``release_dir`` in ``settings.json``, else ``$DEELWIJZER_RELEASE``;
  verified with the trusted-keys file (``trusted_keys`` in the settings, else
  ``$DEELWIJZER_TRUSTED_KEYS``, else ``DATA_HOME/trusted-keys.json``). A release that fails any
  check refuses the interview: no case starts, nothing is recorded, and the start page says what
  failed (the reason code) and whom to ask (:class:`Refused`).
* **an organisation store**: ``store_url`` in the settings, else ``$DEELWIJZER_STORE_URL``. Records
  are appended to the local log first (fsync: only then "vastgelegd"), then a background outbox
  pushes them; the start page shows how many wait (:class:`Recorder`).

Without either, the interview runs embedded on the bundled rules and writes the local log only
(``make run``). ``audit`` (cryptography, psycopg) is imported only when one is configured.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui.settings import Settings, audit_log_path, trusted_keys_path

ENV_RELEASE = "DEELWIJZER_RELEASE"            # the same names as audit.release and `decide`
ENV_TRUSTED_KEYS = "DEELWIJZER_TRUSTED_KEYS"
ENV_STORE_URL = "DEELWIJZER_STORE_URL"


@dataclass(frozen=True)
class Place:
    """What this interview runs on and records to."""

    home: Path
    release_dir: Path | None
    trusted_keys: Path
    store_url: str | None

    @property
    def local_log(self) -> Path:
        return audit_log_path(self.home)


def _setting(settings: Settings, name: str) -> str | None:
    value = settings.extra.get(name)
    return value.strip() if isinstance(value, str) and value.strip() else None


def place_for(settings: Settings, home: Path, environ: dict[str, str] | None = None) -> Place:
    """The settings first, then the environment (IT may set either), then the defaults."""
    env = os.environ if environ is None else environ
    release = _setting(settings, "release_dir") or env.get(ENV_RELEASE) or None
    trusted = _setting(settings, "trusted_keys") or env.get(ENV_TRUSTED_KEYS) or None
    store = _setting(settings, "store_url") or env.get(ENV_STORE_URL) or None
    return Place(home=home, release_dir=Path(release).expanduser() if release else None,
                 trusted_keys=Path(trusted).expanduser() if trusted else trusted_keys_path(home),
                 store_url=store)


class Refused(Exception):
    """The release does not verify: ``code`` (a reason code), what failed, whom to ask."""

    def __init__(self, code: str, message: str, what_to_do: dict[str, str]) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.what_to_do = what_to_do    # by language (nl, en)


@dataclass(frozen=True)
class Released:
    ruleset: Any
    release: dict[str, Any]     # VerifiedRelease.to_json(): recorded with every decision
    lines: dict[str, str]       # by language: "Vrijgave: … vrijgegeven door … op …" for the start page


def open_release(place: Place) -> Released:
    """Verify the configured release now (signature, signer and role, files, validity). Raises Refused."""
    assert place.release_dir is not None
    from audit import release as rel
    from audit.errors import ReleaseError

    try:
        verified = rel.verify_release(place.release_dir, place.trusted_keys)
    except ReleaseError as exc:
        code = getattr(exc.code, "value", str(exc.code))
        raise Refused(str(code), exc.message, {lang: rel.whom_to_ask(exc.code, lang) for lang in ("nl", "en")}) from None
    except OSError as exc:  # the directory cannot be read at all
        raise Refused("RELEASE_INVALID", f"{place.release_dir}: {exc.strerror or exc}",
                      {lang: rel.whom_to_ask(rel.Code.RELEASE_INVALID, lang) for lang in ("nl", "en")}) from None
    return Released(verified.ruleset, verified.to_json(), {lang: rel.release_line(verified, lang) for lang in ("nl", "en")})


@dataclass(frozen=True)
class StoreState:
    """What the start page and the recorded page say about the store."""

    waiting: int                # local records not (yet) in the store
    error: str | None = None    # why the last push could not reach the store
    alarm: str | None = None    # a record the store holds differently (STORE_CONFLICT): report it
    pending: bool = False       # a push is under way


class Recorder:
    """Records signed decisions through the organisation store's background outbox (one per
    session, only when a store is configured; without one the Signer writes the local log
    directly). ``close`` at the end of the session."""

    def __init__(self, place: Place, on_change: Callable[[StoreState], None] | None = None) -> None:
        from audit.store.outbox import Outbox

        assert place.store_url is not None
        self.place = place
        self.on_change = on_change
        self._box: Any = Outbox(place.local_log, place.store_url, background=True, on_push=self._pushed)

    def _pushed(self, result: Any) -> None:  # from the pusher thread
        if self.on_change is not None:
            self.on_change(self._state(result))

    @staticmethod
    def _state(result: Any) -> StoreState:
        alarm = None
        if result.failure is not None:
            alarm = f"{getattr(result.failure.code, 'value', result.failure.code)}: {result.failure.message}"
        return StoreState(result.waiting, result.error, alarm, bool(result.pending))

    def state(self) -> StoreState:
        """The count without a database (the local log and the push state file)."""
        last = self._box.last
        return StoreState(self._box.waiting(), last.error if last is not None else None)

    def push_waiting(self) -> StoreState:
        """Push what waits (at the start of a session; blocking: call it from a worker thread)."""
        state = self._state(self._box.push_waiting())
        if self.on_change is not None:
            self.on_change(state)
        return state

    def record(self, key: Any, *, decision: dict[str, Any], answers: dict[str, Any], actor: dict[str, str],
               case_ref_source: str, weighing: str | None) -> tuple[Any, StoreState]:
        """Append one signed record (durable locally when this returns); the store's state after."""
        res = self._box.record(key, decision=decision, answers=answers, actor=actor,
                               case_ref_source=case_ref_source, weighing=weighing)
        return res.appended, self._state(res.push)

    def flush(self, timeout: float) -> None:
        """Wait until the outbox's thread has done what it was asked (or ``timeout`` seconds)."""
        self._box.flush(timeout)

    def close(self, timeout: float = 5.0) -> None:
        self._box.close(timeout)
