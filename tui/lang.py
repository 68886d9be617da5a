"""UI string catalogs (``tui/i18n/<lang>.yaml``) and small helpers for rule-set texts.

Every user-visible string of the interview shell goes through :func:`Catalog.t`.
Texts that come from the rule set (questions, outcomes, legal sources) are
``{"nl": ..., "en": ...}`` mappings; :func:`pick` chooses the language.
This module does not import Textual.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

LANGUAGES: tuple[str, ...] = ("nl", "en")
DEFAULT_LANGUAGE = "nl"
I18N_DIR = Path(__file__).with_name("i18n")

_cache: dict[str, dict[str, str]] = {}


def _flatten(prefix: str, node: Any, out: dict[str, str]) -> None:
    if isinstance(node, Mapping):
        for key, value in node.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), value, out)
    else:
        out[prefix] = "" if node is None else str(node)


def load_catalog(lang: str) -> dict[str, str]:
    """Return the flattened catalog for ``lang`` (keys like ``"start.title"``)."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; choose one of {', '.join(LANGUAGES)}")
    if lang not in _cache:
        from ruamel.yaml import YAML

        yaml = YAML(typ="safe", pure=True)
        with (I18N_DIR / f"{lang}.yaml").open(encoding="utf-8") as handle:
            data = yaml.load(handle)
        flat: dict[str, str] = {}
        _flatten("", data or {}, flat)
        _cache[lang] = flat
    return _cache[lang]


class Catalog:
    """Look up UI strings in one language, falling back to Dutch, then the key."""

    def __init__(self, lang: str = DEFAULT_LANGUAGE) -> None:
        self.lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
        self._strings = load_catalog(self.lang)
        self._fallback = load_catalog(DEFAULT_LANGUAGE)

    def t(self, key: str, **values: Any) -> str:
        text = self._strings.get(key)
        if text is None:
            text = self._fallback.get(key, key)
        if values:
            try:
                return text.format(**values)
            except (KeyError, IndexError, ValueError):
                return text
        return text

    def has(self, key: str) -> bool:
        return key in self._strings


def pick(text: Any, lang: str) -> str:
    """Choose ``lang`` from a rule-set text ``{"nl": .., "en": ..}``; Dutch is the fallback."""
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    getter = getattr(text, "get", None)
    if getter is None:
        return str(text)
    value = getter(lang) or getter(DEFAULT_LANGUAGE)
    if value is None:
        for candidate in (getter(code) for code in LANGUAGES):
            if candidate:
                return str(candidate)
        return ""
    return str(value)
