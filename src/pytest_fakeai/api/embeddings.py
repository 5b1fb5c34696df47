"""``POST /v1/embeddings`` (OpenAI, and NVIDIA NIM's ``input_type`` / ``truncate`` extensions).

The vectors come from :mod:`pytest_fakeai.engine.embedding` (docs/embeddings.md): a pure
function of (model, text), L2-normalised, semantic enough for retrieval tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .common import json_response, resolve_model
from .errors import ApiError, unknown_parameter
from .validation import load_json, parse_data
from .wire_embeddings import EmbeddingRequest

if TYPE_CHECKING:
    from ..engine.core import Engine
    from ..engine.embedding import Embedder
    from ..engine.registry import ModelSpec
    from ..engine.tokenizer import Tokenizer
    from .types import ApiRequest, ApiResponse

__all__ = ["MAX_INPUTS", "MAX_TOKENS_PER_REQUEST", "baseline_for", "create_embedding", "embedder_for"]

MAX_INPUTS = 2048
MAX_TOKENS_PER_REQUEST = 300_000
_INVALID_INPUT = "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference."
_NIM_EXTENSIONS = ("input_type", "truncate")

# The cosine two unrelated texts get: real models are anisotropic, ada-002 strongly so.
_BASELINES = (("ada-002", 0.7), ("text-embedding-3", 0.1))
_DEFAULT_BASELINE = 0.2


def baseline_for(spec: ModelSpec) -> float:
    """The cosine similarity of unrelated texts under ``spec`` (approximate, per model family)."""
    name = (spec.base_model or spec.id).lower()
    return next((value for key, value in _BASELINES if key in name), _DEFAULT_BASELINE)


def embedder_for(engine: Engine, spec: ModelSpec, dims: int | None = None, baseline: float | None = None) -> Embedder:
    """The simulator's embedder for ``spec`` (made once; its caches live as long as the simulator)."""
    from ..engine.embedding import Embedder

    key = spec.base_model or spec.id
    size = dims or spec.embedding_dimensions or 1024
    level = baseline_for(spec) if baseline is None else baseline
    store: dict[tuple[str, int, float], Embedder] = engine.stores.setdefault("embeddings", {})
    found = store.get((key, size, level))
    if found is None:
        found = store[(key, size, level)] = Embedder(key, size, baseline=level)
    return found


def _invalid_input() -> ApiError:
    return ApiError(400, _INVALID_INPUT, param="input")


def _inputs(value: Any) -> Sequence[str | list[int]]:
    """The inputs, each a non-empty string or a non-empty token array; OpenAI's error otherwise."""
    if isinstance(value, str):
        if not value:
            raise _invalid_input()
        return [value]
    if not isinstance(value, list) or not value:
        raise _invalid_input()
    if all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return [value]  # one token array
    if len(value) > MAX_INPUTS:
        raise ApiError(
            400,
            f"Invalid 'input': array too long. Expected an array with maximum length {MAX_INPUTS}, but got an "
            f"array with length {len(value)} instead.",
            param="input",
            code="array_above_max_length",
        )
    if all(isinstance(v, str) and v for v in value):
        return value
    if all(isinstance(v, list) and v and all(isinstance(t, int) and not isinstance(t, bool) for t in v) for v in value):
        return value
    raise _invalid_input()


def _decode(tok: Tokenizer, tokens: list[int], index: int) -> str:
    """The text a token array spells (an unknown id is OpenAI-style 400, not a crash)."""
    parts = []
    for token in tokens:
        try:
            if token < 0:
                raise KeyError(token)
            parts.append(tok.token_bytes(token))
        except (KeyError, ValueError, OverflowError):
            if tok.exact:
                raise ApiError(
                    400,
                    f"Invalid 'input[{index}]': {token} is not a token of the model's encoding ({tok.encoding_name}).",
                    param="input",
                    code="invalid_value",
                ) from None
            parts.append(f" <{token}>".encode())  # offline approximation: ids it never produced
    return b"".join(parts).decode("utf-8", "replace")


@dataclass(frozen=True, slots=True)
class _Parsed:
    spec: ModelSpec
    texts: list[str]
    prompt_tokens: int
    dims: int
    base64: bool


