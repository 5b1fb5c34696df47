"""The Responses API through the real openai SDK, on both stacks, sync and async."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import jsonschema
import pydantic
import pytest
import tiktoken

from pytest_fakeai import FakeAI
from tests._support.drive import Driver, needs_sdk
from tests._support.spec import (
    check_response,
    check_response_input_tokens,
    check_response_item_list,
)

O200K = tiktoken.get_encoding("o200k_base")
QUESTION = "Tell me about the harbor in Lisbon."
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather for a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}},
        "required": ["city", "unit"],
        "additionalProperties": False,
    },
    "strict": True,
}
TIME = {
    "type": "function",
    "name": "get_time",
    "description": "Local time in a timezone.",
    "parameters": {"type": "object", "properties": {"timezone": {"type": "string"}}},
}


def body(sim: FakeAI) -> dict[str, Any]:
    data = sim.calls.last.response.json
    assert isinstance(data, dict)
    return data


def create(api: Driver, **kwargs: Any) -> Any:
    kwargs.setdefault("model", "gpt-4o")
    kwargs.setdefault("input", QUESTION)
    result = api("responses.create", **kwargs)
    if not kwargs.get("stream"):
        check_response(body(api.sim))
    return result


def chat_tokens(messages: list[dict[str, str]]) -> int:
    """OpenAI cookbook's chat formula, written independently of the simulator (o200k)."""
    return 3 + sum(3 + sum(len(O200K.encode(v)) for v in m.values()) for m in messages)


# -- shape ----------------------------------------------------------------------------------------
def test_basic_response_matches_spec_and_sdk(api: Driver, sim: FakeAI) -> None:
    r = create(api)
    assert r.object == "response"
    assert r.id.startswith("resp_") and len(r.id) == 53
    assert r.status == "completed"
    assert r.model == "gpt-4o-2024-08-06"
    assert [o.type for o in r.output] == ["message"]
    message = r.output[0]
    assert message.id.startswith("msg_") and message.role == "assistant" and message.status == "completed"
    assert r.output_text == message.content[0].text
    assert r.output_text.endswith(".")
    assert r.error is None and r.incomplete_details is None
    assert body(sim)["store"] is True
    assert r.text.format.type == "text"
    assert r.tool_choice == "auto" and r.tools == [] and r.parallel_tool_calls is True
    assert r.temperature == 1.0 and r.top_p == 1.0 and r.truncation == "disabled"
    assert r.metadata == {}
    assert sim.calls.last.transport == api.stack


def test_usage_counts_with_the_model_tokenizer(api: Driver) -> None:
    r = create(api, instructions="Answer in one line.")
    assert r.usage.input_tokens == chat_tokens(
        [{"role": "system", "content": "Answer in one line."}, {"role": "user", "content": QUESTION}]
    )
    assert r.usage.output_tokens == len(O200K.encode(r.output_text))
    assert r.usage.total_tokens == r.usage.input_tokens + r.usage.output_tokens
    assert r.usage.input_tokens_details.cached_tokens == 0
    assert r.usage.output_tokens_details.reasoning_tokens == 0
    assert r.instructions == "Answer in one line."


def test_input_as_items_counts_like_the_same_chat(api: Driver) -> None:
    items = [
        {"role": "developer", "content": "Be terse."},
        {"role": "user", "content": [{"type": "input_text", "text": "What is the capital of Portugal?"}]},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Lisbon."}]},
        {"role": "user", "content": "And its population?"},
    ]
    r = create(api, input=items)
    assert r.usage.input_tokens == chat_tokens(
        [
            {"role": "developer", "content": "Be terse."},
            {"role": "user", "content": "What is the capital of Portugal?"},
            {"role": "assistant", "content": "Lisbon."},
            {"role": "user", "content": "And its population?"},
        ]
    )


def test_image_and_file_parts_are_accepted(api: Driver) -> None:
    r = create(
        api,
        input=[
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "What is in this picture and this file?"},
                    {"type": "input_image", "image_url": "https://example.com/cat.png", "detail": "low"},
                    {"type": "input_file", "file_id": "file-abc", "filename": "notes.pdf"},
                ],
            }
        ],
    )
    assert r.output_text
    assert r.usage.input_tokens > 85  # a low-detail image alone costs 85 tokens


