"""``POST /v1/completions`` (legacy text completions)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..engine.rng import derive_seed
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
    request_rng_seed,
    resolve_model,
    response_headers,
    rng_for,
    sse,
    token_pieces,
)
from .errors import ApiError, invalid_type
from .script import COMPLETIONS_PATH
from .types import ApiRequest, ApiResponse, TimedStream
from .validation import load_json, parse_data
from .wire import CompletionRequest

if TYPE_CHECKING:
    from ..engine.core import Engine
    from ..engine.registry import ModelSpec
    from ..engine.serving import Timeline
    from .script import Reply, Script

__all__ = ["create_completion"]

DEFAULT_MAX_TOKENS = 16  # OpenAI's default for the legacy endpoint
_PROMPT_TYPES = "one of a string, array of strings, array of integers or array of arrays of integers"


def _prompts(prompt: Any) -> list[str | list[int]]:
    if prompt is None:
        return [""]
    if isinstance(prompt, str):
        return [prompt]
    if prompt and all(isinstance(p, int) for p in prompt):
        return [list(prompt)]
    if any(isinstance(p, int) for p in prompt):  # token ids beside strings or token arrays: no prompt
        raise invalid_type("prompt", _PROMPT_TYPES, "an array mixing integers with strings or arrays")
    return list(prompt)


def _scripted(engine: Engine, spec: ModelSpec, plan: TextPlan, seed: int | None, reply: Reply) -> list[Choice]:
    """``plan.n`` choices saying a scripted text (cut by the limit and ``stop``, as generated text is)."""
    if reply.kind == "tool_calls":
        raise TypeError("a scripted tool call cannot answer POST /v1/completions: legacy completions have no tools")
    out = []
    for index in range(plan.n):
        pieces, counts = token_pieces(engine, spec, reply.content)
        pieces, counts, whole = cap_pieces(pieces, counts, plan.limit)
        finish = "stop" if whole else "length"
        cut = apply_stop(pieces, counts, plan.stop) if plan.stop else None
        if cut is not None:
            pieces, counts = cut
            finish = "stop"
        choice = Choice(pieces, counts, 0, finish)
        if plan.logprobs:
            choice.logprobs = piece_logprobs(engine, rng_for(engine, seed, index), pieces, plan.top_logprobs)
        out.append(choice)
    return out


def create_completion(engine: Engine, request: ApiRequest, script: Script | None = None) -> ApiResponse:
    """Answer a legacy completion; with ``script``, a scripted rule may say what the model says."""
    data = load_json(request.body)
    req = parse_data(CompletionRequest, data)
    spec = resolve_model(engine, req.model)
    if spec.kind in ("chat", "reasoning") and spec.provider == "openai":
        raise ApiError(
            404,
            "This is a chat model and not supported in the v1/completions endpoint. "
            "Did you mean to use v1/chat/completions?",
            param="model",
        )
    if spec.kind not in ("chat", "reasoning", "completion"):
        raise ApiError(404, f"`{spec.id}` is not a text completion model.", param="model")
    n = req.n or 1
    if req.best_of is not None and req.best_of < n:
        raise ApiError(400, "best_of must be greater than or equal to n.", param="best_of", code="invalid_value")
    check_stream_options(req.stream, req.stream_options)
    limit = req.max_tokens if req.max_tokens is not None else DEFAULT_MAX_TOKENS
    check_limit(spec, limit, "max_tokens")
    tok = engine.tokenizer(spec)
    prompts = _prompts(req.prompt)
    prompt_counts = [len(p) if isinstance(p, list) else tok.count(p) for p in prompts]
    for count in prompt_counts:
        check_context(spec, count, limit, what="prompt")
    stop = [req.stop] if isinstance(req.stop, str) else list(req.stop or ())
    seed = request_rng_seed(engine, content_key(data), seed=req.seed, deterministic=req.temperature == 0)
    reply = None
    if script is not None:
        reply = script.answer(COMPLETIONS_PATH, data, request)

    texts: list[tuple[str, Choice]] = []
    for i, prompt in enumerate(prompts):
        prompt_text = prompt if isinstance(prompt, str) else ""
        plan = TextPlan(
            limit=limit,
            n=n,
            stop=stop,
            min_tokens=req.min_tokens or 0,
            ignore_eos=bool(req.ignore_eos),
            logprobs=req.logprobs is not None,
            top_logprobs=req.logprobs or 0,
            echo_text=prompt_text if engine.settings.mode == "echo" else None,
        )
        prompt_seed = None if seed is None else derive_seed(seed, "prompt", i)
        if reply is not None:
            choices = _scripted(engine, spec, plan, prompt_seed, reply)
        else:
            choices = plan_choices(engine, spec, plan, prompt_seed)
        for c in choices:
            texts.append((prompt_text if req.echo else "", c))

    prompt_tokens = sum(prompt_counts)
    completion_tokens = sum(c.completion_tokens for _, c in texts)
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
    settings = engine.settings
    longest = max((sum(c.tokens) for _, c in texts), default=0)
    blocks: list[int] = []
    if settings.kv_cache and prompts:
        from ..engine.kvcache import block_hashes

        first = prompts[0]
        blocks = block_hashes(first if isinstance(first, list) else tok.encode(first), settings.kv_block_size)
    timeline = engine.serving.plan(
        spec, now=engine.clock.elapsed(), prompt_tokens=prompt_tokens, blocks=blocks, output_tokens=longest
    )
    head = {
        "id": engine.new_id("cmpl-", 29),
        "object": "text_completion",
        "created": int(engine.clock.now()),
        "model": spec.response_model,
        "system_fingerprint": engine.fingerprint(spec.id),
    }
    if not req.stream:
        due = timeline.e2e
        body = dict(head)
        body["choices"] = [
            {
                "text": echo + c.text,
                "index": i,
                "logprobs": _legacy_logprobs(c, len(echo)),
                "finish_reason": c.finish_reason,
            }
            for i, (echo, c) in enumerate(texts)
        ]
        body["usage"] = usage
        return json_response(
            engine,
            body,
            due=due,
            timeline=timeline,
            model=spec.id,
            usage=usage,
            finish_reason=texts[0][1].finish_reason if texts else None,
        )
    options = req.stream_options
    chunks = _stream(
        head,
        texts,
        usage if options and options.include_usage else None,
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
        finish_reason=texts[0][1].finish_reason if texts else None,
    )


def _legacy_logprobs(c: Choice, offset: int) -> dict[str, Any] | None:
    if c.logprobs is None:
        return None
    tokens, lps, tops, offsets = [], [], [], []
    pos = offset
    for entry in c.logprobs:
        tokens.append(entry["token"])
        lps.append(entry["logprob"])
        tops.append({t["token"]: t["logprob"] for t in entry["top_logprobs"]} or None)
        offsets.append(pos)
        pos += len(entry["token"])
    return {"tokens": tokens, "token_logprobs": lps, "top_logprobs": tops, "text_offset": offsets}


def _stream(
    head: dict[str, Any],
    texts: list[tuple[str, Choice]],
    usage: dict[str, Any] | None,
    *,
    timeline: Timeline,
    per_chunk: int,
) -> Iterator[tuple[float, bytes]]:
    def event(choices: list[dict[str, Any]], final_usage: dict[str, Any] | None = None) -> bytes:
        out = dict(head)
        out["choices"] = choices
        if final_usage is not None:  # only the final chunk: the spec has no nullable usage here
            out["usage"] = final_usage
        return sse(out)

    due_of = timeline.due
    ttft = timeline.ttft
    for index, (echo, c) in enumerate(texts):
        due = ttft
        emitted = 0
        if echo:
            yield due, event([{"text": echo, "index": index, "logprobs": None, "finish_reason": None}])
        for start in range(0, len(c.pieces), per_chunk):
            text = "".join(c.pieces[start : start + per_chunk])
            if text:
                lp = None
                if c.logprobs is not None:
                    lp = _legacy_logprobs(
                        Choice(
                            c.pieces[start : start + per_chunk],
                            c.tokens[start : start + per_chunk],
                            0,
                            c.finish_reason,
                            logprobs=c.logprobs[start : start + per_chunk],
                        ),
                        0,
                    )
                yield due, event([{"text": text, "index": index, "logprobs": lp, "finish_reason": None}])
            emitted += sum(c.tokens[start : start + per_chunk])
            due = due_of(emitted + 1)
        yield due_of(emitted), event([{"text": "", "index": index, "logprobs": None, "finish_reason": c.finish_reason}])
    end = timeline.e2e
    if usage is not None:
        yield end, event([], usage)
    yield end, b"data: [DONE]\n\n"
