"""Each fault kind, through the real openai SDK: the exception the SDK raises against the real
service, the exact status, body and headers, on both stacks, sync and async."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

from pytest_fakeai import FakeAI
from tests._support.drive import DROPPED, Driver
from tests._support.spec import check_error

# What a stream cut mid-way raises while it is iterated: openai 3 wraps the HTTP library's error in
# APIConnectionError; openai 1.x/2.x let httpx's RemoteProtocolError through (against the real
# service too).
STREAM_CUT: tuple[type[Exception], ...] = (openai.APIConnectionError, *DROPPED)

OVERLOADED = (
    "That model is currently overloaded with other requests. You can retry your request, or contact us "
    "through our help center at help.openai.com if the error persists."
)

# kind -> (SDK exception, status, type, code)
HTTP_KINDS: dict[str, tuple[type[Exception], int, str, Any]] = {
    "context_length_exceeded": (openai.BadRequestError, 400, "invalid_request_error", "context_length_exceeded"),
    "invalid_api_key": (openai.AuthenticationError, 401, "invalid_request_error", "invalid_api_key"),
    "permission_denied": (
        openai.PermissionDeniedError,
        403,
        "request_forbidden",
        "unsupported_country_region_territory",
    ),
    "model_not_found": (openai.NotFoundError, 404, "invalid_request_error", "model_not_found"),
    "request_timeout": (openai.APIStatusError, 408, "timeout_error", "request_timeout"),
    "conflict": (openai.ConflictError, 409, "invalid_request_error", "conflict"),
    "rate_limit_requests": (openai.RateLimitError, 429, "requests", "rate_limit_exceeded"),
    "rate_limit_tokens": (openai.RateLimitError, 429, "tokens", "rate_limit_exceeded"),
    "insufficient_quota": (openai.RateLimitError, 429, "insufficient_quota", "insufficient_quota"),
    "server_error": (openai.InternalServerError, 500, "server_error", None),
    "bad_gateway": (openai.InternalServerError, 502, "cf_bad_gateway", 502),
    "overloaded": (openai.InternalServerError, 503, "service_unavailable_error", "server_is_overloaded"),
    "service_unavailable": (openai.InternalServerError, 503, "server_error", None),
    "gateway_timeout": (openai.InternalServerError, 504, "cf_gateway_timeout", 504),
}


def _driver(stack: str, mode: str, **settings: Any) -> Driver:
    return Driver(FakeAI(seed=5, **settings), stack, mode)


@pytest.mark.parametrize("kind", sorted(HTTP_KINDS))
def test_http_fault_is_the_sdk_exception_with_the_exact_body(kind: str, stack: str, mode: str) -> None:
    exc_type, status, err_type, code = HTTP_KINDS[kind]
    api = _driver(stack, mode, error_rate=1.0, error_types=[kind])
    api.client = api.client.with_options(max_retries=0)
    with pytest.raises(exc_type) as info:
        api.chat(messages=[{"role": "user", "content": "hi"}])
    err = info.value
    assert isinstance(err, openai.APIStatusError)
    assert err.status_code == status
    body = json.loads(err.response.content)
    if isinstance(code, int):  # Cloudflare's own JSON in front of the API: integer code, one line
        assert err.response.content == json.dumps(body, separators=(",", ":")).encode()
        assert list(body["error"]) == ["code", "message", "param", "type"]
    else:
        check_error(body)
    assert body["error"]["type"] == err_type
    assert body["error"]["code"] == code
    assert err.code in (code, str(code))  # openai 3 turns an integer code into a string, 1.x/2.x keep it
    assert err.type == err_type
    assert err.response.headers["x-request-id"].startswith("req_")
    call = api.sim.calls.last
    assert call.fault == kind and call.response.status == status
    assert api.sim.metrics.faults == {kind: 1}


def test_overloaded_comes_in_both_forms() -> None:
    for kind, (err_type, code) in {
        "503": ("service_unavailable_error", "server_is_overloaded"),
        "service_unavailable": ("server_error", None),
    }.items():
        sim = FakeAI(error_rate=1.0, error_types=[kind])
        with pytest.raises(openai.InternalServerError) as info:
            sim.client(max_retries=0).models.list()
        assert info.value.body == {"message": OVERLOADED, "type": err_type, "param": None, "code": code}


def test_rate_limit_fault_carries_consistent_headers(stack: str) -> None:
    sim = FakeAI(error_rate=1.0, error_types=["429"])
    with pytest.raises(openai.RateLimitError) as info:
        sim.client(stack=stack, max_retries=0).chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )
    headers = info.value.response.headers
    assert str(info.value.body["message"]).startswith(  # type: ignore[index]
        "Rate limit reached for gpt-4o-mini in organization org-fakeai on requests per min (RPM): "
        "Limit 60, Used 60, Requested 1. Please try again in 1s."
    )
    assert headers["retry-after"] == "1" and headers["retry-after-ms"] == "1000"
    assert headers["x-ratelimit-limit-requests"] == "60"
    assert headers["x-ratelimit-remaining-requests"] == "0"
    assert headers["x-ratelimit-reset-requests"] == "1s"
    assert headers["x-ratelimit-reset-tokens"] == "59.874s"


def test_context_length_fault_names_the_models_window() -> None:
    sim = FakeAI(error_rate=1.0, error_types=["400"])
    with pytest.raises(openai.BadRequestError) as info:
        sim.client(max_retries=0).chat.completions.create(model="gpt-4", messages=[{"role": "user", "content": "x"}])
    assert info.value.param == "messages"
    assert "maximum context length is 8192 tokens. However, your messages resulted in 8321 tokens." in str(info.value)


def test_timeout_fault_raises_api_timeout_error_and_moves_the_clock(stack: str, mode: str) -> None:
    api = _driver(stack, mode, error_rate=1.0, error_types=["timeout"])
    api.client = api.client.with_options(max_retries=0, timeout=12.5)
    with pytest.raises(openai.APITimeoutError):
        api.chat(messages=[{"role": "user", "content": "hi"}])
    assert api.sim.clock.elapsed() == pytest.approx(12.5)  # the client gave up after its read timeout
    call = api.sim.calls.last
    assert call.fault == "timeout" and call.response.status == 0
    assert api.sim.metrics.requests(status=0) == 1


def test_connection_reset_raises_api_connection_error(stack: str, mode: str) -> None:
    api = _driver(stack, mode, error_rate=1.0, error_types=["connection_reset"])
    api.client = api.client.with_options(max_retries=0)
    with pytest.raises(openai.APIConnectionError) as info:
        api.chat(messages=[{"role": "user", "content": "hi"}])
    assert not isinstance(info.value, openai.APITimeoutError)
    assert api.sim.calls.last.fault == "connection_reset"


@pytest.mark.parametrize("cut_after", [1, 3])
def test_stream_cut_raises_after_the_chunks_it_let_through(stack: str, mode: str, cut_after: int) -> None:
    api = _driver(stack, mode, error_rate=1.0, error_types=["stream_cut"], stream_cut_after=cut_after)
    api.client = api.client.with_options(max_retries=0)
    received: list[Any] = []

    def consume() -> None:
        if mode == "sync":
            for chunk in api.client.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "hi"}], stream=True
            ):
                received.append(chunk)
        else:
            import asyncio

            async def run() -> None:
                stream = await api.client.chat.completions.create(
                    model="gpt-4o", messages=[{"role": "user", "content": "hi"}], stream=True
                )
                async for chunk in stream:
                    received.append(chunk)

            asyncio.run(run())

    with pytest.raises(STREAM_CUT):
        consume()
    assert len(received) == cut_after
    call = api.sim.calls.last
    assert call.fault == "stream_cut" and len(call.response.chunks) == cut_after
    assert not call.response.complete


def test_stream_error_event_raises_api_error(stack: str, mode: str) -> None:
    api = _driver(stack, mode, error_rate=1.0, error_types=["stream_error"], stream_cut_after=2)
    with pytest.raises(openai.APIError) as info:
        api.chat(messages=[{"role": "user", "content": "hi"}], stream=True)
    assert "The server had an error while processing your request" in str(info.value)
    events = api.sim.calls.last.response.events
    assert len(events) == 3 and events[-1] == {
        "error": {
            "message": "The server had an error while processing your request. Sorry about that!",
            "type": "server_error",
            "param": None,
            "code": None,
        }
    }


def test_stream_only_kinds_are_never_drawn_for_plain_requests() -> None:
    sim = FakeAI(error_rate=1.0, error_types=["stream_cut", "stream_error"])
    client = sim.client(max_retries=0)
    for _ in range(20):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    assert sim.metrics.faults == {}


def test_sequence_fails_the_first_two_then_succeeds(stack: str, mode: str) -> None:
    api = _driver(stack, mode, error_sequence="503,503,ok")
    result = api.chat(messages=[{"role": "user", "content": "hi"}])  # the SDK's 2 retries absorb both
    assert result.choices[0].message.content
    assert [c.response.status for c in api.sim.calls] == [503, 503, 200]
    assert api.sim.metrics.retries == 2
    assert [c.request.headers["x-stainless-retry-count"] for c in api.sim.calls] == ["0", "1", "2"]


def test_per_model_and_per_endpoint_rates() -> None:
    sim = FakeAI(error_rates={"gpt-4o": 1.0, "/v1/models": 1.0}, error_types=["500"])
    client = sim.client(max_retries=0)
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.InternalServerError):
        client.models.list()
    assert sim.metrics.requests(model="gpt-4o", status=500) == 1
    assert sim.metrics.requests(model="gpt-4o-mini", status=200) == 1
    assert sim.metrics.requests(endpoint="models", status=500) == 1


def test_a_spike_applies_only_inside_its_window() -> None:
    sim = FakeAI(error_spikes=["10-20:1.0"], error_types=["503"])
    client = sim.client(max_retries=0)
    client.models.list()
    sim.clock.advance(10)
    with pytest.raises(openai.InternalServerError):
        client.models.list()
    sim.clock.advance(10)
    client.models.list()
    assert [c.response.status for c in sim.calls] == [200, 503, 200]


def test_faults_apply_on_every_route_with_the_global_rate() -> None:
    sim = FakeAI(error_rate=1.0, error_types=["500"])
    with pytest.raises(openai.InternalServerError):
        sim.client(max_retries=0).models.retrieve("gpt-4o")
