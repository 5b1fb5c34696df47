"""``POST /v1/chat/completions``."""

from __future__ import annotations

import json
import random
import string
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic_core import to_json

from ..engine.schema import instance_for
from .common import (
    Choice,
    TextPlan,
    check_context,
    check_limit,
    check_stream_options,
    content_key,
    dumps,
    plan_choices,
    request_rng_seed,
    resolve_model,
    response_headers,
    rng_for,
    sse,
    token_pieces,
)
from .errors import ApiError, unsupported_parameter, unsupported_value
from .types import ApiRequest, ApiResponse, TimedStream
from .validation import load_json, parse_data
from .wire import ChatRequest, FunctionTool

if TYPE_CHECKING:
    from ..engine.core import Engine
    from ..engine.registry import ModelSpec

__all__ = ["create_chat_completion"]

_OBFUSCATION = string.ascii_letters + string.digits
# sub-stream numbers of a request's seed (choices use 0..n-1)
_STREAM_STREAM = 1 << 20
_STRUCTURED_STREAM = 2 << 20


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return " ".join(
                    str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") == "text"
                )
    return ""


def _unanswered(pending: list[str], index: int) -> ApiError:
    return ApiError(
        400,
        "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
        f"'tool_call_id'. The following tool_call_ids did not have response messages: {', '.join(pending)}",
        param=f"messages.[{index}].role",
    )


def _check_tool_conversation(messages: list[dict[str, Any]]) -> None:
    """Tool results must answer the preceding assistant's tool calls, each of them (OpenAI's rule)."""
    pending: list[str] = []  # ids of the last assistant message's calls not yet answered
    open_index = -1
    for i, message in enumerate(messages):
        role = message.get("role")
        if role == "tool":
            if open_index < 0:
                raise ApiError(
                    400,
                    "Invalid parameter: messages with role 'tool' must be a response to a preceeding message "
                    "with 'tool_calls'.",
                    param=f"messages.[{i}].role",
                )
            call_id = message.get("tool_call_id")
            if call_id not in pending:
                raise ApiError(
                    400,
                    f"Invalid parameter: 'tool_call_id' of '{call_id}' not found in 'tool_calls' of previous message.",
                    param=f"messages.[{i}].tool_call_id",
                )
            pending.remove(call_id)
            continue
        if pending:
            raise _unanswered(pending, open_index)
        open_index = -1
        if role == "assistant" and message.get("tool_calls"):
            pending = [str(c.get("id")) for c in message["tool_calls"] if isinstance(c, dict)]
            open_index = i
    if pending:
        raise _unanswered(pending, open_index)


