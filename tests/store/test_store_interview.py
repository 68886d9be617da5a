"""The interview with an organisation store configured, the database stopped halfway (issue 12):
a decision signed while the store is away is durable in the local log at once, the count of
waiting records shows on the recorded page and the start page, and the records arrive when the
database is back -- nothing lost, nothing twice, and the store verifies."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tui"))  # tui_helpers

from tui_helpers import SIZE, make_app, prepare_home, scenario_answers, screen_text, seed_answers, settle

PASSPHRASE = "een-lange-zin-voor-de-test"


def words(app: Any) -> str:
    """The screen's text with line breaks and runs of spaces as one space (wrapping varies with the size)."""
    return " ".join(screen_text(app).split())


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "home"
    data.mkdir()
    monkeypatch.setenv("DEELWIJZER_HOME", str(data))
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    prepare_home(data)
    import audit.keys
    import audit.trust

    info = audit.keys.init_keypair(data / "keys", "Sam de Vries", PASSPHRASE.encode())
    audit.trust.trust_key(data / "trusted-keys.json", Path(info.public_path), "Sam de Vries")
    return data


def interview(home: Path, ruleset: Any, url: str) -> Any:
    from tui.organisation import Place

    return make_app(home, ruleset, place=Place(home=home, release_dir=None, trusted_keys=home / "trusted-keys.json",
                                               store_url=url))


async def sign_seeded_case(pilot: Any, case_id: str) -> str:
    from tui.screens.recorded import RecordedScreen

    app = pilot.app
    menu = app.screen.query_one("#menu")
    menu.highlighted = menu.get_option_index(f"case:{case_id}")
    await pilot.press("enter")
    await settle(pilot)
    await pilot.press("f4")
    await settle(pilot)
    await pilot.press(*PASSPHRASE, "enter")
    await settle(pilot)
    assert isinstance(app.screen, RecordedScreen), words(app)
    return words(app)


async def settle_store(pilot: Any) -> None:
    """Let the outbox's thread finish what it was asked (its result arrives as a message)."""
    recorder = pilot.app.recorder
    if recorder is not None:
        recorder.flush(30)
    await settle(pilot)


def stored(store: Any) -> int:
    return store.sql("SELECT count(*) FROM deelwijzer.records WHERE rtype = 'decision'")[0][0]


async def test_the_interview_with_the_database_stopped_halfway(store: Any, ruleset: Any, home: Path) -> None:
    import audit
    from audit import trust
    from audit.store.verify import verify_store

    answers = scenario_answers(ruleset, lambda d: d.advice.verdict == "share")
    url = store.writer

    # 1. the store is there: the decision arrives
    seed_answers(home, answers, case_id="case-a")
    app = interview(home, ruleset, url)
    async with app.run_test(size=SIZE) as pilot:
        await settle_store(pilot)
        assert "Alle vastgelegde beslissingen staan in de organisatie-opslag" in words(app), words(app)
        await sign_seeded_case(pilot, "case-a")
        await settle_store(pilot)
        assert "verstuurd en opgeslagen" in words(app), words(app)
    app.close_store()
    assert stored(store) == 1

    # 2. the database stops: signing still works, the record waits, the count shows
    store.cluster.stop(remove=False)  # the database server goes down (its data stays)
    try:
        seed_answers(home, answers, case_id="case-b")
        app = interview(home, ruleset, url)
        async with app.run_test(size=SIZE) as pilot:
            await settle_store(pilot)
            await sign_seeded_case(pilot, "case-b")
            await settle_store(pilot)
            text = words(app)
            assert "wacht op verzending (1 beslissing)" in text, text
            await pilot.press("ctrl+n")  # back to the start page
            await settle(pilot)
            text = words(app)
            assert "1 vastgelegde beslissing wacht op de organisatie-opslag" in text, text
            assert "niet bereikbaar" in text
        app.close_store(timeout=1)
        report = audit.verify_log(home / "audit" / "log.jsonl", home / "trusted-keys.json")
        assert report.ok, report.failures  # durable locally: signed and chained
    finally:
        store.cluster.start()

    # 3. the database is back: the next session pushes what waits, the count goes to zero
    app = interview(home, ruleset, url)
    async with app.run_test(size=SIZE) as pilot:
        await settle_store(pilot)
        assert "Alle vastgelegde beslissingen staan in de organisatie-opslag" in words(app), (app.store_state, words(app))
    app.close_store()
    assert stored(store) == 2
    report = verify_store(store.auditor, trust.load(home / "trusted-keys.json"))
    assert report.ok, report
