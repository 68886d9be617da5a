"""The interview's gettext catalogs: same keys and placeholders in nl and en, real plural forms,
the compiled .mo files up to date with their .po sources, every key used in code present."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from tui.lang import Catalog, pick, translations
from tui.locale.build import compiled, po_files

TUI = Path(__file__).resolve().parents[2] / "tui"


def catalog(lang: str) -> dict[str, object]:
    po = TUI / "locale" / lang / "LC_MESSAGES" / "deelwijzer.po"
    with po.open("rb") as handle:
        return {m.id if isinstance(m.id, str) else m.id[0]: m.string for m in read_po(handle) if m.id}


def placeholders(text: object) -> set[str]:
    texts = text if isinstance(text, tuple) else (text,)
    return {name for t in texts for _, name, _, _ in string.Formatter().parse(str(t)) if name}


def test_nl_and_en_have_the_same_keys_and_placeholders() -> None:
    nl, en = catalog("nl"), catalog("en")
    assert sorted(set(nl) ^ set(en)) == []
    assert len(nl) > 150
    for key in nl:
        assert all(str(s).strip() for s in (nl[key] if isinstance(nl[key], tuple) else (nl[key],))), f"nl:{key}"
        assert all(str(s).strip() for s in (en[key] if isinstance(en[key], tuple) else (en[key],))), f"en:{key}"
        assert placeholders(nl[key]) == placeholders(en[key]), key


def test_the_mo_files_are_compiled_from_the_current_po_files() -> None:
    files = po_files()
    assert {p.parent.parent.name for p in files} == {"nl", "en"}
    for po in files:
        assert po.with_suffix(".mo").read_bytes() == compiled(po), f"run python -m tui.locale.build ({po})"


@pytest.mark.parametrize("lang, one, many", [("nl", "1 antwoord", "2 antwoorden"), ("en", "1 answer", "2 answers")])
def test_plural_forms(lang: str, one: str, many: str) -> None:
    cat = Catalog(lang)
    assert cat.n("start.answers", 1) == one
    assert cat.n("start.answers", 2) == many
    assert cat.n("start.answers", 0).startswith("0 ") and cat.n("start.answers", 0) != cat.n("start.answers", 1)[:0] + one


def _keys_used_in_code() -> set[str]:
    used: set[str] = set()
    pattern = re.compile(r"""\b(?:t|tn|n)\(\s*["']([a-z_]+\.[a-z0-9_.-]+)["']""")
    for file in TUI.rglob("*.py"):
        used |= set(pattern.findall(file.read_text(encoding="utf-8")))
    return used


def test_every_literal_key_in_the_code_is_in_the_catalog() -> None:
    used = _keys_used_in_code()
    assert len(used) > 80
    nl = catalog("nl")
    assert sorted(key for key in used if key not in nl) == []


def test_every_binding_id_has_a_translation() -> None:
    from textual.binding import Binding

    import tui.app
    from tui.screens import (advice, dossier, help, keysetup, passphrase, plausibility, question, recorded, review,
                             settings, start, why)
    from tui.widgets import answers

    classes = [tui.app.DeelwijzerApp]
    for module in (advice, dossier, help, keysetup, passphrase, plausibility, question, recorded, review, settings,
                   start, why, answers):
        classes += [obj for obj in vars(module).values() if isinstance(obj, type)
                    and obj.__module__ == module.__name__ and hasattr(obj, "BINDINGS")]
    ids = {b.id for cls in classes for b in cls.BINDINGS if isinstance(b, Binding) and b.id}
    assert {"back", "help", "record", "why", "language", "save_stop", "quit", "dossier"} <= ids
    for lang in ("nl", "en"):
        assert sorted(i for i in ids if f"keys.{i}" not in catalog(lang)) == []


def test_lookup_falls_back_and_formats() -> None:
    cat = Catalog("en")
    assert cat.t("errors.int_range", min=0, max=22) == "Enter a number from 0 to 22."
    assert Catalog("nl").t("errors.int_range", min=0, max=22) == "Vul een getal in van 0 tot en met 22."
    assert cat.t("no.such.key") == "no.such.key"
    assert Catalog("xx").lang == "nl"
    with pytest.raises(ValueError):
        translations("de")


def test_pick_rule_set_texts() -> None:
    from legal_bases.catalogue import Text

    assert pick(Text(nl="Ja", en="Yes"), "en") == "Yes"
    assert pick(None, "nl") == ""
