"""Faults, rate limits and auth at the door: what happens before (and around) a handler.

:class:`Gate` is one simulator's doorkeeper.  For each request it checks the API
key, takes the request from the rate-limit buckets (engine/ratelimit.py) and asks
the fault plan (engine/faults.py) whether this one fails.  A fault is either an
OpenAI-shaped error (status, body and headers exactly as the real service sends
them: ../shared/FIDELITY.md), no response at all (a timeout, a dropped
connection: the adapter acts it out), or damage to a stream (cut after some
chunks, or an SSE error event).
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..engine.faults import FAULT_KINDS, FaultPlan, parse_spike
from ..engine.ratelimit import LIMITS, Decision, RateLimiter, duration
from ..engine.rng import derive_seed
from .auth import api_key_of, wrong_key
from .errors import ApiError
from .types import ApiRequest, StreamAbort, TimedStream

if TYPE_CHECKING:
    from ..engine.core import Engine
    from ..settings import Settings

__all__ = ["Admission", "Gate", "fault_error", "rate_limited_error"]

_ORG = "org-fakeai"
_RATE_LIMITS_URL = "Visit https://platform.openai.com/account/rate-limits to learn more."
_SERVER_ERROR = "The server had an error while processing your request. Sorry about that!"
_OVERLOADED = (
    "That model is currently overloaded with other requests. You can retry your request, or contact us "
    "through our help center at help.openai.com if the error persists."
)
#: the kinds a client's retry logic is expected to retry (the SDK retries 408, 409, 429 and >= 500)
RETRYABLE = frozenset(k for k, status in FAULT_KINDS.items() if status in (408, 409, 429) or status >= 500) | {
    "timeout",
    "connection_reset",
}


def fault_error(kind: str, *, model: str, api_key: str, context_window: int = 0) -> ApiError:
    """The error the real service sends for an HTTP fault ``kind`` (a name from engine.faults.FAULT_KINDS)."""
    model = model or "gpt-4o"
    if kind == "context_length_exceeded":
        window = context_window or 128_000
        asked = window + 1 + window // 64
        return ApiError(
            400,
            f"This model's maximum context length is {window} tokens. However, your messages resulted in "
            f"{asked} tokens. Please reduce the length of the messages.",
            param="messages",
            code="context_length_exceeded",
        )
    if kind == "invalid_api_key":
        return wrong_key(api_key or "sk-fakeai-test-key")
    if kind == "permission_denied":
        return ApiError(
            403,
            "Country, region, or territory not supported",
            type="request_forbidden",
            code="unsupported_country_region_territory",
        )
    if kind == "model_not_found":
        return ApiError(
            404, f"The model `{model}` does not exist or you do not have access to it.", code="model_not_found"
        )
    if kind == "request_timeout":
        return ApiError(408, "Request timed out.", type="timeout_error", code="request_timeout")
    if kind == "conflict":
        return ApiError(
            409,
            "The request conflicts with another request in progress. Please retry your request.",
            code="conflict",
        )
    if kind == "rate_limit_requests":
        return rate_limited_error(
            model, "rpm", limit=60, used=60, requested=1, retry_after=1.0, headers=_demo_headers(1.0, "requests")
        )
    if kind == "rate_limit_tokens":
        return rate_limited_error(
            model,
            "tpm",
            limit=30_000,
            used=29_937,
            requested=385,
            retry_after=0.644,
            headers=_demo_headers(0.644, "tokens"),
        )
    if kind == "insufficient_quota":
        return ApiError(
            429,
            "You exceeded your current quota, please check your plan and billing details. For more information "
            "on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
            type="insufficient_quota",
            code="insufficient_quota",
        )
    if kind == "server_error":
        return ApiError(500, _SERVER_ERROR, type="server_error")
    if kind == "bad_gateway":  # Cloudflare in front of the API answers these, in its own JSON
        return ApiError(502, "Bad gateway.", type="cf_bad_gateway", code=502, compact=True)
    if kind == "overloaded":
        return ApiError(503, _OVERLOADED, type="service_unavailable_error", code="server_is_overloaded")
    if kind == "service_unavailable":
        return ApiError(503, _OVERLOADED, type="server_error")
    if kind == "gateway_timeout":
        return ApiError(504, "Gateway timeout.", type="cf_gateway_timeout", code=504, compact=True)
    raise ValueError(f"{kind!r} is not an HTTP fault")


def _demo_headers(retry_after: float, unit: str) -> list[tuple[str, str]]:
    # An injected 429 (no limits configured) still carries a consistent set of rate-limit headers.
    limits = {"requests": (60, 0 if unit == "requests" else 59), "tokens": (30_000, 63 if unit == "tokens" else 29_615)}
    resets = {"requests": duration(retry_after if unit == "requests" else 1.0), "tokens": duration(59.874)}
    if unit == "tokens":
        resets["tokens"] = duration(retry_after)
    return [
        *[(f"x-ratelimit-limit-{u}", str(limits[u][0])) for u in ("requests", "tokens")],
        *[(f"x-ratelimit-remaining-{u}", str(limits[u][1])) for u in ("requests", "tokens")],
        *[(f"x-ratelimit-reset-{u}", resets[u]) for u in ("requests", "tokens")],
    ]


def rate_limited_error(
    model: str,
    limit_name: str,
    *,
    limit: int,
    used: int,
    requested: int,
    retry_after: float,
    headers: list[tuple[str, str]] | tuple[tuple[str, str], ...] = (),
) -> ApiError:
    """OpenAI's 429 for a rate limit (FIDELITY.md), with ``retry-after`` / ``retry-after-ms``."""
    unit, _, words = LIMITS[limit_name]
    out = list(headers)
    if retry_after == float("inf"):  # more than the whole limit: retrying cannot help
        message = (
            f"Request too large for {model} in organization {_ORG} on {words}: Limit {limit}, Requested "
            f"{requested}. The input or output tokens must be reduced in order to run successfully. "
            f"{_RATE_LIMITS_URL}"
        )
        out.append(("x-should-retry", "false"))
    else:
        message = (
            f"Rate limit reached for {model} in organization {_ORG} on {words}: Limit {limit}, Used {used}, "
            f"Requested {requested}. Please try again in {duration(retry_after)}. {_RATE_LIMITS_URL}"
        )
        out.append(("retry-after-ms", str(max(1, round(retry_after * 1000)))))
        out.append(("retry-after", str(max(1, int(-(-retry_after // 1))))))
    return ApiError(429, message, type=unit, code="rate_limit_exceeded", headers=out)


@dataclass(slots=True)
class Admission:
    """What the gate decided for an admitted request."""

    headers: tuple[tuple[str, str], ...] = ()
    fault: str | None = None  # a connection or stream fault to act out (timeout, connection_reset, stream_*)
    cut_after: int = 0  # stream faults: chunks delivered before the damage
    model: str | None = None


def _model_and_stream(request: ApiRequest) -> tuple[str | None, bool, dict[str, Any]]:
    if request.body[:1] != b"{":
        return None, False, {}
    try:
        data = json.loads(request.body)
    except ValueError:
        return None, False, {}
    if not isinstance(data, dict):
        return None, False, {}
    model = data.get("model")
    return (model if isinstance(model, str) else None), data.get("stream") is True, data


_PROMPT_FIELDS = ("messages", "prompt", "input", "instructions", "tools", "functions", "query", "passages")
_OUTPUT_FIELDS = ("max_completion_tokens", "max_tokens", "max_output_tokens")


def estimate_tokens(data: dict[str, Any]) -> int:
    """The tokens a request is charged against a TPM limit: as OpenAI does, a character-based estimate of
    the prompt (one token per 4 characters of its text) plus the most it may generate (``max_tokens``
    or its kin, times ``n``)."""
    chars = 0
    stack: list[Any] = [data.get(k) for k in _PROMPT_FIELDS]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            chars += len(value)
        elif isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    output = next((v for k in _OUTPUT_FIELDS if isinstance(v := data.get(k), int) and not isinstance(v, bool)), 0)
    n = data.get("n")
    n = n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else 1
    return -(-chars // 4) + max(0, output) * n


class Gate:
    """One simulator's fault plan, rate limiter and retry bookkeeping."""

    def __init__(self, settings: Settings, seed: int) -> None:
        self.settings = settings
        self.plan = FaultPlan(
            seed,
            rate=settings.error_rate,
            kinds=settings.error_types,
            rates=settings.error_rates,
            sequence=settings.error_sequence,
            spikes=[parse_spike(s) for s in settings.error_spikes],
        )
        self.limiter = RateLimiter(
            {"rpm": settings.rpm, "tpm": settings.tpm, "rpd": settings.rpd, "tpd": settings.tpd},
            settings.rate_limits,
        )
        self.active = self.plan.active or self.limiter.active
        self._jitter = random.Random(derive_seed(seed, "retry-jitter"))
        self._lock = threading.Lock()
        self.retries = 0  # requests that said they were a retry (x-stainless-retry-count > 0)
        self.retry_wait = 0.0  # simulated seconds clients spent waiting between attempts
        self._owed: dict[int, float] = {}  # over a port: request -> the wait its retry stands for

    def admit(self, engine: Engine, request: ApiRequest) -> Admission:
        """Admit a request (maybe with a fault to act out later) or raise its error."""
        model, stream, data = _model_and_stream(request)
        key = api_key_of(request.headers) or ""
        admission = Admission(model=model)
        if self.limiter.active and model is not None:
            decision: Decision = self.limiter.admit(key, model, estimate_tokens(data), engine.clock.elapsed())
            admission.headers = decision.headers
            if decision.limited is not None:
                raise rate_limited_error(
                    model,
                    decision.limited,
                    limit=decision.limit,
                    used=decision.used,
                    requested=decision.requested,
                    retry_after=decision.retry_after,
                    headers=decision.headers,
                )
        if self.plan.active:
            kind = self.plan.decide(request.path.rstrip("/"), model, engine.clock.elapsed(), stream=stream)
            if kind is not None:
                if FAULT_KINDS[kind]:
                    window = 0
                    if kind == "context_length_exceeded" and model:
                        from .common import resolve_model

                        try:
                            window = resolve_model(engine, model).context_window
                        except ApiError:
                            window = 0
                    error = fault_error(kind, model=model or "", api_key=key, context_window=window)
                    error.headers = [*admission.headers, *error.headers]
                    error.fault = kind
                    raise error
                admission.fault = kind
                if kind in ("stream_cut", "stream_error"):
                    admission.cut_after = self.settings.stream_cut_after or self.plan.cut_point(
                        derive_seed(engine.seed, "cut", self.plan.injected.get(kind, 0)), 12
                    )
        return admission

    def note_attempt(self, request: ApiRequest) -> str | None:
        """Count a client's retry (the openai SDKs send ``x-stainless-retry-count``); return the count."""
        count = request.headers.get("x-stainless-retry-count")
        if count is not None and count != "0":
            with self._lock:
                self.retries += 1
        return count

    # -- fast retries over a real port ---------------------------------------------------------
    # In process, adapters/retries.py takes the SDK's wait on the simulated clock.  Over a port the
    # client cannot be reached, so the headers it honours do the job: a retryable error says
    # ``retry-after-ms: 1`` (``retry-after`` keeps the true seconds), and when the retry arrives
    # the simulated clock moves on by the wait it stands for.

    def owe_wait(self, request: ApiRequest, status: int, headers: list[tuple[str, str]], count: str | None) -> None:
        """A retryable error answered ``request`` over a port: shorten the client's wait, remember the true one."""
        if not (status in (408, 409, 429) or status >= 500):
            return
        values = dict(headers)
        if values.get("x-should-retry") == "false":
            return
        retry_after: float | None = None
        for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
            if name in values:
                retry_after = float(values[name]) / scale
                break
        attempt = int(count) if count is not None and count.isdigit() else 0
        sdk_step = min(0.5 * 2.0**attempt, 8.0)
        with self._lock:
            self._owed[hash((request.method, request.path, request.body))] = self._jittered(sdk_step, retry_after)
        headers[:] = [(k, v) for k, v in headers if k != "retry-after-ms"]
        headers.append(("retry-after-ms", "1"))

    def settle_wait(self, request: ApiRequest) -> float:
        """A retry arrived over a port: the simulated seconds its client would have waited (0 if none owed)."""
        with self._lock:
            wait = self._owed.pop(hash((request.method, request.path, request.body)), 0.0)
            self.retry_wait += wait
        return wait

    def _jittered(self, sdk_step: float, retry_after: float | None) -> float:
        if retry_after is not None and 0 < retry_after <= 120:
            return retry_after
        return sdk_step * (1 - 0.25 * self._jitter.random())

    def backoff(self, sdk_delay: float, retry_after: float | None) -> float:
        """The simulated seconds a client waits before retrying: the ``retry-after`` it was given, else the
        SDK's exponential backoff step that ``sdk_delay`` came from, with this simulator's seeded jitter
        (the SDK's own jitter is not seeded, and the timeline must be reproducible)."""
        base = next((b for b in (0.5, 1.0, 2.0, 4.0, 8.0) if sdk_delay <= b + 1e-9), 8.0)
        with self._lock:
            wait = self._jittered(base, retry_after)
            self.retry_wait += wait
        return wait


def damaged(stream: TimedStream, kind: str, cut_after: int) -> TimedStream:
    """``stream`` cut after ``cut_after`` chunks: the connection drops, or an SSE error event ends it."""

    def produce() -> Iterator[tuple[float, bytes]]:
        # never the final chunk: a stream shorter than ``cut_after`` is cut before its end ([DONE])
        last = 0.0
        it = iter(stream)
        item = next(it, None)
        for _ in range(cut_after):
            following = next(it, None)
            if item is None or following is None:
                break
            last = item[0]
            yield item
            item = following
        if kind == "stream_cut":
            raise StreamAbort("the stream was cut (a stream_cut fault injected by pytest-fakeai)")
        error = ApiError(500, _SERVER_ERROR, type="server_error")
        yield last, b"data: " + json.dumps(error.to_dict(), separators=(",", ":")).encode() + b"\n\n"

    return TimedStream(produce(), on_close=lambda complete: stream.close())
