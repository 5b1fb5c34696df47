"""engine/sound.py: speech as real WAV/PCM/FLAC (decoded here by wave and miniaudio), and reading uploads."""

from __future__ import annotations

import array
import io
import itertools
import math
import struct
import time
import wave

import pytest

from pytest_fakeai.engine.sound import (
    AUDIO_FORMATS,
    SAMPLE_RATE,
    AudioError,
    encode_audio,
    encode_flac,
    encode_wav,
    read_audio,
    speech_duration,
    speech_pcm,
)

miniaudio = pytest.importorskip("miniaudio")

TEXT = "The quick brown fox jumps over the lazy dog. Is it sunny in the park today?"


def samples(pcm: bytes) -> array.array[int]:
    return array.array("h", pcm)


def test_duration_follows_the_text_and_the_speed() -> None:
    for speed in (0.25, 1.0, 2.5, 4.0):
        pcm = speech_pcm(TEXT, seed=1, speed=speed)
        assert len(pcm) == 2 * round(len(TEXT) / (15 * speed) * SAMPLE_RATE)
        assert speech_duration(TEXT, speed) == pytest.approx(len(pcm) / 2 / SAMPLE_RATE, abs=1e-3)


def test_speech_is_voiced_with_pauses_not_silence() -> None:
    values = samples(speech_pcm(TEXT, seed=1))
    rms = math.sqrt(sum(v * v for v in values) / len(values))
    assert 1000 < rms < 12000
    assert max(values) < 32767 and min(values) > -32768  # no clipping
    window = SAMPLE_RATE // 50  # 20 ms
    quiet = sum(1 for i in range(0, len(values) - window, window) if not any(values[i : i + window]))
    assert quiet >= 5  # gaps between the words


def test_deterministic_per_seed_and_voice_pitch_differs() -> None:
    assert speech_pcm(TEXT, seed=3) == speech_pcm(TEXT, seed=3)
    assert speech_pcm(TEXT, seed=3) != speech_pcm(TEXT, seed=4)
    low, high = speech_pcm("aaaaaa", seed=1, pitch=90), speech_pcm("aaaaaa", seed=1, pitch=220)

    def crossings(pcm: bytes) -> int:
        v = samples(pcm)
        return sum(1 for a, b in itertools.pairwise(v) if a < 0 <= b)

    assert crossings(high) > crossings(low)


def test_wav_opens_with_the_wave_module() -> None:
    pcm = speech_pcm(TEXT, seed=1)
    with wave.open(io.BytesIO(encode_wav(pcm, text=TEXT))) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (24000, 1, 2)
        assert w.readframes(w.getnframes()) == pcm


@pytest.mark.parametrize("fmt", ["wav", "flac"])
def test_miniaudio_decodes_wav_and_flac_to_the_same_samples(fmt: str) -> None:
    pcm = speech_pcm(TEXT * 3, seed=2)  # several FLAC frames and a short last one
    data = encode_audio(pcm, fmt, text=TEXT)
    decoded = miniaudio.decode(data, output_format=miniaudio.SampleFormat.SIGNED16, nchannels=1, sample_rate=24000)
    assert decoded.samples.tobytes() == pcm


def test_flac_header_and_frames_are_well_formed() -> None:
    pcm = speech_pcm("Hello.", seed=1)
    data = encode_flac(pcm)
    assert data[:4] == b"fLaC"
    assert data[4] == 0x80  # STREAMINFO, the last metadata block
    packed = int.from_bytes(data[8 + 10 : 8 + 18], "big")
    assert (packed >> 44, ((packed >> 41) & 7) + 1, ((packed >> 36) & 31) + 1) == (24000, 1, 16)
    assert packed & ((1 << 36) - 1) == len(pcm) // 2
    frames = data[42:]
    assert frames[:2] == b"\xff\xf8"


