"""The serving stack on simulated time: queueing, batching load, prefix caching and latency draws.

:class:`ServingModel` (one per simulator) plans each request when it arrives: it
releases the requests that have finished by then, queues the new one if the model's
batch is full (it starts when the earliest running request ends), takes its prompt's
blocks from the model's KV cache (engine/kvcache.py), and draws its time to first token
and every inter-token gap from the model's latency profile (engine/latency.py) at the
load it starts under.  The result is a :class:`Timeline`, relative to the arrival; the
handler stamps its response (and each stream chunk) with it, and the clock in use decides
whether anybody waits.  Concurrency is modelled the same way on both clocks: requests
whose simulated intervals overlap load each other.
"""

from __future__ import annotations

import itertools
import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from typing import TYPE_CHECKING

from .kvcache import KVCache
from .latency import LatencyProfile, profile_for
from .rng import derive_seed

if TYPE_CHECKING:
    from ..settings import Settings
    from .registry import ModelSpec

__all__ = ["ServingModel", "Timeline"]


@dataclass(slots=True)
class Timeline:
    """When a request's tokens come, in simulated seconds after its arrival."""

    arrival: float = 0.0  # simulated seconds since the simulator started
    queue: float = 0.0  # waiting for a place in the batch
    prefill: float = 0.0  # from leaving the queue to the first token
    gaps: list[float] = field(default_factory=list)  # the gap before each output token after the first
    cached_tokens: int = 0  # prompt tokens found in the KV cache (whole blocks)
    running: int = 1  # requests in the batch when this one started (itself included)
    _due: list[float] | None = None

    @property
    def ttft(self) -> float:
        return self.queue + self.prefill

    @property
    def e2e(self) -> float:
        return self.ttft + sum(self.gaps)

    def due(self, tokens: int) -> float:
        """When the ``tokens``-th output token (1-based) is out; 0 tokens: the first token's moment."""
        if tokens <= 1 or not self.gaps:
            return self.ttft
        if self._due is None:
            self._due = [self.ttft, *accumulate(self.gaps, initial=self.ttft)][1:]
        return self._due[min(tokens, len(self._due)) - 1]


INSTANT = Timeline()


class _Model:
    """One model's batch, queue and KV cache."""

    __slots__ = ("kv", "profile", "requests")

    def __init__(self, profile: LatencyProfile, kv: KVCache | None) -> None:
        self.profile = profile
        self.kv = kv
        # every request not yet finished: (start of service, end, blocks held); start > now: queued
        self.requests: list[tuple[float, float, list[int]]] = []


class ServingModel:
    """Latency, load and KV cache for every model of one simulator."""

    def __init__(self, settings: Settings, seed: int) -> None:
        self.settings = settings
        self._rng = random.Random(derive_seed(seed, "latency"))
        self._models: dict[str, _Model] = {}
        self._order = itertools.count()
        self._lock = threading.Lock()
        by_model = {}
        for item in settings.latency_models:
            model, _, name = item.partition("=")
            by_model[model.strip()] = name.strip()
        self._by_model = by_model

    def _model(self, spec: ModelSpec) -> _Model:
        m = self._models.get(spec.id)
        if m is None:
            s = self.settings
            name = self._by_model.get(spec.id) or self._by_model.get(spec.base_model or "") or s.latency
            profile = profile_for(
                name,
                spec.id,
                spec.provider,
                reasoning=spec.reasoning,
                overrides={
                    "ttft": s.ttft or None,  # 0: the profile's own
                    "itl": s.itl or None,
                    "prefill_per_token": s.prefill_per_token,
                    "jitter": s.latency_jitter,
                    "load_factor": s.load_factor,
                    "max_num_seqs": s.max_num_seqs,
                },
            )
            kv = KVCache(s.kv_block_size, s.kv_blocks) if s.kv_cache else None
            m = self._models[spec.id] = _Model(profile, kv)
        return m

    def profile(self, spec: ModelSpec) -> LatencyProfile:
        return self._model(spec).profile

    def kv_cache(self, spec: ModelSpec) -> KVCache | None:
        return self._model(spec).kv

    @property
    def models(self) -> dict[str, _Model]:
        return dict(self._models)

    def running(self, now: float) -> int:
        """Requests being served (not queued) across all models at simulated moment ``now``."""
        with self._lock:
            return sum(sum(1 for a, b, _ in m.requests if a <= now < b) for m in self._models.values())

    def running_of(self, model_id: str, now: float) -> int:
        """Requests of one model in its batch (decoding or prefilling) at ``now``."""
        m = self._models.get(model_id)
        if m is None:
            return 0
        with self._lock:
            return sum(1 for a, b, _ in m.requests if a <= now < b)

    def waiting_of(self, model_id: str, now: float) -> int:
        """Requests of one model queued at ``now`` (arrived, not yet in the batch)."""
        m = self._models.get(model_id)
        if m is None:
            return 0
        with self._lock:
            return sum(1 for a, _, _ in m.requests if a > now)

    def plan(
        self,
        spec: ModelSpec,
        *,
        now: float,
        prompt_tokens: int,
        blocks: Sequence[int] = (),
        output_tokens: int = 0,
    ) -> Timeline:
        """Schedule a request arriving at ``now`` (simulated seconds) and draw its timeline."""
        m = self._model(spec)
        profile = m.profile
        with self._lock:
            alive: list[tuple[float, float, list[int]]] = []
            for entry in m.requests:  # forget the finished, giving their blocks back
                if entry[1] <= now:
                    if m.kv is not None:
                        m.kv.release(entry[2])
                else:
                    alive.append(entry)
            m.requests = alive
            start = now
            slots = profile.max_num_seqs
            if len(alive) >= slots:  # the batch is full: a place frees up when enough of them end
                ends = sorted(end for _, end, _ in alive)
                start = max(now, ends[len(alive) - slots])
            cached, held = m.kv.acquire(blocks, prompt_tokens) if m.kv is not None else (0, [])
            running = min(slots, 1 + sum(1 for a, b, _ in alive if a <= start < b))
            if profile.instant:
                timeline = Timeline(now, start - now, 0.0, [], cached, running)
            else:
                lf = profile.lf(running)
                draw, rng = profile.draw, self._rng
                uncached = max(0, prompt_tokens - cached)
                prefill = draw(rng, profile.ttft * lf + uncached * profile.prefill_per_token * lf)
                itl = profile.itl * lf
                gaps = [draw(rng, itl) for _ in range(max(0, output_tokens - 1))] if itl > 0 else []
                timeline = Timeline(now, start - now, prefill, gaps, cached, running)
            alive.append((start, now + timeline.e2e, held))
            return timeline
