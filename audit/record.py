"""The record schema (version 1): pydantic v2, strict, no extra fields.

Every line of the log is a DSSE envelope (``audit.envelope``) whose payload is one of these
records in canonical JSON. Three record types share a header:

- ``genesis`` (seq 0): opens a log and fixes its ``log_id``; its ``prev`` is GENESIS_PREV.
- ``decision``: one advised decision (issue 4 section 1).
- ``recovery``: written by ``audit repair --key``: a torn tail was set aside into a side file.

Only codes, configured names, the engine's own rule texts and keyed pseudonyms are stored: no
client names, no free text typed by the user.
"""
from __future__ import annotations

import functools
import re
import operator
from types import UnionType
from typing import Annotated, Any, Literal, NotRequired, Union, cast, get_args, get_origin

import pydantic_core
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError
from typing_extensions import TypedDict
from pydantic import model_validator

from audit import canonical
from audit.canonical import MAX_SAFE_INT
from audit.codes import Code
from audit.errors import AuditError, CanonicalError, RecordError
from audit.timeutil import TS_PATTERN, valid_ts

SCHEMA_VERSION = 1
GENESIS_PREV = "0" * 64
APP_NAME = "deelwijzer"

UUID4_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
KEY_ID_PATTERN = r"^ed25519:[0-9a-f]{64}$"
HEX64_PATTERN = r"^[0-9a-f]{64}$"
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:/#+\-]{0,127}$"
FACT_ID_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$"
ENUM_VALUE_PATTERN = r"^[A-Za-z0-9_.\-]{1,100}$"
NAME_PATTERN = r"^[^\x00-\x1f\x7f]+$"
VERSION_PATTERN = r"^[0-9A-Za-z][0-9A-Za-z.+_\-]{0,49}$"
FINGERPRINT_PATTERN = r"^sha256:[0-9a-f]{64}$"
CASE_REF_PATTERN = r"^hmac-sha256:[A-Za-z0-9_\-]{43}$"
PSEUDONYM_KEY_ID_PATTERN = r"^pk-[0-9a-f]{16}$"
SIDE_FILE_PATTERN = r"^[A-Za-z0-9._\-]{1,255}$"
TEXT_MAX = 4000

SafeInt = Annotated[int, Field(ge=-MAX_SAFE_INT, le=MAX_SAFE_INT)]
Seq = Annotated[int, Field(ge=0, le=MAX_SAFE_INT)]
Hex64 = Annotated[str, StringConstraints(pattern=HEX64_PATTERN)]
KeyId = Annotated[str, StringConstraints(pattern=KEY_ID_PATTERN)]
Uuid4 = Annotated[str, StringConstraints(pattern=UUID4_PATTERN)]
Ts = Annotated[str, StringConstraints(pattern=TS_PATTERN), AfterValidator(valid_ts)]
# Machine codes: outcome, verdict, recipient, conditions, data categories, source ids, rule ids.
CodeStr = Annotated[str, StringConstraints(pattern=CODE_PATTERN)]
FactId = Annotated[str, StringConstraints(pattern=FACT_ID_PATTERN, max_length=100)]
EnumValue = Annotated[str, StringConstraints(pattern=ENUM_VALUE_PATTERN)]
Text = Annotated[str, StringConstraints(max_length=TEXT_MAX)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NAME_PATTERN)]
Version = Annotated[str, StringConstraints(pattern=VERSION_PATTERN)]
AnswerValue = bool | SafeInt | EnumValue | Annotated[list[EnumValue], Field(max_length=100)]


Codes = Annotated[list[CodeStr], Field(max_length=200)]
RuleIds = Annotated[list[CodeStr], Field(max_length=100)]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


# Field order matters: every model declares its fields in sorted order, so that pydantic's JSON
# serialisation of a validated record is exactly its RFC 8785 form (the verifier's canonical
# check compares the signed bytes with it; a test asserts the order).

class App(_Strict):
    name: Literal["deelwijzer"]
    version: Version


class Actor(_Strict):
    organisation: Name
    professional: Name


class RulesetRef(_Strict):
    fingerprint: Annotated[str, StringConstraints(pattern=FINGERPRINT_PATTERN)]
    name: Name
    version: Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=NAME_PATTERN)]


