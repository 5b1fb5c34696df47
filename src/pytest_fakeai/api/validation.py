"""Parse a JSON body into a pydantic request model, turning every failure into OpenAI's error.

Union members are tagged ``Tag("is=...")`` / ``Tag("role=...")`` so a failure
reports one error whose location reads like OpenAI's ``param``
(``messages[0].content``); tags are dropped from the location here.
"""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ..engine.jsonvalues import describe_json_type
from .errors import ApiError, bad_json, invalid_type, missing_parameter, unknown_parameter

__all__ = ["MISSING_TAG", "describe_json_type", "load_json", "param_name", "parse_body", "parse_data"]

MISSING_TAG = "<missing>"

M = TypeVar("M", bound=BaseModel)

_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "bool_type": "a boolean",
    "list_type": "an array",
    "tuple_type": "an array",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "none_required": "null",
}


def param_name(loc: tuple[int | str, ...]) -> str:
    """``('messages', 0, 'role=user', 'content')`` → ``messages[0].content``."""
    out = ""
    for item in loc:
        if isinstance(item, int):
            out += f"[{item}]"
        elif "=" in item or "[" in item:
            continue  # a union tag, not a field
        else:
            out += f".{item}" if out else item
    return out


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _to_api_error(err: dict[str, Any]) -> ApiError:
    kind: str = err["type"]
    loc: tuple[int | str, ...] = tuple(err["loc"])
    param = param_name(loc)
    value = err.get("input")
    ctx = err.get("ctx") or {}
    if kind == "missing":
        return missing_parameter(param)
    if kind == "extra_forbidden":
        return unknown_parameter(param)
    if kind == "invalid_type":  # a tagged union's custom error: msg holds what was expected
        return invalid_type(param, err["msg"], describe_json_type(value))
    if kind in _EXPECTED:
        return invalid_type(param, _EXPECTED[kind], describe_json_type(value))
    if kind in ("less_than_equal", "less_than", "greater_than_equal", "greater_than"):
        bound_key = {
            "less_than_equal": "le",
            "less_than": "lt",
            "greater_than_equal": "ge",
            "greater_than": "gt",
        }[kind]
        noun = "decimal" if isinstance(ctx.get(bound_key), float) else "integer"
        op = {"le": "<=", "lt": "<", "ge": ">=", "gt": ">"}[bound_key]
        above = kind.startswith("less")
        where = "above maximum" if above else "below minimum"
        code = f"{noun}_{'above_max' if above else 'below_min'}_value"
        return ApiError(
            400,
            f"Invalid '{param}': {noun} {where} value. Expected a value {op} "
            f"{_number(ctx.get(bound_key))}, but got {_number(value)} instead.",
            param=param,
            code=code,
        )
    if kind == "too_short":
        minimum = ctx.get("min_length", 1)
        if isinstance(value, str):
            return ApiError(
                400,
                f"Invalid '{param}': string too short. Expected a string with minimum length {minimum}, "
                f"but got a string with length {len(value)} instead.",
                param=param,
                code="string_too_short",
            )
        if not value:
            return ApiError(
                400,
                f"Invalid '{param}': empty array. Expected an array with minimum length {minimum}, "
                "but got an empty array instead.",
                param=param,
                code="empty_array",
            )
        return ApiError(
            400,
            f"Invalid '{param}': array too short. Expected an array with minimum length {minimum}, "
            f"but got an array with length {len(value)} instead.",
            param=param,
            code="array_below_min_length",
        )
    if kind == "too_long":
        maximum = ctx.get("max_length")
        if isinstance(value, str):
            return ApiError(
                400,
                f"Invalid '{param}': string too long. Expected a string with maximum length {maximum}, "
                f"but got a string with length {len(value)} instead.",
                param=param,
                code="string_above_max_length",
            )
        length = len(value) if isinstance(value, list | dict) else "more"
        return ApiError(
            400,
            f"Invalid '{param}': array too long. Expected an array with maximum length {maximum}, "
            f"but got an array with length {length} instead.",
            param=param,
            code="array_above_max_length",
        )
    if kind in ("literal_error", "enum"):
        supported = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        from .errors import invalid_value

        return invalid_value(param, value, supported or None)
    if kind == "union_tag_not_found":
        return invalid_type(param, "an object", describe_json_type(value))
    if kind == "string_pattern_mismatch":
        return ApiError(
            400,
            f"Invalid '{param}': string does not match pattern. Expected a string that matches the "
            f"pattern '{ctx.get('pattern')}'.",
            param=param,
            code="invalid_value",
        )
    if kind == "union_tag_invalid":
        from .errors import invalid_value

        field_name = str(ctx.get("discriminator", "")).strip("'").strip("_").removesuffix("()")
        tag = str(ctx.get("tag", "")).split("=", 1)[-1]
        target = f"{param}.{field_name}" if param else field_name
        if tag == MISSING_TAG:
            return missing_parameter(target)
        expected = re.findall(r"'([^']*)'", str(ctx.get("expected_tags", "")))
        return invalid_value(target, tag, [t.split("=", 1)[-1] for t in expected] or None)
    if kind == "value_error":
        # raised by our own validators: the message is already OpenAI's
        message = str(ctx.get("error", err["msg"]))
        return ApiError(400, message, param=param, code="invalid_value")
    return ApiError(400, f"Invalid '{param}': {err['msg']}.", param=param, code="invalid_value")


# a \uD800-\uDFFF escape, or the UTF-8-style bytes of a surrogate (which json.loads lets through)
_MAYBE_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")


def _has_lone_surrogate(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def load_json(body: bytes) -> Any:
    """Parse a JSON body; anything unparsable is OpenAI's "could not parse the JSON body" error.

    That includes a lone UTF-16 surrogate (``"\\ud800"`` with no pair): Python's parser accepts it,
    OpenAI's strict one does not, and no response could carry it back as UTF-8."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise bad_json() from None
    utf8 = body[:2] not in (b"\xff\xfe", b"\xfe\xff") and b"\x00" not in body[:4]  # else UTF-16/32
    if (not utf8 or _MAYBE_SURROGATE.search(body)) and _has_lone_surrogate(data):
        raise bad_json()
    return data


def parse_data(model: type[M], data: Any) -> M:
    """Validate parsed JSON as ``model``; raise :class:`ApiError` as OpenAI would."""
    if not isinstance(data, dict):
        raise ApiError(
            400,
            f"Invalid request body: expected a JSON object, but got {describe_json_type(data)} instead.",
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        # missing required parameters first, as OpenAI reports them
        errors.sort(key=lambda e: e["type"] != "missing")
        raise _to_api_error(dict(errors[0])) from None


def parse_body(model: type[M], body: bytes) -> M:
    """Parse and validate a JSON body as ``model``."""
    return parse_data(model, load_json(body))
