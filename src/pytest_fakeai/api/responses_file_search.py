"""The hosted ``file_search`` tool of the Responses API (docs/vector_stores.md, "file_search").

When a request offers ``file_search`` and ``tool_choice`` lets the model use it (anything but
``"none"``, a forced function, or an ``allowed_tools`` list without it), and the conversation
ends with a user message, the model searches: the output starts with a ``file_search_call``
whose one query is the user's question, and the answer (unless a function is called or a
structured format is asked for) quotes the best sentences of the best chunks, each followed by a
``file_citation`` annotation.  The retrieved chunks count as input tokens, as the model reads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..engine.vector_stores import Hit, passages, vector_stores
from .errors import ApiError
from .vector_stores import check_not_expired, get_store
from .wire_responses import FileSearchTool, ToolChoiceObject
from .wire_vector_stores import filter_of

if TYPE_CHECKING:
    from ..engine.core import Engine
    from ..engine.tokenizer import Tokenizer
    from .wire_responses import ResponseRequest, TokenCountRequest

__all__ = [
    "DEFAULT_MAX_RESULTS",
    "NOTHING_FOUND",
    "Search",
    "cited_answer",
    "file_search_echo",
    "file_search_tool",
    "prepare_file_search",
    "run_file_search",
    "searches",
]

DEFAULT_MAX_RESULTS = 10
NOTHING_FOUND = "I could not find anything about that in the files I searched."
_RESULT_FRAMING = 8  # tokens around each retrieved chunk in what the model reads


@dataclass(slots=True)
class Search:
    """One file search: the query, what it found, and what the model read."""

    query: str
    hits: list[Hit]
    input_tokens: int  # the retrieved chunks, as the model reads them

    def results(self) -> list[dict[str, Any]]:
        """``file_search_call.results`` (sent with ``include=["file_search_call.results"]``)."""
        return [
            {
                "file_id": h.file.id,
                "filename": h.file.filename,
                "score": h.score,
                "text": h.chunk.text,
                "attributes": dict(h.file.attributes),
            }
            for h in self.hits
        ]


def file_search_tool(req: ResponseRequest | TokenCountRequest) -> tuple[int, FileSearchTool] | None:
    """The request's file_search tool and its index in ``tools`` (one at most), if it offers one."""
    found: tuple[int, FileSearchTool] | None = None
    for i, tool in enumerate(req.tools or ()):
        if isinstance(tool, FileSearchTool):
            if found is not None:
                raise ApiError(
                    400,
                    "Invalid 'tools': at most one file_search tool can be given; list every vector store in its "
                    "'vector_store_ids'.",
                    param=f"tools[{i}].type",
                    code="invalid_value",
                )
            filter_of(tool.filters, f"tools[{i}].filters")  # a bad value is the request's error
            found = (i, tool)
    return found


def searches(choice: str | ToolChoiceObject | None) -> bool:
    """Whether ``tool_choice`` lets the model use file_search (when it is offered)."""
    if choice == "none":
        return False
    if isinstance(choice, ToolChoiceObject):
        if choice.type == "function":
            return False
        if choice.type == "allowed_tools":
            return any(t.get("type") == "file_search" for t in choice.tools or ())
    return True


def run_file_search(engine: Engine, tok: Tokenizer, index: int, tool: FileSearchTool, query: str) -> Search:
    """Search the tool's vector stores for ``query`` (OpenAI's 404 for a store that does not exist)."""
    registry = vector_stores(engine)
    now = registry.now()
    where = f"tools[{index}].vector_store_ids"
    stores = [get_store(engine, store_id, where) for store_id in dict.fromkeys(tool.vector_store_ids)]
    for store in stores:
        check_not_expired(store, now, where)
    ranking = tool.ranking_options
    hybrid = ranking.hybrid_search if ranking is not None else None
    hits = registry.search(
        stores,
        [query],
        max_results=tool.max_num_results or DEFAULT_MAX_RESULTS,
        condition=filter_of(tool.filters, f"tools[{index}].filters"),
        ranker=(ranking.ranker if ranking else None) or "auto",
        threshold=(ranking.score_threshold if ranking else None) or 0.0,
        weights=(hybrid.embedding_weight, hybrid.text_weight) if hybrid is not None else (1.0, 1.0),
    )
    read = sum(tok.count(h.chunk.text) + _RESULT_FRAMING for h in hits)
    return Search(query, hits, read)


def cited_answer(search: Search) -> tuple[str, list[dict[str, Any]]]:
    """The answer's text (the best sentences quoted) and its ``file_citation`` annotations."""
    text = ""
    annotations: list[dict[str, Any]] = []
    for sentence, hit in passages(search.hits, search.query):
        text += (" " if text else "") + sentence
        annotations.append(
            {"type": "file_citation", "file_id": hit.file.id, "filename": hit.file.filename, "index": len(text)}
        )
    return (text, annotations) if text else (NOTHING_FOUND, [])


def file_search_echo(tool: FileSearchTool) -> dict[str, Any]:
    """The tool as the response object repeats it (defaults filled in)."""
    ranking = tool.ranking_options
    echoed: dict[str, Any] = {
        "ranker": (ranking.ranker if ranking else None) or "auto",
        "score_threshold": float((ranking.score_threshold if ranking else None) or 0.0),
    }
    if ranking is not None and ranking.hybrid_search is not None:
        echoed["hybrid_search"] = {
            "embedding_weight": float(ranking.hybrid_search.embedding_weight),
            "text_weight": float(ranking.hybrid_search.text_weight),
        }
    return {
        "type": "file_search",
        "filters": None if tool.filters is None else tool.filters.model_dump(mode="json"),
        "max_num_results": tool.max_num_results or DEFAULT_MAX_RESULTS,
        "ranking_options": echoed,
        "vector_store_ids": list(tool.vector_store_ids),
    }


def prepare_file_search(
    engine: Engine,
    tok: Tokenizer,
    found: tuple[int, FileSearchTool] | None,
    choice: str | ToolChoiceObject | None,
    question: str | None,
) -> Search | None:
    """The search a request makes, if any: the tool's stores must exist whether or not it searches."""
    if found is None:
        return None
    index, tool = found
    registry = vector_stores(engine)
    where = f"tools[{index}].vector_store_ids"
    stores = [get_store(engine, store_id, where) for store_id in dict.fromkeys(tool.vector_store_ids)]
    if not searches(choice) or not question or not question.strip():
        return None
    now = registry.now()
    for store in stores:
        check_not_expired(store, now, where)
    return run_file_search(engine, tok, index, tool, question)
