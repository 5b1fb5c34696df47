"""The Realtime API: the protocol without sockets, then the openai SDK's realtime client over a real port."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable, MutableMapping
from typing import Any, get_args

import pytest

from pytest_fakeai import FakeAI
from pytest_fakeai.adapters.server import Server
from pytest_fakeai.api.realtime import RealtimeSession
from tests.server.conftest import ws_url

openai = pytest.importorskip("openai")
realtime_types = pytest.importorskip("openai.types.realtime")

USER_HI = {
    "type": "conversation.item.create",
    "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Tell me about cats"}]},
}
TEXT_ONLY = {"type": "session.update", "session": {"type": "realtime", "output_modalities": ["text"]}}


def _server_event_models() -> dict[str, Any]:
    union = get_args(realtime_types.RealtimeServerEvent)[0]
    models: dict[str, Any] = {}
    for model in get_args(union):
        for name in get_args(model.model_fields["type"].annotation):
            models[name] = model
    return models


MODELS = _server_event_models()


def validated(event: dict[str, Any]) -> Any:
    """``event`` checked against the SDK's pydantic model for its type (strict: required fields, literals)."""
    assert event["type"] in MODELS, f"not a GA server event: {event['type']}"
    return MODELS[event["type"]].model_validate(event)


def run(session: RealtimeSession, *events: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for event in events:
        out.extend(session.handle(event if isinstance(event, (str, bytes)) else json.dumps(event)))
    for event in out:
        validated(event)
    return out


def types(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in events]


# -- the protocol, no sockets ---------------------------------------------------------------------
def test_session_created_on_open() -> None:
    session = RealtimeSession(FakeAI(seed=1), "gpt-realtime")
    [created] = session.open()
    event = validated(created)
    assert event.type == "session.created"
    assert created["session"]["model"] == "gpt-realtime"
    assert created["session"]["output_modalities"] == ["audio"]
    assert created["session"]["id"].startswith("sess_")


def test_text_conversation() -> None:
    sim = FakeAI(seed=1)
    session = RealtimeSession(sim)
    session.open()
    updated = run(session, TEXT_ONLY)
    assert types(updated) == ["session.updated"]
    assert updated[0]["session"]["output_modalities"] == ["text"]
    added = run(session, USER_HI)
    assert types(added) == ["conversation.item.added", "conversation.item.done"]
    user_id = added[0]["item"]["id"]

    events = run(session, {"type": "response.create", "event_id": "evt_1"})
    kinds = types(events)
    deltas = kinds.count("response.output_text.delta")
    assert deltas > 0
    assert kinds == [
        "response.created",
        "response.output_item.added",
        "conversation.item.added",
        "response.content_part.added",
        *["response.output_text.delta"] * deltas,
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "conversation.item.done",
        "response.done",
    ]
    text = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    [done_text] = [e["text"] for e in events if e["type"] == "response.output_text.done"]
    assert text == done_text and text
    done = validated(events[-1])
    assert done.response.status == "completed"
    assert done.response.output[0].content[0].text == text
    assert done.response.usage.input_tokens > 0
    assert done.response.usage.output_tokens == deltas
    assert done.response.usage.total_tokens == done.response.usage.input_tokens + deltas
    assert events[2]["previous_item_id"] == user_id
    ids = [e["event_id"] for e in events]
    assert len(set(ids)) == len(ids)
    # the reply is part of the conversation now, and the exchange is recorded
    assert [i["role"] for i in session.items] == ["user", "assistant"]
    call = sim.calls.last
    assert call.transport == "websocket" and call.request.path == "/v1/realtime"
    assert call.response.json["type"] == "response.done"


def test_audio_response_has_transcript_and_pcm16_audio() -> None:
    session = RealtimeSession(FakeAI(seed=3))
    session.open()
    run(session, USER_HI)
    events = run(session, {"type": "response.create"})
    kinds = types(events)
    assert "response.output_text.delta" not in kinds
    transcript = "".join(e["delta"] for e in events if e["type"] == "response.output_audio_transcript.delta")
    [done] = [e for e in events if e["type"] == "response.output_audio_transcript.done"]
    assert transcript == done["transcript"] and transcript
    audio = b"".join(base64.b64decode(e["delta"]) for e in events if e["type"] == "response.output_audio.delta")
    assert audio and len(audio) % 2 == 0
    assert kinds.index("response.output_audio.done") > kinds.index("response.output_audio.delta")
    usage = events[-1]["response"]["usage"]
    assert usage["output_token_details"]["audio_tokens"] > 0
    assert events[-1]["response"]["output"][0]["content"][0] == {"type": "output_audio", "transcript": transcript}


def test_same_seed_same_events() -> None:
    def conversation(seed: int) -> list[dict[str, Any]]:
        session = RealtimeSession(FakeAI(seed=seed))
        return session.open() + run(session, TEXT_ONLY, USER_HI, {"type": "response.create"})

    assert conversation(5) == conversation(5)
    assert conversation(5) != conversation(6)


def test_max_output_tokens_makes_an_incomplete_response() -> None:
    session = RealtimeSession(FakeAI(seed=1))
    events = run(session, TEXT_ONLY, USER_HI, {"type": "response.create", "response": {"max_output_tokens": 3}})
    assert types(events).count("response.output_text.delta") == 3
    response = events[-1]["response"]
    assert response["status"] == "incomplete"
    assert response["status_details"]["reason"] == "max_output_tokens"


def test_out_of_band_response_leaves_the_conversation_alone() -> None:
    session = RealtimeSession(FakeAI(seed=1))
    run(session, TEXT_ONLY, USER_HI)
    events = run(session, {"type": "response.create", "response": {"conversation": "none", "metadata": {"k": "v"}}})
    assert "conversation.item.added" not in types(events)
    assert events[-1]["response"]["conversation_id"] is None
    assert events[-1]["response"]["metadata"] == {"k": "v"}
    assert len(session.items) == 1


@pytest.mark.parametrize(
    ("frame", "code", "param"),
    [
        ("{not json", "invalid_json", None),
        ("[1, 2]", "invalid_type", None),
        ({"event_id": "c1"}, "missing_required_parameter", "type"),
        ({"type": "nope", "event_id": "c1"}, "invalid_value", "type"),
        ({"type": "session.update", "event_id": "c1"}, "missing_required_parameter", "session"),
        ({"type": "session.update", "event_id": "c1", "session": {}}, "missing_required_parameter", "session.type"),
        (
            {"type": "session.update", "event_id": "c1", "session": {"type": "realtime", "x": 1}},
            "unknown_parameter",
            "session.x",
        ),
        (
            {
                "type": "session.update",
                "event_id": "c1",
                "session": {"type": "realtime", "output_modalities": ["video"]},
            },
            "invalid_value",
            "session.output_modalities",
        ),
        ({"type": "conversation.item.create", "event_id": "c1"}, "missing_required_parameter", "item"),
        (
            {"type": "conversation.item.create", "event_id": "c1", "item": {"type": "message", "role": "robot"}},
            "invalid_value",
            "item.role",
        ),
        ({"type": "conversation.item.delete", "event_id": "c1", "item_id": "missing"}, "item_not_found", "item_id"),
        ({"type": "input_audio_buffer.append", "event_id": "c1", "audio": "%%%"}, "invalid_value", "audio"),
        ({"type": "input_audio_buffer.commit", "event_id": "c1"}, "input_audio_buffer_commit_empty", None),
        (
            {"type": "response.create", "event_id": "c1", "response": {"bogus": 1}},
            "unknown_parameter",
            "response.bogus",
        ),
        (
            {"type": "response.create", "event_id": "c1", "response": {"max_output_tokens": 0}},
            "integer_out_of_range",
            "response.max_output_tokens",
        ),
        ({"type": "response.cancel", "event_id": "c1"}, "response_cancel_not_active", None),
    ],
)
def test_bad_events_get_an_error_event(frame: Any, code: str, param: str | None) -> None:
    session = RealtimeSession(FakeAI(seed=1))
    [error] = run(session, frame)
    event = validated(error)
    assert event.type == "error"
    assert event.error.type == "invalid_request_error"
    assert (event.error.code, event.error.param) == (code, param)
    assert event.error.event_id == ("c1" if isinstance(frame, dict) else None)
    # the session is unharmed
    assert types(run(session, TEXT_ONLY, {"type": "response.create"}))[-1] == "response.done"


def test_input_audio_buffer() -> None:
    session = RealtimeSession(FakeAI(seed=1))
    audio = base64.b64encode(b"\0\0" * 4800).decode()  # 200 ms
    assert run(session, {"type": "input_audio_buffer.append", "audio": audio}) == []
    assert types(run(session, {"type": "input_audio_buffer.clear"})) == ["input_audio_buffer.cleared"]
    run(session, {"type": "input_audio_buffer.append", "audio": audio})
    events = run(session, {"type": "input_audio_buffer.commit"})
    assert types(events) == ["input_audio_buffer.committed", "conversation.item.added", "conversation.item.done"]
    assert events[0]["item_id"] == events[1]["item"]["id"]
    assert events[1]["item"]["content"][0]["type"] == "input_audio"
    done = run(session, TEXT_ONLY, {"type": "response.create"})[-1]
    assert done["response"]["usage"]["input_token_details"]["audio_tokens"] == 2


def test_items_delete_retrieve_and_placement() -> None:
    session = RealtimeSession(FakeAI(seed=1))
    first = run(session, USER_HI)[0]["item"]["id"]
    second = {
        "type": "message",
        "role": "system",
        "id": "sys_1",
        "content": [{"type": "input_text", "text": "Be brief."}],
    }
    added = run(session, {"type": "conversation.item.create", "previous_item_id": "root", "item": second})
    assert added[0]["previous_item_id"] is None
    assert [i["id"] for i in session.items] == ["sys_1", first]
    [retrieved] = run(session, {"type": "conversation.item.retrieve", "item_id": "sys_1"})
    assert retrieved["item"]["role"] == "system"
    assert types(run(session, {"type": "conversation.item.delete", "item_id": "sys_1"})) == [
        "conversation.item.deleted"
    ]
    assert [i["id"] for i in session.items] == [first]


# -- the ASGI websocket branch, no sockets -------------------------------------------------------------
def _drive_websocket(path: str, query: bytes, incoming: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from pytest_fakeai.adapters.asgi import make_app

    sent: list[dict[str, Any]] = []
    queue = [{"type": "websocket.connect"}, *incoming, {"type": "websocket.disconnect", "code": 1000}]

    async def receive() -> dict[str, Any]:
        return queue.pop(0)

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    scope = {"type": "websocket", "path": path, "query_string": query, "headers": []}
    asyncio.run(make_app(FakeAI(seed=1))(scope, receive, send))
    return sent


def test_asgi_realtime_pumps_text_frames() -> None:
    frames: list[dict[str, Any]] = [
        {"type": "websocket.receive", "text": json.dumps(TEXT_ONLY)},
        {"type": "websocket.receive", "bytes": b"{"},
    ]
    sent = _drive_websocket("/v1/realtime", b"model=gpt-4o-realtime-preview", frames)
    assert sent[0] == {"type": "websocket.accept"}
    events = [json.loads(m["text"]) for m in sent[1:]]
    assert types(events) == ["session.created", "session.updated", "error"]
    assert events[0]["session"]["model"] == "gpt-4o-realtime-preview"


def test_asgi_other_websocket_paths_are_closed_with_1008() -> None:
    sent = _drive_websocket("/v1/chat/completions", b"", [])
    assert sent == [{"type": "websocket.close", "code": 1008, "reason": "not served"}]


# -- over a real port, with the openai SDK ---------------------------------------------------------
pytest.importorskip("websockets")


@pytest.fixture
def sim() -> FakeAI:
    return FakeAI(seed=1)


@pytest.fixture
def server(serve: Callable[..., Server], sim: FakeAI) -> Server:
    return serve(sim)


def _conversation_sync(conn: Any) -> list[Any]:
    events = [conn.recv()]
    conn.session.update(session={"type": "realtime", "output_modalities": ["text"], "instructions": "Be brief."})
    events.append(conn.recv())
    conn.conversation.item.create(
        item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hi"}]}
    )
    conn.response.create()
    for event in conn:
        events.append(event)
        if event.type == "response.done":
            return events
    raise AssertionError("the connection ended before response.done")


def _check_conversation(events: list[Any]) -> None:
    assert events[0].type == "session.created"
    assert events[1].type == "session.updated"
    assert events[1].session.instructions == "Be brief."
    for event in events:
        validated(event.to_dict(mode="json"))
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    [done_text] = [e.text for e in events if e.type == "response.output_text.done"]
    assert text == done_text and text
    usage = events[-1].response.usage
    assert usage.input_tokens > 0 and usage.output_tokens > 0


def test_sdk_sync_client(server: Server, sim: FakeAI) -> None:
    client = openai.OpenAI(base_url=server.url, api_key="sk-test", websocket_base_url=ws_url(server))
    with client.realtime.connect(model="gpt-realtime") as conn:
        events = _conversation_sync(conn)
        _check_conversation(events)
        if not hasattr(conn, "send_raw"):  # openai 1.x cannot send an event its types do not know
            return
        # an invalid event: an error event, and the connection stays usable
        conn.send_raw(json.dumps({"type": "conversation.item.frobnicate", "event_id": "bad_1"}))
        error = conn.recv()
        assert error.type == "error" and error.error.event_id == "bad_1"
        conn.send_raw("this is not json")
        assert conn.recv().error.code == "invalid_json"
        conn.response.create()
        for event in conn:
            if event.type == "response.done":
                break
    assert sim.calls.total == 2 and all(call.transport == "websocket" for call in sim.calls)


def test_sdk_async_client(server: Server) -> None:
    async def main() -> list[Any]:
        client = openai.AsyncOpenAI(base_url=server.url, api_key="sk-test", websocket_base_url=ws_url(server))
        async with client.realtime.connect(model="gpt-realtime") as conn:
            events = [await conn.recv()]
            await conn.session.update(
                session={"type": "realtime", "output_modalities": ["text"], "instructions": "Be brief."}
            )
            events.append(await conn.recv())
            await conn.conversation.item.create(
                item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hi"}]}
            )
            await conn.response.create()
            async for event in conn:
                events.append(event)
                if event.type == "response.done":
                    break
            return events

    _check_conversation(asyncio.run(main()))


def test_sdk_audio_deltas(server: Server) -> None:
    client = openai.OpenAI(base_url=server.url, api_key="sk-test", websocket_base_url=ws_url(server))
    with client.realtime.connect(model="gpt-realtime") as conn:
        assert conn.recv().session.output_modalities == ["audio"]
        conn.conversation.item.create(
            item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hi"}]}
        )
        conn.response.create()
        audio, transcript = b"", ""
        for event in conn:
            if event.type == "response.output_audio.delta":
                audio += base64.b64decode(event.delta)
            elif event.type == "response.output_audio_transcript.delta":
                transcript += event.delta
            elif event.type == "response.done":
                break
    assert audio and transcript == event.response.output[0].content[0].transcript


def test_other_websocket_paths_are_refused(server: Server) -> None:
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    ws_url = server.url.replace("http://", "ws://")
    with pytest.raises(InvalidStatus):
        connect(ws_url + "/chat/completions", open_timeout=5)
    with connect(ws_url + "/realtime?model=gpt-4o-realtime-preview", open_timeout=5) as ws:
        created = json.loads(ws.recv(timeout=5))
        assert created["session"]["model"] == "gpt-4o-realtime-preview"
        ws.send(b"\xff\xfe binary")
        assert json.loads(ws.recv(timeout=5))["type"] == "error"
