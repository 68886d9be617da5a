"""Signed rule-set releases: the privacy officer releases a rule set, the app runs only on it.

A release is a directory (docs/releases.md)::

    RELEASE_DIR/release.json                       one DSSE envelope line (payloadType RELEASE_TYPE)
    RELEASE_DIR/<fingerprint hex>/rules/*.yaml     the rule set, as ``rules archive`` stores it
    RELEASE_DIR/<fingerprint hex>/legal_bases/*.yaml

so a release directory is also a one-entry rule-set archive (``engine.archive``). The envelope's
payload is an in-toto Statement v1 (canonical JSON, RFC 8785) whose ``subject`` lists every
archived file with its SHA-256 and whose predicate (``PREDICATE_TYPE``) names the rule set
(name, version, fingerprint), the signer's key id, the signing time, the time the release
applies from, the release notes and, when a previous release was given, what changed.

``verify_release(release_dir, trusted_keys)`` checks, in order, and raises ``ReleaseError``
whose ``code`` names the first check that failed:

1. the statement file: a regular file of at most ``MAX_STATEMENT`` bytes, one canonical
   envelope (RELEASE_INVALID);
2. the signature (``audit.signed.open_envelope``): a key in the trusted-keys file
   (UNTRUSTED_KEY), Ed25519 over the PAE of the exact bytes (BAD_SIGNATURE), the key has the
   role ``release`` -- a professional's record key cannot release rules (KEY_ROLE_NOT_ALLOWED);
3. the statement: canonical, the strict schema, its ``kid`` is the signer (RELEASE_INVALID);
4. the signer is valid at the signing time and now: not revoked, not expired
   (KEY_NOT_VALID_AT_TIME);
5. the files: exactly the signed files, byte for byte, and nothing else -- no file added,
   removed or changed, no symbolic link, FIFO or other special file anywhere inside
   (RELEASE_FILES_CHANGED);
6. the rule set: the archived files load and give the signed fingerprint
   (RELEASE_FINGERPRINT_MISMATCH);
7. the release applies: its valid-from is not after now (RELEASE_NOT_YET_VALID).

Steps 1-6 are ``open_release`` (they do not depend on the clock, except the signer's
validity at the signed time); step 4's "now" part and step 7 are ``check_usable(release,
trust, at)``, which the auditor's replay runs with the record's time instead of now.

The files are read once, through directory file descriptors and without following any link
inside the release; the rule set is then loaded from the same paths. A change between the
two reads cannot change what runs: the loaded rule set must still give the signed fingerprint.

Nothing here imports Textual; the engine is imported only when a rule set is loaded (as in
``audit.replay``).
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import importlib
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from audit import canonical, envelope, keys
from audit import trust as trustmod
from audit.codes import Code
from audit.digest import sha256
from audit.errors import CanonicalError, EnvelopeError, ReleaseError, TrustFileError
from audit.files import O_CLOEXEC, O_NOFOLLOW, fsync_dir, write_new
from audit.record import FINGERPRINT_PATTERN, NAME_PATTERN, App, Hex64, KeyId, Name, Ts, validation_message
from audit.signed import open_envelope
from audit.timeutil import format_ts, parse_user_time

RELEASE_TYPE = envelope.RELEASE_TYPE           # "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "urn:deelwijzer:rules-release:v1"
STATEMENT_FILE = "release.json"
ROLES = ("release",)
ENV_RELEASE = "DEELWIJZER_RELEASE"             # a release directory to run on (decide, the interview)
ENV_TRUSTED_KEYS = "DEELWIJZER_TRUSTED_KEYS"   # the trusted-keys file that holds the release key

MAX_STATEMENT = 1 << 20      # bytes of release.json
MAX_FILE = 4 << 20           # bytes of one archived file
MAX_TOTAL = 64 << 20         # bytes of all archived files together
MAX_FILES = 1000             # archived files in one release
MAX_ENTRIES = 2 * MAX_FILES  # directory entries looked at before a release is refused as too large
NOTES_MAX = 4000
MAX_KINDS = 200              # kinds of change listed in a statement (the rest are counted)

_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
FILE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,99}\.yaml$"
SUBJECT_PATTERN = r"^[0-9a-f]{64}/(rules|legal_bases)/[A-Za-z0-9][A-Za-z0-9._\-]{0,99}\.yaml$"
_FILE_NAME = re.compile(FILE_NAME_PATTERN)
_NOTES = re.compile(r"^[^\x00-\x08\x0b-\x1f\x7f]*$")  # printable text; new lines and tabs allowed


# --- whom to ask -------------------------------------------------------------------------------

_HINTS: dict[Code, tuple[str, str]] = {
    Code.RELEASE_INVALID: (
        "Vraag IT de vrijgave opnieuw te installeren, precies zoals de privacy officer (FG) die heeft aangeleverd.",
        "Ask IT to install the release again, exactly as the privacy officer (FG) handed it over."),
    Code.RELEASE_FILES_CHANGED: (
        "Er is na het ondertekenen iets in de vrijgave veranderd. Vraag IT de oorspronkelijke vrijgave terug te zetten "
        "en meld dit aan de privacy officer (FG).",
        "Something in the release was changed after it was signed. Ask IT to restore the original release and "
        "report this to the privacy officer (FG)."),
    Code.RELEASE_FINGERPRINT_MISMATCH: (
        "De regels in deze vrijgave passen niet bij deze versie van Deelwijzer. Vraag de privacy officer (FG) om een "
        "vrijgave voor deze versie.",
        "The rules in this release do not fit this version of Deelwijzer. Ask the privacy officer (FG) for a release "
        "made for this version."),
    Code.RELEASE_NOT_YET_VALID: (
        "Deze vrijgave geldt nog niet. Werk tot die datum met de huidige vrijgave; vraag IT welke je moet gebruiken.",
        "This release does not apply yet. Until then keep working on the current release; ask IT which one to use."),
    Code.UNTRUSTED_KEY: (
        "De vrijgave is ondertekend met een sleutel die niet in je lijst van vertrouwde sleutels staat. Vraag IT om de "
        "actuele lijst, of vraag de privacy officer (FG) of die deze vrijgave heeft ondertekend.",
        "The release is signed with a key that your trusted-keys file does not list. Ask IT for the current file, or "
        "ask the privacy officer (FG) whether they signed this release."),
    Code.BAD_SIGNATURE: (
        "De verklaring van de vrijgave is na het ondertekenen veranderd. Vraag IT de oorspronkelijke vrijgave terug te "
        "zetten en meld dit aan de privacy officer (FG).",
        "The release statement was changed after it was signed. Ask IT to restore the original release and report "
        "this to the privacy officer (FG)."),
    Code.KEY_ROLE_NOT_ALLOWED: (
        "De vrijgave is ondertekend met een sleutel die geen regels mag vrijgeven (bijvoorbeeld de sleutel van een "
        "professional). Alleen de vrijgavesleutel van de privacy officer (FG) mag dat; vraag de privacy officer.",
        "The release is signed with a key that may not release rules (for example a professional's record key). Only "
        "the privacy officer's (FG) release key may; ask the privacy officer."),
    Code.KEY_NOT_VALID_AT_TIME: (
        "De sleutel waarmee de vrijgave is ondertekend, is ingetrokken of verlopen. Vraag de privacy officer (FG) om een "
        "vrijgave met een geldige sleutel.",
        "The key that signed the release is revoked or expired. Ask the privacy officer (FG) for a release signed "
        "with a current key."),
    Code.TRUST_FILE_INVALID: (
        "De lijst van vertrouwde sleutels ontbreekt of is beschadigd. Vraag IT om het bestand trusted-keys.json.",
        "The trusted-keys file is missing or damaged. Ask IT for the trusted-keys.json file."),
}


def whom_to_ask(code: Code, lang: str = "nl") -> str:
    """What a professional should do about a refused release, and whom to ask (nl or en)."""
    nl, en = _HINTS.get(code, _HINTS[Code.RELEASE_INVALID])
    return en if lang == "en" else nl


def _fail(message: str, code: Code = Code.RELEASE_INVALID, hint: str | None = None) -> ReleaseError:
    """A ReleaseError; the hint defaults to what a professional should do about a refused release."""
    return ReleaseError(message, code, hint=hint if hint is not None else
                        (whom_to_ask(code, "en") if code in _HINTS else ""))


_SIGNER_HINTS = {  # for the privacy officer making a release
    Code.UNTRUSTED_KEY: "Trust your release key first (`deelwijzer keys trust KEYDIR --trusted-keys FILE --owner NAME "
                        "--role release`), or sign with the key that is trusted for releases.",
    Code.KEY_ROLE_NOT_ALLOWED: "Sign releases with the privacy officer's release key (trusted with --role release), "
                               "never with a professional's record key.",
    Code.KEY_NOT_VALID_AT_TIME: "The key's validity window does not cover the signing time or --valid-from; sign with "
                                "a current release key.",
}


# --- the statement -----------------------------------------------------------------------------

class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, populate_by_name=False)


Fingerprint = Annotated[str, StringConstraints(pattern=FINGERPRINT_PATTERN)]
Count = Annotated[int, Field(ge=0, le=canonical.MAX_SAFE_INT)]
Label = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=NAME_PATTERN)]
RulesetVersion = Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=NAME_PATTERN)]
Notes = Annotated[str, StringConstraints(max_length=NOTES_MAX, pattern=_NOTES.pattern)]


class Digest(_Strict):
    sha256: Hex64


class Subject(_Strict):
    digest: Digest
    name: Annotated[str, StringConstraints(pattern=SUBJECT_PATTERN)]


class PreviousRelease(_Strict):
    """The release a new one was compared with (``--previous``)."""

    fingerprint: Fingerprint
    name: Name
    statement: Fingerprint   # sha256 of the previous release's signed statement
    version: RulesetVersion


class Changed(_Strict):
    kind: Label              # e.g. "outcome: SEEK_CONSENT_FIRST -> SHARE_WITH_CONSENT"
    paths: Count


class Spread(_Strict):
    outcome: Label
    paths: Count


class Changes(_Strict):
    """``rules diff`` of the previous release against this one, in short (``engine.diff.DiffReport``)."""

    changed: Count                                               # paths whose advice changed
    changed_rules: Annotated[list[Label], Field(max_length=MAX_FILES)]
    kinds: Annotated[list[Changed], Field(max_length=MAX_KINDS)]   # the most frequent first
    kinds_not_listed: Count = 0                                  # further kinds beyond MAX_KINDS (optional: added later)
    new_paths: Annotated[list[Spread], Field(max_length=MAX_FILES)]
    paths: Count                                                 # paths both versions produce
    previous: PreviousRelease
    removed_paths: Annotated[list[Spread], Field(max_length=MAX_FILES)]
    unchanged: Count


class Predicate(_Strict):
    app: App
    changes: Changes | None
    fingerprint: Fingerprint
    kid: KeyId
    name: Name
    notes: Notes
    signed_at: Ts
    valid_from: Ts
    version: RulesetVersion

    @model_validator(mode="after")
    def _not_before_signing(self) -> Predicate:
        if self.valid_from < self.signed_at:
            raise ValueError("valid_from lies before signed_at")
        return self


class Statement(_Strict):
    type_: Literal["https://in-toto.io/Statement/v1"] = Field(alias="_type")
    predicate: Predicate
    predicateType: Literal["urn:deelwijzer:rules-release:v1"]
    subject: Annotated[list[Subject], Field(min_length=1, max_length=MAX_FILES)]

    @model_validator(mode="after")
    def _files(self) -> Statement:
        names = [s.name for s in self.subject]
        if names != sorted(set(names)):
            raise ValueError("subject names must be unique and sorted")
        hexpart = self.predicate.fingerprint.removeprefix("sha256:")
        if any(not n.startswith(hexpart + "/") for n in names):
            raise ValueError("every subject must lie in the directory named by the fingerprint")
        if not any(n.startswith(hexpart + "/rules/") for n in names):
            raise ValueError("a release holds at least one rule file")
        return self


def _statement_bytes(st: Statement) -> bytes:
    return canonical.dumps(st.model_dump(by_alias=True, mode="python"))


def parse_statement(payload: bytes) -> Statement:
    """Verified payload bytes into a Statement; RELEASE_INVALID unless canonical and schema-valid."""
    try:
        obj = canonical.loads(payload)
    except CanonicalError as exc:
        raise _fail(f"the signed release statement is not valid JSON: {exc.message}") from None
    if not canonical.is_canonical(payload, obj):
        raise _fail("the signed release statement is not canonical JSON (RFC 8785)")
    try:
        return Statement.model_validate(obj)
    except ValidationError as exc:
        raise _fail(f"the signed release statement is not a Deelwijzer release: {validation_message(exc)}") from None


# --- the verified release ------------------------------------------------------------------------

@dataclass(frozen=True)
class VerifiedRelease:
    """A release whose signature, signer, files and fingerprint hold (``open_release``)."""

    path: Path               # the release directory
    rules_dir: Path          # path/<hex>/rules
    sources_dir: Path        # path/<hex>/legal_bases
    name: str
    version: str
    fingerprint: str         # the rule set's fingerprint, "sha256:<hex>"
    statement: str           # "sha256:<hex>" of the signed statement: the release's identity in records
    signer_key_id: str
    signer_owner: str
    signed_at: str
    valid_from: str
    notes: str
    changes: Changes | None
    files: tuple[str, ...]
    ruleset: Any = dataclasses.field(repr=False, compare=False)  # the loaded engine Ruleset

    @property
    def record_ref(self) -> dict[str, str]:
        """What a decision record holds about the release (``audit.record.ReleaseRef``)."""
        return {"kid": self.signer_key_id, "statement": self.statement}

    def to_json(self) -> dict[str, Any]:
        """The release as ``decide --format json`` and ``rules verify-release --format json`` print it;
        also accepted by ``record_decision`` as the decision's ``release`` (only kid and statement
        are recorded)."""
        return {"name": self.name, "version": self.version, "fingerprint": self.fingerprint,
                "statement": self.statement, "kid": self.signer_key_id, "signer": self.signer_owner,
                "signed_at": self.signed_at, "valid_from": self.valid_from, "notes": self.notes,
                "changes": self.changes.model_dump() if self.changes is not None else None}


def load_trust(trusted_keys: Path | trustmod.TrustStore) -> trustmod.TrustStore:
    """A TrustStore, or ReleaseError(TRUST_FILE_INVALID) naming the file and whom to ask."""
    if isinstance(trusted_keys, trustmod.TrustStore):
        return trusted_keys
    try:
        return trustmod.load(Path(trusted_keys))
    except TrustFileError as exc:
        raise _fail(exc.message, Code.TRUST_FILE_INVALID) from None


def verify_release(release_dir: Path, trusted_keys: Path | trustmod.TrustStore, *,
                   now: dt.datetime | None = None) -> VerifiedRelease:
    """Verify a release for use now (every check of the module doc). Raises ReleaseError."""
    trust = load_trust(trusted_keys)
    release = open_release(release_dir, trust)
    check_usable(release, trust, format_ts(now or dt.datetime.now(dt.UTC)))
    return release


def check_usable(release: VerifiedRelease, trust: trustmod.TrustStore, at: str) -> None:
    """Is the release in force at ``at`` (a timestamp): valid from then, signer valid then. Raises ReleaseError."""
    if release.valid_from > at:
        raise _fail(f"release {release.name} {release.version} applies only from {release.valid_from}, not yet at {at}",
                    Code.RELEASE_NOT_YET_VALID)
    if release.signer_key_id not in trust.keys:
        raise _fail(f"the release signer {trustmod.short(release.signer_key_id)} is not in the trusted-keys file",
                    Code.UNTRUSTED_KEY)
    why = trust.invalid_at(release.signer_key_id, at)
    if why:
        raise _fail(f"release {release.name} {release.version}: {why}", Code.KEY_NOT_VALID_AT_TIME)


def open_release(release_dir: Path, trust: trustmod.TrustStore, *, use_cache: bool = True) -> VerifiedRelease:
    """Checks 1-6 of the module doc (not the clock, except the signer at the signed time)."""
    release_dir = Path(release_dir)
    with _open_dir(release_dir) as root:
        line = _read_statement(root, release_dir)
        try:
            opened = open_envelope(line, RELEASE_TYPE, trust, ROLES)
        except EnvelopeError as exc:
            code = exc.code if exc.code not in (Code.MALFORMED_RECORD, Code.NOT_CANONICAL) else Code.RELEASE_INVALID
            raise _fail(f"{release_dir / STATEMENT_FILE}: {exc.message}", code) from None
        st = parse_statement(opened.payload)
        pred = st.predicate
        if pred.kid != opened.key.key_id:
            raise _fail(f"{release_dir / STATEMENT_FILE}: the statement names signer {trustmod.short(pred.kid)} but "
                        f"is signed by {trustmod.short(opened.key.key_id)}")
        why = trust.invalid_at(pred.kid, pred.signed_at)
        if why:
            raise _fail(f"{release_dir / STATEMENT_FILE}: {why}", Code.KEY_NOT_VALID_AT_TIME)
        expected = {s.name: s.digest.sha256 for s in st.subject}
        _check_files(root, release_dir, expected)
    hexpart = pred.fingerprint.removeprefix("sha256:")
    rules, sources = release_dir / hexpart / "rules", release_dir / hexpart / "legal_bases"
    rs = _load_ruleset(rules, sources, pred.fingerprint, use_cache)
    return VerifiedRelease(path=release_dir, rules_dir=rules, sources_dir=sources, name=pred.name,
                           version=pred.version, fingerprint=pred.fingerprint,
                           statement="sha256:" + sha256(opened.payload).hex(), signer_key_id=pred.kid,
                           signer_owner=opened.key.info.owner, signed_at=pred.signed_at, valid_from=pred.valid_from,
                           notes=pred.notes, changes=pred.changes, files=tuple(expected), ruleset=rs)


def _load_ruleset(rules: Path, sources: Path, fingerprint: str, use_cache: bool) -> Any:
    loader = importlib.import_module("engine.loader")
    try:
        rs = loader.load_ruleset(rules, sources, use_cache=use_cache)
    except loader.RulesetError as exc:
        shown = "; ".join(str(p) for p in exc.problems[:3]) + (" …" if len(exc.problems) > 3 else "")
        raise _fail(f"the signed rule files do not load with this version of Deelwijzer: {shown}",
                    Code.RELEASE_FINGERPRINT_MISMATCH) from None
    if rs.fingerprint != fingerprint:
        raise _fail(f"the archived rule files give fingerprint {rs.fingerprint}, not the signed {fingerprint} (this "
                    f"version of Deelwijzer reads them differently, or they changed while being read)",
                    Code.RELEASE_FINGERPRINT_MISMATCH)
    return rs


# --- reading a release directory safely ------------------------------------------------------------

@contextlib.contextmanager
def _open_dir(path: Path, dir_fd: int | None = None, name: str | None = None) -> Iterator[int]:
    """A directory fd. The release directory itself may be a symbolic link (IT may point a
    stable path at the current release); nothing below it is followed."""
    flags = os.O_RDONLY | _O_DIRECTORY | O_CLOEXEC | (O_NOFOLLOW if dir_fd is not None else 0)
    try:
        fd = os.open(name if dir_fd is not None and name is not None else path, flags, dir_fd=dir_fd)
    except FileNotFoundError:
        raise _fail(f"{path} does not exist" + (" (it was listed a moment ago)" if dir_fd is not None else
                                                "; give the release directory the privacy officer handed over")) from None
    except NotADirectoryError:
        raise _fail(f"{path} is not a directory", Code.RELEASE_FILES_CHANGED if dir_fd is not None
                    else Code.RELEASE_INVALID) from None
    except OSError as exc:
        code = Code.RELEASE_FILES_CHANGED if dir_fd is not None else Code.RELEASE_INVALID
        raise _fail(f"cannot open {path}: {exc.strerror or exc}", code) from None
    try:
        yield fd
    finally:
        os.close(fd)


def _read_at(dir_fd: int, name: str, where: Path, limit: int, code: Code) -> bytes:
    """The bytes of a regular file ``name`` in ``dir_fd`` (never through a link, never blocking on
    a FIFO), at most ``limit`` bytes, or ReleaseError(code)."""
    try:
        fd = os.open(name, os.O_RDONLY | O_NOFOLLOW | _O_NONBLOCK | O_CLOEXEC, dir_fd=dir_fd)
    except FileNotFoundError:
        raise _fail(f"{where} is missing", code) from None
    except OSError as exc:
        if os.path.islink(where):
            raise _fail(f"{where} is a symbolic link; a release holds only regular files", code) from None
        raise _fail(f"cannot read {where}: {exc.strerror or exc}", code) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _fail(f"{where} is not a regular file", code)
        if st.st_size > limit:
            raise _fail(f"{where} is {st.st_size} bytes, more than the {limit} a release file may have", code)
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise _fail(f"{where} grew beyond {limit} bytes while being read", code)
        return b"".join(chunks)
    except OSError as exc:
        raise _fail(f"cannot read {where}: {exc.strerror or exc}", code) from None
    finally:
        os.close(fd)


def _read_statement(root: int, release_dir: Path) -> bytes:
    data = _read_at(root, STATEMENT_FILE, release_dir / STATEMENT_FILE, MAX_STATEMENT, Code.RELEASE_INVALID)
    if not data.endswith(b"\n") or data.count(b"\n") != 1:
        raise _fail(f"{release_dir / STATEMENT_FILE} must hold exactly one envelope line, ending in a new line")
    return data[:-1]


def _check_files(root: int, release_dir: Path, expected: Mapping[str, str]) -> None:
    """Exactly the ``expected`` files (relative path -> sha256 hex) and the statement, nothing else."""
    dirs = {str(Path(n).parent) for n in expected}
    dirs |= {str(Path(d).parent) for d in dirs}
    dirs.discard(".")
    problems: list[str] = []
    seen: set[str] = set()
    total = 0
    entries = 0

    def walk(dir_fd: int, rel: str) -> None:
        nonlocal total, entries
        try:
            with os.scandir(dir_fd) as it:
                listing = []
                for entry in it:
                    entries += 1
                    if entries > MAX_ENTRIES:
                        raise _fail(f"{release_dir} holds more than {MAX_ENTRIES} entries; it is not a release as "
                                    f"Deelwijzer writes it", Code.RELEASE_FILES_CHANGED)
                    listing.append(entry)
        except OSError as exc:
            raise _fail(f"cannot list {release_dir / rel}: {exc.strerror or exc}", Code.RELEASE_FILES_CHANGED) from None
        for entry in sorted(listing, key=lambda e: e.name):
            child = f"{rel}/{entry.name}" if rel else entry.name
            where = release_dir / child
            try:
                mode = entry.stat(follow_symlinks=False).st_mode
            except OSError as exc:
                problems.append(f"{child} cannot be read ({exc.strerror or exc})")
                continue
            if stat.S_ISLNK(mode):
                problems.append(f"{child} is a symbolic link (a release holds only regular files)")
            elif stat.S_ISDIR(mode):
                if child not in dirs:
                    problems.append(f"directory {child} was added")
                    continue
                with _open_dir(where, dir_fd, entry.name) as sub:
                    walk(sub, child)
            elif not stat.S_ISREG(mode):
                problems.append(f"{child} is not a regular file")
            elif child == STATEMENT_FILE and not rel:
                continue
            elif child not in expected:
                problems.append(f"{child} was added")
            else:
                seen.add(child)
                data = _read_at(dir_fd, entry.name, where, MAX_FILE, Code.RELEASE_FILES_CHANGED)
                total += len(data)
                if total > MAX_TOTAL:
                    raise _fail(f"the files of {release_dir} exceed {MAX_TOTAL} bytes", Code.RELEASE_FILES_CHANGED)
                if sha256(data).hex() != expected[child]:
                    problems.append(f"{child} was changed after signing")

    walk(root, "")
    problems += [f"{name} was removed" for name in expected if name not in seen]
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise _fail(f"{release_dir} is not the release that was signed: {shown}", Code.RELEASE_FILES_CHANGED)


# --- making a release ------------------------------------------------------------------------------

def changes_from_diff(report: Any, previous: VerifiedRelease) -> Changes:
    """The statement's summary of ``engine.diff.compare(previous.ruleset, new)``."""
    def spread(counter: Any) -> list[Spread]:
        return [Spread(outcome=str(o), paths=int(n)) for o, n in counter.most_common()]

    def clip(text: str) -> str:
        return text if len(text) <= 500 else text[:499] + "…"
    kinds = list(report.changes.values())  # most frequent first
    try:
        return Changes(changed=int(report.changed), changed_rules=[str(r) for r in report.changed_rules],
                       kinds=[Changed(kind=clip(str(c.kind)), paths=int(c.paths)) for c in kinds[:MAX_KINDS]],
                       kinds_not_listed=max(0, len(kinds) - MAX_KINDS),
                       new_paths=spread(report.new_paths), paths=int(report.paths),
                       previous=PreviousRelease(fingerprint=previous.fingerprint, name=previous.name,
                                                statement=previous.statement, version=previous.version),
                       removed_paths=spread(report.removed_paths), unchanged=int(report.unchanged))
    except ValidationError as exc:
        raise _fail(f"the summary of what changed does not fit the release statement: {validation_message(exc)}",
                    Code.INVALID_ARGUMENT) from None