def test_max_output_tokens_cuts_exactly(api: Driver) -> None:
    r = create(api, max_output_tokens=16, input="Write a long essay about harbors.")
    assert r.status == "incomplete"
    assert r.incomplete_details is not None and r.incomplete_details.reason == "max_output_tokens"
    assert r.output[0].status == "incomplete"
    assert r.usage.output_tokens == 16 == len(O200K.encode(r.output_text))
    assert r.completed_at is None


def test_temperature_zero_is_deterministic(api: Driver) -> None:
    first = create(api, temperature=0)
    second = create(api, temperature=0)
    assert first.output_text == second.output_text
    assert first.id != second.id
    assert first.temperature == 0


def test_a_cut_answer_is_a_prefix_of_the_whole(api: Driver) -> None:
    whole = create(api, temperature=0, input="Describe the sea.")
    cut = create(api, temperature=0, input="Describe the sea.", max_output_tokens=16)
    assert whole.output_text.startswith(cut.output_text)


def test_metadata_user_and_settings_are_echoed(api: Driver) -> None:
    r = create(
        api,
        metadata={"run": "7"},
        user="u-1",
        safety_identifier="s-1",
        prompt_cache_key="k",
        service_tier="flex",
        truncation="auto",
        top_p=0.5,
        max_output_tokens=500,
    )
    assert r.metadata == {"run": "7"}
    assert r.user == "u-1" and r.safety_identifier == "s-1" and r.prompt_cache_key == "k"
    assert r.service_tier == "flex" and r.truncation == "auto" and r.top_p == 0.5
    assert r.max_output_tokens == 500


# -- reasoning ------------------------------------------------------------------------------------
def test_reasoning_model_has_a_reasoning_item_and_counts_its_tokens(api: Driver) -> None:
    r = create(api, model="o3", reasoning={"effort": "low"})
    assert [o.type for o in r.output] == ["reasoning", "message"]
    reasoning = r.output[0]
    assert reasoning.id.startswith("rs_") and reasoning.summary == []
    spent = r.usage.output_tokens_details.reasoning_tokens
    assert 48 <= spent <= 320  # the "low" range, as chat counts it
    assert r.usage.output_tokens == spent + len(O200K.encode(r.output_text))
    assert r.reasoning is not None and r.reasoning.effort == "low"


def test_reasoning_summary_and_encrypted_content(api: Driver) -> None:
    r = create(
        api,
        model="o4-mini",
        reasoning={"effort": "medium", "summary": "detailed"},
        include=["reasoning.encrypted_content"],
    )
    reasoning = r.output[0]
    assert reasoning.type == "reasoning"
    assert len(reasoning.summary) == 1 and reasoning.summary[0].text.startswith("**")
    assert reasoning.encrypted_content and reasoning.encrypted_content.startswith("gAAAAA")
    assert r.reasoning is not None and r.reasoning.summary == "detailed"


def test_reasoning_can_use_the_whole_budget(api: Driver) -> None:
    r = create(api, model="o3", reasoning={"effort": "high"}, max_output_tokens=16)
    assert r.status == "incomplete" and [o.type for o in r.output] == ["reasoning"]
    assert r.usage.output_tokens == r.usage.output_tokens_details.reasoning_tokens == 16
    assert r.output_text == ""


def test_logprobs_when_included(api: Driver) -> None:
    r = create(api, include=["message.output_text.logprobs"], top_logprobs=3)
    part = r.output[0].content[0]
    assert part.logprobs and "".join(lp.token for lp in part.logprobs) == part.text
    assert all(len(lp.top_logprobs) == 3 for lp in part.logprobs)
    assert r.top_logprobs == 3


# -- structured outputs ---------------------------------------------------------------------------
EVENT = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "date": {"type": "string", "format": "date"},
        "participants": {"type": "array", "items": {"type": "string"}, "minItems": 1},
    },
    "required": ["name", "date", "participants"],
    "additionalProperties": False,
}


def test_json_schema_output_is_valid_against_the_schema(api: Driver) -> None:
    fmt = {"type": "json_schema", "name": "event", "schema": EVENT, "strict": True}
    r = create(api, input="Alice and Bob go to a science fair on Friday.", text={"format": fmt})
    jsonschema.validate(json.loads(r.output_text), EVENT, format_checker=jsonschema.FormatChecker())
    assert r.text.format.type == "json_schema" and r.text.format.name == "event" and r.text.format.strict is True


def test_json_object_output_parses(api: Driver) -> None:
    r = create(api, input="Reply in JSON please.", text={"format": {"type": "json_object"}})
    assert isinstance(json.loads(r.output_text), dict)


