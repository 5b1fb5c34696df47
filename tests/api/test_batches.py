"""The Batch API through the real openai SDK: create from an uploaded JSONL file, watch it move on
the simulator's clock, read its output and error files, cancel, list (and auto-paginate)."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openai
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_fakeai import FakeAI
from pytest_fakeai.api.batches import served_endpoints
from pytest_fakeai.api.errors import ApiError
from pytest_fakeai.api.router import default_router
from pytest_fakeai.engine.batches import BATCH_ENDPOINTS, BatchTiming, batch_store
from pytest_fakeai.engine.files import file_store
from tests._support.drive import Driver
from tests._support.spec import (
    check_batch,
    check_batch_list,
    check_batch_output_line,
    check_chat_completion,
    check_completion,
    check_embedding,
    check_error,
    check_file,
    check_image,
    check_moderation,
    check_response,
)

BATCH_ID = re.compile(r"^batch_[0-9a-f]{32}$")
DAY = 24 * 3600
CHAT = "/v1/chat/completions"
# default timing (BatchTiming()): 2 s validating, 0.1 s per request, 1 s finalizing, 1 s cancelling
VALIDATING, PER_REQUEST, FINALIZING, CANCELLING = 2.0, 0.1, 1.0, 1.0


def chat_line(custom_id: str, url: str = CHAT, **body: Any) -> dict[str, Any]:
    body.setdefault("model", "gpt-4o-mini")
    body.setdefault("messages", [{"role": "user", "content": f"Say something about {custom_id}."}])
    return {"custom_id": custom_id, "method": "POST", "url": url, "body": body}


def jsonl(*items: Any) -> bytes:
    return b"".join(json.dumps(item).encode() + b"\n" for item in items)


def upload(api: Driver, data: bytes, purpose: str = "batch", name: str = "in.jsonl") -> str:
    file_id: str = api("files.create", file=(name, data), purpose=purpose).id
    return file_id


def create(api: Driver, file_id: str, endpoint: str = CHAT, **kw: Any) -> Any:
    batch = api("batches.create", input_file_id=file_id, endpoint=endpoint, completion_window="24h", **kw)
    check_batch(api.sim.calls.last.response.json)
    return batch


def retrieve(api: Driver, batch_id: str) -> Any:
    batch = api("batches.retrieve", batch_id=batch_id)
    check_batch(api.sim.calls.last.response.json)
    assert batch.id == batch_id
    return batch


def run(api: Driver, data: bytes, endpoint: str = CHAT, **kw: Any) -> Any:
    """Upload ``data``, create a batch and let the clock run until it is done; the final batch."""
    batch = create(api, upload(api, data), endpoint, **kw)
    api.sim.clock.advance(DAY)
    return retrieve(api, batch.id)


def content(api: Driver, file_id: str) -> bytes:
    data: bytes = api("files.content", file_id=file_id).content
    return data


def output_lines(api: Driver, file_id: str, body_check: Callable[[Any], None] | None = None) -> list[dict[str, Any]]:
    """The lines of an output or error file, each checked (a 2xx body with ``body_check``)."""
    data = content(api, file_id)
    assert data.endswith(b"\n")
    return [check_batch_output_line(line, body_check) for line in data.decode().splitlines()]


def expect_error(api: Driver, exc: type[openai.APIStatusError], method: str, /, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(exc):
        api(method, **kwargs)
    body: dict[str, Any] = api.sim.calls.last.response.json
    check_error(body)
    return dict(body["error"])


def every_batch(api: Driver, **kwargs: Any) -> list[Any]:
    """What ``for b in client.batches.list(...)`` yields: the SDK's own auto-pagination, sync or async."""
    if api.mode == "sync":
        return list(api.client.batches.list(**kwargs))

    async def go() -> list[Any]:
        return [b async for b in api.client.batches.list(**kwargs)]

    return asyncio.run(go())


# -- the lifecycle ----------------------------------------------------------------------------------


