"""Tool calls: the generator's choice (auto / none / required / named), streaming, legacy functions,
agent loops that end, and arguments valid against every tool's schema (property test)."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_fakeai import FakeAI
from pytest_fakeai.api.types import ApiRequest
from tests._support.drive import Driver
from tests._support.spec import check_chat_chunk, check_chat_completion


def tool(name: str, description: str, properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {
                "type": "object",
                "properties": properties,
                "required": list(properties) if required is None else required,
                "additionalProperties": False,
            },
        },
    }


WEATHER = tool(
    "get_weather",
    "Current weather in a city.",
    {"city": {"type": "string", "description": "City name"}, "unit": {"type": "string", "enum": ["c", "f"]}},
)
TIME = tool("get_time", "Local time in a timezone.", {"timezone": {"type": "string"}})
SEARCH = tool("search_docs", "Search the documentation.", {"query": {"type": "string"}, "limit": {"type": "integer"}})
ADD = tool(
    "add",
    "Add two numbers.",
    {"a": {"type": "number"}, "b": {"type": "number"}},
)
TOOLS = [WEATHER, TIME, SEARCH, ADD]


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def calls_of(r: Any) -> list[tuple[str, dict[str, Any]]]:
    return [(c.function.name, json.loads(c.function.arguments)) for c in r.choices[0].message.tool_calls or []]


def schema_of(name: str) -> dict[str, Any]:
    return next(t["function"]["parameters"] for t in TOOLS if t["function"]["name"] == name)


def check_calls(r: Any, sim: FakeAI) -> None:
    check_chat_completion(sim.calls.last.response.json)
    for name, args in calls_of(r):
        jsonschema.validate(args, schema_of(name))


# -- auto -------------------------------------------------------------------------------------------
def test_auto_calls_the_relevant_tool_with_the_users_words(api: Driver, sim: FakeAI) -> None:
    r = api.chat(messages=user("What's the weather like in Paris today?"), tools=TOOLS)
    check_calls(r, sim)
    assert r.choices[0].finish_reason == "tool_calls"
    assert r.choices[0].message.content is None
    ((name, args),) = calls_of(r)
    assert name == "get_weather" and args["city"] == "Paris" and args["unit"] in ("c", "f")


def test_auto_answers_in_text_when_no_tool_is_relevant(api: Driver, sim: FakeAI) -> None:
    r = api.chat(messages=user("Say hello to my friend."), tools=TOOLS)
    assert r.choices[0].finish_reason == "stop"
    assert r.choices[0].message.tool_calls is None and r.choices[0].message.content


def test_auto_is_the_default_and_is_deterministic(api: Driver, sim: FakeAI) -> None:
    first = api.chat(messages=user("Search the docs for streaming"), tools=TOOLS, seed=3)
    again = api.chat(messages=user("Search the docs for streaming"), tools=TOOLS, seed=3)
    assert calls_of(first) == calls_of(again)
    ((name, args),) = calls_of(first)
    assert name == "search_docs" and args["query"] == "Search the docs for streaming"


def test_auto_answers_in_text_after_the_tool_results(api: Driver, sim: FakeAI) -> None:
    messages = user("What's the weather in Oslo?")
    r = api.chat(messages=messages, tools=TOOLS)
    call = r.choices[0].message.tool_calls[0]
    messages += [
        r.choices[0].message.model_dump(exclude_none=True, exclude={"annotations"}),
        {"role": "tool", "tool_call_id": call.id, "content": '{"temperature": 4}'},
    ]
    r = api.chat(messages=messages, tools=TOOLS)
    assert r.choices[0].finish_reason == "stop" and r.choices[0].message.content


def test_parallel_calls_each_relevant_tool(api: Driver, sim: FakeAI) -> None:
    r = api.chat(messages=user("What's the weather in Paris and the time in Tokyo?"), tools=TOOLS)
    check_calls(r, sim)
    calls = calls_of(r)
    assert [name for name, _ in calls] == ["get_weather", "get_time"]
    assert calls[0][1]["city"] == "Paris" and calls[1][1]["timezone"] == "Tokyo"
    ids = [c.id for c in r.choices[0].message.tool_calls]
    assert len(set(ids)) == 2 and all(re.fullmatch(r"call_[A-Za-z0-9]{24}", i) for i in ids)


def test_parallel_tool_calls_false_calls_at_most_one(api: Driver, sim: FakeAI) -> None:
    r = api.chat(
        messages=user("What's the weather in Paris and the time in Tokyo?"), tools=TOOLS, parallel_tool_calls=False
    )
    assert [name for name, _ in calls_of(r)] == ["get_weather"]


def test_none_never_calls(api: Driver, sim: FakeAI) -> None:
    r = api.chat(messages=user("What's the weather in Paris?"), tools=TOOLS, tool_choice="none")
    assert r.choices[0].message.tool_calls is None and r.choices[0].finish_reason == "stop"


def test_required_always_calls(api: Driver, sim: FakeAI) -> None:
    r = api.chat(messages=user("Say hello."), tools=TOOLS, tool_choice="required")
    check_calls(r, sim)
    assert [name for name, _ in calls_of(r)] == ["get_weather"]  # nothing relevant: the first tool
    r = api.chat(messages=user("What time is it in Lima?"), tools=TOOLS, tool_choice="required")
    assert calls_of(r) == [("get_time", {"timezone": "Lima"})]


def test_named_function_is_called(api: Driver, sim: FakeAI) -> None:
    r = api.chat(
        messages=user("What is 2 + 3?"), tools=TOOLS, tool_choice={"type": "function", "function": {"name": "add"}}
    )
    check_calls(r, sim)
    assert calls_of(r) == [("add", {"a": 2, "b": 3})]  # the numbers of the message, where they fit


def test_allowed_tools_restricts_the_choice(api: Driver, sim: FakeAI) -> None:
    choice = {
        "type": "allowed_tools",
        "allowed_tools": {"mode": "required", "tools": [{"type": "function", "function": {"name": "get_time"}}]},
    }
    r = api.chat(messages=user("What's the weather in Paris?"), tools=TOOLS, tool_choice=choice)
    assert [name for name, _ in calls_of(r)] == ["get_time"]


def test_strict_tools_get_valid_arguments(api: Driver, sim: FakeAI) -> None:
    strict = json.loads(json.dumps(WEATHER))
    strict["function"]["strict"] = True
    r = api.chat(messages=user("weather in Rome?"), tools=[strict])
    check_calls(r, sim)
    assert calls_of(r)[0][1]["city"] == "Rome"


def test_tool_calls_stream_as_openai_streams_them(api: Driver, sim: FakeAI) -> None:
    chunks = api.chat(
        messages=user("What's the weather in Paris and the time in Tokyo?"),
        tools=TOOLS,
        stream=True,
        stream_options={"include_usage": True},
    )
    events = sim.calls.last.response.events
    for event in events:
        check_chat_chunk(event)
    assert events[0]["choices"][0]["delta"] == {"role": "assistant", "content": None, "refusal": None}
    pieces = [tc for e in events[1:-2] for tc in e["choices"][0]["delta"]["tool_calls"]]
    starts = [p for p in pieces if "id" in p]
    assert [(p["index"], p["type"], p["function"]) for p in starts] == [
        (0, "function", {"name": "get_weather", "arguments": ""}),
        (1, "function", {"name": "get_time", "arguments": ""}),
    ]
    fragments = [p for p in pieces if "id" not in p]
    assert all(set(p) == {"index", "function"} and set(p["function"]) == {"arguments"} for p in fragments)
    assert [p["index"] for p in pieces] == sorted(p["index"] for p in pieces)  # one call after the other
    args = ["".join(p["function"]["arguments"] for p in fragments if p["index"] == i) for i in (0, 1)]
    whole = api.chat(messages=user("What's the weather in Paris and the time in Tokyo?"), tools=TOOLS)
    assert [json.loads(a)["city" if i == 0 else "timezone"] for i, a in enumerate(args)] == ["Paris", "Tokyo"]
    assert [name for name, _ in calls_of(whole)] == ["get_weather", "get_time"]
    assert events[-2]["choices"][0]["finish_reason"] == "tool_calls"
    assert chunks[-1].usage.completion_tokens > 0


def test_legacy_functions_get_the_function_call_form(api: Driver, sim: FakeAI) -> None:
    functions = [t["function"] for t in TOOLS]
    r = api.chat(messages=user("What's the weather in Paris?"), functions=functions)
    check_chat_completion(sim.calls.last.response.json)
    message = r.choices[0].message
    assert r.choices[0].finish_reason == "function_call"
    assert message.tool_calls is None and message.content is None
    assert message.function_call.name == "get_weather"
    assert json.loads(message.function_call.arguments)["city"] == "Paris"
    r = api.chat(messages=user("What's the weather in Paris?"), functions=functions, function_call="none")
    assert r.choices[0].message.function_call is None and r.choices[0].message.content
    r = api.chat(messages=user("Hello"), functions=functions, function_call={"name": "add"})
    assert r.choices[0].message.function_call.name == "add"
    chunks = api.chat(messages=user("What's the weather in Paris?"), functions=functions, stream=True)
    for event in sim.calls.last.response.events:
        check_chat_chunk(event)
    assert chunks[1].choices[0].delta.function_call.name == "get_weather"
    args = "".join(c.choices[0].delta.function_call.arguments for c in chunks[1:-1])
    assert json.loads(args)["city"] == "Paris"
    assert chunks[-1].choices[0].finish_reason == "function_call"


def test_scripted_tool_call_to_legacy_functions(api: Driver, sim: FakeAI) -> None:
    sim.on().reply(tool_call=("add", {"a": 1, "b": 2}))
    r = api.chat(functions=[ADD["function"]])
    assert r.choices[0].message.function_call.name == "add"
    assert json.loads(r.choices[0].message.function_call.arguments) == {"a": 1, "b": 2}


def test_function_call_needs_functions(api: Driver, sim: FakeAI) -> None:
    import openai

    api.client = api.client.with_options(max_retries=0)
    with pytest.raises(openai.BadRequestError, match="only allowed when 'functions' are specified"):
        api.chat(function_call="auto")
    with pytest.raises(openai.BadRequestError, match="function 'nope' not found"):
        api.chat(functions=[ADD["function"]], function_call={"name": "nope"})


# -- agent loops ------------------------------------------------------------------------------------
def run_agent(client: Any, question: str, tools: list[dict[str, Any]], max_turns: int = 5) -> tuple[str, list[str]]:
    """A minimal agent loop: call the model, run the tools it asks for, until it answers in text."""
    messages: list[dict[str, Any]] = user(question)
    ran: list[str] = []
    for _ in range(max_turns):
        message = client.chat.completions.create(model="gpt-4o", messages=messages, tools=tools).choices[0].message
        if not message.tool_calls:
            return message.content, ran
        messages.append(message.model_dump(exclude_none=True, exclude={"annotations"}))
        for call in message.tool_calls:
            ran.append(f"{call.function.name}({call.function.arguments})")
            messages.append({"role": "tool", "tool_call_id": call.id, "content": '{"ok": true}'})
    raise AssertionError("the agent loop did not end")


def test_design_agent_loop_example(fakeai: FakeAI, fakeai_client: Any) -> None:
    fakeai.on(contains="weather").reply(tool_call=("get_weather", {"city": "Paris"}))
    fakeai.on(after_tool="get_weather").reply("It is sunny in Paris.")

    answer, ran = run_agent(fakeai_client, "What's the weather in Paris?", [WEATHER])

    assert answer == "It is sunny in Paris."
    assert ran == ['get_weather({"city":"Paris"})']
    assert [c.rule.describe() for c in fakeai.calls if c.rule] == [
        "on(contains='weather')",
        "on(after_tool='get_weather')",
    ]
    fakeai.assert_all_used()


def test_unscripted_agent_loop_ends(fakeai: FakeAI, fakeai_client: Any) -> None:
    answer, ran = run_agent(fakeai_client, "What's the weather in Paris and the time in Tokyo?", TOOLS)
    assert answer
    assert [r.split("(")[0] for r in ran] == ["get_weather", "get_time"]
    assert fakeai.calls.total == 2


# -- property: every call's arguments are valid --------------------------------------------------------
_LEAF = st.one_of(
    st.builds(lambda: {"type": "boolean"}),
    st.integers(-50, 50).flatmap(
        lambda lo: st.integers(lo, lo + 100).map(lambda hi: {"type": "integer", "minimum": lo, "maximum": hi})
    ),
    st.builds(lambda lo: {"type": "number", "minimum": lo, "exclusiveMaximum": lo + 10}, st.integers(-5, 5)),
    st.integers(0, 6).flatmap(
        lambda lo: st.integers(lo, lo + 20).map(lambda hi: {"type": "string", "minLength": lo, "maxLength": hi})
    ),
    st.sampled_from(["date", "date-time", "email", "uuid"]).map(lambda f: {"type": "string", "format": f}),
    st.lists(st.sampled_from(["red", "green", "", "0"]), min_size=1, max_size=4, unique=True).map(
        lambda e: {"type": "string", "enum": e}
    ),
    st.sampled_from([0, "", False, None, "x"]).map(lambda c: {"const": c}),
    st.builds(lambda: {"type": ["string", "null"]}),
    st.sampled_from([r"^[A-Z]{3}-[0-9]{4}$", r"^[a-z]+@[a-z]+\.com$", r"^(red|green|blue)$"]).map(
        lambda p: {"type": "string", "pattern": p}
    ),
    st.builds(lambda: {"type": "number", "multipleOf": 0.5, "minimum": 0, "maximum": 10}),
    st.builds(lambda: {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 3}),
)
_NAMES = st.from_regex(r"[a-z][a-z_]{0,8}", fullmatch=True)


def _object(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        props = draw(st.dictionaries(_NAMES, children, max_size=4))
        schema: dict[str, Any] = {"type": "object", "properties": props}
        schema["required"] = draw(st.lists(st.sampled_from(sorted(props)), unique=True)) if props else []
        if draw(st.booleans()):
            schema["additionalProperties"] = False
        return schema

    return build()


_VALUE = st.recursive(
    _LEAF,
    lambda children: st.one_of(
        _object(children),
        st.lists(children, min_size=2, max_size=3).map(lambda options: {"anyOf": options}),
        st.integers(0, 2).flatmap(
            lambda lo: children.map(lambda items: {"type": "array", "items": items, "minItems": lo, "maxItems": lo + 2})
        ),
    ),
    max_leaves=8,
)
_TOOLSETS = st.lists(
    st.tuples(st.sampled_from(["lookup", "weather", "ticket", "invoice", "route", "search"]), _object(_VALUE)),
    min_size=1,
    max_size=4,
    unique_by=lambda t: t[0],
)


def _ask(sim: FakeAI, body: dict[str, Any]) -> dict[str, Any]:
    response = sim.handle(ApiRequest("POST", "/v1/chat/completions", body=json.dumps(body).encode()))
    assert response.status == 200, response.body
    assert isinstance(response.json, dict)
    return response.json


_FORMATS = jsonschema.Draft202012Validator.FORMAT_CHECKER
_SIM = FakeAI(seed=0)  # one simulator for all examples: each request is seeded by the example


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(toolset=_TOOLSETS, seed=st.integers(0, 2**16))
def test_every_tool_call_is_valid_against_its_tool(toolset: list[tuple[str, dict[str, Any]]], seed: int) -> None:
    sim = _SIM
    tools = [
        {"name": f"{name}_tool", "description": f"Handles {name} requests.", "parameters": params}
        for name, params in toolset
    ]
    payload = [{"type": "function", "function": fn} for fn in tools]
    names = " and ".join(name for name, _ in toolset)
    bodies = [
        {"tools": payload, "messages": user(f"Please {names} for me")},  # auto: each named tool, in parallel
        {"tools": payload, "messages": user("hello"), "tool_choice": "required"},
        {"tools": payload, "messages": user("hello"), "tool_choice": "required", "stream": True},
    ]
    by_name = {fn["name"]: fn["parameters"] for fn in tools}
    seen = 0
    for extra in bodies:
        body = {"model": "gpt-4o", "seed": seed, **extra}
        if body.get("stream"):
            response = sim.handle(ApiRequest("POST", "/v1/chat/completions", body=json.dumps(body).encode()))
            assert response.stream is not None
            events = [json.loads(d[6:]) for _, d in response.stream if d.startswith(b"data: {")]
            args: dict[int, str] = {}
            names_seen: dict[int, str] = {}
            for e in events:
                for tc in e["choices"][0]["delta"].get("tool_calls") or () if e["choices"] else ():
                    args[tc["index"]] = args.get(tc["index"], "") + tc["function"].get("arguments", "")
                    if "name" in tc["function"]:
                        names_seen[tc["index"]] = tc["function"]["name"]
            calls = [(names_seen[i], args[i]) for i in sorted(args)]
        else:
            message = _ask(sim, body)["choices"][0]["message"]
            calls = [(c["function"]["name"], c["function"]["arguments"]) for c in message["tool_calls"]]
        assert calls
        for name, arguments in calls:
            validator = jsonschema.Draft202012Validator(by_name[name], format_checker=_FORMATS)
            validator.validate(json.loads(arguments))
            seen += 1
    assert seen >= len(toolset) + 2  # the auto request called every tool
