"""``deelwijzer decide CASE``: one case in, one explained advice out (and optionally signed)."""
from __future__ import annotations

import getpass
import json
import os
import sys
from pathlib import Path

from cli.common import UsageError, add_rules_options, check_dirs, fail, read_case, rules_dir


def register(sub) -> None:
    p = sub.add_parser("decide", help="decide one case file (YAML or JSON {answers: {...}})",
                       description="Decide one case: which questions are still needed, or the advice with its legal sources.")
    p.add_argument("case", type=Path, help="case file: YAML or JSON with an 'answers' mapping")
    add_rules_options(p)
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("--lang", choices=["nl", "en"], default="nl", help="language of texts (default nl)")
    p.add_argument("--explain", action="store_true",
                   help="also say, for the routes that did not apply, what stands in the way (why not?)")
    p.add_argument("--release", type=Path, metavar="RELEASE_DIR",
                   help="run on this signed rule-set release only (default: $DEELWIJZER_RELEASE); it is verified "
                        "first and refused, with exit 2, if anything about it fails")
    p.add_argument("--trusted-keys", type=Path, metavar="FILE",
                   help="trusted-keys file with the privacy officer's release key (default: $DEELWIJZER_TRUSTED_KEYS, "
                        "else trusted-keys.json in the data home)")
    p.add_argument("--sign", action="store_true", help="also append a signed audit record")
    p.add_argument("--key", type=Path, help="signing key: the directory from 'keys init' or its private-key.ossh "
                                            "(a private-key.p12 from an earlier version still works)")
    p.add_argument("--log", help="audit log (JSON Lines) to append to, or an organisation store's URL "
                                 "(postgresql://...): then the record goes to --local-log first, then to the store")
    p.add_argument("--local-log", type=Path, help="with --log URL: the local log the record is written to first "
                                                  "(default: the interview's, DATA_HOME/audit/log.jsonl)")
    p.add_argument("--passphrase-file", type=Path, help="file holding the key's passphrase (else it is asked)")
    p.add_argument("--professional", default=os.environ.get("DEELWIJZER_PROFESSIONAL", ""),
                   help="who decides, stored in the record (default: the interview's settings, else your login name)")
    p.add_argument("--organisation", default=os.environ.get("DEELWIJZER_ORGANISATION", ""),
                   help="organisation, stored in the record (default: the interview's settings)")
    p.set_defaults(func=run)


def read_passphrase(path: Path | None) -> bytes:
    if path is not None:
        try:
            return path.read_bytes().rstrip(b"\r\n")
        except OSError as exc:
            raise UsageError(f"{path}: cannot read passphrase file: {exc.strerror}") from None
    if not sys.stdin.isatty():
        raise UsageError("no passphrase: give --passphrase-file F (there is no terminal to ask on)")
    return getpass.getpass("Wachtwoordzin / passphrase: ").encode("utf-8")


# The words of audit.release.UNRELEASED, not imported from there: `decide` on plain rule files loads no
# cryptography (tests/release checks that both say the same).
UNRELEASED_LINE = {"nl": "Vrijgave: regels niet vrijgegeven -- ontwikkelregels, niet ondertekend door de privacy officer",
                   "en": "Release: rules not released (regels niet vrijgegeven) -- development rule files, not signed "
                         "by the privacy officer"}


def _release_dir(args) -> Path | None:
    """--release, else $DEELWIJZER_RELEASE unless --rules names plain rule files explicitly."""
    if args.release is not None:
        if args.dir is not None or args.sources is not None:
            raise UsageError("--release runs on the release's own rules: leave out --rules and --sources")
        return args.release
    env = os.environ.get("DEELWIJZER_RELEASE", "").strip()
    return Path(env) if env and args.dir is None and args.sources is None else None


def _verified_release(args, directory: Path):
    """The verified release, or UsageError: what failed and whom to ask (then nothing is decided)."""
    from audit import release as rel
    from tui.settings import data_home, trusted_keys_path  # no Textual import
    env = os.environ.get(rel.ENV_TRUSTED_KEYS, "").strip()
    trusted = args.trusted_keys or (Path(env) if env else trusted_keys_path(data_home()))
    try:
        return rel.verify_release(directory, trusted)
    except rel.ReleaseError as exc:
        raise UsageError(f"release {directory} refused: {exc.code}: {exc.message}\n"
                         f"deelwijzer: what to do: {exc.hint}\n"
                         "deelwijzer: no advice was given and nothing was recorded") from None