def _self_trust(key: keys.SigningKey) -> trustmod.TrustStore:
    entry = trustmod.TrustedKey(key_id=key.key_id, owner="release signer", public_key=keys.public_key_pem(key.public_key),
                                roles=["release"])
    return trustmod.TrustStore(trustmod.TrustFile(version=1, keys=[entry]))


def _app_version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("deelwijzer")
    except PackageNotFoundError:
        return "0.0.0"


def create_release(ruleset: Any, key: keys.SigningKey, out_dir: Path, *, notes: str = "",
                   valid_from: str | None = None, changes: Changes | None = None,
                   trust: trustmod.TrustStore | None = None, now: dt.datetime | None = None) -> VerifiedRelease:
    """Archive ``ruleset`` (a loaded engine Ruleset) into the new directory ``out_dir`` and sign
    its statement with ``key``. ``valid_from``: a timestamp (default: the signing time; never
    earlier). With ``trust``, the key must be trusted there for ``release`` (checked before
    anything is written). The result is verified before it is moved into place. Raises ReleaseError."""
    out_dir = Path(out_dir)
    signed_at = format_ts(now or dt.datetime.now(dt.UTC))
    start = max(valid_from or signed_at, signed_at)
    if trust is not None:
        _check_signer(trust, key.key_id, signed_at, start)
    if out_dir.is_symlink() or (out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir()))):
        raise _fail(f"{out_dir} already exists; a release is never changed or overwritten: give a new directory",
                    Code.INVALID_ARGUMENT)
    _check_names(ruleset)
    try:
        predicate = Predicate(app=App(name="deelwijzer", version=_app_version()), changes=changes,
                              fingerprint=ruleset.fingerprint, kid=key.key_id, name=ruleset.name, notes=notes,
                              signed_at=signed_at, valid_from=start, version=ruleset.version)
    except ValidationError as exc:
        raise _fail(f"the release cannot be described: {validation_message(exc)}", Code.INVALID_ARGUMENT) from None
    parent = out_dir.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".release-", dir=parent))
    except OSError as exc:
        raise _fail(f"cannot create {out_dir}: {exc.strerror or exc}", Code.INVALID_ARGUMENT) from None
    try:
        _fill(staging, ruleset, key, predicate)
        release = open_release(staging, _self_trust(key), use_cache=False)
        try:
            if out_dir.is_dir():
                out_dir.rmdir()  # empty (checked above); a new, non-empty one makes rename fail
            os.rename(staging, out_dir)
        except OSError as exc:
            raise _fail(f"cannot move the release into {out_dir}: {exc.strerror or exc}", Code.INVALID_ARGUMENT) from None
        fsync_dir(parent)
    finally:
        if staging.exists():
            _remove(staging)
    hexpart = release.fingerprint.removeprefix("sha256:")
    return dataclasses.replace(release, path=out_dir, rules_dir=out_dir / hexpart / "rules",
                               sources_dir=out_dir / hexpart / "legal_bases",
                               signer_owner=trust.keys[key.key_id].info.owner if trust is not None else "")


