"""The real port, spoken to with plain HTTP (http.client and raw sockets): errors, limits, dropped clients."""

from __future__ import annotations

import http.client
import json
import socket
import time
from collections.abc import Callable
from typing import Any

import pytest

from pytest_fakeai import FakeAI
from pytest_fakeai.adapters.server import Server, ServerError, serve

Serve = Callable[..., Server]
CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}


def post(server: Server, path: str, body: bytes, method: str = "POST") -> tuple[int, dict[str, str], Any]:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        conn.request(method, path, body=body, headers={"content-type": "application/json"})
        response = conn.getresponse()
        data = response.read()
        headers = {k.lower(): v for k, v in response.getheaders()}
        return response.status, headers, json.loads(data)
    finally:
        conn.close()


def test_url_is_loopback_with_the_real_port(serve: Serve) -> None:
    server = serve()
    assert server.port > 0
    assert server.url == f"http://127.0.0.1:{server.port}/v1"
    assert server.running


def test_malformed_json_is_an_openai_400(serve: Serve) -> None:
    status, headers, body = post(serve(), "/v1/chat/completions", b'{"model": ')
    assert status == 400
    assert headers["content-type"] == "application/json"
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert "could not parse the JSON body" in body["error"]["message"]


def test_unknown_route_is_404_and_wrong_method_405(serve: Serve) -> None:
    server = serve()
    status, _, body = post(server, "/v1/nothing-here", b"{}")
    assert status == 404
    assert body["error"]["type"] == "invalid_request_error"
    status, headers, body = post(server, "/v1/chat/completions", b"", method="GET")
    assert status == 405
    assert headers["allow"] == "POST"


def test_body_over_the_limit_is_413(serve: Serve) -> None:
    server = serve(max_body_size=1024)
    status, _, body = post(server, "/v1/chat/completions", b"x" * 4096)
    assert status == 413
    assert body["error"]["code"] == "request_too_large"
    status, _, _ = post(server, "/v1/chat/completions", json.dumps(CHAT).encode())
    assert status == 200  # and it still serves


def test_keep_alive_connection_serves_several_requests(serve: Serve) -> None:
    sim = FakeAI()
    server = serve(sim)
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    for _ in range(3):
        conn.request(
            "POST", "/v1/chat/completions", body=json.dumps(CHAT), headers={"content-type": "application/json"}
        )
        response = conn.getresponse()
        assert response.status == 200
        assert int(response.getheader("content-length") or 0) == len(response.read())
    conn.close()
    assert sim.calls.total == 3


def test_client_disconnect_mid_stream_leaves_the_server_serving(serve: Serve) -> None:
    sim = FakeAI(clock="real", itl=0.05)
    server = serve(sim)
    body = json.dumps({**CHAT, "stream": True, "max_tokens": 200}).encode()
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
            + f"content-length: {len(body)}\r\n\r\n".encode()
            + body
        )
        received = b""
        while b"data: " not in received:
            received += sock.recv(4096)
        assert received.startswith(b"HTTP/1.1 200")
    call = sim.calls.last
    deadline = time.monotonic() + 5
    while call.ended is None and time.monotonic() < deadline:  # the server notices and closes the stream
        time.sleep(0.02)
    assert call.ended is not None
    assert call.response.complete is False
    assert len(call.response.chunks) < 50  # it stopped producing: 200 tokens would take ~10 s
    status, _, _ = post(server, "/v1/chat/completions", json.dumps(CHAT).encode())
    assert status == 200


def test_serve_returns_a_started_server_and_stop_is_idempotent() -> None:
    with serve(FakeAI()) as server:
        status, _, body = post(server, "/v1/models", b"", method="GET")
        assert status == 200
        assert body["object"] == "list"
    assert not server.running
    server.stop()


def test_a_port_in_use_is_a_clear_error(serve: Serve) -> None:
    taken = serve()
    with pytest.raises(ServerError, match="could not start"):
        Server(FakeAI(), port=taken.port).start()
