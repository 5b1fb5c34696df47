"""OpenAI-shaped errors.

Every error the simulator sends has the body
``{"error": {"message", "type", "param", "code"}}`` and the status OpenAI uses
(../shared/FIDELITY.md).  Handlers raise :class:`ApiError`; the router turns it
into a response, so no path can leak a bare exception or a 500.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

__all__ = [
    "ApiError",
    "bad_json",
    "invalid_type",
    "invalid_value",
    "method_not_allowed",
    "missing_parameter",
    "model_not_found",
    "not_found_route",
    "server_error",
    "unknown_parameter",
    "unsupported_parameter",
    "unsupported_value",
]


class ApiError(Exception):
    """An error response: status, OpenAI's error fields and extra headers."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | int | None = None,
        headers: Sequence[tuple[str, str]] = (),
        compact: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = list(headers)
        self.fault: str | None = None  # set when the error is an injected fault (its kind)
        self.compact = compact  # a gateway's one-line JSON (Cloudflare's 502/504), not the API's indented body

    def to_dict(self) -> dict[str, Any]:
        if self.compact:  # Cloudflare's key order
            return {"error": {"code": self.code, "message": self.message, "param": self.param, "type": self.type}}
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}

    def body(self) -> bytes:
        if self.compact:
            return json.dumps(self.to_dict(), separators=(",", ":")).encode()
        return json.dumps(self.to_dict(), indent=2).encode() + b"\n"

    def __repr__(self) -> str:
        return f"ApiError({self.status}, {self.message!r}, param={self.param!r}, code={self.code!r})"


def _quote_list(values: Sequence[object]) -> str:
    quoted = [f"'{v}'" for v in values]
    if len(quoted) <= 1:
        return "".join(quoted)
    if len(quoted) == 2:
        return f"{quoted[0]} and {quoted[1]}"
    return ", ".join(quoted[:-1]) + f", and {quoted[-1]}"


def bad_json() -> ApiError:
    return ApiError(
        400,
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your "
        "HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid "
        "JSON. If you have trouble figuring out how to fix this, please contact us through our help "
        "center at help.openai.com.)",
    )


def missing_parameter(param: str) -> ApiError:
    return ApiError(400, f"Missing required parameter: '{param}'.", param=param, code="missing_required_parameter")


def invalid_type(param: str, expected: str, got: str) -> ApiError:
    return ApiError(
        400,
        f"Invalid type for '{param}': expected {expected}, but got {got} instead.",
        param=param,
        code="invalid_type",
    )


def invalid_value(param: str, value: object, supported: Sequence[object] | None = None) -> ApiError:
    if supported is not None:
        message = f"Invalid value: '{value}'. Supported values are: {_quote_list(supported)}."
    else:
        message = f"Invalid value for '{param}': {value}."
    return ApiError(400, message, param=param, code="invalid_value")


def unknown_parameter(param: str) -> ApiError:
    return ApiError(400, f"Unrecognized request argument supplied: {param}", param=param, code="unknown_parameter")


def unsupported_parameter(param: str, hint: str = "") -> ApiError:
    message = f"Unsupported parameter: '{param}' is not supported with this model."
    return ApiError(400, f"{message} {hint}".strip(), param=param, code="unsupported_parameter")


def unsupported_value(param: str, message: str) -> ApiError:
    return ApiError(400, f"Unsupported value: {message}", param=param, code="unsupported_value")


def model_not_found(model: str, suggestions: Sequence[str] = ()) -> ApiError:
    message = f"The model `{model}` does not exist or you do not have access to it."
    if suggestions:
        message += " Did you mean " + " or ".join(f"`{s}`" for s in suggestions) + "?"
    return ApiError(404, message, param=None, code="model_not_found")


def not_found_route(method: str, path: str, supported: Sequence[str]) -> ApiError:
    return ApiError(
        404,
        f"Invalid URL ({method} {path}). Supported routes: {', '.join(supported)}.",
    )


def method_not_allowed(method: str, path: str, allowed: Sequence[str]) -> ApiError:
    return ApiError(
        405,
        f"Invalid method for URL ({method} {path}). Allowed: {', '.join(allowed)}.",
        headers=[("allow", ", ".join(allowed))],
    )


def server_error() -> ApiError:
    return ApiError(
        500,
        "The server had an error while processing your request. Sorry about that!",
        type="server_error",
    )