def test_lifecycle_on_the_clock(api: Driver, sim: FakeAI) -> None:
    lines = [chat_line(f"r{i}", max_tokens=8) for i in range(4)] + [chat_line("bad", max_tokens=-1)]
    file_id = upload(api, jsonl(*lines))
    batch = create(api, file_id, metadata={"job": "nightly"})
    assert BATCH_ID.match(batch.id)
    assert (batch.object, batch.endpoint, batch.input_file_id, batch.completion_window) == (
        "batch",
        CHAT,
        file_id,
        "24h",
    )
    assert batch.status == "validating" and batch.errors is None and batch.to_dict().get("model") is None
    assert batch.created_at == int(sim.clock.now()) and batch.expires_at == batch.created_at + DAY
    assert batch.metadata == {"job": "nightly"}
    assert (batch.request_counts.total, batch.request_counts.completed, batch.request_counts.failed) == (0, 0, 0)
    assert batch.to_dict()["usage"]["total_tokens"] == 0
    assert batch.in_progress_at is None and batch.output_file_id is None

    sim.clock.advance(VALIDATING - 0.5)
    assert retrieve(api, batch.id).status == "validating"

    sim.clock.advance(0.5 + 2.5 * PER_REQUEST)  # two requests done, the third running
    b = retrieve(api, batch.id)
    assert b.status == "in_progress" and b.in_progress_at == batch.created_at + int(VALIDATING)
    assert (b.request_counts.total, b.request_counts.completed, b.request_counts.failed) == (5, 2, 0)
    assert b.to_dict()["model"] == "gpt-4o-mini-2024-07-18"  # the snapshot that served the requests
    assert b.to_dict()["usage"]["input_tokens"] > 0 and b.output_file_id is None

    sim.clock.advance(3 * PER_REQUEST)  # all five ran
    b = retrieve(api, batch.id)
    assert b.status == "finalizing" and b.finalizing_at is not None and b.completed_at is None
    assert (b.request_counts.completed, b.request_counts.failed) == (4, 1)
    assert b.output_file_id is None and b.error_file_id is None  # written once the batch completes

    sim.clock.advance(FINALIZING)
    b = retrieve(api, batch.id)
    assert b.status == "completed"
    assert b.created_at <= b.in_progress_at <= b.finalizing_at <= b.completed_at < b.expires_at
    assert (b.failed_at, b.expired_at, b.cancelling_at, b.cancelled_at, b.errors) == (None,) * 5
    assert (b.request_counts.total, b.request_counts.completed, b.request_counts.failed) == (5, 4, 1)

    out = output_lines(api, b.output_file_id, check_chat_completion)
    assert [line["custom_id"] for line in out] == ["r0", "r1", "r2", "r3"]
    assert all(line["response"]["status_code"] == 200 and line["error"] is None for line in out)
    assert len({line["id"] for line in out}) == 4
    errors = output_lines(api, b.error_file_id)
    assert [line["custom_id"] for line in errors] == ["bad"]
    assert errors[0]["response"]["status_code"] == 400
    assert errors[0]["response"]["body"]["error"]["param"] == "max_tokens"

    # usage is the sum over the requests that succeeded
    usages = [line["response"]["body"]["usage"] for line in out]
    assert b.to_dict()["usage"]["input_tokens"] == sum(u["prompt_tokens"] for u in usages)
    assert b.to_dict()["usage"]["output_tokens"] == sum(u["completion_tokens"] for u in usages)
    usage = b.to_dict()["usage"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]

    # the files are ordinary File objects, purpose batch_output, expiring after 30 days by default
    for file_id, kind in ((b.output_file_id, "output"), (b.error_file_id, "error")):
        f = api("files.retrieve", file_id=file_id)
        check_file(sim.calls.last.response.json)
        assert (f.purpose, f.filename, f.status) == ("batch_output", f"{b.id}_{kind}.jsonl", "processed")
        assert f.expires_at == f.created_at + 30 * DAY
    assert api.raw("files.content", file_id=b.output_file_id).headers["content-type"] == "application/jsonl"

    # a finished batch stays as it is
    sim.clock.advance(7 * DAY)
    assert retrieve(api, b.id) == b


