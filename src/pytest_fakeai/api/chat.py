"""``POST /v1/chat/completions``."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic_core import to_json

from ..engine.core import random_token
from ..engine.schema import SchemaError, check_schema, instance_for
from .common import (
    Choice,
    TextPlan,
    apply_stop,
    cap_pieces,
    check_context,
    check_limit,
    check_stream_options,
    content_key,
    json_response,
    piece_logprobs,
    plan_choices,
    prompt_blocks,
    reported_cached,
    request_rng_seed,
    resolve_model,
    response_headers,
    rng_for,
    sse,
    token_pieces,
)
from .errors import ApiError, unsupported_parameter, unsupported_value
from .script import CHAT_PATH, Reply
from .types import ApiRequest, ApiResponse, TimedStream
from .validation import load_json, parse_data
from .wire import ChatRequest, FunctionDef, FunctionTool, NamedFunction

if TYPE_CHECKING:
    from ..engine.core import Engine
    from ..engine.registry import ModelSpec
    from ..engine.serving import Timeline
    from .script import Script

__all__ = ["create_chat_completion"]

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
    if req.function_call is not None and not req.functions:
        raise ApiError(
            400,
            "Invalid value for 'function_call': 'function_call' is only allowed when 'functions' are specified.",
            param="function_call",
            code="invalid_value",
        )
    if req.functions and not spec.tools:
        raise ApiError(400, f"Functions are not supported with the model `{spec.id}`.", param="functions")
    if (
        isinstance(req.function_call, NamedFunction)
        and req.functions
        and req.function_call.name not in [f.name for f in req.functions]
    ):
        raise ApiError(
            400,
            f"Invalid value for 'function_call': function '{req.function_call.name}' not found in 'functions'.",
            param="function_call",
            code="invalid_value",
        )
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


# -- tools: which the generator calls, with what arguments --------------------------------------
_STOP_TEXT = """a an the and or but if then else of in on at to for from by with about as into over under is are was
    were be been being am do does did done can could would should will shall may might must i me my mine we us
    our you your it its this that these those what which who whom whose when where why how please tell give
    show get set let make use using some any all there here not no yes hi hey hello thanks thank just like
    want need know now today really very much many more most also than too via per each one"""
_STOP_WORDS = frozenset(_STOP_TEXT.split())  # words too common to tie a message to a tool
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.])")
_PROPER = re.compile(r"[A-Za-z][\w'’-]*|[.!?;:\n]")
_PLACE_PARAMS = (
    "city",
    "location",
    "place",
    "town",
    "country",
    "destination",
    "origin",
    "region",
    "address",
    "timezone",
)
_QUERY_PARAMS = frozenset(
    {"query", "q", "search", "search_query", "question", "text", "prompt", "topic", "keywords", "input"}
)
_NOT_SIMPLE = frozenset({"enum", "const", "pattern", "format", "$ref", "anyOf", "oneOf", "allOf", "not", "if"})
_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
_RELEVANT = 2  # a word of the tool's name, or two of its description / parameter names


def _stem(word: str) -> str:
    word = word.lower()
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _words(text: str) -> set[str]:
    return {_stem(w) for w in _WORD.findall(text) if len(w) >= 3 and w.lower() not in _STOP_WORDS}


def _relevance(fn: FunctionDef, asked: set[str]) -> int:
    """How much the user's words overlap a tool: 2 per word of its name, 1 per other shared word."""
    named = _words(fn.name) & asked
    other = set(_words(fn.description or ""))
    props = (fn.parameters or {}).get("properties")
    if isinstance(props, dict):
        for key in props:
            other |= _words(str(key))
    return 2 * len(named) + len((other - named) & asked)


@dataclass(frozen=True, slots=True)
class _Hints:
    """What the user's message offers for plausible arguments: proper nouns, numbers, the text."""

    text: str
    nouns: tuple[str, ...]
    numbers: tuple[str, ...]


