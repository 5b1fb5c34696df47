"""Vector stores of one simulator: files parsed, chunked by tokens, embedded and searched.  No HTTP.

Everything that keeps or searches vector stores reaches the same store through
:func:`vector_stores`::

    from pytest_fakeai.engine.vector_stores import IndexTiming, vector_stores

    vector_stores(engine).timing = IndexTiming(per_file=1.0)  # later files take a simulated second

How a file becomes searchable (docs/vector_stores.md):

* **text**: UTF-8 (a BOM is honoured, UTF-16 with a BOM too); HTML loses its tags; PDF text is
  read from its content streams (plain or Flate-compressed ``Tj``/``TJ`` strings); DOCX and PPTX
  from their XML.  Anything else that is not text fails with ``unsupported_file``.
* **chunks**: the text in ``cl100k_base`` tokens (text-embedding-3-large's encoding), windows of
  ``max_chunk_size_tokens`` that start every ``max - overlap`` tokens (OpenAI's static strategy;
  ``auto`` is 800 / 400).
* **vectors**: each chunk's text-embedding-3-large embedding from :mod:`.embedding` (3072
  dimensions, the very vectors ``/v1/embeddings`` returns for that text), computed on the first
  search that needs it and kept with the chunk.
* **score** of a chunk for a query: with ``ranker="none"`` the cosine of the two vectors (clamped
  to [0, 1]); otherwise a hybrid of that cosine, rescaled above the model's baseline, and a keyword
  score (the IDF-weighted share of the query's content words that the chunk contains), weighted
  ``embedding_weight : text_weight`` (1 : 1 unless the request says otherwise).

Time follows the simulator's clock: a file is ``in_progress`` from the moment it is attached until
``per_file + per_mb * MB`` simulated seconds later (:class:`IndexTiming`), then ``completed`` or
``failed``.  The default timing is instant: a create call still answers ``in_progress`` (as
OpenAI does), and every later read finds the file processed.
"""

from __future__ import annotations

import html
import io
import math
import re
import threading
import zipfile
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from .embedding import Embedder, features

if TYPE_CHECKING:
    from array import array

    from .core import Engine
    from .tokenizer import Tokenizer

__all__ = [
    "DEFAULT_CHUNKING",
    "EMBEDDING_BASELINE",
    "EMBEDDING_DIMS",
    "EMBEDDING_MODEL",
    "Chunk",
    "Chunking",
    "Comparison",
    "Compound",
    "FileBatch",
    "Filter",
    "Hit",
    "IndexTiming",
    "Parsed",
    "StoreFile",
    "VectorStore",
    "VectorStores",
    "best_sentence",
    "chunk_tokens",
    "extract_text",
    "matches",
    "passages",
    "rewrite_query",
    "vector_stores",
]

EMBEDDING_MODEL = "text-embedding-3-large"
EMBEDDING_DIMS = 3072
EMBEDDING_BASELINE = 0.1  # the cosine of unrelated texts under text-embedding-3 (api/embeddings.py)
_ENCODING = "cl100k_base"  # text-embedding-3-large's encoding, if the model was removed from the registry
_MB = 1024 * 1024
_DAY = 24 * 3600

FileStatus = Literal["in_progress", "completed", "cancelled", "failed"]
StoreStatus = Literal["expired", "in_progress", "completed"]


# -- settings -----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Chunking:
    """OpenAI's static chunking strategy (``auto`` is 800 tokens, 400 overlapping)."""

    max_tokens: int = 800
    overlap: int = 400

    def __post_init__(self) -> None:
        if self.max_tokens < 1 or not 0 <= self.overlap <= self.max_tokens // 2:
            raise ValueError(f"bad chunking: {self.max_tokens} tokens, {self.overlap} overlapping")

    def as_dict(self) -> dict[str, Any]:
        """The ``chunking_strategy`` object a vector store file reports."""
        return {
            "type": "static",
            "static": {"max_chunk_size_tokens": self.max_tokens, "chunk_overlap_tokens": self.overlap},
        }


DEFAULT_CHUNKING = Chunking()


