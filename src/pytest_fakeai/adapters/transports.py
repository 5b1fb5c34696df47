"""Transports for httpx and httpx2, sync and async: they translate, the simulator decides.

Both packages share the transport interface (``BaseTransport.handle_request``,
``AsyncBaseTransport.handle_async_request``, ``SyncByteStream``,
``AsyncByteStream``), so one set of classes is built per package, on first use.
Streams are handed over chunk by chunk as the simulator produces them; the
sync transport sleeps and the async one awaits only when the clock is real.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import importlib.util
import time
from typing import TYPE_CHECKING, Any

from ..api.types import ApiRequest, ApiResponse, StreamAbort

if TYPE_CHECKING:
    from ..simulator import FakeAI

__all__ = [
    "STACKS",
    "default_stack",
    "make_http_client",
    "make_openai_client",
    "make_transport",
    "openai_major",
]

STACKS = ("httpx", "httpx2")


def openai_major() -> int | None:
    """The installed openai's major version (read from metadata: openai is not imported)."""
    try:
        return int(importlib.metadata.version("openai").split(".")[0])
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return None


def default_stack() -> str:
    """The stack the installed openai is built on (openai ≥ 3: httpx2), else whichever is installed."""
    major = openai_major()
    if major is not None:
        return "httpx2" if major >= 3 else "httpx"
    return "httpx2" if importlib.util.find_spec("httpx2") is not None else "httpx"


def _check_stack(stack: str | None) -> str:
    stack = stack or default_stack()
    if stack not in STACKS:
        raise ValueError(f"unknown HTTP stack {stack!r}: use one of {', '.join(STACKS)}")
    if importlib.util.find_spec(stack) is None:
        raise ModuleNotFoundError(
            f"the {stack} package is not installed: pip install {stack} (or pytest-fakeai[{stack}])"
        )
    return stack


def _neutral(request: Any, body: bytes) -> ApiRequest:
    url = request.url
    return ApiRequest(
        method=request.method,
        path=url.path,
        query=url.query.decode("ascii", "replace"),
        headers=request.headers,  # httpx(2).Headers: a case-insensitive Mapping, converted by nobody
        body=body,
    )


def _read_timeout(request: Any) -> float | None:
    timeout = request.extensions.get("timeout") or {}
    read = timeout.get("read")
    return float(read) if isinstance(read, int | float) else None


def _no_response(mod: Any, sim: Any, fault: str, request: Any) -> Exception:
    """What the client's HTTP library raises when the server never answers, or hangs up first."""
    exc: Exception
    if fault == "timeout":
        exc = mod.ReadTimeout(
            "The read operation timed out (a timeout fault injected by pytest-fakeai)", request=request
        )
    else:
        exc = mod.RemoteProtocolError(
            "Server disconnected without sending a response (a connection_reset fault injected by pytest-fakeai).",
            request=request,
        )
    exc.fakeai = sim  # type: ignore[attr-defined]  # for adapters/retries.py
    return exc


