"""``deelwijzer rules check|test|coverage|archive``: for privacy officers who edit rule files."""
from __future__ import annotations

import sys
from pathlib import Path

from cli.common import add_rules_options, fail, rules_dir


def register(sub) -> None:
    rules = sub.add_parser("rules", help="check, test, cover and archive rule sets")
    rsub = rules.add_subparsers(dest="rules_command", metavar="ACTION", parser_class=sub._parser_class)
    p = rsub.add_parser("check", help="validate a rule set; one line per problem: path:line:col: message")
    add_rules_options(p, positional=True)
    p.set_defaults(func=check)
    p = rsub.add_parser("test", help="run the scenario tests beside the rules (DIR/tests/*.yaml)")
    add_rules_options(p, positional=True)
    p.add_argument("--verbose", "-v", action="store_true", help="list every scenario, not only failures")
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
    p.add_argument("--sources", type=Path, help="legal-source catalogue for both (default: the bundled catalogue)")
    p.add_argument("--recipient", help="only the paths for this recipient (e.g. police)")
    p.add_argument("--examples", type=int, default=1, choices=range(0, 2), help="show an example answer set per change (1) or not (0)")
    p.set_defaults(func=diff)
    rules.set_defaults(func=lambda args: (rules.print_help(), 2)[1])


def _load(args):
    from engine import RulesetError, load_ruleset
    try:
        return load_ruleset(rules_dir(args), args.sources)
    except RulesetError as exc:
        for p in exc.problems:
            sys.stdout.write(f"{p}\n")
        sys.stderr.write(f"{len(exc.problems)} problem(s) found.\n")
        return None


def check(args) -> int:
    rs = _load(args)
    if rs is None:
        return 1
    n_rules = len([r for r in rs.all_rules() if not r.id.startswith("!")])
    sys.stdout.write(f"ok: {rs.name} {rs.version}: {len(rs.questions)} questions, {n_rules} rules, "
                     f"{len(rs.sources)} legal sources\nfingerprint {rs.fingerprint}\n")
    return 0


def test(args) -> int:
    from engine.scenarios import run_scenarios
    rs = _load(args)
    if rs is None:
        return 1
    report = run_scenarios(rs)
    for p in report.problems:
        sys.stdout.write(f"{p}\n")
    for r in report.results:
        if not r.ok:
            sys.stdout.write(f"FAIL {r.where}: {r.scenario.id}\n")
            for f in r.failures:
                sys.stdout.write(f"    {f}\n")
        elif args.verbose:
            sys.stdout.write(f"ok   {r.scenario.id}\n")
    passed = sum(r.ok for r in report.results)
    failed = len(report.results) - passed
    gaps = report.uncovered(rs)
    for kind, items in gaps.items():
        if items:
            sys.stdout.write(f"not exercised by any scenario ({kind}): {', '.join(items)}\n")
    sys.stdout.write(f"{passed} passed, {failed} failed\n")
    return 0 if report.ok else 1


def coverage(args) -> int:
    from engine.scenarios import run_scenarios
    rs = _load(args)
    if rs is None:
        return 1
    report = run_scenarios(rs)
    gaps = report.uncovered(rs)
    total_rules = len([r for r in rs.all_rules() if not r.id.startswith("!")])
    sys.stdout.write(f"rules exercised: {total_rules - len(gaps['rules'])}/{total_rules}\n")
    sys.stdout.write(f"outcomes reached: {len(rs.precedence) - len(gaps['outcomes'])}/{len(rs.precedence)}\n")
    for kind, items in gaps.items():
        for item in items:
            sys.stdout.write(f"not exercised ({kind[:-1]}): {item}\n")
    return 1 if any(gaps.values()) or not report.ok else 0


def archive(args) -> int:
    from engine.archive import archive_ruleset
    rs = _load(args)
    if rs is None:
        return 1
    try:
        target = archive_ruleset(rs, args.out)
    except OSError as exc:
        return fail(f"{args.out}: cannot write the archive: {exc.strerror}")
    sys.stdout.write(f"archived {rs.name} {rs.version} {rs.fingerprint}\n  in {target}\n")
    return 0


def diff(args) -> int:
    """Exit 0 when the advice is the same on every path, 1 when some advice changed."""
    from engine import RulesetError, load_ruleset
    from engine.diff import compare
    loaded = []
    for label, directory in (("old", args.old), ("new", args.new)):
        try:
            loaded.append(load_ruleset(directory, args.sources))
        except RulesetError as exc:
            for p in exc.problems:
                sys.stdout.write(f"{p}\n")
            return fail(f"the {label} rule set has problems (see above)")
    recipients = [o.value for o in loaded[1].question(loaded[1].info.recipient_fact).options or []]
    if args.recipient is not None and args.recipient not in recipients:
        return fail(f"--recipient {args.recipient!r} is not a recipient of the new rule set; allowed: {', '.join(recipients)}")
    report = compare(*loaded, recipient=args.recipient)
    sys.stdout.write(f"old: {report.old}\nnew: {report.new}\n")
    sys.stdout.write(f"{report.paths} interview paths of the new rule set: {report.unchanged} same advice, "
                     f"{report.changed} changed, {report.not_comparable} not comparable (answers the old rules "
                     f"do not accept or leave incomplete)\n")
    for change in report.changes.values():
        sys.stdout.write(f"  {change.paths:6d} x {change.kind}\n")
        if args.examples:
            example = ", ".join(f"{k}={v}" for k, v in change.example.items())
            sys.stdout.write(f"           e.g. {example}\n")
    return 1 if report.changes else 0