def _check_names(ruleset: Any) -> None:
    """Every file name must fit a release (before anything is written)."""
    loader = importlib.import_module("engine.loader")
    catalogue = importlib.import_module("legal_bases.catalogue")
    for path in [*loader.rule_files(ruleset.rules_dir), *catalogue.catalogue_files(ruleset.sources_dir)]:
        if not _FILE_NAME.match(path.name):
            raise _fail(f"{path}: this file name cannot go into a release; rename it using letters, digits, '.', '_' "
                        f"and '-' only, ending in .yaml", Code.INVALID_ARGUMENT)


def _check_signer(trust: trustmod.TrustStore, key_id: str, signed_at: str, valid_from: str) -> None:
    if key_id not in trust.keys:
        raise _fail(f"signing key {trustmod.short(key_id)} is not in the trusted-keys file {trust.path or ''}",
                    Code.UNTRUSTED_KEY, _SIGNER_HINTS[Code.UNTRUSTED_KEY])
    problem = trust.role_problem(key_id, ROLES)
    if problem:
        raise _fail(problem, Code.KEY_ROLE_NOT_ALLOWED, _SIGNER_HINTS[Code.KEY_ROLE_NOT_ALLOWED])
    for when in (signed_at, valid_from):
        why = trust.invalid_at(key_id, when)
        if why:
            raise _fail(why, Code.KEY_NOT_VALID_AT_TIME, _SIGNER_HINTS[Code.KEY_NOT_VALID_AT_TIME])


