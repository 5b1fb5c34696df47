"""Seed derivation: every random draw comes from a seed derived here, never from global state."""

from __future__ import annotations

import hashlib
import random
import zlib

__all__ = ["derive_seed", "node_seed", "rng_for"]


def derive_seed(*parts: object) -> int:
    """A 64-bit seed from any parts, stable across processes and machines.

    Uses blake2b of the parts' ``repr`` joined, so it never depends on
    ``PYTHONHASHSEED``.
    """
    h = hashlib.blake2b(digest_size=8)
    for part in parts:
        h.update(part if isinstance(part, bytes) else repr(part).encode())
        h.update(b"\x1f")
    return int.from_bytes(h.digest(), "big")


def rng_for(*parts: object) -> random.Random:
    return random.Random(derive_seed(*parts))


def node_seed(base: int, nodeid: str) -> int:
    """The per-test seed: ``base + crc32(nodeid)``, as pytest-randomly does."""
    return base + zlib.crc32(nodeid.encode())
