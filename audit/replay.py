"""Replay: re-run a recorded decision on the archived rule set it names; the record must hold
exactly the advice that rule set gives.

Uses the engine's interface (imported here only, lazily, so the audit package works without
the engine)::

    engine.archive.load_archived(archive_dir, fingerprint) -> Ruleset
    engine.parse_answers(ruleset, raw) -> answers
    engine.decide(ruleset, answers, on=date) -> Decision;  Decision.to_json("nl") -> contract shape

For each decision record:

1. **vocabulary** (VOCABULARY_MISMATCH): every code in the record -- outcome, verdict,
   recipient, conditions, data categories, legal-source ids (cited and as basis), rule ids,
   fact ids and answer values -- belongs to the rule set the record names. The record schema
   allows any code-shaped string; this is where a name typed into an enum-shaped field, or a
   made-up legal source, is caught even when the advice itself would not be replayed;
2. **replay** (REPLAY_MISMATCH): the recorded answers are decided again as of the record's date
   (so that legal sources valid then are valid in the replay), in Dutch, and the replayed
   advice is projected onto the record schema exactly as the writer projects it
   (``record.decision_fields``). The canonical bytes of recorded and replayed advice, plus
   ``fired_rules`` and the rule set's name and version, must be equal. A difference names the
   first differing field (e.g. ``advice.data.withheld[0].reason``), recorded and replayed value.

The archive directory may also hold signed rule-set releases (``audit.release``: the
directory itself, or its subdirectories, each a release). A record that names a release
(``release: {kid, statement}``) is replayed on that release only, after the release is
verified against the trusted-keys file: its signature by a ``release`` key valid when it was
signed and when the record was made, its files and fingerprint, its valid-from not after the
record (the release's own reason codes), and the record's rule set is the release's
(RELEASE_MISMATCH). A release that is not there is REPLAY_UNAVAILABLE. A record on plain rule
files (``release`` null or absent) is replayed on the archive entry with its fingerprint, or on
a release that holds that rule set.
"""
from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

from audit import canonical, record
from audit.codes import Code
from audit.errors import AuditError, CanonicalError
from audit.timeutil import parse_ts
from audit.trust import TrustStore

# The order in which fields are compared (and the first difference named): the advice as a
# professional reads it, then the explanation and the rules behind it.
FIELD_ORDER = ("outcome", "verdict", "recipient", "conditions", "data", "allowed", "withheld", "legal_bases",
               "explanation", "id", "category", "rule", "citation", "status", "reason", "text", "cites")


def first_difference(recorded: Any, replayed: Any, path: str) -> tuple[str, Any, Any] | None:
    """(field path, recorded value, replayed value) of the first difference, or None."""
    if type(recorded) is not type(replayed):
        return path, recorded, replayed
    if isinstance(recorded, dict):
        keys = [k for k in FIELD_ORDER if k in recorded or k in replayed]
        keys += sorted((set(recorded) | set(replayed)) - set(keys))
        for k in keys:
            if k not in recorded or k not in replayed:
                return f"{path}.{k}", recorded.get(k), replayed.get(k)
            d = first_difference(recorded[k], replayed[k], f"{path}.{k}")
            if d:
                return d
        return None
    if isinstance(recorded, list):
        for i, (a, b) in enumerate(zip(recorded, replayed)):
            d = first_difference(a, b, f"{path}[{i}]")
            if d:
                return d
        if len(recorded) != len(replayed):
            i = min(len(recorded), len(replayed))
            return (f"{path}[{i}]", recorded[i] if i < len(recorded) else "(absent)",
                    replayed[i] if i < len(replayed) else "(absent)")
        return None
    return None if recorded == replayed else (path, recorded, replayed)


def _show(value: Any) -> str:
    text = value if isinstance(value, str) else canonical.dumps_unchecked(value).decode("utf-8", "replace")
    return repr(text if len(text) <= 120 else text[:117] + "...")


# Explanation steps the engine adds that are not rules of the rule set: the legal defaults it
# assumed, the fallback outcome, the default reason to withhold data, cautions, and the privacy
# officer's notes on a rule ("note:<rule id>"). Replay compares every step exactly; this list only
# decides which step ids count as vocabulary.
ENGINE_STEP_IDS = frozenset({"assumed", "fallback", "default-withhold"})
_CAUTION = re.compile(r"caution-[1-9][0-9]{0,3}")


