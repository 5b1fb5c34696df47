"""``/v1/batches``: create a batch from an uploaded JSONL file, retrieve, cancel and list batches.

The batch itself (validation, lifecycle on the simulator's clock, running its lines) lives in
``engine/batches.py``; this module is the wire format.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..engine.batches import BATCH_ENDPOINTS, Batch, batch_store
from .common import json_response, query_int, query_values
from .errors import ApiError, invalid_value
from .files import EXPIRES_MAX, EXPIRES_MIN
from .types import ApiRequest, ApiResponse
from .validation import parse_body

if TYPE_CHECKING:
    from ..engine.core import Engine

__all__ = [
    "MAX_LIST_LIMIT",
    "batch_object",
    "cancel_batch",
    "create_batch",
    "list_batches",
    "retrieve_batch",
    "served_endpoints",
]

MAX_LIST_LIMIT = 100
DEFAULT_LIST_LIMIT = 20
MAX_METADATA_KEYS = 16
MAX_METADATA_KEY = 64
MAX_METADATA_VALUE = 512


class _Closed(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class _ExpiresAfter(_Closed):
    anchor: Literal["created_at"]
    seconds: Annotated[int, Field(ge=EXPIRES_MIN, le=EXPIRES_MAX)]


class _CreateBatch(_Closed):
    input_file_id: str
    endpoint: str
    completion_window: Literal["24h"]
    metadata: dict[str, str] | None = None
    output_expires_after: _ExpiresAfter | None = None


@functools.cache
def served_endpoints() -> tuple[str, ...]:
    """The batch endpoints of OpenAI's list that this simulator routes (a batch may use only those)."""
    from .router import default_router

    router = default_router()
    served = []
    for endpoint in BATCH_ENDPOINTS:
        try:
            router.resolve("POST", endpoint)
        except ApiError:
            continue
        served.append(endpoint)
    return tuple(sorted(served))


def batch_object(batch: Batch, now: float, *, initial: bool = False) -> dict[str, Any]:
    """The ``batch`` object at moment ``now`` (``initial``: as the create call answers, still validating)."""
    status = "validating" if initial else batch.status(now)
    moments: dict[str, int | None] = dict.fromkeys(
        (
            "in_progress_at",
            "finalizing_at",
            "completed_at",
            "failed_at",
            "expired_at",
            "cancelling_at",
            "cancelled_at",
        )
    )
    if not initial:
        moments.update(batch.moments(now))
    body: dict[str, Any] = {"id": batch.id, "object": "batch", "endpoint": batch.endpoint}
    if batch.model is not None and status != "validating":
        body["model"] = batch.model
    body |= {
        "errors": {"object": "list", "data": [dict(e) for e in batch.errors]} if status == "failed" else None,
        "input_file_id": batch.input_file_id,
        "completion_window": batch.completion_window,
        "status": status,
        "output_file_id": batch.output_file_id,
        "error_file_id": batch.error_file_id,
        "created_at": int(batch.created),
        "in_progress_at": moments["in_progress_at"],
        "expires_at": int(batch.expires),
        "finalizing_at": moments["finalizing_at"],
        "completed_at": moments["completed_at"],
        "failed_at": moments["failed_at"],
        "expired_at": moments["expired_at"],
        "cancelling_at": moments["cancelling_at"],
        "cancelled_at": moments["cancelled_at"],
        "request_counts": {"total": 0, "completed": 0, "failed": 0} if initial else batch.counts(now),
        "usage": batch.usage(),
        "metadata": dict(batch.metadata) if batch.metadata is not None else None,
    }
    return body


def _ok(engine: Engine, body: dict[str, Any]) -> ApiResponse:
    return json_response(engine, body)


def _get(engine: Engine, batch_id: str, now: float) -> Batch:
    batch = batch_store(engine).get(batch_id, now)
    if batch is None:
        raise ApiError(404, f"No batch found with id '{batch_id}'.")
    return batch


def _too_long(param: str, what: str, maximum: int, length: int) -> ApiError:
    return ApiError(
        400,
        f"Invalid '{param}': {what} too long. Expected a {what} with maximum length {maximum}, "
        f"but got a {what} with length {length} instead.",
        param=param,
        code="string_above_max_length",
    )


def _check_metadata(metadata: dict[str, str]) -> None:
    """At most 16 pairs, keys up to 64 characters, values up to 512 (OpenAI's ``Metadata``)."""
    if len(metadata) > MAX_METADATA_KEYS:
        raise ApiError(
            400,
            f"Invalid 'metadata': too many properties. Expected an object with at most {MAX_METADATA_KEYS} "
            f"properties, but got an object with {len(metadata)} properties instead.",
            param="metadata",
            code="object_above_max_properties",
        )
    for key, value in metadata.items():
        if len(key) > MAX_METADATA_KEY:
            raise _too_long("metadata", "key", MAX_METADATA_KEY, len(key))
        if len(value) > MAX_METADATA_VALUE:
            raise _too_long(f"metadata.{key}", "string", MAX_METADATA_VALUE, len(value))


def create_batch(engine: Engine, request: ApiRequest) -> ApiResponse:
    req = parse_body(_CreateBatch, request.body)
    served = served_endpoints()
    if req.endpoint not in served:
        raise invalid_value("endpoint", req.endpoint, served)
    if req.metadata is not None:
        _check_metadata(req.metadata)
    store = batch_store(engine)
    batch = store.create(
        endpoint=req.endpoint,
        input_file_id=req.input_file_id,
        metadata=dict(req.metadata) if req.metadata is not None else None,
        output_expires_after=None if req.output_expires_after is None else req.output_expires_after.seconds,
    )
    return _ok(engine, batch_object(batch, store.now(), initial=True))


def retrieve_batch(engine: Engine, request: ApiRequest, batch_id: str) -> ApiResponse:
    now = batch_store(engine).now()
    return _ok(engine, batch_object(_get(engine, batch_id, now), now))


def cancel_batch(engine: Engine, request: ApiRequest, batch_id: str) -> ApiResponse:
    store = batch_store(engine)
    now = store.now()
    batch = _get(engine, batch_id, now)
    status = store.cancel(batch, now)
    if status in ("completed", "failed", "expired"):
        raise ApiError(409, f"Cannot cancel a batch with status '{status}'.")
    return _ok(engine, batch_object(batch, now))


def list_batches(engine: Engine, request: ApiRequest) -> ApiResponse:
    query = query_values(request.query)

    def one(name: str) -> str | None:
        return query.get(name)

    limit = query_int(query, "limit", default=DEFAULT_LIST_LIMIT, low=1, high=MAX_LIST_LIMIT)
    after = one("after") or None
    store = batch_store(engine)
    if after is not None and not store.known(after):
        raise ApiError(
            400,
            f"Invalid 'after': '{after}' is not the id of a batch. Pass the last_id of the previous page.",
            param="after",
            code="invalid_value",
        )
    now = store.now()
    items, has_more = store.page(limit=limit, after=after, now=now)
    data = [batch_object(b, now) for b in items]
    return _ok(
        engine,
        {
            "object": "list",
            "data": data,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
            "has_more": has_more,
        },
    )
