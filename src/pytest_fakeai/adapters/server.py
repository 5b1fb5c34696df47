"""A real port: uvicorn serving the ASGI app in a background thread of this process.

``with serve(sim) as server: requests.post(server.url + "/chat/completions", ...)``.
uvicorn (``pip install pytest-fakeai[server]``) is imported on :meth:`Server.start`.

Hardening (docs/serving.md, "Limits and hardening"): a request head over
``max_header_size`` is answered 431 (OpenAI-shaped) and closed; a client must send each complete
request (head and body) within ``request_timeout`` seconds of connecting or of the
previous response, or its connection is closed (slowloris); an idle keep-alive
connection is closed after ``timeout_keep_alive`` seconds; over ``limit_concurrency``
connections or in-flight requests, uvicorn answers 503; ``stop()`` lets in-flight
responses finish for ``shutdown_timeout`` seconds, then cancels them and closes
their connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import re
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..api.errors import ApiError
from .asgi import ABORT_KEY, DEFAULT_MAX_BODY_SIZE, Provider, make_app

if TYPE_CHECKING:
    from ..simulator import FakeAI

__all__ = [
    "DEFAULT_LIMIT_CONCURRENCY",
    "DEFAULT_MAX_HEADER_SIZE",
    "DEFAULT_REQUEST_TIMEOUT",
    "DEFAULT_TIMEOUT_KEEP_ALIVE",
    "FakeAIServer",
    "Server",
    "ServerError",
    "serve",
]

#: Largest request head (request line and headers); beyond it the answer is an OpenAI-shaped 431.
DEFAULT_MAX_HEADER_SIZE = 64 * 1024
#: Seconds a client has to send a complete request (head and body); then the connection is closed.
DEFAULT_REQUEST_TIMEOUT = 30.0
#: Seconds an idle keep-alive connection is kept open (uvicorn's default).
DEFAULT_TIMEOUT_KEEP_ALIVE = 5
#: Open connections or in-flight requests beyond which uvicorn answers 503 (below the usual
#: 1024 file descriptors per process, far above what a test or a benchmark at concurrency 16 opens).
DEFAULT_LIMIT_CONCURRENCY = 512


class ServerError(RuntimeError):
    """The server could not start (port in use, uvicorn missing) or did not stop in time."""


class _DroppedStreamFilter(logging.Filter):
    # A StreamAbort ends a response without its last chunk, on purpose (a dropped
    # connection is the fault being simulated): uvicorn's complaint about it is noise.
    # So is the traceback of a response cancelled when stop() ran out of time.
    def filter(self, record: logging.LogRecord) -> bool:
        msg = str(record.msg)
        if msg.startswith("ASGI callable returned without completing response"):
            return False
        if msg.startswith("Exception in ASGI application") and record.exc_info:
            return not isinstance(record.exc_info[1], asyncio.CancelledError)
        return True


_DROPPED_STREAM_FILTER = _DroppedStreamFilter()


class _Collect(logging.Handler):
    """Keeps uvicorn's startup errors, to name the reason when it fails."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


_END_OF_HEAD = re.compile(rb"\n\r?\n")  # h11 accepts bare LF line ends too


