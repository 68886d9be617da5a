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

SYMBOL = {"share": "✔", "do_not_share": "✖", "consult_anonymised": "◌", "consult_first": "!"}
WORDS: dict[str, dict[str, str]] = {
    "nl": {"share": "Delen", "do_not_share": "Niet delen", "consult_anonymised": "Anoniem overleggen",
           "consult_first": "Eerst overleggen",
           "verified": "gecontroleerd", "secondary": "secundaire bron", "unverified": "NIET gecontroleerd",
           "yes": "ja", "no": "nee", "none": "(geen)", "caution": "Let op", "officer_note": "Voor de privacyfunctionaris",
           "assumed": "Aangenomen (niet beantwoord)", "fallback": "Geen route", "default-withhold": "Alleen wat nodig is",
           "not_answered": "nog niet beantwoord"},
    "en": {"share": "Share", "do_not_share": "Do not share", "consult_anonymised": "Consult anonymously",
           "consult_first": "Consult first",
           "verified": "verified", "secondary": "secondary source", "unverified": "NOT verified",
           "yes": "yes", "no": "no", "none": "(none)", "caution": "Note", "officer_note": "For the privacy officer",
           "assumed": "Assumed (not answered)", "fallback": "No route", "default-withhold": "Only what is needed",
           "not_answered": "not answered yet"},
}

# The headings every layout of an advice uses (screen, dossier document, command line): one table.
HEADINGS: dict[str, dict[str, str]] = {
    "nl": {"advice": "Advies", "recipient": "Ontvanger", "allowed": "Deze gegevens mag je delen",
           "withheld": "Deze gegevens deel je niet", "nothing_allowed": "Geen gegevens.",
           "conditions": "Wat je moet doen", "no_conditions": "Geen extra stappen.",
           "next": "Wat nu?", "next_default": "Doe wat bij 'Wat je moet doen' staat. Schrijf je eigen afweging in "
           "het dossierdocument en leg het advies vast.",
           "blocked": "Wat stond in de weg", "blocked_route": "Niet mogelijk: {route}",
           "your_answer": "je antwoord: {answer}", "not_asked": "nog niet gevraagd", "would_open": "Dit maakt mogelijk: {route}",
           "sources": "Wettelijke grond", "unverified": "Let op: dit advies steunt op een bron die niet is "
           "gecontroleerd met de officiële tekst", "explanation": "Waarom dit advies",
           "answers_behind": "Jouw antwoorden hierbij", "entered": "door jou ingevuld", "derived": "aangenomen",
           "warnings": "Klopt dit?", "assumed": "Aangenomen (niet beantwoord)",
           "ignored": "Niet gebruikt (niet van toepassing)", "ruleset": "Regels",
           "incomplete": "Nog niet compleet. Nog nodig:"},
    "en": {"advice": "Advice", "recipient": "Recipient", "allowed": "You may share these data",
           "withheld": "Do not share these data", "nothing_allowed": "No data.",
           "conditions": "What you must do", "no_conditions": "No extra steps.",
           "next": "What next?", "next_default": "Do what 'What you must do' says. Write your own weighing in "
           "the dossier document and record the advice.",
           "blocked": "What stood in the way", "blocked_route": "Not possible: {route}",
           "your_answer": "your answer: {answer}", "not_asked": "not asked yet", "would_open": "This makes possible: {route}",
           "sources": "Legal basis", "unverified": "Note: this advice rests on a source that has not been "
           "checked against the official text", "explanation": "Why this advice",
           "answers_behind": "Your answers behind this", "entered": "entered by you", "derived": "assumed",
           "warnings": "Is this right?", "assumed": "Assumed (not answered)",
           "ignored": "Not used (does not apply)", "ruleset": "Rules",
           "incomplete": "Not complete yet. Still needed:"},
}


