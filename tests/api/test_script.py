"""Scripted replies (``fakeai.on(...).reply(...)``) through the real openai SDK, both stacks, sync and async."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import openai
import pytest
import tiktoken

from pytest_fakeai import FakeAI
from pytest_fakeai.api.script import CONDITIONS
from tests._support.drive import Driver
from tests._support.spec import check_chat_chunk, check_chat_completion, check_completion, check_error

ROOT = Path(__file__).resolve().parents[2]
ENC = tiktoken.get_encoding("o200k_base")
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
            "required": ["city", "unit"],
            "additionalProperties": False,
        },
    },
}


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def body(sim: FakeAI) -> dict[str, Any]:
    data = sim.calls.last.response.json
    assert isinstance(data, dict)
    return data


def text_of(r: Any) -> str:
    return str(r.choices[0].message.content)


def no_retries(api: Driver) -> Driver:
    api.client = api.client.with_options(max_retries=0)
    return api


def tool_turn(call_id: str = "call_1", name: str = "get_weather") -> list[dict[str, Any]]:
    """A conversation ending with the result of a call of ``name``."""
    return [
        *user("What's the weather in Paris?"),
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": call_id, "type": "function", "function": {"name": name, "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": call_id, "content": '{"temp": 21}'},
    ]


# -- conditions -----------------------------------------------------------------------------------
def test_contains_looks_at_the_users_turn_only(api: Driver, sim: FakeAI) -> None:
    sim.on(contains="weather").reply("Scripted weather.")
    assert text_of(api.chat(messages=user("What's the weather like?"))) == "Scripted weather."
    # the word in an earlier user message, or in the system prompt, is not the turn being answered
    earlier = [*user("weather?"), {"role": "assistant", "content": "Sunny."}, *user("And tomorrow?")]
    assert text_of(api.chat(messages=earlier)) != "Scripted weather."
    system = [{"role": "system", "content": "You know the weather."}, *user("Hi")]
    assert text_of(api.chat(messages=system)) != "Scripted weather."
    # after a tool result the last message is not the user's: contains does not match
    assert text_of(api.chat(messages=tool_turn(), tools=[WEATHER])) != "Scripted weather."
    assert text_of(api.chat(messages=user("WEATHER"))) != "Scripted weather."  # case-sensitive, like `in`
    parts = [{"role": "user", "content": [{"type": "text", "text": "the weather, please"}]}]
    assert text_of(api.chat(messages=parts)) == "Scripted weather."


def test_matches_is_a_regex_search(api: Driver, sim: FakeAI) -> None:
    sim.on(matches=r"(?i)\border\s+#?\d+").reply("Your order has shipped.")
    assert text_of(api.chat(messages=user("Where is ORDER #1234?"))) == "Your order has shipped."
    assert text_of(api.chat(messages=user("I'd like to order food"))) != "Your order has shipped."
    sim.on(matches=re.compile("^Translate:")).reply("Bonjour.")
    assert text_of(api.chat(messages=user("Translate: hello"))) == "Bonjour."


def test_model_exact_and_pattern(api: Driver, sim: FakeAI) -> None:
    sim.on(model="gpt-4o").reply("exact")
    sim.on(model="gpt-4.1*").reply("pattern")
    assert text_of(api.chat(model="gpt-4o")) == "exact"
    assert text_of(api.chat(model="gpt-4o-mini")) not in ("exact", "pattern")
    assert text_of(api.chat(model="gpt-4.1-mini")) == "pattern"
    assert text_of(api.chat(model="gpt-4.1")) == "pattern"


def test_endpoint_chat_completions_or_path(api: Driver, sim: FakeAI) -> None:
    sim.on(endpoint="completions").reply(" legacy")
    sim.on(endpoint="/v1/chat/completions").reply("chat")
    r = api("completions.create", model="gpt-3.5-turbo-instruct", prompt="Say")
    assert r.choices[0].text == " legacy"
    check_completion(body(sim))
    assert text_of(api.chat()) == "chat"


def test_rules_without_endpoint_answer_both_text_endpoints(api: Driver, sim: FakeAI) -> None:
    sim.on(contains="ping").reply("pong")
    assert text_of(api.chat(messages=user("ping"))) == "pong"
    assert api("completions.create", model="gpt-3.5-turbo-instruct", prompt="ping").choices[0].text == "pong"
    assert api("completions.create", model="gpt-3.5-turbo-instruct", prompt=["a", "ping"]).choices[0].text == "pong"


def test_has_tools(api: Driver, sim: FakeAI) -> None:
    sim.on(has_tools=True).reply("with tools")
    sim.on(has_tools=False).reply("without tools")
    assert text_of(api.chat(tools=[WEATHER], tool_choice="none")) == "with tools"
    assert text_of(api.chat()) == "without tools"


def test_after_tool_matches_the_turn_after_that_tools_result(api: Driver, sim: FakeAI) -> None:
    sim.on(after_tool="get_weather").reply("It is sunny.")
    assert text_of(api.chat(messages=tool_turn(), tools=[WEATHER])) == "It is sunny."
    assert text_of(api.chat(messages=tool_turn(name="get_time"), tools=[WEATHER])) != "It is sunny."
    later = [*tool_turn(), {"role": "assistant", "content": "Sunny."}, *user("thanks")]
    assert text_of(api.chat(messages=later, tools=[WEATHER])) != "It is sunny."
    # parallel calls: the results of the last assistant turn all count
    calls = [
        {"id": f"call_{n}", "type": "function", "function": {"name": n, "arguments": "{}"}}
        for n in ("get_weather", "get_time")
    ]
    parallel = [
        *user("weather and time?"),
        {"role": "assistant", "content": None, "tool_calls": calls},
        {"role": "tool", "tool_call_id": "call_get_weather", "content": "sunny"},
        {"role": "tool", "tool_call_id": "call_get_time", "content": "noon"},
    ]
    assert text_of(api.chat(messages=parallel, tools=[WEATHER])) == "It is sunny."


def test_where_gets_the_request_dict(api: Driver, sim: FakeAI) -> None:
    seen: list[dict[str, Any]] = []

    def low_temperature(request: dict[str, Any]) -> bool:
        seen.append(request)
        request["messages"].clear()  # a copy: changing it changes nothing
        return request.get("temperature", 1) < 0.5

    sim.on(where=low_temperature).reply("careful answer")
    assert text_of(api.chat(temperature=0.2)) == "careful answer"
    assert text_of(api.chat(temperature=0.9)) != "careful answer"
    assert seen[0]["model"] == "gpt-4o" and seen[0]["temperature"] == 0.2
    assert sim.calls.last.request.json["messages"]  # the recorded request is intact


def test_conditions_are_and_ed(api: Driver, sim: FakeAI) -> None:
    sim.on(model="gpt-4o", contains="hello", has_tools=False).reply("all three")
    assert text_of(api.chat(messages=user("hello"))) == "all three"
    assert text_of(api.chat(model="gpt-4o-mini", messages=user("hello"))) != "all three"
    assert text_of(api.chat(messages=user("hello"), tools=[WEATHER], tool_choice="none")) != "all three"


def test_unknown_or_mistyped_conditions_are_rejected_at_once() -> None:
    sim = FakeAI()
    with pytest.raises(TypeError, match=r"unknown condition 'contain'; valid conditions: " + ", ".join(CONDITIONS)):
        sim.on(contain="x")
    with pytest.raises(TypeError, match="has_tools"):
        sim.on(has_tools="yes")
    with pytest.raises(TypeError, match="where"):
        sim.on(where="not callable")
    with pytest.raises(ValueError, match="'chat', 'completions' or a path"):
        sim.on(endpoint="embeddings")
    with pytest.raises(re.error):
        sim.on(matches="(unclosed")
    assert sim.script.rules == []


# -- replies --------------------------------------------------------------------------------------
def test_text_reply_has_exact_usage_and_the_real_shape(api: Driver, sim: FakeAI) -> None:
    text = "Bonjour! Le café coûte 3 € — merci 🙂"
    rule = sim.on().reply(text)
    r = api.chat()
    check_chat_completion(body(sim))
    assert text_of(r) == text
    assert r.choices[0].finish_reason == "stop"
    assert r.usage.completion_tokens == len(ENC.encode(text))
    assert r.choices[0].message.tool_calls is None and r.choices[0].message.refusal is None
    assert sim.calls.last.rule is rule


def test_scripted_text_streams_token_by_token(api: Driver, sim: FakeAI) -> None:
    text = "Streaming, token by token: déjà vu 🙂."
    sim.on().reply(text)
    chunks = api.chat(stream=True, stream_options={"include_usage": True})
    for event in sim.calls.last.response.events:
        check_chat_chunk(event)
    pieces = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert "".join(pieces) == text
    assert all(len(ENC.encode(p)) <= 2 for p in pieces)  # whole UTF-8 pieces of real tokens
    assert len(pieces) >= len(ENC.encode(text)) - 2
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].usage.completion_tokens == len(ENC.encode(text))


def test_scripted_text_respects_max_tokens_and_stop(api: Driver, sim: FakeAI) -> None:
    text = "One two three four five six seven eight."
    sim.on().reply(text)
    r = api.chat(max_tokens=3)
    assert r.choices[0].finish_reason == "length"
    assert r.usage.completion_tokens == 3
    assert text.startswith(text_of(r)) and len(ENC.encode(text_of(r))) == 3
    r = api.chat(stop=[" four"])
    assert text_of(r) == "One two three" and r.choices[0].finish_reason == "stop"
    chunks = api.chat(max_tokens=2, stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "One two"
    assert chunks[-1].choices[0].finish_reason == "length"


def test_scripted_text_with_n_and_logprobs(api: Driver, sim: FakeAI) -> None:
    sim.on().reply("Same for all.")
    r = api.chat(n=2, logprobs=True, top_logprobs=2)
    assert [c.message.content for c in r.choices] == ["Same for all.", "Same for all."]
    assert "".join(t.token for t in r.choices[0].logprobs.content) == "Same for all."
    assert r.usage.completion_tokens == 2 * len(ENC.encode("Same for all."))
    check_chat_completion(body(sim))


def test_tool_call_reply(api: Driver, sim: FakeAI) -> None:
    rule = sim.on(contains="weather").reply(tool_call=("get_weather", {"city": "Paris", "unit": "celsius"}))
    r = api.chat(messages=user("weather in Paris?"), tools=[WEATHER])
    check_chat_completion(body(sim))
    choice = r.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    (call,) = choice.message.tool_calls
    assert call.type == "function" and re.fullmatch(r"call_[A-Za-z0-9]{24}", call.id)
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris", "unit": "celsius"}
    assert sim.calls.last.rule is rule


def test_several_tool_calls_each_with_its_own_id(api: Driver, sim: FakeAI) -> None:
    sim.on().reply(tool_calls=[("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Oslo"})])
    r = api.chat(tools=[WEATHER])
    calls = r.choices[0].message.tool_calls
    assert [json.loads(c.function.arguments)["city"] for c in calls] == ["Paris", "Oslo"]
    assert len({c.id for c in calls}) == 2


def test_tool_call_without_arguments_gets_valid_generated_ones(api: Driver, sim: FakeAI) -> None:
    sim.on().reply(tool_call="get_weather")
    r = api.chat(messages=user("How warm is it in Lisbon?"), tools=[WEATHER])
    args = json.loads(r.choices[0].message.tool_calls[0].function.arguments)
    jsonschema.validate(args, WEATHER["function"]["parameters"])
    assert args["city"] == "Lisbon"  # the user's own word, where the parameter asks for a city


def test_tool_call_arguments_may_be_raw_text(api: Driver, sim: FakeAI) -> None:
    sim.on().reply(tool_call=("get_weather", '{"city": "Par'))  # truncated JSON, to test a parser
    r = api.chat(tools=[WEATHER])
    assert r.choices[0].message.tool_calls[0].function.arguments == '{"city": "Par'


def test_scripted_tool_calls_stream_as_openai_streams_them(api: Driver, sim: FakeAI) -> None:
    sim.on().reply(tool_calls=[("get_weather", {"city": "Paris"}), ("get_time", {"zone": "CET"})])
    chunks = api.chat(tools=[WEATHER], stream=True)
    for event in sim.calls.last.response.events:
        check_chat_chunk(event)
    assert chunks[0].choices[0].delta.role == "assistant" and chunks[0].choices[0].delta.content is None
    deltas = [tc for c in chunks[1:-1] for tc in c.choices[0].delta.tool_calls]
    assert all(len(c.choices[0].delta.tool_calls) == 1 for c in chunks[1:-1])
    firsts = [d for d in deltas if d.id is not None]
    assert [(d.index, d.type, d.function.name, d.function.arguments) for d in firsts] == [
        (0, "function", "get_weather", ""),
        (1, "function", "get_time", ""),
    ]
    args = {0: "", 1: ""}
    for d in deltas:
        if d.id is None:
            assert d.function.name is None and d.type is None
            args[d.index] += d.function.arguments
    assert json.loads(args[0]) == {"city": "Paris"} and json.loads(args[1]) == {"zone": "CET"}
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_json_reply(api: Driver, sim: FakeAI) -> None:
    value = {"title": "Café", "tags": ["a", "b"], "score": 0.5, "ok": False, "none": None}
    sim.on().reply(json=value)
    r = api.chat(response_format={"type": "json_object"})
    assert json.loads(text_of(r)) == value
    assert r.usage.completion_tokens == len(ENC.encode(text_of(r)))
    chunks = api.chat(stream=True)
    assert json.loads("".join(c.choices[0].delta.content or "" for c in chunks)) == value


def test_refusal_reply(api: Driver, sim: FakeAI) -> None:
    sim.on().reply(refusal="I can't help with that.")
    r = api.chat()
    check_chat_completion(body(sim))
    message = r.choices[0].message
    assert message.refusal == "I can't help with that."
    assert message.content is None
    assert r.choices[0].finish_reason == "stop"
    assert r.usage.completion_tokens == len(ENC.encode("I can't help with that."))
    chunks = api.chat(stream=True)
    for event in sim.calls.last.response.events:
        check_chat_chunk(event)
    assert chunks[0].choices[0].delta.refusal == "" and chunks[0].choices[0].delta.content is None
    assert "".join(c.choices[0].delta.refusal or "" for c in chunks) == "I can't help with that."
    assert all(c.choices[0].delta.content is None for c in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"


ERRORS = [
    (400, openai.BadRequestError, "invalid_request_error", None),
    (401, openai.AuthenticationError, "invalid_request_error", "invalid_api_key"),
    (404, openai.NotFoundError, "invalid_request_error", "model_not_found"),
    (429, openai.RateLimitError, "requests", "rate_limit_exceeded"),
    (500, openai.InternalServerError, "server_error", None),
    (503, openai.InternalServerError, "service_unavailable_error", "server_is_overloaded"),
]


@pytest.mark.parametrize(("status", "exc", "kind", "code"), ERRORS)
def test_error_reply_is_openai_shaped(
    api: Driver, sim: FakeAI, status: int, exc: type[Exception], kind: str, code: str | None
) -> None:
    rule = sim.on().reply(error=status)
    with pytest.raises(exc) as info:
        no_retries(api).chat(model="gpt-4o-mini")
    error = body(sim)
    check_error(error)
    assert sim.calls.last.response.status == status
    assert (error["error"]["type"], error["error"]["code"]) == (kind, code)
    assert getattr(info.value, "status_code", None) == status
    assert sim.calls.last.rule is rule
    if status == 404:
        assert "`gpt-4o-mini` does not exist" in error["error"]["message"]
    if status == 401:
        assert error["error"]["message"].startswith("Incorrect API key provided: sk-")
        assert sim.settings.api_key not in error["error"]["message"]
    if status == 429:
        headers = sim.calls.last.response
        assert headers.header("retry-after-ms") == "1000" and headers.header("x-ratelimit-remaining-requests") == "0"
        assert "Rate limit reached for gpt-4o-mini" in error["error"]["message"]


def test_error_reply_with_own_message(api: Driver, sim: FakeAI) -> None:
    sim.on().reply(error=(400, "Your prompt was flagged."))
    with pytest.raises(openai.BadRequestError, match="Your prompt was flagged"):
        no_retries(api).chat()
    check_error(body(sim))


def test_a_429_once_is_retried_by_the_sdk(api: Driver, sim: FakeAI) -> None:
    rule = sim.on().reply(error=429).once()
    r = api.chat()  # the SDK's own retry (after retry-after: 1 s, taken on the simulated clock) is answered
    assert text_of(r)
    assert [c.response.status for c in sim.calls] == [429, 200]
    assert [c.rule for c in sim.calls] == [rule, None]
    assert sim.calls[1].request.headers.get("x-stainless-retry-count") == "1"
    assert sim.calls[1].started == pytest.approx(1.0)


def test_error_reply_for_another_path(api: Driver, sim: FakeAI) -> None:
    sim.on(endpoint="/v1/models").reply(error=503).once()
    with pytest.raises(openai.InternalServerError):
        no_retries(api)("models.list")
    assert any(m.id == "gpt-4o" for m in api("models.list").data)
    assert text_of(api.chat())  # chat is not scripted by that rule
    with pytest.raises(ValueError, match="only error= replies"):
        sim.on(endpoint="/v1/models").reply("text")


def test_error_reply_for_a_templated_path(api: Driver, sim: FakeAI) -> None:
    sim.on(endpoint="/v1/models/gpt-4o").reply(error=(404, "gone")).once()
    with pytest.raises(openai.NotFoundError, match="gone"):
        no_retries(api)("models.retrieve", model="gpt-4o")
    assert api("models.retrieve", model="gpt-4o").id == "gpt-4o"
    assert api("models.retrieve", model="gpt-4o-mini").id == "gpt-4o-mini"


def test_clear_forgets_the_rules(api: Driver, sim: FakeAI) -> None:
    sim.on().reply("scripted")
    assert text_of(api.chat()) == "scripted"
    sim.script.clear()
    assert text_of(api.chat()) != "scripted"
    assert sim.script.rules == [] and sim.calls.last.rule is None
    sim.assert_all_used()


def test_function_reply(api: Driver, sim: FakeAI) -> None:
    seen: list[str] = []

    def answer(request: dict[str, Any]) -> Any:
        question = request["messages"][-1]["content"]
        seen.append(question)
        if "json" in question:
            return {"json": {"echo": question}}
        if "tool" in question:
            return {"tool_call": ("get_weather", {"city": "Rome"})}
        if "fail" in question:
            return {"error": 400}
        if "generator" in question:
            return None
        return question.upper()

    rule = sim.on().reply(answer)
    assert text_of(api.chat(messages=user("shout"))) == "SHOUT"
    assert json.loads(text_of(api.chat(messages=user("json please")))) == {"echo": "json please"}
    assert api.chat(messages=user("a tool"), tools=[WEATHER]).choices[0].message.tool_calls[0].function.name == (
        "get_weather"
    )
    with pytest.raises(openai.BadRequestError):
        no_retries(api).chat(messages=user("fail"))
    assert text_of(api.chat(messages=user("generator"))) not in ("", "GENERATOR")
    assert seen == ["shout", "json please", "a tool", "fail", "generator"]
    assert rule.used == 5
    assert sim.calls.last.rule is rule


def test_function_reply_fails_the_second_time(api: Driver, sim: FakeAI) -> None:
    count = 0

    def flaky(request: dict[str, Any]) -> Any:
        nonlocal count
        count += 1
        return {"error": 503} if count == 2 else f"answer {count}"

    sim.on().reply(flaky)
    api = no_retries(api)
    assert text_of(api.chat()) == "answer 1"
    with pytest.raises(openai.InternalServerError):
        api.chat()
    assert text_of(api.chat()) == "answer 3"


def test_a_bad_reply_function_result_is_a_loud_500(api: Driver, sim: FakeAI) -> None:
    from pytest_fakeai import FakeAIInternalError

    sim.on().reply(lambda request: 42)
    with pytest.warns(FakeAIInternalError, match="return a str, None, or a dict"), pytest.raises(openai.APIError):
        no_retries(api).chat()
    assert sim.calls.last.response.status == 500
    assert "TypeError" in (sim.calls.last.error or "")


def test_bad_replies_are_rejected_when_written() -> None:
    sim = FakeAI()
    rule = sim.on()
    with pytest.raises(TypeError, match="exactly one reply"):
        rule.reply("a", json={})
    with pytest.raises(TypeError, match="exactly one reply"):
        rule.reply()
    with pytest.raises(ValueError, match="400-599"):
        rule.reply(error=200)
    with pytest.raises(TypeError, match="JSON-serialisable"):
        rule.reply(json={1, 2})
    with pytest.raises(TypeError, match="tool call"):
        rule.reply(tool_call=42)
    with pytest.raises(ValueError, match="no tool calls"):
        sim.on(endpoint="completions").reply(tool_call="f")
    assert rule.replies == []


def test_legacy_completions_text_reply_streams(api: Driver, sim: FakeAI) -> None:
    sim.on(endpoint="completions", contains="Once").reply(" upon a time.")
    r = api("completions.create", model="gpt-3.5-turbo-instruct", prompt="Once", echo=True)
    assert r.choices[0].text == "Once upon a time."
    assert r.usage.completion_tokens == len(ENC.encode(" upon a time."))
    chunks = api("completions.create", model="gpt-3.5-turbo-instruct", prompt="Once", stream=True)
    for event in sim.calls.last.response.events:
        check_completion(event, chunk=True)
    assert "".join(c.choices[0].text for c in chunks) == " upon a time."
    r = api("completions.create", model="gpt-3.5-turbo-instruct", prompt="Once", max_tokens=2)
    assert r.choices[0].finish_reason == "length" and r.usage.completion_tokens == 2


# -- sequences, counts, precedence ------------------------------------------------------------------
def test_replies_are_a_sequence_whose_last_repeats(api: Driver, sim: FakeAI) -> None:
    rule = sim.on().reply("first").reply("second").reply("third")
    assert [text_of(api.chat()) for _ in range(5)] == ["first", "second", "third", "third", "third"]
    assert rule.used == 5


def test_times_limits_a_rule_then_the_next_answers(api: Driver, sim: FakeAI) -> None:
    sim.on().reply("limited").times(2)
    sim.on().reply("fallback")
    assert [text_of(api.chat()) for _ in range(4)] == ["limited", "limited", "fallback", "fallback"]


def test_once_then_the_generator(api: Driver, sim: FakeAI) -> None:
    rule = sim.on().reply("only once").once()
    assert text_of(api.chat()) == "only once"
    second = text_of(api.chat())
    assert second != "only once" and second
    assert [c.rule for c in sim.calls] == [rule, None]


def test_first_registered_matching_rule_wins(api: Driver, sim: FakeAI) -> None:
    sim.on(contains="weather").reply("specific").once()
    sim.on().reply("catch-all")
    sim.on(contains="weather").reply("never: shadowed by the catch-all")
    assert text_of(api.chat(messages=user("weather?"))) == "specific"
    assert text_of(api.chat(messages=user("weather?"))) == "catch-all"
    assert text_of(api.chat(messages=user("hello"))) == "catch-all"


def test_a_rule_without_reply_lets_the_generator_answer_but_counts(api: Driver, sim: FakeAI) -> None:
    rule = sim.on(model="gpt-4o").times(2)
    assert text_of(api.chat()) and text_of(api.chat())
    assert rule.used == 2 and sim.calls.last.rule is rule
    sim.assert_all_used()


def test_times_must_cover_the_replies() -> None:
    sim = FakeAI()
    with pytest.raises(ValueError, match="2 replies"):
        sim.on().reply("a").reply("b").times(1)
    with pytest.raises(ValueError, match="would never run"):
        sim.on().reply("a").once().reply("b")
    with pytest.raises(ValueError, match=">= 1"):
        sim.on().times(0)


def test_invalid_requests_get_their_400_and_use_no_rule(api: Driver, sim: FakeAI) -> None:
    rule = sim.on().reply("scripted")
    broken = [*user("hi"), {"role": "tool", "tool_call_id": "call_x", "content": "orphan"}]
    with pytest.raises(openai.BadRequestError):
        no_retries(api).chat(messages=broken)
    assert rule.used == 0 and sim.calls.last.rule is None


def test_unscripted_simulator_does_no_scripting_work(api: Driver, sim: FakeAI) -> None:
    api.chat()
    assert sim._script is None
    assert sim.calls.last.rule is None


# -- assert_all_used ------------------------------------------------------------------------------
def test_assert_all_used_passes_when_every_reply_was_used(api: Driver, sim: FakeAI) -> None:
    sim.on(contains="a").reply("1").reply("2")
    sim.on(contains="b").reply("x").times(2)
    for text in ("a", "a", "b", "b", "unmatched"):
        api.chat(messages=user(text))
    sim.assert_all_used()


def test_assert_all_used_lists_rules_uses_and_unmatched_requests(api: Driver, sim: FakeAI) -> None:
    sim.on(contains="weather").reply(tool_call=("get_weather", {"city": "Paris"}))
    sim.on(after_tool="get_weather").reply("It is sunny in Paris.")
    sim.on(model="gpt-4o-mini").reply("one").reply("two")
    sim.on(where=lambda r: False).reply(error=429).times(3)
    api.chat(messages=user("weather in Paris?"), tools=[WEATHER])
    api.chat(model="gpt-4o-mini")
    api.chat(messages=user("Tell me a joke about compilers"))
    with pytest.raises(AssertionError) as info:
        sim.assert_all_used()
    message = str(info.value)
    assert message.splitlines() == [
        "fakeai: 3 of 4 scripted rule(s) not used up:",
        '  ok     #1 on(contains=\'weather\') -> tool_call get_weather({"city":"Paris"}): answered 1 of 1',
        "  UNUSED #2 on(after_tool='get_weather') -> text 'It is sunny in Paris.': answered 0 of 1",
        "  PARTLY #3 on(model='gpt-4o-mini') -> text 'one'; text 'two': answered 1 of 2",
        "  UNUSED #4 on(where=<lambda>) -> error 429: answered 0 of 3",
        "requests no rule answered (1):",
        "  - chat model='gpt-4o' user: 'Tell me a joke about compilers'",
    ]


def test_assert_all_used_without_rules_passes() -> None:
    FakeAI().assert_all_used()


# -- the assert_all_used setting, at fixture teardown ----------------------------------------------
_INNER = (
    "-p",
    "no:cacheprovider",
    "-p",
    "no:hypothesispytest",
    "-p",
    "no:randomly",
    "-o",
    "asyncio_default_fixture_loop_scope=function",
)


def test_assert_all_used_setting_fails_the_test_at_teardown(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.fakeai(assert_all_used=True)
        def test_unused(fakeai, fakeai_client):
            fakeai.on(contains="weather").reply("sunny")
            fakeai.on(contains="never").reply("unused")
            fakeai_client.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "weather?"}]
            )

        @pytest.mark.fakeai(assert_all_used=True)
        def test_all_used(fakeai, fakeai_client):
            fakeai.on().reply("sunny")
            fakeai_client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])

        def test_setting_off(fakeai):
            fakeai.on().reply("never used, and that is fine")
        """
    )
    result = pytester.runpytest(*_INNER)
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_unused*",
            "*fakeai: 1 of 2 scripted rule(s) not used up:*",
            "*UNUSED #2 on(contains='never') -> text 'unused': answered 0 of 1*",
        ]
    )


