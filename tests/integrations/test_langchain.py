"""langchain-openai's ``ChatOpenAI``, configured as usual, answered by the simulator through interception.

Each test builds ``ChatOpenAI(model=...)`` the way application code does (it creates its
own ``OpenAI()`` / ``AsyncOpenAI()`` clients, over httpx2 with openai 3 and httpx with
openai 2) and checks both what langchain returns and what went over the wire
(``fakeai.calls``).
"""

from __future__ import annotations

import json
from typing import Literal

import pytest
from pydantic import BaseModel, Field, ValidationError

pytest.importorskip(
    "langchain_openai",
    reason="langchain-openai is not installed: pip install -e '.[integrations]' (part of '.[dev]')",
)

from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from langchain_openai.chat_models.base import OpenAIRefusalError

pytestmark = pytest.mark.usefixtures("openai_env")
# langchain-openai's streamed json_schema path model_dump()s the SDK's ParsedChatCompletion, whose
# `parsed` field is typed None: pydantic warns (langchain-ai/langchain#35538), whatever the server says.
_PARSED_DUMP_WARNING = pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning")

MODEL = "gpt-4o-mini"


# -- the application code under test: plain langchain, nothing test-specific ----------------------
@tool
def get_weather(city: str) -> str:
    """Get the current weather in a city."""
    return json.dumps({"city": city, "sky": "clear", "celsius": 21})


@tool
def get_time(city: str) -> str:
    """Get the local time in a city."""
    return json.dumps({"city": city, "time": "14:05"})


TOOLS = {t.name: t for t in (get_weather, get_time)}


def run_agent(question: str, max_turns: int = 5) -> tuple[str, list[BaseMessage]]:
    """The classic tool-calling loop: call the model, run the tools it asks for, repeat."""
    llm = ChatOpenAI(model=MODEL).bind_tools(list(TOOLS.values()))
    messages: list[BaseMessage] = [HumanMessage(question)]
    for _ in range(max_turns):
        ai = llm.invoke(messages)
        messages.append(ai)
        if not ai.tool_calls:
            return str(ai.content), messages
        messages += [TOOLS[call["name"]].invoke(call) for call in ai.tool_calls]  # ToolMessages
    raise RuntimeError("the agent did not finish")


async def arun_agent(question: str, max_turns: int = 5) -> tuple[str, list[BaseMessage]]:
    llm = ChatOpenAI(model=MODEL).bind_tools(list(TOOLS.values()))
    messages: list[BaseMessage] = [HumanMessage(question)]
    for _ in range(max_turns):
        ai = await llm.ainvoke(messages)
        messages.append(ai)
        if not ai.tool_calls:
            return str(ai.content), messages
        messages += [await TOOLS[call["name"]].ainvoke(call) for call in ai.tool_calls]
    raise RuntimeError("the agent did not finish")


class City(BaseModel):
    name: str
    country: str
    population: int = Field(ge=0)


class Ticket(BaseModel):
    """A support ticket, as extracted from an e-mail."""

    title: str
    priority: Literal["low", "medium", "high"]
    tags: list[str] = Field(min_length=1, max_length=3)
    estimate_hours: int = Field(ge=1, le=40)


def _usage(call: object) -> dict[str, int]:
    response = call.response  # type: ignore[attr-defined]
    if response.streamed:
        return next(e["usage"] for e in reversed(response.events) if e.get("usage"))  # type: ignore[no-any-return]
    return response.json["usage"]  # type: ignore[no-any-return]


