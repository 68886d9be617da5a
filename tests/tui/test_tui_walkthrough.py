"""A complete keyboard-only walk-through: first use (make a key) → questions → check answers →
advice → Waarom? → passphrase → signed record that verifies → dossier text saved."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

from tui_helpers import SIZE, expected_decision, make_app, screen_text, settle, walk
from tui_scenarios import VEILIG_THUIS

PASSPHRASE = "geheim 1234"
ROOT = Path(__file__).resolve().parents[2]


async def type_text(pilot, text: str) -> None:
    await pilot.press(*["space" if ch == " " else ch for ch in text])


async def test_keyboard_only_walkthrough_to_a_signed_record_that_verifies(home: Path, ruleset) -> None:
    import audit

    from tui.screens.advice import AdviceScreen
    from tui.screens.keysetup import KeySetupScreen
    from tui.screens.passphrase import PassphraseScreen
    from tui.screens.recorded import RecordedScreen
    from tui.screens.review import ReviewScreen
    from tui.screens.start import StartScreen
    from tui.screens.why import WhyScreen

    app = make_app(home, ruleset)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # First use: the key is made here, with the passphrase twice.
        assert isinstance(app.screen, KeySetupScreen)
        await type_text(pilot, "Sam")
        await pilot.press("enter")
        await type_text(pilot, "Team")
        await pilot.press("enter")
        await type_text(pilot, PASSPHRASE)
        await pilot.press("enter")
        await type_text(pilot, PASSPHRASE[:-1] + "X")  # a typo: must be caught in place
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, KeySetupScreen)
        assert "niet gelijk" in screen_text(app)
        await pilot.press("end", *["backspace"] * len(PASSPHRASE))
        await type_text(pilot, PASSPHRASE)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, StartScreen), screen_text(app)
        assert app.key_file.exists() and app.trusted_keys.exists()
        assert (app.settings.name, app.settings.organisation) == ("Sam", "Team")

        # New case (first item of the start menu), then the questions.
        await pilot.press("enter")
        await pilot.pause()
        asked = await walk(pilot, VEILIG_THUIS)
        assert isinstance(app.screen, ReviewScreen), screen_text(app)
        assert asked and asked == app.interview.relevant
        expected = expected_decision(ruleset, {fact: VEILIG_THUIS[fact] for fact in asked})
        assert expected.complete and not expected.to_ask

        await pilot.press("enter")  # "Naar het advies" is highlighted
        await pilot.pause()
        assert isinstance(app.screen, AdviceScreen)
        advice = app.interview.decision.advice
        assert advice.outcome == expected.advice.outcome
        text = screen_text(app)
        from tui import labels
        word = labels.verdict_words(advice.verdict, app.cat)
        assert f"{labels.verdict_symbol(advice.verdict)} {word}" in text

        await pilot.press("f3")
        await pilot.pause()
        assert isinstance(app.screen, WhyScreen)
        why = screen_text(app)
        first_cite = advice.explanation[0].cites[0] if advice.explanation[0].cites else advice.legal_bases[0]
        assert ruleset.sources[first_cite].citation[:40] in why
        await pilot.press("escape")
        await pilot.pause()

        await pilot.press("f4")
        await pilot.pause()
        assert isinstance(app.screen, PassphraseScreen)
        await type_text(pilot, "fout 12345")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PassphraseScreen)
        assert "klopt niet" in screen_text(app)
        await type_text(pilot, PASSPHRASE)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RecordedScreen), screen_text(app)
        record = app.interview.case.record
        assert record and record["record_id"] in screen_text(app)
        assert ruleset.fingerprint in screen_text(app)

        # After signing there is no way back.
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, RecordedScreen)
        assert any("Terug" in str(n.title) for n in app._notifications)

        # Save the dossier text (the path field is focused; Enter saves).
        await pilot.press("enter")
        await pilot.pause()
        dossier = home / "verantwoording" / f"{app.interview.case.id}.txt"
        assert dossier.exists()
        body = dossier.read_text(encoding="utf-8")
        assert record["record_id"] in body and ruleset.fingerprint in body
        assert "Sam, Team" in body

    log, trusted = home / "audit" / "log.jsonl", home / "trusted-keys.json"
    report = audit.verify_log(log, trusted)
    assert report.ok, report.failures
    assert report.records >= 1
    # the session ended with a signed checkpoint over the whole log, checked by the verifier
    # (it anchors the log only once an auditor keeps a copy outside and passes --checkpoint)
    from audit.checkpoint import checkpoint_path
    assert checkpoint_path(log).exists()
    assert report.checkpoints_checked >= 1
    # ... and with the command an auditor would run: `deelwijzer audit verify LOG --trusted-keys F`
    cli = subprocess.run([sys.executable, "-c", "import sys; from cli.main import main; sys.exit(main())",
                          "audit", "verify", str(log), "--trusted-keys", str(trusted)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0, cli.stdout + cli.stderr
    # a changed byte in the log must make the same command fail (so the check above can fail)
    lines = log.read_text(encoding="utf-8").splitlines()
    last = json.loads(lines[-1])
    payload = base64.b64decode(last["payload"] + "=" * (-len(last["payload"]) % 4))
    assert b"identity" in payload
    last["payload"] = base64.b64encode(payload.replace(b"identity", b"health__", 1)).decode().rstrip("=")
    damaged = home / "damaged.jsonl"
    damaged.write_text("\n".join(lines[:-1] + [json.dumps(last)]) + "\n", encoding="utf-8")
    cli = subprocess.run([sys.executable, "-c", "import sys; from cli.main import main; sys.exit(main())",
                          "audit", "verify", str(damaged), "--trusted-keys", str(trusted)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert cli.returncode == 1, cli.stdout + cli.stderr
    case_file = home / "cases" / f"{app.interview.case.id}.json"
    assert '"status": "signed"' in case_file.read_text()
