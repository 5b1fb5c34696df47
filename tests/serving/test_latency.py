"""The latency model on simulated time: profiles, load, queueing, the KV cache and the clocks."""

from __future__ import annotations

import asyncio
import itertools
import json
import statistics
import time

import openai
import pytest

from pytest_fakeai import FakeAI
from pytest_fakeai.api.types import ApiRequest
from pytest_fakeai.engine.kvcache import KVCache, block_hashes
from pytest_fakeai.engine.latency import PROFILES, LatencyProfile, profile_for, profile_name
from pytest_fakeai.settings import _PROFILE_NAMES


def _chat(content: str = "hi", model: str = "llama-3.1-8b-instruct", **extra: object) -> ApiRequest:
    body = {"model": model, "messages": [{"role": "user", "content": content}], **extra}
    return ApiRequest("POST", "/v1/chat/completions", body=json.dumps(body).encode())


def test_profile_names_match_the_settings() -> None:
    assert set(PROFILES) | {"realistic"} == set(_PROFILE_NAMES)


def test_realistic_picks_by_provider_and_size() -> None:
    assert profile_name("gpt-4o-mini", "openai") == "api-small"
    assert profile_name("gpt-4o", "openai") == "api-large"
    assert profile_name("o3", "openai", reasoning=True) == "api-reasoning"
    assert profile_name("meta/llama-3.1-70b-instruct", "meta") == "h100-70b"
    assert profile_name("meta/llama-3.1-8b-instruct", "meta") == "h100-8b"
    assert profile_for("realistic", "gpt-4o", "openai", overrides={"itl": 0.5}).itl == 0.5


def test_instant_is_the_default_and_takes_no_time() -> None:
    sim = FakeAI()
    r = sim.handle(_chat(max_tokens=50))
    assert r.timeline.e2e == 0 and r.due == 0 and sim.clock.elapsed() == 0


def test_recorded_ttft_and_itl_match_the_profile_within_5_percent() -> None:
    profile = PROFILES["h100-8b"]
    sim = FakeAI(latency="h100-8b", kv_cache=False, seed=3, max_calls=10)
    prompt_tokens = None
    for i in range(600):  # one at a time: the load factor stays 1
        r = sim.handle(_chat(f"question number {i}", max_tokens=40, ignore_eos=True))
        prompt_tokens = r.usage["prompt_tokens"]
    assert prompt_tokens is not None
    m = sim.metrics
    expected_ttft = profile.ttft + prompt_tokens * profile.prefill_per_token
    assert m.ttft.mean == pytest.approx(expected_ttft, rel=0.05)
    assert m.itl.mean == pytest.approx(profile.itl, rel=0.05)
    assert m.itl.count == 600 * 39
    assert statistics.pstdev(m.itl.values) == pytest.approx(profile.jitter * profile.itl, rel=0.15)
    assert 0.3 * profile.itl <= m.itl.min and m.itl.max <= 1.7 * profile.itl  # clamped draws
    assert m.queue.max == 0


def test_the_same_seed_gives_the_same_timeline_and_bytes() -> None:
    def run(seed: int) -> list[tuple[float, bytes]]:
        sim = FakeAI(latency="realistic", seed=seed)
        out = []
        for i in range(5):
            r = sim.handle(_chat(f"q{i}", stream=True))
            assert r.stream is not None
            out.extend(r.stream)
        return out

    assert run(1) == run(1)
    assert run(1) != run(2)


async def _concurrent(sim: FakeAI, n: int, **kwargs: object) -> list[float]:
    client = sim.async_client()
    start = sim.clock.elapsed()

    async def one(i: int) -> float:
        await client.chat.completions.create(
            model="llama-3.1-8b-instruct",
            messages=[{"role": "user", "content": f"request {i}"}],
            max_tokens=30,
            **kwargs,  # type: ignore[arg-type]
        )
        return sim.clock.elapsed() - start

    return await asyncio.gather(*(one(i) for i in range(n)))


