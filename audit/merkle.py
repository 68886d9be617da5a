"""RFC 6962 / RFC 9162 Merkle tree hashing over the log's records: roots, inclusion and
consistency proofs.

- leaf hash ``SHA-256(0x00 || payload_bytes)`` -- the same value the next record stores as
  ``prev``, so the hash chain and the tree share their leaves;
- node hash ``SHA-256(0x01 || left || right)``; empty tree ``SHA-256("")``.

``CompactRange`` computes the root of a growing tree in O(log n) memory (a stack of perfect
subtree roots), so the verifier streams. The proofs stream too: each proof is a list of MTHs
of leaf ranges, which are worked out first and then hashed in one pass over the leaves.
"""
from __future__ import annotations

from collections.abc import Iterable

from cryptography.hazmat.primitives import hashes

from audit.digest import sha256

_LEAF = hashes.Hash(hashes.SHA256())
_LEAF.update(b"\x00")
_NODE = hashes.Hash(hashes.SHA256())
_NODE.update(b"\x01")


def leaf_hash(payload: bytes) -> bytes:
    """SHA-256(0x00 || payload), from a context that has already absorbed the prefix."""
    h = _LEAF.copy()
    h.update(payload)
    return h.finalize()


def node_hash(left: bytes, right: bytes) -> bytes:
    h = _NODE.copy()
    h.update(left)
    h.update(right)
    return h.finalize()


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


def _range_roots(leaves: Iterable[bytes], ranges: list[tuple[int, int]], size: int) -> list[bytes]:
    """MTH of each (disjoint) leaf range, in the order given, from one pass over ``leaves``."""
    order = sorted(range(len(ranges)), key=lambda i: ranges[i][0])
    roots: list[bytes | None] = [None] * len(ranges)
    it = iter(order)
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
    out = [r for r in roots if r is not None]
    if len(out) != len(roots):
        raise ValueError(f"the log has fewer than {size} records")
    return out


def inclusion_proof(leaves: Iterable[bytes], index: int, size: int) -> list[bytes]:
    """Audit path for leaf ``index`` in the tree of the first ``size`` leaves (streamed once)."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")
    return _range_roots(leaves, _path_ranges(index, 0, size), size)


def _subproof_ranges(m: int, lo: int, hi: int, complete: bool) -> list[tuple[int, int]]:
    """Leaf ranges whose MTHs form SUBPROOF(m, D[lo:hi], complete) (RFC 9162 2.1.4.1)."""
    n = hi - lo
    if m == n:
        return [] if complete else [(lo, hi)]
    k = _split(n)
    if m <= k:
        return _subproof_ranges(m, lo, lo + k, complete) + [(lo + k, hi)]
    return _subproof_ranges(m - k, lo + k, hi, False) + [(lo, lo + k)]


def consistency_proof(leaves: Iterable[bytes], old_size: int, new_size: int) -> list[bytes]:
    """PROOF(m, D[n]) (RFC 9162 2.1.4.1): that the tree of the first ``old_size`` leaves is a
    prefix of the tree of the first ``new_size`` (streamed once). Empty when the sizes are equal
    or the old tree is empty."""
    if not 0 <= old_size <= new_size:
        raise ValueError(f"cannot prove consistency from size {old_size} to size {new_size}")
    if old_size in (0, new_size):
        return []
    return _range_roots(leaves, _subproof_ranges(old_size, 0, new_size, True), new_size)


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: list[bytes]) -> bool:
    """RFC 9162 section 2.1.4.2, literally; plus the trivial cases (equal sizes: no proof, equal
    roots; an empty old tree: no proof, the empty root)."""
    if not 0 <= old_size <= new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # an exact power of 2
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0


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
