"""Every error the engine raises on bad input, under one base that lists the problems.

Each problem is positioned where that is possible (``path:line:col: message``); callers
print ``problems`` one per line and never a traceback.
"""
from __future__ import annotations

from legal_bases.textfile import Problem


class EngineError(Exception):
    """Base class: the engine cannot go on with this input; ``problems`` says where and why."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(set(problems))
        super().__init__("\n".join(str(p) for p in self.problems))


class RulesetError(EngineError):
    """The rule set (or its legal-source catalogue) cannot be used."""


class AnswerError(EngineError, ValueError):
    """An answer outside the fact vocabulary: names the fact, what is wrong and what is allowed."""

    def __init__(self, fact: str, message: str, allowed: str, *, where: Problem | None = None):
        self.fact, self.message, self.allowed = fact, message, allowed
        text = f"{fact}: {message}; allowed: {allowed}"
        problem = Problem(where.path, where.line, where.col, text) if where else Problem("answers", 0, 0, text)
        super().__init__([problem])
        self.args = (text if where is None else str(problem),)

    def __str__(self) -> str:
        return str(self.args[0])


class DurableError(EngineError):
    """durable-rules failed or disagreed with what we compiled; the evaluation is discarded."""

    def __init__(self, message: str):
        super().__init__([Problem("durable-rules", 0, 0, message)])
        self.args = (message,)

    def __str__(self) -> str:
        return str(self.args[0])
