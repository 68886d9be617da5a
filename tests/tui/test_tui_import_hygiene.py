"""engine/ and audit/ import without Textual; tui's start-up path imports neither engine nor audit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def loaded_after(code: str) -> set[str]:
    probe = code + "\nimport sys; print('\\n'.join(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return set(result.stdout.split())


def top(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


def test_engine_and_audit_import_without_textual() -> None:
    modules = top(loaded_after(
        "import engine, engine.archive, audit, audit.keys\n"
        "engine.load_ruleset()"))
    assert "engine" in modules and "audit" in modules
    assert "textual" not in modules
    assert "tui" not in modules


def test_tui_package_import_is_cheap() -> None:
    modules = top(loaded_after("import tui"))
    assert not modules & {"textual", "engine", "audit", "rich"}


def test_tui_app_does_not_load_engine_or_audit_before_first_paint() -> None:
    modules = top(loaded_after("import tui.app"))
    assert "textual" in modules
    assert not modules & {"engine", "audit", "durable", "cryptography"}
