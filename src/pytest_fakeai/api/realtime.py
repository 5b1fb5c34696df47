"""The Realtime API's protocol, without a socket: client events in, server events out.

:class:`RealtimeSession` holds one ``/v1/realtime`` connection's state (the session
configuration, the conversation, the input audio buffer) and answers each client
event (a JSON text frame, or the dict it decodes to) with the list of server events
the GA Realtime API sends back, in order, each with the simulated moment it is due
(:meth:`RealtimeSession.handle_timed`): a response's deltas come after the
simulator's ``ttft`` and ``itl`` apart, like a chat stream's chunks.  Text comes
from the simulator's engine (or a ``fakeai.on(...)`` rule); audio is a deterministic
PCM16 tone, one chunk per transcript piece; tool calls follow chat's rules
(``realtime_tools``); server VAD is an energy detector (``realtime_vad``).  A bad
event is answered with an ``error`` event in the API's shape -- never an exception.

Everything is deterministic from the simulator's seed: ids come from the engine's
seeded id source, text from a random source derived from (seed, session id,
response number).  The websocket adapter (``adapters/asgi.py``) only pumps frames
and waits out the due moments on the real clock.
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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..engine.rng import derive_seed
from .common import cap_pieces, token_pieces
from .errors import ApiError, bad_json
from .realtime_vad import (
    SAMPLES_PER_MS,
    SEMANTIC_VAD_DEFAULTS,
    SERVER_VAD_DEFAULTS,
    EnergyVad,
    VadConfig,
    voiced_ms,
)
from .types import ApiRequest

if TYPE_CHECKING:
    from ..engine.registry import ModelSpec
    from ..simulator import FakeAI
    from .common import Choice
    from .script import Reply

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
_MIN_COMMIT_MS = 100

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
_ITEM_TYPES = ("message", "function_call", "function_call_output")
_SERVER_VAD_KEYS = tuple(SERVER_VAD_DEFAULTS)
_SEMANTIC_VAD_KEYS = tuple(SEMANTIC_VAD_DEFAULTS)
_EAGERNESS = ("low", "medium", "high", "auto")
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


def _expect(value: object, kind: type | tuple[type, ...], param: str, expected: str) -> None:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise _EventError(
            f"Invalid type for '{param}': expected {expected}, but got {_type_name(value)} instead.",
            code="invalid_type",
            param=param,
        )


def _invalid_value(param: str, value: object, allowed: tuple[str, ...]) -> _EventError:
    listed = ", ".join(f"'{a}'" for a in allowed)
    return _EventError(f"Invalid value: '{value}'. Supported values are: {listed}.", code="invalid_value", param=param)


def _unknown(param: str) -> _EventError:
    return _EventError(f"Unknown parameter: '{param}'.", code="unknown_parameter", param=param)


def _missing(param: str) -> _EventError:
    return _EventError(f"Missing required parameter: '{param}'.", code="missing_required_parameter", param=param)


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


def _number_in(value: object, param: str, lo: float, hi: float | None, *, integer: bool) -> None:
    _expect(value, int if integer else (int, float), param, "an integer" if integer else "a number")
    assert isinstance(value, (int, float))
    if value < lo or (hi is not None and value > hi):
        kind = "integer" if integer else "decimal"
        side = "below_min" if value < lo else "above_max"
        bound = f"between {lo:g} and {hi:g}" if hi is not None else f">= {lo:g}"
        raise _EventError(
            f"Invalid '{param}': {'integer' if integer else 'number'} must be {bound}, got {value}.",
            code=f"{kind}_{side}_value",
            param=param,
        )


def _turn_detection(value: object, param: str) -> dict[str, Any] | None:
    """A ``turn_detection`` setting, checked and completed with the API's defaults (None: off)."""
    if value is None:
        return None
    _expect(value, dict, param, "an object or null")
    assert isinstance(value, dict)
    kind = value.get("type")
    if kind is None:
        raise _missing(f"{param}.type")
    if kind not in ("server_vad", "semantic_vad"):
        raise _invalid_value(f"{param}.type", kind, ("server_vad", "semantic_vad"))
    keys = _SERVER_VAD_KEYS if kind == "server_vad" else _SEMANTIC_VAD_KEYS
    for key in value:
        if key not in keys:
            raise _unknown(f"{param}.{key}")
    for key in ("create_response", "interrupt_response"):
        if value.get(key) is not None:
            _expect(value[key], bool, f"{param}.{key}", "a boolean")
    if kind == "semantic_vad":
        eagerness = value.get("eagerness", "auto")
        if eagerness not in _EAGERNESS:
            raise _invalid_value(f"{param}.eagerness", eagerness, _EAGERNESS)
        return {**SEMANTIC_VAD_DEFAULTS, **{k: v for k, v in value.items() if v is not None}}
    if value.get("threshold") is not None:
        _number_in(value["threshold"], f"{param}.threshold", 0, 1, integer=False)
    for key in ("prefix_padding_ms", "silence_duration_ms"):
        if value.get(key) is not None:
            _number_in(value[key], f"{param}.{key}", 0, None, integer=True)
    if value.get("idle_timeout_ms") is not None:
        _number_in(value["idle_timeout_ms"], f"{param}.idle_timeout_ms", 0, None, integer=True)
    out = {**SERVER_VAD_DEFAULTS, **{k: v for k, v in value.items() if v is not None}}
    out["idle_timeout_ms"] = value.get("idle_timeout_ms")
    return out