def run(args) -> int:
    from engine import AnswerError, RulesetError, decide, load_ruleset, parse_answers
    try:
        if args.sign and (args.key is None or args.log is None):
            raise UsageError("--sign needs --key KEY and --log LOG")
        check_dirs(args)
        directory = _release_dir(args)
        release = _verified_release(args, directory) if directory is not None else None
        case, doc = read_case(args.case)
        try:
            rs = release.ruleset if release is not None else load_ruleset(rules_dir(args), args.sources)
        except RulesetError as exc:
            for p in exc.problems:
                sys.stderr.write(f"{p}\n")
            return fail("the rule set has problems (see above); run 'deelwijzer rules check'")
        try:
            answers = parse_answers(rs, case["answers"], doc=doc, loc=("answers",))
        except AnswerError as exc:
            raise UsageError(str(exc)) from None
        decision = decide(rs, answers, explain=args.explain)
        released = release.to_json() if release is not None else None
        result = {**decision.to_json(args.lang), "release": released}
        record_id = None
        if args.sign:
            # the record always holds the Dutch texts, so that replay is exact whatever language is shown
            record_id = _sign(args, {**decision.to_json("nl"), "release": released}, answers, case)
        if args.format == "json":
            if record_id:
                result = {**result, "audit_record": record_id}
            sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
        else:
            from cli.render import render_text
            sys.stdout.write(render_text(decision, args.lang))
            if release is not None:
                from audit.release import release_line
                sys.stdout.write(release_line(release, args.lang) + "\n")
            else:
                sys.stdout.write(UNRELEASED_LINE["en" if args.lang == "en" else "nl"] + "\n")
            if record_id:
                sys.stdout.write(f"Audit record: {record_id}\n")
        return getattr(args, "store_exit", 0)  # 1: the organisation store holds a conflicting record (alarm)
    except UsageError as exc:
        return fail(str(exc))


def _sign(args, result: dict, answers: dict, case: dict) -> str:
    import audit
    from audit.errors import AuditError
    if result["advice"] is None:
        raise UsageError("the case is not complete, so there is no advice to sign; answer: " + ", ".join(result["missing"]))
    # ``result`` is the Dutch JSON of the decision (whatever language is shown), so that replay is exact
    passphrase = read_passphrase(args.passphrase_file)
    try:
        key = audit.keys.load_signing_key(args.key, passphrase)  # the key directory, or the private key file
        for note in key.notes:
            sys.stderr.write(f"deelwijzer: note: {note}\n")
        actor = _actor(args)
        case_ref_source = str(case.get("case_id") or args.case.stem)
        from audit.store.url import is_store_url
        if is_store_url(args.log):
            return _record_in_store(args, key, result, answers, actor, case_ref_source)
        appended = audit.record_decision(Path(args.log), key, decision=result, answers=answers, actor=actor,
                                         case_ref_source=case_ref_source)
    except AuditError as exc:
        raise UsageError(f"{exc.code}: {exc.message}") from None
    return appended.record_id


def _record_in_store(args, key, result: dict, answers: dict, actor: dict, case_ref_source: str) -> str:
    """``--log URL``: the local log first (fsync), then the organisation store (audit.store.outbox).
    A store that cannot be reached is no error -- the record waits in the local log (a warning,
    exit 0); a stored record that differs is an alarm (exit 1); see docs/store.md."""
    from audit.store.outbox import Outbox
    from audit.store.url import redact
    from cli.keys_cmd import safe
    local = args.local_log
    if local is None:
        from tui.settings import audit_log_path, data_home  # no Textual import
        local = audit_log_path(data_home())
    with Outbox(local, args.log) as box:
        res = box.record(key, decision=result, answers=answers, actor=actor, case_ref_source=case_ref_source)
    push, where = res.push, safe(redact(args.log))
    if push.failure is not None:
        sys.stderr.write(f"deelwijzer: ALARM {push.failure.code}: {safe(push.failure.message)}; the record is in the "
                         f"local log {local}; {push.waiting} record(s) wait for the store\n")
        args.store_exit = 1
    elif push.error is not None:
        sys.stderr.write(f"deelwijzer: warning: the store could not take the record ({safe(push.error)}). It is safe in "
                         f"the local log {local}; {push.waiting} record(s) wait and are pushed by the next "
                         f"`decide --sign --log URL`, the interview's start, or `deelwijzer audit push {local} --to "
                         f"URL`\n")
    else:
        sys.stderr.write(f"deelwijzer: stored in {where} (local log {local}; {push.new} new, {push.waiting} "
                         f"waiting)\n")
    return res.appended.record_id


NOT_SET = "(niet ingesteld)"


def _actor(args) -> dict[str, str]:
    """Who signs: the options, else the interview's settings (same data home), else the login
    name; an organisation that is configured nowhere is recorded as such, with a warning."""
    from tui.settings import Settings, data_home  # no Textual import
    settings = Settings.load(data_home())
    professional = args.professional.strip() or settings.name.strip()
    if not professional:
        try:
            professional = getpass.getuser()
        except (KeyError, OSError):
            professional = NOT_SET
    organisation = args.organisation.strip() or settings.organisation.strip()
    if not organisation:
        organisation = NOT_SET
        sys.stderr.write(f"deelwijzer: warning: no organisation configured; recorded as '{NOT_SET}'. "
                         "Give --organisation ORG (or set it in the interview's settings).\n")
    return {"professional": professional, "organisation": organisation}
