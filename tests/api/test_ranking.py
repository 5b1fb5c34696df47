"""NVIDIA NIM reranking, ``POST /v1/ranking``, through a plain httpx / httpx2 client."""

from __future__ import annotations

import struct
from typing import Any

import pytest
import tiktoken

from pytest_fakeai import FakeAI
from tests._support.spec import check_error

MODEL = "nvidia/llama-3.2-nv-rerankqa-1b-v2"
CL100K = tiktoken.get_encoding("cl100k_base")
QUERY = "What is the GPU memory bandwidth of H100 SXM?"
PASSAGES = [
    "The Hopper GPU is paired with the Grace CPU using NVIDIA's ultra-fast chip-to-chip interconnect.",
    "A100 provides up to 20X higher performance over the prior generation.",
    "Accelerated servers with H100 deliver 3 terabytes per second (TB/s) of memory bandwidth per GPU.",
    "A recipe for apple pie with cinnamon and butter.",
]


def _rank(sim: FakeAI, stack: str, body: dict[str, Any]) -> Any:
    with sim.http_client(stack) as http:
        return http.post("/ranking", json=body)


def _body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": MODEL,
        "query": {"text": QUERY},
        "passages": [{"text": p} for p in PASSAGES],
        "truncate": "END",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def _is_float16(value: float) -> bool:
    return bool(struct.unpack("<e", struct.pack("<e", value))[0] == value)


def test_rankings_sorted_by_logit_relevant_first(sim: FakeAI, stack: str) -> None:
    response = _rank(sim, stack, _body())
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"rankings", "usage"}
    rankings = body["rankings"]
    assert sorted(r["index"] for r in rankings) == list(range(len(PASSAGES)))
    logits = [r["logit"] for r in rankings]
    assert logits == sorted(logits, reverse=True)
    assert all(set(r) == {"index", "logit"} and _is_float16(r["logit"]) for r in rankings)
    assert rankings[0]["index"] == 2 and rankings[0]["logit"] > 0  # shares H100, memory bandwidth, GPU
    assert rankings[-1]["index"] == 3 and rankings[-1]["logit"] < -5  # apple pie
    expected = sum(len(CL100K.encode(QUERY)) + len(CL100K.encode(p)) for p in PASSAGES)
    assert body["usage"] == {"prompt_tokens": expected, "total_tokens": expected}


def test_aliases_and_determinism(stack: str) -> None:
    a = _rank(FakeAI(seed=1), stack, _body())
    b = _rank(FakeAI(seed=2), stack, _body(model="llama-3.2-nv-rerankqa-1b-v2"))
    assert a.json() == b.json()
    assert a.content == _rank(FakeAI(seed=1), stack, _body()).content


def test_truncate_none_rejects_a_passage_that_is_too_long(sim: FakeAI, stack: str) -> None:
    long = "word " * 9000
    response = _rank(sim, stack, _body(passages=[{"text": "short"}, {"text": long}], truncate="NONE"))
    assert response.status_code == 400
    check_error(response.json())
    error = response.json()["error"]
    assert error["param"] == "passages[1].text" and error["code"] == "context_length_exceeded"
    assert "truncate" in error["message"]
    default = _rank(sim, stack, _body(passages=[{"text": long}], truncate=None))  # NIM's default is NONE
    assert default.status_code == 400
    ok = _rank(sim, stack, _body(passages=[{"text": "short"}, {"text": long}], truncate="END"))
    assert ok.status_code == 200
    query_tokens = len(CL100K.encode(QUERY))
    assert ok.json()["usage"]["prompt_tokens"] == 8192 + query_tokens + len(CL100K.encode("short"))


def test_extra_keys_are_tolerated(sim: FakeAI, stack: str) -> None:
    response = _rank(sim, stack, _body(top_n=2, query={"text": QUERY, "extra": 1}))
    assert response.status_code == 200 and len(response.json()["rankings"]) == len(PASSAGES)


CASES: list[tuple[str, dict[str, Any], str | None, str | None, str]] = [
    ("missing query", {"query": None}, "missing_required_parameter", "query", "'query'"),
    ("missing passages", {"passages": None}, "missing_required_parameter", "passages", "'passages'"),
    ("missing model", {"model": None}, "missing_required_parameter", "model", "'model'"),
    ("query without text", {"query": {}}, "missing_required_parameter", "query.text", ""),
    ("query a string", {"query": "hi"}, "invalid_type", "query", "an object"),
    ("empty passages", {"passages": []}, "empty_array", "passages", "empty array"),
    ("passage without text", {"passages": [{"content": "x"}]}, "missing_required_parameter", "passages[0].text", ""),
    ("passage text a number", {"passages": [{"text": 3}]}, "invalid_type", "passages[0].text", "a string"),
    ("bad truncate", {"truncate": "START"}, "invalid_value", "truncate", "'NONE' and 'END'"),
    ("embedding model", {"model": "nvidia/nv-embedqa-e5-v5"}, "invalid_value", "model", "not a reranking model"),
]


@pytest.mark.parametrize(("name", "overrides", "code", "param", "fragment"), CASES, ids=[c[0] for c in CASES])
def test_bad_requests_get_openai_shaped_400s(
    sim: FakeAI, stack: str, name: str, overrides: dict[str, Any], code: str | None, param: str | None, fragment: str
) -> None:
    body = _body(**{k: v for k, v in overrides.items() if v is not None})
    for key in [k for k, v in overrides.items() if v is None]:
        del body[key]
    response = _rank(sim, stack, body)
    assert response.status_code == 400, response.text
    check_error(response.json())
    error = response.json()["error"]
    assert (error["code"], error["param"]) == (code, param)
    assert fragment in error["message"]


def test_unknown_reranker_is_404_when_strict(stack: str) -> None:
    response = _rank(FakeAI(strict_models=True), stack, _body(model="nvidia/no-such-rerank"))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "model_not_found"
