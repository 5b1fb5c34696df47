"""The ``file_search`` tool of the Responses API through the real openai SDK: the search call, the cited
answer, streaming, tool_choice, errors, and continuing the conversation."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from pytest_fakeai import FakeAI
from pytest_fakeai.api.types import ApiRequest, ApiResponse
from pytest_fakeai.engine.vector_stores import vector_stores
from tests._support.drive import AVAILABLE_STACKS, Driver
from tests._support.spec import check_error, check_response, check_response_event, check_response_item_list

DOCS = {
    "returns.md": (
        "# Returns\n\nYou can return any item within 30 days of delivery for a full refund. "
        "Items must be unused and in their original packaging."
    ),
    "shipping.md": "# Shipping\n\nExpress shipping takes one or two days and costs 15 dollars.",
    "warranty.txt": (
        "All electronics come with a one-year limited warranty covering manufacturing defects. "
        "The warranty does not cover accidental damage or water damage."
    ),
}
QUESTION = "How many days do I have to return an item for a refund?"
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather for a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def store_of(api: Driver, docs: dict[str, str] = DOCS, attributes: dict[str, dict[str, Any]] | None = None) -> str:
    store = api("vector_stores.create", name="kb")
    for name, text in docs.items():
        file_id = api("files.create", file=(name, text.encode()), purpose="assistants").id
        api(
            "vector_stores.files.create",
            vector_store_id=store.id,
            file_id=file_id,
            attributes=(attributes or {}).get(name),
        )
    return str(store.id)


def tool(store_id: str, **kw: Any) -> dict[str, Any]:
    return {"type": "file_search", "vector_store_ids": [store_id], **kw}


def respond(api: Driver, **kwargs: Any) -> Any:
    kwargs.setdefault("model", "gpt-4o")
    kwargs.setdefault("input", QUESTION)
    response = api("responses.create", **kwargs)
    if not kwargs.get("stream"):
        check_response(api.sim.calls.last.response.json)
    return response


def events_of(sim: FakeAI) -> list[dict[str, Any]]:
    events = [check_response_event(e) for e in sim.calls.last.response.events]
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    return events


def post(sim: FakeAI, body: Any) -> ApiResponse:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return sim.handle(ApiRequest("POST", "/v1/responses", headers={"content-type": "application/json"}, body=raw))


def error_of(response: ApiResponse) -> dict[str, Any]:
    check_error(response.body)
    return dict(json.loads(response.body)["error"])


# -- the search and the cited answer ------------------------------------------------------------------
def test_search_call_then_cited_answer(api: Driver, sim: FakeAI) -> None:
    store_id = store_of(api)
    response = respond(api, tools=[tool(store_id)])
    body = sim.calls.last.response.json
    call, message = body["output"]
    assert call["type"] == "file_search_call"
    assert call["id"].startswith("fs_")
    assert (call["status"], call["queries"], call["results"]) == ("completed", [QUESTION], None)
    part = message["content"][0]
    assert part["text"] == "You can return any item within 30 days of delivery for a full refund."
    assert response.output_text == part["text"]
    [citation] = part["annotations"]
    assert citation["type"] == "file_citation"
    assert citation["filename"] == "returns.md"
    assert citation["index"] == len(part["text"])
    store = vector_stores(sim.engine).get(store_id)
    assert store is not None
    assert citation["file_id"] == next(f.id for f in store.files.values() if f.filename == "returns.md")
    # the SDK's own types see the same
    assert response.output[0].type == "file_search_call"
    assert response.output[1].content[0].annotations[0].filename == "returns.md"
    # the tool is echoed with its defaults
    assert body["tools"] == [
        {
            "type": "file_search",
            "filters": None,
            "max_num_results": 10,
            "ranking_options": {"ranker": "auto", "score_threshold": 0.0},
            "vector_store_ids": [store_id],
        }
    ]


def test_include_results(api: Driver, sim: FakeAI) -> None:
    store_id = store_of(api)
    respond(api, tools=[tool(store_id, max_num_results=2)], include=["file_search_call.results"])
    results = sim.calls.last.response.json["output"][0]["results"]
    assert results[0]["filename"] == "returns.md"
    assert len(results) == 2
    assert results[0]["score"] > results[1]["score"]
    assert "30 days" in results[0]["text"]
    assert results[0]["attributes"] == {}


def test_retrieved_chunks_count_as_input_tokens(api: Driver) -> None:
    store_id = store_of(api)
    plain = respond(api)
    searched = respond(api, tools=[tool(store_id)])
    assert searched.usage.input_tokens > plain.usage.input_tokens + 30
    assert searched.usage.total_tokens == searched.usage.input_tokens + searched.usage.output_tokens


def test_several_passages_are_cited(api: Driver, sim: FakeAI) -> None:
    store_id = store_of(api)
    respond(api, input="warranty damage", tools=[tool(store_id)])
    part = sim.calls.last.response.json["output"][1]["content"][0]
    indexes = [a["index"] for a in part["annotations"]]
    assert indexes == sorted(indexes)
    assert part["annotations"][0]["filename"] == "warranty.txt"
    assert all(0 < i <= len(part["text"]) for i in indexes)


def test_nothing_relevant(api: Driver) -> None:
    empty = api("vector_stores.create", name="empty").id
    response = respond(api, tools=[tool(empty)])
    assert response.output[0].type == "file_search_call"
    assert "could not find" in response.output_text
    assert response.output[1].content[0].annotations == []


def test_filters_and_threshold_restrict_the_search(api: Driver, sim: FakeAI) -> None:
    store_id = store_of(api, attributes={"returns.md": {"region": "eu"}, "warranty.txt": {"region": "us"}})
    us_only = tool(store_id, filters={"type": "eq", "key": "region", "value": "us"})
    respond(api, tools=[us_only], include=["file_search_call.results"])
    results = sim.calls.last.response.json["output"][0]["results"]
    assert {r["filename"] for r in results} == {"warranty.txt"}
    high = tool(store_id, ranking_options={"score_threshold": 0.99})
    respond(api, tools=[high], include=["file_search_call.results"])
    assert sim.calls.last.response.json["output"][0]["results"] == []


def test_reasoning_model_reasons_then_searches(api: Driver, sim: FakeAI) -> None:
    store_id = store_of(api)
    respond(api, model="o3", tools=[tool(store_id)], reasoning={"effort": "low"})
    kinds = [item["type"] for item in sim.calls.last.response.json["output"]]
    assert kinds == ["reasoning", "file_search_call", "message"]


def test_stream(api: Driver, sim: FakeAI) -> None:
    store_id = store_of(api)
    chunks = respond(api, tools=[tool(store_id)], stream=True, include=["file_search_call.results"])
    events = events_of(sim)
    kinds = [e["type"] for e in events]
    start = kinds.index("response.file_search_call.in_progress")
    assert kinds[start - 1 : start + 4] == [
        "response.output_item.added",
        "response.file_search_call.in_progress",
        "response.file_search_call.searching",
        "response.file_search_call.completed",
        "response.output_item.done",
    ]
    assert events[start - 1]["item"]["status"] == "in_progress"
    assert events[start + 3]["item"]["results"][0]["filename"] == "returns.md"
    [added] = [e for e in events if e["type"] == "response.output_text.annotation.added"]
    assert (added["annotation_index"], added["annotation"]["filename"]) == (0, "returns.md")
    assert kinds.index("response.output_text.annotation.added") < kinds.index("response.output_text.done")
    final = events[-1]["response"]
    assert final["output"][1]["content"][0]["annotations"] == [added["annotation"]]
    assert chunks[-1].response.output_text == final["output"][1]["content"][0]["text"]


def test_stream_and_whole_response_say_the_same(sim: FakeAI) -> None:
    api = Driver(sim, AVAILABLE_STACKS[0], "sync")
    store_id = store_of(api)
    whole = respond(api, tools=[tool(store_id)], temperature=0)
    chunks = respond(api, tools=[tool(store_id)], temperature=0, stream=True)
    assert chunks[-1].response.output_text == whole.output_text


# -- when the model searches --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("choice", "searched"),
    [
        ("auto", True),
        ("required", True),
        ({"type": "file_search"}, True),
        ("none", False),
        ({"type": "allowed_tools", "mode": "auto", "tools": [{"type": "file_search"}]}, True),
        ({"type": "allowed_tools", "mode": "auto", "tools": [{"type": "function", "name": "get_weather"}]}, False),
        ({"type": "function", "name": "get_weather"}, False),
    ],
)
def test_tool_choice(sim: FakeAI, choice: Any, searched: bool) -> None:
    api = Driver(sim, AVAILABLE_STACKS[0], "sync")
    store_id = store_of(api)
    respond(api, tools=[tool(store_id), WEATHER], tool_choice=choice)
    body = sim.calls.last.response.json
    assert (body["output"][0]["type"] == "file_search_call") is searched
    if isinstance(choice, dict) and choice["type"] == "file_search":
        assert body["tool_choice"] == {"type": "file_search"}


def test_search_and_function_call(api: Driver, sim: FakeAI) -> None:
    store_id = store_of(api)
    respond(api, input="What is the weather in Paris today?", tools=[tool(store_id), WEATHER])
    kinds = [item["type"] for item in sim.calls.last.response.json["output"]]
    assert kinds == ["file_search_call", "function_call"]


def test_scripted_reply_replaces_the_answer(sim: FakeAI) -> None:
    api = Driver(sim, AVAILABLE_STACKS[0], "sync")
    store_id = store_of(api)
    sim.on(contains="refund").reply("Thirty days, says the policy.")
    response = respond(api, tools=[tool(store_id)])
    assert [o.type for o in response.output] == ["file_search_call", "message"]
    assert response.output_text == "Thirty days, says the policy."


def test_max_output_tokens_cuts_the_answer(api: Driver, sim: FakeAI) -> None:
    store_id = store_of(api)
    response = respond(api, tools=[tool(store_id)], max_output_tokens=24)
    assert response.status == "incomplete"
    part = sim.calls.last.response.json["output"][1]["content"][0]
    assert all(a["index"] <= len(part["text"]) for a in part["annotations"])


def test_conversation_continues(api: Driver, sim: FakeAI) -> None:
    store_id = store_of(api)
    first = respond(api, tools=[tool(store_id)])
    follow = respond(api, previous_response_id=first.id, input="And express shipping?", tools=[tool(store_id)])
    assert follow.output[0].type == "file_search_call"
    assert "Express shipping" in follow.output_text
    # the output given back as input (the file_search_call item included) is accepted
    again = respond(
        api,
        input=[{"role": "user", "content": QUESTION}, *[o.model_dump(exclude_none=True) for o in first.output]],
    )
    assert again.status == "completed"
    api("responses.input_items.list", response_id=again.id)
    check_response_item_list(sim.calls.last.response.json)


# -- errors -------------------------------------------------------------------------------------------
BASE = {"model": "gpt-4o", "input": "hi"}


@pytest.mark.parametrize(
    ("tools", "extra", "status", "param", "words"),
    [
        ([tool("vs_missing")], {}, 404, "tools[0].vector_store_ids", "No vector store found with id 'vs_missing'."),
        ([tool("VS", max_num_results=0)], {}, 400, "tools[0].max_num_results", "Expected a value >= 1"),
        ([tool("VS", max_num_results=51)], {}, 400, "tools[0].max_num_results", "Expected a value <= 50"),
        ([{"type": "file_search", "vector_store_ids": []}], {}, 400, "tools[0].vector_store_ids", "empty array"),
        ([{"type": "file_search"}], {}, 400, "tools[0].vector_store_ids", "Missing required parameter"),
        ([tool("VS"), tool("VS")], {}, 400, "tools[1].type", "at most one file_search tool"),
        ([tool("VS", filters={"type": "in", "key": "a", "value": 1})], {}, 400, "tools[0].filters.value", "array"),
        ([tool("VS", filters={"type": "eq", "key": "a"})], {}, 400, "tools[0].filters.value", "Missing"),
        ([tool("VS", ranking_options={"ranker": "none"})], {}, 400, "tools[0].ranking_options.ranker", "'none'"),
        ([WEATHER], {"tool_choice": {"type": "file_search"}}, 400, "tool_choice", "'file_search' not found"),
        ([], {"tool_choice": {"type": "file_search"}}, 400, "tool_choice", "only allowed when 'tools'"),
        ([{"type": "web_search"}], {}, 400, "tools[0].type", "'web_search' is not supported"),
    ],
)
def test_errors(sim: FakeAI, tools: list[Any], extra: dict[str, Any], status: int, param: str, words: str) -> None:
    store_id = sim.client().vector_stores.create(name="kb").id
    body = json.loads(json.dumps({**BASE, "tools": tools, **extra}).replace('"VS"', json.dumps(store_id)))
    response = post(sim, body)
    assert response.status == status, response.body
    error = error_of(response)
    assert error["param"] == param
    assert words in error["message"]


def test_deleted_store_is_404_even_when_not_searching(sim: FakeAI) -> None:
    client = sim.client()
    store_id = client.vector_stores.create(name="kb").id
    client.vector_stores.delete(store_id)
    with pytest.raises(openai.NotFoundError, match=store_id):
        client.responses.create(model="gpt-4o", input="hi", tools=[tool(store_id)], tool_choice="none")


def test_same_seed_same_response() -> None:
    def run() -> Any:
        with FakeAI(seed=9) as sim:
            api = Driver(sim, AVAILABLE_STACKS[0], "sync")
            store_id = store_of(api)
            respond(api, tools=[tool(store_id)], include=["file_search_call.results"])
            return sim.calls.last.response.json

    assert run() == run()


# -- never a 5xx --------------------------------------------------------------------------------------
SIM = FakeAI(seed=13)
_STORE: list[str] = []


def _store() -> str:
    if not _STORE:
        api = Driver(SIM, AVAILABLE_STACKS[0], "sync")
        _STORE.append(store_of(api))
    return _STORE[0]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
fs_tool = st.fixed_dictionaries(
    {"type": st.just("file_search")},
    optional={
        "vector_store_ids": st.lists(st.sampled_from(["VS", "vs_x"]) | json_values, max_size=2),
        "max_num_results": st.integers(-1, 60) | json_values,
        "filters": st.fixed_dictionaries(
            {},
            optional={
                "type": st.sampled_from(["eq", "in", "and", "x"]),
                "key": st.text(max_size=5),
                "value": json_values,
                "filters": json_values,
            },
        )
        | json_values,
        "ranking_options": st.fixed_dictionaries(
            {},
            optional={
                "ranker": st.sampled_from(["auto", "none"]),
                "score_threshold": st.floats(-1, 2, allow_nan=False),
                "hybrid_search": st.fixed_dictionaries(
                    {"embedding_weight": st.floats(-1, 2), "text_weight": st.floats(-1, 2)}
                )
                | json_values,
            },
        ),
    },
)
bodies = st.fixed_dictionaries(
    {
        "model": st.sampled_from(["gpt-4o", "o3"]),
        "input": st.text(max_size=40) | st.sampled_from([QUESTION, "warranty?"]),
        "tools": st.lists(fs_tool | st.just(WEATHER), min_size=1, max_size=2),
    },
    optional={
        "tool_choice": st.sampled_from(["auto", "none", "required"])
        | st.just({"type": "file_search"})
        | st.just({"type": "allowed_tools", "mode": "auto", "tools": [{"type": "file_search"}]})
        | json_values,
        "include": st.lists(st.sampled_from(["file_search_call.results", "message.output_text.logprobs"])),
        "stream": st.booleans(),
        "max_output_tokens": st.integers(16, 100),
    },
)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=bodies)
def test_random_file_search_bodies_never_yield_5xx(body: dict[str, Any]) -> None:
    store_id = _store()
    response = post(SIM, json.dumps(body).replace('"VS"', json.dumps(store_id)).encode())
    event(f"status {response.status}")
    if response.status == 200:
        if response.stream is not None:
            for _, data in response.stream:
                check_response_event(data.split(b"\ndata: ", 1)[1])
        else:
            check_response(response.body)
        return
    assert 400 <= response.status < 500, response.body
    check_error(response.body)