def _validate(req: ChatRequest, spec: ModelSpec, data: dict[str, Any]) -> int | None:
    """Checks OpenAI makes beyond types and ranges; returns the completion token limit."""
    if spec.kind not in ("chat", "reasoning"):
        raise ApiError(
            404,
            f"This is not a chat model and thus not supported in the v1/chat/completions endpoint. "
            f"`{spec.id}` is a{'n' if spec.kind[0] in 'aeiou' else ''} {spec.kind} model.",
            param="model",
        )
    _check_tool_conversation(data["messages"])
    if req.max_tokens is not None and not spec.supports_max_tokens:
        raise unsupported_parameter("max_tokens", "Use 'max_completion_tokens' instead.")
    if not spec.supports_temperature:
        for name in ("temperature", "top_p"):
            value = getattr(req, name)
            if value is not None and value != 1:
                raise unsupported_value(
                    name,
                    f"'{name}' does not support {value:g} with this model. Only the default (1) value is supported.",
                )
    if req.logprobs and not spec.logprobs:
        raise unsupported_parameter("logprobs")
    if req.reasoning_effort is not None:
        if not spec.reasoning:
            raise unsupported_parameter("reasoning_effort")
        if spec.reasoning_efforts and req.reasoning_effort not in spec.reasoning_efforts:
            from .errors import invalid_value

            raise invalid_value("reasoning_effort", req.reasoning_effort, spec.reasoning_efforts)
    if req.top_logprobs is not None and not req.logprobs:
        raise ApiError(
            400,
            "Invalid value for 'top_logprobs': 'logprobs' must be set to true when 'top_logprobs' is used.",
            param="top_logprobs",
            code="invalid_value",
        )
    check_stream_options(req.stream, req.stream_options)
    if req.tool_choice is not None and not req.tools:
        raise ApiError(
            400,
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
            param="tool_choice",
            code="invalid_value",
        )
    if req.tools and not spec.tools:
        raise ApiError(400, f"Tools are not supported with the model `{spec.id}`.", param="tools")
    if req.tools and not isinstance(req.tool_choice, str | None) and req.tool_choice.function is not None:
        wanted = req.tool_choice.function.name
        names = [t.function.name for t in req.tools if isinstance(t, FunctionTool)]
        if wanted not in names:
            raise ApiError(
                400,
                f"Invalid value for 'tool_choice': tool choice '{wanted}' not found in 'tools' parameter.",
                param="tool_choice",
                code="invalid_value",
            )
    fmt = req.response_format
    if fmt is not None and fmt.type == "json_schema" and fmt.json_schema is None:
        raise ApiError(
            400,
            "Missing required parameter: 'response_format.json_schema'.",
            param="response_format.json_schema",
            code="missing_required_parameter",
        )
    if req.logit_bias:
        for key in req.logit_bias:
            if not key.isdigit():
                raise ApiError(
                    400,
                    f"Invalid key in 'logit_bias': {key}. Keys must be token ids.",
                    param="logit_bias",
                    code="invalid_value",
                )
    if not spec.vision:
        for i, message in enumerate(data["messages"]):
            content = message.get("content")
            if isinstance(content, list):
                for j, part in enumerate(content):
                    if isinstance(part, dict) and part.get("type") == "image_url":
                        raise ApiError(
                            400,
                            "Invalid content type. image_url is only supported by certain models.",
                            param=f"messages[{i}].content[{j}].type",
                            code="invalid_value",
                        )
    if req.modalities and "audio" in req.modalities and not spec.audio_output:
        raise ApiError(
            400,
            f"This model does not support the audio modality: `{spec.id}`.",
            param="modalities",
            code="invalid_value",
        )
    if req.max_tokens is not None and req.max_completion_tokens is not None:
        raise ApiError(
            400,
            "max_tokens and max_completion_tokens cannot both be set. Use 'max_completion_tokens'.",
            param="max_tokens",
            code="invalid_value",
        )
    if req.max_completion_tokens is not None:
        check_limit(spec, req.max_completion_tokens, "max_completion_tokens")
        return req.max_completion_tokens
    check_limit(spec, req.max_tokens, "max_tokens")
    return req.max_tokens


def _forced_tool(req: ChatRequest) -> list[Any]:
    """Tools the model must call: ``tool_choice`` required or named."""
    if not req.tools or req.tool_choice in (None, "none", "auto"):
        return []
    functions = [t for t in req.tools if isinstance(t, FunctionTool)]
    if isinstance(req.tool_choice, str):  # "required"
        return functions[:1]
    named = req.tool_choice.function
    return [t for t in functions if named is not None and t.function.name == named.name][:1]


@dataclass(frozen=True, slots=True)
class _Parsed:
    """Everything a chat request body determines: a pure function of the bytes and the model spec."""

    data: dict[str, Any]
    req: ChatRequest
    spec: ModelSpec
    limit: int | None
    prompt_tokens: int
    key: int


_CACHE_SIZE = 256


def _parse(engine: Engine, body: bytes) -> _Parsed:
    """Parse, validate and count a body -- once: repeated bodies (tests, load) reuse the result."""
    cache: dict[bytes, _Parsed] = engine.caches.setdefault("chat", {})
    hit = cache.get(body)
    if hit is not None and engine.registry.get(hit.req.model) is hit.spec:
        return hit
    data = load_json(body)
    req = parse_data(ChatRequest, data)
    spec = resolve_model(engine, req.model)
    limit = _validate(req, spec, data)
    tools_data = data.get("tools") if req.tools else None
    prompt_tokens = engine.tokenizer(spec).count_chat(data["messages"], tools=tools_data)
    check_context(spec, prompt_tokens, limit)
    parsed = _Parsed(data, req, spec, limit, prompt_tokens, content_key(data))
    if len(cache) >= _CACHE_SIZE:
        cache.clear()
    cache[body] = parsed
    return parsed


