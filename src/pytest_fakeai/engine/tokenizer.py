"""Token counting with tiktoken, using each model's real encoding.

Encodings load on first use (tiktoken is heavy to import and may download its
data).  When an encoding cannot be loaded -- offline CI without
``TIKTOKEN_CACHE_DIR`` -- counting falls back to an approximation (one token
per pre-token of tiktoken's own split pattern) and a single
:class:`TokenizerFallbackWarning` says so.

Chat prompts are counted with the formula OpenAI documents in its cookbook
("How to count tokens with tiktoken"): 3 tokens per message, 1 more for a
``name``, 3 to prime the reply; tool definitions with the cookbook's
``num_tokens_for_tools`` constants; images with the documented tile formula;
input audio at 10 tokens per second.
"""

from __future__ import annotations

import base64
import json
import math
import re
import struct
import threading
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

__all__ = [
    "ApproximateEncoding",
    "Encoding",
    "Tokenizer",
    "TokenizerFallbackWarning",
    "audio_tokens",
    "image_tokens",
]


class TokenizerFallbackWarning(UserWarning):
    """tiktoken's encoding data could not be loaded; token counts are approximate."""


class Encoding(Protocol):
    """The part of ``tiktoken.Encoding`` the simulator uses."""

    name: str

    def encode_ordinary(self, text: str) -> list[int]: ...

    def decode_single_token_bytes(self, token: int) -> bytes: ...


# tiktoken's o200k split pattern, simplified to what the `re` module supports.
_PRETOKEN = re.compile(
    r"""'(?:[sdmt]|ll|ve|re)| ?[^\W\d_]+| ?\d{1,3}| ?[^\s\w]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""",
    re.UNICODE,
)


class ApproximateEncoding:
    """Offline stand-in: one token per pre-token (words, numbers, punctuation runs)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._pieces: dict[int, bytes] = {}
        self._ids: dict[str, int] = {}

    def encode_ordinary(self, text: str) -> list[int]:
        out = []
        for piece in _PRETOKEN.findall(text):
            token = self._ids.get(piece)
            if token is None:
                token = self._ids[piece] = len(self._ids)
                self._pieces[token] = piece.encode()
            out.append(token)
        return out

    def decode_single_token_bytes(self, token: int) -> bytes:
        return self._pieces[token]


def _load(name: str) -> Encoding:
    try:
        import tiktoken

        enc: Encoding = tiktoken.get_encoding(name)
        return enc
    except Exception as exc:  # network, missing cache, corrupt file
        warnings.warn(
            f"pytest-fakeai could not load the tiktoken encoding {name!r} ({type(exc).__name__}: {exc}); "
            "token counts are approximate. Set TIKTOKEN_CACHE_DIR to a folder holding tiktoken's "
            "encoding files to count exactly offline.",
            TokenizerFallbackWarning,
            stacklevel=3,
        )
        return ApproximateEncoding(name)


# Loaded encodings are immutable and expensive (~100 ms, tens of MB), so they are
# shared by every simulator in the process, like tiktoken's own cache.
_ENCODINGS: dict[str, Encoding] = {}
_LOCK = threading.Lock()


def _encoding(name: str) -> Encoding:
    enc = _ENCODINGS.get(name)
    if enc is None:
        with _LOCK:
            enc = _ENCODINGS.get(name)
            if enc is None:
                enc = _ENCODINGS[name] = _load(name)
    return enc


class Tokenizer:
    """Counts tokens for one encoding (``o200k_base``, ``cl100k_base``)."""

    __slots__ = ("_counts", "_enc", "encoding_name", "image_base", "image_tile")

    def __init__(self, encoding_name: str, *, image_base: int = 85, image_tile: int = 170) -> None:
        self.encoding_name = encoding_name
        self._enc: Encoding | None = None
        self.image_base = image_base
        self.image_tile = image_tile
        self._counts: dict[str, int] = {}  # roles, names, repeated system prompts

    @property
    def encoding(self) -> Encoding:
        enc = self._enc
        if enc is None:
            enc = self._enc = _encoding(self.encoding_name)
        return enc

    @property
    def exact(self) -> bool:
        """False when counting falls back to the approximation."""
        return not isinstance(self.encoding, ApproximateEncoding)

    def encode(self, text: str) -> list[int]:
        return self.encoding.encode_ordinary(text)

    def count(self, text: str) -> int:
        n = self._counts.get(text)
        if n is None:
            n = len(self.encoding.encode_ordinary(text)) if text else 0
            if len(text) <= 4096:
                if len(self._counts) >= 4096:
                    self._counts.clear()
                self._counts[text] = n
        return n

    def token_bytes(self, token: int) -> bytes:
        return self.encoding.decode_single_token_bytes(token)

    # -- chat -------------------------------------------------------------------------------
    def count_chat(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        tools: Sequence[Mapping[str, Any]] | None = None,
        tokens_per_message: int = 3,
        tokens_per_name: int = 1,
    ) -> int:
        """Prompt tokens of a chat request, by OpenAI's documented formula."""
        total = 3  # every reply is primed with <|start|>assistant<|message|>
        for message in messages:
            total += tokens_per_message
            for key, value in message.items():
                if value is None:
                    continue
                if key == "content":
                    total += self._content_tokens(value)
                elif key == "tool_calls":
                    total += self._tool_calls_tokens(value)
                elif key == "function_call" and isinstance(value, Mapping):
                    total += self.count(str(value.get("name", ""))) + self.count(str(value.get("arguments", "")))
                elif isinstance(value, str):
                    total += self.count(value)
                    if key == "name":
                        total += tokens_per_name
        if tools:
            total += self.count_tools(tools)
        return total

    def _content_tokens(self, content: Any) -> int:
        if isinstance(content, str):
            return self.count(content)
        total = 0
        if isinstance(content, list):
            for part in content:
                if not isinstance(part, Mapping):
                    continue
                kind = part.get("type")
                if kind == "text":
                    total += self.count(str(part.get("text", "")))
                elif kind == "refusal":
                    total += self.count(str(part.get("refusal", "")))
                elif kind == "image_url":
                    image = part.get("image_url") or {}
                    total += image_tokens(
                        str(image.get("url", "")),
                        str(image.get("detail", "auto")),
                        base=self.image_base,
                        tile=self.image_tile,
                    )
                elif kind == "input_audio":
                    audio = part.get("input_audio") or {}
                    total += audio_tokens(str(audio.get("data", "")), str(audio.get("format", "wav")))
                elif kind == "file":
                    file = part.get("file") or {}
                    total += self.count(str(file.get("filename", ""))) + 85
        return total

    def _tool_calls_tokens(self, calls: Any) -> int:
        total = 0
        if isinstance(calls, list):
            for call in calls:
                if isinstance(call, Mapping):
                    fn = call.get("function") or call.get("custom") or {}
                    total += 3 + self.count(str(fn.get("name", "")))
                    total += self.count(str(fn.get("arguments", fn.get("input", ""))))
        return total

    def count_tools(self, tools: Iterable[Mapping[str, Any]]) -> int:
        """Tokens of tool definitions (the cookbook's ``num_tokens_for_tools``)."""
        func_init, prop_init, prop_key, enum_init, enum_item, func_end = 7, 3, 3, -3, 3, 12
        total = 0
        for tool in tools:
            fn = tool.get("function") if isinstance(tool, Mapping) else None
            if not isinstance(fn, Mapping):
                # custom tools and other kinds: their JSON text
                total += self.count(json.dumps(tool, separators=(",", ":")))
                continue
            total += func_init
            name = str(fn.get("name", ""))
            desc = str(fn.get("description", "")).rstrip(".")
            total += self.count(f"{name}:{desc}")
            params = fn.get("parameters")
            props = params.get("properties") if isinstance(params, Mapping) else None
            if isinstance(props, Mapping) and props:
                total += prop_init
                for key, spec in props.items():
                    total += prop_key
                    spec = spec if isinstance(spec, Mapping) else {}
                    ptype = spec.get("type", "")
                    pdesc = str(spec.get("description", "")).rstrip(".")
                    enum = spec.get("enum")
                    if isinstance(enum, list):
                        total += enum_init
                        for item in enum:
                            total += enum_item + self.count(str(item))
                    total += self.count(f"{key}:{ptype}:{pdesc}")
        if total:
            total += func_end
        return total


