"""Deelwijzer's terminal interview.

``run()`` is what ``deelwijzer`` without arguments calls. Importing this
package is cheap: Textual, the engine and the audit log load only inside
``run()``.
"""

from __future__ import annotations

import sys


def run() -> int:
    """Start the interview; returns the process exit code."""
    try:
        from tui.app import run_app

        return run_app()
    except KeyboardInterrupt:
        # Answers are written after every answer, so nothing is lost.
        print("Deelwijzer gestopt. Uw antwoorden zijn bewaard. / Stopped; your answers are saved.",
              file=sys.stderr)
        return 130


__all__ = ["run"]
