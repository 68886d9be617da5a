"""Helpers shared by the sub-commands: loading a rule set and reading case files."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from legal_bases.yamlfile import YamlFileError, load_yaml


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit 2."""


def fail(message: str, code: int = 2) -> int:
    sys.stderr.write(f"deelwijzer: {message}\n")
    return code


def add_rules_options(parser, positional: bool = False) -> None:
    if positional:
        parser.add_argument("dir", nargs="?", type=Path, help="rule-set directory (default: the bundled rules/)")
    else:
        parser.add_argument("--rules", type=Path, dest="dir", help="rule-set directory (default: the bundled rules/)")
    parser.add_argument("--sources", type=Path, help="legal-source catalogue directory (default: the bundled catalogue)")


def rules_dir(args) -> Path | None:
    return args.dir or (Path(os.environ["DEELWIJZER_RULES"]) if os.environ.get("DEELWIJZER_RULES") else None)


def read_case(path: Path) -> dict[str, Any]:
    """A case file: YAML or JSON ``{answers: {fact: value}}`` (optionally ``case_id``, ``description``)."""
    if not path.is_file():
        raise UsageError(f"{path}: case file not found")
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise UsageError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"{path}: cannot read: {exc}") from None
    else:
        try:
            data = load_yaml(path).data
        except YamlFileError as exc:
            raise UsageError(str(exc.problems[0])) from None
    if not isinstance(data, dict) or "answers" not in data:
        raise UsageError(f"{path}: a case file is a mapping with an 'answers:' key, e.g. answers: {{client.age: 15}}")
    extra = sorted(set(data) - {"answers", "case_id", "description"})
    if extra:
        raise UsageError(f"{path}: unknown top-level key '{extra[0]}'; allowed: answers, case_id, description")
    if data["answers"] is None:
        data["answers"] = {}
    return data
