"""Batches of one simulator: validation of the input file, a lifecycle on simulated time, and
the lines run through the simulator's own endpoints.  Pure data, no HTTP.

Everything that keeps batches reaches the same store through :func:`batch_store`::

    from pytest_fakeai.engine.batches import BatchTiming, batch_store

    batch_store(engine).timing = BatchTiming.instant()  # later batches finish at once

A batch's state is a function of the simulator's clock (docs/batches.md): it validates for
``timing.validating`` seconds, runs its requests at ``timing.per_request`` seconds each, then
finalizes for ``timing.finalizing`` seconds.  Nothing runs in the background: whenever a batch
is read, the requests due by then are run (through ``engine.dispatch``, in input order) and,
once the batch is done, its output and error files are written to the file store.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from .files import BATCH_FILE_TTL, MAX_BATCH_FILE_BYTES, file_store
from .jsonvalues import describe_json_type

if TYPE_CHECKING:
    from .core import Engine

__all__ = [
    "BATCH_ENDPOINTS",
    "CANCELLABLE",
    "COMPLETION_WINDOW",
    "MAX_BATCH_LINES",
    "Batch",
    "BatchLine",
    "BatchStatus",
    "BatchStore",
    "BatchTiming",
    "LineResult",
    "batch_store",
    "validate_lines",
]

MAX_BATCH_LINES = 50_000
COMPLETION_WINDOW = 24 * 3600  # "24h", the only completion window
_ORG = "org-fakeai"  # the organization the simulator's errors name (as the rate-limit errors do)

#: The endpoints OpenAI accepts for a batch, and how its errors name each (``streaming_unsupported``).
BATCH_ENDPOINTS: Mapping[str, str] = {
    "/v1/responses": "Responses",
    "/v1/chat/completions": "Chat Completions",
    "/v1/embeddings": "Embeddings",
    "/v1/completions": "Completions",
    "/v1/moderations": "Moderations",
    "/v1/images/generations": "Images",
    "/v1/images/edits": "Images",
    "/v1/videos": "Videos",
}
# what a line's body must name, per endpoint: (parameter, message when it is missing)
_REQUIRED: Mapping[str, tuple[tuple[str, str], ...]] = {
    "/v1/chat/completions": (
        ("model", "Model parameter is required."),
        ("messages", "Messages parameter is required."),
    ),
    "/v1/completions": (("model", "Model parameter is required."),),
    "/v1/embeddings": (("model", "Model parameter is required."),),
    "/v1/responses": (("model", "Model parameter is required."),),
}

BatchStatus = Literal[
    "validating", "failed", "in_progress", "finalizing", "completed", "expired", "cancelling", "cancelled"
]
#: The states a batch can be cancelled in.
CANCELLABLE: frozenset[str] = frozenset({"validating", "in_progress", "finalizing"})


@dataclass(frozen=True, slots=True)
class BatchTiming:
    """How long a batch spends in each state, in simulated seconds (captured when it is created)."""

    validating: float = 2.0
    per_request: float = 0.1  # each request line, run one after another
    finalizing: float = 1.0
    cancelling: float = 1.0

    def __post_init__(self) -> None:
        for name in ("validating", "per_request", "finalizing", "cancelling"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ValueError(f"BatchTiming.{name} must be a finite number >= 0, got {value!r}")

    @classmethod
    def instant(cls) -> BatchTiming:
        """No simulated time at all: a batch is done the first time it is read after being created."""
        return cls(0.0, 0.0, 0.0, 0.0)


@dataclass(frozen=True, slots=True)
class BatchLine:
    """One valid request of the input file."""

    number: int  # 1-based line of the input file
    custom_id: str
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class LineResult:
    """What running one line gave: the HTTP status and JSON body of the simulator's answer."""

    id: str  # batch_req_...
    custom_id: str
    status: int
    request_id: str
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def _error(code: str, message: str, param: str | None = None, line: int | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "param": param, "line": line}


def _known_model(engine: Engine, model: str) -> bool:
    if not engine.settings.strict_models:
        return True  # the endpoints register unknown models on first use
    from .registry import UnknownModelError

    try:
        engine.registry.resolve(model, auto_register=False)
    except UnknownModelError:
        return False
    return True


