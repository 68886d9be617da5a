"""Helpers for the engine tests: private copies of the bundled rules to break on purpose, the
real CLI in a subprocess bounded by a timeout, and answer-set strategies for hypothesis."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "rules"
LEGAL_BASES = ROOT / "legal_bases"
SOURCES = LEGAL_BASES / "catalogue"
TIMEOUT = 20  # seconds any one CLI run may take; a hostile input must not make it hang
MAX_SAFE_INT = 2**53 - 1

# one problem per line: path:line:col: message
PROBLEM = re.compile(r"^(?P<path>[^\s:][^:]*):(?P<line>\d+):(?P<col>\d+): (?P<msg>\S.*)$")


def copy_workspace(target: Path, *, scenarios: bool = False) -> Path:
    """``target/rules`` and ``target/legal_bases`` copied from the bundled ones (the catalogue
    beside the rules is discovered); returns the rules directory."""
    target.mkdir(parents=True, exist_ok=True)
    ignore = None if scenarios else shutil.ignore_patterns("tests")
    shutil.copytree(RULES, target / "rules", ignore=ignore)
    shutil.copytree(LEGAL_BASES, target / "legal_bases", ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target / "rules"


def copy_rules(tmp_path: Path) -> Path:
    """A private copy of the bundled rules (without scenarios) with its catalogue beside it."""
    return copy_workspace(tmp_path)


def edit(path: Path, old: str, new: str) -> int:
    """Replace the first occurrence of ``old``; return the 1-based line where it starts."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text not found in {path.name}: {old!r} (did the bundled rules change?)"
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return line


def line_of(path: Path, needle: str) -> int:
    text = path.read_text(encoding="utf-8")
    assert needle in text, f"{needle!r} not in {path.name}"
    return text[: text.index(needle)].count("\n") + 1


def cli_env(cache_dir: Path | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEELWIJZER_")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if cache_dir is not None:
        env["DEELWIJZER_CACHE_DIR"] = str(cache_dir)
    else:
        env["DEELWIJZER_NO_CACHE"] = "1"
    env.update(extra)
    return env


@dataclass
class Run:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def problems(self) -> list[re.Match[str]]:
        """The ``path:line:col: message`` lines of the output (stderr lines lose a 'deelwijzer: ' prefix)."""
        out = []
        for line in self.output.splitlines():
            m = PROBLEM.match(line.removeprefix("deelwijzer: "))
            if m:
                out.append(m)
        return out


def run_cli(*args: Any, env: dict[str, str] | None = None, timeout: float = TIMEOUT, cwd: Path = ROOT) -> Run:
    """``python -m cli.main ARGS`` in a subprocess; a run that does not finish within
    ``timeout`` seconds fails the test (a hostile input must have a bounded cost)."""
    argv = [sys.executable, "-m", "cli.main", *map(str, args)]
    try:
        done = subprocess.run(argv, cwd=cwd, env=env or cli_env(), capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`deelwijzer {' '.join(map(str, args))}` did not finish within {timeout} s")
    return Run(argv[3:], done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace"))


def run_python(
    script: str, *args: Any, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """A Python script in a fresh interpreter (for what could crash or pollute this process)."""
    try:
        return subprocess.run(
            [sys.executable, "-c", script, *map(str, args)],
            cwd=ROOT,
            env=env or cli_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"the child process did not finish within {timeout} s")


def assert_clean(run: Run) -> None:
    """No traceback, no internal error, whatever the input."""
    assert "Traceback" not in run.output, run.output[-3000:]
    assert "internal error" not in run.output, run.output[-3000:]


# --- answer strategies -------------------------------------------------------------------------


def fact_bounds(rs: Any, fact: str) -> tuple[int, int]:
    spec = rs.facts[fact]
    return spec.min, spec.max


def boundary_integers(rs: Any, fact: str) -> list[int]:
    """The integers where an int fact's behaviour can change: its min and max, and t-1, t,
    t+1 of every number a condition compares it with (parameters included)."""
    low, high = fact_bounds(rs, fact)
    points = {low, low + 1, high - 1, high}
    from engine.conditions import Test

    for cr in rs.all_rules():
        for conj in cr.conjuncts:
            for leaf in conj:
                if isinstance(leaf, Test) and leaf.fact == fact:
                    points |= {leaf.value - 1, leaf.value, leaf.value + 1}
    for p in rs.parameters.values():
        points |= {p.value - 1, p.value}
    return sorted(v for v in points if low <= v <= high)


def value_strategy(rs: Any, question: Any) -> st.SearchStrategy[Any]:
    if question.type == "bool":
        return st.booleans()
    if question.type == "int":
        low, high = fact_bounds(rs, question.fact)
        return st.one_of(st.sampled_from(boundary_integers(rs, question.fact)), st.integers(low, high))
    values = [o.value for o in question.options]
    if question.type == "enum":
        return st.sampled_from(values)
    return st.lists(st.sampled_from(values), unique=True).map(lambda v: sorted(v, key=values.index))


def answers_strategy(rs: Any) -> st.SearchStrategy[dict[str, Any]]:
    """Any subset of the vocabulary, each with a valid value: relevant or not, complete or not."""
    return st.fixed_dictionaries({}, optional={q.fact: value_strategy(rs, q) for q in rs.questions})


def interview_strategy(rs: Any, *, stop_early: bool = False) -> st.SearchStrategy[dict[str, Any]]:
    """Answers built the way the interview builds them: always the next question asked
    (with ``stop_early``, possibly stopping before the interview is complete)."""
    from engine.reference import relevance

    @st.composite
    def walk(draw: Any) -> dict[str, Any]:
        answers: dict[str, Any] = {}
        for _ in range(len(rs.questions)):
            to_ask = relevance(rs, answers).to_ask
            if not to_ask or (stop_early and draw(st.integers(0, 9)) == 0):
                break
            q = rs.question(to_ask[0])
            answers[q.fact] = draw(value_strategy(rs, q))
        return answers

    return walk()


def complete_interview(rs: Any, answers: dict[str, Any], prefer: dict[str, Any] | None = None) -> dict[str, Any]:
    """``answers`` completed the way the interview would: every further question it asks is
    answered from ``prefer`` (fact id -> value), else no / the lowest number / the first
    option / nothing selected."""
    from engine.reference import relevance

    chosen = prefer or {}
    out = dict(answers)
    for _ in range(len(rs.questions)):
        to_ask = relevance(rs, out).to_ask
        if not to_ask:
            return out
        q = rs.question(to_ask[0])
        if q.fact in chosen:
            out[q.fact] = chosen[q.fact]
        elif q.type == "bool":
            out[q.fact] = False
        elif q.type == "int":
            out[q.fact] = rs.facts[q.fact].min
        elif q.type == "enum":
            out[q.fact] = q.options[0].value
        else:
            out[q.fact] = []
    raise AssertionError(f"the interview did not end: {out}")
