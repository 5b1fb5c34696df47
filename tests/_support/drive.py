"""Drive the real openai SDK, sync or async, over the httpx or httpx2 stack, with one call shape."""

from __future__ import annotations

import asyncio
import importlib
import importlib.metadata
import importlib.util
from collections.abc import Callable
from typing import Any

import pytest

from pytest_fakeai import FakeAI
from pytest_fakeai.adapters.transports import openai_major

__all__ = [
    "AVAILABLE_STACKS",
    "DROPPED",
    "MODES",
    "SDK_VERSION",
    "STACKS",
    "Driver",
    "http",
    "needs_sdk",
    "skip_unavailable",
]

try:  # a plain HTTP client for tests: httpx where installed, else httpx2 (the same interface)
    import httpx as http
except ImportError:  # the openai 3 + httpx2-only environment
    import httpx2 as http  # type: ignore[no-redef]

#: What the HTTP libraries raise when a server drops the connection mid-response (openai 1.x/2.x
#: let it through while a stream is iterated; openai 3 wraps it in APIConnectionError).
DROPPED: tuple[type[Exception], ...] = tuple(
    importlib.import_module(name).RemoteProtocolError for name in ("httpx", "httpx2") if importlib.util.find_spec(name)
)

#: The installed openai's (major, minor).
SDK_VERSION: tuple[int, ...] = tuple(int(x) for x in importlib.metadata.version("openai").split(".")[:2])


def needs_sdk(version: tuple[int, int], what: str) -> pytest.MarkDecorator:
    """Skip where the installed openai predates ``what`` (an environment limit: the SDK has no way to
    send the request or read the answer), as tests of the httpx2 stack skip on openai 1.x/2.x."""
    return pytest.mark.skipif(version > SDK_VERSION, reason=f"openai {'.'.join(map(str, version))}+ needed: {what}")


STACKS = ("httpx", "httpx2")
MODES = ("sync", "async")
#: The stacks an openai client can use here: openai 3 takes both, openai 1/2 only httpx.
AVAILABLE_STACKS = [
    stack
    for stack in STACKS
    if importlib.util.find_spec(stack) is not None and (stack == "httpx" or (openai_major() or 0) >= 3)
]


def skip_unavailable(stack: str) -> None:
    """Skip a stack this environment cannot run (an environment limit, not a missing feature)."""
    if importlib.util.find_spec(stack) is None:
        pytest.skip(f"{stack} is not installed in this environment")
    if stack == "httpx2" and (openai_major() or 0) < 3:
        pytest.skip("openai < 3 is built on httpx and cannot use an httpx2 client")


class Driver:
    """Calls ``client.<path>(**kwargs)`` and returns the SDK result (a list of chunks for streams)."""

    def __init__(self, sim: FakeAI, stack: str, mode: str) -> None:
        self.sim, self.stack, self.mode = sim, stack, mode
        self.client = sim.client(stack=stack) if mode == "sync" else sim.async_client(stack=stack)

    def _method(self, path: str) -> Callable[..., Any]:
        target: Any = self.client
        for part in path.split("."):
            target = getattr(target, part)
        return target  # type: ignore[no-any-return]

    def __call__(self, method: str, /, **kwargs: Any) -> Any:
        fn = self._method(method)
        streaming = bool(kwargs.get("stream"))
        if self.mode == "sync":
            result = fn(**kwargs)
            return list(result) if streaming else result

        async def run() -> Any:
            result = await fn(**kwargs)
            if streaming:
                return [chunk async for chunk in result]
            if hasattr(result, "__aiter__") and not hasattr(result, "model_dump"):
                return [item async for item in result]
            return result

        return asyncio.run(run())

    def chat(self, **kwargs: Any) -> Any:
        kwargs.setdefault("model", "gpt-4o")
        kwargs.setdefault("messages", [{"role": "user", "content": "Tell me about the harbor in Lisbon."}])
        return self("chat.completions.create", **kwargs)

    def raw(self, method: str, /, **kwargs: Any) -> Any:
        """``with_raw_response``: the httpx(2) response, for headers."""
        head, _, last = method.rpartition(".")
        target: Any = self.client
        for part in head.split("."):
            target = getattr(target, part)
        fn = getattr(target.with_raw_response, last)
        if self.mode == "sync":
            return fn(**kwargs)

        async def run() -> Any:
            return await fn(**kwargs)

        return asyncio.run(run())
