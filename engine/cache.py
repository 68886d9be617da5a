"""A compiled rule-set cache, so that `decide` and the interview start without re-checking.

The key is a SHA-256 over the cache format, the Python version, the bytes of the engine's
own source (which name the program version, and mean a development checkout never reuses
an entry built by older code), the resolved rule and catalogue directories and the exact bytes of every file
in them; a hit
therefore skips parsing, validation and the reachability search, and any edit to any file
(or a new program version) is a miss. Entries live in ``$DEELWIJZER_CACHE_DIR``, else
``$XDG_CACHE_HOME/deelwijzer/rulesets``, else ``~/.cache/deelwijzer/rulesets``, written
atomically (temporary file, rename). An entry is used only when

* the directory and the file belong to the current user and are not writable by others
  (a cache entry is a pickle: nobody else may be able to plant one),
* its header repeats the key it is stored under and the SHA-256 of its body matches.

Anything else is a miss (the entry is rebuilt). The cache can always be deleted.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import stat
import sys
import tempfile
from pathlib import Path
from typing import Any

FORMAT = b"deelwijzer-ruleset-cache-v1"
MAGIC = b"DWRC1\n"


def cache_dir() -> Path:
    if os.environ.get("DEELWIJZER_CACHE_DIR"):
        return Path(os.environ["DEELWIJZER_CACHE_DIR"]).expanduser()
    base = Path(os.environ["XDG_CACHE_HOME"]).expanduser() if os.environ.get("XDG_CACHE_HOME") else Path.home() / ".cache"
    return base / "deelwijzer" / "rulesets"


def enabled() -> bool:
    return os.environ.get("DEELWIJZER_NO_CACHE", "") in ("", "0")


_CODE_DIRS = (Path(__file__).resolve().parent, Path(__file__).resolve().parent.parent / "legal_bases")
_code_digest: str | None = None


def _code() -> str:
    """A digest of the engine's and the catalogue loader's source files: it changes with every
    program version (and with every edit in a development checkout)."""
    global _code_digest
    if _code_digest is None:
        h = hashlib.sha256()
        for directory in _CODE_DIRS:
            for path in sorted(directory.glob("*.py")):
                h.update(path.name.encode() + b"\0" + path.read_bytes())
        _code_digest = h.hexdigest()
    return _code_digest


def key_for(files: list[tuple[str, Path]]) -> str:
    """``files``: (label, path) pairs, e.g. ("rules", path). Reads every file once."""
    h = hashlib.sha256()
    h.update(FORMAT + b"\0" + _code().encode() + b"\0" + sys.version.encode() + b"\0")
    for label, path in files:
        data = path.read_bytes()
        h.update(f"{label}\0{path.resolve()}\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest()


def _safe(st: os.stat_result, directory: bool) -> bool:
    if directory and not stat.S_ISDIR(st.st_mode):
        return False
    if not directory and not stat.S_ISREG(st.st_mode):
        return False
    return st.st_uid == os.getuid() and not st.st_mode & 0o022


def load(key: str) -> Any | None:
    directory = cache_dir()
    path = directory / f"{key}.pickle"
    try:
        if not _safe(os.stat(directory), True):
            return None
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        if not _safe(os.fstat(fd), False):
            return None
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read()
    except OSError:
        return None
    finally:
        os.close(fd)
    header_len = len(MAGIC) + 64 + 1 + 64 + 1
    header, body = data[:header_len], data[header_len:]
    expected = MAGIC + key.encode() + b"\n" + hashlib.sha256(body).hexdigest().encode() + b"\n"
    if header != expected:
        return None
    try:
        return pickle.loads(body)
    except Exception:
        return None


def store(key: str, value: Any) -> None:
    """Write the entry atomically; failures are ignored (the cache is an optimisation)."""
    directory = cache_dir()
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _safe(os.stat(directory), True):
            return
        body = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        header = MAGIC + key.encode() + b"\n" + hashlib.sha256(body).hexdigest().encode() + b"\n"
        fd, tmp = tempfile.mkstemp(prefix=".incoming-", dir=directory)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(header + body)
            os.replace(tmp, directory / f"{key}.pickle")
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except (OSError, pickle.PicklingError, RecursionError):
        return
