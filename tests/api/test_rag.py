"""``POST /rag/api/prompt`` (the seed FakeAI's RAG route) over plain HTTP on both stacks, sync and async."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from pytest_fakeai import FakeAI
from pytest_fakeai.api.types import ApiRequest
from tests._support.drive import AVAILABLE_STACKS
from tests._support.spec import check_error

ROOT = "https://api.openai.com"
DOCS = {
    "pvtmc.md": (
        "PVTMC Verifier provides fast, accurate verification of worst-case corners. It analyzes process, "
        "voltage and temperature variations to find the critical operating conditions."
    ),
    "sweeps.md": (
        "Sweep configuration lets you sweep design variables. Sweep ranges can be written as comma separated "
        "values or as start:step:end."
    ),
    "cluster.md": "Simulations run on the cluster: pick a queue and the number of parallel jobs in the settings.",
}


def post(sim: FakeAI, stack: str, mode: str, body: Any) -> tuple[int, Any]:
    """POST the body with a plain HTTP client of ``stack`` (sync or async); (status, JSON body)."""
    if mode == "sync":
        with sim.http_client(stack) as http:
            r = http.post(ROOT + "/rag/api/prompt", json=body)
            return r.status_code, r.json()

    async def run() -> tuple[int, Any]:
        async with sim.http_client(stack, asynchronous=True) as http:
            r = await http.post(ROOT + "/rag/api/prompt", json=body)
            return r.status_code, r.json()

    return asyncio.run(run())


def knowledge(sim: FakeAI, name: str = "solido-docs", attributes: dict[str, dict[str, Any]] | None = None) -> str:
    client = sim.client()
    store = client.vector_stores.create(name=name)
    for filename, text in DOCS.items():
        file_id = client.files.create(file=(filename, text.encode()), purpose="assistants").id
        client.vector_stores.files.create(
            vector_store_id=store.id, file_id=file_id, attributes=(attributes or {}).get(filename)
        )
    return str(store.id)


def check_rag(body: dict[str, Any]) -> None:
    """The seed's response shape: content, retrieved_docs (id, content, score, metadata, source), usage."""
    assert set(body) == {"content", "retrieved_docs", "usage"}
    assert isinstance(body["content"], str)
    assert body["content"]
    for doc in body["retrieved_docs"]:
        assert set(doc) == {"id", "content", "score", "metadata", "source", "file_id", "vector_store_id"}
        assert 0.0 <= doc["score"] <= 1.0
        assert isinstance(doc["metadata"], dict)
    scores = [d["score"] for d in body["retrieved_docs"]]
    assert scores == sorted(scores, reverse=True)
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["prompt_tokens"] > 0
    assert usage["completion_tokens"] > 0


def test_answer_from_the_best_document(sim: FakeAI, stack: str, mode: str) -> None:
    knowledge(sim)
    status, body = post(sim, stack, mode, {"query": "How does PVTMC verify worst-case corners?", "top_k": 2})
    assert status == 200, body
    check_rag(body)
    assert body["retrieved_docs"][0]["source"] == "pvtmc.md"
    assert len(body["retrieved_docs"]) == 2
    assert body["content"].startswith("According to pvtmc.md: PVTMC Verifier provides")
    assert body["retrieved_docs"][0]["content"] == DOCS["pvtmc.md"]


def test_defaults_to_five_documents_and_every_store(sim: FakeAI) -> None:
    knowledge(sim, "a")
    knowledge(sim, "b")
    status, body = post(sim, AVAILABLE_STACKS[0], "sync", {"query": ["sweep", "ranges"]})
    assert status == 200
    check_rag(body)
    assert len(body["retrieved_docs"]) == 5
    assert body["retrieved_docs"][0]["source"] == "sweeps.md"
    assert len({d["vector_store_id"] for d in body["retrieved_docs"]}) == 2


def test_collection_name_or_vector_store_id_picks_the_documents(sim: FakeAI) -> None:
    knowledge(sim, "first")
    second = knowledge(sim, "second")
    for picker in ({"collection_name": "second"}, {"vector_store_id": second}, {"vector_store_ids": [second]}):
        status, body = post(sim, AVAILABLE_STACKS[0], "sync", {"query": "cluster queue", **picker})
        assert status == 200, body
        assert {d["vector_store_id"] for d in body["retrieved_docs"]} == {second}


@pytest.mark.parametrize(
    "question",
    [
        {"prompt": "Which queue do simulations run on?"},
        {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "cluster queue jobs"}]},
        {"messages": [{"role": "user", "content": [{"type": "text", "text": "cluster queue jobs"}]}]},
    ],
)
def test_the_question_can_be_a_prompt_or_messages(sim: FakeAI, question: dict[str, Any]) -> None:
    knowledge(sim)
    status, body = post(sim, AVAILABLE_STACKS[0], "sync", question)
    assert status == 200, body
    assert body["retrieved_docs"][0]["source"] == "cluster.md"