@dataclass(frozen=True, slots=True)
class IndexTiming:
    """How long a file takes to process, in simulated seconds: ``per_file + per_mb * size_in_MB``."""

    per_file: float = 0.0
    per_mb: float = 0.0

    def __post_init__(self) -> None:
        for name in ("per_file", "per_mb"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ValueError(f"IndexTiming.{name} must be a finite number >= 0, got {value!r}")

    def seconds(self, size: int) -> float:
        return self.per_file + self.per_mb * size / _MB


# -- text extraction ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Parsed:
    """What processing a file gave: its text and chunks, or the error that made it fail."""

    text: str
    chunks: tuple[Chunk, ...]
    error: tuple[str, str] | None = None  # (code, message): ``unsupported_file`` / ``invalid_file``

    @property
    def usage_bytes(self) -> int:
        return 0 if self.error else len(self.text.encode("utf-8", "surrogatepass"))


class _Unsupported(Exception):
    pass


_TAGS = re.compile(r"<(script|style)\b.*?</\1\s*>|<!--.*?-->|<[^>]+>", re.S | re.I)
_BLANK_LINES = re.compile(r"\n\s*\n\s*\n+")
_PDF_TOKEN = re.compile(rb"\((?:\\.|[^\\()]|\((?:\\.|[^\\()])*\))*\)|\[|\]|\b(?:Tj|TJ|Td|TD|T\*|ET|Tm)\b|'|\"", re.S)
_PDF_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}
_XML_TEXT = re.compile(rb"<(?:w|a):t(?:\s[^>]*)?>([^<]*)</(?:w|a):t>|<(?:w|a):p[\s>/]")


def _pdf_string(raw: bytes) -> bytes:
    body = raw[1:-1]
    out = bytearray()
    i = 0
    while i < len(body):
        c = body[i : i + 1]
        if c != b"\\":
            out += c
            i += 1
            continue
        nxt = body[i + 1 : i + 2]
        if nxt in _PDF_ESCAPES:
            out += _PDF_ESCAPES[nxt]
            i += 2
        elif nxt.isdigit():
            digits = re.match(rb"[0-7]{1,3}", body[i + 1 : i + 4])
            span = digits.group(0) if digits else nxt
            out.append(int(span, 8) & 0xFF if digits else ord(nxt))
            i += 1 + len(span)
        elif nxt in (b"\n", b"\r"):  # a line continuation
            i += 2
        else:
            out += nxt
            i += 2
    return bytes(out)


def _pdf_text(data: bytes) -> str:
    """The text of a PDF's content streams: best effort, no fonts (literal strings read as Latin-1)."""
    lines: list[str] = []
    current: list[str] = []
    start = 0
    while True:
        at = data.find(b"stream", start)
        if at < 0:
            break
        begin = at + len(b"stream")
        if data[begin : begin + 2] == b"\r\n":
            begin += 2
        elif data[begin : begin + 1] in (b"\n", b"\r"):
            begin += 1
        else:  # "endstream", or the word in some other place
            start = begin
            continue
        end = data.find(b"endstream", begin)
        if end < 0:
            break
        head = data[max(0, data.rfind(b"obj", 0, at)) : at]
        raw = data[begin:end]
        start = end + len(b"endstream")
        if b"/FlateDecode" in head:
            try:
                raw = zlib.decompress(raw.rstrip(b"\r\n"))
            except zlib.error:
                continue
        elif b"/Filter" in head:
            continue  # images and other encodings: no text to read
        for token in _PDF_TOKEN.finditer(raw):
            word = token.group(0)
            if word.startswith(b"("):
                current.append(_pdf_string(word).decode("latin-1"))
            elif current and word in (b"Td", b"TD", b"T*", b"ET", b"Tm", b"'", b'"'):
                lines.append("".join(current))
                current = []
    if current:
        lines.append("".join(current))
    return "\n".join(line for line in lines if line.strip())


