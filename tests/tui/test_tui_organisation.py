"""The interview on a signed rule-set release (tui.organisation): a release that verifies is named
on the start page and in every record; one that fails refuses every case with its reason code
and whom to ask (issue 13). The organisation store's part is in tests/store/test_store_interview.py."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from tui_helpers import SIZE, make_app, prepare_home, scenario_answers, screen_text, seed_answers, settle

PASSPHRASE = "een-lange-zin-voor-de-test"


def words(app: Any) -> str:
    """The screen's text with line breaks and runs of spaces as one space (wrapping varies with the size)."""
    return " ".join(screen_text(app).split())


@pytest.fixture(scope="module")
def officer() -> Any:
    from audit.keys import SigningKey

    return SigningKey.generate()


@pytest.fixture(scope="module")
def made_release(tmp_path_factory: pytest.TempPathFactory, ruleset: Any, officer: Any) -> Path:
    from audit.release import create_release

    out = tmp_path_factory.mktemp("release") / "2027-01"
    create_release(ruleset, officer, out, notes="Vrijgave voor de test.")
    return out


def trusted_keys(path: Path, officer: Any, roles: list[str]) -> Path:
    from audit import keys, trust

    pem = path.with_suffix(".pem")
    pem.write_text(keys.public_key_pem(officer.public_key))
    trust.trust_key(path, pem, "Privacy officer (FG)", roles=roles)
    return path


def place(home: Path, release: Path, trusted: Path) -> Any:
    from tui.organisation import Place

    return Place(home=home, release_dir=release, trusted_keys=trusted, store_url=None)


def copy_of(release: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(release, dst, symlinks=True)
    return dst


def change_a_rule_file(release: Path) -> Path:
    target = sorted(release.glob("*/rules/*.yaml"))[-1]
    os.chmod(target, os.stat(target).st_mode | stat.S_IWUSR)
    with target.open("a", encoding="utf-8") as handle:
        handle.write("# changed after signing\n")
    return target


def sign_key(home: Path) -> None:
    """A real signing key in the data home, trusted there (as the first-use screen makes it)."""
    import audit.keys
    import audit.trust

    info = audit.keys.init_keypair(home / "keys", "Sam de Vries", PASSPHRASE.encode())
    audit.trust.trust_key(home / "trusted-keys.json", Path(info.public_path), "Sam de Vries")


async def test_a_release_changed_after_signing_refuses_every_case(home: Path, ruleset: Any, officer: Any,
                                                                  made_release: Path, tmp_path: Path) -> None:
    from tui.screens.start import StartScreen

    release = copy_of(made_release, tmp_path / "release")
    changed = change_a_rule_file(release)
    prepare_home(home)
    app = make_app(home, None, place=place(home, release, trusted_keys(tmp_path / "tk.json", officer, ["release"])))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = words(app)
        assert "RELEASE_FILES_CHANGED" in text and changed.name in text, text
        assert "Vraag IT" in text  # whom to ask, in the professional's language
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert isinstance(app.screen, StartScreen) and app.interview is None
        assert not list((home / "cases").glob("*.json")) if (home / "cases").exists() else True
        assert any("RELEASE_FILES_CHANGED" in str(n.message) for n in app._notifications)
        await pilot.press("ctrl+l")  # the reason follows the language switch
        await settle(pilot)
        assert "Ask IT" in words(app)
    assert not (home / "audit" / "log.jsonl").exists()


@pytest.mark.parametrize("roles", [["record"], ["checkpoint"]], ids=["record-key", "checkpoint-key"])
async def test_a_release_signed_by_a_key_not_trusted_for_releases_is_refused(home: Path, ruleset: Any, officer: Any,
                                                                            made_release: Path, tmp_path: Path,
                                                                            roles: list[str]) -> None:
    prepare_home(home)
    trusted = trusted_keys(tmp_path / "tk.json", officer, roles)
    app = make_app(home, None, place=place(home, made_release, trusted))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "KEY_ROLE_NOT_ALLOWED" in words(app)
        assert app.rs is None


async def test_a_verified_release_is_named_and_recorded_with_the_decision(home: Path, ruleset: Any, officer: Any,
                                                                         made_release: Path, tmp_path: Path) -> None:
    from audit.release import verify_release
    from tui.screens.recorded import RecordedScreen

    trusted = trusted_keys(tmp_path / "tk.json", officer, ["release"])
    expected = verify_release(made_release, trusted)
    prepare_home(home)
    sign_key(home)
    seed_answers(home, scenario_answers(ruleset, lambda d: d.advice.verdict == "share"))
    app = make_app(home, None, place=place(home, made_release, trusted))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "Vrijgave: " in words(app) and "Privacy officer (FG)" in words(app)
        assert app.rs.fingerprint == expected.fingerprint
        menu = app.screen.query_one("#menu")
        menu.highlighted = menu.get_option_index("case:case-seeded")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        await pilot.press(*PASSPHRASE)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RecordedScreen), words(app)
        await pilot.press("f5", "f7")
        await settle(pilot)
    records = [json.loads(base64.b64decode(json.loads(line)["payload"]))
               for line in (home / "audit" / "log.jsonl").read_text(encoding="utf-8").splitlines()]
    [record] = [r for r in records if r["type"] == "decision"]
    assert record["release"] == {"kid": expected.signer_key_id, "statement": expected.statement}
    dossier = next((home / "verantwoording").glob("*.txt")).read_text(encoding="utf-8")
    assert expected.statement in dossier


async def test_plain_rules_say_so_in_the_dossier(home: Path, ruleset: Any) -> None:
    from tui.organisation import Place
    from tui.screens.recorded import RecordedScreen

    prepare_home(home)
    sign_key(home)
    seed_answers(home, scenario_answers(ruleset, lambda d: d.advice.verdict == "share"))
    app = make_app(home, ruleset, place=Place(home=home, release_dir=None, trusted_keys=home / "tk.json", store_url=None))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "Vrijgave" not in words(app)
        menu = app.screen.query_one("#menu")
        menu.highlighted = menu.get_option_index("case:case-seeded")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        await pilot.press(*PASSPHRASE, "enter")
        await settle(pilot)
        assert isinstance(app.screen, RecordedScreen), words(app)
        await pilot.press("f5", "f7")
        await settle(pilot)
    dossier = next((home / "verantwoording").glob("*.txt")).read_text(encoding="utf-8")
    assert "niet vrijgegeven" in dossier


def test_settings_then_environment_then_defaults(tmp_path: Path) -> None:
    from tui.organisation import place_for
    from tui.settings import Settings

    s = Settings()
    env = {"DEELWIJZER_RELEASE": "/opt/rel", "DEELWIJZER_STORE_URL": "postgresql:///x"}
    p = place_for(s, tmp_path, env)
    assert (p.release_dir, p.store_url, p.trusted_keys) == (Path("/opt/rel"), "postgresql:///x",
                                                            tmp_path / "trusted-keys.json")
    s.extra = {"release_dir": "/srv/r", "trusted_keys": "/srv/tk.json", "store_url": "postgresql:///org"}
    p = place_for(s, tmp_path, env)
    assert (p.release_dir, p.trusted_keys, p.store_url) == (Path("/srv/r"), Path("/srv/tk.json"), "postgresql:///org")
    assert place_for(Settings(), tmp_path, {}).release_dir is None
