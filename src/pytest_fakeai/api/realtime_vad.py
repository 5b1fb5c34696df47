"""Server voice activity detection for the Realtime API: an energy detector, not a model.

The input audio (PCM16 little-endian, mono, 24 kHz) is cut into 20 ms frames; a
frame is *speech* when its RMS level reaches ``-60 + 50 * threshold`` dBFS (the
session's ``turn_detection.threshold``, 0..1: the default 0.5 is -35 dBFS, an RMS
amplitude of about 580 of 32767; 0 is -60 dBFS, 1 is -10 dBFS).  The first speech
frame starts a turn, reported ``prefix_padding_ms`` earlier (never before the start
of the buffer); ``silence_duration_ms`` of non-speech frames after the last speech
frame end it.  Positions are samples since the session's first audio byte, so
``audio_start_ms`` / ``audio_end_ms`` count all the audio the client has appended.

Deterministic and pure: no engine, no clock, no randomness.
"""

from __future__ import annotations

import math
import operator
import sys
from array import array
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "FRAME_MS",
    "SAMPLES_PER_MS",
    "SEMANTIC_VAD_DEFAULTS",
    "SERVER_VAD_DEFAULTS",
    "EnergyVad",
    "VadConfig",
    "frame_db",
    "speech_level_db",
    "voiced_ms",
]

#: Samples per millisecond of ``audio/pcm`` (24 kHz).
SAMPLES_PER_MS = 24
FRAME_MS = 20
_FRAME_SAMPLES = FRAME_MS * SAMPLES_PER_MS
_FRAME_BYTES = 2 * _FRAME_SAMPLES
_FULL_SCALE_DB = 20 * math.log10(32768)

#: ``turn_detection`` of a new realtime session (the GA API's defaults).
SERVER_VAD_DEFAULTS: dict[str, Any] = {
    "type": "server_vad",
    "threshold": 0.5,
    "prefix_padding_ms": 300,
    "silence_duration_ms": 500,
    "idle_timeout_ms": None,
    "create_response": True,
    "interrupt_response": True,
}
SEMANTIC_VAD_DEFAULTS: dict[str, Any] = {
    "type": "semantic_vad",
    "eagerness": "auto",
    "create_response": True,
    "interrupt_response": True,
}
# semantic_vad decides with a model when a turn is over; here it is the energy detector with a
# silence that grows as eagerness falls (a stated approximation, not OpenAI's numbers)
_EAGERNESS_SILENCE_MS = {"high": 300, "medium": 800, "auto": 800, "low": 1500}


def speech_level_db(threshold: float) -> float:
    """The RMS level (dBFS) from which a frame counts as speech, for a ``threshold`` in 0..1."""
    return -60.0 + 50.0 * threshold


def frame_db(frame: bytes) -> float:
    """RMS level of PCM16 little-endian samples in dBFS (-inf for digital silence)."""
    samples = array("h")
    samples.frombytes(frame[: len(frame) - len(frame) % 2])
    if sys.byteorder == "big":
        samples.byteswap()
    if not samples:
        return -math.inf
    mean_square = sum(map(operator.mul, samples, samples)) / len(samples)
    return -math.inf if mean_square == 0 else 10 * math.log10(mean_square) - _FULL_SCALE_DB


def voiced_ms(pcm: bytes, threshold: float = 0.5) -> int:
    """Milliseconds of speech frames in ``pcm`` (used to size a transcript)."""
    level = speech_level_db(threshold)
    loud = sum(
        1
        for off in range(0, len(pcm) - _FRAME_BYTES + 1, _FRAME_BYTES)
        if frame_db(pcm[off : off + _FRAME_BYTES]) >= level
    )
    return loud * FRAME_MS


@dataclass(frozen=True, slots=True)
class VadConfig:
    """What the detector needs from a session's ``audio.input.turn_detection``."""

    threshold: float
    prefix_padding_ms: int
    silence_duration_ms: int
    create_response: bool

    @classmethod
    def of(cls, turn_detection: Mapping[str, Any] | None) -> VadConfig | None:
        """The detector's settings for a (normalised) ``turn_detection``; None when it is off."""
        if turn_detection is None:
            return None
        create = turn_detection.get("create_response")
        create = True if create is None else bool(create)
        if turn_detection.get("type") == "semantic_vad":
            eagerness = str(turn_detection.get("eagerness") or "auto")
            return cls(0.5, 300, _EAGERNESS_SILENCE_MS.get(eagerness, 800), create)
        threshold = turn_detection.get("threshold")
        prefix = turn_detection.get("prefix_padding_ms")
        silence = turn_detection.get("silence_duration_ms")
        return cls(
            0.5 if threshold is None else float(threshold),
            300 if prefix is None else int(prefix),
            500 if silence is None else int(silence),
            create,
        )


class EnergyVad:
    """Follows the appended audio frame by frame and reports where turns start and stop.

    ``feed(pcm, config)`` returns ``("start", sample)`` / ``("stop", sample)`` pairs, in
    order; with ``config`` None (turn detection off) it only keeps count of the audio.
    ``floor`` is the first sample still in the input buffer: a turn never starts before it.
    """

    def __init__(self) -> None:
        self.position = 0  # samples consumed into whole frames
        self.floor = 0
        self.speaking = False
        self._last_speech = 0  # end of the last speech frame
        self._pending = b""  # bytes short of a whole frame

    def feed(self, pcm: bytes, config: VadConfig | None) -> list[tuple[str, int]]:
        data = self._pending + pcm if self._pending else pcm
        usable = len(data) - len(data) % _FRAME_BYTES
        self._pending = data[usable:]
        if config is None:
            self.position += usable // 2
            self.speaking = False
            return []
        level = speech_level_db(config.threshold)
        prefix = config.prefix_padding_ms * SAMPLES_PER_MS
        silence = config.silence_duration_ms * SAMPLES_PER_MS
        events: list[tuple[str, int]] = []
        for offset in range(0, usable, _FRAME_BYTES):
            start = self.position
            end = self.position = start + _FRAME_SAMPLES
            speech = frame_db(data[offset : offset + _FRAME_BYTES]) >= level
            if speech:
                if not self.speaking:
                    self.speaking = True
                    events.append(("start", max(self.floor, start - prefix)))
                self._last_speech = end
            elif self.speaking and end - self._last_speech >= silence:
                self.speaking = False
                self.floor = end
                events.append(("stop", end))
        return events

    def reset(self, floor: int) -> None:
        """The buffer was committed or cleared by the client: forget a turn in progress."""
        self.position = self.floor = floor
        self.speaking = False
        self._pending = b""