class ReleaseRef(_Strict):
    """The signed rule-set release a decision was made on (``audit.release``): its signer and the
    SHA-256 of its signed statement. ``null`` in a record: plain rule files, not released."""

    kid: KeyId
    statement: Annotated[str, StringConstraints(pattern=FINGERPRINT_PATTERN)]


class LegalBasis(_Strict):
    citation: Text
    id: CodeStr
    status: Literal["verified", "secondary", "unverified"] | None  # the catalogue's verification status


class Withheld(_Strict):
    category: CodeStr
    reason: Text


class DataSplit(_Strict):
    allowed: Codes
    withheld: Annotated[list[Withheld], Field(max_length=200)]


class Step(_Strict):
    cites: Codes
    rule: CodeStr
    text: Text


class Advice(_Strict):
    conditions: Codes
    data: DataSplit
    explanation: Annotated[list[Step], Field(max_length=100)]
    legal_bases: Annotated[list[LegalBasis], Field(max_length=200)]
    outcome: CodeStr
    recipient: CodeStr | None
    verdict: CodeStr


def fired_rules(explanation: list[Any]) -> list[str]:
    """Rule ids of the explanation steps, in order, each once."""
    seen: dict[str, None] = {}
    for step in explanation:
        rule = step.rule if isinstance(step, Step) else step.get("rule")
        seen.setdefault(rule, None)
    return list(seen)


class GenesisRecord(_Strict):
    app: App
    kid: KeyId
    log_id: Uuid4
    prev: Hex64
    record_id: Uuid4
    seq: Seq
    ts: Ts
    type: Literal["genesis"]
    v: Literal[1]


class DecisionRecord(_Strict):
    actor: Actor
    advice: Advice
    answers: Annotated[dict[FactId, AnswerValue], Field(max_length=200)]
    app: App
    case_ref: Annotated[str, StringConstraints(pattern=CASE_REF_PATTERN)]
    fired_rules: RuleIds
    kid: KeyId
    log_id: Uuid4
    prev: Hex64
    pseudonym_key_id: Annotated[str, StringConstraints(pattern=PSEUDONYM_KEY_ID_PATTERN)]
    record_id: Uuid4
    # absent in records written before releases existed (they still verify); null on plain rules
    release: ReleaseRef | None = None
    ruleset: RulesetRef
    seq: Seq
    ts: Ts
    type: Literal["decision"]
    v: Literal[1]
    # Optional (absent in older records, and when the professional wrote no weighing): the keyed
    # hash of the professional's own weighing that is in the dossier document, never the text.
    weighing_hash: Annotated[str, StringConstraints(pattern=CASE_REF_PATTERN)] | None = Field(
        default=None, exclude_if=lambda v: v is None)

    @model_validator(mode="after")
    def _fired_rules_match(self) -> DecisionRecord:
        if self.fired_rules != fired_rules(self.advice.explanation):
            raise ValueError("fired_rules must list the explanation's rule ids in order")
        return self


class TornInfo(_Strict):
    length: Annotated[int, Field(ge=1, le=MAX_SAFE_INT)]
    offset: Seq
    sha256: Hex64
    side_file: Annotated[str, StringConstraints(pattern=SIDE_FILE_PATTERN)]


class RecoveryRecord(_Strict):
    app: App
    kid: KeyId
    log_id: Uuid4
    prev: Hex64
    record_id: Uuid4
    seq: Seq
    torn: TornInfo
    ts: Ts
    type: Literal["recovery"]
    v: Literal[1]


MODELS = (App, Actor, RulesetRef, ReleaseRef, LegalBasis, Withheld, DataSplit, Step, Advice, GenesisRecord, DecisionRecord,
          TornInfo, RecoveryRecord)


AnyRecord = GenesisRecord | DecisionRecord | RecoveryRecord
RECORD_ADAPTER: TypeAdapter[AnyRecord] = TypeAdapter(Annotated[AnyRecord, Field(discriminator="type")])


def validation_message(exc: ValidationError) -> str:
    """One line naming the first schema problem, e.g. ``advice.outcome: String should match ...``."""
    errs = exc.errors(include_url=False)
    first = errs[0]
    loc = ".".join(str(p) for p in first.get("loc", ())) or "(record)"
    more = f" (and {len(errs) - 1} more)" if len(errs) > 1 else ""
    return f"{loc}: {first.get('msg')}{more}"


