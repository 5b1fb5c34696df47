"""``POST /v1/embeddings`` through the real openai SDK (httpx and httpx2, sync and async)."""

from __future__ import annotations

import base64
import json
import math
import struct
from typing import Any

import openai
import pytest
import tiktoken

from pytest_fakeai import FakeAI
from pytest_fakeai.api.types import ApiRequest
from pytest_fakeai.engine.embedding import cosine
from tests._support.drive import Driver
from tests._support.spec import check_embedding, check_error

CL100K = tiktoken.get_encoding("cl100k_base")
NIM = {"input_type": "query"}


def _post(sim: FakeAI, body: Any) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return sim.handle(ApiRequest("POST", "/v1/embeddings", headers={"content-type": "application/json"}, body=raw))


@pytest.mark.parametrize(
    ("model", "dims", "extra"),
    [
        ("text-embedding-3-small", 1536, None),
        ("text-embedding-3-large", 3072, None),
        ("text-embedding-ada-002", 1536, None),
        ("nvidia/nv-embedqa-e5-v5", 1024, NIM),
        ("nvidia/llama-3.2-nv-embedqa-1b-v2", 2048, NIM),
    ],
)
def test_each_model_has_its_dimensions(api: Driver, sim: FakeAI, model: str, dims: int, extra: Any) -> None:
    r = api("embeddings.create", model=model, input="The harbor in Lisbon.", extra_body=extra)
    check_embedding(sim.calls.last.response.json)
    assert r.object == "list" and r.model == model
    assert len(r.data) == 1 and r.data[0].index == 0 and r.data[0].object == "embedding"
    assert len(r.data[0].embedding) == dims
    assert math.hypot(*r.data[0].embedding) == pytest.approx(1.0, abs=1e-5)
    assert r.usage.prompt_tokens == r.usage.total_tokens == len(CL100K.encode("The harbor in Lisbon."))


def test_sdk_default_is_base64_little_endian_float32_and_matches_float(api: Driver, sim: FakeAI) -> None:
    r = api("embeddings.create", model="text-embedding-3-small", input="same text")
    sent = sim.calls.last.request.json
    assert sent["encoding_format"] == "base64"  # what the SDK asks for by default
    wire = sim.calls.last.response.json["data"][0]["embedding"]
    assert isinstance(wire, str)
    assert list(struct.unpack("<1536f", base64.b64decode(wire))) == r.data[0].embedding
    f = api("embeddings.create", model="text-embedding-3-small", input="same text", encoding_format="float")
    check_embedding(sim.calls.last.response.json)
    assert isinstance(sim.calls.last.response.json["data"][0]["embedding"], list)
    assert f.data[0].embedding == r.data[0].embedding  # both are the same float32 values


def test_dimensions_truncates_and_renormalises(api: Driver, sim: FakeAI) -> None:
    full = api("embeddings.create", model="text-embedding-3-large", input="matryoshka", encoding_format="float")
    cut = api("embeddings.create", model="text-embedding-3-large", input="matryoshka", dimensions=256)
    check_embedding(sim.calls.last.response.json)
    v = cut.data[0].embedding
    assert len(v) == 256
    assert math.hypot(*v) == pytest.approx(1.0, abs=1e-5)
    head = full.data[0].embedding[:256]
    scale = math.hypot(*head)
    assert v == pytest.approx([x / scale for x in head], abs=1e-6)


def test_batch_of_strings_and_token_arrays(api: Driver, sim: FakeAI) -> None:
    texts = ["first text", "second, longer text about ships", "third"]
    r = api("embeddings.create", model="text-embedding-3-small", input=texts)
    check_embedding(sim.calls.last.response.json)
    assert [d.index for d in r.data] == [0, 1, 2]
    assert r.usage.prompt_tokens == sum(len(CL100K.encode(t)) for t in texts)
    tokens = [CL100K.encode(t) for t in texts]
    t = api("embeddings.create", model="text-embedding-3-small", input=tokens)
    assert t.usage.prompt_tokens == sum(len(x) for x in tokens)
    assert [d.embedding for d in t.data] == [d.embedding for d in r.data]  # tokens embed as the text they spell
    one = api("embeddings.create", model="text-embedding-3-small", input=tokens[1])
    assert len(one.data) == 1 and one.data[0].embedding == r.data[1].embedding