@functools.cache
def _classes(stack: str) -> tuple[type, type]:
    mod = importlib.import_module(stack)

    class SyncStream(mod.SyncByteStream):  # type: ignore[name-defined,misc]
        def __init__(self, sim: FakeAI, response: ApiResponse) -> None:
            self._sim, self._response = sim, response

        def __iter__(self) -> Any:
            try:
                for wait, data in self._sim.pace(self._response):
                    if wait > 0:
                        time.sleep(wait)
                    yield data
            except StreamAbort as exc:
                raise mod.RemoteProtocolError(str(exc) or "peer closed connection") from None

        def close(self) -> None:
            if self._response.stream is not None:
                self._response.stream.close()

    class AsyncStream(mod.AsyncByteStream):  # type: ignore[name-defined,misc]
        def __init__(self, sim: FakeAI, response: ApiResponse) -> None:
            self._sim, self._response = sim, response

        async def __aiter__(self) -> Any:
            try:
                for wait, data in self._sim.pace(self._response):
                    if wait > 0:
                        import anyio

                        await anyio.sleep(wait)
                    yield data
            except StreamAbort as exc:
                raise mod.RemoteProtocolError(str(exc) or "peer closed connection") from None

        async def aclose(self) -> None:
            if self._response.stream is not None:
                self._response.stream.close()

    class FakeAITransport(mod.BaseTransport):  # type: ignore[name-defined,misc]
        """Answers every request from a :class:`~pytest_fakeai.FakeAI`."""

        def __init__(self, sim: FakeAI) -> None:
            self.simulator = sim

        def handle_request(self, request: Any) -> Any:
            sim = self.simulator
            response = sim.handle(_neutral(request, request.read()), transport=stack)
            if response.fault is not None:
                wait = sim.timeout_wait(_read_timeout(request)) if response.fault == "timeout" else 0.0
                if wait > 0:
                    time.sleep(wait)
                raise _no_response(mod, sim, response.fault, request)
            tag = {"fakeai": sim}
            if response.stream is not None:
                return mod.Response(
                    response.status,
                    headers=response.headers,
                    stream=SyncStream(sim, response),
                    request=request,
                    extensions=tag,
                )
            wait = sim.wait_seconds(response)
            if wait > 0:
                time.sleep(wait)
            return mod.Response(
                response.status, headers=response.headers, content=response.body, request=request, extensions=tag
            )

    class AsyncFakeAITransport(mod.AsyncBaseTransport):  # type: ignore[name-defined,misc]
        """Answers every request from a :class:`~pytest_fakeai.FakeAI`, asynchronously."""

        def __init__(self, sim: FakeAI) -> None:
            self.simulator = sim

        async def handle_async_request(self, request: Any) -> Any:
            sim = self.simulator
            response = sim.handle(_neutral(request, await request.aread()), transport=stack, defer_clock=True)
            if response.timeline is not None and sim.overlaps(response):
                import anyio

                await anyio.sleep(0)  # let concurrent requests arrive at this simulated moment
            if response.fault is not None:
                wait = sim.timeout_wait(_read_timeout(request)) if response.fault == "timeout" else 0.0
                if wait > 0:
                    import anyio

                    await anyio.sleep(wait)
                sim.delivered(response)
                raise _no_response(mod, sim, response.fault, request)
            tag = {"fakeai": sim}
            if response.stream is not None:
                return mod.Response(
                    response.status,
                    headers=response.headers,
                    stream=AsyncStream(sim, response),
                    request=request,
                    extensions=tag,
                )
            wait = sim.wait_seconds(response)
            if wait > 0:
                import anyio

                await anyio.sleep(wait)
            sim.delivered(response)
            return mod.Response(
                response.status, headers=response.headers, content=response.body, request=request, extensions=tag
            )

    return FakeAITransport, AsyncFakeAITransport


def make_transport(sim: FakeAI, stack: str | None = None, *, asynchronous: bool = False) -> Any:
    sync_cls, async_cls = _classes(_check_stack(stack))
    if sim.settings.fast_retries:
        from .retries import install

        install()
    return (async_cls if asynchronous else sync_cls)(sim)


def make_http_client(sim: FakeAI, stack: str | None = None, *, asynchronous: bool = False, **kwargs: Any) -> Any:
    stack = _check_stack(stack)
    mod = importlib.import_module(stack)
    cls = mod.AsyncClient if asynchronous else mod.Client
    kwargs.setdefault("base_url", sim.settings.base_url)
    return cls(transport=make_transport(sim, stack, asynchronous=asynchronous), **kwargs)


def make_openai_client(sim: FakeAI, stack: str | None = None, *, asynchronous: bool = False, **kwargs: Any) -> Any:
    import openai

    stack = _check_stack(stack)
    major = openai_major() or 0
    if stack == "httpx2" and major < 3:
        raise ValueError(
            f"openai {openai.__version__} is built on httpx, not httpx2: use stack='httpx' (openai 3.x accepts both)"
        )
    cls = openai.AsyncOpenAI if asynchronous else openai.OpenAI
    settings = sim.settings
    explicit_key = "api_key" in settings.sources
    kwargs.setdefault("api_key", settings.api_keys[0] if settings.api_keys and not explicit_key else settings.api_key)
    kwargs.setdefault("base_url", sim.settings.base_url)
    if "http_client" not in kwargs:
        kwargs["http_client"] = make_http_client(sim, stack, asynchronous=asynchronous)
    client = cls(**kwargs)
    if asynchronous and getattr(client, "_platform", False) is None:
        # The async SDK detects the platform in a worker thread on its first request; requests
        # sent together would then reach the simulator at different moments. Detect it now.
        try:
            from openai._base_client import get_platform

            client._platform = get_platform()
        except Exception:  # pragma: no cover - an SDK without it detects it itself
            pass
    return client
