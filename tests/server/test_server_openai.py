"""The real port, spoken to with the openai SDK, sync and async, streaming included."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest

from pytest_fakeai import FakeAI
from pytest_fakeai.adapters.server import Server

openai = pytest.importorskip("openai")

Serve = Callable[..., Server]
MESSAGES = [{"role": "user", "content": "Tell me about the sea."}]


def chat(server: Server, mode: str, **kwargs: Any) -> Any:
    """One chat call; for a stream, ``[(seconds since the call, chunk), ...]``."""
    kwargs = {"model": "gpt-4o", "messages": MESSAGES, **kwargs}
    if mode == "sync":
        with openai.OpenAI(base_url=server.url, api_key="sk-test", max_retries=0) as client:
            t0 = time.monotonic()
            result = client.chat.completions.create(**kwargs)
            return [(time.monotonic() - t0, c) for c in result] if kwargs.get("stream") else result

    async def run() -> Any:
        async with openai.AsyncOpenAI(base_url=server.url, api_key="sk-test", max_retries=0) as client:
            t0 = time.monotonic()
            result = await client.chat.completions.create(**kwargs)
            if kwargs.get("stream"):
                return [(time.monotonic() - t0, c) async for c in result]
            return result

    return asyncio.run(run())


def test_completion_over_the_port_matches_in_process(serve: Serve, mode: str) -> None:
    served = chat(serve(FakeAI(seed=3)), mode)
    local = FakeAI(seed=3).client().chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert served.choices[0].message.content == local.choices[0].message.content
    assert served.usage == local.usage


def test_stream_over_the_port_is_complete(serve: Serve, mode: str) -> None:
    sim = FakeAI(seed=3)
    chunks = [c for _, c in chat(serve(sim), mode, stream=True, stream_options={"include_usage": True})]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert (
        text
        == FakeAI(seed=3).client().chat.completions.create(model="gpt-4o", messages=MESSAGES).choices[0].message.content
    )
    assert chunks[-1].usage is not None
    assert sim.calls.last.response.complete
    assert sim.calls.last.transport == "asgi"


def test_stream_chunks_arrive_as_they_are_due(serve: Serve, mode: str) -> None:
    # 20 tokens 0.02 s apart: the last arrives ~0.4 s in, the first almost at once.
    timed = chat(serve(FakeAI(clock="real", itl=0.02)), mode, stream=True, max_tokens=20)
    first, last = timed[0][0], timed[-1][0]
    assert last > 0.2
    assert first < last / 4
    middle = timed[len(timed) // 2][0]
    assert first < middle < last - (last - first) / 5  # spread out, not one burst at the end


def test_marker_like_settings_shape_the_answers(serve: Serve, mode: str) -> None:
    result = chat(serve(FakeAI(mode="echo")), mode)
    assert result.choices[0].message.content == "Tell me about the sea."


def test_sdk_errors_are_the_sdks_own(serve: Serve) -> None:
    server = serve(FakeAI(strict_models=True))
    with pytest.raises(openai.NotFoundError) as info:
        chat(server, "sync", model="no-such-model")
    assert info.value.code == "model_not_found"


def test_fakeai_serve_method_answers_with_that_simulator() -> None:
    import openai

    from pytest_fakeai import FakeAI

    sim = FakeAI(mode="echo")
    with sim.serve() as server:
        assert server.url.startswith("http://127.0.0.1:") and server.url.endswith("/v1")
        client = openai.OpenAI(base_url=server.url, api_key="sk-test", max_retries=0)
        reply = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "over the wire"}])
    assert reply.choices[0].message.content == "over the wire"
    assert sim.calls.last.transport == "asgi"
    assert not server.running
