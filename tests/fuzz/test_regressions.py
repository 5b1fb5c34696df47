"""What the fuzz campaigns found, one test each, so it stays fixed (docs/fuzzing.md, "Findings")."""

from __future__ import annotations

import json

import pytest

from pytest_fakeai import FakeAI
from pytest_fakeai.api.types import ApiRequest

from .conftest import Answer, check, exchange

JSON = {"content-type": "application/json"}
BAD_JSON = "We could not parse the JSON body of your request."


def send(method: str, path: str, body: bytes = b"", query: str = "", headers: dict[str, str] | None = None) -> Answer:
    answer = exchange(FakeAI(), ApiRequest(method, path, query, headers or JSON, body), campaign="regressions")
    check(answer)
    return answer


def message(answer: Answer) -> str:
    text: str = json.loads(answer.body)["error"]["message"]
    return text


# 1. A lone UTF-16 surrogate in a JSON string ("\ud800" escaped, or its raw UTF-8-style bytes) was
#    accepted by json.loads and echoed into the answer, whose encoding then failed: a 500 on chat
#    completions, vector-store file attributes and more (found by test_json_bodies_with_every_field_mutated
#    and test_huge_strings_arrays_and_unicode). OpenAI's strict parser refuses such a body: now a 400.
#    Fix: api/validation.py load_json.
LONE = [
    ("POST", "/v1/chat/completions", {"model": "gpt-4o", "messages": [{"role": "user", "content": "\ud800"}]}),
    (
        "POST",
        "/v1/chat/completions",
        {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "user": "x\udc80"},
    ),
    ("POST", "/v1/completions", {"model": "gpt-3.5-turbo-instruct", "prompt": "a\udfff"}),
    ("POST", "/v1/responses", {"model": "gpt-4o", "input": "hi", "metadata": {"\ud800": "v"}}),
    ("POST", "/v1/embeddings", {"model": "text-embedding-3-small", "input": ["ok", "\udbff"]}),
    ("POST", "/v1/vector_stores", {"name": "\ud800"}),
]


@pytest.mark.parametrize(("method", "path", "body"), LONE, ids=[f"{m} {p} {i}" for i, (m, p, _) in enumerate(LONE)])
def test_a_lone_surrogate_escaped_in_json_is_a_bad_json_400(method: str, path: str, body: dict[str, object]) -> None:
    answer = send(method, path, json.dumps(body).encode())  # ensure_ascii: "\ud800" as its escape
    assert answer.status == 400
    assert message(answer).startswith(BAD_JSON)


def test_a_lone_surrogate_as_raw_bytes_or_in_utf16_is_a_bad_json_400() -> None:
    chat = {"model": "gpt-4o", "messages": [{"role": "user", "content": "x\ud800y"}]}
    raw = json.dumps(chat, ensure_ascii=False).encode("utf-8", "surrogatepass")  # b"x\xed\xa0\x80y"
    assert send("POST", "/v1/chat/completions", raw).status == 400
    utf16 = json.dumps(chat, ensure_ascii=False).encode("utf-16", "surrogatepass")
    assert send("POST", "/v1/chat/completions", utf16).status == 400


def test_a_surrogate_pair_is_still_text() -> None:
    chat = {"model": "gpt-4o", "messages": [{"role": "user", "content": "😀 and \\ud800 as text"}]}
    assert b"\\ud83d\\ude00" in json.dumps(chat).encode()  # the escaped pair
    assert send("POST", "/v1/chat/completions", json.dumps(chat).encode()).status == 200
    assert send("POST", "/v1/chat/completions", json.dumps(chat, ensure_ascii=False).encode()).status == 200


# 2. A request built in process may carry a lone surrogate in its path, query or headers (no HTTP
#    client can send one): GET /v1/models/\ud800 auto-registered that model and failed to encode the
#    answer (found by test_plausible_and_garbage_ids_in_paths), and a Host header with one broke the
#    image URLs of /v1/images/generations (found while fixing it): both 500s. Now a 400 that says
#    where. Fix: api/router.py.
@pytest.mark.parametrize(
    ("method", "path", "query", "headers", "where"),
    [
        ("GET", "/v1/models/\ud800", "", {}, "URL path"),
        ("DELETE", "/v1/models/gpt-4o\udfff", "", {}, "URL path"),
        ("GET", "/v1/files", "after=\udc00", {}, "query string"),
        ("POST", "/v1/images/generations", "", {**JSON, "host": "x\ud800"}, "'host' header"),
        ("GET", "/v1/models", "", {"x-\ud800": "1"}, "header name"),
    ],
)
def test_a_lone_surrogate_in_the_url_or_a_header_is_a_400_that_says_where(
    method: str, path: str, query: str, headers: dict[str, str], where: str
) -> None:
    body = b'{"model": "dall-e-2", "prompt": "a fox", "size": "256x256"}' if method == "POST" else b""
    answer = send(method, path, body, query, headers)
    assert answer.status == 400
    assert f"the {where} is not valid text" in message(answer)


# 3. POST /v1/completions with a prompt array mixing token ids with strings or token arrays
#    (``[1, [1, 2, 3]]``, ``["a", 1]``) passed validation and then failed in the tokenizer: a 500
#    (found by test_json_bodies_with_every_field_mutated). The spec's prompt is a string or an array
#    of strings, of integers, or of integer arrays: now OpenAI's invalid_type 400. Fix: api/completions.py.
@pytest.mark.parametrize("prompt", [[1, [1, 2, 3]], ["a", 1], [[1], 2], [1, "a", [3]]])
def test_a_prompt_mixing_token_ids_with_other_items_is_a_400(prompt: list[object]) -> None:
    body = {"model": "gpt-3.5-turbo-instruct", "prompt": prompt, "max_tokens": 4}
    answer = send("POST", "/v1/completions", json.dumps(body).encode())
    assert answer.status == 400
    assert json.loads(answer.body)["error"]["param"] == "prompt"
    assert "Invalid type for 'prompt'" in message(answer)


@pytest.mark.parametrize("prompt", ["a", ["a", "b"], [1, 2, 3], [[1, 2], [3]]])
def test_every_prompt_shape_the_spec_allows_is_answered(prompt: object) -> None:
    body = {"model": "gpt-3.5-turbo-instruct", "prompt": prompt, "max_tokens": 4}
    assert send("POST", "/v1/completions", json.dumps(body).encode()).status == 200
