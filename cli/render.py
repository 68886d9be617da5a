"""Plain-text rendering of a decision for a terminal, laid out from ``engine.present``.

The words and headings are the presentation model's (``engine.present``): the interview, the
dossier document and this command line show the same advice in the same words.
"""
from __future__ import annotations

from engine import Decision
from engine.present import advice_lines, heading, present


def render_text(d: Decision, lang: str = "nl") -> str:
    v = present(d, lang)
    out: list[str] = []
    for w in v.warnings:
        out.append(f"{heading('warnings', lang)} {w.message}")
        out += [f"  - {f.prompt} {f.answer}" for f in w.facts]
    if v.advice is None:
        out.append(heading("incomplete", lang))
        out += [f"  - {f.prompt} ({f.fact})" for f in v.missing]
    else:
        out += advice_lines(v.advice)
    if v.assumed:
        out.append(f"{heading('assumed', lang)}: " + ", ".join(f"{f.prompt} {f.answer}" for f in v.assumed))
    if v.ignored:
        out.append(f"{heading('ignored', lang)}: " + "; ".join(v.ignored))
    rs = v.ruleset
    out.append(f"{heading('ruleset', lang)}: {rs['name']} {rs['version']} {rs['fingerprint']}")
    return "\n".join(out) + "\n"