def _check_line(raw: bytes, number: int, endpoint: str) -> tuple[BatchLine | None, dict[str, Any] | None]:
    """One line: the request, or the first problem with it (as a batch ``errors`` item)."""
    try:
        item = json.loads(raw)
    except (ValueError, RecursionError):
        return None, _error("invalid_json_line", "This line is not parseable as valid JSON.", None, number)
    if not isinstance(item, dict):
        return None, _error(
            "invalid_request",
            "Each line must be a JSON object with custom_id, method, url and body, "
            f"but got {describe_json_type(item)}.",
            None,
            number,
        )
    for name in ("custom_id", "method", "url", "body"):
        if name not in item:
            return None, _error("missing_required_parameter", f"Missing required parameter: '{name}'.", name, number)
    for name, wanted, kind in (("custom_id", str, "a string"), ("method", str, "a string"), ("url", str, "a string")):
        if not isinstance(item[name], wanted):
            message = f"Invalid type for '{name}': expected {kind}, but got {describe_json_type(item[name])} instead."
            return None, _error("invalid_type", message, name, number)
    if not isinstance(item["body"], dict):
        message = f"Invalid type for 'body': expected an object, but got {describe_json_type(item['body'])} instead."
        return None, _error("invalid_type", message, "body", number)
    if item["method"] != "POST":
        return None, _error(
            "invalid_value", f"Invalid value: '{item['method']}'. Supported values are: 'POST'.", "method", number
        )
    if item["url"] != endpoint:
        return None, _error(
            "invalid_url", "The URL provided for this request does not match the batch endpoint.", "url", number
        )
    return BatchLine(number, item["custom_id"], item["body"]), None


def validate_lines(engine: Engine, data: bytes, endpoint: str) -> tuple[list[BatchLine], list[dict[str, Any]]]:
    """Read a batch input file as OpenAI's validation does: the requests, and every problem found.

    Each problem is a batch ``errors`` item (``code``, ``message``, ``param``, ``line``); a file
    with any problem fails the whole batch.  Blank lines are skipped (their numbers still count).
    """
    if len(data) > MAX_BATCH_FILE_BYTES:
        message = (
            f"The batch input file is larger than the {MAX_BATCH_FILE_BYTES} maximum. "
            "Please try again with a smaller batch."
        )
        return [], [_error("file_too_large", message)]
    raw_lines = [(n, raw) for n, raw in enumerate(data.split(b"\n"), start=1) if raw.strip()]
    if not raw_lines:
        return [], [_error("empty_file", "The batch input file is empty. Add at least one request.")]
    if len(raw_lines) > MAX_BATCH_LINES:
        message = (
            f"The batch input file has {len(raw_lines)} requests; a batch can contain at most "
            f"{MAX_BATCH_LINES:,} requests. Split the requests into several batches."
        )
        return [], [_error("too_many_tasks", message)]
    lines: list[BatchLine] = []
    errors: list[dict[str, Any]] = []
    seen: set[str] = set()
    model: str | None = None
    api_name = BATCH_ENDPOINTS.get(endpoint, endpoint)
    for number, raw in raw_lines:
        line, problem = _check_line(raw, number, endpoint)
        if line is not None:
            problem = _check_body(engine, line, endpoint, api_name, seen, model)
            if problem is None and isinstance(line.body.get("model"), str):
                model = model or line.body["model"]
        if problem is not None:
            errors.append(problem)
        elif line is not None:
            lines.append(line)
        if line is not None:
            seen.add(line.custom_id)
    return lines, errors


def _check_body(
    engine: Engine, line: BatchLine, endpoint: str, api_name: str, seen: set[str], model: str | None
) -> dict[str, Any] | None:
    number, body = line.number, line.body
    if line.custom_id in seen:
        message = (
            f"The custom_id '{line.custom_id}' for this request is a duplicate of another request. "
            "The custom_id parameter must be unique for each request in a batch."
        )
        return _error("duplicate_custom_id", message, "custom_id", number)
    if body.get("stream"):
        message = f"{api_name}: Streaming is not supported in the Batch API."
        return _error("streaming_unsupported", message, "body.stream", number)
    for name, message in _REQUIRED.get(endpoint, ()):
        if name not in body:
            return _error("invalid_request", message, f"body.{name}", number)
    given = body.get("model")
    if isinstance(given, str):
        if not _known_model(engine, given):
            message = f"The provided model '{given}' is not supported by the Batch API."
            return _error("model_not_found", message, "body.model", number)
        if model is not None and given != model:
            message = (
                f"The model '{given}' for this request does not match the rest of the batch. "
                "Each batch must contain requests for a single model."
            )
            return _error("mismatched_model", message, "body.model", number)
    return None