def create_chat_completion(engine: Engine, request: ApiRequest) -> ApiResponse:
    parsed = _parse(engine, request.body)
    data, req, spec, limit, prompt_tokens = parsed.data, parsed.req, parsed.spec, parsed.limit, parsed.prompt_tokens
    seed = request_rng_seed(engine, parsed.key, seed=req.seed, deterministic=req.temperature == 0)
    n = req.n or 1
    stop = [req.stop] if isinstance(req.stop, str) else list(req.stop or ())
    plan = TextPlan(
        limit=limit,
        n=n,
        stop=stop,
        min_tokens=req.min_tokens or 0,
        ignore_eos=bool(req.ignore_eos),
        logprobs=bool(req.logprobs),
        top_logprobs=req.top_logprobs or 0,
        reasoning_effort=req.reasoning_effort or spec.default_reasoning_effort,
        echo_text=_last_user_text(data["messages"]) if engine.settings.mode == "echo" else None,
    )
    forced = _forced_tool(req) if req.tools else []
    fmt = req.response_format
    if forced or (fmt is not None and fmt.type != "text"):
        choices = _structured_choices(engine, spec, req, plan, seed, forced)
    else:
        choices = plan_choices(engine, spec, plan, seed)

    completion_tokens = sum(c.completion_tokens for c in choices)
    reasoning_tokens = sum(c.reasoning_tokens for c in choices)
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }
    settings = engine.settings
    ttft = settings.ttft
    itl = settings.itl
    longest = max((sum(c.tokens) + c.reasoning_tokens for c in choices), default=0)
    created = int(engine.clock.now())
    head = {
        "id": engine.new_id("chatcmpl-", 29),
        "created": created,
        "model": spec.response_model,
        "service_tier": "default" if req.service_tier in (None, "auto") else req.service_tier,
        "system_fingerprint": engine.fingerprint(spec.id),
    }
    if not req.stream:
        due = ttft + itl * max(0, longest - 1)
        body = {
            "id": head["id"],
            "object": "chat.completion",
            "created": created,
            "model": head["model"],
            "choices": [_message_choice(i, c) for i, c in enumerate(choices)],
            "usage": usage,
            "service_tier": head["service_tier"],
            "system_fingerprint": head["system_fingerprint"],
        }
        return ApiResponse(200, response_headers(engine, due), dumps(body), due=due, json=body)

    options = req.stream_options
    include_usage = bool(options and options.include_usage)
    obfuscate = options is None or options.include_obfuscation is not False
    rng = rng_for(engine, seed, _STREAM_STREAM)
    chunks = _stream_chunks(
        head,
        choices,
        usage if include_usage else None,
        obfuscate,
        rng,
        ttft=ttft,
        itl=itl,
        per_chunk=settings.stream_chunk_tokens,
    )
    return ApiResponse(200, response_headers(engine, ttft, stream=True), stream=TimedStream(chunks))


def _message_choice(index: int, c: Choice) -> dict[str, Any]:
    message: dict[str, Any] = {
        "role": "assistant",
        "content": None if c.tool_calls else c.text,
        "refusal": None,
        "annotations": [],
    }
    if c.tool_calls:
        message["tool_calls"] = c.tool_calls
    return {
        "index": index,
        "message": message,
        "logprobs": None if c.logprobs is None else {"content": c.logprobs, "refusal": None},
        "finish_reason": c.finish_reason,
    }


def _obfuscation(rng: random.Random) -> str:
    return "".join(rng.choices(_OBFUSCATION, k=rng.randint(1, 16)))


