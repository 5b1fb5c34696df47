"""``/v1/audio``: speech (JSON → audio bytes), transcriptions and translations (multipart upload).

Speech is real audio (:mod:`pytest_fakeai.engine.sound`): MP3 (the API's default;
with the optional LAME encoder, pytest-fakeai[audio]), WAV, raw PCM (24 kHz, 16-bit
mono little-endian) and FLAC; ``opus`` and ``aac`` -- which the simulator does not
encode -- get a 400 naming the formats it writes.  Audio the
simulator spoke transcribes back to the text it was given (the text is embedded
in WAV/FLAC and remembered by hash for every format); any other audio gets
generated English whose length follows the audio's duration (docs/audio.md).
"""

from __future__ import annotations

import base64
import hashlib
import math
import random
import re
import threading
import zlib
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..engine.rng import derive_seed
from .common import dumps, json_response, piece_logprobs, resolve_model, response_headers, token_pieces
from .errors import ApiError, invalid_type, invalid_value, missing_parameter, unknown_parameter
from .images import Params
from .types import ApiRequest, ApiResponse, TimedStream

if TYPE_CHECKING:
    from ..engine.core import Engine
    from ..engine.registry import ModelSpec
    from ..engine.sound import AudioInfo

__all__ = [
    "MAX_AUDIO_BYTES",
    "SPEECH_FORMATS",
    "TRANSCRIPTION_FILE_FORMATS",
    "create_speech",
    "create_transcription",
    "create_translation",
    "remember_speech",
]

#: The formats the speech endpoint writes (the API also names mp3, opus and aac).
SPEECH_FORMATS = ("mp3", "wav", "pcm", "flac")
_API_SPEECH_FORMATS = ("mp3", "opus", "aac", "flac", "wav", "pcm")
#: File extensions the transcription and translation endpoints accept, as OpenAI lists them.
TRANSCRIPTION_FILE_FORMATS = ("flac", "m4a", "mp3", "mp4", "mpeg", "mpga", "oga", "ogg", "wav", "webm")
#: Largest audio upload: 25 MB.
MAX_AUDIO_BYTES = 26_214_400
_MAX_SPEECH_INPUT = 4096
_MIN_SECONDS = 0.1
_REMEMBERED = 1024  # spoken audio remembered per simulator (hash → text)
_TOKENS_PER_SECOND = 3.5  # of generated transcript, per second of audio
_AUDIO_TOKENS_PER_SECOND = 10

_CONTENT_TYPES = {
    "mp3": "audio/mpeg",
    "opus": "audio/opus",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}
