"""The Realtime API's turns: pacing, server VAD, manual commits, transcription, function tools,
scripted replies and authentication -- the protocol without sockets, then the openai SDK's
realtime client (sync and async) over a real port."""

from __future__ import annotations

import asyncio
import base64
import json
import math
import re
import struct
import time
from collections.abc import Callable, MutableMapping
from typing import Any

import pytest

from pytest_fakeai import FakeAI
from pytest_fakeai.adapters.server import Server
from pytest_fakeai.api.realtime import RealtimeSession
from tests.server.conftest import ws_url

openai = pytest.importorskip("openai")
jsonschema = pytest.importorskip("jsonschema")

from tests.server.test_realtime import run, types, validated  # noqa: E402

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Get the current weather for a city",
    "parameters": {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        },
        "required": ["city", "unit"],
        "additionalProperties": False,
    },
}
STOCKS = {
    "type": "function",
    "name": "get_stock_price",
    "description": "Look up a stock price by ticker symbol",
    "parameters": {"type": "object", "properties": {"ticker": {"type": "string"}}, "required": ["ticker"]},
}


def tone(ms: int, amplitude: int = 8000) -> bytes:
    """``ms`` of a 300 Hz tone, PCM16 24 kHz: 'speech' for the energy detector."""
    n = 24 * ms
    return struct.pack(f"<{n}h", *(int(amplitude * math.sin(2 * math.pi * 300 * i / 24000)) for i in range(n)))


def silence(ms: int) -> bytes:
    return b"\0\0" * 24 * ms


def append(audio: bytes) -> dict[str, Any]:
    return {"type": "input_audio_buffer.append", "audio": base64.b64encode(audio).decode()}


def session_update(**session: Any) -> dict[str, Any]:
    return {"type": "session.update", "session": {"type": "realtime", **session}}


def user(text: str) -> dict[str, Any]:
    return {
        "type": "conversation.item.create",
        "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]},
    }


def opened(sim: FakeAI | None = None, **session: Any) -> RealtimeSession:
    s = RealtimeSession(sim or FakeAI(seed=1))
    s.open()
    run(s, session_update(output_modalities=["text"], **session))
    return s