@pytest.mark.parametrize(
    ("endpoint", "body", "check"),
    [
        ("/v1/completions", {"model": "gpt-3.5-turbo-instruct", "prompt": "Once", "max_tokens": 5}, check_completion),
        ("/v1/embeddings", {"model": "text-embedding-3-small", "input": ["a", "b"]}, check_embedding),
        ("/v1/moderations", {"input": "I like kittens."}, check_moderation),
        ("/v1/responses", {"model": "gpt-4o-mini", "input": "Tell me a story."}, check_response),
        ("/v1/images/generations", {"model": "dall-e-2", "prompt": "a lighthouse", "size": "256x256"}, check_image),
    ],
)
def test_other_endpoints(api: Driver, endpoint: str, body: dict[str, Any], check: Callable[[Any], None]) -> None:
    if endpoint not in served_endpoints():
        pytest.skip(f"the simulator does not route {endpoint} yet")
    items = [{"custom_id": f"{i}", "method": "POST", "url": endpoint, "body": body} for i in range(3)]
    b = run(api, jsonl(*items), endpoint)
    assert b.status == "completed" and b.error_file_id is None
    assert (b.request_counts.completed, b.request_counts.failed) == (3, 0)
    out = output_lines(api, b.output_file_id, check)
    assert [line["custom_id"] for line in out] == ["0", "1", "2"]
    if endpoint == "/v1/embeddings":
        assert b.to_dict()["usage"]["input_tokens"] > 0 and b.to_dict()["usage"]["output_tokens"] == 0
    if endpoint == "/v1/responses":
        usages = [line["response"]["body"]["usage"] for line in out]
        assert b.to_dict()["usage"]["input_tokens"] == sum(u["input_tokens"] for u in usages) > 0
        assert b.to_dict()["usage"]["output_tokens"] == sum(u["output_tokens"] for u in usages) > 0
    if endpoint in ("/v1/moderations", "/v1/images/generations"):
        assert b.to_dict()["usage"]["total_tokens"] == 0  # no usage in these responses


# (usage and model are read through to_dict(): openai 1.x's Batch type predates them and keeps them as extras)


def test_all_requests_fail(api: Driver) -> None:
    b = run(api, jsonl(chat_line("a", max_tokens=0), chat_line("b", temperature=9)))
    assert b.status == "completed" and b.output_file_id is None and b.error_file_id is not None
    assert (b.request_counts.total, b.request_counts.completed, b.request_counts.failed) == (2, 0, 2)
    assert b.to_dict()["usage"]["total_tokens"] == 0
    assert [line["custom_id"] for line in output_lines(api, b.error_file_id)] == ["a", "b"]


def test_instant_timing_and_output_expiry(api: Driver, sim: FakeAI) -> None:
    batch_store(sim.engine).timing = BatchTiming.instant()
    batch = create(
        api,
        upload(api, jsonl(chat_line("x"))),
        output_expires_after={"anchor": "created_at", "seconds": 7200},
    )
    assert batch.status == "validating"  # the create call always answers "validating"
    b = retrieve(api, batch.id)  # no clock advance needed
    assert b.status == "completed" and b.completed_at == b.created_at
    f = api("files.retrieve", file_id=b.output_file_id)
    assert f.expires_at == f.created_at + 7200
    sim.clock.advance(7200)
    expect_error(api, openai.NotFoundError, "files.content", file_id=b.output_file_id)


def test_lines_follow_the_script_and_are_not_recorded(api: Driver, sim: FakeAI) -> None:
    sim.on(contains="weather").reply("It is sunny in Paris.")
    line = chat_line("w", messages=[{"role": "user", "content": "What is the weather?"}])
    b = run(api, jsonl(line, chat_line("x")))
    out = output_lines(api, b.output_file_id, check_chat_completion)
    assert out[0]["response"]["body"]["choices"][0]["message"]["content"] == "It is sunny in Paris."
    assert out[1]["response"]["body"]["choices"][0]["message"]["content"] != "It is sunny in Paris."
    paths = [call.request.path for call in sim.calls]
    assert "/v1/chat/completions" not in paths  # batch lines are not calls of the test's client


def test_blank_lines_and_crlf(api: Driver) -> None:
    data = b"\n" + jsonl(chat_line("a")).replace(b"\n", b"\r\n") + b"   \n" + jsonl(chat_line("b"))
    b = run(api, data)
    assert b.status == "completed" and b.request_counts.total == 2


def test_unicode_custom_ids(api: Driver) -> None:
    data = jsonl(chat_line("café ✓")) + b'{"custom_id": "\\ud800", "method": "POST", "url": "/v1/chat/completions", '
    data += b'"body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}}\n'
    b = run(api, data)
    assert b.status == "completed"
    out = output_lines(api, b.output_file_id, check_chat_completion)
    assert [line["custom_id"] for line in out] == ["café ✓", "\ud800"]