def _is_step_id(rs: Any, step: str) -> bool:
    if step in ENGINE_STEP_IDS or _CAUTION.fullmatch(step):
        return True
    rule = step.removeprefix("note:")
    try:
        rs.rule(rule)
    except KeyError:
        return False
    return True


def vocabulary_problem(rs: Any, rec: dict[str, Any]) -> str | None:
    """The first code in a decision record that the rule set does not know (None when all are known)."""
    advice = rec["advice"]
    outcomes = getattr(rs, "outcomes", {})
    if advice["outcome"] not in outcomes:
        return f"advice.outcome {advice['outcome']!r} is not an outcome of this rule set"
    verdicts = {getattr(o, "verdict", None) for o in outcomes.values()}
    if advice["verdict"] not in verdicts:
        return f"advice.verdict {advice['verdict']!r} is not a verdict of this rule set"
    if advice["recipient"] is not None:
        try:
            options = {str(o.value) for o in (rs.question("share.recipient").options or [])}
        except (KeyError, AttributeError):
            options = set()
        if advice["recipient"] not in options:
            return f"advice.recipient {advice['recipient']!r} is not a recipient this rule set asks about"
    for i, c in enumerate(advice["conditions"]):
        if c not in rs.conditions:
            return f"advice.conditions[{i}] {c!r} is not a condition of this rule set"
    cats = rs.data_categories
    for i, c in enumerate(advice["data"]["allowed"]):
        if c not in cats:
            return f"advice.data.allowed[{i}] {c!r} is not a data category of this rule set"
    for i, w in enumerate(advice["data"]["withheld"]):
        if w["category"] not in cats:
            return f"advice.data.withheld[{i}].category {w['category']!r} is not a data category of this rule set"
    for i, b in enumerate(advice["legal_bases"]):
        if b["id"] not in rs.sources:
            return f"advice.legal_bases[{i}].id {b['id']!r} is not a legal source in this rule set's catalogue"
    for i, step in enumerate(advice["explanation"]):
        for j, cite in enumerate(step["cites"]):
            if cite not in rs.sources:
                return f"advice.explanation[{i}].cites[{j}] {cite!r} is not a legal source in this rule set's catalogue"
    for i, rule in enumerate(rec["fired_rules"]):
        if not _is_step_id(rs, rule):
            return f"fired_rules[{i}] {rule!r} is not a rule of this rule set"
    facts = getattr(rs, "facts", None)
    if facts is not None:
        for fact in rec["answers"]:
            if fact not in facts:
                return f"answers: {fact!r} is not a fact of this rule set"
    return None


def _engine(name: str) -> Any:
    """The engine, imported only when a replay runs (its interface is documented above)."""
    return importlib.import_module(name)