def _hints(text: str) -> _Hints:
    nouns: list[str] = []
    run: list[str] = []
    start = True
    for m in _PROPER.finditer(text):
        token = m.group()
        if not token[0].isalpha():
            start = True
            if run:
                nouns.append(" ".join(run))
                run = []
            continue
        if token[0].isupper() and not start and token != "I":
            run.append(token)
        elif run:
            nouns.append(" ".join(run))
            run = []
        start = False
    if run:
        nouns.append(" ".join(run))
    return _Hints(text.strip(), tuple(dict.fromkeys(nouns)), tuple(_NUMBER.findall(text)))


def _types(schema: dict[str, Any]) -> set[str]:
    kind = schema.get("type")
    return {kind} if isinstance(kind, str) else set(kind) if isinstance(kind, list) else set()


def _fits_string(value: str, schema: dict[str, Any]) -> bool:
    if "string" not in _types(schema) or _NOT_SIMPLE & schema.keys():
        return False
    lo, hi = schema.get("minLength", 0), schema.get("maxLength")
    return isinstance(lo, int) and len(value) >= lo and (not isinstance(hi, int) or len(value) <= hi)


def _fits_number(value: int | float, schema: dict[str, Any]) -> bool:
    kinds = _types(schema)
    if _NOT_SIMPLE & schema.keys() or "multipleOf" in schema:
        return False
    if not ("number" in kinds or ("integer" in kinds and isinstance(value, int))):
        return False
    bound = {k: schema[k] for k in _BOUNDS if isinstance(schema.get(k), int | float)}
    return (
        value >= bound.get("minimum", value)
        and value <= bound.get("maximum", value)
        and ("exclusiveMinimum" not in bound or value > bound["exclusiveMinimum"])
        and ("exclusiveMaximum" not in bound or value < bound["exclusiveMaximum"])
    )


def _plausible(args: Any, params: dict[str, Any], hints: _Hints | None, k: int) -> Any:
    """Put the user's own words where a parameter asks for them (a city, a query, a number), if valid."""
    props = params.get("properties")
    if hints is None or not isinstance(args, dict) or not isinstance(props, dict):
        return args
    numbers = list(hints.numbers)
    for name, sub in props.items():
        if name not in args or not isinstance(sub, dict):
            continue
        lowered = name.lower()
        if hints.nouns and any(p in lowered for p in _PLACE_PARAMS):
            noun = hints.nouns[k % len(hints.nouns)]
            if _fits_string(noun, sub):
                args[name] = noun
        elif lowered in _QUERY_PARAMS and hints.text and _fits_string(hints.text, sub):
            args[name] = hints.text
        elif numbers and _types(sub) & {"integer", "number"}:
            for i, raw in enumerate(numbers):
                value: int | float = float(raw) if "." in raw else int(raw)
                if _fits_number(value, sub):
                    args[name] = value
                    del numbers[i]
                    break
    return args


@dataclass(frozen=True, slots=True)
class _Tools:
    """A request's functions (tools or legacy ``functions``) and those the generator calls."""

    functions: tuple[tuple[int, FunctionDef], ...]  # (index in tools / functions, definition)
    call: tuple[tuple[int, FunctionDef], ...]
    legacy: bool
    hints: _Hints | None

    def find(self, name: str) -> tuple[int, FunctionDef] | None:
        return next((f for f in self.functions if f[1].name == name), None)


def _last_turn_text(messages: list[dict[str, Any]]) -> str | None:
    """The last message's text when it is the user's (the turn the model answers), else None."""
    if not messages or messages[-1].get("role") != "user":
        return None
    content = messages[-1].get("content")
    if isinstance(content, str):
        return content
    return " ".join(str(p.get("text", "")) for p in content or () if isinstance(p, dict) and p.get("type") == "text")


