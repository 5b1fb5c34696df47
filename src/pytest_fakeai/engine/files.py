"""Stored files and in-progress uploads of one simulator: pure data, no HTTP.

Everything that keeps files reaches the same store through :func:`file_store`::

    from pytest_fakeai.engine.files import file_store

    stored = file_store(engine).create(filename="out.jsonl", purpose="batch_output", data=b"...")
    file_store(engine).get(stored.id)  # None once deleted or expired

Bytes are kept exactly as given (the same object, never copied).  Times are
whole seconds on the simulator's clock; a file past its ``expires_at`` is gone,
as on OpenAI, and an upload past its hour is ``expired``.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from .core import Engine

__all__ = [
    "BATCH_FILE_TTL",
    "FILE_PURPOSES",
    "MAX_BATCH_FILE_BYTES",
    "MAX_FILE_BYTES",
    "MAX_PART_BYTES",
    "MAX_UPLOAD_BYTES",
    "UPLOAD_TTL",
    "FileStore",
    "StoredFile",
    "Upload",
    "UploadPart",
    "UploadStatus",
    "file_store",
]

MB = 1024 * 1024
MAX_FILE_BYTES = 512 * MB  # one file through POST /v1/files
MAX_BATCH_FILE_BYTES = 200 * MB  # a Batch API input file
MAX_UPLOAD_BYTES = 8 * 1024 * MB  # one Upload, all its parts together
MAX_PART_BYTES = 64 * MB  # one Upload part
UPLOAD_TTL = 3600  # an Upload expires an hour after it is created
BATCH_FILE_TTL = 30 * 24 * 3600  # batch files expire after 30 days unless told otherwise

#: The purposes a file can be created with (``POST /v1/files``, ``POST /v1/uploads``).
FILE_PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")

UploadStatus = Literal["pending", "completed", "cancelled", "expired"]


@dataclass(slots=True, eq=False)
class StoredFile:
    """One file: its bytes (kept as given) and what the File object reports."""

    id: str
    filename: str
    purpose: str
    data: bytes
    created_at: int
    expires_at: int | None = None
    mime_type: str | None = None  # as declared (uploads) or guessed from the name
    status: str = "processed"
    status_details: str | None = None
    seq: int = 0  # creation order, for stable sorting within one second

    @property
    def size(self) -> int:
        return len(self.data)

    def expired(self, now: float) -> bool:
        return self.expires_at is not None and now >= self.expires_at


@dataclass(slots=True, eq=False)
class UploadPart:
    id: str
    upload_id: str
    data: bytes
    created_at: int


@dataclass(slots=True, eq=False)
class Upload:
    """An Upload collecting parts; ``status`` is what it was set to, :meth:`status_at` what it is now."""

    id: str
    filename: str
    purpose: str
    bytes: int  # the size announced when it was created
    mime_type: str
    created_at: int
    expires_at: int
    expires_after: int | None = None  # seconds the resulting file lives (``expires_after``)
    status: UploadStatus = "pending"
    parts: dict[str, UploadPart] = field(default_factory=dict)
    file: StoredFile | None = None

    def status_at(self, now: float) -> UploadStatus:
        if self.status == "pending" and now >= self.expires_at:
            return "expired"
        return self.status

    @property
    def received(self) -> int:
        """Bytes received in all parts so far."""
        return sum(len(p.data) for p in self.parts.values())


class FileStore:
    """Files and uploads of one simulator (thread-safe; reached through :func:`file_store`)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._files: dict[str, StoredFile] = {}
        self._uploads: dict[str, Upload] = {}
        self._seq = 0
        # creation order of every file id ever issued: a list cursor stays valid after a delete
        self._positions: dict[str, int] = {}

    # -- time and ids -------------------------------------------------------------------------
    def now(self) -> int:
        return int(self._engine.clock.now())

    # -- files ----------------------------------------------------------------------------------
    def create(
        self,
        *,
        filename: str,
        purpose: str,
        data: bytes,
        expires_after: int | None = None,
        mime_type: str | None = None,
    ) -> StoredFile:
        """Store ``data`` (the object itself, not a copy) as a new processed file.

        ``expires_after``: seconds from creation until the file expires; batch files
        default to 30 days, other files never expire.
        """
        now = self.now()
        if expires_after is None and purpose == "batch":
            expires_after = BATCH_FILE_TTL
        stored = StoredFile(
            id=self._engine.new_id("file-", 22),
            filename=filename,
            purpose=purpose,
            data=data,
            created_at=now,
            expires_at=None if expires_after is None else now + expires_after,
            mime_type=mime_type,
        )
        with self._lock:
            self._seq += 1
            stored.seq = self._positions[stored.id] = self._seq
            self._files[stored.id] = stored
        return stored

    def get(self, file_id: str) -> StoredFile | None:
        """The file, or None if there is none (never created, deleted, or expired)."""
        now = self._engine.clock.now()
        with self._lock:
            stored = self._files.get(file_id)
            if stored is not None and stored.expired(now):
                del self._files[file_id]
                return None
            return stored

    def delete(self, file_id: str) -> StoredFile | None:
        """Remove the file; returns it, or None if there was none."""
        stored = self.get(file_id)
        if stored is None:
            return None
        with self._lock:
            return self._files.pop(file_id, None)

    def __len__(self) -> int:
        return len(self.files())

    def files(self) -> list[StoredFile]:
        """Every live file, oldest first."""
        now = self._engine.clock.now()
        with self._lock:
            for gone in [f.id for f in self._files.values() if f.expired(now)]:
                del self._files[gone]
            return sorted(self._files.values(), key=lambda f: (f.created_at, f.seq))

    def known(self, file_id: str) -> bool:
        """Whether ``file_id`` was ever issued by this store (it may be deleted since)."""
        return file_id in self._positions

    def page(
        self,
        *,
        limit: int,
        order: Literal["asc", "desc"] = "desc",
        after: str | None = None,
        purpose: str | None = None,
    ) -> tuple[list[StoredFile], bool]:
        """One page of the file list and whether more follow it.

        Sorted by ``created_at`` (then creation order); ``after`` is the id of the
        item before the page in that order, which may since have been deleted
        (``KeyError`` if this store never issued it: check with :meth:`known`).
        """
        position = 0 if after is None else self._positions[after]
        items: Sequence[StoredFile] = self.files()
        if order == "desc":
            items = items[::-1]
        if purpose is not None:
            items = [f for f in items if f.purpose == purpose]
        if after is not None:
            if order == "desc":
                items = [f for f in items if f.seq < position]
            else:
                items = [f for f in items if f.seq > position]
        return list(items[:limit]), len(items) > limit

    # -- uploads --------------------------------------------------------------------------------
    def create_upload(
        self,
        *,
        filename: str,
        purpose: str,
        size: int,
        mime_type: str,
        expires_after: int | None = None,
    ) -> Upload:
        now = self.now()
        upload = Upload(
            id="upload_" + self._engine.new_hex(32),
            filename=filename,
            purpose=purpose,
            bytes=size,
            mime_type=mime_type,
            created_at=now,
            expires_at=now + UPLOAD_TTL,
            expires_after=expires_after,
        )
        with self._lock:
            self._uploads[upload.id] = upload
        return upload

    def get_upload(self, upload_id: str) -> Upload | None:
        with self._lock:
            return self._uploads.get(upload_id)

    def add_part(self, upload: Upload, data: bytes) -> UploadPart:
        """Add ``data`` (kept as given) as a part; the caller has checked the upload is pending."""
        part = UploadPart(id="part_" + self._engine.new_hex(32), upload_id=upload.id, data=data, created_at=self.now())
        with self._lock:
            upload.parts[part.id] = part
        return part

    def complete_upload(self, upload: Upload, part_ids: Sequence[str]) -> StoredFile:
        """Join the parts in ``part_ids`` order into a new file; the caller has checked them."""
        parts = [upload.parts[i].data for i in part_ids]
        data = parts[0] if len(parts) == 1 else b"".join(parts)  # one part: the very bytes given
        stored = self.create(
            filename=upload.filename,
            purpose=upload.purpose,
            data=data,
            expires_after=upload.expires_after,
            mime_type=upload.mime_type,
        )
        with self._lock:
            upload.status = "completed"
            upload.file = stored
            upload.parts.clear()  # the bytes now live in the file
        return stored

    def cancel_upload(self, upload: Upload) -> None:
        with self._lock:
            upload.status = "cancelled"
            upload.parts.clear()


def file_store(engine: Engine) -> FileStore:
    """The simulator's file store (created on first use)."""
    store = engine.stores.get("files")
    if store is None:
        store = engine.stores.setdefault("files", FileStore(engine))
    assert isinstance(store, FileStore)
    return store