def only(events: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    [event] = [e for e in events if e["type"] == kind]
    return event


# -- server VAD --------------------------------------------------------------------------------------
def test_server_vad_is_the_default_turn_detection() -> None:
    [created] = RealtimeSession(FakeAI(seed=1)).open()
    detection = validated(created).session.audio.input.turn_detection
    assert detection.type == "server_vad"
    assert (detection.threshold, detection.prefix_padding_ms, detection.silence_duration_ms) == (0.5, 300, 500)
    assert detection.create_response is True


def test_server_vad_detects_a_turn_commits_it_and_answers() -> None:
    session = opened()
    assert run(session, append(silence(400))) == []  # silence: nothing, as on the API
    started = run(session, append(tone(600)))
    assert types(started) == ["input_audio_buffer.speech_started"]
    assert started[0]["audio_start_ms"] == 400 - 300  # prefix_padding_ms before the first speech frame
    assert run(session, append(silence(300))) == []  # shorter than silence_duration_ms: still speaking
    events = run(session, append(silence(400)))
    kinds = types(events)
    assert kinds[:5] == [
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
        "conversation.item.added",
        "conversation.item.done",
        "response.created",
    ]
    assert kinds[-1] == "response.done"
    stopped = events[0]
    assert stopped["audio_end_ms"] == 1000 + 500  # last speech frame + silence_duration_ms
    item_id = started[0]["item_id"]
    assert stopped["item_id"] == events[1]["item_id"] == events[2]["item"]["id"] == item_id
    audio = base64.b64decode(events[2]["item"]["content"][0]["audio"])
    assert len(audio) == 2 * 24 * (1500 - 100)  # the turn: from audio_start_ms to audio_end_ms
    assert [i["role"] for i in session.items] == ["user", "assistant"]
    assert events[-1]["response"]["usage"]["input_token_details"]["audio_tokens"] == 14
    assert session.sim.calls.last.request.json == {"type": "response.create"}


def test_server_vad_splits_turns_within_one_append_and_honours_its_settings() -> None:
    session = opened(
        audio={
            "input": {
                "turn_detection": {
                    "type": "server_vad",
                    "threshold": 0.8,  # -20 dBFS: the quiet tone (-27 dBFS) is not speech, the loud one (-15) is
                    "prefix_padding_ms": 0,
                    "silence_duration_ms": 200,
                    "create_response": False,
                }
            }
        }
    )
    assert run(session, append(tone(300, amplitude=2000) + silence(300))) == []
    events = run(session, append(tone(200) + silence(200) + silence(100) + tone(100) + silence(260)))
    assert types(events) == [
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
        "conversation.item.added",
        "conversation.item.done",
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
        "conversation.item.added",
        "conversation.item.done",
    ]  # create_response false: no response
    starts = [e["audio_start_ms"] for e in events if e["type"] == "input_audio_buffer.speech_started"]
    ends = [e["audio_end_ms"] for e in events if e["type"] == "input_audio_buffer.speech_stopped"]
    assert starts == [600, 1100]
    assert ends == [1000, 1400]
    assert session.audio_buffer == bytearray(silence(60))  # the audio after the last turn stays buffered


def test_semantic_vad_is_accepted_and_detects_by_energy() -> None:
    session = opened(audio={"input": {"turn_detection": {"type": "semantic_vad", "eagerness": "high"}}})
    events = run(session, append(tone(400) + silence(400)))
    assert types(events)[:3] == [
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
    ]
    assert types(events)[-1] == "response.done"


def test_manual_commit_and_clear_with_turn_detection_off() -> None:
    session = opened(audio={"input": {"turn_detection": None}})
    assert run(session, append(tone(300))) == []  # no VAD: speech is just buffered
    assert types(run(session, {"type": "input_audio_buffer.clear"})) == ["input_audio_buffer.cleared"]
    [error] = run(session, {"type": "input_audio_buffer.commit", "event_id": "c1"})
    assert (error["error"]["code"], error["error"]["event_id"]) == ("input_audio_buffer_commit_empty", "c1")
    run(session, append(tone(50)))
    [error] = run(session, {"type": "input_audio_buffer.commit"})
    assert error["error"]["code"] == "input_audio_buffer_commit_empty"
    assert "50.00ms" in error["error"]["message"]
    run(session, append(tone(250)))
    events = run(session, {"type": "input_audio_buffer.commit"})
    assert types(events) == ["input_audio_buffer.committed", "conversation.item.added", "conversation.item.done"]
    assert len(base64.b64decode(events[1]["item"]["content"][0]["audio"])) == 2 * 24 * 300
    assert session.audio_buffer == bytearray()
    assert types(run(session, {"type": "response.create"}))[-1] == "response.done"


def test_manual_commit_in_the_middle_of_a_vad_turn() -> None:
    session = opened()
    run(session, append(tone(300)))
    committed = run(session, {"type": "input_audio_buffer.commit"})
    assert types(committed)[0] == "input_audio_buffer.committed"
    assert run(session, append(silence(600))) == []  # the turn was committed: no speech_stopped follows


def test_input_audio_transcription() -> None:
    session = opened(audio={"input": {"turn_detection": None, "transcription": {"model": "gpt-4o-transcribe"}}})
    run(session, append(tone(1200)))
    events = run(session, {"type": "input_audio_buffer.commit"})
    assert types(events) == [
        "input_audio_buffer.committed",
        "conversation.item.added",
        "conversation.item.done",
        "conversation.item.input_audio_transcription.delta",
        "conversation.item.input_audio_transcription.completed",
    ]
    completed = events[-1]
    transcript = completed["transcript"]
    assert transcript and completed["item_id"] == events[1]["item"]["id"]
    assert completed["usage"]["type"] == "tokens" and completed["usage"]["input_tokens"] == 12
    assert session.items[0]["content"][0]["transcript"] == transcript
    # silence transcribes to nothing; whisper-1 bills by duration
    run(session, session_update(audio={"input": {"transcription": {"model": "whisper-1"}}}))
    run(session, append(silence(500)))
    done = run(session, {"type": "input_audio_buffer.commit"})[-1]
    assert done["transcript"] == "" and done["usage"] == {"type": "duration", "seconds": 0.5}

    again = opened(audio={"input": {"turn_detection": None, "transcription": {"model": "gpt-4o-transcribe"}}})
    run(again, append(tone(1200)))
    assert run(again, {"type": "input_audio_buffer.commit"})[-1]["transcript"] == transcript  # deterministic


@pytest.mark.parametrize(
    ("detection", "code", "param"),
    [
        ({"type": "loud"}, "invalid_value", "session.audio.input.turn_detection.type"),
        ({"threshold": 0.5}, "missing_required_parameter", "session.audio.input.turn_detection.type"),
        (
            {"type": "server_vad", "threshold": 1.5},
            "decimal_above_max_value",
            "session.audio.input.turn_detection.threshold",
        ),
        (
            {"type": "server_vad", "silence_duration_ms": "long"},
            "invalid_type",
            "session.audio.input.turn_detection.silence_duration_ms",
        ),
        (
            {"type": "server_vad", "eagerness": "high"},
            "unknown_parameter",
            "session.audio.input.turn_detection.eagerness",
        ),
        ("on", "invalid_type", "session.audio.input.turn_detection"),
    ],
)
def test_bad_turn_detection(detection: Any, code: str, param: str) -> None:
    session = opened()
    [error] = run(session, session_update(audio={"input": {"turn_detection": detection}}))
    assert (error["error"]["code"], error["error"]["param"]) == (code, param)


# -- pacing ------------------------------------------------------------------------------------------
def test_response_events_are_due_after_ttft_then_itl_apart() -> None:
    sim = FakeAI(seed=1, ttft=0.5, itl=0.1)
    session = opened(sim)
    run(session, user("Tell me about cats"))
    start = sim.clock.elapsed()
    timed = session.handle_timed({"type": "response.create", "response": {"max_output_tokens": 5}})
    dues = {e["type"]: due for due, e in timed}
    deltas = [due for due, e in timed if e["type"] == "response.output_text.delta"]
    assert dues["response.created"] == start
    assert deltas == pytest.approx([start + 0.5 + 0.1 * k for k in range(5)])
    assert dues["response.done"] == pytest.approx(start + 0.5 + 0.1 * 5)
    assert [due for due, _ in timed] == sorted(due for due, _ in timed)
    assert sim.clock.elapsed() == pytest.approx(start + 1.0)  # the virtual clock moved on, nothing waited
    call = sim.calls.last
    assert (call.started, call.ended) == (pytest.approx(start), pytest.approx(start + 1.0))


# -- function tools ----------------------------------------------------------------------------------
def _call_round_trip(session: RealtimeSession, text: str) -> list[dict[str, Any]]:
    run(session, user(text))
    return run(session, {"type": "response.create"})


def test_the_model_calls_a_relevant_tool_with_valid_arguments() -> None:
    session = opened(tools=[STOCKS, WEATHER])
    events = _call_round_trip(session, "What is the weather like in Paris today?")
    kinds = types(events)
    deltas = kinds.count("response.function_call_arguments.delta")
    assert deltas > 0
    assert kinds == [
        "response.created",
        "response.output_item.added",
        "conversation.item.added",
        *["response.function_call_arguments.delta"] * deltas,
        "response.function_call_arguments.done",
        "response.output_item.done",
        "conversation.item.done",
        "response.done",
    ]
    added = events[1]["item"]
    assert (added["type"], added["name"], added["status"], added["arguments"]) == (
        "function_call",
        "get_weather",
        "in_progress",
        "",
    )
    done = only(events, "response.function_call_arguments.done")
    streamed = "".join(e["delta"] for e in events if e["type"] == "response.function_call_arguments.delta")
    assert streamed == done["arguments"] and done["call_id"] == added["call_id"]
    arguments = json.loads(done["arguments"])
    jsonschema.validate(arguments, WEATHER["parameters"])
    assert arguments["city"] == "Paris"  # the user's words, where the schema allows them
    output = events[-1]["response"]["output"]
    assert [(o["type"], o["status"], o["arguments"]) for o in output] == [
        ("function_call", "completed", done["arguments"])
    ]
    assert events[-1]["response"]["usage"]["output_tokens"] > 0
    # the result goes back, and the model answers in words
    run(
        session,
        {
            "type": "conversation.item.create",
            "item": {"type": "function_call_output", "call_id": done["call_id"], "output": '{"temp": 21}'},
        },
    )
    answer = run(session, {"type": "response.create"})
    assert "response.output_text.delta" in types(answer)
    assert [i["type"] for i in session.items] == ["message", "function_call", "function_call_output", "message"]


@pytest.mark.parametrize(
    ("tool_choice", "text", "called"),
    [
        ("auto", "Tell me a story about dragons", None),
        ("none", "What is the weather in Paris?", None),
        ("required", "Tell me a story about dragons", "get_stock_price"),
        ({"type": "function", "name": "get_weather"}, "Tell me a story", "get_weather"),
    ],
)
def test_tool_choice(tool_choice: Any, text: str, called: str | None) -> None:
    session = opened(tools=[STOCKS, WEATHER], tool_choice=tool_choice)
    output = _call_round_trip(session, text)[-1]["response"]["output"]
    if called is None:
        assert [o["type"] for o in output] == ["message"]
    else:
        assert [(o["type"], o["name"]) for o in output] == [("function_call", called)]


def test_response_level_tools_override_the_session() -> None:
    session = opened()
    run(session, user("Tell me a story"))
    events = run(
        session,
        {"type": "response.create", "response": {"tools": [WEATHER], "tool_choice": "required"}},
    )
    assert events[-1]["response"]["output"][0]["name"] == "get_weather"


def test_client_function_call_items_join_the_conversation() -> None:
    session = opened(tools=[WEATHER])
    call = {"type": "function_call", "name": "get_weather", "call_id": "call_1", "arguments": '{"city":"Oslo"}'}
    result = {"type": "function_call_output", "call_id": "call_1", "output": "cold"}
    assert types(run(session, {"type": "conversation.item.create", "item": call}))[0] == "conversation.item.added"
    run(session, {"type": "conversation.item.create", "item": result})
    assert types(run(session, {"type": "response.create"}))[-1] == "response.done"


@pytest.mark.parametrize(
    ("update", "code", "param"),
    [
        ({"tools": {"name": "x"}}, "invalid_type", "session.tools"),
        ({"tools": [{"type": "function"}]}, "missing_required_parameter", "session.tools[0].name"),
        ({"tools": [{"type": "function", "name": "bad name"}]}, "invalid_value", "session.tools[0].name"),
        ({"tools": [{"type": "code"}]}, "invalid_value", "session.tools[0].type"),
        (
            {"tools": [{"type": "function", "name": "f", "parameters": {"type": "object", "minProperties": "x"}}]},
            "invalid_function_parameters",
            "session.tools[0].parameters",
        ),
        ({"tool_choice": "sometimes"}, "invalid_value", "session.tool_choice"),
        (
            {"tools": [WEATHER], "tool_choice": {"type": "function", "name": "nope"}},
            "invalid_value",
            "session.tool_choice",
        ),
    ],
)
def test_bad_tools(update: dict[str, Any], code: str, param: str) -> None:
    session = opened()
    [error] = run(session, session_update(**update))
    assert (error["error"]["code"], error["error"]["param"]) == (code, param)
    assert types(run(session, user("hi"), {"type": "response.create"}))[-1] == "response.done"


# -- scripting -----------------------------------------------------------------------------------
def test_scripted_tool_call_then_scripted_answer() -> None:
    sim = FakeAI(seed=1)
    asked = sim.on(contains="weather").reply(tool_call=("get_weather", {"city": "Paris", "unit": "celsius"}))
    answered = sim.on(after_tool="get_weather").reply("It is sunny in Paris.")
    session = opened(sim, tools=[WEATHER])
    events = _call_round_trip(session, "How is the weather?")
    done = only(events, "response.function_call_arguments.done")
    assert (done["name"], json.loads(done["arguments"])) == ("get_weather", {"city": "Paris", "unit": "celsius"})
    assert sim.calls.last.rule is asked
    run(
        session,
        {
            "type": "conversation.item.create",
            "item": {"type": "function_call_output", "call_id": done["call_id"], "output": "sunny"},
        },
    )
    answer = run(session, {"type": "response.create"})
    text = "".join(e["delta"] for e in answer if e["type"] == "response.output_text.delta")
    assert text == "It is sunny in Paris." == answer[-1]["response"]["output"][0]["content"][0]["text"]
    assert sim.calls.last.rule is answered
    sim.assert_all_used()


def test_scripted_text_is_spoken_in_audio_and_cut_by_max_output_tokens() -> None:
    sim = FakeAI(seed=1)
    sim.on(contains="Hi").reply("Hello there, how can I help you today?")
    session = RealtimeSession(sim)
    run(session, user("Hi"))
    events = run(session, {"type": "response.create"})
    assert only(events, "response.output_audio_transcript.done")["transcript"] == (
        "Hello there, how can I help you today?"
    )
    run(session, user("Hi again"))
    done = run(session, {"type": "response.create", "response": {"max_output_tokens": 2}})[-1]
    assert done["response"]["status"] == "incomplete"


def test_scripted_error_fails_the_response() -> None:
    sim = FakeAI(seed=1)
    sim.on(contains="boom").reply(error=503)
    session = opened(sim)
    events = _call_round_trip(session, "boom")
    assert types(events) == ["response.created", "response.done"]
    response = validated(events[-1]).response
    assert response.status == "failed"
    assert response.status_details.error.code == "server_is_overloaded"
    assert sim.calls.last.response.status == 503
    assert types(_call_round_trip(session, "fine now"))[-1] == "response.done"


def test_scripted_rules_see_the_conversation_as_a_chat_request() -> None:
    sim = FakeAI(seed=1)
    seen: list[dict[str, Any]] = []
    sim.on(where=lambda data: bool(seen.append(data))).reply("unused")
    session = opened(sim, instructions="Be brief.", tools=[WEATHER])
    _call_round_trip(session, "Hello")
    [data] = seen
    assert data["model"] == "gpt-realtime"
    assert data["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"}]
    assert data["tools"][0]["function"]["name"] == "get_weather"