class Replayer:
    def __init__(self, archive_dir: Path, trust: TrustStore | None = None):
        self.archive_dir = Path(archive_dir)
        self.trust = trust
        self._rulesets: dict[str, Any] = {}
        self._releases: dict[str, Path] | None = None
        self._opened: dict[str, Any] = {}

    def _release_dirs(self) -> dict[str, Path]:
        if self._releases is None:
            from audit.release import find_releases
            self._releases = find_releases(self.archive_dir)
        return self._releases

    def _release(self, statement: str) -> Any:
        """The verified release with this statement digest (cached), or a (code, message) pair."""
        if statement not in self._opened:
            from audit.release import open_release
            path = self._release_dirs().get(statement)
            if path is None:
                self._opened[statement] = (Code.REPLAY_UNAVAILABLE, f"release {statement[:19]}… is not in "
                                                                    f"{self.archive_dir}")
            elif self.trust is None:
                self._opened[statement] = (Code.REPLAY_UNAVAILABLE, "no trusted-keys file to check the release with")
            else:
                try:
                    self._opened[statement] = open_release(path, self.trust)
                except AuditError as exc:
                    self._opened[statement] = (exc.code, f"release {path}: {exc.message}")
        return self._opened[statement]

    def _on_release(self, rec: dict[str, Any]) -> Any:
        """The rule set of the release the record names, or (code, message) why it cannot be used."""
        from audit.release import check_usable
        ref = rec["release"]
        release = self._release(ref["statement"])
        if isinstance(release, tuple):
            return release
        if release.signer_key_id != ref["kid"]:
            return Code.RELEASE_MISMATCH, (f"the record names signer {ref['kid'][:24]}… for release "
                                           f"{ref['statement'][:19]}…, which {release.signer_key_id[:24]}… signed")
        if release.fingerprint != rec["ruleset"]["fingerprint"]:
            return Code.RELEASE_MISMATCH, (f"the record's rule set {rec['ruleset']['fingerprint'][:19]}… is not the one "
                                           f"of release {release.name} {release.version} ({release.fingerprint[:19]}…)")
        assert self.trust is not None
        try:
            check_usable(release, self.trust, rec["ts"])
        except AuditError as exc:
            return exc.code, f"the record was made at {rec['ts']} on a release it could not use then: {exc.message}"
        return release.ruleset

    def _ruleset(self, fingerprint: str) -> Any:
        if fingerprint not in self._rulesets:
            try:
                archive = _engine("engine.archive")
                places = [self.archive_dir]
                hexpart = fingerprint.removeprefix("sha256:")
                if not (self.archive_dir / hexpart).is_dir():  # a release that holds this rule set
                    places = [p for p in self._release_dirs().values() if (p / hexpart).is_dir()] or places
                rs = archive.load_archived(places[0], fingerprint)
                if getattr(rs, "fingerprint", fingerprint) != fingerprint:
                    raise ValueError(f"the archive entry holds rule set {rs.fingerprint}")
                self._rulesets[fingerprint] = rs
            except ImportError as exc:
                self._rulesets[fingerprint] = RuntimeError(f"the rules engine is not available ({exc})")
            except Exception as exc:  # any failure to load is reported, never raised
                self._rulesets[fingerprint] = RuntimeError(f"{type(exc).__name__}: {exc}")
        return self._rulesets[fingerprint]

    def check(self, rec: dict[str, Any]) -> tuple[Code, str] | None:
        """None when the record holds the advice its rule set gives; else (code, message)."""
        rs_ref = rec["ruleset"]
        fp = rs_ref["fingerprint"]
        label = f"{fp[:19]}…"
        if rec.get("release") is not None:
            rs = self._on_release(rec)
            if isinstance(rs, tuple):
                return rs
        else:
            rs = self._ruleset(fp)
        if isinstance(rs, Exception):
            return Code.REPLAY_UNAVAILABLE, (f"rule set {rs_ref['name']} {rs_ref['version']} ({label}) cannot be "
                                             f"loaded from archive {self.archive_dir}: {rs}")
        problem = vocabulary_problem(rs, rec)
        if problem:
            return Code.VOCABULARY_MISMATCH, f"{problem} ({rs_ref['name']} {rs_ref['version']}, {label})"
        engine = _engine("engine")
        try:
            answers = engine.parse_answers(rs, dict(rec["answers"]))
        except Exception as exc:  # an answer outside the rule set's facts or values
            return Code.VOCABULARY_MISMATCH, f"the recorded answers do not fit rule set {label}: {exc}"
        try:
            decision = engine.decide(rs, answers, on=parse_ts(rec["ts"]).date())
            replayed = decision.to_json("nl")
        except Exception as exc:  # a replay that cannot run is a finding, not a crash
            return Code.REPLAY_MISMATCH, f"the recorded answers cannot be replayed on {label}: {type(exc).__name__}: {exc}"
        if not replayed.get("complete") or replayed.get("advice") is None:
            missing = ", ".join(replayed.get("missing") or []) or "?"
            return Code.REPLAY_MISMATCH, f"replay on {label} gives no advice (still missing: {missing})"
        try:
            fields = record.decision_fields(replayed, rec["answers"])
        except AuditError as exc:
            return Code.REPLAY_MISMATCH, f"the replayed advice does not fit the record schema: {exc.message}"
        want = {"advice": fields["advice"], "fired_rules": fields["fired_rules"],
                "ruleset": {"name": fields["ruleset"]["name"], "version": fields["ruleset"]["version"]}}
        got = {"advice": rec["advice"], "fired_rules": rec["fired_rules"],
               "ruleset": {"name": rs_ref["name"], "version": rs_ref["version"]}}
        try:
            same = canonical.dumps(got) == canonical.dumps(want)
        except CanonicalError as exc:
            return Code.REPLAY_MISMATCH, f"the replayed advice cannot be written canonically: {exc.message}"
        if same:
            return None
        diff = first_difference(got, want, "")
        where, a, b = diff if diff else ("advice", "?", "?")
        return Code.REPLAY_MISMATCH, (f"replay on {label} differs first at {where.lstrip('.')}: recorded {_show(a)}, "
                                      f"replay gives {_show(b)}")
