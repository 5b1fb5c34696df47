"""A bounded fuzz run against the real port, over raw sockets to 127.0.0.1.

Malformed request lines, invalid and huge headers, bad Content-Length, broken chunked
bodies, every method on every route, bad JSON and wrong types (hypothesis), bodies over
the 32 MiB limit and slow clients.  Whatever is sent: no 5xx, every JSON error is
OpenAI-shaped, every connection gets an answer or a close within a bounded time, and the
server still answers a normal request afterwards.

The only non-JSON answers are uvicorn's own (they never reach the app), text/plain 400s:
``Invalid HTTP request received.`` for bytes h11 cannot parse as HTTP/1.1, and ``Failed to
open a WebSocket connection: ...`` for a broken websocket upgrade.

``FAKEAI_FUZZ_EXAMPLES`` (default 300) sets the hypothesis example count for a longer run.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_fakeai import FakeAI
from pytest_fakeai.adapters.server import Server

EXAMPLES = int(os.environ.get("FAKEAI_FUZZ_EXAMPLES", "300"))
REQUEST_TIMEOUT = 1.5  # the server's deadline for a complete request, short here so slow clients end fast
ANSWER_WITHIN = REQUEST_TIMEOUT + 4.0  # every connection is answered or closed by then
LIMIT = 32 * 1024 * 1024
ROUTES = [
    "/v1/chat/completions",
    "/v1/completions",
    "/v1/models",
    "/v1/models/x",
    "/v1/models/gpt-4o",
    "/v1/nothing",
    "/",
    "/v1",
    "/v1/chat/completions?x=1&&=",
    "/v1/%2e%2e/models",
    "/v1/models/%ff%00",
]
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "FOO"]
#: The plain-text 400s of uvicorn (h11) and of its websocket handshake: they never reach the app.
UVICORN_400 = (b"Invalid HTTP request received.", b"Failed to open a WebSocket connection")
CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class Answer:
    responses: list[Response] = field(default_factory=list)
    closed: bool = False  # the server closed (or reset) the connection
    raw: bytes = b""


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    errors = _Errors()
    loggers = [logging.getLogger(name) for name in ("pytest_fakeai", "uvicorn.error", "asyncio")]
    for logger in loggers:
        logger.addHandler(errors)
    sim = FakeAI(max_calls=10)
    server = Server(sim, request_timeout=REQUEST_TIMEOUT).start()
    try:
        exchange(server, post("/v1/chat/completions", json.dumps(CHAT).encode()))  # warm up
        yield server
        # afterwards: still serving, and nothing went wrong inside
        answer = exchange(server, post("/v1/chat/completions", json.dumps(CHAT).encode()))
        assert [r.status for r in answer.responses] == [200]
        assert [r.getMessage() for r in errors.records] == []
    finally:
        server.stop()
        for logger in loggers:
            logger.removeHandler(errors)


def post(path: str, body: bytes, method: str = "POST", extra: bytes = b"") -> bytes:
    return (
        f"{method} {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n".encode()
        + extra
        + f"content-length: {len(body)}\r\n\r\n".encode()
        + body
    )


def _parse(buffer: bytes, head_request: bool) -> tuple[Response, bytes] | None:
    """The first complete response in ``buffer`` and what follows it, or None."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    lines = buffer[:end].decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    rest = buffer[end + 4 :]
    if head_request or status in (204, 304) or 100 <= status < 200:
        return Response(status, headers, b""), rest
    if "content-length" in headers:
        length = int(headers["content-length"])
        if len(rest) < length:
            return None
        return Response(status, headers, rest[:length]), rest[length:]
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            line_end = rest.find(b"\r\n")
            if line_end < 0:
                return None
            size = int(rest[:line_end].split(b";")[0], 16)
            if len(rest) < line_end + 2 + size + 2:
                return None
            body += rest[line_end + 2 : line_end + 2 + size]
            rest = rest[line_end + 2 + size + 2 :]
            if size == 0:
                return Response(status, headers, body), rest
    return None  # delimited by the close