def test_same_seed_same_turns() -> None:
    def conversation(seed: int) -> list[dict[str, Any]]:
        session = opened(FakeAI(seed=seed), tools=[WEATHER])
        audio = append(silence(200) + tone(500) + silence(600))
        return run(session, audio, user("What is the weather in Rome?"), {"type": "response.create"})

    assert conversation(3) == conversation(3)
    assert conversation(3) != conversation(4)


# -- the ASGI websocket: auth refusal and pacing, no sockets -----------------------------------------
def _drive(sim: FakeAI, incoming: list[dict[str, Any]], *, extensions: bool = True) -> list[dict[str, Any]]:
    from pytest_fakeai.adapters.asgi import make_app

    sent: list[dict[str, Any]] = []
    queue = [{"type": "websocket.connect"}, *incoming, {"type": "websocket.disconnect", "code": 1000}]

    async def receive() -> dict[str, Any]:
        return queue.pop(0)

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    scope: dict[str, Any] = {
        "type": "websocket",
        "path": "/v1/realtime",
        "query_string": b"",
        "headers": [(b"authorization", b"Bearer sk-wrong-key-1234")],
    }
    if extensions:
        scope["extensions"] = {"websocket.http.response": {}}
    asyncio.run(make_app(sim)(scope, receive, send))
    return sent


