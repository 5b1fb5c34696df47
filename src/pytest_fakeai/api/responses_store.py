"""Stored responses: the per-simulator store, and ``GET`` / ``DELETE`` / ``cancel`` / ``input_items``.

Responses are kept in ``engine.stores["responses"]`` (one :class:`ResponseStore` per
simulator, created on first use, at most :data:`MAX_STORED`).  A background response
progresses with the simulator's clock: :meth:`Stored.view` is the object as it stands at
a moment (queued, in progress, then finished), and its events can be streamed again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from .common import json_response, range_error, response_headers
from .errors import ApiError, invalid_value
from .types import ApiRequest, ApiResponse, TimedStream

if TYPE_CHECKING:
    from ..engine.core import Engine

__all__ = [
    "MAX_STORED",
    "ResponseStore",
    "Stored",
    "cancel_response",
    "delete_response",
    "list_input_items",
    "not_found",
    "response_store",
    "retrieve_response",
    "stored_response",
]

MAX_STORED = 10_000  # stored responses per simulator; the oldest are forgotten beyond this


@dataclass(slots=True)
class Stored:
    """A stored response: the finished object, its input context, and when it is (or was) done."""

    body: dict[str, Any]  # the finished response object (completed or incomplete)
    context: list[dict[str, Any]]  # input items of its whole conversation (previous turns first), with ids
    background: bool
    started: float  # simulator seconds (clock.elapsed) at creation
    done_at: float  # simulator seconds at which it is finished
    cancelled: bool = False
    replay: Callable[[], Iterator[tuple[float, bytes]]] | None = None  # background: its events, again

    def view(self, now: float) -> dict[str, Any]:
        """The object as it stands at simulator second ``now`` (background responses progress with time)."""
        if not self.background or (now >= self.done_at and not self.cancelled):
            return self.body
        status = "cancelled" if self.cancelled else "queued" if now <= self.started else "in_progress"
        return {**self.body, "status": status, "completed_at": None, "output": [], "usage": None}


class ResponseStore:
    """One simulator's stored responses, oldest first (bounded by :data:`MAX_STORED`)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.responses: dict[str, Stored] = {}

    def put(self, response_id: str, stored: Stored) -> None:
        with self.lock:
            while len(self.responses) >= MAX_STORED:
                del self.responses[next(iter(self.responses))]
            self.responses[response_id] = stored

    def get(self, response_id: str) -> Stored | None:
        with self.lock:
            return self.responses.get(response_id)

    def delete(self, response_id: str) -> Stored | None:
        with self.lock:
            return self.responses.pop(response_id, None)

    def item(self, item_id: str) -> dict[str, Any] | None:
        """An input or output item of any stored response, by id (newest responses first)."""
        with self.lock:
            stored = list(self.responses.values())
        for s in reversed(stored):
            for item in (*s.body["output"], *s.context):
                if item.get("id") == item_id:
                    found: dict[str, Any] = item
                    return found
        return None


def response_store(engine: Engine) -> ResponseStore:
    store = engine.stores.get("responses")
    if store is None:
        store = engine.stores.setdefault("responses", ResponseStore())
    assert isinstance(store, ResponseStore)
    return store


def not_found(response_id: str) -> ApiError:
    return ApiError(404, f"Response with id '{response_id}' not found.")


def stored_response(engine: Engine, response_id: str) -> Stored:
    stored = response_store(engine).get(response_id)
    if stored is None:
        raise not_found(response_id)
    return stored


# -- stored responses ---------------------------------------------------------------------------
def _query(request: ApiRequest) -> dict[str, list[str]]:
    return parse_qs(request.query, keep_blank_values=True)


