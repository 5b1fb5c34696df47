"""A real port: uvicorn serving the ASGI app in a background thread of this process.

``with serve(sim) as server: requests.post(server.url + "/chat/completions", ...)``.
uvicorn (``pip install pytest-fakeai[server]``) is imported on :meth:`Server.start`.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .asgi import DEFAULT_MAX_BODY_SIZE, Provider, make_app

if TYPE_CHECKING:
    from ..simulator import FakeAI

__all__ = ["FakeAIServer", "Server", "ServerError", "serve"]


class ServerError(RuntimeError):
    """The server could not start (port in use, uvicorn missing) or did not stop in time."""


class _DroppedStreamFilter(logging.Filter):
    # A StreamAbort ends a response without its last chunk, on purpose (a dropped
    # connection is the fault being simulated): uvicorn's complaint about it is noise.
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("ASGI callable returned without completing response")


_DROPPED_STREAM_FILTER = _DroppedStreamFilter()


class _Collect(logging.Handler):
    """Keeps uvicorn's startup errors, to name the reason when it fails."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


class Server:
    """uvicorn serving a simulator (or a provider of one) on ``host:port`` in a daemon thread.

    ``port=0`` picks a free port; :attr:`port` and :attr:`url` are the real ones once
    started.  ``start()`` returns once the port accepts connections; ``stop()`` shuts
    down gracefully, giving in-flight responses up to ``shutdown_timeout`` seconds.
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
    ) -> None:
        self.app = make_app(sim_or_provider, max_body_size=max_body_size)
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
            http="h11",  # always installed with uvicorn; httptools may not be
            lifespan="off",
            log_level="warning",
            access_log=False,
            log_config=None,  # leave the process's logging (pytest's capture) alone
            timeout_graceful_shutdown=math.ceil(self.shutdown_timeout),
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
) -> Server:
    """Serve ``sim`` on a real port (loopback, a free port by default); the server is started.

    Use it as a context manager, or call ``.stop()`` when done.
    """
    return Server(sim, host=host, port=port, max_body_size=max_body_size).start()
