"""Request bodies of the Vector Stores API, and the filters and ranking options file_search shares.

Unknown keys are refused everywhere (the spec closes these objects); a filter is a comparison
unless its ``type`` is ``and`` / ``or``, so a bad filter is reported where it is
(``filters.filters[1].value``).
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Discriminator, Field, Tag

from ..engine.vector_stores import DEFAULT_CHUNKING, Chunking, Comparison, Compound, Filter
from .errors import ApiError, invalid_type
from .validation import MISSING_TAG, describe_json_type
from .wire import _Closed  # the models' shared bases

__all__ = [
    "MAX_ATTRIBUTES",
    "AutoChunking",
    "ComparisonFilter",
    "CompoundFilter",
    "CreateFileBatch",
    "CreateVectorStore",
    "CreateVectorStoreFile",
    "ExpiresAfter",
    "FilterParam",
    "SearchRankingOptions",
    "SearchRequest",
    "StaticChunking",
    "UpdateFileAttributes",
    "UpdateVectorStore",
    "check_attributes",
    "check_metadata",
    "chunking_of",
    "filter_of",
]

MAX_ATTRIBUTES = 16
MAX_KEY = 64
MAX_VALUE = 512


def _type(value: Any) -> str | None:
    if isinstance(value, dict):
        return f"type={value.get('type', MISSING_TAG)}"
    if isinstance(value, BaseModel):
        return f"type={getattr(value, 'type', MISSING_TAG)}"
    return None


# -- chunking -----------------------------------------------------------------------------------------
class AutoChunking(_Closed):
    type: Literal["auto"]


class _Static(_Closed):
    max_chunk_size_tokens: Annotated[int, Field(ge=100, le=4096)]
    chunk_overlap_tokens: Annotated[int, Field(ge=0)]


class StaticChunking(_Closed):
    type: Literal["static"]
    static: _Static


ChunkingParam = Annotated[
    Annotated[AutoChunking, Tag("type=auto")] | Annotated[StaticChunking, Tag("type=static")],
    Discriminator(_type),
]


def chunking_of(param: AutoChunking | StaticChunking | None, where: str = "chunking_strategy") -> Chunking:
    """The engine's chunking for a request's ``chunking_strategy``; OpenAI's error for a bad overlap."""
    if not isinstance(param, StaticChunking):
        return DEFAULT_CHUNKING
    size, overlap = param.static.max_chunk_size_tokens, param.static.chunk_overlap_tokens
    if overlap > size // 2:
        raise ApiError(
            400,
            f"Invalid '{where}.static.chunk_overlap_tokens': chunk_overlap_tokens must not exceed half of "
            f"max_chunk_size_tokens ({size} // 2 = {size // 2}), but got {overlap} instead.",
            param=f"{where}.static.chunk_overlap_tokens",
            code="invalid_value",
        )
    return Chunking(size, overlap)


# -- filters ------------------------------------------------------------------------------------------
class ComparisonFilter(_Closed):
    type: Literal["eq", "ne", "gt", "gte", "lt", "lte", "in", "nin"]
    key: str
    value: Any  # a string, number or boolean, or an array of strings and numbers: checked by filter_of


class CompoundFilter(_Closed):
    type: Literal["and", "or"]
    filters: list[FilterParam]


def _filter_tag(value: Any) -> str | None:
    if isinstance(value, dict):
        return "filter=compound" if value.get("type") in ("and", "or") else "filter=comparison"
    if isinstance(value, BaseModel):
        return "filter=compound" if isinstance(value, CompoundFilter) else "filter=comparison"
    return None


FilterParam = Annotated[
    Annotated[ComparisonFilter, Tag("filter=comparison")] | Annotated[CompoundFilter, Tag("filter=compound")],
    Discriminator(_filter_tag, custom_error_type="invalid_type", custom_error_message="an object"),
]
CompoundFilter.model_rebuild()


def _scalar(value: object) -> bool:
    return isinstance(value, str | bool | int) or (isinstance(value, float) and math.isfinite(value))


def _filter(param: ComparisonFilter | CompoundFilter, where: str) -> Filter:
    if isinstance(param, CompoundFilter):
        return Compound(param.type, tuple(_filter(f, f"{where}.filters[{i}]") for i, f in enumerate(param.filters)))
    value = param.value
    listed = isinstance(value, list)
    if listed:
        if not all(_scalar(v) and not isinstance(v, bool) for v in value):
            raise invalid_type(f"{where}.value", "an array of strings and numbers", "an array of other values")
    elif not _scalar(value):
        raise invalid_type(f"{where}.value", "a string, number, boolean or array", describe_json_type(value))
    if param.type in ("in", "nin") and not listed:
        raise ApiError(
            400,
            f"Invalid '{where}.value': the '{param.type}' operator compares with an array of values.",
            param=f"{where}.value",
            code="invalid_type",
        )
    if listed and param.type not in ("in", "nin"):
        raise ApiError(
            400,
            f"Invalid '{where}.value': an array can only be compared with the 'in' and 'nin' operators, "
            f"not '{param.type}'.",
            param=f"{where}.value",
            code="invalid_type",
        )
    return Comparison(param.type, param.key, value)