def _tools(req: ChatRequest, data: dict[str, Any]) -> _Tools | None:
    """Decide, once per request body, which functions the generator calls (docs/chat.md, "Tools")."""
    choice: Any
    if req.tools:
        functions = tuple((i, t.function) for i, t in enumerate(req.tools) if isinstance(t, FunctionTool))
        choice, legacy, parallel = req.tool_choice or "auto", False, req.parallel_tool_calls is not False
    elif req.functions:
        functions = tuple(enumerate(req.functions))
        choice, legacy, parallel = req.function_call or "auto", True, False
    else:
        return None
    text = _last_turn_text(data["messages"])
    hints = _hints(text) if text else None
    mode, forced, allowed = "auto", None, None
    if isinstance(choice, str):
        mode = choice
    elif isinstance(choice, NamedFunction):
        forced = choice.name
    elif choice.type == "function" and choice.function is not None:
        forced = choice.function.name
    elif choice.type == "allowed_tools" and isinstance(choice.allowed_tools, dict):
        mode = str(choice.allowed_tools.get("mode", "auto"))
        allowed = {
            str((t.get("function") or {}).get("name"))
            for t in choice.allowed_tools.get("tools") or ()
            if isinstance(t, dict)
        }
    else:  # a custom tool: the generator does not write custom tool input
        mode = "none"
    if forced is not None:
        call = tuple(f for f in functions if f[1].name == forced)[:1]
    elif mode not in ("auto", "required"):
        call = ()
    else:
        candidates = [f for f in functions if allowed is None or f[1].name in allowed]
        ranked: list[tuple[int, FunctionDef]] = []
        if text:
            asked = _words(text)
            scores = [(_relevance(f[1], asked), n) for n, f in enumerate(candidates)]
            ranked = [candidates[n] for score, n in sorted(scores, key=lambda p: (-p[0], p[1])) if score >= _RELEVANT]
        if mode == "required" and not ranked:
            ranked = candidates[:1]
        call = tuple(ranked if parallel else ranked[:1])
    return _Tools(functions, call, legacy, hints)


def _schema_error(exc: SchemaError | RecursionError, what: str, name: str, param: str, code: str | None) -> ApiError:
    """OpenAI's wording: "Invalid schema for response_format 'x': In context=('properties', 'y'), ..."."""
    if isinstance(exc, SchemaError):
        parts = [p.replace("~1", "/").replace("~0", "~") for p in exc.path.lstrip("#").split("/") if p]
        context = tuple(parts[:-1] if parts and parts[-1] == exc.keyword else parts)  # the object holding it
        detail = exc.message if exc.keyword in exc.message else f"'{exc.keyword}': {exc.message}"
    else:
        context, detail = (), "the schema nests too deeply to generate a value"
    return ApiError(400, f"Invalid schema for {what} '{name}': In context={context}, {detail}", param=param, code=code)


def _function_param(tools: _Tools, index: int) -> str:
    return f"functions[{index}].parameters" if tools.legacy else f"tools[{index}].function.parameters"


def _check_schemas(req: ChatRequest, tools: _Tools | None) -> None:
    """A schema the simulator cannot satisfy is a 400 naming the keyword, as OpenAI rejects bad schemas."""
    for index, fn in tools.functions if tools is not None else ():
        if fn.parameters is not None:
            try:
                check_schema(fn.parameters)
            except SchemaError as exc:
                assert tools is not None
                raise _schema_error(
                    exc, "function", fn.name, _function_param(tools, index), "invalid_function_parameters"
                ) from None
    fmt = req.response_format
    if fmt is not None and fmt.json_schema is not None and fmt.json_schema.schema_ is not None:
        try:
            check_schema(fmt.json_schema.schema_)
        except SchemaError as exc:
            raise _schema_error(exc, "response_format", fmt.json_schema.name, "response_format", None) from None


def _arguments(tools: _Tools | None, index: int, fn: FunctionDef, rng: random.Random, k: int) -> str:
    """Arguments for a call of ``fn``: valid against its ``parameters``, using the user's words where they fit."""
    params = fn.parameters or {"type": "object", "properties": {}}
    try:
        value = instance_for(params, rng)
    except (SchemaError, RecursionError) as exc:
        param = _function_param(tools, index) if tools is not None else f"tools[{index}].function.parameters"
        raise _schema_error(exc, "function", fn.name, param, "invalid_function_parameters") from None
    return json.dumps(
        _plausible(value, params, tools.hints if tools else None, k), ensure_ascii=False, separators=(",", ":")
    )


def _call_id(rng: random.Random) -> str:
    return "call_" + random_token(rng, 24)


