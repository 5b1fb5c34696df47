"""The resilient client against the simulator: trimming, model fallback, retries with backoff."""

from __future__ import annotations

import importlib
import itertools
import json
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from app.resilient import ResilientChat, trim_oldest

# The HTTP stack the installed openai is built on: httpx2 for openai >= 3, httpx before.
STACK = "httpx2" if int(openai.__version__.split(".")[0]) >= 3 else "httpx"
http = importlib.import_module(STACK)

SYSTEM = {"role": "system", "content": "You are a concise assistant."}
LONG = " ".join(f"In meeting {i} the team reviewed item {i * 7} of the quarterly plan." for i in range(90))


def long_history() -> list[dict[str, Any]]:
    """A conversation of about 13,000 tokens (gpt-4's window is 8,192), with one tool exchange early on."""
    messages: list[dict[str, Any]] = [
        SYSTEM,
        {"role": "user", "content": "What is 2 + 2?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "call_add_1", "type": "function", "function": {"name": "add", "arguments": '{"a":2,"b":2}'}}
            ],
        },
        {"role": "tool", "tool_call_id": "call_add_1", "content": "4"},
        {"role": "assistant", "content": "2 + 2 = 4."},
    ]
    for i in range(6):
        messages.append({"role": "user", "content": f"Part {i}: {LONG}"})
        messages.append({"role": "assistant", "content": f"Noted part {i}. {LONG}"})
    messages.append({"role": "user", "content": "Summarise the decisions so far in one line."})
    return messages


def error_code(call: Any) -> str | None:
    return (call.response.json or {}).get("error", {}).get("code")


# -- context_length_exceeded -----------------------------------------------------------------
def test_trims_the_oldest_messages_until_the_request_fits(fakeai, fakeai_client):
    sleeps: list[float] = []
    chat = ResilientChat(fakeai_client, model="gpt-4", sleep=sleeps.append)
    history = long_history()

    reply = chat.create(history, max_tokens=500)

    calls = list(fakeai.calls)
    *failed, ok = calls
    assert failed, "the full history must not fit gpt-4"
    assert all(c.response.status == 400 and error_code(c) == "context_length_exceeded" for c in failed)
    assert ok.response.status == 200
    assert reply.choices[0].message.content == ok.response.text != ""
    assert sleeps == []  # trimming is not a reason to wait

    sent = [c.request.json["messages"] for c in calls]
    assert sent[0] == history
    for messages in sent:
        assert messages[0] == SYSTEM  # the system prompt always stays
        assert messages[-1] == history[-1]  # and so does the question
        assert messages[1:] == history[len(history) - len(messages) + 1 :]  # only the oldest were dropped
        answered = {tc["id"] for m in messages for tc in m.get("tool_calls") or ()}
        assert all(m["tool_call_id"] in answered for m in messages if m["role"] == "tool")
    assert all(len(a) > len(b) for a, b in itertools.pairwise(sent))
    # trimmed no more than needed: the last refused request had only the one oldest message more
    assert len(sent[-2]) == len(sent[-1]) + 1
    assert ok.response.json["usage"]["prompt_tokens"] + 500 <= 8192
    assert [a.outcome for a in chat.attempts] == ["context_length_exceeded"] * len(failed) + ["ok"]


def test_a_single_message_too_long_for_the_model_is_an_error(fakeai, fakeai_client):
    chat = ResilientChat(fakeai_client, model="gpt-4")

    with pytest.raises(openai.BadRequestError) as info:
        chat.create([SYSTEM, {"role": "user", "content": LONG * 8}])

    assert info.value.code == "context_length_exceeded"
    assert fakeai.calls.total == 1  # nothing could be trimmed, so nothing was retried


def test_other_bad_requests_are_not_retried(fakeai, fakeai_client):
    chat = ResilientChat(fakeai_client, model="gpt-4", fallback_models=["gpt-4o-mini"])

    with pytest.raises(openai.BadRequestError) as info:
        chat.create([{"role": "user", "content": "hi"}], max_tokens=100_000)  # over gpt-4's output limit

    assert info.value.code == "invalid_value"
    assert fakeai.calls.total == 1


def test_trim_keeps_tool_results_with_their_call():
    history = long_history()
    once = trim_oldest(history)
    assert once == [SYSTEM, *history[2:]]
    twice = trim_oldest(once)
    assert twice == [SYSTEM, *history[4:]]  # the assistant's tool call went together with its result
    assert trim_oldest([SYSTEM, history[-1]]) is None


