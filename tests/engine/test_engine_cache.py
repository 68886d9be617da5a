"""The compiled rule-set cache (engine/cache.py): a hit skips parsing, validation and the
reachability search; any changed byte of any rule or catalogue file, or other engine code, is
a miss; an entry that another user could have planted (wrong owner, writable by others, a
symlink) or that is damaged is ignored -- and never unpickled -- and then rebuilt."""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
from pathlib import Path

import pytest
from engine_helpers import copy_workspace, run_python

from engine import cache, decide, load_ruleset
from engine.checker import Checker
from engine.loader import rule_files
from engine.ruleset import Ruleset
from legal_bases.catalogue import catalogue_files

ANSWERS = {"professional.role": "jeugdhulpverlener", "share.recipient": "colleague_involved", "share.data": ["identity"]}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One rules copy checked for real once: its cache entry and the rule set it holds."""
    root = tmp_path_factory.mktemp("cache-ws")
    rules = copy_workspace(root / "ws")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DEELWIJZER_CACHE_DIR", str(root / "cache"))
        mp.delenv("DEELWIJZER_NO_CACHE", raising=False)
        rs = load_ruleset(rules)
        data = (root / "cache" / f"{key_of(rules)}.pickle").read_bytes()
    return rules, root / "cache", data, pickle.dumps(rs)


@pytest.fixture
def workspace(built, tmp_path, monkeypatch):
    """A private cache directory holding the entry of ``built``'s rules, and a stand-in
    checker that counts its runs (a run = a cache miss) and returns the checked rule set."""
    rules, _, data, checked = built
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir(mode=0o700)
    target = cache_dir / f"{key_of(rules)}.pickle"
    target.write_bytes(data)
    os.chmod(target, 0o600)
    monkeypatch.setenv("DEELWIJZER_CACHE_DIR", str(cache_dir))
    monkeypatch.delenv("DEELWIJZER_NO_CACHE", raising=False)
    runs = []

    def checker_run(self):
        runs.append(self.rules_dir)
        return pickle.loads(checked)

    monkeypatch.setattr(Checker, "run", checker_run)
    return rules, cache_dir, runs


def key_of(rules: Path) -> str:
    sources = rules.parent / "legal_bases" / "catalogue"
    return cache.key_for([("rules", p) for p in rule_files(rules)] + [("sources", p) for p in catalogue_files(sources)])


def entry(cache_dir: Path, rules: Path) -> Path:
    return cache_dir / f"{key_of(rules)}.pickle"


def test_a_hit_skips_parsing_and_gives_the_same_rule_set(workspace, ruleset):
    rules, _, runs = workspace
    hit = load_ruleset(rules)
    assert runs == [], "a cache hit must not check the rules again"
    assert isinstance(hit, Ruleset) and hit.rules_dir == rules
    assert hit.fingerprint == ruleset.fingerprint, "the same content as the bundled rules"
    assert hit.program is not None, "the cached rule set carries its compiled durable program"
    for backend in ("durable", "python"):
        assert decide(hit, ANSWERS, backend=backend).to_json() == decide(ruleset, ANSWERS, backend=backend).to_json()


def test_the_cache_directory_and_entries_are_private(built):
    _, cache_dir, _, _ = built
    assert stat.S_IMODE(os.stat(cache_dir).st_mode) & 0o077 == 0
    entries = list(cache_dir.iterdir())
    assert entries
    for path in entries:
        st = os.stat(path)
        assert st.st_uid == os.getuid() and stat.S_IMODE(st.st_mode) & 0o077 == 0, path
    assert not [p for p in entries if p.name.startswith(".incoming-")], "no temporary files left"


def test_every_changed_byte_of_any_file_is_a_miss(tmp_path):
    """One byte changed in each rule file and each catalogue file gives a different key; so
    does the engine's own code (another program version)."""
    rules = copy_workspace(tmp_path / "ws")
    base = key_of(rules)
    files = rule_files(rules) + catalogue_files(rules.parent / "legal_bases" / "catalogue")
    assert len(files) >= 10
    keys = set()
    for path in files:
        original = path.read_bytes()
        i = len(original) // 2
        path.write_bytes(original[:i] + bytes([original[i] ^ 0x01]) + original[i + 1 :])
        keys.add(key_of(rules))
        path.write_bytes(original)
    assert key_of(rules) == base
    assert base not in keys and len(keys) == len(files)
    extra = rules / "70-extra.yaml"
    extra.write_text("# nothing\n", encoding="utf-8")
    assert key_of(rules) != base, "a new file is a miss too"


def test_an_edit_is_a_miss_and_rebuilds_the_entry(workspace, tmp_path):
    rules, cache_dir, runs = workspace
    mine = copy_workspace(tmp_path / "mine")
    routes = mine / "30-routes.yaml"
    routes.write_text(routes.read_text(encoding="utf-8") + "# reviewed\n", encoding="utf-8")
    load_ruleset(mine)
    assert len(runs) == 1 and entry(cache_dir, mine).is_file()
    load_ruleset(mine)
    assert len(runs) == 1, "the rebuilt entry is a hit"


def test_other_engine_code_is_a_miss(workspace, monkeypatch):
    rules, _, runs = workspace
    monkeypatch.setattr(cache, "_code_digest", "0" * 64)
    load_ruleset(rules)
    assert len(runs) == 1


MARKER = "planted-entry-was-unpickled"


