"""NVIDIA NIM's reranking endpoint, ``POST /v1/ranking`` (../shared/FIDELITY.md).

Each passage is scored against the query by the cosine similarity of their simulated
embeddings (:mod:`pytest_fakeai.engine.embedding`, 1024 dimensions, keyed by the reranking
model), mapped to a cross-encoder-like logit ``LOGIT_SCALE * cosine + LOGIT_SHIFT`` and
rounded to float16 as NIM's fp16 models report it: unrelated passages land near -8, a
passage sharing the query's key words and phrases above 0 (docs/ranking.md).
"""

from __future__ import annotations

import operator
import struct
from typing import TYPE_CHECKING

from .common import json_response, resolve_model
from .embeddings import embedder_for
from .errors import ApiError
from .validation import load_json, parse_data
from .wire_embeddings import RankingRequest

if TYPE_CHECKING:
    from ..engine.core import Engine
    from .types import ApiRequest, ApiResponse

__all__ = ["LOGIT_SCALE", "LOGIT_SHIFT", "create_ranking", "logit"]

LOGIT_SCALE = 24.0
LOGIT_SHIFT = -8.0
_DIMS = 1024
_DEFAULT_LIMIT = 512


def logit(cos: float) -> float:
    """The NIM-style logit of a cosine similarity, rounded to float16."""
    value = LOGIT_SCALE * cos + LOGIT_SHIFT
    rounded: float = struct.unpack("<e", struct.pack("<e", value))[0]
    return rounded


def create_ranking(engine: Engine, request: ApiRequest) -> ApiResponse:
    """Rank ``passages`` by relevance to ``query``, highest logit first."""

    data = load_json(request.body)
    req = parse_data(RankingRequest, data)
    spec = resolve_model(engine, req.model)
    if spec.kind != "rerank":
        raise ApiError(
            400,
            f"The model `{spec.id}` is a{'n' if spec.kind[0] in 'aeiou' else ''} {spec.kind} model, not a "
            "reranking model, and thus not supported in the v1/ranking endpoint.",
            param="model",
            code="invalid_value",
        )
    tok = engine.tokenizer(spec)
    limit = spec.context_window or _DEFAULT_LIMIT
    truncate = req.truncate or "NONE"
    query = req.query.text
    query_tokens = tok.count(query)
    if query_tokens >= limit:
        if truncate == "NONE":
            raise ApiError(
                400,
                f"The query is {query_tokens} tokens long, more than the maximum of {limit} tokens for {spec.id} "
                "(with a passage). Shorten it, or set 'truncate' to 'END'.",
                param="query.text",
                code="context_length_exceeded",
            )
        kept = tok.encode(query)[: limit - 1]
        query = b"".join(tok.token_bytes(t) for t in kept).decode("utf-8", "replace")
        query_tokens = len(kept)
    embedder = embedder_for(engine, spec, _DIMS, baseline=0.0)
    query_vector = embedder.embed(query)
    scored = []
    total = 0
    for index, passage in enumerate(req.passages):
        text = passage.text
        n = tok.count(text)
        room = limit - query_tokens
        if n > room:
            if truncate == "NONE":
                raise ApiError(
                    400,
                    f"Passage {index} with the query is {n + query_tokens} tokens long, more than the maximum of "
                    f"{limit} tokens for {spec.id}. Shorten it, or set 'truncate' to 'END'.",
                    param=f"passages[{index}].text",
                    code="context_length_exceeded",
                )
            kept = tok.encode(text)[:room]
            text = b"".join(tok.token_bytes(t) for t in kept).decode("utf-8", "replace")
            n = len(kept)
        total += query_tokens + n
        # both vectors are unit length: their dot product is the cosine
        scored.append((logit(sum(map(operator.mul, query_vector, embedder.embed(text)))), index))
    scored.sort(key=lambda item: (-item[0], item[1]))
    body = {
        "rankings": [{"index": index, "logit": value} for value, index in scored],
        "usage": {"prompt_tokens": total, "total_tokens": total},
    }
    # scoring the passages is a prefill of all of them: the serving model's time to the first token
    timeline = engine.serving.plan(spec, now=engine.clock.elapsed(), prompt_tokens=total)
    due = timeline.ttft
    return json_response(
        engine,
        body,
        due=due,
        timeline=timeline,
        model=spec.id,
        usage=body["usage"],
        finish_reason="stop",
    )
