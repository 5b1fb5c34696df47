"""Function tools and scripting for the Realtime API, by way of chat completions.

A realtime conversation is shown to chat's machinery as the chat request it amounts
to (:func:`chat_data`): instructions as a system message, items as messages,
``function_call`` items as an assistant's ``tool_calls``, ``function_call_output``
items as ``tool`` messages, tools in chat's shape.  Whether the model calls a tool,
and with what arguments, is then decided by chat's own rules (``api/chat.py``, "Tools"),
and ``fakeai.on(...)`` rules see the same dict a chat request would give them.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..engine.schema import SchemaError, check_schema
from .chat import _arguments, _schema_error, _tool_choice, _tools
from .errors import ApiError, invalid_type, invalid_value, missing_parameter
from .validation import describe_json_type, parse_data
from .wire import ChatRequest

if TYPE_CHECKING:
    from ..engine.core import Engine
    from ..engine.registry import ModelSpec
    from .common import Choice

__all__ = ["chat_data", "check_tool_choice", "check_tools", "generated_calls", "scripted_calls"]

_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_CHOICES = ("auto", "none", "required")


def check_tools(value: object, param: str) -> list[dict[str, Any]]:
    """A session's or response's ``tools``, checked as the API checks them (function and mcp tools)."""
    if not isinstance(value, list):
        raise invalid_type(param, "an array", describe_json_type(value))
    out = []
    for i, tool in enumerate(value):
        where = f"{param}[{i}]"
        if not isinstance(tool, dict):
            raise invalid_type(where, "an object", describe_json_type(tool))
        kind = tool.get("type", "function")
        if kind == "mcp":
            if not isinstance(tool.get("server_label"), str):
                raise missing_parameter(f"{where}.server_label")
        elif kind == "function":
            name = tool.get("name")
            if name is None:
                raise missing_parameter(f"{where}.name")
            if not isinstance(name, str):
                raise invalid_type(f"{where}.name", "a string", describe_json_type(name))
            if not _NAME.match(name):
                raise ApiError(
                    400,
                    f"Invalid '{where}.name': string does not match pattern. Expected a string that matches the "
                    "pattern '^[a-zA-Z0-9_-]+$' and is at most 64 characters long.",
                    param=f"{where}.name",
                    code="invalid_value",
                )
            description = tool.get("description")
            if description is not None and not isinstance(description, str):
                raise invalid_type(f"{where}.description", "a string", describe_json_type(description))
            params = tool.get("parameters")
            if params is not None:
                if not isinstance(params, dict):
                    raise invalid_type(f"{where}.parameters", "an object", describe_json_type(params))
                try:
                    check_schema(params)
                except (SchemaError, RecursionError) as exc:
                    raise _schema_error(
                        exc, "function", name, f"{where}.parameters", "invalid_function_parameters"
                    ) from None
        else:
            raise invalid_value(f"{where}.type", kind, ("function", "mcp"))
        out.append(dict(tool))
    return out


def check_tool_choice(value: object, tools: Sequence[Mapping[str, Any]], param: str) -> Any:
    """``tool_choice``: ``auto`` / ``none`` / ``required``, ``{"type": "function", "name": ...}`` or mcp."""
    if isinstance(value, str):
        if value not in _CHOICES:
            raise invalid_value(param, value, _CHOICES)
        return value
    if not isinstance(value, dict):
        raise invalid_type(param, "a string or an object", describe_json_type(value))
    kind = value.get("type")
    if kind == "function":
        name = value.get("name")
        if not isinstance(name, str):
            raise missing_parameter(f"{param}.name")
        if name not in [t.get("name") for t in tools if t.get("type", "function") == "function"]:
            raise ApiError(
                400,
                f"Invalid value for '{param}': tool choice '{name}' not found in 'tools' parameter.",
                param=param,
                code="invalid_value",
            )
    elif kind == "mcp":
        if not isinstance(value.get("server_label"), str):
            raise missing_parameter(f"{param}.server_label")
    else:
        raise invalid_value(f"{param}.type", kind, ("function", "mcp"))
    return dict(value)


# -- the conversation as a chat request -----------------------------------------------------------
def _item_text(item: Mapping[str, Any]) -> str:
    texts = []
    for part in item.get("content") or ():
        if isinstance(part, Mapping):
            for key in ("text", "transcript"):
                if isinstance(part.get(key), str):
                    texts.append(part[key])
    return " ".join(texts)


def chat_data(
    model: str,
    instructions: str,
    items: Sequence[Mapping[str, Any]],
    tools: Sequence[Mapping[str, Any]],
    tool_choice: Any,
    parallel_tool_calls: object = None,
) -> dict[str, Any]:
    """The chat completions request a realtime response amounts to (what scripted rules see)."""
    messages: list[dict[str, Any]] = []
    if instructions:
        messages.append({"role": "system", "content": instructions})
    for item in items:
        kind = item.get("type")
        if kind == "message":
            messages.append({"role": item.get("role"), "content": _item_text(item)})
        elif kind == "function_call":
            call = {
                "id": item.get("call_id"),
                "type": "function",
                "function": {"name": item.get("name"), "arguments": item.get("arguments", "")},
            }
            last = messages[-1] if messages else None
            if last is not None and last.get("role") == "assistant" and last.get("tool_calls"):
                last["tool_calls"].append(call)
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            messages.append({"role": "tool", "tool_call_id": item.get("call_id"), "content": item.get("output", "")})
    data: dict[str, Any] = {"model": model, "messages": messages}
    functions = [t for t in tools if t.get("type", "function") == "function"]
    if functions:
        data["tools"] = [
            {
                "type": "function",
                "function": {k: t[k] for k in ("name", "description", "parameters") if t.get(k) is not None},
            }
            for t in functions
        ]
        if isinstance(tool_choice, str):
            data["tool_choice"] = tool_choice
        elif isinstance(tool_choice, Mapping) and tool_choice.get("type") == "function":
            data["tool_choice"] = {"type": "function", "function": {"name": tool_choice.get("name")}}
        else:  # an mcp tool choice: the simulator calls no mcp tools, nor functions
            data["tool_choice"] = "none"
        if isinstance(parallel_tool_calls, bool):
            data["parallel_tool_calls"] = parallel_tool_calls
    return data


def _parsed(data: dict[str, Any]) -> tuple[ChatRequest, dict[str, Any]]:
    if not data["messages"]:  # chat needs a message; an empty conversation has nothing to say
        data = {**data, "messages": [{"role": "user", "content": ""}]}
    return parse_data(ChatRequest, data), data


def generated_calls(engine: Engine, spec: ModelSpec, data: dict[str, Any], rng: random.Random) -> Choice | None:
    """The tool calls the model makes unscripted (chat's rules for ``tool_choice``), or None."""
    if not data.get("tools"):
        return None
    req, data = _parsed(data)
    tools = _tools(req, data)
    if tools is None or not tools.call:
        return None
    calls = [(fn.name, _arguments(tools, i, fn, rng, k)) for k, (i, fn) in enumerate(tools.call)]
    return _tool_choice(engine, spec, rng, calls, False)


def scripted_calls(
    engine: Engine,
    spec: ModelSpec,
    data: dict[str, Any],
    calls: Sequence[tuple[str, str | None]],
    rng: random.Random,
) -> Choice:
    """A scripted ``tool_call=`` reply; arguments left to the simulator follow the tool's schema."""
    tools = None
    if data.get("tools"):
        req, data = _parsed(data)
        tools = _tools(req, data)
    out = []
    for k, (name, args) in enumerate(calls):
        if args is None:
            found = tools.find(name) if tools is not None else None
            args = "{}" if found is None else _arguments(tools, found[0], found[1], rng, k)
        out.append((name, args))
    return _tool_choice(engine, spec, rng, out, False)
