"""Vector stores through the real openai SDK: stores, files, batches, parsing, chunking and search."""

from __future__ import annotations

import asyncio
import functools
import io
import json
import re
import zipfile
import zlib
from pathlib import Path
from typing import Any

import openai
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from pytest_fakeai import FakeAI
from pytest_fakeai.api.types import ApiRequest, ApiResponse
from pytest_fakeai.engine.embedding import Embedder
from pytest_fakeai.engine.vector_stores import (
    EMBEDDING_BASELINE,
    EMBEDDING_DIMS,
    EMBEDDING_MODEL,
    Chunking,
    Comparison,
    Compound,
    IndexTiming,
    chunk_tokens,
    extract_text,
    matches,
    vector_stores,
)
from tests._support.drive import AVAILABLE_STACKS, Driver, needs_sdk
from tests._support.spec import _OLD_SDK as OLD_SDK
from tests._support.spec import (
    check_error,
    check_vector_store,
    check_vector_store_deleted,
    check_vector_store_file,
    check_vector_store_file_batch,
    check_vector_store_file_content,
    check_vector_store_file_deleted,
    check_vector_store_file_list,
    check_vector_store_list,
    check_vector_store_search,
)

VS_ID = re.compile(r"^vs_[0-9a-f]{32}$")
BATCH_ID = re.compile(r"^vsfb_[0-9a-f]{32}$")

#: A small knowledge base: each question below shares words with exactly one document.
DOCS = {
    "returns.md": (
        "# Returns and refunds\n\n"
        "You can return any item within 30 days of delivery for a full refund. Items must be unused and "
        "in their original packaging. Refunds are issued to the original payment method within five "
        "business days after we receive the return.\n"
    ),
    "shipping.md": (
        "# Shipping\n\n"
        "Orders ship within two business days. Standard shipping takes five to seven days; express "
        "shipping takes one or two days and costs 15 dollars. We ship to the United States and Canada.\n"
    ),
    "warranty.txt": (
        "All electronics come with a one-year limited warranty covering manufacturing defects. "
        "The warranty does not cover accidental damage, water damage or normal wear and tear. "
        "To make a warranty claim, email support with your order number and a photo of the defect."
    ),
    "handbook.txt": (
        "Employee handbook. Employees may work remotely up to three days per week with their manager's "
        "approval. Core hours are 10:00 to 15:00 in the employee's time zone. Vacation requests go "
        "through the HR portal at least two weeks in advance."
    ),
    "config.json": json.dumps(
        {"service": "billing", "database": {"host": "db.internal", "port": 5432}, "retries": 3, "timeout_s": 30}
    ),
    "backoff.py": (
        "def exponential_backoff(attempt: int, base: float = 0.5) -> float:\n"
        '    """Seconds to wait before retry number ``attempt``: doubles each time, capped at a minute."""\n'
        "    return min(60.0, base * 2**attempt)\n"
    ),
}
QUESTIONS = {
    "How many days do I have to return an item for a refund?": "returns.md",
    "How long does express shipping take and what does it cost?": "shipping.md",
    "Does the warranty cover water damage?": "warranty.txt",
    "Can employees work remotely?": "handbook.txt",
    "Which port does the billing database use?": "config.json",
    "How is the exponential backoff for a retry computed?": "backoff.py",
}


