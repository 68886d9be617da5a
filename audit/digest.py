"""SHA-256 through ``cryptography`` (the only crypto library the project uses)."""
from __future__ import annotations

from cryptography.hazmat.primitives import hashes

_SHA256 = hashes.SHA256()


def sha256(data: bytes) -> bytes:
    h = hashes.Hash(_SHA256)
    h.update(data)
    return h.finalize()