# built-in voices and their base pitch (Hz); the last four are gpt-4o-mini-tts voices only
_VOICES = {
    "alloy": 175.0,
    "ash": 112.0,
    "coral": 205.0,
    "echo": 104.0,
    "fable": 150.0,
    "onyx": 88.0,
    "nova": 220.0,
    "sage": 190.0,
    "shimmer": 212.0,
    "ballad": 128.0,
    "verse": 120.0,
    "marin": 198.0,
    "cedar": 110.0,
}
_CLASSIC_VOICES = ("alloy", "ash", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer")

# ISO-639-1 codes Whisper knows, and the names verbose_json reports
_LANGUAGE_TABLE = """
en:english zh:chinese de:german es:spanish ru:russian ko:korean fr:french ja:japanese pt:portuguese
tr:turkish pl:polish ca:catalan nl:dutch ar:arabic sv:swedish it:italian id:indonesian hi:hindi
fi:finnish vi:vietnamese he:hebrew uk:ukrainian el:greek ms:malay cs:czech ro:romanian da:danish
hu:hungarian ta:tamil no:norwegian th:thai ur:urdu hr:croatian bg:bulgarian lt:lithuanian la:latin
mi:maori ml:malayalam cy:welsh sk:slovak te:telugu fa:persian lv:latvian bn:bengali sr:serbian
az:azerbaijani sl:slovenian kn:kannada et:estonian mk:macedonian br:breton eu:basque is:icelandic
hy:armenian ne:nepali mn:mongolian bs:bosnian kk:kazakh sq:albanian sw:swahili gl:galician mr:marathi
pa:punjabi si:sinhala km:khmer sn:shona yo:yoruba so:somali af:afrikaans oc:occitan ka:georgian
be:belarusian tg:tajik sd:sindhi gu:gujarati am:amharic yi:yiddish lo:lao uz:uzbek fo:faroese
ht:haitian_creole ps:pashto tk:turkmen nn:nynorsk mt:maltese sa:sanskrit lb:luxembourgish my:myanmar
bo:tibetan tl:tagalog mg:malagasy as:assamese tt:tatar haw:hawaiian ln:lingala ha:hausa ba:bashkir
jw:javanese su:sundanese yue:cantonese
"""
_LANGUAGES = dict(item.split(":", 1) for item in _LANGUAGE_TABLE.split())


def _ok(engine: Engine, body: dict[str, Any], due: float = 0.0) -> ApiResponse:
    return json_response(engine, body, due=due)


def _with_type(engine: Engine, content_type: str, body: bytes, due: float = 0.0) -> ApiResponse:
    headers = [(k, content_type if k == "content-type" else v) for k, v in response_headers(engine, due)]
    return ApiResponse(200, headers, body, due=due)


def _kind(spec: ModelSpec, kind: str, endpoint: str, models: str) -> None:
    if spec.kind != kind:
        article = "an" if spec.kind[0] in "aeiou" else "a"
        raise ApiError(
            400,
            f"Invalid model '{spec.id}': {endpoint} takes {models}, and `{spec.id}` is {article} {spec.kind} model.",
            param="model",
            code="invalid_value",
        )


def _family(spec: ModelSpec) -> str:
    return (spec.base_model or spec.id).lower()


# -- spoken audio remembered by hash -----------------------------------------------------------------


class _Spoken:
    def __init__(self) -> None:
        self._texts: OrderedDict[bytes, str] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, data: bytes, text: str) -> None:
        key = hashlib.blake2b(data, digest_size=16).digest()
        with self._lock:
            self._texts[key] = text
            self._texts.move_to_end(key)
            while len(self._texts) > _REMEMBERED:
                self._texts.popitem(last=False)

    def get(self, data: bytes) -> str | None:
        key = hashlib.blake2b(data, digest_size=16).digest()
        with self._lock:
            return self._texts.get(key)


def _spoken(engine: Engine) -> _Spoken:
    store: _Spoken = engine.stores.setdefault("audio", _Spoken())
    return store


def remember_speech(engine: Engine, audio: bytes, text: str) -> None:
    """Make ``audio`` transcribe to ``text`` on this simulator (the speech endpoint does this)."""
    _spoken(engine).put(audio, text)


# -- speech --------------------------------------------------------------------------------------------

_SPEECH_PARAMS = frozenset({"model", "input", "voice", "instructions", "response_format", "speed", "stream_format"})


def _voice(params: Params, spec: ModelSpec) -> tuple[str, float]:
    value = params.raw("voice")
    if value is None:
        raise missing_parameter("voice")
    if isinstance(value, dict):
        custom = value.get("id")
        if not isinstance(custom, str) or not custom:
            raise missing_parameter("voice.id")
        pitch = 95.0 + derive_seed("voice", custom) % 130
        return custom, float(pitch)
    if not isinstance(value, str):
        raise invalid_type("voice", "a string or an object with an 'id'", "a " + type(value).__name__)
    mini = not _family(spec).startswith("tts-1")
    voices = tuple(_VOICES) if mini else _CLASSIC_VOICES
    if value not in voices:
        raise invalid_value("voice", value, voices)
    return value, _VOICES[value]


