"""The Uploads API through the real openai SDK: create, add parts, complete into a File, cancel, expire."""

from __future__ import annotations

import asyncio
import hashlib
import re
from typing import Any

import openai
import pytest

from pytest_fakeai import FakeAI
from pytest_fakeai.api.types import ApiRequest
from pytest_fakeai.engine.files import file_store
from tests._support.drive import Driver
from tests._support.spec import check_error, check_file, check_upload, check_upload_part

UPLOAD_ID = re.compile(r"^upload_[0-9a-f]{32}$")
PART_ID = re.compile(r"^part_[0-9a-f]{32}$")
DATA = b"".join(b'{"custom_id": "%d", "method": "POST", "url": "/v1/chat/completions"}\n' % i for i in range(40))


def start(api: Driver, size: int = len(DATA), **kwargs: Any) -> Any:
    kwargs = {"filename": "requests.jsonl", "purpose": "batch", "mime_type": "application/jsonl", **kwargs}
    return api("uploads.create", bytes=size, **kwargs)


def add(api: Driver, upload_id: str, data: bytes) -> Any:
    return api("uploads.parts.create", upload_id=upload_id, data=data)


def expect_error(api: Driver, exc: type[openai.APIStatusError], method: str, /, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(exc):
        api(method, **kwargs)
    body: dict[str, Any] = api.sim.calls.last.response.json
    check_error(body)
    return dict(body["error"])


def test_create_add_parts_complete(api: Driver, sim: FakeAI) -> None:
    upload = start(api)
    check_upload(sim.calls.last.response.json)
    assert "file" not in sim.calls.last.response.json
    assert UPLOAD_ID.match(upload.id)
    assert (upload.object, upload.status, upload.bytes, upload.filename, upload.purpose) == (
        "upload",
        "pending",
        len(DATA),
        "requests.jsonl",
        "batch",
    )
    assert upload.created_at == int(sim.clock.now()) and upload.expires_at == upload.created_at + 3600

    pieces = [DATA[:1000], DATA[1000:2000], DATA[2000:]]
    parts = []
    for piece in reversed(pieces):  # parts may arrive in any order; part_ids decides
        part = add(api, upload.id, piece)
        check_upload_part(sim.calls.last.response.json)
        assert PART_ID.match(part.id)
        assert (part.object, part.upload_id, part.created_at) == ("upload.part", upload.id, upload.created_at)
        parts.insert(0, part.id)

    sim.clock.advance(30)
    done = api("uploads.complete", upload_id=upload.id, part_ids=parts, md5=hashlib.md5(DATA).hexdigest())
    check_upload(sim.calls.last.response.json)
    assert done.status == "completed" and done.id == upload.id and done.file is not None
    f = done.file
    assert (f.bytes, f.filename, f.purpose, f.status) == (len(DATA), "requests.jsonl", "batch", "processed")
    assert f.created_at == upload.created_at + 30 and f.expires_at == f.created_at + 30 * 24 * 3600

    assert api("files.retrieve", file_id=f.id) == f
    assert api("files.content", file_id=f.id).content == DATA
    assert api.raw("files.content", file_id=f.id).headers["content-type"] == "application/jsonl"
    assert [x.id for x in api("files.list").data] == [f.id]


def test_upload_file_chunked_helper(api: Driver, sim: FakeAI, tmp_path: Any) -> None:
    path = tmp_path / "corpus.txt"
    data = bytes(range(256)) * 13
    path.write_bytes(data)
    for kwargs in (
        {"file": data, "filename": "corpus.txt", "bytes": len(data)},
        {"file": path},
    ):
        upload = api(
            "uploads.upload_file_chunked", mime_type="text/plain", purpose="assistants", part_size=1000, **kwargs
        )
        check_upload(sim.calls.last.response.json)
        assert upload.status == "completed" and upload.file is not None and upload.file.filename == "corpus.txt"
        assert api("files.content", file_id=upload.file.id).content == data
    parts = [c for c in sim.calls if c.request.path.endswith("/parts")]
    assert len(parts) == 2 * 4  # 3328 bytes in parts of 1000


def test_single_part_keeps_the_very_bytes(sim: FakeAI) -> None:
    client = sim.client()
    upload = client.uploads.create(bytes=5, filename="a.txt", mime_type="text/plain", purpose="user_data")
    part = client.uploads.parts.create(upload_id=upload.id, data=b"hello")
    done = client.uploads.complete(upload_id=upload.id, part_ids=[part.id])
    assert done.file is not None
    stored = file_store(sim.engine).get(done.file.id)
    assert stored is not None and stored.data == b"hello" and stored.mime_type == "text/plain"
    assert file_store(sim.engine).get_upload(upload.id).parts == {}  # type: ignore[union-attr]  # bytes moved to the file


def test_expires_after_passes_to_the_file(api: Driver, sim: FakeAI) -> None:
    upload = start(
        api, 3, filename="a.txt", purpose="assistants", expires_after={"anchor": "created_at", "seconds": 3600}
    )
    part = add(api, upload.id, b"abc")
    done = api("uploads.complete", upload_id=upload.id, part_ids=[part.id])
    check_upload(sim.calls.last.response.json)
    assert done.file.expires_at == done.file.created_at + 3600


def test_cancel(api: Driver, sim: FakeAI) -> None:
    upload = start(api)
    part = add(api, upload.id, DATA)
    cancelled = api("uploads.cancel", upload_id=upload.id)
    check_upload(sim.calls.last.response.json)
    assert cancelled.status == "cancelled" and cancelled.file is None
    for method, kwargs, fragment in [
        ("uploads.parts.create", {"data": b"x"}, "Cannot add parts to Upload"),
        ("uploads.complete", {"part_ids": [part.id]}, "Cannot complete Upload"),
        ("uploads.cancel", {}, "Cannot cancel Upload"),
    ]:
        err = expect_error(api, openai.BadRequestError, method, upload_id=upload.id, **kwargs)
        assert fragment in err["message"] and "its status is 'cancelled'" in err["message"]
    assert api("files.list").data == []


def test_completed_upload_takes_nothing_more(api: Driver) -> None:
    upload = start(api, 3, filename="a.txt", purpose="assistants")
    part = add(api, upload.id, b"abc")
    api("uploads.complete", upload_id=upload.id, part_ids=[part.id])
    err = expect_error(api, openai.BadRequestError, "uploads.parts.create", upload_id=upload.id, data=b"x")
    assert "its status is 'completed'. No Parts may be added after an Upload is completed." in err["message"]
    err = expect_error(api, openai.BadRequestError, "uploads.complete", upload_id=upload.id, part_ids=[part.id])
    assert "its status is 'completed'" in err["message"]
    expect_error(api, openai.BadRequestError, "uploads.cancel", upload_id=upload.id)


def test_expires_after_an_hour(api: Driver, sim: FakeAI) -> None:
    upload = start(api, 3, filename="a.txt", purpose="assistants")
    part = add(api, upload.id, b"abc")
    sim.clock.advance(3599)
    add(api, upload.id, b"")  # still pending a second before the hour
    sim.clock.advance(1)
    err = expect_error(api, openai.BadRequestError, "uploads.parts.create", upload_id=upload.id, data=b"x")
    assert err["message"] == (
        f"Cannot add parts to Upload {upload.id}: its status is 'expired'. An Upload expires an hour after it is "
        "created; create a new Upload and send the parts again."
    )
    err = expect_error(api, openai.BadRequestError, "uploads.complete", upload_id=upload.id, part_ids=[part.id])
    assert "its status is 'expired'" in err["message"]


def test_unknown_upload(api: Driver) -> None:
    for method, kwargs in [
        ("uploads.parts.create", {"data": b"x"}),
        ("uploads.complete", {"part_ids": []}),
        ("uploads.cancel", {}),
    ]:
        err = expect_error(api, openai.NotFoundError, method, upload_id="upload_nope", **kwargs)
        assert err == {
            "message": "No such Upload object: upload_nope",
            "type": "invalid_request_error",
            "param": "id",
            "code": None,
        }


def test_complete_errors(api: Driver) -> None:
    upload = start(api, 6, filename="a.txt", purpose="assistants")
    one = add(api, upload.id, b"abc")
    two = add(api, upload.id, b"def")
    other = start(api, 3, filename="b.txt", purpose="assistants")
    foreign = add(api, other.id, b"xyz")

    err = expect_error(api, openai.BadRequestError, "uploads.complete", upload_id=upload.id, part_ids=[one.id])
    assert err["param"] == "part_ids"
    assert err["message"].startswith(
        "The number of bytes uploaded in the listed Parts (3) does not match the number of bytes specified when "
        "the Upload was created (6)."
    )
    err = expect_error(api, openai.BadRequestError, "uploads.complete", upload_id=upload.id, part_ids=[one.id, one.id])
    assert (err["param"], err["code"]) == ("part_ids[1]", "invalid_value") and "more than once" in err["message"]
    err = expect_error(
        api, openai.BadRequestError, "uploads.complete", upload_id=upload.id, part_ids=[one.id, foreign.id]
    )
    assert err["param"] == "part_ids[1]" and f"'{foreign.id}' is not a Part of Upload {upload.id}" in err["message"]
    err = expect_error(
        api, openai.BadRequestError, "uploads.complete", upload_id=upload.id, part_ids=[one.id, two.id], md5="0" * 32
    )
    assert (err["param"], err["code"]) == ("md5", "invalid_value")
    assert hashlib.md5(b"abcdef").hexdigest() in err["message"]
    err = expect_error(
        api, openai.BadRequestError, "uploads.complete", upload_id=upload.id, part_ids=[], extra_body={"part_ids": "x"}
    )
    assert (err["param"], err["code"]) == ("part_ids", "invalid_type")

    done = api(
        "uploads.complete", upload_id=upload.id, part_ids=[two.id, one.id], md5=hashlib.md5(b"defabc").hexdigest()
    )
    assert api("files.content", file_id=done.file.id).content == b"defabc"


@pytest.mark.parametrize(
    ("kwargs", "param", "code", "message"),
    [
        (
            {"bytes": 8 * 1024**3 + 1},
            "bytes",
            "integer_above_max_value",
            "Expected a value <= 8589934592, but got 8589934593 instead",
        ),
        ({"bytes": 0}, "bytes", "integer_below_min_value", "Expected a value >= 1"),
        ({"purpose": "answers"}, "purpose", "invalid_value", "Invalid value: 'answers'. Supported values are:"),
        ({"filename": "requests.csv"}, None, None, "Invalid file format for Batch API. Must be .jsonl"),
        ({"bytes": 200 * 1024**2 + 1}, "bytes", None, "File is too large for the Batch API"),
        ({"extra_body": {"mime_type": None}}, "mime_type", "invalid_type", "expected a string"),
        ({"extra_body": {"name": "x"}}, "name", "unknown_parameter", "Unrecognized request argument supplied: name"),
        (
            {"expires_after": {"anchor": "created_at", "seconds": 10}},
            "expires_after.seconds",
            "integer_below_min_value",
            "Expected a value >= 3600",
        ),
    ],
)
def test_create_errors(api: Driver, kwargs: dict[str, Any], param: str | None, code: str | None, message: str) -> None:
    kwargs = dict(kwargs)  # the parameters are shared by every stack and mode
    size = kwargs.pop("bytes", len(DATA))
    err = expect_error(api, openai.BadRequestError, "uploads.create", **{"bytes": size, **_defaults(kwargs)})
    assert (err["type"], err["param"], err["code"]) == ("invalid_request_error", param, code)
    assert message in err["message"]


def _defaults(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {"filename": "requests.jsonl", "purpose": "batch", "mime_type": "application/jsonl", **kwargs}


def test_missing_fields(sim: FakeAI) -> None:
    response = sim.handle(
        ApiRequest("POST", "/v1/uploads", headers={"content-type": "application/json"}, body=b'{"filename": "a.txt"}')
    )
    assert response.status == 400
    check_error(response.body)
    assert response.json["error"]["code"] == "missing_required_parameter"


def test_part_limits(api: Driver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("pytest_fakeai.engine.files.MAX_PART_BYTES", 4)
    monkeypatch.setattr("pytest_fakeai.engine.files.MAX_UPLOAD_BYTES", 10)
    upload = start(api, 10, filename="a.txt", purpose="assistants")
    add(api, upload.id, b"1234")
    err = expect_error(api, openai.BadRequestError, "uploads.parts.create", upload_id=upload.id, data=b"12345")
    assert err["param"] == "data" and err["message"].startswith(
        "Part is too large: 5 bytes. Each Part can be at most 4"
    )
    add(api, upload.id, b"1234")
    err = expect_error(api, openai.BadRequestError, "uploads.parts.create", upload_id=upload.id, data=b"123")
    assert err["param"] == "data" and "to 11 bytes, over the maximum of 10 bytes" in err["message"]


def test_part_needs_data(sim: FakeAI) -> None:
    client = sim.client()
    upload = client.uploads.create(bytes=3, filename="a.txt", mime_type="text/plain", purpose="assistants")
    with pytest.raises(openai.BadRequestError):
        client.uploads.parts.create(upload_id=upload.id, data=b"abc", extra_body={"extra": "x"})
    check_error(sim.calls.last.response.json)
    assert sim.calls.last.response.json["error"]["code"] == "unknown_parameter"
    response = sim.handle(
        ApiRequest("POST", f"/v1/uploads/{upload.id}/parts", headers={"content-type": "application/json"}, body=b"{}")
    )
    assert response.status == 400 and "expected multipart/form-data" in response.json["error"]["message"]


def test_async_helper_and_check_file(sim: FakeAI) -> None:
    async def run() -> Any:
        client = sim.async_client()
        return await client.uploads.upload_file_chunked(
            file=DATA,
            filename="x.jsonl",
            bytes=len(DATA),
            mime_type="application/jsonl",
            purpose="batch",
            part_size=999,
        )

    upload = asyncio.run(run())
    check_file(upload.file.model_dump(mode="json"))
    assert file_store(sim.engine).get(upload.file.id).data == DATA  # type: ignore[union-attr]