# -- invoke / stream ----------------------------------------------------------------------------
def test_invoke_is_answered_by_the_simulator(fakeai, stack_transport):
    fakeai.on(contains="Lisbon").reply("Lisbon is the capital of Portugal.")
    with fakeai.intercept():
        reply = ChatOpenAI(model=MODEL).invoke("Tell me about Lisbon.")

    assert isinstance(reply, AIMessage)
    assert reply.content == "Lisbon is the capital of Portugal."
    call = fakeai.calls.last
    assert call.transport == stack_transport  # httpx2 with openai 3, httpx with openai 2
    assert call.request.path == "/v1/chat/completions"
    assert call.request.headers["authorization"] == "Bearer sk-test"
    assert call.request.json["messages"] == [{"role": "user", "content": "Tell me about Lisbon."}]
    usage = _usage(call)
    assert reply.usage_metadata["input_tokens"] == usage["prompt_tokens"]
    assert reply.usage_metadata["output_tokens"] == usage["completion_tokens"] == 8
    assert reply.response_metadata["model_name"] == "gpt-4o-mini-2024-07-18"  # the snapshot, as OpenAI answers
    assert reply.response_metadata["finish_reason"] == "stop"


@pytest.mark.fakeai(intercept=True, seed=3)
def test_unscripted_invoke_with_parameters(fakeai):
    llm = ChatOpenAI(model=MODEL, temperature=0, max_tokens=6, seed=11, logprobs=True, top_logprobs=2)
    reply = llm.invoke([("system", "Be brief."), ("human", "Describe the harbor.")])

    call = fakeai.calls.last
    assert reply.content == call.response.text and reply.content
    assert reply.response_metadata["finish_reason"] == "length"
    assert reply.usage_metadata["output_tokens"] == 6
    tokens = reply.response_metadata["logprobs"]["content"]
    assert "".join(t["token"] for t in tokens) == reply.content
    sent = call.request.json
    assert (sent["max_completion_tokens"], sent["seed"], sent["temperature"], sent["top_logprobs"]) == (6, 11, 0, 2)
    assert [m["role"] for m in sent["messages"]] == ["system", "user"]


def test_stream(fakeai):
    text = "The harbor in Lisbon faces the Tagus river."
    fakeai.on().reply(text)
    with fakeai.intercept():
        chunks = list(ChatOpenAI(model=MODEL).stream("Describe the harbor."))

    assert all(isinstance(c, AIMessageChunk) for c in chunks)
    assert "".join(str(c.content) for c in chunks) == text
    assert sum(1 for c in chunks if c.content) == 10  # one token per chunk, as the real API streams
    call = fakeai.calls.last
    assert call.response.streamed and call.response.complete
    assert call.request.json["stream"] is True
    assert call.request.json["stream_options"] == {"include_usage": True}  # langchain asks for usage
    whole = chunks[0]
    for chunk in chunks[1:]:
        whole += chunk
    assert whole.usage_metadata["output_tokens"] == _usage(call)["completion_tokens"] == 10
    assert whole.response_metadata["finish_reason"] == "stop"


def test_a_retried_rate_limit_is_invisible_to_langchain(fakeai):
    fakeai.on().reply(error=429).once()
    with fakeai.intercept():
        reply = ChatOpenAI(model=MODEL).invoke("hi")  # the SDK under langchain retries (max_retries=2)

    assert reply.content
    assert [c.response.status for c in fakeai.calls] == [429, 200]