def test_expired_when_the_window_runs_out(api: Driver, sim: FakeAI) -> None:
    batch_store(sim.engine).timing = BatchTiming(validating=0, per_request=10 * 3600)  # 3 lines: 30 h
    batch = create(api, upload(api, jsonl(*(chat_line(f"r{i}") for i in range(3)))))
    sim.clock.advance(DAY - 1)
    assert retrieve(api, batch.id).status == "in_progress"
    sim.clock.advance(1)
    b = retrieve(api, batch.id)
    assert b.status == "expired" and b.expired_at == b.expires_at
    assert b.finalizing_at is None and b.completed_at is None
    assert (b.request_counts.total, b.request_counts.completed, b.request_counts.failed) == (3, 2, 1)
    assert [line["custom_id"] for line in output_lines(api, b.output_file_id, check_chat_completion)] == ["r0", "r1"]
    (late,) = output_lines(api, b.error_file_id)
    assert late["custom_id"] == "r2" and late["response"] is None
    assert late["error"]["code"] == "batch_expired"


# -- cancel -----------------------------------------------------------------------------------------


def test_cancel_keeps_what_is_done(api: Driver, sim: FakeAI) -> None:
    batch = create(api, upload(api, jsonl(*(chat_line(f"r{i}") for i in range(10)))))
    sim.clock.advance(VALIDATING + 3.5 * PER_REQUEST)
    b = api("batches.cancel", batch_id=batch.id)
    check_batch(sim.calls.last.response.json)
    assert b.status == "cancelling" and b.cancelling_at is not None and b.cancelled_at is None
    assert (b.request_counts.total, b.request_counts.completed) == (10, 3)

    sim.clock.advance(CANCELLING / 2)
    assert retrieve(api, batch.id).status == "cancelling"
    sim.clock.advance(DAY)  # nothing more runs
    b = retrieve(api, batch.id)
    assert b.status == "cancelled" and b.cancelled_at is not None and b.cancelled_at >= b.cancelling_at
    assert b.finalizing_at is None and b.completed_at is None
    assert (b.request_counts.total, b.request_counts.completed, b.request_counts.failed) == (10, 3, 0)
    out = output_lines(api, b.output_file_id, check_chat_completion)
    assert [line["custom_id"] for line in out] == ["r0", "r1", "r2"]
    assert b.error_file_id is None

    again = api("batches.cancel", batch_id=batch.id)  # cancelling a cancelled batch is allowed
    assert again == b


def test_cancel_while_validating(api: Driver, sim: FakeAI) -> None:
    batch = create(api, upload(api, jsonl(chat_line("a"))))
    b = api("batches.cancel", batch_id=batch.id)
    assert b.status == "cancelling" and b.in_progress_at is None
    sim.clock.advance(DAY)
    b = retrieve(api, batch.id)
    assert b.status == "cancelled" and b.in_progress_at is None
    assert (b.output_file_id, b.error_file_id, b.request_counts.total) == (None, None, 0)


@pytest.mark.parametrize("status", ["completed", "failed"])
def test_cancel_a_finished_batch_is_409(api: Driver, status: str) -> None:
    data = jsonl(chat_line("a")) if status == "completed" else b"not json\n"
    b = run(api, data)
    assert b.status == status
    err = expect_error(api, openai.ConflictError, "batches.cancel", batch_id=b.id)
    assert err == {
        "message": f"Cannot cancel a batch with status '{status}'.",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }


def test_unknown_batch_is_404(api: Driver) -> None:
    for method in ("batches.retrieve", "batches.cancel"):
        err = expect_error(api, openai.NotFoundError, method, batch_id="batch_nope")
        assert err["message"] == "No batch found with id 'batch_nope'."


# -- list -------------------------------------------------------------------------------------------


def test_list_pages_newest_first(api: Driver, sim: FakeAI) -> None:
    empty = api("batches.list")
    check_batch_list(sim.calls.last.response.json)
    assert empty.data == [] and sim.calls.last.response.json["first_id"] is None

    file_id = upload(api, jsonl(chat_line("a")))
    ids = []
    for _ in range(5):
        ids.append(create(api, file_id).id)
        sim.clock.advance(1)
    page = api("batches.list", limit=2)
    body = sim.calls.last.response.json
    check_batch_list(body)
    assert [b.id for b in page.data] == ids[::-1][:2] and page.has_more
    assert (body["object"], body["first_id"], body["last_id"]) == ("list", ids[4], ids[3])
    rest = api("batches.list", limit=100, after=ids[3])
    check_batch_list(sim.calls.last.response.json)
    assert [b.id for b in rest.data] == ids[::-1][2:] and not rest.has_more
    assert [b.id for b in every_batch(api, limit=2)] == ids[::-1]
    # a listed batch is as up to date as a retrieved one
    assert {b.status for b in every_batch(api)} == {"completed", "finalizing", "in_progress", "validating"}


