"""A block-based prefix cache per model (llm-d-inference-sim's and vLLM's, see ../shared/FIDELITY.md).

A prompt's tokens are cut into blocks of ``block_size``; each full block is named by a
hash chained over its parent's hash and its own tokens, so a block only matches when the
whole prefix before it matches too.  A request reuses the blocks the cache holds for the
longest matching prefix (its *cached tokens*), then adds its own.  Blocks in use by a
running request are referenced; when the cache is full the least recently used
unreferenced block is evicted (if every block is in use, a new block is simply not kept).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["KVCache", "block_hashes"]


def block_hashes(tokens: Sequence[int], block_size: int) -> list[int]:
    """The chained hashes of the full blocks of ``tokens``."""
    out: list[int] = []
    parent = 0
    for start in range(0, len(tokens) - block_size + 1, block_size):
        parent = hash((parent, tuple(tokens[start : start + block_size])))
        out.append(parent)
    return out


@dataclass(slots=True)
class _Stats:
    queries: int = 0  # prompt tokens looked up
    hits: int = 0  # of which found in the cache
    evictions: int = 0


class KVCache:
    """The prefix cache of one model: ``capacity`` blocks of ``block_size`` tokens."""

    def __init__(self, block_size: int = 16, capacity: int = 4096) -> None:
        self.block_size = block_size
        self.capacity = capacity
        self._blocks: OrderedDict[int, int] = OrderedDict()  # hash -> references, least recently used first
        self._lock = threading.Lock()
        self.stats = _Stats()

    def __len__(self) -> int:
        return len(self._blocks)

    @property
    def usage(self) -> float:
        """Fraction of the capacity holding blocks (vLLM's ``kv_cache_usage_perc``, as a ratio)."""
        return len(self._blocks) / self.capacity if self.capacity else 0.0

    @property
    def referenced(self) -> int:
        return sum(1 for refs in self._blocks.values() if refs > 0)

    def acquire(self, hashes: Sequence[int], prompt_tokens: int) -> tuple[int, list[int]]:
        """Look ``hashes`` up, keep them (referenced), and return (cached tokens, the blocks now held)."""
        with self._lock:
            matched = 0
            for h in hashes:
                if h not in self._blocks:
                    break
                matched += 1
            held: list[int] = []
            for i, h in enumerate(hashes):
                if i < matched:
                    self._blocks[h] += 1
                    self._blocks.move_to_end(h)
                    held.append(h)
                elif self._make_room():
                    self._blocks[h] = 1
                    held.append(h)
                else:
                    break  # every block is in use: this prefix is computed but not kept
            cached = min(matched * self.block_size, max(0, prompt_tokens - 1))
            self.stats.queries += prompt_tokens
            self.stats.hits += cached
            return cached, held

    def release(self, held: Sequence[int]) -> None:
        """A request finished: its blocks stay cached but may be evicted."""
        with self._lock:
            for h in held:
                refs = self._blocks.get(h)
                if refs:
                    self._blocks[h] = refs - 1

    def _make_room(self) -> bool:
        if len(self._blocks) < self.capacity:
            return True
        for h, refs in self._blocks.items():  # least recently used first
            if refs == 0:
                del self._blocks[h]
                self.stats.evictions += 1
                return True
        return False

    def clear(self) -> None:
        with self._lock:
            self._blocks.clear()
