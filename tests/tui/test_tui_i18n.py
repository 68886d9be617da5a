"""The UI catalogs: same keys in nl and en, same placeholders, every key used in code exists."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from tui.lang import Catalog, load_catalog, pick

TUI = Path(__file__).resolve().parents[2] / "tui"


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_nl_and_en_have_the_same_keys() -> None:
    nl, en = load_catalog("nl"), load_catalog("en")
    assert sorted(set(nl) - set(en)) == []
    assert sorted(set(en) - set(nl)) == []
    assert len(nl) > 150


def test_no_empty_strings_and_same_placeholders() -> None:
    nl, en = load_catalog("nl"), load_catalog("en")
    for key in nl:
        assert nl[key].strip(), f"nl:{key} is empty"
        assert en[key].strip(), f"en:{key} is empty"
        assert placeholders(nl[key]) == placeholders(en[key]), key


def _keys_used_in_code() -> set[str]:
    used: set[str] = set()
    pattern = re.compile(r"""\bt\(\s*["']([a-z_]+\.[a-z0-9_.-]+)["']""")
    for file in TUI.rglob("*.py"):
        used |= set(pattern.findall(file.read_text(encoding="utf-8")))
    return used


def test_every_literal_key_in_the_code_is_in_the_catalog() -> None:
    used = _keys_used_in_code()
    assert len(used) > 80
    missing = sorted(key for key in used if key not in load_catalog("nl"))
    assert missing == []


def test_every_binding_id_has_a_translation() -> None:
    from textual.binding import Binding

    import tui.app
    from tui.screens import (advice, help, keysetup, passphrase, question, recorded, review,
                             settings, start, why)
    from tui.widgets import answers

    classes = [tui.app.DeelwijzerApp]
    for module in (advice, help, keysetup, passphrase, question, recorded, review, settings, start,
                   why, answers):
        classes += [obj for obj in vars(module).values() if isinstance(obj, type)
                    and obj.__module__ == module.__name__ and hasattr(obj, "BINDINGS")]
    ids = {b.id for cls in classes for b in cls.BINDINGS if isinstance(b, Binding) and b.id}
    assert {"back", "help", "record", "why", "language", "save_stop", "quit"} <= ids
    for lang in ("nl", "en"):
        catalog = load_catalog(lang)
        assert sorted(i for i in ids if f"keys.{i}" not in catalog) == []


def test_lookup_falls_back_and_formats() -> None:
    cat = Catalog("en")
    assert cat.t("errors.int_range", min=0, max=23) == "Enter a number from 0 to 23."
    assert Catalog("nl").t("errors.int_range", min=0, max=23) == "Vul een getal in van 0 tot en met 23."
    assert cat.t("no.such.key") == "no.such.key"
    assert Catalog("xx").lang == "nl"
    with pytest.raises(ValueError):
        load_catalog("de")


def test_pick_rule_set_texts() -> None:
    text = {"nl": "Ja", "en": "Yes"}
    assert pick(text, "en") == "Yes"
    assert pick({"nl": "Alleen Nederlands"}, "en") == "Alleen Nederlands"
    assert pick(None, "nl") == ""
