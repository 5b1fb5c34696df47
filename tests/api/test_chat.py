"""Chat completions through the real openai SDK, on both stacks, sync and async."""

from __future__ import annotations

import asyncio
import base64
import json
import math
import struct
import zlib
from typing import Any

import jsonschema
import pytest
import tiktoken

from pytest_fakeai import FakeAI
from tests._support.drive import Driver
from tests._support.spec import check_chat_chunk, check_chat_completion

USER = [{"role": "user", "content": "Tell me about the harbor in Lisbon."}]


def cookbook_tokens(messages: list[dict[str, Any]], model: str) -> int:
    """OpenAI cookbook's num_tokens_from_messages, written independently of the simulator."""
    enc = tiktoken.encoding_for_model(model)
    total = 0
    for message in messages:
        total += 3
        for key, value in message.items():
            total += len(enc.encode(value))
            if key == "name":
                total += 1
    return total + 3


def last_body(sim: FakeAI) -> dict[str, Any]:
    body = sim.calls.last.response.json
    assert isinstance(body, dict)
    return body


def stream_events(sim: FakeAI) -> list[dict[str, Any]]:
    return sim.calls.last.response.events


# -- shape ----------------------------------------------------------------------------------------
def test_basic_completion_matches_spec_and_sdk(api: Driver, sim: FakeAI) -> None:
    r = api.chat()
    body = last_body(sim)
    check_chat_completion(body)
    assert r.object == "chat.completion"
    assert r.id.startswith("chatcmpl-")
    assert r.model == "gpt-4o-2024-08-06"  # the snapshot the alias points to, as the real API answers
    assert r.choices[0].message.role == "assistant"
    assert r.choices[0].message.content and r.choices[0].message.content.endswith(".")
    assert r.choices[0].finish_reason == "stop"
    assert r.system_fingerprint and r.system_fingerprint.startswith("fp_")
    assert r.service_tier == "default"
    assert sim.calls.last.transport == api.stack


@pytest.mark.parametrize("model", ["gpt-4o", "gpt-4"])
def test_prompt_tokens_follow_openai_formula(api: Driver, sim: FakeAI, model: str) -> None:
    messages = [
        {"role": "system", "content": "You are a terse assistant. Answer in one line."},
        {"role": "user", "content": "What is the capital of Portugal?", "name": "alice"},
        {"role": "assistant", "content": "Lisbon."},
        {"role": "user", "content": "And its population? Include the metro area, thanks — 👍"},
    ]
    r = api.chat(model=model, messages=messages)
    assert r.usage.prompt_tokens == cookbook_tokens(messages, model)
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens


def test_completion_tokens_are_exact(api: Driver, sim: FakeAI) -> None:
    r = api.chat()
    enc = tiktoken.get_encoding("o200k_base")
    assert r.usage.completion_tokens == len(enc.encode(r.choices[0].message.content))