def _tool_choice(
    engine: Engine, spec: ModelSpec, rng: random.Random, calls: Sequence[tuple[str, str]], legacy: bool
) -> Choice:
    """One choice made of tool calls (or the legacy ``function_call``: the first call only)."""
    tok = engine.tokenizer(spec)
    out, pieces_per_call, counts = [], [], []
    for name, args in calls[:1] if legacy else calls:
        arg_pieces, arg_counts = token_pieces(engine, spec, args)
        out.append({"id": _call_id(rng), "type": "function", "function": {"name": name, "arguments": args}})
        pieces_per_call.append(arg_pieces)
        counts.append(sum(arg_counts) + tok.count(name) + 3)
    finish = "function_call" if legacy else "tool_calls"
    return Choice([], counts, 0, finish, tool_calls=out, tool_pieces=pieces_per_call, function_call=legacy)


@dataclass(frozen=True, slots=True)
class _Parsed:
    """Everything a chat request body determines: a pure function of the bytes and the model spec."""

    data: dict[str, Any]
    req: ChatRequest
    spec: ModelSpec
    limit: int | None
    prompt_tokens: int
    key: int
    tools: _Tools | None  # None: the request offers no functions
    kv: dict[int, list[int]] = field(default_factory=dict)  # block size -> the prompt's KV block hashes

    def blocks(self, engine: Engine) -> list[int]:
        """The prompt's KV-cache block hashes (computed once per body and block size)."""
        settings = engine.settings
        if not settings.kv_cache:
            return []
        size = settings.kv_block_size
        got = self.kv.get(size)
        if got is None:
            tools = self.data.get("tools") or self.data.get("functions")
            got = self.kv[size] = prompt_blocks(engine.tokenizer(self.spec), self.data["messages"], size, tools)
        return got


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
    tools = _tools(req, data) if req.tools or req.functions else None
    if tools is not None or req.response_format is not None:
        _check_schemas(req, tools)
    tools_data = data.get("tools") if req.tools else None
    if req.functions and not req.tools:
        tools_data = [{"type": "function", "function": f} for f in data["functions"]]
    prompt_tokens = engine.tokenizer(spec).count_chat(data["messages"], tools=tools_data)
    check_context(spec, prompt_tokens, limit)
    parsed = _Parsed(data, req, spec, limit, prompt_tokens, content_key(data), tools)
    if len(cache) >= _CACHE_SIZE:
        cache.clear()
    cache[body] = parsed
    return parsed


def create_chat_completion(engine: Engine, request: ApiRequest, script: Script | None = None) -> ApiResponse:
    """Answer a chat completion; with ``script``, a scripted rule may say what the model says."""
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
    reply = None
    if script is not None:
        reply = script.answer(CHAT_PATH, data, request)
    fmt = req.response_format
    if reply is not None:
        choices = _scripted_choices(engine, parsed, plan, seed, reply)
    elif parsed.tools is not None and parsed.tools.call:
        choices = _generated_tool_choices(engine, parsed, plan, seed)
    elif fmt is not None and fmt.type != "text":
        choices = _structured_choices(engine, spec, req, plan, seed)
    else:
        choices = plan_choices(engine, spec, plan, seed)

    completion_tokens = sum(c.completion_tokens for c in choices)
    reasoning_tokens = sum(c.reasoning_tokens for c in choices)
    longest = max((sum(c.tokens) + c.reasoning_tokens for c in choices), default=0)
    timeline = engine.serving.plan(
        spec,
        now=engine.clock.elapsed(),
        prompt_tokens=prompt_tokens,
        blocks=parsed.blocks(engine),
        output_tokens=longest,
    )
    cached = reported_cached(spec, prompt_tokens, timeline.cached_tokens)
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }
    settings = engine.settings
    created = int(engine.clock.now())
    head = {
        "id": engine.new_id("chatcmpl-", 29),
        "created": created,
        "model": spec.response_model,
        "service_tier": "default" if req.service_tier in (None, "auto") else req.service_tier,
        "system_fingerprint": engine.fingerprint(spec.id),
    }
    if not req.stream:
        due = timeline.e2e
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
        return json_response(
            engine,
            body,
            due=due,
            timeline=timeline,
            model=spec.id,
            usage=usage,
            finish_reason=choices[0].finish_reason if choices else None,
        )

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
        timeline=timeline,
        per_chunk=settings.stream_chunk_tokens,
    )
    return ApiResponse(
        200,
        response_headers(engine, timeline.ttft, stream=True),
        stream=TimedStream(chunks),
        timeline=timeline,
        model=spec.id,
        usage=usage,
        finish_reason=choices[0].finish_reason if choices else None,
    )


