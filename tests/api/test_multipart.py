"""``api.multipart``: form bodies as httpx builds them parse back exactly; everything else is OpenAI's 400/413."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_fakeai.api.errors import ApiError
from pytest_fakeai.api.multipart import Form, parse_form, parse_multipart
from pytest_fakeai.api.types import ApiRequest
from tests._support.drive import http as httpx

BIG = 1 << 30


def encode(data: dict[str, Any] | None = None, files: Any = None) -> tuple[bytes, str]:
    """A multipart body and its Content-Type, exactly as httpx (and so the openai SDK) sends them."""
    request = httpx.Request("POST", "http://fakeai.test/v1/files", data=data, files=files)
    return request.read(), request.headers["content-type"]


def parse(data: dict[str, Any] | None = None, files: Any = None, *, max_bytes: int = BIG) -> Form:
    body, content_type = encode(data, files)
    return parse_multipart(body, content_type, max_bytes=max_bytes)


def error(body: bytes, content_type: str | None, *, max_bytes: int = BIG) -> ApiError:
    with pytest.raises(ApiError) as info:
        parse_multipart(body, content_type, max_bytes=max_bytes)
    assert info.value.type == "invalid_request_error"
    return info.value


def test_fields_and_files_round_trip() -> None:
    form = parse(
        {"purpose": "batch", "expires_after[seconds]": "3600"},
        {"file": ("input.jsonl", b'{"a": 1}\n', "application/jsonl")},
    )
    assert form.fields == {"purpose": ["batch"], "expires_after[seconds]": ["3600"]}
    assert form.field("purpose") == "batch" and form.field("nope") is None
    upload = form.file("file")
    assert upload is not None
    assert (upload.name, upload.filename, upload.content_type) == ("file", "input.jsonl", "application/jsonl")
    assert upload.data == b'{"a": 1}\n' and upload.size == 9


def test_repeated_names_keep_every_value_in_order() -> None:
    form = parse(
        {"tags[]": ["a", "b"]},
        [("image[]", ("1.png", b"\x89PNG1", "image/png")), ("image[]", ("2.png", b"\x89PNG2", "image/png"))],
    )
    assert form.fields["tags[]"] == ["a", "b"]
    assert [f.filename for f in form.files_named("image[]")] == ["1.png", "2.png"]
    assert [f.data for f in form.files_named("image[]")] == [b"\x89PNG1", b"\x89PNG2"]
    assert form.files_named("absent") == []


def test_data_that_looks_like_a_boundary_survives() -> None:
    _, content_type = encode(files={"file": ("x.bin", b"")})
    boundary = content_type.split("boundary=")[1].encode()
    tricky = b"start\r\n--" + boundary[:-1] + b"\r\n--" + boundary + b"X tail \r\n\r\n--"
    form = parse(files={"file": ("x.bin", tricky)})
    upload = form.file("file")
    assert upload is not None and upload.data == tricky


def test_text_fields_are_utf8() -> None:
    assert parse({"purpose": "vision ✓"}, {"file": ("a", b"")}).field("purpose") == "vision ✓"
    body = b'--b\r\nContent-Disposition: form-data; name="purpose"\r\n\r\n\xff\xfe\r\n--b--\r\n'  # not UTF-8
    err = error(body, "multipart/form-data; boundary=b")
    assert (err.status, err.param, err.code) == (400, "purpose", "invalid_value")
    assert "not valid UTF-8" in err.message


def test_quoted_boundary_and_header_case() -> None:
    body = (
        b'--a b\r\ncontent-disposition: form-data; name="file"; filename="n.txt"\r\n'
        b"CONTENT-TYPE: text/plain\r\n\r\nhello\r\n--a b--\r\n"
    )
    form = parse_multipart(body, 'Multipart/Form-Data; boundary="a b"', max_bytes=BIG)
    upload = form.file("file")
    assert upload is not None and (upload.filename, upload.content_type, upload.data) == (
        "n.txt",
        "text/plain",
        b"hello",
    )


def test_parse_form_reads_the_request_header() -> None:
    body, content_type = encode({"purpose": "batch"}, {"file": ("a.jsonl", b"{}")})
    form = parse_form(ApiRequest("POST", "/v1/files", headers={"content-type": content_type}, body=body), max_bytes=BIG)
    assert form.field("purpose") == "batch"
    form = parse_form(ApiRequest("POST", "/v1/files", headers={"Content-Type": content_type}, body=body), max_bytes=BIG)
    assert form.field("purpose") == "batch"


@pytest.mark.parametrize(
    ("content_type", "shown"),
    [
        ("application/json", "application/json"),
        (None, "none"),
        ("text/plain; charset=utf-8", "text/plain"),
        ("multipart/mixed; boundary=x", "multipart/mixed"),
    ],
)
def test_not_multipart_is_openais_content_type_error(content_type: str | None, shown: str) -> None:
    err = error(b"{}", content_type)
    assert err.status == 400 and err.param is None and err.code is None
    assert err.message.startswith(f"Invalid Content-Type header ({shown}), expected multipart/form-data.")


def test_missing_boundary() -> None:
    err = error(b"--x\r\n", "multipart/form-data")
    assert err.status == 400 and "'boundary' parameter is missing" in err.message


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"", "ends before the closing boundary"),
        (b'--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nvalue', "ends before the closing boundary"),
        (b"garbage", "Could not parse"),
        (b"--b\r\nX-Other: 1\r\n\r\nvalue\r\n--b--\r\n", "has no Content-Disposition header"),
        (b"--b\r\nContent-Disposition: attachment\r\n\r\nvalue\r\n--b--\r\n", "is not a form-data part with a name"),
        (b"--b\r\nno colon here\r\n\r\nvalue\r\n--b--\r\n", "Could not parse"),
    ],
)
def test_malformed_bodies(body: bytes, why: str) -> None:
    err = error(body, "multipart/form-data; boundary=b")
    assert err.status == 400
    assert "Could not parse the multipart form data" in err.message and why in err.message


def test_size_limit_is_a_413_before_parsing() -> None:
    body, content_type = encode(files={"file": ("a.txt", b"x" * 100)})
    assert parse_multipart(body, content_type, max_bytes=len(body)).file("file") is not None
    err = error(body, content_type, max_bytes=len(body) - 1)
    assert err.status == 413 and f"{len(body)} bytes" in err.message and str(len(body) - 1) in err.message


def test_require_file_and_field() -> None:
    form = parse({"file": "just text", "purpose": "batch"}, {"image": ("a.png", b"1")})
    with pytest.raises(ApiError) as info:
        form.require_file("file")
    assert (info.value.param, info.value.code) == ("file", "invalid_type")
    assert "expected a file, but got a string" in info.value.message
    with pytest.raises(ApiError) as info:
        form.require_file("missing")
    assert (info.value.message, info.value.code) == (
        "Missing required parameter: 'missing'.",
        "missing_required_parameter",
    )
    with pytest.raises(ApiError) as info:
        form.require_field("image")
    assert info.value.code == "invalid_type"
    assert form.require_field("purpose") == "batch"
    assert form.require_file("image").data == b"1"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    fields=st.dictionaries(
        st.from_regex(r"[A-Za-z0-9_\[\]-]{1,12}", fullmatch=True),  # names as the SDK sends them
        st.text(st.characters(codec="utf-8"), max_size=40),
        max_size=4,
    ),
    payloads=st.lists(st.binary(max_size=300), min_size=1, max_size=3),  # httpx sends multipart only with files
)
def test_round_trip_property(fields: dict[str, str], payloads: list[bytes]) -> None:
    files = [(f"f{i}", (f"name{i}.bin", data, "application/octet-stream")) for i, data in enumerate(payloads)]
    form = parse(fields, files)
    assert {k: v[0] for k, v in form.fields.items()} == fields
    for i, data in enumerate(payloads):
        upload = form.file(f"f{i}")
        assert upload is not None and upload.data == data and upload.filename == f"name{i}.bin"
