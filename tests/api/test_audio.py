"""Audio through the real openai SDK (both stacks, sync and async): speech as real WAV/PCM/FLAC bytes,
transcriptions and translations of real uploads in every response format, streams, OpenAI's 400s, and
bodies that never 500."""

from __future__ import annotations

import base64
import io
import json
import re
import wave
from typing import Any

import openai
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_fakeai import FakeAI
from pytest_fakeai.api.types import ApiRequest, ApiResponse
from pytest_fakeai.engine.sound import encode_wav, speech_pcm
from tests._support.drive import Driver
from tests._support.drive import http as httpx
from tests._support.spec import (
    check_error,
    check_speech_event,
    check_transcription,
    check_transcription_event,
    check_transcription_verbose,
    check_translation,
)

miniaudio = pytest.importorskip("miniaudio")
# the SDK marks translations (and some models) deprecated; the endpoints still exist
pytestmark = pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")

TEXT = "The quick brown fox jumps over the lazy dog. It was a sunny day in the park."


def speech(api: Driver, **kwargs: Any) -> bytes:
    kwargs.setdefault("model", "tts-1")
    kwargs.setdefault("voice", "alloy")
    kwargs.setdefault("input", TEXT)
    data: bytes = api("audio.speech.create", **kwargs).content
    return data


def decode(data: bytes) -> bytes:
    out = miniaudio.decode(data, output_format=miniaudio.SampleFormat.SIGNED16, nchannels=1, sample_rate=24000)
    return bytes(out.samples.tobytes())


