"""Deelwijzer's rules engine: rule files in, one explained and cited advice out."""
from engine.answers import parse_answers
from engine.decide import Advice, Decision, Step, Withheld, decide
from engine.errors import AnswerError, DurableError, EngineError, RulesetError
from engine.loader import DEFAULT_RULES_DIR, load_ruleset
from engine.ruleset import Ruleset

__all__ = ["DEFAULT_RULES_DIR", "Advice", "AnswerError", "Decision", "DurableError", "EngineError", "Ruleset",
           "RulesetError", "Step", "Withheld", "decide", "load_ruleset", "parse_answers"]