# -- helpers ----------------------------------------------------------------------------------------------
def upload(api: Driver, name: str, data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return str(api("files.create", file=(name, raw), purpose="assistants").id)


def knowledge_base(api: Driver, **kwargs: Any) -> tuple[str, dict[str, str]]:
    """A vector store holding :data:`DOCS`; returns its id and {filename: file id}."""
    ids = {name: upload(api, name, text) for name, text in DOCS.items()}
    store = api("vector_stores.create", name="kb", file_ids=list(ids.values()), **kwargs)
    check_vector_store(api.sim.calls.last.response.json)
    return store.id, ids


def every(api: Driver, method: str, /, **kwargs: Any) -> list[Any]:
    """Every item the SDK's auto-pagination yields, sync or async."""
    target: Any = api.client
    for part in method.split("."):
        target = getattr(target, part)
    if api.mode == "sync":
        return list(target(**kwargs))

    async def run() -> list[Any]:
        return [item async for item in target(**kwargs)]

    return asyncio.run(run())


def search(api: Driver, store_id: str, query: Any, **kwargs: Any) -> list[Any]:
    results = every(api, "vector_stores.search", vector_store_id=store_id, query=query, **kwargs)
    check_vector_store_search(api.sim.calls.last.response.json)
    return results


def expect_error(api: Driver, exc: type[openai.APIStatusError], method: str, /, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(exc):
        api(method, **kwargs)
    body: dict[str, Any] = api.sim.calls.last.response.json
    check_error(body)
    return dict(body["error"])


def post(sim: FakeAI, path: str, body: Any, method: str = "POST", query: str = "") -> ApiResponse:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return sim.handle(ApiRequest(method, path, query=query, headers={"content-type": "application/json"}, body=raw))


def error_of(response: ApiResponse) -> dict[str, Any]:
    check_error(response.body)
    return dict(json.loads(response.body)["error"])


# -- stores -----------------------------------------------------------------------------------------------
def test_create_retrieve_modify_delete(api: Driver, sim: FakeAI) -> None:
    ids = [upload(api, name, DOCS[name]) for name in ("returns.md", "shipping.md")]
    created = api(
        "vector_stores.create",
        name="support",
        file_ids=ids,
        metadata={"team": "support"},
        expires_after={"anchor": "last_active_at", "days": 7},
    )
    check_vector_store(sim.calls.last.response.json)
    assert VS_ID.match(created.id)
    assert (created.object, created.name, created.metadata) == ("vector_store", "support", {"team": "support"})
    # the create call answers while the files are still being processed, as OpenAI does
    assert created.status == "in_progress"
    assert (created.file_counts.in_progress, created.file_counts.total, created.usage_bytes) == (2, 2, 0)
    assert created.expires_at == created.last_active_at + 7 * 86400

    got = api("vector_stores.retrieve", vector_store_id=created.id)
    check_vector_store(sim.calls.last.response.json)
    assert got.status == "completed"
    assert (got.file_counts.completed, got.file_counts.in_progress, got.file_counts.total) == (2, 0, 2)
    text_bytes = sum(len(DOCS[n].encode()) for n in ("returns.md", "shipping.md"))
    assert got.usage_bytes == text_bytes

    changed = api(
        "vector_stores.update", vector_store_id=created.id, name="help desk", metadata={"v": "2"}, expires_after=None
    )
    check_vector_store(sim.calls.last.response.json)
    assert (changed.name, changed.metadata, changed.expires_at, changed.expires_after) == (
        "help desk",
        {"v": "2"},
        None,
        None,
    )

    gone = api("vector_stores.delete", vector_store_id=created.id)
    check_vector_store_deleted(sim.calls.last.response.json)
    assert (gone.id, gone.deleted, gone.object) == (created.id, True, "vector_store.deleted")
    error = expect_error(api, openai.NotFoundError, "vector_stores.retrieve", vector_store_id=created.id)
    assert error["message"] == f"No vector store found with id '{created.id}'."


def test_empty_store_is_completed_at_once(api: Driver, sim: FakeAI) -> None:
    store = api("vector_stores.create")
    check_vector_store(sim.calls.last.response.json)
    assert (store.status, store.name, store.file_counts.total, store.expires_at) == ("completed", "", 0, None)


def test_list_pages_with_after_and_before(api: Driver, sim: FakeAI) -> None:
    made = [api("vector_stores.create", name=f"s{i}").id for i in range(5)]
    api("vector_stores.list", limit=2)
    check_vector_store_list(sim.calls.last.response.json)
    body = sim.calls.last.response.json
    assert [s["id"] for s in body["data"]] == made[::-1][:2]
    assert body["has_more"] is True
    assert [s.id for s in every(api, "vector_stores.list", limit=2)] == made[::-1]  # the SDK pages through all
    assert [s.id for s in every(api, "vector_stores.list", limit=2, order="asc")] == made
    api("vector_stores.list", limit=2, before=made[1], order="asc")
    check_vector_store_list(sim.calls.last.response.json)
    assert [s["id"] for s in sim.calls.last.response.json["data"]] == [made[0]]
    api("vector_stores.delete", vector_store_id=made[2])  # a cursor stays valid after a delete
    api("vector_stores.list", after=made[2], order="asc")
    assert [s["id"] for s in sim.calls.last.response.json["data"]] == made[3:]


def test_list_errors(api: Driver) -> None:
    error = expect_error(api, openai.BadRequestError, "vector_stores.list", limit=101)
    assert (error["param"], error["code"]) == ("limit", "integer_above_max_value")
    error = expect_error(api, openai.BadRequestError, "vector_stores.list", order="sideways")
    assert error["param"] == "order"
    error = expect_error(api, openai.BadRequestError, "vector_stores.list", after="vs_nope")
    assert error["param"] == "after"


def test_expiry_follows_last_activity(sim: FakeAI) -> None:
    client = sim.client()
    store = client.vector_stores.create(name="short", expires_after={"anchor": "last_active_at", "days": 1})
    sim.clock.advance(12 * 3600)
    client.vector_stores.search(store.id, query="anything")  # searching keeps it alive
    assert client.vector_stores.retrieve(store.id).status == "completed"
    sim.clock.advance(23 * 3600)
    assert client.vector_stores.retrieve(store.id).status == "completed"
    sim.clock.advance(2 * 3600)
    expired = client.vector_stores.retrieve(store.id)
    check_vector_store(sim.calls.last.response.json)
    assert expired.status == "expired"
    with pytest.raises(openai.BadRequestError, match="expired"):
        client.vector_stores.search(store.id, query="anything")


# -- files ------------------------------------------------------------------------------------------------
def test_attach_list_retrieve_update_detach(api: Driver, sim: FakeAI) -> None:
    store = api("vector_stores.create", name="kb")
    file_id = upload(api, "warranty.txt", DOCS["warranty.txt"])
    attached = api(
        "vector_stores.files.create",
        vector_store_id=store.id,
        file_id=file_id,
        attributes={"category": "policy", "year": 2024, "public": True},
        chunking_strategy={"type": "static", "static": {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 20}},
    )
    check_vector_store_file(sim.calls.last.response.json)
    assert (attached.id, attached.vector_store_id, attached.status) == (file_id, store.id, "in_progress")
    assert sim.calls.last.response.json["attributes"] == {"category": "policy", "year": 2024, "public": True}
    assert attached.chunking_strategy is not None
    assert attached.chunking_strategy.static.max_chunk_size_tokens == 100

    got = api("vector_stores.files.retrieve", vector_store_id=store.id, file_id=file_id)
    check_vector_store_file(sim.calls.last.response.json)
    assert (got.status, got.last_error, got.usage_bytes) == ("completed", None, len(DOCS["warranty.txt"].encode()))

    listed = every(api, "vector_stores.files.list", vector_store_id=store.id)
    check_vector_store_file_list(sim.calls.last.response.json)
    assert [f.id for f in listed] == [file_id]
    assert every(api, "vector_stores.files.list", vector_store_id=store.id, filter="failed") == []

    updated = api("vector_stores.files.update", vector_store_id=store.id, file_id=file_id, attributes={"v": 2})
    check_vector_store_file(sim.calls.last.response.json)
    assert updated.attributes == {"v": 2}

    gone = api("vector_stores.files.delete", vector_store_id=store.id, file_id=file_id)
    check_vector_store_file_deleted(sim.calls.last.response.json)
    assert (gone.id, gone.deleted, gone.object) == (file_id, True, "vector_store.file.deleted")
    error = expect_error(
        api, openai.NotFoundError, "vector_stores.files.retrieve", vector_store_id=store.id, file_id=file_id
    )
    assert error["message"] == f"No file found with id '{file_id}' in vector store '{store.id}'."
    assert api("files.retrieve", file_id=file_id).id == file_id  # detaching keeps the file itself


def test_upload_and_poll(api: Driver, sim: FakeAI) -> None:
    store = api("vector_stores.create", name="kb")
    done = api(
        "vector_stores.files.upload_and_poll",
        vector_store_id=store.id,
        file=("returns.md", DOCS["returns.md"].encode()),
    )
    assert done.status == "completed"
    check_vector_store_file(sim.calls.last.response.json)


def test_file_content_is_the_parsed_chunks(api: Driver, sim: FakeAI) -> None:
    store = api("vector_stores.create", name="kb")
    long_text = " ".join(f"Sentence number {i} of the long manual." for i in range(200))
    file_id = upload(api, "manual.txt", long_text)
    api(
        "vector_stores.files.create",
        vector_store_id=store.id,
        file_id=file_id,
        chunking_strategy={"type": "static", "static": {"max_chunk_size_tokens": 200, "chunk_overlap_tokens": 50}},
    )
    chunks = every(api, "vector_stores.files.content", vector_store_id=store.id, file_id=file_id)
    check_vector_store_file_content(sim.calls.last.response.json)
    assert len(chunks) > 5
    assert all(c.type == "text" for c in chunks)
    assert chunks[0].text.startswith("Sentence number 0 of")
    assert long_text.endswith(chunks[-1].text)
    # windows overlap: the end of one chunk is the start of the next
    assert chunks[0].text[-40:] in chunks[1].text


def test_unknown_file_is_404(api: Driver) -> None:
    store = api("vector_stores.create", name="kb")
    error = expect_error(
        api, openai.NotFoundError, "vector_stores.files.create", vector_store_id=store.id, file_id="file-nope"
    )
    assert (error["message"], error["param"]) == ("No such File object: file-nope", "file_id")
    error = expect_error(api, openai.NotFoundError, "vector_stores.create", file_ids=["file-nope"])
    assert error["param"] == "file_ids[0]"
    error = expect_error(
        api, openai.NotFoundError, "vector_stores.files.create", vector_store_id="vs_nope", file_id="f"
    )
    assert error["message"] == "No vector store found with id 'vs_nope'."


def test_binary_file_fails_as_unsupported(api: Driver, sim: FakeAI) -> None:
    store = api("vector_stores.create", name="kb")
    file_id = upload(api, "photo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe\x00")
    api("vector_stores.files.create", vector_store_id=store.id, file_id=file_id)
    failed = api("vector_stores.files.retrieve", vector_store_id=store.id, file_id=file_id)
    check_vector_store_file(sim.calls.last.response.json)
    assert failed.status == "failed"
    assert failed.last_error is not None
    assert failed.last_error.code == "unsupported_file"
    assert "photo.png" in failed.last_error.message
    counts = api("vector_stores.retrieve", vector_store_id=store.id).file_counts
    assert (counts.failed, counts.completed, counts.total) == (1, 0, 1)
    assert [f.id for f in every(api, "vector_stores.files.list", vector_store_id=store.id, filter="failed")] == [
        file_id
    ]


# -- batches ----------------------------------------------------------------------------------------------
def test_file_batch_create_and_poll(api: Driver, sim: FakeAI) -> None:
    store = api("vector_stores.create", name="kb")
    ids = [upload(api, name, DOCS[name]) for name in ("returns.md", "shipping.md", "handbook.txt")]
    batch = api("vector_stores.file_batches.create", vector_store_id=store.id, file_ids=ids, attributes={"src": "wiki"})
    check_vector_store_file_batch(sim.calls.last.response.json)
    assert BATCH_ID.match(batch.id)
    assert (batch.status, batch.file_counts.in_progress, batch.vector_store_id) == ("in_progress", 3, store.id)
    done = api("vector_stores.file_batches.poll", batch_id=batch.id, vector_store_id=store.id)
    check_vector_store_file_batch(sim.calls.last.response.json)
    assert (done.status, done.file_counts.completed) == ("completed", 3)
    files = every(api, "vector_stores.file_batches.list_files", vector_store_id=store.id, batch_id=batch.id)
    check_vector_store_file_list(sim.calls.last.response.json)
    assert sorted(f.id for f in files) == sorted(ids)
    assert all(f.attributes == {"src": "wiki"} for f in files)


@needs_sdk((2, 0), "file batches of per-file settings (files=...)")
def test_file_batch_with_per_file_settings(api: Driver, sim: FakeAI) -> None:
    store = api("vector_stores.create", name="kb")
    a, b = upload(api, "a.txt", "alpha document"), upload(api, "b.txt", "beta document")
    api(
        "vector_stores.file_batches.create_and_poll",
        vector_store_id=store.id,
        files=[
            {"file_id": a, "attributes": {"n": 1}},
            {
                "file_id": b,
                "chunking_strategy": {
                    "type": "static",
                    "static": {"max_chunk_size_tokens": 300, "chunk_overlap_tokens": 0},
                },
            },
        ],
        attributes={"n": 0},
    )
    got = {f.id: f for f in every(api, "vector_stores.files.list", vector_store_id=store.id)}
    assert got[a].attributes == {"n": 1}
    assert got[b].attributes == {"n": 0}
    assert got[b].chunking_strategy is not None
    assert got[b].chunking_strategy.static.max_chunk_size_tokens == 300


def test_cancel_a_batch_in_progress(sim: FakeAI) -> None:
    vector_stores(sim.engine).timing = IndexTiming(per_file=30.0)
    client = sim.client()
    store = client.vector_stores.create(name="slow")
    ids = [client.files.create(file=(f"{i}.txt", b"some text"), purpose="assistants").id for i in range(3)]
    batch = client.vector_stores.file_batches.create(vector_store_id=store.id, file_ids=ids)
    sim.clock.advance(10)
    assert client.vector_stores.file_batches.retrieve(batch.id, vector_store_id=store.id).status == "in_progress"
    cancelled = client.vector_stores.file_batches.cancel(batch.id, vector_store_id=store.id)
    check_vector_store_file_batch(sim.calls.last.response.json)
    assert (cancelled.status, cancelled.file_counts.cancelled) == ("cancelled", 3)
    sim.clock.advance(60)
    assert client.vector_stores.retrieve(store.id).file_counts.cancelled == 3
    with pytest.raises(openai.BadRequestError, match="cancelled"):
        client.vector_stores.file_batches.cancel(batch.id, vector_store_id=store.id)


def test_processing_takes_the_configured_simulated_time(sim: FakeAI) -> None:
    vector_stores(sim.engine).timing = IndexTiming(per_file=2.0, per_mb=1.0)
    client = sim.client()
    file_id = client.files.create(file=("a.txt", b"a" * (1024 * 1024)), purpose="assistants").id
    store = client.vector_stores.create(file_ids=[file_id])
    sim.clock.advance(2.5)
    assert client.vector_stores.retrieve(store.id).status == "in_progress"
    assert client.vector_stores.search(store.id, query="a").data == []  # not searchable yet
    sim.clock.advance(1.0)
    assert client.vector_stores.retrieve(store.id).status == "completed"


@needs_sdk((2, 0), "file batches of per-file settings (files=...)")
def test_batch_errors(api: Driver) -> None:
    store = api("vector_stores.create", name="kb")
    error = expect_error(api, openai.BadRequestError, "vector_stores.file_batches.create", vector_store_id=store.id)
    assert error["code"] == "missing_required_parameter"
    error = expect_error(
        api, openai.NotFoundError, "vector_stores.file_batches.retrieve", vector_store_id=store.id, batch_id="vsfb_x"
    )
    assert "vsfb_x" in error["message"]
    error = expect_error(
        api, openai.NotFoundError, "vector_stores.file_batches.create", vector_store_id=store.id, file_ids=["file-x"]
    )
    assert error["param"] == "file_ids[0]"


# -- search -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("question", "expected"), list(QUESTIONS.items()))
def test_the_document_sharing_words_with_the_question_ranks_first(
    sim: FakeAI, question: str, expected: str, stack: str
) -> None:
    api = Driver(sim, stack, "sync")
    store_id, _ = knowledge_base(api)
    results = search(api, store_id, question)
    assert results[0].filename == expected
    assert results[0].score > 2 * results[1].score
    assert all(0.0 <= r.score <= 1.0 for r in results)


def test_search_results_through_the_sdk(api: Driver, sim: FakeAI) -> None:
    store_id, ids = knowledge_base(api)
    results = search(api, store_id, "Does the warranty cover water damage?", max_num_results=3)
    assert len(results) == 3
    top = results[0]
    assert (top.file_id, top.filename) == (ids["warranty.txt"], "warranty.txt")
    assert top.content[0].type == "text"
    assert "water damage" in top.content[0].text
    assert sim.calls.last.response.json["search_query"] == ["Does the warranty cover water damage?"]


def test_query_list_and_rewrite(api: Driver, sim: FakeAI) -> None:
    store_id, _ = knowledge_base(api)
    results = search(api, store_id, ["express shipping cost", "remote work policy"], max_num_results=2)
    assert {r.filename for r in results} == {"shipping.md", "handbook.txt"}
    search(api, store_id, "What is the refund policy for returns?", rewrite_query=True)
    assert sim.calls.last.response.json["search_query"] == ["refund policy returns"]


def test_score_threshold_and_ranker(api: Driver, sim: FakeAI) -> None:
    store_id, _ = knowledge_base(api)
    strict = search(api, store_id, "remote work", ranking_options={"score_threshold": 0.3})
    assert [r.filename for r in strict] == ["handbook.txt"]
    raw = search(api, store_id, "remote work", ranking_options={"ranker": "none"})
    assert raw[0].filename == "handbook.txt"
    # ranker "none": the plain cosine of the two texts' text-embedding-3-large vectors
    embedder = Embedder(EMBEDDING_MODEL, EMBEDDING_DIMS, baseline=EMBEDDING_BASELINE)
    cosine = sum(
        a * b for a, b in zip(embedder.embed("remote work"), embedder.embed(DOCS["handbook.txt"]), strict=True)
    )
    assert raw[0].score == pytest.approx(cosine, abs=1e-6)


def test_filters_on_attributes(api: Driver, sim: FakeAI) -> None:
    store = api("vector_stores.create", name="kb")
    for name, attributes in (
        ("returns.md", {"region": "us", "year": 2023, "public": True}),
        ("shipping.md", {"region": "eu", "year": 2024, "public": True}),
        ("warranty.txt", {"region": "us", "year": 2025, "public": False}),
    ):
        file_id = upload(api, name, DOCS[name])
        api("vector_stores.files.create", vector_store_id=store.id, file_id=file_id, attributes=attributes)

    def names(filters: dict[str, Any]) -> set[str]:
        return {r.filename for r in search(api, store.id, "policy", filters=filters)}

    assert names({"type": "eq", "key": "region", "value": "us"}) == {"returns.md", "warranty.txt"}
    assert names({"type": "ne", "key": "region", "value": "us"}) == {"shipping.md"}
    assert names({"type": "gte", "key": "year", "value": 2024}) == {"shipping.md", "warranty.txt"}
    assert names({"type": "lt", "key": "year", "value": 2024}) == {"returns.md"}
    assert names({"type": "eq", "key": "public", "value": False}) == {"warranty.txt"}
    assert names({"type": "in", "key": "region", "value": ["eu", "ca"]}) == {"shipping.md"}
    assert names({"type": "nin", "key": "region", "value": ["eu"]}) == {"returns.md", "warranty.txt"}
    both = {
        "type": "and",
        "filters": [
            {"type": "eq", "key": "region", "value": "us"},
            {
                "type": "or",
                "filters": [{"type": "gt", "key": "year", "value": 2024}, {"type": "eq", "key": "x", "value": 1}],
            },
        ],
    }
    assert names(both) == {"warranty.txt"}
    assert names({"type": "eq", "key": "missing", "value": "us"}) == set()


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({"query": "x", "max_num_results": 0}, "max_num_results", "integer_below_min_value"),
        ({"query": "x", "max_num_results": 51}, "max_num_results", "integer_above_max_value"),
        ({}, "query", "missing_required_parameter"),
        ({"query": ""}, "query", "invalid_value"),
        ({"query": []}, "query", "empty_array"),
        ({"query": "x", "filters": {"type": "eq", "key": "a"}}, "filters.value", "missing_required_parameter"),
        ({"query": "x", "filters": {"type": "like", "key": "a", "value": 1}}, "filters.type", "invalid_value"),
        ({"query": "x", "filters": {"type": "in", "key": "a", "value": 1}}, "filters.value", "invalid_type"),
        ({"query": "x", "filters": {"type": "eq", "key": "a", "value": [1]}}, "filters.value", "invalid_type"),
        ({"query": "x", "filters": {"type": "eq", "key": "a", "value": {"b": 1}}}, "filters.value", "invalid_type"),
        ({"query": "x", "filters": {"type": "and", "filters": [{"type": "eq"}]}}, "filters.filters[0].key", None),
        ({"query": "x", "ranking_options": {"ranker": "best"}}, "ranking_options.ranker", "invalid_value"),
        ({"query": "x", "ranking_options": {"score_threshold": 2}}, "ranking_options.score_threshold", None),
        ({"query": "x", "bogus": 1}, "bogus", "unknown_parameter"),
    ],
)
def test_search_errors(sim: FakeAI, body: dict[str, Any], param: str, code: str | None) -> None:
    store = sim.client().vector_stores.create(name="kb")
    response = post(sim, f"/v1/vector_stores/{store.id}/search", body)
    assert response.status == 400, response.body
    error = error_of(response)
    assert error["param"] == param
    if code is not None:
        assert error["code"] == code


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (
            {
                "chunking_strategy": {
                    "type": "static",
                    "static": {"max_chunk_size_tokens": 99, "chunk_overlap_tokens": 0},
                }
            },
            "chunking_strategy.static.max_chunk_size_tokens",
        ),
        (
            {
                "chunking_strategy": {
                    "type": "static",
                    "static": {"max_chunk_size_tokens": 5000, "chunk_overlap_tokens": 0},
                }
            },
            "chunking_strategy.static.max_chunk_size_tokens",
        ),
        (
            {
                "chunking_strategy": {
                    "type": "static",
                    "static": {"max_chunk_size_tokens": 800, "chunk_overlap_tokens": 401},
                }
            },
            "chunking_strategy.static.chunk_overlap_tokens",
        ),
        (
            {
                "chunking_strategy": {
                    "type": "static",
                    "static": {"max_chunk_size_tokens": 800, "chunk_overlap_tokens": -1},
                }
            },
            "chunking_strategy.static.chunk_overlap_tokens",
        ),
        ({"chunking_strategy": {"type": "static"}}, "chunking_strategy.static"),
        ({"chunking_strategy": {"type": "semantic"}}, "chunking_strategy.type"),
        ({"expires_after": {"anchor": "created_at", "days": 1}}, "expires_after.anchor"),
        ({"expires_after": {"anchor": "last_active_at", "days": 366}}, "expires_after.days"),
        ({"metadata": {str(i): "v" for i in range(17)}}, "metadata"),
        ({"file_ids": "file-1"}, "file_ids"),
        ({"name": 5}, "name"),
    ],
)
def test_create_errors(sim: FakeAI, body: dict[str, Any], param: str) -> None:
    response = post(sim, "/v1/vector_stores", body)
    assert response.status == 400, response.body
    assert error_of(response)["param"] == param


