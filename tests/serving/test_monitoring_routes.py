"""The monitoring routes, in process (both HTTP stacks) and on a real port, with and without API keys."""

from __future__ import annotations

import json
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from pytest_fakeai import FakeAI
from pytest_fakeai.api.prometheus import CONTENT_TYPE
from pytest_fakeai.api.router import default_router

MODEL = "llama-3.1-8b-instruct"
ROOT = "https://api.openai.com"
ROUTES = ("/health", "/metrics", "/metrics/prometheus", "/kv-cache/metrics", "/dcgm/metrics", "/dynamo/metrics")
PREFIX = {"/metrics/prometheus": None, "/dcgm/metrics": "DCGM_FI_", "/dynamo/metrics": "dynamo_frontend_"}


def _served(**settings: Any) -> FakeAI:
    sim = FakeAI(latency="h100-8b", **settings)
    client = sim.client(max_retries=0)
    prompt = " ".join(f"word{i}" for i in range(100))
    for _ in range(2):
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": prompt}], max_tokens=10)
    return sim


def _families(text: str) -> set[str]:
    return {f.name for f in text_string_to_metric_families(text)}


def test_every_route_answers_in_process(stack: str) -> None:
    sim = _served()
    with sim.http_client(stack) as http:
        for path in ROUTES:
            r = http.get(ROOT + path)
            assert r.status_code == 200, path
            if path in PREFIX:
                assert r.headers["content-type"] == CONTENT_TYPE
                names = _families(r.text)
                assert names, path
                prefix = PREFIX[path]
                if prefix is not None:
                    assert all(n.startswith(prefix) for n in names), path
            else:
                assert r.headers["content-type"] == "application/json"
                assert isinstance(r.json(), dict)


def test_prometheus_route_serves_what_fakeai_metrics_renders() -> None:
    sim = _served()
    with sim.http_client() as http:
        text = http.get(ROOT + "/metrics/prometheus").text
    assert _families(text) == _families(sim.metrics.prometheus())
    assert {"vllm:prompt_tokens", "dynamo_frontend_requests", "DCGM_FI_DEV_GPU_UTIL"} <= _families(text)


def test_health_says_healthy_with_uptime_and_models() -> None:
    sim = _served()
    with sim.http_client() as http:
        body = http.get(ROOT + "/health").json()
    assert body["status"] == "healthy" and body["ready"] is True
    assert body["uptime_s"] == pytest.approx(sim.clock.elapsed(), abs=1e-3) and body["uptime_s"] > 0
    assert body["models"] == len(sim.models) > 0
    assert body["serving"] == sorted(sim.engine.serving.models)


def test_metrics_json_has_the_same_numbers_as_fakeai_metrics() -> None:
    sim = _served()
    with sim.http_client() as http:
        body = http.get(ROOT + "/metrics").json()
    m = sim.metrics
    summary = m.summary()
    assert body["requests"] == summary["requests"]  # scrapes are not counted as traffic
    for key in ("errors", "tokens", "cost_usd", "ttft_p50_s", "ttft_p99_s", "e2e_p50_s", "kv_hit_rate"):
        assert body[key] == summary[key], key
    (model,) = body["models"]
    entry = body["models"][model]
    tokens = m.tokens(model)
    assert (entry["prompt_tokens"], entry["completion_tokens"], entry["cached_tokens"]) == (
        tokens.prompt,
        tokens.completion,
        tokens.cached,
    )
    assert entry["requests"] == m.requests(model=model) == 2
    assert entry["ttft"]["count"] == m.latency(model)["ttft"].count == 2
    assert entry["ttft"]["sum"] == round(m.latency(model)["ttft"].sum, 6)
    assert entry["running"] == 0 and 0 < entry["kv_cache_usage"] < 1


def test_kv_cache_route_reports_usage_blocks_and_hits() -> None:
    sim = _served()
    with sim.http_client() as http:
        body = http.get(ROOT + "/kv-cache/metrics").json()
    assert body["enabled"] is True
    (model,) = body["models"]
    kv = body["models"][model]
    assert kv["block_size"] == 16 and kv["blocks_total"] == 4096
    assert 0 < kv["blocks_used"] <= kv["blocks_total"] and kv["usage"] == round(kv["blocks_used"] / 4096, 6)
    assert kv["hit_tokens"] > 0 and kv["hit_rate"] == round(kv["hit_tokens"] / kv["query_tokens"], 6)
    assert kv["hit_tokens"] == sim.metrics.tokens(model).cached
    assert kv["evictions"] == 0


def test_routes_answer_on_a_real_port() -> None:
    httpx = pytest.importorskip("httpx")
    pytest.importorskip("uvicorn")
    sim = _served()
    with sim.serve() as server:
        root = server.url.removesuffix("/v1")
        for path in ROUTES:
            r = httpx.get(root + path, timeout=10)
            assert r.status_code == 200, path
        prom = httpx.get(root + "/metrics/prometheus", timeout=10)
        assert prom.headers["content-type"] == CONTENT_TYPE
        assert "vllm:prompt_tokens" in _families(prom.text)
        assert json.loads(httpx.get(root + "/health", timeout=10).text)["status"] == "healthy"
    assert not server.running


@pytest.mark.parametrize("path", ROUTES)
def test_monitoring_needs_a_key_when_api_keys_are_set(path: str) -> None:
    sim = FakeAI(api_keys=("sk-good-key-123",))
    with sim.http_client() as http:
        missing = http.get(ROOT + path)
        wrong = http.get(ROOT + path, headers={"authorization": "Bearer sk-wrong-key-456"})
        right = http.get(ROOT + path, headers={"authorization": "Bearer sk-good-key-123"})
    assert missing.status_code == wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "invalid_api_key"
    assert right.status_code == 200


@pytest.mark.parametrize("path", ROUTES)
def test_open_monitoring_lets_monitoring_routes_answer_without_a_key(path: str) -> None:
    sim = FakeAI(api_keys=("sk-good-key-123",), open_monitoring=True)
    with sim.http_client() as http:
        assert http.get(ROOT + path).status_code == 200
        assert http.get(ROOT + "/v1/models").status_code == 401  # the API itself stays closed


def test_each_route_has_its_handler() -> None:
    router = default_router()
    assert [router.resolve("GET", path)[0].__name__ for path in ROUTES] == [
        "health",
        "metrics_json",
        "prometheus_metrics",
        "kv_cache_metrics",
        "dcgm_metrics",
        "dynamo_metrics",
    ]


def test_injected_faults_are_for_the_api_not_for_scrapes() -> None:
    sim = FakeAI(error_sequence="500")
    with sim.http_client() as http:
        assert http.get(ROOT + "/metrics/prometheus").status_code == 200