def test_pcm_is_raw_samples() -> None:
    pcm = speech_pcm("Hi.", seed=1)
    assert encode_audio(pcm, "pcm") is pcm
    with pytest.raises(ValueError, match="unknown audio format"):
        encode_audio(pcm, "opus")
    assert AUDIO_FORMATS == ("wav", "pcm", "flac", "mp3")


def test_ten_seconds_of_speech_is_cheap() -> None:
    text = "Testing the speed of the speech synthesis, ten seconds worth of words to say. " * 2
    text = text[:150]
    speech_pcm(text, seed=0)  # warm the vowel tables
    started = time.perf_counter()
    pcm = speech_pcm(text, seed=1)
    encode_flac(pcm)
    assert len(pcm) == 2 * 240_000
    assert time.perf_counter() - started < 0.5  # ~15 ms measured (FLAC's CRCs dominate)


# -- reading uploads -------------------------------------------------------------------------------


def test_read_audio_finds_duration_and_embedded_text() -> None:
    pcm = speech_pcm(TEXT, seed=1)
    for fmt in ("wav", "flac"):
        info = read_audio(encode_audio(pcm, fmt, text=TEXT))
        assert (info.format, info.exact, info.sample_rate, info.channels, info.text) == (fmt, True, 24000, 1, TEXT)
        assert info.duration == pytest.approx(len(TEXT) / 15)
    assert read_audio(encode_wav(pcm)).text is None


def test_read_audio_reads_foreign_wav_and_detects_silence() -> None:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(bytes(4 * 16000 * 3))
    info = read_audio(out.getvalue())
    assert (info.duration, info.channels, info.silent, info.text) == (3.0, 2, True, None)


def _mp3_frame() -> bytes:
    # MPEG-1 layer III, 128 kbit/s, 44.1 kHz, no padding: 417 bytes, 1152 samples
    return b"\xff\xfb\x90\x00" + bytes(413)


def test_read_audio_mp3_ogg_mp4_webm() -> None:
    mp3 = b"ID3\x03\x00\x00\x00\x00\x00\x0a" + bytes(10) + _mp3_frame() * 100
    info = read_audio(mp3)
    assert (info.format, info.exact) == ("mp3", True)
    assert info.duration == pytest.approx(100 * 1152 / 44100)

    head = b"OggS" + bytes(22) + b"OpusHead\x01\x01" + struct.pack("<H", 312) + bytes(10)
    last = b"OggS\x00\x04" + struct.pack("<q", 48000 * 2 + 312) + bytes(20)
    assert read_audio(head + last).duration == pytest.approx(2.0)

    mvhd = struct.pack(">I", 108) + b"mvhd" + b"\x00" * 4 + bytes(8) + struct.pack(">II", 1000, 4500) + bytes(80)
    mp4 = struct.pack(">I", 16) + b"ftypM4A " + bytes(4) + struct.pack(">I", 116) + b"moov" + mvhd
    assert read_audio(mp4).duration == pytest.approx(4.5)

    webm = b"\x1a\x45\xdf\xa3" + bytes(31996)
    estimated = read_audio(webm)
    assert (estimated.format, estimated.exact, estimated.duration) == ("webm", False, 2.0)


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "not WAV, FLAC"),
        (b"hello there", "not WAV, FLAC"),
        (b"RIFF\x10\x00\x00\x00WAVEdata\x04\x00\x00\x00abcd", "no fmt chunk"),
        (b"RIFF\x04\x00\x00\x00WAVE", "no data chunk"),
        (b"fLaC\x80\x00\x00\x05abcde", "wrong length"),
        (b"fLaC\x00\x00\x00\x40", "truncated"),
        (b"\xff\xfb\x00\x00abc", "no MPEG audio frame"),
    ],
    ids=["empty", "text", "wav no fmt", "wav no data", "flac streaminfo", "flac truncated", "mp3"],
)
def test_read_audio_says_what_is_wrong(data: bytes, why: str) -> None:
    with pytest.raises(AudioError, match=why):
        read_audio(data)
