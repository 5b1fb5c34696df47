"""``/v1/files``: upload (multipart), list, retrieve, download, delete."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, cast

from ..engine import files as limits
from ..engine.files import FILE_PURPOSES, StoredFile, file_store
from .common import json_response, parse_int, query_int, query_values, range_error, response_headers
from .errors import ApiError, invalid_value, missing_parameter, unknown_parameter
from .multipart import FORM_OVERHEAD, parse_form
from .types import ApiRequest, ApiResponse

if TYPE_CHECKING:
    from ..engine.core import Engine

__all__ = [
    "check_file_rules",
    "create_file",
    "delete_file",
    "file_content",
    "file_not_found",
    "file_object",
    "get_file",
    "guess_content_type",
    "list_files",
    "mb",
    "parse_expires_after",
    "retrieve_file",
]

MAX_LIST_LIMIT = 10_000
EXPIRES_MIN = 3600  # expires_after.seconds: one hour ..
EXPIRES_MAX = 2_592_000  # .. thirty days

_FORM_FIELDS = frozenset({"purpose", "expires_after[anchor]", "expires_after[seconds]"})
# what GET /v1/files/{id}/content answers with, by file name (a fixed table: the same on every machine)
_CONTENT_TYPES = {
    ".jsonl": "application/jsonl",
    ".json": "application/json",
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".csv": "text/csv",
    ".html": "text/html",
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
}


def mb(n: int) -> str:
    """A byte count as OpenAI's docs write limits: ``512 MB`` (or the exact bytes)."""
    return f"{n // limits.MB} MB" if n % limits.MB == 0 else f"{n} bytes"


def guess_content_type(filename: str) -> str:
    dot = filename.rfind(".")
    return (
        _CONTENT_TYPES.get(filename[dot:].lower(), "application/octet-stream")
        if dot >= 0
        else ("application/octet-stream")
    )


def file_object(stored: StoredFile) -> dict[str, Any]:
    """The ``file`` object of the API."""
    return {
        "id": stored.id,
        "object": "file",
        "bytes": stored.size,
        "created_at": stored.created_at,
        "expires_at": stored.expires_at,
        "filename": stored.filename,
        "purpose": stored.purpose,
        "status": stored.status,
        "status_details": stored.status_details,
    }


def file_not_found(file_id: str) -> ApiError:
    return ApiError(404, f"No such File object: {file_id}", param="id")


def get_file(engine: Engine, file_id: str) -> StoredFile:
    """The stored file, or OpenAI's 404 for it."""
    stored = file_store(engine).get(file_id)
    if stored is None:
        raise file_not_found(file_id)
    return stored


def _ok(engine: Engine, body: dict[str, Any]) -> ApiResponse:
    return json_response(engine, body)


def parse_expires_after(anchor: str | None, seconds: str | int | None) -> int | None:
    """``expires_after`` → seconds the file lives (None: not given); OpenAI's errors otherwise."""
    if anchor is None and seconds is None:
        return None
    if anchor is None:
        raise missing_parameter("expires_after.anchor")
    if anchor != "created_at":
        raise invalid_value("expires_after.anchor", anchor, ["created_at"])
    if seconds is None:
        raise missing_parameter("expires_after.seconds")
    value = seconds if isinstance(seconds, int) else parse_int("expires_after.seconds", seconds)
    error = range_error("expires_after.seconds", value, EXPIRES_MIN, EXPIRES_MAX)
    if error is not None:
        raise error
    return value


def check_file_rules(purpose: str, filename: str, size: int, *, param: str = "file") -> None:
    """What OpenAI requires of a file for its purpose, whichever way it arrives."""
    if purpose in ("batch", "fine-tune") and not filename.lower().endswith(".jsonl"):
        api = "Batch API" if purpose == "batch" else "Fine-Tuning API"
        raise ApiError(400, f"Invalid file format for {api}. Must be .jsonl")
    if purpose == "batch" and size > limits.MAX_BATCH_FILE_BYTES:
        raise ApiError(
            400,
            f"File is too large for the Batch API: {size} bytes. Batch input files can be at most "
            f"{mb(limits.MAX_BATCH_FILE_BYTES)} ({limits.MAX_BATCH_FILE_BYTES} bytes); split the requests "
            "into several batches.",
            param=param,
        )


def create_file(engine: Engine, request: ApiRequest) -> ApiResponse:
    form = parse_form(request, max_bytes=limits.MAX_FILE_BYTES + FORM_OVERHEAD)
    upload = form.require_file("file")  # missing parameters first, as OpenAI reports them
    purpose = form.require_field("purpose")
    for name in [*form.fields, *form.files]:
        if name not in _FORM_FIELDS and name != "file":
            raise unknown_parameter(name)
    if purpose not in FILE_PURPOSES:
        raise invalid_value("purpose", purpose, FILE_PURPOSES)
    expires_after = parse_expires_after(form.field("expires_after[anchor]"), form.field("expires_after[seconds]"))
    size = upload.size
    if size == 0:
        raise ApiError(
            400, f"The file '{upload.filename}' is empty (0 bytes). Upload a file with content.", param="file"
        )
    if size > limits.MAX_FILE_BYTES:
        raise ApiError(
            400,
            f"File is too large: {size} bytes. Files can be at most {mb(limits.MAX_FILE_BYTES)} "
            f"({limits.MAX_FILE_BYTES} bytes); upload larger files in parts with the Uploads API (POST /v1/uploads).",
            param="file",
        )
    check_file_rules(purpose, upload.filename, size)
    stored = file_store(engine).create(
        filename=upload.filename,
        purpose=purpose,
        data=upload.data,
        expires_after=expires_after,
        mime_type=guess_content_type(upload.filename),
    )
    return _ok(engine, file_object(stored))


def list_files(engine: Engine, request: ApiRequest) -> ApiResponse:
    query = query_values(request.query)

    def one(name: str) -> str | None:
        return query.get(name)

    limit = query_int(query, "limit", default=MAX_LIST_LIMIT, low=1, high=MAX_LIST_LIMIT)
    order = one("order") or "desc"
    if order not in ("asc", "desc"):
        raise invalid_value("order", order, ["asc", "desc"])
    after = one("after") or None
    store = file_store(engine)
    if after is not None and not store.known(after):
        raise ApiError(
            400,
            f"Invalid 'after': '{after}' is not the id of a file. Pass the last_id of the previous page.",
            param="after",
            code="invalid_value",
        )
    purpose = one("purpose") or None
    items, has_more = store.page(limit=limit, order=cast(Literal["asc", "desc"], order), after=after, purpose=purpose)
    data = [file_object(f) for f in items]
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


def retrieve_file(engine: Engine, request: ApiRequest, file_id: str) -> ApiResponse:
    return _ok(engine, file_object(get_file(engine, file_id)))


def delete_file(engine: Engine, request: ApiRequest, file_id: str) -> ApiResponse:
    if file_store(engine).delete(file_id) is None:
        raise file_not_found(file_id)
    return _ok(engine, {"id": file_id, "object": "file", "deleted": True})


def file_content(engine: Engine, request: ApiRequest, file_id: str) -> ApiResponse:
    """The file's bytes exactly as stored."""
    stored = get_file(engine, file_id)
    content_type = stored.mime_type or guess_content_type(stored.filename)
    headers = [(k, content_type if k == "content-type" else v) for k, v in response_headers(engine, 0.0)]
    return ApiResponse(200, headers, stored.data)
