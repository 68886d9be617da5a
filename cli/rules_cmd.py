"""``deelwijzer rules check|test|coverage|archive|diff|release|verify-release``: for privacy officers
who edit rule files, and for IT and auditors who check a release."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from cli.common import UsageError, add_rules_options, check_dirs, fail, rules_dir


def register(sub) -> None:
    rules = sub.add_parser("rules", help="check, test, cover and archive rule sets")
    rsub = rules.add_subparsers(dest="rules_command", metavar="ACTION", parser_class=sub._parser_class)
    p = rsub.add_parser("check", help="validate a rule set; one line per problem: path:line:col: message")
    add_rules_options(p, positional=True)
    p.set_defaults(func=check)
    p = rsub.add_parser("test", help="run the scenario tests beside the rules (DIR/tests/*.yaml), and boundary tests "
                                     "for every parameter")
    add_rules_options(p, positional=True)
    p.add_argument("--verbose", "-v", action="store_true", help="list every scenario and boundary, not only failures")
    p.set_defaults(func=test)
    p = rsub.add_parser("coverage", help="which rules, sources and outcomes no scenario exercises (exit 1 if any)")
    add_rules_options(p, positional=True)
    p.set_defaults(func=coverage)
    p = rsub.add_parser("archive", help="store this rule-set version under its fingerprint, for audit replay")
    add_rules_options(p)
    p.add_argument("--out", type=Path, required=True, help="archive directory")
    p.set_defaults(func=archive)
    p = rsub.add_parser("diff", help="what a rule change does: compare two rule sets over every reachable interview path")
    p.add_argument("old", type=Path, help="the rule set before the change (directory)")
    p.add_argument("new", type=Path, nargs="?", help="the rule set after the change (default: the bundled rules/)")
    p.add_argument("--sources", type=Path, help="legal-source catalogue for both (default: for each, a legal_bases/ "
                                                "beside it, else the bundled catalogue)")
    p.add_argument("--old-sources", type=Path, help="catalogue of the old rule set (overrides --sources)")
    p.add_argument("--new-sources", type=Path, help="catalogue of the new rule set (overrides --sources)")
    p.add_argument("--recipient", help="only the paths for this recipient (e.g. police)")
    p.add_argument("--no-examples", dest="examples", action="store_false",
                   help="do not show an example answer set per change")
    p.set_defaults(func=diff)
    p = rsub.add_parser("release", help="sign a release of this rule set: archive it with a signed statement "
                                        "(docs/releases.md)")
    add_rules_options(p)
    p.add_argument("--key", type=Path, required=True, help="the privacy officer's release key (a directory from 'keys "
                                                           "init', trusted with --role release)")
    p.add_argument("--out", type=Path, required=True, metavar="RELEASE_DIR", help="new directory for the release")
    p.add_argument("--passphrase-file", type=Path, help="file holding the key's passphrase (else it is asked)")
    p.add_argument("--notes", default="", help="release notes: what changed and why (stored, signed)")
    p.add_argument("--notes-file", type=Path, help="read the release notes from this file (UTF-8)")
    p.add_argument("--valid-from", metavar="T", help="in force from T: a date (00:00 UTC) or a date-time with zone "
                                                     "(default: now)")
    p.add_argument("--previous", type=Path, metavar="RELEASE_DIR",
                   help="the release now in use: the statement records what changed since (rules diff)")
    p.add_argument("--trusted-keys", type=Path, metavar="FILE",
                   help="check that the key is trusted for 'release' there, and verify --previous against it")
    p.set_defaults(func=release)
    p = rsub.add_parser("verify-release", help="check a release: signature, signer's role and validity, files, "
                                               "fingerprint; exit 0, or 1 with a reason code")
    p.add_argument("release_dir", type=Path, metavar="RELEASE_DIR")
    p.add_argument("--trusted-keys", type=Path, required=True, metavar="FILE",
                   help="trusted-keys file that lists the privacy officer's release key")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(func=verify_release)
    rules.set_defaults(func=lambda args: (rules.print_help(), 2)[1])


class _Problems(Exception):
    pass


def _load(args):
    from engine import RulesetError, load_ruleset
    check_dirs(args)
    try:
        return load_ruleset(rules_dir(args), args.sources)
    except RulesetError as exc:
        for p in exc.problems:
            sys.stdout.write(f"{p}\n")
        sys.stderr.write(f"{len(exc.problems)} problem(s) found.\n")
        raise _Problems from None


def _guard(fn):
    def run(args) -> int:
        try:
            return int(fn(args))
        except UsageError as exc:
            return fail(str(exc))
        except _Problems:
            return 1
    run.__doc__ = fn.__doc__
    return run


@_guard
def check(args) -> int:
    rs = _load(args)
    n_rules = len([r for r in rs.all_rules() if not r.id.startswith("!")])
    sys.stdout.write(f"ok: {rs.name} {rs.version}: {len(rs.questions)} questions, {n_rules} rules, "
                     f"{len(rs.parameters)} parameters, {len(rs.sources)} legal sources\nfingerprint {rs.fingerprint}\n")
    for pid, p in rs.parameters.items():
        uses = rs.param_uses.get(pid, [])
        rules = sum(u.startswith(("rule:", "derived:")) for u in uses)
        texts = sum(u.startswith("text:") for u in uses)
        questions = sum(u.startswith(("question:", "check:")) for u in uses)
        window = f", in force {p.valid_from or '…'} – {p.valid_to or '…'}" if p.valid_from or p.valid_to else ""
        cites = ", ".join(rs.sources[c].citation for c in p.cites)
        sys.stdout.write(f"parameter {pid} = {p.value} ({cites}{window}): used by {rules} rule(s), "
                         f"{questions} question(s)/check(s), {texts} text(s)\n")
    return 0


@_guard
def test(args) -> int:
    from engine.scenarios import boundaries, run_scenarios
    rs = _load(args)
    report = run_scenarios(rs)
    for p in report.problems:
        sys.stdout.write(f"{p}\n")
    for r in report.results:
        if not r.ok:
            sys.stdout.write(f"FAIL {r.where}: {r.scenario_id}\n")
            for f in r.failures:
                sys.stdout.write(f"    {f}\n")
        elif args.verbose:
            sys.stdout.write(f"ok   {r.scenario_id}\n")
    passed = sum(r.ok for r in report.results)
    failed = len(report.results) - passed
    bounds = boundaries(rs, report)
    for b in bounds:
        def side(d) -> str:
            return d.advice.outcome if d.advice else "needs " + ", ".join(d.missing)
        line = (f"{b.parameter} = {b.value}: {b.rule} ({b.test}), from scenario {b.base}: "
                f"{b.fact} {b.value - 1} → {side(b.below)}, {b.fact} {b.value} → {side(b.at)}")
        if not b.ok:
            sys.stdout.write(f"FAIL boundary {line}\n")
            for f in b.failures:
                sys.stdout.write(f"    {f}\n")
        elif args.verbose:
            sys.stdout.write(f"ok   boundary {line}\n")
    bad_bounds = sum(not b.ok for b in bounds)
    gaps = report.uncovered(rs)
    for kind, items in gaps.items():
        if items:
            sys.stdout.write(f"not exercised by any scenario ({kind}): {', '.join(items)}\n")
    unread = len({p.path for p in report.problems})
    unread_note = f"; {unread} scenario file(s) could not be read (their scenarios did not run)" if unread else ""
    sys.stdout.write(f"{passed} passed, {failed} failed{unread_note}; {len(bounds) - bad_bounds} boundary test(s) passed, "
                     f"{bad_bounds} failed\n")
    return 0 if report.ok and not bad_bounds else 1


@_guard
def coverage(args) -> int:
    from engine.scenarios import run_scenarios
    rs = _load(args)
    report = run_scenarios(rs)
    gaps = report.uncovered(rs)
    total_rules = len([r for r in rs.all_rules() if not r.id.startswith("!")])
    sys.stdout.write(f"rules exercised: {total_rules - len(gaps['rules'])}/{total_rules}\n")
    sys.stdout.write(f"outcomes reached: {len(rs.precedence) - len(gaps['outcomes'])}/{len(rs.precedence)}\n")
    for kind, items in gaps.items():
        for item in items:
            sys.stdout.write(f"not exercised ({kind[:-1]}): {item}\n")
    return 1 if any(gaps.values()) or not report.ok else 0


@_guard
def archive(args) -> int:
    from engine.archive import archive_ruleset
    rs = _load(args)
    try:
        target = archive_ruleset(rs, args.out)
    except OSError as exc:
        return fail(f"{args.out}: cannot write the archive: {exc.strerror}")
    sys.stdout.write(f"archived {rs.name} {rs.version} {rs.fingerprint}\n  in {target}\n")
    return 0


@_guard
def diff(args) -> int:
    """Exit 0 when the advice is the same on every path, 1 when some advice changed."""
    import time

    from engine import RulesetError, load_ruleset
    from engine.diff import compare
    loaded = []
    started = time.perf_counter()
    for label, directory, sources in (("old", args.old, args.old_sources or args.sources),
                                      ("new", args.new, args.new_sources or args.sources)):
        for kind, path in (("rule-set directory", directory), ("catalogue directory", sources)):
            if path is not None and not Path(path).is_dir():
                raise UsageError(f"{path}: {label} {kind} not found; give an existing directory")
        try:
            loaded.append(load_ruleset(directory, sources))
        except RulesetError as exc:
            for p in exc.problems:
                sys.stdout.write(f"{p}\n")
            return fail(f"the {label} rule set has problems (see above)")
    recipients = [o.value for o in loaded[1].question(loaded[1].info.recipient_fact).options or []]
    if args.recipient is not None and args.recipient not in recipients:
        return fail(f"--recipient {args.recipient!r} is not a recipient of the new rule set; allowed: {', '.join(recipients)}")
    report = compare(*loaded, recipient=args.recipient, workers=max(1, min(2, os.cpu_count() or 1)))
    seconds = time.perf_counter() - started

    def example(answers: dict) -> str:
        return ", ".join(f"{k}={v}" for k, v in answers.items())

    w = sys.stdout.write
    w(f"old: {report.old}\nnew: {report.new}\n")
    if report.changed_rules:
        shown = ", ".join(report.changed_rules[:12]) + (" …" if len(report.changed_rules) > 12 else "")
        w(f"rules that differ: {len(report.changed_rules)} ({shown})\n")
    w(f"{report.paths} interview paths both versions produce: {report.unchanged} same advice, {report.changed} changed "
      f"({report.decided} had to be decided; the others no changed rule can reach)\n")
    for change in report.changes.values():
        w(f"  {change.paths:6d} x {change.kind}\n")
        if args.examples:
            w(f"           e.g. {example(change.example)}\n")
    for title, spread, sample in (("new paths (only the new version asks this)", report.new_paths, report.new_example),
                                  ("removed paths (the new version no longer asks this)", report.removed_paths,
                                   report.removed_example)):
        if spread:
            w(f"{sum(spread.values())} {title}: " + ", ".join(f"{n} {o}" for o, n in spread.most_common()) + "\n")
            if args.examples:
                w(f"           e.g. {example(sample)}\n")
    w(f"compared in {seconds:.1f} s\n")
    return 1 if report.differs else 0


# --- releases -----------------------------------------------------------------------------------

def _safe(text: str) -> str:
    """Text from a release (notes, names) with control characters escaped, for a terminal."""
    return "".join(c if c in "\n\t" or c.isprintable() else repr(c)[1:-1] for c in text)


def _release_error(exc) -> None:
    sys.stderr.write(f"deelwijzer: {exc.code}: {_safe(exc.message)}\n")
    if exc.hint:
        sys.stderr.write(f"deelwijzer: what to do: {exc.hint}\n")


def _changes_lines(changes) -> list[str]:
    prev = changes.previous
    out = [f"changes since {_safe(prev.name)} {_safe(prev.version)} (release {prev.statement[:19]}…): "
           f"{len(changes.changed_rules)} rule(s) differ; {changes.changed} of {changes.paths} interview paths change "
           f"advice"]
    out += [f"  {c.paths:6d} x {_safe(c.kind)}" for c in changes.kinds[:20]]
    more = len(changes.kinds) - 20 + changes.kinds_not_listed
    if more > 0:
        out.append(f"  … and {more} more kind(s) of change (all paths are counted above)")
    for title, spread in (("new paths", changes.new_paths), ("removed paths", changes.removed_paths)):
        if spread:
            out.append(f"  {title}: " + ", ".join(f"{s.paths} {_safe(s.outcome)}" for s in spread))
    return out


def release(args) -> int:
    """Exit 0 with the release written; 1 when the rule set has problems; 2 on anything else."""
    from audit import release as rel
    from audit.errors import AuditError
    from cli.decide_cmd import read_passphrase
    try:
        rs = _load(args)
    except UsageError as exc:
        return fail(str(exc))
    except _Problems:
        return 1
    try:
        notes = args.notes
        if args.notes_file is not None:
            try:
                notes = args.notes_file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                return fail(f"{args.notes_file}: cannot read the release notes: {getattr(exc, 'strerror', None) or exc}")
        valid_from = rel.parse_when(args.valid_from) if args.valid_from else None
        trust = rel.load_trust(args.trusted_keys) if args.trusted_keys is not None else None
        previous = None
        if args.previous is not None:
            if trust is None:
                return fail("--previous needs --trusted-keys FILE, to check the previous release before comparing")
            previous = rel.open_release(args.previous, trust)
        import audit
        key = audit.keys.load_signing_key(args.key, read_passphrase(args.passphrase_file))
        for note in key.notes:
            sys.stderr.write(f"deelwijzer: note: {note}\n")
        changes = None
        if previous is not None:
            from engine.diff import compare
            changes = rel.changes_from_diff(compare(previous.ruleset, rs, workers=max(1, min(2, os.cpu_count() or 1))), previous)
        made = rel.create_release(rs, key, args.out, notes=notes, valid_from=valid_from, changes=changes, trust=trust)
    except UsageError as exc:
        return fail(str(exc))
    except rel.ReleaseError as exc:
        _release_error(exc)
        return 2
    except AuditError as exc:
        return fail(f"{exc.code}: {exc.message}")
    w = sys.stdout.write
    w(f"released {_safe(made.name)} {_safe(made.version)} {made.fingerprint}\n  in {made.path}\n")
    w(f"statement {made.statement} signed by {made.signer_key_id} at {made.signed_at}, in force from {made.valid_from}\n")
    w(f"files: {len(made.files)} (rules and legal sources, each with its SHA-256 in the statement)\n")
    if made.changes is not None:
        w("\n".join(_changes_lines(made.changes)) + "\n")
    if trust is None:
        sys.stderr.write("deelwijzer: note: the key was not checked against a trusted-keys file; before handing the "
                         f"release to IT run `deelwijzer rules verify-release {made.path} --trusted-keys FILE`\n")
    w("Hand the whole directory to IT unchanged; Deelwijzer refuses a release in which anything was changed.\n")
    return 0


def verify_release(args) -> int:
    """Exit 0 when the release holds, 1 with a reason code when it does not, 2 on usage errors."""
    import json

    from audit import release as rel
    from audit.codes import Code
    if not args.release_dir.is_dir():
        return fail(f"{args.release_dir}: release directory not found; give the directory the privacy officer handed over")
    try:
        trust = rel.load_trust(args.trusted_keys)
    except rel.ReleaseError as exc:
        return fail(f"{exc.code}: {exc.message}")
    try:
        verified = rel.verify_release(args.release_dir, trust)
    except rel.ReleaseError as exc:
        if args.format == "json":
            sys.stdout.write(json.dumps({"ok": False, "code": str(exc.code), "message": exc.message, "hint": exc.hint},
                                        ensure_ascii=True, indent=2) + "\n")
        else:
            sys.stdout.write(f"{args.release_dir}: {exc.code}: {_safe(exc.message)}\n")
            sys.stdout.write(f"what to do: {exc.hint}\nRESULT: FAIL {exc.code}\n")
        return 2 if exc.code is Code.TRUST_FILE_INVALID else 1
    if args.format == "json":
        sys.stdout.write(json.dumps({"ok": True, **verified.to_json(), "files": list(verified.files),
                                     "trusted_keys_sha256": trust.sha256}, ensure_ascii=True, indent=2) + "\n")
        return 0
    w = sys.stdout.write
    w(f"release {_safe(verified.name)} {_safe(verified.version)} {verified.fingerprint}\n")
    w(f"statement {verified.statement}\n")
    w(f"signed by {verified.signer_key_id} ({_safe(verified.signer_owner)}, role release) at {verified.signed_at}\n")
    w(f"in force from {verified.valid_from}; {len(verified.files)} files, exactly as signed\n")
    if verified.notes:
        w("notes:\n" + "".join(f"  {line}\n" for line in _safe(verified.notes).splitlines()))
    if verified.changes is not None:
        w("\n".join(_changes_lines(verified.changes)) + "\n")
    w(f"RESULT: PASS trusted_keys_sha256={trust.sha256}\n")
    return 0
