"""Request bodies of ``/v1/embeddings``, ``/v1/moderations`` and NIM's ``/v1/ranking``.

``input`` is typed ``Any`` on purpose: its many shapes (string, strings, tokens, token
arrays, multimodal parts) are checked by the handlers, which report OpenAI's own messages
for each.  Unknown top-level keys are rejected as OpenAI does; the ranking body is open,
as NIM's is.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["EmbeddingRequest", "ModerationRequest", "RankingRequest", "RankingText"]


class _Closed(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class _Open(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow", frozen=True)


class EmbeddingRequest(_Closed):
    input: Any
    model: str
    encoding_format: Literal["float", "base64"] | None = None
    dimensions: Annotated[int, Field(ge=1)] | None = None
    user: str | None = None
    # NVIDIA NIM extensions (rejected for other providers' models by the handler)
    input_type: Literal["query", "passage"] | None = None
    truncate: Literal["NONE", "START", "END"] | None = None


class ModerationRequest(_Closed):
    input: Any
    model: str | None = None


class RankingText(_Open):
    text: str


class RankingRequest(_Open):
    model: str
    query: RankingText
    passages: Annotated[list[RankingText], Field(min_length=1)]
    truncate: Literal["NONE", "END"] | None = None