def test_retrieval_ranks_the_relevant_document_first(api: Driver) -> None:
    docs = [
        "Our office is closed on public holidays and weekends.",
        "To reset your password, open Settings and choose Reset password.",
        "Shipping usually takes three to five business days.",
        "You can pay with a credit card or a bank transfer.",
    ]
    d = api("embeddings.create", model="text-embedding-3-small", input=docs)
    q = api("embeddings.create", model="text-embedding-3-small", input="how can I reset my password?")
    sims = [cosine(q.data[0].embedding, item.embedding) for item in d.data]
    assert max(range(len(docs)), key=sims.__getitem__) == 1


def test_same_request_same_bytes_whatever_the_seed() -> None:
    body = {"model": "text-embedding-3-small", "input": ["alpha", "beta"], "encoding_format": "float"}
    a = _post(FakeAI(seed=1), body)
    b = _post(FakeAI(seed=2), body)
    again = FakeAI(seed=1)
    assert a.body == b.body == _post(again, body).body == _post(again, body).body


def test_nim_truncate_and_input_type() -> None:
    sim = FakeAI()
    long = "word " * 600  # 601 tokens, more than nv-embedqa-e5-v5's 512
    model = "nvidia/nv-embedqa-e5-v5"
    r = _post(sim, {"model": model, "input": long, "input_type": "passage", "truncate": "END"})
    assert r.status == 200
    check_embedding(r.json)
    assert r.json["usage"]["prompt_tokens"] == 512
    start = _post(sim, {"model": model, "input": long, "input_type": "passage", "truncate": "START"})
    assert start.status == 200 and start.json["usage"]["prompt_tokens"] == 512
    too_long = _post(sim, {"model": model, "input": long, "input_type": "passage"})
    assert too_long.status == 400 and too_long.json["error"]["code"] == "context_length_exceeded"
    assert "truncate" in too_long.json["error"]["message"]
    missing = _post(sim, {"model": model, "input": "x"})
    assert missing.status == 400
    assert missing.json["error"]["message"] == "'input_type' parameter is required for asymmetric models"
    # a query and a passage of the same text embed alike (the simulator ignores input_type for the vector)
    q = _post(sim, {"model": model, "input": "x", "input_type": "query"}).json["data"][0]["embedding"]
    p = _post(sim, {"model": model, "input": "x", "input_type": "passage"}).json["data"][0]["embedding"]
    assert q == p


def test_nim_model_with_dimensions() -> None:
    sim = FakeAI()
    body = {"model": "nvidia/llama-3.2-nv-embedqa-1b-v2", "input": "x", "input_type": "query", "dimensions": 384}
    r = _post(sim, body)
    assert r.status == 200 and len(r.json["data"][0]["embedding"]) == 384


