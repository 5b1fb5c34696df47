"""Responses API: OpenAI's errors for bad input (never a 5xx), and scripted replies."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from pytest_fakeai import FakeAI
from pytest_fakeai.api.types import ApiRequest
from tests._support.drive import Driver
from tests._support.spec import check_error, check_response, check_response_event

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}


def post(sim: FakeAI, body: Any, path: str = "/v1/responses", method: str = "POST") -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return sim.handle(ApiRequest(method, path, headers={"content-type": "application/json"}, body=raw))


def error(response: Any) -> dict[str, Any]:
    check_error(response.body)
    result: dict[str, Any] = json.loads(response.body)["error"]
    return result


BASE = {"model": "gpt-4o", "input": "hi"}
CASES: list[tuple[dict[str, Any], int, str | None, str | None, str]] = [
    # (body, status, param, code, words in the message)
    ({**BASE, "seed": 7}, 400, "seed", "unknown_parameter", "Unknown parameter: 'seed'."),
    ({"input": "hi"}, 400, "model", "missing_required_parameter", "Missing required parameter: 'model'."),
    ({"model": "gpt-4o"}, 400, "input", "missing_required_parameter", "'input'"),
    ({**BASE, "input": 5}, 400, "input", "invalid_type", "expected one of a string or array of objects"),
    ({**BASE, "temperature": "hot"}, 400, "temperature", "invalid_type", "expected a number"),
    ({**BASE, "max_output_tokens": 8}, 400, "max_output_tokens", "integer_below_min_value", "Expected a value >= 16"),
    ({**BASE, "max_output_tokens": 10**6}, 400, "max_output_tokens", "invalid_value", "max_output_tokens is too large"),
    ({**BASE, "input": [{"role": "bot", "content": "x"}]}, 400, "input[0].role", "invalid_value", "'bot'"),
    (
        {**BASE, "input": [{"role": "assistant", "content": [{"type": "input_text", "text": "x"}]}]},
        400,
        "input[0].content[0].type",
        "invalid_value",
        "Supported values are: 'output_text' and 'refusal'.",
    ),
    (
        {**BASE, "input": [{"type": "web_search_call", "id": "ws_1"}]},
        400,
        "input[0].type",
        "invalid_value",
        "'web_search_call'",
    ),
    (
        {**BASE, "input": [{"type": "function_call_output", "call_id": "call_x", "output": "1"}]},
        400,
        "input",
        None,
        "No tool call found for function call output with call_id call_x.",
    ),
    (
        {**BASE, "input": [{"type": "function_call", "call_id": "call_y", "name": "f", "arguments": "{}"}]},
        400,
        "input",
        None,
        "No tool output found for function call call_y.",
    ),
    (
        {**BASE, "previous_response_id": "resp_nope"},
        404,
        "previous_response_id",
        "previous_response_not_found",
        "Previous response with id 'resp_nope' not found.",
    ),
    (
        {**BASE, "tools": [{"type": "web_search"}]},
        400,
        "tools[0].type",
        "unsupported_value",
        "'web_search' is not supported",
    ),
    (  # file_search is simulated (tests/api/test_file_search.py): a store that does not exist is a 404
        {**BASE, "tools": [{"type": "file_search", "vector_store_ids": ["vs_1"]}]},
        404,
        "tools[0].vector_store_ids",
        None,
        "No vector store found with id 'vs_1'.",
    ),
    ({**BASE, "tools": [{"type": "rocket"}]}, 400, "tools[0].type", "invalid_value", "Invalid value: 'rocket'"),
    ({**BASE, "tools": [{"type": "function", "name": "bad name"}]}, 400, "tools[0].name", "invalid_value", "pattern"),
    (
        {
            **BASE,
            "tools": [
                {
                    "type": "function",
                    "name": "f",
                    "parameters": {
                        "type": "object",
                        "properties": {"n": {"type": "integer", "minimum": 5, "maximum": 1}},
                    },
                }
            ],
        },
        400,
        "tools[0].parameters",
        "invalid_function_parameters",
        "Invalid schema for function 'f'",
    ),
    (
        {**BASE, "tools": [{**WEATHER, "strict": True}]},
        400,
        "tools[0].parameters",
        "invalid_function_parameters",
        "'additionalProperties' is required to be supplied and to be false.",
    ),
    ({**BASE, "tools": [WEATHER, WEATHER]}, 400, "tools[1].name", "invalid_value", "duplicate function name"),
    (
        {**BASE, "tool_choice": "required"},
        400,
        "tool_choice",
        "invalid_value",
        "only allowed when 'tools' are specified",
    ),
    (
        {**BASE, "tools": [WEATHER], "tool_choice": {"type": "function", "name": "nope"}},
        400,
        "tool_choice",
        "invalid_value",
        "tool choice 'nope' not found",
    ),
    (
        {**BASE, "tools": [WEATHER], "tool_choice": {"type": "web_search_preview"}},
        400,
        "tool_choice.type",
        "unsupported_value",
        "not supported by pytest-fakeai",
    ),
    (
        {**BASE, "text": {"format": {"type": "json_schema", "name": "x"}}},
        400,
        "text.format.schema",
        "missing_required_parameter",
        "'text.format.schema'",
    ),
    (
        {
            **BASE,
            "text": {
                "format": {
                    "type": "json_schema",
                    "name": "x",
                    "strict": True,
                    "schema": {
                        "type": "object",
                        "properties": {"a": {"type": "string"}},
                        "additionalProperties": False,
                    },
                }
            },
        },
        400,
        "text.format.schema",
        None,
        "Missing 'a'.",
    ),
    ({**BASE, "text": {"format": {"type": "json_object"}}}, 400, "input", None, "must contain the word 'json'"),
    ({**BASE, "text": {"format": {"type": "xml"}}}, 400, "text.format.type", "invalid_value", "'xml'"),
    (
        {**BASE, "reasoning": {"effort": "high"}},
        400,
        "reasoning.effort",
        "unsupported_parameter",
        "not supported with this model",
    ),
    (
        {**BASE, "model": "o3", "reasoning": {"effort": "minimal"}},
        400,
        "reasoning.effort",
        "invalid_value",
        "'minimal'",
    ),
    ({**BASE, "model": "o3", "temperature": 0.2}, 400, "temperature", "unsupported_parameter", "'temperature'"),
    ({**BASE, "stream_options": {"include_obfuscation": False}}, 400, "stream_options", "invalid_value", "'stream'"),
    ({**BASE, "background": True, "store": False}, 400, "background", "invalid_value", "requires 'store'"),
    ({**BASE, "conversation": "conv_1"}, 400, "conversation", "unsupported_parameter", "Conversations API"),
    ({**BASE, "prompt": {"id": "pmpt_1"}}, 400, "prompt", "unsupported_parameter", "prompt templates"),
    (
        {**BASE, "metadata": {f"k{i}": "v" for i in range(17)}},
        400,
        "metadata",
        "object_above_max_properties",
        "at most 16",
    ),
    ({**BASE, "include": ["everything"]}, 400, "include[0]", "invalid_value", "'everything'"),
    ({**BASE, "model": "text-embedding-3-small"}, 400, "model", "model_not_supported", "embedding model"),
    (
        {
            **BASE,
            "model": "gpt-3.5-turbo",
            "input": [{"role": "user", "content": [{"type": "input_image", "image_url": "https://x/y.png"}]}],
        },
        400,
        "input[0].content[0].type",
        "invalid_value",
        "input_image is only supported by certain models",
    ),
]


@pytest.mark.parametrize(("body", "status", "param", "code", "words"), CASES, ids=[str(i) for i in range(len(CASES))])
def test_bad_requests_get_openai_errors(
    sim: FakeAI, body: dict[str, Any], status: int, param: str | None, code: str | None, words: str
) -> None:
    response = post(sim, body)
    assert response.status == status, response.body
    err = error(response)
    assert err["type"] == "invalid_request_error"
    assert err["param"] == param
    assert err["code"] == code
    assert words in err["message"]


def test_unknown_model_when_strict() -> None:
    sim = FakeAI(strict_models=True)
    err = error(post(sim, {"model": "gpt-9", "input": "hi"}))
    assert err["code"] == "model_not_found"


def test_context_window_is_enforced_unless_truncation_auto(sim: FakeAI) -> None:
    long = "word " * 9000
    items = [
        {"role": "user", "content": long},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": "hi"},
    ]
    response = post(sim, {"model": "gpt-4", "input": items})
    assert response.status == 400 and error(response)["code"] == "context_length_exceeded"
    truncated = post(sim, {"model": "gpt-4", "input": items, "truncation": "auto"})
    assert truncated.status == 200, truncated.body
    assert truncated.json["usage"]["input_tokens"] < 8192


def test_sdk_raises_the_typed_errors(api: Driver) -> None:
    with pytest.raises(openai.NotFoundError) as missing:
        api("responses.retrieve", response_id="resp_missing")
    assert "Response with id 'resp_missing' not found." in str(missing.value)
    created = api("responses.create", model="gpt-4o", input="hi")
    with pytest.raises(openai.BadRequestError, match="Cannot cancel a synchronous response"):
        api("responses.cancel", response_id=created.id)
    with pytest.raises(openai.BadRequestError) as bad:
        api("responses.create", model="gpt-4o", input="hi", extra_body={"frequency_penalty": 1})
    assert bad.value.code == "unknown_parameter"


def test_input_items_query_errors(sim: FakeAI) -> None:
    created = post(sim, BASE).json
    for query, param in (("limit=0", "limit"), ("limit=x", "limit"), ("order=up", "order"), ("after=msg_x", "after")):
        request = ApiRequest("GET", f"/v1/responses/{created['id']}/input_items", query=query)
        response = sim.handle(request)
        assert response.status == 400 and error(response)["param"] == param


def test_count_input_tokens_errors(sim: FakeAI) -> None:
    response = post(sim, {"model": "gpt-4o", "input": "hi", "stream": True}, "/v1/responses/input_tokens")
    assert response.status == 400 and error(response)["code"] == "unknown_parameter"
    response = post(sim, {"model": "gpt-4o", "previous_response_id": "resp_x"}, "/v1/responses/input_tokens")
    assert response.status == 404 and error(response)["code"] == "previous_response_not_found"


# -- scripted replies ---------------------------------------------------------------------------------
def test_rules_without_endpoint_answer_responses(api: Driver, sim: FakeAI) -> None:
    sim.on(contains="weather").reply(tool_call=("get_weather", {"city": "Oslo"}))
    sim.on(after_tool="get_weather").reply("It is snowing in Oslo.")
    first = api("responses.create", model="gpt-4o", input="How is the weather?", tools=[WEATHER])
    check_response(sim.calls.last.response.json)
    call = first.output[0]
    assert call.type == "function_call" and json.loads(call.arguments) == {"city": "Oslo"}
    second = api(
        "responses.create",
        model="gpt-4o",
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "-3C"}],
        tools=[WEATHER],
    )
    assert second.output_text == "It is snowing in Oslo."
    assert sim.calls.last.rule is not None
    sim.assert_all_used()


def test_scripted_json_refusal_and_generated_arguments(api: Driver, sim: FakeAI) -> None:
    sim.on(contains="json").reply(json={"ok": True})
    sim.on(contains="secret").reply(refusal="No.")
    sim.on(contains="call").reply(tool_call="get_weather")  # arguments generated from the schema
    assert json.loads(api("responses.create", model="gpt-4o", input="json please").output_text) == {"ok": True}
    refused = api("responses.create", model="gpt-4o", input="the secret")
    assert refused.output[0].content[0].type == "refusal" and refused.output_text == ""
    called = api("responses.create", model="gpt-4o", input="call it", tools=[WEATHER])
    assert set(json.loads(called.output[0].arguments)) == {"city"}


def test_scripted_error_and_model_condition(sim: FakeAI, stack: str) -> None:
    sim.on(model="o3").reply(error=(503, "Busy"))
    sim.on(where=lambda data: data["messages"][0]["role"] == "system").reply("From instructions.")
    client = sim.client(stack=stack, max_retries=0)
    with pytest.raises(openai.InternalServerError, match="Busy"):
        client.responses.create(model="o3", input="hi")
    assert client.responses.create(model="gpt-4o", input="hi", instructions="Be kind.").output_text == (
        "From instructions."
    )


def test_scripted_text_is_cut_by_max_output_tokens(api: Driver, sim: FakeAI) -> None:
    sim.on(contains="long").reply("word " * 40)
    r = api("responses.create", model="gpt-4o", input="something long", max_output_tokens=16)
    assert r.status == "incomplete" and r.usage.output_tokens == 16


# -- no input ever yields a 5xx -------------------------------------------------------------------------
SIM = FakeAI(seed=42)  # one simulator for the module: hypothesis runs many examples

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
keys = st.sampled_from(
    [
        "model",
        "input",
        "instructions",
        "max_output_tokens",
        "temperature",
        "top_p",
        "stream",
        "stream_options",
        "tools",
        "tool_choice",
        "text",
        "reasoning",
        "include",
        "previous_response_id",
        "store",
        "background",
        "metadata",
        "truncation",
        "parallel_tool_calls",
        "bogus",
    ]
)
part = st.fixed_dictionaries(
    {"type": st.sampled_from(["input_text", "input_image", "output_text", "refusal", "x"])},
    optional={"text": json_values, "image_url": json_values, "refusal": json_values},
)
item = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(
            ["message", "function_call", "function_call_output", "reasoning", "item_reference", "x"]
        ),
        "role": st.sampled_from(["user", "system", "developer", "assistant", "tool"]),
        "content": json_values | st.lists(part, max_size=3),
        "call_id": st.sampled_from(["call_1", "call_2"]) | json_values,
        "name": st.sampled_from(["get_weather", "f"]),
        "arguments": st.just("{}") | json_values,
        "output": json_values,
        "id": json_values,
        "summary": json_values,
    },
)
tool = st.fixed_dictionaries(
    {"type": st.sampled_from(["function", "web_search", "x"]) | json_values},
    optional={
        "name": st.sampled_from(["get_weather", "f", ""]) | json_values,
        "parameters": json_values,
        "strict": json_values,
    },
)
formats = st.fixed_dictionaries(
    {"type": st.sampled_from(["text", "json_object", "json_schema", "x"])},
    optional={"name": st.just("n") | json_values, "schema": json_values, "strict": json_values},
)


EVENT_SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "day": {"type": "integer", "minimum": 1, "maximum": 31}},
    "required": ["name", "day"],
    "additionalProperties": False,
}
plausible = st.fixed_dictionaries(
    {
        "model": st.sampled_from(["gpt-4o", "o3", "gpt-4o-mini", "gpt-4"]),
        "input": st.text(min_size=1, max_size=40)
        | st.lists(
            st.fixed_dictionaries(
                {"role": st.sampled_from(["user", "system", "developer", "assistant"]), "content": st.text(max_size=30)}
            ),
            min_size=1,
            max_size=3,
        ),
    },
    optional={
        "instructions": st.text(max_size=30),
        "tools": st.just([WEATHER]),
        "tool_choice": st.sampled_from(["auto", "none", "required"]),
        "text": st.sampled_from(
            [
                {"format": {"type": "text"}},
                {"format": {"type": "json_schema", "name": "event", "schema": EVENT_SCHEMA, "strict": True}},
            ]
        ),
        "reasoning": st.sampled_from([{"effort": "low"}, {"effort": "high", "summary": "auto"}]),
        "max_output_tokens": st.integers(16, 200),
        "stream": st.booleans(),
        "store": st.booleans(),
        "include": st.lists(st.sampled_from(["message.output_text.logprobs", "reasoning.encrypted_content"])),
        "temperature": st.sampled_from([0, 1]),
    },
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=plausible
    | st.dictionaries(keys, json_values, max_size=6)
    | st.fixed_dictionaries(
        {
            "model": st.sampled_from(["gpt-4o", "o3", "gpt-4"]),
            "input": st.text(max_size=30) | st.lists(item, max_size=3),
        },
        optional={
            "tools": st.lists(tool, max_size=2),
            "tool_choice": st.sampled_from(["auto", "none", "required"]) | json_values,
            "text": st.fixed_dictionaries({"format": formats}),
            "reasoning": st.fixed_dictionaries(
                {},
                optional={
                    "effort": st.sampled_from(["low", "high", "x"]) | json_values,
                    "summary": st.sampled_from(["auto", "x"]),
                },
            ),
            "max_output_tokens": st.integers(-5, 300) | json_values,
            "stream": st.booleans(),
            "store": st.booleans(),
            "background": st.booleans(),
            "previous_response_id": st.just("resp_x") | json_values,
            "include": st.lists(st.sampled_from(["message.output_text.logprobs", "reasoning.encrypted_content"])),
        },
    )
    | json_values,
    path=st.sampled_from(["/v1/responses", "/v1/responses/input_tokens"]),
)
def test_random_bodies_never_yield_5xx(body: Any, path: str) -> None:
    response = post(SIM, body, path)
    event(f"status {response.status}")
    if response.status == 200:
        if response.stream is not None:
            for _, data in response.stream:
                check_response_event(data.split(b"\ndata: ", 1)[1])
        elif path == "/v1/responses":
            check_response(response.body)
        return
    assert 400 <= response.status < 500, response.body
    check_error(response.body)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200), st.sampled_from(["/v1/responses", "/v1/responses/input_tokens"]))
def test_arbitrary_bytes_are_a_json_error(raw: bytes, path: str) -> None:
    response = post(SIM, raw, path)
    assert response.status in (400, 404), response.body
    check_error(response.body)
