"""User settings and the data directory of the terminal interview (no Textual import).

Data home: ``$DEELWIJZER_HOME``, else ``$XDG_DATA_HOME/deelwijzer``, else
``~/.local/share/deelwijzer``. Settings live in ``<home>/settings.json``.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from tui.lang import DEFAULT_LANGUAGE, LANGUAGES

THEMES: tuple[str, ...] = ("textual-dark", "textual-light", "ansi-dark", "ansi-light")
DEFAULT_THEME = "textual-dark"
KEY_FILE = "private-key.ossh"
LEGACY_KEY_FILE = "private-key.p12"  # made by earlier versions; still loads (keys reencrypt converts it)


def data_home(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if env.get("DEELWIJZER_HOME"):
        return Path(env["DEELWIJZER_HOME"]).expanduser()
    if env.get("XDG_DATA_HOME"):
        return Path(env["XDG_DATA_HOME"]).expanduser() / "deelwijzer"
    return Path("~/.local/share/deelwijzer").expanduser()


def atomic_write_text(path: Path, text: str, *, mode: int | None = None) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically (see :func:`atomic_write_bytes`)."""
    atomic_write_bytes(path, text.encode("utf-8"), mode=mode)


def atomic_write_bytes(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` so that a crash leaves either the old or the new file.

    The data goes to a temporary file in the same directory, is flushed and
    fsynced, then renamed over the target; the directory is fsynced after.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    fd = os.open(tmp, flags, 0o600 if mode is None else mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink()
        except FileNotFoundError:
            pass
        raise
    try:
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


@dataclass
class Settings:
    """The user's settings. Keys this version does not know (e.g. a store URL or a release
    directory written by a later version) are kept in ``extra`` and written back unchanged."""

    name: str = ""
    organisation: str = ""
    language: str = DEFAULT_LANGUAGE
    key_path: str = ""
    theme: str = DEFAULT_THEME
    extra: dict[str, object] = field(default_factory=dict, compare=False)

    @classmethod
    def path(cls, home: Path) -> Path:
        return home / "settings.json"

    @classmethod
    def load(cls, home: Path) -> Settings:
        """Read settings; a missing or unreadable file gives the defaults."""
        settings = cls()
        try:
            raw = json.loads(cls.path(home).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raw = {}
        if isinstance(raw, dict):
            known = {f.name for f in fields(cls)} - {"extra"}
            for name in known:
                value = raw.get(name)
                if isinstance(value, str):
                    setattr(settings, name, value)
            settings.extra = {k: v for k, v in raw.items() if k not in known and k != "extra"}
        if settings.language not in LANGUAGES:
            settings.language = DEFAULT_LANGUAGE
        if settings.theme not in THEMES:
            settings.theme = DEFAULT_THEME
        return settings

    def exists(self, home: Path) -> bool:
        return self.path(home).exists()

    def save(self, home: Path) -> None:
        data = {**self.extra, **{k: v for k, v in asdict(self).items() if k != "extra"}}
        atomic_write_text(self.path(home), json.dumps(data, indent=2, ensure_ascii=False) + "\n")

    def key_file(self, home: Path) -> Path:
        """The private signing key: the configured path, else ``<home>/keys/private-key.ossh`` (or an
        earlier version's ``private-key.p12`` when only that exists)."""
        if self.key_path:
            return Path(self.key_path).expanduser()
        current, legacy = home / "keys" / KEY_FILE, home / "keys" / LEGACY_KEY_FILE
        return legacy if not current.exists() and legacy.exists() else current


def audit_log_path(home: Path) -> Path:
    return home / "audit" / "log.jsonl"


def trusted_keys_path(home: Path) -> Path:
    return home / "trusted-keys.json"
