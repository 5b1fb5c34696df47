"""The Responses API: ``/v1/responses`` and its stored responses (docs/responses.md).

This module answers ``POST /v1/responses`` and ``POST /v1/responses/input_tokens``; the
stored-response routes live in responses_store.py (re-exported here, where the router looks).

``POST /v1/responses`` answers like chat does -- the same generator, tool choice,
structured outputs (``text.format``), reasoning tokens, token counts and timing --
in the Responses shape: output items (``reasoning``, ``message``,
``function_call``), ``usage.input_tokens`` / ``output_tokens``, a typed event
stream.  Responses are stored per simulator (``engine.stores["responses"]``) unless
``store`` is false; ``previous_response_id`` continues a stored conversation.
``background: true`` runs on the simulated clock: queued, then in progress, then
completed at the moment the answer is due (cancellable until then).
"""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ..engine.core import random_token
from ..engine.rng import derive_seed
from ..engine.schema import SchemaError, check_schema, instance_for
from .chat import _Hints, _hints, _plausible, _relevance, _schema_error, _words
from .common import (
    _REASONING_RANGES,
    TextPlan,
    cap_pieces,
    check_limit,
    check_stream_options,
    json_response,
    piece_logprobs,
    plan_choices,
    prompt_blocks,
    reported_cached,
    request_rng_seed,
    resolve_model,
    response_headers,
    rng_for,
    token_pieces,
)
from .errors import ApiError, invalid_value, missing_parameter, unsupported_parameter
from .responses_file_search import Search, cited_answer, file_search_echo, file_search_tool, prepare_file_search
from .responses_input import check_tool_outputs, last_user_text, resource_items, to_chat, with_ids
from .responses_store import (
    MAX_STORED,
    ResponseStore,
    Stored,
    cancel_response,
    delete_response,
    list_input_items,
    response_store,
    retrieve_response,
)
from .responses_stream import Out, Outcome, response_events
from .script import RESPONSES_PATH, Script
from .types import ApiRequest, ApiResponse, TimedStream
from .validation import load_json, parse_data
from .wire import FunctionDef
from .wire_responses import (
    HOSTED_TOOL_TYPES,
    FileSearchTool,
    FormatJsonObject,
    FormatJsonSchema,
    FunctionTool,
    HostedTool,
    ResponseRequest,
    TokenCountRequest,
    ToolChoiceObject,
)

if TYPE_CHECKING:
    from ..engine.core import Engine
    from ..engine.registry import ModelSpec
    from .script import Reply

__all__ = [
    "MAX_STORED",
    "ResponseStore",
    "Stored",
    "cancel_response",
    "count_input_tokens",
    "create_response",
    "delete_response",
    "list_input_items",
    "response_store",
    "retrieve_response",
]

# sub-stream numbers of a request's seed
_STREAM_STREAM = 1 << 20
_STRUCTURED_STREAM = 2 << 20
_SUMMARY_STREAM = 3 << 20
_UNSIMULATED = {
    "conversation": "the Conversations API is not simulated; chain responses with 'previous_response_id'",
    "prompt": "reusable prompt templates are not simulated; send 'instructions' and 'input'",
    "moderation": "moderated completions are not simulated",
}
_SUMMARY_TOKENS = {"concise": (16, 40), "auto": (24, 80), "detailed": (60, 140)}


# -- parsing and validation ---------------------------------------------------------------------
def _parse_request(model: type[ResponseRequest] | type[TokenCountRequest], data: Any) -> Any:
    try:
        return parse_data(model, data)
    except ApiError as exc:
        if exc.code == "unknown_parameter":  # the Responses API's own wording
            raise ApiError(400, f"Unknown parameter: '{exc.param}'.", param=exc.param, code=exc.code) from None
        raise


@dataclass(frozen=True, slots=True)
class _Function:
    """A function tool: its index in ``tools``, definition, effective strictness and generation schema."""

    index: int
    tool: FunctionTool
    strict: bool
    schema: dict[str, Any]  # what arguments are drawn from (strict: every property present)
    relevance: FunctionDef  # the same function, as chat's tool relevance reads it


@dataclass(slots=True)
class _Conversation:
    """The request's whole conversation and what the model makes of it."""

    context: list[dict[str, Any]]  # input items, previous turns first (the request's own without ids)
    messages: list[dict[str, Any]]  # the conversation as chat messages (instructions first)
    input_tokens: int
    key: int  # content hash: the seed of temperature-0 answers
    calls: tuple[_Function, ...]  # the functions the generator calls
    hints: _Hints | None
    kv: dict[int, list[int]] = field(default_factory=dict)  # block size -> the prompt's KV block hashes

    def blocks(self, engine: Engine, tools: list[dict[str, Any]] | None, spec: ModelSpec) -> list[int]:
        """The prompt's KV-cache block hashes (computed once per conversation and block size)."""
        settings = engine.settings
        if not settings.kv_cache:
            return []
        size = settings.kv_block_size
        got = self.kv.get(size)
        if got is None:
            got = self.kv[size] = prompt_blocks(engine.tokenizer(spec), self.messages, size, tools)
        return got


