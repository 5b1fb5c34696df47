"""The agent loop against the simulator: tool calls, tool results, turn limits, usage."""

from __future__ import annotations

import json
from typing import Any

import pytest
from app.agent import ADD, GET_WEATHER, Agent, Tool, get_weather


class Spy:
    """Wraps a tool function and records the keyword arguments of every call."""

    def __init__(self, function: Any) -> None:
        self.function = function
        self.calls: list[dict[str, Any]] = []

    def __call__(self, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        return self.function(**kwargs)


def spied(tool: Tool) -> tuple[Tool, Spy]:
    spy = Spy(tool.function)
    return Tool(tool.name, tool.description, tool.parameters, spy), spy


def test_forced_tool_call_is_executed_and_its_result_sent_back(fakeai, fakeai_client):
    weather, spy = spied(GET_WEATHER)
    agent = Agent(fakeai_client, tools=[weather, ADD], first_tool_choice="required")

    result = agent.run("What's the weather like in Paris?")

    turn1, turn2 = fakeai.calls  # exactly two model turns
    assert turn1.request.json["tool_choice"] == "required"
    assert [t["function"]["name"] for t in turn1.request.json["tools"]] == ["get_weather", "add"]
    (tool_call,) = turn1.response.json["choices"][0]["message"]["tool_calls"]
    assert tool_call["function"]["name"] == "get_weather"
    sent_arguments = json.loads(tool_call["function"]["arguments"])

    # the tool ran once, with exactly the arguments the model sent
    assert spy.calls == [sent_arguments]
    (run,) = result.tool_runs
    assert (run.call_id, run.name, run.arguments, run.error) == (tool_call["id"], "get_weather", sent_arguments, None)
    assert run.result == get_weather(**sent_arguments)

    # turn 2 carries the assistant's tool call and the tool result, linked by tool_call_id
    assert turn2.request.json["tool_choice"] == "auto"
    *_, assistant, tool_message = turn2.request.json["messages"]
    assert assistant["role"] == "assistant"
    assert assistant["tool_calls"] == [tool_call]
    assert tool_message == {"role": "tool", "tool_call_id": tool_call["id"], "content": json.dumps(run.result)}

    assert result.finished
    assert result.turns == 2
    assert result.answer == turn2.response.text != ""
    assert "tool_calls" not in turn2.response.json["choices"][0]["message"]


def test_named_tool_choice_forces_that_tool(fakeai, fakeai_client):
    adder, spy = spied(ADD)
    agent = Agent(fakeai_client, tools=[GET_WEATHER, adder], first_tool_choice="add")

    result = agent.run("What is 2 + 3?")

    first = fakeai.calls[0]
    assert first.request.json["tool_choice"] == {"type": "function", "function": {"name": "add"}}
    (tool_call,) = first.response.json["choices"][0]["message"]["tool_calls"]
    arguments = json.loads(tool_call["function"]["arguments"])
    assert spy.calls == [arguments]
    assert result.tool_runs[0].result == arguments["a"] + arguments["b"]
    tool_message = fakeai.calls[1].request.json["messages"][-1]
    assert tool_message["tool_call_id"] == tool_call["id"]
    assert json.loads(tool_message["content"]) == pytest.approx(arguments["a"] + arguments["b"])
    assert result.finished


def test_a_failing_tool_is_reported_to_the_model(fakeai, fakeai_client):
    def broken(city: str, unit: str = "celsius") -> dict[str, Any]:
        raise TimeoutError("weather service timed out")

    agent = Agent(
        fakeai_client,
        tools=[Tool("get_weather", "Weather.", GET_WEATHER.parameters, broken)],
        first_tool_choice="required",
    )

    result = agent.run("Weather in Oslo?")

    (run,) = result.tool_runs
    assert run.error == "TimeoutError: weather service timed out"
    tool_message = fakeai.calls[1].request.json["messages"][-1]
    assert tool_message["role"] == "tool"
    assert json.loads(tool_message["content"]) == {"error": "TimeoutError: weather service timed out"}
    assert result.finished  # the loop went on: the model answered after reading the error


def test_stops_after_max_turns(fakeai, fakeai_client):
    agent = Agent(fakeai_client, first_tool_choice="required", max_turns=1)

    result = agent.run("Weather in Rome?")

    assert fakeai.calls.total == 1
    assert not result.finished
    assert result.answer is None
    assert result.turns == 1
    assert len(result.tool_runs) == 1  # the requested tool still ran
    assert result.messages[-1]["role"] == "tool"


def test_auto_tool_choice_answers_directly(fakeai, fakeai_client):
    # today's simulator, unscripted, answers "auto" with text
    result = Agent(fakeai_client).run("Say hello.")

    assert fakeai.calls.total == 1
    assert fakeai.calls.last.request.json["tool_choice"] == "auto"
    assert result.tool_runs == []
    assert result.answer == fakeai.calls.last.response.text != ""


def test_usage_totals_equal_the_sum_of_the_turns(fakeai, fakeai_client):
    result = Agent(fakeai_client, first_tool_choice="required").run("Weather in Lima?")

    usages = [c.response.json["usage"] for c in fakeai.calls]
    assert result.usage.requests == len(usages) == 2
    assert result.usage.prompt_tokens == sum(u["prompt_tokens"] for u in usages)
    assert result.usage.completion_tokens == sum(u["completion_tokens"] for u in usages)
    # turn 2's prompt holds turn 1's prompt and more (the tool call and its result)
    assert usages[1]["prompt_tokens"] > usages[0]["prompt_tokens"]


def test_unknown_first_tool_choice_is_rejected_before_any_request(fakeai, fakeai_client):
    with pytest.raises(ValueError, match="first_tool_choice"):
        Agent(fakeai_client, first_tool_choice="search_web")
    assert fakeai.calls.total == 0
