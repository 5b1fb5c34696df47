"""The Realtime API's protocol, without a socket: client events in, server events out.

:class:`RealtimeSession` holds one ``/v1/realtime`` connection's state (the session
configuration, the conversation, the input audio buffer) and answers each client
event (a JSON text frame, or the dict it decodes to) with the list of server events
the GA Realtime API sends back, in order.  Text comes from the simulator's engine;
audio is a deterministic PCM16 tone, one chunk per transcript piece.  A bad event is
answered with an ``error`` event in the API's shape -- never an exception.

Everything is deterministic from the simulator's seed: ids come from the engine's
seeded id source, text from a random source derived from (seed, session id,
response number).  The websocket adapter (``adapters/asgi.py``) only pumps frames.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import math
import random
import re
import struct
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..engine.rng import derive_seed
from .errors import bad_json
from .types import ApiRequest

if TYPE_CHECKING:
    from ..engine.registry import ModelSpec
    from ..simulator import FakeAI

__all__ = [
    "AUDIO_RATE",
    "CLIENT_EVENTS",
    "DEFAULT_MODEL",
    "REALTIME_PATH",
    "RealtimeSession",
]

REALTIME_PATH = "/v1/realtime"
DEFAULT_MODEL = "gpt-realtime"
#: PCM16 mono sample rate of ``audio/pcm`` (the only rate the API uses).
AUDIO_RATE = 24000
_SAMPLES_PER_PIECE = AUDIO_RATE // 20  # 50 ms of audio per transcript piece
_BYTES_PER_AUDIO_TOKEN = AUDIO_RATE * 2 // 10  # ~1 audio token per 100 ms

CLIENT_EVENTS = (
    "session.update",
    "conversation.item.create",
    "conversation.item.delete",
    "conversation.item.retrieve",
    "conversation.item.truncate",
    "input_audio_buffer.append",
    "input_audio_buffer.commit",
    "input_audio_buffer.clear",
    "output_audio_buffer.clear",
    "response.create",
    "response.cancel",
)

_SESSION_KEYS = frozenset(
    {
        "type",
        "audio",
        "include",
        "instructions",
        "max_output_tokens",
        "model",
        "output_modalities",
        "parallel_tool_calls",
        "prompt",
        "reasoning",
        "tool_choice",
        "tools",
        "tracing",
        "truncation",
    }
)
_RESPONSE_KEYS = frozenset(
    {
        "audio",
        "conversation",
        "input",
        "instructions",
        "max_output_tokens",
        "metadata",
        "output_modalities",
        "prompt",
        "tool_choice",
        "tools",
    }
)
_ROLES = {
    "user": ("input_text", "input_audio", "input_image"),
    "system": ("input_text",),
    "assistant": ("output_text", "output_audio"),
}
_WORD = re.compile(r"[a-z]+")
_DEFAULT_INSTRUCTIONS = (
    "You are a helpful, witty, and friendly AI. Your voice and personality should be warm and engaging."
)


class _EventError(Exception):
    """A client event the API rejects: becomes an ``error`` server event."""

    def __init__(self, message: str, *, code: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.param = param


def _tone(start: int, count: int) -> bytes:
    """``count`` PCM16 little-endian samples of a quiet 440 Hz tone, from sample ``start``."""
    step = 2 * math.pi * 440 / AUDIO_RATE
    return struct.pack(f"<{count}h", *(int(2000 * math.sin(step * (start + i))) for i in range(count)))


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _expect(value: object, kind: type, param: str, expected: str) -> None:
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise _EventError(
            f"Invalid type for '{param}': expected {expected}, but got {_type_name(value)} instead.",
            code="invalid_type",
            param=param,
        )


def _invalid_value(param: str, value: object, allowed: tuple[str, ...]) -> _EventError:
    listed = ", ".join(f"'{a}'" for a in allowed)
    return _EventError(f"Invalid value: '{value}'. Supported values are: {listed}.", code="invalid_value", param=param)


def _max_tokens(value: object, param: str) -> int | str:
    if value == "inf":
        return "inf"
    if isinstance(value, bool) or not isinstance(value, int):
        raise _EventError(
            f"Invalid type for '{param}': expected an integer or 'inf', but got {_type_name(value)} instead.",
            code="invalid_type",
            param=param,
        )
    if not 1 <= value <= 4096:
        raise _EventError(
            f"Invalid '{param}': integer must be between 1 and 4096 or 'inf', got {value}.",
            code="integer_out_of_range",
            param=param,
        )
    return value


def _modalities(value: object, param: str) -> list[str]:
    _expect(value, list, param, "an array")
    assert isinstance(value, list)
    if len(value) != 1 or value[0] not in ("text", "audio"):
        raise _EventError(
            f"Invalid value for '{param}': expected exactly one of 'text' or 'audio', got {json.dumps(value)}.",
            code="invalid_value",
            param=param,
        )
    return [str(value[0])]


class RealtimeSession:
    """One Realtime connection: ``open()`` once, then ``handle(frame)`` per client event.

    ``sim`` is the :class:`~pytest_fakeai.FakeAI` answering; ``model`` the ``model=``
    query parameter of the connection (``gpt-realtime`` when absent).  Each
    ``response.create`` is recorded on ``sim.calls`` (transport ``"websocket"``,
    request body: the client event, response json: the ``response.done`` event).
    """

    def __init__(self, sim: FakeAI, model: str | None = None) -> None:
        self.sim = sim
        self.engine = sim.engine
        self.model = model or DEFAULT_MODEL
        self.spec: ModelSpec = self.engine.registry.resolve(self.model)
        self.id = self.engine.new_id("sess_", 24)
        self.conversation_id = self.engine.new_id("conv_", 24)
        self._events = random.Random(derive_seed(self.engine.seed, "realtime-events", self.id))
        self.session: dict[str, Any] = {
            "type": "realtime",
            "object": "realtime.session",
            "id": self.id,
            "model": self.model,
            "output_modalities": ["audio"],
            "instructions": _DEFAULT_INSTRUCTIONS,
            "tools": [],
            "tool_choice": "auto",
            "max_output_tokens": "inf",
            "tracing": None,
            "truncation": "auto",
            "prompt": None,
            "expires_at": int(self.engine.clock.now()) + 3600,
            "audio": {
                "input": {
                    "format": {"type": "audio/pcm", "rate": AUDIO_RATE},
                    "transcription": None,
                    "noise_reduction": None,
                    "turn_detection": None,
                },
                "output": {"format": {"type": "audio/pcm", "rate": AUDIO_RATE}, "voice": "alloy", "speed": 1.0},
            },
            "include": None,
        }
        self.items: list[dict[str, Any]] = []
        self.audio_buffer = bytearray()
        self.responses = 0
        self._tokenizer = self.engine.tokenizer(self.spec)

    # -- ids ----------------------------------------------------------------------------------
    def _event_id(self) -> str:
        return "event_" + "".join(
            self._events.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", k=21)
        )

    def _event(self, type_: str, **fields: Any) -> dict[str, Any]:
        return {"type": type_, "event_id": self._event_id(), **fields}

    def _error(self, exc: _EventError, client_event_id: object) -> dict[str, Any]:
        return self._event(
            "error",
            error={
                "type": "invalid_request_error",
                "code": exc.code,
                "message": exc.message,
                "param": exc.param,
                "event_id": client_event_id if isinstance(client_event_id, str) else None,
            },
        )

    def server_error(self, client_event_id: object = None) -> dict[str, Any]:
        """The ``error`` event for a simulator bug while handling an event (the adapter's last resort)."""
        event = self._error(
            _EventError("The server had an error while processing your request.", code="server_error"), client_event_id
        )
        event["error"]["type"] = "server_error"
        return event

    # -- the protocol -------------------------------------------------------------------------
    def open(self) -> list[dict[str, Any]]:
        """The events sent on connect: ``session.created``."""
        return [self._event("session.created", session=copy.deepcopy(self.session))]

    def handle(self, frame: str | bytes | Mapping[str, Any]) -> list[dict[str, Any]]:
        """The server events answering one client event (a JSON text frame or its dict)."""
        event: object = frame
        if isinstance(frame, (str, bytes)):
            try:
                event = json.loads(frame)
            except (ValueError, RecursionError):
                return [self._error(_EventError(bad_json().message, code="invalid_json"), None)]
        if not isinstance(event, Mapping):
            exc = _EventError(
                f"Invalid type for 'event': expected an object, but got {_type_name(event)} instead.",
                code="invalid_type",
            )
            return [self._error(exc, None)]
        client_id = event.get("event_id")
        try:
            if client_id is not None:
                _expect(client_id, str, "event_id", "a string")
            kind = event.get("type")
            if kind is None:
                raise _EventError(
                    "Missing required parameter: 'type'.", code="missing_required_parameter", param="type"
                )
            _expect(kind, str, "type", "a string")
            if kind not in CLIENT_EVENTS:
                raise _invalid_value("type", kind, CLIENT_EVENTS)
            method = getattr(self, "_on_" + str(kind).replace(".", "_"))
            result: list[dict[str, Any]] = method(event)
            return result
        except _EventError as exc:
            return [self._error(exc, client_id)]

    # -- session ------------------------------------------------------------------------------
    def _on_session_update(self, event: Mapping[str, Any]) -> list[dict[str, Any]]:
        update = event.get("session")
        if update is None:
            raise _EventError(
                "Missing required parameter: 'session'.", code="missing_required_parameter", param="session"
            )
        _expect(update, dict, "session", "an object")
        for key in update:
            if key not in _SESSION_KEYS:
                raise _EventError(
                    f"Unknown parameter: 'session.{key}'.", code="unknown_parameter", param=f"session.{key}"
                )
        if "type" not in update:
            raise _EventError(
                "Missing required parameter: 'session.type'.", code="missing_required_parameter", param="session.type"
            )
        if update["type"] != "realtime":
            raise _invalid_value("session.type", update["type"], ("realtime",))
        new = copy.deepcopy(self.session)
        for key, value in update.items():
            if key == "output_modalities":
                new[key] = _modalities(value, "session.output_modalities")
            elif key == "max_output_tokens":
                new[key] = _max_tokens(value, "session.max_output_tokens")
            elif key == "instructions":
                _expect(value, str, "session.instructions", "a string")
                new[key] = value
            elif key == "audio":
                _expect(value, dict, "session.audio", "an object")
                for side in value:
                    if side not in ("input", "output"):
                        raise _EventError(
                            f"Unknown parameter: 'session.audio.{side}'.",
                            code="unknown_parameter",
                            param=f"session.audio.{side}",
                        )
                    _expect(value[side], dict, f"session.audio.{side}", "an object")
                    new["audio"][side].update(copy.deepcopy(value[side]))
            elif key == "model":
                _expect(value, str, "session.model", "a string")
                new[key] = value
            elif key != "type":
                new[key] = copy.deepcopy(value)
        self.session = new
        return [self._event("session.updated", session=copy.deepcopy(self.session))]

    # -- conversation items -------------------------------------------------------------------
    def _index_after(self, previous: object) -> int:
        """Where an item goes after ``previous_item_id`` (None: the end; ``root``: the start)."""
        if previous is None:
            return len(self.items)
        _expect(previous, str, "previous_item_id", "a string")
        if previous == "root":
            return 0
        for i, item in enumerate(self.items):
            if item["id"] == previous:
                return i + 1
        raise _EventError(
            f"Previous item with id '{previous}' not found.", code="item_not_found", param="previous_item_id"
        )

    def _item(self, raw: object) -> dict[str, Any]:
        _expect(raw, dict, "item", "an object")
        assert isinstance(raw, dict)
        kind = raw.get("type", "message")
        item_id = raw.get("id")
        if item_id is not None:
            _expect(item_id, str, "item.id", "a string")
            if any(existing["id"] == item_id for existing in self.items):
                raise _EventError(
                    f"Item with id '{item_id}' already exists.", code="item_already_exists", param="item.id"
                )
        item: dict[str, Any] = {"id": item_id or self.engine.new_id("item_", 21), "object": "realtime.item"}
        if kind == "message":
            role = raw.get("role")
            if role is None:
                raise _EventError(
                    "Missing required parameter: 'item.role'.", code="missing_required_parameter", param="item.role"
                )
            if role not in _ROLES:
                raise _invalid_value("item.role", role, tuple(_ROLES))
            content = raw.get("content")
            if content is None:
                raise _EventError(
                    "Missing required parameter: 'item.content'.",
                    code="missing_required_parameter",
                    param="item.content",
                )
            _expect(content, list, "item.content", "an array")
            parts = []
            for i, part in enumerate(content):
                _expect(part, dict, f"item.content[{i}]", "an object")
                ptype = part.get("type")
                if ptype not in _ROLES[role]:
                    raise _invalid_value(f"item.content[{i}].type", ptype, _ROLES[role])
                parts.append(dict(part))
            item.update(type="message", status="completed", role=role, content=parts)
        elif kind == "function_call_output":
            for key in ("call_id", "output"):
                if not isinstance(raw.get(key), str):
                    raise _EventError(
                        f"Missing required parameter: 'item.{key}'.",
                        code="missing_required_parameter",
                        param=f"item.{key}",
                    )
            item.update(type=kind, status="completed", call_id=raw["call_id"], output=raw["output"])
        else:
            raise _invalid_value("item.type", kind, ("message", "function_call_output"))
        return item

    def _added(self, item: dict[str, Any], previous_id: str | None) -> list[dict[str, Any]]:
        return [
            self._event("conversation.item.added", previous_item_id=previous_id, item=copy.deepcopy(item)),
            self._event("conversation.item.done", previous_item_id=previous_id, item=copy.deepcopy(item)),
        ]

    def _insert(self, item: dict[str, Any], index: int) -> str | None:
        self.items.insert(index, item)
        return self.items[index - 1]["id"] if index > 0 else None

    def _on_conversation_item_create(self, event: Mapping[str, Any]) -> list[dict[str, Any]]:
        if "item" not in event:
            raise _EventError("Missing required parameter: 'item'.", code="missing_required_parameter", param="item")
        index = self._index_after(event.get("previous_item_id"))
        item = self._item(event["item"])
        return self._added(item, self._insert(item, index))

    def _find(self, event: Mapping[str, Any]) -> int:
        item_id = event.get("item_id")
        if item_id is None:
            raise _EventError(
                "Missing required parameter: 'item_id'.", code="missing_required_parameter", param="item_id"
            )
        _expect(item_id, str, "item_id", "a string")
        for i, item in enumerate(self.items):
            if item["id"] == item_id:
                return i
        raise _EventError(f"Item with item_id '{item_id}' not found.", code="item_not_found", param="item_id")

    def _on_conversation_item_delete(self, event: Mapping[str, Any]) -> list[dict[str, Any]]:
        item = self.items.pop(self._find(event))
        return [self._event("conversation.item.deleted", item_id=item["id"])]

    def _on_conversation_item_retrieve(self, event: Mapping[str, Any]) -> list[dict[str, Any]]:
        item = self.items[self._find(event)]
        return [self._event("conversation.item.retrieved", item=copy.deepcopy(item))]

    def _on_conversation_item_truncate(self, event: Mapping[str, Any]) -> list[dict[str, Any]]:
        item = self.items[self._find(event)]
        content_index = event.get("content_index", 0)
        audio_end_ms = event.get("audio_end_ms", 0)
        _expect(content_index, int, "content_index", "an integer")
        _expect(audio_end_ms, int, "audio_end_ms", "an integer")
        if item.get("role") != "assistant":
            raise _EventError("Only assistant messages can be truncated.", code="invalid_value", param="item_id")
        return [
            self._event(
                "conversation.item.truncated",
                item_id=item["id"],
                content_index=content_index,
                audio_end_ms=audio_end_ms,
            )
        ]

    # -- input audio buffer -------------------------------------------------------------------
    def _on_input_audio_buffer_append(self, event: Mapping[str, Any]) -> list[dict[str, Any]]:
        audio = event.get("audio")
        if audio is None:
            raise _EventError("Missing required parameter: 'audio'.", code="missing_required_parameter", param="audio")
        _expect(audio, str, "audio", "a string")
        try:
            self.audio_buffer += base64.b64decode(str(audio), validate=True)
        except (binascii.Error, ValueError):
            raise _EventError(
                "Invalid 'audio'. Expected base64-encoded audio bytes.", code="invalid_value", param="audio"
            ) from None
        return []  # the API does not acknowledge appends

    def _on_input_audio_buffer_commit(self, event: Mapping[str, Any]) -> list[dict[str, Any]]:
        ms = len(self.audio_buffer) / 2 / AUDIO_RATE * 1000
        if ms < 100:
            raise _EventError(
                "Error committing input audio buffer: buffer too small. Expected at least 100ms of audio, "
                f"but buffer only has {ms:.2f}ms of audio.",
                code="input_audio_buffer_commit_empty",
            )
        audio = base64.b64encode(bytes(self.audio_buffer)).decode("ascii")
        self.audio_buffer.clear()
        item = {
            "id": self.engine.new_id("item_", 21),
            "object": "realtime.item",
            "type": "message",
            "status": "completed",
            "role": "user",
            "content": [{"type": "input_audio", "audio": audio, "transcript": None}],
        }
        previous = self._insert(item, len(self.items))
        committed = self._event("input_audio_buffer.committed", previous_item_id=previous, item_id=item["id"])
        return [committed, *self._added(item, previous)]

    def _on_input_audio_buffer_clear(self, event: Mapping[str, Any]) -> list[dict[str, Any]]:
        self.audio_buffer.clear()
        return [self._event("input_audio_buffer.cleared")]

    def _on_output_audio_buffer_clear(self, event: Mapping[str, Any]) -> list[dict[str, Any]]:
        raise _EventError(
            "output_audio_buffer.clear is only supported for WebRTC connections.", code="invalid_value", param="type"
        )

    def _on_response_cancel(self, event: Mapping[str, Any]) -> list[dict[str, Any]]:
        # responses are sent whole, so there is never one in progress to cancel
        raise _EventError("Cancellation failed: no active response found.", code="response_cancel_not_active")

    # -- responses ----------------------------------------------------------------------------
    def _text_of(self, item: Mapping[str, Any]) -> tuple[str, int]:
        """An item's text and its audio bytes (for token counts)."""
        if item.get("type") == "function_call_output":
            return str(item.get("output", "")), 0
        texts: list[str] = []
        audio = 0
        for part in item.get("content", ()):
            for key in ("text", "transcript"):
                if isinstance(part.get(key), str):
                    texts.append(part[key])
            if isinstance(part.get("audio"), str):
                audio += len(part["audio"]) * 3 // 4
        return " ".join(texts), audio

    def _on_response_create(self, event: Mapping[str, Any]) -> list[dict[str, Any]]:
        params = event.get("response", {})
        if params is None:
            params = {}
        _expect(params, dict, "response", "an object")
        for key in params:
            if key not in _RESPONSE_KEYS:
                raise _EventError(
                    f"Unknown parameter: 'response.{key}'.", code="unknown_parameter", param=f"response.{key}"
                )
        modalities = self.session["output_modalities"]
        if "output_modalities" in params:
            modalities = _modalities(params["output_modalities"], "response.output_modalities")
        max_tokens = self.session["max_output_tokens"]
        if "max_output_tokens" in params:
            max_tokens = _max_tokens(params["max_output_tokens"], "response.max_output_tokens")
        instructions = params.get("instructions", self.session["instructions"])
        _expect(instructions, str, "response.instructions", "a string")
        conversation = params.get("conversation", "auto")
        if conversation not in ("auto", "none"):
            raise _invalid_value("response.conversation", conversation, ("auto", "none"))
        metadata = params.get("metadata")
        if metadata is not None:
            _expect(metadata, dict, "response.metadata", "an object")
        if "input" in params:
            _expect(params["input"], list, "response.input", "an array")
            context = []
            for raw in params["input"]:
                if isinstance(raw, dict) and raw.get("type") == "item_reference":
                    context.append(self.items[self._find({"item_id": raw.get("id")})])
                else:
                    context.append(self._item(raw))
        else:
            context = list(self.items) if conversation == "auto" else []
        voice = self.session["audio"]["output"].get("voice", "alloy")
        audio_cfg = params.get("audio")
        if isinstance(audio_cfg, dict) and isinstance(audio_cfg.get("output"), dict):
            voice = audio_cfg["output"].get("voice", voice)
        audio_out = {"output": {"format": self.session["audio"]["output"]["format"], "voice": voice}}

        # input tokens: instructions + context; the text to answer: topic words of the last user turn
        text_in, audio_in = instructions, 0
        topic = ""
        for turn in context:
            turn_text, turn_audio = self._text_of(turn)
            text_in += "\n" + turn_text
            audio_in += turn_audio
            if turn.get("role") == "user":
                topic = turn_text
        text_tokens_in = self._tokenizer.count(text_in) + 4 * len(context)
        audio_tokens_in = math.ceil(audio_in / _BYTES_PER_AUDIO_TOKEN)

        self.responses += 1
        rng = random.Random(derive_seed(self.engine.seed, "realtime", self.id, self.responses))
        generated = self.engine.generator.generate(
            rng, max_tokens=None if max_tokens == "inf" else int(max_tokens), topic_words=_WORD.findall(topic.lower())
        )
        pieces = generated.pieces
        audio = modalities == ["audio"]

        response_id = self.engine.new_id("resp_", 21)
        item_id = self.engine.new_id("item_", 21)
        in_conversation = conversation == "auto"
        response: dict[str, Any] = {
            "object": "realtime.response",
            "id": response_id,
            "status": "in_progress",
            "status_details": None,
            "output": [],
            "conversation_id": self.conversation_id if in_conversation else None,
            "output_modalities": modalities,
            "max_output_tokens": max_tokens,
            "audio": audio_out,
            "usage": None,
            "metadata": metadata,
        }
        events = [self._event("response.created", response=copy.deepcopy(response))]
        item: dict[str, Any] = {
            "id": item_id,
            "object": "realtime.item",
            "type": "message",
            "status": "in_progress",
            "role": "assistant",
            "content": [],
        }
        where = {"response_id": response_id, "item_id": item_id, "output_index": 0, "content_index": 0}
        events.append(
            self._event("response.output_item.added", response_id=response_id, output_index=0, item=copy.deepcopy(item))
        )
        previous = None
        if in_conversation:
            previous = self.items[-1]["id"] if self.items else None
            events.append(self._event("conversation.item.added", previous_item_id=previous, item=copy.deepcopy(item)))
        text = "".join(pieces)
        audio_bytes = 0
        if audio:
            events.append(self._event("response.content_part.added", **where, part={"type": "audio", "transcript": ""}))
            for piece in pieces:
                events.append(self._event("response.output_audio_transcript.delta", **where, delta=piece))
                chunk = _tone(audio_bytes // 2, _SAMPLES_PER_PIECE)
                audio_bytes += len(chunk)
                events.append(
                    self._event("response.output_audio.delta", **where, delta=base64.b64encode(chunk).decode("ascii"))
                )
            events.append(self._event("response.output_audio.done", **where))
            events.append(self._event("response.output_audio_transcript.done", **where, transcript=text))
            part = {"type": "audio", "transcript": text}
            content = {"type": "output_audio", "transcript": text}
        else:
            events.append(self._event("response.content_part.added", **where, part={"type": "text", "text": ""}))
            for piece in pieces:
                events.append(self._event("response.output_text.delta", **where, delta=piece))
            events.append(self._event("response.output_text.done", **where, text=text))
            part = {"type": "text", "text": text}
            content = {"type": "output_text", "text": text}
        events.append(self._event("response.content_part.done", **where, part=part))
        item.update(status="completed" if generated.finished else "incomplete", content=[content])
        events.append(
            self._event("response.output_item.done", response_id=response_id, output_index=0, item=copy.deepcopy(item))
        )
        if in_conversation:
            self.items.append(item)
            events.append(self._event("conversation.item.done", previous_item_id=previous, item=copy.deepcopy(item)))

        text_out = len(pieces)
        audio_out_tokens = math.ceil(audio_bytes / _BYTES_PER_AUDIO_TOKEN)
        input_tokens = text_tokens_in + audio_tokens_in
        output_tokens = text_out + audio_out_tokens
        response.update(
            status="completed" if generated.finished else "incomplete",
            status_details=None
            if generated.finished
            else {"type": "incomplete", "reason": "max_output_tokens", "error": None},
            output=[copy.deepcopy(item)],
            usage={
                "total_tokens": input_tokens + output_tokens,
                "input_tokens": input_tokens,
                "output_tokens": output_tokens,
                "input_token_details": {
                    "text_tokens": text_tokens_in,
                    "audio_tokens": audio_tokens_in,
                    "image_tokens": 0,
                    "cached_tokens": 0,
                    "cached_tokens_details": {"text_tokens": 0, "audio_tokens": 0, "image_tokens": 0},
                },
                "output_token_details": {"text_tokens": text_out, "audio_tokens": audio_out_tokens},
            },
        )
        done = self._event("response.done", response=response)
        events.append(done)
        self._record(event, done)
        return events

    def _record(self, event: Mapping[str, Any], done: dict[str, Any]) -> None:
        started = self.engine.clock.elapsed()
        request = ApiRequest(
            method="GET",
            path=REALTIME_PATH,
            query=f"model={self.model}",
            headers={},
            body=json.dumps(event).encode(),
        )
        body = json.dumps(done).encode()
        self.sim.calls.record(request, 200, [], started=started, transport="websocket", body=body, json_body=done)