def test_asgi_refuses_a_bad_key_with_http_401() -> None:
    sent = _drive(FakeAI(api_keys=["sk-good"]), [])
    assert [m["type"] for m in sent] == ["websocket.http.response.start", "websocket.http.response.body"]
    assert sent[0]["status"] == 401
    body = json.loads(sent[1]["body"])
    assert body["error"]["code"] == "invalid_api_key" and "sk-" in body["error"]["message"]


def test_asgi_without_the_http_response_extension_closes_before_accepting() -> None:
    sent = _drive(FakeAI(api_keys=["sk-good"]), [], extensions=False)
    assert [(m["type"], m["code"]) for m in sent] == [("websocket.close", 1008)]


def test_asgi_stops_pacing_when_the_client_leaves() -> None:
    sim = FakeAI(seed=1, clock="real", ttft=30.0)
    frames = [
        {"type": "websocket.receive", "text": json.dumps(user("Hi"))},
        {"type": "websocket.receive", "text": json.dumps({"type": "response.create"})},
    ]
    began = time.monotonic()
    sent = _drive(sim, frames)
    assert time.monotonic() - began < 5  # not the 30 s of simulated time to the first token
    kinds = [json.loads(m["text"])["type"] for m in sent if m["type"] == "websocket.send"]
    assert kinds[-1] == "response.created"


