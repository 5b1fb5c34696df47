"""``/v1/vector_stores``: create, list, retrieve, modify, delete and search vector stores (docs/vector_stores.md).

The stores themselves (processing on the clock, chunks, vectors, scores) live in
``engine/vector_stores.py``; this module is the wire format.  The routes of a store's files
and file batches are in vector_store_files.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..engine.files import StoredFile, file_store
from ..engine.vector_stores import Hit, VectorStore, rewrite_query, vector_stores
from .common import json_response, query_int, query_values
from .errors import ApiError, invalid_value
from .types import ApiRequest, ApiResponse
from .validation import parse_body
from .wire_vector_stores import (
    CreateVectorStore,
    SearchRequest,
    UpdateVectorStore,
    check_metadata,
    chunking_of,
    filter_of,
)

if TYPE_CHECKING:
    from ..engine.core import Engine

__all__ = [
    "DEFAULT_LIST_LIMIT",
    "MAX_LIST_LIMIT",
    "check_not_expired",
    "create_vector_store",
    "delete_vector_store",
    "get_store",
    "list_body",
    "list_params",
    "list_vector_stores",
    "modify_vector_store",
    "ok",
    "require_file",
    "retrieve_vector_store",
    "search_results",
    "search_vector_store",
    "store_not_found",
    "vector_store_object",
]

DEFAULT_LIST_LIMIT = 20
MAX_LIST_LIMIT = 100


def ok(engine: Engine, body: dict[str, Any]) -> ApiResponse:
    return json_response(engine, body)


def store_not_found(store_id: str, param: str | None = None) -> ApiError:
    return ApiError(404, f"No vector store found with id '{store_id}'.", param=param)


def get_store(engine: Engine, store_id: str, param: str | None = None) -> VectorStore:
    """The vector store, or OpenAI's 404 for it."""
    store = vector_stores(engine).get(store_id)
    if store is None:
        raise store_not_found(store_id, param)
    return store


def require_file(engine: Engine, file_id: str, param: str) -> StoredFile:
    """A file of the Files API, or OpenAI's 404 for it."""
    stored = file_store(engine).get(file_id)
    if stored is None:
        raise ApiError(404, f"No such File object: {file_id}", param=param)
    return stored


def vector_store_object(store: VectorStore, now: float, *, initial: bool = False) -> dict[str, Any]:
    """The ``vector_store`` object at epoch second ``now`` (``initial``: as the create call answers)."""
    body: dict[str, Any] = {
        "id": store.id,
        "object": "vector_store",
        "created_at": store.created_at,
        "name": store.name,
        "usage_bytes": store.usage_bytes(now, initial=initial),
        "file_counts": store.file_counts(now, initial=initial),
        "status": store.status(now, initial=initial),
    }
    if store.expires_after_days is not None:
        body["expires_after"] = {"anchor": "last_active_at", "days": store.expires_after_days}
    body |= {"expires_at": store.expires_at, "last_active_at": store.last_active_at, "metadata": dict(store.metadata)}
    return body


# -- list parameters ----------------------------------------------------------------------------------
def list_params(request: ApiRequest, known: Any) -> tuple[int, str, str | None, str | None, dict[str, str]]:
    """``limit`` (1..100, default 20), ``order`` (default desc), ``after``, ``before`` and the other
    query parameters; ``known(id)`` tells whether a cursor names something ever listed here."""
    one = query_values(request.query)
    limit = query_int(one, "limit", default=DEFAULT_LIST_LIMIT, low=1, high=MAX_LIST_LIMIT)
    order = one.get("order") or "desc"
    if order not in ("asc", "desc"):
        raise invalid_value("order", order, ["asc", "desc"])
    cursors: list[str | None] = []
    for name in ("after", "before"):
        cursor = one.get(name) or None
        if cursor is not None and not known(cursor):
            raise ApiError(
                400,
                f"Invalid '{name}': '{cursor}' is not the id of an object of this list. Pass the first_id or "
                "last_id of a page.",
                param=name,
                code="invalid_value",
            )
        cursors.append(cursor)
    return limit, order, cursors[0], cursors[1], one


def list_body(data: list[dict[str, Any]], has_more: bool) -> dict[str, Any]:
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": has_more,
    }