TOO_MANY = ["x"] * 2049
DROP = object()
# (description, body, status, code, param, message fragment)
CASES: list[tuple[str, Any, int, str | None, str | None, str]] = [
    ("missing input", {"model": "text-embedding-3-small"}, 400, "missing_required_parameter", "input", "'input'"),
    ("missing model", {"model": DROP, "input": "x"}, 400, "missing_required_parameter", "model", "'model'"),
    ("empty string", {"input": ""}, 400, None, "input", "'$.input' is invalid"),
    ("empty list", {"input": []}, 400, None, "input", "'$.input' is invalid"),
    ("empty string in list", {"input": ["a", ""]}, 400, None, "input", "'$.input' is invalid"),
    ("empty token array in list", {"input": [[1, 2], []]}, 400, None, "input", "'$.input' is invalid"),
    ("null input", {"input": None}, 400, None, "input", "'$.input' is invalid"),
    ("number input", {"input": 5}, 400, None, "input", "'$.input' is invalid"),
    ("mixed list", {"input": ["a", 1]}, 400, None, "input", "'$.input' is invalid"),
    ("bool tokens", {"input": [True, False]}, 400, None, "input", "'$.input' is invalid"),
    ("too many inputs", {"input": TOO_MANY}, 400, "array_above_max_length", "input", "maximum length 2048"),
    (
        "input too long",
        {"input": "word " * 9000},
        400,
        "context_length_exceeded",
        "input",
        "maximum context length is 8191 tokens, however you requested 9001 tokens",
    ),
    ("token out of range", {"input": [10**9]}, 400, "invalid_value", "input", "not a token"),
    ("negative token", {"input": [[-1]]}, 400, "invalid_value", "input", "not a token"),
    (
        "bad encoding_format",
        {"input": "x", "encoding_format": "int8"},
        400,
        "invalid_value",
        "encoding_format",
        "Supported values are: 'float' and 'base64'",
    ),
    ("dimensions zero", {"input": "x", "dimensions": 0}, 400, "integer_below_min_value", "dimensions", ">= 1"),
    ("dimensions too big", {"input": "x", "dimensions": 1537}, 400, "integer_above_max_value", "dimensions", "1536"),
    ("dimensions a string", {"input": "x", "dimensions": "8"}, 400, "invalid_type", "dimensions", "an integer"),
    (
        "dimensions on ada",
        {"model": "text-embedding-ada-002", "input": "x", "dimensions": 8},
        400,
        None,
        "dimensions",
        "This model does not support specifying dimensions.",
    ),
    ("unknown parameter", {"input": "x", "temperature": 1}, 400, "unknown_parameter", "temperature", "temperature"),
    ("NIM parameter on OpenAI", {"input": "x", "input_type": "query"}, 400, "unknown_parameter", "input_type", ""),
    ("chat model", {"model": "gpt-4o", "input": "x"}, 400, "invalid_value", "model", "not an embedding model"),
    ("not JSON", b"{nope", 400, None, None, "We could not parse the JSON body"),
    ("JSON array", b"[1]", 400, None, None, "expected a JSON object"),
]


@pytest.mark.parametrize(("name", "body", "status", "code", "param", "fragment"), CASES, ids=[c[0] for c in CASES])
def test_bad_request_gets_openai_error(
    name: str, body: Any, status: int, code: str | None, param: str | None, fragment: str
) -> None:
    sim = FakeAI()
    if isinstance(body, dict):
        body = {k: v for k, v in {"model": "text-embedding-3-small", **body}.items() if v is not DROP}
    response = _post(sim, body)
    assert response.status == status, response.body
    check_error(response.body)
    error = response.json["error"]
    assert (error["type"], error["code"], error["param"]) == ("invalid_request_error", code, param)
    assert fragment in error["message"]


def test_too_many_tokens_in_one_request() -> None:
    sim = FakeAI()
    chunk = "word " * 8000  # 8001 tokens each
    response = _post(sim, {"model": "text-embedding-3-small", "input": [chunk] * 38})
    assert response.status == 400
    assert response.json["error"]["code"] == "max_tokens_per_request"
    assert response.json["error"]["message"] == "Requested 304038 tokens, max 300000 tokens per request"


def test_unknown_model_is_404_when_strict() -> None:
    response = _post(FakeAI(strict_models=True), {"model": "text-embedding-4", "input": "x"})
    assert response.status == 404 and response.json["error"]["code"] == "model_not_found"


def test_sdk_raises_bad_request(api: Driver) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        api("embeddings.create", model="text-embedding-ada-002", input="x", dimensions=8)
    assert info.value.param == "dimensions"
    check_error(info.value.response.json())


def test_scripted_error_on_embeddings(api: Driver, sim: FakeAI) -> None:
    sim.on(endpoint="/v1/embeddings", contains="boom").reply(error=(400, "scripted refusal"))
    with pytest.raises(openai.BadRequestError, match="scripted refusal"):
        api("embeddings.create", model="text-embedding-3-small", input=["fine", "this goes boom"])
    assert api("embeddings.create", model="text-embedding-3-small", input="fine").data
    sim.assert_all_used()
