"""The monitoring routes: ``/health``, ``/metrics`` (JSON), ``/metrics/prometheus``, ``/kv-cache/metrics``,
``/dcgm/metrics`` and ``/dynamo/metrics``.

Root paths, as a serving stack has them (not under ``/v1``).  With ``api_keys`` set they
need a key like every route, unless ``open_monitoring`` (api/auth.py).  The JSON numbers
are read from the same accumulators as ``fakeai.metrics`` (engine/stats.py); the
Prometheus text comes from api/prometheus.py, imported on first use.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from .common import json_response, response_headers
from .metrics import Distribution
from .types import ApiRequest, ApiResponse

if TYPE_CHECKING:
    from ..engine.core import Engine

__all__ = [
    "dcgm_metrics",
    "dynamo_metrics",
    "health",
    "kv_cache_metrics",
    "metrics_json",
    "metrics_summary",
    "prometheus_metrics",
]


def _json(engine: Engine, body: dict[str, Any]) -> ApiResponse:
    return json_response(engine, body)


def _text(engine: Engine, families: str) -> ApiResponse:
    from .prometheus import CONTENT_TYPE, exposition

    headers = [(k, CONTENT_TYPE if k == "content-type" else v) for k, v in response_headers(engine, 0.0)]
    return ApiResponse(200, headers, exposition(engine).text(families).encode())


def _number(value: float, digits: int = 6) -> float | None:
    return None if math.isnan(value) else round(value, digits)


def _dist(d: Distribution) -> dict[str, Any]:
    return {
        "count": d.count,
        "sum": round(d.sum, 6),
        "mean": _number(d.mean),
        "p50": _number(d.p50),
        "p90": _number(d.p90),
        "p99": _number(d.p99),
    }


def health(engine: Engine, request: ApiRequest) -> ApiResponse:
    """``GET /health``: alive, for how long (simulated seconds), and what it serves."""
    from .._version import __version__

    clock = engine.clock
    return _json(
        engine,
        {
            "status": "healthy",
            "ready": True,
            "timestamp": int(clock.now()),
            "uptime_s": round(clock.elapsed(), 3),
            "models": len(engine.registry),
            "serving": sorted(engine.serving.models),
            "version": __version__,
        },
    )


def metrics_summary(engine: Engine) -> dict[str, Any]:
    """Requests, errors, faults, tokens, cost, latency and KV hits, overall and per model."""
    stats = engine.stats
    serving = engine.serving
    now = engine.clock.elapsed()
    with stats.lock:
        requests = list(stats.requests.items())
        faults = dict(stats.faults)
        models = dict(stats.models)
        disconnected = stats.disconnected
        per_model = {
            name: {
                "prompt_tokens": m.prompt_tokens,
                "completion_tokens": m.generation_tokens,
                "cached_tokens": m.prefix_hits,
                "cost_usd": round(m.cost, 6),
                "kv_hit_rate": round(m.prefix_hits / m.prefix_queries, 6) if m.prefix_queries else 0.0,
                "finish_reasons": dict(m.success),
                **{k: _dist(Distribution.of([getattr(m, k)])) for k in ("ttft", "itl", "e2e", "queue")},
            }
            for name, m in models.items()
        }
        ttft = Distribution.of(m.ttft for m in models.values())
        e2e = Distribution.of(m.e2e for m in models.values())
        prompt = sum(m.prompt_tokens for m in models.values())
        completion = sum(m.generation_tokens for m in models.values())
        hits = sum(m.prefix_hits for m in models.values())
        queries = sum(m.prefix_queries for m in models.values())
        cost = sum(m.cost for m in models.values())
    errors_by_type: dict[str, int] = {}
    by_model: dict[str, dict[str, int]] = {}
    for (_, model, status, error_type, _), n in requests:
        failed = status >= 400 or status == 0
        if failed:
            errors_by_type[error_type] = errors_by_type.get(error_type, 0) + n
        if model:
            counts = by_model.setdefault(model, {"requests": 0, "errors": 0})
            counts["requests"] += n
            counts["errors"] += n if failed else 0
    for name, planned in serving.models.items():
        entry = per_model.setdefault(name, {})
        entry["running"] = serving.running_of(name, now)
        entry["waiting"] = serving.waiting_of(name, now)
        entry["kv_cache_usage"] = round(planned.kv.usage, 6) if planned.kv is not None else 0.0
    for name, counts in by_model.items():
        per_model.setdefault(name, {}).update(counts)
    return {
        "requests": sum(n for _, n in requests),
        "errors": sum(errors_by_type.values()),
        "errors_by_type": errors_by_type,
        "faults": faults,
        "disconnected": disconnected,
        "tokens": {"prompt": prompt, "completion": completion, "cached": hits},
        "cost_usd": round(cost, 6),
        "ttft_p50_s": None if not ttft.count else round(ttft.p50, 6),
        "ttft_p99_s": None if not ttft.count else round(ttft.p99, 6),
        "e2e_p50_s": None if not e2e.count else round(e2e.p50, 6),
        "kv_hit_rate": round(hits / queries, 6) if queries else 0.0,
        "models": {name: per_model[name] for name in sorted(per_model)},
    }


def metrics_json(engine: Engine, request: ApiRequest) -> ApiResponse:
    """``GET /metrics``: :func:`metrics_summary` as JSON."""
    return _json(engine, metrics_summary(engine))


def kv_cache_metrics(engine: Engine, request: ApiRequest) -> ApiResponse:
    """``GET /kv-cache/metrics``: each model's prefix cache: usage, blocks, hit rate, evictions."""
    out: dict[str, Any] = {}
    for name, model in sorted(engine.serving.models.items()):
        kv = model.kv
        if kv is None:
            continue
        queries, hits = kv.stats.queries, kv.stats.hits
        out[name] = {
            "usage": round(kv.usage, 6),
            "blocks_used": len(kv),
            "blocks_referenced": kv.referenced,
            "blocks_total": kv.capacity,
            "block_size": kv.block_size,
            "query_tokens": queries,
            "hit_tokens": hits,
            "hit_rate": round(hits / queries, 6) if queries else 0.0,
            "evictions": kv.stats.evictions,
        }
    return _json(engine, {"enabled": bool(engine.settings.kv_cache), "models": out})


def prometheus_metrics(engine: Engine, request: ApiRequest) -> ApiResponse:
    """``GET /metrics/prometheus``: the vLLM, Dynamo and DCGM families (Prometheus text)."""
    return _text(engine, "all")


def dcgm_metrics(engine: Engine, request: ApiRequest) -> ApiResponse:
    """``GET /dcgm/metrics``: what dcgm-exporter would serve for the simulated node."""
    return _text(engine, "dcgm")


def dynamo_metrics(engine: Engine, request: ApiRequest) -> ApiResponse:
    """``GET /dynamo/metrics``: what an NVIDIA Dynamo frontend would serve."""
    return _text(engine, "dynamo")
