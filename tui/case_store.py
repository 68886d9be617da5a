"""Autosaved interview cases: one JSON file per case in ``<home>/cases/<case-id>.json``.

Every answer is written at once with an atomic write-rename and fsync
(:func:`tui.settings.atomic_write_text`), so a crash, ctrl+c or a closed
terminal never loses more than the answer being typed. No Textual import.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, UTC
from pathlib import Path
from typing import Any
from collections.abc import Callable

from tui.settings import atomic_write_text

FORMAT = 1
STATUS_IN_PROGRESS = "in_progress"
STATUS_COMPLETE = "complete"
STATUS_SIGNED = "signed"
STATUSES = (STATUS_IN_PROGRESS, STATUS_COMPLETE, STATUS_SIGNED)

_CASE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,80}$")

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class CaseStoreError(Exception):
    """A case file could not be read or written."""


@dataclass
class Case:
    id: str
    created: str
    updated: str
    answers: dict[str, Any] = field(default_factory=dict)
    dropped: dict[str, Any] = field(default_factory=dict)
    status: str = STATUS_IN_PROGRESS
    position: Any = None          # tui.flow.encode(target); earlier versions: a plain string
    language: str = "nl"
    ruleset: dict[str, str] = field(default_factory=dict)
    record: dict[str, Any] | None = None
    confirmed: dict[str, dict[str, Any]] = field(default_factory=dict)  # check id -> the answers confirmed
    weighing: str = ""            # the professional's own weighing: personal data, dossier only

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "id": self.id,
            "created": self.created,
            "updated": self.updated,
            "status": self.status,
            "position": self.position,
            "language": self.language,
            "answers": self.answers,
            "dropped": self.dropped,
            "confirmed": self.confirmed,
            "weighing": self.weighing,
            "ruleset": self.ruleset,
            "record": self.record,
        }

    @classmethod
    def from_json(cls, raw: Any) -> Case:
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            raise CaseStoreError("not a case file")
        if raw.get("format") != FORMAT:
            raise CaseStoreError(f"unknown case file format {raw.get('format')!r}")
        answers = raw.get("answers") or {}
        dropped = raw.get("dropped") or {}
        if not isinstance(answers, dict) or not isinstance(dropped, dict):
            raise CaseStoreError("answers must be a mapping")
        status = raw.get("status", STATUS_IN_PROGRESS)
        if status not in STATUSES:
            raise CaseStoreError(f"unknown status {status!r}")
        position = raw.get("position")
        record = raw.get("record")
        ruleset = raw.get("ruleset") or {}
        confirmed = raw.get("confirmed") or {}
        weighing = raw.get("weighing") or ""
        return cls(
            id=raw["id"],
            created=str(raw.get("created", "")),
            updated=str(raw.get("updated", "")),
            answers=dict(answers),
            dropped=dict(dropped),
            status=status,
            position=position if isinstance(position, (str, dict)) else None,
            language=str(raw.get("language", "nl")),
            ruleset=dict(ruleset) if isinstance(ruleset, dict) else {},
            record=record if isinstance(record, dict) else None,
            confirmed={k: v for k, v in confirmed.items() if isinstance(v, dict)} if isinstance(confirmed, dict) else {},
            weighing=weighing if isinstance(weighing, str) else "",
        )


@dataclass
class CaseSummary:
    """One line of the resume list on the start screen."""

    id: str
    updated: datetime | None
    recipient: str | None
    answered: int
    status: str


class CaseStore:
    def __init__(self, home: Path, *, clock: Clock = utc_now,
                 new_id: Callable[[datetime], str] | None = None) -> None:
        self.dir = home / "cases"
        self.clock = clock
        self._new_id = new_id or (lambda now: now.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3))

    def path(self, case_id: str) -> Path:
        if not _CASE_ID.match(case_id):
            raise CaseStoreError(f"invalid case id {case_id!r}")
        return self.dir / f"{case_id}.json"

    def _stamp(self) -> str:
        return self.clock().astimezone(UTC).isoformat(timespec="seconds")

    def new(self, language: str = "nl") -> Case:
        now = self.clock()
        case_id = self._new_id(now)
        while self.path(case_id).exists():
            case_id = self._new_id(now) + "-" + secrets.token_hex(2)
        stamp = self._stamp()
        case = Case(id=case_id, created=stamp, updated=stamp, language=language)
        self.save(case)
        return case

    def save(self, case: Case) -> None:
        case.updated = self._stamp()
        text = json.dumps(case.to_json(), indent=2, ensure_ascii=False, sort_keys=False) + "\n"
        try:
            atomic_write_text(self.path(case.id), text)
        except OSError as exc:
            raise CaseStoreError(f"cannot save case {case.id}: {exc.strerror or exc}") from exc

    def load(self, case_id: str) -> Case:
        try:
            raw = json.loads(self.path(case_id).read_text(encoding="utf-8"))
        except OSError as exc:
            raise CaseStoreError(f"cannot read case {case_id}: {exc.strerror or exc}") from exc
        except ValueError as exc:
            raise CaseStoreError(f"case {case_id} is damaged: {exc}") from exc
        return Case.from_json(raw)

    def delete(self, case_id: str) -> None:
        try:
            self.path(case_id).unlink()
        except FileNotFoundError:
            pass

    def summaries(self, *, include_signed: bool = False,
                  recipient_fact: str | None = None) -> tuple[list[CaseSummary], int]:
        """Cases to resume, newest first, and the number of files that could not be read.

        ``recipient_fact`` is the rule set's recipient fact; without it (rules not loaded yet)
        no recipient is given, so no raw answer value is ever shown."""
        out: list[CaseSummary] = []
        unreadable = 0
        if not self.dir.is_dir():
            return out, 0
        for file in self.dir.glob("*.json"):
            try:
                case = self.load(file.stem)
            except CaseStoreError:
                unreadable += 1
                continue
            if case.status == STATUS_SIGNED and not include_signed:
                continue
            try:
                updated = datetime.fromisoformat(case.updated)
            except ValueError:
                updated = None
            value = case.answers.get(recipient_fact) if recipient_fact else None
            recipient = value if isinstance(value, str) else None
            out.append(CaseSummary(case.id, updated, recipient, len(case.answers), case.status))
        out.sort(key=lambda s: (s.updated is not None, s.updated or datetime.min.replace(tzinfo=UTC), s.id),
                 reverse=True)
        return out, unreadable