def test_list_errors(api: Driver) -> None:
    err = expect_error(api, openai.BadRequestError, "batches.list", limit=0)
    assert (err["param"], err["code"]) == ("limit", "integer_below_min_value")
    err = expect_error(api, openai.BadRequestError, "batches.list", limit=101)
    assert (err["param"], err["code"]) == ("limit", "integer_above_max_value")
    err = expect_error(api, openai.BadRequestError, "batches.list", after="batch_nope")
    assert (err["param"], err["code"]) == ("after", "invalid_value")


# -- validation of the input file: the batch fails with an ``errors`` list ---------------------------

_STREAM = chat_line("s", stream=True)
_CASES: list[tuple[str, bytes, list[tuple[str, str | None, int | None]]]] = [
    (
        "invalid_json",
        jsonl(chat_line("a")) + b"{not json\n" + b"\xff\xfe\n",
        [("invalid_json_line", None, 2), ("invalid_json_line", None, 3)],
    ),
    ("not_an_object", jsonl(chat_line("a"), [1, 2]), [("invalid_request", None, 2)]),
    (
        "missing_fields",
        jsonl(*({k: v for k, v in chat_line(f"{i}").items() if k != key} for i, key in enumerate(chat_line("x")))),
        [
            ("missing_required_parameter", "custom_id", 1),
            ("missing_required_parameter", "method", 2),
            ("missing_required_parameter", "url", 3),
            ("missing_required_parameter", "body", 4),
        ],
    ),
    (
        "wrong_types",
        jsonl({**chat_line("a"), "custom_id": 7}, {**chat_line("b"), "body": []}),
        [("invalid_type", "custom_id", 1), ("invalid_type", "body", 2)],
    ),
    ("method", jsonl({**chat_line("a"), "method": "GET"}), [("invalid_value", "method", 1)]),
    ("mismatched_url", jsonl(chat_line("a"), chat_line("b", url="/v1/embeddings")), [("invalid_url", "url", 2)]),
    ("duplicate", jsonl(chat_line("a"), chat_line("b"), chat_line("a")), [("duplicate_custom_id", "custom_id", 3)]),
    ("streaming", jsonl(chat_line("a"), _STREAM), [("streaming_unsupported", "body.stream", 2)]),
    (
        "missing_body_fields",
        jsonl({**chat_line("a"), "body": {"messages": []}}, {**chat_line("b"), "body": {"model": "gpt-4o"}}),
        [("invalid_request", "body.model", 1), ("invalid_request", "body.messages", 2)],
    ),
    (
        "mismatched_model",
        jsonl(chat_line("a"), chat_line("b", model="gpt-4o")),
        [("mismatched_model", "body.model", 2)],
    ),
    ("empty_file", b"\n  \n", [("empty_file", None, None)]),
]


@pytest.mark.parametrize(("data", "expected"), [c[1:] for c in _CASES], ids=[c[0] for c in _CASES])
def test_bad_input_fails_the_batch(
    api: Driver, sim: FakeAI, data: bytes, expected: list[tuple[str, str | None, int | None]]
) -> None:
    batch = create(api, upload(api, data))
    assert batch.status == "validating" and batch.errors is None
    sim.clock.advance(VALIDATING)
    b = retrieve(api, batch.id)
    assert b.status == "failed" and b.failed_at == b.created_at + int(VALIDATING)
    assert b.in_progress_at is None and b.output_file_id is None and b.error_file_id is None
    assert (b.request_counts.total, b.request_counts.completed, b.request_counts.failed) == (0, 0, 0)
    assert b.errors is not None and b.errors.object == "list"
    assert [(e.code, e.param, e.line) for e in b.errors.data] == expected
    assert all(e.message for e in b.errors.data)
    sim.clock.advance(DAY)
    assert retrieve(api, batch.id) == b


def test_error_messages(api: Driver) -> None:
    data = jsonl(chat_line("a"), chat_line("a"), chat_line("b", url="/v1/completions"), _STREAM) + b"{\n"
    b = run(api, data)
    assert [e.message for e in b.errors.data] == [
        "The custom_id 'a' for this request is a duplicate of another request. "
        "The custom_id parameter must be unique for each request in a batch.",
        "The URL provided for this request does not match the batch endpoint.",
        "Chat Completions: Streaming is not supported in the Batch API.",
        "This line is not parseable as valid JSON.",
    ]


