"""Seeded fault rates: the injected rate sits in its binomial interval, a seed replays the exact
sequence, and the SDK's retries turn a 30 % fault rate into 1 - 0.3^3 successes at no wall-time cost."""

from __future__ import annotations

import contextlib
import json
import math

import openai
import pytest

from pytest_fakeai import FakeAI
from pytest_fakeai.api.types import ApiRequest

Z99 = 2.5758  # two-sided 99 % normal quantile


def _interval(p: float, n: int) -> tuple[float, float]:
    half = Z99 * math.sqrt(p * (1 - p) / n)
    return p - half, p + half


BODY = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 3}).encode()


def _faults(seed: int, n: int, rate: float) -> list[str | None]:
    sim = FakeAI(seed=seed, error_rate=rate, error_types=["429", "500", "503", "timeout"])
    request = ApiRequest("POST", "/v1/chat/completions", headers={"content-type": "application/json"}, body=BODY)
    for _ in range(n):
        sim.handle(request)
    return [call.fault for call in sim.calls]


def test_injected_rate_sits_in_its_99_percent_interval_and_replays_exactly() -> None:
    n, rate = 10_000, 0.2
    first = FakeAI(seed=11, error_rate=rate, max_calls=n)
    request = ApiRequest("POST", "/v1/chat/completions", body=BODY)
    for _ in range(n):
        first.handle(request)
    faults = [c.fault for c in first.calls]
    low, high = _interval(rate, n)
    assert low <= sum(f is not None for f in faults) / n <= high
    kinds = {f for f in faults if f}
    assert kinds == {"rate_limit_requests", "server_error", "overloaded"}  # the default mix

    again = FakeAI(seed=11, error_rate=rate, max_calls=n)
    for _ in range(n):
        again.handle(request)
    assert [c.fault for c in again.calls] == faults  # the same seed, the same sequence
    other = FakeAI(seed=12, error_rate=rate, max_calls=n)
    for _ in range(n):
        other.handle(request)
    assert [c.fault for c in other.calls] != faults


def test_each_kind_of_the_mix_is_equally_likely() -> None:
    faults = [f for f in _faults(3, 8_000, 0.5) if f]
    for kind in ("rate_limit_requests", "server_error", "overloaded", "timeout"):
        low, high = _interval(0.25, len(faults))
        assert low <= faults.count(kind) / len(faults) <= high, kind


def test_responses_replay_byte_for_byte_with_faults() -> None:
    def run() -> list[tuple[int, bytes]]:
        sim = FakeAI(seed=4, error_rate=0.3, error_types=["500", "429"])
        client = sim.client(max_retries=2)
        for i in range(30):
            with contextlib.suppress(openai.APIError):
                client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": f"q{i}"}])
        return [(c.response.status, c.response.body) for c in sim.calls]

    assert run() == run()


@pytest.mark.parametrize("stack", ["httpx", "httpx2"])
def test_sdk_retries_give_one_minus_rate_cubed(stack: str) -> None:
    from tests._support.drive import skip_unavailable

    skip_unavailable(stack)
    n, rate = 3_000, 0.3
    sim = FakeAI(
        seed=21,
        error_rate=rate,
        error_types=["429", "500", "502", "503", "504", "timeout", "connection_reset"],
        max_calls=10,
    )
    client = sim.client(stack=stack, max_retries=2)
    ok = 0
    for _ in range(n):
        try:
            client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
            ok += 1
        except openai.APIError:
            pass
    expected = 1 - rate**3
    low, high = _interval(expected, n)
    assert low <= ok / n <= high
    # every retry waited on the simulated clock, not in wall time (timeouts add the SDK's 600 s each)
    assert sim.metrics.retries > 0.3 * n
    assert sim.metrics.retry_wait > 0.4 * sim.metrics.retries
    assert sim.clock.elapsed() >= sim.metrics.retry_wait


def test_fast_retries_off_keeps_the_sdks_wait() -> None:
    sim = FakeAI(fast_retries=False)
    assert sim.retry_wait(0.75, None) == 0.75
    assert sim.clock.elapsed() == 0
    fast = FakeAI()
    assert fast.retry_wait(0.75, None) == 0.0
    assert 0.75 * 0.5 <= fast.clock.elapsed() <= 1.0  # the 1 s backoff step, with seeded jitter
    real = FakeAI(clock="real")
    assert real.retry_wait(0.5, None) == 0.5  # the real clock cannot be skipped


def test_a_real_servers_errors_keep_the_sdks_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    from openai._base_client import BaseClient

    from pytest_fakeai.adapters.retries import install

    install()
    client = openai.OpenAI(api_key="x", base_url="http://127.0.0.1:9/v1")
    options = type("O", (), {"max_retries": 2, "get_max_retries": lambda self, m: 2})()
    try:
        raise ValueError("not from a simulator")
    except ValueError:
        delay = BaseClient._calculate_retry_timeout(client, 2, options, None)  # type: ignore[arg-type]
    assert 0.375 <= delay <= 0.5
