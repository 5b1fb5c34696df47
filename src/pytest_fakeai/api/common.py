"""Pieces shared by the text endpoints: model checks, limits, choices, stop, logprobs, SSE."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic_core import to_json

from ..engine.rng import derive_seed, mix
from .errors import ApiError, invalid_type, model_not_found

if TYPE_CHECKING:
    from ..engine.core import Engine
    from ..engine.registry import ModelSpec
    from ..engine.tokenizer import Tokenizer
    from .types import ApiResponse

__all__ = [
    "Choice",
    "TextPlan",
    "apply_stop",
    "cap_pieces",
    "check_context",
    "check_limit",
    "check_stream_options",
    "content_key",
    "dumps",
    "json_response",
    "parse_int",
    "piece_logprobs",
    "plan_choices",
    "prompt_blocks",
    "query_int",
    "query_values",
    "range_error",
    "reported_cached",
    "request_rng_seed",
    "resolve_model",
    "response_headers",
    "rng_for",
    "sse",
    "token_pieces",
]


def dumps(value: Any) -> bytes:
    """Compact JSON bytes (pydantic-core's encoder: the response is built once, encoded once)."""
    return to_json(value)


def sse(value: Any) -> bytes:
    return b"data: " + to_json(value) + b"\n\n"


def query_values(query: str) -> dict[str, str]:
    """A query string's parameters, the last value of each (blank values kept)."""
    from urllib.parse import parse_qs

    return {name: values[-1] for name, values in parse_qs(query, keep_blank_values=True).items() if values}


def parse_int(param: str, text: str) -> int:
    """An integer sent as text (a query or form field); OpenAI's invalid_type 400 otherwise."""
    try:
        return int(text.strip())
    except ValueError:
        raise invalid_type(param, "an integer", "a string") from None


def range_error(param: str, value: int, low: int, high: int) -> ApiError | None:
    """OpenAI's 400 for an integer outside [low, high] (None: inside)."""
    if low <= value <= high:
        return None
    above = value > high
    return ApiError(
        400,
        f"Invalid '{param}': integer {'above maximum' if above else 'below minimum'} value. Expected a value "
        f"{'<=' if above else '>='} {high if above else low}, but got {value} instead.",
        param=param,
        code="integer_above_max_value" if above else "integer_below_min_value",
    )


def query_int(values: dict[str, str], param: str, *, default: int, low: int, high: int) -> int:
    """An integer query parameter (``limit``): ``default`` when absent, OpenAI's 400s when not an integer
    or out of range."""
    text = values.get(param)
    if text is None:
        return default
    value = parse_int(param, text)
    error = range_error(param, value, low, high)
    if error is not None:
        raise error
    return value


def json_response(engine: Engine, body: Any, *, due: float = 0.0, **served: Any) -> ApiResponse:
    """A 200 with ``body`` as JSON, due ``due`` simulated seconds after the request (``served``: the
    serving model's ``timeline``, ``model``, ``usage``, ``finish_reason``, for the metrics)."""
    from .types import ApiResponse

    return ApiResponse(200, response_headers(engine, due), dumps(body), due=due, json=body, **served)


def response_headers(engine: Engine, processing_s: float, *, stream: bool = False) -> list[tuple[str, str]]:
    """The headers every response carries (``stream``: an SSE content type)."""
    return [
        ("content-type", "text/event-stream; charset=utf-8" if stream else "application/json"),
        ("x-request-id", "req_" + engine.new_hex(32)),
        ("openai-processing-ms", str(max(1, round(processing_s * 1000)))),
        ("openai-version", "2020-10-01"),
    ]


def prompt_blocks(tok: Tokenizer, messages: Any, block_size: int, tools: Any = None) -> list[int]:
    """The KV-cache block hashes of a chat prompt: the messages rendered as the model reads them
    (role markers, text; other parts by their JSON), tools first, tokenised and cut into blocks."""
    from ..engine.kvcache import block_hashes

    parts: list[str] = []
    if tools:
        parts.append("<|tools|>" + to_json(tools).decode())
    for m in messages if isinstance(messages, list) else ():
        if not isinstance(m, dict):
            continue
        content = m.get("content")
        if isinstance(content, list):
            text = "".join(
                str(p.get("text", "")) if isinstance(p, dict) and "text" in p else to_json(p).decode() for p in content
            )
        elif content is None:
            text = to_json(m.get("tool_calls") or m.get("function_call")).decode()
        else:
            text = str(content)
        parts.append(f"<|im_start|>{m.get('role')}\n{text}<|im_end|>")
    return block_hashes(tok.encode("".join(parts)), block_size)


def reported_cached(spec: ModelSpec, prompt_tokens: int, matched: int) -> int:
    """``usage.prompt_tokens_details.cached_tokens`` for ``matched`` cached prompt tokens: OpenAI's own
    models report cache hits only for prompts of 1024 tokens or more, in steps of 128; self-hosted
    engines (vLLM, NIM, Dynamo) report the matched blocks."""
    if spec.provider == "openai":
        return 0 if prompt_tokens < 1024 else (min(matched, prompt_tokens) // 128) * 128
    return min(matched, prompt_tokens)


def resolve_model(engine: Engine, model: str) -> ModelSpec:
    from ..engine.registry import UnknownModelError

    try:
        return engine.registry.resolve(model, auto_register=not engine.settings.strict_models)
    except UnknownModelError as exc:
        raise model_not_found(model, exc.suggestions) from None


# Parameters that shape how much of an answer is delivered, or how, but not what the model says:
# leaving them out of the seed makes a max_tokens cut a prefix of the uncut answer, choice 0 of
# n the same as the single answer, and a stream the same text as the whole response.
_DELIVERY_ONLY = frozenset(
    {
        "max_tokens",
        "max_completion_tokens",
        "stream",
        "stream_options",
        "stop",
        "n",
        "logprobs",
        "top_logprobs",
        "user",
        "metadata",
        "store",
        "service_tier",
        "safety_identifier",
        "prompt_cache_key",
        "prompt_cache_retention",
        "ignore_eos",
        "min_tokens",
        "seed",
        "include_stop_str_in_output",
        "best_of",
        "echo",
    }
)


def content_key(data: dict[str, Any]) -> int:
    """A hash of what a request asks the model (``_DELIVERY_ONLY`` parameters left out)."""
    return derive_seed([(k, v) for k, v in data.items() if k not in _DELIVERY_ONLY])


def request_rng_seed(engine: Engine, key: int, *, seed: int | None, deterministic: bool) -> int | None:
    """Seed of one request's draws, from its :func:`content_key`; None: the simulator's running stream.

    With a request ``seed`` (or temperature 0) the same request always gets the
    same answer, as OpenAI's best-effort determinism promises, and its draws come
    from streams seeded by the request.  Otherwise they come from the simulator's
    own running stream (no per-request seeding cost): repeating a request samples
    anew, and the whole run stays reproducible from the simulator's seed.
    """
    if seed is not None:
        return derive_seed(engine.seed, "seeded", seed, key)
    if deterministic:
        return derive_seed(engine.seed, "greedy", key)
    return None


def rng_for(engine: Engine, seed: int | None, stream: int) -> random.Random:
    """The ``stream``-th random source of a request seeded ``seed`` (None: the simulator's running one)."""
    return engine.draws if seed is None else random.Random(mix(seed, stream))


@dataclass(slots=True)
class Choice:
    """One generated choice: visible pieces (each ``ntok`` tokens), reasoning tokens, why it ended."""

    pieces: list[str]
    tokens: list[int]  # tokens per piece
    reasoning_tokens: int
    finish_reason: str
    logprobs: list[dict[str, Any]] | None = None
    tool_calls: list[dict[str, Any]] | None = None
    tool_pieces: list[list[str]] | None = None  # each call's arguments, split as streamed
    json_text: bool = False
    refusal: bool = False  # the pieces are a refusal (message.refusal), not content
    function_call: bool = False  # the one tool call is a legacy ``function_call``

    @property
    def text(self) -> str:
        return "".join(self.pieces)

    @property
    def completion_tokens(self) -> int:
        return sum(self.tokens) + self.reasoning_tokens


@dataclass(slots=True)
class TextPlan:
    """Inputs for generating the choices of one request."""

    limit: int | None
    n: int
    stop: Sequence[str] = ()
    min_tokens: int = 0
    ignore_eos: bool = False
    logprobs: bool = False
    top_logprobs: int = 0
    reasoning_effort: str | None = None
    echo_text: str | None = None


_REASONING_RANGES = {
    "none": (0, 0),
    "minimal": (0, 24),
    "low": (48, 320),
    "medium": (192, 1280),
    "high": (768, 4096),
    "xhigh": (1536, 8192),
}


def token_pieces(engine: Engine, spec: ModelSpec, text: str) -> tuple[list[str], list[int]]:
    """The text as tiktoken tokens, grouped so every piece is whole UTF-8."""
    tok = engine.tokenizer(spec)
    pieces: list[str] = []
    counts: list[int] = []
    pending = b""
    n = 0
    for token in tok.encode(text):
        pending += tok.token_bytes(token)
        n += 1
        try:
            piece = pending.decode("utf-8")
        except UnicodeDecodeError:
            continue
        pieces.append(piece)
        counts.append(n)
        pending, n = b"", 0
    if pending:
        pieces.append(pending.decode("utf-8", "replace"))
        counts.append(n)
    return pieces, counts


def cap_pieces(pieces: list[str], counts: list[int], limit: int | None) -> tuple[list[str], list[int], bool]:
    """The longest prefix within ``limit`` tokens, and whether it is the whole text."""
    if limit is None or sum(counts) <= limit:
        return pieces, counts, True
    keep, total = 0, 0
    while keep < len(counts) and total + counts[keep] <= limit:
        total += counts[keep]
        keep += 1
    return pieces[:keep], counts[:keep], False


def apply_stop(pieces: list[str], counts: list[int], stops: Sequence[str]) -> tuple[list[str], list[int]] | None:
    """Cut before the earliest stop string; the tokens that spelled the stop are still counted."""
    text = "".join(pieces)
    best = -1
    best_end = -1
    for s in stops:
        if not s:
            continue
        i = text.find(s)
        if i != -1 and (best == -1 or i < best):
            best, best_end = i, i + len(s)
    if best == -1:
        return None
    out_pieces: list[str] = []
    out_counts: list[int] = []
    pos = 0
    for piece, n in zip(pieces, counts, strict=True):
        if pos >= best_end:
            break
        visible = piece[: max(0, best - pos)]
        if visible or not out_counts:
            out_pieces.append(visible)
            out_counts.append(n)
        else:  # generated while spelling the stop string: counted, not shown
            out_counts[-1] += n
        pos += len(piece)
    return out_pieces, out_counts


def piece_logprobs(engine: Engine, rng: random.Random, pieces: Sequence[str], top: int) -> list[dict[str, Any]]:
    """``logprobs.content`` entries for ``pieces`` (``top`` alternatives each)."""
    gen = engine.generator
    out = []
    for piece in pieces:
        lp = round(gen.logprob_for(rng, piece), 6)
        entry: dict[str, Any] = {"token": piece, "logprob": lp, "bytes": list(piece.encode()), "top_logprobs": []}
        if top:
            entry["top_logprobs"] = [
                {"token": alt, "logprob": lp if alt == piece else round(alt_lp, 6), "bytes": list(alt.encode())}
                for alt, alt_lp in gen.top_logprobs(rng, piece, lp, top)
            ]
        out.append(entry)
    return out


def plan_choices(engine: Engine, spec: ModelSpec, plan: TextPlan, seed: int | None) -> list[Choice]:
    """Generate ``plan.n`` choices, each from its own seeded stream."""
    choices = []
    settings = engine.settings
    for index in range(plan.n):
        rng = rng_for(engine, seed, index)
        limit = plan.limit
        reasoning = 0
        if spec.reasoning:
            lo, hi = _REASONING_RANGES[plan.reasoning_effort or "medium"]
            reasoning = rng.randint(lo, hi) if hi else 0
            if limit is not None:
                reasoning = min(reasoning, limit)
                limit -= reasoning
        if limit == 0:
            choices.append(Choice([], [], reasoning, "length"))
            continue
        if plan.echo_text is not None:
            if settings.output_tokens is not None:
                limit = settings.output_tokens if limit is None else min(limit, settings.output_tokens)
            pieces, counts = token_pieces(engine, spec, plan.echo_text)
            finished = True
            if limit is not None and sum(counts) > limit:
                total = 0
                keep = 0
                while keep < len(counts) and total + counts[keep] <= limit:
                    total += counts[keep]
                    keep += 1
                pieces, counts = pieces[:keep], counts[:keep]
                finished = False
        else:
            exact = settings.output_tokens
            if exact is not None:
                limit = exact if limit is None else min(exact, limit)
            gen = engine.generator.generate(
                rng,
                max_tokens=limit,
                min_tokens=plan.min_tokens,
                ignore_eos=plan.ignore_eos or exact is not None,
            )
            pieces = list(gen.pieces)
            counts = [1] * len(pieces)
            finished = gen.finished
        finish = "stop" if finished else "length"
        if plan.stop:
            cut = apply_stop(pieces, counts, plan.stop)
            if cut is not None:
                pieces, counts = cut
                finish = "stop"
        choice = Choice(pieces, counts, reasoning, finish)
        if plan.logprobs:
            choice.logprobs = piece_logprobs(engine, rng, pieces, plan.top_logprobs)
        choices.append(choice)
    return choices


def check_stream_options(stream: bool | None, stream_options: object) -> None:
    if stream_options is not None and not stream:
        raise ApiError(
            400,
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            param="stream_options",
            code="invalid_value",
        )


def check_limit(spec: ModelSpec, limit: int | None, param: str) -> None:
    if limit is not None and limit > spec.max_output_tokens:
        raise ApiError(
            400,
            f"{param} is too large: {limit}. This model supports at most {spec.max_output_tokens} completion "
            f"tokens, whereas you provided {limit}.",
            param=param,
            code="invalid_value",
        )


def check_context(spec: ModelSpec, prompt_tokens: int, limit: int | None, what: str = "messages") -> None:
    window = spec.context_window
    if limit is not None and prompt_tokens + limit > window:
        raise ApiError(
            400,
            f"This model's maximum context length is {window} tokens. However, you requested "
            f"{prompt_tokens + limit} tokens ({prompt_tokens} in the {what}, {limit} in the completion). "
            f"Please reduce the length of the {what} or completion.",
            param=what,
            code="context_length_exceeded",
        )
    if prompt_tokens >= window:
        raise ApiError(
            400,
            f"This model's maximum context length is {window} tokens. However, your {what} resulted in "
            f"{prompt_tokens} tokens. Please reduce the length of the {what}.",
            param=what,
            code="context_length_exceeded",
        )
