"""Neutral request and response values: what adapters translate to and from.

A request enters as method, path, query, headers and body bytes; it leaves as
status, headers and either a body or a :class:`TimedStream` -- chunks, each with
the simulated moment (seconds on the simulator's timeline) at which it is due.
Nothing here knows an HTTP library.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ApiRequest", "ApiResponse", "StreamAbort", "TimedStream"]


@dataclass(frozen=True, slots=True)
class ApiRequest:
    method: str
    path: str
    query: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""


class StreamAbort(Exception):
    """Raised by a timed stream's producer to make the adapter drop the connection."""


class TimedStream:
    """A lazy sequence of ``(due, data)``: ``data`` bytes due at simulated moment ``due``.

    Chunks are produced on demand, so a client can read the first before the
    last exists.  ``on_close`` runs exactly once, when the stream is exhausted
    or closed early (a client that stopped reading).
    """

    __slots__ = ("_closed", "_it", "_on_close", "sent")

    def __init__(
        self,
        chunks: Iterator[tuple[float, bytes]],
        on_close: Callable[[bool], None] | None = None,
    ) -> None:
        self._it = chunks
        self._on_close = on_close
        self._closed = False
        self.sent = 0  # chunks handed to the adapter so far

    def __iter__(self) -> Iterator[tuple[float, bytes]]:
        return self

    def __next__(self) -> tuple[float, bytes]:
        if self._closed:
            raise StopIteration
        try:
            item = next(self._it)
        except StopIteration:
            self._finish(complete=True)
            raise
        except BaseException:
            self._finish(complete=False)
            raise
        self.sent += 1
        return item

    def close(self) -> None:
        """Stop early (the client went away); the remaining chunks are never produced."""
        self._finish(complete=False)

    def _finish(self, *, complete: bool) -> None:
        if not self._closed:
            self._closed = True
            close = getattr(self._it, "close", None)
            if close is not None:
                close()
            if self._on_close is not None:
                self._on_close(complete)


@dataclass(slots=True)
class ApiResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""
    stream: TimedStream | None = None
    due: float = 0.0  # simulated seconds after the request's start at which the (non-stream) body is due
    start: float = 0.0  # simulated moment the request started (set by the simulator)
    json: Any = None  # the body as it was built, for the recorder (no re-parse)
    # no HTTP response at all, for the adapter to act out: "timeout" (never answers until the
    # client gives up) or "connection_reset" (the connection drops before a response)
    fault: str | None = None
    # what the serving model planned (engine/serving.py Timeline) and for which model, for metrics
    timeline: Any = None
    model: str | None = None
    usage: Any = None  # the usage dict of a generation (streams too)
    finish_reason: str | None = None  # of the first choice
    clock_token: int = 0  # the virtual clock waits for this response's delivery (engine/clock.py)
