"""Structured outputs: ``response_format`` (json_object, json_schema strict and not, streamed), the SDK's
``parse()`` and ``stream()`` helpers with pydantic models, scripted refusals, and schemas that cannot be met."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any, Literal

import jsonschema
import openai
import pytest
import tiktoken
from pydantic import BaseModel, Field

from pytest_fakeai import FakeAI
from tests._support.drive import Driver
from tests._support.spec import check_chat_chunk, check_chat_completion, check_error

ENC = tiktoken.get_encoding("o200k_base")
FORMAT_CHECKER = jsonschema.Draft202012Validator.FORMAT_CHECKER


class Address(BaseModel):
    street: str
    city: str
    postcode: str = Field(pattern=r"^[0-9]{5}$")


class Person(BaseModel):
    name: str
    age: int = Field(ge=18, le=99)
    email: str | None
    role: Literal["admin", "editor", "viewer"]
    born: dt.date
    addresses: list[Address] = Field(min_length=1, max_length=3)


class Node(BaseModel):
    """Recursive: the generator must stop."""

    label: str
    children: list[Node]


class Team(BaseModel):
    name: str
    lead: Person
    members: list[Person]
    org_chart: Node


class Weather(BaseModel):
    city: str
    unit: Literal["c", "f"]


SCHEMA = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "rating": {"type": "integer", "minimum": 1, "maximum": 5},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 4},
        "author": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "email": {"type": "string", "format": "email"}},
            "required": ["name", "email"],
            "additionalProperties": False,
        },
    },
    "required": ["title", "rating", "tags", "author"],
    "additionalProperties": False,
}


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def json_schema(schema: dict[str, Any], *, strict: bool = True, name: str = "review") -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": strict}}


# -- response_format --------------------------------------------------------------------------------
@pytest.mark.parametrize("strict", [True, False])
def test_json_schema_content_is_valid(api: Driver, sim: FakeAI, strict: bool) -> None:
    for seed in range(3):
        r = api.chat(response_format=json_schema(SCHEMA, strict=strict), seed=seed)
        check_chat_completion(sim.calls.last.response.json)
        jsonschema.validate(json.loads(r.choices[0].message.content), SCHEMA, format_checker=FORMAT_CHECKER)
        assert r.choices[0].finish_reason == "stop"
        assert r.usage.completion_tokens == len(ENC.encode(r.choices[0].message.content))


def test_json_schema_streams_and_equals_the_whole_answer(api: Driver, sim: FakeAI) -> None:
    whole = api.chat(response_format=json_schema(SCHEMA), seed=9).choices[0].message.content
    chunks = api.chat(response_format=json_schema(SCHEMA), seed=9, stream=True)
    for event in sim.calls.last.response.events:
        check_chat_chunk(event)
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert streamed == whole
    jsonschema.validate(json.loads(streamed), SCHEMA)
    assert sum(1 for c in chunks if c.choices[0].delta.content) > 5


def test_json_object(api: Driver) -> None:
    r = api.chat(response_format={"type": "json_object"}, messages=user("Reply in JSON."))
    assert isinstance(json.loads(r.choices[0].message.content), dict)


def test_json_cut_by_max_tokens_says_length(api: Driver) -> None:
    r = api.chat(response_format=json_schema(SCHEMA), max_tokens=5)
    assert r.choices[0].finish_reason == "length" and r.usage.completion_tokens == 5


# -- the SDK's parse() and stream() helpers ---------------------------------------------------------
def test_parse_returns_a_nested_pydantic_instance(api: Driver, sim: FakeAI) -> None:
    r = api("chat.completions.parse", model="gpt-4o", messages=user("Describe the team."), response_format=Team)
    check_chat_completion(sim.calls.last.response.json)
    team = r.choices[0].message.parsed
    assert isinstance(team, Team)
    assert isinstance(team.lead, Person) and 18 <= team.lead.age <= 99
    assert all(len(a.postcode) == 5 and a.postcode.isdigit() for p in [team.lead, *team.members] for a in p.addresses)
    assert isinstance(team.org_chart, Node)
    sent = sim.calls.last.request.json["response_format"]
    assert sent["type"] == "json_schema" and sent["json_schema"]["strict"] is True
    assert Team.model_validate_json(r.choices[0].message.content) == team


def test_parse_with_pydantic_function_tools(api: Driver) -> None:
    r = api(
        "chat.completions.parse",
        model="gpt-4o",
        messages=user("What's the weather in Madrid?"),
        tools=[openai.pydantic_function_tool(Weather, name="get_weather")],
    )
    (call,) = r.choices[0].message.tool_calls
    assert isinstance(call.function.parsed_arguments, Weather)
    assert call.function.parsed_arguments.city == "Madrid"


def test_scripted_json_and_refusal_through_parse(api: Driver, sim: FakeAI) -> None:
    sim.on(contains="Ada").reply(json={"city": "London", "unit": "c"})
    sim.on(contains="forbidden").reply(refusal="I'm sorry, I can't help with that.")
    r = api("chat.completions.parse", model="gpt-4o", messages=user("Ada's weather"), response_format=Weather)
    assert r.choices[0].message.parsed == Weather(city="London", unit="c")
    r = api("chat.completions.parse", model="gpt-4o", messages=user("forbidden"), response_format=Weather)
    message = r.choices[0].message
    assert message.refusal == "I'm sorry, I can't help with that."
    assert message.parsed is None and message.content is None


def _stream_helper(api: Driver, **kwargs: Any) -> tuple[list[Any], Any]:
    """``client.chat.completions.stream(...)``: the events and the final parsed completion."""
    kwargs.setdefault("model", "gpt-4o")
    if api.mode == "sync":
        with api.client.chat.completions.stream(**kwargs) as stream:
            events = list(stream)
            return events, stream.get_final_completion()

    async def run() -> tuple[list[Any], Any]:
        async with api.client.chat.completions.stream(**kwargs) as stream:
            events = [e async for e in stream]
            return events, await stream.get_final_completion()

    return asyncio.run(run())


def test_stream_helper_parses_the_final_completion(api: Driver) -> None:
    events, final = _stream_helper(api, messages=user("Describe someone."), response_format=Person)
    person = final.choices[0].message.parsed
    assert isinstance(person, Person)
    done = [e for e in events if e.type == "content.done"]
    assert len(done) == 1 and done[0].parsed == person
    assert sum(1 for e in events if e.type == "content.delta") > 5


def test_stream_helper_surfaces_a_scripted_refusal(api: Driver, sim: FakeAI) -> None:
    sim.on().reply(refusal="No.")
    events, final = _stream_helper(api, messages=user("x"), response_format=Person)
    assert final.choices[0].message.refusal == "No."
    assert final.choices[0].message.parsed is None
    assert [e.refusal for e in events if e.type == "refusal.done"] == ["No."]


# -- schemas the generator cannot satisfy ------------------------------------------------------------
UNSATISFIABLE = [
    ({"type": "object", "properties": {"code": {"type": "string", "minLength": 5, "maxLength": 2}}}, "Length"),
    ({"type": "object", "properties": {"n": {"type": "integer", "minimum": 10, "maximum": 3}}}, "imum"),
    (
        {
            "type": "object",
            "properties": {
                "flags": {"type": "array", "items": {"type": "boolean"}, "minItems": 3, "uniqueItems": True}
            },
        },
        "Items",
    ),
]


@pytest.mark.parametrize(("schema", "keyword"), UNSATISFIABLE)
def test_unsatisfiable_response_format_is_a_400_naming_the_keyword(
    api: Driver, sim: FakeAI, schema: dict[str, Any], keyword: str
) -> None:
    api.client = api.client.with_options(max_retries=0)
    with pytest.raises(openai.BadRequestError) as info:
        api.chat(response_format=json_schema(schema, name="bad_one"))
    error = sim.calls.last.response.json
    check_error(error)
    assert error["error"]["param"] == "response_format"
    assert error["error"]["message"].startswith("Invalid schema for response_format 'bad_one': ")
    assert keyword in error["error"]["message"]
    assert info.value.status_code == 400


def test_unsatisfiable_tool_parameters_are_a_400_naming_the_tool(api: Driver, sim: FakeAI) -> None:
    good = {"type": "function", "function": {"name": "ok", "parameters": {"type": "object", "properties": {}}}}
    bad = {"type": "function", "function": {"name": "broken", "parameters": UNSATISFIABLE[0][0]}}
    api.client = api.client.with_options(max_retries=0)
    with pytest.raises(openai.BadRequestError):
        api.chat(tools=[good, bad], tool_choice="required")
    error = sim.calls.last.response.json
    check_error(error)
    assert error["error"]["param"] == "tools[1].function.parameters"
    assert error["error"]["message"].startswith("Invalid schema for function 'broken': ")
    assert "Length" in error["error"]["message"]
