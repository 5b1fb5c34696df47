"""Canned OpenAI responses for the benchmark floor: built once, served as-is.

The floor is the openai SDK over a bare ``MockTransport`` that returns these bytes,
i.e. the SDK's own cost with a trivial transport.  The payloads mirror what the
simulator returns for the same request (``FakeAI(output_tokens=100)``): a chat
completion with 100 completion tokens and usage, or a stream of a role chunk, 100
content chunks, a finish chunk, a usage chunk and ``[DONE]``.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = [
    "CONTENT_CHUNKS",
    "completion_body",
    "completion_headers",
    "stream_events",
    "stream_headers",
]

CONTENT_CHUNKS = 100

_TEXT = (
    "The tide returns to the harbour every evening, and the fishermen count what the sea has given them. "
    "Gulls circle above the nets while the lighthouse keeper writes the weather into his book. "
    "Nobody remembers who built the old pier, but everyone agrees it has outlasted every storm. "
    "Children race along the sand, collecting shells and arguing about which one is the most beautiful. "
    "When the lamps are lit the town grows quiet and listens"
)

_HEAD: dict[str, Any] = {
    "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
    "created": 1767225600,
    "model": "gpt-4o-mini-2024-07-18",
    "service_tier": "default",
    "system_fingerprint": "fp_7b4b2e068e",
}

_USAGE: dict[str, Any] = {
    "prompt_tokens": 26,
    "completion_tokens": CONTENT_CHUNKS,
    "total_tokens": 26 + CONTENT_CHUNKS,
    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
    "completion_tokens_details": {
        "reasoning_tokens": 0,
        "audio_tokens": 0,
        "accepted_prediction_tokens": 0,
        "rejected_prediction_tokens": 0,
    },
}


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _pieces() -> list[str]:
    """100 token-like pieces ("The", " tide", ...), as a tokenizer would split them."""
    words = (_TEXT.split() * 2)[:CONTENT_CHUNKS]
    return [words[0], *(" " + w for w in words[1:])]


def _headers(content_type: str) -> list[tuple[str, str]]:
    return [
        ("content-type", content_type),
        ("x-request-id", "req_5f2e8c0d4a1b4e7f9a3c6d8e0b2f4a6c"),
        ("openai-processing-ms", "1"),
        ("openai-version", "2020-10-01"),
    ]


def completion_headers() -> list[tuple[str, str]]:
    return _headers("application/json")


def stream_headers() -> list[tuple[str, str]]:
    return _headers("text/event-stream; charset=utf-8")


def completion_body() -> bytes:
    """A non-streaming ``chat.completion`` with 100 completion tokens and usage."""
    return _dumps(
        {
            "id": _HEAD["id"],
            "object": "chat.completion",
            "created": _HEAD["created"],
            "model": _HEAD["model"],
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": "".join(_pieces()),
                        "refusal": None,
                        "annotations": [],
                    },
                    "logprobs": None,
                    "finish_reason": "length",
                }
            ],
            "usage": _USAGE,
            "service_tier": _HEAD["service_tier"],
            "system_fingerprint": _HEAD["system_fingerprint"],
        }
    )


def stream_events() -> list[bytes]:
    """The SSE events of a 100-chunk stream (with ``include_usage``), one ``bytes`` per event."""
    base = {"object": "chat.completion.chunk", **_HEAD}

    def event(choices: list[dict[str, Any]], usage: dict[str, Any] | None = None) -> bytes:
        return b"data: " + _dumps({**base, "choices": choices, "usage": usage}) + b"\n\n"

    def choice(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}

    events = [event([choice({"role": "assistant", "content": "", "refusal": None})])]
    events += [event([choice({"content": piece})]) for piece in _pieces()]
    events.append(event([choice({}, "length")]))
    events.append(event([], _USAGE))
    events.append(b"data: [DONE]\n\n")
    return events