def foreign_wav(seconds: float, rate: int = 16000, silent: bool = False) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        frames = int(seconds * rate)
        w.writeframes(bytes(2 * frames) if silent else (bytes(range(1, 256)) * (2 * frames // 255 + 1))[: 2 * frames])
    return out.getvalue()


def expect_400(api: Driver, method: str, /, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(openai.BadRequestError):
        api(method, **kwargs)
    body: dict[str, Any] = api.sim.calls.last.response.json
    check_error(body)
    return dict(body["error"])


# -- speech ----------------------------------------------------------------------------------------------


def test_wav_has_the_right_rate_and_length(api: Driver, sim: FakeAI) -> None:
    data = speech(api, response_format="wav")
    assert dict(sim.calls.last.response.headers)["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(data)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (24000, 1, 2)
        assert w.getnframes() / 24000 == pytest.approx(len(TEXT) / 15)
        pcm = w.readframes(w.getnframes())
    assert max(abs(v) for v in memoryview(pcm).cast("h")) > 5000  # tones, not silence


def test_pcm_and_flac_are_the_same_samples(api: Driver, sim: FakeAI) -> None:
    pcm = speech(api, response_format="pcm")
    assert dict(sim.calls.last.response.headers)["content-type"] == "audio/pcm"
    assert len(pcm) == 2 * round(len(TEXT) / 15 * 24000)
    flac = speech(api, response_format="flac")
    assert flac[:4] == b"fLaC" and dict(sim.calls.last.response.headers)["content-type"] == "audio/flac"
    assert decode(flac) == pcm
    assert decode(speech(api, response_format="wav")) == pcm


def test_speed_voice_and_instructions(api: Driver) -> None:
    normal = speech(api, response_format="pcm")
    fast = speech(api, response_format="pcm", speed=2.0)
    slow = speech(api, response_format="pcm", speed=0.25)
    assert len(fast) == pytest.approx(len(normal) / 2, abs=2) and len(slow) == pytest.approx(4 * len(normal), abs=2)
    assert speech(api, response_format="pcm", voice="onyx") != normal
    assert speech(api, response_format="pcm") == normal  # deterministic
    mini = speech(api, model="gpt-4o-mini-tts", voice="marin", instructions="Speak warmly.", response_format="pcm")
    plain = speech(api, model="gpt-4o-mini-tts", voice="marin", response_format="pcm")
    assert len(mini) == len(plain) and mini != plain
    speech(api, model="gpt-4o-mini-tts", voice={"id": "voice_abc123"}, response_format="wav")


def test_sse_stream_for_gpt_4o_mini_tts(sim: FakeAI) -> None:
    body = {
        "model": "gpt-4o-mini-tts",
        "voice": "coral",
        "input": TEXT,
        "response_format": "pcm",
        "stream_format": "sse",
    }
    response = sim.handle(ApiRequest("POST", "/v1/audio/speech", body=json.dumps(body).encode()))
    assert response.status == 200 and response.stream is not None
    assert response.headers[0] == ("content-type", "text/event-stream; charset=utf-8")
    events = [json.loads(line[6:]) for _, chunk in response.stream for line in chunk.decode().splitlines() if line]
    for event in events:
        check_speech_event(event)
    assert [e["type"] for e in events[:-1]] == ["speech.audio.delta"] * (len(events) - 1)
    done = events[-1]
    assert done["type"] == "speech.audio.done" and done["usage"]["output_tokens"] == 51  # 5.07 s, 10 a second
    audio = b"".join(base64.b64decode(e["audio"]) for e in events[:-1])
    assert len(audio) == 2 * round(len(TEXT) / 15 * 24000)


def test_sse_through_the_sdk(api: Driver) -> None:
    raw = speech(
        api, model="gpt-4o-mini-tts", voice="coral", input="Hello.", response_format="wav", stream_format="sse"
    )
    lines = [json.loads(line[6:]) for line in raw.decode().splitlines() if line.startswith("data: ")]
    wav = b"".join(base64.b64decode(e["audio"]) for e in lines if e["type"] == "speech.audio.delta")
    with wave.open(io.BytesIO(wav)) as w:
        assert w.getnframes() == round(6 / 15 * 24000)


SPEECH_ERRORS = [
    ({"voice": "marin"}, "voice", "'alloy', 'ash', 'coral'"),
    ({"voice": "robot"}, "voice", "Supported values"),
    ({"model": "gpt-4o-mini-tts", "voice": "robot"}, "voice", "'cedar'"),
    ({"input": ""}, "input", "empty"),
    ({"input": "x" * 4097}, "input", "maximum length 4096"),
    ({"response_format": "opus"}, "response_format", "mp3, wav, pcm, flac"),
    ({"response_format": "aac"}, "response_format", "response_format='mp3'"),
    ({"response_format": "ogg"}, "response_format", "'mp3', 'opus', 'aac', 'flac', 'wav', and 'pcm'"),
    ({"speed": 4.5, "response_format": "wav"}, "speed", "<= 4"),
    ({"speed": 0.1, "response_format": "wav"}, "speed", ">= 0.25"),
    ({"instructions": "Whisper.", "response_format": "wav"}, "instructions", "gpt-4o-mini-tts"),
    ({"stream_format": "sse", "response_format": "wav"}, "stream_format", "gpt-4o-mini-tts"),
    ({"model": "gpt-4o-mini", "response_format": "wav"}, "model", "chat model"),
    ({"model": "whisper-1", "response_format": "wav"}, "model", "text-to-speech"),
]


@pytest.mark.parametrize(
    ("kwargs", "param", "text"), SPEECH_ERRORS, ids=[f"{e[1]}-{i}" for i, e in enumerate(SPEECH_ERRORS)]
)
def test_speech_errors(api: Driver, kwargs: dict[str, Any], param: str, text: str) -> None:
    kwargs = {"model": "tts-1", "voice": "alloy", "input": "Hello.", **kwargs}
    err = expect_400(api, "audio.speech.create", **kwargs)
    assert err["param"] == param and err["type"] == "invalid_request_error"
    assert text in err["message"]


def test_speech_missing_and_unknown_parameters(api: Driver) -> None:
    err = expect_400(api, "audio.speech.create", model="tts-1", voice="alloy", input="x", extra_body={"pitch": 2})
    assert (err["param"], err["code"]) == ("pitch", "unknown_parameter")
    err = expect_400(api, "audio.speech.create", model="tts-1", voice="alloy", input="x", extra_body={"voice": None})
    assert (err["param"], err["code"]) == ("voice", "missing_required_parameter")
    err = expect_400(api, "audio.speech.create", model="tts-1", voice="alloy", input="x", extra_body={"input": 3})
    assert (err["param"], err["code"]) == ("input", "invalid_type")


# -- transcriptions -----------------------------------------------------------------------------------------


def test_speech_transcribes_back_to_its_text(api: Driver, sim: FakeAI) -> None:
    for fmt, name in (("wav", "a.wav"), ("flac", "a.flac"), ("pcm", "a.wav")):
        audio = speech(api, response_format=fmt)
        if fmt == "pcm":
            audio = encode_wav(audio)  # raw samples wrapped by the client: remembered by neither, generated text
        t = api("audio.transcriptions.create", file=(name, audio), model="whisper-1")
        check_transcription(sim.calls.last.response.json)
        assert (t.text == TEXT) is (fmt != "pcm")
        assert t.usage.type == "duration" and t.usage.seconds == 6  # 5.07 s, rounded up


def test_other_audio_gets_text_as_long_as_the_audio(api: Driver) -> None:
    short = api("audio.transcriptions.create", file=("s.wav", foreign_wav(2)), model="whisper-1").text
    long = api("audio.transcriptions.create", file=("l.wav", foreign_wav(20)), model="whisper-1").text
    assert short and 2 < len(long.split()) / max(1, len(short.split())) < 40
    again = api("audio.transcriptions.create", file=("s.wav", foreign_wav(2)), model="whisper-1").text
    assert again == short  # deterministic in the bytes
    silent = api("audio.transcriptions.create", file=("q.wav", foreign_wav(3, silent=True)), model="whisper-1")
    assert silent.text == ""


def test_verbose_json_segments_and_words(api: Driver, sim: FakeAI) -> None:
    wav = speech(api, response_format="wav")
    t = api(
        "audio.transcriptions.create",
        file=("a.wav", wav),
        model="whisper-1",
        response_format="verbose_json",
        timestamp_granularities=["word", "segment"],
        language="de",
        temperature=0.2,
    )
    body = sim.calls.last.response.json
    check_transcription_verbose(body)
    assert (t.language, t.duration, t.text) == ("german", 5.07, TEXT)
    assert [s.text for s in t.segments] == [
        " The quick brown fox jumps over the lazy dog.",
        " It was a sunny day in the park.",
    ]
    assert t.segments[0].start == 0 and t.segments[-1].end == 5.07 and t.segments[0].temperature == 0.2
    assert all(s.tokens and -1 < s.avg_logprob < 0 and s.compression_ratio > 0 for s in t.segments)
    assert [w.word for w in t.words][:3] == ["The", "quick", "brown"] and t.words[-1].end == 5.07
    words_only = api(
        "audio.transcriptions.create",
        file=("a.wav", wav),
        model="whisper-1",
        response_format="verbose_json",
        timestamp_granularities=["word"],
    )
    assert words_only.words and not words_only.segments


def test_text_srt_vtt(api: Driver, sim: FakeAI) -> None:
    wav = speech(api, response_format="wav")
    text = api("audio.transcriptions.create", file=("a.wav", wav), model="whisper-1", response_format="text")
    assert text == TEXT + "\n"
    assert dict(sim.calls.last.response.headers)["content-type"] == "text/plain; charset=utf-8"
    srt = api("audio.transcriptions.create", file=("a.wav", wav), model="whisper-1", response_format="srt")
    assert re.fullmatch(
        r"1\n00:00:00,000 --> 00:00:02,970\nThe quick brown fox jumps over the lazy dog\.\n\n"
        r"2\n00:00:02,970 --> 00:00:05,070\nIt was a sunny day in the park\.\n\n",
        srt,
    )
    vtt = api("audio.transcriptions.create", file=("a.wav", wav), model="whisper-1", response_format="vtt")
    assert vtt.startswith("WEBVTT\n\n00:00:00.000 --> 00:00:02.970\nThe quick brown fox")


def test_gpt_4o_transcribe_tokens_and_logprobs(api: Driver, sim: FakeAI) -> None:
    wav = speech(api, response_format="wav")
    t = api(
        "audio.transcriptions.create",
        file=("a.wav", wav),
        model="gpt-4o-transcribe",
        include=["logprobs"],
        prompt="A story about a fox.",
    )
    check_transcription(sim.calls.last.response.json)
    assert t.text == TEXT
    usage = t.usage
    assert usage.type == "tokens" and usage.input_token_details.audio_tokens == 51
    assert usage.input_token_details.text_tokens > 0
    assert usage.input_tokens == 51 + usage.input_token_details.text_tokens
    assert usage.output_tokens == len(t.logprobs) and usage.total_tokens == usage.input_tokens + usage.output_tokens
    assert "".join(lp.token for lp in t.logprobs) == TEXT and all(lp.logprob <= 0 for lp in t.logprobs)
    text = api(
        "audio.transcriptions.create", file=("a.wav", wav), model="gpt-4o-mini-transcribe", response_format="text"
    )
    assert text == TEXT + "\n"


def test_gpt_4o_transcribe_stream(api: Driver) -> None:
    wav = speech(api, response_format="wav")
    events = api(
        "audio.transcriptions.create",
        file=("a.wav", wav),
        model="gpt-4o-mini-transcribe",
        stream=True,
        include=["logprobs"],
    )
    deltas, done = events[:-1], events[-1]
    assert {e.type for e in deltas} == {"transcript.text.delta"} and done.type == "transcript.text.done"
    assert "".join(e.delta for e in deltas) == done.text == TEXT
    assert all(len(e.logprobs) == 1 for e in deltas) and len(done.logprobs) == len(deltas)
    assert done.usage.output_tokens == len(deltas)


def stream_events(response: ApiResponse) -> list[dict[str, Any]]:
    assert response.stream is not None
    text = b"".join(chunk for _, chunk in response.stream).decode()
    return [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: ")]


def form(fields: dict[str, Any], files: Any, path: str = "/v1/audio/transcriptions") -> ApiRequest:
    request = httpx.Request("POST", "http://x" + path, data=fields, files=files)
    return ApiRequest("POST", path, headers=dict(request.headers), body=request.read())


def test_stream_events_match_the_spec(sim: FakeAI) -> None:
    wav = encode_wav(speech_pcm("Hello there.", seed=1))
    response = sim.handle(
        form({"model": "gpt-4o-transcribe", "stream": "true", "include[]": "logprobs"}, {"file": ("a.wav", wav)})
    )
    events = stream_events(response)
    assert events[-1]["type"] == "transcript.text.done"
    for event in events:
        check_transcription_event(event)


def test_whisper_ignores_stream_as_documented(sim: FakeAI) -> None:
    response = sim.handle(form({"model": "whisper-1", "stream": "true"}, {"file": ("a.wav", foreign_wav(1))}))
    assert response.status == 200 and response.stream is None
    check_transcription(json.loads(response.body))


def test_durations_of_other_formats(api: Driver) -> None:
    mp3 = b"\xff\xfb\x90\x00" + bytes(413)  # one MPEG-1 layer III frame: 1152 samples at 44.1 kHz
    t = api("audio.transcriptions.create", file=("a.mp3", mp3 * 400), model="whisper-1", response_format="verbose_json")
    assert t.duration == round(400 * 1152 / 44100, 2)
    webm = b"\x1a\x45\xdf\xa3" + bytes(63996)  # no length in the header: estimated at 128 kbit/s
    t = api("audio.transcriptions.create", file=("a.webm", webm), model="whisper-1", response_format="verbose_json")
    assert t.duration == 4.0


# -- translations -------------------------------------------------------------------------------------------


def test_translation(api: Driver, sim: FakeAI) -> None:
    wav = speech(api, response_format="wav")
    t = api("audio.translations.create", file=("a.wav", wav), model="whisper-1")
    check_translation(sim.calls.last.response.json)
    assert t.text == TEXT
    v = api("audio.translations.create", file=("a.wav", wav), model="whisper-1", response_format="verbose_json")
    check_transcription_verbose(sim.calls.last.response.json, task="translate")
    assert v.language == "english" and v.segments
    err = expect_400(api, "audio.translations.create", file=("a.wav", wav), model="gpt-4o-transcribe")
    assert err["param"] == "model" and "whisper-1 only" in err["message"]


# -- OpenAI's 400s ------------------------------------------------------------------------------------------

TRANSCRIBE_ERRORS = [
    ({"file": ("a.pcm", b"\x00\x01" * 100)}, "file", "Invalid file format. Supported formats: ['flac', 'm4a'"),
    ({"file": ("notes.txt", b"hello")}, "file", "Invalid file format"),
    ({"file": ("a.wav", b"garbage bytes")}, "file", "Audio file might be corrupted or unsupported"),
    ({"file": ("a.flac", b"fLaC\x00\x00\x00\x22" + bytes(10))}, "file", "corrupted"),
    ({"file": ("a.wav", foreign_wav(0.05))}, "file", "Minimum audio length is 0.1 seconds"),
    ({"model": "gpt-4o-transcribe", "response_format": "srt"}, "response_format", "'json' or 'text'"),
    ({"model": "gpt-4o-transcribe", "response_format": "verbose_json"}, "response_format", "not compatible"),
    ({"response_format": "xml"}, "response_format", "'verbose_json'"),
    ({"language": "english"}, "language", "ISO-639-1"),
    ({"include": ["logprobs"]}, "include", "gpt-4o-transcribe"),
    ({"model": "gpt-4o-transcribe", "include": ["tokens"]}, "include", "'logprobs'"),
    ({"timestamp_granularities": ["word"]}, "timestamp_granularities", "verbose_json"),
    ({"response_format": "verbose_json", "timestamp_granularities": ["line"]}, "timestamp_granularities", "'word'"),
    ({"temperature": 1.5}, "temperature", "<= 1"),
    ({"model": "tts-1"}, "model", "speech-to-text"),
]


@pytest.mark.parametrize(
    ("kwargs", "param", "text"), TRANSCRIBE_ERRORS, ids=[f"{e[1]}-{i}" for i, e in enumerate(TRANSCRIBE_ERRORS)]
)
def test_transcription_errors(api: Driver, kwargs: dict[str, Any], param: str, text: str) -> None:
    kwargs = {"file": ("a.wav", foreign_wav(1)), "model": "whisper-1", **kwargs}
    err = expect_400(api, "audio.transcriptions.create", **kwargs)
    assert err["param"] == param and err["type"] == "invalid_request_error"
    assert text in err["message"]


def test_malformed_uploads(sim: FakeAI) -> None:
    def error(request: ApiRequest) -> dict[str, Any]:
        response = sim.handle(request)
        assert response.status == 400, response.body
        body: dict[str, Any] = json.loads(response.body)
        check_error(body)
        return dict(body["error"])

    assert error(form({"model": "whisper-1"}, {"other": ("a", b"x")}))["param"] == "file"
    assert error(form({"model": "whisper-1", "file": "text"}, {"x": ("a", b"")}))["param"] == "file"
    assert error(form({}, {"file": ("a.wav", foreign_wav(1))}))["param"] == "model"
    assert (
        error(form({"model": "whisper-1", "colour": "red"}, {"file": ("a.wav", foreign_wav(1))}))["param"] == "colour"
    )
    raw = ApiRequest("POST", "/v1/audio/transcriptions", body=b'{"model": "whisper-1"}')
    assert "multipart/form-data" in error(raw)["message"]


def test_too_large_upload_is_a_413(sim: FakeAI) -> None:
    big = b"RIFF" + bytes(26_214_400)
    response = sim.handle(form({"model": "whisper-1"}, {"file": ("a.wav", big)}))
    assert response.status == 413
    assert "Maximum content size limit (26214400) exceeded" in json.loads(response.body)["error"]["message"]


# -- nothing a client sends makes a 500 ---------------------------------------------------------------------

_SIM = FakeAI(seed=5)
_WAV = encode_wav(speech_pcm("Hi there.", seed=1))
_SPEECH_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 5),
    st.floats(allow_nan=False),
    st.text(max_size=10),
    st.sampled_from(
        ["tts-1", "gpt-4o-mini-tts", "whisper-1", "alloy", "marin", "wav", "pcm", "flac", "mp3", "sse", "audio"]
    ),
    st.fixed_dictionaries({"id": st.text(max_size=5)}),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.dictionaries(
        st.sampled_from(["model", "input", "voice", "instructions", "response_format", "speed", "stream_format"]),
        _SPEECH_VALUES,
        max_size=7,
    )
)
def test_random_speech_json_never_500s(body: dict[str, Any]) -> None:
    response = _SIM.handle(ApiRequest("POST", "/v1/audio/speech", body=json.dumps(body).encode()))
    assert response.status in (200, 400, 404), response.body
    if response.stream is not None:
        response.stream.close()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    fields=st.dictionaries(
        st.sampled_from(
            [
                "model",
                "language",
                "prompt",
                "response_format",
                "temperature",
                "stream",
                "include[]",
                "timestamp_granularities[]",
                "chunking_strategy",
            ]
        ),
        st.sampled_from(
            [
                "whisper-1",
                "gpt-4o-transcribe",
                "en",
                "zz",
                "json",
                "srt",
                "verbose_json",
                "text",
                "0.5",
                "2",
                "true",
                "nope",
                "logprobs",
                "word",
                "auto",
                "",
            ]
        ),
        max_size=6,
    ),
    data=st.one_of(st.binary(max_size=64), st.sampled_from([_WAV, _WAV[:50], b"fLaC" + bytes(40), b"ID3" + bytes(20)])),
    name=st.sampled_from(["a.wav", "a.mp3", "a.flac", "a.ogg", "a.m4a", "a.webm", "a", "a.pcm"]),
    path=st.sampled_from(["/v1/audio/transcriptions", "/v1/audio/translations"]),
)
def test_random_uploads_never_500(fields: dict[str, str], data: bytes, name: str, path: str) -> None:
    response = _SIM.handle(form(fields, {"file": (name, data)}, path))
    assert 200 <= response.status < 500, response.body
    if response.status != 200:
        check_error(json.loads(response.body))
    elif response.stream is not None:
        response.stream.close()


def test_docs_examples_run() -> None:
    """docs/audio.md runs as written, top to bottom, in one namespace."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "audio.md").read_text()
    namespace: dict[str, object] = {}
    for block in re.findall(r"```python\n(.*?)```", text, re.S):
        exec(compile(block, "docs/audio.md", "exec"), namespace)


def test_speech_defaults_to_real_mp3_of_the_right_length(api: Driver) -> None:
    pytest.importorskip("lameenc", reason="mp3 needs the optional LAME encoder: pytest-fakeai[audio]")
    miniaudio = pytest.importorskip("miniaudio")
    text = "The quick brown fox jumps over the lazy dog, twice over."
    audio = api("audio.speech.create", model="tts-1", voice="alloy", input=text).read()  # no response_format: mp3
    assert api.sim.calls.last.response.header("content-type") == "audio/mpeg"
    decoded = miniaudio.decode(audio, output_format=miniaudio.SampleFormat.SIGNED16, nchannels=1, sample_rate=24_000)
    assert decoded.duration == pytest.approx(len(text) / 15, abs=0.1)  # 15 characters a second
    transcript = api("audio.transcriptions.create", file=("speech.mp3", audio), model="whisper-1")
    assert transcript.text == text  # the simulator remembers what it said


def test_mp3_without_the_encoder_is_a_clear_400(api: Driver, monkeypatch: pytest.MonkeyPatch) -> None:
    import pytest_fakeai.engine.sound as sound

    monkeypatch.setattr(sound, "mp3_available", lambda: False)
    err = expect_400(api, "audio.speech.create", model="tts-1", voice="alloy", input="hi")
    assert err["param"] == "response_format" and "pip install 'pytest-fakeai[audio]'" in err["message"]
