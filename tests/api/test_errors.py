"""Every bad request gets OpenAI's error: status, type, code, param and a message that says what to fix."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from pytest_fakeai import FakeAI
from pytest_fakeai.api.types import ApiRequest
from tests._support.drive import Driver
from tests._support.spec import check_error

OK = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}

# (description, body overrides or raw body, status, code, param, message fragment)
CASES: list[tuple[str, Any, int, str | None, str | None, str]] = [
    (
        "missing model",
        {"model": None},
        400,
        "missing_required_parameter",
        "model",
        "Missing required parameter: 'model'",
    ),
    ("missing messages", {"messages": None}, 400, "missing_required_parameter", "messages", "'messages'"),
    ("empty messages", {"messages": []}, 400, "empty_array", "messages", "empty array"),
    ("messages not array", {"messages": "hello"}, 400, "invalid_type", "messages", "expected an array"),
    ("message not object", {"messages": [3]}, 400, "invalid_type", "messages[0]", "expected an object"),
    (
        "bad role",
        {"messages": [{"role": "robot", "content": "x"}]},
        400,
        "invalid_value",
        "messages[0].role",
        "Supported values are: 'system', 'developer', 'user', 'assistant', 'tool', and 'function'",
    ),
    ("missing role", {"messages": [{"content": "x"}]}, 400, "missing_required_parameter", "messages[0].role", "role"),
    ("missing content", {"messages": [{"role": "user"}]}, 400, "missing_required_parameter", "messages[0].content", ""),
    (
        "content wrong type",
        {"messages": [{"role": "user", "content": 5}]},
        400,
        "invalid_type",
        "messages[0].content",
        "but got an integer instead",
    ),
    (
        "bad part type",
        {"messages": [{"role": "user", "content": [{"type": "video"}]}]},
        400,
        "invalid_value",
        "messages[0].content[0].type",
        "'video'",
    ),
    (
        "tool message without id",
        {"messages": [{"role": "tool", "content": "x"}]},
        400,
        "missing_required_parameter",
        "messages[0].tool_call_id",
        "",
    ),
    ("temperature high", {"temperature": 2.5}, 400, "decimal_above_max_value", "temperature", "Expected a value <= 2"),
    ("temperature type", {"temperature": "hot"}, 400, "invalid_type", "temperature", "expected a number"),
    ("top_p low", {"top_p": -0.1}, 400, "decimal_below_min_value", "top_p", ">= 0"),
    ("penalty", {"presence_penalty": 3}, 400, "decimal_above_max_value", "presence_penalty", "<= 2"),
    ("n zero", {"n": 0}, 400, "integer_below_min_value", "n", ">= 1"),
    ("n huge", {"n": 129}, 400, "integer_above_max_value", "n", "<= 128"),
    ("n float", {"n": 1.5}, 400, "invalid_type", "n", "expected an integer"),
    ("max_tokens zero", {"max_tokens": 0}, 400, "integer_below_min_value", "max_tokens", ">= 1"),
    (
        "max_tokens too large",
        {"max_tokens": 100000},
        400,
        "invalid_value",
        "max_tokens",
        "This model supports at most 16384 completion tokens",
    ),
    ("both limits", {"max_tokens": 5, "max_completion_tokens": 5}, 400, "invalid_value", "max_tokens", "cannot both"),
    ("stop too many", {"stop": ["a", "b", "c", "d", "e"]}, 400, "array_above_max_length", "stop", "maximum length 4"),
    ("stop wrong type", {"stop": 5}, 400, "invalid_type", "stop", "string or array of strings"),
    ("stream type", {"stream": "yes"}, 400, "invalid_type", "stream", "expected a boolean"),
    (
        "stream_options without stream",
        {"stream_options": {"include_usage": True}},
        400,
        "invalid_value",
        "stream_options",
        "only allowed when 'stream' is enabled",
    ),
    ("top_logprobs without logprobs", {"top_logprobs": 2}, 400, "invalid_value", "top_logprobs", "'logprobs'"),
    (
        "top_logprobs range",
        {"logprobs": True, "top_logprobs": 21},
        400,
        "integer_above_max_value",
        "top_logprobs",
        "<= 20",
    ),
    (
        "unknown parameter",
        {"temprature": 1},
        400,
        "unknown_parameter",
        "temprature",
        "Unrecognized request argument supplied: temprature",
    ),
    ("bad enum", {"reasoning_effort": "max"}, 400, "invalid_value", "reasoning_effort", "'low', 'medium', 'high'"),
    (
        "reasoning effort on non-reasoning model",
        {"reasoning_effort": "low"},
        400,
        "unsupported_parameter",
        "reasoning_effort",
        "not supported with this model",
    ),
    (
        "o-series max_tokens",
        {"model": "o3-mini", "max_tokens": 10},
        400,
        "unsupported_parameter",
        "max_tokens",
        "Use 'max_completion_tokens' instead",
    ),
    (
        "o-series temperature",
        {"model": "o3-mini", "temperature": 0.5},
        400,
        "unsupported_value",
        "temperature",
        "Only the default (1) value is supported",
    ),
    ("tool_choice without tools", {"tool_choice": "auto"}, 400, "invalid_value", "tool_choice", "only allowed when"),
    (
        "unknown named tool",
        {
            "tools": [{"type": "function", "function": {"name": "a"}}],
            "tool_choice": {"type": "function", "function": {"name": "b"}},
        },
        400,
        "invalid_value",
        "tool_choice",
        "tool choice 'b' not found",
    ),
    (
        "bad tool name",
        {"tools": [{"type": "function", "function": {"name": "has space"}}]},
        400,
        "invalid_value",
        "tools[0].function.name",
        "pattern",
    ),
    (
        "json_schema missing",
        {"response_format": {"type": "json_schema"}},
        400,
        "missing_required_parameter",
        "response_format.json_schema",
        "",
    ),
    ("logit_bias key", {"logit_bias": {"abc": 1}}, 400, "invalid_value", "logit_bias", "token ids"),
    ("logit_bias range", {"logit_bias": {"50256": 101}}, 400, "integer_above_max_value", "logit_bias.50256", "<= 100"),
    (
        "image on text-only model",
        {
            "model": "gpt-3.5-turbo",
            "messages": [
                {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]}
            ],
        },
        400,
        "invalid_value",
        "messages[0].content[0].type",
        "image_url is only supported by certain models",
    ),
    ("not a chat model", {"model": "text-embedding-3-small"}, 404, None, "model", "not a chat model"),
    (
        "context length",
        {"model": "gpt-4", "messages": [{"role": "user", "content": "word " * 9000}]},
        400,
        "context_length_exceeded",
        "messages",
        "This model's maximum context length is 8192 tokens. However, your messages",
    ),
    (
        "context with completion",
        {"model": "gpt-4", "max_tokens": 4000, "messages": [{"role": "user", "content": "word " * 5000}]},
        400,
        "context_length_exceeded",
        "messages",
        "in the messages, 4000 in the completion",
    ),
    (
        "orphan tool message",
        {"messages": [{"role": "user", "content": "x"}, {"role": "tool", "tool_call_id": "call_x", "content": "1"}]},
        400,
        None,
        "messages.[1].role",
        "must be a response to a preceeding message with 'tool_calls'",
    ),
    (
        "unanswered tool call",
        {
            "messages": [
                {"role": "user", "content": "x"},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [{"id": "call_x", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
                },
                {"role": "user", "content": "y"},
            ]
        },
        400,
        None,
        "messages.[1].role",
        "The following tool_call_ids did not have response messages: call_x",
    ),
    (
        "mismatched tool_call_id",
        {
            "messages": [
                {"role": "user", "content": "x"},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [{"id": "call_x", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
                },
                {"role": "tool", "tool_call_id": "call_y", "content": "1"},
            ]
        },
        400,
        None,
        "messages.[2].tool_call_id",
        "'tool_call_id' of 'call_y' not found",
    ),
    ("malformed json", b'{"model": "gpt-4o", "messages": [', 400, None, None, "We could not parse the JSON body"),
    ("empty body", b"", 400, None, None, "We could not parse the JSON body"),
    ("json array body", b"[1, 2]", 400, None, None, "expected a JSON object"),
    ("deeply nested", b"[" * 100000 + b"]" * 100000, 400, None, None, "We could not parse the JSON body"),
]


def _send(sim: FakeAI, body: Any, path: str = "/v1/chat/completions", method: str = "POST") -> Any:
    if not isinstance(body, bytes):
        merged = {**OK, **body}
        import json

        body = json.dumps({k: v for k, v in merged.items() if v is not None}).encode()
    return sim.handle(ApiRequest(method, path, headers={"content-type": "application/json"}, body=body))


@pytest.mark.parametrize(("name", "body", "status", "code", "param", "fragment"), CASES, ids=[c[0] for c in CASES])
def test_bad_request_gets_openai_error(
    name: str, body: Any, status: int, code: str | None, param: str | None, fragment: str
) -> None:
    sim = FakeAI()
    response = _send(sim, body)
    assert response.status == status, response.body
    check_error(response.body)
    error = response.json["error"]
    assert error["type"] == "invalid_request_error"
    assert error["code"] == code
    assert error["param"] == param
    assert fragment in error["message"]
    headers = dict(response.headers)
    assert headers["x-request-id"].startswith("req_")
    assert int(headers["openai-processing-ms"]) >= 1


@pytest.mark.parametrize(
    ("body", "exc", "code"),
    [
        ({"temperature": 9}, openai.BadRequestError, "decimal_above_max_value"),
        (
            {"model": "gpt-4", "messages": [{"role": "user", "content": "word " * 9000}]},
            openai.BadRequestError,
            "context_length_exceeded",
        ),
    ],
)
def test_sdk_raises_the_matching_exception(api: Driver, body: dict[str, Any], exc: type[Exception], code: str) -> None:
    with pytest.raises(exc) as info:
        api("chat.completions.create", **{**OK, **body})
    err = info.value
    assert isinstance(err, openai.APIStatusError)
    assert err.code == code
    assert err.response.headers["x-request-id"].startswith("req_")
    check_error(err.response.json())


def test_strict_models_unknown_model_is_404(stack: str, mode: str) -> None:
    api = Driver(FakeAI(strict_models=True), stack, mode)
    with pytest.raises(openai.NotFoundError) as info:
        api.chat(model="gpt-4oo")
    assert info.value.code == "model_not_found"
    assert "The model `gpt-4oo` does not exist or you do not have access to it." in info.value.message
    assert "gpt-4o" in info.value.message  # suggestion


def test_unknown_route_lists_supported_routes() -> None:
    response = _send(FakeAI(), b"{}", path="/v1/chat/complete")
    assert response.status == 404
    check_error(response.body)
    message = response.json["error"]["message"]
    assert message.startswith("Invalid URL (POST /v1/chat/complete).")
    assert "POST /v1/chat/completions" in message and "GET /v1/models" in message


def test_wrong_method_is_405_with_allow() -> None:
    response = _send(FakeAI(), b"", path="/v1/chat/completions", method="GET")
    assert response.status == 405
    check_error(response.body)
    assert dict(response.headers)["allow"] == "POST"
    assert "Invalid method for URL (GET /v1/chat/completions)" in response.json["error"]["message"]


def test_unknown_route_through_sdk(api: Driver) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        api("post", path="/nope", cast_to=object, body={})
    check_error(info.value.response.json())


def test_internal_errors_become_openai_500_and_are_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    sim = FakeAI()

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(sim.router, "dispatch", boom)
    with pytest.warns(Warning, match="simulated bug"):
        response = _send(sim, {})
    assert response.status == 500
    check_error(response.body)
    assert response.json["error"]["type"] == "server_error"
    assert "RuntimeError: simulated bug" in (sim.calls.last.error or "")