class CalendarEvent(pydantic.BaseModel):
    name: str
    date: str
    participants: list[str]


def test_sdk_parse_with_a_pydantic_model(api: Driver) -> None:
    r = api("responses.parse", model="gpt-4o", input="Alice and Bob go to a fair.", text_format=CalendarEvent)
    assert isinstance(r.output_parsed, CalendarEvent)
    check_response(body(api.sim))


# -- tools ----------------------------------------------------------------------------------------
def test_relevant_tool_is_called_with_the_users_words(api: Driver) -> None:
    r = create(api, input="What is the weather in Paris today?", tools=[WEATHER, TIME])
    assert [o.type for o in r.output] == ["function_call"]
    call = r.output[0]
    assert call.id.startswith("fc_") and call.call_id.startswith("call_") and call.status == "completed"
    assert call.name == "get_weather"
    args = json.loads(call.arguments)
    jsonschema.validate(args, WEATHER["parameters"])
    assert args["city"] == "Paris"
    assert r.output_text == ""
    assert r.usage.output_tokens == len(O200K.encode(call.arguments)) + len(O200K.encode("get_weather")) + 3
    assert r.tools[0].strict is True and r.tools[1].strict is True  # the Responses API's default


def test_default_strict_tools_fill_every_property(api: Driver) -> None:
    r = create(api, input="What time is it?", tools=[TIME], tool_choice="required")
    assert set(json.loads(r.output[0].arguments)) == {"timezone"}


def test_tool_choice_none_answers_in_text(api: Driver) -> None:
    r = create(api, input="What is the weather in Paris?", tools=[WEATHER], tool_choice="none")
    assert [o.type for o in r.output] == ["message"]


@pytest.mark.parametrize(
    "choice",
    [
        {"type": "function", "name": "get_time"},
        {"type": "allowed_tools", "mode": "required", "tools": [{"type": "function", "name": "get_time"}]},
    ],
)
def test_named_and_allowed_tool_choice(api: Driver, choice: dict[str, Any]) -> None:
    r = create(api, input="What is the weather in Paris?", tools=[WEATHER, TIME], tool_choice=choice)
    assert [o.name for o in r.output] == ["get_time"]


def test_parallel_tool_calls(api: Driver) -> None:
    ask = "What is the weather in Paris, and the local time in the Europe/Paris timezone?"
    both = create(api, input=ask, tools=[WEATHER, TIME])
    assert sorted(o.name for o in both.output) == ["get_time", "get_weather"]
    one = create(api, input=ask, tools=[WEATHER, TIME], parallel_tool_calls=False)
    assert len(one.output) == 1 and one.parallel_tool_calls is False


def test_function_call_output_continues_the_conversation(api: Driver) -> None:
    first = create(api, input="What is the weather in Paris?", tools=[WEATHER])
    call = first.output[0]
    second = create(
        api,
        previous_response_id=first.id,
        tools=[WEATHER],
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": '{"temp": 21}'}],
    )
    assert [o.type for o in second.output] == ["message"]
    assert second.previous_response_id == first.id
    assert second.usage.input_tokens > first.usage.input_tokens


# -- conversation state ---------------------------------------------------------------------------
def test_previous_response_carries_the_conversation(api: Driver) -> None:
    first = create(api, input="My name is Ada.")
    second = create(api, input="What is my name?", previous_response_id=first.id, instructions="Be brief.")
    expected = chat_tokens(
        [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "My name is Ada."},
            {"role": "assistant", "content": first.output_text},
            {"role": "user", "content": "What is my name?"},
        ]
    )
    assert second.usage.input_tokens == expected
    listed = api("responses.input_items.list", response_id=second.id, order="asc").data
    assert [i.type for i in listed] == ["message", "message", "message"]
    assert listed[1].id == first.output[0].id  # the previous output is part of the context
    assert listed[2].content[0].text == "What is my name?"


def test_retrieve_returns_the_stored_response(api: Driver) -> None:
    r = create(api, metadata={"k": "v"})
    again = api("responses.retrieve", response_id=r.id, include=["message.output_text.logprobs"])
    check_response(body(api.sim))
    assert again.model_dump() == r.model_dump()


def test_store_false_is_not_retrievable_nor_continuable(api: Driver, sim: FakeAI) -> None:
    import openai

    r = create(api, store=False)
    assert body(sim)["store"] is False
    with pytest.raises(openai.NotFoundError):
        api("responses.retrieve", response_id=r.id)
    with pytest.raises(openai.NotFoundError) as info:
        create(api, previous_response_id=r.id)
    assert info.value.code == "previous_response_not_found"