def test_unknown_or_wrong_file(api: Driver, sim: FakeAI) -> None:
    batch = create(api, "file-doesnotexist")
    sim.clock.advance(VALIDATING)
    b = retrieve(api, batch.id)
    assert b.status == "failed"
    (err,) = b.errors.data
    assert (err.code, err.param, err.line) == ("invalid_request", "file_id", None)
    assert err.message == "Cannot find file file-doesnotexist, or organization org-fakeai does not have access to it."

    batch = create(api, upload(api, jsonl(chat_line("a")), purpose="user_data"))
    sim.clock.advance(VALIDATING)
    (err,) = retrieve(api, batch.id).errors.data
    assert (err.code, err.param) == ("invalid_request", "input_file_id") and "purpose 'batch'" in err.message


def test_too_many_requests(api: Driver) -> None:
    b = run(api, b'{"custom_id": "x"}\n' * 50_001)
    (err,) = b.errors.data
    assert (err.code, err.line) == ("too_many_tasks", None) and "50,000" in err.message


def test_strict_models_reject_unknown_models() -> None:
    with FakeAI(seed=3, strict_models=True) as sim:
        client = sim.client()
        f = client.files.create(file=("in.jsonl", jsonl(chat_line("a", model="gpt-nope"))), purpose="batch")
        batch = client.batches.create(input_file_id=f.id, endpoint=CHAT, completion_window="24h")
        sim.clock.advance(DAY)
        (err,) = client.batches.retrieve(batch.id).errors.data
        assert (err.code, err.param, err.line) == ("model_not_found", "body.model", 1)
        assert err.message == "The provided model 'gpt-nope' is not supported by the Batch API."


# -- create: OpenAI's 400 for bad parameters ----------------------------------------------------------


def test_create_errors(api: Driver) -> None:
    file_id = upload(api, jsonl(chat_line("a")))
    served = ", ".join(f"'{e}'" for e in served_endpoints()[:-1]) + f", and '{served_endpoints()[-1]}'"

    def bad(**kw: Any) -> dict[str, Any]:
        params = {"input_file_id": file_id, "endpoint": CHAT, "completion_window": "24h", **kw}
        return expect_error(api, openai.BadRequestError, "batches.create", **params)

    unserved = [e for e in BATCH_ENDPOINTS if e not in served_endpoints()]  # OpenAI's, not the simulator's
    for endpoint in ("/v1/nope", "/v1/chat/completions/", "/v1/batches", *unserved):
        err = bad(endpoint=endpoint)
        assert err == {
            "message": f"Invalid value: '{endpoint}'. Supported values are: {served}.",
            "type": "invalid_request_error",
            "param": "endpoint",
            "code": "invalid_value",
        }
    for window in ("1h", "48h", ""):
        err = bad(completion_window=window)
        assert (err["param"], err["code"]) == ("completion_window", "invalid_value")
        assert err["message"] == f"Invalid value: '{window}'. Supported values are: '24h'."
    err = bad(metadata={"tags": ["a", "b"]})
    assert err["message"] == "Invalid type for 'metadata.tags': expected a string, but got an array instead."
    assert (err["param"], err["code"]) == ("metadata.tags", "invalid_type")
    err = bad(metadata={f"k{i}": "v" for i in range(17)})
    assert (err["param"], err["code"]) == ("metadata", "object_above_max_properties")
    err = bad(metadata={"k": "v" * 513})
    assert (err["param"], err["code"]) == ("metadata.k", "string_above_max_length")
    assert err["message"] == (
        "Invalid 'metadata.k': string too long. Expected a string with maximum length 512, "
        "but got a string with length 513 instead."
    )
    err = bad(metadata={"k" * 65: "v"})
    assert (err["param"], err["code"]) == ("metadata", "string_above_max_length")
    err = bad(output_expires_after={"anchor": "created_at", "seconds": 60})
    assert (err["param"], err["code"]) == ("output_expires_after.seconds", "integer_below_min_value")
    err = bad(output_expires_after={"anchor": "last_active_at", "seconds": 3600})
    assert (err["param"], err["code"]) == ("output_expires_after.anchor", "invalid_value")
    err = bad(extra_body={"priority": "high"})
    assert (err["param"], err["code"]) == ("priority", "unknown_parameter")
    err = expect_error(
        api, openai.BadRequestError, "batches.create", endpoint=CHAT, completion_window="24h", input_file_id=None
    )
    assert (err["param"], err["code"]) == ("input_file_id", "invalid_type")