def _check_model(req: EmbeddingRequest, spec: ModelSpec, data: dict[str, Any]) -> int:
    """Model-specific checks; the output dimensions."""
    if spec.kind != "embedding":
        raise ApiError(
            400,
            f"The model `{spec.id}` is a{'n' if spec.kind[0] in 'aeiou' else ''} {spec.kind} model, not an "
            "embedding model, and thus not supported in the v1/embeddings endpoint.",
            param="model",
            code="invalid_value",
        )
    nim = spec.provider == "nvidia"
    if not nim:
        for name in _NIM_EXTENSIONS:
            if name in data:
                raise unknown_parameter(name)
    elif req.input_type is None and "embedqa" in spec.id.lower():
        raise ApiError(
            400,
            "'input_type' parameter is required for asymmetric models",
            param="input_type",
            code="missing_required_parameter",
        )
    native = spec.embedding_dimensions or 1024
    if req.dimensions is None:
        return native
    if spec.max_embedding_dimensions is None:
        raise ApiError(400, "This model does not support specifying dimensions.", param="dimensions")
    if req.dimensions > spec.max_embedding_dimensions:
        raise ApiError(
            400,
            f"Invalid 'dimensions': integer above maximum value. Expected a value <= "
            f"{spec.max_embedding_dimensions} for {spec.id}, but got {req.dimensions} instead.",
            param="dimensions",
            code="integer_above_max_value",
        )
    return req.dimensions


def _parse(engine: Engine, body: bytes) -> _Parsed:
    data = load_json(body)
    req = parse_data(EmbeddingRequest, data)
    spec = resolve_model(engine, req.model)
    dims = _check_model(req, spec, data)
    inputs = _inputs(req.input)
    tok = engine.tokenizer(spec)
    limit = spec.context_window
    nim = spec.provider == "nvidia"
    texts: list[str] = []
    total = 0
    for i, item in enumerate(inputs):
        tokens: list[int] | None = None
        if isinstance(item, str):
            text = item
            n = tok.count(item)
        else:
            tokens = item
            text = _decode(tok, item, i)
            n = len(item)
        if limit and n > limit:
            mode = req.truncate or "NONE"
            if not nim:
                raise ApiError(
                    400,
                    f"This model's maximum context length is {limit} tokens, however you requested {n} tokens "
                    f"({n} in your prompt; 0 for the completion). Please reduce your prompt; or completion length.",
                    param="input",
                    code="context_length_exceeded",
                )
            if mode == "NONE":
                raise ApiError(
                    400,
                    f"Input {i} is {n} tokens long, more than the maximum of {limit} tokens for {spec.id}. "
                    "Shorten it, or set 'truncate' to 'END' or 'START'.",
                    param="input",
                    code="context_length_exceeded",
                )
            if tokens is None:
                tokens = tok.encode(text)
            kept = tokens[:limit] if mode == "END" else tokens[-limit:]
            text = _decode(tok, kept, i)
            n = limit
        texts.append(text)
        total += n
    if not nim and total > MAX_TOKENS_PER_REQUEST:
        raise ApiError(
            400,
            f"Requested {total} tokens, max {MAX_TOKENS_PER_REQUEST} tokens per request",
            param="input",
            code="max_tokens_per_request",
        )
    return _Parsed(spec, texts, total, dims, req.encoding_format == "base64")


def create_embedding(engine: Engine, request: ApiRequest) -> ApiResponse:
    """Answer an embeddings request: one unit vector per input, float or base64."""
    from ..engine.embedding import base64_float32, float32, truncate

    parsed = _parse(engine, request.body)
    spec = parsed.spec
    embedder = embedder_for(engine, spec)
    data = []
    for index, text in enumerate(parsed.texts):
        vector: Sequence[float] = embedder.embed(text)
        if parsed.dims < embedder.dims:
            vector = truncate(vector, parsed.dims)
        encoded: Any = base64_float32(vector) if parsed.base64 else float32(vector)
        data.append({"object": "embedding", "index": index, "embedding": encoded})
    usage = {"prompt_tokens": parsed.prompt_tokens, "total_tokens": parsed.prompt_tokens}
    body = {"object": "list", "data": data, "model": spec.response_model, "usage": usage}
    # an embedding is a prefill: the serving model's time to the first token, under its load
    timeline = engine.serving.plan(spec, now=engine.clock.elapsed(), prompt_tokens=parsed.prompt_tokens)
    due = timeline.ttft
    return json_response(
        engine,
        body,
        due=due,
        timeline=timeline,
        model=spec.id,
        usage=usage,
        finish_reason="stop",
    )
