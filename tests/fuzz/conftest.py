"""What the fuzz campaigns share: the budget, a seeded simulator to aim at, one bounded exchange, the
property every answer keeps, and the count of cases run (printed at the end of the session).

``FAKEAI_FUZZ_EXAMPLES`` is the hypothesis example count of each in-process campaign test (default
200, derandomized so CI runs the same cases every time); above the default the runs explore at
random. docs/fuzzing.md has the commands and the numbers of the last long run.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import os
import signal
import threading
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from pytest_fakeai import FakeAI
from pytest_fakeai.api.router import default_router
from pytest_fakeai.api.types import ApiRequest
from pytest_fakeai.simulator import FakeAIInternalError
from tests._support.spec import check_error

DEFAULT_EXAMPLES = 200
EXAMPLES = int(os.environ.get("FAKEAI_FUZZ_EXAMPLES", str(DEFAULT_EXAMPLES)))
HANG_AFTER = 10.0  # seconds: an exchange (stream drained) still running then is a hang
MAX_CHUNKS = 200_000  # a stream longer than this does not end
RECYCLE_EVERY = 300  # cases: then a fresh simulator, so state made by the fuzz stays bounded
#: The official OpenAPI spec (a read-only shared copy beside the checkout); FAKEAI_OPENAPI_SPEC overrides.
SPEC_PATH = Path(
    os.environ.get(
        "FAKEAI_OPENAPI_SPEC",
        Path(__file__).resolve().parents[3] / "shared" / "openapi" / "openai-openapi.json",
    )
)

#: Cases run this session, by campaign, and their answers by status class (printed at the end).
CASES: Counter[str] = Counter()
STATUSES: Counter[str] = Counter()
_STARTED = time.monotonic()


def fuzz_settings(examples: int = EXAMPLES) -> settings:
    """Hypothesis settings of a campaign test: bounded, no example database, the same cases in CI."""
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=EXAMPLES <= DEFAULT_EXAMPLES,
        print_blob=True,
        suppress_health_check=list(HealthCheck),
    )


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if CASES:
        counts = ", ".join(f"{n} {name}" for name, n in sorted(CASES.items()))
        statuses = ", ".join(f"{n} {name}" for name, n in sorted(STATUSES.items()))
        terminalreporter.write_line(
            f"fakeai fuzz: {sum(CASES.values())} cases ({counts}; answers: {statuses}) "
            f"in {time.monotonic() - _STARTED:.1f} s"
        )


# -- the OpenAPI spec ---------------------------------------------------------------------------


@functools.cache
def openapi_spec() -> dict[str, Any] | None:
    """The official spec, or None where it is not beside the checkout."""
    if not SPEC_PATH.is_file():
        return None
    spec: dict[str, Any] = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    return spec


def spec_path(template: str) -> str:
    """The spec's path for one of the router's templates: ``/v1/models/{model:path}`` → ``/models/{model}``."""
    return template.replace(":path}", "}").removeprefix("/v1")


def routes() -> list[tuple[str, str]]:
    """Every (method, template) the default router serves: a new route is fuzzed without a change here."""
    return [(line.split(" ", 1)[0], line.split(" ", 1)[1]) for line in default_router().describe()]


# -- the simulator under fuzz ---------------------------------------------------------------------


def form(fields: list[tuple[str, str]], files: list[tuple[str, str, str, bytes]]) -> tuple[bytes, str]:
    """A well-formed multipart body and its content type."""
    boundary = "fakeaiFuzzBoundary7MA4YWxk"
    out = b""
    for name, value in fields:
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value.encode()
        out += b"\r\n"
    for name, filename, ctype, data in files:
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        out += f"{head}Content-Type: {ctype}\r\n\r\n".encode() + data + b"\r\n"
    return out + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


class Target:
    """A simulator holding one object of each kind, so ids in paths and bodies can name real things.

    ``refs`` maps placeholders (``"@file"``, ``"@vs"``, ...) to real ids and ``blobs`` maps
    ``b"@png"``-style placeholders to file contents; strategies use the placeholders, an exchange
    substitutes them.  Every :data:`RECYCLE_EVERY` cases the simulator is replaced.
    """

    def __init__(self, seed: int = 20240) -> None:
        self.seed = seed
        self.used = 0
        self.sim: FakeAI
        self.refs: dict[str, str] = {}
        self.blobs: dict[bytes, bytes] = {}
        self._build()

    def _ok(self, method: str, path: str, body: Any = b"", content_type: str = "application/json") -> Any:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        response = self.sim.handle(ApiRequest(method, path, headers={"content-type": content_type}, body=raw))
        assert response.status == 200, (method, path, response.body[:500])
        if response.stream is not None:
            response.stream.close()
            return None
        if response.headers[0][1].startswith("application/json"):
            return json.loads(response.body)
        return response.body

    def _build(self) -> None:
        # the same seed every time: the same blobs, so what a strategy draws never depends on the recycling
        self.sim = FakeAI(seed=self.seed, max_calls=64)
        text = b"The quick brown fox jumps over the lazy dog.\nPack my box with five dozen liquor jugs.\n"
        line = {
            "custom_id": "r1",
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5},
        }
        jsonl = json.dumps(line).encode() + b"\n"
        file = self._ok(
            "POST", "/v1/files", *form([("purpose", "assistants")], [("file", "fox.txt", "text/plain", text)])
        )
        batch_file = self._ok(
            "POST", "/v1/files", *form([("purpose", "batch")], [("file", "in.jsonl", "application/jsonl", jsonl)])
        )
        upload = self._ok(
            "POST",
            "/v1/uploads",
            {"filename": "up.txt", "purpose": "assistants", "bytes": 5, "mime_type": "text/plain"},
        )
        part = self._ok(
            "POST",
            f"/v1/uploads/{upload['id']}/parts",
            *form([], [("data", "blob", "application/octet-stream", b"hello")]),
        )
        batch = self._ok(
            "POST",
            "/v1/batches",
            {"input_file_id": batch_file["id"], "endpoint": "/v1/chat/completions", "completion_window": "24h"},
        )
        response = self._ok("POST", "/v1/responses", {"model": "gpt-4o-mini", "input": "hi", "max_output_tokens": 16})
        background = self._ok(
            "POST", "/v1/responses", {"model": "gpt-4o-mini", "input": "hi", "background": True, "store": True}
        )
        store = self._ok("POST", "/v1/vector_stores", {"name": "fuzz", "file_ids": [file["id"]]})
        file_batch = self._ok("POST", f"/v1/vector_stores/{store['id']}/file_batches", {"file_ids": [file["id"]]})
        image = self._ok(
            "POST",
            "/v1/images/generations",
            {"model": "dall-e-2", "prompt": "a fox", "size": "256x256", "response_format": "url"},
        )
        name = image["data"][0]["url"].rsplit("/", 1)[1]
        png = self._ok("GET", f"/v1/images/files/{name}")
        rgba = self._ok(
            "POST",
            "/v1/images/generations",
            {
                "model": "gpt-image-1",
                "prompt": "a fox",
                "size": "1024x1024",
                "quality": "low",
                "background": "transparent",
            },
        )
        wav = self._ok(
            "POST",
            "/v1/audio/speech",
            {"model": "tts-1", "input": "hello there", "voice": "alloy", "response_format": "wav"},
        )
        self.refs = {
            "@file": file["id"],
            "@batch_file": batch_file["id"],
            "@upload": upload["id"],
            "@part": part["id"],
            "@batch": batch["id"],
            "@response": response["id"],
            "@background_response": background["id"],
            "@vs": store["id"],
            "@vsfb": file_batch["id"],
            "@image": name,
        }
        self.blobs = {
            b"@text": text,
            b"@jsonl": jsonl,
            b"@png": png,
            b"@rgba": base64.b64decode(rgba["data"][0]["b64_json"]),
            b"@wav": wav,
        }

    def next_case(self) -> FakeAI:
        """The simulator for the next case (a fresh one every RECYCLE_EVERY cases)."""
        self.used += 1
        if self.used % RECYCLE_EVERY == 0:
            self._build()
        return self.sim

    def resolve(self, value: Any) -> Any:
        """``value`` with the placeholders replaced by this simulator's ids and blobs."""
        if isinstance(value, str):
            return self.refs.get(value, value)
        if isinstance(value, bytes):
            return self.blobs.get(value, value)
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self.resolve(v) for v in value)
        if isinstance(value, dict):
            return {self.resolve(k): self.resolve(v) for k, v in value.items()}
        return value