@dataclass(slots=True)
class _Parsed:
    """A request body, validated: a pure function of its bytes and the model spec."""

    data: dict[str, Any]
    req: ResponseRequest
    spec: ModelSpec
    items: list[dict[str, Any]]  # its own input items, resource form, ids as given
    functions: tuple[_Function, ...]
    chat_tools: list[dict[str, Any]] | None  # the function tools as chat tools (token counting, rules)
    effort: str | None  # reasoning effort (None: the model does not reason)
    echo_head: dict[str, Any]
    echo_tail: dict[str, Any]
    standalone: _Conversation | None = None  # computed once when no stored response is involved
    file_search: tuple[int, FileSearchTool] | None = None  # the file_search tool and its index in tools


def _effort(spec: ModelSpec, req: ResponseRequest | TokenCountRequest) -> str | None:
    if not spec.reasoning:
        return None
    asked = req.reasoning.effort if req.reasoning is not None else None
    return asked or spec.default_reasoning_effort or "medium"


def _strict_problem(schema: Any, where: tuple[str, ...] = ()) -> tuple[tuple[str, ...], str] | None:
    """The first thing that keeps ``schema`` from OpenAI's strict mode: every object closed, every
    property required."""
    if isinstance(schema, list):
        for i, sub in enumerate(schema):
            found = _strict_problem(sub, (*where, str(i)))
            if found:
                return found
        return None
    if not isinstance(schema, dict):
        return None
    props = schema.get("properties")
    if schema.get("type") == "object" or isinstance(props, dict):
        if schema.get("additionalProperties") is not False:
            return where, "'additionalProperties' is required to be supplied and to be false."
        keys = list(props) if isinstance(props, dict) else []
        given = schema.get("required")
        required = given if isinstance(given, list) else []
        missing = [k for k in keys if k not in required]
        if missing:
            return where, (
                "'required' is required to be supplied and to be an array including every key in properties. "
                f"Missing '{missing[0]}'."
            )
    for key in ("properties", "$defs", "definitions"):
        table = schema.get(key)
        if isinstance(table, dict):
            for name, sub in table.items():
                found = _strict_problem(sub, (*where, key, name))
                if found:
                    return found
    for key in ("items", "anyOf", "oneOf", "allOf", "prefixItems"):
        if key in schema:
            found = _strict_problem(schema[key], (*where, key))
            if found:
                return found
    return None


