"""Fast retries: the openai SDK's waits between attempts cost no wall time on the virtual clock.

The SDK computes each wait in ``BaseClient._calculate_retry_timeout`` (a
``retry-after`` it was given, else exponential backoff) and then sleeps it.  While
a fault from a simulator with ``fast_retries`` (the default) on the virtual clock
is being handled, the wrapper installed here moves that simulator's clock on by
the wait instead -- so rate-limit buckets refill and the recorded timeline shows
the delay a real service would impose -- and returns a wait of zero.  Anything
else (a real server's error, the real clock, fast_retries off) keeps the SDK's
own behaviour: the wrapper returns the SDK's number untouched.

Which simulator produced the failure is read from the exception being handled:
the in-process transports tag their responses (``extensions["fakeai"]``) and
the exceptions they raise (``.fakeai``).  Headers stay exactly what the real
service sends.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

__all__ = ["install", "simulator_of"]

_lock = threading.Lock()
_installed = False


def simulator_of(exc: BaseException | None) -> Any:
    """The simulator that produced ``exc`` (an httpx/httpx2 error from an in-process transport), or None."""
    if exc is None:
        return None
    sim = getattr(exc, "fakeai", None)
    if sim is not None:
        return sim
    response = getattr(exc, "response", None)
    extensions = getattr(response, "extensions", None)
    if isinstance(extensions, dict):
        return extensions.get("fakeai")
    return None


def _retry_after(headers: Any) -> float | None:
    if headers is None:
        return None
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is not None:
            try:
                return float(value) / scale
            except ValueError:
                return None
    return None


def install() -> None:
    """Wrap the SDK's retry-wait computation once per process (no-op without openai)."""
    global _installed
    with _lock:
        if _installed:
            return
        try:
            from openai import _base_client
        except ImportError:  # pragma: no cover - openai is a dependency
            return
        base = _base_client.BaseClient
        original = getattr(base, "_calculate_retry_timeout", None)
        if original is None:  # an SDK without the hook: its retries simply wait
            _installed = True
            return

        def _calculate_retry_timeout(self: Any, remaining_retries: int, options: Any, response_headers: Any) -> float:
            delay: float = original(self, remaining_retries, options, response_headers)
            sim = simulator_of(sys.exc_info()[1])
            if sim is None:
                return delay
            return float(sim.retry_wait(delay, _retry_after(response_headers)))

        _calculate_retry_timeout.__wrapped__ = original  # type: ignore[attr-defined]
        base._calculate_retry_timeout = _calculate_retry_timeout  # type: ignore[method-assign,assignment]
        _installed = True