@pytest.mark.parametrize("param", ["max_tokens", "max_completion_tokens"])
def test_token_limit_cuts_exactly(api: Driver, param: str) -> None:
    free = api.chat(seed=11)
    natural = free.usage.completion_tokens
    assert natural > 3
    enc = tiktoken.get_encoding("o200k_base")
    for limit in (1, natural // 2, natural - 1):
        r = api.chat(seed=11, **{param: limit})
        content = r.choices[0].message.content
        assert r.choices[0].finish_reason == "length"
        assert r.usage.completion_tokens == limit
        assert len(enc.encode(content)) == limit
        assert free.choices[0].message.content.startswith(content)
    at_limit = api.chat(seed=11, **{param: natural})
    assert at_limit.choices[0].finish_reason == "stop"
    assert at_limit.choices[0].message.content == free.choices[0].message.content


def test_limit_counts_with_cl100k_for_gpt4(api: Driver) -> None:
    r = api.chat(model="gpt-4", max_tokens=9)
    assert len(tiktoken.get_encoding("cl100k_base").encode(r.choices[0].message.content)) == 9


def test_stop_sequence_ends_text_before_it(api: Driver, sim: FakeAI) -> None:
    free = api.chat(seed=5).choices[0].message.content
    words = free.split()
    stop = " " + words[3]
    r = api.chat(seed=5, stop=[stop, "zzzz-never"])
    content = r.choices[0].message.content
    assert r.choices[0].finish_reason == "stop"
    assert content == free[: free.index(stop)]
    assert stop not in content


def test_stop_as_string(api: Driver) -> None:
    free = api.chat(seed=9).choices[0].message.content
    r = api.chat(seed=9, stop=".")
    assert r.choices[0].message.content == free[: free.index(".")]


def test_n_gives_different_choices(api: Driver, sim: FakeAI) -> None:
    r = api.chat(n=3, max_tokens=40)
    texts = [c.message.content for c in r.choices]
    assert [c.index for c in r.choices] == [0, 1, 2]
    assert len(set(texts)) == 3
    enc = tiktoken.get_encoding("o200k_base")
    assert r.usage.completion_tokens == sum(len(enc.encode(t)) for t in texts)
    check_chat_completion(last_body(sim))


def test_logprobs_concatenate_to_content(api: Driver, sim: FakeAI) -> None:
    r = api.chat(logprobs=True, top_logprobs=3, max_tokens=30)
    choice = r.choices[0]
    tokens = choice.logprobs.content
    assert "".join(t.token for t in tokens) == choice.message.content
    assert len(tokens) == r.usage.completion_tokens
    for t in tokens:
        assert t.logprob <= 0
        assert bytes(t.bytes).decode() == t.token
        assert len(t.top_logprobs) == 3
        assert [a.logprob for a in t.top_logprobs if a.token == t.token] == [t.logprob]
        assert sum(math.exp(a.logprob) for a in t.top_logprobs) <= 1.0 + 1e-9
        assert len({a.token for a in t.top_logprobs}) == 3
        assert [a.logprob for a in t.top_logprobs] == sorted((a.logprob for a in t.top_logprobs), reverse=True)
    check_chat_completion(last_body(sim))


def test_reasoning_model_reports_reasoning_tokens_by_effort(api: Driver, sim: FakeAI) -> None:
    low = [api.chat(model="o3-mini", reasoning_effort="low", seed=s) for s in range(4)]
    high = [api.chat(model="o3-mini", reasoning_effort="high", seed=s) for s in range(4)]
    for r in low + high:
        details = r.usage.completion_tokens_details
        assert details.reasoning_tokens > 0
        visible = len(tiktoken.get_encoding("o200k_base").encode(r.choices[0].message.content))
        assert r.usage.completion_tokens == visible + details.reasoning_tokens
    assert max(r.usage.completion_tokens_details.reasoning_tokens for r in low) < min(
        r.usage.completion_tokens_details.reasoning_tokens for r in high
    )


def test_reasoning_can_use_the_whole_budget(api: Driver) -> None:
    r = api.chat(model="o3", reasoning_effort="high", max_completion_tokens=50)
    assert r.choices[0].finish_reason == "length"
    assert r.choices[0].message.content == ""
    assert r.usage.completion_tokens == 50 == r.usage.completion_tokens_details.reasoning_tokens


def test_echo_mode_answers_with_last_user_message(stack: str, mode: str) -> None:
    sim = FakeAI(mode="echo")
    api = Driver(sim, stack, mode)
    messages = [
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": "Repeat me, café ☕ exactly."},
    ]
    r = api.chat(messages=messages)
    assert r.choices[0].message.content == "Repeat me, café ☕ exactly."
    assert r.usage.completion_tokens == len(tiktoken.get_encoding("o200k_base").encode("Repeat me, café ☕ exactly."))


@pytest.mark.parametrize("stream", [False, True])
def test_exact_output_length_setting(stack: str, mode: str, stream: bool) -> None:
    sim = FakeAI(output_tokens=64)
    api = Driver(sim, stack, mode)
    api.chat(stream=stream, stream_options={"include_usage": True} if stream else None)
    if stream:
        usage = stream_events(sim)[-1]["usage"]
        text = sim.calls.last.response.text
    else:
        usage = last_body(sim)["usage"]
        text = last_body(sim)["choices"][0]["message"]["content"]
    assert usage["completion_tokens"] == 64
    assert len(tiktoken.get_encoding("o200k_base").encode(text)) == 64


def test_ignore_eos_and_min_tokens_extensions(api: Driver) -> None:
    r = api.chat(max_tokens=300, extra_body={"ignore_eos": True})
    assert r.usage.completion_tokens == 300
    assert r.choices[0].finish_reason == "length"
    r = api.chat(max_tokens=400, extra_body={"min_tokens": 150})
    assert r.usage.completion_tokens >= 150


# -- streaming ------------------------------------------------------------------------------------
def test_stream_chunk_rules(api: Driver, sim: FakeAI) -> None:
    chunks = api.chat(stream=True, stream_options={"include_usage": True})
    events = stream_events(sim)
    for event in events:
        check_chat_chunk(event)
    assert len(chunks) == len(events)
    assert sim.calls.last.response.chunks[-1] == b"data: [DONE]\n\n"
    assert len({e["id"] for e in events}) == 1
    assert events[0]["choices"][0]["delta"]["role"] == "assistant"
    assert all("role" not in e["choices"][0]["delta"] for e in events[1:-1])
    finals = [e for e in events if e["choices"] and e["choices"][0]["finish_reason"]]
    assert finals == [events[-2]]
    assert events[-2]["choices"][0]["finish_reason"] == "stop"
    assert events[-1]["choices"] == []
    assert all(e["usage"] is None for e in events[:-1])
    usage = events[-1]["usage"]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert usage["completion_tokens"] == len(tiktoken.get_encoding("o200k_base").encode(text))
    assert all("obfuscation" in e for e in events)
    assert all(e["system_fingerprint"].startswith("fp_") and e["service_tier"] == "default" for e in events)


def test_stream_without_usage_or_obfuscation(api: Driver, sim: FakeAI) -> None:
    api.chat(stream=True, stream_options={"include_obfuscation": False})
    events = stream_events(sim)
    assert all("usage" not in e and "obfuscation" not in e for e in events)
    assert events[-1]["choices"][0]["finish_reason"] == "stop"


def test_stream_equals_non_stream_with_same_seed(api: Driver, sim: FakeAI) -> None:
    whole = api.chat(seed=42, max_tokens=25, logprobs=True).choices[0]
    chunks = api.chat(seed=42, max_tokens=25, logprobs=True, stream=True)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.message.content
    streamed_lp = [
        t.token for c in chunks if c.choices and c.choices[0].logprobs for t in c.choices[0].logprobs.content
    ]
    assert streamed_lp == [t.token for t in whole.logprobs.content]
    assert chunks[-1].choices[0].finish_reason == whole.finish_reason


def test_stream_n_choices(api: Driver, sim: FakeAI) -> None:
    chunks = api.chat(stream=True, n=2, max_tokens=10, extra_body={"ignore_eos": True})
    texts = {0: "", 1: ""}
    finish = {}
    for c in chunks:
        for ch in c.choices:
            texts[ch.index] += ch.delta.content or ""
            if ch.finish_reason:
                finish[ch.index] = ch.finish_reason
    assert finish == {0: "length", 1: "length"}
    assert texts[0] != texts[1]
    for event in stream_events(sim):
        check_chat_chunk(event)


def test_stream_is_produced_lazily(stack: str, mode: str) -> None:
    """The client sees the first chunk before the simulator has produced the last."""
    sim = FakeAI(output_tokens=50)
    seen: dict[str, Any] = {}

    def at_first_chunk(first: Any) -> None:
        seen["role"] = first.choices[0].delta.role
        seen["produced"] = len(sim.calls.last.response.chunks)
        seen["complete"] = sim.calls.last.response.complete

    if mode == "sync":
        with sim.client(stack=stack).chat.completions.create(model="gpt-4o", messages=USER, stream=True) as stream:
            at_first_chunk(next(iter(stream)))
            rest = list(stream)
    else:

        async def run() -> list[Any]:
            client = sim.async_client(stack=stack)
            stream = await client.chat.completions.create(model="gpt-4o", messages=USER, stream=True)
            async with stream:
                iterator = stream.__aiter__()
                at_first_chunk(await iterator.__anext__())
                return [chunk async for chunk in iterator]

        rest = asyncio.run(run())
    assert seen["role"] == "assistant"
    assert seen["produced"] <= 2, seen  # the first chunk, and at most one of look-ahead
    assert seen["complete"] is False
    assert len(rest) + 1 == len(sim.calls.last.response.chunks) - 1  # minus [DONE]
    assert sim.calls.last.response.complete


# -- tools and structured output --------------------------------------------------------------------
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["c", "f"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 7},
            },
            "required": ["city", "unit", "days"],
            "additionalProperties": False,
        },
    },
}