def test_served_endpoints() -> None:
    served = served_endpoints()
    assert {"/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/moderations"} <= set(served)
    assert set(served) <= set(BATCH_ENDPOINTS) and list(served) == sorted(served)
    router = default_router()
    for endpoint in BATCH_ENDPOINTS:
        handled = True
        try:
            router.resolve("POST", endpoint)
        except ApiError:
            handled = False
        assert handled == (endpoint in served)


# -- determinism, the real clock, never a 500 ----------------------------------------------------------


def _outputs(seed: int) -> tuple[str, bytes, bytes]:
    with FakeAI(seed=seed) as sim:
        client = sim.client()
        f = client.files.create(file=("in.jsonl", jsonl(*(chat_line(f"r{i}") for i in range(3)))), purpose="batch")
        batch = client.batches.create(input_file_id=f.id, endpoint=CHAT, completion_window="24h")
        sim.clock.advance(60)
        done = client.batches.retrieve(batch.id)
        assert done.output_file_id is not None
        return done.id, client.files.content(done.output_file_id).content, sim.calls.last.response.body


def test_same_seed_same_batch() -> None:
    first, second = _outputs(11), _outputs(11)
    assert first == second
    assert _outputs(12)[1] != first[1]


def test_real_clock_progresses() -> None:
    import time

    with FakeAI(seed=5, clock="real", speed=1000.0) as sim:  # 1 real ms = 1 simulated second
        client = sim.client()
        f = client.files.create(file=("in.jsonl", jsonl(chat_line("a"))), purpose="batch")
        batch = client.batches.create(input_file_id=f.id, endpoint=CHAT, completion_window="24h")
        deadline = time.monotonic() + 5
        while client.batches.retrieve(batch.id).status != "completed":
            assert time.monotonic() < deadline, "the batch did not complete on the real clock"
            time.sleep(0.002)


_line = st.one_of(
    st.binary(max_size=40),
    st.just(json.dumps(chat_line("a")).encode()),
    st.builds(
        lambda cid, url, method, body: json.dumps(
            {"custom_id": cid, "method": method, "url": url, "body": body}
        ).encode(),
        st.text(max_size=5),
        st.sampled_from([CHAT, "/v1/embeddings", ""]),
        st.sampled_from(["POST", "GET"]),
        st.one_of(
            st.dictionaries(st.sampled_from(["model", "messages", "stream", "max_tokens"]), st.none() | st.integers()),
            st.just(chat_line("z")["body"]),
        ),
    ),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(_line, max_size=6))
def test_any_file_gives_a_batch_never_a_500(lines: list[bytes]) -> None:
    with FakeAI(seed=1) as sim:
        client = sim.client()
        f = client.files.create(file=("in.jsonl", b"\n".join(lines) or b"\n"), purpose="batch")
        batch = client.batches.create(input_file_id=f.id, endpoint=CHAT, completion_window="24h")
        sim.clock.advance(DAY)
        done = client.batches.retrieve(batch.id)
        check_batch(sim.calls.last.response.json)
        assert done.status in ("failed", "completed")
        assert all(call.response.status < 500 for call in sim.calls)
        for file_id in (done.output_file_id, done.error_file_id):
            if file_id is not None:
                for line in client.files.content(file_id).content.decode().splitlines():
                    assert check_batch_output_line(line)["response"]["status_code"] < 500


# -- the store, the docs -----------------------------------------------------------------------------


def test_store_is_per_simulator(sim: FakeAI) -> None:
    other = FakeAI(seed=1234)
    assert batch_store(sim.engine) is batch_store(sim.engine)
    assert batch_store(sim.engine) is not batch_store(other.engine)
    with pytest.raises(ValueError, match="per_request"):
        BatchTiming(per_request=-1)
    assert len(file_store(sim.engine)) == 0


def test_docs_examples_run() -> None:
    page = Path(__file__).resolve().parents[2] / "docs" / "batches.md"
    blocks = re.findall(r"```python\n(.*?)```", page.read_text(), re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, str(page), "exec"), {})
