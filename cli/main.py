"""``deelwijzer``: the interview without arguments, or one of the sub-commands.

Exit codes: 0 success, 1 checked and found problems, 2 bad input or usage.
No sub-command ever shows a Python traceback: known errors become one clear line,
anything unexpected becomes an internal-error line that says where to report it.
"""
from __future__ import annotations

import argparse
import sys



class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # usage errors: say what and how to get help, exit 2
        self.print_usage(sys.stderr)
        sys.stderr.write(f"deelwijzer: error: {message}\n(run '{self.prog} --help' for the options)\n")
        raise SystemExit(2)


COMMANDS = ("decide", "rules", "keys", "audit", "store")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; with ``only`` (a command name) just that command's part, so that
    ``deelwijzer decide`` does not pay for building every other command's options."""
    parser = _Parser(prog="deelwijzer", description=(
        "Deelwijzer: may I share information about a young client who may be a victim of human "
        "trafficking, with whom, and how much? Without arguments it starts the interview."))
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    wanted = (only,) if only in COMMANDS else COMMANDS
    if "decide" in wanted:
        from cli import decide_cmd
        decide_cmd.register(sub)
    if "rules" in wanted:
        from cli import rules_cmd
        rules_cmd.register(sub)
    if "keys" in wanted or "audit" in wanted:
        try:
            from cli import audit_cmd, keys_cmd
        except ImportError as exc:  # the audit package is part of the product; say so plainly if it is broken
            sys.stderr.write(f"deelwijzer: the audit commands are unavailable: {exc}\n")
        else:
            if "keys" in wanted:
                keys_cmd.register(sub)
            if "audit" in wanted:
                audit_cmd.register(sub)
    if "store" in wanted:
        from cli import store_cmd
        store_cmd.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        if not argv:
            import tui
            return tui.run()
        parser = build_parser(argv[0])
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help()
            return 2
        return int(args.func(args) or 0)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    except KeyboardInterrupt:
        sys.stderr.write("deelwijzer: interrupted\n")
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # last line of defence: never a traceback
        sys.stderr.write(f"deelwijzer: internal error ({type(exc).__name__}: {exc}). "
                         "Nothing was written. Please report this with the command you ran.\n")
        return 70


if __name__ == "__main__":
    raise SystemExit(main())
