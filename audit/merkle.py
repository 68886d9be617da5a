"""RFC 6962 / RFC 9162 Merkle tree hashing over the log's records.

- leaf hash ``SHA-256(0x00 || payload_bytes)`` -- the same value the next record stores as
  ``prev``, so the hash chain and the tree share their leaves;
- node hash ``SHA-256(0x01 || left || right)``; empty tree ``SHA-256("")``.

``CompactRange`` computes the root of a growing tree in O(log n) memory (a stack of perfect
subtree roots), so the verifier streams. ``inclusion_proof`` streams too: it first works out
which leaf ranges the audit path consists of, then hashes each range in one pass.
"""
from __future__ import annotations

from typing import Iterable

from audit.digest import sha256


def leaf_hash(payload: bytes) -> bytes:
    return sha256(b"\x00" + payload)


def node_hash(left: bytes, right: bytes) -> bytes:
    return sha256(b"\x01" + left + right)


EMPTY_ROOT = sha256(b"")


def _split(n: int) -> int:
    """The largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def mth(leaves: list[bytes]) -> bytes:
    """Reference recursive MTH over leaf hashes (tests and small inputs)."""
    n = len(leaves)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaves[0]
    k = _split(n)
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


class CompactRange:
    """Streaming Merkle root: append leaf hashes, read ``root()`` at any size."""

    __slots__ = ("size", "_stack")

    def __init__(self) -> None:
        self.size = 0
        self._stack: list[bytes] = []  # roots of perfect subtrees, largest first

    def append(self, leaf: bytes) -> None:
        node = leaf
        size = self.size
        stack = self._stack
        while size & 1:
            node = node_hash(stack.pop(), node)
            size >>= 1
        stack.append(node)
        self.size += 1

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        r = self._stack[-1]
        for h in reversed(self._stack[:-1]):
            r = node_hash(h, r)
        return r


def _path_ranges(m: int, lo: int, hi: int) -> list[tuple[int, int]]:
    """Leaf ranges whose MTHs form PATH(m, D[lo:hi]) (RFC 6962 2.1.1), leaf level first."""
    out: list[tuple[int, int]] = []
    while hi - lo > 1:
        k = _split(hi - lo)
        if m < lo + k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo = lo + k
    out.reverse()
    return out


def inclusion_proof(leaves: Iterable[bytes], index: int, size: int) -> list[bytes]:
    """Audit path for leaf ``index`` in the tree of the first ``size`` leaves (streamed once)."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")
    ranges = _path_ranges(index, 0, size)
    ordered = sorted(range(len(ranges)), key=lambda i: ranges[i][0])
    roots: list[bytes | None] = [None] * len(ranges)
    it = iter(ordered)
    cur = next(it, None)
    acc = CompactRange()
    for i, leaf in enumerate(leaves):
        if i >= size or cur is None:
            break
        a, b = ranges[cur]
        if a <= i < b:
            acc.append(leaf)
            if i == b - 1:
                roots[cur] = acc.root()
                acc = CompactRange()
                cur = next(it, None)
    if any(r is None for r in roots):
        raise ValueError(f"the log has fewer than {size} records")
    return roots  # type: ignore[return-value]


def verify_inclusion(leaf: bytes, index: int, size: int, proof: list[bytes], root: bytes) -> bool:
    """RFC 9162 section 2.1.3.2."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root