def filter_of(param: ComparisonFilter | CompoundFilter | None, where: str = "filters") -> Filter | None:
    """The engine's filter for a request's ``filters``; OpenAI's error for a bad value."""
    return None if param is None else _filter(param, where)


# -- vector stores and their files --------------------------------------------------------------------
class ExpiresAfter(_Closed):
    anchor: Literal["last_active_at"]
    days: Annotated[int, Field(ge=1, le=365)]


Attributes = dict[str, Any]  # strings, numbers and booleans: checked by check_attributes


class CreateVectorStore(_Closed):
    name: str | None = None
    description: str | None = None
    file_ids: Annotated[list[str], Field(max_length=500)] | None = None
    expires_after: ExpiresAfter | None = None
    chunking_strategy: ChunkingParam | None = None
    metadata: dict[str, str] | None = None


class UpdateVectorStore(_Closed):
    name: str | None = None
    expires_after: ExpiresAfter | None = None
    metadata: dict[str, str] | None = None


class CreateVectorStoreFile(_Closed):
    file_id: str
    chunking_strategy: ChunkingParam | None = None
    attributes: Attributes | None = None


class CreateFileBatch(_Closed):
    file_ids: Annotated[list[str], Field(min_length=1, max_length=2000)] | None = None
    files: Annotated[list[CreateVectorStoreFile], Field(min_length=1, max_length=2000)] | None = None
    chunking_strategy: ChunkingParam | None = None
    attributes: Attributes | None = None


class UpdateFileAttributes(_Closed):
    attributes: Attributes | None


# -- search -------------------------------------------------------------------------------------------
class SearchRankingOptions(_Closed):
    ranker: Literal["none", "auto", "default-2024-11-15"] | None = None
    score_threshold: Annotated[float, Field(ge=0, le=1)] | None = None


class SearchRequest(_Closed):
    query: str | list[str]
    rewrite_query: bool | None = None
    max_num_results: Annotated[int, Field(ge=1, le=50)] | None = None
    filters: FilterParam | None = None
    ranking_options: SearchRankingOptions | None = None


# -- checks shared by the handlers --------------------------------------------------------------------
def _too_long(param: str, what: str, maximum: int, length: int) -> ApiError:
    return ApiError(
        400,
        f"Invalid '{param}': {what} too long. Expected a {what} with maximum length {maximum}, "
        f"but got a {what} with length {length} instead.",
        param=param,
        code="string_above_max_length",
    )


def _too_many(param: str, count: int) -> ApiError:
    return ApiError(
        400,
        f"Invalid '{param}': too many properties. Expected an object with at most {MAX_ATTRIBUTES} "
        f"properties, but got an object with {count} properties instead.",
        param=param,
        code="object_above_max_properties",
    )


def check_metadata(metadata: dict[str, str] | None, param: str = "metadata") -> None:
    """At most 16 pairs, keys up to 64 characters, values up to 512 (OpenAI's ``Metadata``)."""
    if metadata is None:
        return
    if len(metadata) > MAX_ATTRIBUTES:
        raise _too_many(param, len(metadata))
    for key, value in metadata.items():
        if len(key) > MAX_KEY:
            raise _too_long(param, "key", MAX_KEY, len(key))
        if len(value) > MAX_VALUE:
            raise _too_long(f"{param}.{key}", "string", MAX_VALUE, len(value))


def check_attributes(attributes: dict[str, Any] | None, param: str = "attributes") -> None:
    """Like metadata, but values may also be numbers and booleans."""
    if attributes is None:
        return
    if len(attributes) > MAX_ATTRIBUTES:
        raise _too_many(param, len(attributes))
    for key, value in attributes.items():
        if len(key) > MAX_KEY:
            raise _too_long(param, "key", MAX_KEY, len(key))
        if not _scalar(value):
            raise invalid_type(f"{param}.{key}", "a string, number or boolean", describe_json_type(value))
        if isinstance(value, str) and len(value) > MAX_VALUE:
            raise _too_long(f"{param}.{key}", "string", MAX_VALUE, len(value))