def validate_payload(obj: Any) -> AnyRecord:
    """Validate a parsed payload; raises pydantic.ValidationError."""
    return RECORD_ADAPTER.validate_python(obj)


def answers_sorted(rec: Any) -> bool:
    if rec.type != "decision":
        return True
    keys = list(rec.answers)
    return keys == sorted(keys)


# --- building a decision record from the engine's JSON ---------------------------------------

# The projection builds every object with its keys in sorted order, so that its compact JSON
# (``canonical.dumps_ordered``) is already the RFC 8785 form; the writer checks the bytes with the
# verifier's own ``parse_payload`` before signing them.
_ADVICE_KEYS = ("conditions", "data", "explanation", "legal_bases", "outcome", "recipient", "verdict")


def _need(obj: Any, key: str, where: str) -> Any:
    if not isinstance(obj, dict):
        raise RecordError(f"{where} must be a JSON object, got {type(obj).__name__}")
    if key not in obj:
        raise RecordError(f"{where} has no {key!r} (expected the `deelwijzer decide --format json` shape)")
    return obj[key]


def _answer_value(value: Any) -> Any:
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def _items(value: Any, where: str) -> list[Any]:
    if not isinstance(value, (list, tuple)):
        raise RecordError(f"{where} must be a list, got {type(value).__name__}")
    return list(value)


def actor_fields(actor: Any) -> dict[str, str]:
    """Accept ``{"professional"|"name": ..., "organisation": ...}`` (the TUI's settings use ``name``)."""
    if not isinstance(actor, dict):
        raise RecordError("actor must be a mapping with 'professional' (or 'name') and 'organisation'")
    unknown = set(actor) - {"professional", "name", "organisation"}
    if unknown:
        raise RecordError(f"actor has unknown field(s) {sorted(unknown)}; allowed: professional (or name), organisation")
    prof = actor.get("professional", actor.get("name"))
    org = actor.get("organisation")
    out: dict[str, str] = {}
    for field, label, value in (("organisation", "organisation", org), ("professional", "professional name", prof)):
        if not isinstance(value, str) or not value.strip():
            raise RecordError(f"the {label} is not configured; set it in the settings before signing decisions")
        out[field] = value.strip()
    return out


def decision_fields(decision: Any, answers: Any) -> dict[str, Any]:
    """The record fields taken from ``Decision.to_json()`` and the answers (not yet validated):
    only what the record schema knows, each object's keys in sorted order."""
    ruleset = _need(decision, "ruleset", "decision")
    complete = _need(decision, "complete", "decision")
    advice = _need(decision, "advice", "decision")
    if complete is not True or advice is None:
        missing = decision.get("missing") or []
        raise RecordError("the decision is incomplete (still missing: " + (", ".join(map(str, missing)) or "?")
                          + "); only complete advice can be signed")
    rs = {k: _need(ruleset, k, "decision.ruleset") for k in ("fingerprint", "name", "version")}
    adv = {k: _need(advice, k, "decision.advice") for k in _ADVICE_KEYS}
    adv["legal_bases"] = [{"citation": _need(b, "citation", "legal basis"), "id": _need(b, "id", "legal basis"),
                           "status": b.get("status")} for b in _items(adv["legal_bases"], "advice.legal_bases")]
    data = adv["data"]
    adv["data"] = {"allowed": _items(_need(data, "allowed", "decision.advice.data"), "advice.data.allowed"),
                   "withheld": [{"category": _need(w, "category", "withheld item"),
                                 "reason": _need(w, "reason", "withheld item")}
                                for w in _items(_need(data, "withheld", "decision.advice.data"), "advice.data.withheld")]}
    adv["explanation"] = [{"cites": _need(s, "cites", "explanation step"), "rule": _need(s, "rule", "explanation step"),
                           "text": _need(s, "text", "explanation step")}
                          for s in _items(adv["explanation"], "advice.explanation")]
    if isinstance(adv["conditions"], (tuple, set, frozenset)):
        adv["conditions"] = list(adv["conditions"])
    if not isinstance(answers, dict):
        raise RecordError("answers must be a mapping of fact id to value")
    ans = {k: _answer_value(answers[k]) for k in sorted(answers, key=str)}  # canonical order
    return {
        "advice": adv,
        "answers": ans,
        "fired_rules": fired_rules(adv["explanation"]),
        "release": _release_ref(decision.get("release")),
        "ruleset": rs,
    }