@pytest.mark.parametrize("choice", ["required", {"type": "function", "function": {"name": "get_weather"}}])
def test_forced_tool_call_has_valid_arguments(api: Driver, sim: FakeAI, choice: Any) -> None:
    r = api.chat(tools=[WEATHER], tool_choice=choice)
    c = r.choices[0]
    assert c.finish_reason == "tool_calls"
    assert c.message.content is None
    call = c.message.tool_calls[0]
    assert call.id.startswith("call_") and call.function.name == "get_weather"
    jsonschema.validate(json.loads(call.function.arguments), WEATHER["function"]["parameters"])
    check_chat_completion(last_body(sim))


def test_streamed_tool_call_reassembles(api: Driver, sim: FakeAI) -> None:
    chunks = api.chat(tools=[WEATHER], tool_choice="required", stream=True)
    args = ""
    name = None
    for c in chunks:
        for tc in (c.choices[0].delta.tool_calls or []) if c.choices else []:
            name = tc.function.name or name
            args += tc.function.arguments or ""
    assert name == "get_weather"
    jsonschema.validate(json.loads(args), WEATHER["function"]["parameters"])
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    for event in stream_events(sim):
        check_chat_chunk(event)


def test_json_schema_response_format(api: Driver) -> None:
    schema = {
        "type": "object",
        "properties": {"title": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}},
        "required": ["title", "tags"],
        "additionalProperties": False,
    }
    r = api.chat(
        response_format={"type": "json_schema", "json_schema": {"name": "doc", "schema": schema, "strict": True}}
    )
    jsonschema.validate(json.loads(r.choices[0].message.content), schema)


