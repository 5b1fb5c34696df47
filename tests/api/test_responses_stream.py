"""Streamed Responses API answers: typed events, their order and timing, and the SDK's stream helper."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

import pytest

from pytest_fakeai import FakeAI
from pytest_fakeai.api.types import ApiRequest
from tests._support.drive import Driver
from tests._support.spec import check_response, check_response_event

QUESTION = "Tell me about the harbor in Lisbon."
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather for a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
    "strict": True,
}


def stream(api: Driver, **kwargs: Any) -> list[Any]:
    kwargs.setdefault("model", "gpt-4o")
    kwargs.setdefault("input", QUESTION)
    events: list[Any] = api("responses.create", stream=True, **kwargs)
    return events


def recorded(sim: FakeAI) -> list[dict[str, Any]]:
    """The events as sent, each validated against the spec and the SDK's strict types."""
    events = [check_response_event(e) for e in sim.calls.last.response.events]
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    return events


def sse_pairs(sim: FakeAI) -> list[tuple[str, str]]:
    """(event:, type of data:) of every SSE message: the two must name the same event."""
    pairs = []
    for chunk in sim.calls.last.response.chunks:
        head, data = chunk.decode().rstrip("\n").split("\n")
        pairs.append((head.removeprefix("event: "), json.loads(data.removeprefix("data: "))["type"]))
    return pairs