# -- images ---------------------------------------------------------------------------------
def _image_size(url: str) -> tuple[int, int] | None:
    """Width and height of a base64 ``data:`` PNG, GIF or JPEG; None when unknown."""
    if not url.startswith("data:"):
        return None
    _, _, payload = url.partition(",")
    try:
        head = base64.b64decode(payload[:65536] + "=" * (-len(payload[:65536]) % 4), validate=False)
    except (ValueError, TypeError):
        return None
    if head[:8] == b"\x89PNG\r\n\x1a\n" and len(head) >= 24:
        w, h = struct.unpack(">II", head[16:24])
        return int(w), int(h)
    if head[:6] in (b"GIF87a", b"GIF89a") and len(head) >= 10:
        w, h = struct.unpack("<HH", head[6:10])
        return int(w), int(h)
    if head[:2] == b"\xff\xd8":
        i = 2
        while i + 9 < len(head):
            if head[i] != 0xFF:
                i += 1
                continue
            marker = head[i + 1]
            if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
                h, w = struct.unpack(">HH", head[i + 5 : i + 9])
                return int(w), int(h)
            (length,) = struct.unpack(">H", head[i + 2 : i + 4])
            i += 2 + length
    return None


def image_tokens(url: str, detail: str = "auto", *, base: int = 85, tile: int = 170) -> int:
    """Tokens for an image part: ``base`` for low detail, else ``base + tile·tiles``.

    High detail scales the image to fit 2048×2048, then its shortest side to 768,
    and counts 512-pixel tiles (OpenAI's vision guide).  Images whose size cannot
    be read (remote URLs) are taken as 1024×1024.
    """
    if detail == "low":
        return base
    size = _image_size(url) or (1024, 1024)
    if size[0] <= 0 or size[1] <= 0:
        return base
    w, h = float(size[0]), float(size[1])
    scale = min(1.0, 2048 / max(w, h))
    w, h = w * scale, h * scale
    scale = min(1.0, 768 / min(w, h))
    w, h = w * scale, h * scale
    tiles = math.ceil(w / 512) * math.ceil(h / 512)
    return base + tile * tiles


def audio_tokens(data: str, fmt: str = "wav") -> int:
    """Tokens for an ``input_audio`` part: 10 per second of audio (1 per 100 ms)."""
    try:
        raw = base64.b64decode(data + "=" * (-len(data) % 4), validate=False)
    except (ValueError, TypeError):
        return 0
    seconds: float
    if fmt == "wav" and raw[:4] == b"RIFF" and raw[8:12] == b"WAVE" and len(raw) >= 44:
        channels, rate = struct.unpack("<HI", raw[22:28])
        (bits,) = struct.unpack("<H", raw[34:36])
        bytes_per_second = max(1, rate * channels * max(1, bits // 8))
        seconds = max(0, len(raw) - 44) / bytes_per_second
    else:
        seconds = len(raw) / 16000  # ~128 kbit/s compressed audio
    return max(1, math.ceil(seconds * 10)) if raw else 0
