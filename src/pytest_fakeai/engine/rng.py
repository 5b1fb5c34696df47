"""Seed derivation: every random draw comes from a seed derived here, never from global state."""

from __future__ import annotations

import hashlib
import random
import zlib

__all__ = ["derive_seed", "mix", "node_seed", "rng_for"]


def derive_seed(*parts: object) -> int:
    """A 64-bit seed from any parts, stable across processes and machines.

    Uses blake2b of the parts' ``repr``, so it never depends on ``PYTHONHASHSEED``
    (parts are ints, strings, bytes and containers of them).
    """
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


_MASK = (1 << 64) - 1


def mix(seed: int, index: int) -> int:
    """A sub-seed for the ``index``-th stream of ``seed``, without hashing (splitmix64's step)."""
    z = (seed + (index + 1) * 0x9E3779B97F4A7C15) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def rng_for(*parts: object) -> random.Random:
    return random.Random(derive_seed(*parts))


def node_seed(base: int, nodeid: str) -> int:
    """The per-test seed: ``base + crc32(nodeid)``, as pytest-randomly does."""
    return base + zlib.crc32(nodeid.encode())