def test_json_object_response_format(api: Driver) -> None:
    r = api.chat(response_format={"type": "json_object"})
    assert isinstance(json.loads(r.choices[0].message.content), dict)


# -- multimodal -------------------------------------------------------------------------------------
def _png(width: int, height: int) -> str:
    head = (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", 13)
        + b"IHDR"
        + struct.pack(">II", width, height)
        + b"\x08\x02\x00\x00\x00"
    )
    head += struct.pack(">I", zlib.crc32(head[12:29]))
    return "data:image/png;base64," + base64.b64encode(head).decode()


@pytest.mark.parametrize(
    ("size", "detail", "image_tokens"),
    [((512, 512), "high", 255), ((1024, 1024), "high", 765), ((2048, 4096), "high", 1105), ((4000, 4000), "low", 85)],
)
def test_image_parts_are_counted_by_tiles(api: Driver, size: tuple[int, int], detail: str, image_tokens: int) -> None:
    text_only = api.chat(messages=[{"role": "user", "content": [{"type": "text", "text": "What is this?"}]}])
    with_image = api.chat(
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image_url", "image_url": {"url": _png(*size), "detail": detail}},
                ],
            }
        ]
    )
    assert with_image.usage.prompt_tokens - text_only.usage.prompt_tokens == image_tokens


def test_audio_part_is_accepted(api: Driver) -> None:
    samples = b"\x00\x00" * 16000  # one second, 16 kHz mono 16-bit
    wav = (
        b"RIFF"
        + struct.pack("<I", 36 + len(samples))
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, 16000, 32000, 2, 16)
        + b"data"
        + struct.pack("<I", len(samples))
        + samples
    )
    r = api.chat(
        model="gpt-4o-audio-preview",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "input_audio", "input_audio": {"data": base64.b64encode(wav).decode(), "format": "wav"}}
                ],
            }
        ],
    )
    assert r.usage.prompt_tokens == 3 + 3 + 1 + 10  # reply priming, message, role "user", 1 s of audio


# -- determinism ------------------------------------------------------------------------------------
def _run(seed: int, stack: str) -> list[bytes]:
    sim = FakeAI(seed=seed)
    client = sim.client(stack=stack)
    client.chat.completions.create(model="gpt-4o", messages=USER)
    client.chat.completions.create(model="gpt-4o", messages=USER, n=2, logprobs=True, top_logprobs=2)
    list(client.chat.completions.create(model="o3-mini", messages=USER, stream=True))
    client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Once upon a time")
    return [c.response.body or b"".join(c.response.chunks) for c in sim.calls] + [
        json.dumps(c.response.headers).encode() for c in sim.calls
    ]


def test_same_seed_same_bytes_different_seed_differs(stack: str) -> None:
    assert _run(7, stack) == _run(7, stack)
    assert _run(7, stack) != _run(8, stack)


def test_request_seed_repeats_and_unseeded_requests_vary(api: Driver) -> None:
    a = api.chat(seed=3).choices[0].message.content
    b = api.chat(seed=3).choices[0].message.content
    c = api.chat().choices[0].message.content
    d = api.chat().choices[0].message.content
    assert a == b
    assert c != d
    assert api.chat(temperature=0).choices[0].message.content == api.chat(temperature=0).choices[0].message.content


def test_other_providers_models(api: Driver) -> None:
    for model in (
        "meta-llama/Llama-3.1-8B-Instruct",
        "deepseek-ai/DeepSeek-R1",
        "nvidia/llama-3.1-nemotron-70b-instruct",
        "Qwen/Qwen2.5-7B-Instruct",
        "claude-sonnet-4-5",
        "my-org/custom-finetune-7b",
    ):
        r = api.chat(model=model, max_tokens=8, extra_body={"ignore_eos": True})
        assert r.model == api.sim.models.resolve(model).response_model
        assert r.usage.completion_tokens == 8


def test_gpt4o_mini_counts_images_at_its_own_rate(api: Driver) -> None:
    text_only = api.chat(model="gpt-4o-mini", messages=[{"role": "user", "content": [{"type": "text", "text": "Hi"}]}])
    with_image = api.chat(
        model="gpt-4o-mini",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Hi"},
                    {"type": "image_url", "image_url": {"url": _png(512, 512), "detail": "high"}},
                ],
            }
        ],
    )
    assert with_image.usage.prompt_tokens - text_only.usage.prompt_tokens == 2833 + 5667
