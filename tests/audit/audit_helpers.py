"""Helpers for the audit tests: decisions, small logs, trusted-keys files and attacker tools."""
from __future__ import annotations

import base64
import json
from pathlib import Path
from collections.abc import Callable

from audit import envelope, keys, trust
from audit.keys import SigningKey
from audit.log import AuditLogWriter

ACTOR = {"professional": "J. de Vries", "organisation": "Jeugdteam Noord"}


def make_decision(i: int = 0) -> tuple[dict, dict]:
    """A decision in the shape of `deelwijzer decide --format json` (engine output incl. extras)."""
    outcomes = [("SHARE_DIRECTLY_INVOLVED", "share", "colleague_involved"),
                ("SEEK_CONSENT_FIRST", "do_not_share", "parent"),
                ("MELD_VEILIG_THUIS", "share", "veilig_thuis")]
    outcome, verdict, recipient = outcomes[i % len(outcomes)]
    decision = {
        "ruleset": {"name": "deelwijzer-mensenhandel", "version": "2026.11.1", "fingerprint": "sha256:" + "6" * 64},
        "complete": True, "missing": [], "assumed": {}, "ignored": [],
        "advice": {
            "outcome": outcome, "verdict": verdict, "recipient": recipient,
            "legal_bases": [{"id": "jw-7.3.11-1", "citation": "art. 7.3.11 lid 1 Jeugdwet", "status": "verified"},
                            {"id": "uavg-30", "citation": "art. 30 lid 3 onder a UAVG", "status": "secondary"}],
            "conditions": ["minimise", "record_in_dossier"],
            "data": {"allowed": ["identity", "signals"],
                     "withheld": [{"category": "health", "reason": "Niet nodig voor dit doel."}]},
            "explanation": [{"rule": "confidentiality_jeugdwet", "text": "Je beroepsgeheim staat in de Jeugdwet.",
                             "cites": ["jw-7.3.11-1"], "facts": {"professional.role": "jeugdhulpverlener"}}],
            "unverified": ["uavg-30"],
        },
    }
    answers = {"professional.role": "jeugdhulpverlener", "share.recipient": recipient, "client.age": 10 + i % 8,
               "share.data": ["identity", "signals", "health"], "danger.acute": False}
    return decision, answers


def trust_file(path: Path, *signing_keys: SigningKey, **windows) -> Path:
    """A trusted-keys file with these keys (windows apply to the first key)."""
    for i, k in enumerate(signing_keys):
        pem = path.parent / f"{path.stem}-key{i}.pem"
        pem.write_text(keys.public_key_pem(k.public_key))
        trust.trust_key(path, pem, f"owner {i}", **(windows if i == 0 else {}))
    return path


def append(log: Path, key: SigningKey, n: int, start: int = 0) -> list:
    out = []
    with AuditLogWriter(log) as w:
        for i in range(start, start + n):
            d, a = make_decision(i)
            out.append(w.append_decision(key, decision=d, answers=a, actor=ACTOR, case_ref_source=f"case-{i}"))
    return out


def pin(log: Path, tk: Path) -> None:
    from audit.merkle import leaf_hash
    first = read_lines(log)[0]
    payload, _, _ = envelope.parse(first[:-1], envelope.RECORD_TYPE)
    trust.pin_log(tk, json.loads(payload)["log_id"], leaf_hash(payload).hex())


# --- attacker tools -----------------------------------------------------------------------------

def read_lines(log: Path) -> list[bytes]:
    return Path(log).read_bytes().splitlines(keepends=True)


def write_lines(log: Path, lines: list[bytes]) -> None:
    Path(log).write_bytes(b"".join(lines))


def payload_of(line: bytes) -> dict:
    env = json.loads(line)
    return json.loads(base64.b64decode(env["payload"]))


def keep_signature(line: bytes, mutate: Callable[[dict], None]) -> bytes:
    """Change the payload (canonically re-encoded) but keep the original signature."""
    env = json.loads(line)
    body = payload_of(line)
    mutate(body)
    env["payload"] = base64.b64encode(_canon(body)).decode()
    return _canon(env) + b"\n"


def resign(line: bytes, signer: SigningKey, mutate: Callable[[dict], None] = lambda b: None, *,
           encode: Callable[[dict], bytes] | None = None, keyid: str | None = None) -> bytes:
    """Re-sign a (mutated) payload with ``signer``; ``encode`` chooses the payload bytes."""
    body = payload_of(line)
    mutate(body)
    payload = (encode or _canon)(body)
    sig = signer.sign(envelope.pae(envelope.RECORD_TYPE, payload))
    env = {"payload": base64.b64encode(payload).decode(), "payloadType": envelope.RECORD_TYPE,
           "signatures": [{"keyid": keyid or signer.key_id, "sig": base64.b64encode(sig).decode()}]}
    return _canon(env) + b"\n"


def rechain(lines: list[bytes], start: int, signer: SigningKey) -> list[bytes]:
    """Re-sign lines[start:] so that seq/prev continue from lines[start-1] (an insider with the key)."""
    from audit.merkle import leaf_hash
    out = list(lines[:start])
    for line in lines[start:]:
        seq = payload_of(out[-1])["seq"] + 1
        prev = leaf_hash(base64.b64decode(json.loads(out[-1])["payload"])).hex()

        def fix(body: dict, seq: int = seq, prev: str = prev) -> None:
            body["seq"], body["prev"], body["kid"] = seq, prev, signer.key_id
        out.append(resign(line, signer, fix))
    return out


def _canon(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def codes_of(report) -> list[tuple[int | None, str]]:
    return [(f.line, f.code) for f in report.failures]