def _fill(staging: Path, ruleset: Any, key: keys.SigningKey, predicate: Predicate) -> None:
    archive = importlib.import_module("engine.archive")
    try:
        entry = Path(archive.archive_ruleset(ruleset, staging))
    except OSError as exc:
        raise _fail(f"cannot write the release: {exc.strerror or exc}", Code.INVALID_ARGUMENT) from None
    except Exception as exc:  # e.g. RulesetError: the files changed while being copied
        raise _fail(f"cannot archive the rule set: {exc}", Code.INVALID_ARGUMENT) from None
    subjects = []
    for path in sorted(entry.rglob("*")):
        if path.is_dir():
            os.chmod(path, 0o755)
            continue
        rel = path.relative_to(staging).as_posix()
        if not re.match(SUBJECT_PATTERN, rel):
            raise _fail(f"{rel}: this file cannot go into a release (only rules/*.yaml and legal_bases/*.yaml with "
                        f"plain names)", Code.INVALID_ARGUMENT)
        subjects.append(Subject(name=rel, digest=Digest(sha256=sha256(path.read_bytes()).hex())))
        os.chmod(path, 0o444)
    os.chmod(entry, 0o755)
    try:
        st = Statement.model_validate({"_type": STATEMENT_TYPE, "predicate": predicate,
                                       "predicateType": PREDICATE_TYPE, "subject": subjects})
    except ValidationError as exc:
        raise _fail(f"the release cannot be described: {validation_message(exc)}", Code.INVALID_ARGUMENT) from None
    line = envelope.make_line(_statement_bytes(st), RELEASE_TYPE, key)
    write_new(staging / STATEMENT_FILE, line, 0o444)
    os.chmod(staging, 0o755)


