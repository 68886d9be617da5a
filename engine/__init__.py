"""Deelwijzer's rules engine: rule files in, one explained and cited advice out."""
from engine.answers import AnswerError, parse_answers
from engine.decide import Advice, Decision, Step, Withheld, decide
from engine.durable_host import EngineError
from engine.loader import DEFAULT_RULES_DIR, RulesetError, load_ruleset
from engine.ruleset import Ruleset

__all__ = ["Advice", "AnswerError", "DEFAULT_RULES_DIR", "Decision", "EngineError", "Ruleset", "RulesetError",
           "Step", "Withheld", "decide", "load_ruleset", "parse_answers"]
