"""The port under abuse: header limits, slow clients, the concurrency bound, graceful
shutdown with streams in flight, and no route that blocks the event loop."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from pytest_fakeai import FakeAI
from pytest_fakeai.adapters.server import (
    DEFAULT_LIMIT_CONCURRENCY,
    DEFAULT_MAX_HEADER_SIZE,
    DEFAULT_REQUEST_TIMEOUT,
    DEFAULT_TIMEOUT_KEEP_ALIVE,
    Server,
)

Serve = Callable[..., Server]
CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}


def request(server: Server, method: str, path: str, body: bytes = b"", timeout: float = 5.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=timeout)
    try:
        conn.request(method, path, body=body or None, headers={"content-type": "application/json"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def chat(server: Server, **extra: object) -> tuple[int, bytes]:
    return request(server, "POST", "/v1/chat/completions", json.dumps({**CHAT, **extra}).encode())


def read_until_closed(sock: socket.socket, deadline: float) -> bytes:
    """Everything the server sends until it closes; fails if it has not closed by ``deadline``."""
    received = b""
    while True:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            data = sock.recv(65536)
        except TimeoutError:
            pytest.fail(f"the server did not close the connection in time (got {received[:80]!r})")
        except ConnectionResetError:
            return received
        if not data:
            return received
        received += data


def open_stream(server: Server, max_tokens: int) -> socket.socket:
    """A raw connection with a streamed chat completion under way (its first event read)."""
    body = json.dumps({**CHAT, "stream": True, "max_tokens": max_tokens}).encode()
    sock = socket.create_connection((server.host, server.port), timeout=10)
    sock.sendall(
        b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
        + f"content-length: {len(body)}\r\n\r\n".encode()
        + body
    )
    received = b""
    while b"data: " not in received:
        data = sock.recv(4096)
        assert data, f"the server closed the stream's connection: {received[:200]!r}"
        received += data
    assert received.startswith(b"HTTP/1.1 200")
    return sock


def test_the_defaults() -> None:
    server = Server(FakeAI())
    assert server.max_header_size == DEFAULT_MAX_HEADER_SIZE == 64 * 1024
    assert server.request_timeout == DEFAULT_REQUEST_TIMEOUT == 30.0
    assert server.timeout_keep_alive == DEFAULT_TIMEOUT_KEEP_ALIVE == 5
    assert server.limit_concurrency == DEFAULT_LIMIT_CONCURRENCY == 512


@pytest.mark.parametrize(
    "kwargs",
    [{"max_header_size": 10}, {"request_timeout": 0}, {"timeout_keep_alive": 0}, {"limit_concurrency": 0}],
)
def test_bad_limits_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        Server(FakeAI(), **kwargs)  # type: ignore[arg-type]


# -- headers -----------------------------------------------------------------------------------


def assert_431(answer: bytes) -> None:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431"), answer[:100]
    assert b"connection: close" in head.lower()
    error = json.loads(body)["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["code"] == "request_header_fields_too_large"


def test_an_oversized_header_block_is_a_431_not_a_hang(serve: Serve) -> None:
    server = serve(max_header_size=16 * 1024)
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(b"GET /v1/models HTTP/1.1\r\nhost: x\r\n")
        # one header bigger than the whole limit, never terminated: h11 gives up as soon as
        # its buffer passes the limit, it does not wait for the end of the head.
        sock.sendall(b"x-big: " + b"a" * (20 * 1024))
        answer = read_until_closed(sock, time.monotonic() + 5)
    assert_431(answer)
    status, _ = request(server, "GET", "/v1/models")
    assert status == 200


def test_a_complete_head_over_the_limit_in_one_read_is_a_431(serve: Serve) -> None:
    # h11's own limit only bounds an incomplete head; this one arrives whole
    server = serve(max_header_size=16 * 1024)
    headers = b"".join(b"x-h%d: %s\r\n" % (i, b"v" * 100) for i in range(300))  # ~32 KiB
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(b"GET /v1/models HTTP/1.1\r\nhost: x\r\n" + headers + b"\r\n")
        answer = read_until_closed(sock, time.monotonic() + 5)
    assert_431(answer)
    assert request(server, "GET", "/v1/models")[0] == 200


def test_a_large_header_under_the_limit_is_served(serve: Serve) -> None:
    server = serve()  # 64 KiB: a long bearer token or cookie fits
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    try:
        conn.request("GET", "/v1/models", headers={"authorization": "Bearer " + "t" * 40_000})
        assert conn.getresponse().status == 200
    finally:
        conn.close()


# -- slow clients ------------------------------------------------------------------------------


def still_open(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        return bool(sock.recv(1, socket.MSG_PEEK))  # b"": closed
    except BlockingIOError:
        return True  # nothing to read and not closed
    except OSError:
        return False
    finally:
        sock.setblocking(True)


def test_a_slowloris_head_does_not_block_others_and_is_closed(serve: Serve) -> None:
    server = serve(request_timeout=2.0)
    assert chat(server)[0] == 200  # warm up (the tokenizer loads on first use)
    stalled = [socket.create_connection((server.host, server.port), timeout=5) for _ in range(20)]
    try:
        opened = time.monotonic()
        for sock in stalled:
            sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-")  # ... and stall
        for _ in range(10):  # uvicorn serves connections concurrently: the stalled ones hold nothing up
            t0 = time.monotonic()
            assert chat(server)[0] == 200
            assert time.monotonic() - t0 < 1.0
        if time.monotonic() - opened < 1.5:  # (on a loaded machine, skip: the deadline may be near)
            assert all(still_open(sock) for sock in stalled)  # answered while they were held
        for sock in stalled:  # and the stalled ones are cut at the deadline, without an answer
            assert read_until_closed(sock, opened + 2.0 + 3.0) == b""
        assert time.monotonic() - opened > 1.9
    finally:
        for sock in stalled:
            sock.close()


def test_trickling_a_head_byte_by_byte_does_not_extend_the_deadline(serve: Serve) -> None:
    server = serve(request_timeout=1.0)
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        opened = time.monotonic()
        closed = False
        for byte in b"GET /v1/models HTTP/1.1\r\nx-slow: " + b"z" * 100:
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                closed = True
                break
            time.sleep(0.05)
            if time.monotonic() - opened > 4:
                break
        if not closed:
            assert read_until_closed(sock, opened + 4.0) == b""
        assert time.monotonic() - opened < 3.5


def test_a_stalled_body_is_cut_and_the_server_carries_on(serve: Serve) -> None:
    sim = FakeAI()
    server = serve(sim, request_timeout=1.0)
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        opened = time.monotonic()
        sock.sendall(b'POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n{"model"')
        status, _ = chat(server)  # answered while the body is awaited
        assert status == 200
        assert read_until_closed(sock, opened + 4.0) == b""
    assert sim.calls.total == 1  # the incomplete request never reached the simulator


def test_a_complete_request_is_not_cut_by_the_request_timeout(serve: Serve) -> None:
    # the deadline is on reading the request, not on answering it: a long stream outlives it
    server = serve(FakeAI(clock="real", itl=0.02, output_tokens=150), request_timeout=1.0)
    assert chat(server, max_tokens=1)[0] == 200  # warm up
    sock = open_stream(server, max_tokens=150)  # 3 s
    with sock:
        received = b""
        sock.settimeout(5)
        while b"data: [DONE]" not in received:
            data = sock.recv(65536)
            assert data, "the stream was cut"
            received += data


def test_an_idle_keep_alive_connection_is_closed(serve: Serve) -> None:
    server = serve(timeout_keep_alive=1)
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(b"GET /v1/models HTTP/1.1\r\nhost: x\r\n\r\n")
        answered = time.monotonic()
        answer = read_until_closed(sock, answered + 4.0)
        assert answer.startswith(b"HTTP/1.1 200")
        assert 0.8 < time.monotonic() - answered < 3.5


def test_over_the_concurrency_limit_uvicorn_answers_503_then_recovers(serve: Serve) -> None:
    server = serve(limit_concurrency=4)
    held = [socket.create_connection((server.host, server.port), timeout=5) for _ in range(4)]
    try:
        time.sleep(0.2)  # let the server accept them
        with socket.create_connection((server.host, server.port), timeout=5) as sock:
            sock.sendall(b"GET /v1/models HTTP/1.1\r\nhost: x\r\n\r\n")
            answer = read_until_closed(sock, time.monotonic() + 5)
        assert answer.startswith(b"HTTP/1.1 503")  # uvicorn's own, plain text
        assert answer.endswith(b"Service Unavailable")
    finally:
        for sock in held:
            sock.close()
    deadline = time.monotonic() + 5
    while (status := request(server, "GET", "/v1/models")[0]) != 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert status == 200


def test_the_default_limit_does_not_get_in_the_way_of_load(serve: Serve) -> None:
    server = serve()
    with ThreadPoolExecutor(64) as pool:
        statuses = list(pool.map(lambda _: chat(server)[0], range(256)))
    assert statuses == [200] * 256


# -- the event loop ----------------------------------------------------------------------------


def test_long_real_clock_streams_do_not_block_other_requests(serve: Serve) -> None:
    sim = FakeAI(clock="real", itl=0.05, output_tokens=100)
    server = serve(sim)
    streams = [open_stream(server, max_tokens=100) for _ in range(4)]  # 5 s each, all in flight
    try:
        started = time.monotonic()
        for _ in range(20):
            t0 = time.monotonic()
            assert request(server, "GET", "/v1/models")[0] == 200
            assert chat(server, max_tokens=1)[0] == 200  # waits one simulated token: 0.05 s
            assert time.monotonic() - t0 < 1.0
        assert time.monotonic() - started < 4.0  # done while the streams are still going
        assert all(call.ended is None for call in list(sim.calls)[:4])
    finally:
        for sock in streams:
            sock.close()


# -- graceful shutdown -------------------------------------------------------------------------


def server_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("pytest-fakeai-server")]


def test_stop_with_a_stream_in_flight_ends_it_and_leaves_no_thread() -> None:
    before = set(threading.enumerate())
    sim = FakeAI(clock="real", itl=0.05, output_tokens=400)
    server = Server(sim, shutdown_timeout=1.0).start()
    sock = open_stream(server, max_tokens=400)  # 20 s: longer than the grace
    with sock:
        t0 = time.monotonic()
        server.stop()
        elapsed = time.monotonic() - t0
        assert elapsed < 1.0 + 1.5  # the grace, rounded up to a whole second by uvicorn, and a tick
        read_until_closed(sock, time.monotonic() + 2.0)  # the client sees its connection end
    assert not server.running
    assert server_threads() == []
    assert set(threading.enumerate()) <= before  # no thread left behind (nor asyncio's executor)
    call = sim.calls.last
    assert call.response.complete is False


def test_stop_lets_a_short_stream_finish() -> None:
    sim = FakeAI(clock="real", itl=0.02)
    server = Server(sim, shutdown_timeout=3.0).start()
    sock = open_stream(server, max_tokens=20)  # ~0.4 s
    with sock:
        stopper = threading.Thread(target=server.stop)
        stopper.start()
        received = read_until_closed(sock, time.monotonic() + 5)
        stopper.join(5)
    assert not stopper.is_alive()
    assert received.rstrip().endswith(b"0")  # the last chunk of the chunked body
    assert b"data: [DONE]" in received
    assert sim.calls.last.response.complete is True
    assert server_threads() == []


def test_stop_closes_idle_and_slow_connections_at_once() -> None:
    server = Server(FakeAI(), shutdown_timeout=5.0).start()
    idle = socket.create_connection((server.host, server.port), timeout=5)
    slow = socket.create_connection((server.host, server.port), timeout=5)
    with idle, slow:
        idle.sendall(b"GET /v1/models HTTP/1.1\r\nhost: x\r\n\r\n")
        idle.recv(65536)
        slow.sendall(b"GET /v1/mod")
        time.sleep(0.1)
        t0 = time.monotonic()
        server.stop()
        assert time.monotonic() - t0 < 2.0  # nothing in flight: no need to wait out the grace
        assert read_until_closed(slow, time.monotonic() + 2) == b""
    assert server_threads() == []


def test_a_huge_prompt_does_not_block_other_requests(serve: Serve) -> None:
    server = serve()
    assert chat(server)[0] == 200  # warm up
    big = json.dumps({**CHAT, "messages": [{"role": "user", "content": "x " * 8_000_000}]}).encode()  # 16 MB
    worker = threading.Thread(target=request, args=(server, "POST", "/v1/chat/completions", big, 60.0))
    worker.start()
    slowest = 0.0
    try:
        while worker.is_alive():  # other requests while the big one is taken in and answered
            t0 = time.monotonic()
            assert request(server, "GET", "/v1/models", timeout=60.0)[0] == 200
            slowest = max(slowest, time.monotonic() - t0)
            time.sleep(0.05)
    finally:
        worker.join(60)
    assert slowest < 0.5
