"""An ASGI 3 application over the simulator: it translates, the simulator decides.

``make_app(sim)`` (or ``make_app(lambda: current_sim)``) answers HTTP requests
like the in-process transports do: the request becomes an :class:`ApiRequest`,
``FakeAI.handle`` answers it (in the event loop: it only computes), and the
response goes out with the simulated latency waited out -- a body after its
wait, a stream chunk by chunk, each flushed when due, so a client over a real
socket observes TTFT and inter-token gaps.  A websocket to ``/v1/realtime``
(``?model=...``) is the Realtime API: JSON text frames are pumped to and from an
:class:`~pytest_fakeai.api.realtime.RealtimeSession`; any other websocket path is
closed with 1008.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from ..api.errors import ApiError, server_error
from ..api.realtime import REALTIME_PATH, RealtimeSession
from ..api.types import ApiRequest, ApiResponse, StreamAbort

if TYPE_CHECKING:
    from ..simulator import FakeAI

__all__ = ["DEFAULT_MAX_BODY_SIZE", "FakeAIApp", "Provider", "make_app"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Provider = Callable[[], "FakeAI"]

DEFAULT_MAX_BODY_SIZE = 32 * 1024 * 1024
#: Websocket close code for routes that are not served (RFC 6455: policy violation).
WEBSOCKET_NOT_SERVED = 1008
#: Websocket close code when the session could not be set up (RFC 6455: internal error).
WEBSOCKET_INTERNAL_ERROR = 1011

log = logging.getLogger("pytest_fakeai")


def _too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        f"Request body too large: the limit is {limit} bytes.",
        code="request_too_large",
    )


_OFF_LOOP_BODY = 256 * 1024  # bodies larger than this are handled in a worker thread
#: scope key under which adapters/server.py's protocol offers ``abort()``: drop the connection (TCP reset)
ABORT_KEY = "fakeai.abort"
#: the most bytes of stream chunks due at the same moment sent in one write
COALESCE = 16 * 1024
#: the longest a ``timeout`` fault keeps a request unanswered on the port (real seconds)
MAX_SILENCE = 600.0


class FakeAIApp:
    """The ASGI application: ``await app(scope, receive, send)``."""

    def __init__(self, provider: Provider, *, max_body_size: int = DEFAULT_MAX_BODY_SIZE) -> None:
        if max_body_size < 0:
            raise ValueError(f"max_body_size must be >= 0, got {max_body_size}")
        self.provider = provider
        self.max_body_size = max_body_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        elif kind == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return

    # -- websocket: the Realtime API ----------------------------------------------------------
    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        from ..api.auth import check_auth

        if (await receive())["type"] != "websocket.connect":
            return
        if scope.get("path", "").rstrip("/") != REALTIME_PATH:
            await send({"type": "websocket.close", "code": WEBSOCKET_NOT_SERVED, "reason": "not served"})
            return
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        headers = _headers(scope)
        try:
            sim = self.provider()
            try:
                check_auth(sim.engine, REALTIME_PATH, headers)
            except ApiError as exc:
                # refused before the upgrade, with OpenAI's 401 body, through the ASGI websocket.http.response
                # extension (uvicorn has it); without it, closing before accepting makes the server send a 403
                if "websocket.http.response" not in scope.get("extensions", {}):
                    await send({"type": "websocket.close", "code": WEBSOCKET_NOT_SERVED, "reason": "unauthorized"})
                    return
                body = exc.body()
                raw = [
                    (k.encode("latin-1"), v.encode("latin-1"))
                    for k, v in _with_length([("content-type", "application/json"), *exc.headers], len(body))
                ]
                await send({"type": "websocket.http.response.start", "status": exc.status, "headers": raw})
                await send({"type": "websocket.http.response.body", "body": body})
                return
            session = RealtimeSession(sim, (query.get("model") or [None])[-1], headers=headers)
        except Exception:
            log.exception("pytest-fakeai could not start a realtime session")
            await send({"type": "websocket.close", "code": WEBSOCKET_INTERNAL_ERROR, "reason": "server error"})
            return
        await send({"type": "websocket.accept"})
        clock = sim.engine.clock
        inbox: asyncio.Queue[Message] = asyncio.Queue()

        async def read() -> None:
            # reads on while a response is paced out, so a client that leaves is noticed at once
            while True:
                message = await receive()
                inbox.put_nowait(message)
                if message["type"] != "websocket.receive":
                    return

        async def deliver(events: list[tuple[float, dict[str, Any]]]) -> bool:
            """Send each event when it is due (real clock); False once the client has gone."""
            for due, event in events:
                wait = clock.wait_seconds(due)
                if wait > 0:
                    await asyncio.wait({reader}, timeout=wait)
                    if reader.done():
                        return False
                if not await _send_events(send, [event]):
                    return False
            return True

        reader = asyncio.ensure_future(read())
        try:
            if not await deliver([(clock.elapsed(), event) for event in session.open()]):
                return
            while True:
                message = await inbox.get()
                if message["type"] != "websocket.receive":
                    return  # websocket.disconnect (or anything unexpected): the session is over
                text = message.get("text")
                frame: str | bytes = text if text is not None else (message.get("bytes") or b"")
                try:
                    events = session.handle_timed(frame)
                except Exception:  # a simulator bug: answer with an error event, keep the socket
                    log.exception("pytest-fakeai realtime error")
                    events = [(clock.elapsed(), session.server_error())]
                if not await deliver(events):
                    return
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader

    # -- HTTP -------------------------------------------------------------------------------
    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def start(status: int, headers: list[tuple[str, str]]) -> None:
            nonlocal started
            started = True
            raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
            await send({"type": "http.response.start", "status": status, "headers": raw})

        try:
            headers = _headers(scope)
            body = await self._read_body(headers, receive)
            if body is None:
                return  # the client went away before the request was complete
            request = ApiRequest(
                method=scope["method"],
                path=scope["path"],
                query=scope.get("query_string", b"").decode("latin-1"),
                headers=headers,
                body=body,
            )
            sim = self.provider()
            if len(body) > _OFF_LOOP_BODY:
                # counting a multi-megabyte prompt takes seconds: keep the event loop serving others
                response = await asyncio.to_thread(sim.handle, request, transport="asgi", defer_clock=True)
            else:
                response = sim.handle(request, transport="asgi", defer_clock=True)
            try:
                if response.timeline is not None and sim.overlaps(response):
                    await asyncio.sleep(0)  # let concurrent requests arrive at this simulated moment
                if response.fault is not None:
                    await self._no_response(scope, receive, response.fault)
                    return
                if response.stream is None:
                    wait = sim.wait_seconds(response)
                    if wait > 0:
                        await asyncio.sleep(wait)
                    sim.delivered(response)
                    await start(response.status, _with_length(response.headers, len(response.body)))
                    await send({"type": "http.response.body", "body": response.body})
                else:
                    await start(response.status, response.headers)
                    await self._stream(sim, response, receive, send)
            finally:
                sim.delivered(response)  # whatever happened, time must not wait for this one any more
        except _BodyTooLarge:
            await _send_error(start, send, _too_large(self.max_body_size), close=True)
        except Exception:
            # FakeAI.handle never raises for bad input; this is a provider or adapter bug.
            log.exception("pytest-fakeai ASGI app error on %s %s", scope.get("method"), scope.get("path"))
            if not started:
                await _send_error(start, send, server_error(), close=False)
            # otherwise the response is cut short: returning drops the connection

    async def _no_response(self, scope: Scope, receive: Receive, fault: str) -> None:
        """Act out a fault with no HTTP response: hang up at once (``connection_reset``), or say nothing
        until the client gives up (``timeout``: bounded by ``MAX_SILENCE`` and by the server's shutdown)."""
        abort = scope.get(ABORT_KEY)
        if fault == "timeout":
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(_until_disconnect(receive), MAX_SILENCE)
        if abort is not None:
            abort()  # a TCP reset: the client sees the connection drop with no response
            for _ in range(3):
                await asyncio.sleep(0)  # let the server notice the loss before this app returns
        # without the hook (another ASGI server) returning with no response makes the server answer 500

    async def _read_body(self, headers: dict[str, str], receive: Receive) -> bytes | None:
        limit = self.max_body_size
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise _BodyTooLarge
        parts: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise _BodyTooLarge
            parts.append(chunk)
            if not message.get("more_body", False):
                return b"".join(parts)

    async def _stream(self, sim: FakeAI, response: ApiResponse, receive: Receive, send: Send) -> None:
        assert response.stream is not None
        stream = response.stream
        # receive() only answers http.disconnect once the request body is read, so it
        # tells us a client went away, even while we sleep until the next chunk is due.
        watcher = asyncio.ensure_future(_until_disconnect(receive))
        # Chunks due at the same moment go out in one write (up to COALESCE bytes): a chunk
        # that must wait for its moment flushes what is ready first, so clients still see
        # every simulated gap, while a stream with nothing to wait for costs far fewer writes.
        pending: list[bytes] = []
        size = 0

        async def flush(more: bool = True) -> bool:
            nonlocal size
            body = b"".join(pending)
            pending.clear()
            size = 0
            try:
                await send({"type": "http.response.body", "body": body, "more_body": more})
            except OSError:  # servers that raise when the client is gone (uvicorn just drops it)
                return False
            return True

        try:
            for wait, data in sim.pace(response):
                if wait > 0:
                    if pending and not await flush():
                        return
                    await asyncio.wait({watcher}, timeout=wait)
                if watcher.done():
                    return
                pending.append(data)
                size += len(data)
                if size >= COALESCE and not await flush():
                    return
            if not watcher.done():
                await flush(more=False)
        except StreamAbort:
            # end without the final empty body: the server drops the connection after what was ready
            if pending and not watcher.done():
                await flush()
            return
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await watcher
            stream.close()  # stops an unfinished stream (client gone, abort, cancel); a no-op once it ended


async def _until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _send_events(send: Send, events: list[dict[str, Any]]) -> bool:
    """Send server events as JSON text frames; False once the client has gone."""
    for event in events:
        try:
            await send({"type": "websocket.send", "text": json.dumps(event)})
        except Exception:  # uvicorn raises ClientDisconnected (an OSError) once the client is gone
            return False
    return True


class _BodyTooLarge(Exception):
    pass


def _headers(scope: Scope) -> dict[str, str]:
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", ()):
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def _with_length(headers: list[tuple[str, str]], length: int) -> list[tuple[str, str]]:
    if any(k.lower() == "content-length" for k, _ in headers):
        return headers
    return [*headers, ("content-length", str(length))]


async def _send_error(
    start: Callable[[int, list[tuple[str, str]]], Awaitable[None]], send: Send, exc: ApiError, *, close: bool
) -> None:
    body = exc.body()
    headers = [("content-type", "application/json"), *exc.headers]
    if close:  # the rest of the request body is not read: the connection cannot be reused
        headers.append(("connection", "close"))
    await start(exc.status, _with_length(headers, len(body)))
    await send({"type": "http.response.body", "body": body})


def make_app(sim_or_provider: FakeAI | Provider, *, max_body_size: int = DEFAULT_MAX_BODY_SIZE) -> FakeAIApp:
    """An ASGI application answering from ``sim_or_provider``.

    Either a :class:`~pytest_fakeai.FakeAI`, or a zero-argument callable returning
    the simulator to use for each request (e.g. the current test's).
    """
    from ..simulator import FakeAI

    if isinstance(sim_or_provider, FakeAI):
        sim = sim_or_provider
        return FakeAIApp(lambda: sim, max_body_size=max_body_size)
    if not callable(sim_or_provider):
        raise TypeError(f"make_app() takes a FakeAI or a callable returning one, not {sim_or_provider!r}")
    return FakeAIApp(sim_or_provider, max_body_size=max_body_size)
