"""``fakeai.metrics``: what the simulator served, for assertions.

Read from engine/stats.py, the same accumulators the Prometheus text is made from, so
the numbers agree with ``/metrics/prometheus``.  Counts cover every exchange, not only
the ones ``fakeai.calls`` keeps.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..engine.stats import Exchange, Histogram, ServingStats
from .types import ApiRequest, ApiResponse

if TYPE_CHECKING:
    from ..engine.core import Engine
    from .faults import Gate

__all__ = ["Distribution", "Metrics", "Snapshot", "Tokens", "exchange_of", "model_label"]

# The request's model without parsing the body: the first JSON string value of a "model" key.
# (A "model" inside a string is escaped as \"model\" and cannot match.)
_MODEL = re.compile(rb'"model"\s*:\s*"((?:[^"\\]|\\.){1,256})"')


def model_label(request: ApiRequest) -> str:
    """The model a request names ("" when none), for metric labels."""
    if not request.body:
        return ""
    m = _MODEL.search(request.body)
    return m.group(1).decode("utf-8", "replace") if m else ""


def _endpoint(path: str) -> str:
    if not path.startswith("/"):
        path = "/v1/" + path.replace(".", "/")
    return path.rstrip("/") or "/"


def exchange_of(engine: Engine, request: ApiRequest, response: ApiResponse, fault: str | None) -> Exchange:
    """The metrics' view of one exchange."""
    status = response.status
    model = response.model or model_label(request)
    ex = Exchange(_endpoint(request.path), model, status, response.stream is not None, fault=fault)
    if status >= 400:
        body = response.json
        error = body.get("error") if isinstance(body, dict) else None
        ex.error_type = str(error.get("type") or "") if isinstance(error, dict) else "error"
        return ex
    if status == 0:
        ex.error_type = fault or "no_response"
        return ex
    timeline = response.timeline
    usage = response.usage
    if timeline is None or usage is None:
        return ex
    ex.timed = True
    ex.prompt_tokens = int(usage.get("prompt_tokens") or usage.get("input_tokens") or 0)
    ex.completion_tokens = int(usage.get("completion_tokens") or usage.get("output_tokens") or 0)
    ex.cached_tokens = timeline.cached_tokens
    ex.finished_reason = "length" if response.finish_reason == "length" else "stop"
    ex.queue, ex.ttft, ex.gaps, ex.e2e = timeline.queue, timeline.ttft, timeline.gaps, timeline.e2e
    spec = engine.registry.get(model) if model else None
    if spec is not None:
        ex.cost = spec.cost(ex.prompt_tokens, ex.completion_tokens, ex.cached_tokens)
    return ex


@dataclass(frozen=True, slots=True)
class Distribution:
    """A latency (or size) distribution: count, mean and percentiles (from a reservoir of up to 20,000 values)."""

    count: int
    sum: float
    values: tuple[float, ...] = field(repr=False)

    @classmethod
    def of(cls, hists: Iterable[Histogram]) -> Distribution:
        values: list[float] = []
        total, count = 0.0, 0
        for h in hists:
            values.extend(h.reservoir)
            total += h.sum
            count += h.count
        values.sort()
        return cls(count, total, tuple(values))

    @property
    def mean(self) -> float:
        return self.sum / self.count if self.count else math.nan

    def percentile(self, q: float) -> float:
        """The ``q``-th percentile (0-100), linear between ranks; nan when empty."""
        if not self.values:
            return math.nan
        if not 0 <= q <= 100:
            raise ValueError(f"a percentile is between 0 and 100, not {q}")
        pos = (len(self.values) - 1) * q / 100
        low = math.floor(pos)
        high = min(low + 1, len(self.values) - 1)
        return self.values[low] + (self.values[high] - self.values[low]) * (pos - low)

    @property
    def p50(self) -> float:
        return self.percentile(50)

    @property
    def p90(self) -> float:
        return self.percentile(90)

    @property
    def p95(self) -> float:
        return self.percentile(95)

    @property
    def p99(self) -> float:
        return self.percentile(99)

    @property
    def min(self) -> float:
        return self.values[0] if self.values else math.nan

    @property
    def max(self) -> float:
        return self.values[-1] if self.values else math.nan