def test_text_stream_events_in_order(api: Driver, sim: FakeAI) -> None:
    events = stream(api)
    sent = recorded(sim)
    assert [e.type for e in events] == [e["type"] for e in sent]
    assert all(a == b for a, b in sse_pairs(sim))
    kinds = [e["type"] for e in sent]
    assert kinds[:5] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
    ]
    assert kinds[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert sent[0]["response"]["status"] == "in_progress" and sent[0]["response"]["output"] == []
    deltas = [e for e in sent if e["type"] == "response.output_text.delta"]
    text = "".join(e["delta"] for e in deltas)
    final = events[-1].response
    assert final.output_text == text == sent[-4]["text"]
    assert final.usage.output_tokens == len(deltas)  # one event per token
    assert {e["item_id"] for e in deltas} == {final.output[0].id}
    assert all(e["logprobs"] == [] and e["obfuscation"] for e in deltas)
    stored = api("responses.retrieve", response_id=final.id)
    assert stored.model_dump() == final.model_dump()


def test_stream_says_what_the_plain_response_says(api: Driver) -> None:
    events = stream(api, temperature=0)
    plain = api("responses.create", model="gpt-4o", input=QUESTION, temperature=0)
    assert events[-1].response.output_text == plain.output_text
    assert events[-1].response.usage == plain.usage


def test_sdk_stream_helper(sim: FakeAI, stack: str, mode: str) -> None:
    if mode == "sync":
        client = sim.client(stack=stack)
        with client.responses.stream(model="gpt-4o", input=QUESTION) as s:
            deltas = [e.delta for e in s if e.type == "response.output_text.delta"]
            final = s.get_final_response()
    else:

        async def run() -> tuple[list[str], Any]:
            client = sim.async_client(stack=stack)
            async with client.responses.stream(model="gpt-4o", input=QUESTION) as s:
                deltas = [e.delta async for e in s if e.type == "response.output_text.delta"]
                return deltas, await s.get_final_response()

        deltas, final = asyncio.run(run())
    recorded(sim)
    assert final.output_text == "".join(deltas) != ""
    assert final.status == "completed"


def test_sdk_stream_helper_parses_structured_output(sim: FakeAI) -> None:
    import pydantic

    class City(pydantic.BaseModel):
        name: str
        population: int

    with sim.client().responses.stream(model="gpt-4o", input="Lisbon?", text_format=City) as s:
        final = s.get_final_response()
    assert isinstance(final.output_parsed, City)


def test_function_call_stream(api: Driver, sim: FakeAI) -> None:
    events = stream(api, input="What is the weather in Paris?", tools=[WEATHER])
    sent = recorded(sim)
    kinds = [e["type"] for e in sent]
    assert "response.function_call_arguments.delta" in kinds
    added = next(e for e in sent if e["type"] == "response.output_item.added")
    assert added["item"]["type"] == "function_call" and added["item"]["arguments"] == ""
    assert added["item"]["status"] == "in_progress"
    arguments = "".join(e["delta"] for e in sent if e["type"] == "response.function_call_arguments.delta")
    done = next(e for e in sent if e["type"] == "response.function_call_arguments.done")
    assert done["arguments"] == arguments and done["name"] == "get_weather"
    final = events[-1].response
    assert final.output[0].arguments == arguments and json.loads(arguments) == {"city": "Paris"}


def test_reasoning_summary_stream(api: Driver, sim: FakeAI) -> None:
    events = stream(api, model="o3", reasoning={"effort": "low", "summary": "concise"})
    sent = recorded(sim)
    kinds = [e["type"] for e in sent]
    assert kinds[2:4] == ["response.output_item.added", "response.reasoning_summary_part.added"]
    summary = "".join(e["delta"] for e in sent if e["type"] == "response.reasoning_summary_text.delta")
    final = events[-1].response
    assert final.output[0].type == "reasoning" and final.output[0].summary[0].text == summary
    assert kinds.index("response.reasoning_summary_part.done") < kinds.index("response.output_text.delta")


def test_incomplete_stream_ends_with_response_incomplete(api: Driver, sim: FakeAI) -> None:
    events = stream(api, max_output_tokens=16)
    sent = recorded(sim)
    assert sent[-1]["type"] == "response.incomplete"
    final = events[-1].response
    assert final.status == "incomplete" and final.incomplete_details.reason == "max_output_tokens"
    assert final.usage.output_tokens == 16
    check_response(sent[-1]["response"])


def test_obfuscation_can_be_switched_off(api: Driver, sim: FakeAI) -> None:
    stream(api, stream_options={"include_obfuscation": False})
    assert all("obfuscation" not in e for e in recorded(sim))


def test_logprobs_stream_with_the_deltas(api: Driver, sim: FakeAI) -> None:
    stream(api, include=["message.output_text.logprobs"], top_logprobs=2)
    deltas = [e for e in recorded(sim) if e["type"] == "response.output_text.delta"]
    assert all(len(e["logprobs"]) == 1 and e["logprobs"][0]["token"] == e["delta"] for e in deltas)
    assert all(len(e["logprobs"][0]["top_logprobs"]) == 2 for e in deltas)


def test_refusal_stream(api: Driver, sim: FakeAI) -> None:
    sim.on(contains="secret").reply(refusal="I can't share that.")
    events = stream(api, input="Tell me the secret.")
    sent = recorded(sim)
    assert "".join(e["delta"] for e in sent if e["type"] == "response.refusal.delta") == "I can't share that."
    assert next(e for e in sent if e["type"] == "response.refusal.done")["refusal"] == "I can't share that."
    final = events[-1].response
    assert final.output[0].content[0].type == "refusal" and final.output_text == ""


# -- timing -----------------------------------------------------------------------------------------
def handle(sim: FakeAI, body: dict[str, Any], method: str = "POST", path: str = "/v1/responses") -> Any:
    raw = json.dumps(body).encode()
    return sim.handle(ApiRequest(method, path, headers={"content-type": "application/json"}, body=raw))


def timed(response: Any) -> list[tuple[float, dict[str, Any]]]:
    assert response.stream is not None, response.body
    return [(due, json.loads(data.split(b"\ndata: ", 1)[1])) for due, data in response.stream]


def test_events_are_due_after_ttft_then_itl_per_token() -> None:
    sim = FakeAI(seed=5, ttft=0.25, itl=0.02)
    events = timed(handle(sim, {"model": "gpt-4o", "input": QUESTION, "stream": True}))
    assert [due for due, e in events[:2]] == [0.0, 0.0]  # created, in_progress: at once
    deltas = [due for due, e in events if e["type"] == "response.output_text.delta"]
    assert deltas[0] == pytest.approx(0.25)
    assert all(b - a == pytest.approx(0.02) for a, b in itertools.pairwise(deltas))
    end, last = events[-1]
    assert last["type"] == "response.completed"
    assert (
        end
        == pytest.approx(deltas[-1])
        == pytest.approx(0.25 + 0.02 * (last["response"]["usage"]["output_tokens"] - 1))
    )


def test_reasoning_delays_the_first_visible_token() -> None:
    sim = FakeAI(seed=5, ttft=0.1, itl=0.01)
    events = timed(handle(sim, {"model": "o3", "input": QUESTION, "stream": True}))
    reasoning = events[-1][1]["response"]["usage"]["output_tokens_details"]["reasoning_tokens"]
    first = next(due for due, e in events if e["type"] == "response.output_text.delta")
    assert reasoning > 0 and first == pytest.approx(0.1 + 0.01 * reasoning)


def test_stream_chunk_tokens_groups_deltas() -> None:
    sim = FakeAI(seed=5, stream_chunk_tokens=4)
    events = timed(handle(sim, {"model": "gpt-4o", "input": QUESTION, "stream": True}))
    deltas = [e for _, e in events if e["type"] == "response.output_text.delta"]
    usage = events[-1][1]["response"]["usage"]
    assert len(deltas) == -(-usage["output_tokens"] // 4)


# -- background ---------------------------------------------------------------------------------------
def test_background_stream_and_replay(stack: str) -> None:
    sim = FakeAI(seed=8)
    client = sim.client(stack=stack)
    live = list(client.responses.create(model="gpt-4o", input=QUESTION, background=True, stream=True))
    recorded(sim)
    assert [e.type for e in live[:3]] == ["response.created", "response.queued", "response.in_progress"]
    assert live[0].response.status == "queued" and live[-1].response.background is True
    replay = list(client.responses.retrieve(live[-1].response.id, stream=True))
    assert [e.model_dump() for e in replay] == [e.model_dump() for e in live]
    later = list(client.responses.retrieve(live[-1].response.id, stream=True, starting_after=5))
    assert [e.sequence_number for e in later] == list(range(6, len(live)))
    with client.responses.stream(response_id=live[-1].response.id) as s:
        assert s.get_final_response().output_text == live[-1].response.output_text


def test_only_background_responses_stream_again(sim: FakeAI) -> None:
    import openai

    client = sim.client()
    r = client.responses.create(model="gpt-4o", input=QUESTION)
    with pytest.raises(openai.BadRequestError, match="background=true"):
        list(client.responses.retrieve(r.id, stream=True))