def _message_choice(index: int, c: Choice) -> dict[str, Any]:
    message: dict[str, Any] = {
        "role": "assistant",
        "content": None if c.tool_calls or c.refusal else c.text,
        "refusal": c.text if c.refusal else None,
        "annotations": [],
    }
    if c.tool_calls:
        if c.function_call:
            message["function_call"] = c.tool_calls[0]["function"]
        else:
            message["tool_calls"] = c.tool_calls
    return {
        "index": index,
        "message": message,
        "logprobs": None if c.logprobs is None else {"content": c.logprobs, "refusal": None},
        "finish_reason": c.finish_reason,
    }


def _obfuscation(rng: random.Random) -> str:
    return random_token(rng, 1 + (rng.getrandbits(4)))


def _stream_chunks(
    head: dict[str, Any],
    choices: list[Choice],
    usage: dict[str, Any] | None,
    obfuscate: bool,
    rng: random.Random,
    *,
    timeline: Timeline,
    per_chunk: int,
) -> Iterator[tuple[float, bytes]]:
    """The SSE events of a chat stream, produced lazily: role first, finish_reason last, then usage.

    A chunk is due when its first token is out (``timeline.due``): a choice's reasoning tokens
    come first, unseen, so its visible tokens start after them."""
    due_of = timeline.due
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
        emitted = c.reasoning_tokens  # output tokens out before this chunk
        first_due = due_of(emitted + 1)
        yield (
            first_due,
            chunk(
                [
                    {
                        "index": index,
                        "delta": {
                            "role": "assistant",
                            "content": None if c.tool_calls or c.refusal else "",
                            "refusal": "" if c.refusal else None,
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
                first: dict[str, Any]
                if c.function_call:
                    first = {"function_call": {"name": fn["name"], "arguments": ""}}
                else:
                    first = {
                        "tool_calls": [
                            {
                                "index": k,
                                "id": call["id"],
                                "type": "function",
                                "function": {"name": fn["name"], "arguments": ""},
                            }
                        ]
                    }
                yield due, chunk([{"index": index, "delta": first, "logprobs": None, "finish_reason": None}])
                for start in range(0, len(parts), per_chunk):
                    emitted += per_chunk
                    due = due_of(emitted + 1)
                    fragment = {"arguments": "".join(parts[start : start + per_chunk])}
                    delta = (
                        {"function_call": fragment}
                        if c.function_call
                        else {"tool_calls": [{"index": k, "function": fragment}]}
                    )
                    yield due, chunk([{"index": index, "delta": delta, "logprobs": None, "finish_reason": None}])
        elif c.refusal:
            for start in range(0, len(c.pieces), per_chunk):
                text = "".join(c.pieces[start : start + per_chunk])
                if text:
                    yield (
                        due,
                        chunk([{"index": index, "delta": {"refusal": text}, "logprobs": None, "finish_reason": None}]),
                    )
                emitted += sum(c.tokens[start : start + per_chunk])
                due = due_of(emitted + 1)
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
                emitted += sum(c.tokens[start : start + per_chunk])
                due = due_of(emitted + 1)
        yield (
            due_of(emitted),
            chunk([{"index": index, "delta": {}, "logprobs": None, "finish_reason": c.finish_reason}]),
        )
    end = timeline.e2e
    if usage is not None:
        yield end, chunk([], final_usage=usage)
    yield end, b"data: [DONE]\n\n"


def _generated_tool_choices(engine: Engine, parsed: _Parsed, plan: TextPlan, seed: int | None) -> list[Choice]:
    """Choices calling the tools the generator picked (``parsed.tools.call``), arguments drawn per choice."""
    tools = parsed.tools
    assert tools is not None
    out = []
    for index in range(plan.n):
        rng = rng_for(engine, seed, _STRUCTURED_STREAM + index)
        calls = [(fn.name, _arguments(tools, i, fn, rng, k)) for k, (i, fn) in enumerate(tools.call)]
        out.append(_tool_choice(engine, parsed.spec, rng, calls, tools.legacy))
    return out


def _structured_choices(
    engine: Engine, spec: ModelSpec, req: ChatRequest, plan: TextPlan, seed: int | None
) -> list[Choice]:
    """Choices whose content is JSON for ``response_format``."""
    out = []
    fmt = req.response_format
    assert fmt is not None
    for index in range(plan.n):
        rng = rng_for(engine, seed, _STRUCTURED_STREAM + index)
        if fmt.type == "json_schema" and fmt.json_schema is not None:
            try:
                value = instance_for(fmt.json_schema.schema_ or {}, rng)
            except (SchemaError, RecursionError) as exc:
                raise _schema_error(exc, "response_format", fmt.json_schema.name, "response_format", None) from None
        else:
            value = {"answer": "".join(engine.generator.generate(rng, max_tokens=80).pieces).strip()}
        pieces, counts = token_pieces(engine, spec, json.dumps(value, ensure_ascii=False, separators=(",", ":")))
        pieces, counts, whole = cap_pieces(pieces, counts, plan.limit)
        out.append(Choice(pieces, counts, 0, "stop" if whole else "length", json_text=True))
    return out


def _text_choice(engine: Engine, spec: ModelSpec, plan: TextPlan, rng: random.Random, reply: Reply) -> Choice:
    """A scripted text, JSON value or refusal, split into real tokens, cut by the limit and ``stop``."""
    pieces, counts = token_pieces(engine, spec, reply.content)
    pieces, counts, whole = cap_pieces(pieces, counts, plan.limit)
    finish = "stop" if whole else "length"
    refusal = reply.kind == "refusal"
    if plan.stop and not refusal:
        cut = apply_stop(pieces, counts, plan.stop)
        if cut is not None:
            pieces, counts = cut
            finish = "stop"
    choice = Choice(pieces, counts, 0, finish, json_text=reply.kind == "json", refusal=refusal)
    if plan.logprobs and not refusal:
        choice.logprobs = piece_logprobs(engine, rng, pieces, plan.top_logprobs)
    return choice


def _forced_function(parsed: _Parsed) -> str | None:
    """The one function the request makes the model call (a named ``tool_choice`` or ``function_call``,
    or ``required`` with a single function), else None."""
    req, tools = parsed.req, parsed.tools
    if tools is None:
        return None
    choice = req.tool_choice
    if choice is not None and not isinstance(choice, str) and choice.function is not None:
        return choice.function.name
    if not isinstance(req.function_call, str | None):
        return req.function_call.name
    if choice == "required" and len(tools.functions) == 1:
        return tools.functions[0][1].name
    return None


def _scripted_choices(engine: Engine, parsed: _Parsed, plan: TextPlan, seed: int | None, reply: Reply) -> list[Choice]:
    """The choices of a scripted reply: every choice says it (tool calls get their own ids)."""
    out = []
    tools = parsed.tools
    forced = _forced_function(parsed)
    if reply.kind == "json" and forced is not None:
        # a request that forces a function is always answered with a call of it: the scripted JSON
        # value becomes its arguments (as instructor's and langchain's function modes expect)
        reply = Reply("tool_calls", tool_calls=((forced, reply.content),))
    for index in range(plan.n):
        rng = rng_for(engine, seed, _STRUCTURED_STREAM + index)
        if reply.kind != "tool_calls":
            out.append(_text_choice(engine, parsed.spec, plan, rng, reply))
            continue
        calls = []
        for k, (name, args) in enumerate(reply.tool_calls):
            if args is None:
                found = tools.find(name) if tools is not None else None
                args = "{}" if found is None else _arguments(tools, found[0], found[1], rng, k)
            calls.append((name, args))
        legacy = tools is not None and tools.legacy
        out.append(_tool_choice(engine, parsed.spec, rng, calls, legacy))
    return out
