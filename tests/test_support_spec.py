"""Tests for the response checkers in ``tests/_support`` (spec subset + strict SDK validation).

The valid bodies are written by hand after the OpenAI API reference (not taken from the
spec's embedded examples, a third of which fail the spec). Every mutation must be rejected,
and for the rejections the message must point at the offending path.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import struct
from typing import Any

import pydantic
import pytest
from openai.types import Completion, Model
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.responses import Response

from tests._support import make_openai_subset as gen
from tests._support import spec

# --------------------------------------------------------------------------- realistic bodies

CHAT_COMPLETION: dict[str, Any] = {
    "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
    "object": "chat.completion",
    "created": 1741570283,
    "model": "gpt-4o-2024-08-06",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "Hello! How can I help you today?",
                "refusal": None,
                "annotations": [],
            },
            "logprobs": None,
            "finish_reason": "stop",
        }
    ],
    "usage": {
        "prompt_tokens": 19,
        "completion_tokens": 10,
        "total_tokens": 29,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    },
    "service_tier": "default",
    "system_fingerprint": "fp_fc9f1d7035",
}

CHAT_COMPLETION_TOOLS: dict[str, Any] = {
    "id": "chatcmpl-abc123",
    "object": "chat.completion",
    "created": 1699896916,
    "model": "gpt-4o-mini",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": None,
                "refusal": None,
                "annotations": [],
                "tool_calls": [
                    {
                        "id": "call_abc123",
                        "type": "function",
                        "function": {
                            "name": "get_current_weather",
                            "arguments": '{\n"location": "Boston, MA"\n}',
                        },
                    }
                ],
            },
            "logprobs": {
                "content": [
                    {
                        "token": "Hello",
                        "logprob": -0.31725305,
                        "bytes": [72, 101, 108, 108, 111],
                        "top_logprobs": [
                            # an integral logprob arrives as a JSON int: strict mode must accept it
                            {"token": "Hello", "logprob": 0, "bytes": [72, 101, 108, 108, 111]},
                            {"token": "Hi", "logprob": -1.3190403, "bytes": None},
                        ],
                    }
                ],
                "refusal": None,
            },
            "finish_reason": "tool_calls",
        }
    ],
    "usage": {"prompt_tokens": 82, "completion_tokens": 17, "total_tokens": 99},
    "service_tier": "default",
    "system_fingerprint": None,  # the real API sends null although the spec says string
}


def _chunk(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "chatcmpl-123",
        "object": "chat.completion.chunk",
        "created": 1694268190,
        "model": "gpt-4o-mini-2024-07-18",
        "service_tier": "default",
        "system_fingerprint": "fp_44709d6fcb",
        "usage": None,
        "obfuscation": "r4N7vQ2m",
    }
    body.update(fields)
    return body


def _delta_choice(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
    return {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}


USAGE_CHUNK = _chunk(
    choices=[],
    usage={
        "prompt_tokens": 9,
        "completion_tokens": 12,
        "total_tokens": 21,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    },
    obfuscation="Yb3zl",
)

CHAT_CHUNKS: list[dict[str, Any]] = [
    _chunk(choices=[_delta_choice({"role": "assistant", "content": "", "refusal": None})]),
    _chunk(choices=[_delta_choice({"content": "Hello"})]),
    _chunk(
        choices=[
            _delta_choice(
                {
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "call_DdmO9pD3xa9XTPNJ32zg2hcA",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": ""},
                        }
                    ]
                }
            )
        ]
    ),
    _chunk(choices=[_delta_choice({"tool_calls": [{"index": 0, "function": {"arguments": '{"'}}]})]),
    _chunk(choices=[_delta_choice({}, "stop")], obfuscation=""),
    USAGE_CHUNK,
]

COMPLETION: dict[str, Any] = {
    "id": "cmpl-uqkvlQyYK7bGYrRHQ0eXlWi7",
    "object": "text_completion",
    "created": 1589478378,
    "model": "gpt-3.5-turbo-instruct",
    "system_fingerprint": "fp_44709d6fcb",
    "choices": [{"text": "\n\nThis is indeed a test", "index": 0, "logprobs": None, "finish_reason": "length"}],
    "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12},
}

COMPLETION_CHUNKS: list[dict[str, Any]] = [
    {
        "id": "cmpl-7iA7iJjj8V2zOkCGvWF2hAkDWBQZe",
        "object": "text_completion",
        "created": 1690759702,
        "model": "gpt-3.5-turbo-instruct",
        "system_fingerprint": None,
        "choices": [{"text": text, "index": 0, "logprobs": None, "finish_reason": reason}],
    }
    for text, reason in (("This", None), (" is", None), ("", "stop"))
] + [
    {
        "id": "cmpl-7iA7iJjj8V2zOkCGvWF2hAkDWBQZe",
        "object": "text_completion",
        "created": 1690759702,
        "model": "gpt-3.5-turbo-instruct",
        "choices": [],
        "usage": {"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6},
    }
]

MODEL: dict[str, Any] = {"id": "gpt-4o-mini", "object": "model", "created": 1721172741, "owned_by": "system"}
MODEL_LIST: dict[str, Any] = {
    "object": "list",
    "data": [
        MODEL,
        {"id": "text-embedding-3-small", "object": "model", "created": 1705948997, "owned_by": "system"},
        {
            "id": "ft:gpt-4o-mini:acemeco:suffix:abc123",
            "object": "model",
            "created": 1723000000,
            "owned_by": "acemeco",
        },
    ],
}
MODEL_DELETED: dict[str, Any] = {
    "id": "ft:gpt-4o-mini:acemeco:suffix:abc123",
    "object": "model",
    "deleted": True,
}

ERRORS: list[dict[str, Any]] = [
    {
        "error": {
            "message": "Incorrect API key provided: sk-abc. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
            "type": "invalid_request_error",
            "param": None,
            "code": "invalid_api_key",
        }
    },
    {
        "error": {
            "message": "The model `gpt-9` does not exist or you do not have access to it.",
            "type": "invalid_request_error",
            "param": None,
            "code": "model_not_found",
        }
    },
    {
        "error": {
            "message": "Missing required parameter: 'messages'.",
            "type": "invalid_request_error",
            "param": "messages",
            "code": "missing_required_parameter",
        }
    },
    {"error": {"message": "The server had an error.", "type": "server_error", "param": None, "code": None}},
]

_VECTOR = [0.0023064255, -0.009327292, 0.015797347]
EMBEDDINGS: dict[str, Any] = {
    "object": "list",
    "data": [{"object": "embedding", "index": 0, "embedding": _VECTOR}],
    "model": "text-embedding-3-small",
    "usage": {"prompt_tokens": 8, "total_tokens": 8},
}
EMBEDDINGS_BASE64: dict[str, Any] = copy.deepcopy(EMBEDDINGS)
EMBEDDINGS_BASE64["data"][0]["embedding"] = base64.b64encode(struct.pack("<3f", *_VECTOR)).decode()

_CATEGORIES = (
    "harassment",
    "harassment/threatening",
    "sexual",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm/intent",
    "self-harm/instructions",
    "self-harm",
    "sexual/minors",
    "violence",
    "violence/graphic",
)
MODERATION: dict[str, Any] = {
    "id": "modr-0d9740456c391e43c445bf0f010940c7",
    "model": "omni-moderation-latest",
    "results": [
        {
            "flagged": False,
            "categories": dict.fromkeys(_CATEGORIES, False),
            "category_scores": {name: (0 if "hate" in name else 1.2e-05) for name in _CATEGORIES},
            "category_applied_input_types": {name: ["text"] for name in _CATEGORIES},
        }
    ],
}

IMAGES: dict[str, Any] = {
    "created": 1713833628,
    "data": [{"b64_json": "iVBORw0KGgo="}],
    "background": "opaque",
    "output_format": "png",
    "quality": "low",
    "size": "1024x1024",
    "usage": {
        "total_tokens": 100,
        "input_tokens": 50,
        "output_tokens": 50,
        "input_tokens_details": {"text_tokens": 10, "image_tokens": 40},
    },
}

RESPONSE: dict[str, Any] = {
    "id": "resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b",
    "object": "response",
    "created_at": 1741476542,  # int into the SDK's float field
    "status": "completed",
    "background": False,
    "completed_at": 1741476543,
    "error": None,
    "incomplete_details": None,
    "instructions": None,
    "max_output_tokens": None,
    "max_tool_calls": None,
    "model": "gpt-4.1-2025-04-14",
    "output": [
        {
            "type": "message",
            "id": "msg_67ccd2bf17f0819081ff3bb2cf6508e60bb6a6b452d3795b",
            "status": "completed",
            "role": "assistant",
            "content": [
                {
                    "type": "output_text",
                    "text": "In a peaceful grove beneath a silver moon...",
                    "annotations": [],
                    "logprobs": [],
                }
            ],
        }
    ],
    "parallel_tool_calls": True,
    "previous_response_id": None,
    "prompt_cache_key": None,
    "reasoning": {"effort": None, "summary": None},
    "safety_identifier": None,
    "service_tier": "default",
    "store": True,
    "temperature": 1.0,
    "text": {"format": {"type": "text"}, "verbosity": "medium"},
    "tool_choice": "auto",
    "tools": [],
    "top_logprobs": 0,
    "top_p": 1.0,
    "truncation": "disabled",
    "usage": {
        "input_tokens": 36,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": 87,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 123,
    },
    "user": None,
    "metadata": {},
}

FILE: dict[str, Any] = {
    "id": "file-abc123",
    "object": "file",
    "bytes": 120000,
    "created_at": 1677610602,
    "expires_at": None,
    "filename": "mydata.jsonl",
    "purpose": "batch",
    "status": "processed",
    "status_details": None,
}
FILE_LIST: dict[str, Any] = {
    "object": "list",
    "data": [FILE],
    "first_id": "file-abc123",
    "last_id": "file-abc123",
    "has_more": False,
}
EMPTY_FILE_LIST: dict[str, Any] = {
    "object": "list",
    "data": [],
    "first_id": None,
    "last_id": None,
    "has_more": False,
}

BATCH: dict[str, Any] = {
    "id": "batch_abc123",
    "object": "batch",
    "endpoint": "/v1/chat/completions",
    "model": "gpt-4o-mini",
    "errors": None,
    "input_file_id": "file-abc123",
    "completion_window": "24h",
    "status": "completed",
    "output_file_id": "file-cvaTdG",
    "error_file_id": "file-HOWS94",
    "created_at": 1711471533,
    "in_progress_at": 1711471538,
    "expires_at": 1711557933,
    "finalizing_at": 1711493133,
    "completed_at": 1711493163,
    "failed_at": None,
    "expired_at": None,
    "cancelling_at": None,
    "cancelled_at": None,
    "request_counts": {"total": 100, "completed": 95, "failed": 5},
    "usage": {
        "input_tokens": 1500,
        "input_tokens_details": {"cached_tokens": 1024},
        "output_tokens": 500,
        "output_tokens_details": {"reasoning_tokens": 300},
        "total_tokens": 2000,
    },
    "metadata": {"customer_id": "user_123456789", "batch_description": "Nightly eval job"},
}


def fresh(body: dict[str, Any]) -> dict[str, Any]:
    """A deep copy, so mutations never leak between tests."""
    result: dict[str, Any] = copy.deepcopy(body)
    return result


# --------------------------------------------------------------------------- valid bodies pass


VALID_CASES = [
    pytest.param(spec.check_chat_completion, CHAT_COMPLETION, id="chat"),
    pytest.param(spec.check_chat_completion, CHAT_COMPLETION_TOOLS, id="chat-tools-logprobs"),
    *(pytest.param(spec.check_chat_chunk, c, id=f"chat-chunk-{i}") for i, c in enumerate(CHAT_CHUNKS)),
    pytest.param(spec.check_completion, COMPLETION, id="completion"),
    pytest.param(spec.check_model, MODEL, id="model"),
    pytest.param(spec.check_model_list, MODEL_LIST, id="model-list"),
    pytest.param(spec.check_model_deleted, MODEL_DELETED, id="model-deleted"),
    *(pytest.param(spec.check_error, e, id=f"error-{i}") for i, e in enumerate(ERRORS)),
    pytest.param(spec.check_embedding, EMBEDDINGS, id="embeddings-float"),
    pytest.param(spec.check_embedding, EMBEDDINGS_BASE64, id="embeddings-base64"),
    pytest.param(spec.check_moderation, MODERATION, id="moderation"),
    pytest.param(spec.check_image, IMAGES, id="images"),
    pytest.param(spec.check_response, RESPONSE, id="response"),
    pytest.param(spec.check_file, FILE, id="file"),
    pytest.param(spec.check_file_list, FILE_LIST, id="file-list"),
    pytest.param(spec.check_file_list, EMPTY_FILE_LIST, id="file-list-empty"),
    pytest.param(spec.check_batch, BATCH, id="batch"),
]


@pytest.mark.parametrize(("check", "body"), VALID_CASES)
def test_realistic_body_passes(check: Any, body: dict[str, Any]) -> None:
    data = fresh(body)
    check(data)
    assert data == body, "checkers must not mutate their input"


@pytest.mark.parametrize("body", COMPLETION_CHUNKS, ids=["first", "middle", "last", "usage"])
def test_realistic_legacy_completion_chunks_pass(body: dict[str, Any]) -> None:
    spec.check_completion(fresh(body), chunk=True)


def test_enum_members_are_not_plain_json() -> None:
    import enum

    class Reason(str, enum.Enum):
        STOP = "stop"

    body = _mutate(CHAT_COMPLETION, ("choices", 0, "finish_reason"), Reason.STOP)
    with pytest.raises(AssertionError, match=r"\$\.choices\[0\]\.finish_reason: Reason is not a JSON type"):
        spec.check_chat_completion(body)


def test_raw_json_text_is_accepted() -> None:
    # e.g. the ``data:`` payload of an SSE event, or ``response.content``
    spec.check_chat_chunk(json.dumps(USAGE_CHUNK))
    spec.check_chat_completion(json.dumps(CHAT_COMPLETION).encode())


def test_raw_json_text_with_nan_is_rejected() -> None:
    text = json.dumps(EMBEDDINGS).replace("0.0023064255", "NaN")
    with pytest.raises(AssertionError, match="NaN is not valid JSON"):
        spec.check_embedding(text)


@pytest.mark.skipif(spec._OLD_SDK, reason="openai 1.x's types predate fields the API sends: extras are allowed")
def test_unknown_key_in_a_list_item_has_its_full_path() -> None:
    body = _mutate(FILE_LIST, ("data", 0, "colour"), "blue")
    with pytest.raises(AssertionError, match=r"\$\.data\[0\]\.colour: unknown key"):
        spec.check_file_list(body)
    spec.check_file_list(body, allow_extra=True)


def test_bodies_survive_a_json_round_trip() -> None:
    # The checkers expect the decoded wire form; the fixtures must be exactly that.
    for case in VALID_CASES:
        body = case.values[1]
        assert json.loads(json.dumps(body)) == body


# --------------------------------------------------------------------------- mutations fail


def _mutate(body: dict[str, Any], path: tuple[Any, ...], value: Any = ..., *, delete: bool = False) -> dict[str, Any]:
    data = fresh(body)
    parent: Any = data
    for key in path[:-1]:
        parent = parent[key]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return data


INVALID_CASES = [
    # missing id
    pytest.param(
        spec.check_chat_completion,
        _mutate(CHAT_COMPLETION, ("id",), delete=True),
        r"'id' is a required",
        id="chat-no-id",
    ),
    pytest.param(
        spec.check_chat_chunk,
        _mutate(CHAT_CHUNKS[1], ("id",), delete=True),
        r"'id' is a required",
        id="chunk-no-id",
    ),
    pytest.param(
        spec.check_completion,
        _mutate(COMPLETION, ("id",), delete=True),
        r"'id' is a required",
        id="completion-no-id",
    ),
    pytest.param(spec.check_model, _mutate(MODEL, ("id",), delete=True), r"'id' is a required", id="model-no-id"),
    # choices[0].index as a string
    pytest.param(
        spec.check_chat_completion,
        _mutate(CHAT_COMPLETION, ("choices", 0, "index"), "0"),
        r"\$\.choices\[0\]\.index",
        id="chat-index-str",
    ),
    pytest.param(
        spec.check_chat_chunk,
        _mutate(CHAT_CHUNKS[1], ("choices", 0, "index"), "0"),
        r"\$\.choices\[0\]\.index",
        id="chunk-index-str",
    ),
    pytest.param(
        spec.check_completion,
        _mutate(COMPLETION, ("choices", 0, "index"), "0"),
        r"\$\.choices\[0\]\.index",
        id="completion-index-str",
    ),
    # object: wrong literal
    pytest.param(
        spec.check_chat_completion,
        _mutate(CHAT_COMPLETION, ("object",), "chat.completion.chunk"),
        r"\$\.object",
        id="chat-object",
    ),
    pytest.param(
        spec.check_chat_chunk,
        _mutate(CHAT_CHUNKS[1], ("object",), "chat.completion"),
        r"\$\.object",
        id="chunk-object",
    ),
    pytest.param(
        spec.check_completion,
        _mutate(COMPLETION, ("object",), "completion"),
        r"\$\.object",
        id="completion-object",
    ),
    pytest.param(spec.check_model, _mutate(MODEL, ("object",), "models"), r"\$\.object", id="model-object"),
    pytest.param(
        spec.check_model_list,
        _mutate(MODEL_LIST, ("data", 1, "object"), "engine"),
        r"\$\.data\[1\]\.object",
        id="model-list-item-object",
    ),
    pytest.param(
        spec.check_model_list,
        _mutate(MODEL_LIST, ("object",), "models"),
        r"\$\.object",
        id="model-list-object",
    ),
    pytest.param(
        spec.check_embedding,
        _mutate(EMBEDDINGS, ("data", 0, "object"), "vector"),
        r"\$\.data\[0\]\.object",
        id="embedding-object",
    ),
    pytest.param(
        spec.check_response,
        _mutate(RESPONSE, ("object",), "chat.completion"),
        r"\$\.object",
        id="response-object",
    ),
    # usage missing where required (by the spec, or by what the real API always does)
    pytest.param(
        spec.check_chat_completion,
        _mutate(CHAT_COMPLETION, ("usage",), delete=True),
        r"\$\.usage: missing",
        id="chat-no-usage",
    ),
    pytest.param(
        spec.check_completion,
        _mutate(COMPLETION, ("usage",), delete=True),
        r"\$\.usage: missing",
        id="completion-no-usage",
    ),
    pytest.param(
        spec.check_chat_chunk,
        _mutate(USAGE_CHUNK, ("usage",), None),
        r"choices: \[\] is the usage chunk",
        id="usage-chunk-null-usage",
    ),
    pytest.param(
        spec.check_chat_chunk,
        _mutate(USAGE_CHUNK, ("usage",), delete=True),
        r"choices: \[\] is the usage chunk",
        id="usage-chunk-no-usage",
    ),
    pytest.param(
        spec.check_embedding,
        _mutate(EMBEDDINGS, ("usage",), delete=True),
        r"'usage' is a required",
        id="embedding-no-usage",
    ),
    pytest.param(
        spec.check_chat_chunk,
        _mutate(USAGE_CHUNK, ("usage", "total_tokens"), delete=True),
        r"\$\.usage",
        id="usage-chunk-partial-usage",
    ),
    # usage inconsistent / misplaced
    pytest.param(
        spec.check_chat_completion,
        _mutate(CHAT_COMPLETION, ("usage", "total_tokens"), 30),
        r"total_tokens: 30",
        id="chat-usage-sum",
    ),
    pytest.param(
        spec.check_chat_chunk,
        _mutate(CHAT_CHUNKS[1], ("usage",), USAGE_CHUNK["usage"]),
        r"carrying usage must have choices: \[\]",
        id="chunk-usage-with-choices",
    ),
    # finish_reason not in the enum
    pytest.param(
        spec.check_chat_completion,
        _mutate(CHAT_COMPLETION, ("choices", 0, "finish_reason"), "done"),
        r"\$\.choices\[0\]\.finish_reason",
        id="chat-finish-reason",
    ),
    pytest.param(
        spec.check_chat_completion,
        _mutate(CHAT_COMPLETION, ("choices", 0, "finish_reason"), None),
        r"\$\.choices\[0\]\.finish_reason",
        id="chat-finish-reason-null",
    ),
    pytest.param(
        spec.check_chat_chunk,
        _mutate(CHAT_CHUNKS[4], ("choices", 0, "finish_reason"), "eos"),
        r"\$\.choices\[0\]\.finish_reason",
        id="chunk-finish-reason",
    ),
    pytest.param(
        spec.check_completion,
        _mutate(COMPLETION, ("choices", 0, "finish_reason"), "tool_calls"),
        r"\$\.choices\[0\]\.finish_reason",
        id="completion-finish-reason",
    ),
    pytest.param(
        spec.check_completion,
        _mutate(COMPLETION, ("choices", 0, "finish_reason"), None),
        r"\$\.choices\[0\]\.finish_reason",
        id="completion-finish-reason-null",
    ),
    # error bodies
    pytest.param(spec.check_error, {"detail": "Not Found"}, r"'error' is a required", id="error-detail"),
    pytest.param(spec.check_error, {**ERRORS[0], "detail": "x"}, r"\$\.detail: unknown key", id="error-extra-top-key"),
    pytest.param(
        spec.check_error,
        _mutate(ERRORS[0], ("error", "param"), delete=True),
        r"'param' is a required",
        id="error-no-param",
    ),
    pytest.param(spec.check_error, _mutate(ERRORS[0], ("error", "code"), 401), r"\$\.error\.code", id="error-int-code"),
    pytest.param(
        spec.check_error,
        _mutate(ERRORS[0], ("error", "message"), None),
        r"\$\.error\.message",
        id="error-null-message",
    ),
    pytest.param(
        spec.check_error,
        _mutate(ERRORS[0], ("error", "status"), 401),
        r"\$\.error\.status: unknown key",
        id="error-extra-key",
    ),
    # strict typing
    pytest.param(
        spec.check_chat_completion,
        _mutate(CHAT_COMPLETION, ("created",), 1741570283.0),
        r"\$\.created",
        id="created-float",
    ),
    pytest.param(
        spec.check_chat_completion,
        _mutate(CHAT_COMPLETION, ("usage", "prompt_tokens_details", "cached_tokens"), 0.0),
        r"cached_tokens",
        id="cached-tokens-float",
    ),
    pytest.param(
        spec.check_chat_completion,
        _mutate(CHAT_COMPLETION, ("choices", 0, "message", "role"), "user"),
        r"\$\.choices\[0\]\.message\.role",
        id="message-role",
    ),
    pytest.param(
        spec.check_chat_completion,
        _mutate(CHAT_COMPLETION, ("system_fingerprint",), 5),
        r"\$\.system_fingerprint",
        id="fingerprint-int",
    ),
    pytest.param(
        spec.check_chat_chunk,
        _mutate(CHAT_CHUNKS[0], ("service_tier",), "premium"),
        r"\$\.service_tier",
        id="service-tier",
    ),
    pytest.param(
        spec.check_chat_chunk,
        _mutate(CHAT_CHUNKS[1], ("obfuscation",), 7),
        r"\$\.obfuscation",
        id="obfuscation-int",
    ),
    # keys nobody declares (misspelt optional fields pass both open oracles otherwise)
    pytest.param(
        spec.check_chat_completion,
        _mutate(CHAT_COMPLETION, ("choices", 0, "message", "refusl"), None),
        r"\$\.choices\[0\]\.message\.refusl: unknown key",
        id="typo-key",
    ),
    pytest.param(
        spec.check_chat_chunk,
        _mutate(CHAT_CHUNKS[1], ("obfuscaton",), "x"),
        r"\$\.obfuscaton: unknown key",
        id="typo-key-chunk",
    ),
    # not JSON data
    pytest.param(
        spec.check_chat_completion,
        _mutate(CHAT_COMPLETION, ("choices", 0, "message", "annotations"), ()),
        r"tuple is not a JSON type",
        id="tuple",
    ),
    pytest.param(
        spec.check_embedding,
        _mutate(EMBEDDINGS, ("data", 0, "embedding", 1), float("nan")),
        r"nan is not valid JSON",
        id="nan",
    ),
    pytest.param(
        spec.check_embedding,
        _mutate(EMBEDDINGS, ("data", 0, "embedding"), "not base64!"),
        r"not valid base64",
        id="bad-base64",
    ),
    pytest.param(
        spec.check_embedding,
        _mutate(EMBEDDINGS, ("data", 0, "embedding"), "AAAAAAA="),
        r"whole number of float32",
        id="base64-odd-length",
    ),
    # other endpoints
    pytest.param(
        spec.check_response,
        _mutate(RESPONSE, ("output", 0, "type"), "msg"),
        r"\$\.output\[0\]",
        id="response-output-type",
    ),
    pytest.param(spec.check_response, _mutate(RESPONSE, ("status",), "done"), r"\$\.status", id="response-status"),
    pytest.param(spec.check_file, _mutate(FILE, ("purpose",), "training"), r"\$\.purpose", id="file-purpose"),
    pytest.param(
        spec.check_file_list,
        _mutate(FILE_LIST, ("has_more",), "false"),
        r"\$\.has_more",
        id="file-list-has-more",
    ),
    pytest.param(spec.check_batch, _mutate(BATCH, ("status",), "done"), r"\$\.status", id="batch-status"),
    pytest.param(
        spec.check_moderation,
        _mutate(MODERATION, ("results", 0, "flagged"), 0),
        r"\$\.results\[0\]\.flagged",
        id="moderation-flagged-int",
    ),
    pytest.param(
        spec.check_image, _mutate(IMAGES, ("created",), "1713833628"), r"\$\.created", id="images-created-str"
    ),
    pytest.param(
        spec.check_model_deleted,
        _mutate(MODEL_DELETED, ("deleted",), "true"),
        r"\$\.deleted",
        id="model-deleted-str",
    ),
]


@pytest.mark.parametrize(("check", "body", "match"), INVALID_CASES)
def test_mutated_body_fails(check: Any, body: dict[str, Any], match: str) -> None:
    if spec._OLD_SDK and "unknown key" in match:
        pytest.skip("openai 1.x's types predate fields the API sends: the checker allows undeclared keys there")
    with pytest.raises(AssertionError, match=match):
        check(body)


def test_legacy_chunk_with_null_finish_reason_is_not_a_full_completion() -> None:
    # Only chunk=True tolerates the streaming-only null finish_reason.
    with pytest.raises(AssertionError, match=r"\$\.choices\[0\]\.finish_reason"):
        spec.check_completion(fresh(COMPLETION_CHUNKS[0]) | {"usage": COMPLETION["usage"]})


def test_legacy_chunk_bad_finish_reason_still_fails() -> None:
    body = _mutate(COMPLETION_CHUNKS[2], ("choices", 0, "finish_reason"), "eos")
    with pytest.raises(AssertionError, match=r"\$\.choices\[0\]\.finish_reason"):
        spec.check_completion(body, chunk=True)


# --------------------------------------------------------------------------- each oracle on its own


def test_spec_catches_required_nullable_field_the_sdk_makes_optional() -> None:
    body = _mutate(CHAT_COMPLETION, ("choices", 0, "logprobs"), delete=True)
    spec.validate_sdk_strict(ChatCompletion, body)  # the SDK defaults logprobs to None
    with pytest.raises(AssertionError, match=r"\$\.choices\[0\]: 'logprobs' is a required property"):
        spec.validate_spec("CreateChatCompletionResponse", body)


def test_spec_catches_missing_finish_reason_key_in_chunk() -> None:
    body = _mutate(CHAT_CHUNKS[1], ("choices", 0, "finish_reason"), delete=True)
    spec.validate_sdk_strict(ChatCompletionChunk, body)
    with pytest.raises(AssertionError, match=r"'finish_reason' is a required property"):
        spec.validate_spec("CreateChatCompletionStreamResponse", body)


def test_spec_nullable_conversions() -> None:
    # nullable only via OpenAPI 3.0 ``nullable: true``: usage ($ref sibling), logprobs, finish_reason
    spec.validate_spec("CreateChatCompletionStreamResponse", fresh(CHAT_CHUNKS[1]))
    # but null is still not a string where the spec does not allow it
    with pytest.raises(AssertionError, match=r"\$\.model"):
        spec.validate_spec("CreateChatCompletionStreamResponse", _mutate(CHAT_CHUNKS[1], ("model",), None))


def test_spec_lists_every_error_path() -> None:
    body = _mutate(CHAT_COMPLETION, ("id",), 1)
    body["choices"][0]["index"] = "0"
    body["created"] = "yesterday"
    with pytest.raises(AssertionError) as info:
        spec.validate_spec("CreateChatCompletionResponse", body)
    message = str(info.value)
    assert "3 problem(s)" in message
    for path in ("$.id:", "$.choices[0].index:", "$.created:"):
        assert path in message


def test_spec_union_error_names_the_tag() -> None:
    body = _mutate(RESPONSE, ("output", 0, "type"), "msg")
    with pytest.raises(AssertionError, match=r"\$\.output\[0\]\.type = 'msg' is none of \['message'"):
        spec.validate_spec("Response", body)
    body = _mutate(RESPONSE, ("output", 0, "status"), "done")
    with pytest.raises(AssertionError, match=r"closest alternative: \$\.output\[0\]\.status: 'done'"):
        spec.validate_spec("Response", body)


def test_spec_unknown_schema_name() -> None:
    with pytest.raises(KeyError, match="ROOTS"):
        spec.validate_spec("NoSuchSchema", {})


def test_sdk_strict_rejects_what_lax_mode_coerces() -> None:
    body = _mutate(CHAT_COMPLETION, ("choices", 0, "index"), "0")
    assert pydantic.TypeAdapter(ChatCompletion).validate_python(body).choices[0].index == 0  # lax: coerced
    with pytest.raises(AssertionError, match=r"\$\.choices\[0\]\.index: Input should be a valid integer"):
        spec.validate_sdk_strict(ChatCompletion, body)


@pytest.mark.parametrize(
    ("path", "value", "match"),
    [
        (("created",), "1741570283", r"\$\.created: Input should be a valid integer"),
        (("created",), 1741570283.0, r"\$\.created: Input should be a valid integer"),
        (("created",), True, r"\$\.created: Input should be a valid integer"),
        (("object",), "chat.completions", r"\$\.object: Input should be 'chat.completion'"),
        (("choices", 0, "finish_reason"), "done", r"\$\.choices\[0\]\.finish_reason: Input should be"),
        (("choices", 0, "message", "content"), 42, r"\$\.choices\[0\]\.message\.content"),
        (("choices", 0, "message", "annotations"), {}, r"\$\.choices\[0\]\.message\.annotations"),
    ],
)
def test_sdk_strict_rejects_wrong_types(path: tuple[Any, ...], value: Any, match: str) -> None:
    with pytest.raises(AssertionError, match=match):
        spec.validate_sdk_strict(ChatCompletion, _mutate(CHAT_COMPLETION, path, value))


def test_sdk_strict_accepts_int_for_float() -> None:
    # JSON has one number type: 0 / 1741476542 arrive as int for the SDK's float fields.
    spec.validate_sdk_strict(ChatCompletion, fresh(CHAT_COMPLETION_TOOLS))
    spec.validate_sdk_strict(Response, fresh(RESPONSE))


@pytest.mark.skipif(spec._OLD_SDK, reason="openai 1.x's types predate fields the API sends: extras are allowed")
def test_sdk_extra_keys_only_reported_on_request() -> None:
    body = _mutate(MODEL, ("colour",), "blue")
    spec.validate_sdk_strict(Model, body)  # the SDK itself allows extras
    spec.check_model(body, allow_extra=True)
    with pytest.raises(AssertionError, match=r"\$\.colour: unknown key"):
        spec.validate_sdk_strict(Model, body, allow_extra=False)
    spec.validate_sdk_strict(Model, body, allow_extra={"$.colour"})
    listed = _mutate(COMPLETION, ("choices", 0, "colour"), "blue")
    spec.validate_sdk_strict(Completion, listed, allow_extra={"$.choices[*].colour"})
    with pytest.raises(AssertionError, match=r"\$\.choices\[0\]\.colour: unknown key"):
        spec.validate_sdk_strict(Completion, listed, allow_extra={"$.colour"})


def test_sdk_union_error_is_condensed() -> None:
    body = _mutate(RESPONSE, ("output", 0, "type"), "msg")
    with pytest.raises(AssertionError) as info:
        spec.validate_sdk_strict(Response, body)
    message = str(info.value)
    assert "1 problem(s)" in message
    assert "$.output[0]: matches none of the" in message
    assert "type = 'msg' is none of 'message'" in message
    body = _mutate(CHAT_COMPLETION_TOOLS, ("choices", 0, "message", "tool_calls", 0, "function", "name"), 3)
    with pytest.raises(AssertionError) as info:
        spec.validate_sdk_strict(ChatCompletion, body)
    message = str(info.value)
    assert "1 problem(s)" in message
    assert "tool_calls[0]<ChatCompletionMessageFunctionToolCall>.function.name" in message


def test_error_fidelity_shape_is_exact() -> None:
    # Valid for the (open) spec, but not the shape the real API sends.
    body = {"error": {"message": "x", "type": "server_error", "param": None, "code": None, "extra": 1}}
    spec.validate_spec("ErrorResponse", body)
    with pytest.raises(AssertionError, match="extra"):
        spec.check_error(body)


# --------------------------------------------------------------------------- the generated subset


def test_subset_has_the_roots_and_nothing_unconverted() -> None:
    subset = json.loads(spec.SUBSET_PATH.read_text(encoding="utf-8"))
    names = set(subset["components"]["schemas"])
    assert set(gen.ROOTS) <= names
    assert set(spec.schema_names()) == names
    gen._self_check(subset)


def test_subset_is_up_to_date() -> None:
    if not gen.DEFAULT_SPEC.exists():
        pytest.skip(f"{gen.DEFAULT_SPEC} not available")
    raw = gen.DEFAULT_SPEC.read_bytes()
    expected = gen.render(gen.build(json.loads(raw), hashlib.sha256(raw).hexdigest()))
    assert spec.SUBSET_PATH.read_text(encoding="utf-8") == expected, (
        "openai_subset.json is stale: run .venv/bin/python tests/_support/make_openai_subset.py"
    )


@pytest.mark.parametrize(
    ("source", "converted"),
    [
        (
            {"type": "number", "minimum": 0, "exclusiveMinimum": True, "maximum": 2},
            {"type": "number", "maximum": 2, "exclusiveMinimum": 0},
        ),
        ({"type": "number", "minimum": 1, "exclusiveMinimum": False}, {"type": "number", "minimum": 1}),
        (
            {"type": "string", "enum": ["stop", "length"], "nullable": True, "description": "why"},
            {"type": ["string", "null"], "enum": ["stop", "length", None]},
        ),
        (
            {"$ref": "#/components/schemas/CompletionUsage", "nullable": True},
            {"anyOf": [{"$ref": "#/components/schemas/CompletionUsage"}, {"type": "null"}]},
        ),
        (
            {"oneOf": [{"type": "string"}, {"type": "integer"}], "discriminator": {"propertyName": "type"}},
            {"anyOf": [{"type": "string"}, {"type": "integer"}]},
        ),
        (
            {"type": "object", "properties": {"description": {"type": "string", "example": "x"}}},
            {"type": "object", "properties": {"description": {"type": "string"}}},
        ),
        (
            {"$recursiveAnchor": True, "items": {"oneOf": [{"type": "string"}, {"$recursiveRef": "#"}]}},
            {"items": {"anyOf": [{"type": "string"}, {"$ref": "#/components/schemas/Owner"}]}},
        ),
    ],
)
def test_converter(source: dict[str, Any], converted: dict[str, Any]) -> None:
    assert gen.convert(source, "Owner") == converted
