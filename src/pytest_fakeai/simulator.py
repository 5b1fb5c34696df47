"""``FakeAI``: one simulator -- settings, engine, routes, recorded calls, and ways in."""

from __future__ import annotations

import logging
import traceback
import warnings
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from .api.auth import MONITORING_PREFIXES
from .api.errors import ApiError, server_error
from .api.metrics import exchange_of
from .api.recorder import Call, Calls
from .api.types import ApiRequest, ApiResponse, TimedStream
from .engine.core import Engine
from .settings import Settings

if TYPE_CHECKING:
    from .adapters.server import Server
    from .api.faults import Admission, Gate
    from .api.metrics import Metrics
    from .api.router import Router
    from .api.script import Rule, Script
    from .engine.clock import Clock
    from .engine.registry import ModelRegistry

__all__ = ["FakeAI", "FakeAIInternalError"]

log = logging.getLogger("pytest_fakeai")


class FakeAIInternalError(RuntimeWarning):
    """A bug in the simulator turned into a 500: the traceback is in ``call.error``."""


class FakeAI:
    """An OpenAI-compatible API simulator, in process.

    ``FakeAI(seed=7, clock="virtual", ...)`` takes every setting in
    ``docs/settings.md`` as a keyword argument.
    """

    def __init__(self, settings: Settings | None = None, **kwargs: Any) -> None:
        if settings is None:
            settings = Settings.build([("FakeAI(...)", kwargs)])
        elif kwargs:
            settings = settings.replace(**kwargs)
        self.settings = settings
        self.engine = Engine(settings)
        self.engine.dispatch = self._dispatch_internal
        self.calls = Calls(settings.max_calls)
        self._router: Router | None = None
        self._script: Script | None = None
        self._gate: Gate | None = None
        self._metrics: Metrics | None = None
        #: called with (request, response) for every exchange before it is sent; one may change the
        #: response in place or return a replacement (None: keep it).  The plugin's hooks use it.
        self.response_hooks: list[Callable[[ApiRequest, ApiResponse], ApiResponse | None]] = []

    # -- the one way in ---------------------------------------------------------------------
    @property
    def router(self) -> Router:
        if self._router is None:
            from .api.router import default_router

            self._router = default_router()
        return self._router

    @property
    def models(self) -> ModelRegistry:
        """This simulator's model registry."""
        return self.engine.registry

    @property
    def clock(self) -> Clock:
        """The simulator's timeline (``virtual`` by default: nothing waits)."""
        return self.engine.clock

    @property
    def gate(self) -> Gate:
        """Faults, rate limits and retry bookkeeping (docs/faults.md)."""
        if self._gate is None:
            from .api.faults import Gate

            self._gate = Gate(self.settings, self.engine.seed)
        return self._gate

    @property
    def metrics(self) -> Metrics:
        """What this simulator served: requests, errors, faults, retries, tokens, latency, cost, KV hits
        (docs/metrics.md)."""
        if self._metrics is None:
            from .api.metrics import Metrics

            self._metrics = Metrics(self.engine, self.gate, self.engine.stats)
        return self._metrics

    def handle(self, request: ApiRequest, *, transport: str = "direct", defer_clock: bool = False) -> ApiResponse:
        """Answer one neutral request; never raises for bad input.

        On the virtual clock, time moves on to the end of a (non-stream) response at once,
        unless ``defer_clock``: then the adapter calls :meth:`delivered` when it hands the
        response over, so concurrent requests (async clients, the real port) arrive at the
        same simulated moment and load each other, as they would on a real server."""
        started = self.engine.clock.elapsed()
        error: str | None = None
        fault: str | None = None
        admission: Admission | None = None
        gate = self.gate
        retry_count = gate.note_attempt(request)
        # over a real port, fast retries work through the headers the SDK honours (api/faults.py)
        fast_port = transport == "asgi" and self.settings.fast_retries and not self.engine.clock.waits
        if fast_port and retry_count is not None and retry_count != "0":
            self.engine.clock.advance(gate.settle_wait(request))
            started = self.engine.clock.elapsed()
        try:
            if self.settings.api_keys:
                from .api.auth import check_auth

                check_auth(self.engine, request.path, request.headers)
            monitoring = request.path.startswith(MONITORING_PREFIXES)
            if gate.active and not monitoring:  # faults and limits are the API's, not the scrapes'
                admission = gate.admit(self.engine, request)
            if admission is not None and admission.fault in ("timeout", "connection_reset"):
                response = ApiResponse(0, [], fault=admission.fault)
            else:
                response = self.router.dispatch(self.engine, request)
                if admission is not None:
                    response.headers.extend(admission.headers)
                    if admission.fault is not None and response.stream is not None:
                        from .api.faults import damaged

                        response.stream = damaged(response.stream, admission.fault, admission.cut_after)
        except ApiError as exc:
            response = _error_response(self.engine, exc)
            fault = exc.fault
        except Exception as exc:  # a simulator bug: answer like OpenAI, but loudly
            error = traceback.format_exc()
            log.error("pytest-fakeai internal error on %s %s\n%s", request.method, request.path, error)
            warnings.warn(
                f"pytest-fakeai internal error on {request.method} {request.path}: {type(exc).__name__}: {exc}",
                FakeAIInternalError,
                stacklevel=2,
            )
            response = _error_response(self.engine, server_error())
        for hook in self.response_hooks:
            try:
                replaced = hook(request, response)
            except Exception:
                error = traceback.format_exc()
                log.error("pytest-fakeai response hook failed on %s %s\n%s", request.method, request.path, error)
                warnings.warn(
                    f"pytest-fakeai: a response hook failed on {request.method} {request.path}",
                    FakeAIInternalError,
                    stacklevel=2,
                )
                replaced = _error_response(self.engine, server_error())
            if replaced is not None:
                response = replaced
        response.start = started
        if fast_port:
            if response.fault is not None:
                gate.owe_wait(request, 599, [], retry_count)  # no headers to give: remember the SDK's step
            else:
                gate.owe_wait(request, response.status, response.headers, retry_count)
        call_fault = admission.fault if admission is not None else fault
        if not request.path.startswith(MONITORING_PREFIXES):  # a scrape is not traffic
            self.engine.stats.observe(exchange_of(self.engine, request, response, call_fault))
        if response.timeline is not None and response.timeline.e2e > 0:
            self.engine.update_gpu()  # load changed: the GPUs integrate energy and heat up
        call = self.calls.record(
            request,
            response.status,
            response.headers,
            started=started,
            transport=transport,
            body=response.body,
            json_body=response.json,
            streamed=response.stream is not None,
        )
        call.error = error
        call.fault = call_fault
        call.rule = self._script.take_answered() if self._script is not None else None
        clock = self.engine.clock
        if response.stream is not None:
            planned = started + (response.timeline.e2e if response.timeline is not None else 0.0)
            token = clock.begin(planned) if defer_clock else 0
            response.stream = self._recorded(response.stream, call, started, token)
        else:
            call.ended = started + response.due
            if defer_clock:
                response.clock_token = clock.begin(started + response.due)
            else:
                clock.advance_to(started + response.due)
        return response

    def delivered(self, response: ApiResponse) -> None:
        """A (non-stream) response handled with ``defer_clock`` was handed over (or, for a fault, the
        client gave up): time is at its end now, for this flow of control (engine/clock.py)."""
        if response.clock_token:
            self.engine.clock.finish(response.clock_token)
            response.clock_token = 0
        elif response.stream is None:
            self.engine.clock.advance_to(response.start + response.due)

    def overlaps(self, response: ApiResponse) -> bool:
        """Whether an async adapter should let other requests in before delivering ``response``: on the
        virtual clock, when the response takes simulated time (so concurrent requests overlap it)."""
        return not self.engine.clock.waits and (response.due > 0 or response.stream is not None)

    def _dispatch_internal(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        """One request through this simulator's own routes, as its batches run their lines: no API-key
        check, no rate limit or fault, not recorded in ``calls``; the JSON body (streams are refused)."""
        import json as jsonlib

        request = ApiRequest(method, path, headers={"content-type": "application/json"}, body=body)
        try:
            response = self.router.dispatch(self.engine, request)
        except ApiError as exc:
            return exc.status, exc.to_dict()
        except Exception:
            log.exception("pytest-fakeai internal error on a batch line %s %s", method, path)
            return 500, server_error().to_dict()
        if response.stream is not None:
            response.stream.close()
            return 400, ApiError(400, "Streaming is not supported in a batch.", param="stream").to_dict()
        body_json = response.json if response.json is not None else jsonlib.loads(response.body or b"null")
        return response.status, body_json

    def _recorded(self, stream: TimedStream, call: Call, started: float, token: int = 0) -> TimedStream:
        chunks = call.response.chunks
        state = {"last": 0.0, "delivered": False}

        def produce() -> Iterator[tuple[float, bytes]]:
            # One chunk of look-ahead, so the call counts as complete once the final
            # chunk is handed over, even if the client closes without reading past it.
            it = iter(stream)
            item = next(it, None)
            while item is not None:
                failure: BaseException | None = None
                try:
                    following = next(it, None)
                except Exception as exc:  # a cut stream (StreamAbort): deliver this chunk, then fail
                    failure, following = exc, None
                chunks.append(item[1])
                state["last"] = item[0]
                state["delivered"] = following is None and failure is None
                yield item
                if failure is not None:
                    raise failure
                item = following

        def closed(complete: bool) -> None:
            stream.close()
            call.response.complete = complete or bool(state["delivered"])
            call.ended = started + float(state["last"])
            if token:
                self.engine.clock.finish(token, call.ended)
            else:
                self.engine.clock.advance_to(call.ended)

        return TimedStream(produce(), on_close=closed)

    def pace(self, response: ApiResponse) -> Iterator[tuple[float, bytes]]:
        """A stream's chunks with the real seconds to wait before each (0 on the virtual clock)."""
        assert response.stream is not None
        clock = self.engine.clock
        start = response.start
        for due, data in response.stream:
            yield clock.wait_seconds(start + due), data

    def retry_wait(self, sdk_delay: float, retry_after: float | None = None) -> float:
        """A client is about to wait ``sdk_delay`` seconds before retrying a failure from this simulator:
        move the simulated clock on by that wait and return the real seconds to wait (0 with
        ``fast_retries`` on the virtual clock; adapters/retries.py calls this from inside the SDK)."""
        clock = self.engine.clock
        if not self.settings.fast_retries or clock.waits:
            return sdk_delay
        clock.advance(self.gate.backoff(sdk_delay, retry_after))
        return 0.0

    def timeout_wait(self, read_timeout: float | None) -> float:
        """A request that never answers: the client gives up after ``read_timeout`` real seconds (the SDK's
        default is 600).  Real clock: wait that long; virtual clock: move simulated time on by it, wait 0."""
        seconds = 600.0 if read_timeout is None else max(0.0, read_timeout)
        clock = self.engine.clock
        if clock.waits:
            return seconds
        clock.advance(seconds)
        return 0.0

    def wait_seconds(self, response: ApiResponse) -> float:
        """Real seconds to wait before a non-streaming response is delivered."""
        return self.engine.clock.wait_seconds(response.start + response.due)

    # -- scripting ----------------------------------------------------------------------------
    def on(self, **conditions: Any) -> Rule:
        """Script what the model says for requests matching ``conditions`` (see docs/scripting.md).

        Conditions: ``endpoint``, ``model``, ``contains``, ``matches``, ``has_tools``,
        ``after_tool``, ``where``; the returned rule takes ``.reply(...)``, ``.times(n)``, ``.once()``.
        """
        return self.script.on(**conditions)

    def assert_all_used(self) -> None:
        """Fail, listing what was and was not matched, if a scripted reply was never used."""
        __tracebackhide__ = True
        if self._script is not None:
            self._script.assert_all_used()

    @property
    def script(self) -> Script:
        """The scripted rules (``script.rules``) and the requests none answered (``script.unmatched``)."""
        if self._script is None:
            from .api.script import Script

            self._script = Script(self.router)
        return self._script

    # -- interception -------------------------------------------------------------------------
    def intercept(self, *base_urls: str, block_network: bool | None = None) -> Any:
        """Context manager: clients built anywhere in the process talk to this simulator (docs/intercept.md)."""
        from .adapters.intercept import Interceptor

        urls = [*(u.strip() for u in self.settings.intercept_urls.split(",") if u.strip()), *base_urls]
        block = self.settings.block_network if block_network is None else block_network
        return Interceptor(self, urls, block_network=block)

    # -- a real port --------------------------------------------------------------------------
    def serve(self, *, host: str = "127.0.0.1", port: int = 0) -> Server:
        """Serve this simulator on a real port (uvicorn, in a background thread); stop() or use ``with``."""
        from .adapters.server import serve

        return serve(self, host=host, port=port)

    # -- clients ------------------------------------------------------------------------------
    def transport(self, stack: str | None = None, *, asynchronous: bool = False) -> Any:
        """An httpx / httpx2 transport that answers from this simulator."""
        from .adapters.transports import make_transport

        return make_transport(self, stack, asynchronous=asynchronous)

    def http_client(self, stack: str | None = None, *, asynchronous: bool = False, **kwargs: Any) -> Any:
        """An ``httpx.Client`` / ``httpx2.Client`` (or Async…) wired to this simulator."""
        from .adapters.transports import make_http_client

        return make_http_client(self, stack, asynchronous=asynchronous, **kwargs)

    def client(self, *, stack: str | None = None, **kwargs: Any) -> Any:
        """An ``openai.OpenAI`` talking to this simulator (``stack``: "httpx" or "httpx2")."""
        from .adapters.transports import make_openai_client

        return make_openai_client(self, stack, asynchronous=False, **kwargs)

    def async_client(self, *, stack: str | None = None, **kwargs: Any) -> Any:
        """An ``openai.AsyncOpenAI`` talking to this simulator."""
        from .adapters.transports import make_openai_client

        return make_openai_client(self, stack, asynchronous=True, **kwargs)

    # -- lifecycle ----------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget recorded calls, scripted rules and state; keep settings."""
        self.engine = Engine(self.settings)
        self.engine.dispatch = self._dispatch_internal
        self.calls = Calls(self.settings.max_calls)
        self._gate = None
        self._metrics = None
        if self._script is not None:
            self._script.clear()

    def close(self) -> None:
        """Release what the simulator holds (nothing is shared with other simulators)."""
        self.calls.clear()

    def __enter__(self) -> FakeAI:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<FakeAI seed={self.settings.seed} calls={self.calls.total}>"


def _error_response(engine: Engine, exc: ApiError) -> ApiResponse:
    from .api.common import response_headers

    headers = response_headers(engine, 0.0)
    headers.extend(exc.headers)
    body = exc.to_dict()
    return ApiResponse(exc.status, headers, exc.body(), json=body)