def _office_text(data: bytes, prefix: str) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = sorted(n for n in archive.namelist() if n.startswith(prefix) and n.endswith(".xml"))
        parts: list[str] = []
        for name in names:
            xml = archive.read(name)
            paragraph: list[str] = []
            for m in _XML_TEXT.finditer(xml):
                if m.group(1) is None:  # a new paragraph
                    if paragraph:
                        parts.append("".join(paragraph))
                        paragraph = []
                else:
                    paragraph.append(html.unescape(m.group(1).decode("utf-8", "replace")))
            if paragraph:
                parts.append("".join(paragraph))
    return "\n".join(parts)


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise _Unsupported("it is not valid UTF-16 text") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _Unsupported("it is neither UTF-8 text nor a document format file_search reads") from None
    if "\x00" in text:
        raise _Unsupported("it holds binary data (NUL bytes), not text")
    return text


def extract_text(filename: str, data: bytes) -> str:
    """The text file_search reads from a file; ``ValueError`` (its message saying why) if there is none."""
    name = filename.lower()
    try:
        if name.endswith(".pdf") or data.startswith(b"%PDF-"):
            text = _pdf_text(data)
            if not text.strip():
                raise _Unsupported("no text could be read from the PDF (scanned pages or unsupported fonts)")
            return text
        if data.startswith(b"PK\x03\x04") and name.endswith((".docx", ".pptx")):
            try:
                return _office_text(data, "word/document" if name.endswith(".docx") else "ppt/slides/slide")
            except (zipfile.BadZipFile, KeyError, OSError, RuntimeError, ValueError):
                raise _Unsupported("it is not a readable Office document") from None
        text = _decode(data)
        if name.endswith((".html", ".htm")):
            text = _BLANK_LINES.sub("\n\n", html.unescape(_TAGS.sub(" ", text)))
        return text
    except _Unsupported as exc:
        raise ValueError(f"The file '{filename}' could not be parsed: {exc}.") from None


# -- chunks and vectors -------------------------------------------------------------------------------
@dataclass(slots=True, eq=False)
class Chunk:
    """One chunk of a file: its text, and (once a search needed them) its vector and search terms."""

    index: int
    text: str
    tokens: int
    vector: array[float] | None = None
    terms: frozenset[str] | None = None


def chunk_tokens(pieces: Sequence[bytes], chunking: Chunking) -> list[tuple[str, int]]:
    """The chunks of a text given as its tokens' bytes: (text, token count) of each window.

    A window starts every ``max - overlap`` tokens and holds up to ``max`` tokens; the last one
    ends with the text.  A character split between two windows is left out of both.
    """
    n = len(pieces)
    step = chunking.max_tokens - chunking.overlap
    out: list[tuple[str, int]] = []
    start = 0
    while start < n:
        end = min(start + chunking.max_tokens, n)
        text = b"".join(pieces[start:end]).decode("utf-8", "ignore")
        if text.strip():
            out.append((text, end - start))
        if end >= n:
            break
        start += step
    return out


_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def _terms(text: str) -> frozenset[str]:
    """Content-word stems of ``text`` (stop words left out): what the keyword score matches.

    Identifiers count as their words too (``exponential_backoff``, ``retryCount``)."""
    split = _CAMEL.sub(" ", text.replace("_", " "))
    return frozenset(k for k in features(f"{text} {split}" if split != text else text) if k.startswith("s:"))


_WORD = re.compile(r"\w+")


def rewrite_query(query: str) -> str:
    """The query as a search engine would rewrite it: its content words (stop words dropped)."""
    words = _WORD.findall(query)
    kept = [w for w in words if any(k.startswith("s:") for k in features(w))]
    return " ".join(kept) if kept else query.strip()


# -- filters ------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Comparison:
    """``{"type": op, "key": key, "value": value}``: op is eq, ne, gt, gte, lt, lte, in or nin."""

    op: str
    key: str
    value: Any


@dataclass(frozen=True, slots=True)
class Compound:
    """``{"type": "and" | "or", "filters": [...]}``."""

    op: Literal["and", "or"]
    filters: tuple[Comparison | Compound, ...]


Filter = Comparison | Compound


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return "str" if isinstance(value, str) else "other"