# -- model_not_found -------------------------------------------------------------------------
@pytest.mark.fakeai(strict_models=True)
def test_falls_back_to_the_next_model_and_stays_there(fakeai, fakeai_client):
    sleeps: list[float] = []
    chat = ResilientChat(fakeai_client, model="gpt-4o-enterprise", fallback_models=["gpt-4o-mini"], sleep=sleeps.append)
    question = [{"role": "user", "content": "Name a prime number."}]

    reply = chat.create(question)
    chat.create(question)

    first, second, third = fakeai.calls
    assert first.request.json["model"] == "gpt-4o-enterprise"
    assert (first.response.status, error_code(first)) == (404, "model_not_found")
    assert second.request.json["model"] == third.request.json["model"] == "gpt-4o-mini"
    assert second.response.status == third.response.status == 200
    assert reply.model.startswith("gpt-4o-mini")
    assert chat.model == "gpt-4o-mini"
    assert sleeps == []


@pytest.mark.fakeai(strict_models=True)
def test_no_model_left_raises_not_found(fakeai, fakeai_client):
    chat = ResilientChat(fakeai_client, model="gpt-4o-enterprise", fallback_models=["gpt-4o-enterprise-mini"])

    with pytest.raises(openai.NotFoundError) as info:
        chat.create([{"role": "user", "content": "hi"}])

    assert info.value.code == "model_not_found"
    assert [c.request.json["model"] for c in fakeai.calls] == ["gpt-4o-enterprise", "gpt-4o-enterprise-mini"]


# -- retries -----------------------------------------------------------------------------------
# The simulator cannot inject faults yet, so a transport in front of it fails the first
# requests (an HTTP status, or an exception class for a connection failure) and then
# lets the simulator answer.
class FlakyTransport(http.BaseTransport):
    def __init__(self, inner: Any, failures: list[Any]) -> None:
        self.inner = inner
        self.failures = list(failures)
        self.requests = 0

    def handle_request(self, request: Any) -> Any:
        self.requests += 1
        if not self.failures:
            return self.inner.handle_request(request)
        failure = self.failures.pop(0)
        if isinstance(failure, type):
            raise failure("connection refused", request=request)
        status, headers = failure if isinstance(failure, tuple) else (failure, {})
        body = {"error": {"message": "try again later", "type": "server_error", "param": None, "code": None}}
        return http.Response(status, headers=headers, content=json.dumps(body).encode(), request=request)


@pytest.fixture
def flaky(fakeai) -> Iterator[Any]:
    """``flaky(*failures)`` -> (an OpenAI client whose first requests fail, its transport)."""
    clients = []

    def make(*failures: Any) -> tuple[Any, FlakyTransport]:
        transport = FlakyTransport(fakeai.transport(STACK), list(failures))
        client = fakeai.client(stack=STACK, http_client=http.Client(transport=transport))
        clients.append(client)
        return client, transport

    yield make
    for client in clients:
        client.close()


def test_retries_rate_limits_and_server_errors_with_backoff(fakeai, flaky):
    client, transport = flaky(429, 503, http.ConnectError)
    sleeps: list[float] = []
    chat = ResilientChat(client, model="gpt-4o-mini", base_delay=0.5, jitter=False, sleep=sleeps.append)

    reply = chat.create([{"role": "user", "content": "hi"}])

    assert sleeps == [0.5, 1.0, 2.0]
    assert transport.requests == 4  # the SDK's own retries are off: every retry is this class's
    assert fakeai.calls.total == 1
    assert reply.choices[0].message.content == fakeai.calls.last.response.text
    assert [a.outcome for a in chat.attempts] == ["rate_limit", "server_error_503", "connection", "ok"]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "3"}, 3.0),
        ({"retry-after-ms": "1500", "retry-after": "2"}, 1.5),
        ({"retry-after": "600"}, 20.0),
    ],
)
def test_retry_after_header_is_honoured(fakeai, flaky, headers, expected):
    client, _ = flaky((429, headers))
    sleeps: list[float] = []
    ResilientChat(client, model="gpt-4o-mini", sleep=sleeps.append).create([{"role": "user", "content": "hi"}])
    assert sleeps == [expected]  # capped at max_delay (20 s by default)
    assert fakeai.calls.total == 1


def test_jittered_backoff_stays_within_bounds(fakeai, flaky):
    client, _ = flaky(500, 500, 500)
    sleeps: list[float] = []
    ResilientChat(client, model="gpt-4o-mini", base_delay=1.0, sleep=sleeps.append).create(
        [{"role": "user", "content": "hi"}]
    )
    assert len(sleeps) == 3
    for retry, delay in enumerate(sleeps):
        assert 0.5 * 2**retry <= delay <= 2**retry


def test_gives_up_after_max_retries(fakeai, flaky):
    client, transport = flaky(429, 429, 429, 429)
    sleeps: list[float] = []
    chat = ResilientChat(client, model="gpt-4o-mini", max_retries=2, jitter=False, sleep=sleeps.append)

    with pytest.raises(openai.RateLimitError):
        chat.create([{"role": "user", "content": "hi"}])

    assert transport.requests == 3
    assert sleeps == [0.5, 1.0]
    assert fakeai.calls.total == 0