# -- over a real port, with the openai SDK ---------------------------------------------------------------
pytest.importorskip("websockets")


@pytest.fixture
def port(serve: Callable[..., Server]) -> Callable[..., tuple[FakeAI, Server]]:
    def start(**settings: Any) -> tuple[FakeAI, Server]:
        sim = FakeAI(seed=1, **settings)
        return sim, serve(sim)

    return start


def _until_done(conn: Any, seen: list[Any] | None = None) -> Any:
    for event in conn:
        if seen is not None:
            seen.append(event)
        if event.type == "response.done":
            return event
    raise AssertionError("the connection ended before response.done")


def test_sdk_real_clock_paces_the_deltas(port: Callable[..., tuple[FakeAI, Server]]) -> None:
    _, server = port(clock="real", ttft=0.2, itl=0.02)
    client = openai.OpenAI(base_url=server.url, api_key="sk-test", websocket_base_url=ws_url(server))
    with client.realtime.connect(model="gpt-realtime") as conn:
        conn.recv()
        conn.session.update(session={"type": "realtime", "output_modalities": ["text"]})
        conn.recv()
        conn.conversation.item.create(
            item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hi"}]}
        )
        conn.recv(), conn.recv()  # conversation.item.added / done
        sent = time.monotonic()
        conn.response.create(response={"max_output_tokens": 10})
        arrivals = []
        for event in conn:
            if event.type == "response.output_text.delta":
                arrivals.append(time.monotonic())
            elif event.type == "response.done":
                break
    assert len(arrivals) == 10
    # no delta comes before it is due: ttft, then one itl per token (a slow machine only adds delay)
    for k, arrived in enumerate(arrivals):
        assert arrived - sent >= 0.2 + 0.02 * k - 0.005
    assert event.response.status == "incomplete"


