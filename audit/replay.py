"""Replay: re-run a recorded decision on the archived rule set it names and compare the advice.

Uses the engine's interface (imported here only, lazily, so the audit package works without
the engine):

    engine.archive.load_archived(archive_dir, fingerprint) -> Ruleset
    engine.parse_answers(ruleset, raw) -> answers
    engine.decide(ruleset, answers, on=date) -> Decision;  Decision.to_json() -> contract shape

The decision is replayed as of the record's date (``on``), so legal sources that were valid
then are valid in the replay. Compared: outcome, verdict, conditions, data allowed, data
withheld categories and legal-basis ids (as sets where the order carries no meaning).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from audit import codes
from audit.timeutil import parse_ts


def _advice_key(advice: Any) -> dict[str, Any]:
    get = (lambda k: advice.get(k)) if isinstance(advice, dict) else (lambda k: getattr(advice, k))
    data = get("data")
    data_get = (lambda k: data.get(k)) if isinstance(data, dict) else (lambda k: getattr(data, k))

    def field(item: Any, name: str) -> Any:
        return item.get(name) if isinstance(item, dict) else getattr(item, name)

    return {
        "outcome": get("outcome"),
        "verdict": get("verdict"),
        "conditions": sorted(get("conditions") or []),
        "data.allowed": sorted(data_get("allowed") or []),
        "data.withheld": sorted(field(w, "category") for w in (data_get("withheld") or [])),
        "legal_bases": sorted(field(b, "id") for b in (get("legal_bases") or [])),
    }


def compare(recorded: Any, replayed: Any) -> list[str]:
    """Differences between two advices, one string per differing field."""
    a, b = _advice_key(recorded), _advice_key(replayed)
    out = []
    for name in a:
        if a[name] != b[name]:
            if isinstance(a[name], list):
                plus = sorted(set(b[name]) - set(a[name]))
                minus = sorted(set(a[name]) - set(b[name]))
                out.append(f"{name}: replay adds {plus or '-'}, drops {minus or '-'}")
            else:
                out.append(f"{name}: recorded {a[name]}, replay gives {b[name]}")
    return out


class Replayer:
    def __init__(self, archive_dir: Path):
        self.archive_dir = Path(archive_dir)
        self._rulesets: dict[str, Any] = {}

    def _ruleset(self, fingerprint: str) -> Any:
        if fingerprint not in self._rulesets:
            try:
                from engine import archive
                rs = archive.load_archived(self.archive_dir, fingerprint)
                if getattr(rs, "fingerprint", fingerprint) != fingerprint:
                    raise ValueError(f"the archive entry holds rule set {rs.fingerprint}")
                self._rulesets[fingerprint] = rs
            except ImportError as exc:
                self._rulesets[fingerprint] = RuntimeError(f"the rules engine is not available ({exc})")
            except Exception as exc:  # noqa: BLE001 - any failure to load is reported, never raised
                self._rulesets[fingerprint] = RuntimeError(f"{type(exc).__name__}: {exc}")
        return self._rulesets[fingerprint]

    def check(self, rec: Any) -> tuple[str, str] | None:
        """None when the replay gives the recorded advice; else (code, message)."""
        fp = rec.ruleset.fingerprint
        rs = self._ruleset(fp)
        if isinstance(rs, Exception):
            return codes.REPLAY_UNAVAILABLE, (f"rule set {rec.ruleset.name} {rec.ruleset.version} ({fp[:19]}…) "
                                              f"cannot be loaded from archive {self.archive_dir}: {rs}")
        try:
            import engine
            answers = engine.parse_answers(rs, dict(rec.answers))
            on = parse_ts(rec.ts).date()
            try:
                decision = engine.decide(rs, answers, on=on)
            except TypeError:
                decision = engine.decide(rs, answers)
            replayed = decision.to_json()
        except Exception as exc:  # noqa: BLE001 - a replay that cannot run is a finding, not a crash
            return codes.REPLAY_MISMATCH, f"the recorded answers cannot be replayed on {fp[:19]}…: {type(exc).__name__}: {exc}"
        if not replayed.get("complete") or replayed.get("advice") is None:
            missing = ", ".join(replayed.get("missing") or []) or "?"
            return codes.REPLAY_MISMATCH, f"replay on {fp[:19]}… gives no advice (still missing: {missing})"
        diffs = compare(rec.advice, replayed["advice"])
        if diffs:
            return codes.REPLAY_MISMATCH, f"replay on {fp[:19]}… gives other advice: " + "; ".join(diffs)
        return None

