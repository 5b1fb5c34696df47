"""Property tests in-process: invariants over generated requests, and no bad input ever yields a 5xx."""

from __future__ import annotations

import json
from typing import Any

import tiktoken
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_fakeai import FakeAI
from pytest_fakeai.api.types import ApiRequest
from tests._support.spec import check_chat_chunk, check_chat_completion, check_error

O200K = tiktoken.get_encoding("o200k_base")
SIM = FakeAI(seed=99)  # one simulator for the module: hypothesis runs many examples


def post(body: Any, path: str = "/v1/chat/completions") -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return SIM.handle(ApiRequest("POST", path, headers={"content-type": "application/json"}, body=raw))


texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=80)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    prompt=texts,
    max_tokens=st.none() | st.integers(1, 120),
    n=st.integers(1, 3),
    seed=st.none() | st.integers(-(2**31), 2**31),
    logprobs=st.booleans(),
    stream=st.booleans(),
    model=st.sampled_from(["gpt-4o", "gpt-4", "gpt-4o-mini", "meta-llama/Llama-3.1-8B-Instruct"]),
)
def test_valid_requests_keep_every_invariant(
    prompt: str, max_tokens: int | None, n: int, seed: int | None, logprobs: bool, stream: bool, model: str
) -> None:
    body: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": prompt}], "n": n}
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    if seed is not None:
        body["seed"] = seed
    if logprobs:
        body["logprobs"] = True
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    response = post(body)
    assert response.status == 200, response.body
    if stream:
        events = [json.loads(data[6:]) for _, data in response.stream if data != b"data: [DONE]\n\n"]
        for event in events:
            check_chat_chunk(event)
        usage = events[-1]["usage"]
        texts_by_choice = dict.fromkeys(range(n), "")
        for event in events[:-1]:
            for c in event["choices"]:
                texts_by_choice[c["index"]] += c["delta"].get("content") or ""
        contents = list(texts_by_choice.values())
    else:
        check_chat_completion(response.json)
        usage = response.json["usage"]
        contents = [c["message"]["content"] for c in response.json["choices"]]
    assert len(contents) == n
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    per_choice = [
        len(O200K.encode(c)) if model != "gpt-4" else len(tiktoken.get_encoding("cl100k_base").encode(c))
        for c in contents
    ]
    assert usage["completion_tokens"] == sum(per_choice)
    if max_tokens is not None:
        assert all(k <= max_tokens for k in per_choice)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
keys = st.sampled_from(
    [
        "model",
        "messages",
        "max_tokens",
        "n",
        "stop",
        "temperature",
        "stream",
        "stream_options",
        "tools",
        "tool_choice",
        "logprobs",
        "top_logprobs",
        "response_format",
        "seed",
        "prompt",
        "logit_bias",
        "reasoning_effort",
        "modalities",
        "bogus",
    ]
)
message = st.fixed_dictionaries(
    {"role": st.sampled_from(["user", "system", "assistant", "tool", "x"]), "content": json_values}
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.dictionaries(keys, json_values, max_size=6)
    | st.fixed_dictionaries(
        {"model": st.just("gpt-4o"), "messages": st.lists(message, max_size=3)},
        optional=dict.fromkeys(("n", "stop", "max_tokens", "tools", "stream"), json_values),
    )
    | json_values,
    path=st.sampled_from(["/v1/chat/completions", "/v1/completions"]),
)
def test_bad_input_never_yields_5xx(body: Any, path: str) -> None:
    response = post(body, path)
    if response.status == 200:
        if response.stream is not None:
            list(response.stream)
        return
    assert 400 <= response.status < 500, response.body
    check_error(response.body)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_are_a_json_error(raw: bytes) -> None:
    response = post(raw)
    assert response.status in (200, 400, 404), response.body
    if response.status != 200:
        check_error(response.body)
