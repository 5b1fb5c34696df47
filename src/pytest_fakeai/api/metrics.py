"""``fakeai.metrics``: what the simulator served, counted over every exchange (not only the kept calls)."""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .types import ApiRequest

if TYPE_CHECKING:
    from .faults import Gate

__all__ = ["Metrics", "model_label"]

# The request's model without parsing the body: the first JSON string value of a "model" key.
# (A "model" inside a string is escaped as \"model\" and cannot match.)
_MODEL = re.compile(rb'"model"\s*:\s*"((?:[^"\\]|\\.){1,256})"')


def model_label(request: ApiRequest) -> str:
    """The model a request names ("" when none), for metric labels."""
    if not request.body:
        return ""
    m = _MODEL.search(request.body)
    return m.group(1).decode("utf-8", "replace") if m else ""


class Metrics:
    """Counters by endpoint, model and status; injected faults; rate-limit refusals; client retries."""

    def __init__(self, gate: Gate) -> None:
        self._gate = gate
        self._lock = threading.Lock()
        self._requests: Counter[tuple[str, str, int]] = Counter()

    def record(self, request: ApiRequest, status: int) -> None:
        key = (request.path.rstrip("/") or "/", model_label(request), status)
        with self._lock:
            self._requests[key] += 1

    def requests(self, *, endpoint: str | None = None, model: str | None = None, status: int | None = None) -> int:
        """How many requests matched (``status`` 0: no HTTP response, a timeout or dropped connection)."""
        if endpoint is not None and not endpoint.startswith("/"):
            endpoint = "/v1/" + endpoint.replace(".", "/")
        with self._lock:
            items = list(self._requests.items())
        return sum(
            n
            for (e, m, s), n in items
            if (endpoint is None or e == endpoint.rstrip("/"))
            and (model is None or m == model)
            and (status is None or s == status)
        )

    @property
    def faults(self) -> Mapping[str, int]:
        """Injected faults by kind (``{"overloaded": 3, "timeout": 1}``)."""
        return dict(self._gate.plan.injected)

    @property
    def rate_limited(self) -> Mapping[str, int]:
        """Requests refused by a rate limit, by limit (``{"rpm": 2}``)."""
        return dict(self._gate.limiter.limited)

    @property
    def retries(self) -> int:
        """Requests that were a client's retry (the SDK's ``x-stainless-retry-count`` > 0)."""
        return self._gate.retries

    @property
    def retry_wait(self) -> float:
        """Simulated seconds clients waited between attempts (fast retries: none of it in wall time)."""
        return self._gate.retry_wait

    def snapshot(self) -> dict[str, Any]:
        """The counters as plain data."""
        with self._lock:
            by_status: Counter[int] = Counter()
            for (_, _, s), n in self._requests.items():
                by_status[s] += n
        return {
            "requests": sum(by_status.values()),
            "by_status": dict(sorted(by_status.items())),
            "faults": dict(self.faults),
            "rate_limited": dict(self.rate_limited),
            "retries": self.retries,
            "retry_wait": self.retry_wait,
        }
