"""A vector store's files and file batches: ``/v1/vector_stores/{id}/files`` and ``/file_batches``.

Attach a file of the Files API (with its own chunking and attributes), list the attached files
(by status too), read one's parsed chunks, change its attributes, detach it; or attach many at
once as a file batch, which can be cancelled while its files are still processing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..engine.vector_stores import FileBatch, StoreFile, VectorStore, vector_stores
from .errors import ApiError, invalid_value
from .types import ApiRequest, ApiResponse
from .validation import parse_body
from .vector_stores import get_store, list_body, list_params, ok, require_file
from .wire_vector_stores import (
    CreateFileBatch,
    CreateVectorStoreFile,
    UpdateFileAttributes,
    check_attributes,
    chunking_of,
)

if TYPE_CHECKING:
    from ..engine.core import Engine

__all__ = [
    "FILE_STATUSES",
    "cancel_file_batch",
    "create_file_batch",
    "create_vector_store_file",
    "delete_vector_store_file",
    "file_batch_object",
    "list_file_batch_files",
    "list_vector_store_files",
    "retrieve_file_batch",
    "retrieve_vector_store_file",
    "update_vector_store_file",
    "vector_store_file_content",
    "vector_store_file_object",
]

FILE_STATUSES = ("in_progress", "completed", "failed", "cancelled")


def vector_store_file_object(attached: StoreFile, now: float, *, initial: bool = False) -> dict[str, Any]:
    """The ``vector_store.file`` object at epoch second ``now`` (``initial``: as attaching answers)."""
    status = attached.status(now, initial=initial)
    error = attached.last_error(now) if status == "failed" else None
    return {
        "id": attached.id,
        "object": "vector_store.file",
        "usage_bytes": attached.usage_bytes(now) if status == "completed" else 0,
        "created_at": attached.created_at,
        "vector_store_id": attached.vector_store_id,
        "status": status,
        "last_error": None if error is None else {"code": error[0], "message": error[1]},
        "chunking_strategy": attached.chunking.as_dict(),
        "attributes": dict(attached.attributes),
    }


def file_batch_object(batch: FileBatch, now: float, *, initial: bool = False) -> dict[str, Any]:
    return {
        "id": batch.id,
        "object": "vector_store.files_batch",
        "created_at": batch.created_at,
        "vector_store_id": batch.vector_store_id,
        "status": batch.status(now, initial=initial),
        "file_counts": batch.file_counts(now, initial=initial),
    }


def _attached(store: VectorStore, file_id: str) -> StoreFile:
    found = store.files.get(file_id)
    if found is None:
        raise ApiError(404, f"No file found with id '{file_id}' in vector store '{store.id}'.")
    return found


def _batch(engine: Engine, store: VectorStore, batch_id: str) -> FileBatch:
    found = vector_stores(engine).get_batch(store, batch_id)
    if found is None:
        raise ApiError(404, f"No file batch found with id '{batch_id}' in vector store '{store.id}'.")
    return found


def _status_filter(one: dict[str, str]) -> str | None:
    status = one.get("filter") or None
    if status is not None and status not in FILE_STATUSES:
        raise invalid_value("filter", status, FILE_STATUSES)
    return status


def _file_list(engine: Engine, request: ApiRequest, store: VectorStore, files: list[StoreFile]) -> ApiResponse:
    limit, order, after, before, one = list_params(request, store.positions.__contains__)
    status = _status_filter(one)
    stores = vector_stores(engine)
    now = stores.now()
    items, has_more = stores.file_page(
        store, files, limit=limit, order=order, after=after, before=before, status=status, now=now
    )
    return ok(engine, list_body([vector_store_file_object(f, now) for f in items], has_more))


# -- files --------------------------------------------------------------------------------------------
def create_vector_store_file(engine: Engine, request: ApiRequest, vector_store_id: str) -> ApiResponse:
    req = parse_body(CreateVectorStoreFile, request.body)
    check_attributes(req.attributes)
    chunking = chunking_of(req.chunking_strategy)
    store = get_store(engine, vector_store_id)
    stored = require_file(engine, req.file_id, "file_id")
    stores = vector_stores(engine)
    attached = stores.attach(
        store,
        file_id=stored.id,
        filename=stored.filename,
        data=stored.data,
        chunking=chunking,
        attributes=req.attributes,
    )
    return ok(engine, vector_store_file_object(attached, stores.now(), initial=True))


def list_vector_store_files(engine: Engine, request: ApiRequest, vector_store_id: str) -> ApiResponse:
    store = get_store(engine, vector_store_id)
    return _file_list(engine, request, store, list(store.files.values()))


def retrieve_vector_store_file(engine: Engine, request: ApiRequest, vector_store_id: str, file_id: str) -> ApiResponse:
    attached = _attached(get_store(engine, vector_store_id), file_id)
    return ok(engine, vector_store_file_object(attached, vector_stores(engine).now()))


def update_vector_store_file(engine: Engine, request: ApiRequest, vector_store_id: str, file_id: str) -> ApiResponse:
    req = parse_body(UpdateFileAttributes, request.body)
    check_attributes(req.attributes)
    attached = _attached(get_store(engine, vector_store_id), file_id)
    attached.attributes = dict(req.attributes or {})
    return ok(engine, vector_store_file_object(attached, vector_stores(engine).now()))


def delete_vector_store_file(engine: Engine, request: ApiRequest, vector_store_id: str, file_id: str) -> ApiResponse:
    store = get_store(engine, vector_store_id)
    _attached(store, file_id)
    vector_stores(engine).detach(store, file_id)
    return ok(engine, {"id": file_id, "object": "vector_store.file.deleted", "deleted": True})


def vector_store_file_content(engine: Engine, request: ApiRequest, vector_store_id: str, file_id: str) -> ApiResponse:
    """The file's text as file_search reads it: its chunks, in order (none until it is processed)."""
    attached = _attached(get_store(engine, vector_store_id), file_id)
    now = vector_stores(engine).now()
    chunks = attached.parsed().chunks if attached.status(now) == "completed" else ()
    body = {
        "object": "vector_store.file_content.page",
        "data": [{"type": "text", "text": c.text} for c in chunks],
        "has_more": False,
        "next_page": None,
    }
    return ok(engine, body)


