"""The Files API through the real openai SDK: upload, list (and auto-paginate), retrieve, download, delete."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import openai
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_fakeai import FakeAI
from pytest_fakeai.api.types import ApiRequest, ApiResponse
from pytest_fakeai.engine.files import file_store
from tests._support.drive import Driver
from tests._support.drive import http as httpx
from tests._support.spec import check_error, check_file, check_file_deleted, check_file_list

FILE_ID = re.compile(r"^file-[A-Za-z0-9]{22}$")
DAY = 24 * 3600


def create(
    api: Driver, name: str = "notes.txt", data: bytes = b"hello files", purpose: str = "assistants", **kw: Any
) -> Any:
    return api("files.create", file=(name, data), purpose=purpose, **kw)


def content(api: Driver, file_id: str) -> bytes:
    data: bytes = api("files.content", file_id=file_id).content
    return data


def every_file(api: Driver, **kwargs: Any) -> list[Any]:
    """What ``for f in client.files.list(...)`` yields: the SDK's own auto-pagination, sync or async."""
    if api.mode == "sync":
        return list(api.client.files.list(**kwargs))

    async def run() -> list[Any]:
        return [f async for f in api.client.files.list(**kwargs)]

    return asyncio.run(run())


def expect_error(api: Driver, exc: type[openai.APIStatusError], method: str, /, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(exc):
        api(method, **kwargs)
    body: dict[str, Any] = api.sim.calls.last.response.json
    check_error(body)
    return dict(body["error"])


def form_request(data: dict[str, Any] | None = None, files: Any = None, **headers: str) -> ApiRequest:
    """A multipart POST /v1/files encoded by httpx, as the SDK would send it."""
    request = httpx.Request("POST", "http://fakeai.test/v1/files", data=data, files=files)
    body = request.read()
    return ApiRequest(
        "POST", "/v1/files", headers={"content-type": request.headers["content-type"], **headers}, body=body
    )


def error_of(response: ApiResponse) -> dict[str, Any]:
    body: dict[str, Any] = __import__("json").loads(response.body)
    check_error(body)
    return dict(body["error"])


# -- the happy path ---------------------------------------------------------------------------------


def test_create_retrieve_download_delete(api: Driver, sim: FakeAI) -> None:
    data = b'{"custom_id": "1", "method": "POST", "url": "/v1/chat/completions", "body": {}}\n'
    f = create(api, "requests.jsonl", data, "batch")
    check_file(sim.calls.last.response.json)
    assert FILE_ID.match(f.id)
    assert (f.object, f.bytes, f.filename, f.purpose, f.status) == (
        "file",
        len(data),
        "requests.jsonl",
        "batch",
        "processed",
    )
    assert f.created_at == int(sim.clock.now())
    assert f.expires_at == f.created_at + 30 * DAY  # batch files expire after 30 days by default

    got = api("files.retrieve", file_id=f.id)
    check_file(sim.calls.last.response.json)
    assert got == f

    assert content(api, f.id) == data
    raw = api.raw("files.content", file_id=f.id)
    assert raw.headers["content-type"] == "application/jsonl"

    deleted = api("files.delete", file_id=f.id)
    check_file_deleted(sim.calls.last.response.json)
    assert (deleted.id, deleted.object, deleted.deleted) == (f.id, "file", True)

    for method in ("files.retrieve", "files.content", "files.delete"):
        err = expect_error(api, openai.NotFoundError, method, file_id=f.id)
        assert err == {
            "message": f"No such File object: {f.id}",
            "type": "invalid_request_error",
            "param": "id",
            "code": None,
        }


def test_bytes_are_kept_as_given(api: Driver, sim: FakeAI) -> None:
    data = bytes(range(256)) * 40 + b"\r\n--not-a-boundary\r\n"
    f = create(api, "blob.bin", data, "user_data")
    assert content(api, f.id) == data
    assert api.raw("files.content", file_id=f.id).headers["content-type"] == "application/octet-stream"
    assert f.expires_at is None  # only batch files expire by default
    stored = file_store(sim.engine).get(f.id)
    assert stored is not None and stored.data == data


def test_file_names_round_trip(api: Driver, tmp_path: Any) -> None:
    assert create(api, "résumé ✓ 2026.txt").filename == "résumé ✓ 2026.txt"
    path = tmp_path / "from disk.jsonl"
    path.write_bytes(b"{}\n")
    with path.open("rb") as fh:
        f = api("files.create", file=fh, purpose="batch")
    assert f.filename == "from disk.jsonl" and content(api, f.id) == b"{}\n"


@pytest.mark.parametrize("purpose", ["assistants", "vision", "user_data", "fine-tune"])
def test_each_purpose(api: Driver, sim: FakeAI, purpose: str) -> None:
    f = create(api, "train.jsonl", b'{"messages": []}\n', purpose)
    check_file(sim.calls.last.response.json)
    assert f.purpose == purpose


def test_evals_purpose(api: Driver, sim: FakeAI) -> None:
    # The request spec allows purpose "evals", but the File object's enum (spec and SDK) lacks it:
    # the file reports the purpose it was created with, which the SDK keeps (it does not validate).
    f = create(api, "evals.jsonl", b'{"item": {}}\n', "evals")
    assert f.purpose == "evals"
    assert sim.calls.last.response.json["purpose"] == "evals"


def test_expires_after(api: Driver, sim: FakeAI) -> None:
    f = create(api, expires_after={"anchor": "created_at", "seconds": 7200})
    check_file(sim.calls.last.response.json)
    assert f.expires_at == f.created_at + 7200
    sim.clock.advance(7199)
    assert api("files.retrieve", file_id=f.id).id == f.id
    sim.clock.advance(1)
    expect_error(api, openai.NotFoundError, "files.retrieve", file_id=f.id)  # an expired file is gone
    assert [x.id for x in every_file(api)] == []


def test_ids_and_times_are_deterministic() -> None:
    def run() -> list[tuple[str, int]]:
        with FakeAI(seed=7) as sim:
            client = sim.client()
            out = []
            for i in range(3):
                f = client.files.create(file=(f"{i}.txt", b"x"), purpose="assistants")
                out.append((f.id, f.created_at))
                sim.clock.advance(90)
            return out

    first = run()
    assert first == run()
    assert [t for _, t in first] == [first[0][1], first[0][1] + 90, first[0][1] + 180]
    with FakeAI(seed=8) as other:
        assert other.client().files.create(file=("0.txt", b"x"), purpose="assistants").id != first[0][0]


# -- listing --------------------------------------------------------------------------------------------


def test_list_order_limit_purpose_and_cursors(api: Driver, sim: FakeAI) -> None:
    empty = api("files.list")
    check_file_list(sim.calls.last.response.json)
    assert sim.calls.last.response.json == {
        "object": "list",
        "data": [],
        "first_id": None,
        "last_id": None,
        "has_more": False,
    }
    assert empty.data == []

    ids = []
    for i in range(5):
        ids.append(create(api, f"{i}.jsonl", b"{}\n", "batch" if i % 2 else "assistants").id)
        sim.clock.advance(1)

    page = api("files.list")
    body = sim.calls.last.response.json
    check_file_list(body)
    assert [f.id for f in page.data] == ids[::-1]  # newest first by default
    assert (body["first_id"], body["last_id"], body["has_more"]) == (ids[-1], ids[0], False)

    page = api("files.list", limit=2, order="asc")
    body = sim.calls.last.response.json
    check_file_list(body)
    assert [f.id for f in page.data] == ids[:2] and body["has_more"] is True
    assert (body["first_id"], body["last_id"]) == (ids[0], ids[1])

    api("files.list", limit=2, order="asc", after=ids[1])
    body = sim.calls.last.response.json
    assert [f["id"] for f in body["data"]] == ids[2:4] and body["has_more"] is True
    api("files.list", limit=2, order="asc", after=ids[3])
    body = sim.calls.last.response.json
    assert [f["id"] for f in body["data"]] == ids[4:] and body["has_more"] is False

    api("files.list", purpose="batch")
    body = sim.calls.last.response.json
    check_file_list(body)
    assert [f["id"] for f in body["data"]] == [ids[3], ids[1]]
    api("files.list", purpose="vision")
    assert sim.calls.last.response.json["data"] == []

    api("files.list", limit=1, after=ids[4], purpose="batch")  # the cursor need not match the filter
    assert [f["id"] for f in sim.calls.last.response.json["data"]] == [ids[3]]


@pytest.mark.parametrize("order", ["desc", "asc"])
def test_auto_pagination_yields_every_file_once_in_order(api: Driver, sim: FakeAI, order: str) -> None:
    ids = [create(api, f"{i}.txt", b"x").id for i in range(7)]  # all in the same second
    listed = [f.id for f in every_file(api, limit=2, order=order)]
    assert listed == (ids if order == "asc" else ids[::-1])
    pages = [c for c in sim.calls if c.request.method == "GET" and c.request.path == "/v1/files"]
    assert len(pages) == 4  # 2 + 2 + 2 + 1, the last with has_more false
    for call in pages:
        check_file_list(call.response.json)


def test_cursor_survives_deletion(api: Driver) -> None:
    ids = [create(api, f"{i}.txt", b"x").id for i in range(4)]
    page = api("files.list", limit=2, order="asc")
    api("files.delete", file_id=page.data[-1].id)
    rest = api("files.list", order="asc", after=page.data[-1].id)
    assert [f.id for f in rest.data] == ids[2:]


def test_a_large_list_defaults_to_10000(api: Driver, sim: FakeAI) -> None:
    store = file_store(sim.engine)
    for i in range(10_001):
        store.create(filename=f"{i}.txt", purpose="assistants", data=b"x")
    api("files.list")
    body = sim.calls.last.response.json
    assert len(body["data"]) == 10_000 and body["has_more"] is True


# -- errors ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "status", "param", "code", "message"),
    [
        ({"limit": 0}, 400, "limit", "integer_below_min_value", "Expected a value >= 1, but got 0 instead"),
        ({"limit": 10_001}, 400, "limit", "integer_above_max_value", "Expected a value <= 10000"),
        ({"order": "newest"}, 400, "order", "invalid_value", "Supported values are: 'asc' and 'desc'"),
        ({"after": "file-doesnotexist"}, 400, "after", "invalid_value", "Pass the last_id of the previous page"),
        ({"extra_query": {"limit": "ten"}}, 400, "limit", "invalid_type", "expected an integer"),
    ],
)
def test_list_errors(api: Driver, kwargs: dict[str, Any], status: int, param: str, code: str, message: str) -> None:
    err = expect_error(api, openai.BadRequestError, "files.list", **kwargs)
    assert (err["type"], err["param"], err["code"]) == ("invalid_request_error", param, code)
    assert message in err["message"]