@dataclass(slots=True, eq=False)
class Batch:
    """One batch.  Moments are seconds since the Unix epoch on the simulator's clock (floats);
    :meth:`status` and friends give the state at any moment, :meth:`BatchStore.refresh` runs
    what is due."""

    id: str
    endpoint: str
    input_file_id: str
    created: float
    timing: BatchTiming
    lines: list[BatchLine]
    errors: list[dict[str, Any]]  # validation problems: the batch fails
    metadata: dict[str, str] | None = None
    output_expires_after: int | None = None  # seconds the output/error files live
    completion_window: str = "24h"
    model: str | None = None
    model_resolved: bool = False  # ``model`` is the snapshot a response named
    cancelled: float | None = None  # the moment cancel was asked for
    results: list[LineResult] = field(default_factory=list)
    output_file_id: str | None = None
    error_file_id: str | None = None
    written: bool = False  # output/error files are written (the batch is done)
    seq: int = 0

    # -- moments ----------------------------------------------------------------------------
    @property
    def validated(self) -> float:
        """When validation ends (in_progress or failed from then on)."""
        return self.created + self.timing.validating

    @property
    def expires(self) -> float:
        return self.created + COMPLETION_WINDOW

    @property
    def finalizing(self) -> float:
        return self.validated + len(self.lines) * self.timing.per_request

    @property
    def completed(self) -> float:
        return self.finalizing + self.timing.finalizing

    @property
    def will_expire(self) -> bool:
        """Whether the requests would run past the completion window."""
        return self.finalizing > self.expires

    @property
    def finishes_at(self) -> float:
        """The moment the batch reaches its final state (completed, failed, expired or cancelled)."""
        if self.cancelled is not None:
            return self.cancelled + self.timing.cancelling
        if self.errors:
            return self.validated
        return self.expires if self.will_expire else self.completed

    def _happened(self, moment: float, now: float) -> bool:
        """Whether a step due at ``moment`` has happened by ``now`` (a cancel stops later steps)."""
        return now >= moment and (self.cancelled is None or moment <= self.cancelled)

    def status(self, now: float) -> BatchStatus:
        if self.cancelled is not None:
            return "cancelled" if now >= self.cancelled + self.timing.cancelling else "cancelling"
        if now < self.validated:
            return "validating"
        if self.errors:
            return "failed"
        if self.will_expire:
            return "expired" if now >= self.expires else "in_progress"
        if now < self.finalizing:
            return "in_progress"
        return "finalizing" if now < self.completed else "completed"

    def moments(self, now: float) -> dict[str, int | None]:
        """The ``*_at`` timestamps (whole seconds) of the steps that have happened by ``now``."""

        def at(moment: float, happened: bool) -> int | None:
            return int(moment) if happened else None

        ok = not self.errors
        expired = self.will_expire
        done_cancel = self.cancelled is not None and self.status(now) in ("cancelling", "cancelled")
        return {
            "in_progress_at": at(self.validated, ok and self._happened(self.validated, now)),
            "finalizing_at": at(self.finalizing, ok and not expired and self._happened(self.finalizing, now)),
            "completed_at": at(self.completed, ok and not expired and self._happened(self.completed, now)),
            "failed_at": at(self.validated, not ok and self._happened(self.validated, now)),
            "expired_at": at(self.expires, ok and expired and self._happened(self.expires, now)),
            "cancelling_at": at(self.cancelled or 0.0, done_cancel),
            "cancelled_at": at(
                (self.cancelled or 0.0) + self.timing.cancelling, done_cancel and self.status(now) == "cancelled"
            ),
        }

    def lines_done(self, now: float) -> int:
        """How many requests have run by ``now`` (in input order)."""
        if self.errors:
            return 0
        horizon = min(now, self.expires, math.inf if self.cancelled is None else self.cancelled)
        if horizon < self.validated:
            return 0
        if self.timing.per_request == 0:
            return len(self.lines)
        return min(len(self.lines), math.floor((horizon - self.validated) / self.timing.per_request + 1e-9))

    def counts(self, now: float) -> dict[str, int]:
        """``request_counts``: nothing until validation is over, then the requests run so far."""
        if self.errors or not self._happened(self.validated, now):
            return {"total": 0, "completed": 0, "failed": 0}
        completed = sum(1 for r in self.results if r.ok)
        failed = len(self.results) - completed
        if self.status(now) == "expired":
            failed += len(self.lines) - len(self.results)  # not run: in the error file as batch_expired
        return {"total": len(self.lines), "completed": completed, "failed": failed}

    def usage(self) -> dict[str, Any]:
        """Tokens of the requests that succeeded so far, summed from their responses' ``usage``."""
        totals = {"input": 0, "cached": 0, "output": 0, "reasoning": 0}
        for result in self.results:
            usage = result.body.get("usage") if result.ok and isinstance(result.body, dict) else None
            if not isinstance(usage, dict):
                continue
            input_details = usage.get("input_tokens_details") or usage.get("prompt_tokens_details") or {}
            output_details = usage.get("output_tokens_details") or usage.get("completion_tokens_details") or {}
            totals["input"] += _int(usage.get("input_tokens", usage.get("prompt_tokens")))
            totals["output"] += _int(usage.get("output_tokens", usage.get("completion_tokens")))
            totals["cached"] += _int(input_details.get("cached_tokens") if isinstance(input_details, dict) else 0)
            totals["reasoning"] += _int(
                output_details.get("reasoning_tokens") if isinstance(output_details, dict) else 0
            )
        return {
            "input_tokens": totals["input"],
            "input_tokens_details": {"cached_tokens": totals["cached"]},
            "output_tokens": totals["output"],
            "output_tokens_details": {"reasoning_tokens": totals["reasoning"]},
            "total_tokens": totals["input"] + totals["output"],
        }


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _json_line(item: dict[str, Any]) -> bytes:
    try:
        return json.dumps(item, ensure_ascii=False).encode() + b"\n"
    except UnicodeEncodeError:  # a lone surrogate from the input ("\\ud800"): keep it escaped
        return json.dumps(item).encode() + b"\n"


