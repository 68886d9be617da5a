"""Turn rule-set objects and stored answers into readable text (no Textual import)."""

from __future__ import annotations

from typing import Any

from tui.lang import Catalog, pick

VERDICT_SYMBOLS = {
    "share": "✔",
    "do_not_share": "✖",
    "consult_first": "!",
    "consult_anonymised": "◌",
}


def verdict_symbol(verdict: str) -> str:
    return VERDICT_SYMBOLS.get(verdict, "?")


def verdict_words(verdict: str, cat: Catalog) -> str:
    key = f"verdict.{verdict}"
    return cat.t(key) if cat.has(key) else verdict


def question_options(question: Any, cat: Catalog) -> list[tuple[Any, str]]:
    """(value, label) pairs for a choice question; bool questions get Ja/Nee if none are given."""
    lang = cat.lang
    options = [(o.value, pick(o.label, lang)) for o in (getattr(question, "options", None) or [])]
    if not options and question.type == "bool":
        options = [(True, cat.t("answer.yes")), (False, cat.t("answer.no"))]
    return options


def answer_label(question: Any, value: Any, cat: Catalog) -> str:
    if value is None:
        return cat.t("answer.none")
    if question.type == "int":
        return str(value)
    labels = {repr(v): label for v, label in question_options(question, cat)}
    if question.type == "set":
        if not value:
            return cat.t("answer.empty_set")
        return ", ".join(labels.get(repr(v), str(v)) for v in value)
    if question.type == "bool" and repr(value) not in labels:
        return cat.t("answer.yes") if value else cat.t("answer.no")
    return labels.get(repr(value), str(value))


def source_status(status: str, cat: Catalog) -> str:
    key = f"source_status.{status}"
    return cat.t(key) if cat.has(key) else status


def source_line(rs: Any, source_id: str, cat: Catalog) -> str:
    """``citation — title (status)`` for a legal-source id; unknown ids are named plainly."""
    src = rs.sources.get(source_id)
    if src is None:
        return cat.t("source.unknown", id=source_id)
    title = getattr(src, "title", "") or ""
    title = pick(title, cat.lang) if not isinstance(title, str) else title
    text = src.citation
    if title:
        text += f" — {title}"
    return f"{text} ({source_status(src.status, cat)})"


def category_label(rs: Any, code: str, cat: Catalog) -> str:
    info = rs.data_categories.get(code)
    return pick(info.label, cat.lang) if info is not None else code


def condition_text(rs: Any, code: str, cat: Catalog) -> str:
    info = rs.conditions.get(code)
    return pick(info.text, cat.lang) if info is not None else code


def outcome_label(rs: Any, code: str, cat: Catalog) -> str:
    info = rs.outcomes.get(code)
    return pick(info.label, cat.lang) if info is not None else code


def outcome_description(rs: Any, code: str, cat: Catalog) -> str:
    info = rs.outcomes.get(code)
    return pick(info.description, cat.lang) if info is not None else ""


def rule_title(rs: Any, rule_id: str, cat: Catalog) -> str:
    """The rule's own title when the rule set has one, else its id."""
    finder = getattr(rs, "rule", None)
    if finder is None:
        return rule_id
    try:
        compiled = finder(rule_id)
    except Exception:  # noqa: BLE001 - e.g. the fallback step has no rule entry
        return rule_id
    source = getattr(compiled, "rule", None) or getattr(compiled, "derived", None)
    title = pick(getattr(source, "title", None), cat.lang)
    return title or rule_id


def recipient_label(rs: Any, value: str | None, cat: Catalog) -> str:
    if not value:
        return cat.t("start.no_recipient")
    if rs is None:
        return value
    try:
        question = rs.question("share.recipient")
    except Exception:  # the rule set may not ask for a recipient
        return value
    return answer_label(question, value, cat)