@pytest.mark.parametrize(
    ("kwargs", "param", "code", "message"),
    [
        (
            {"purpose": "answers"},
            "purpose",
            "invalid_value",
            "Invalid value: 'answers'. Supported values are: 'assistants', 'batch', 'fine-tune', 'vision', "
            "'user_data', and 'evals'.",
        ),
        (
            {"purpose": "batch", "file": ("requests.json", b"{}")},
            None,
            None,
            "Invalid file format for Batch API. Must be .jsonl",
        ),
        (
            {"purpose": "fine-tune", "file": ("train.csv", b"a,b")},
            None,
            None,
            "Invalid file format for Fine-Tuning API",
        ),
        ({"file": ("empty.txt", b"")}, "file", None, "The file 'empty.txt' is empty (0 bytes)"),
        (
            {"expires_after": {"anchor": "created_at", "seconds": 60}},
            "expires_after.seconds",
            "integer_below_min_value",
            "Expected a value >= 3600, but got 60 instead",
        ),
        (
            {"expires_after": {"anchor": "created_at", "seconds": 2_592_001}},
            "expires_after.seconds",
            "integer_above_max_value",
            "Expected a value <= 2592000",
        ),
        (
            {"expires_after": {"anchor": "last_active_at", "seconds": 3600}},
            "expires_after.anchor",
            "invalid_value",
            "Supported values are: 'created_at'",
        ),
        (
            {"expires_after": {"anchor": "created_at", "seconds": "soon"}},
            "expires_after.seconds",
            "invalid_type",
            "expected an integer",
        ),
        ({"expires_after": {"seconds": 3600}}, "expires_after.anchor", "missing_required_parameter", "anchor"),
        ({"extra_body": {"filename": "x"}}, "filename", "unknown_parameter", "Unrecognized request argument"),
    ],
)
def test_create_errors(api: Driver, kwargs: dict[str, Any], param: str | None, code: str | None, message: str) -> None:
    kwargs = {"file": ("notes.txt", b"hello"), "purpose": "assistants", **kwargs}
    err = expect_error(api, openai.BadRequestError, "files.create", **kwargs)
    assert (err["type"], err["param"], err["code"]) == ("invalid_request_error", param, code)
    assert message in err["message"]


