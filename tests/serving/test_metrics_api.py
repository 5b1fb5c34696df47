"""fakeai.metrics: counts, errors, tokens, cost, distributions, snapshots and their differences."""

from __future__ import annotations

import math

import openai
import pytest

from pytest_fakeai import FakeAI

HI = [{"role": "user", "content": "hi"}]


def test_counts_tokens_cost_and_errors() -> None:
    sim = FakeAI(error_sequence="ok,ok,500", max_calls=1)
    client = sim.client(max_retries=0)
    a = client.chat.completions.create(model="gpt-4o", messages=HI, max_tokens=5)
    b = client.chat.completions.create(model="gpt-4o-mini", messages=HI, max_tokens=5, stream=True)
    list(b)
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="gpt-4o", messages=HI)
    m = sim.metrics
    assert m.requests() == 3 and len(sim.calls) == 1  # counted whether kept or not
    assert m.requests(model="gpt-4o") == 2 and m.requests(streamed=True) == 1
    assert m.requests(endpoint="chat.completions", status=500) == 1
    assert m.errors() == 1 and m.errors(type="server_error") == 1 and m.errors_by_type == {"server_error": 1}
    assert m.faults == {"server_error": 1}
    assert m.tokens("gpt-4o").prompt == a.usage.prompt_tokens
    assert m.tokens("gpt-4o").completion == a.usage.completion_tokens
    spec = sim.models.resolve("gpt-4o")
    assert m.cost("gpt-4o") == pytest.approx(spec.cost(a.usage.prompt_tokens, a.usage.completion_tokens))
    assert m.cost() > m.cost("gpt-4o")
    assert m.ttft.count == 2 and m.ttft.mean == 0  # instant profile
    assert math.isnan(FakeAI().metrics.ttft.p50)


def test_snapshot_difference_is_what_happened_in_between() -> None:
    sim = FakeAI(latency="api-small")
    client = sim.client()
    client.chat.completions.create(model="gpt-4o-mini", messages=HI, max_tokens=3)
    before = sim.metrics.snapshot()
    for _ in range(3):
        client.chat.completions.create(model="gpt-4o-mini", messages=HI, max_tokens=3)
    delta = sim.metrics.snapshot() - before
    assert delta.total_requests == 3
    assert delta.requests_matching(model="gpt-4o-mini", status=200) == 3
    assert delta.tokens["gpt-4o-mini"].completion == 9
    assert delta.cost == pytest.approx(sim.metrics.cost() * 3 / 4)
    assert delta.mean_ttft() > 0.1  # a hosted API's first token


def test_distributions_and_percentiles() -> None:
    sim = FakeAI(latency="h100-8b", seed=2)
    for i in range(50):
        sim.client().chat.completions.create(
            model="llama-3.1-8b-instruct", messages=[{"role": "user", "content": str(i)}]
        )
    ttft = sim.metrics.ttft
    assert ttft.count == 50 and ttft.min <= ttft.p50 <= ttft.p90 <= ttft.p99 <= ttft.max
    assert ttft.percentile(0) == ttft.min and ttft.percentile(100) == ttft.max
    with pytest.raises(ValueError, match="between 0 and 100"):
        ttft.percentile(101)
    per_model = sim.metrics.latency("llama-3.1-8b-instruct")
    assert per_model["ttft"].count == 50 and per_model["e2e"].mean > per_model["ttft"].mean
    summary = sim.metrics.summary()
    assert summary["requests"] == 50 and summary["ttft_p50_s"] == round(ttft.p50, 6)
