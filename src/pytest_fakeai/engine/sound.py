"""Speech as real audio bytes (WAV, raw PCM, FLAC), and reading the audio clients upload.

Pure data, standard library only::

    pcm = speech_pcm("Hello there.", seed=7)       # 16-bit mono little-endian samples at 24 kHz
    wav = encode_audio(pcm, "wav", text="Hello there.")
    info = read_audio(wav)                           # AudioInfo(format="wav", duration=0.8, text="Hello there.")

The voice is synthetic but voice-like: each syllable is a few periods of a
harmonic wave shaped by its vowel's formants, at a pitch that drifts down across
a sentence, with silence for spaces and punctuation.  A text lasts
``len(text) / (15 * speed)`` seconds: 15 characters a second at speed 1.

Periods are computed once per syllable and repeated as bytes, so ten seconds of
speech cost a few milliseconds; FLAC frames are verbatim (uncompressed) with the
CRCs the format requires.  ``text`` given to :func:`encode_audio` is embedded
(a WAV ``LIST/INFO`` comment, a FLAC Vorbis comment) so that :func:`read_audio`
can tell what the audio says.
"""

from __future__ import annotations

import array
import functools
import hashlib
import math
import random
import re
import struct
import sys
from dataclasses import dataclass

__all__ = [
    "AUDIO_FORMATS",
    "CHARS_PER_SECOND",
    "SAMPLE_RATE",
    "AudioError",
    "AudioInfo",
    "encode_audio",
    "encode_flac",
    "encode_mp3",
    "encode_wav",
    "mp3_available",
    "read_audio",
    "speech_duration",
    "speech_pcm",
]

SAMPLE_RATE = 24_000
CHARS_PER_SECOND = 15.0
#: Formats :func:`encode_audio` writes (mp3 needs the optional ``lameenc`` encoder: pytest-fakeai[audio]).
AUDIO_FORMATS = ("wav", "pcm", "flac", "mp3")


def mp3_available() -> bool:
    """Whether the LAME encoder (the ``lameenc`` package, extra ``pytest-fakeai[audio]``) is installed."""
    import importlib.util

    return importlib.util.find_spec("lameenc") is not None


#: The tag the text is embedded under (WAV: ``ISFT`` names this package, ``ICMT`` holds the text).
TEXT_TAG = "PYTEST_FAKEAI_TEXT"
_SOFTWARE = "pytest-fakeai"

# first three formants (Hz) of the vowels, and of a neutral one for syllables without a vowel
_FORMANTS = {
    "a": (730, 1090, 2440),
    "e": (530, 1840, 2480),
    "i": (270, 2290, 3010),
    "o": (570, 840, 2410),
    "u": (300, 870, 2240),
    "y": (300, 2000, 2700),
    "": (500, 1500, 2500),
}
_TABLE = 1024  # points in one period of a vowel's wave
_REFERENCE_F0 = 140.0
_TOKENS = re.compile(r"[^\W_]+|\s+|.", re.DOTALL)
_LITTLE = sys.byteorder == "little"


@functools.cache
def _cycle(vowel: str) -> tuple[float, ...]:
    """One period of a vowel: 24 harmonics weighted by its formants, peak 1."""
    f1, f2, f3 = _FORMANTS[vowel]
    weights = []
    for k in range(1, 25):
        f = k * _REFERENCE_F0
        formant = sum(g * math.exp(-(((f - fc) / 130.0) ** 2)) for fc, g in ((f1, 1.0), (f2, 0.7), (f3, 0.35)))
        weights.append((k, (0.35 / k) + formant, 0.7 * k))
    wave = [sum(w * math.sin(2 * math.pi * k * n / _TABLE + phase) for k, w, phase in weights) for n in range(_TABLE)]
    peak = max(abs(v) for v in wave) or 1.0
    return tuple(v / peak for v in wave)


def speech_duration(text: str, speed: float = 1.0) -> float:
    """Seconds of speech for ``text`` at ``speed`` (15 characters a second at 1.0)."""
    return len(text) / (CHARS_PER_SECOND * speed)


