"""Fixtures for the interception tests: the stack × mode matrix, a local server, and a network guard.

No test here may send traffic anywhere but 127.0.0.1: ``_local_only`` makes every
name lookup for another host fail (and the test with it), so a request that
interception should have answered can never leave the machine.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from pytest_fakeai import FakeAI
from pytest_fakeai.adapters.intercept import is_patched
from tests.transports._helpers import AppRunner

LOCAL = {"127.0.0.1", "localhost", "::1"}


@pytest.fixture(scope="session", autouse=True)
def _warm_tokenizer() -> None:
    """Load both encodings before the guard is on (offline, tiktoken may try to download them)."""
    from pytest_fakeai.engine.tokenizer import Tokenizer

    for name in ("o200k_base", "cl100k_base"):
        Tokenizer(name).encode("warm up")


@pytest.fixture(autouse=True)
def _local_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    attempts: list[str] = []
    lookup = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name not in LOCAL:
            attempts.append(name)
            raise socket.gaierror(socket.EAI_NONAME, f"tests/transports reach 127.0.0.1 only, not {name}")
        return lookup(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)
    yield
    assert not attempts, f"a request tried to leave the machine, for {attempts}"


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """What application code finds in a CI environment: a key, and no base URL override."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-app-key")
    for name in ("OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID", "AZURE_OPENAI_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    yield
    assert not is_patched(), "a test left the transport classes patched"


@pytest.fixture
def app(stack: str, mode: str) -> AppRunner:
    """The application module, driven on one stack, sync or async."""
    return AppRunner(stack, mode)


@pytest.fixture
def sim() -> Iterator[FakeAI]:
    with FakeAI(seed=99) as s:
        yield s


class LocalServer:
    """A real HTTP server on 127.0.0.1 (port 0): it proves a request passed through."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []
        seen = self.seen

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                seen.append((self.command, self.path))
                length = int(self.headers.get("content-length") or 0)
                self.rfile.read(length)
                if self.path.startswith("/v1/models"):
                    data: Any = {
                        "object": "list",
                        "data": [{"id": "local-model", "object": "model", "created": 0, "owned_by": "me"}],
                    }
                else:
                    data = {"server": "local", "path": self.path}
                body = json.dumps(data).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="session")
def _server() -> Iterator[LocalServer]:
    server = LocalServer()
    yield server
    server.close()


@pytest.fixture
def server(_server: LocalServer) -> LocalServer:
    _server.seen.clear()
    return _server