@pytest.fixture(scope="module")
def target() -> Iterator[Target]:
    t = Target()
    try:
        yield t
    finally:
        t.sim.close()


# -- one exchange, and the property -----------------------------------------------------------------


class Hang(BaseException):
    """Raised by the alarm inside a case that runs too long (BaseException: the simulator's own
    ``except Exception`` must not turn it into a 500)."""


@contextlib.contextmanager
def bounded(seconds: float) -> Iterator[None]:
    """Interrupt the block with :class:`Hang` after ``seconds`` (main thread on POSIX; else unbounded)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def alarm(signum: int, frame: Any) -> None:
        raise Hang

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Answer:
    request: ApiRequest
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    chunks: list[bytes] | None  # a stream's chunks, drained
    error: str | None  # the simulator's traceback when it hit a bug of its own
    seconds: float

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name), None)

    def where(self) -> str:
        r = self.request
        return (
            f"{r.method} {r.path}{'?' + r.query if r.query else ''} headers={dict(r.headers)!r} "
            f"body={r.body[:600]!r}{'...' if len(r.body) > 600 else ''} -> {self.status} {self.body[:600]!r}"
        )


def exchange(sim: FakeAI, request: ApiRequest, campaign: str = "inprocess") -> Answer:
    """``sim.handle(request)``, a stream drained, within :data:`HANG_AFTER` seconds."""
    CASES[campaign] += 1
    started = time.perf_counter()
    chunks: list[bytes] | None = None
    try:
        with bounded(HANG_AFTER), warnings.catch_warnings():
            warnings.simplefilter("ignore", FakeAIInternalError)  # reported below, with the traceback
            response = sim.handle(request)
            if response.stream is not None:
                chunks = []
                try:
                    for _, data in response.stream:
                        chunks.append(data)
                        assert len(chunks) <= MAX_CHUNKS, f"a stream of more than {MAX_CHUNKS} chunks: {request!r}"
                finally:
                    response.stream.close()
    except Hang:
        raise AssertionError(f"no answer (or no end of the stream) within {HANG_AFTER} s: {request!r}") from None
    error = sim.calls.last.error if sim.calls else None
    STATUSES[f"{campaign} {response.status // 100}xx" + (" streamed" if chunks is not None else "")] += 1
    return Answer(
        request, response.status, response.headers, response.body, chunks, error, time.perf_counter() - started
    )


def _strict_json(text: bytes | str, where: str) -> Any:
    def constant(name: str) -> Any:
        raise AssertionError(f"{name} in a JSON body (not JSON; every strict parser refuses it): {where}")

    return json.loads(text, parse_constant=constant)


#: Signs that an error message is a leaked exception rather than a sentence for the user.
LEAKS = ("Traceback (most recent call last)", " object at 0x", "errors.pydantic.dev", "validation error for ")


def check(answer: Answer) -> None:
    """The property: no 5xx (no fault is injected), well-formed headers, OpenAI-shaped errors with a
    message that says something, strict JSON in every JSON body and SSE event."""
    where = answer.where()
    assert answer.error is None, f"simulator bug on {where}\n{answer.error}"
    assert 200 <= answer.status < 500, where
    for name, value in answer.headers:
        assert isinstance(name, str) and isinstance(value, str), (name, value, where)
        assert not any(c in name + value for c in "\r\n\x00"), f"header {name}: {value!r} breaks the framing: {where}"
        try:
            (name + value).encode("latin-1")
        except UnicodeEncodeError:
            raise AssertionError(
                f"header {name}: {value!r} is not latin-1, no HTTP server can send it: {where}"
            ) from None
    content_type = answer.header("content-type") or ""
    if answer.status >= 400:
        assert content_type.startswith("application/json"), where
        assert answer.chunks is None, where
        try:
            check_error(answer.body)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{where}") from None
        message = json.loads(answer.body)["error"]["message"]
        assert len(message.strip()) >= 10, f"an unhelpful message: {where}"
        assert not any(leak in message for leak in LEAKS), f"a leaked exception as the message: {where}"
        if answer.status == 405:
            assert answer.header("allow"), where
        return
    if answer.chunks is not None:
        if content_type.startswith("text/event-stream"):
            for chunk in answer.chunks:
                for line in chunk.split(b"\n"):
                    if line.startswith(b"data: ") and line != b"data: [DONE]":
                        _strict_json(line[6:], where)
        return
    if content_type.startswith("application/json") and answer.body:
        _strict_json(answer.body, where)
