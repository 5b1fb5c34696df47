"""Rate limits: token buckets per key and model on the simulator's clock, OpenAI's headers and 429s."""

from __future__ import annotations

import math
import re

import openai
import pytest

from pytest_fakeai import FakeAI
from pytest_fakeai.engine.ratelimit import Bucket, RateLimiter, duration
from tests._support.drive import Driver
from tests._support.spec import check_error

HI = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0ms"),
        (0.0201, "21ms"),
        (0.644, "644ms"),
        (1, "1s"),
        (17.28, "17.28s"),
        (59.874, "59.874s"),
        (60, "1m0s"),
        (360, "6m0s"),
        (3723.5, "1h2m3.5s"),
    ],
)
def test_durations_use_openais_format(seconds: float, text: str) -> None:
    assert duration(seconds) == text


def test_headers_on_every_response_count_down_and_reset(stack: str, mode: str) -> None:
    api = Driver(FakeAI(rpm=3, tpm=1000), stack, mode)
    seen = []
    for _ in range(3):
        raw = api("chat.completions.with_raw_response.create", model="gpt-4o", messages=HI, max_tokens=10)
        seen.append({k: v for k, v in raw.headers.items() if k.startswith("x-ratelimit")})
    assert [h["x-ratelimit-remaining-requests"] for h in seen] == ["2", "1", "0"]
    assert [h["x-ratelimit-reset-requests"] for h in seen] == ["20s", "40s", "1m0s"]
    assert all(h["x-ratelimit-limit-requests"] == "3" and h["x-ratelimit-limit-tokens"] == "1000" for h in seen)
    # each request is charged ceil(chars / 4) of its messages' text plus max_tokens: "user" + "hi" -> 2 + 10
    assert [h["x-ratelimit-remaining-tokens"] for h in seen] == ["988", "976", "964"]
    order = list(seen[0])
    assert order == [
        "x-ratelimit-limit-requests",
        "x-ratelimit-limit-tokens",
        "x-ratelimit-remaining-requests",
        "x-ratelimit-remaining-tokens",
        "x-ratelimit-reset-requests",
        "x-ratelimit-reset-tokens",
    ]


def test_over_the_limit_is_openais_429(stack: str, mode: str) -> None:
    api = Driver(FakeAI(rpm=2), stack, mode)
    api.client = api.client.with_options(max_retries=0)
    api.chat(messages=HI)
    api.chat(messages=HI)
    with pytest.raises(openai.RateLimitError) as info:
        api.chat(messages=HI)
    err = info.value
    check_error(err.response.json())
    assert err.body == {
        "message": "Rate limit reached for gpt-4o in organization org-fakeai on requests per min (RPM): Limit 2, "
        "Used 2, Requested 1. Please try again in 30s. Visit https://platform.openai.com/account/rate-limits to "
        "learn more.",
        "type": "requests",
        "param": None,
        "code": "rate_limit_exceeded",
    }
    assert err.response.headers["retry-after"] == "30"
    assert err.response.headers["retry-after-ms"] == "30000"
    assert err.response.headers["x-ratelimit-remaining-requests"] == "0"
    assert api.sim.metrics.rate_limited == {"rpm": 1}
    assert api.sim.calls.last.fault is None  # a limit, not an injected fault


def test_sdk_retry_waits_on_the_simulated_clock_and_then_succeeds(stack: str, mode: str) -> None:
    api = Driver(FakeAI(rpm=1), stack, mode)
    api.chat(messages=HI)
    result = api.chat(messages=HI)  # 429, retry-after 60 s: the SDK "waits" a minute of simulated time
    assert result.choices[0].message.content
    assert [c.response.status for c in api.sim.calls] == [200, 429, 200]
    assert api.sim.clock.elapsed() == pytest.approx(60.0)
    assert api.sim.calls[2].started == pytest.approx(60.0)
    assert api.sim.metrics.retry_wait == pytest.approx(60.0)


