"""The interview's own texts in Dutch and English, through stdlib :mod:`gettext`.

Catalogs live in ``tui/locale/<lang>/LC_MESSAGES/deelwijzer.{po,mo}`` with key-based msgids
(``"start.heading"``); :meth:`Catalog.t` formats a text, :meth:`Catalog.n` picks the plural form
the catalog's ``Plural-Forms`` rule gives (``1 antwoord``, ``2 antwoorden``). English falls back
to Dutch, Dutch to the key. Texts that come from the rule set (questions, outcomes, legal
sources) are ``Text`` objects; :func:`pick` chooses the language. No Textual import.
"""

from __future__ import annotations

import gettext
from pathlib import Path
from typing import Any

LANGUAGES: tuple[str, ...] = ("nl", "en")
DEFAULT_LANGUAGE = "nl"
LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "deelwijzer"

_cache: dict[str, gettext.NullTranslations] = {}


def translations(lang: str) -> gettext.NullTranslations:
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; choose one of {', '.join(LANGUAGES)}")
    if lang not in _cache:
        tr = gettext.translation(DOMAIN, localedir=str(LOCALE_DIR), languages=[lang])
        if lang != DEFAULT_LANGUAGE:
            tr.add_fallback(translations(DEFAULT_LANGUAGE))
        _cache[lang] = tr
    return _cache[lang]


def _format(text: str, values: dict[str, Any]) -> str:
    if not values:
        return text
    try:
        return text.format(**values)
    except (KeyError, IndexError, ValueError):
        return text


class Catalog:
    """Look up the interview's texts in one language."""

    def __init__(self, lang: str = DEFAULT_LANGUAGE) -> None:
        self.lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
        self._tr = translations(self.lang)

    def t(self, key: str, **values: Any) -> str:
        return _format(self._tr.gettext(key), values)

    def n(self, key: str, n: int, **values: Any) -> str:
        """The plural form of ``key`` for the number ``n`` (``{n}`` is filled in)."""
        return _format(self._tr.ngettext(key, key + ".plural", n), {"n": n, **values})

    def has(self, key: str) -> bool:
        return self._tr.gettext(key) != key


def pick(text: Any, lang: str) -> str:
    """Choose ``lang`` from a rule-set text (``Text.get``); Dutch is the fallback."""
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    getter = getattr(text, "get", None)
    if getter is None:
        return str(text)
    value = getter(lang) or getter(DEFAULT_LANGUAGE)
    return "" if value is None else str(value)
