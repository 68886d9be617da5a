"""Helpers shared by the sub-commands: loading a rule set and reading case files."""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from legal_bases.jsonfile import load_json
from legal_bases.textfile import YamlDocument, YamlFileError

MAX_CASE_BYTES = 256 * 1024


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit 2."""


def fail(message: str, code: int = 2) -> int:
    sys.stderr.write(f"deelwijzer: {message}\n")
    return code


def add_rules_options(parser: Any, positional: bool = False) -> None:
    if positional:
        parser.add_argument("dir", nargs="?", type=Path, help="rule-set directory (default: the bundled rules/)")
    else:
        parser.add_argument("--rules", type=Path, dest="dir", help="rule-set directory (default: the bundled rules/)")
    parser.add_argument("--sources", type=Path, help="legal-source catalogue directory (default: a legal_bases/ "
                                                     "directory beside the rules, else the bundled catalogue)")


def rules_dir(args: Any) -> Path | None:
    return args.dir or (Path(os.environ["DEELWIJZER_RULES"]) if os.environ.get("DEELWIJZER_RULES") else None)


def check_dirs(args: Any) -> None:
    """Usage errors for rule and catalogue directories that do not exist (exit 2, not 1)."""
    for label, directory in (("rule-set directory", rules_dir(args)), ("catalogue directory", getattr(args, "sources", None))):
        if directory is not None and not Path(directory).is_dir():
            raise UsageError(f"{directory}: {label} not found; give an existing directory")


def read_case(path: Path) -> tuple[dict[str, Any], YamlDocument]:
    """A case file: YAML or JSON ``{answers: {fact: value}}`` (optionally ``case_id``, ``description``).

    Returns the data and the positioned document, so that an error in an answer can point at
    its line. Duplicate keys, aliases, huge files and numbers beyond ±(2^53-1) are refused."""
    if not path.is_file():
        raise UsageError(f"{path}: case file not found")
    try:
        if path.suffix.lower() == ".json":
            doc = load_json(path, MAX_CASE_BYTES)
        else:
            from legal_bases.yamlfile import load_yaml
            doc = load_yaml(path, MAX_CASE_BYTES)
    except YamlFileError as exc:
        raise UsageError(str(exc.problems[0])) from None
    data = doc.data
    if not isinstance(data, dict) or "answers" not in data:
        raise UsageError(f"{path}:1:1: a case file is a mapping with an 'answers:' key, e.g. answers: {{client.age: 15}}")
    extra = sorted(set(data) - {"answers", "case_id", "description"})
    if extra:
        line, col = doc.pos((extra[0],))
        raise UsageError(f"{path}:{line}:{col}: unknown top-level key '{extra[0]}'; allowed: answers, case_id, description")
    if data["answers"] is None:
        data["answers"] = {}
    return data, doc
