"""Plain-text rendering of a decision for a terminal, laid out from ``engine.present``."""
from __future__ import annotations

from engine import Decision
from engine.present import present

HEAD = {
    "nl": {"advice": "Advies", "recipient": "Ontvanger", "allowed": "Mag mee", "withheld": "Niet delen",
           "conditions": "Voorwaarden", "next": "Wat nu?", "blocked": "Waarom niet een andere route?",
           "why": "Waarom", "sources": "Bronnen", "incomplete": "Nog niet compleet. Nog nodig:",
           "assumed": "Aangenomen (niet beantwoord)", "ignored": "Niet gebruikt (niet van toepassing)",
           "ruleset": "Regelset", "nothing": "(niets)", "check": "Klopt dit?", "needs": "nodig",
           "would_open": "Dit maakt mogelijk"},
    "en": {"advice": "Advice", "recipient": "Recipient", "allowed": "May go", "withheld": "Do not share",
           "conditions": "Conditions", "next": "What next?", "blocked": "Why not another route?",
           "why": "Why", "sources": "Sources", "incomplete": "Not complete yet. Still needed:",
           "assumed": "Assumed (not answered)", "ignored": "Not used (does not apply)",
           "ruleset": "Rule set", "nothing": "(nothing)", "check": "Is this right?", "needs": "needs",
           "would_open": "This makes possible"},
}


def render_text(d: Decision, lang: str = "nl") -> str:
    h, v, out = HEAD["en" if lang == "en" else "nl"], present(d, lang), []
    for w in v.warnings:
        out.append(f"{h['check']} {w.message}")
        for f in w.facts:
            out.append(f"  - {f.prompt} {f.answer}")
    a = v.advice
    if a is None:
        out.append(h["incomplete"])
        for f in v.missing:
            out.append(f"  - {f.fact}: {f.prompt}")
    else:
        out.append(f"{h['advice']}: {a.symbol} {a.verdict_words} — {a.outcome_label}  [{a.outcome}]")
        out.append(f"  {a.description}")
        if a.recipient:
            out.append(f"{h['recipient']}: {a.recipient_label}")
        out.append(f"{h['allowed']}: " + (", ".join(x.label for x in a.allowed) or h["nothing"]))
        if a.withheld:
            out.append(f"{h['withheld']}:")
            for x in a.withheld:
                out.append(f"  ✖ {x.label}: {x.reason}")
        if a.conditions:
            out.append(f"{h['conditions']}:")
            for _code, text in a.conditions:
                out.append(f"  • {text}")
        if a.next_steps:
            out.append(f"{h['next']}")
            for n in a.next_steps:
                route = f" ({h['would_open']}: {n.route})" if n.route else ""
                out.append(f"  → {n.text}{route}")
        if a.blocked:
            out.append(f"{h['blocked']}")
            for b in a.blocked:
                out.append(f"  {b.title} [{b.outcome}]")
                for x in b.blockers:
                    out.append(f"    {h['needs']}: {x.needed} (now: {x.answer}) — {x.next_step}")
        out.append(f"{h['why']}:")
        for i, step in enumerate(a.explanation, 1):
            mark = f"{step.title}: " if step.kind in ("caution", "officer_note") else ""
            cites = "; ".join(s.citation for s in step.sources)
            out.append(f"  {i}. {mark}{step.text}" + (f" [{cites}]" if cites else ""))
        out.append(f"{h['sources']}:")
        for s in a.sources:
            out.append(f"  - {s.citation} ({s.status_words}) {s.url}")
    if v.assumed:
        out.append(f"{h['assumed']}: " + ", ".join(f"{f.fact} = {f.answer}" for f in v.assumed))
    if v.ignored:
        out.append(f"{h['ignored']}: " + ", ".join(d.ignored))
    rs = v.ruleset
    out.append(f"{h['ruleset']}: {rs['name']} {rs['version']} {rs['fingerprint']}")
    return "\n".join(out) + "\n"
