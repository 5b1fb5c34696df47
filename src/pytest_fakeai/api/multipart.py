"""``multipart/form-data`` request bodies, parsed with python-multipart, failing like OpenAI.

One call turns a request into a :class:`Form`::

    form = parse_form(request, max_bytes=MAX_FILE_BYTES + FORM_OVERHEAD)
    purpose = form.field("purpose")  # str | None: the first text field of that name
    upload = form.file("file")       # FilePart | None: filename, content_type, data
    images = form.files_named("image[]")  # every file sent under that name, in order

A body that is not multipart, has no boundary, or is not well-formed is OpenAI's
400 ``invalid_request_error``; one larger than ``max_bytes`` is a 413 before any
parsing.  A file's bytes are one slice of the body (one copy), a text field is
decoded as UTF-8.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import ApiError, invalid_type, missing_parameter
from .types import ApiRequest

__all__ = ["FORM_OVERHEAD", "FilePart", "Form", "parse_form", "parse_multipart"]

#: Room for boundaries, part headers and small text fields on top of a file's own size limit.
FORM_OVERHEAD = 1024 * 1024

_CURL_HINT = "(HINT: If you're using curl, you can pass -H 'Content-Type: multipart/form-data')"
_LIBRARY_HINT = (
    "(HINT: let your HTTP library build the multipart body and its Content-Type header, e.g. "
    "httpx's files=..., instead of setting the header by hand.)"
)


# python-multipart logs each parse problem before raising it; the 400 already says what went
# wrong, so its parsers get this private logger (not registered with logging, so no global change)
_QUIET = logging.Logger("pytest_fakeai.api.multipart.parser")
_QUIET.disabled = True


@dataclass(frozen=True, slots=True)
class FilePart:
    """A file sent in a form: the form field's name, the file's name, its declared type and bytes."""

    name: str
    filename: str
    content_type: str | None
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True, slots=True)
class Form:
    """The parts of a form in the order sent: text fields and files."""

    fields: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    files: dict[str, list[FilePart]] = dataclasses.field(default_factory=dict)

    def field(self, name: str) -> str | None:
        """The first text field called ``name`` (None if there is none)."""
        values = self.fields.get(name)
        return values[0] if values else None

    def file(self, name: str) -> FilePart | None:
        """The first file sent as ``name`` (None if there is none)."""
        files = self.files.get(name)
        return files[0] if files else None

    def files_named(self, name: str) -> list[FilePart]:
        return list(self.files.get(name, ()))

    def require_file(self, name: str) -> FilePart:
        """The file sent as ``name``; OpenAI's missing-parameter error if there is none."""
        found = self.file(name)
        if found is None:
            if name in self.fields:
                raise invalid_type(name, "a file", "a string")
            raise missing_parameter(name)
        return found

    def require_field(self, name: str) -> str:
        """The text field ``name``; OpenAI's missing-parameter error if there is none."""
        value = self.field(name)
        if value is None:
            if name in self.files:
                raise invalid_type(name, "a string", "a file")
            raise missing_parameter(name)
        return value


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    return value


def _malformed(why: str) -> ApiError:
    return ApiError(400, f"Could not parse the multipart form data in the request body: {why}. {_LIBRARY_HINT}")


def parse_multipart(body: bytes, content_type: str | None, *, max_bytes: int) -> Form:
    """Parse a ``multipart/form-data`` body given its Content-Type header value."""
    from python_multipart.exceptions import MultipartParseError
    from python_multipart.multipart import MultipartParser, MultipartState, parse_options_header

    ctype, options = parse_options_header(content_type or "")
    if ctype.lower() != b"multipart/form-data":  # media types are case-insensitive (RFC 9110)
        shown = (content_type or "").split(";", 1)[0].strip() or "none"
        raise ApiError(400, f"Invalid Content-Type header ({shown}), expected multipart/form-data. {_CURL_HINT}")
    boundary = options.get(b"boundary")
    if not boundary:
        raise ApiError(
            400,
            "Invalid Content-Type header (multipart/form-data): the 'boundary' parameter is missing, so the "
            f"body cannot be split into its parts. {_LIBRARY_HINT}",
        )
    if len(body) > max_bytes:
        raise ApiError(
            413,
            f"Request body too large: {len(body)} bytes. The maximum for this endpoint is {max_bytes} bytes.",
        )

    parts: list[tuple[dict[bytes, bytes], list[bytes]]] = []  # (headers, data pieces) of each part
    header_name: list[bytes] = []
    header_value: list[bytes] = []
    ended: list[bool] = []

    def on_part_begin() -> None:
        parts.append(({}, []))

    def on_part_data(data: bytes, start: int, end: int) -> None:
        parts[-1][1].append(data[start:end])

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header_name.append(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header_value.append(data[start:end])

    def on_header_end() -> None:
        parts[-1][0][b"".join(header_name).strip().lower()] = b"".join(header_value).strip()
        header_name.clear()
        header_value.clear()

    def on_end() -> None:
        ended.append(True)

    try:
        parser = MultipartParser(
            boundary,
            {
                "on_part_begin": on_part_begin,
                "on_part_data": on_part_data,
                "on_header_field": on_header_field,
                "on_header_value": on_header_value,
                "on_header_end": on_header_end,
                "on_end": on_end,
            },
        )
        parser.logger = _QUIET
        parser.write(body)
        parser.finalize()
    except (MultipartParseError, ValueError) as exc:  # ValueError: e.g. an over-long boundary
        raise _malformed(str(exc).rstrip(".") or "invalid structure") from None
    if not ended or parser.state != MultipartState.END:
        raise _malformed("the body ends before the closing boundary")

    form = Form()
    for index, (headers, pieces) in enumerate(parts):
        disposition = headers.get(b"content-disposition")
        if disposition is None:
            raise _malformed(f"part {index} has no Content-Disposition header")
        kind, params = parse_options_header(disposition)
        name_bytes = params.get(b"name")
        if kind != b"form-data" or name_bytes is None:
            raise _malformed(f"part {index} is not a form-data part with a name")
        try:
            name = name_bytes.decode("utf-8")
        except UnicodeDecodeError:
            raise _malformed(f"the name of part {index} is not valid UTF-8") from None
        data = pieces[0] if len(pieces) == 1 else b"".join(pieces)
        filename = params.get(b"filename")
        if filename is None:
            try:
                value = data.decode("utf-8")
            except UnicodeDecodeError:
                raise ApiError(
                    400,
                    f"Invalid value for '{name}': the form field is not valid UTF-8 text.",
                    param=name,
                    code="invalid_value",
                ) from None
            form.fields.setdefault(name, []).append(value)
            continue
        part_type = headers.get(b"content-type")
        form.files.setdefault(name, []).append(
            FilePart(
                name=name,
                filename=filename.decode("utf-8", "replace"),
                content_type=part_type.decode("latin-1") if part_type else None,
                data=data,
            )
        )
    return form


def parse_form(request: ApiRequest, *, max_bytes: int) -> Form:
    """The request's ``multipart/form-data`` body, or OpenAI's 400/413 error."""
    return parse_multipart(request.body, _header(request.headers, "content-type"), max_bytes=max_bytes)
