"""Settings location, atomic autosave of cases, the resume list."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, UTC
from pathlib import Path

import pytest

from tui.case_store import STATUS_SIGNED, Case, CaseStore, CaseStoreError
from tui.settings import Settings, atomic_write_text, data_home


def test_data_home_precedence(tmp_path: Path) -> None:
    assert data_home({"DEELWIJZER_HOME": str(tmp_path / "a"), "XDG_DATA_HOME": "/x"}) == tmp_path / "a"
    assert data_home({"XDG_DATA_HOME": str(tmp_path)}) == tmp_path / "deelwijzer"
    assert data_home({}) == Path("~/.local/share/deelwijzer").expanduser()


def test_settings_round_trip_and_bad_values(tmp_path: Path) -> None:
    s = Settings(name="Sam", organisation="Team", language="en", theme="ansi-dark")
    s.save(tmp_path)
    assert Settings.load(tmp_path) == s
    (tmp_path / "settings.json").write_text('{"language": "klingon", "theme": 3, "name": "X"}')
    loaded = Settings.load(tmp_path)
    assert (loaded.language, loaded.theme, loaded.name) == ("nl", "textual-dark", "X")
    (tmp_path / "settings.json").write_text("{not json")
    assert Settings.load(tmp_path) == Settings()
    assert Settings().key_file(tmp_path) == tmp_path / "keys" / "private-key.ossh"


def test_atomic_write_keeps_old_file_when_the_rename_fails(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "case.json"
    atomic_write_text(target, "old")

    def crash(src: object, dst: object) -> None:
        raise OSError(5, "simulated crash")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        atomic_write_text(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["case.json"]  # no temp file left


def test_atomic_write_fsyncs_file_and_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append(fd), real(fd)))
    atomic_write_text(tmp_path / "x.json", "{}")
    assert len(calls) == 2


def clock_from(start: datetime):
    state = {"now": start}

    def clock() -> datetime:
        return state["now"]

    return clock, state


def test_store_save_load_and_resume_list(tmp_path: Path) -> None:
    start = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    clock, state = clock_from(start)
    ids = iter(["a1", "b2", "c3"])
    store = CaseStore(tmp_path, clock=clock, new_id=lambda now: next(ids))
    first = store.new()
    first.answers = {"client.age": 15, "share.recipient": "veilig_thuis"}
    store.save(first)
    state["now"] = start + timedelta(hours=1)
    store.new()
    state["now"] = start + timedelta(hours=2)
    signed = store.new()
    signed.status = STATUS_SIGNED
    store.save(signed)
    (tmp_path / "cases" / "broken.json").write_text("{half")

    loaded = store.load("a1")
    assert loaded.answers == first.answers
    summaries, unreadable = store.summaries(recipient_fact="share.recipient")
    assert unreadable == 1
    assert [s.id for s in summaries] == ["b2", "a1"]  # newest first, signed cases left out
    assert summaries[1].recipient == "veilig_thuis" and summaries[1].answered == 2
    assert [s.id for s in store.summaries(include_signed=True)[0]] == ["c3", "b2", "a1"]
    raw = json.loads((tmp_path / "cases" / "a1.json").read_text())
    assert raw["format"] == 1 and raw["updated"] == "2025-01-02T03:04:05+00:00"


def test_store_rejects_bad_ids_and_bad_files(tmp_path: Path) -> None:
    store = CaseStore(tmp_path)
    with pytest.raises(CaseStoreError):
        store.path("../../etc/passwd")
    with pytest.raises(CaseStoreError):
        store.load("missing")
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "x.json").write_text('{"id": "x", "format": 99}')
    with pytest.raises(CaseStoreError, match="format"):
        store.load("x")
    with pytest.raises(CaseStoreError):
        Case.from_json({"id": "y", "format": 1, "answers": [1, 2]})


def test_save_error_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    store = CaseStore(blocker)
    with pytest.raises(CaseStoreError):
        store.new()