def create_speech(engine: Engine, request: ApiRequest) -> ApiResponse:
    """``POST /v1/audio/speech``: the input spoken, as audio bytes (or ``stream_format="sse"`` events)."""
    from ..engine.sound import encode_audio, mp3_available, speech_duration, speech_pcm

    params = Params.from_json(request.body)
    params.check_known(_SPEECH_PARAMS)
    model = params.text("model", required=True)
    text = params.text("input", required=True)
    assert model is not None and text is not None
    spec = resolve_model(engine, model)
    _kind(spec, "audio_speech", "speech", "a text-to-speech model (tts-1, tts-1-hd or gpt-4o-mini-tts)")
    voice, pitch = _voice(params, spec)
    limit = spec.max_input_characters or _MAX_SPEECH_INPUT
    if not text:
        raise ApiError(
            400,
            "Invalid 'input': empty string. Expected a string with minimum length 1, but got an empty string instead.",
            param="input",
            code="empty_string",
        )
    if len(text) > limit:
        raise ApiError(
            400,
            f"Invalid 'input': string too long. Expected a string with maximum length {limit}, but got a string "
            f"with length {len(text)} instead.",
            param="input",
            code="string_above_max_length",
        )
    classic = _family(spec).startswith("tts-1")
    instructions = params.text("instructions")
    if instructions is not None:
        if classic:
            raise ApiError(
                400,
                f"Unsupported parameter: 'instructions' is not supported with {spec.id}. Use gpt-4o-mini-tts to "
                "steer the voice with instructions.",
                param="instructions",
                code="unsupported_parameter",
            )
        if len(instructions) > _MAX_SPEECH_INPUT:
            raise ApiError(
                400,
                f"Invalid 'instructions': string too long. Expected a string with maximum length "
                f"{_MAX_SPEECH_INPUT}, but got a string with length {len(instructions)} instead.",
                param="instructions",
                code="string_above_max_length",
            )
    fmt = params.choice("response_format", _API_SPEECH_FORMATS, "mp3")
    assert fmt is not None
    speed = params.number("speed", 0.25, 4.0)
    stream_format = params.choice("stream_format", ("sse", "audio"), "audio")
    if stream_format == "sse" and classic:
        raise ApiError(
            400,
            f"Unsupported value: 'stream_format' does not support 'sse' with {spec.id}. Use gpt-4o-mini-tts for "
            "server-sent events, or leave stream_format as 'audio'.",
            param="stream_format",
            code="unsupported_value",
        )
    if fmt == "mp3" and not mp3_available():
        raise ApiError(
            400,
            "Unsupported value: response_format 'mp3' needs the LAME encoder, which is not installed: "
            "pip install 'pytest-fakeai[audio]' (or pass response_format='wav', 'flac' or 'pcm').",
            param="response_format",
            code="unsupported_value",
        )
    if fmt not in SPEECH_FORMATS:
        raise ApiError(
            400,
            f"Unsupported value: response_format '{fmt}' is not produced by this simulator (pytest-fakeai), which "
            f"writes real {', '.join(SPEECH_FORMATS)} audio. Pass response_format='mp3' or 'wav' (or 'flac', or "
            "'pcm' for 24 kHz 16-bit mono little-endian samples).",
            param="response_format",
            code="unsupported_value",
        )
    seed = derive_seed(engine.seed, "speech", _family(spec), voice, instructions)
    pcm = speech_pcm(text, seed=seed, speed=speed or 1.0, pitch=pitch)
    audio = encode_audio(pcm, fmt, text=text)
    remember_speech(engine, audio, text)
    seconds = speech_duration(text, speed or 1.0)
    settings = engine.settings
    due = settings.ttft + settings.itl * len(text) / 4
    if stream_format == "audio":
        return _with_type(engine, _CONTENT_TYPES[fmt], audio, due)

    input_tokens = engine.tokenizer(spec).count(text) + (
        engine.tokenizer(spec).count(instructions) if instructions else 0
    )
    output_tokens = max(1, math.ceil(seconds * _AUDIO_TOKENS_PER_SECOND))
    usage = {"input_tokens": input_tokens, "output_tokens": output_tokens, "total_tokens": input_tokens + output_tokens}
    chunk = 24_000 if fmt != "pcm" else 12_000  # bytes of audio per event: about a quarter / half second

    def events() -> Iterator[tuple[float, bytes]]:
        pieces = max(1, -(-len(audio) // chunk))
        for i in range(pieces):
            part = base64.b64encode(audio[i * chunk : (i + 1) * chunk]).decode("ascii")
            payload = {"type": "speech.audio.delta", "audio": part}
            yield settings.ttft + (due - settings.ttft) * i / pieces, b"data: " + dumps(payload) + b"\n\n"
        yield due, b"data: " + dumps({"type": "speech.audio.done", "usage": usage}) + b"\n\n"

    return ApiResponse(200, response_headers(engine, settings.ttft, stream=True), stream=TimedStream(events()))


# -- transcriptions and translations --------------------------------------------------------------------

_TRANSCRIPTION_PARAMS = frozenset(
    {
        "file",
        "model",
        "language",
        "prompt",
        "response_format",
        "temperature",
        "include",
        "include[]",
        "timestamp_granularities",
        "timestamp_granularities[]",
        "stream",
        "chunking_strategy",
        "known_speaker_names",
        "known_speaker_names[]",
        "known_speaker_references",
        "known_speaker_references[]",
    }
)
_TRANSLATION_PARAMS = frozenset({"file", "model", "prompt", "response_format", "temperature"})
_WHISPER_FORMATS = ("json", "text", "srt", "verbose_json", "vtt")
_GPT_FORMATS = ("json", "text")


@dataclass(frozen=True, slots=True)
class _Heard:
    """An upload understood: its audio, what it says, and the request's options."""

    spec: ModelSpec
    info: AudioInfo
    text: str
    response_format: str
    temperature: float
    prompt: str | None
    language: str


def _upload(engine: Engine, request: ApiRequest, allowed: frozenset[str]) -> tuple[Params, Any, ModelSpec]:
    from .multipart import FORM_OVERHEAD, parse_form

    form = parse_form(request, max_bytes=MAX_AUDIO_BYTES + FORM_OVERHEAD)
    upload = form.require_file("file")
    params = Params.from_form(form)
    for name in [*form.fields, *form.files]:
        if name not in allowed and not name.startswith("chunking_strategy["):
            raise unknown_parameter(name.removesuffix("[]"))
    model = params.text("model", required=True)
    assert model is not None
    spec = resolve_model(engine, model)
    if upload.size > MAX_AUDIO_BYTES:
        raise ApiError(
            413,
            f"Maximum content size limit ({MAX_AUDIO_BYTES}) exceeded ({upload.size} bytes read)",
            param="file",
        )
    return params, upload, spec


def _hear(engine: Engine, upload: Any, spec: ModelSpec, *, translate: bool) -> tuple[AudioInfo, str]:
    """Decode the upload; the words it says (remembered, embedded, or generated for its length)."""
    from ..engine.sound import AudioError, read_audio

    name = upload.filename
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in TRANSCRIPTION_FILE_FORMATS:
        raise ApiError(
            400,
            f"Invalid file format. Supported formats: {list(TRANSCRIPTION_FILE_FORMATS)}",
            param="file",
            code="invalid_value",
        )
    try:
        info = read_audio(upload.data)
    except AudioError as exc:
        raise ApiError(
            400,
            f"Audio file might be corrupted or unsupported: '{name}' could not be read ({exc}).",
            param="file",
            code="invalid_value",
        ) from None
    if info.duration < _MIN_SECONDS:
        raise ApiError(
            400,
            f"Audio file is too short. Minimum audio length is {_MIN_SECONDS} seconds.",
            param="file",
            code="audio_too_short",
        )
    text = _spoken(engine).get(upload.data) or info.text
    if text is None:
        if info.silent:
            return info, ""
        seed = derive_seed(engine.seed, "transcript", hashlib.blake2b(upload.data, digest_size=16).digest())
        target = max(1, round(info.duration * _TOKENS_PER_SECOND))
        if spec.max_output_tokens:
            target = min(target, spec.max_output_tokens)
        text = engine.generator.generate(random.Random(seed), max_tokens=None, target_tokens=target).text
    return info, text


def _usage_duration(info: AudioInfo) -> dict[str, Any]:
    return {"type": "duration", "seconds": max(1, math.ceil(info.duration))}


def _usage_tokens(engine: Engine, heard: _Heard, output_tokens: int) -> dict[str, Any]:
    audio = max(1, math.ceil(heard.info.duration * _AUDIO_TOKENS_PER_SECOND))
    prompt = engine.tokenizer(heard.spec).count(heard.prompt) if heard.prompt else 0
    return {
        "type": "tokens",
        "input_tokens": audio + prompt,
        "input_token_details": {"text_tokens": prompt, "audio_tokens": audio},
        "output_tokens": output_tokens,
        "total_tokens": audio + prompt + output_tokens,
    }


_SENTENCE = re.compile(r"[^.!?]+[.!?]*|[.!?]+")


def _timestamp(seconds: float, sep: str) -> str:
    ms = round(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _segments(engine: Engine, heard: _Heard, seed: int) -> list[dict[str, Any]]:
    """Whisper-style segments: one per sentence, times shared out by length."""
    text, duration = heard.text, heard.info.duration
    sentences = [m.group().strip() for m in _SENTENCE.finditer(text) if m.group().strip()]
    total = sum(len(s) for s in sentences) or 1
    rng = random.Random(seed)
    tokenizer = engine.tokenizer(heard.spec)
    out = []
    at = 0
    for i, sentence in enumerate(sentences):
        start = duration * at / total
        at += len(sentence)
        end = duration * at / total
        raw = sentence.encode()
        out.append(
            {
                "id": i,
                "seek": int(start // 30) * 3000,
                "start": round(start, 2),
                "end": round(end, 2),
                "text": " " + sentence,
                "tokens": tokenizer.encode(" " + sentence),
                "temperature": heard.temperature,
                "avg_logprob": round(rng.uniform(-0.45, -0.08), 6),
                "compression_ratio": round(len(raw) / max(1, len(zlib.compress(raw))), 6),
                "no_speech_prob": round(rng.uniform(0.0, 0.02), 6),
            }
        )
    return out


def _words(segments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    words = []
    for seg in segments:
        parts = [w.strip(".,!?;:\"'") for w in seg["text"].split()]
        parts = [w for w in parts if w]
        length = sum(len(w) for w in parts) or 1
        at = 0
        span = seg["end"] - seg["start"]
        for word in parts:
            start = seg["start"] + span * at / length
            at += len(word)
            words.append({"word": word, "start": round(start, 2), "end": round(seg["start"] + span * at / length, 2)})
    return words


def _subtitles(segments: list[dict[str, Any]], vtt: bool) -> str:
    blocks = []
    for i, seg in enumerate(segments):
        times = f"{_timestamp(seg['start'], '.' if vtt else ',')} --> {_timestamp(seg['end'], '.' if vtt else ',')}"
        blocks.append(f"{times}\n{seg['text'].strip()}\n" if vtt else f"{i + 1}\n{times}\n{seg['text'].strip()}\n")
    return ("WEBVTT\n\n" if vtt else "") + "\n".join(blocks) + ("\n" if blocks else "")


def _text_response(engine: Engine, text: str, due: float) -> ApiResponse:
    return _with_type(engine, "text/plain; charset=utf-8", text.encode(), due)


def _common(engine: Engine, params: Params, spec: ModelSpec, upload: Any, *, translate: bool) -> _Heard:
    whisper = _family(spec).startswith("whisper")
    formats = _WHISPER_FORMATS if whisper else _GPT_FORMATS
    response_format = params.text("response_format") or "json"
    if response_format not in (*_WHISPER_FORMATS, "diarized_json"):
        raise invalid_value("response_format", response_format, _WHISPER_FORMATS)
    if response_format not in formats:
        raise ApiError(
            400,
            f"response_format '{response_format}' is not compatible with model '{spec.id}'. Use "
            f"{' or '.join(repr(f) for f in formats)} instead.",
            param="response_format",
            code="unsupported_value",
        )
    temperature = params.number("temperature", 0.0, 1.0)
    prompt = params.text("prompt")
    language = "en"
    if not translate:
        given = params.text("language")
        if given is not None:
            if given.lower() not in _LANGUAGES:
                raise ApiError(
                    400,
                    f"Invalid language '{given}'. Language parameter must be specified in ISO-639-1 format.",
                    param="language",
                    code="invalid_value",
                )
            language = given.lower()
    info, text = _hear(engine, upload, spec, translate=translate)
    return _Heard(spec, info, text, response_format, temperature or 0.0, prompt, language)


def _respond_text(engine: Engine, heard: _Heard, task: str, granularities: list[str], logprobs: bool) -> ApiResponse:
    seed = derive_seed(engine.seed, task, heard.text, heard.info.duration)
    settings = engine.settings
    pieces, counts = token_pieces(engine, heard.spec, heard.text)
    due = settings.ttft + settings.itl * sum(counts)
    fmt = heard.response_format
    whisper = _family(heard.spec).startswith("whisper")
    if fmt == "text":
        return _text_response(engine, heard.text + "\n", due)
    if fmt in ("srt", "vtt"):
        return _text_response(engine, _subtitles(_segments(engine, heard, seed), fmt == "vtt"), due)
    if fmt == "verbose_json":
        segments = _segments(engine, heard, seed)
        body: dict[str, Any] = {
            "task": task,
            "language": _LANGUAGES.get(heard.language, heard.language).replace("_", " "),
            "duration": round(heard.info.duration, 2),
            "text": heard.text,
        }
        if "word" in granularities:
            body["words"] = _words(segments)
        if "segment" in granularities or not granularities:
            body["segments"] = segments
        if task == "transcribe":
            body["usage"] = _usage_duration(heard.info)
        return _ok(engine, body, due)
    body = {"text": heard.text}
    if logprobs:
        body["logprobs"] = _logprobs(engine, pieces, seed)
    if task == "transcribe":
        body["usage"] = _usage_duration(heard.info) if whisper else _usage_tokens(engine, heard, sum(counts))
    return _ok(engine, body, due)


def _logprobs(engine: Engine, pieces: list[str], seed: int) -> list[dict[str, Any]]:
    entries = piece_logprobs(engine, random.Random(seed), pieces, 0)
    return [{"token": e["token"], "logprob": e["logprob"], "bytes": e["bytes"]} for e in entries]


def create_transcription(engine: Engine, request: ApiRequest) -> ApiResponse:
    """``POST /v1/audio/transcriptions``."""
    params, upload, spec = _upload(engine, request, _TRANSCRIPTION_PARAMS)
    _kind(
        spec,
        "audio_transcription",
        "transcriptions",
        "a speech-to-text model (whisper-1, gpt-4o-transcribe or gpt-4o-mini-transcribe)",
    )
    whisper = _family(spec).startswith("whisper")
    include = params.strings("include") or []
    for item in include:
        if item != "logprobs":
            raise invalid_value("include", item, ("logprobs",))
    granularities = params.strings("timestamp_granularities") or []
    for item in granularities:
        if item not in ("word", "segment"):
            raise invalid_value("timestamp_granularities", item, ("word", "segment"))
    stream = params.boolean("stream")
    heard = _common(engine, params, spec, upload, translate=False)
    if include and (whisper or heard.response_format != "json"):
        raise ApiError(
            400,
            "Invalid 'include': logprobs are returned only by gpt-4o-transcribe and gpt-4o-mini-transcribe with "
            f"response_format 'json' (got model {spec.id}, response_format '{heard.response_format}').",
            param="include",
            code="invalid_value",
        )
    if granularities and heard.response_format != "verbose_json":
        raise ApiError(
            400,
            "Invalid 'timestamp_granularities': timestamps need response_format 'verbose_json' (whisper-1).",
            param="timestamp_granularities",
            code="invalid_value",
        )
    if stream and not whisper:  # whisper-1 ignores stream, as OpenAI documents
        return _stream_transcript(engine, heard, bool(include))
    return _respond_text(engine, heard, "transcribe", granularities or ["segment"], bool(include))


def _stream_transcript(engine: Engine, heard: _Heard, logprobs: bool) -> ApiResponse:
    settings = engine.settings
    pieces, counts = token_pieces(engine, heard.spec, heard.text)
    seed = derive_seed(engine.seed, "transcribe", heard.text, heard.info.duration)
    entries = _logprobs(engine, pieces, seed) if logprobs else None
    usage = _usage_tokens(engine, heard, sum(counts))

    def events() -> Iterator[tuple[float, bytes]]:
        due = settings.ttft
        for i, piece in enumerate(pieces):
            payload: dict[str, Any] = {"type": "transcript.text.delta", "delta": piece}
            if entries is not None:
                payload["logprobs"] = [entries[i]]
            yield due, b"data: " + dumps(payload) + b"\n\n"
            due += settings.itl * counts[i]
        done: dict[str, Any] = {"type": "transcript.text.done", "text": heard.text}
        if entries is not None:
            done["logprobs"] = entries
        done["usage"] = usage
        yield due, b"data: " + dumps(done) + b"\n\n"

    return ApiResponse(200, response_headers(engine, settings.ttft, stream=True), stream=TimedStream(events()))


def create_translation(engine: Engine, request: ApiRequest) -> ApiResponse:
    """``POST /v1/audio/translations`` (whisper-1): the audio's words in English."""
    params, upload, spec = _upload(engine, request, _TRANSLATION_PARAMS)
    _kind(spec, "audio_transcription", "translations", "whisper-1")
    if not _family(spec).startswith("whisper"):
        raise ApiError(
            400,
            f"Invalid model '{spec.id}': translations are made by whisper-1 only.",
            param="model",
            code="invalid_value",
        )
    heard = _common(engine, params, spec, upload, translate=True)
    return _respond_text(engine, heard, "translate", ["segment"], False)