@dataclass(frozen=True, slots=True)
class Tokens:
    prompt: int = 0
    completion: int = 0
    cached: int = 0

    @property
    def total(self) -> int:
        return self.prompt + self.completion


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The counters at one moment; ``later - earlier`` is what happened in between."""

    requests: Mapping[tuple[str, str, int, str, bool], int]
    tokens: Mapping[str, Tokens]
    cost_usd: Mapping[str, float]
    faults: Mapping[str, int]
    rate_limited: Mapping[str, int]
    retries: int
    retry_wait: float
    ttft: Mapping[str, tuple[int, float]]  # model -> (count, sum)
    e2e: Mapping[str, tuple[int, float]]

    def __sub__(self, other: Snapshot) -> Snapshot:
        def counts(a: Mapping[Any, int], b: Mapping[Any, int]) -> dict[Any, int]:
            return {k: v - b.get(k, 0) for k, v in a.items() if v - b.get(k, 0)}

        def sums(
            a: Mapping[str, tuple[int, float]], b: Mapping[str, tuple[int, float]]
        ) -> dict[str, tuple[int, float]]:
            return {k: (n - b.get(k, (0, 0.0))[0], s - b.get(k, (0, 0.0))[1]) for k, (n, s) in a.items()}

        return Snapshot(
            counts(self.requests, other.requests),
            {
                m: Tokens(
                    t.prompt - other.tokens.get(m, Tokens()).prompt,
                    t.completion - other.tokens.get(m, Tokens()).completion,
                    t.cached - other.tokens.get(m, Tokens()).cached,
                )
                for m, t in self.tokens.items()
            },
            {m: c - other.cost_usd.get(m, 0.0) for m, c in self.cost_usd.items()},
            counts(self.faults, other.faults),
            counts(self.rate_limited, other.rate_limited),
            self.retries - other.retries,
            self.retry_wait - other.retry_wait,
            sums(self.ttft, other.ttft),
            sums(self.e2e, other.e2e),
        )

    def requests_matching(
        self, *, endpoint: str | None = None, model: str | None = None, status: int | None = None
    ) -> int:
        return _match(self.requests, endpoint, model, status)

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())

    @property
    def cost(self) -> float:
        return sum(self.cost_usd.values())

    def mean_ttft(self, model: str | None = None) -> float:
        pairs = [v for m, v in self.ttft.items() if model is None or m == model]
        n = sum(p[0] for p in pairs)
        return sum(p[1] for p in pairs) / n if n else math.nan


def _match(
    requests: Mapping[tuple[str, str, int, str, bool], int], endpoint: str | None, model: str | None, status: int | None
) -> int:
    want = None if endpoint is None else _endpoint(endpoint)
    return sum(
        n
        for (e, m, s, _, _), n in requests.items()
        if (want is None or e == want) and (model is None or m == model) and (status is None or s == status)
    )


class Metrics:
    """Counters, token totals, latency distributions, cost and KV-cache hits of one simulator."""

    def __init__(self, engine: Engine, gate: Gate, stats: ServingStats) -> None:
        self._engine = engine
        self._gate = gate
        self.stats = stats

    def _names(self, model: str | None) -> tuple[str, ...] | None:
        """The names a ``model=`` filter matches: as given, and the registered model it resolves to
        ("llama-3.1-8b-instruct" is counted under "meta/llama-3.1-8b-instruct")."""
        if model is None:
            return None
        spec = self._engine.registry.get(model)
        if spec is None:
            from ..engine.registry import UnknownModelError

            try:
                spec = self._engine.registry.resolve(model, auto_register=False)
            except UnknownModelError:
                return (model,)
        return (model, spec.id)

    # -- counts -----------------------------------------------------------------------------
    def requests(
        self,
        *,
        endpoint: str | None = None,
        model: str | None = None,
        status: int | None = None,
        streamed: bool | None = None,
    ) -> int:
        """How many requests matched (``endpoint``: a path or ``"chat.completions"``; ``status`` 0: no
        response at all, a timeout or dropped connection)."""
        with self.stats.lock:
            items = dict(self.stats.requests)
        if streamed is not None:
            items = {k: v for k, v in items.items() if k[4] == streamed}
        names = self._names(model)
        if names is not None:
            items = {k: v for k, v in items.items() if k[1] in names}
        return _match(items, endpoint, None, status)

    def errors(self, *, type: str | None = None, model: str | None = None) -> int:
        """Failed requests (status >= 400, or no response), optionally of one error ``type`` (the body's
        ``type``, e.g. ``"server_error"``, ``"requests"``; for no response the fault kind)."""
        names = self._names(model)
        with self.stats.lock:
            items = list(self.stats.requests.items())
        return sum(
            n
            for (_, m, s, t, _), n in items
            if (s >= 400 or s == 0) and (type is None or t == type) and (names is None or m in names)
        )

    @property
    def errors_by_type(self) -> Mapping[str, int]:
        out: Counter[str] = Counter()
        with self.stats.lock:
            for (_, _, s, t, _), n in self.stats.requests.items():
                if s >= 400 or s == 0:
                    out[t] += n
        return dict(out)

    @property
    def faults(self) -> Mapping[str, int]:
        """Injected faults by kind (``{"overloaded": 3, "timeout": 1}``)."""
        return dict(self._gate.plan.injected)

    @property
    def rate_limited(self) -> Mapping[str, int]:
        """Requests refused by a rate limit, by limit (``{"rpm": 2}``)."""
        return dict(self._gate.limiter.limited)

    @property
    def retries(self) -> int:
        """Requests that were a client's retry (the SDK's ``x-stainless-retry-count`` > 0)."""
        return self._gate.retries

    @property
    def retry_wait(self) -> float:
        """Simulated seconds clients waited between attempts (fast retries: none of it in wall time)."""
        return self._gate.retry_wait

    # -- tokens, cost, cache --------------------------------------------------------------------
    def tokens(self, model: str | None = None) -> Tokens:
        """Prompt, completion and cached (KV) tokens of generations (chat, completions, responses)."""
        names = self._names(model)
        with self.stats.lock:
            ms = [m for name, m in self.stats.models.items() if names is None or name in names]
            return Tokens(
                sum(m.prompt_tokens for m in ms), sum(m.generation_tokens for m in ms), sum(m.prefix_hits for m in ms)
            )

    def cost(self, model: str | None = None) -> float:
        """USD at the registry's list prices (cached prompt tokens at the cached price)."""
        names = self._names(model)
        with self.stats.lock:
            return sum(m.cost for name, m in self.stats.models.items() if names is None or name in names)

    def kv_hit_rate(self, model: str | None = None) -> float:
        """Prompt tokens found in the KV cache / prompt tokens looked up (vLLM's prefix-cache hit rate)."""
        names = self._names(model)
        with self.stats.lock:
            ms = [m for name, m in self.stats.models.items() if names is None or name in names]
            queries = sum(m.prefix_queries for m in ms)
            return sum(m.prefix_hits for m in ms) / queries if queries else 0.0

    # -- latency ------------------------------------------------------------------------------
    def _dist(self, attr: str, model: str | None) -> Distribution:
        names = self._names(model)
        with self.stats.lock:
            return Distribution.of(
                getattr(m, attr) for name, m in self.stats.models.items() if names is None or name in names
            )

    @property
    def ttft(self) -> Distribution:
        """Time to first token (queue included), simulated seconds, every model."""
        return self._dist("ttft", None)

    @property
    def itl(self) -> Distribution:
        """Inter-token latency: every gap between output tokens, simulated seconds."""
        return self._dist("itl", None)

    @property
    def e2e(self) -> Distribution:
        """End-to-end request latency (arrival to last token), simulated seconds."""
        return self._dist("e2e", None)

    @property
    def queue(self) -> Distribution:
        """Time spent waiting for a place in the batch, simulated seconds."""
        return self._dist("queue", None)

    def latency(self, model: str) -> dict[str, Distribution]:
        """One model's ``ttft``, ``itl``, ``e2e`` and ``queue`` distributions."""
        return {k: self._dist(k, model) for k in ("ttft", "itl", "e2e", "queue")}

    # -- points in time -----------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        """The counters now; ``metrics.snapshot() - before`` is what happened since ``before``."""
        with self.stats.lock:
            models = dict(self.stats.models)
            return Snapshot(
                dict(self.stats.requests),
                {n: Tokens(m.prompt_tokens, m.generation_tokens, m.prefix_hits) for n, m in models.items()},
                {n: m.cost for n, m in models.items()},
                dict(self._gate.plan.injected),
                dict(self._gate.limiter.limited),
                self._gate.retries,
                self._gate.retry_wait,
                {n: (m.ttft.count, m.ttft.sum) for n, m in models.items()},
                {n: (m.e2e.count, m.e2e.sum) for n, m in models.items()},
            )

    def summary(self) -> dict[str, Any]:
        """Plain data for reports: requests, errors, faults, tokens, cost, latency percentiles."""
        tokens = self.tokens()
        ttft, e2e = self.ttft, self.e2e
        return {
            "requests": self.requests(),
            "errors": self.errors(),
            "errors_by_type": dict(self.errors_by_type),
            "faults": dict(self.faults),
            "rate_limited": dict(self.rate_limited),
            "retries": self.retries,
            "tokens": {"prompt": tokens.prompt, "completion": tokens.completion, "cached": tokens.cached},
            "cost_usd": round(self.cost(), 6),
            "ttft_p50_s": None if not ttft.count else round(ttft.p50, 6),
            "ttft_p99_s": None if not ttft.count else round(ttft.p99, 6),
            "e2e_p50_s": None if not e2e.count else round(e2e.p50, 6),
            "kv_hit_rate": round(self.kv_hit_rate(), 6),
        }

    # -- exposition -----------------------------------------------------------------------------
    def prometheus(self, families: str = "all") -> str:
        """The Prometheus text ``/metrics/prometheus`` serves (``families``: ``"all"`` or a comma-separated
        choice of ``vllm``, ``dynamo``, ``dcgm``); the same numbers as this object (docs/metrics.md)."""
        from .prometheus import exposition

        return exposition(self._engine).text(families)