def _one(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


def _flag(query: dict[str, list[str]], name: str) -> bool:
    value = _one(query, name)
    if value is None:
        return False
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0", ""):
        return False
    raise ApiError(
        400,
        f"Invalid value for '{name}': expected a boolean, but got '{value}' instead.",
        param=name,
        code="invalid_type",
    )


def retrieve_response(engine: Engine, request: ApiRequest, response_id: str) -> ApiResponse:
    """``GET /v1/responses/{id}`` (``stream=true``: a background response's events, again)."""
    stored = stored_response(engine, response_id)
    query = _query(request)
    if _flag(query, "stream"):
        if stored.replay is None:
            raise ApiError(
                400,
                "Streaming a stored response is only supported for responses created with background=true.",
                param="stream",
                code="invalid_value",
            )
        after_text = _one(query, "starting_after")
        after = -1
        if after_text:
            try:
                after = int(after_text)
            except ValueError:
                raise ApiError(
                    400,
                    f"Invalid value for 'starting_after': expected an integer, but got '{after_text}' instead.",
                    param="starting_after",
                    code="invalid_type",
                ) from None
        return ApiResponse(
            200,
            response_headers(engine, 0.0, stream=True),
            stream=TimedStream(_replayed(stored, stored.replay(), after, engine.clock.elapsed())),
        )
    body = stored.view(engine.clock.elapsed())
    return json_response(engine, body)


def _replayed(
    stored: Stored, events: Iterator[tuple[float, bytes]], after: int, now: float
) -> Iterator[tuple[float, bytes]]:
    """The events after sequence number ``after``, each due when it happened (``now``: already past)."""
    for seq, (due, data) in enumerate(events):
        if seq > after:
            yield max(0.0, stored.started + due - now), data


def delete_response(engine: Engine, request: ApiRequest, response_id: str) -> ApiResponse:
    """``DELETE /v1/responses/{id}``."""
    if response_store(engine).delete(response_id) is None:
        raise not_found(response_id)
    body = {"id": response_id, "object": "response", "deleted": True}
    return json_response(engine, body)


def cancel_response(engine: Engine, request: ApiRequest, response_id: str) -> ApiResponse:
    """``POST /v1/responses/{id}/cancel``: only background responses, and only until they finish."""
    stored = stored_response(engine, response_id)
    if not stored.background:
        raise ApiError(400, "Cannot cancel a synchronous response.", param=None)
    now = engine.clock.elapsed()
    if now < stored.done_at:
        stored.cancelled = True
    body = stored.view(now)
    return json_response(engine, body)


def list_input_items(engine: Engine, request: ApiRequest, response_id: str) -> ApiResponse:
    """``GET /v1/responses/{id}/input_items``: the response's whole input context, a page at a time."""
    stored = stored_response(engine, response_id)
    query = _query(request)
    limit = 20
    text = _one(query, "limit")
    if text is not None:
        try:
            limit = int(text)
        except ValueError:
            raise ApiError(
                400,
                f"Invalid type for 'limit': expected an integer, but got '{text}' instead.",
                param="limit",
                code="invalid_type",
            ) from None
        error = range_error("limit", limit, 1, 100)
        if error is not None:
            raise error
    order = _one(query, "order") or "desc"
    if order not in ("asc", "desc"):
        raise invalid_value("order", order, ["asc", "desc"])
    items = stored.context if order == "asc" else stored.context[::-1]
    ids = [item["id"] for item in items]
    start, end = 0, len(items)
    for name in ("after", "before"):
        cursor = _one(query, name)
        if cursor:
            if cursor not in ids:
                raise ApiError(
                    400,
                    f"Invalid '{name}': '{cursor}' is not the id of an input item of response '{response_id}'.",
                    param=name,
                    code="invalid_value",
                )
            if name == "after":
                start = ids.index(cursor) + 1
            else:
                end = ids.index(cursor)
    window = items[start:end]
    page = window[:limit]
    body = {
        "object": "list",
        "data": page,
        "first_id": page[0]["id"] if page else None,
        "last_id": page[-1]["id"] if page else None,
        "has_more": len(window) > limit,
    }
    return json_response(engine, body)