def test_delete(api: Driver, sim: FakeAI) -> None:
    import openai

    r = create(api)
    assert api("responses.delete", response_id=r.id) is None
    assert body(sim) == {"id": r.id, "object": "response", "deleted": True}
    with pytest.raises(openai.NotFoundError):
        api("responses.retrieve", response_id=r.id)
    with pytest.raises(openai.NotFoundError):
        api("responses.delete", response_id=r.id)


def test_input_items_pages_and_auto_pagination(api: Driver, sim: FakeAI) -> None:
    items = [{"role": "user", "content": f"message {i}"} for i in range(7)]
    r = create(api, input=items)
    if api.mode == "sync":
        page = api.client.responses.input_items.list(r.id, limit=3)
        check_response_item_list(body(sim))
        assert len(page.data) == 3 and page.has_more
        assert [i.content[0].text for i in page.data] == ["message 6", "message 5", "message 4"]  # newest first
        every = list(api.client.responses.input_items.list(r.id, limit=3, order="asc"))
    else:

        async def run() -> list[Any]:
            return [i async for i in api.client.responses.input_items.list(r.id, limit=3, order="asc")]

        every = asyncio.run(run())
    assert [i.content[0].text for i in every] == [f"message {i}" for i in range(7)]
    assert all(i.id.startswith("msg_") for i in every)
    assert sim.calls.last.response.json["has_more"] is False
    check_response_item_list(body(sim))


def test_input_items_before_and_after(sim: FakeAI) -> None:
    client = sim.client()
    r = client.responses.create(model="gpt-4o", input=[{"role": "user", "content": str(i)} for i in range(5)])
    ids = [i.id for i in client.responses.input_items.list(r.id, order="asc")]
    page = client.responses.input_items.list(r.id, order="asc", after=ids[0], extra_query={"before": ids[3]})
    assert [i.id for i in page.data] == ids[1:3] and not page.has_more
    empty = client.responses.input_items.list(r.id, order="asc", after=ids[-1])
    assert empty.data == [] and sim.calls.last.response.json["first_id"] is None


@needs_sdk((2, 0), "client.responses.input_tokens")
def test_input_tokens_count_matches_the_response(api: Driver, sim: FakeAI) -> None:
    r = create(api, instructions="Be brief.", tools=[WEATHER], input="Hello there")
    counted = api(
        "responses.input_tokens.count", model="gpt-4o", instructions="Be brief.", tools=[WEATHER], input="Hello there"
    )
    check_response_input_tokens(body(sim))
    assert counted.object == "response.input_tokens"
    assert counted.input_tokens == r.usage.input_tokens


@needs_sdk((2, 0), "client.responses.input_tokens")
def test_input_tokens_count_follows_previous_response(api: Driver) -> None:
    first = create(api, input="Remember 42.")
    second = create(api, input="What number?", previous_response_id=first.id)
    counted = api("responses.input_tokens.count", model="gpt-4o", input="What number?", previous_response_id=first.id)
    assert counted.input_tokens == second.usage.input_tokens


# -- background -------------------------------------------------------------------------------------
def test_background_response_completes_on_the_simulated_clock(stack: str) -> None:
    sim = FakeAI(seed=3, ttft=0.5, itl=0.01)
    client = sim.client(stack=stack)
    r = client.responses.create(model="gpt-4o", input=QUESTION, background=True)
    check_response(sim.calls.last.response.json)
    assert r.status == "queued" and r.background is True and r.output == []
    assert client.responses.retrieve(r.id).status == "queued"
    sim.clock.advance(0.1)
    polled = client.responses.retrieve(r.id)
    check_response(sim.calls.last.response.json)
    assert polled.status == "in_progress" and polled.usage is None
    sim.clock.advance(60)
    done = client.responses.retrieve(r.id)
    check_response(sim.calls.last.response.json)
    assert done.status == "completed" and done.output_text and done.usage is not None
    assert client.responses.cancel(r.id).status == "completed"  # too late: unchanged


def test_background_response_can_be_cancelled(sim: FakeAI) -> None:
    slow = FakeAI(seed=3, ttft=1.0, itl=0.05)
    client = slow.client()
    r = client.responses.create(model="gpt-4o", input=QUESTION, background=True)
    cancelled = client.responses.cancel(r.id)
    check_response(slow.calls.last.response.json)
    assert cancelled.status == "cancelled"
    slow.clock.advance(600)
    assert client.responses.retrieve(r.id).status == "cancelled"


