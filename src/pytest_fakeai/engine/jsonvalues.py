"""Words for JSON values, as OpenAI's errors use them ("expected an object, but got a string")."""

from __future__ import annotations

__all__ = ["describe_json_type"]


def describe_json_type(value: object) -> str:
    """``"null"``, ``"a boolean"``, ``"an integer"``, ``"a decimal"``, ``"a string"``, ``"an array"``
    or ``"an object"``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
