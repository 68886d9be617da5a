"""Telling a store URL from a file path, and showing a URL without its password.

No database driver is imported here: the CLI asks ``is_store_url`` before it knows whether it
needs one.
"""
from __future__ import annotations

import re

URL_PREFIXES = ("postgresql://", "postgres://")

_PASSWORD_IN_URL = re.compile(r"(?P<pre>(?:postgres|postgresql)://[^:/@?#]*):[^@/?#]*@")
_PASSWORD_PARAM = re.compile(r"(?P<pre>[?&]password=)[^&#]*", re.IGNORECASE)


def is_store_url(text: object) -> bool:
    """True when ``text`` names a store (a ``postgresql://`` or ``postgres://`` URL), not a file."""
    return isinstance(text, str) and text.startswith(URL_PREFIXES)


def redact(url: str) -> str:
    """The URL without its password, for messages and reports."""
    url = _PASSWORD_IN_URL.sub(lambda m: m.group("pre") + ":***@", url)
    return _PASSWORD_PARAM.sub(lambda m: m.group("pre") + "***", url)