# -- determinism --------------------------------------------------------------------------------------
def test_same_seed_same_bytes_different_seed_differs(stack: str) -> None:
    def run(seed: int) -> list[bytes]:
        sim = FakeAI(seed=seed)
        client = sim.client(stack=stack)
        first = client.responses.create(model="o3", input=QUESTION, reasoning={"summary": "auto"})
        client.responses.create(model="gpt-4o", input="And then?", previous_response_id=first.id, tools=[WEATHER, TIME])
        list(client.responses.create(model="gpt-4o", input=QUESTION, stream=True))
        return [sim.calls[i].response.body or b"".join(sim.calls[i].response.chunks) for i in range(3)]

    assert run(11) == run(11)
    assert run(11) != run(12)


@needs_sdk((2, 0), "the item types the API lists today")
def test_output_items_round_trip_as_input(api: Driver, sim: FakeAI) -> None:
    """The manual-state pattern: send the previous output items back as input, with the tool results."""
    conversation: list[Any] = [{"role": "user", "content": "What is the weather in Rome?"}]
    first = create(
        api, model="o4-mini", input=conversation, tools=[WEATHER], store=False, include=["reasoning.encrypted_content"]
    )
    assert [o.type for o in first.output] == ["reasoning", "function_call"]
    conversation += [o.model_dump() for o in first.output]
    conversation.append({"type": "function_call_output", "call_id": first.output[1].call_id, "output": "sunny"})
    second = create(api, model="o4-mini", input=conversation, tools=[WEATHER])
    assert [o.type for o in second.output] == ["reasoning", "message"]
    listed = api("responses.input_items.list", response_id=second.id, order="asc").data
    check_response_item_list(body(sim))
    assert [i.type for i in listed] == ["message", "reasoning", "function_call", "function_call_output"]
    assert listed[1].id == first.output[0].id and listed[2].call_id == first.output[1].call_id
    assert listed[3].id.startswith("fco_")


@needs_sdk((2, 0), "the item types the API lists today")
def test_every_input_item_kind_is_listed_validly(api: Driver, sim: FakeAI) -> None:
    items = [
        {"role": "system", "content": "sys"},
        {"role": "developer", "content": [{"type": "input_text", "text": "dev"}]},
        {
            "role": "user",
            "content": [
                {"type": "input_text", "text": "look"},
                {"type": "input_image", "image_url": "https://example.com/a.png"},
                {"type": "input_file", "file_id": "file-1"},
            ],
        },
        {"role": "assistant", "content": [{"type": "refusal", "refusal": "no"}]},
        {"role": "assistant", "content": "fine", "id": "msg_given"},
        {"type": "reasoning", "id": "rs_given", "summary": []},
        {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": '{"city":"Oslo"}'},
        {"type": "function_call_output", "call_id": "call_1", "output": [{"type": "input_text", "text": "cold"}]},
        {"role": "user", "content": "and now?"},
    ]
    r = create(api, input=items, tools=[WEATHER])
    listed = api("responses.input_items.list", response_id=r.id, order="asc").data
    check_response_item_list(body(sim))
    assert len(listed) == len(items)
    assert listed[4].id == "msg_given" and listed[5].id == "rs_given"
    reference = create(api, input=[{"type": "item_reference", "id": "msg_given"}, {"role": "user", "content": "again"}])
    again = api("responses.input_items.list", response_id=reference.id, order="asc").data
    assert again[0].id == "msg_given" and again[0].content[0].text == "fine"


def test_a_repeated_long_prefix_is_reported_as_cached(api: Driver) -> None:
    rules = " ".join(f"Rule {i} matters." for i in range(400))  # well over OpenAI's 1024-token minimum
    first = create(api, instructions=rules, input="hi")
    second = create(api, instructions=rules, input="and again", previous_response_id=first.id)
    assert first.usage.input_tokens_details.cached_tokens == 0
    cached = second.usage.input_tokens_details.cached_tokens
    assert cached % 128 == 0 and 1024 <= cached <= first.usage.input_tokens


def test_metrics_count_responses_tokens(sim: FakeAI) -> None:
    r = sim.client().responses.create(model="gpt-4o", input=QUESTION)
    assert sim.metrics.requests(endpoint="/v1/responses") == 1
    tokens = sim.metrics.tokens()
    assert (tokens.prompt, tokens.completion) == (r.usage.input_tokens, r.usage.output_tokens)
