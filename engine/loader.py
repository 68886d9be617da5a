"""Load a rule set: find its files, use the compiled cache when it is current, else check it.

``load_ruleset(rules_dir, sources_dir)`` returns a checked ``Ruleset`` or raises
``RulesetError`` listing every problem as ``path:line:col: message``. The checks themselves
are in ``engine.checker``; the cache in ``engine.cache``.

Where the legal-source catalogue is found when none is given: a ``legal_bases/`` directory
beside the rules directory (``X/rules`` + ``X/legal_bases``, the layout of an archive, a
release and a privacy officer's working copy), or ``legal_bases/catalogue/`` there, else the
bundled catalogue.
"""
from __future__ import annotations

from pathlib import Path

from engine import cache
from engine.errors import RulesetError
from engine.ruleset import Ruleset
from legal_bases.catalogue import DEFAULT_DIR as DEFAULT_SOURCES_DIR
from legal_bases.catalogue import catalogue_files
from legal_bases.textfile import Problem

DEFAULT_RULES_DIR = Path(__file__).resolve().parent.parent / "rules"

__all__ = ["DEFAULT_RULES_DIR", "RulesetError", "discover_sources", "load_ruleset", "rule_files"]


def rule_files(rules_dir: Path) -> list[Path]:
    return sorted(p for p in Path(rules_dir).glob("*.yaml") if p.is_file())


def discover_sources(rules_dir: Path) -> Path:
    """The catalogue that belongs with ``rules_dir`` (see the module doc)."""
    rules_dir = Path(rules_dir)
    if rules_dir.resolve() == DEFAULT_RULES_DIR.resolve():
        return DEFAULT_SOURCES_DIR
    for candidate in (rules_dir.parent / "legal_bases", rules_dir.parent / "legal_bases" / "catalogue",
                      rules_dir / "legal_bases"):
        if candidate.is_dir() and catalogue_files(candidate):
            return candidate
    return DEFAULT_SOURCES_DIR


def load_ruleset(rules_dir: Path | None = None, sources_dir: Path | None = None, *, use_cache: bool = True) -> Ruleset:
    rules = Path(rules_dir) if rules_dir is not None else DEFAULT_RULES_DIR
    if not rules.is_dir():
        raise RulesetError([Problem(str(rules), 1, 1, "rule-set directory not found; give an existing directory")])
    sources = Path(sources_dir) if sources_dir is not None else discover_sources(rules)
    if not sources.is_dir():
        raise RulesetError([Problem(str(sources), 1, 1, "legal-source catalogue directory not found")])
    key = None
    if use_cache and cache.enabled():
        try:
            files = [("rules", p) for p in rule_files(rules)] + [("sources", p) for p in catalogue_files(sources)]
            key = cache.key_for(files)
        except OSError:
            key = None
        if key is not None:
            hit = cache.load(key)
            if isinstance(hit, Ruleset):
                return hit
    from engine.checker import Checker  # only on a cache miss: the checker is most of the start-up cost
    rs = Checker(rules, sources).run()
    if key is not None:
        from engine.compiler import program_for
        program_for(rs)  # compile once now, so the cached rule set carries its durable program
        cache.store(key, rs)
    return rs