def test_assert_all_used_option_from_the_command_line(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_unused(fakeai):
            fakeai.on(model="gpt-4o").reply("x")
        """
    )
    pytester.runpytest(*_INNER).assert_outcomes(passed=1)
    result = pytester.runpytest(*_INNER, "--fakeai-assert-all-used=true")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*UNUSED #1 on(model='gpt-4o')*"])


# -- the docs' snippets run --------------------------------------------------------------------------
FENCE = re.compile(r"```python\n(.*?)```", re.S)
DOCS = ["docs/scripting.md", "docs/recipes/agent-loop.md", "docs/recipes/structured-outputs.md"]


@pytest.mark.parametrize("name", DOCS)
def test_doc_snippets_run(pytester: pytest.Pytester, name: str) -> None:
    """Every python block of the page, in order, as one test module: its tests pass, its scripts run."""
    blocks = FENCE.findall((ROOT / name).read_text())
    assert blocks, f"{name} has no python snippets"
    pytester.makepyfile(test_doc="\n\n".join(blocks))
    result = pytester.runpytest(*_INNER, "-p", "asyncio")
    tests = sum(b.count("def test_") for b in blocks)
    if tests:
        result.assert_outcomes(passed=tests)
    else:
        assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED, result.stdout.str()


def test_rules_answer_the_responses_api_with_or_without_endpoint(api: Driver, sim: FakeAI) -> None:
    only = sim.on(endpoint="responses", contains="weather").reply("Sunny, 21 °C.")
    anywhere = sim.on(contains="capital").reply(tool_call=("lookup", {"city": "Paris"}))
    r = api("responses.create", model="gpt-4o", input="what is the weather like?")
    assert r.output_text == "Sunny, 21 °C."
    tools = [{"type": "function", "name": "lookup", "parameters": {"type": "object", "properties": {}}}]
    r = api("responses.create", model="gpt-4o", input="the capital of France?", tools=tools)
    assert [(o.type, o.name) for o in r.output] == [("function_call", "lookup")]
    assert [c.rule for c in sim.calls] == [only, anywhere]
    assert api.chat(messages=[{"role": "user", "content": "weather?"}]).choices[0].message.content != "Sunny, 21 °C."
    with pytest.raises(ValueError, match="'chat', 'completions' or a path"):
        sim.on(endpoint="embedding")


def test_a_json_reply_to_a_forced_function_is_its_arguments(api: Driver, sim: FakeAI) -> None:
    sim.on().reply(json={"name": "Ada", "age": 36})
    tools = [
        {
            "type": "function",
            "function": {
                "name": "User",
                "parameters": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
                },
            },
        }
    ]
    r = api.chat(
        messages=[{"role": "user", "content": "Ada is 36"}],
        tools=tools,
        tool_choice={"type": "function", "function": {"name": "User"}},
    )
    (call,) = r.choices[0].message.tool_calls
    assert call.function.name == "User" and json.loads(call.function.arguments) == {"name": "Ada", "age": 36}
    assert r.choices[0].finish_reason == "tool_calls"