def _jsonl(items: list[dict[str, Any]]) -> bytes:
    return b"".join(_json_line(item) for item in items)


class BatchStore:
    """The batches of one simulator (thread-safe; reached through :func:`batch_store`)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.RLock()
        self._batches: dict[str, Batch] = {}
        self._seq = 0
        #: What batches created from now on take as their :class:`BatchTiming`.
        self.timing = BatchTiming()

    def now(self) -> float:
        return self._engine.clock.now()

    def create(
        self,
        *,
        endpoint: str,
        input_file_id: str,
        metadata: dict[str, str] | None = None,
        output_expires_after: int | None = None,
    ) -> Batch:
        """A new batch: its input file is read and validated now (the outcome shows once validation is over)."""
        stored = file_store(self._engine).get(input_file_id)
        lines: list[BatchLine] = []
        if stored is None:
            message = f"Cannot find file {input_file_id}, or organization {_ORG} does not have access to it."
            errors = [_error("invalid_request", message, "file_id")]
        elif stored.purpose != "batch":
            message = (
                f"The file {input_file_id} has purpose '{stored.purpose}'; a batch input file must be "
                "uploaded with purpose 'batch'."
            )
            errors = [_error("invalid_request", message, "input_file_id")]
        else:
            lines, errors = validate_lines(self._engine, stored.data, endpoint)
        model = next((ln.body["model"] for ln in lines if isinstance(ln.body.get("model"), str)), None)
        batch = Batch(
            id="batch_" + self._engine.new_hex(32),
            endpoint=endpoint,
            input_file_id=input_file_id,
            created=self.now(),
            timing=self.timing,
            lines=[] if errors else lines,
            errors=errors,
            metadata=metadata,
            output_expires_after=output_expires_after,
            model=None if errors else model,
        )
        with self._lock:
            self._seq += 1
            batch.seq = self._seq
            self._batches[batch.id] = batch
        return batch

    def get(self, batch_id: str, now: float | None = None) -> Batch | None:
        """The batch, brought up to date with the clock (or ``now``); None if there is none."""
        with self._lock:
            batch = self._batches.get(batch_id)
            if batch is not None:
                self.refresh(batch, now)
            return batch

    def known(self, batch_id: str) -> bool:
        return batch_id in self._batches

    def page(self, *, limit: int, after: str | None = None, now: float | None = None) -> tuple[list[Batch], bool]:
        """Newest first; ``after`` is the id of the batch before the page (check it with :meth:`known`)."""
        with self._lock:
            items = sorted(self._batches.values(), key=lambda b: (b.created, b.seq), reverse=True)
            if after is not None:
                position = self._batches[after].seq
                items = [b for b in items if b.seq < position]
            page = items[:limit]
            for batch in page:
                self.refresh(batch, now)
            return page, len(items) > limit

    def cancel(self, batch: Batch, now: float | None = None) -> BatchStatus:
        """Start cancelling if the batch is still validating, in progress or finalizing.

        Returns the status the batch had when asked (the caller refuses a finished batch).
        """
        now = self.now() if now is None else now
        with self._lock:
            self.refresh(batch, now)
            status = batch.status(now)
            if status in CANCELLABLE:
                batch.cancelled = now
            return status

    # -- running --------------------------------------------------------------------------------
    def refresh(self, batch: Batch, now: float | None = None) -> None:
        """Run the requests due by ``now``, and write the files once the batch is done."""
        now = self.now() if now is None else now
        with self._lock:
            done = batch.lines_done(now)
            for line in batch.lines[len(batch.results) : done]:
                result = self._run(batch, line)
                batch.results.append(result)
                model = result.body.get("model") if result.ok and isinstance(result.body, dict) else None
                if isinstance(model, str) and not batch.model_resolved:  # the snapshot that served it, as OpenAI shows
                    batch.model, batch.model_resolved = model, True
            if not batch.written and batch.lines and batch.status(now) in ("completed", "cancelled", "expired"):
                self._write(batch, now)

    def _run(self, batch: Batch, line: BatchLine) -> LineResult:
        dispatch = self._engine.dispatch
        if dispatch is None:
            raise RuntimeError("this engine has no dispatch: batches run through a FakeAI simulator")
        status, body = dispatch("POST", batch.endpoint, json.dumps(line.body).encode())
        return LineResult(
            id="batch_req_" + self._engine.new_hex(32),
            custom_id=line.custom_id,
            status=status,
            request_id=self._engine.new_hex(32),
            body=body,
        )

    def _write(self, batch: Batch, now: float) -> None:
        batch.written = True

        def line(result: LineResult) -> dict[str, Any]:
            response = {"status_code": result.status, "request_id": result.request_id, "body": result.body}
            return {"id": result.id, "custom_id": result.custom_id, "response": response, "error": None}

        outputs = [line(r) for r in batch.results if r.ok]
        failures = [line(r) for r in batch.results if not r.ok]
        if batch.status(now) == "expired":
            for pending in batch.lines[len(batch.results) :]:
                failures.append(
                    {
                        "id": "batch_req_" + self._engine.new_hex(32),
                        "custom_id": pending.custom_id,
                        "response": None,
                        "error": {
                            "code": "batch_expired",
                            "message": "This request could not be executed before the completion window expired.",
                        },
                    }
                )
        files = file_store(self._engine)
        ttl = batch.output_expires_after if batch.output_expires_after is not None else BATCH_FILE_TTL
        if outputs:
            stored = files.create(
                filename=f"{batch.id}_output.jsonl",
                purpose="batch_output",
                data=_jsonl(outputs),
                expires_after=ttl,
                mime_type="application/jsonl",
            )
            batch.output_file_id = stored.id
        if failures:
            stored = files.create(
                filename=f"{batch.id}_error.jsonl",
                purpose="batch_output",
                data=_jsonl(failures),
                expires_after=ttl,
                mime_type="application/jsonl",
            )
            batch.error_file_id = stored.id


def batch_store(engine: Engine) -> BatchStore:
    """The simulator's batch store (created on first use)."""
    store = engine.stores.get("batches")
    if store is None:
        store = engine.stores.setdefault("batches", BatchStore(engine))
    assert isinstance(store, BatchStore)
    return store
