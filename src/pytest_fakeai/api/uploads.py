"""``/v1/uploads``: a large file in parts (create, add parts, complete into a File, cancel)."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..engine import files as limits
from ..engine.files import Upload, file_store
from .common import json_response
from .errors import ApiError, unknown_parameter
from .files import EXPIRES_MAX, EXPIRES_MIN, check_file_rules, file_object, mb
from .multipart import FORM_OVERHEAD, parse_form
from .types import ApiRequest, ApiResponse
from .validation import parse_body

if TYPE_CHECKING:
    from ..engine.core import Engine

__all__ = ["add_upload_part", "cancel_upload", "complete_upload", "create_upload", "upload_object"]


class _Closed(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class _ExpiresAfter(_Closed):
    anchor: Literal["created_at"]
    seconds: Annotated[int, Field(ge=EXPIRES_MIN, le=EXPIRES_MAX)]


class _CreateUpload(_Closed):
    bytes: Annotated[int, Field(ge=1, le=limits.MAX_UPLOAD_BYTES)]
    filename: Annotated[str, Field(min_length=1)]
    mime_type: Annotated[str, Field(min_length=1)]
    purpose: Literal["assistants", "batch", "fine-tune", "vision", "user_data", "evals"]
    expires_after: _ExpiresAfter | None = None


class _CompleteUpload(_Closed):
    part_ids: list[str]
    md5: str | None = None


_AFTER = {
    "completed": "No Parts may be added after an Upload is completed.",
    "cancelled": "No Parts may be added after an Upload is cancelled.",
    "expired": "An Upload expires an hour after it is created; create a new Upload and send the parts again.",
}


def upload_object(upload: Upload, now: float) -> dict[str, Any]:
    """The ``upload`` object of the API (``file`` only once completed)."""
    body: dict[str, Any] = {
        "id": upload.id,
        "object": "upload",
        "bytes": upload.bytes,
        "created_at": upload.created_at,
        "filename": upload.filename,
        "purpose": upload.purpose,
        "status": upload.status_at(now),
        "expires_at": upload.expires_at,
    }
    if upload.file is not None:
        body["file"] = file_object(upload.file)
    return body


def _ok(engine: Engine, body: dict[str, Any]) -> ApiResponse:
    return json_response(engine, body)


def _get(engine: Engine, upload_id: str) -> Upload:
    upload = file_store(engine).get_upload(upload_id)
    if upload is None:
        raise ApiError(404, f"No such Upload object: {upload_id}", param="id")
    return upload


def _pending(engine: Engine, upload: Upload, action: str) -> None:
    """OpenAI's 400 unless the upload is still pending (``action``: what was asked of it)."""
    status = upload.status_at(engine.clock.now())
    if status != "pending":
        hint = _AFTER[status] if action == "add parts to" else "Only a pending Upload can be changed."
        raise ApiError(400, f"Cannot {action} Upload {upload.id}: its status is '{status}'. {hint}")


def create_upload(engine: Engine, request: ApiRequest) -> ApiResponse:
    req = parse_body(_CreateUpload, request.body)
    check_file_rules(req.purpose, req.filename, req.bytes, param="bytes")
    upload = file_store(engine).create_upload(
        filename=req.filename,
        purpose=req.purpose,
        size=req.bytes,
        mime_type=req.mime_type,
        expires_after=None if req.expires_after is None else req.expires_after.seconds,
    )
    return _ok(engine, upload_object(upload, engine.clock.now()))


def add_upload_part(engine: Engine, request: ApiRequest, upload_id: str) -> ApiResponse:
    upload = _get(engine, upload_id)
    _pending(engine, upload, "add parts to")
    form = parse_form(request, max_bytes=limits.MAX_PART_BYTES + FORM_OVERHEAD)
    for name in [*form.fields, *form.files]:
        if name != "data":
            raise unknown_parameter(name)
    part = form.require_file("data")
    if part.size > limits.MAX_PART_BYTES:
        raise ApiError(
            400,
            f"Part is too large: {part.size} bytes. Each Part can be at most {mb(limits.MAX_PART_BYTES)} "
            f"({limits.MAX_PART_BYTES} bytes); split the file into smaller parts.",
            param="data",
        )
    received = upload.received
    if received + part.size > limits.MAX_UPLOAD_BYTES:
        raise ApiError(
            400,
            f"This Part would take Upload {upload.id} to {received + part.size} bytes, over the maximum of "
            f"{mb(limits.MAX_UPLOAD_BYTES)} ({limits.MAX_UPLOAD_BYTES} bytes) per Upload.",
            param="data",
        )
    stored = file_store(engine).add_part(upload, part.data)
    body = {"id": stored.id, "object": "upload.part", "created_at": stored.created_at, "upload_id": upload.id}
    return _ok(engine, body)


def complete_upload(engine: Engine, request: ApiRequest, upload_id: str) -> ApiResponse:
    upload = _get(engine, upload_id)
    req = parse_body(_CompleteUpload, request.body)
    _pending(engine, upload, "complete")
    seen: set[str] = set()
    for i, part_id in enumerate(req.part_ids):
        if part_id not in upload.parts:
            raise ApiError(
                400,
                f"Invalid 'part_ids[{i}]': '{part_id}' is not a Part of Upload {upload.id}.",
                param=f"part_ids[{i}]",
                code="invalid_value",
            )
        if part_id in seen:
            raise ApiError(
                400,
                f"Invalid 'part_ids[{i}]': Part '{part_id}' is listed more than once.",
                param=f"part_ids[{i}]",
                code="invalid_value",
            )
        seen.add(part_id)
    total = sum(len(upload.parts[p].data) for p in req.part_ids)
    if total != upload.bytes:
        raise ApiError(
            400,
            f"The number of bytes uploaded in the listed Parts ({total}) does not match the number of bytes "
            f"specified when the Upload was created ({upload.bytes}). List every Part in part_ids, in order.",
            param="part_ids",
        )
    if req.md5 is not None:
        digest = hashlib.md5(usedforsecurity=False)
        for part_id in req.part_ids:
            digest.update(upload.parts[part_id].data)
        actual = digest.hexdigest()
        if req.md5.strip().lower() != actual:
            raise ApiError(
                400,
                f"The md5 checksum you sent ({req.md5}) does not match the md5 of the uploaded bytes ({actual}).",
                param="md5",
                code="invalid_value",
            )
    file_store(engine).complete_upload(upload, req.part_ids)
    return _ok(engine, upload_object(upload, engine.clock.now()))


def cancel_upload(engine: Engine, request: ApiRequest, upload_id: str) -> ApiResponse:
    upload = _get(engine, upload_id)
    _pending(engine, upload, "cancel")
    file_store(engine).cancel_upload(upload)
    return _ok(engine, upload_object(upload, engine.clock.now()))
