"""Plain-text rendering of a decision, for people reading a terminal or a dossier."""
from __future__ import annotations

from engine import Decision

SYMBOL = {"share": "✔", "do_not_share": "✖", "consult_anonymised": "◌"}
WORDS = {
    "nl": {"share": "Delen", "do_not_share": "Niet delen", "consult_anonymised": "Anoniem overleggen",
           "advice": "Advies", "recipient": "Ontvanger", "allowed": "Mag mee", "withheld": "Niet delen",
           "conditions": "Voorwaarden", "why": "Waarom", "sources": "Bronnen", "incomplete": "Nog niet compleet. Nog nodig:",
           "assumed": "Aangenomen (niet beantwoord)", "ignored": "Niet gebruikt (niet van toepassing)",
           "ruleset": "Regelset", "nothing": "(niets)", "caution": "! Let op",
           "officer": "Voor de privacyfunctionaris"},
    "en": {"share": "Share", "do_not_share": "Do not share", "consult_anonymised": "Consult anonymously",
           "advice": "Advice", "recipient": "Recipient", "allowed": "May go", "withheld": "Do not share",
           "conditions": "Conditions", "why": "Why", "sources": "Sources", "incomplete": "Not complete yet. Still needed:",
           "assumed": "Assumed (not answered)", "ignored": "Not used (does not apply)",
           "ruleset": "Rule set", "nothing": "(nothing)", "caution": "! Note",
           "officer": "For the privacy officer"},
}
STATUS = {"nl": {"verified": "gecontroleerd", "secondary": "secundaire bron", "unverified": "NIET gecontroleerd"},
          "en": {"verified": "verified", "secondary": "secondary source", "unverified": "NOT verified"}}


def render_text(d: Decision, lang: str = "nl") -> str:
    w, rs, out = WORDS[lang], d.ruleset, []
    if d.advice is None:
        out.append(w["incomplete"])
        for fact in d.missing:
            out.append(f"  - {fact}: {rs.question(fact).prompt.get(lang)}")
    else:
        a = d.advice
        info = rs.outcomes[a.outcome]
        out.append(f"{w['advice']}: {SYMBOL[a.verdict]} {w[a.verdict]} — {info.label.get(lang)}  [{a.outcome}]")
        out.append(f"  {info.description.get(lang)}")
        if a.recipient:
            label = next((o.label.get(lang) for o in rs.question(rs.info.recipient_fact).options or []
                          if o.value == a.recipient), a.recipient)
            out.append(f"{w['recipient']}: {label}")
        cat = rs.data_categories
        out.append(f"{w['allowed']}: " + (", ".join(cat[c].label.get(lang) for c in a.allowed) or w["nothing"]))
        if a.withheld:
            out.append(f"{w['withheld']}:")
            for item in a.withheld:
                out.append(f"  ✖ {cat[item.category].label.get(lang)}: {item.reason.get(lang)}")
        if a.conditions:
            out.append(f"{w['conditions']}:")
            for c in a.conditions:
                out.append(f"  • {rs.conditions[c].text.get(lang)}")
        out.append(f"{w['why']}:")
        for i, step in enumerate(a.explanation, 1):
            mark = {"caution": w["caution"] + ": ", "officer_note": w["officer"] + ": "}.get(step.kind, "")
            cites = "; ".join(rs.sources[s].citation for s in step.cites)
            out.append(f"  {i}. {mark}{step.text.get(lang)}" + (f" [{cites}]" if cites else ""))
        out.append(f"{w['sources']}:")
        for sid in a.legal_bases:
            src = rs.sources[sid]
            out.append(f"  - {src.citation} ({STATUS[lang][src.status]}) {src.url}")
    if d.assumed:
        out.append(f"{w['assumed']}: " + ", ".join(f"{k} = {v}" for k, v in d.assumed.items()))
    if d.ignored:
        out.append(f"{w['ignored']}: " + ", ".join(d.ignored))
    out.append(f"{w['ruleset']}: {rs.name} {rs.version} {rs.fingerprint}")
    return "\n".join(out) + "\n"
