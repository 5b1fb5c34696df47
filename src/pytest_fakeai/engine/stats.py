"""What the simulator served, accumulated: the one source of ``fakeai.metrics`` and of the Prometheus text.

Every exchange becomes one :class:`Exchange`; :class:`ServingStats` adds it to counters
and histograms whose buckets are exactly vLLM's (../shared/FIDELITY.md), so the assertion
API and the exposition agree by construction.  Histograms also keep a bounded, seeded
reservoir of raw values for percentiles.  Pure data: no HTTP, no prometheus-client.
"""

from __future__ import annotations

import bisect
import math
import random
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

__all__ = [
    "E2E_BUCKETS",
    "ITL_BUCKETS",
    "TTFT_BUCKETS",
    "Exchange",
    "Histogram",
    "ModelStats",
    "ServingStats",
    "token_buckets",
]

TTFT_BUCKETS = (
    0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0,
    160.0, 640.0, 2560.0,
)  # fmt: skip
ITL_BUCKETS = (
    0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0,
)  # fmt: skip
E2E_BUCKETS = (
    0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0,
    1920.0, 7680.0,
)  # fmt: skip


def token_buckets(max_len: int) -> tuple[float, ...]:
    """vLLM's ``build_1_2_5_buckets(max_model_len)``: 1, 2, 5, 10, 20, 50, ... up to ``max_len``."""
    out: list[float] = []
    exponent = 0
    while True:
        for mantissa in (1, 2, 5):
            value = mantissa * 10**exponent
            if value > max_len:
                return tuple(out)
            out.append(float(value))
        exponent += 1


class Histogram:
    """Cumulative-ready bucket counts, sum and count, plus a reservoir of raw values for percentiles."""

    __slots__ = ("_rng", "buckets", "count", "counts", "reservoir", "size", "sum")

    def __init__(self, buckets: Sequence[float], *, size: int = 20_000, seed: int = 0) -> None:
        self.buckets = tuple(buckets)
        self.counts = [0] * (len(self.buckets) + 1)  # the last one: +Inf
        self.sum = 0.0
        self.count = 0
        self.size = size
        self.reservoir: list[float] = []
        self._rng = random.Random(seed)

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.buckets, value)] += 1
        self.sum += value
        self.count += 1
        if len(self.reservoir) < self.size:
            self.reservoir.append(value)
        else:  # reservoir sampling: every value kept with the same chance
            j = self._rng.randrange(self.count)
            if j < self.size:
                self.reservoir[j] = value

    def observe_many(self, values: Iterable[float]) -> None:
        for v in values:
            self.observe(v)

    def cumulative(self) -> list[tuple[float, int]]:
        """(upper bound, count of values <= it) per bucket, ending with (inf, count)."""
        out, running = [], 0
        for bound, n in zip((*self.buckets, math.inf), self.counts, strict=True):
            running += n
            out.append((bound, running))
        return out

    def merged(self, other: Histogram) -> None:
        for i, n in enumerate(other.counts):
            self.counts[i] += n
        self.sum += other.sum
        self.count += other.count
        self.reservoir.extend(other.reservoir[: max(0, self.size - len(self.reservoir))])


@dataclass(slots=True)
class Exchange:
    """One exchange, as the metrics see it."""

    endpoint: str  # the path, e.g. /v1/chat/completions
    model: str  # the model asked for ("" when none)
    status: int  # 0: no HTTP response (timeout, dropped connection)
    streamed: bool = False
    error_type: str = ""  # the error body's type ("" on success), or the fault kind when there was no body
    fault: str | None = None  # the fault injected, if any
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0  # prompt tokens served from the KV cache (engine-level, whole blocks)
    finished_reason: str = ""  # stop | length | abort ("" for non-generation endpoints)
    queue: float = 0.0
    ttft: float = 0.0
    gaps: Sequence[float] = ()
    e2e: float = 0.0
    timed: bool = False  # a generation with a timeline (TTFT/ITL apply)
    cost: float = 0.0  # USD at list price


@dataclass(slots=True)
class ModelStats:
    """Per-model accumulators (vLLM's families are per model)."""

    max_len: int
    seed: int
    prompt_tokens: int = 0
    generation_tokens: int = 0
    prefix_queries: int = 0
    prefix_hits: int = 0
    success: Counter[str] = field(default_factory=Counter)  # finished_reason -> requests
    cost: float = 0.0
    ttft: Histogram = field(init=False)
    itl: Histogram = field(init=False)
    e2e: Histogram = field(init=False)
    queue: Histogram = field(init=False)
    prefill: Histogram = field(init=False)
    decode: Histogram = field(init=False)
    prompt_hist: Histogram = field(init=False)
    generation_hist: Histogram = field(init=False)
    cached_hist: Histogram = field(init=False)

    def __post_init__(self) -> None:
        s = self.seed
        self.ttft = Histogram(TTFT_BUCKETS, seed=s + 1)
        self.itl = Histogram(ITL_BUCKETS, seed=s + 2)
        self.e2e = Histogram(E2E_BUCKETS, seed=s + 3)
        self.queue = Histogram(E2E_BUCKETS, seed=s + 4)
        self.prefill = Histogram(E2E_BUCKETS, seed=s + 5)
        self.decode = Histogram(E2E_BUCKETS, seed=s + 6)
        tokens = token_buckets(max(self.max_len, 1))
        self.prompt_hist = Histogram(tokens, seed=s + 7)
        self.generation_hist = Histogram(tokens, seed=s + 8)
        self.cached_hist = Histogram(tokens, seed=s + 9)


class ServingStats:
    """Everything counted, thread-safe; read by ``fakeai.metrics`` and the Prometheus collectors."""

    def __init__(self, seed: int = 0) -> None:
        self._seed = seed
        self.lock = threading.Lock()
        # (endpoint, model, status, error_type, streamed) -> requests
        self.requests: Counter[tuple[str, str, int, str, bool]] = Counter()
        self.faults: Counter[str] = Counter()
        self.models: dict[str, ModelStats] = {}
        self.disconnected = 0  # streams the client stopped reading early

    def model(self, name: str, max_len: int = 131_072) -> ModelStats:
        stats = self.models.get(name)
        if stats is None:
            stats = self.models[name] = ModelStats(max_len, self._seed + 16 * len(self.models))
        return stats

    def observe(self, ex: Exchange, *, max_len: int = 131_072) -> None:
        with self.lock:
            self.requests[(ex.endpoint, ex.model, ex.status, ex.error_type, ex.streamed)] += 1
            if ex.fault:
                self.faults[ex.fault] += 1
            if not ex.timed or not ex.model:
                return
            m = self.model(ex.model, max_len)
            m.prompt_tokens += ex.prompt_tokens
            m.generation_tokens += ex.completion_tokens
            m.prefix_queries += ex.prompt_tokens
            m.prefix_hits += ex.cached_tokens
            m.cost += ex.cost
            if ex.finished_reason:
                m.success[ex.finished_reason] += 1
            m.ttft.observe(ex.ttft)
            m.itl.observe_many(ex.gaps)
            m.e2e.observe(ex.e2e)
            m.queue.observe(ex.queue)
            m.prefill.observe(max(0.0, ex.ttft - ex.queue))
            m.decode.observe(max(0.0, ex.e2e - ex.ttft))
            m.prompt_hist.observe(ex.prompt_tokens)
            m.generation_hist.observe(ex.completion_tokens)
            m.cached_hist.observe(ex.cached_tokens)

    def note_disconnect(self) -> None:
        with self.lock:
            self.disconnected += 1