def test_tokens_per_minute_and_request_too_large() -> None:
    sim = FakeAI(tpm=100)
    client = sim.client(max_retries=0)
    client.chat.completions.create(model="gpt-4o", messages=HI, max_tokens=60)
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model="gpt-4o", messages=HI, max_tokens=60)
    assert info.value.type == "tokens"
    assert "on tokens per min (TPM): Limit 100, Used 62, Requested 62. Please try again in 14.4s." in info.value.message
    with pytest.raises(openai.RateLimitError) as info:
        sim.client(max_retries=2).chat.completions.create(model="gpt-4o", messages=HI, max_tokens=500)
    assert "Request too large for gpt-4o in organization org-fakeai on tokens per min (TPM): Limit 100, " in str(
        info.value
    )
    assert info.value.response.headers["x-should-retry"] == "false"
    assert sim.metrics.retries == 0  # the SDK honoured x-should-retry: false


def test_limits_are_per_key_and_model_with_overrides() -> None:
    sim = FakeAI(rpm=100, rate_limits={"gpt-4o-mini:rpm": 1, "sk-small:rpm": 2})
    a = sim.client(api_key="sk-a", max_retries=0)
    small = sim.client(api_key="sk-small", max_retries=0)
    a.chat.completions.create(model="gpt-4o-mini", messages=HI)
    with pytest.raises(openai.RateLimitError):
        a.chat.completions.create(model="gpt-4o-mini", messages=HI)
    small.chat.completions.create(model="gpt-4o-mini", messages=HI)  # its own bucket
    for _ in range(5):
        a.chat.completions.create(model="gpt-4o", messages=HI)  # the model's own bucket, 100 RPM
    small.chat.completions.create(model="gpt-4o", messages=HI)
    small.chat.completions.create(model="gpt-4o", messages=HI)
    with pytest.raises(openai.RateLimitError):
        small.chat.completions.create(model="gpt-4o", messages=HI)


def test_daily_limit_tells_the_sdk_not_to_wait() -> None:
    sim = FakeAI(rpd=1)
    client = sim.client(max_retries=2)
    client.chat.completions.create(model="gpt-4o", messages=HI)
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model="gpt-4o", messages=HI)
    message = str(info.value.body["message"])  # type: ignore[index]
    # a day, less the simulated seconds an older SDK spent retrying (see below)
    assert re.search(
        r"requests per day \(RPD\): Limit 1, Used 1, Requested 1\. Please try again in (24h0m0s|23h59m[\d.]+s)\.",
        message,
    )
    assert int(info.value.response.headers["retry-after"]) in (86_399, 86_400)  # less any retrying
    # openai >= 2.52 gives up on a retry-after over 120 s; older SDKs ignore a retry-after over 60 s
    # and retry with their own backoff (which cannot help against a daily limit)
    version = tuple(int(x) for x in openai.__version__.split(".")[:2])
    assert sim.metrics.retries == (0 if version >= (2, 52) else 2)


def test_buckets_refill_continuously() -> None:
    bucket = Bucket(60, 60.0, now=0.0)
    bucket.level = 0
    bucket.refill(0.5)
    assert bucket.level == pytest.approx(0.5)
    assert bucket.wait_for(1) == pytest.approx(0.5)
    assert bucket.wait_for(61) == math.inf
    limiter = RateLimiter({"rpm": 2})
    assert limiter.admit("k", "m", 0, 0.0).limited is None
    assert limiter.admit("k", "m", 0, 0.0).limited is None
    refused = limiter.admit("k", "m", 0, 0.0)
    assert refused.limited == "rpm" and refused.retry_after == pytest.approx(30.0)
    assert limiter.admit("k", "m", 0, 30.0).limited is None


def test_no_limits_no_headers() -> None:
    sim = FakeAI()
    raw = sim.client().chat.completions.with_raw_response.create(model="gpt-4o", messages=HI)
    assert not [k for k in raw.headers if k.startswith("x-ratelimit")]
