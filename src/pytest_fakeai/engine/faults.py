"""Fault injection: which request fails, and how.  Seeded, on the simulator's timeline; no HTTP.

A :class:`FaultPlan` answers one question per request -- "does this one fail, and
with which kind?" -- from the settings (a global rate, per-endpoint and per-model
rates, a kind mix, a scripted sequence, time-windowed spikes).  Each decision is
drawn from the plan's own random stream, seeded from the simulator's seed, so the
same seed and the same requests give the same sequence of faults.  What a kind
*looks like* on the wire (status, body, headers, a dropped connection) is the api
layer's business (``api/faults.py``).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .rng import derive_seed

__all__ = [
    "FAULT_KINDS",
    "STREAM_ONLY",
    "FaultPlan",
    "Spike",
    "fault_kind",
    "parse_spike",
]

#: Canonical kind -> HTTP status (0: no HTTP response at all).
FAULT_KINDS: dict[str, int] = {
    "context_length_exceeded": 400,
    "invalid_api_key": 401,
    "permission_denied": 403,
    "model_not_found": 404,
    "request_timeout": 408,
    "conflict": 409,
    "rate_limit_requests": 429,
    "rate_limit_tokens": 429,
    "insufficient_quota": 429,
    "server_error": 500,
    "bad_gateway": 502,
    "overloaded": 503,  # the newer form: service_unavailable_error / server_is_overloaded
    "service_unavailable": 503,  # the older form: server_error / null code
    "gateway_timeout": 504,
    "timeout": 0,  # never answers: the client's read timeout fires
    "connection_reset": 0,  # the connection drops before any response
    "stream_cut": 0,  # a stream stops after some chunks (the connection drops)
    "stream_error": 0,  # a stream ends with an SSE error event
}

#: Kinds that only make sense on a streaming response (never drawn for other requests).
STREAM_ONLY = frozenset({"stream_cut", "stream_error"})

_ALIASES = {
    "400": "context_length_exceeded",
    "401": "invalid_api_key",
    "403": "permission_denied",
    "404": "model_not_found",
    "408": "request_timeout",
    "409": "conflict",
    "429": "rate_limit_requests",
    "500": "server_error",
    "502": "bad_gateway",
    "503": "overloaded",
    "504": "gateway_timeout",
    "reset": "connection_reset",
    "cut": "stream_cut",
    "ok": "ok",  # in a sequence: this request succeeds
}


def fault_kind(text: str) -> str:
    """The canonical name of a fault kind (a name from :data:`FAULT_KINDS` or an alias like ``"503"``)."""
    name = text.strip().lower()
    name = _ALIASES.get(name, name)
    if name not in FAULT_KINDS and name != "ok":
        known = ", ".join([*FAULT_KINDS, *(a for a in _ALIASES if a.isdigit())])
        raise ValueError(f"unknown fault kind {text!r}; known kinds: {known}")
    return name


@dataclass(frozen=True, slots=True)
class Spike:
    """From ``start`` to ``end`` simulated seconds after the simulator started, faults come at ``rate``."""

    start: float
    end: float
    rate: float


def parse_spike(text: str) -> Spike:
    """``"START-END:RATE"`` (simulated seconds; rate in [0, 1]), e.g. ``"10-20:0.8"``."""
    window, sep, rate_text = text.strip().partition(":")
    start_text, dash, end_text = window.partition("-")
    try:
        if not sep or not dash:
            raise ValueError
        spike = Spike(float(start_text), float(end_text), float(rate_text))
    except ValueError:
        raise ValueError(f"a spike is 'START-END:RATE' in simulated seconds, e.g. '10-20:0.8', not {text!r}") from None
    if not (0 <= spike.start < spike.end) or not 0 <= spike.rate <= 1:
        raise ValueError(f"a spike needs 0 <= START < END and RATE in [0, 1], not {text!r}")
    return spike


class FaultPlan:
    """Decides, request by request, whether to inject a fault and which kind."""

    def __init__(
        self,
        seed: int,
        *,
        rate: float = 0.0,
        kinds: Sequence[str] = ("rate_limit_requests", "server_error", "overloaded"),
        rates: Mapping[str, float] | None = None,
        sequence: Sequence[str] = (),
        spikes: Sequence[Spike] = (),
    ) -> None:
        self.rate = rate
        self.kinds = tuple(fault_kind(k) for k in kinds) or ("server_error",)
        self.rates = dict(rates or {})
        self.sequence = [fault_kind(k) for k in sequence]
        self.spikes = tuple(spikes)
        self._rng = random.Random(derive_seed(seed, "faults"))
        self._lock = threading.Lock()
        self._position = 0  # how many requests the plan has decided on
        self.injected: dict[str, int] = {}  # kind -> count

    @property
    def active(self) -> bool:
        """Whether any request can fail (a cheap check for the common case: no faults at all)."""
        return bool(self.rate or self.sequence or self.spikes or any(self.rates.values()))

    def rate_for(self, endpoint: str, model: str | None, elapsed: float) -> float:
        """The fault rate for one request: a spike covering ``elapsed`` wins, then the model's, then the endpoint's."""
        for spike in self.spikes:
            if spike.start <= elapsed < spike.end:
                return spike.rate
        if model is not None and model in self.rates:
            return self.rates[model]
        if endpoint in self.rates:
            return self.rates[endpoint]
        return self.rate

    def decide(self, endpoint: str, model: str | None, elapsed: float, *, stream: bool) -> str | None:
        """The kind of fault for this request, or None.  Every call draws the same amount of randomness,
        so one request's outcome never shifts the draws of the next."""
        with self._lock:
            position = self._position
            self._position += 1
            draw = self._rng.random()
            pick = self._rng.random()
            if position < len(self.sequence):
                kind: str | None = self.sequence[position]
                if kind == "ok":
                    return None
            else:
                if draw >= self.rate_for(endpoint, model, elapsed):
                    return None
                eligible = [k for k in self.kinds if stream or k not in STREAM_ONLY]
                if not eligible:
                    return None
                kind = eligible[min(int(pick * len(eligible)), len(eligible) - 1)]
            if kind in STREAM_ONLY and not stream:
                kind = "connection_reset"
            assert kind is not None
            self.injected[kind] = self.injected.get(kind, 0) + 1
            return kind

    def cut_point(self, seed: int, chunks_hint: int) -> int:
        """After how many chunks a ``stream_cut`` stops (at least 1: the headers and a first chunk arrive)."""
        return 1 + random.Random(derive_seed(seed, "cut")).randrange(max(1, chunks_hint))