def _release_ref(release: Any) -> dict[str, Any] | None:
    """The decision's ``release`` (``VerifiedRelease.to_json()`` or ``.record_ref``) as the record
    holds it: signer and statement digest; None (recorded as null) on plain rule files."""
    if release is None:
        return None
    return {"kid": _need(release, "kid", "decision.release"), "statement": _need(release, "statement", "decision.release")}


class PayloadError(AuditError, ValueError):
    """A signed payload that is not a canonical, schema-valid record: ``code`` is
    MALFORMED_RECORD or NOT_CANONICAL."""

    default_code = Code.MALFORMED_RECORD


def strict_parse(payload: bytes) -> AnyRecord:
    """The reference check: signed payload bytes into a record model, requiring the exact RFC
    8785 bytes.

    One pass through pydantic-core (strict JSON parse + schema), then the canonical check:
    the bytes must equal the record's canonical serialisation, which rejects white space,
    key order, escapes, duplicate keys (the parser keeps the last one, the bytes then differ)
    and number forms. Raises PayloadError."""
    try:
        rec = RECORD_ADAPTER.validate_json(payload)
    except ValidationError as exc:
        raise _explain(payload, exc) from None
    # exclude_unset: a record written before the release field existed has no "release" at all
    if rec.__pydantic_serializer__.to_json(rec, exclude_unset=True) != payload or not answers_sorted(rec):
        raise PayloadError("signed payload is not canonical JSON (RFC 8785): it was signed in another form, or holds "
                           "duplicate keys", Code.NOT_CANONICAL)
    return rec


def _explain(payload: bytes, exc: ValidationError) -> PayloadError:
    try:
        canonical.loads(payload)
    except CanonicalError as err:
        return PayloadError(f"signed payload is not valid JSON: {err.message}")
    return PayloadError(f"payload fails the record schema at {validation_message(exc)}")


def parse_payload(payload: bytes) -> dict[str, Any]:
    """Signed payload bytes into the record (a dict), accepting exactly what ``strict_parse``
    accepts. The verifier's hot path: ``fast_check`` accepts almost every genuine record
    without building models; anything it does not accept goes through ``strict_parse``, which
    names the problem (or, should the fast check ever be stricter, accepts)."""
    obj = fast_check(payload)
    if obj is not None:
        return obj
    strict_parse(payload)  # raises with the reason
    parsed: dict[str, Any] = canonical.loads(payload)
    return parsed


# --- the fast check -----------------------------------------------------------------------------
# The same schema, generated from the models above as TypedDicts: pydantic-core parses and
# validates in one pass without building model instances; the result, whose keys come out in the
# declared (sorted) order, is serialised again and compared with the raw bytes once (pydantic-core's
# compact JSON writer produces RFC 8785 for these types). ``answers`` keeps the order it was read
# in, so its order is checked here, as is the one model validator (fired_rules).
# tests/audit/test_audit_fastpath.py proves it accepts exactly what strict_parse accepts.

_FAST_CONFIG = ConfigDict(strict=True, extra="forbid", cache_strings=False)  # memory stays flat
_TYPED: dict[type[BaseModel], Any] = {}


def _annotated(t: Any, metadata: Any) -> Any:
    """``Annotated[t, *metadata]`` for metadata known only at run time."""
    return cast(Any, Annotated).__class_getitem__((t, *metadata))


def _as_typed(t: Any) -> Any:
    """``t`` with every record model in it replaced by its TypedDict twin."""
    if isinstance(t, type) and issubclass(t, BaseModel):
        return _typed_dict(t)
    origin = get_origin(t)
    if origin is None or origin is Literal:
        return t
    args = get_args(t)
    if origin is Annotated:
        return _annotated(_as_typed(args[0]), args[1:])
    if origin in (Union, UnionType):
        return functools.reduce(operator.or_, [_as_typed(a) for a in args])
    if origin is list:
        return list[_as_typed(args[0])]  # type: ignore[misc]
    if origin is dict:
        return dict[_as_typed(args[0]), _as_typed(args[1])]  # type: ignore[misc]
    raise TypeError(f"no TypedDict twin for {t!r}")