def _transcription(value: object, param: str) -> dict[str, Any] | None:
    """``audio.input.transcription``: None (off) or ``{"model", "language", "prompt"}``."""
    if value is None:
        return None
    _expect(value, dict, param, "an object or null")
    assert isinstance(value, dict)
    for key in ("model", "language", "prompt"):
        if value.get(key) is not None:
            _expect(value[key], str, f"{param}.{key}", "a string")
    return {"model": "whisper-1", "language": None, "prompt": None, **{k: v for k, v in value.items() if v is not None}}


def _from_api_error(exc: ApiError) -> _EventError:
    return _EventError(exc.message, code=str(exc.code or "invalid_value"), param=exc.param)


@dataclass(slots=True)
class _Params:
    """What one response is asked for: ``response.create``'s fields over the session's."""

    modalities: list[str]
    max_tokens: int | str
    instructions: str
    in_conversation: bool
    metadata: dict[str, Any] | None
    context: list[dict[str, Any]]
    voice: Any
    tools: list[dict[str, Any]]
    tool_choice: Any


class RealtimeSession:
    """One Realtime connection: ``open()`` once, then ``handle(frame)`` per client event.

    ``sim`` is the :class:`~pytest_fakeai.FakeAI` answering; ``model`` the ``model=``
    query parameter of the connection (``gpt-realtime`` when absent); ``headers`` the
    handshake's headers (what scripted rules and recorded calls see).  Each response
    is recorded on ``sim.calls`` (transport ``"websocket"``, request body: the client
    event, response json: the ``response.done`` event).
    """

    def __init__(self, sim: FakeAI, model: str | None = None, *, headers: Mapping[str, str] | None = None) -> None:
        self.sim = sim
        self.engine = sim.engine
        self.model = model or DEFAULT_MODEL
        self.headers = dict(headers or {})
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
                    "turn_detection": dict(SERVER_VAD_DEFAULTS),
                },
                "output": {"format": {"type": "audio/pcm", "rate": AUDIO_RATE}, "voice": "alloy", "speed": 1.0},
            },
            "include": None,
        }
        self.items: list[dict[str, Any]] = []
        self.audio_buffer = bytearray()
        self.responses = 0
        self._tokenizer = self.engine.tokenizer(self.spec)
        self._vad = EnergyVad()
        self._buffer_start = 0  # sample (since the session's first audio) of audio_buffer[0]
        self._speech_start = 0
        self._speech_item: str | None = None  # the item id announced by speech_started
        self._dues: dict[str, float] = {}  # event_id -> simulated moment, for events not due at once
        self._busy_until = 0.0  # when the last response's final event is due

    # -- ids ----------------------------------------------------------------------------------
    def _event_id(self) -> str:
        return "event_" + "".join(
            self._events.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", k=21)
        )

    def _event(self, type_: str, **fields: Any) -> dict[str, Any]:
        return {"type": type_, "event_id": self._event_id(), **fields}

    def _at(self, due: float, type_: str, **fields: Any) -> dict[str, Any]:
        event = self._event(type_, **fields)
        self._dues[event["event_id"]] = due
        return event

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
        self._dues.clear()
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
        return [event for _, event in self.handle_timed(frame)]

    def handle_timed(self, frame: str | bytes | Mapping[str, Any]) -> list[tuple[float, dict[str, Any]]]:
        """Like :meth:`handle`, each event with the simulated moment it is due (seconds since the
        simulator started, never decreasing).  The virtual clock moves on to the last moment; on the
        real clock an adapter waits each one out (``clock.wait_seconds(due)``)."""
        clock = self.engine.clock
        due = clock.elapsed()
        self._dues.clear()
        events = self._answer(frame)
        timed = []
        for event in events:
            due = max(due, self._dues.pop(event["event_id"], due))
            timed.append((due, event))
        self._dues.clear()
        clock.advance_to(due)
        return timed

    def _answer(self, frame: str | bytes | Mapping[str, Any]) -> list[dict[str, Any]]:
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
                raise _missing("type")
            _expect(kind, str, "type", "a string")
            if kind not in CLIENT_EVENTS:
                raise _invalid_value("type", kind, CLIENT_EVENTS)
            method = getattr(self, "_on_" + str(kind).replace(".", "_"))
            try:
                result: list[dict[str, Any]] = method(event)
            except ApiError as exc:  # from the checks shared with chat (tools, schemas)
                raise _from_api_error(exc) from None
            return result
        except _EventError as exc:
            self._dues.clear()
            return [self._error(exc, client_id)]

    # -- session ------------------------------------------------------------------------------
    def _on_session_update(self, event: Mapping[str, Any]) -> list[dict[str, Any]]:
        from .realtime_tools import check_tool_choice, check_tools

        update = event.get("session")
        if update is None:
            raise _missing("session")
        _expect(update, dict, "session", "an object")
        for key in update:
            if key not in _SESSION_KEYS:
                raise _unknown(f"session.{key}")
        if "type" not in update:
            raise _missing("session.type")
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
                self._update_audio(new["audio"], value)
            elif key == "model":
                _expect(value, str, "session.model", "a string")
                new[key] = value
            elif key == "tools":
                new[key] = check_tools(value, "session.tools")
            elif key != "type":
                new[key] = copy.deepcopy(value)
        if "tool_choice" in update or "tools" in update:
            new["tool_choice"] = check_tool_choice(new["tool_choice"], new["tools"], "session.tool_choice")
        self.session = new
        return [self._event("session.updated", session=copy.deepcopy(self.session))]

    def _update_audio(self, audio: dict[str, Any], value: object) -> None:
        _expect(value, dict, "session.audio", "an object")
        assert isinstance(value, dict)
        for side in value:
            if side not in ("input", "output"):
                raise _unknown(f"session.audio.{side}")
            _expect(value[side], dict, f"session.audio.{side}", "an object")
            changes = copy.deepcopy(value[side])
            if side == "input":
                if "turn_detection" in changes:
                    changes["turn_detection"] = _turn_detection(
                        changes["turn_detection"], "session.audio.input.turn_detection"
                    )
                if "transcription" in changes:
                    changes["transcription"] = _transcription(
                        changes["transcription"], "session.audio.input.transcription"
                    )
            audio[side].update(changes)

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
                raise _missing("item.role")
            if role not in _ROLES:
                raise _invalid_value("item.role", role, tuple(_ROLES))
            content = raw.get("content")
            if content is None:
                raise _missing("item.content")
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
                    raise _missing(f"item.{key}")
            item.update(type=kind, status="completed", call_id=raw["call_id"], output=raw["output"])
        elif kind == "function_call":
            if not isinstance(raw.get("name"), str):
                raise _missing("item.name")
            arguments = raw.get("arguments", "")
            _expect(arguments, str, "item.arguments", "a string")
            call_id = raw.get("call_id")
            if call_id is None:
                call_id = "call_" + self.engine.new_id("", 16)
            _expect(call_id, str, "item.call_id", "a string")
            item.update(type=kind, status="completed", name=raw["name"], call_id=call_id, arguments=arguments)
        else:
            raise _invalid_value("item.type", kind, _ITEM_TYPES)
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
            raise _missing("item")
        index = self._index_after(event.get("previous_item_id"))
        item = self._item(event["item"])
        return self._added(item, self._insert(item, index))

    def _find(self, event: Mapping[str, Any]) -> int:
        item_id = event.get("item_id")
        if item_id is None:
            raise _missing("item_id")
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

    # -- input audio buffer and turn detection ------------------------------------------------
    @property
    def _vad_config(self) -> VadConfig | None:
        return VadConfig.of(self.session["audio"]["input"].get("turn_detection"))

    def _on_input_audio_buffer_append(self, event: Mapping[str, Any]) -> list[dict[str, Any]]:
        audio = event.get("audio")
        if audio is None:
            raise _missing("audio")
        _expect(audio, str, "audio", "a string")
        try:
            pcm = base64.b64decode(str(audio), validate=True)
        except (binascii.Error, ValueError):
            raise _EventError(
                "Invalid 'audio'. Expected base64-encoded audio bytes.", code="invalid_value", param="audio"
            ) from None
        self.audio_buffer += pcm
        config = self._vad_config
        events: list[dict[str, Any]] = []  # nothing at all unless a turn starts or ends (as on the API)
        for kind, sample in self._vad.feed(pcm, config):
            if kind == "start":
                self._speech_start = sample
                self._speech_item = self.engine.new_id("item_", 21)
                events.append(
                    self._event(
                        "input_audio_buffer.speech_started",
                        audio_start_ms=sample // SAMPLES_PER_MS,
                        item_id=self._speech_item,
                    )
                )
                continue
            item_id = self._speech_item or self.engine.new_id("item_", 21)
            self._speech_item = None
            events.append(
                self._event("input_audio_buffer.speech_stopped", audio_end_ms=sample // SAMPLES_PER_MS, item_id=item_id)
            )
            start = 2 * (self._speech_start - self._buffer_start)
            end = 2 * (sample - self._buffer_start)
            turn = bytes(self.audio_buffer[start:end])
            del self.audio_buffer[:end]
            self._buffer_start = sample
            events.extend(self._commit(turn, item_id))
            if config is not None and config.create_response:
                events.extend(self._respond({"type": "response.create"}, self._default_params()))
        return events

    def _commit(self, audio: bytes, item_id: str) -> list[dict[str, Any]]:
        """The buffer's audio becomes a user message (and is transcribed, if the session asks)."""
        item: dict[str, Any] = {
            "id": item_id,
            "object": "realtime.item",
            "type": "message",
            "status": "completed",
            "role": "user",
            "content": [{"type": "input_audio", "audio": base64.b64encode(audio).decode("ascii"), "transcript": None}],
        }
        previous = self._insert(item, len(self.items))
        events = [
            self._event("input_audio_buffer.committed", previous_item_id=previous, item_id=item_id),
            *self._added(item, previous),
        ]
        transcription = self.session["audio"]["input"].get("transcription")
        if transcription is not None:
            transcript, usage = self._transcribe(audio, item_id, str(transcription.get("model") or "whisper-1"))
            item["content"][0]["transcript"] = transcript
            where = {"item_id": item_id, "content_index": 0}
            events.append(self._event("conversation.item.input_audio_transcription.delta", **where, delta=transcript))
            events.append(
                self._event(
                    "conversation.item.input_audio_transcription.completed", **where, transcript=transcript, usage=usage
                )
            )
        return events

    def _transcribe(self, audio: bytes, item_id: str, model: str) -> tuple[str, dict[str, Any]]:
        """A deterministic transcript: as many generated words as the speech is long (none for silence)."""
        config = self._vad_config
        speech_ms = voiced_ms(audio, config.threshold if config is not None else 0.5)
        transcript = ""
        if speech_ms:
            rng = random.Random(derive_seed(self.engine.seed, "realtime-transcript", self.id, item_id))
            tokens = max(2, round(speech_ms * 3.3 / 1000))  # ~2.5 words a second
            transcript = "".join(self.engine.generator.generate(rng, max_tokens=tokens).pieces).strip()
        seconds = len(audio) / 2 / AUDIO_RATE
        if model == "whisper-1":
            return transcript, {"type": "duration", "seconds": round(seconds, 3)}
        audio_tokens = math.ceil(len(audio) / _BYTES_PER_AUDIO_TOKEN)
        text_tokens = self._tokenizer.count(transcript) if transcript else 0
        return transcript, {
            "type": "tokens",
            "input_tokens": audio_tokens,
            "output_tokens": text_tokens,
            "total_tokens": audio_tokens + text_tokens,
            "input_token_details": {"text_tokens": 0, "audio_tokens": audio_tokens},
        }

    def _drop_buffer(self) -> bytes:
        audio = bytes(self.audio_buffer)
        self.audio_buffer.clear()
        self._buffer_start += len(audio) // 2
        self._vad.reset(self._buffer_start)
        self._speech_item = None
        return audio

    def _on_input_audio_buffer_commit(self, event: Mapping[str, Any]) -> list[dict[str, Any]]:
        ms = len(self.audio_buffer) / 2 / AUDIO_RATE * 1000
        if ms < _MIN_COMMIT_MS:
            raise _EventError(
                f"Error committing input audio buffer: buffer too small. Expected at least {_MIN_COMMIT_MS}ms of "
                f"audio, but buffer only has {ms:.2f}ms of audio.",
                code="input_audio_buffer_commit_empty",
            )
        return self._commit(self._drop_buffer(), self.engine.new_id("item_", 21))

    def _on_input_audio_buffer_clear(self, event: Mapping[str, Any]) -> list[dict[str, Any]]:
        self._drop_buffer()
        return [self._event("input_audio_buffer.cleared")]

    def _on_output_audio_buffer_clear(self, event: Mapping[str, Any]) -> list[dict[str, Any]]:
        raise _EventError(
            "output_audio_buffer.clear is only supported for WebRTC connections.", code="invalid_value", param="type"
        )

    def _on_response_cancel(self, event: Mapping[str, Any]) -> list[dict[str, Any]]:
        # a response is decided whole when it is created, so there is never one in progress to cancel
        raise _EventError("Cancellation failed: no active response found.", code="response_cancel_not_active")

    # -- responses ----------------------------------------------------------------------------
    def _text_of(self, item: Mapping[str, Any]) -> tuple[str, int]:
        """An item's text and its audio bytes (for token counts)."""
        if item.get("type") == "function_call_output":
            return str(item.get("output", "")), 0
        if item.get("type") == "function_call":
            return f"{item.get('name', '')} {item.get('arguments', '')}", 0
        texts: list[str] = []
        audio = 0
        for part in item.get("content", ()):
            for key in ("text", "transcript"):
                if isinstance(part.get(key), str):
                    texts.append(part[key])
            if isinstance(part.get("audio"), str):
                audio += len(part["audio"]) * 3 // 4
        return " ".join(texts), audio

    def _default_params(self) -> _Params:
        return _Params(
            modalities=list(self.session["output_modalities"]),
            max_tokens=self.session["max_output_tokens"],
            instructions=str(self.session["instructions"]),
            in_conversation=True,
            metadata=None,
            context=list(self.items),
            voice=self.session["audio"]["output"].get("voice", "alloy"),
            tools=list(self.session.get("tools") or []),
            tool_choice=self.session.get("tool_choice", "auto"),
        )

    def _on_response_create(self, event: Mapping[str, Any]) -> list[dict[str, Any]]:
        from .realtime_tools import check_tool_choice, check_tools

        params = event.get("response", {})
        if params is None:
            params = {}
        _expect(params, dict, "response", "an object")
        for key in params:
            if key not in _RESPONSE_KEYS:
                raise _unknown(f"response.{key}")
        p = self._default_params()
        if "output_modalities" in params:
            p.modalities = _modalities(params["output_modalities"], "response.output_modalities")
        if "max_output_tokens" in params:
            p.max_tokens = _max_tokens(params["max_output_tokens"], "response.max_output_tokens")
        instructions = params.get("instructions", p.instructions)
        _expect(instructions, str, "response.instructions", "a string")
        p.instructions = str(instructions)
        conversation = params.get("conversation", "auto")
        if conversation not in ("auto", "none"):
            raise _invalid_value("response.conversation", conversation, ("auto", "none"))
        p.in_conversation = conversation == "auto"
        p.metadata = params.get("metadata")
        if p.metadata is not None:
            _expect(p.metadata, dict, "response.metadata", "an object")
        if "input" in params:
            _expect(params["input"], list, "response.input", "an array")
            p.context = []
            for raw in params["input"]:
                if isinstance(raw, dict) and raw.get("type") == "item_reference":
                    p.context.append(self.items[self._find({"item_id": raw.get("id")})])
                else:
                    p.context.append(self._item(raw))
        elif not p.in_conversation:
            p.context = []
        audio_cfg = params.get("audio")
        if isinstance(audio_cfg, dict) and isinstance(audio_cfg.get("output"), dict):
            p.voice = audio_cfg["output"].get("voice", p.voice)
        if "tools" in params:
            p.tools = check_tools(params["tools"], "response.tools")
        if "tool_choice" in params or "tools" in params:
            p.tool_choice = check_tool_choice(params.get("tool_choice", p.tool_choice), p.tools, "response.tool_choice")
        return self._respond(event, p)

    def _answer_for(self, p: _Params, request: ApiRequest) -> tuple[Reply | None, ApiError | None, Any, dict[str, Any]]:
        """The scripted reply (or error) for this response, the rule that gave it, and the chat-shaped request."""
        from .realtime_tools import chat_data

        data = chat_data(
            self.model, p.instructions, p.context, p.tools, p.tool_choice, self.session.get("parallel_tool_calls")
        )
        script = self.sim._script  # None until a rule is registered: no scripting work at all
        if script is None:
            return None, None, None, data
        reply: Reply | None = None
        error: ApiError | None = None
        try:
            # rules see the conversation as the chat request it amounts to (docs/realtime.md, "Scripting")
            reply = script.answer(REALTIME_PATH, data, request)
        except ApiError as exc:
            error = exc
        return reply, error, script.take_answered(), data

    def _respond(self, trigger: Mapping[str, Any], p: _Params) -> list[dict[str, Any]]:
        from .realtime_tools import generated_calls, scripted_calls

        settings = self.engine.settings
        start = max(self.engine.clock.elapsed(), self._busy_until)
        request = ApiRequest(
            method="GET",
            path=REALTIME_PATH,
            query=f"model={self.model}",
            headers=self.headers,
            body=json.dumps(trigger).encode(),
        )
        reply, error, rule, data = self._answer_for(p, request)

        # input tokens: instructions + context (+ tools); the text to answer: topic words of the last user turn
        text_in, audio_in = p.instructions, 0
        topic = ""
        for turn in p.context:
            turn_text, turn_audio = self._text_of(turn)
            text_in += "\n" + turn_text
            audio_in += turn_audio
            if turn.get("role") == "user":
                topic = turn_text
        if p.tools:
            text_in += "\n" + json.dumps(p.tools)
        text_tokens_in = self._tokenizer.count(text_in) + 4 * len(p.context)
        audio_tokens_in = math.ceil(audio_in / _BYTES_PER_AUDIO_TOKEN)

        self.responses += 1
        rng = random.Random(derive_seed(self.engine.seed, "realtime", self.id, self.responses))
        limit = None if p.max_tokens == "inf" else int(p.max_tokens)
        calls: Choice | None = None
        pieces: list[str] = []
        counts: list[int] = []
        finished = True
        if error is not None:
            pass  # a failed response has no output
        elif reply is not None and reply.kind == "tool_calls":
            calls = scripted_calls(self.engine, self.spec, data, reply.tool_calls, rng)
        elif reply is not None:
            pieces, counts = token_pieces(self.engine, self.spec, reply.content)
            pieces, counts, finished = cap_pieces(pieces, counts, limit)
        else:
            calls = generated_calls(self.engine, self.spec, data, rng)
            if calls is None:
                generated = self.engine.generator.generate(
                    rng, max_tokens=limit, topic_words=_WORD.findall(topic.lower())
                )
                pieces, counts, finished = list(generated.pieces), [1] * len(generated.pieces), generated.finished

        response_id = self.engine.new_id("resp_", 21)
        response: dict[str, Any] = {
            "object": "realtime.response",
            "id": response_id,
            "status": "in_progress",
            "status_details": None,
            "output": [],
            "conversation_id": self.conversation_id if p.in_conversation else None,
            "output_modalities": p.modalities,
            "max_output_tokens": p.max_tokens,
            "audio": {"output": {"format": self.session["audio"]["output"]["format"], "voice": p.voice}},
            "usage": None,
            "metadata": p.metadata,
        }
        events = [self._at(start, "response.created", response=copy.deepcopy(response))]
        cursor = start + settings.ttft  # when the next token is due
        outputs: list[dict[str, Any]] = []
        text_out = audio_bytes = 0
        if error is not None:
            response.update(
                status="failed",
                status_details={
                    "type": "failed",
                    "error": {
                        "type": error.type,
                        "code": None if error.code is None else str(error.code),
                        "message": error.message,
                    },
                },
            )
        elif calls is not None:
            assert calls.tool_calls is not None and calls.tool_pieces is not None
            for index, (call, arg_pieces) in enumerate(zip(calls.tool_calls, calls.tool_pieces, strict=True)):
                item, cursor = self._call_output(events, response_id, index, call, arg_pieces, p, cursor)
                outputs.append(item)
            text_out = sum(calls.tokens)
        else:
            item, cursor, audio_bytes = self._message_output(events, response_id, pieces, counts, finished, p, cursor)
            outputs.append(item)
            text_out = sum(counts)
        end = cursor if error is None else start + settings.ttft

        audio_out_tokens = math.ceil(audio_bytes / _BYTES_PER_AUDIO_TOKEN)
        input_tokens = text_tokens_in + audio_tokens_in
        output_tokens = text_out + audio_out_tokens
        if error is None:
            response.update(
                status="completed" if finished else "incomplete",
                status_details=None
                if finished
                else {"type": "incomplete", "reason": "max_output_tokens", "error": None},
            )
        response.update(
            output=outputs,
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
        done = self._at(end, "response.done", response=response)
        events.append(done)
        self._busy_until = end
        body = json.dumps(done).encode()
        recorded = self.sim.calls.record(
            request,
            200 if error is None else error.status,
            [],
            started=start,
            transport="websocket",
            body=body,
            json_body=done,
        )
        recorded.ended = end
        recorded.rule = rule
        self._count(error, input_tokens, output_tokens, finished, start, end)
        return events

    def _count(
        self, error: ApiError | None, input_tokens: int, output_tokens: int, finished: bool, start: float, end: float
    ) -> None:
        """Count the response in the simulator's metrics, like any other exchange."""
        from ..engine.stats import Exchange

        spec = self.spec
        ex = Exchange("/v1/realtime", spec.id, 200, streamed=True)
        if error is not None:
            ex.status, ex.error_type = error.status, error.type
        else:
            ex.timed = True
            ex.prompt_tokens, ex.completion_tokens = input_tokens, output_tokens
            ex.finished_reason = "stop" if finished else "length"
            ex.ttft = min(end - start, self.engine.settings.ttft)
            ex.e2e = end - start
            ex.cost = spec.cost(input_tokens, output_tokens)
        self.engine.stats.observe(ex)

    def _output_item_added(
        self, events: list[dict[str, Any]], response_id: str, index: int, item: dict[str, Any], p: _Params, due: float
    ) -> str | None:
        events.append(
            self._at(
                due, "response.output_item.added", response_id=response_id, output_index=index, item=copy.deepcopy(item)
            )
        )
        if not p.in_conversation:
            return None
        previous = self.items[-1]["id"] if self.items else None
        events.append(self._at(due, "conversation.item.added", previous_item_id=previous, item=copy.deepcopy(item)))
        return previous

    def _output_item_done(
        self,
        events: list[dict[str, Any]],
        response_id: str,
        index: int,
        item: dict[str, Any],
        previous: str | None,
        p: _Params,
        due: float,
    ) -> None:
        events.append(
            self._at(
                due, "response.output_item.done", response_id=response_id, output_index=index, item=copy.deepcopy(item)
            )
        )
        if p.in_conversation:
            self.items.append(item)
            events.append(self._at(due, "conversation.item.done", previous_item_id=previous, item=copy.deepcopy(item)))

    def _message_output(
        self,
        events: list[dict[str, Any]],
        response_id: str,
        pieces: list[str],
        counts: list[int],
        finished: bool,
        p: _Params,
        cursor: float,
    ) -> tuple[dict[str, Any], float, int]:
        """The events of an assistant message: text deltas, or transcript + audio deltas."""
        itl = self.engine.settings.itl
        item: dict[str, Any] = {
            "id": self.engine.new_id("item_", 21),
            "object": "realtime.item",
            "type": "message",
            "status": "in_progress",
            "role": "assistant",
            "content": [],
        }
        previous = self._output_item_added(events, response_id, 0, item, p, cursor)
        where = {"response_id": response_id, "item_id": item["id"], "output_index": 0, "content_index": 0}
        text = "".join(pieces)
        audio_bytes = 0
        if p.modalities == ["audio"]:
            events.append(
                self._at(cursor, "response.content_part.added", **where, part={"type": "audio", "transcript": ""})
            )
            for piece, n in zip(pieces, counts, strict=True):
                events.append(self._at(cursor, "response.output_audio_transcript.delta", **where, delta=piece))
                chunk = _tone(audio_bytes // 2, _SAMPLES_PER_PIECE)
                audio_bytes += len(chunk)
                delta = base64.b64encode(chunk).decode("ascii")
                events.append(self._at(cursor, "response.output_audio.delta", **where, delta=delta))
                cursor += itl * n
            events.append(self._at(cursor, "response.output_audio.done", **where))
            events.append(self._at(cursor, "response.output_audio_transcript.done", **where, transcript=text))
            part = {"type": "audio", "transcript": text}
            content = {"type": "output_audio", "transcript": text}
        else:
            events.append(self._at(cursor, "response.content_part.added", **where, part={"type": "text", "text": ""}))
            for piece, n in zip(pieces, counts, strict=True):
                events.append(self._at(cursor, "response.output_text.delta", **where, delta=piece))
                cursor += itl * n
            events.append(self._at(cursor, "response.output_text.done", **where, text=text))
            part = {"type": "text", "text": text}
            content = {"type": "output_text", "text": text}
        events.append(self._at(cursor, "response.content_part.done", **where, part=part))
        item.update(status="completed" if finished else "incomplete", content=[content])
        self._output_item_done(events, response_id, 0, item, previous, p, cursor)
        return item, cursor, audio_bytes

    def _call_output(
        self,
        events: list[dict[str, Any]],
        response_id: str,
        index: int,
        call: Mapping[str, Any],
        arg_pieces: list[str],
        p: _Params,
        cursor: float,
    ) -> tuple[dict[str, Any], float]:
        """The events of one function call: its item, then its arguments streamed."""
        itl = self.engine.settings.itl
        name = str(call["function"]["name"])
        arguments = str(call["function"]["arguments"])
        item: dict[str, Any] = {
            "id": self.engine.new_id("item_", 21),
            "object": "realtime.item",
            "type": "function_call",
            "status": "in_progress",
            "name": name,
            "call_id": call["id"],
            "arguments": "",
        }
        previous = self._output_item_added(events, response_id, index, item, p, cursor)
        where = {"response_id": response_id, "item_id": item["id"], "output_index": index, "call_id": call["id"]}
        for piece in arg_pieces:
            events.append(self._at(cursor, "response.function_call_arguments.delta", **where, delta=piece))
            cursor += itl
        events.append(
            self._at(cursor, "response.function_call_arguments.done", **where, name=name, arguments=arguments)
        )
        item.update(status="completed", arguments=arguments)
        self._output_item_done(events, response_id, index, item, previous, p, cursor)
        return item, cursor
