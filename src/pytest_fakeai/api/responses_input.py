"""A Responses API conversation: input items as stored and listed, and as chat messages.

Input items are kept in OpenAI's *resource* form (what ``GET
/v1/responses/{id}/input_items`` lists: ``{"id", "type": "message", "role",
"content": [...], "status"}`` ...).  The model side of the simulator -- token
counting, scripted rules, tool-call hints -- reads chat messages, so a
conversation is also converted to the chat form (``{"role", "content"}``,
assistant ``tool_calls``, ``tool`` results).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .errors import ApiError
from .wire_responses import (
    AssistantMessage,
    FileSearchCallItem,
    FunctionCallItem,
    FunctionCallOutputItem,
    InputFile,
    InputImage,
    InputMessage,
    InputText,
    ItemReference,
    OutputText,
    ReasoningItem,
)

__all__ = [
    "ID_PREFIXES",
    "check_tool_outputs",
    "last_user_text",
    "resource_items",
    "to_chat",
    "with_ids",
]

#: The id prefix of each item type (``msg_`` for messages, ``fc_`` for function calls, ...).
ID_PREFIXES = {
    "message": "msg_",
    "function_call": "fc_",
    "function_call_output": "fco_",
    "reasoning": "rs_",
    "file_search_call": "fs_",
}


def _part(part: InputText | InputImage | InputFile) -> dict[str, Any]:
    if isinstance(part, InputText):
        return {"type": "input_text", "text": part.text}
    if isinstance(part, InputImage):
        return {
            "type": "input_image",
            "detail": part.detail or "auto",
            "file_id": part.file_id,
            "image_url": part.image_url,
        }
    out: dict[str, Any] = {"type": "input_file", "file_id": part.file_id}
    for key in ("filename", "file_url", "file_data"):
        value = getattr(part, key)
        if value is not None:
            out[key] = value
    return out


def _parts(content: str | Sequence[InputText | InputImage | InputFile]) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "input_text", "text": content}]
    return [_part(p) for p in content]


def resource_items(given: str | Sequence[Any] | None) -> list[dict[str, Any]]:
    """A request's ``input`` in resource form, ``id`` None where the request gave none.

    ``item_reference`` items stay ``{"type": "item_reference", "id"}``: the store resolves them.
    """
    if given is None:
        return []
    if isinstance(given, str):
        return [{"id": None, "type": "message", "role": "user", "content": _parts(given), "status": "completed"}]
    out: list[dict[str, Any]] = []
    for item in given:
        if isinstance(item, InputMessage):
            out.append(
                {
                    "id": item.id,
                    "type": "message",
                    "role": item.role,
                    "content": _parts(item.content),
                    "status": "completed",
                }
            )
        elif isinstance(item, AssistantMessage):
            content: list[dict[str, Any]]
            if isinstance(item.content, str):
                content = [{"type": "output_text", "text": item.content, "annotations": [], "logprobs": []}]
            else:
                content = [
                    {"type": "output_text", "text": p.text, "annotations": list(p.annotations or ()), "logprobs": []}
                    if isinstance(p, OutputText)
                    else {"type": "refusal", "refusal": p.refusal}
                    for p in item.content
                ]
            out.append(
                {"id": item.id, "type": "message", "role": "assistant", "content": content, "status": "completed"}
            )
        elif isinstance(item, FunctionCallItem):
            out.append(
                {
                    "id": item.id,
                    "type": "function_call",
                    "status": "completed",
                    "arguments": item.arguments,
                    "call_id": item.call_id,
                    "name": item.name,
                }
            )
        elif isinstance(item, FunctionCallOutputItem):
            output: Any = item.output if isinstance(item.output, str) else _parts(item.output)
            out.append(
                {
                    "id": item.id,
                    "type": "function_call_output",
                    "call_id": item.call_id,
                    "output": output,
                    "status": "completed",
                }
            )
        elif isinstance(item, ReasoningItem):
            reasoning: dict[str, Any] = {"id": item.id, "type": "reasoning", "summary": list(item.summary)}
            if item.encrypted_content is not None:
                reasoning["encrypted_content"] = item.encrypted_content
            out.append(reasoning)
        elif isinstance(item, FileSearchCallItem):
            out.append(
                {
                    "id": item.id,
                    "type": "file_search_call",
                    "status": item.status,
                    "queries": list(item.queries),
                    "results": None if item.results is None else list(item.results),
                }
            )
        elif isinstance(item, ItemReference):
            out.append({"id": item.id, "type": "item_reference"})
    return out


def with_ids(items: Sequence[dict[str, Any]], new_id: Callable[[str], str]) -> list[dict[str, Any]]:
    """The items with an id each: the request's own, or a new one of the item type's prefix."""
    out = []
    for item in items:
        if item.get("id") is None:
            item = {**item, "id": new_id(ID_PREFIXES.get(item["type"], "item_"))}
        out.append(item)
    return out


def _text(parts: Any) -> str:
    if isinstance(parts, str):
        return parts
    return "".join(str(p.get("text", "")) for p in parts or () if isinstance(p, dict))


def _chat_part(part: dict[str, Any]) -> dict[str, Any]:
    kind = part.get("type")
    if kind == "input_text":
        return {"type": "text", "text": part.get("text", "")}
    if kind == "input_image":
        url = part.get("image_url") or f"file:{part.get('file_id')}"
        return {"type": "image_url", "image_url": {"url": url, "detail": part.get("detail") or "auto"}}
    return {"type": "file", "file": {"filename": part.get("filename") or part.get("file_id") or ""}}


def to_chat(items: Sequence[dict[str, Any]], instructions: str | None, *, developer: bool) -> list[dict[str, Any]]:
    """The conversation as chat messages: instructions first (a system, or for reasoning models a
    developer, message), consecutive function calls as one assistant message with ``tool_calls``,
    function outputs as ``tool`` messages; reasoning items are not part of what the model reads."""
    messages: list[dict[str, Any]] = []
    if instructions:
        messages.append({"role": "developer" if developer else "system", "content": instructions})
    for item in items:
        kind = item.get("type")
        if kind == "message":
            role = item.get("role")
            content = item.get("content") or []
            if role == "assistant":
                refusals = [p.get("refusal", "") for p in content if p.get("type") == "refusal"]
                if refusals and len(refusals) == len(content):
                    messages.append({"role": "assistant", "content": None, "refusal": "".join(refusals)})
                else:
                    messages.append({"role": "assistant", "content": _text(content)})
            else:
                messages.append({"role": role, "content": [_chat_part(p) for p in content]})
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
            messages.append({"role": "tool", "tool_call_id": item.get("call_id"), "content": _text(item.get("output"))})
    return messages


def check_tool_outputs(items: Sequence[dict[str, Any]]) -> None:
    """Every function call has its output later on, and every output answers an earlier call."""
    open_calls: dict[str, bool] = {}  # call_id -> answered
    for item in items:
        kind = item.get("type")
        if kind == "function_call":
            open_calls.setdefault(str(item.get("call_id")), False)
        elif kind == "function_call_output":
            call_id = str(item.get("call_id"))
            if call_id not in open_calls:
                raise ApiError(
                    400, f"No tool call found for function call output with call_id {call_id}.", param="input"
                )
            open_calls[call_id] = True
    for call_id, answered in open_calls.items():
        if not answered:
            raise ApiError(400, f"No tool output found for function call {call_id}.", param="input")


def last_user_text(messages: Sequence[dict[str, Any]]) -> str | None:
    """The last message's text when it is the user's (the turn the model answers), else None."""
    if not messages or messages[-1].get("role") != "user":
        return None
    content = messages[-1].get("content")
    if isinstance(content, str):
        return content
    return " ".join(str(p.get("text", "")) for p in content or () if isinstance(p, dict) and p.get("type") == "text")