def _typed_dict(model: type[BaseModel]) -> Any:
    if model not in _TYPED:
        fields: dict[str, Any] = {}
        for name, info in model.model_fields.items():
            ann = _as_typed(info.annotation)
            ann = _annotated(ann, info.metadata) if info.metadata else ann
            fields[name] = ann if info.is_required() else NotRequired[ann]  # optional: may be absent
        td: Any = cast(Any, TypedDict)(model.__name__ + "Dict", fields)
        td.__pydantic_config__ = _FAST_CONFIG
        _TYPED[model] = td
    return _TYPED[model]


_FAST: TypeAdapter[dict[str, Any]] = TypeAdapter(cast(Any, Annotated[
    _typed_dict(GenesisRecord) | _typed_dict(DecisionRecord) | _typed_dict(RecoveryRecord), Field(discriminator="type")]))
_FAST_VALIDATE = _FAST.validator.validate_json  # the core validator itself: no wrapper on the hot path


def fast_check(payload: bytes) -> dict[str, Any] | None:
    """The record when ``payload`` is a canonical, schema-valid record; None when it may not be
    (then ``strict_parse`` decides and explains). Never raises."""
    try:
        o: dict[str, Any] = _FAST_VALIDATE(payload)
        if pydantic_core.to_json(o) != payload:
            return None
        if o["type"] == "decision":
            answers = list(o["answers"])
            if answers != sorted(answers) or o["fired_rules"] != fired_rules(o["advice"]["explanation"]):
                return None
    except Exception:  # anything unexpected: let the strict path decide and explain
        return None
    return o


# --- the fixed-shape check of a decision record on its raw bytes -----------------------------------
# A canonical decision record has exactly one byte form for its schema: its fields in sorted order,
# no white space, strings in RFC 8785's minimal escapes. One regular expression over the decoded
# payload therefore checks the canonical form and the schema together, without parsing into objects
# or serialising again; what it cannot say (ordered unique answer keys, fired_rules, real dates) is
# checked on its groups. It only answers "yes" (with the header the verifier's chain needs) or
# "ask the others" (None): fast_check, then strict_parse. tests/audit/test_audit_fastpath.py holds
# it to exactly what strict_parse accepts.

def _j(pattern: str) -> str:
    """A JSON string whose content matches ``pattern`` (one of the ASCII code patterns above,
    whose characters never need escaping)."""
    return '"' + pattern.removeprefix("^").removesuffix("$") + '"'


def _jtext(n: int | None, allow_controls: bool = True) -> str:
    """A canonical JSON string of at most ``n`` characters (each unit below is one character); with
    ``n=None`` of any length, matched in runs (faster; the caller bounds the length otherwise)."""
    if allow_controls:
        unit = r'[^"\\\x00-\x1f]|\\["\\bfnrt]|\\u00(?:0[0-7]|0b|0e|0f|1[0-9a-f])'
    else:  # NAME_PATTERN: no control characters and no DEL, so only \" and \\ can be escaped
        unit = r'[^"\\\x00-\x1f\x7f]|\\["\\]'
    if n is None:
        return rf'"(?:[^"\\\x00-\x1f]++|{unit})*+"'
    return f'"(?:{unit}){{{0 if allow_controls else 1},{n}}}+"'


def _jlist(item: str, n: int) -> str:
    return rf"\[(?:{item}(?:,{item}){{0,{n - 1}}})?\]"


_JCODE = _j(CODE_PATTERN)
_JINT = r"(?:0|-?[1-9][0-9]{0,14})"      # 15 digits at most: inside +-(2^53-1) without a range check
_JSEQ = r"(?:0|[1-9][0-9]{0,15})"        # checked against 2^53-1 below
_JENUM = _j(ENUM_VALUE_PATTERN)
_JFACT = '"(?=[a-z0-9_.]{1,100}")' + FACT_ID_PATTERN.removeprefix("^").removesuffix("$").replace("(", "(?:") + '"'
_JVALUE = rf"(?:true|false|{_JINT}|{_JENUM}|{_jlist(_JENUM, 100)})"


def _jstep(rule: str, text: str) -> str:
    return rf'\{{"cites":{_jlist(_JCODE, 200)},"rule":{rule},"text":{text}\}}'


