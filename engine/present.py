"""The advice as people read it: one presentation model for the interview, the dossier
document and the command line (no Textual import).

``present(decision, lang)`` resolves every code of a decision into the words of one
language -- the verdict, outcome, recipient, data categories with their reasons, conditions,
next steps, the routes that did not apply and why, the legal sources with their
verification status, and the explanation step by step with the answers behind each step.
The screens, ``cli/render.py`` and the dossier only lay this out; none keeps a word table of
its own, and none shows an internal id where a title exists.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.decide import Decision, Step
from engine.ruleset import Ruleset
from legal_bases.catalogue import Text

SYMBOL = {"share": "✔", "do_not_share": "✖", "consult_anonymised": "◌"}
WORDS: dict[str, dict[str, str]] = {
    "nl": {"share": "Delen", "do_not_share": "Niet delen", "consult_anonymised": "Anoniem overleggen",
           "verified": "gecontroleerd", "secondary": "secundaire bron", "unverified": "NIET gecontroleerd",
           "yes": "ja", "no": "nee", "none": "(geen)", "caution": "Let op", "officer_note": "Voor de privacyfunctionaris",
           "assumed": "Aangenomen (niet beantwoord)", "fallback": "Geen route", "default-withhold": "Alleen wat nodig is",
           "not_answered": "nog niet beantwoord"},
    "en": {"share": "Share", "do_not_share": "Do not share", "consult_anonymised": "Consult anonymously",
           "verified": "verified", "secondary": "secondary source", "unverified": "NOT verified",
           "yes": "yes", "no": "no", "none": "(none)", "caution": "Note", "officer_note": "For the privacy officer",
           "assumed": "Assumed (not answered)", "fallback": "No route", "default-withhold": "Only what is needed",
           "not_answered": "not answered yet"},
}


def words(lang: str) -> dict[str, str]:
    return WORDS["en" if lang == "en" else "nl"]


@dataclass(frozen=True, eq=False)
class SourceLine:
    id: str
    citation: str
    title: str
    status: str           # verified | secondary | unverified
    status_words: str
    url: str

    @property
    def verified(self) -> bool:
        return self.status == "verified"

    def line(self) -> str:
        return f"{self.citation} — {self.title} ({self.status_words})"


@dataclass(frozen=True, eq=False)
class FactLine:
    fact: str
    prompt: str
    answer: str
    entered: bool         # answered by the professional (else: assumed by a legal default)


@dataclass(frozen=True, eq=False)
class StepView:
    rule: str
    kind: str             # assumed | derived | route | data | condition | fallback | caution | officer_note
    title: str
    text: str
    sources: list[SourceLine]
    facts: list[FactLine]


@dataclass(frozen=True, eq=False)
class DataLine:
    category: str
    label: str
    reason: str | None    # None: may go


@dataclass(frozen=True, eq=False)
class NextStepView:
    kind: str             # route | unblock
    text: str
    route: str | None     # for unblock: the route this would make possible
    fact: str | None


@dataclass(frozen=True, eq=False)
class BlockerView:
    fact: str
    prompt: str
    needed: str
    answer: str
    next_step: str


@dataclass(frozen=True, eq=False)
class BlockedRoute:
    rule: str
    outcome: str
    title: str
    outcome_label: str
    blockers: list[BlockerView]


@dataclass(frozen=True, eq=False)
class WarningView:
    check: str
    message: str
    facts: list[FactLine]


@dataclass
class AdviceView:
    lang: str
    verdict: str
    symbol: str
    verdict_words: str
    outcome: str
    outcome_label: str
    description: str
    recipient: str | None
    recipient_label: str
    allowed: list[DataLine]
    withheld: list[DataLine]
    conditions: list[tuple[str, str]]             # (code, text)
    next_steps: list[NextStepView]
    blocked: list[BlockedRoute]
    sources: list[SourceLine]
    unverified: list[SourceLine]
    explanation: list[StepView]
    cautions: list[str] = field(default_factory=list)


@dataclass
class DecisionView:
    """A whole decision: the advice (None while incomplete), what is still needed, the rule set."""

    lang: str
    complete: bool
    advice: AdviceView | None
    missing: list[FactLine]
    assumed: list[FactLine]
    ignored: list[str]
    warnings: list[WarningView]
    ruleset: dict[str, str]


def answer_label(rs: Ruleset, fact: str, value: Any, lang: str) -> str:
    """An answer in words: option labels for choices, ja/nee, numbers as numbers."""
    w = words(lang)
    if value is None:
        return w["not_answered"]
    try:
        q = rs.question(fact)
    except KeyError:
        return str(value)
    labels = {repr(o.value): o.label.get(lang) for o in q.options or []}
    if q.type == "bool":
        return labels.get(repr(value)) or (w["yes"] if value else w["no"])
    if q.type == "set":
        return ", ".join(labels.get(repr(v), str(v)) for v in value) if value else w["none"]
    if q.type == "int":
        return str(value)
    return labels.get(repr(value), str(value))


def source_line(rs: Ruleset, sid: str, lang: str) -> SourceLine:
    src = rs.sources[sid]
    return SourceLine(sid, src.citation, src.title, src.status, words(lang)[src.status], src.url)


def _title(rs: Ruleset, step: Step, lang: str) -> str:
    w = words(lang)
    if step.kind in ("caution", "officer_note", "assumed", "fallback") or step.rule == "default-withhold":
        return w.get(step.kind if step.kind in w else step.rule, step.rule)
    try:
        cr = rs.rule(step.rule)
    except KeyError:
        return step.rule
    item = cr.rule or cr.derived
    return item.title.get(lang) if item is not None else step.rule


def _fact(rs: Ruleset, fact: str, value: Any, entered: bool, lang: str) -> FactLine:
    try:
        prompt = rs.question(fact).prompt.get(lang)
    except KeyError:
        prompt = fact
    return FactLine(fact, prompt, answer_label(rs, fact, value, lang), entered)


def present(decision: Decision, lang: str = "nl") -> DecisionView:
    rs = decision.ruleset
    answers = decision.answers
    view = DecisionView(
        lang=lang, complete=decision.complete, advice=None,
        missing=[_fact(rs, f, None, False, lang) for f in decision.missing],
        assumed=[_fact(rs, f, v, False, lang) for f, v in decision.assumed.items()],
        ignored=[rs.question(f).prompt.get(lang) for f in decision.ignored],
        warnings=[WarningView(w.check, w.message.get(lang), [_fact(rs, f, answers.get(f), True, lang) for f in w.facts])
                  for w in decision.warnings],
        ruleset=rs.meta())
    a = decision.advice
    if a is None:
        return view
    info = rs.outcomes[a.outcome]
    cats = rs.data_categories
    recipient_label = answer_label(rs, rs.info.recipient_fact, a.recipient, lang) if a.recipient else words(lang)["none"]
    explanation = []
    for step in a.explanation:
        facts = [_fact(rs, f, v, f in answers, lang) for f, v in step.facts.items()]
        explanation.append(StepView(step.rule, step.kind, _title(rs, step, lang), step.text.get(lang),
                                    [source_line(rs, s, lang) for s in step.cites], facts))
    blocked = []
    for w in a.why_not:
        blockers = [BlockerView(b.fact, rs.question(b.fact).prompt.get(lang), b.needed,
                                answer_label(rs, b.fact, b.answer, lang), b.next_step.get(lang)) for b in w.blockers]
        blocked.append(BlockedRoute(w.rule, w.outcome, w.title.get(lang), rs.outcomes[w.outcome].label.get(lang), blockers))
    view.advice = AdviceView(
        lang=lang, verdict=a.verdict, symbol=SYMBOL.get(a.verdict, "?"), verdict_words=words(lang)[a.verdict],
        outcome=a.outcome, outcome_label=info.label.get(lang), description=info.description.get(lang),
        recipient=a.recipient, recipient_label=recipient_label,
        allowed=[DataLine(c, cats[c].label.get(lang), None) for c in a.allowed],
        withheld=[DataLine(w.category, cats[w.category].label.get(lang), w.reason.get(lang)) for w in a.withheld],
        conditions=[(c, rs.conditions[c].text.get(lang)) for c in a.conditions],
        next_steps=[NextStepView(n.kind, n.text.get(lang), n.route_title.get(lang) if n.route_title else None, n.fact)
                    for n in a.next_steps],
        blocked=blocked,
        sources=[source_line(rs, s, lang) for s in a.legal_bases],
        unverified=[source_line(rs, s, lang) for s in a.unverified],
        explanation=explanation,
        cautions=[s.text.get(lang) for s in a.explanation if s.kind == "caution"],
    )
    return view


def text(t: Text | None, lang: str) -> str:
    return t.get(lang) if t is not None else ""