def exchange(server: Server, raw: bytes, *, head_request: bool = False, within: float = ANSWER_WITHIN) -> Answer:
    """Send ``raw`` and read until one response is complete or the server closes."""
    answer = Answer()
    deadline = time.monotonic() + within
    with socket.create_connection((server.host, server.port), timeout=within) as sock:
        with contextlib.suppress(OSError):  # the server may answer and close before taking it all
            sock.sendall(raw)
        while True:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data = sock.recv(65536)
            except TimeoutError:
                pytest.fail(f"no answer and no close within {within} s for {raw[:200]!r}; got {answer.raw[:200]!r}")
            except OSError:  # reset
                data = b""
            if not data:
                answer.closed = True
                break
            answer.raw += data
            if (parsed := _parse(answer.raw, head_request)) is not None and not answer.responses:
                answer.responses.append(parsed[0])
                if parsed[0].headers.get("connection", "").lower() != "close":
                    break  # kept alive: one answer is all this request gets
    buffer = answer.raw
    answer.responses = []
    while buffer and (parsed := _parse(buffer, head_request)) is not None:
        answer.responses.append(parsed[0])
        buffer = parsed[1]
    if buffer.startswith(b"HTTP/") and answer.closed and not answer.responses:
        head, _, body = buffer.partition(b"\r\n\r\n")  # a close-delimited body
        answer.responses.append(Response(int(head.split(b" ")[1]), {}, body))
    return answer


def check(answer: Answer, raw: bytes) -> None:
    """No 5xx; JSON errors OpenAI-shaped; the only other errors are uvicorn's plain 400."""
    assert answer.responses or answer.closed
    for response in answer.responses:
        where = f"for {raw[:300]!r}: {response.status} {response.body[:300]!r}"
        assert response.status < 500, where
        if response.status < 400 or not response.body:
            continue
        if response.headers.get("content-type", "").startswith("application/json"):
            error = json.loads(response.body)["error"]
            assert set(error) == {"message", "type", "param", "code"}, where
            assert isinstance(error["message"], str) and error["message"], where
        else:
            assert response.status == 400, where
            assert response.body.startswith(UVICORN_400), where


# -- the structured cases ----------------------------------------------------------------------

