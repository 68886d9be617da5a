"""Helpers for the release tests: trusted-keys files, writable copies, crafted statements, cases."""
from __future__ import annotations

import base64
import json
import os
import shutil
import stat
from pathlib import Path
from typing import Any

from audit import envelope, keys, trust
from audit.keys import SigningKey
from audit.release import STATEMENT_FILE

ROOT = Path(__file__).resolve().parents[2]
ACTOR = {"professional": "J. de Vries", "organisation": "Jeugdteam Noord"}


def trust_file(path: Path, *entries: tuple[SigningKey, str, list[str]], **windows: Any) -> Path:
    """A trusted-keys file with (key, owner, roles) entries; ``windows`` apply to the first key."""
    for i, (key, owner, roles) in enumerate(entries):
        pem = path.parent / f"{path.stem}-{i}.pem"
        pem.write_text(keys.public_key_pem(key.public_key))
        trust.trust_key(path, pem, owner, roles=roles, **(windows if i == 0 else {}))
    return path


def copy_release(src: Path, dst: Path) -> Path:
    """A copy of a release directory (modes kept: files are read-only, as written)."""
    shutil.copytree(src, dst, symlinks=True)
    return dst


def writable(path: Path) -> Path:
    """Let the test (an attacker, or a careless admin) write to a file of a release."""
    os.chmod(path, os.stat(path).st_mode | stat.S_IWUSR)
    return path


def rule_file(release: Path, name: str | None = None) -> Path:
    files = sorted(release.glob("*/rules/*.yaml"))
    assert files, f"no rule files in {release}"
    return next(f for f in files if f.name == name) if name else files[-1]


def statement_line(release: Path) -> bytes:
    return (release / STATEMENT_FILE).read_bytes()


def statement(release: Path) -> dict[str, Any]:
    env = json.loads(statement_line(release))
    return json.loads(base64.b64decode(env["payload"]))


def canon(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def write_statement(release: Path, body: dict[str, Any] | bytes, signer: SigningKey) -> None:
    """Replace the statement with ``body`` (a dict, canonically encoded, or raw bytes) signed by ``signer``."""
    payload = body if isinstance(body, bytes) else canon(body)
    line = envelope.make_line(payload, envelope.RELEASE_TYPE, signer)
    path = release / STATEMENT_FILE
    writable(path)
    path.write_bytes(line)


def complete_case(rs: Any) -> dict[str, Any]:
    """Answers from the rule set's own scenarios that give a complete advice (robust to rule rewrites)."""
    import yaml

    from engine import decide, parse_answers
    for path in sorted((Path(rs.rules_dir) / "tests").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for scenario in doc.get("scenarios", []):
            try:
                answers = parse_answers(rs, dict(scenario.get("answers") or {}))
            except Exception:
                continue
            d = decide(rs, answers)
            if d.complete and d.advice is not None:
                return dict(scenario["answers"])
    raise AssertionError("no scenario of the bundled rules gives a complete advice")