# -- file batches -------------------------------------------------------------------------------------
def create_file_batch(engine: Engine, request: ApiRequest, vector_store_id: str) -> ApiResponse:
    req = parse_body(CreateFileBatch, request.body)
    if req.file_ids is None and req.files is None:
        raise ApiError(
            400,
            "Missing required parameter: one of 'file_ids' or 'files' must be given.",
            param="file_ids",
            code="missing_required_parameter",
        )
    if req.file_ids is not None and req.files is not None:
        raise ApiError(
            400,
            "Invalid request: 'file_ids' and 'files' are mutually exclusive; send one of them.",
            param="files",
            code="invalid_value",
        )
    check_attributes(req.attributes)
    chunking = chunking_of(req.chunking_strategy)
    plan: list[tuple[str, Any, Any]] = []  # (file id, chunking, attributes) of each file
    if req.files is not None:
        for i, entry in enumerate(req.files):
            check_attributes(entry.attributes, f"files[{i}].attributes")
            own = chunking_of(entry.chunking_strategy, f"files[{i}].chunking_strategy")
            plan.append(
                (
                    entry.file_id,
                    own if entry.chunking_strategy is not None else chunking,
                    entry.attributes if entry.attributes is not None else req.attributes,
                )
            )
    else:
        plan = [(file_id, chunking, req.attributes) for file_id in req.file_ids or ()]
    store = get_store(engine, vector_store_id)
    where = "files[{}].file_id" if req.files is not None else "file_ids[{}]"
    files = [require_file(engine, file_id, where.format(i)) for i, (file_id, _, _) in enumerate(plan)]
    stores = vector_stores(engine)
    batch = stores.create_batch(store)
    for stored, (_, own_chunking, attributes) in zip(files, plan, strict=True):
        batch.files.append(
            stores.attach(
                store,
                file_id=stored.id,
                filename=stored.filename,
                data=stored.data,
                chunking=own_chunking,
                attributes=attributes,
                batch_id=batch.id,
            )
        )
    return ok(engine, file_batch_object(batch, stores.now(), initial=True))


def retrieve_file_batch(engine: Engine, request: ApiRequest, vector_store_id: str, batch_id: str) -> ApiResponse:
    batch = _batch(engine, get_store(engine, vector_store_id), batch_id)
    return ok(engine, file_batch_object(batch, vector_stores(engine).now()))


def cancel_file_batch(engine: Engine, request: ApiRequest, vector_store_id: str, batch_id: str) -> ApiResponse:
    batch = _batch(engine, get_store(engine, vector_store_id), batch_id)
    stores = vector_stores(engine)
    status = batch.status(stores.now())
    if status != "in_progress":
        raise ApiError(
            400,
            f"Cannot cancel a vector store file batch with status '{status}': only batches in progress can be "
            "cancelled.",
            code="invalid_value",
        )
    stores.cancel_batch(batch)
    return ok(engine, file_batch_object(batch, stores.now()))


def list_file_batch_files(engine: Engine, request: ApiRequest, vector_store_id: str, batch_id: str) -> ApiResponse:
    store = get_store(engine, vector_store_id)
    batch = _batch(engine, store, batch_id)
    return _file_list(engine, request, store, list(batch.files))