def test_load_raises_latency_as_the_model_says() -> None:
    alone = FakeAI(latency="h100-8b", latency_jitter=0.0, kv_cache=False)
    asyncio.run(_concurrent(alone, 1, extra_body={"ignore_eos": True}))
    busy = FakeAI(latency="h100-8b", latency_jitter=0.0, kv_cache=False)
    asyncio.run(_concurrent(busy, 32, extra_body={"ignore_eos": True}))  # 30 tokens each
    profile = PROFILES["h100-8b"]
    # requests that arrive together load each other: the k-th runs with k in the batch
    expected = statistics.mean(profile.itl * profile.lf(k) for k in range(1, 33))
    assert busy.metrics.itl.mean == pytest.approx(expected, rel=1e-6)
    assert busy.metrics.itl.mean > 1.2 * alone.metrics.itl.mean
    assert busy.metrics.ttft.max > alone.metrics.ttft.max


def test_past_max_num_seqs_requests_queue() -> None:
    sim = FakeAI(latency="h100-8b", max_num_seqs=4, latency_jitter=0.0, kv_cache=False)
    asyncio.run(_concurrent(sim, 12))
    queue = sim.metrics.queue
    assert queue.count == 12
    assert sorted(queue.values)[:4] == [0, 0, 0, 0]  # the first four start at once
    assert min(sorted(queue.values)[4:]) > 0  # the rest wait their turn
    assert sim.metrics.ttft.max > sim.metrics.ttft.min + queue.max * 0.99


def test_sequential_requests_never_overlap() -> None:
    sim = FakeAI(latency="h100-8b", kv_cache=False)
    client = sim.client()
    for i in range(5):
        client.chat.completions.create(model="llama-3.1-8b-instruct", messages=[{"role": "user", "content": str(i)}])
    assert sim.metrics.queue.max == 0
    calls = list(sim.calls)
    for before, after in itertools.pairwise(calls):
        assert after.started >= before.ended  # each arrives when the previous answer is in


def test_cached_prefixes_lower_ttft_and_are_reported() -> None:
    sim = FakeAI(latency="h100-8b", latency_jitter=0.0)
    client = sim.client()
    long_prompt = " ".join(f"word{i}" for i in range(3000))
    first = client.chat.completions.create(
        model="meta/llama-3.1-8b-instruct", messages=[{"role": "user", "content": long_prompt}]
    )
    second = client.chat.completions.create(
        model="meta/llama-3.1-8b-instruct", messages=[{"role": "user", "content": long_prompt}]
    )
    assert first.usage.prompt_tokens_details.cached_tokens == 0
    cached = second.usage.prompt_tokens_details.cached_tokens
    assert 0 < cached < second.usage.prompt_tokens and cached % 16 == 0
    ttfts = sim.metrics.ttft.values
    assert sim.metrics.ttft.count == 2
    saved = cached * PROFILES["h100-8b"].prefill_per_token
    assert max(ttfts) - min(ttfts) == pytest.approx(saved, rel=1e-6)
    assert sim.metrics.kv_hit_rate() == pytest.approx(cached / (2 * second.usage.prompt_tokens))


def test_openai_models_report_cache_hits_like_openai() -> None:
    sim = FakeAI()
    client = sim.client()
    short = [{"role": "user", "content": "the same short prompt"}]
    client.chat.completions.create(model="gpt-4o", messages=short)
    assert client.chat.completions.create(model="gpt-4o", messages=short).usage.prompt_tokens_details.cached_tokens == 0
    long_prompt = [{"role": "user", "content": " ".join(f"token{i}" for i in range(1500))}]
    client.chat.completions.create(model="gpt-4o", messages=long_prompt)
    usage = client.chat.completions.create(model="gpt-4o", messages=long_prompt).usage
    cached = usage.prompt_tokens_details.cached_tokens
    assert usage.prompt_tokens >= 1024 and cached > 0 and cached % 128 == 0 and cached <= usage.prompt_tokens


def test_kv_cache_chains_blocks_and_evicts_least_recently_used() -> None:
    cache = KVCache(block_size=4, capacity=4)
    a = block_hashes(list(range(16)), 4)
    b = block_hashes([99, *range(1, 16)], 4)  # differs in the first block: no block matches
    assert not set(a) & set(b)
    cached, held = cache.acquire(a, 16)
    assert cached == 0 and len(cache) == 4
    cache.release(held)
    cached, held_b = cache.acquire(b[:2], 8)  # room is made by evicting a's oldest blocks
    assert cached == 0 and cache.stats.evictions == 2
    cache.release(held_b)
    cached, _ = cache.acquire(a, 16)  # a's first block is gone: nothing after it matches
    assert cached == 0
    full = KVCache(block_size=4, capacity=2)
    _, held = full.acquire(a[:2], 8)
    cached, kept = full.acquire(b[:2], 8)  # every block referenced: nothing is evicted
    assert kept == [] and full.stats.evictions == 0


