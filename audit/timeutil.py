"""Timestamps: one fixed-width UTC format, so that string order is time order.

Records, checkpoints and the trusted-keys file all use ``YYYY-MM-DDTHH:MM:SS.mmmZ``.
"""
from __future__ import annotations

import datetime as dt
import re

TS_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$"
_TS_RE = re.compile(TS_PATTERN)


def format_ts(when: dt.datetime) -> str:
    w = when.astimezone(dt.UTC)
    return (f"{w.year:04d}-{w.month:02d}-{w.day:02d}T{w.hour:02d}:{w.minute:02d}:{w.second:02d}."
            f"{w.microsecond // 1000:03d}Z")


def now_ts() -> str:
    return format_ts(dt.datetime.now(dt.UTC))


def parse_ts(ts: str) -> dt.datetime:
    """Parse a timestamp in the fixed format; ValueError otherwise."""
    if not isinstance(ts, str) or not _TS_RE.match(ts):
        raise ValueError(f"timestamp {ts!r} is not in the form YYYY-MM-DDTHH:MM:SS.mmmZ")
    return dt.datetime.fromisoformat(ts[:-1] + "+00:00")


def valid_ts(ts: str) -> str:
    """Schema hook, after the pattern matched: the date and time must exist (no 2026-02-30)."""
    try:
        dt.datetime.fromisoformat(ts[:-1])
    except ValueError:
        raise ValueError(f"timestamp {ts!r} is not a real date and time") from None
    return ts


def parse_user_time(text: str) -> str:
    """Normalise a time given on the command line: a date (``2026-03-01``, meaning 00:00 UTC) or
    a date-time with a zone (``2026-03-01T09:00:00+01:00`` or ``...Z``)."""
    raw = text.strip()
    try:
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", raw):
            when = dt.datetime.fromisoformat(raw).replace(tzinfo=dt.UTC)
        else:
            when = dt.datetime.fromisoformat(raw[:-1] + "+00:00" if raw.endswith(("Z", "z")) else raw)
    except ValueError:
        raise ValueError(f"time {text!r} is not a date (2026-03-01) or a date-time with zone "
                         f"(2026-03-01T09:00:00+01:00 or 2026-03-01T08:00:00Z)") from None
    if when.tzinfo is None:
        raise ValueError(f"time {text!r} has no time zone; add Z (UTC) or an offset such as +01:00")
    return format_ts(when)