def _equal(a: object, b: object) -> bool:
    return _kind(a) == _kind(b) and a == b


def matches(condition: Filter, attributes: Mapping[str, Any]) -> bool:
    """Whether a file with ``attributes`` passes ``condition``.

    A missing attribute fails every comparison (``ne`` and ``nin`` too); values of different
    kinds are never equal, and order (gt, lt, ...) compares numbers with numbers and strings
    with strings only.
    """
    if isinstance(condition, Compound):
        results = (matches(f, attributes) for f in condition.filters)
        return all(results) if condition.op == "and" else any(results)
    if condition.key not in attributes:
        return False
    have, want, op = attributes[condition.key], condition.value, condition.op
    if op in ("in", "nin"):
        found = isinstance(want, list | tuple) and any(_equal(have, w) for w in want)
        return found if op == "in" else not found
    if op == "eq":
        return _equal(have, want)
    if op == "ne":
        return not _equal(have, want)
    kind = _kind(have)
    if kind != _kind(want) or kind not in ("number", "str"):
        return False
    if op == "gt":
        return bool(have > want)
    if op == "gte":
        return bool(have >= want)
    if op == "lt":
        return bool(have < want)
    return bool(have <= want)  # lte


# -- stored objects -----------------------------------------------------------------------------------
@dataclass(slots=True, eq=False)
class StoreFile:
    """A file attached to a vector store (its id is the file's id)."""

    id: str
    vector_store_id: str
    filename: str
    data: bytes  # the file's bytes when it was attached (kept as given)
    created_at: int
    ready_at: float  # epoch seconds at which processing ends
    chunking: Chunking
    attributes: dict[str, Any]
    seq: int
    tokenizer: Tokenizer
    batch_id: str | None = None
    cancelled: bool = False
    _parsed: Parsed | None = None

    def parsed(self) -> Parsed:
        """The file processed (on first need; the same value after)."""
        found = self._parsed
        if found is None:
            try:
                text = extract_text(self.filename, self.data)
            except ValueError as exc:
                found = Parsed("", (), ("unsupported_file", str(exc)))
            else:
                tok = self.tokenizer
                pieces = [tok.token_bytes(t) for t in tok.encode(text)]
                chunks = tuple(Chunk(i, t, n) for i, (t, n) in enumerate(chunk_tokens(pieces, self.chunking)))
                found = Parsed(text, chunks)
            self._parsed = found
        return found

    def status(self, now: float, *, initial: bool = False) -> FileStatus:
        """The status at epoch second ``now`` (``initial``: as the call that attached it answers)."""
        if self.cancelled:
            return "cancelled"
        if initial or now < self.ready_at:
            return "in_progress"
        return "failed" if self.parsed().error else "completed"

    def last_error(self, now: float) -> tuple[str, str] | None:
        return self.parsed().error if self.status(now) == "failed" else None

    def usage_bytes(self, now: float) -> int:
        return self.parsed().usage_bytes if self.status(now) == "completed" else 0


def _counts(statuses: Iterable[str]) -> dict[str, int]:
    counts = dict.fromkeys(("in_progress", "completed", "failed", "cancelled"), 0)
    for status in statuses:
        counts[status] += 1
    counts["total"] = sum(counts.values())
    return counts


@dataclass(slots=True, eq=False)
class VectorStore:
    id: str
    name: str
    created_at: int
    last_active_at: int
    seq: int
    metadata: dict[str, str] = field(default_factory=dict)
    expires_after_days: int | None = None
    files: dict[str, StoreFile] = field(default_factory=dict)
    # creation order of every file id ever attached: a list cursor stays valid after a detach
    positions: dict[str, int] = field(default_factory=dict)

    @property
    def expires_at(self) -> int | None:
        days = self.expires_after_days
        return None if days is None else self.last_active_at + days * _DAY

    def expired(self, now: float) -> bool:
        expires = self.expires_at
        return expires is not None and now >= expires

    def status(self, now: float, *, initial: bool = False) -> StoreStatus:
        if self.expired(now):
            return "expired"
        counts = self.file_counts(now, initial=initial)
        return "in_progress" if counts["in_progress"] else "completed"

    def file_counts(self, now: float, *, initial: bool = False) -> dict[str, int]:
        return _counts(f.status(now, initial=initial) for f in list(self.files.values()))

    def usage_bytes(self, now: float, *, initial: bool = False) -> int:
        return 0 if initial else sum(f.usage_bytes(now) for f in list(self.files.values()))