def test_filters_seed_style_and_openai_style(sim: FakeAI) -> None:
    knowledge(
        sim,
        attributes={
            "pvtmc.md": {"family": "Solido", "tool": "PVTMC"},
            "sweeps.md": {"family": "Solido", "tool": "SDE"},
        },
    )
    status, body = post(
        sim, AVAILABLE_STACKS[0], "sync", {"query": "variables", "filters": {"family": "Solido", "tool": "SDE"}}
    )
    assert status == 200
    assert [d["source"] for d in body["retrieved_docs"]] == ["sweeps.md"]
    assert body["retrieved_docs"][0]["metadata"] == {"family": "Solido", "tool": "SDE"}
    openai_style = {"type": "in", "key": "tool", "value": ["PVTMC", "SDE"]}
    status, body = post(sim, AVAILABLE_STACKS[0], "sync", {"query": "verification", "filters": openai_style})
    assert status == 200
    assert {d["source"] for d in body["retrieved_docs"]} == {"pvtmc.md", "sweeps.md"}


def test_no_documents_says_so(sim: FakeAI) -> None:
    status, body = post(sim, AVAILABLE_STACKS[0], "sync", {"query": "anything at all"})
    assert status == 200
    assert body["retrieved_docs"] == []
    assert "could not find" in body["content"]


def test_usage_reaches_the_metrics(sim: FakeAI) -> None:
    knowledge(sim)
    status, body = post(
        sim,
        AVAILABLE_STACKS[0],
        "sync",
        {"query": "sweep ranges", "inference_model": "meta-llama/Llama-3.1-8B-Instruct"},
    )
    assert status == 200
    tokens = sim.metrics.tokens(model="meta-llama/Llama-3.1-8B-Instruct")
    assert (tokens.prompt, tokens.completion) == (body["usage"]["prompt_tokens"], body["usage"]["completion_tokens"])
    assert sim.metrics.requests(model="meta-llama/Llama-3.1-8B-Instruct") == 1


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        ({}, 400, "query"),
        ({"query": ""}, 400, "query"),
        ({"query": "x", "top_k": 0}, 400, "top_k"),
        ({"query": "x", "top_k": 21}, 400, "top_k"),
        ({"query": 5}, 400, "query"),
        ({"query": "x", "collection_name": "nope"}, 404, "collection_name"),
        ({"query": "x", "vector_store_id": "vs_nope"}, 404, "vector_store_id"),
        ({"query": "x", "filters": {"family": ["a"]}}, 400, "filters.family"),
        ({"query": "x", "filters": {"type": "eq", "key": "a"}}, 400, "filters.value"),
    ],
)
def test_errors(sim: FakeAI, body: dict[str, Any], status: int, param: str) -> None:
    got, error = post(sim, AVAILABLE_STACKS[0], "sync", body)
    assert got == status, error
    check_error(error)
    assert error["error"]["param"] == param


def test_same_seed_same_answer() -> None:
    def run() -> Any:
        with FakeAI(seed=3) as sim:
            knowledge(sim)
            return post(sim, AVAILABLE_STACKS[0], "sync", {"query": "worst-case corners", "top_k": 3})

    assert run() == run()


SIM = FakeAI(seed=17)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
bodies = (
    st.fixed_dictionaries(
        {},
        optional={
            "query": st.text(max_size=30) | st.lists(st.text(max_size=10), max_size=3) | json_values,
            "prompt": json_values,
            "messages": st.lists(
                st.fixed_dictionaries({"role": st.sampled_from(["user", "x"]), "content": json_values}), max_size=2
            )
            | json_values,
            "filters": st.dictionaries(st.text(max_size=5), json_values, max_size=2) | json_values,
            "top_k": st.integers(-1, 25) | json_values,
            "inference_model": st.sampled_from(["gpt-4o", "meta-llama/Llama-3.1-70B-Instruct"]) | json_values,
            "collection_name": st.sampled_from(["fuzz", "nope"]) | json_values,
            "vector_store_id": json_values,
            "stream": json_values,
        },
    )
    | json_values
)


plausible = st.fixed_dictionaries(
    {"query": st.text(min_size=1, max_size=30) | st.lists(st.text(min_size=1, max_size=10), min_size=1, max_size=3)},
    optional={
        "top_k": st.integers(1, 20),
        "collection_name": st.just("fuzz"),
        "filters": st.dictionaries(st.sampled_from(["family", "tool"]), st.text(max_size=5), max_size=2),
        "stream": st.booleans(),
        "inference_model": st.sampled_from(["gpt-4o", "meta-llama/Llama-3.1-8B-Instruct"]),
    },
)
bodies = plausible | bodies


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=bodies)
def test_random_bodies_never_yield_5xx(body: Any) -> None:
    if not SIM.engine.stores.get("vector_stores"):
        knowledge(SIM, "fuzz")
    response = SIM.handle(
        ApiRequest(
            "POST", "/rag/api/prompt", headers={"content-type": "application/json"}, body=json.dumps(body).encode()
        )
    )
    event(f"status {response.status}")
    if response.status == 200:
        check_rag(json.loads(response.body))
        return
    assert 400 <= response.status < 500, response.body
    check_error(response.body)


def test_docs_examples_run() -> None:
    root = Path(__file__).resolve().parents[2]
    blocks = re.findall(r"```python\n(.*?)```", (root / "docs/rag.md").read_text(), re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, "docs/rag.md", "exec"), {})