def heading(key: str, lang: str, **values: str) -> str:
    """A heading of the advice layout in ``lang`` (Dutch unless English)."""
    text = HEADINGS["en" if lang == "en" else "nl"][key]
    return text.format(**values) if values else text


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
    asked: bool = True    # False: the question was never answered (the route did not need it yet)

    def answer_words(self, lang: str) -> str:
        """``je antwoord: nee``, or ``nog niet gevraagd`` for a question not answered yet."""
        return heading("your_answer", lang, answer=self.answer) if self.asked else heading("not_asked", lang)


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

    @property
    def headline(self) -> str:
        """``✖ Niet delen: Vraag eerst toestemming`` -- the outcome only when it says more than the verdict."""
        head = f"{self.symbol} {self.verdict_words}"
        if self.outcome_label and self.outcome_label.strip().casefold() != self.verdict_words.strip().casefold():
            head += f": {self.outcome_label}"
        return head

    @property
    def route_steps(self) -> list[str]:
        """The advice's own next steps (the route's ``next``, else its outcome's)."""
        return [n.text for n in self.next_steps if n.kind == "route" and n.text]

    @property
    def next_step_lines(self) -> list[str]:
        """What to do next: the rule set's own steps, or -- when neither the route nor its outcome
        has one -- the interview's own next step (do the conditions, write the weighing, record).
        The latter is about the interview, not the law: "Wat nu?" is never empty."""
        return self.route_steps or [heading("next_default", self.lang)]


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
                                answer_label(rs, b.fact, b.answer, lang), b.next_step.get(lang),
                                asked=b.answer is not None) for b in w.blockers]
        blocked.append(BlockedRoute(w.rule, w.outcome, w.title.get(lang), rs.outcomes[w.outcome].label.get(lang), blockers))
    view.advice = AdviceView(
        lang=lang, verdict=a.verdict, symbol=SYMBOL.get(a.verdict, "?"),
        verdict_words=words(lang).get(a.verdict) or info.label.get(lang),
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


def what_next_lines(a: AdviceView) -> list[str]:
    """The "Wat nu?" part as plain lines: the advice's own next step, then -- when the advice is
    not to share -- each route that did not apply, which answer stood in the way and what to do."""
    lines = [f"→ {text}" for text in a.next_step_lines]
    if a.verdict != "share":
        for route in a.blocked:
            lines.append(heading("blocked_route", a.lang, route=route.title or route.outcome_label))
            for b in route.blockers:
                lines.append(f"  • {b.prompt} ({b.answer_words(a.lang)})")
                if b.next_step:
                    lines.append(f"    → {b.next_step}")
    return lines


def advice_lines(a: AdviceView) -> list[str]:
    """The advice as plain text (the dossier document's text and ``decide --format text``)."""
    def h(key: str) -> str:
        return heading(key, a.lang)

    out = [a.headline]
    if a.description:
        out.append(a.description)
    out.append(f"{h('recipient')}: {a.recipient_label}")
    out += ["", h("allowed") + ":"]
    out += [f"  ✔ {x.label}" for x in a.allowed] or ["  " + h("nothing_allowed")]
    if a.withheld:
        out += ["", h("withheld") + ":"]
        out += [f"  ✖ {x.label}: {x.reason}" for x in a.withheld]
    out += ["", h("conditions") + ":"]
    out += [f"  • {text}" for _code, text in a.conditions] or ["  " + h("no_conditions")]
    nxt = what_next_lines(a)
    if nxt:
        out += ["", h("next")] + [f"  {line}" for line in nxt]
    if a.unverified:
        out += ["", "! " + h("unverified") + ":"] + [f"  - {s.line()}" for s in a.unverified]
    out += ["", h("sources") + ":"] + [f"  § {s.line()}" for s in a.sources]
    out += ["", h("explanation") + ":"]
    for i, step in enumerate(a.explanation, 1):
        cites = "; ".join(s.citation for s in step.sources)
        out.append(f"  {i}. {step.title}: {step.text.strip()}" + (f" [{cites}]" if cites else ""))
    return out