# -- tools: bind_tools and the ToolMessage round trip -------------------------------------------
def test_tool_calling_loop_scripted(fakeai):
    fakeai.on(contains="weather").reply(tool_call=("get_weather", {"city": "Paris"}))
    fakeai.on(after_tool="get_weather").reply("It is sunny in Paris, 21 °C.")
    with fakeai.intercept():
        answer, messages = run_agent("What's the weather in Paris?")

    assert answer == "It is sunny in Paris, 21 °C."
    fakeai.assert_all_used()
    assert [type(m).__name__ for m in messages] == ["HumanMessage", "AIMessage", "ToolMessage", "AIMessage"]
    call_id = messages[1].tool_calls[0]["id"]
    assert call_id.startswith("call_")
    assert messages[1].tool_calls[0]["args"] == {"city": "Paris"}

    first, second = fakeai.calls
    assert [t["function"]["name"] for t in first.request.json["tools"]] == ["get_weather", "get_time"]
    sent = second.request.json["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "tool"]
    assert sent[1]["tool_calls"][0]["id"] == call_id
    assert json.loads(sent[1]["tool_calls"][0]["function"]["arguments"]) == {"city": "Paris"}
    assert sent[2]["tool_call_id"] == call_id
    assert json.loads(sent[2]["content"]) == {"city": "Paris", "sky": "clear", "celsius": 21}


def test_tool_calling_loop_unscripted(fakeai):
    """The generator calls the relevant tools (in parallel), with the city from the question, then answers."""
    with fakeai.intercept():
        answer, messages = run_agent("What's the weather and the local time in Paris?")

    assert answer == fakeai.calls.last.response.text and answer
    calls = messages[1].tool_calls
    assert sorted(c["name"] for c in calls) == ["get_time", "get_weather"]
    assert all(c["args"] == {"city": "Paris"} for c in calls)
    tool_messages = [m for m in messages if isinstance(m, ToolMessage)]
    assert sorted(m.tool_call_id for m in tool_messages) == sorted(c["id"] for c in calls)
    assert len(fakeai.calls) == 2


def test_streamed_tool_calls_aggregate(fakeai):
    fakeai.on().reply(tool_calls=[("get_weather", {"city": "Oslo"}), ("get_time", {"city": "Oslo"})])
    with fakeai.intercept():
        chunks = list(ChatOpenAI(model=MODEL).bind_tools([get_weather, get_time]).stream("Oslo?"))

    whole = chunks[0]
    for chunk in chunks[1:]:
        whole += chunk
    assert [(c["name"], c["args"]) for c in whole.tool_calls] == [
        ("get_weather", {"city": "Oslo"}),
        ("get_time", {"city": "Oslo"}),
    ]
    assert whole.response_metadata["finish_reason"] == "tool_calls"
    assert len([c for c in chunks if c.tool_call_chunks]) > 4  # arguments arrive in fragments


def test_bind_tools_options_reach_the_wire(fakeai):
    with fakeai.intercept():
        llm = ChatOpenAI(model=MODEL).bind_tools(
            [get_weather], tool_choice="any", parallel_tool_calls=False, strict=True
        )
        reply = llm.invoke("Hello there")  # nothing about weather: "any" (required) still calls it

    assert [c["name"] for c in reply.tool_calls] == ["get_weather"]
    assert isinstance(reply.tool_calls[0]["args"]["city"], str)
    sent = fakeai.calls.last.request.json
    assert sent["tool_choice"] == "required"
    assert sent["parallel_tool_calls"] is False
    assert sent["tools"][0]["function"]["strict"] is True


# -- with_structured_output ---------------------------------------------------------------------
def test_structured_output_json_schema_unscripted(fakeai):
    with fakeai.intercept():
        ticket = ChatOpenAI(model=MODEL).with_structured_output(Ticket, method="json_schema").invoke("Printer on fire")

    assert isinstance(ticket, Ticket)  # valid for every constraint: Literal, list bounds, int bounds
    sent = fakeai.calls.last.request.json["response_format"]
    assert sent["type"] == "json_schema"
    assert sent["json_schema"]["name"] == "Ticket" and sent["json_schema"]["strict"] is True
    assert "tools" not in fakeai.calls.last.request.json


def test_structured_output_json_schema_scripted(fakeai):
    fakeai.on(contains="Lisbon").reply(json={"name": "Lisbon", "country": "Portugal", "population": 545_000})
    with fakeai.intercept():
        city = ChatOpenAI(model=MODEL).with_structured_output(City, method="json_schema").invoke("Lisbon facts")

    assert city == City(name="Lisbon", country="Portugal", population=545_000)


def test_structured_output_json_schema_invalid_and_refused(fakeai):
    fakeai.on(contains="broken").reply(json={"name": "Lisbon"})  # the model gets it wrong
    fakeai.on(contains="forbidden").reply(refusal="I can't help with that.")
    llm = ChatOpenAI(model=MODEL).with_structured_output(City, method="json_schema")
    with fakeai.intercept():
        with pytest.raises(ValidationError, match="country"):
            llm.invoke("broken")
        with pytest.raises(OpenAIRefusalError, match=r"I can't help with that\."):
            llm.invoke("forbidden")


def test_structured_output_function_calling(fakeai):
    fakeai.on(contains="Lisbon").reply(tool_call=("City", {"name": "Lisbon", "country": "Portugal", "population": 1}))
    llm = ChatOpenAI(model=MODEL)
    with fakeai.intercept():
        scripted = llm.with_structured_output(City, method="function_calling").invoke("Lisbon facts")
        generated = llm.with_structured_output(Ticket, method="function_calling").invoke("Printer on fire")

    assert scripted == City(name="Lisbon", country="Portugal", population=1)
    assert isinstance(generated, Ticket)
    sent = fakeai.calls.last.request.json
    assert sent["tool_choice"] == {"type": "function", "function": {"name": "Ticket"}}
    assert sent["parallel_tool_calls"] is False
    assert "response_format" not in sent


def test_structured_output_function_calling_include_raw(fakeai):
    fakeai.on().reply(tool_call=("City", {"name": "Lisbon"}))  # missing fields
    llm = ChatOpenAI(model=MODEL).with_structured_output(City, method="function_calling", include_raw=True)
    with fakeai.intercept():
        result = llm.invoke("Lisbon facts")

    assert result["parsed"] is None
    assert isinstance(result["parsing_error"], ValidationError)
    assert result["raw"].tool_calls[0]["args"] == {"name": "Lisbon"}


@_PARSED_DUMP_WARNING
@pytest.mark.parametrize("method", ["json_schema", "function_calling"])
def test_structured_output_stream(fakeai, method):
    with fakeai.intercept():
        parts = list(ChatOpenAI(model=MODEL).with_structured_output(Ticket, method=method).stream("Printer on fire"))

    assert parts and isinstance(parts[-1], Ticket)
    assert fakeai.calls.last.response.streamed


# -- async: ainvoke, astream, the loop, structured output ---------------------------------------
@pytest.mark.asyncio
async def test_ainvoke_and_astream(fakeai, stack_transport):
    fakeai.on(contains="one").reply("First answer.")
    fakeai.on(contains="two").reply("Second answer, streamed.")
    llm = ChatOpenAI(model=MODEL)
    async with fakeai.intercept():
        first = await llm.ainvoke("one")
        chunks = [c async for c in llm.astream("two")]

    assert first.content == "First answer."
    assert "".join(str(c.content) for c in chunks) == "Second answer, streamed."
    assert [c.response.streamed for c in fakeai.calls] == [False, True]
    assert [c.transport for c in fakeai.calls] == [stack_transport] * 2


@pytest.mark.asyncio
@pytest.mark.fakeai(intercept=True)
async def test_async_tool_calling_loop(fakeai):
    fakeai.on(contains="time").reply(tool_call=("get_time", {"city": "Tokyo"}))
    fakeai.on(after_tool="get_time").reply("It is 14:05 in Tokyo.")
    answer, messages = await arun_agent("What time is it in Tokyo?")

    assert answer == "It is 14:05 in Tokyo."
    assert isinstance(messages[2], ToolMessage) and messages[2].tool_call_id == messages[1].tool_calls[0]["id"]
    assert fakeai.calls.last.request.json["messages"][2]["tool_call_id"] == messages[2].tool_call_id
    fakeai.assert_all_used()


@_PARSED_DUMP_WARNING
@pytest.mark.asyncio
@pytest.mark.parametrize("method", ["json_schema", "function_calling"])
async def test_async_structured_output(fakeai, method):
    async with fakeai.intercept():
        ticket = await ChatOpenAI(model=MODEL).with_structured_output(Ticket, method=method).ainvoke("Printer on fire")
        parts = [p async for p in ChatOpenAI(model=MODEL).with_structured_output(City, method=method).astream("Oslo")]

    assert isinstance(ticket, Ticket)
    assert isinstance(parts[-1], City)
    assert len(fakeai.calls) == 2