@dataclass(slots=True, eq=False)
class FileBatch:
    """Files attached together; its status follows theirs."""

    id: str
    vector_store_id: str
    created_at: int
    files: list[StoreFile]
    cancelled: bool = False

    def file_counts(self, now: float, *, initial: bool = False) -> dict[str, int]:
        return _counts(f.status(now, initial=initial) for f in self.files)

    def status(self, now: float, *, initial: bool = False) -> FileStatus:
        counts = self.file_counts(now, initial=initial)
        if self.cancelled:
            return "cancelled"
        if counts["in_progress"]:
            return "in_progress"
        return "failed" if counts["total"] and counts["failed"] == counts["total"] else "completed"


@dataclass(frozen=True, slots=True)
class Hit:
    """One search result: a chunk of a file, and its score in [0, 1]."""

    file: StoreFile
    chunk: Chunk
    score: float


def _page(
    items: Sequence[Any], *, limit: int, order: str, after: int | None, before: int | None
) -> tuple[list[Any], bool]:
    """One page of ``items`` (sorted oldest first, each with a ``seq``) and whether more follow it.

    ``after``/``before`` are cursors (the ``seq`` of an item, which may be gone since): the page
    starts just after ``after``; with ``before`` alone it is the ``limit`` items just before it.
    """
    ordered = list(items) if order == "asc" else list(items)[::-1]

    def ahead(seq: int, cursor: int) -> bool:  # ``seq`` comes after ``cursor`` in the list's order
        return seq > cursor if order == "asc" else seq < cursor

    if after is not None:
        ordered = [i for i in ordered if ahead(i.seq, after)]
    if before is not None:
        ordered = [i for i in ordered if ahead(before, i.seq)]
        if after is None:
            return ordered[-limit:], len(ordered) > limit
    return ordered[:limit], len(ordered) > limit