def _stream_chunks(
    head: dict[str, Any],
    choices: list[Choice],
    usage: dict[str, Any] | None,
    obfuscate: bool,
    rng: random.Random,
    *,
    ttft: float,
    itl: float,
    per_chunk: int,
) -> Iterator[tuple[float, bytes]]:
    """The SSE events of a chat stream, produced lazily: role first, finish_reason last, then usage."""
    base = {
        "id": head["id"],
        "object": "chat.completion.chunk",
        "created": head["created"],
        "model": head["model"],
        "service_tier": head["service_tier"],
        "system_fingerprint": head["system_fingerprint"],
    }

    def chunk(choice_list: list[dict[str, Any]], *, final_usage: dict[str, Any] | None = None) -> bytes:
        event = dict(base)
        event["choices"] = choice_list
        if usage is not None:
            event["usage"] = final_usage
        if obfuscate:
            event["obfuscation"] = _obfuscation(rng)
        return sse(event)

    for index, c in enumerate(choices):
        first_due = ttft + itl * c.reasoning_tokens
        yield (
            first_due,
            chunk(
                [
                    {
                        "index": index,
                        "delta": {
                            "role": "assistant",
                            "content": "" if not c.tool_calls else None,
                            "refusal": None,
                        },
                        "logprobs": None,
                        "finish_reason": None,
                    }
                ]
            ),
        )
        due = first_due
        if c.tool_calls:
            for k, (call, parts) in enumerate(zip(c.tool_calls, c.tool_pieces or [], strict=True)):
                fn = call["function"]
                yield (
                    due,
                    chunk(
                        [
                            {
                                "index": index,
                                "delta": {
                                    "tool_calls": [
                                        {
                                            "index": k,
                                            "id": call["id"],
                                            "type": "function",
                                            "function": {"name": fn["name"], "arguments": ""},
                                        }
                                    ]
                                },
                                "logprobs": None,
                                "finish_reason": None,
                            }
                        ]
                    ),
                )
                for start in range(0, len(parts), per_chunk):
                    due += itl * per_chunk
                    yield (
                        due,
                        chunk(
                            [
                                {
                                    "index": index,
                                    "delta": {
                                        "tool_calls": [
                                            {
                                                "index": k,
                                                "function": {"arguments": "".join(parts[start : start + per_chunk])},
                                            }
                                        ]
                                    },
                                    "logprobs": None,
                                    "finish_reason": None,
                                }
                            ]
                        ),
                    )
        else:
            pieces = c.pieces
            lps = c.logprobs
            # Content chunks differ only in their text: encode the fixed parts once. The bytes are
            # exactly what chunk() would produce (same keys, same order).
            prefix = (
                b"data: " + sse(base)[6:-3] + b',"choices":[{"index":' + str(index).encode() + b',"delta":{"content":'
            )
            suffix = b'},"logprobs":null,"finish_reason":null}]' + (b',"usage":null' if usage is not None else b"")
            for start in range(0, len(pieces), per_chunk):
                text = "".join(pieces[start : start + per_chunk])
                if not text:
                    continue
                if lps is None:
                    tail = b',"obfuscation":' + to_json(_obfuscation(rng)) if obfuscate else b""
                    yield due, prefix + to_json(text) + suffix + tail + b"}\n\n"
                else:
                    yield (
                        due,
                        chunk(
                            [
                                {
                                    "index": index,
                                    "delta": {"content": text},
                                    "logprobs": {"content": lps[start : start + per_chunk], "refusal": None},
                                    "finish_reason": None,
                                }
                            ]
                        ),
                    )
                due += itl * sum(c.tokens[start : start + per_chunk])
        yield due, chunk([{"index": index, "delta": {}, "logprobs": None, "finish_reason": c.finish_reason}])
    end = ttft + itl * max((sum(c.tokens) + c.reasoning_tokens for c in choices), default=0)
    if usage is not None:
        yield end, chunk([], final_usage=usage)
    yield end, b"data: [DONE]\n\n"


def _structured_choices(
    engine: Engine, spec: ModelSpec, req: ChatRequest, plan: TextPlan, seed: int | None, forced: list[Any]
) -> list[Choice]:
    """Choices whose content is a tool call or JSON for ``response_format``."""
    out = []
    tok = engine.tokenizer(spec)
    for index in range(plan.n):
        rng = rng_for(engine, seed, _STRUCTURED_STREAM + index)
        if forced:
            calls, pieces_per_call, counts = [], [], []
            for tool in forced:
                params = tool.function.parameters or {"type": "object", "properties": {}}
                args = json.dumps(instance_for(params, rng), ensure_ascii=False)
                arg_pieces, arg_counts = token_pieces(engine, spec, args)
                calls.append(
                    {
                        "id": "call_" + "".join(rng.choices(_OBFUSCATION, k=24)),
                        "type": "function",
                        "function": {"name": tool.function.name, "arguments": args},
                    }
                )
                pieces_per_call.append(arg_pieces)
                counts.append(sum(arg_counts) + tok.count(tool.function.name) + 3)
            out.append(Choice([], counts, 0, "tool_calls", tool_calls=calls, tool_pieces=pieces_per_call))
            continue
        fmt = req.response_format
        assert fmt is not None
        if fmt.type == "json_schema" and fmt.json_schema is not None:
            value = instance_for(fmt.json_schema.schema_ or {}, rng)
        else:
            value = {"answer": " ".join(engine.generator.generate(rng, max_tokens=12).pieces).strip()}
        pieces, counts = token_pieces(engine, spec, json.dumps(value, ensure_ascii=False))
        if plan.limit is not None and sum(counts) > plan.limit:
            keep, total = 0, 0
            while keep < len(counts) and total + counts[keep] <= plan.limit:
                total += counts[keep]
                keep += 1
            out.append(Choice(pieces[:keep], counts[:keep], 0, "length", json_text=True))
        else:
            out.append(Choice(pieces, counts, 0, "stop", json_text=True))
    return out
