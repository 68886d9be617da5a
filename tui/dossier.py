"""The dossier text ("verantwoording"): what was decided, on which grounds, what was shared.

Plain text, written from the decision, the rule set and the signed record.
No Textual import.
"""

from __future__ import annotations

from typing import Any

from tui import labels
from tui.lang import Catalog, pick


def verantwoording(*, rs: Any, decision: Any, answers: dict[str, Any], actor: dict[str, str],
                   record: dict[str, Any] | None, case_id: str, cat: Catalog) -> str:
    t = cat.t
    advice = decision.advice
    lines: list[str] = []
    title = t("dossier.title")
    lines += [title, "=" * len(title), ""]
    lines.append(t("dossier.case", id=case_id))
    if record:
        lines.append(t("dossier.recorded_at", at=record.get("signed_at", "")))
        lines.append(t("dossier.record_id", id=record.get("record_id", "")))
    lines.append(t("dossier.professional", name=actor.get("name") or "-",
                   organisation=actor.get("organisation") or "-"))
    lines.append(t("dossier.ruleset", name=rs.name, version=rs.version, fingerprint=rs.fingerprint))
    lines.append("")

    lines.append(t("dossier.h_decision"))
    if advice is None:
        lines.append("  " + t("advice.incomplete"))
    else:
        lines.append("  " + f"{labels.verdict_symbol(advice.verdict)} "
                     f"{labels.verdict_words(advice.verdict, cat)}: "
                     f"{labels.outcome_label(rs, advice.outcome, cat)}")
        desc = labels.outcome_description(rs, advice.outcome, cat)
        if desc:
            lines.append("  " + desc)
        lines.append("  " + t("dossier.recipient",
                              recipient=labels.recipient_label(rs, advice.recipient, cat)))
        lines.append("")
        lines.append(t("dossier.h_grounds"))
        for source_id in advice.legal_bases:
            lines.append("  - " + labels.source_line(rs, source_id, cat))
        for step in advice.explanation:
            lines.append("  * " + pick(step.text, cat.lang))
        if advice.unverified:
            lines.append("  " + t("advice.unverified_intro"))
            for source_id in advice.unverified:
                lines.append("    - " + labels.source_line(rs, source_id, cat))
        lines.append("")
        lines.append(t("dossier.h_shared"))
        if advice.allowed:
            for code in advice.allowed:
                lines.append("  - " + labels.category_label(rs, code, cat))
        else:
            lines.append("  " + t("advice.nothing_allowed"))
        if advice.withheld:
            lines.append(t("dossier.h_withheld"))
            for item in advice.withheld:
                lines.append(f"  - {labels.category_label(rs, item.category, cat)}: "
                             f"{pick(item.reason, cat.lang)}")
        lines.append("")
        lines.append(t("dossier.h_conditions"))
        if advice.conditions:
            for code in advice.conditions:
                lines.append("  - " + labels.condition_text(rs, code, cat))
        else:
            lines.append("  " + t("advice.no_conditions"))
    lines.append("")
    lines.append(t("dossier.h_answers"))
    for fact, value in answers.items():
        try:
            question = rs.question(fact)
        except Exception:
            lines.append(f"  - {fact}: {value}")
            continue
        lines.append(f"  - {pick(question.prompt, cat.lang)} {labels.answer_label(question, value, cat)}")
    lines.append("")
    return "\n".join(lines)
