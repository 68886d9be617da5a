"""Durable, careful file creation shared by the key store, the log and the trusted-keys file.

One place for the rules: new files are created with ``O_EXCL`` (never through a symlink or
over an existing file), written in full, fsynced, and their directory entry fsynced too.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def fsync_dir(path: Path) -> None:
    """Make a new directory entry durable (a file's own fsync does not cover its name)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def write_new(path: Path, data: bytes, mode: int) -> None:
    """Create ``path`` (never overwrite, never through a symlink: FileExistsError), write all of
    ``data`` with exactly ``mode``, fsync."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
    try:
        os.fchmod(fd, mode)
        _write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_atomically(path: Path, data: bytes, mode: int) -> None:
    """Replace (or create) ``path`` so that a crash leaves the old or the new content: a new
    temporary file with an unpredictable name (``O_EXCL``), fsync, rename, fsync directory."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    try:
        write_new(tmp, data, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