class _Planted:
    """Unpickling this object creates a marker file: proof that an entry was trusted."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, MARKER))


def plant(path: Path, key: str, marker: Path) -> None:
    body = pickle.dumps(_Planted(marker))
    path.write_bytes(cache.MAGIC + key.encode() + b"\n" + hashlib.sha256(body).hexdigest().encode() + b"\n" + body)


def _other_owner(path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("changing a file's owner needs root; the permission cases still run")
    os.chown(path, 4242, 4242)


@pytest.mark.parametrize("how", ["other-owner", "group-writable", "world-writable", "directory-world-writable", "symlink"])
def test_an_entry_another_user_could_have_planted_is_never_unpickled(workspace, how):
    rules, cache_dir, runs = workspace
    path, key = entry(cache_dir, rules), key_of(rules)
    marker = cache_dir.parent / "marker"
    path.unlink()
    if how == "symlink":
        elsewhere = cache_dir.parent / "elsewhere.pickle"
        plant(elsewhere, key, marker)
        path.symlink_to(elsewhere)
    else:
        plant(path, key, marker)
        os.chmod(path, 0o600)
    if how == "other-owner":
        _other_owner(path)
    elif how == "group-writable":
        os.chmod(path, 0o620)
    elif how == "world-writable":
        os.chmod(path, 0o602)
    elif how == "directory-world-writable":
        os.chmod(cache_dir, 0o777)
    rs = load_ruleset(rules)
    assert isinstance(rs, Ruleset) and not marker.exists(), "the planted entry was unpickled"
    assert len(runs) == 1, "the planted entry was not used: the rules were checked again"


def test_a_well_formed_entry_of_the_owner_is_trusted(workspace):
    """The control for the planted entries: the same file, private and ours, is unpickled."""
    rules, cache_dir, _ = workspace
    path = entry(cache_dir, rules)
    marker = cache_dir.parent / "marker"
    plant(path, key_of(rules), marker)
    os.chmod(path, 0o600)
    assert not isinstance(cache.load(key_of(rules)), Ruleset)  # Path.write_text returns a count ...
    assert marker.read_text() == MARKER  # ... but it was unpickled: the owner and mode checks are what protect
    assert isinstance(load_ruleset(rules), Ruleset)  # a non-Ruleset entry is a miss, and rebuilt


@pytest.mark.parametrize(
    "damage",
    ["truncated", "flipped-byte", "wrong-key-in-header", "garbage-with-right-hash", "empty", "not-a-ruleset", "directory"],
)
def test_a_damaged_entry_is_ignored_and_rebuilt(workspace, damage):
    rules, cache_dir, runs = workspace
    path, key = entry(cache_dir, rules), key_of(rules)
    data = path.read_bytes()
    header = len(cache.MAGIC) + 64 + 1 + 64 + 1
    if damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "flipped-byte":
        path.write_bytes(data[:-10] + bytes([data[-10] ^ 0xFF]) + data[-9:])
    elif damage == "wrong-key-in-header":
        path.write_bytes(cache.MAGIC + b"0" * 64 + data[len(cache.MAGIC) + 64 :])
    elif damage == "garbage-with-right-hash":
        body = b"\x80\x05garbage that is not a pickle"
        path.write_bytes(cache.MAGIC + key.encode() + b"\n" + hashlib.sha256(body).hexdigest().encode() + b"\n" + body)
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "not-a-ruleset":
        body = pickle.dumps({"not": "a rule set"})
        path.write_bytes(data[: header - 65] + hashlib.sha256(body).hexdigest().encode() + b"\n" + body)
    elif damage == "directory":
        path.unlink()
        path.mkdir()
    assert isinstance(load_ruleset(rules), Ruleset)
    assert len(runs) == 1, "the damaged entry was not used"
    if damage != "directory":
        load_ruleset(rules)
        assert len(runs) == 1, "the entry was rebuilt, so the next load is a hit"


def test_no_cache_when_disabled(workspace, monkeypatch):
    rules, cache_dir, runs = workspace
    monkeypatch.setenv("DEELWIJZER_NO_CACHE", "1")
    before = sorted(cache_dir.iterdir())
    load_ruleset(rules)
    assert len(runs) == 1, "the entry is not read"
    entry(cache_dir, rules).unlink()
    load_ruleset(rules)
    assert len(runs) == 2 and sorted(cache_dir.iterdir()) == before[:-1], "nor written"


def test_an_unwritable_cache_directory_is_not_an_error(workspace, monkeypatch, tmp_path):
    rules, _, runs = workspace
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("DEELWIJZER_CACHE_DIR", str(blocker / "cache"))
    assert load_ruleset(rules).fingerprint
    assert len(runs) == 1


def test_decide_on_a_hit_does_not_import_the_checker(tmp_path):
    """A hit in a fresh process: the checker, the schema (pydantic) and the YAML parser of the
    rule files are not even imported."""
    script = (
        "import sys\n"
        "from engine import decide, load_ruleset\n"
        "rs = load_ruleset()\n"
        "decide(rs, {'professional.role': 'jeugdhulpverlener', 'share.recipient': 'colleague_involved', 'share.data': []})\n"
        "heavy = ('engine.checker', 'legal_bases.schema', 'pydantic', 'engine.reachability')\n"
        "print(' '.join(m for m in heavy if m in sys.modules))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEELWIJZER_")}
    env["DEELWIJZER_CACHE_DIR"] = str(tmp_path / "cache")
    cold = run_python(script, env=env)
    assert cold.returncode == 0, cold.stderr
    assert "engine.checker" in cold.stdout.split(), "the first load is a miss"
    warm = run_python(script, env=env)
    assert warm.returncode == 0, warm.stderr
    assert warm.stdout.split() == [], f"imported on a cache hit: {warm.stdout}"