def _remove(path: Path) -> None:
    for p in [path, *path.rglob("*")]:
        with contextlib.suppress(OSError):
            os.chmod(p, 0o755 if p.is_dir() else 0o644)
    shutil.rmtree(path, ignore_errors=True)


# --- the text a professional and a record show -------------------------------------------------------

UNRELEASED = {"nl": "regels niet vrijgegeven", "en": "rules not released (regels niet vrijgegeven)"}


def release_line(release: VerifiedRelease | None, lang: str = "nl") -> str:
    """One line for the advice: which release it rests on, or that the rules were not released."""
    en = lang == "en"
    if release is None:
        return (f"Release: {UNRELEASED['en']} -- development rule files, not signed by the privacy officer"
                if en else f"Vrijgave: {UNRELEASED['nl']} -- ontwikkelregels, niet ondertekend door de privacy officer")
    by = release.signer_owner or trustmod.short(release.signer_key_id)
    if en:
        return (f"Release: {release.name} {release.version}, released by {by} on {release.signed_at[:10]}, "
                f"in force from {release.valid_from[:10]} ({release.statement[:19]}…)")
    return (f"Vrijgave: {release.name} {release.version}, vrijgegeven door {by} op {release.signed_at[:10]}, "
            f"geldig vanaf {release.valid_from[:10]} ({release.statement[:19]}…)")