def test_attribute_errors(sim: FakeAI) -> None:
    client = sim.client()
    store = client.vector_stores.create(name="kb")
    file_id = client.files.create(file=("a.txt", b"text"), purpose="assistants").id
    path = f"/v1/vector_stores/{store.id}/files"
    for attributes, param in (
        ({str(i): i for i in range(17)}, "attributes"),
        ({"k" * 65: 1}, "attributes"),
        ({"k": "v" * 513}, "attributes.k"),
        ({"k": [1]}, "attributes.k"),
        ({"k": None}, "attributes.k"),
    ):
        response = post(sim, path, {"file_id": file_id, "attributes": attributes})
        assert response.status == 400, response.body
        assert error_of(response)["param"] == param


def test_same_seed_same_ids_and_scores() -> None:
    def run() -> list[Any]:
        with FakeAI(seed=5) as sim:
            api = Driver(sim, AVAILABLE_STACKS[0], "sync")
            store_id, ids = knowledge_base(api)
            hits = search(api, store_id, "remote work approval")
            return [store_id, ids, [(h.file_id, h.score) for h in hits]]

    assert run() == run()


# -- parsing and chunking (engine) ------------------------------------------------------------------------
def _pdf(*streams: bytes, compress: bool = False) -> bytes:
    parts = [b"%PDF-1.4\n"]
    for n, content in enumerate(streams, start=1):
        data = zlib.compress(content) if compress else content
        head = b"<< /Length %d%s >>" % (len(data), b" /Filter /FlateDecode" if compress else b"")
        parts.append(b"%d 0 obj\n%s\nstream\n%s\nendstream\nendobj\n" % (n, head, data))
    parts.append(b"trailer\n<< >>\n%%EOF\n")
    return b"".join(parts)