def test_sdk_virtual_clock_does_not_wait(port: Callable[..., tuple[FakeAI, Server]]) -> None:
    sim, server = port(ttft=5.0, itl=1.0)
    client = openai.OpenAI(base_url=server.url, api_key="sk-test", websocket_base_url=ws_url(server))
    began = time.monotonic()
    with client.realtime.connect(model="gpt-realtime") as conn:
        conn.recv()
        conn.conversation.item.create(
            item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hi"}]}
        )
        conn.response.create(response={"max_output_tokens": 4})
        _until_done(conn)
    assert time.monotonic() - began < 3
    assert sim.clock.elapsed() >= 5.0 + 4 * 1.0  # simulated time still moved on


def test_sdk_async_server_vad_turn_with_transcription(port: Callable[..., tuple[FakeAI, Server]]) -> None:
    sim, server = port()

    async def main() -> list[Any]:
        client = openai.AsyncOpenAI(base_url=server.url, api_key="sk-test", websocket_base_url=ws_url(server))
        async with client.realtime.connect(model="gpt-realtime") as conn:
            await conn.recv()
            await conn.session.update(
                session={
                    "type": "realtime",
                    "output_modalities": ["text"],
                    "audio": {"input": {"transcription": {"model": "gpt-4o-transcribe"}}},
                }
            )
            await conn.recv()
            audio = silence(200) + tone(600) + silence(600)
            for offset in range(0, len(audio), 960 * 5):  # 100 ms chunks, as a microphone would send
                await conn.input_audio_buffer.append(audio=base64.b64encode(audio[offset : offset + 4800]).decode())
            events = []
            async for event in conn:
                events.append(event)
                if event.type == "response.done":
                    return events
        raise AssertionError("no response.done")

    events = asyncio.run(main())
    for event in events:
        validated(event.to_dict(mode="json"))
    kinds = [e.type for e in events]
    assert kinds[:4] == [
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
        "conversation.item.added",
    ]
    assert "conversation.item.input_audio_transcription.completed" in kinds
    assert (events[0].audio_start_ms, events[1].audio_end_ms) == (0, 1300)
    assert sim.calls.last.transport == "websocket"


