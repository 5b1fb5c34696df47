"""A hypothesis campaign over every route of ``default_router()``, in process (``FakeAI.handle``).

The routes are enumerated from the router, so a new route is fuzzed without a change here; the
fields of each request body and the query parameters come from the official OpenAPI spec when it
is beside the checkout (``conftest.SPEC_PATH``), besides the fields of the valid seed requests below.
What is sent: valid seed requests mutated (wrong types for every field, extreme numbers, NaN and
Infinity literals, huge strings and arrays, unicode edge cases, fields dropped, added, duplicated),
malformed JSON, odd content parts for chat/Responses messages, broken multipart bodies, plausible
and garbage ids in paths, garbage query strings, wrong methods, wrong content types and odd headers.

The property (``conftest.check``): no 5xx (no fault is injected), an answer within a bound (streams
drained), OpenAI-shaped 4xx bodies with a helpful message, sendable headers, strict JSON.

``FAKEAI_FUZZ_EXAMPLES`` is the example count of each hypothesis test (docs/fuzzing.md).
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_fakeai import FakeAI
from pytest_fakeai.api.types import ApiRequest

from .conftest import Target, check, exchange, form, fuzz_settings, openapi_spec, routes, spec_path

ROUTES = routes()
PARAM = re.compile(r"\{(\w+)(?::path)?\}")
MODELS = FakeAI().models.ids()

# -- the seeds: one or more valid requests per route ---------------------------------------------


@dataclass(frozen=True)
class Json:
    value: Any


@dataclass(frozen=True)
class Form:
    fields: tuple[tuple[str, str], ...] = ()
    files: tuple[tuple[str, str, str, bytes], ...] = ()  # (name, filename, content type, data placeholder)


@dataclass(frozen=True)
class Seed:
    """A request that the simulator answers with a 2xx: the base the mutations start from."""

    body: Json | Form | None = None
    query: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)  # path parameters other than the first plausible id


TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
SCHEMA = {
    "type": "json_schema",
    "json_schema": {
        "name": "answer",
        "strict": True,
        "schema": {
            "type": "object",
            "properties": {"a": {"type": "string"}, "n": {"type": "integer"}},
            "required": ["a", "n"],
            "additionalProperties": False,
        },
    },
}
DATA_PNG = (  # a 1x1 PNG
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
CHAT_RICH = {
    "model": "gpt-4o",
    "messages": [
        {"role": "system", "content": "Be brief."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is in this image, and the weather in Paris?"},
                {"type": "image_url", "image_url": {"url": DATA_PNG, "detail": "low"}},
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
        {"role": "user", "content": "Thanks."},
    ],
    "max_tokens": 24,
    "temperature": 0.7,
    "top_p": 0.9,
    "n": 2,
    "stop": ["\n\n"],
    "seed": 7,
    "logprobs": True,
    "top_logprobs": 2,
    "logit_bias": {"50256": -100},
    "tools": [TOOL],
    "tool_choice": "auto",
    "user": "fuzz",
    "metadata": {"k": "v"},
    "store": False,
}
RESPONSES_RICH = {
    "model": "gpt-4o",
    "instructions": "Be brief.",
    "input": [
        {
            "role": "user",
            "content": [
                {"type": "input_text", "text": "Describe the image and the file."},
                {"type": "input_image", "image_url": DATA_PNG, "detail": "low"},
                {"type": "input_file", "file_id": "@file"},
            ],
        },
        {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": '{"city":"Paris"}'},
        {"type": "function_call_output", "call_id": "call_1", "output": "sunny"},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "It is sunny."}]},
    ],
    "tools": [
        {"type": "function", "name": "get_weather", "parameters": TOOL["function"]["parameters"]},  # type: ignore[index]
        {"type": "file_search", "vector_store_ids": ["@vs"]},
    ],
    "max_output_tokens": 64,
    "temperature": 0.5,
    "metadata": {"k": "v"},
    "store": True,
}

SEEDS: dict[tuple[str, str], list[Seed]] = {
    ("POST", "/v1/chat/completions"): [
        Seed(Json({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 16})),
        Seed(Json(CHAT_RICH)),
        Seed(
            Json(
                {
                    "model": "gpt-4o",
                    "messages": [{"role": "user", "content": "Give me JSON."}],
                    "response_format": SCHEMA,
                    "stream": True,
                    "stream_options": {"include_usage": True},
                }
            )
        ),
        Seed(
            Json({"model": "o3-mini", "messages": [{"role": "developer", "content": "x"}], "reasoning_effort": "low"})
        ),
    ],
    ("POST", "/v1/completions"): [
        Seed(Json({"model": "gpt-3.5-turbo-instruct", "prompt": "Once upon a time", "max_tokens": 16})),
        Seed(
            Json(
                {
                    "model": "gpt-3.5-turbo-instruct",
                    "prompt": ["a", [1, 2, 3]],
                    "max_tokens": 8,
                    "echo": True,
                    "logprobs": 2,
                    "n": 2,
                    "best_of": 3,
                    "stream": True,
                    "stream_options": {"include_usage": True},
                }
            )
        ),
    ],
    ("POST", "/v1/embeddings"): [
        Seed(Json({"model": "text-embedding-3-small", "input": "hello"})),
        Seed(
            Json({"model": "text-embedding-3-small", "input": ["a", "b"], "dimensions": 8, "encoding_format": "base64"})
        ),
        Seed(Json({"model": "text-embedding-ada-002", "input": [[1, 2, 3], [4]]})),
    ],
    ("POST", "/v1/moderations"): [
        Seed(Json({"input": "hello"})),
        Seed(
            Json(
                {
                    "model": "omni-moderation-latest",
                    "input": [{"type": "text", "text": "x"}, {"type": "image_url", "image_url": {"url": DATA_PNG}}],
                }
            )
        ),
    ],
    ("POST", "/v1/ranking"): [
        Seed(
            Json(
                {
                    "model": "nvidia/llama-3.2-nv-rerankqa-1b-v2",
                    "query": {"text": "fox"},
                    "passages": [{"text": "a quick brown fox"}, {"text": "a lazy dog"}],
                    "truncate": "END",
                }
            )
        )
    ],
    ("POST", "/v1/files"): [
        Seed(Form((("purpose", "assistants"),), (("file", "fox.txt", "text/plain", b"@text"),))),
        Seed(
            Form(
                (("purpose", "batch"), ("expires_after[anchor]", "created_at"), ("expires_after[seconds]", "3600")),
                (("file", "in.jsonl", "application/jsonl", b"@jsonl"),),
            )
        ),
    ],
    ("GET", "/v1/files"): [Seed(query={"purpose": "assistants", "limit": "2", "order": "asc"})],
    ("POST", "/v1/uploads"): [
        Seed(Json({"filename": "a.txt", "purpose": "assistants", "bytes": 11, "mime_type": "text/plain"})),
        Seed(
            Json(
                {
                    "filename": "b.jsonl",
                    "purpose": "batch",
                    "bytes": 10,
                    "mime_type": "application/jsonl",
                    "expires_after": {"anchor": "created_at", "seconds": 3600},
                }
            )
        ),
    ],
    ("POST", "/v1/uploads/{upload_id}/parts"): [
        Seed(Form((), (("data", "blob", "application/octet-stream", b"hello"),)))
    ],
    ("POST", "/v1/uploads/{upload_id}/complete"): [Seed(Json({"part_ids": ["@part"]}))],
    ("POST", "/v1/batches"): [
        Seed(
            Json(
                {
                    "input_file_id": "@batch_file",
                    "endpoint": "/v1/chat/completions",
                    "completion_window": "24h",
                    "metadata": {"k": "v"},
                }
            )
        )
    ],
    ("GET", "/v1/batches"): [Seed(query={"limit": "2"})],
    ("POST", "/v1/responses"): [
        Seed(Json({"model": "gpt-4o-mini", "input": "hi", "max_output_tokens": 16})),
        Seed(Json(RESPONSES_RICH)),
        Seed(
            Json(
                {
                    "model": "gpt-4o",
                    "input": "Give me JSON.",
                    "previous_response_id": "@response",
                    "text": {"format": {"type": "json_schema", **SCHEMA["json_schema"]}},  # type: ignore[dict-item]
                    "stream": True,
                }
            )
        ),
        Seed(Json({"model": "o3", "input": "think", "reasoning": {"effort": "low", "summary": "auto"}})),
    ],
    ("POST", "/v1/responses/input_tokens"): [
        Seed(Json({"model": "gpt-4o", "input": "hi"})),
        Seed(Json({k: v for k, v in RESPONSES_RICH.items() if k in ("model", "input", "instructions", "tools")})),
    ],
    ("GET", "/v1/responses/{response_id}"): [
        Seed(),
        Seed(query={"stream": "true"}, params={"response_id": "@background_response"}),
    ],
    ("GET", "/v1/responses/{response_id}/input_items"): [Seed(query={"limit": "2", "order": "asc"})],
    ("POST", "/v1/images/generations"): [
        Seed(Json({"model": "dall-e-2", "prompt": "a fox", "size": "256x256", "response_format": "url"})),
        Seed(
            Json(
                {
                    "model": "gpt-image-1",
                    "prompt": "a fox",
                    "size": "1024x1024",
                    "quality": "low",
                    "output_format": "webp",
                    "output_compression": 50,
                    "stream": True,
                    "partial_images": 1,
                }
            )
        ),
    ],
    ("POST", "/v1/images/edits"): [
        Seed(
            Form(
                (("prompt", "add a hat"), ("model", "dall-e-2"), ("size", "256x256"), ("response_format", "b64_json")),
                (("image", "fox.png", "image/png", b"@rgba"),),
            )
        ),
        Seed(
            Form(
                (("prompt", "add a hat"), ("model", "gpt-image-1"), ("quality", "low"), ("n", "1")),
                (("image[]", "a.png", "image/png", b"@rgba"), ("mask", "m.png", "image/png", b"@rgba")),
            )
        ),
    ],
    ("POST", "/v1/images/variations"): [
        Seed(
            Form(
                (("model", "dall-e-2"), ("size", "256x256"), ("n", "1")), (("image", "fox.png", "image/png", b"@png"),)
            )
        )
    ],
    ("POST", "/v1/audio/speech"): [
        Seed(Json({"model": "tts-1", "input": "hello there", "voice": "alloy", "response_format": "wav"})),
        Seed(Json({"model": "gpt-4o-mini-tts", "input": "hi", "voice": "coral", "stream_format": "sse"})),
    ],
    ("POST", "/v1/audio/transcriptions"): [
        Seed(
            Form(
                (
                    ("model", "whisper-1"),
                    ("response_format", "verbose_json"),
                    ("timestamp_granularities[]", "word"),
                    ("language", "en"),
                    ("temperature", "0"),
                ),
                (("file", "hello.wav", "audio/wav", b"@wav"),),
            )
        ),
        Seed(
            Form((("model", "gpt-4o-transcribe"), ("stream", "true")), (("file", "hello.wav", "audio/wav", b"@wav"),))
        ),
    ],
    ("POST", "/v1/audio/translations"): [
        Seed(Form((("model", "whisper-1"), ("prompt", "x")), (("file", "hello.wav", "audio/wav", b"@wav"),)))
    ],
    ("GET", "/v1/vector_stores"): [Seed(query={"limit": "2", "order": "desc"})],
    ("POST", "/v1/vector_stores"): [
        Seed(
            Json(
                {
                    "name": "v",
                    "file_ids": ["@file"],
                    "metadata": {"k": "v"},
                    "expires_after": {"anchor": "last_active_at", "days": 1},
                    "chunking_strategy": {
                        "type": "static",
                        "static": {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 10},
                    },
                }
            )
        )
    ],
    ("POST", "/v1/vector_stores/{vector_store_id}"): [Seed(Json({"name": "w", "metadata": {"a": "b"}}))],
    ("POST", "/v1/vector_stores/{vector_store_id}/search"): [
        Seed(
            Json(
                {
                    "query": "fox",
                    "max_num_results": 2,
                    "filters": {"type": "eq", "key": "k", "value": "v"},
                    "ranking_options": {"ranker": "auto", "score_threshold": 0.0},
                    "rewrite_query": False,
                }
            )
        )
    ],
    ("POST", "/v1/vector_stores/{vector_store_id}/files"): [
        Seed(Json({"file_id": "@file", "attributes": {"k": "v", "n": 1, "b": True}}))
    ],
    ("GET", "/v1/vector_stores/{vector_store_id}/files"): [Seed(query={"filter": "completed", "limit": "2"})],
    ("POST", "/v1/vector_stores/{vector_store_id}/files/{file_id}"): [Seed(Json({"attributes": {"k": "w"}}))],
    ("POST", "/v1/vector_stores/{vector_store_id}/file_batches"): [Seed(Json({"file_ids": ["@file"]}))],
    ("GET", "/v1/vector_stores/{vector_store_id}/file_batches/{batch_id}/files"): [Seed(query={"filter": "completed"})],
    ("POST", "/rag/api/prompt"): [
        Seed(Json({"query": "fox", "top_k": 2})),
        Seed(Json({"messages": [{"role": "user", "content": "fox?"}], "vector_store_ids": ["@vs"], "stream": True})),
    ],
}

#: Plausible values of each path parameter (placeholders resolve to this simulator's objects).
IDS: dict[str, list[str]] = {
    "file_id": ["@file", "@batch_file"],
    "upload_id": ["@upload"],
    "batch_id": ["@batch", "@vsfb"],
    "response_id": ["@response", "@background_response"],
    "vector_store_id": ["@vs"],
    "name": ["@image"],
    "model": ["gpt-4o", "ft:gpt-4o-mini:org::abc123", "meta-llama/Llama-3.1-8B-Instruct", "a/b/c/d"],
}
ALL_IDS = sorted({v for values in IDS.values() for v in values})


def plausible(template: str, name: str) -> list[str]:
    """The real ids a parameter can take, the likeliest first (a file batch's ``batch_id`` is a vsfb_ id)."""
    if name == "batch_id" and "/file_batches/" in template:
        return ["@vsfb", "@batch"]
    return IDS.get(name, ALL_IDS)


WELL_FORMED_IDS = [
    *("file-abc123", "upload_abc", "batch_abc", "resp_abc", "vs_abc", "vsfb_abc", "img-abc.png"),
    *("part_abc", "msg_abc", "ft:gpt-4o:x::y"),
]


def _spec_fields() -> tuple[dict[tuple[str, str], list[str]], dict[tuple[str, str], list[str]], set[tuple[str, str]]]:
    """From the OpenAPI spec: each route's body fields, its query parameters, and the multipart routes."""
    spec = openapi_spec()
    bodies: dict[tuple[str, str], list[str]] = {}
    queries: dict[tuple[str, str], list[str]] = {}
    multipart: set[tuple[str, str]] = set()
    if spec is None:
        return bodies, queries, multipart
    schemas = spec["components"]["schemas"]

    def deref(node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = schemas[node["$ref"].rsplit("/", 1)[1]]
        return node

    def properties(node: dict[str, Any], depth: int = 0) -> set[str]:
        node = deref(node)
        names = set(node.get("properties", {}))
        for key in ("allOf", "anyOf", "oneOf"):
            for sub in node.get(key, []) if depth < 4 else []:
                names |= properties(sub, depth + 1)
        return names

    for method, template in ROUTES:
        operation = spec["paths"].get(spec_path(template), {}).get(method.lower())
        if operation is None:
            continue
        content = operation.get("requestBody", {}).get("content", {})
        names: set[str] = set()
        for kind, media in content.items():
            names |= properties(media.get("schema", {}))
            if kind == "multipart/form-data":
                multipart.add((method, template))
        bodies[(method, template)] = sorted(names)
        params = []
        for p in operation.get("parameters", []):
            if "$ref" in p:
                p = spec["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]]
            if p.get("in") == "query":
                params.append(p["name"])
        queries[(method, template)] = params
    return bodies, queries, multipart


SPEC_FIELDS, SPEC_QUERIES, SPEC_MULTIPART = _spec_fields()


def seeds_of(route: tuple[str, str]) -> list[Seed]:
    """The route's seeds; a route without any (a new one) gets an empty body of the kind it takes."""
    if route in SEEDS:
        return SEEDS[route]
    if route in SPEC_MULTIPART:
        return [Seed(Form())]
    return [Seed(Json({}) if route[0] == "POST" else None)]


def body_fields(route: tuple[str, str]) -> list[str]:
    names = set(SPEC_FIELDS.get(route, ()))
    for seed in seeds_of(route):
        if isinstance(seed.body, Json) and isinstance(seed.body.value, dict):
            names |= set(seed.body.value)
        elif isinstance(seed.body, Form):
            names |= {n for n, _ in seed.body.fields} | {f[0] for f in seed.body.files}
    return sorted(names) or ["model", "input"]


GENERIC_QUERY = [
    *("limit", "after", "before", "order", "purpose", "include[]", "include", "stream", "filter"),
    *("api-version",),
]


def query_names(route: tuple[str, str]) -> list[str]:
    names = set(SPEC_QUERIES.get(route, ())) | set(GENERIC_QUERY)
    for seed in seeds_of(route):
        names |= set(seed.query)
    return sorted(names)


JSON_ROUTES = [r for r in ROUTES if any(isinstance(s.body, Json) for s in seeds_of(r))]
FORM_ROUTES = [r for r in ROUTES if any(isinstance(s.body, Form) for s in seeds_of(r))]
DYNAMIC_ROUTES = [r for r in ROUTES if "{" in r[1]]
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "CONNECT", "get", "FOO", "", "P OST"]


# -- nasty values ---------------------------------------------------------------------------------

HUGE = 20_000  # characters of a huge string: a case stays well under 50 ms
MAX_GROWN = 200  # elements a mutation grows a seed's array to (each element may be a whole message)
NUMBERS: list[Any] = [
    *(0, -1, 1, 2, -0.0, 0.5, 1.5, -1.5, 2**31 - 1, 2**31, -(2**31) - 1, 2**53 + 1, 2**63 - 1),
    *(2**63, -(2**63) - 1, 2**64, 10**30, -(10**30), 10**400, 1e308, -1e308, 5e-324, 1e-7),
    *(float("nan"), float("inf"), float("-inf"), 16, 128, 129, 4096, 16384, 100_000),
]
STRINGS: list[str] = [
    *("", " ", "\x00", "a\x00b", "\ud800", "\udfff", "x\udc80y", "\ud83d\ude00", "😀"),
    *("\u202e\u0627", "\ufeff", "\uffff", "\U0010ffff", "a\u0301\u0301\u0301", "\r\n", "null"),
    *("NaN", "Infinity", "-1", "1e308", "0x10", "true", "[]", "{}", "gpt-4o", "o3", "auto"),
    *("none", "required", "text", "json_object", "user", "system", "function", "../../etc/passwd"),
    *("%s%n%x%00", "{{x}}", "<|endoftext|>", "<|im_start|>", "file-", "@file", "@vs", "@response"),
    *("a" * HUGE, "é" * (HUGE // 4), "😀" * (HUGE // 4), "\ud800" * 1000, "hello world " * 1500),
]
CHARS = st.characters() | st.sampled_from(["\ud800", "\udbff", "\udc00", "\udfff", "\x00", "\ufffe", "\u2028"])
texts = st.text(CHARS, max_size=40)
strings = st.sampled_from(STRINGS) | texts
numbers = st.sampled_from(NUMBERS) | st.integers() | st.floats()
scalars = st.none() | st.booleans() | numbers | strings
BIG_ARRAYS: list[Any] = [[0] * 3000, [-1] * 100, ["x"] * 300, [None] * 1000, [[]] * 500, [{}] * 500, [[1, 2]] * 1000]
values = st.recursive(
    scalars | st.sampled_from(BIG_ARRAYS).map(copy.deepcopy),  # a copy: a mutation may grow it in place
    lambda children: st.lists(children, max_size=4) | st.dictionaries(strings, children, max_size=4),
    max_leaves=8,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path of every node of a JSON tree, the root first."""
    out = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            out += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            out += _paths(child, (*prefix, index))
    return out


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        value = value[key]
    return value


def _set(root: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    _get(root, path[:-1])[path[-1]] = new
    return root


@st.composite
def mutated(draw: st.DrawFn, seed: Any, fields: list[str]) -> Any:
    """``seed`` with one to three mutations anywhere in its tree."""
    value = copy.deepcopy(seed)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(value)))
        node = _get(value, path)
        kind = draw(st.sampled_from(["replace", "replace", "replace", "delete", "add", "grow", "wrap", "retype"]))
        if kind == "replace":
            value = _set(value, path, draw(values))
        elif kind == "delete" and path:
            parent = _get(value, path[:-1])
            del parent[path[-1]]
        elif kind == "add" and isinstance(node, dict):
            key = draw(st.sampled_from(fields) if not path else strings) if fields else draw(strings)
            node[key] = draw(values)
        elif kind == "grow" and isinstance(node, list) and node and len(node) < MAX_GROWN:
            item = node[draw(st.integers(0, len(node) - 1))]
            node.extend(copy.deepcopy(item) for _ in range(draw(st.integers(1, MAX_GROWN - len(node)))))
        elif kind == "wrap":
            value = _set(value, path, draw(st.sampled_from([[node], {"value": node}, json.dumps(node), None])))
        elif kind == "retype":  # the same value as another JSON type: "5" for 5, 1 for true, [x] for x
            if isinstance(node, bool):
                new: Any = int(node)
            elif isinstance(node, int | float):
                new = str(node)
            elif isinstance(node, str):
                new = draw(st.sampled_from([[node], {"text": node}, len(node), node == "", None]))
            else:
                new = draw(st.sampled_from([str(node), len(node) if hasattr(node, "__len__") else 0, True]))
            value = _set(value, path, new)
    return value


def dump(value: Any) -> bytes:
    """JSON as the fuzz sends it: NaN and Infinity as their literals, lone surrogates escaped."""
    return json.dumps(value, allow_nan=True).encode()


# -- bodies -----------------------------------------------------------------------------------------


@st.composite
def json_body(draw: st.DrawFn, route: tuple[str, str]) -> Any:
    seeds = [s.body.value for s in seeds_of(route) if isinstance(s.body, Json)] or [{}]
    return draw(mutated(draw(st.sampled_from(seeds)), body_fields(route)))


def duplicated_keys(value: dict[str, Any], pairs: list[tuple[str, Any]]) -> bytes:
    """An object whose text repeats keys (JSON allows it; the last one wins in most parsers)."""
    items = [*value.items(), *pairs] if pairs else [*value.items(), *value.items()]
    return b"{" + b",".join(dump(k) + b":" + dump(v) for k, v in items) + b"}"


@st.composite
def malformed_json(draw: st.DrawFn, route: tuple[str, str]) -> bytes:
    """Bytes that are not the JSON object the route expects."""
    value = (
        draw(json_body(route))
        if draw(st.booleans())
        else next((s.body.value for s in seeds_of(route) if isinstance(s.body, Json)), {"model": "gpt-4o"})
    )
    text = dump(value)
    kind = draw(
        st.sampled_from(
            [
                *("truncate", "insert", "flip", "duplicate", "literals", "utf16", "bom", "invalid_utf8"),
                *("raw_nul", "deep", "not_object", "garbage", "trailing", "comments", "single_quotes"),
                *("huge_number",),
            ]
        )
    )
    if kind == "truncate":
        return text[: draw(st.integers(0, max(0, len(text) - 1)))]
    if kind == "insert":
        at = draw(st.integers(0, len(text)))
        return (
            text[:at]
            + draw(st.sampled_from([b",", b"{", b"]", b'"', b"\\", b":", b"\x00", b"\xff", b" x"]))
            + text[at:]
        )
    if kind == "flip":
        at = draw(st.integers(0, max(0, len(text) - 1)))
        return text[:at] + bytes([draw(st.integers(0, 255))]) + text[at + 1 :]
    if kind == "duplicate" and isinstance(value, dict):
        pairs = draw(st.lists(st.tuples(st.sampled_from(body_fields(route)), values), max_size=3))
        return duplicated_keys(value, pairs)
    if kind == "literals":
        literal = draw(
            st.sampled_from([b"NaN", b"Infinity", b"-Infinity", b"1e999", b"-1e999", b"-0", b"1E400", b"0e0"])
        )
        return re.sub(rb"(?<=: )-?\d+(\.\d+)?([eE][-+]?\d+)?", literal, text, count=draw(st.integers(1, 3)))
    if kind == "utf16":
        return text.decode().encode(draw(st.sampled_from(["utf-16", "utf-16-le", "utf-32", "utf-16-be"])))
    if kind == "bom":
        return b"\xef\xbb\xbf" + text
    if kind == "invalid_utf8":
        return text.replace(b'"', b'"\xc3\x28', 1)
    if kind == "raw_nul":
        return text.replace(b'"', b'"\x00', 2)
    if kind == "deep":
        depth = draw(st.sampled_from([100, 1000, 100_000]))
        inner = draw(st.sampled_from([b"[" * depth + b"]" * depth, b'{"a":' * depth + b"1" + b"}" * depth]))
        key = draw(st.sampled_from(body_fields(route)))
        return b"{" + dump(key) + b":" + inner + b"}"
    if kind == "not_object":
        return draw(st.sampled_from([b"null", b"[]", b"[{}]", b"1", b'"x"', b"true", b"", b" ", b"\n", b"{}"]))
    if kind == "trailing":
        return text + draw(st.sampled_from([b",", b"}", b" {}", b"\x00", b"garbage", b"\n\n"]))
    if kind == "comments":
        return b"/* hi */" + text
    if kind == "single_quotes":
        return text.replace(b'"', b"'")
    if kind == "huge_number":
        return re.sub(rb"(?<=: )\d+", b"9" * draw(st.sampled_from([20, 400, 4301, 50_000])), text, count=1)
    return draw(st.binary(max_size=300))


@dataclass(frozen=True)
class RawForm:
    body: bytes
    content_type: str


@st.composite
def form_body(draw: st.DrawFn, route: tuple[str, str], target: Target) -> RawForm:
    """A multipart body: a seed form with its fields and files mutated, then perhaps its structure broken."""
    seeds = [s.body for s in seeds_of(route) if isinstance(s.body, Form)] or [Form()]
    seed = draw(st.sampled_from(seeds))
    fields = list(seed.fields)
    files = [(n, fn, ct, target.resolve(data)) for n, fn, ct, data in seed.files]
    names = body_fields(route)
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["field", "field", "drop", "add", "file_data", "file_meta", "swap", "repeat"]))
        if kind == "field" and fields:
            i = draw(st.integers(0, len(fields) - 1))
            fields[i] = (fields[i][0], draw(strings | numbers.map(str)))
        elif kind == "drop" and (fields or files):
            if fields and (not files or draw(st.booleans())):
                fields.pop(draw(st.integers(0, len(fields) - 1)))
            else:
                files.pop(draw(st.integers(0, len(files) - 1)))
        elif kind == "add":
            name = draw(st.sampled_from(names) | strings | st.sampled_from([f"{n}[]" for n in names]))
            fields.append((name, draw(strings | numbers.map(str) | values.map(dump).map(bytes.decode))))
        elif kind == "file_data" and files:
            i = draw(st.integers(0, len(files) - 1))
            data = files[i][3]
            new = draw(
                st.sampled_from(
                    [
                        b"",
                        data[: len(data) // 2],
                        data[:64],
                        data[:8],
                        data + b"\x00" * 100,
                        b"\x00" * 2000,
                        b"GIF89a" + data[6:],
                        b"RIFF\xff\xff\xff\xffWAVEfmt ",
                        b"\x89PNG\r\n\x1a\n" + b"\xff" * 64,
                        b"ID3\x04\x00\x00\x00\x00\x00\x00",
                        b"OggS" + bytes(40),
                        b"fLaC" + bytes(40),
                        target.blobs[b"@png"],
                        target.blobs[b"@wav"],
                        target.blobs[b"@jsonl"],
                        b'{"custom_id": 1}\n{not json\n',
                        "héllo \ud800".encode("utf-8", "surrogatepass"),
                        b"x" * 200_000,
                    ]
                )
                | st.binary(max_size=200)
            )
            files[i] = (*files[i][:3], new)
        elif kind == "file_meta" and files:
            i = draw(st.integers(0, len(files) - 1))
            n, fn, ct, data = files[i]
            which = draw(st.sampled_from(["filename", "type", "name"]))
            odd = draw(strings.filter(lambda s: '"' not in s and "\r" not in s and "\n" not in s))
            files[i] = (
                odd if which == "name" else n,
                odd if which == "filename" else fn,
                odd if which == "type" else ct,
                data,
            )
        elif kind == "swap":  # a file sent as a text field, or a field sent as a file
            if files and draw(st.booleans()):
                n, _, _, data = files.pop(0)
                fields.append((n, data[:100].decode("utf-8", "replace")))
            elif fields:
                n, v = fields.pop(0)
                files.append((n, "x.txt", "text/plain", v.encode("utf-8", "surrogatepass")))
        elif kind == "repeat" and (fields or files):
            if fields:
                fields.append(fields[draw(st.integers(0, len(fields) - 1))])
            if files:
                files.append(files[draw(st.integers(0, len(files) - 1))])
    body, content_type = form_raw(fields, files)
    return draw(broken_form(body, content_type))


def form_raw(fields: list[tuple[str, str]], files: list[tuple[str, str, str, bytes]]) -> tuple[bytes, str]:
    """Like ``conftest.form``, but any text goes (lone surrogates are sent as the bytes CESU-8 gives them)."""
    boundary = "fakeaiFuzzBoundary7MA4YWxk"
    out = b""

    def enc(text: str) -> bytes:
        return text.encode("utf-8", "surrogatepass")

    for name, value in fields:
        out += b"--" + enc(boundary) + b'\r\nContent-Disposition: form-data; name="' + enc(name) + b'"\r\n\r\n'
        out += enc(value) + b"\r\n"
    for name, filename, ctype, data in files:
        out += b"--" + enc(boundary) + b'\r\nContent-Disposition: form-data; name="' + enc(name) + b'"; filename="'
        out += enc(filename) + b'"\r\nContent-Type: ' + enc(ctype) + b"\r\n\r\n" + data + b"\r\n"
    return out + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


@st.composite
def broken_form(draw: st.DrawFn, body: bytes, content_type: str) -> RawForm:
    """Most of the time the form as it is; otherwise its structure or its Content-Type broken."""
    kind = draw(
        st.sampled_from(
            ["intact"] * 6
            + [
                *("no_boundary", "other_boundary", "quoted_boundary", "long_boundary", "truncate", "no_end"),
                *("lf_only", "preamble", "no_disposition", "no_name", "bad_name", "header_no_colon", "flip"),
                *("json_type", "urlencoded", "no_type", "empty"),
            ]
        )
    )
    boundary = content_type.split("boundary=", 1)[1]
    b = boundary.encode()
    if kind == "no_boundary":
        return RawForm(body, "multipart/form-data")
    if kind == "other_boundary":
        return RawForm(body, "multipart/form-data; boundary=somethingElse")
    if kind == "quoted_boundary":
        return RawForm(body, f'multipart/form-data; boundary="{boundary}"')
    if kind == "long_boundary":
        long = "b" * draw(st.sampled_from([70, 71, 200, 5000]))
        return RawForm(body.replace(b, long.encode()), f"multipart/form-data; boundary={long}")
    if kind == "truncate":
        return RawForm(body[: draw(st.integers(0, max(0, len(body) - 1)))], content_type)
    if kind == "no_end":
        return RawForm(body.replace(b"--" + b + b"--", b""), content_type)
    if kind == "lf_only":
        return RawForm(body.replace(b"\r\n", b"\n"), content_type)
    if kind == "preamble":
        return RawForm(b"preamble garbage\r\n" + body + b"epilogue", content_type)
    if kind == "no_disposition":
        return RawForm(body.replace(b"Content-Disposition", b"X-Nothing", 1), content_type)
    if kind == "no_name":
        return RawForm(re.sub(rb'; name="[^"]*"', b"", body, count=1), content_type)
    if kind == "bad_name":
        return RawForm(re.sub(rb'name="[^"]*"', b'name="\xff\xfe"', body, count=1), content_type)
    if kind == "header_no_colon":
        return RawForm(body.replace(b"Content-Disposition:", b"Content-Disposition", 1), content_type)
    if kind == "flip" and body:
        at = draw(st.integers(0, len(body) - 1))
        return RawForm(body[:at] + bytes([draw(st.integers(0, 255))]) + body[at + 1 :], content_type)
    if kind == "json_type":
        return RawForm(body, "application/json")
    if kind == "urlencoded":
        return RawForm(b"model=whisper-1&purpose=assistants&file=x", "application/x-www-form-urlencoded")
    if kind == "no_type":
        return RawForm(body, "")
    if kind == "empty":
        return RawForm(b"", content_type)
    return RawForm(body, content_type)


# -- paths, queries, headers ---------------------------------------------------------------------

garbage_ids = st.sampled_from(
    [
        *(*WELL_FORMED_IDS, "x", ".", "..", "%2e%2e", "%2F", "%00", "%ff", "a%20b", "null", "undefined", "0"),
        *("-1",),
        "9" * 40,
        "x" * 5000,
        *("😀", "\ud800", "\x00", "a b", "a?b=c", "a#b", "a;b", "*", "cancel", "files", "content"),
    ]
) | st.text(CHARS, min_size=1, max_size=30).filter(lambda s: "/" not in s)


@st.composite
def filled_path(draw: st.DrawFn, template: str) -> str:
    """The template with each parameter a plausible id of its kind, another kind's, or garbage."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        kind = draw(st.sampled_from(["plausible"] * 3 + ["other", "garbage", "garbage"]))
        if kind == "plausible":
            return draw(st.sampled_from(plausible(template, name)))
        if kind == "other":
            return draw(st.sampled_from(ALL_IDS))
        value = draw(garbage_ids)
        if match.group(0).endswith(":path}") and draw(st.booleans()):
            value = draw(st.sampled_from(["a/b", "x/../../v1/files", "/", "gpt-4o/", "org/model/extra/parts"]))
        return value

    return PARAM.sub(fill, template)


query_values = st.sampled_from(
    [
        *("", "0", "1", "-1", "2", "100", "101", "10000", "1e308", "1.5", "NaN", "inf"),
        *("99999999999999999999999", "abc", "true", "false", "asc", "desc", "ASC", "completed", "@file"),
        *("@response", "file-abc", "%ff", "%00", "%", "%zz", "\ud800", "😀", "a+b", "a&b"),
        "x" * 5000,
    ]
) | texts.map(lambda s: s.replace("&", "").replace("=", ""))


@st.composite
def query_string(draw: st.DrawFn, route: tuple[str, str], target: Target) -> str:
    names = query_names(route)
    parts = []
    for _ in range(draw(st.integers(0, 4))):
        name = draw(st.sampled_from(names) | texts)
        value = target.resolve(draw(query_values))
        shape = draw(st.sampled_from(["pair", "pair", "pair", "bare", "empty_name", "double_amp"]))
        parts.append(
            {"pair": f"{name}={value}", "bare": name, "empty_name": f"={value}", "double_amp": f"&{name}={value}&"}[
                shape
            ]
        )
    return "&".join(parts)


CONTENT_TYPES = [
    *("application/json", "application/json; charset=utf-8", "application/json; charset=latin-1"),
    *("APPLICATION/JSON", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"),
    *("multipart/form-data; boundary=x", "application/octet-stream", "", "*/*", "application/json\x00", "ü"),
]
extra_headers = st.dictionaries(
    st.sampled_from(
        [
            *("x-stainless-retry-count", "host", "x-forwarded-proto", "authorization", "api-key"),
            *("openai-beta", "openai-organization", "openai-project", "idempotency-key", "accept"),
            *("x-request-id", "content-disposition"),
        ]
    ),
    st.sampled_from(["", "0", "1", "-1", "99999999999999999999", "NaN", "Bearer sk-x", "http", "https", "ftp"])
    | st.sampled_from(["localhost:0", "[::1]:8000", "a" * 3000, "x\ud800", "127.0.0.1:99999", "h:p:q", "é"])
    | texts,
    max_size=3,
)


def request_for(
    target: Target,
    method: str,
    path: str,
    body: bytes = b"",
    content_type: str = "application/json",
    query: str = "",
    headers: dict[str, str] | None = None,
) -> ApiRequest:
    all_headers = {"content-type": content_type} if content_type else {}
    all_headers.update(headers or {})
    return ApiRequest(method, target.resolve(path), query, all_headers, body)


def _path_with_refs(target: Target, template: str, params: dict[str, str] | None = None) -> str:
    """The template filled with this simulator's real ids (``params``, else the first plausible one)."""
    params = params or {}
    return PARAM.sub(lambda m: target.resolve(params.get(m.group(1)) or plausible(template, m.group(1))[0]), template)


def seed_request(target: Target, route: tuple[str, str], seed: Seed, path: str | None = None) -> ApiRequest:
    method, template = route
    path = target.resolve(path) if path is not None else _path_with_refs(target, template, seed.params)
    query = "&".join(f"{k}={target.resolve(v)}" for k, v in seed.query.items())
    if isinstance(seed.body, Json):
        return request_for(target, method, path, dump(target.resolve(seed.body.value)), query=query)
    if isinstance(seed.body, Form):
        files = [(n, fn, ct, target.resolve(d)) for n, fn, ct, d in seed.body.files]
        body, content_type = form(list(seed.body.fields), files)
        return request_for(target, method, path, body, content_type, query=query)
    return request_for(target, method, path, query=query)


def run(target: Target, request: ApiRequest) -> None:
    check(exchange(target.next_case(), request))


# -- the campaign ---------------------------------------------------------------------------------


def test_the_router_is_fuzzed_whole() -> None:
    """The campaign covers what the router serves: every route, by its methods, with a seed or a default."""
    assert ("POST", "/v1/chat/completions") in ROUTES and ("GET", "/health") in ROUTES, ROUTES
    assert all(r in ROUTES for r in SEEDS), sorted(set(SEEDS) - set(ROUTES))
    if SPEC_FIELDS:  # every multipart route the spec knows has form seeds here
        assert set(FORM_ROUTES) >= SPEC_MULTIPART, SPEC_MULTIPART - set(FORM_ROUTES)


@pytest.mark.parametrize("route", ROUTES, ids=[f"{m} {t}" for m, t in ROUTES])
def test_every_route_answers_its_seeds_and_fixed_garbage(route: tuple[str, str]) -> None:
    """Each seed is answered with a 2xx (so the mutations start from valid requests); fixed garbage
    is answered like OpenAI. A fresh simulator: a DELETE on another route does not matter here."""
    target = Target()
    for seed in seeds_of(route):
        answer = exchange(target.next_case(), seed_request(target, route, seed))
        check(answer)
        if route in SEEDS:
            assert answer.status < 300, answer.where()
    method, template = route
    path = _path_with_refs(target, template)
    for body in [b"", b"{}", b"null", b"[]", b'"x"', b"{", b"\xff\xfe\x00", b"[" * 5000 + b"]" * 5000, b"NaN"]:
        run(target, request_for(target, method, path, body))
    run(target, request_for(target, "PATCH", path, b"{}"))


@fuzz_settings()
@given(data=st.data())
def test_json_bodies_with_every_field_mutated(target: Target, data: st.DataObject) -> None:
    route = data.draw(st.sampled_from(JSON_ROUTES), label="route")
    body = data.draw(json_body(route), label="body")
    path = data.draw(filled_path(route[1]), label="path") if "{" in route[1] else route[1]
    run(target, request_for(target, route[0], path, dump(target.resolve(body))))


@fuzz_settings()
@given(data=st.data())
def test_malformed_json_on_every_route(target: Target, data: st.DataObject) -> None:
    route = data.draw(st.sampled_from(ROUTES), label="route")
    body = data.draw(malformed_json(route), label="body")
    content_type = data.draw(st.sampled_from(["application/json"] * 4 + CONTENT_TYPES), label="content_type")
    run(target, request_for(target, route[0], _path_with_refs(target, route[1]), body, content_type))


@fuzz_settings()
@given(data=st.data())
def test_multipart_bodies(target: Target, data: st.DataObject) -> None:
    route = data.draw(st.sampled_from(FORM_ROUTES), label="route")
    raw = data.draw(form_body(route, target), label="form")
    path = data.draw(filled_path(route[1]), label="path") if "{" in route[1] else route[1]
    run(target, request_for(target, route[0], path, raw.body, raw.content_type))


# odd content parts for chat and Responses messages, and the other places messages go
PART_TYPES = [
    *("text", "image_url", "input_audio", "file", "refusal", "input_text", "input_image", "input_file"),
    *("input_audio", "output_text", "summary_text", "reasoning_text", "video", ""),
]
image_urls = st.sampled_from(
    [DATA_PNG, "https://example.com/a.png", "data:image/png;base64,!!!", "data:,", "data:image/png;base64,", "", "x"]
)
part = st.fixed_dictionaries(
    {"type": st.sampled_from(PART_TYPES) | values},
    optional={
        "text": strings | values,
        "image_url": st.fixed_dictionaries({}, optional={"url": image_urls | values, "detail": strings}) | image_urls,
        "input_audio": st.fixed_dictionaries(
            {}, optional={"data": st.sampled_from(["UklGRg==", "", "!!"]) | values, "format": strings}
        ),
        "file": st.fixed_dictionaries(
            {},
            optional={"file_id": st.sampled_from(ALL_IDS) | strings, "file_data": strings, "filename": strings},
        ),
        "file_id": st.sampled_from(ALL_IDS) | strings,
        "file_url": strings,
        "file_data": strings,
        "refusal": strings,
        "detail": strings,
        "annotations": values,
    },
)
contents = strings | st.lists(part, max_size=4) | values
tool_calls = st.lists(
    st.fixed_dictionaries(
        {"id": strings, "type": st.sampled_from(["function", "custom"]) | values},
        optional={
            "function": st.fixed_dictionaries(
                {}, optional={"name": strings, "arguments": st.sampled_from(["{}", '{"city":"x"}', "{", "[]"]) | values}
            )
        },
    ),
    max_size=2,
)
ROLES = ["system", "developer", "user", "assistant", "tool", "function", "critic", ""]
chat_message = st.fixed_dictionaries(
    {"role": st.sampled_from(ROLES) | values},
    optional={
        "content": contents,
        "name": strings,
        "tool_calls": tool_calls | values,
        "tool_call_id": strings,
        "refusal": strings,
        "function_call": values,
        "audio": values,
    },
)
ITEM_TYPES = [
    *("message", "function_call", "function_call_output", "reasoning", "item_reference", "file_search_call"),
    *("web_search_call", "computer_call", "custom_tool_call", "mcp_call", "nonsense"),
]
response_item = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(ITEM_TYPES) | values,
        "role": st.sampled_from(ROLES) | values,
        "content": contents,
        "id": st.sampled_from(["@response", "msg_1", "fc_1"]) | strings,
        "call_id": st.sampled_from(["call_1", ""]) | strings,
        "name": strings,
        "arguments": st.sampled_from(["{}", "{"]) | values,
        "output": contents,
        "summary": values,
        "status": strings,
    },
)
chat_models = st.sampled_from(MODELS) | st.sampled_from(["gpt-4o", "gpt-4o-audio-preview", "o3", "x"])


@fuzz_settings()
@given(data=st.data())
def test_odd_messages_and_content_parts(target: Target, data: st.DataObject) -> None:
    where = data.draw(
        st.sampled_from(
            ["chat", "chat", "responses", "responses", "input_tokens", "moderations", "rag", "completions"]
        ),
        label="where",
    )
    model = data.draw(chat_models, label="model")
    stream = data.draw(st.booleans(), label="stream")
    if where == "chat":
        path = "/v1/chat/completions"
        body: dict[str, Any] = {"model": model, "messages": data.draw(st.lists(chat_message, max_size=5))}
        if data.draw(st.booleans()):
            body["tools"] = [TOOL]
        body["max_tokens"] = 16
    elif where in ("responses", "input_tokens"):
        path = "/v1/responses" if where == "responses" else "/v1/responses/input_tokens"
        body = {"model": model, "input": data.draw(st.lists(response_item, max_size=5) | contents)}
        if data.draw(st.booleans()):
            body["instructions"] = data.draw(contents)
    elif where == "moderations":
        path = "/v1/moderations"
        body = {"input": data.draw(st.lists(part, max_size=4) | contents)}
        if data.draw(st.booleans()):
            body["model"] = data.draw(st.sampled_from(["omni-moderation-latest", "text-moderation-latest", model]))
    elif where == "rag":
        path = "/rag/api/prompt"
        body = {"messages": data.draw(st.lists(chat_message, max_size=4))}
    else:
        path = "/v1/completions"
        prompts = st.lists(st.integers(-5, 300_000), max_size=5) | st.lists(strings | values, max_size=3) | values
        body = {"model": data.draw(st.sampled_from(["gpt-3.5-turbo-instruct", model])), "prompt": data.draw(prompts)}
    if stream and where != "input_tokens":
        body["stream"] = True
    run(target, request_for(target, "POST", path, dump(target.resolve(body))))


@fuzz_settings()
@given(data=st.data())
def test_plausible_and_garbage_ids_in_paths(target: Target, data: st.DataObject) -> None:
    route = data.draw(st.sampled_from(DYNAMIC_ROUTES), label="route")
    path = data.draw(filled_path(route[1]), label="path")
    method = data.draw(st.sampled_from([route[0]] * 4 + ["GET", "POST", "DELETE"]), label="method")
    seed = data.draw(st.sampled_from(seeds_of(route)), label="seed")
    request = seed_request(target, route, seed, path=path)
    run(target, ApiRequest(method, request.path, request.query, request.headers, request.body))


@fuzz_settings()
@given(data=st.data())
def test_query_strings(target: Target, data: st.DataObject) -> None:
    route = data.draw(st.sampled_from(ROUTES), label="route")
    seed = data.draw(st.sampled_from(seeds_of(route)), label="seed")
    query = data.draw(query_string(route, target), label="query")
    request = seed_request(target, route, seed)
    run(target, ApiRequest(request.method, request.path, query, request.headers, request.body))


PATH_VARIANTS = ["{}", "{}/", "{}//", "/{}", "{}/extra", "{}.json", "/v1{}", "{}%20", "{}?x", "{}/.."]


@fuzz_settings()
@given(data=st.data())
def test_methods_content_types_and_headers(target: Target, data: st.DataObject) -> None:
    route = data.draw(st.sampled_from(ROUTES), label="route")
    body_route = data.draw(st.sampled_from([route, route, *ROUTES]), label="body_of")  # sometimes another route's body
    seed = data.draw(st.sampled_from(seeds_of(body_route)), label="seed")
    request = seed_request(target, body_route, seed)
    path = _path_with_refs(target, route[1])
    variant = data.draw(st.sampled_from(["{}"] * 4 + PATH_VARIANTS), label="path_variant")
    path = variant.format(path)
    if data.draw(st.booleans()):
        path = path.upper() if data.draw(st.booleans()) else path.replace("/v1/", "/V1/")
    method = data.draw(st.sampled_from([route[0], *METHODS]), label="method")
    headers = dict(request.headers)
    if data.draw(st.booleans()):
        headers["content-type"] = data.draw(st.sampled_from(CONTENT_TYPES), label="content_type")
    headers.update(data.draw(extra_headers, label="headers"))
    run(target, ApiRequest(method, path, request.query, headers, request.body))


@st.composite
def huge_or_odd_text(draw: st.DrawFn, route: tuple[str, str]) -> Any:
    """A seed with one of its arrays made long (up to 1,000 elements), or one or two of its strings made
    huge or made of unicode edge cases (never both: a huge string repeated 1,000 times is no case)."""
    seeds = [s.body.value for s in seeds_of(route) if isinstance(s.body, Json)] or [{}]
    value = copy.deepcopy(draw(st.sampled_from(seeds)))
    arrays = [p for p in _paths(value) if p and isinstance(_get(value, p), list)]
    strings_at = [p for p in _paths(value) if p and isinstance(_get(value, p), str)]
    if arrays and (not strings_at or draw(st.booleans())):
        path = draw(st.sampled_from(arrays))
        node = _get(value, path)
        return _set(value, path, (node * draw(st.sampled_from([10, 100, 500])))[:1000] if node else [node])
    for _ in range(draw(st.integers(1, 2)) if strings_at else 0):
        path = draw(st.sampled_from(strings_at))
        node = _get(value, path)
        new = draw(
            st.sampled_from(STRINGS[:14] + STRINGS[-5:])
            | st.text(CHARS, min_size=1, max_size=2000)
            | st.sampled_from([node * 2000, node + "\x00" + node, node + "\ud800", "\u0000" * 5000])
        )
        value = _set(value, path, new[: 2 * HUGE])  # twice on one string: not 2,000 times a huge one
    return value


@fuzz_settings()
@given(data=st.data())
def test_huge_strings_arrays_and_unicode(target: Target, data: st.DataObject) -> None:
    route = data.draw(st.sampled_from(JSON_ROUTES), label="route")
    body = data.draw(huge_or_odd_text(route), label="body")
    ensure_ascii = data.draw(st.booleans(), label="ensure_ascii")
    raw = json.dumps(target.resolve(body), ensure_ascii=ensure_ascii).encode("utf-8", "surrogatepass")
    run(target, request_for(target, route[0], _path_with_refs(target, route[1]), raw))
