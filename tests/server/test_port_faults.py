"""Faults and API keys on the real port: the SDK sees what it sees against the real service."""

from __future__ import annotations

from collections.abc import Callable

import openai
import pytest

from pytest_fakeai import FakeAI
from pytest_fakeai.adapters.server import Server
from tests._support.drive import DROPPED
from tests._support.drive import http as httpx

HI = [{"role": "user", "content": "hi"}]
Serve = Callable[..., Server]


def _client(server: Server, **kwargs: object) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url, api_key="sk-x", max_retries=0, **kwargs)  # type: ignore[arg-type]


def test_connection_reset_drops_the_connection_and_the_port_keeps_serving(serve: Serve) -> None:
    sim = FakeAI(error_rates={"gpt-4o": 1.0}, error_types=["connection_reset"])
    server = serve(sim)
    with pytest.raises(openai.APIConnectionError) as info:
        _client(server).chat.completions.create(model="gpt-4o", messages=HI)
    assert "disconnected without sending a response" in repr(info.value.__cause__)
    assert _client(server).chat.completions.create(model="gpt-4o-mini", messages=HI).choices
    assert [c.fault for c in sim.calls] == ["connection_reset", None]


def test_timeout_answers_nothing_until_the_client_gives_up(serve: Serve) -> None:
    sim = FakeAI(error_rates={"gpt-4o": 1.0}, error_types=["timeout"])
    server = serve(sim)
    with pytest.raises(openai.APITimeoutError):
        _client(server, timeout=0.3).chat.completions.create(model="gpt-4o", messages=HI)
    assert _client(server).models.list().data


@pytest.mark.parametrize(
    ("kind", "exc"),
    # a cut stream: openai 3 raises APIConnectionError; 1.x/2.x let httpx's RemoteProtocolError through
    [("stream_cut", (openai.APIConnectionError, *DROPPED)), ("stream_error", openai.APIError)],
)
def test_stream_faults_on_the_port(serve: Serve, kind: str, exc: type[Exception] | tuple[type[Exception], ...]) -> None:
    sim = FakeAI(error_rate=1.0, error_types=[kind], stream_cut_after=2)
    server = serve(sim)
    received: list[object] = []
    stream = _client(server).chat.completions.create(model="gpt-4o", messages=HI, stream=True)
    with pytest.raises(exc):
        received.extend(stream)  # keeps the chunks that arrived before the fault
    assert len(received) == 2


def test_http_faults_and_rate_limits_carry_their_headers(serve: Serve) -> None:
    server = serve(FakeAI(rpm=1, error_sequence="ok,502"))
    client = _client(server)
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o", messages=HI)
    assert raw.headers["x-ratelimit-remaining-requests"] == "0"
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model="gpt-4o", messages=HI)
    assert info.value.response.headers["retry-after"] == "60"
    with pytest.raises(openai.InternalServerError) as bad:
        client.models.list()
    assert (
        bad.value.response.content
        == b'{"error":{"code":502,"message":"Bad gateway.","param":null,"type":"cf_bad_gateway"}}'
    )


def test_api_keys_on_every_route_of_the_port(serve: Serve) -> None:
    server = serve(FakeAI(api_keys=["sk-good"]))
    root = server.url.removesuffix("/v1")
    with httpx.Client() as http:
        for method, url in [
            ("GET", f"{server.url}/models"),
            ("POST", f"{server.url}/chat/completions"),
            ("GET", f"{server.url}/nope"),
            ("GET", f"{root}/health"),
            ("GET", f"{root}/metrics"),
        ]:
            response = http.request(method, url, headers={"authorization": "Bearer sk-bad"})
            assert response.status_code == 401, url
            assert response.json()["error"]["code"] == "invalid_api_key"
        assert http.get(f"{server.url}/models", headers={"authorization": "Bearer sk-good"}).status_code == 200
    with pytest.raises(openai.AuthenticationError):
        _client(server).models.list()
    assert openai.OpenAI(base_url=server.url, api_key="sk-good").models.list().data


def test_fast_retries_over_the_port_use_the_headers_the_sdk_honours(serve: Serve) -> None:
    import time

    sim = FakeAI(rpm=1)
    server = serve(sim)
    client = openai.OpenAI(base_url=server.url, api_key="sk-x", max_retries=2)
    client.chat.completions.create(model="gpt-4o", messages=HI)
    started = time.monotonic()
    assert client.chat.completions.create(model="gpt-4o", messages=HI).choices  # 429, then served
    assert time.monotonic() - started < 5  # not the minute the limit imposes
    assert [c.response.status for c in sim.calls] == [200, 429, 200]
    limited = sim.calls[1].response
    assert limited.header("retry-after") == "60" and limited.header("retry-after-ms") == "1"
    assert sim.calls[2].started == pytest.approx(60.0)  # the retry "waited" a simulated minute
    assert sim.metrics.retries == 1


def test_fast_retries_over_the_port_keep_the_sdks_backoff_on_the_timeline(serve: Serve) -> None:
    import time

    sim = FakeAI(error_sequence="503,500")
    server = serve(sim)
    client = openai.OpenAI(base_url=server.url, api_key="sk-x", max_retries=2)
    started = time.monotonic()
    assert client.models.list().data
    assert time.monotonic() - started < 1.5  # the SDK would sleep 0.5 s + 1 s
    assert [c.response.status for c in sim.calls] == [503, 500, 200]
    first, second = (sim.calls[i + 1].started - sim.calls[i].started for i in range(2))
    assert 0.375 <= first <= 0.5 and 0.75 <= second <= 1.0  # the SDK's steps, seeded jitter


def test_fast_retries_off_keeps_the_true_headers_on_the_port(serve: Serve) -> None:
    sim = FakeAI(rpm=1, fast_retries=False)
    server = serve(sim)
    client = _client(server)
    client.chat.completions.create(model="gpt-4o", messages=HI)
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model="gpt-4o", messages=HI)
    assert info.value.response.headers["retry-after-ms"] == "60000"
