"""A complete keyboard-only walk-through: first use (make a key) → questions → check answers →
advice → Waarom? → own weighing in the dossier → passphrase → signed record that verifies → dossier
document saved as text and PDF, matched to the record by its hash; the weighing itself never in the log."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

from tui_helpers import SIZE, expected_decision, make_app, screen_text, settle, walk
from tui_scenarios import VEILIG_THUIS

PASSPHRASE = "geheim 1234"
WEIGHING = "Moeder is verdacht; vader weet van niets. Overleg met aandachtsfunctionaris op 14 maart."
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
        from engine.present import present
        assert present(app.interview.decision, "nl").advice.headline.split(":")[0] in text

        await pilot.press("f3")
        await pilot.pause()
        assert isinstance(app.screen, WhyScreen)
        index, step = next((i, s) for i, s in enumerate(advice.explanation) if s.cites)
        app.screen.query_one(f"#step-{index}").scroll_visible(animate=False, top=True)
        await pilot.pause()
        why = screen_text(app)
        assert ruleset.sources[step.cites[0]].citation[:40] in why
        await pilot.press("escape")
        await pilot.pause()

        # The own weighing, typed in the dossier screen (a concept before signing).
        from tui.screens.dossier import DossierScreen
        await pilot.press("f5")
        await pilot.pause()
        assert isinstance(app.screen, DossierScreen) and "CONCEPT" in screen_text(app)
        await type_text(pilot, WEIGHING)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, AdviceScreen)
        assert app.interview.case.weighing == WEIGHING

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

        # Save the dossier document as text (F7) and as PDF (F6).
        await pilot.press("f5")
        await pilot.pause()
        await pilot.press("f7", "f6")
        await settle(pilot)
        dossier = home / "verantwoording" / f"{app.interview.case.id}.txt"
        assert dossier.exists() and dossier.with_suffix(".pdf").read_bytes().startswith(b"%PDF-")
        body = dossier.read_text(encoding="utf-8")
        assert record["record_id"] in body and record["leaf_hash"] in body and ruleset.fingerprint in body
        assert "Sam, Team" in body and WEIGHING in body and record["weighing_hash"] in body
        assert "CONCEPT" not in body

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
    # the weighing is personal data: only its keyed hash is in the signed record
    raw_log = log.read_text(encoding="utf-8")
    payloads = [base64.b64decode(json.loads(line)["payload"] + "==") for line in raw_log.splitlines()]
    decisions = [json.loads(p) for p in payloads if b'"type":"decision"' in p]
    assert decisions[-1]["weighing_hash"] == record["weighing_hash"]
    assert all(WEIGHING.encode() not in p for p in payloads)
    import audit.keys
    key = audit.keys.load_signing_key(app.key_file, PASSPHRASE.encode())
    assert key.weighing_hash(" ".join(WEIGHING.split()) + "  ") == record["weighing_hash"]
    case_file = home / "cases" / f"{app.interview.case.id}.json"
    assert '"status": "signed"' in case_file.read_text()
