"""The application builds its own ``OpenAI()`` client, as production code does: intercept it.

No client is injected here; ``@pytest.mark.fakeai(intercept=True)`` routes every request the
process sends to api.openai.com into this test's simulator, and ``fakeai.on(...)`` scripts what
the model says.
"""

from __future__ import annotations

import json

import openai
import pytest
from app.agent import Agent
from app.resilient import ResilientChat
from app.summarizer import Summarizer


@pytest.fixture(autouse=True)
def _api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")  # OpenAI() insists on one


@pytest.mark.fakeai(intercept=True)
def test_summarizer_with_its_own_client(fakeai) -> None:
    summary = Summarizer().summarize("The harbour town wakes before dawn. " * 40)
    assert summary.text
    assert {c.transport for c in fakeai.calls} in ({"intercept:httpx2"}, {"intercept:httpx"})
    assert summary.usage.completion_tokens == sum(c.response.json["usage"]["completion_tokens"] for c in fakeai.calls)


@pytest.mark.fakeai(intercept=True, assert_all_used=True)
def test_scripted_agent_loop(fakeai) -> None:
    fakeai.on(contains="weather").reply(tool_call=("get_weather", {"city": "Paris"}))
    fakeai.on(after_tool="get_weather").reply("It is sunny in Paris.")
    result = Agent().run("What is the weather in Paris?")
    assert result.answer == "It is sunny in Paris."
    assert [(run.name, run.arguments) for run in result.tool_runs] == [("get_weather", {"city": "Paris"})]
    tool_message = fakeai.calls.last.request.json["messages"][-1]
    assert tool_message["role"] == "tool"
    assert json.loads(tool_message["content"])["city"] == "Paris"


@pytest.mark.fakeai(intercept=True)
def test_resilient_client_retries_a_scripted_rate_limit(fakeai) -> None:
    fakeai.on(model="gpt-4o-mini").reply(error=429).once()
    chat = ResilientChat(model="gpt-4o-mini", sleep=lambda seconds: None)
    reply = chat.create([{"role": "user", "content": "hello"}])
    assert reply.choices[0].message.content
    assert [c.response.status for c in fakeai.calls] == [429, 200]


@pytest.mark.fakeai(intercept=True, block_network=True)
def test_other_hosts_are_refused(fakeai) -> None:
    client = openai.OpenAI(base_url="http://127.0.0.1:9/v1", max_retries=0)
    with pytest.raises(openai.APIConnectionError):
        client.models.list()