PAGE = b"BT /F1 12 Tf 72 712 Td (Quarterly revenue grew \\(a lot\\).) Tj 0 -14 Td [(Costs) -250 ( fell.)] TJ ET"


@pytest.mark.parametrize("compress", [False, True])
def test_pdf_text(compress: bool) -> None:
    assert extract_text("report.pdf", _pdf(PAGE, compress=compress)) == "Quarterly revenue grew (a lot).\nCosts fell."


def test_pdf_without_text_and_garbage_fail() -> None:
    with pytest.raises(ValueError, match="no text"):
        extract_text("scan.pdf", _pdf(b"q 100 0 0 100 0 0 cm /Im1 Do Q"))
    with pytest.raises(ValueError, match="UTF-8"):
        extract_text("blob.bin", bytes(range(128, 256)))
    with pytest.raises(ValueError, match="NUL"):
        extract_text("nul.txt", b"a\x00b")


def test_docx_and_html_text() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "word/document.xml",
            '<w:document><w:body><w:p><w:r><w:t>Hello</w:t></w:r><w:r><w:t xml:space="preserve"> world</w:t></w:r>'
            "</w:p><w:p><w:r><w:t>Second &amp; last</w:t></w:r></w:p></w:body></w:document>",
        )
    assert extract_text("memo.docx", buffer.getvalue()) == "Hello world\nSecond & last"
    page = b"<html><head><style>p{}</style></head><body><p>Caf&eacute; hours</p><script>x()</script></body></html>"
    assert extract_text("page.html", page).split() == ["Café", "hours"]
    assert extract_text("bom.txt", "\ufeffplain".encode()) == "plain"
    assert extract_text("utf16.txt", "wide text".encode("utf-16")) == "wide text"