def speech_pcm(text: str, *, seed: int, speed: float = 1.0, pitch: float = 150.0, rate: int = SAMPLE_RATE) -> bytes:
    """Synthetic speech for ``text``: signed 16-bit little-endian mono samples at ``rate``.

    ``pitch`` is the voice's base frequency (Hz); ``seed`` varies intonation and stress.
    The same arguments always give the same bytes.
    """
    rng = random.Random(seed)
    per_char = rate / (CHARS_PER_SECOND * speed)
    total = round(len(text) * per_char)
    out = bytearray()
    waves: dict[tuple[str, int, int], bytes] = {}

    def voiced(samples: int, vowel: str, f0: float, level: float) -> None:
        period = max(8, round(rate / f0))
        # attack, body, release: 20% / 60% / 20% of the syllable at rising then falling loudness
        cut1, cut2 = round(samples * 0.2), round(samples * 0.8)
        for n, gain in ((cut1, 0.45), (cut2 - cut1, 1.0), (samples - cut2, 0.6)):
            if n <= 0:
                continue
            amp = round(level * gain * 14000)
            key = (vowel, period, amp)
            wave = waves.get(key)
            if wave is None:
                table = _cycle(vowel)
                values = array.array("h", [round(amp * table[(i * _TABLE) // period]) for i in range(period)])
                if not _LITTLE:
                    values.byteswap()
                wave = waves[key] = values.tobytes()
            reps, rest = divmod(n, period)
            out.extend(wave * reps)
            out.extend(wave[: 2 * rest])

    sentence_start = 0
    pos = 0  # characters consumed
    for match in _TOKENS.finditer(text):
        token = match.group()
        start, end = pos, pos + len(token)
        pos = end
        if token[0].isalnum():
            syllables = max(1, round(len(token) / 3))
            sentence_end = _sentence_end(text, start)
            for j in range(syllables):
                a = start + round(j * len(token) / syllables)
                b = start + round((j + 1) * len(token) / syllables)
                chunk = token[a - start : b - start].lower()
                vowel = next((c for c in chunk if c in _FORMANTS), "")
                progress = (a - sentence_start) / max(1, sentence_end - sentence_start)
                contour = 0.12 - 0.24 * progress
                if text[sentence_end - 1 : sentence_end] == "?" and progress > 0.7:
                    contour += 0.4 * (progress - 0.7)
                f0 = pitch * (1 + contour + rng.uniform(-0.05, 0.05))
                level = 0.6 + 0.4 * rng.random()
                samples = round(b * per_char) - round(a * per_char)
                voiced(samples, vowel, f0, level)
        else:
            out.extend(bytes(2 * (round(end * per_char) - round(start * per_char))))
            if token in ".!?":
                sentence_start = end
    if len(out) < 2 * total:
        out.extend(bytes(2 * total - len(out)))
    return bytes(out[: 2 * total])


def _sentence_end(text: str, start: int) -> int:
    for i in range(start, len(text)):
        if text[i] in ".!?":
            return i + 1
    return len(text)


def encode_audio(pcm: bytes, fmt: str, *, rate: int = SAMPLE_RATE, text: str | None = None) -> bytes:
    """16-bit mono ``pcm`` as ``wav``, ``flac`` or raw ``pcm`` bytes (``text`` embedded where the format can)."""
    if fmt == "pcm":
        return pcm
    if fmt == "wav":
        return encode_wav(pcm, rate=rate, text=text)
    if fmt == "flac":
        return encode_flac(pcm, rate=rate, text=text)
    if fmt == "mp3":
        return encode_mp3(pcm, rate=rate)
    raise ValueError(f"unknown audio format {fmt!r}: use one of {', '.join(AUDIO_FORMATS)}")


def encode_mp3(pcm: bytes, *, rate: int = SAMPLE_RATE) -> bytes:
    """16-bit mono ``pcm`` as MP3 (LAME, 64 kbit/s, mono): what OpenAI's speech endpoint sends by default."""
    import lameenc

    encoder = lameenc.Encoder()
    encoder.set_bit_rate(64)
    encoder.set_in_sample_rate(rate)
    encoder.set_channels(1)
    encoder.set_quality(7)  # fast: the audio is a test signal
    return bytes(encoder.encode(pcm)) + bytes(encoder.flush())


# -- WAV -------------------------------------------------------------------------------------------


def _riff_chunk(kind: bytes, data: bytes) -> bytes:
    return kind + struct.pack("<I", len(data)) + data + b"\x00" * (len(data) & 1)


def encode_wav(pcm: bytes, *, rate: int = SAMPLE_RATE, text: str | None = None) -> bytes:
    """A 16-bit mono PCM WAV file; ``text`` goes into a ``LIST/INFO`` chunk before the data."""
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    chunks = _riff_chunk(b"fmt ", fmt)
    if text is not None:
        info = _riff_chunk(b"ISFT", _SOFTWARE.encode() + b"\x00") + _riff_chunk(b"ICMT", text.encode() + b"\x00")
        chunks += _riff_chunk(b"LIST", b"INFO" + info)
    chunks += _riff_chunk(b"data", pcm)
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


# -- FLAC ------------------------------------------------------------------------------------------

_FLAC_BLOCK = 4096
_FLAC_RATES = {88200: 1, 176400: 2, 192000: 3, 8000: 4, 16000: 5, 22050: 6, 24000: 7, 32000: 8, 44100: 9, 48000: 10}


@functools.cache
def _crc8_table() -> tuple[int, ...]:
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = ((c << 1) ^ 0x07) & 0xFF if c & 0x80 else (c << 1) & 0xFF
        table.append(c)
    return tuple(table)


@functools.cache
def _crc16_tables() -> tuple[tuple[int, ...], tuple[int, ...]]:
    """CRC-16 (polynomial 0x8005) by byte, and by 16-bit big-endian word (built from the first)."""
    t8 = []
    for i in range(256):
        c = i << 8
        for _ in range(8):
            c = ((c << 1) ^ 0x8005) & 0xFFFF if c & 0x8000 else (c << 1) & 0xFFFF
        t8.append(c)
    t16 = tuple(((t8[i >> 8] << 8) & 0xFFFF) ^ t8[(t8[i >> 8] >> 8) ^ (i & 0xFF)] for i in range(65536))
    return tuple(t8), t16


def _utf8_number(n: int) -> bytes:
    """FLAC's UTF-8-like coding of a frame number (up to 31 bits)."""
    if n < 0x80:
        return bytes([n])
    count = next(c for c, limit in ((2, 0x800), (3, 0x10000), (4, 0x200000), (5, 0x4000000), (6, 1 << 31)) if n < limit)
    out = []
    for _ in range(count - 1):
        out.append(0x80 | (n & 0x3F))
        n >>= 6
    out.append(((0xFF << (8 - count)) & 0xFF) | n)
    return bytes(reversed(out))


def encode_flac(pcm: bytes, *, rate: int = SAMPLE_RATE, text: str | None = None) -> bytes:
    """A FLAC file of 16-bit mono ``pcm``: verbatim subframes in 4096-sample frames, MD5 and CRCs set."""
    if rate not in _FLAC_RATES:
        raise ValueError(f"FLAC sample rate {rate} is not one this encoder writes")
    samples = array.array("H", pcm)
    if not _LITTLE:
        samples.byteswap()
    big = array.array("H", samples)
    big.byteswap()
    big_bytes = big.tobytes()
    total = len(samples)
    crc8, (t8, t16) = _crc8_table(), _crc16_tables()
    frames = []
    for number, first in enumerate(range(0, total, _FLAC_BLOCK)):
        count = min(_FLAC_BLOCK, total - first)
        code = 0xC if count == _FLAC_BLOCK else 0x7
        header = bytearray(b"\xff\xf8")
        header.append((code << 4) | _FLAC_RATES[rate])
        header.append(0x08)  # mono, 16 bits per sample
        header += _utf8_number(number)
        if code == 0x7:
            header += struct.pack(">H", count - 1)
        c = 0
        for byte in header:
            c = crc8[c ^ byte]
        header.append(c)
        header.append(0x02)  # verbatim subframe, no wasted bits
        crc = 0
        for byte in header:
            crc = ((crc << 8) & 0xFFFF) ^ t8[(crc >> 8) ^ byte]
        for word in samples[first : first + count]:
            crc = t16[crc ^ word]
        frames.append(bytes(header) + big_bytes[2 * first : 2 * (first + count)] + struct.pack(">H", crc))
    info = struct.pack(">HH", min(_FLAC_BLOCK, max(16, total)), _FLAC_BLOCK) + b"\x00" * 6
    packed = (rate << 44) | (0 << 41) | (15 << 36) | total  # rate, channels - 1, bits - 1, samples
    info += packed.to_bytes(8, "big") + hashlib.md5(pcm).digest()
    blocks = [(0, info)]
    if text is not None:
        vendor = _SOFTWARE.encode()
        comment = f"{TEXT_TAG}={text}".encode()
        blocks.append((4, struct.pack("<I", len(vendor)) + vendor + struct.pack("<II", 1, len(comment)) + comment))
    head = b"fLaC"
    for i, (kind, data) in enumerate(blocks):
        last = 0x80 if i == len(blocks) - 1 else 0
        head += bytes([last | kind]) + len(data).to_bytes(3, "big") + data
    return head + b"".join(frames)


# -- reading uploads -------------------------------------------------------------------------------


class AudioError(ValueError):
    """Bytes that are not audio this module can read; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class AudioInfo:
    """What an uploaded audio file is and how long it lasts.

    ``exact`` is False when the duration is an estimate from the file size (formats
    whose length is not in a header this module reads: 128 kbit/s assumed).
    ``text`` is the text embedded by :func:`encode_audio`, if any; ``silent`` is True
    for PCM audio whose samples are all zero.
    """

    format: str
    duration: float
    exact: bool = True
    sample_rate: int | None = None
    channels: int | None = None
    text: str | None = None
    silent: bool = False


_ESTIMATE_BYTES_PER_SECOND = 16_000  # 128 kbit/s


def _estimate(fmt: str, size: int) -> AudioInfo:
    return AudioInfo(fmt, size / _ESTIMATE_BYTES_PER_SECOND, exact=False)


def _read_wav(data: bytes) -> AudioInfo:
    pos = 12
    fmt: tuple[int, int, int, int] | None = None
    text: str | None = None
    software: str | None = None
    while pos + 8 <= len(data):
        kind = data[pos : pos + 4]
        (size,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        body_start = pos + 8
        if kind == b"fmt ":
            if size < 16 or body_start + 16 > len(data):
                raise AudioError("the WAV's fmt chunk is truncated")
            tag, channels, rate, _, _, bits = struct.unpack("<HHIIHH", data[body_start : body_start + 16])
            fmt = (tag, channels, rate, bits)
        elif kind == b"LIST" and data[body_start : body_start + 4] == b"INFO":
            p, end = body_start + 4, min(len(data), body_start + size)
            while p + 8 <= end:
                sub, (length,) = data[p : p + 4], struct.unpack("<I", data[p + 4 : p + 8])
                value = data[p + 8 : p + 8 + length].rstrip(b"\x00").decode("utf-8", "replace")
                if sub == b"ICMT":
                    text = value
                elif sub == b"ISFT":
                    software = value
                p += 8 + length + (length & 1)
        elif kind == b"data":
            if fmt is None:
                raise AudioError("the WAV has no fmt chunk before its data")
            tag, channels, rate, bits = fmt
            if channels == 0 or rate == 0 or bits == 0 or tag not in (1, 3, 0xFFFE):
                raise AudioError(f"the WAV's fmt chunk describes no PCM audio (format {tag}, {channels} channels)")
            available = len(data) - body_start
            length = available if size in (0, 0xFFFFFFFF) or size > available else size
            frame = channels * ((bits + 7) // 8)
            pcm = data[body_start : body_start + length]
            return AudioInfo(
                "wav",
                length / (frame * rate),
                sample_rate=rate,
                channels=channels,
                text=text if software == _SOFTWARE else None,
                silent=not pcm.strip(b"\x00"),
            )
        pos = body_start + size + (size & 1)
    raise AudioError("the WAV has no data chunk")


def _read_flac(data: bytes) -> AudioInfo:
    pos = 4
    info: AudioInfo | None = None
    text: str | None = None
    while pos + 4 <= len(data):
        head = data[pos]
        kind, length = head & 0x7F, int.from_bytes(data[pos + 1 : pos + 4], "big")
        body = data[pos + 4 : pos + 4 + length]
        if len(body) < length:
            raise AudioError("the FLAC's metadata is truncated")
        if kind == 0:
            if length != 34:
                raise AudioError("the FLAC's STREAMINFO block has the wrong length")
            packed = int.from_bytes(body[10:18], "big")
            rate, channels, total = packed >> 44, ((packed >> 41) & 7) + 1, packed & ((1 << 36) - 1)
            if rate == 0:
                raise AudioError("the FLAC's STREAMINFO gives a sample rate of 0")
            info = AudioInfo("flac", total / rate, sample_rate=rate, channels=channels) if total else None
            if info is None:
                info = AudioInfo("flac", len(data) / (rate * channels * 2), exact=False, sample_rate=rate)
        elif kind == 4 and len(body) >= 8:
            (vendor,) = struct.unpack("<I", body[:4])
            p = 4 + vendor
            if p + 4 <= len(body):
                (count,) = struct.unpack("<I", body[p : p + 4])
                p += 4
                for _ in range(min(count, 1000)):
                    if p + 4 > len(body):
                        break
                    (n,) = struct.unpack("<I", body[p : p + 4])
                    entry = body[p + 4 : p + 4 + n].decode("utf-8", "replace")
                    p += 4 + n
                    name, _, value = entry.partition("=")
                    if name.upper() == TEXT_TAG:
                        text = value
        pos += 4 + length
        if head & 0x80:
            break
    if info is None:
        raise AudioError("the FLAC has no STREAMINFO block")
    if pos + 2 > len(data) or data[pos] != 0xFF or data[pos + 1] & 0xFE != 0xF8:
        raise AudioError("the FLAC has no audio frames after its metadata")
    return AudioInfo(info.format, info.duration, info.exact, info.sample_rate, info.channels, text)


# MPEG audio: bitrates (kbit/s) by [version is MPEG-1][layer], sample rates by version
_MP3_BITRATES = {
    (True, 1): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (False, 3): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_MP3_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def _mp3_frame(data: bytes, pos: int) -> tuple[int, int, int] | None:
    """(frame length, samples, sample rate) of the MPEG audio frame at ``pos``, or None."""
    if pos + 4 > len(data) or data[pos] != 0xFF or data[pos + 1] & 0xE0 != 0xE0:
        return None
    b1, b2 = data[pos + 1], data[pos + 2]
    version, layer_bits = (b1 >> 3) & 3, (b1 >> 1) & 3
    bitrate_index, rate_index, padding = b2 >> 4, (b2 >> 2) & 3, (b2 >> 1) & 1
    if version == 1 or layer_bits == 0 or bitrate_index in (0, 15) or rate_index == 3:
        return None
    layer = 4 - layer_bits
    mpeg1 = version == 3
    bitrate = _MP3_BITRATES[(mpeg1, min(layer, 3) if mpeg1 else (1 if layer == 1 else 3))][bitrate_index] * 1000
    rate = _MP3_RATES[version][rate_index]
    if layer == 1:
        return (12 * bitrate // rate + padding) * 4, 384, rate
    samples = 1152 if layer == 2 or mpeg1 else 576
    return samples // 8 * bitrate // rate + padding, samples, rate


def _read_mp3(data: bytes) -> AudioInfo:
    pos = 0
    if data[:3] == b"ID3" and len(data) >= 10:
        size = 0
        for b in data[6:10]:
            size = (size << 7) | (b & 0x7F)
        pos = 10 + size
    while pos < len(data) and data[pos] == 0:  # padding after a tag
        pos += 1
    frames = samples = 0
    rate = 0
    while True:
        frame = _mp3_frame(data, pos)
        if frame is None or frame[0] <= 0:
            break
        length, count, rate = frame
        frames += 1
        samples += count
        pos += length
    if frames == 0:
        raise AudioError("no MPEG audio frame was found")
    if frames < 2 and pos < len(data) - 4:
        return _estimate("mp3", len(data))
    return AudioInfo("mp3", samples / rate, sample_rate=rate)


def _read_ogg(data: bytes) -> AudioInfo:
    last = data.rfind(b"OggS")
    if last < 0 or last + 14 > len(data):
        raise AudioError("the Ogg file has no complete page")
    (granule,) = struct.unpack("<q", data[last + 6 : last + 14])
    head = data[:4096]
    opus = head.find(b"OpusHead")
    if opus >= 0 and opus + 12 <= len(data):
        (pre_skip,) = struct.unpack("<H", data[opus + 10 : opus + 12])
        return AudioInfo("ogg", max(0, granule - pre_skip) / 48000, sample_rate=48000)
    vorbis = head.find(b"\x01vorbis")
    if vorbis >= 0 and vorbis + 16 <= len(data):
        (rate,) = struct.unpack("<I", data[vorbis + 12 : vorbis + 16])
        if rate:
            return AudioInfo("ogg", max(0, granule) / rate, sample_rate=rate)
    return _estimate("ogg", len(data))


def _read_mp4(data: bytes) -> AudioInfo:
    at = data.find(b"mvhd")
    if at >= 4 and at + 32 <= len(data):
        version = data[at + 4]
        if version == 1:
            scale, duration = struct.unpack(">IQ", data[at + 24 : at + 36])
        else:
            scale, duration = struct.unpack(">II", data[at + 16 : at + 24])
        if scale:
            return AudioInfo("mp4", duration / scale)
    return _estimate("mp4", len(data))


def read_audio(data: bytes) -> AudioInfo:
    """Format and duration of an audio file, or :class:`AudioError` saying why it is not one.

    WAV, FLAC and MP3 durations are read exactly (headers, or MP3 frame by frame),
    Ogg (Opus/Vorbis) from its last granule position, MP4/M4A from ``mvhd``; WebM and
    anything whose header lacks the length are estimated from the size.
    """
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return _read_wav(data)
    if data[:4] == b"fLaC":
        return _read_flac(data)
    if data[:4] == b"OggS":
        return _read_ogg(data)
    if data[4:8] == b"ftyp":
        return _read_mp4(data)
    if data[:4] == b"\x1a\x45\xdf\xa3":
        return _estimate("webm", len(data))
    if data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return _read_mp3(data)
    raise AudioError("the file is not WAV, FLAC, MP3, Ogg, MP4 or WebM audio")