def test_kv_cached_tokens_never_exceed_the_prompt() -> None:
    cache = KVCache(block_size=16, capacity=100)
    blocks = block_hashes(list(range(64)), 16)
    cache.acquire(blocks, 64)
    cached, _ = cache.acquire(blocks, 64)
    assert cached == 63  # the last token is always computed


def test_virtual_clock_runs_a_long_realistic_stream_in_no_time() -> None:
    sim = FakeAI(latency="h100-70b", seed=5)
    started = time.perf_counter()
    chunks = list(
        sim.client().chat.completions.create(
            model="meta/llama-3.1-70b-instruct",
            messages=[{"role": "user", "content": "tell me everything"}],
            max_tokens=1000,
            extra_body={"ignore_eos": True},
            stream=True,
        )
    )
    wall = time.perf_counter() - started
    assert wall < 1.0
    assert len(chunks) > 1000
    e2e = sim.metrics.e2e.values[0]
    assert e2e == pytest.approx(sim.clock.elapsed())
    assert e2e == pytest.approx(PROFILES["h100-70b"].itl * 999 + sim.metrics.ttft.values[0], rel=0.05)
    assert e2e > 25  # half a minute of simulated decoding
    assert sim.calls.last.ended == pytest.approx(e2e)


def test_real_clock_waits_out_the_timeline() -> None:
    sim = FakeAI(clock="real", latency="h100-8b", ttft=0.15, itl=0.01, latency_jitter=0.0, kv_cache=False)
    client = sim.client()
    started = time.perf_counter()
    stream = client.chat.completions.create(
        model="llama-3.1-8b-instruct",
        messages=[{"role": "user", "content": "hi"}],
        max_tokens=20,
        stream=True,
        extra_body={"ignore_eos": True},
    )
    first_at = None
    for chunk in stream:
        if first_at is None and chunk.choices and chunk.choices[0].delta.content:
            first_at = time.perf_counter() - started
    total = time.perf_counter() - started
    assert first_at is not None and first_at >= 0.14
    assert total >= 0.15 + 19 * 0.01 * 0.9


def test_real_clock_speed_factor() -> None:
    sim = FakeAI(clock="real", speed=10.0, ttft=1.0)
    started = time.perf_counter()
    sim.client().chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}], max_tokens=1)
    assert 0.09 <= time.perf_counter() - started < 0.6  # 1 simulated second at 10x


def test_timeouts_still_apply_with_latency() -> None:
    sim = FakeAI(latency="api-large", error_sequence="timeout")
    with pytest.raises(openai.APITimeoutError):
        sim.client(max_retries=0, timeout=5).chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
        )


def test_overrides_replace_profile_numbers() -> None:
    sim = FakeAI(latency="h100-8b", itl=0.1, max_num_seqs=2, load_factor=3.0, latency_jitter=0.0)
    spec = sim.models.resolve("gpt-4o")
    profile = sim.engine.serving.profile(spec)
    assert (profile.itl, profile.max_num_seqs, profile.load_factor, profile.jitter) == (0.1, 2, 3.0, 0.0)
    assert profile.ttft == PROFILES["h100-8b"].ttft
    per_model = FakeAI(latency="instant", latency_models=["gpt-4o=api-large"])
    assert per_model.engine.serving.profile(per_model.models.resolve("gpt-4o")).name == "api-large"
    assert per_model.engine.serving.profile(per_model.models.resolve("gpt-4o-mini")).name == "instant"


def test_load_factor_formula() -> None:
    p = LatencyProfile("x", itl=0.01, load_factor=2.0, max_num_seqs=16)
    assert p.lf(1) == 1.0 and p.lf(16) == 2.0 and p.lf(100) == 2.0
    assert p.lf(8.5) == pytest.approx(1.5)  # type: ignore[arg-type]
