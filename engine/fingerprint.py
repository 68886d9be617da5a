"""The rule-set fingerprint: sha256 over the canonical content of rules and legal sources.

Comments, key order and white space do not change it; any change of meaning does. The
fingerprint names a rule-set version in decisions and audit records, and is the key under
which ``deelwijzer rules archive`` stores a rule set for replay.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from legal_bases.catalogue import Catalogue
from legal_bases.textfile import YamlDocument


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return value


def canonical_bytes(value: Any) -> bytes:
    return json.dumps(_jsonable(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def fingerprint(rule_docs: Iterable[YamlDocument], catalogue: Catalogue, rules_dir: Path, sources_dir: Path) -> str:
    content = {
        "rules": {str(Path(d.path).relative_to(rules_dir)): d.data for d in rule_docs},
        "legal_bases": {str(Path(p).relative_to(sources_dir)): data for p, data in catalogue.documents.items()},
    }
    return "sha256:" + hashlib.sha256(canonical_bytes(content)).hexdigest()
