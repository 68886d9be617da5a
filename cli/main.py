"""``deelwijzer``: the interview without arguments, or one of the sub-commands.

Exit codes: 0 success, 1 checked and found problems, 2 bad input or usage.
No sub-command ever shows a Python traceback: known errors become one clear line,
anything unexpected becomes an internal-error line that says where to report it.
"""
from __future__ import annotations

import argparse
import sys

from cli import decide_cmd, rules_cmd


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # usage errors: say what and how to get help, exit 2
        self.print_usage(sys.stderr)
        sys.stderr.write(f"deelwijzer: error: {message}\n(run '{self.prog} --help' for the options)\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="deelwijzer", description=(
        "Deelwijzer: may I share information about a young client who may be a victim of human "
        "trafficking, with whom, and how much? Without arguments it starts the interview."))
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    decide_cmd.register(sub)
    rules_cmd.register(sub)
    try:
        from cli import audit_cmd, keys_cmd
    except ImportError as exc:  # the audit package is part of the product; say so plainly if it is broken
        sys.stderr.write(f"deelwijzer: the audit commands are unavailable: {exc}\n")
    else:
        keys_cmd.register(sub)
        audit_cmd.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        if not argv:
            import tui
            return tui.run()
        parser = build_parser()
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