def test_chunk_windows_follow_the_static_strategy() -> None:
    pieces = [f"t{i} ".encode() for i in range(1000)]
    chunks = chunk_tokens(pieces, Chunking(300, 100))
    assert [n for _, n in chunks] == [300, 300, 300, 300, 200]  # starts every 200 tokens
    assert chunks[1][0].startswith("t200 ")
    assert chunks[-1][0].endswith("t999 ")
    assert chunk_tokens(pieces[:10], Chunking()) == [("".join(p.decode() for p in pieces[:10]), 10)]
    with pytest.raises(ValueError, match="overlapping"):
        Chunking(100, 51)


def test_filter_semantics() -> None:
    attributes = {"n": 3, "s": "b", "flag": True}
    assert matches(Comparison("eq", "n", 3.0), attributes)
    assert not matches(Comparison("eq", "flag", 1), attributes)  # a boolean is not a number
    assert not matches(Comparison("gt", "s", 1), attributes)  # strings and numbers do not order
    assert matches(Comparison("gt", "s", "a"), attributes)
    assert not matches(Comparison("ne", "missing", 1), attributes)  # a missing attribute fails every test
    assert matches(Compound("or", (Comparison("eq", "n", 1), Comparison("lte", "n", 3))), attributes)
    assert not matches(Compound("and", (Comparison("eq", "n", 3), Comparison("eq", "s", "x"))), attributes)


