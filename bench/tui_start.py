"""Start-up time of the terminal interview, measured in a real pseudo-terminal.

Measures, in the same run and on the same machine:

* baseline: wall time of ``python -c "import textual.app"``;
* first paint: from process start (just before spawning) until the start screen
  has been drawn to the pseudo-terminal (the app then exits at once);
* rules ready: until the engine and the bundled rule set are loaded (from the engine's compiled
  rule-set cache, warmed once before timing) in the background after the first paint.

Prints the medians and both ratios against the baseline of the same run. Targets: first paint
< 0.5 s and rules ready < 0.5 s after start (timings belong here, never in tests).

    .venv/bin/python bench/tui_start.py [--runs 7]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 0.5

CHILD = r"""
import sys, time
from pathlib import Path
out, mode, home = sys.argv[1], sys.argv[2], Path(sys.argv[3])
from tui.app import DeelwijzerApp

class BenchApp(DeelwijzerApp):
    def after_first_paint(self):
        if mode == "paint":
            Path(out).write_text(repr(time.time()))
            self.exit(0)
        else:
            super().after_first_paint()

    def _rules_loaded(self, *args):
        super()._rules_loaded(*args)
        if mode == "rules":
            Path(out).write_text(repr(time.time()) if self.rs is not None else "error")
            self.exit(0)

BenchApp(home=home).run()
"""


def drain(fd: int) -> None:
    while True:
        try:
            if not os.read(fd, 65536):
                return
        except OSError:
            return


def run_in_pty(args: list[str], timeout: float = 60.0) -> float:
    """Run ``args`` attached to a 100x30 pseudo-terminal; return the wall time of the run."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    env = dict(os.environ, TERM="xterm-256color", PYTHONPATH=str(ROOT))
    env.pop("NO_COLOR", None)
    reader = threading.Thread(target=drain, args=(master,), daemon=True)
    reader.start()
    start = time.time()
    proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, cwd=ROOT, env=env,
                            close_fds=True)
    os.close(slave)
    try:
        proc.wait(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return start


def timed_child(mode: str, home: Path) -> float:
    with tempfile.NamedTemporaryFile("r", suffix=".t", delete=False) as handle:
        out = handle.name
    try:
        os.unlink(out)
        start = run_in_pty([sys.executable, "-c", CHILD, out, mode, str(home)])
        text = Path(out).read_text() if Path(out).exists() else ""
        if not text or text == "error":
            raise SystemExit(f"bench child ({mode}) did not report; is the rule set loadable?")
        return float(text) - start
    finally:
        if os.path.exists(out):
            os.unlink(out)


def baseline() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import textual.app"], check=True, cwd=ROOT)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--no-rules", action="store_true", help="skip the rules-ready timing")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        (home / "settings.json").write_text('{"name": "Bench", "language": "nl"}')
        os.environ["DEELWIJZER_HOME"] = str(home)
        # warm the file cache and the compiled rule-set cache once, not counted
        baseline()
        timed_child("paint", home)
        if not args.no_rules:
            timed_child("rules", home)
        base, paint, rules = [], [], []
        for _ in range(args.runs):
            base.append(baseline())
            paint.append(timed_child("paint", home))
            if not args.no_rules:
                rules.append(timed_child("rules", home))
    b, p = statistics.median(base), statistics.median(paint)
    print(f"runs: {args.runs} (medians; python {sys.version.split()[0]})")
    print(f"python -c 'import textual.app'      : {b * 1000:7.1f} ms")
    print(f"deelwijzer TUI, first screen painted : {p * 1000:7.1f} ms "
          f"(min {min(paint) * 1000:.1f}, max {max(paint) * 1000:.1f})")
    r = statistics.median(rules) if rules else None
    if r is not None:
        print(f"rules ready (loaded in background)   : {r * 1000:7.1f} ms "
              f"(min {min(rules) * 1000:.1f}, max {max(rules) * 1000:.1f})")
    print(f"ratio first-paint / textual import   : {p / b:7.2f}")
    if r is not None:
        print(f"ratio rules-ready / textual import   : {r / b:7.2f}")
    ok = p < TARGET_S and (r is None or r < TARGET_S)
    print(f"targets first paint and rules < {TARGET_S:.1f} s: {'OK' if ok else 'OVER TARGET'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
