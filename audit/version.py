"""The application version written into every record."""
from __future__ import annotations

import functools
import re
from pathlib import Path


@functools.lru_cache(maxsize=1)
def app_version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version
        try:
            return version("deelwijzer")
        except PackageNotFoundError:
            pass
    except ImportError:  # pragma: no cover
        pass
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    try:
        import tomllib
        v = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"]
        if isinstance(v, str) and re.fullmatch(r"[0-9A-Za-z][0-9A-Za-z.+_\-]{0,49}", v):
            return v
    except (OSError, KeyError, ValueError):
        pass
    return "0+unknown"
