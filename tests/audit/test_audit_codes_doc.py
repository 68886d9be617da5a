"""The reason codes are one StrEnum, documented exactly, and every error carries one."""
from __future__ import annotations

import inspect
import re
from pathlib import Path

import audit.errors
from audit.codes import ERRORS, FAILURES, STRICT_FAILURES, WARNINGS, Code

DOC = Path(__file__).resolve().parents[2] / "docs" / "audit.md"


def _documented() -> dict[str, str]:
    """Codes in the tables of docs/audit.md section 7.1: {code: kind}."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split("### 7.1 Reason codes", 1)[1].split("\n## ", 1)[0]
    out: dict[str, str] = {}
    kind = None
    for line in section.splitlines():
        heading = re.match(r"^(Failures|Warnings|Errors)\b", line)
        if heading:
            kind = {"Failures": "failure", "Warnings": "warning", "Errors": "error"}[heading.group(1)]
        row = re.match(r"^\| `([A-Z_]+)` \|", line)
        if row:
            assert kind is not None, line
            assert row.group(1) not in out, f"{row.group(1)} is documented twice"
            out[row.group(1)] = kind
    return out


def test_docs_list_exactly_the_reason_codes():
    documented = _documented()
    assert set(documented) == {c.value for c in Code}
    for code in Code:
        assert documented[code.value] == code.kind, code


def test_the_kinds_partition_the_codes():
    assert set(Code) == FAILURES | WARNINGS | ERRORS and not (FAILURES & WARNINGS or FAILURES & ERRORS)
    assert STRICT_FAILURES <= WARNINGS
    for name in ("BAD_SIGNATURE", "CHAIN_BROKEN", "UNTRUSTED_KEY", "KEY_NOT_VALID_AT_TIME", "TORN_TAIL",
                 "DUPLICATE_RECORD", "MALFORMED_RECORD", "REPLAY_MISMATCH"):  # named by the contract
        assert Code[name].value == name and Code[name].kind == "failure"


def test_every_error_class_carries_a_reason():
    classes = [c for _, c in inspect.getmembers(audit.errors, inspect.isclass) if issubclass(c, audit.errors.AuditError)]
    assert len(classes) >= 10
    for cls in classes:
        err = cls("message")
        assert isinstance(err.code, Code) and err.message == "message" and str(err) == "message"
    assert audit.errors.WrongPassphrase("x").code is Code.WRONG_PASSPHRASE
    assert audit.errors.TrustFileError("x", Code.TRUST_FILE_UNAUTHENTICATED).code is Code.TRUST_FILE_UNAUTHENTICATED