class VectorStores:
    """The vector stores of one simulator (thread-safe; reached through :func:`vector_stores`)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.RLock()
        self._stores: dict[str, VectorStore] = {}
        self._batches: dict[str, FileBatch] = {}
        self._positions: dict[str, int] = {}  # every store id ever issued -> its creation order
        self._seq = 0
        self._embedder: Embedder | None = None
        self._tokenizer: Tokenizer | None = None
        #: How long processing a file takes, for files attached from now on.
        self.timing = IndexTiming()

    # -- time, ids, model --------------------------------------------------------------------------
    def now(self) -> float:
        return self._engine.clock.now()

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    @property
    def tokenizer(self) -> Tokenizer:
        if self._tokenizer is None:
            spec = self._engine.registry.get(EMBEDDING_MODEL)
            if spec is not None:
                self._tokenizer = self._engine.tokenizer(spec)
            else:
                from .tokenizer import Tokenizer

                self._tokenizer = Tokenizer(_ENCODING)
        return self._tokenizer

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = Embedder(EMBEDDING_MODEL, EMBEDDING_DIMS, baseline=EMBEDDING_BASELINE)
        return self._embedder

    # -- stores ----------------------------------------------------------------------------------------
    def create(
        self, *, name: str = "", metadata: Mapping[str, str] | None = None, expires_after_days: int | None = None
    ) -> VectorStore:
        now = int(self.now())
        with self._lock:
            store = VectorStore(
                id="vs_" + self._engine.new_hex(32),
                name=name,
                created_at=now,
                last_active_at=now,
                seq=self._next(),
                metadata=dict(metadata or {}),
                expires_after_days=expires_after_days,
            )
            self._stores[store.id] = store
            self._positions[store.id] = store.seq
        return store

    def get(self, store_id: str) -> VectorStore | None:
        with self._lock:
            return self._stores.get(store_id)

    def delete(self, store_id: str) -> VectorStore | None:
        with self._lock:
            store = self._stores.pop(store_id, None)
            if store is not None:
                for batch_id in [b.id for b in self._batches.values() if b.vector_store_id == store_id]:
                    del self._batches[batch_id]
            return store

    def known(self, store_id: str) -> bool:
        """Whether ``store_id`` was ever issued here (it may be deleted since)."""
        return store_id in self._positions

    def position(self, store_id: str) -> int:
        return self._positions[store_id]

    def page(
        self, *, limit: int, order: str = "desc", after: str | None = None, before: str | None = None
    ) -> tuple[list[VectorStore], bool]:
        """One page of the stores in creation order; cursors are store ids (checked with :meth:`known`)."""
        with self._lock:
            items = sorted(self._stores.values(), key=lambda s: s.seq)
        return _page(
            items,
            limit=limit,
            order=order,
            after=None if after is None else self._positions[after],
            before=None if before is None else self._positions[before],
        )

    def touch(self, store: VectorStore) -> None:
        """The store was used now: ``last_active_at`` (and so its expiry) moves on."""
        store.last_active_at = max(store.last_active_at, int(self.now()))

    # -- files -----------------------------------------------------------------------------------------
    def attach(
        self,
        store: VectorStore,
        *,
        file_id: str,
        filename: str,
        data: bytes,
        chunking: Chunking = DEFAULT_CHUNKING,
        attributes: Mapping[str, Any] | None = None,
        batch_id: str | None = None,
    ) -> StoreFile:
        """Attach a file (replacing an earlier attachment of the same file); it processes on the clock."""
        now = self.now()
        with self._lock:
            seq = self._next()
            attached = StoreFile(
                id=file_id,
                vector_store_id=store.id,
                filename=filename,
                data=data,
                created_at=int(now),
                ready_at=now + self.timing.seconds(len(data)),
                chunking=chunking,
                attributes=dict(attributes or {}),
                seq=seq,
                tokenizer=self.tokenizer,
                batch_id=batch_id,
            )
            store.files.pop(file_id, None)
            store.files[file_id] = attached
            store.positions[file_id] = seq
        return attached

    def detach(self, store: VectorStore, file_id: str) -> StoreFile | None:
        with self._lock:
            return store.files.pop(file_id, None)

    @staticmethod
    def file_page(
        store: VectorStore,
        files: Iterable[StoreFile],
        *,
        limit: int,
        order: str = "desc",
        after: str | None = None,
        before: str | None = None,
        status: str | None = None,
        now: float,
    ) -> tuple[list[StoreFile], bool]:
        """One page of ``files`` of ``store`` in attachment order, optionally only those in ``status``."""
        items = sorted(files, key=lambda f: f.seq)
        if status is not None:
            items = [f for f in items if f.status(now) == status]
        return _page(
            items,
            limit=limit,
            order=order,
            after=None if after is None else store.positions[after],
            before=None if before is None else store.positions[before],
        )

    # -- batches ---------------------------------------------------------------------------------------
    def create_batch(self, store: VectorStore) -> FileBatch:
        with self._lock:
            batch = FileBatch("vsfb_" + self._engine.new_hex(32), store.id, int(self.now()), [])
            self._batches[batch.id] = batch
        return batch

    def get_batch(self, store: VectorStore, batch_id: str) -> FileBatch | None:
        with self._lock:
            batch = self._batches.get(batch_id)
        return batch if batch is not None and batch.vector_store_id == store.id else None

    def cancel_batch(self, batch: FileBatch) -> None:
        """Stop the batch: its files still in progress are cancelled (and stay listed as such)."""
        now = self.now()
        with self._lock:
            batch.cancelled = True
            for f in batch.files:
                if f.status(now) == "in_progress":
                    f.cancelled = True

    # -- search ----------------------------------------------------------------------------------------
    def _vector(self, chunk: Chunk) -> array[float]:
        if chunk.vector is None:
            chunk.vector = self.embedder.embed(chunk.text)
        return chunk.vector

    def search(
        self,
        stores: Sequence[VectorStore],
        queries: Sequence[str],
        *,
        max_results: int = 10,
        condition: Filter | None = None,
        ranker: str = "auto",
        threshold: float = 0.0,
        weights: tuple[float, float] = (1.0, 1.0),
    ) -> list[Hit]:
        """The best chunks of the stores' processed files for any of ``queries``, best first.

        ``weights``: (embedding, keyword) weights of the hybrid score; ``ranker="none"`` scores by
        the embeddings' cosine alone.
        """
        now = self.now()
        candidates: list[tuple[StoreFile, Chunk]] = []
        for store in stores:
            self.touch(store)
            for f in sorted(list(store.files.values()), key=lambda f: f.seq):  # noqa: C414 (a snapshot)
                if f.status(now) != "completed" or (condition is not None and not matches(condition, f.attributes)):
                    continue
                candidates.extend((f, c) for c in f.parsed().chunks)
        if not candidates or not queries:
            return []
        for _, chunk in candidates:
            if chunk.terms is None:
                chunk.terms = _terms(chunk.text)
        # document frequency of each query term over the candidate chunks: rare words weigh more
        query_terms = [_terms(q) for q in queries]
        wanted = frozenset().union(*query_terms)
        df = dict.fromkeys(wanted, 0)
        for _, chunk in candidates:
            assert chunk.terms is not None
            for term in wanted & chunk.terms:
                df[term] += 1
        total = len(candidates)
        idf = {t: math.log(1.0 + total / (1.0 + n)) for t, n in df.items()}
        vectors = [self.embedder.embed(q) for q in queries]
        w_embed, w_text = weights
        weight = (w_embed + w_text) or 1.0
        hits: list[Hit] = []
        for f, chunk in candidates:
            vector = self._vector(chunk)
            best = 0.0
            for qv, terms in zip(vectors, query_terms, strict=True):
                cos = sum(a * b for a, b in zip(qv, vector, strict=True))
                if ranker == "none":
                    score = cos
                else:
                    semantic = (cos - EMBEDDING_BASELINE) / (1.0 - EMBEDDING_BASELINE)
                    mass = sum(idf[t] for t in terms)
                    assert chunk.terms is not None
                    keyword = sum(idf[t] for t in terms & chunk.terms) / mass if mass else 0.0
                    score = (w_embed * max(0.0, semantic) + w_text * keyword) / weight
                best = max(best, score)
            score = round(min(1.0, max(0.0, best)), 6)
            if score >= threshold:
                hits.append(Hit(f, chunk, score))
        hits.sort(key=lambda h: (-h.score, h.file.seq, h.chunk.index))
        return hits[:max_results]


_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


def best_sentence(text: str, query: str) -> str:
    """The sentence of ``text`` sharing the most content words with ``query`` (the first, on a tie)."""
    wanted = _terms(query)
    best, best_score = "", -1
    for raw in _SENTENCE.split(text):
        sentence = raw.strip().lstrip("#>*-• ").strip()
        if len(sentence) < 3:
            continue
        score = len(wanted & _terms(sentence))
        if score > best_score:
            best, best_score = sentence, score
    return best or text.strip()


def passages(hits: Sequence[Hit], query: str, *, limit: int = 3) -> list[tuple[str, Hit]]:
    """What an answer quotes: the best sentence of the top hit, and of up to ``limit - 1`` more hits
    scoring at least half as well (each sentence once)."""
    out: list[tuple[str, Hit]] = []
    if not hits or hits[0].score <= 0:
        return out
    top = hits[0].score
    for hit in hits:
        if len(out) >= limit or hit.score < top / 2:
            break
        sentence = best_sentence(hit.chunk.text, query)
        if sentence and all(sentence != s for s, _ in out):
            out.append((sentence, hit))
    return out


def vector_stores(engine: Engine) -> VectorStores:
    """The simulator's vector stores (created on first use)."""
    found = engine.stores.get("vector_stores")
    if found is None:
        found = engine.stores.setdefault("vector_stores", VectorStores(engine))
    assert isinstance(found, VectorStores)
    return found