def _head_too_large(max_header_size: int) -> bytes:
    error = ApiError(
        431,
        f"Request header fields too large: the limit is {max_header_size} bytes.",
        code="request_header_fields_too_large",
    )
    body = error.body()
    head = (
        "HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


def _h11_protocol(request_timeout: float, max_header_size: int) -> type[asyncio.Protocol]:
    """uvicorn's h11 protocol with a deadline on reading each request and a head size limit.

    uvicorn times out idle keep-alive connections only: a client that sends part of a
    request and stalls (slowloris) would hold its connection, and a slot of
    ``limit_concurrency``, for ever.  Here the client has ``request_timeout`` seconds from
    connecting (or from the end of the previous response) to send the whole request;
    then the connection is closed (h11 cannot answer a request it has not read; an app
    waiting for the body sees ``http.disconnect``).

    h11's ``max_incomplete_event_size`` only bounds a head still *incomplete*: a larger
    head that arrives in one read is parsed.  So the head is measured here, before h11
    sees it, and one over ``max_header_size`` is answered 431 (OpenAI-shaped) and closed.
    """
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    reading = (h11.IDLE, h11.SEND_BODY)  # the client's states while its request is incomplete
    refusal = _head_too_large(max_header_size)

    class Protocol(H11Protocol):
        _request_timer: asyncio.TimerHandle | None = None

        def _arm(self) -> None:
            self._disarm()
            if not self.transport.is_closing():
                self._request_timer = self.loop.call_later(request_timeout, self._expire)

        def _disarm(self) -> None:
            if self._request_timer is not None:
                self._request_timer.cancel()
                self._request_timer = None

        def _check(self) -> None:
            if self.conn.their_state not in reading:
                self._disarm()

        def _expire(self) -> None:
            self._request_timer = None
            if self in self.connections and self.conn.their_state in reading and not self.transport.is_closing():
                self.logger.info("Closing a connection that sent no complete request in %g s.", request_timeout)
                self.transport.close()

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def _head_over_limit(self, data: bytes) -> bool:
            buffered, _ = self.conn.trailing_data
            pending = buffered + data if buffered else data
            end = _END_OF_HEAD.search(pending, 0, max_header_size + 4)
            return (end.end() if end else len(pending)) > max_header_size

        def data_received(self, data: bytes) -> None:
            if self.conn.their_state is h11.IDLE and self._head_over_limit(data):
                self._disarm()
                self.logger.info("Refusing a request head over %d bytes.", max_header_size)
                self.transport.write(refusal)
                self.transport.close()
                return
            super().data_received(data)
            self._check()

        def handle_events(self) -> None:
            super().handle_events()
            scope = getattr(self, "scope", None)
            if scope is not None and ABORT_KEY not in scope:
                scope[ABORT_KEY] = self.transport.abort  # for faults that drop the connection (asgi.py)

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._arm()  # the next request's deadline (uvicorn's keep-alive timeout closes an idle one first)
            self._check()  # a pipelined request may be complete already

        def handle_websocket_upgrade(self, event: h11.Request) -> None:
            self._disarm()  # the websocket protocol owns the transport from here
            super().handle_websocket_upgrade(event)

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

    return Protocol


class Server:
    """uvicorn serving a simulator (or a provider of one) on ``host:port`` in a daemon thread.

    ``port=0`` picks a free port; :attr:`port` and :attr:`url` are the real ones once
    started.  ``start()`` returns once the port accepts connections; ``stop()`` shuts
    down gracefully, giving in-flight responses up to ``shutdown_timeout`` seconds.
    The limits (``max_header_size``, ``request_timeout``, ``timeout_keep_alive``,
    ``limit_concurrency``) are described in docs/serving.md, "Limits and hardening".
    """

    def __init__(
        self,
        sim_or_provider: FakeAI | Provider,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        startup_timeout: float = 10.0,
        shutdown_timeout: float = 5.0,
        max_header_size: int = DEFAULT_MAX_HEADER_SIZE,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
        timeout_keep_alive: int = DEFAULT_TIMEOUT_KEEP_ALIVE,
        limit_concurrency: int | None = DEFAULT_LIMIT_CONCURRENCY,
    ) -> None:
        if max_header_size < 1024:
            raise ValueError(f"max_header_size must be >= 1024, got {max_header_size}")
        if not request_timeout > 0:
            raise ValueError(f"request_timeout must be > 0, got {request_timeout}")
        if timeout_keep_alive < 1:
            raise ValueError(f"timeout_keep_alive must be >= 1, got {timeout_keep_alive}")
        if limit_concurrency is not None and limit_concurrency < 1:
            raise ValueError(f"limit_concurrency must be >= 1 or None, got {limit_concurrency}")
        self.app = make_app(sim_or_provider, max_body_size=max_body_size)
        self.max_header_size = max_header_size
        self.request_timeout = request_timeout
        self.timeout_keep_alive = timeout_keep_alive
        self.limit_concurrency = limit_concurrency
        self.host = host
        self.port = port
        self.startup_timeout = startup_timeout
        self.shutdown_timeout = shutdown_timeout
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL, ending in ``/v1``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/v1"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> Server:
        """Start serving; return once connections are accepted (idempotent)."""
        if self.running:
            return self
        try:
            import uvicorn
        except ModuleNotFoundError:
            raise ServerError("serving a port needs uvicorn: pip install uvicorn (or pytest-fakeai[server])") from None
        logging.getLogger("uvicorn.error").addFilter(_DROPPED_STREAM_FILTER)  # idempotent
        config = uvicorn.Config(
            self.app,
            host=self.host,
            port=self.port,
            # h11 is always installed with uvicorn; httptools may not be
            http=_h11_protocol(self.request_timeout, self.max_header_size),
            lifespan="off",
            log_level="warning",
            access_log=False,
            log_config=None,  # leave the process's logging (pytest's capture) alone
            timeout_graceful_shutdown=math.ceil(self.shutdown_timeout),
            h11_max_incomplete_event_size=self.max_header_size,  # a backstop: pipelined heads
            timeout_keep_alive=self.timeout_keep_alive,
            limit_concurrency=self.limit_concurrency,
        )
        server = uvicorn.Server(config)

        def run() -> None:
            with contextlib.suppress(SystemExit):  # uvicorn's answer to a failed startup: the reason is logged
                server.run()

        errors = _Collect()
        uvicorn_log = logging.getLogger("uvicorn.error")
        uvicorn_log.addHandler(errors)
        try:
            thread = threading.Thread(target=run, name=f"pytest-fakeai-server-{self.host}", daemon=True)
            thread.start()
            deadline = time.monotonic() + self.startup_timeout
            while not server.started:
                if not thread.is_alive():
                    reason = errors.messages[-1] if errors.messages else "see the log"
                    raise ServerError(f"the server could not start on {self.host}:{self.port}: {reason}")
                if time.monotonic() > deadline:
                    server.should_exit = True
                    raise ServerError(f"the server did not start within {self.startup_timeout:g} s")
                time.sleep(0.005)
        finally:
            uvicorn_log.removeHandler(errors)
        self._server, self._thread = server, thread
        self.port = int(server.servers[0].sockets[0].getsockname()[1])
        return self

    def stop(self) -> None:
        """Stop serving: in-flight responses get ``shutdown_timeout`` seconds, then are cut."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.should_exit = True
        thread.join(self.shutdown_timeout + 2.0)
        if thread.is_alive():
            server.force_exit = True
            thread.join(2.0)
        self._server = self._thread = None
        if thread.is_alive():
            raise ServerError(f"the server on {self.url} did not stop in time")

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<Server {self.url} {'running' if self.running else 'stopped'}>"


@dataclass(frozen=True, slots=True)
class FakeAIServer:
    """What the ``fakeai_server`` fixture gives a test: a real port answered by its simulator."""

    url: str  # base URL, ending in /v1
    host: str
    port: int
    simulator: FakeAI


def serve(
    sim: FakeAI | Provider,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    max_body_size: int = DEFAULT_MAX_BODY_SIZE,
    shutdown_timeout: float = 5.0,
    max_header_size: int = DEFAULT_MAX_HEADER_SIZE,
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
    timeout_keep_alive: int = DEFAULT_TIMEOUT_KEEP_ALIVE,
    limit_concurrency: int | None = DEFAULT_LIMIT_CONCURRENCY,
) -> Server:
    """Serve ``sim`` on a real port (loopback, a free port by default); the server is started.

    The limits are :class:`Server`'s.  Use it as a context manager, or call ``.stop()`` when done.
    """
    return Server(
        sim,
        host=host,
        port=port,
        max_body_size=max_body_size,
        shutdown_timeout=shutdown_timeout,
        max_header_size=max_header_size,
        request_timeout=request_timeout,
        timeout_keep_alive=timeout_keep_alive,
        limit_concurrency=limit_concurrency,
    ).start()
