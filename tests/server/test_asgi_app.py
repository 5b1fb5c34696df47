"""The ASGI app driven directly (no server, no socket): the edges a real client rarely reaches."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest

from pytest_fakeai import FakeAI
from pytest_fakeai.adapters.asgi import WEBSOCKET_NOT_SERVED, FakeAIApp, make_app
from pytest_fakeai.api.types import ApiResponse, StreamAbort, TimedStream

CHAT = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "stream": True}).encode()


def drive(app: Any, scope: dict[str, Any], incoming: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run ``app`` with ``incoming`` messages (then http.disconnect forever); return what it sent."""
    sent: list[dict[str, Any]] = []
    queue = list(incoming)

    async def receive() -> dict[str, Any]:
        if queue:
            return queue.pop(0)
        await asyncio.sleep(0.01)  # like a server: disconnect is only known once it happens
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def http_scope(path: str = "/v1/chat/completions", method: str = "POST", headers: Any = ()) -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "query_string": b"", "headers": list(headers)}


def body_of(sent: list[dict[str, Any]]) -> bytes:
    return b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def test_websocket_on_another_path_is_closed_cleanly() -> None:
    sent = drive(make_app(FakeAI()), {"type": "websocket", "path": "/v1/other"}, [{"type": "websocket.connect"}])
    assert sent == [{"type": "websocket.close", "code": WEBSOCKET_NOT_SERVED, "reason": "not served"}]


def test_lifespan_is_answered() -> None:
    sent = drive(
        make_app(FakeAI()),
        {"type": "lifespan"},
        [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}],
    )
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_body_over_the_limit_is_413(declared: bool) -> None:
    headers = [(b"content-length", b"2048")] if declared else []
    incoming = [{"type": "http.request", "body": b"x" * 512, "more_body": True} for _ in range(4)]
    sent = drive(FakeAIApp(FakeAI, max_body_size=1024), http_scope(headers=headers), incoming)
    assert sent[0]["status"] == 413
    assert (b"connection", b"close") in sent[0]["headers"]
    error = json.loads(body_of(sent))["error"]
    assert error["code"] == "request_too_large"
    assert "1024" in error["message"]


def test_body_in_pieces_is_joined_and_the_query_and_headers_pass_through() -> None:
    sim = FakeAI()
    half = len(CHAT) // 2
    incoming = [
        {"type": "http.request", "body": CHAT[:half], "more_body": True},
        {"type": "http.request", "body": CHAT[half:], "more_body": False},
    ]
    scope = http_scope(headers=[(b"X-Trace", b"a"), (b"x-trace", b"b")])
    scope["query_string"] = b"api-version=1"
    sent = drive(make_app(sim), scope, incoming)
    assert sent[0]["status"] == 200
    assert body_of(sent).endswith(b"data: [DONE]\n\n")
    request = sim.calls.last.request
    assert request.headers["x-trace"] == "a, b"
    assert request.query == "api-version=1"
    assert sim.calls.last.transport == "asgi"


def test_client_gone_before_the_body_ends_sends_nothing() -> None:
    sim = FakeAI()
    sent = drive(make_app(sim), http_scope(), [{"type": "http.request", "body": b"{", "more_body": True}])
    assert sent == []
    assert sim.calls.total == 0


def test_a_provider_that_fails_gets_an_openai_500(caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> FakeAI:
        raise RuntimeError("no simulator")

    sent = drive(make_app(broken), http_scope(), [{"type": "http.request", "body": CHAT}])
    assert sent[0]["status"] == 500
    assert json.loads(body_of(sent))["error"]["type"] == "server_error"
    assert "no simulator" in caplog.text


class _Aborting:
    """Answers a stream that drops the connection after its first chunk."""

    def __init__(self) -> None:
        self.closed: list[bool] = []

    def chunks(self) -> Iterator[tuple[float, bytes]]:
        yield 0.0, b"data: {}\n\n"
        raise StreamAbort("dropped")

    def handle(self, request: Any, *, transport: str, defer_clock: bool = False) -> ApiResponse:
        stream = TimedStream(self.chunks(), on_close=self.closed.append)
        return ApiResponse(200, [("content-type", "text/event-stream")], stream=stream)

    def pace(self, response: ApiResponse) -> Iterator[tuple[float, bytes]]:
        assert response.stream is not None
        for _, data in response.stream:
            yield 0.0, data


def test_stream_abort_ends_without_the_final_body() -> None:
    sim = _Aborting()
    sent = drive(FakeAIApp(lambda: sim), http_scope(), [{"type": "http.request", "body": CHAT}])  # type: ignore[arg-type,return-value]
    bodies = [m for m in sent if m["type"] == "http.response.body"]
    assert [m["body"] for m in bodies] == [b"data: {}\n\n"]
    assert all(m.get("more_body") for m in bodies)  # never completed: the server drops the connection
    assert sim.closed == [False]


def test_make_app_takes_a_simulator_or_a_provider() -> None:
    sim = FakeAI()
    assert make_app(sim).provider() is sim
    assert make_app(lambda: sim).provider() is sim
    with pytest.raises(TypeError, match="callable"):
        make_app("not a simulator")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_body_size"):
        FakeAIApp(lambda: sim, max_body_size=-1)