BODY = json.dumps(CHAT).encode()
MALFORMED: list[bytes] = [
    b"GARBAGE\r\n\r\n",
    b"GET\r\n\r\n",
    b"GET /v1/models\r\n\r\n",
    b"GET /v1/models HTTP/9.9\r\nhost: x\r\n\r\n",
    b"GET /v1/models HTTP/1.1\r\n\r\n",  # HTTP/1.1 without Host
    b"GET /v1/models HTTP/1.0\r\n\r\n",
    b"get /v1/models HTTP/1.1\r\nhost: x\r\n\r\n",
    b"\x00\xff\xfe\r\n\r\n",
    b"\r\n\r\n\r\n",
    b"GET /v1/\xff\xfe HTTP/1.1\r\nhost: x\r\n\r\n",
    b"GET /v1/mo dels HTTP/1.1\r\nhost: x\r\n\r\n",
    b"GET http://127.0.0.1/v1/models HTTP/1.1\r\nhost: x\r\n\r\n",
    b"OPTIONS * HTTP/1.1\r\nhost: x\r\n\r\n",
    b"CONNECT 127.0.0.1:80 HTTP/1.1\r\nhost: x\r\n\r\n",
    b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nhost: x\r\n\r\n",  # a request line over the head limit
    b"GET /v1/models HTTP/1.1\nhost: x\n\n",  # bare LF
    b"GET /v1/models HTTP/1.1\r\nhost: x\r\nno-colon-here\r\n\r\n",
    b"GET /v1/models HTTP/1.1\r\nhost: x\r\nbad name: v\r\n\r\n",
    b"GET /v1/models HTTP/1.1\r\nhost: x\r\nx-a : v\r\n\r\n",
    b"GET /v1/models HTTP/1.1\r\nhost: x\r\nx-a: v\x00w\r\n\r\n",
    b"GET /v1/models HTTP/1.1\r\nhost: x\r\nx-a: v\r\n folded\r\n\r\n",
    b"GET /v1/models HTTP/1.1\r\nhost: x\r\nx-\xff: v\r\n\r\n",
    b"GET /v1/models HTTP/1.1\r\nhost: x\r\nx-a: \xff\xfe\r\n\r\n",
    b"GET /v1/models HTTP/1.1\r\nhost: x\r\nauthorization: Bearer \xe9\r\n\r\n",
    b"GET /v1/models HTTP/1.1\r\nhost: x\r\nhost: y\r\n\r\n",
    b"GET /v1/models HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n",
    b"GET /v1/models HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: h2c\r\n\r\n",
    b"GET /v1/models HTTP/1.1\r\nhost: x\r\nexpect: 100-continue\r\ncontent-length: 0\r\n\r\n",
    b"GET /v1/models HTTP/1.1\r\nhost: x\r\n" + b"".join(b"x-h%d: v\r\n" % i for i in range(2000)) + b"\r\n",
    b"GET /v1/models HTTP/1.1\r\nhost: x\r\nx-big: " + b"a" * 100_000 + b"\r\n\r\n",
]
BAD_LENGTHS = [b"-1", b"abc", b"+5", b" 5 ", b"0x10", b"1e3", b"99999999999999999999999", b"5, 6", b"", b"\xff"]
FRAMING: list[bytes] = [
    *(
        b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: " + length + b"\r\n\r\n" + BODY
        for length in BAD_LENGTHS
    ),
    b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\n" + BODY,
    b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n\r\n" + BODY,  # shorter: rest pipelined
    b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n",
    b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n\r\n",  # no length: an empty body
    b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ntransfer-encoding: gzip\r\n\r\n" + BODY,
    b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\ncontent-length: 3\r\n\r\n"
    + b"%x\r\n" % len(BODY)
    + BODY
    + b"\r\n0\r\n\r\n",
    b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n"
    + b"%x\r\n" % len(BODY)
    + BODY
    + b"\r\n0\r\n\r\n",  # well-formed: a 200
    b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n"
    + b"%x;ext=1\r\n" % len(BODY)
    + BODY
    + b"\r\n0\r\nx-trailer: 1\r\n\r\n",
    *(
        b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n" + chunked
        for chunked in [
            b"zz\r\n" + BODY + b"\r\n0\r\n\r\n",
            b"-5\r\nhello\r\n0\r\n\r\n",
            b"\r\n" + BODY + b"\r\n0\r\n\r\n",
            b"5\r\nhelloXX0\r\n\r\n",  # missing CRLF after the data
            b"3\r\nhello\r\n0\r\n\r\n",  # size too small
            b"ffffffffffffffffffff\r\nhello\r\n",  # a size over the limit, then a stall
            b"fffffff\r\nhello",  # 256 MiB announced, then a stall
            b"5\r\nhello\r\n",  # no last chunk: a stall
            b"0\r\n\r\n",  # an empty body
        ]
    ),
    b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n{",  # a stall mid-body
    b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: %d\r\n\r\n{" % (LIMIT + 1),  # declared > limit
    b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: %d\r\n\r\n{" % (10 * LIMIT),
    b"POST /v1/completions HTTP/1.1\r\nhost: x\r\ncontent-length: %d\r\n\r\n" % (LIMIT + 1) + b"x" * 65536,
    b"GET /v1/models HTTP/1.1\r\nhost: x\r\ncontent-length: %d\r\n\r\n" % (LIMIT + 1),
    post("/v1/chat/completions", BODY) + b"GARBAGE\r\n\r\n",  # a good request, then garbage
    post("/v1/chat/completions", BODY) * 3,  # pipelined
]
SLOW: list[bytes] = [
    b"",
    b"P",
    b"POST /v1/chat/completions HTTP/1.1\r\n",
    b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-le",
    b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: 50\r\n\r\n",
    b'POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: 50\r\n\r\n{"model": ',
    b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhel",
]


def routes_and_methods() -> list[bytes]:
    cases = []
    for path in ROUTES:
        for method in METHODS:
            for body in (b"", b"{}", BODY, b"not json", b"[]", b"null"):
                cases.append(post(path, body, method=method))
    return cases


def _run(server: Server, cases: list[bytes]) -> int:
    for raw in cases:
        head_request = raw.startswith(b"HEAD ")
        check(exchange(server, raw, head_request=head_request), raw)
    return len(cases)


def test_malformed_requests_and_headers(server: Server) -> None:
    _run(server, MALFORMED)


def test_bad_framing_bad_lengths_and_huge_bodies(server: Server) -> None:
    _run(server, FRAMING)


def test_every_method_on_every_route(server: Server) -> None:
    cases = routes_and_methods()
    assert _run(server, cases) == len(ROUTES) * len(METHODS) * 6


def test_a_real_body_over_the_limit_once(server: Server) -> None:
    # the only test sending more than 32 MiB: chunked, so no length announces it
    chunk = b"x" * (1024 * 1024)
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n")
        try:
            for _ in range(40):
                sock.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
        except OSError:
            pass  # the server answered 413 and closed while we were still sending
        received = b""
        try:
            while data := sock.recv(65536):
                received += data
        except OSError:
            pass
    if received:  # a reset may destroy the answer in flight; what does arrive is the 413
        assert received.startswith(b"HTTP/1.1 413"), received[:100]
        assert b'"request_too_large"' in received


def test_slow_clients_are_closed_while_others_are_served(server: Server) -> None:
    opened = time.monotonic()
    socks = [socket.create_connection((server.host, server.port), timeout=10) for _ in SLOW * 5]
    try:
        for sock, raw in zip(socks, SLOW * 5, strict=True):
            if raw:
                sock.sendall(raw)
        answer = exchange(server, post("/v1/chat/completions", BODY))  # the others do not wait for them
        assert [r.status for r in answer.responses] == [200]
        assert time.monotonic() - opened < REQUEST_TIMEOUT
        for sock in socks:
            sock.settimeout(max(0.01, opened + ANSWER_WITHIN - time.monotonic()))
            with contextlib.suppress(ConnectionResetError):
                assert sock.recv(65536) == b""  # closed, without an answer
    finally:
        for sock in socks:
            sock.close()


# -- bodies: hypothesis ------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
KEYS = [
    "model",
    "messages",
    "prompt",
    "stream",
    "max_tokens",
    "max_completion_tokens",
    "n",
    "temperature",
    "top_p",
    "stop",
    "seed",
    "tools",
    "tool_choice",
    "response_format",
    "stream_options",
    "logprobs",
    "top_logprobs",
    "echo",
    "suffix",
    "best_of",
    "user",
    "logit_bias",
    "parallel_tool_calls",
]
message = st.fixed_dictionaries(
    {},
    optional={
        "role": st.sampled_from(["user", "system", "assistant", "tool", "developer", "x"]) | json_values,
        "content": st.text(max_size=40) | json_values,
        "name": json_values,
        "tool_calls": json_values,
        "tool_call_id": json_values,
    },
)
request_objects = st.fixed_dictionaries(
    {},
    optional={
        "model": st.sampled_from(["gpt-4o", "gpt-3.5-turbo-instruct", "x", ""]) | json_values,
        "messages": st.lists(message, max_size=3) | json_values,
        "prompt": st.text(max_size=40) | st.lists(st.text(max_size=10), max_size=3) | json_values,
        "stream": st.booleans() | json_values,
        "max_tokens": st.integers(min_value=-5, max_value=64) | json_values,
        "n": st.integers(min_value=-1, max_value=4) | json_values,
        "stream_options": st.fixed_dictionaries({"include_usage": st.booleans()}) | json_values,
    },
).flatmap(
    lambda base: st.dictionaries(st.sampled_from(KEYS), json_values, max_size=3).map(lambda extra: {**extra, **base})
)
bodies = (
    request_objects.map(lambda obj: json.dumps(obj).encode())
    | json_values.map(lambda value: json.dumps(value).encode())
    | st.binary(max_size=200)
    | st.text(max_size=100).map(lambda text: text.encode("utf-8", "surrogatepass"))
)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=EXAMPLES <= 300,  # the CI run is the same every time; a long run explores
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
@given(
    path=st.sampled_from(ROUTES[:5]),
    method=st.sampled_from(["POST"] * 6 + METHODS),
    body=bodies,
    content_type=st.sampled_from([b"application/json", b"text/plain", b"application/json; charset=latin-1", b""]),
)
def test_bodies_and_json_of_every_shape(
    server: Server, path: str, method: str, body: bytes, content_type: bytes
) -> None:
    raw = post(path, body, method=method).replace(b"application/json", content_type, 1)
    check(exchange(server, raw, head_request=method == "HEAD"), raw)