# -- never a 5xx ------------------------------------------------------------------------------------------
SIM = FakeAI(seed=11)  # one simulator for the module: hypothesis runs many examples


@functools.cache
def _fuzz_targets() -> tuple[str, str]:
    client = SIM.client()
    file_id = client.files.create(file=("notes.txt", DOCS["handbook.txt"].encode()), purpose="assistants").id
    store = client.vector_stores.create(name="fuzz", file_ids=[file_id])
    return store.id, file_id


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
comparison = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["eq", "ne", "gt", "gte", "lt", "lte", "in", "nin", "and", "x"]) | json_values,
        "key": st.sampled_from(["year", "region"]) | json_values,
        "value": json_values,
        "filters": st.lists(json_values, max_size=3),
    },
)
filters = st.recursive(
    comparison,
    lambda inner: st.fixed_dictionaries(
        {"type": st.sampled_from(["and", "or"]), "filters": st.lists(inner, max_size=3)}
    ),
    max_leaves=6,
)
chunking = st.fixed_dictionaries(
    {"type": st.sampled_from(["auto", "static", "x"])},
    optional={
        "static": st.fixed_dictionaries(
            {},
            optional={
                "max_chunk_size_tokens": st.integers(0, 5000) | json_values,
                "chunk_overlap_tokens": st.integers(-5, 3000) | json_values,
            },
        )
    },
)
bodies = (
    st.fixed_dictionaries(
        {},
        optional={
            "query": st.text(max_size=30) | st.lists(st.text(max_size=10), max_size=3) | json_values,
            "max_num_results": st.integers(-2, 60) | json_values,
            "filters": filters | json_values,
            "ranking_options": st.fixed_dictionaries(
                {},
                optional={
                    "ranker": st.sampled_from(["auto", "none", "x"]),
                    "score_threshold": st.floats(-1, 2) | json_values,
                },
            ),
            "rewrite_query": json_values,
            "name": json_values,
            "file_ids": st.lists(st.sampled_from(["FILE", "file-x"]) | json_values, max_size=3),
            "file_id": st.sampled_from(["FILE", "file-x"]) | json_values,
            "files": st.lists(
                st.fixed_dictionaries(
                    {"file_id": st.sampled_from(["FILE", "x"])}, optional={"attributes": json_values}
                ),
                max_size=2,
            ),
            "attributes": st.dictionaries(st.text(max_size=70), json_values, max_size=3) | json_values,
            "chunking_strategy": chunking | json_values,
            "metadata": st.dictionaries(st.text(max_size=5), json_values, max_size=3) | json_values,
            "expires_after": st.fixed_dictionaries(
                {"anchor": st.sampled_from(["last_active_at", "x"]), "days": st.integers(-1, 400)}
            )
            | json_values,
        },
    )
    | json_values
)
plausible = st.fixed_dictionaries(
    {"query": st.text(min_size=1, max_size=30) | st.lists(st.text(min_size=1, max_size=10), min_size=1, max_size=3)},
    optional={
        "max_num_results": st.integers(1, 50),
        "filters": filters,
        "rewrite_query": st.booleans(),
        "ranking_options": st.fixed_dictionaries(
            {}, optional={"ranker": st.sampled_from(["auto", "none"]), "score_threshold": st.floats(0, 1)}
        ),
    },
) | st.fixed_dictionaries(
    {"file_id": st.just("FILE")},
    optional={
        "chunking_strategy": chunking,
        "attributes": st.dictionaries(st.text(max_size=5), json_values, max_size=3),
    },
)
bodies = plausible | bodies
ROUTES = [
    ("POST", "/v1/vector_stores"),
    ("POST", "/v1/vector_stores/VS"),
    ("POST", "/v1/vector_stores/VS/search"),
    ("POST", "/v1/vector_stores/VS/files"),
    ("POST", "/v1/vector_stores/VS/files/FILE"),
    ("POST", "/v1/vector_stores/VS/file_batches"),
    ("POST", "/v1/vector_stores/vs_missing/search"),
    ("GET", "/v1/vector_stores"),
    ("GET", "/v1/vector_stores/VS/files"),
    ("GET", "/v1/vector_stores/VS/files/FILE/content"),
]
queries = st.lists(
    st.sampled_from(["limit", "order", "after", "before", "filter"]).flatmap(
        lambda k: st.tuples(st.just(k), st.sampled_from(["1", "0", "101", "asc", "x", "FILE", "VS", "completed", ""]))
    ),
    max_size=3,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=bodies, route=st.sampled_from(ROUTES), query=queries)
