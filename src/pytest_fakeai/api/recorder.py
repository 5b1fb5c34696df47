"""``fakeai.calls``: every exchange, request and response, in a bounded ring."""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .types import ApiRequest

if TYPE_CHECKING:
    from .script import Rule

__all__ = ["Call", "Calls", "RecordedRequest", "RecordedResponse"]


@dataclass(slots=True)
class RecordedRequest:
    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes
    _json: Any = field(default=None, repr=False)
    _parsed: bool = field(default=False, repr=False)

    @property
    def json(self) -> Any:
        """The body parsed as JSON (None when it is not JSON)."""
        if not self._parsed:
            try:
                self._json = json.loads(self.body) if self.body else None
            except ValueError:
                self._json = None
            self._parsed = True
        return self._json


@dataclass(slots=True)
class RecordedResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""
    chunks: list[bytes] = field(default_factory=list)  # raw stream chunks, as delivered
    streamed: bool = False
    complete: bool = True  # False while streaming, or when the client stopped early
    _json: Any = field(default=None, repr=False)

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k == name), None)

    @property
    def json(self) -> Any:
        """The JSON body (non-streaming responses and errors)."""
        if self._json is None and self.body:
            try:
                self._json = json.loads(self.body)
            except ValueError:
                return None
        return self._json

    @property
    def events(self) -> list[Any]:
        """The parsed ``data:`` events of a stream (``[DONE]`` excluded)."""
        out = []
        for chunk in self.chunks:
            for line in chunk.split(b"\n"):
                if line.startswith(b"data: ") and line != b"data: [DONE]":
                    out.append(json.loads(line[6:]))
        return out

    @property
    def text(self) -> str:
        """The assistant's text: message content, or the streamed deltas joined (choice 0)."""
        if not self.streamed:
            body = self.json or {}
            choices = body.get("choices") or [{}]
            first = choices[0]
            return str((first.get("message") or {}).get("content") or first.get("text") or "")
        parts = []
        for event in self.events:
            for choice in event.get("choices") or ():
                if choice.get("index") != 0:
                    continue
                if "delta" in choice:
                    parts.append((choice["delta"] or {}).get("content") or "")
                else:
                    parts.append(choice.get("text") or "")
        return "".join(parts)


@dataclass(slots=True)
class Call:
    """One exchange."""

    index: int
    request: RecordedRequest
    response: RecordedResponse
    started: float  # simulated seconds since the simulator started
    ended: float | None = None
    transport: str = ""  # "httpx", "httpx2", "asgi", ... : which adapter carried it
    error: str | None = None  # traceback when the simulator itself failed (answered 500)
    rule: Rule | None = None  # the scripted rule that answered (fakeai.on(...)); None: unscripted
    fault: str | None = None  # the fault injected into this exchange (docs/faults.md); None: none


class Calls:
    """The recorded exchanges, oldest first; keeps the last ``maxlen``."""

    def __init__(self, maxlen: int) -> None:
        self._calls: deque[Call] = deque(maxlen=maxlen)
        self._count = 0
        self._lock = threading.Lock()

    def record(
        self,
        request: ApiRequest,
        status: int,
        headers: list[tuple[str, str]],
        *,
        started: float,
        transport: str,
        body: bytes = b"",
        json_body: Any = None,
        streamed: bool = False,
    ) -> Call:
        req = RecordedRequest(request.method, request.path, request.query, request.headers, request.body)
        resp = RecordedResponse(status, headers, body, streamed=streamed, complete=not streamed, _json=json_body)
        with self._lock:
            call = Call(self._count, req, resp, started, None if streamed else started, transport)
            self._count += 1
            self._calls.append(call)
        return call

    @property
    def total(self) -> int:
        """Exchanges recorded since the start (including those the ring dropped)."""
        return self._count

    @property
    def last(self) -> Call:
        if not self._calls:
            raise LookupError("no calls recorded yet: the simulator has not been sent any request")
        return self._calls[-1]

    def filter(
        self,
        *,
        path: str | None = None,
        method: str | None = None,
        status: int | None = None,
        where: Callable[[Call], bool] | None = None,
    ) -> list[Call]:
        return [
            c
            for c in list(self._calls)
            if (path is None or c.request.path == path)
            and (method is None or c.request.method == method.upper())
            and (status is None or c.response.status == status)
            and (where is None or where(c))
        ]

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()

    def __len__(self) -> int:
        return len(self._calls)

    def __iter__(self) -> Iterator[Call]:
        return iter(list(self._calls))

    def __getitem__(self, index: int) -> Call:
        return self._calls[index]

    def __bool__(self) -> bool:
        return bool(self._calls)

    def __repr__(self) -> str:
        return f"<Calls {len(self)} kept of {self._count}>"
