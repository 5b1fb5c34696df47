"""A tool-using agent: the model asks for tools, the agent runs them and sends the results back.

One turn is one chat completion. When the model answers with ``tool_calls`` the
agent runs each tool with the model's arguments and appends the assistant message
and one ``tool`` message per call (with its ``tool_call_id``); it stops when the
model answers with text, or after ``max_turns`` turns.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from openai import OpenAI

from .usage import Usage

__all__ = ["ADD", "DEFAULT_TOOLS", "GET_WEATHER", "Agent", "AgentResult", "Tool", "ToolRun", "add", "get_weather"]

SYSTEM_PROMPT = "You are a helpful assistant. Use the tools when they help; answer briefly."


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    parameters: dict[str, Any]
    function: Callable[..., Any]

    def schema(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }


# -- the tools this app offers --------------------------------------------------------------
def get_weather(city: str, unit: str = "celsius") -> dict[str, Any]:
    """A stand-in for a weather service: deterministic per city."""
    celsius = 5 + sum(map(ord, city.lower())) % 25
    temperature = celsius if unit == "celsius" else round(celsius * 9 / 5 + 32)
    return {"city": city, "temperature": temperature, "unit": unit, "conditions": "clear"}


def add(a: float, b: float) -> float:
    return a + b


GET_WEATHER = Tool(
    "get_weather",
    "Current weather in a city.",
    {
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": "City name, e.g. Paris"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        },
        "required": ["city"],
        "additionalProperties": False,
    },
    get_weather,
)
ADD = Tool(
    "add",
    "Add two numbers.",
    {
        "type": "object",
        "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
        "required": ["a", "b"],
        "additionalProperties": False,
    },
    add,
)
DEFAULT_TOOLS = (GET_WEATHER, ADD)


# -- the loop -------------------------------------------------------------------------------
@dataclass(frozen=True)
class ToolRun:
    call_id: str
    name: str
    arguments: dict[str, Any] | None  # None when the model's arguments were not a JSON object
    result: Any
    error: str | None = None


@dataclass
class AgentResult:
    answer: str | None  # None when max_turns ran out before a text answer
    turns: int
    tool_runs: list[ToolRun] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)

    @property
    def finished(self) -> bool:
        return self.answer is not None


class Agent:
    """``first_tool_choice``: "auto", "required", "none" or a tool's name (that tool is forced) for turn 1;
    later turns use "auto"."""

    def __init__(
        self,
        client: OpenAI | None = None,
        *,
        tools: Sequence[Tool] = DEFAULT_TOOLS,
        model: str = "gpt-4o-mini",
        system_prompt: str = SYSTEM_PROMPT,
        max_turns: int = 5,
        first_tool_choice: str = "auto",
    ) -> None:
        self.tools = {t.name: t for t in tools}
        if first_tool_choice not in ("auto", "required", "none") and first_tool_choice not in self.tools:
            raise ValueError(f"first_tool_choice {first_tool_choice!r} is neither auto/required/none nor a tool name")
        if max_turns < 1:
            raise ValueError("max_turns must be at least 1")
        self.client = client if client is not None else OpenAI()
        self.model = model
        self.system_prompt = system_prompt
        self.max_turns = max_turns
        self.first_tool_choice = first_tool_choice

    def _tool_choice(self, turn: int) -> Any:
        choice = self.first_tool_choice if turn == 1 else "auto"
        if choice in ("auto", "required", "none"):
            return choice
        return {"type": "function", "function": {"name": choice}}

    def run(self, prompt: str) -> AgentResult:
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": self.system_prompt},
            {"role": "user", "content": prompt},
        ]
        result = AgentResult(answer=None, turns=0, messages=messages)
        schemas = [t.schema() for t in self.tools.values()]
        for turn in range(1, self.max_turns + 1):
            response = self.client.chat.completions.create(
                model=self.model,
                messages=messages,
                tools=schemas,
                tool_choice=self._tool_choice(turn),
            )
            result.turns = turn
            result.usage.add(response.usage)
            message = response.choices[0].message
            if not message.tool_calls:
                result.answer = message.content or ""
                messages.append({"role": "assistant", "content": result.answer})
                return result
            messages.append(
                {
                    "role": "assistant",
                    "content": message.content,
                    "tool_calls": [
                        {
                            "id": call.id,
                            "type": "function",
                            "function": {"name": call.function.name, "arguments": call.function.arguments},
                        }
                        for call in message.tool_calls
                        if call.type == "function"
                    ],
                }
            )
            for call in message.tool_calls:
                if call.type != "function":
                    continue
                run = self._execute(call.id, call.function.name, call.function.arguments)
                result.tool_runs.append(run)
                content = {"error": run.error} if run.error is not None else run.result
                messages.append({"role": "tool", "tool_call_id": call.id, "content": json.dumps(content, default=str)})
        return result

    def _execute(self, call_id: str, name: str, raw_arguments: str) -> ToolRun:
        """Run one tool call; a bad call becomes an error the model can read, not a crash."""
        try:
            arguments = json.loads(raw_arguments or "{}")
        except ValueError as exc:
            return ToolRun(call_id, name, None, None, f"arguments are not valid JSON: {exc}")
        if not isinstance(arguments, dict):
            return ToolRun(call_id, name, None, None, "arguments must be a JSON object")
        tool = self.tools.get(name)
        if tool is None:
            return ToolRun(call_id, name, arguments, None, f"unknown tool {name!r}")
        try:
            value = tool.function(**arguments)
        except Exception as exc:  # the tool failed: tell the model
            return ToolRun(call_id, name, arguments, None, f"{type(exc).__name__}: {exc}")
        return ToolRun(call_id, name, arguments, value)