def test_size_limits(api: Driver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("pytest_fakeai.engine.files.MAX_FILE_BYTES", 16)
    monkeypatch.setattr("pytest_fakeai.engine.files.MAX_BATCH_FILE_BYTES", 8)
    assert create(api, data=b"x" * 16).bytes == 16
    err = expect_error(api, openai.BadRequestError, "files.create", file=("big.txt", b"x" * 17), purpose="assistants")
    assert err["param"] == "file"
    assert err["message"].startswith("File is too large: 17 bytes. Files can be at most 16 bytes")
    assert "Uploads API" in err["message"]
    err = expect_error(api, openai.BadRequestError, "files.create", file=("b.jsonl", b"x" * 9), purpose="batch")
    assert err["message"].startswith("File is too large for the Batch API: 9 bytes")
    # far beyond the limit, the body itself is refused before it is parsed
    with pytest.raises(openai.APIStatusError) as info:
        create(api, data=b"x" * (2 << 20))
    assert info.value.status_code == 413
    check_error(api.sim.calls.last.response.json)


def test_default_limit_constants() -> None:
    from pytest_fakeai.engine import files

    assert files.MAX_FILE_BYTES == 512 * 1024 * 1024
    assert files.MAX_BATCH_FILE_BYTES == 200 * 1024 * 1024


@pytest.mark.parametrize(
    ("request_", "param", "code", "message"),
    [
        (
            form_request({"purpose": "batch"}, {"image": ("a.png", b"1")}),
            "file",
            "missing_required_parameter",
            "Missing required parameter: 'file'.",
        ),
        (
            form_request({"file": "text, not a file", "purpose": "batch"}, {"x": ("a", b"1")}),
            "file",
            "invalid_type",
            "expected a file",
        ),
        (
            form_request(None, {"file": ("a.txt", b"hi")}),
            "purpose",
            "missing_required_parameter",
            "Missing required parameter: 'purpose'.",
        ),
        (
            ApiRequest("POST", "/v1/files", headers={"content-type": "application/json"}, body=b'{"purpose": "batch"}'),
            None,
            None,
            "Invalid Content-Type header (application/json), expected multipart/form-data.",
        ),
        (
            ApiRequest("POST", "/v1/files", headers={"content-type": "multipart/form-data"}, body=b"--x--"),
            None,
            None,
            "'boundary'",
        ),
        (
            ApiRequest(
                "POST", "/v1/files", headers={"content-type": "multipart/form-data; boundary=x"}, body=b"--x\r\n"
            ),
            None,
            None,
            "Could not parse the multipart form data",
        ),
    ],
    ids=["no file", "file as text", "no purpose", "json body", "no boundary", "truncated"],
)
def test_malformed_requests(
    sim: FakeAI, request_: ApiRequest, param: str | None, code: str | None, message: str
) -> None:
    response = sim.handle(request_)
    assert response.status == 400
    err = error_of(response)
    assert (err["type"], err["param"], err["code"]) == ("invalid_request_error", param, code)
    assert message in err["message"]


# Bodies that are anything but a well-formed form: never a 500, always OpenAI's error shape.
_BOUNDARY = "fakeaiboundary"
_GOOD = (
    f'--{_BOUNDARY}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n'
    f'--{_BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
    f"Content-Type: text/plain\r\n\r\nhello\r\n--{_BOUNDARY}--\r\n"
).encode()
_CONTENT_TYPES = st.sampled_from(
    [
        f"multipart/form-data; boundary={_BOUNDARY}",
        f'multipart/form-data; boundary="{_BOUNDARY}"',
        "multipart/form-data; boundary=other",
        "multipart/form-data",
        "multipart/form-data; boundary=",
        "multipart/form-data; boundary=" + "b" * 200,
        "application/json",
        "text/plain",
        "",
    ]
)


@st.composite
def _mangled(draw: st.DrawFn) -> bytes:
    body = bytearray(_GOOD)
    for _ in range(draw(st.integers(1, 4))):
        what = draw(st.sampled_from(["cut", "flip", "insert", "delete"]))
        at = draw(st.integers(0, len(body)))
        if what == "cut":
            del body[at:]
        elif what == "flip" and at < len(body):
            body[at] = draw(st.integers(0, 255))
        elif what == "insert":
            body[at:at] = draw(st.sampled_from([b"\r\n", b"--", _BOUNDARY.encode(), b'"', b";", b"\x00"])) + draw(
                st.binary(max_size=8)
            )
        else:
            del body[at : at + draw(st.integers(1, 20))]
    return bytes(body)


_SIM = FakeAI(seed=3)  # one simulator for all examples


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.one_of(st.binary(max_size=400), _mangled()), content_type=_CONTENT_TYPES)
def test_malformed_multipart_is_always_an_openai_4xx(body: bytes, content_type: str) -> None:
    response = _SIM.handle(ApiRequest("POST", "/v1/files", headers={"content-type": content_type}, body=body))
    if response.status == 200:  # a mangling that left a valid form (e.g. a changed byte of the file)
        check_file(response.body)
        return
    assert 400 <= response.status < 500, response.body
    error_of(response)


def test_docs_examples_run() -> None:
    """docs/files.md runs as written, top to bottom, in one namespace."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "files.md").read_text()
    namespace: dict[str, object] = {}
    for block in re.findall(r"```python\n(.*?)```", text, re.S):
        exec(compile(block, "docs/files.md", "exec"), namespace)