def _all_required(schema: Any) -> Any:
    """A copy of ``schema`` with every property required (what strict function calling produces)."""
    if isinstance(schema, list):
        return [_all_required(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _all_required(v) for k, v in schema.items()}
    props = schema.get("properties")
    if isinstance(props, dict):
        out["required"] = list(props)
    return out


def _strict_error(what: str, name: str, param: str, found: tuple[tuple[str, ...], str], code: str | None) -> ApiError:
    context, detail = found
    return ApiError(400, f"Invalid schema for {what} '{name}': In context={context}, {detail}", param=param, code=code)


def _check_tools(req: ResponseRequest | TokenCountRequest, spec: ModelSpec) -> tuple[_Function, ...]:
    functions: list[_Function] = []
    names: set[str] = set()
    for i, tool in enumerate(req.tools or ()):
        if isinstance(tool, FileSearchTool):
            if not spec.tools:
                raise ApiError(400, f"Tools are not supported with the model `{spec.id}`.", param="tools")
            continue
        if isinstance(tool, HostedTool):
            raise ApiError(
                400,
                f"The tool type '{tool.type}' is not supported by pytest-fakeai: only 'function' tools are "
                "simulated in the Responses API (and 'file_search').",
                param=f"tools[{i}].type",
                code="unsupported_value",
            )
        if not spec.tools:
            raise ApiError(400, f"Tools are not supported with the model `{spec.id}`.", param="tools")
        if tool.name in names:
            raise ApiError(
                400,
                f"Invalid 'tools': duplicate function name '{tool.name}'. Function names must be unique.",
                param=f"tools[{i}].name",
                code="invalid_value",
            )
        names.add(tool.name)
        params = tool.parameters if tool.parameters is not None else {"type": "object", "properties": {}}
        try:
            check_schema(params)
        except SchemaError as exc:
            raise _schema_error(
                exc, "function", tool.name, f"tools[{i}].parameters", "invalid_function_parameters"
            ) from None
        if tool.strict is True and tool.parameters is not None:
            found = _strict_problem(tool.parameters)
            if found:
                raise _strict_error(
                    "function", tool.name, f"tools[{i}].parameters", found, "invalid_function_parameters"
                )
        strict = tool.strict is not False  # the Responses API's default is strict
        relevance = FunctionDef.model_construct(
            name=tool.name, description=tool.description, parameters=tool.parameters, strict=strict
        )
        functions.append(_Function(i, tool, strict, _all_required(params) if strict else params, relevance))
    _check_tool_choice(req.tool_choice, functions, file_search_tool(req) is not None)
    return tuple(functions)


def _check_tool_choice(
    choice: str | ToolChoiceObject | None, functions: Sequence[_Function], searching: bool = False
) -> None:
    if choice is None or choice in ("auto", "none"):
        return
    if not functions and not searching:
        raise ApiError(
            400,
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
            param="tool_choice",
            code="invalid_value",
        )
    if not isinstance(choice, ToolChoiceObject):
        return
    names = [f.tool.name for f in functions]
    if choice.type == "function":
        if choice.name is None:
            raise missing_parameter("tool_choice.name")
        if choice.name not in names:
            raise ApiError(
                400,
                f"Invalid value for 'tool_choice': tool choice '{choice.name}' not found in 'tools' parameter.",
                param="tool_choice",
                code="invalid_value",
            )
    elif choice.type == "allowed_tools":
        if choice.mode is None:
            raise missing_parameter("tool_choice.mode")
        if choice.tools is None:
            raise missing_parameter("tool_choice.tools")
        for k, allowed in enumerate(choice.tools):
            name = allowed.get("name")
            if searching and allowed.get("type") == "file_search":
                continue
            if allowed.get("type") != "function" or name not in names:
                raise ApiError(
                    400,
                    f"Invalid value for 'tool_choice.tools[{k}]': only function tools named in 'tools' can be "
                    f"allowed (got {json.dumps(allowed)}).",
                    param=f"tool_choice.tools[{k}]",
                    code="invalid_value",
                )
    elif choice.type == "file_search":
        if not searching:
            raise ApiError(
                400,
                "Invalid value for 'tool_choice': tool choice 'file_search' not found in 'tools' parameter.",
                param="tool_choice",
                code="invalid_value",
            )
    elif choice.type in HOSTED_TOOL_TYPES or choice.type in ("mcp", "custom", "apply_patch", "shell"):
        raise ApiError(
            400,
            f"The tool choice type '{choice.type}' is not supported by pytest-fakeai: only function tools are "
            "simulated in the Responses API.",
            param="tool_choice.type",
            code="unsupported_value",
        )
    else:
        raise invalid_value("tool_choice.type", choice.type, ["function", "allowed_tools"])


def _check_common(req: ResponseRequest | TokenCountRequest, spec: ModelSpec, items: list[dict[str, Any]]) -> None:
    """Checks shared by creating a response and counting its input tokens."""
    if spec.kind not in ("chat", "reasoning"):
        raise ApiError(
            400,
            f"The model `{spec.id}` is a{'n' if spec.kind[0] in 'aeiou' else ''} {spec.kind} model and is not "
            "supported in the v1/responses endpoint.",
            param="model",
            code="model_not_supported",
        )
    if req.conversation is not None:
        raise unsupported_parameter("conversation", f"({_UNSIMULATED['conversation']})")
    reasoning = req.reasoning
    if reasoning is not None and not spec.reasoning:
        for name in ("effort", "summary", "generate_summary"):
            if getattr(reasoning, name) is not None:
                raise unsupported_parameter(f"reasoning.{name}")
    effort = reasoning.effort if reasoning is not None else None
    if effort is not None and spec.reasoning_efforts and effort not in spec.reasoning_efforts:
        raise invalid_value("reasoning.effort", effort, spec.reasoning_efforts)
    fmt = req.text.format if req.text is not None else None
    if isinstance(fmt, FormatJsonSchema):
        try:
            check_schema(fmt.schema_)
        except SchemaError as exc:
            raise _schema_error(exc, "response_format", fmt.name, "text.format.schema", None) from None
        if fmt.strict:
            found = _strict_problem(fmt.schema_)
            if found:
                raise _strict_error("response_format", fmt.name, "text.format.schema", found, None)
    if not spec.vision:
        for i, item in enumerate(items):
            for j, part in enumerate(item.get("content") or () if item.get("type") == "message" else ()):
                if part.get("type") == "input_image":
                    raise ApiError(
                        400,
                        "Invalid content type. input_image is only supported by certain models.",
                        param=f"input[{i}].content[{j}].type",
                        code="invalid_value",
                    )


def _check_create(req: ResponseRequest, spec: ModelSpec) -> None:
    for name in ("prompt", "moderation"):
        if getattr(req, name) is not None:
            raise unsupported_parameter(name, f"({_UNSIMULATED[name]})")
    if req.background and req.store is False:
        raise ApiError(400, "Background mode requires 'store' to be true.", param="background", code="invalid_value")
    check_stream_options(req.stream, req.stream_options)
    if not spec.supports_temperature:
        for name in ("temperature", "top_p"):
            value = getattr(req, name)
            if value is not None and value != 1:
                raise unsupported_parameter(name)
    check_limit(spec, req.max_output_tokens, "max_output_tokens")
    if req.metadata is not None:
        if len(req.metadata) > 16:
            raise ApiError(
                400,
                "Invalid 'metadata': too many properties. Expected an object with at most 16 properties, "
                f"but got an object with {len(req.metadata)} properties instead.",
                param="metadata",
                code="object_above_max_properties",
            )
        for key, value in req.metadata.items():
            if len(key) > 64:
                raise ApiError(
                    400,
                    f"Invalid 'metadata': string too long. Expected a key with maximum length 64, but got a key "
                    f"with length {len(key)} instead.",
                    param="metadata",
                    code="string_above_max_length",
                )
            if len(value) > 512:
                raise ApiError(
                    400,
                    f"Invalid 'metadata.{key}': string too long. Expected a string with maximum length 512, but "
                    f"got a string with length {len(value)} instead.",
                    param=f"metadata.{key}",
                    code="string_above_max_length",
                )


def _echo(
    req: ResponseRequest, spec: ModelSpec, functions: Sequence[_Function], effort: str | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The request's settings as the response object repeats them (before and after ``output``)."""
    fmt = req.text.format if req.text is not None else None
    text_format: dict[str, Any]
    if isinstance(fmt, FormatJsonSchema):
        text_format = {"type": "json_schema", "name": fmt.name, "schema": fmt.schema_, "strict": bool(fmt.strict)}
        if fmt.description is not None:
            text_format["description"] = fmt.description
    elif isinstance(fmt, FormatJsonObject):
        text_format = {"type": "json_object"}
    else:
        text_format = {"type": "text"}
    choice: Any = req.tool_choice or "auto"
    if isinstance(choice, ToolChoiceObject):
        if choice.type == "function":
            choice = {"type": "function", "name": choice.name}
        elif choice.type == "file_search":
            choice = {"type": "file_search"}
        else:
            choice = {"type": "allowed_tools", "mode": choice.mode, "tools": choice.tools}
    by_index = {f.index: f for f in functions}
    summary = None
    if req.reasoning is not None and spec.reasoning:
        summary = req.reasoning.summary or req.reasoning.generate_summary
    head = {
        "instructions": req.instructions,
        "max_output_tokens": req.max_output_tokens,
        "max_tool_calls": req.max_tool_calls,
        "model": spec.response_model,
    }
    tail = {
        "parallel_tool_calls": req.parallel_tool_calls is not False,
        "previous_response_id": req.previous_response_id,
        "prompt_cache_key": req.prompt_cache_key,
        "prompt_cache_retention": req.prompt_cache_retention,
        "reasoning": {"effort": effort, "summary": summary},
        "safety_identifier": req.safety_identifier,
        "service_tier": "default" if req.service_tier in (None, "auto") else req.service_tier,
        "store": req.store is not False,
        "temperature": 1.0 if req.temperature is None else req.temperature,
        "text": {"format": text_format, "verbosity": (req.text.verbosity if req.text else None) or "medium"},
        "tool_choice": choice,
        "tools": [
            file_search_echo(tool)
            if isinstance(tool, FileSearchTool)
            else {
                "type": "function",
                "description": by_index[i].tool.description,
                "name": by_index[i].tool.name,
                "parameters": by_index[i].tool.parameters,
                "strict": by_index[i].strict,
            }
            for i, tool in enumerate(req.tools or ())
            if isinstance(tool, FileSearchTool) or i in by_index
        ],
        "top_logprobs": req.top_logprobs or 0,
        "top_p": 1.0 if req.top_p is None else req.top_p,
        "truncation": req.truncation or "disabled",
    }
    return head, tail


_CACHE_SIZE = 256


def _parse(engine: Engine, body: bytes) -> _Parsed:
    """Parse and validate a body -- once: repeated bodies (tests, load) reuse the result."""
    cache: dict[bytes, _Parsed] = engine.caches.setdefault("responses", {})
    hit = cache.get(body)
    if hit is not None and engine.registry.get(hit.req.model) is hit.spec:
        return hit
    data = load_json(body)
    req: ResponseRequest = _parse_request(ResponseRequest, data)
    spec = resolve_model(engine, req.model)
    items = resource_items(req.input)
    _check_common(req, spec, items)
    _check_create(req, spec)
    functions = _check_tools(req, spec)
    effort = _effort(spec, req)
    head, tail = _echo(req, spec, functions, effort)
    parsed = _Parsed(data, req, spec, items, functions, _chat_tools(functions), effort, head, tail)
    parsed.file_search = file_search_tool(req)
    if req.previous_response_id is None and not any(i["type"] == "item_reference" for i in items):
        parsed.standalone = _conversation(engine, parsed.spec, req, parsed, items)
        if len(cache) >= _CACHE_SIZE:
            cache.clear()
        cache[body] = parsed
    return parsed


def _chat_tools(functions: Sequence[_Function]) -> list[dict[str, Any]] | None:
    if not functions:
        return None
    return [
        {
            "type": "function",
            "function": {
                "name": f.tool.name,
                "description": f.tool.description or "",
                "parameters": f.tool.parameters or {},
            },
        }
        for f in functions
    ]


# -- the conversation ---------------------------------------------------------------------------
class _ToolsView(Protocol):
    """What conversation building needs from a parsed request (create and input_tokens share it)."""

    @property
    def functions(self) -> tuple[_Function, ...]: ...

    @property
    def chat_tools(self) -> list[dict[str, Any]] | None: ...

    @property
    def data(self) -> dict[str, Any]: ...


def _resolve_items(
    engine: Engine, req: ResponseRequest | TokenCountRequest, own: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The conversation's input items: a previous response's context and output, then the request's own
    items (item references resolved)."""
    store = response_store(engine)
    context: list[dict[str, Any]] = []
    if req.previous_response_id is not None:
        previous = store.get(req.previous_response_id)
        if previous is None:
            raise ApiError(
                404,
                f"Previous response with id '{req.previous_response_id}' not found.",
                param="previous_response_id",
                code="previous_response_not_found",
            )
        context = [*previous.context, *previous.view(engine.clock.elapsed())["output"]]
    for i, item in enumerate(own):
        if item["type"] == "item_reference":
            found = store.item(item["id"])
            if found is None:
                raise ApiError(404, f"Item with id '{item['id']}' not found.", param=f"input[{i}].id")
            context.append(found)
        else:
            context.append(item)
    return context


def _conversation(
    engine: Engine,
    spec: ModelSpec,
    req: ResponseRequest | TokenCountRequest,
    view: _ToolsView,
    own: list[dict[str, Any]],
) -> _Conversation:
    context = _resolve_items(engine, req, own)
    if not context:
        raise missing_parameter("input")
    check_tool_outputs(context)
    tok = engine.tokenizer(spec)
    developer = spec.reasoning
    messages = to_chat(context, req.instructions, developer=developer)
    input_tokens = tok.count_chat(messages, tools=view.chat_tools)
    if input_tokens >= spec.context_window and req.truncation == "auto":
        while len(context) > 1 and input_tokens >= spec.context_window:
            context = context[1:]
            messages = to_chat(context, req.instructions, developer=developer)
            input_tokens = tok.count_chat(messages, tools=view.chat_tools)
    if input_tokens >= spec.context_window:
        raise ApiError(
            400,
            f"Your input exceeds the context window of this model ({input_tokens} tokens, the window is "
            f"{spec.context_window}). Please adjust your input and try again.",
            param="input",
            code="context_length_exceeded",
        )
    fmt = req.text.format if req.text is not None else None
    if isinstance(fmt, FormatJsonObject) and not any(
        "json" in json.dumps(m.get("content"), ensure_ascii=False).lower() for m in messages
    ):
        raise ApiError(
            400,
            "Response input messages must contain the word 'json' in some form to use 'text.format' of type "
            "'json_object'.",
            param="input",
        )
    data = view.data
    key = derive_seed(
        "responses",
        data.get("model"),
        messages,
        data.get("tools"),
        data.get("tool_choice"),
        data.get("parallel_tool_calls"),
        data.get("text"),
        data.get("reasoning"),
        data.get("temperature"),
        data.get("top_p"),
    )
    text = last_user_text(messages)
    hints = _hints(text) if text and view.functions else None
    calls = _calls(view.functions, req.tool_choice, req.parallel_tool_calls is not False, text)
    return _Conversation(context, messages, input_tokens, key, calls, hints)


def _calls(
    functions: tuple[_Function, ...], choice: str | ToolChoiceObject | None, parallel: bool, text: str | None
) -> tuple[_Function, ...]:
    """The functions the generator calls: chat's rule (docs/chat.md, "Tools") for Responses' tool_choice."""
    if not functions:
        return ()
    mode, forced, allowed = "auto", None, None
    if isinstance(choice, str):
        mode = choice
    elif choice is not None and choice.type == "file_search":
        return ()
    elif choice is not None and choice.type == "function":
        forced = choice.name
    elif choice is not None and choice.type == "allowed_tools":
        mode = choice.mode or "auto"
        allowed = {str(t.get("name")) for t in choice.tools or ()}
    if forced is not None:
        return tuple(f for f in functions if f.tool.name == forced)[:1]
    if mode not in ("auto", "required"):
        return ()
    candidates = [f for f in functions if allowed is None or f.tool.name in allowed]
    ranked: list[_Function] = []
    if text:
        asked = _words(text)
        scores = [(_relevance(f.relevance, asked), n) for n, f in enumerate(candidates)]
        ranked = [candidates[n] for score, n in sorted(scores, key=lambda p: (-p[0], p[1])) if score >= 2]
    if mode == "required" and not ranked:
        ranked = candidates[:1]
    return tuple(ranked if parallel else ranked[:1])


# -- what the model says ------------------------------------------------------------------------
def _reasoning(effort: str | None, rng: random.Random, limit: int | None) -> int:
    if effort is None:
        return 0
    lo, hi = _REASONING_RANGES.get(effort, _REASONING_RANGES["xhigh"])
    n = rng.randint(lo, hi) if hi else 0
    return n if limit is None else min(n, limit)


def _arguments(fn: _Function, hints: _Hints | None, rng: random.Random, k: int) -> str:
    try:
        value = instance_for(fn.schema, rng)
    except (SchemaError, RecursionError) as exc:
        raise _schema_error(
            exc, "function", fn.tool.name, f"tools[{fn.index}].parameters", "invalid_function_parameters"
        ) from None
    return json.dumps(_plausible(value, fn.schema, hints, k), ensure_ascii=False, separators=(",", ":"))


def _call(engine: Engine, spec: ModelSpec, rng: random.Random, name: str, args: str, budget: int | None) -> Out:
    pieces, counts = token_pieces(engine, spec, args)
    extra = engine.tokenizer(spec).count(name) + 3
    pieces, counts, whole = cap_pieces(pieces, counts, None if budget is None else max(0, budget - extra))
    return Out("function_call", pieces, counts, whole, name=name, call_id="call_" + random_token(rng, 24), extra=extra)


def _text_out(
    engine: Engine, spec: ModelSpec, text: str, budget: int | None, kind: str, logprobs: tuple[bool, int], rng: Any
) -> Out:
    pieces, counts = token_pieces(engine, spec, text)
    pieces, counts, whole = cap_pieces(pieces, counts, budget)
    out = Out("refusal" if kind == "refusal" else "message", pieces, counts, whole)
    if logprobs[0] and kind != "refusal":
        out.logprobs = piece_logprobs(engine, rng, pieces, logprobs[1])
    return out


def _plan(
    engine: Engine, p: _Parsed, conv: _Conversation, seed: int | None, reply: Reply | None, search: Search | None = None
) -> Outcome:
    req, spec = p.req, p.spec
    limit = req.max_output_tokens
    wants_logprobs = ("message.output_text.logprobs" in (req.include or ()), req.top_logprobs or 0)
    fmt = req.text.format if req.text is not None else None
    rng = rng_for(engine, seed, _STRUCTURED_STREAM)
    items: list[Out] = []
    if search is not None:  # the model searched first (api/responses_file_search.py)
        call = Out("file_search_call", [], [], extra=engine.tokenizer(spec).count(search.query) + 4)
        call.queries = [search.query]
        if "file_search_call.results" in (req.include or ()):
            call.results = search.results()
        items.append(call)
        limit = None if limit is None else max(0, limit - call.extra)
    if reply is not None:
        reasoning = 0
        if reply.kind == "tool_calls":
            budget = limit
            for k, (name, args) in enumerate(reply.tool_calls):
                if args is None:
                    fn = next((f for f in p.functions if f.tool.name == name), None)
                    args = "{}" if fn is None else _arguments(fn, conv.hints, rng, k)
                out = _call(engine, spec, rng, name, args, budget)
                items.append(out)
                if budget is not None:
                    budget -= out.output_tokens
                if not out.complete:
                    break
        else:
            items.append(_text_out(engine, spec, reply.content, limit, reply.kind, wants_logprobs, rng))
    elif conv.calls:
        reasoning = _reasoning(p.effort, rng, limit)
        budget = None if limit is None else limit - reasoning
        for k, fn in enumerate(conv.calls):
            if budget is not None and budget <= 0:
                break
            out = _call(engine, spec, rng, fn.tool.name, _arguments(fn, conv.hints, rng, k), budget)
            items.append(out)
            if budget is not None:
                budget -= out.output_tokens
            if not out.complete:
                break
    elif isinstance(fmt, FormatJsonSchema | FormatJsonObject):
        reasoning = _reasoning(p.effort, rng, limit)
        budget = None if limit is None else limit - reasoning
        if isinstance(fmt, FormatJsonSchema):
            try:
                value = instance_for(_all_required(fmt.schema_) if fmt.strict else fmt.schema_, rng)
            except (SchemaError, RecursionError) as exc:
                raise _schema_error(exc, "response_format", fmt.name, "text.format.schema", None) from None
        else:
            value = {"answer": "".join(engine.generator.generate(rng, max_tokens=80).pieces).strip()}
        if budget is None or budget > 0:
            text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
            items.append(_text_out(engine, spec, text, budget, "message", wants_logprobs, rng))
    elif search is not None and engine.settings.mode != "echo":
        reasoning = _reasoning(p.effort, rng, limit)
        budget = None if limit is None else limit - reasoning
        if budget is None or budget > 0:
            text, annotations = cited_answer(search)
            out = _text_out(engine, spec, text, budget, "message", wants_logprobs, rng)
            out.annotations = [a for a in annotations if a["index"] <= len(out.text)]
            items.append(out)
    else:
        plan = TextPlan(
            limit=limit,
            n=1,
            logprobs=wants_logprobs[0],
            top_logprobs=wants_logprobs[1],
            reasoning_effort=None if p.effort is None else p.effort if p.effort in _REASONING_RANGES else "xhigh",
            echo_text=(last_user_text(conv.messages) or "") if engine.settings.mode == "echo" else None,
        )
        choice = plan_choices(engine, spec, plan, seed)[0]
        reasoning = choice.reasoning_tokens
        if choice.pieces or choice.finish_reason == "stop":
            items.append(
                Out("message", choice.pieces, choice.tokens, choice.finish_reason == "stop", logprobs=choice.logprobs)
            )
    answered = any(o.kind != "file_search_call" for o in items)
    cut = (not answered and limit is not None and reasoning >= limit) or any(not o.complete for o in items)
    outcome = Outcome(reasoning, items, cut, reasoning_item=reasoning > 0)
    summary = (req.reasoning.summary or req.reasoning.generate_summary) if req.reasoning else None
    if reasoning and summary:
        outcome.summary = [_summary(engine, rng_for(engine, seed, _SUMMARY_STREAM), summary)]
    return outcome


def _summary(engine: Engine, rng: random.Random, kind: str) -> list[str]:
    """A reasoning summary as pieces: a bold title, a blank line, a paragraph."""
    gen = engine.generator
    title = gen.generate(rng, max_tokens=None, target_tokens=rng.randint(3, 6)).text.strip().rstrip(".")
    lo, hi = _SUMMARY_TOKENS.get(kind, _SUMMARY_TOKENS["auto"])
    body = gen.generate(rng, max_tokens=None, target_tokens=rng.randint(lo, hi))
    return ["**", title.lstrip(), "**\n\n", *(p.lstrip() if i == 0 else p for i, p in enumerate(body.pieces))]


# -- rendering ----------------------------------------------------------------------------------
def _output(engine: Engine, outcome: Outcome, encrypted: bool, rng: random.Random) -> list[dict[str, Any]]:
    """The output items, with fresh ids (``rs_``, ``msg_``, ``fc_``)."""
    output: list[dict[str, Any]] = []
    if outcome.reasoning_item:
        item: dict[str, Any] = {
            "id": "rs_" + engine.new_hex(48),
            "type": "reasoning",
            "summary": [{"type": "summary_text", "text": "".join(s)} for s in outcome.summary],
        }
        if encrypted:
            blob = rng.randbytes(32 + outcome.reasoning % 64)
            item["encrypted_content"] = "gAAAAA" + base64.urlsafe_b64encode(blob).decode("ascii")
        output.append(item)
    for out in outcome.items:
        status = "completed" if out.complete else "incomplete"
        if out.kind == "file_search_call":
            out.id = "fs_" + engine.new_hex(48)
            queries = list(out.queries or ())
            search_item = {"id": out.id, "type": "file_search_call", "status": "completed", "queries": queries}
            output.append({**search_item, "results": out.results})
            continue
        if out.kind == "function_call":
            out.id = "fc_" + engine.new_hex(48)
            output.append(
                {
                    "id": out.id,
                    "type": "function_call",
                    "status": status,
                    "arguments": out.text,
                    "call_id": out.call_id,
                    "name": out.name,
                }
            )
            continue
        out.id = "msg_" + engine.new_hex(48)
        part: dict[str, Any]
        if out.kind == "refusal":
            part = {"type": "refusal", "refusal": out.text}
        else:
            annotations = list(out.annotations or ())
            part = {"type": "output_text", "annotations": annotations, "logprobs": out.logprobs or [], "text": out.text}
        output.append({"id": out.id, "type": "message", "status": status, "content": [part], "role": "assistant"})
    return output


def _usage(input_tokens: int, cached: int, outcome: Outcome) -> dict[str, Any]:
    output_tokens = outcome.output_tokens
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": cached, "cache_write_tokens": 0},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": outcome.reasoning},
        "total_tokens": input_tokens + output_tokens,
    }


def _body(
    p: _Parsed,
    response_id: str,
    created: int,
    status: str,
    *,
    background: bool,
    output: list[dict[str, Any]],
    usage: dict[str, Any] | None,
    completed_at: int | None = None,
    incomplete: bool = False,
) -> dict[str, Any]:
    req = p.req
    return {
        "id": response_id,
        "object": "response",
        "created_at": created,
        "status": status,
        "background": background,
        "completed_at": completed_at,
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if incomplete else None,
        **p.echo_head,
        "output": output,
        **p.echo_tail,
        "usage": usage,
        "user": req.user,
        "metadata": dict(req.metadata or {}),
    }


def create_response(engine: Engine, request: ApiRequest, script: Script | None = None) -> ApiResponse:
    """``POST /v1/responses``; with ``script``, a scripted rule may say what the model says."""
    p = _parse(engine, request.body)
    req, spec = p.req, p.spec
    conv = p.standalone or _conversation(engine, spec, req, p, p.items)
    seed = request_rng_seed(engine, conv.key, seed=None, deterministic=req.temperature == 0)
    reply = None
    if script is not None:
        data: dict[str, Any] = {"model": req.model, "messages": conv.messages}
        if p.chat_tools:
            data["tools"] = p.chat_tools
        reply = script.answer(RESPONSES_PATH, data, request)
    tok = engine.tokenizer(spec)
    search = prepare_file_search(engine, tok, p.file_search, req.tool_choice, last_user_text(conv.messages))
    outcome = _plan(engine, p, conv, seed, reply, search)
    input_tokens = conv.input_tokens + (search.input_tokens if search is not None else 0)

    now = engine.clock.elapsed()
    timeline = engine.serving.plan(
        spec,
        now=now,
        prompt_tokens=input_tokens,
        blocks=conv.blocks(engine, p.chat_tools, spec),
        output_tokens=outcome.output_tokens,
    )
    usage = _usage(input_tokens, reported_cached(spec, input_tokens, timeline.cached_tokens), outcome)
    response_id = "resp_" + engine.new_hex(48)
    created = int(engine.clock.now())
    due = timeline.e2e
    include = req.include or ()
    output = _output(engine, outcome, "reasoning.encrypted_content" in include, rng_for(engine, seed, _SUMMARY_STREAM))
    background = bool(req.background)
    status = "incomplete" if outcome.cut else "completed"
    final = _body(
        p,
        response_id,
        created,
        status,
        background=background,
        output=output,
        usage=usage,
        completed_at=None if outcome.cut else created + round(due),
        incomplete=outcome.cut,
    )
    per_chunk = engine.settings.stream_chunk_tokens

    def head() -> dict[str, Any]:
        return _body(p, response_id, created, "in_progress", background=background, output=[], usage=None)

    def events() -> Iterator[tuple[float, bytes]]:
        """The stream (the same bytes every time: a background response's events can be replayed)."""
        return response_events(
            head(),
            final,
            outcome,
            queued=background,
            due_of=timeline.due,
            end=timeline.e2e,
            per_chunk=per_chunk,
            obfuscate=req.stream_options is None or req.stream_options.include_obfuscation is not False,
            rng=random.Random(derive_seed(engine.seed, "responses-stream", response_id)),
        )

    if req.store is not False:
        context = with_ids(conv.context, lambda prefix: prefix + engine.new_hex(48))
        stored = Stored(final, context, background, now, now + due, replay=events if background else None)
        response_store(engine).put(response_id, stored)
    served: dict[str, Any] = {
        "timeline": timeline,
        "model": spec.id,
        "usage": usage,
        "finish_reason": "length" if outcome.cut else "stop",
    }
    if req.stream:
        return ApiResponse(
            200, response_headers(engine, timeline.ttft, stream=True), stream=TimedStream(events()), **served
        )
    if background:
        queued = {**head(), "status": "queued"}
        return json_response(engine, queued)
    return json_response(engine, final, due=due, **served)


@dataclass(slots=True)
class _CountView:
    functions: tuple[_Function, ...]
    chat_tools: list[dict[str, Any]] | None
    data: dict[str, Any] = field(default_factory=dict)


def count_input_tokens(engine: Engine, request: ApiRequest) -> ApiResponse:
    """``POST /v1/responses/input_tokens``: the input tokens a response to this request would use."""
    data = load_json(request.body)
    req: TokenCountRequest = _parse_request(TokenCountRequest, data)
    spec = resolve_model(engine, req.model)
    items = resource_items(req.input)
    _check_common(req, spec, items)
    functions = _check_tools(req, spec)
    conv = _conversation(engine, spec, req, _CountView(functions, _chat_tools(functions), data), items)
    body = {"object": "response.input_tokens", "input_tokens": conv.input_tokens}
    return json_response(engine, body)
