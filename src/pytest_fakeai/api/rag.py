"""``POST /rag/api/prompt``: a retrieval-augmented answer over the simulator's vector stores (docs/rag.md).

The route and its shape come from the seed FakeAI 0.3.2 (its "Solido RAG" endpoint):
``{"query", "filters", "inference_model", "top_k", "stream"}`` in, ``{"content",
"retrieved_docs": [{"id", "content", "score", "metadata", "source"}], "usage"}`` out.  Where
the seed made documents up, this searches the documents uploaded to vector stores
(``collection_name`` / ``vector_store_id`` pick them; none: every store) with the same
hybrid scoring as ``/v1/vector_stores/{id}/search``, and the answer quotes the best of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from ..engine.vector_stores import Comparison, Compound, Filter, Hit, VectorStore, passages, vector_stores
from .common import json_response, resolve_model
from .errors import ApiError, invalid_type, missing_parameter
from .types import ApiRequest, ApiResponse
from .validation import describe_json_type, load_json, parse_data
from .vector_stores import check_not_expired, get_store
from .wire_vector_stores import FilterParam, filter_of

if TYPE_CHECKING:
    from ..engine.core import Engine

__all__ = ["DEFAULT_INFERENCE_MODEL", "DEFAULT_TOP_K", "RagRequest", "create_rag_prompt"]

DEFAULT_INFERENCE_MODEL = "meta-llama/Llama-3.1-70B-Instruct"  # the seed's default
DEFAULT_TOP_K = 5
_CONTEXT_DOCS = 3  # the seed put the top three documents in the prompt
_OPS = frozenset({"eq", "ne", "gt", "gte", "lt", "lte", "in", "nin", "and", "or"})
_NOTHING = "I could not find anything about that in the available documents."


class RagRequest(BaseModel):
    """The request: the seed's fields, plus ways to name the question and the documents.

    Unknown keys are ignored (as the seed's FastAPI model did): RAG front ends send many.
    """

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)

    query: Any = None  # a string or an array of strings: checked by _question
    prompt: str | None = None
    messages: list[dict[str, Any]] | None = None
    filters: dict[str, Any] | None = None
    inference_model: str | None = None
    model: str | None = None
    top_k: Annotated[int, Field(ge=1, le=20)] | None = None
    stream: bool | None = None
    collection_name: str | None = None
    vector_store_id: str | None = None
    vector_store_ids: list[str] | None = None


def _message_text(messages: list[dict[str, Any]]) -> str | None:
    for message in reversed(messages):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        if isinstance(content, list):
            return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict) and "text" in p)
    return None


def _question(req: RagRequest) -> str:
    if req.query is not None:
        query = req.query
        if not (isinstance(query, str) or (isinstance(query, list) and all(isinstance(q, str) for q in query))):
            raise invalid_type("query", "a string or an array of strings", describe_json_type(query))
        text = query if isinstance(query, str) else " ".join(query)
    elif req.prompt is not None:
        text = req.prompt
    elif req.messages is not None:
        text = _message_text(req.messages) or ""
    else:
        raise missing_parameter("query")
    if not text.strip():
        raise ApiError(400, "Invalid 'query': the question is empty.", param="query", code="invalid_value")
    return text


def _stores(engine: Engine, req: RagRequest) -> list[VectorStore]:
    if req.vector_store_ids is not None or req.vector_store_id is not None:
        ids = [*(req.vector_store_ids or ()), *([req.vector_store_id] if req.vector_store_id else [])]
        return [get_store(engine, i, "vector_store_id") for i in dict.fromkeys(ids)]
    stores = vector_stores(engine)
    every, _ = stores.page(limit=1 << 30, order="asc")
    if req.collection_name is not None:
        named = [s for s in every if req.collection_name in (s.name, s.id)]
        if not named:
            raise ApiError(
                404,
                f"No collection named '{req.collection_name}': create a vector store with that name "
                "(client.vector_stores.create(name=...)) and add documents to it.",
                param="collection_name",
            )
        return named
    now = stores.now()
    return [s for s in every if not s.expired(now)]


class _Filters(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)
    filters: FilterParam


def _filter(filters: dict[str, Any] | None) -> Filter | None:
    """OpenAI's filter object, or the seed's ``{"key": value, ...}`` (every attribute equal)."""
    if not filters:
        return None
    if filters.get("type") in _OPS:
        return filter_of(parse_data(_Filters, {"filters": filters}).filters)
    for key, value in filters.items():
        if not isinstance(value, str | bool | int | float):
            raise invalid_type(f"filters.{key}", "a string, number or boolean", describe_json_type(value))
    return Compound("and", tuple(Comparison("eq", k, v) for k, v in filters.items()))


def _answer(question: str, hits: list[Hit]) -> str:
    quoted = passages(hits, question)
    if not quoted:
        return _NOTHING
    return " ".join(f"According to {hit.file.filename}: {sentence}" for sentence, hit in quoted)


def create_rag_prompt(engine: Engine, request: ApiRequest) -> ApiResponse:
    """Retrieve the ``top_k`` best chunks for the question and answer from them."""
    data = load_json(request.body)
    req = parse_data(RagRequest, data)
    question = _question(req)
    condition = _filter(req.filters)
    spec = resolve_model(engine, req.inference_model or req.model or DEFAULT_INFERENCE_MODEL)
    stores = _stores(engine, req)
    registry = vector_stores(engine)
    if req.vector_store_id is not None or req.vector_store_ids is not None:
        for store in stores:
            check_not_expired(store, registry.now(), "vector_store_id")
    hits = registry.search(stores, [question], max_results=req.top_k or DEFAULT_TOP_K, condition=condition)
    content = _answer(question, hits)
    context = "\n\n".join(h.chunk.text for h in hits[:_CONTEXT_DOCS])
    tok = engine.tokenizer(spec)
    prompt_tokens = tok.count(f"Context:\n{context}\n\nQuestion: {question}\n\nAnswer:")
    completion_tokens = tok.count(content)
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
    docs = [
        {
            "id": f"{h.file.id}-{h.chunk.index}",
            "content": h.chunk.text,
            "score": h.score,
            "metadata": dict(h.file.attributes),
            "source": h.file.filename,
            "file_id": h.file.id,
            "vector_store_id": h.file.vector_store_id,
        }
        for h in hits
    ]
    body = {"content": content, "retrieved_docs": docs, "usage": usage}
    timeline = engine.serving.plan(
        spec, now=engine.clock.elapsed(), prompt_tokens=prompt_tokens, output_tokens=completion_tokens
    )
    due = timeline.e2e
    return json_response(
        engine,
        body,
        due=due,
        timeline=timeline,
        model=spec.id,
        usage=usage,
        finish_reason="stop",
    )