# -- stores -------------------------------------------------------------------------------------------
def create_vector_store(engine: Engine, request: ApiRequest) -> ApiResponse:
    req = parse_body(CreateVectorStore, request.body)
    check_metadata(req.metadata)
    chunking = chunking_of(req.chunking_strategy)
    files = [require_file(engine, file_id, f"file_ids[{i}]") for i, file_id in enumerate(req.file_ids or ())]
    stores = vector_stores(engine)
    store = stores.create(
        name=req.name or "",
        metadata=req.metadata,
        expires_after_days=None if req.expires_after is None else req.expires_after.days,
    )
    for stored in files:
        stores.attach(store, file_id=stored.id, filename=stored.filename, data=stored.data, chunking=chunking)
    return ok(engine, vector_store_object(store, stores.now(), initial=True))


def list_vector_stores(engine: Engine, request: ApiRequest) -> ApiResponse:
    stores = vector_stores(engine)
    limit, order, after, before, _ = list_params(request, stores.known)
    items, has_more = stores.page(limit=limit, order=order, after=after, before=before)
    now = stores.now()
    return ok(engine, list_body([vector_store_object(s, now) for s in items], has_more))


def retrieve_vector_store(engine: Engine, request: ApiRequest, vector_store_id: str) -> ApiResponse:
    store = get_store(engine, vector_store_id)
    return ok(engine, vector_store_object(store, vector_stores(engine).now()))


def modify_vector_store(engine: Engine, request: ApiRequest, vector_store_id: str) -> ApiResponse:
    req = parse_body(UpdateVectorStore, request.body)
    check_metadata(req.metadata)
    store = get_store(engine, vector_store_id)
    given = req.model_fields_set
    if req.name is not None:
        store.name = req.name
    if "metadata" in given:
        store.metadata = dict(req.metadata or {})
    if "expires_after" in given:
        store.expires_after_days = None if req.expires_after is None else req.expires_after.days
    return ok(engine, vector_store_object(store, vector_stores(engine).now()))


def delete_vector_store(engine: Engine, request: ApiRequest, vector_store_id: str) -> ApiResponse:
    if vector_stores(engine).delete(vector_store_id) is None:
        raise store_not_found(vector_store_id)
    return ok(engine, {"id": vector_store_id, "object": "vector_store.deleted", "deleted": True})


# -- search -------------------------------------------------------------------------------------------
def search_results(hits: list[Hit]) -> list[dict[str, Any]]:
    """Search hits as the search endpoint lists them: one per chunk, best first."""
    return [
        {
            "file_id": h.file.id,
            "filename": h.file.filename,
            "score": h.score,
            "attributes": dict(h.file.attributes),
            "content": [{"type": "text", "text": h.chunk.text}],
        }
        for h in hits
    ]


def _queries(query: str | list[str]) -> list[str]:
    queries = [query] if isinstance(query, str) else query
    if not queries:
        raise ApiError(
            400,
            "Invalid 'query': empty array. Expected an array with minimum length 1, but got an empty array instead.",
            param="query",
            code="empty_array",
        )
    for i, q in enumerate(queries):
        if not q.strip():
            where = "query" if isinstance(query, str) else f"query[{i}]"
            raise ApiError(
                400,
                f"Invalid '{where}': the search query is empty. Send the text to search for.",
                param=where,
                code="invalid_value",
            )
    return queries


def check_not_expired(store: VectorStore, now: float, param: str | None = None) -> None:
    if store.expired(now):
        raise ApiError(
            400,
            f"Vector store '{store.id}' has expired and can no longer be searched. Create a new vector store.",
            param=param,
            code="vector_store_expired",
        )


def search_vector_store(engine: Engine, request: ApiRequest, vector_store_id: str) -> ApiResponse:
    req = parse_body(SearchRequest, request.body)
    queries = _queries(req.query)
    condition = filter_of(req.filters)
    store = get_store(engine, vector_store_id)
    stores = vector_stores(engine)
    check_not_expired(store, stores.now())
    if req.rewrite_query:
        queries = [rewrite_query(q) for q in queries]
    ranking = req.ranking_options
    hits = stores.search(
        [store],
        queries,
        max_results=req.max_num_results or 10,
        condition=condition,
        ranker=(ranking.ranker if ranking else None) or "auto",
        threshold=(ranking.score_threshold if ranking else None) or 0.0,
    )
    body = {
        "object": "vector_store.search_results.page",
        "search_query": queries,
        "data": search_results(hits),
        "has_more": False,
        "next_page": None,
    }
    return ok(engine, body)