def test_sdk_sync_tool_call_round_trip_with_scripting(port: Callable[..., tuple[FakeAI, Server]]) -> None:
    sim, server = port()
    sim.on(contains="weather").reply(tool_call=("get_weather", {"city": "Paris", "unit": "celsius"}))
    sim.on(after_tool="get_weather").reply("It is sunny in Paris.")
    client = openai.OpenAI(base_url=server.url, api_key="sk-test", websocket_base_url=ws_url(server))
    with client.realtime.connect(model="gpt-realtime") as conn:
        conn.recv()
        conn.session.update(session={"type": "realtime", "output_modalities": ["text"], "tools": [WEATHER]})
        conn.recv()
        conn.conversation.item.create(
            item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": "What's the weather?"}]}
        )
        conn.response.create()
        seen: list[Any] = []
        done = _until_done(conn, seen)
        [call] = done.response.output
        assert (call.type, call.name, json.loads(call.arguments)) == (
            "function_call",
            "get_weather",
            {"city": "Paris", "unit": "celsius"},
        )
        assert "response.function_call_arguments.delta" in [e.type for e in seen]
        conn.conversation.item.create(item={"type": "function_call_output", "call_id": call.call_id, "output": "sunny"})
        conn.response.create()
        answer = _until_done(conn)
    assert answer.response.output[0].content[0].text == "It is sunny in Paris."
    sim.assert_all_used()


def test_sdk_bad_key_is_refused_with_401(port: Callable[..., tuple[FakeAI, Server]]) -> None:
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    _, server = port(api_keys=["sk-good-key-0001"])
    client = openai.OpenAI(base_url=server.url, api_key="sk-wrong-key-9999", websocket_base_url=ws_url(server))
    with pytest.raises(InvalidStatus) as info, client.realtime.connect(model="gpt-realtime"):
        pass
    assert info.value.response.status_code == 401
    error = json.loads(info.value.response.body)["error"]
    assert error["code"] == "invalid_api_key"
    assert error["message"].startswith("Incorrect API key provided: sk-")
    realtime_url = ws_url(server) + "/realtime"
    with pytest.raises(InvalidStatus) as info:
        connect(realtime_url, open_timeout=5)  # no key at all
    assert "didn't provide an API key" in json.loads(info.value.response.body)["error"]["message"]
    good = openai.OpenAI(base_url=server.url, api_key="sk-good-key-0001", websocket_base_url=ws_url(server))
    with good.realtime.connect(model="gpt-realtime") as conn:
        assert conn.recv().type == "session.created"


def test_the_docs_examples_run() -> None:
    from pathlib import Path

    page = Path(__file__).resolve().parents[2] / "docs" / "realtime.md"
    blocks = [b for b in re.findall(r"```python\n(.*?)```", page.read_text(), re.S) if "def test_" not in b]
    assert len(blocks) == 3
    for block in blocks:
        exec(compile(block, "docs/realtime.md", "exec"), {})


def test_realtime_responses_are_counted_in_the_metrics(serve: Any) -> None:
    sim = FakeAI()
    server = serve(sim)
    client = openai.OpenAI(base_url=server.url, api_key="sk-x", websocket_base_url=ws_url(server))
    with client.realtime.connect(model="gpt-realtime") as conn:
        conn.session.update(session={"type": "realtime", "output_modalities": ["text"]})
        conn.conversation.item.create(
            item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}
        )
        conn.response.create()
        for event in conn:
            if event.type == "response.done":
                usage = event.response.usage
                break
    assert sim.metrics.requests(endpoint="/v1/realtime", status=200) == 1
    assert sim.metrics.tokens().completion == usage.output_tokens
