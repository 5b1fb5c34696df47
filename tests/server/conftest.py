"""Servers for these tests: in this process, on 127.0.0.1, a free port, stopped at the end."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pytest_fakeai import FakeAI
from pytest_fakeai.adapters.server import Server

pytest.importorskip("uvicorn")


@pytest.fixture
def serve() -> Iterator[Callable[..., Server]]:
    """``serve(sim=None, **server_kwargs)``: a started :class:`Server`; stopped after the test."""
    servers: list[Server] = []

    def start(sim: FakeAI | None = None, **kwargs: Any) -> Server:
        server = Server(sim if sim is not None else FakeAI(), **kwargs).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def ws_url(server: Server) -> str:
    """The websocket base URL of ``server`` (``ws://127.0.0.1:PORT/v1``). openai 2.x and 3.x derive it from
    an http base URL; 1.x always connects the realtime client with ``wss://`` unless it is given."""
    return "ws" + server.url.removeprefix("http")