def test_random_bodies_never_yield_5xx(body: Any, route: tuple[str, str], query: list[tuple[str, str]]) -> None:
    store_id, file_id = _fuzz_targets()
    method, path = route
    path = path.replace("VS", store_id).replace("FILE", file_id)
    text = json.dumps(body).replace('"FILE"', json.dumps(file_id))
    qs = "&".join(f"{k}={v.replace('FILE', file_id).replace('VS', store_id)}" for k, v in query)
    response = post(SIM, path, text.encode(), method=method, query=qs)
    event(f"{route[1]} {response.status}")
    if response.status == 200:
        json.loads(response.body)
        return
    assert 400 <= response.status < 500, response.body
    check_error(response.body)


# -- the docs' examples run as written --------------------------------------------------------------------
@pytest.mark.parametrize("name", ["docs/vector_stores.md"])
def test_docs_examples_run(name: str) -> None:
    root = Path(__file__).resolve().parents[2]
    blocks = re.findall(r"```python\n(.*?)```", (root / name).read_text(), re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, name, "exec"), {})


# -- the check helpers catch what they should -------------------------------------------------------------
def test_check_helpers_reject_wrong_bodies(sim: FakeAI) -> None:
    api = Driver(sim, AVAILABLE_STACKS[0], "sync")
    store_id, _ = knowledge_base(api)
    api("vector_stores.retrieve", vector_store_id=store_id)
    good = sim.calls.last.response.json
    check_vector_store(good)
    with pytest.raises(AssertionError, match=r"file_counts\.total"):
        check_vector_store({**good, "file_counts": {**good["file_counts"], "total": 99}})
    with pytest.raises(AssertionError, match="status"):
        check_vector_store({**good, "status": "in_progress"})
    if not OLD_SDK:  # openai 1.x's types predate fields the API sends: the checker allows extras there
        with pytest.raises(AssertionError, match="unknown key"):
            check_vector_store({**good, "colour": "blue"})
    search(api, store_id, "remote work")
    page = sim.calls.last.response.json
    with pytest.raises(AssertionError, match="best first"):
        check_vector_store_search({**page, "data": page["data"][::-1]})
    with pytest.raises(AssertionError):
        check_vector_store_search({**page, "data": [{**page["data"][0], "score": 1.5}]})
    api("vector_stores.files.list", vector_store_id=store_id)
    files = sim.calls.last.response.json
    broken = {**files["data"][0], "status": "failed"}
    with pytest.raises(AssertionError, match="last_error"):
        check_vector_store_file(broken)
    with pytest.raises(AssertionError, match="first_id"):
        check_vector_store_file_list({**files, "first_id": "file-x"})