# --- a directory of releases (for the auditor's replay) ---------------------------------------------

def statement_digest(release_dir: Path) -> str | None:
    """The statement digest of ``release_dir`` when it holds a statement of the envelope's form --
    unverified: only to find a release (``open_release`` verifies it); None when it holds none."""
    try:
        with _open_dir(Path(release_dir)) as root:
            line = _read_statement(root, Path(release_dir))
        payload, _kid, _sig = envelope.parse(line, RELEASE_TYPE)
    except (ReleaseError, EnvelopeError):
        return None
    return "sha256:" + sha256(payload).hex()


def find_releases(directory: Path, limit: int = 10_000) -> dict[str, Path]:
    """Statement digest -> release directory, for ``directory`` itself and its subdirectories."""
    directory = Path(directory)
    found: dict[str, Path] = {}
    candidates = [directory]
    with contextlib.suppress(OSError):
        candidates += sorted(p for p in directory.iterdir() if p.is_dir() and (p / STATEMENT_FILE).exists())[:limit]
    for path in candidates:
        digest = statement_digest(path) if (path / STATEMENT_FILE).exists() else None
        if digest is not None:
            found.setdefault(digest, path)
    return found


def parse_when(text: str) -> str:
    """``--valid-from``: a date (00:00 UTC) or a date-time with a zone; ReleaseError otherwise."""
    try:
        return parse_user_time(text)
    except ValueError as exc:
        raise _fail(f"--valid-from: {exc}", Code.INVALID_ARGUMENT) from None


__all__ = ["ENV_RELEASE", "ENV_TRUSTED_KEYS", "PREDICATE_TYPE", "RELEASE_TYPE", "STATEMENT_FILE", "UNRELEASED",
           "Changes", "ReleaseError", "Statement", "VerifiedRelease", "changes_from_diff", "check_usable",
           "create_release", "find_releases", "load_trust", "open_release", "parse_statement", "parse_when",
           "release_line", "verify_release", "whom_to_ask"]
