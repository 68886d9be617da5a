"""``deelwijzer rules check|test|coverage|archive``: for privacy officers who edit rule files."""
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