def _decision_regex(text: str) -> re.Pattern[str]:
    """The canonical form of a decision record, with ``text`` for the rule texts and reasons."""
    advice = (rf'\{{"conditions":{_jlist(_JCODE, 200)},"data":\{{"allowed":{_jlist(_JCODE, 200)},"withheld":'
              + _jlist(rf'\{{"category":{_JCODE},"reason":{text}\}}', 200) + r'\},"explanation":(?P<explanation>'
              + _jlist(_jstep(_JCODE, text), 100) + r'),"legal_bases":'
              + _jlist(rf'\{{"citation":{text},"id":{_JCODE},"status":(?:null|"verified"|"secondary"|"unverified")\}}',
                       200)
              + rf',"outcome":{_JCODE},"recipient":(?:null|{_JCODE}),"verdict":{_JCODE}\}}')
    return re.compile(
        rf'\{{"actor":\{{"organisation":{_jtext(200, False)},"professional":{_jtext(200, False)}\}},"advice":{advice},'
        rf'"answers":(?P<answers>\{{(?:{_JFACT}:{_JVALUE}(?:,{_JFACT}:{_JVALUE}){{0,199}})?\}}),'
        rf'"app":\{{"name":"deelwijzer","version":{_j(VERSION_PATTERN)}\}},"case_ref":{_j(CASE_REF_PATTERN)},'
        rf'"fired_rules":(?P<fired>{_jlist(_JCODE, 100)}),"kid":"(?P<kid>{_j(KEY_ID_PATTERN)[1:-1]})",'
        rf'"log_id":"(?P<log_id>{_j(UUID4_PATTERN)[1:-1]})","prev":"(?P<prev>{_j(HEX64_PATTERN)[1:-1]})",'
        rf'"pseudonym_key_id":{_j(PSEUDONYM_KEY_ID_PATTERN)},"record_id":"(?P<record_id>{_j(UUID4_PATTERN)[1:-1]})",'
        rf'(?:"release":(?:null|\{{"kid":{_j(KEY_ID_PATTERN)},"statement":{_j(FINGERPRINT_PATTERN)}\}}),)?'
        rf'"ruleset":\{{"fingerprint":{_j(FINGERPRINT_PATTERN)},"name":{_jtext(200, False)},'
        rf'"version":{_jtext(50, False)}\}},"seq":(?P<seq>{_JSEQ}),"ts":"(?P<ts>{_j(TS_PATTERN)[1:-1]})",'
        rf'"type":"decision","v":1\}}')


# In a payload of at most TEXT_MAX + 2 characters no string can be longer than TEXT_MAX: the texts
# are then matched in runs; in a longer payload each text is counted to TEXT_MAX.
_DECISION_SHORT = _decision_regex(_jtext(None))
_DECISION_LONG = _decision_regex(_jtext(TEXT_MAX))
_STEP_RULE = re.compile(r'"rule":"([^"]*)"')  # inside a canonical explanation a quote is never unescaped
_ANSWER_KEY = re.compile(r'"([a-z0-9_.]+)":')
_QUOTED = re.compile(r'"([^"]*)"')

Header = tuple[int, str, str, str, str, str, str]  # seq, prev, ts, kid, record_id, log_id, type


def decision_header(payload: bytes) -> Header | None:
    """The header of a canonical, schema-valid decision record, checked on its raw bytes; None
    when the payload may be anything else (then ``parse_payload`` decides). Never raises."""
    if not payload.endswith(b'"type":"decision","v":1}'):
        return None
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        return None
    m = (_DECISION_SHORT if len(text) <= TEXT_MAX + 2 else _DECISION_LONG).fullmatch(text)
    if m is None:
        return None
    keys = _ANSWER_KEY.findall(m.group("answers"))
    if any(a >= b for a, b in zip(keys, keys[1:])):
        return None  # not sorted, or a key twice
    rules = list(dict.fromkeys(_STEP_RULE.findall(m.group("explanation"))))
    if _QUOTED.findall(m.group("fired")) != rules:
        return None
    ts = m.group("ts")
    seq = int(m.group("seq"))
    try:
        valid_ts(ts)
    except ValueError:
        return None
    if seq > MAX_SAFE_INT:
        return None
    return seq, m.group("prev"), ts, m.group("kid"), m.group("record_id"), m.group("log_id"), "decision"
