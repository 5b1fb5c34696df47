"""Deterministic text embeddings that behave like real ones for retrieval (docs/embeddings.md).

A vector is a pure function of (model, text): the same text always gets the same vector,
whatever the simulator's seed, as a real embedding model does.  It is built by *feature
hashing*:

* features: lower-cased word unigrams (stop words down-weighted), crude stems (``running``
  and ``runner`` share ``runn``), word bigrams, and the character trigrams of each word
  (``#ru``, ``run``, ``unn``, ...); each weighted sublinearly, ``w · (1 + ln tf)``;
* each feature lands, with a sign, on positions in every *band* of the vector --
  ``[0, 32)``, ``[32, 64)``, ``[64, 128)``, ... doubling up to the model's dimensions; one
  position per 256 components of the band, at least one -- chosen by shake-128 of the model
  and the feature (so two models' spaces differ), with a weight growing as the square root
  of the band's width (so every component carries the same energy on average).  Every
  prefix of the vector therefore carries every feature, which is what lets a truncated
  vector (``dimensions``) keep its meaning, as text-embedding-3's Matryoshka training does;
* a little per-text noise (64 positions drawn from shake-128 of the text, 5 % of the
  length) separates texts whose feature bags are equal (``Hello!`` and ``hello``);
* a shared direction per model, dense and never zero, gives unrelated texts the cosine
  real models show (``baseline``: about 0.7 for text-embedding-ada-002, near 0.1 for
  text-embedding-3) and makes every component non-zero;
* the sum is L2-normalised; :func:`truncate` cuts to fewer dimensions and re-normalises.

Texts sharing words and phrases are therefore closer (cosine) than texts sharing none, by
an amount that grows with the overlap.  Pure Python (no numpy): about 0.2-0.5 ms for a
short text at 1536 dimensions; vectors of repeated texts are cached per model.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import math
import operator
import re
import struct
import sys
import threading
from array import array
from collections.abc import Sequence

__all__ = [
    "Embedder",
    "base64_float32",
    "cosine",
    "features",
    "float32",
    "truncate",
]

_WORD = re.compile(r"\w+")
_STOP_TEXT = """a an the and or but if of in on at to for from by with as is are was were be been being am
    do does did it its this that these those i me my we our you your he him his she her they them their
    what which who whom when where why how not no so than then there here can could would should will
    shall may might must just also very"""
_STOP = frozenset(_STOP_TEXT.split())
_UNIGRAM = 1.0
_STOP_UNIGRAM = 0.25
_STEM = 0.7
_BIGRAM = 0.6
_TRIGRAM = 0.18
_NOISE = 0.05  # per-text noise, relative to the (unit) signal
_NOISE_PLACES = 64
_DENSE = 0.05  # least length of the model's shared direction
_SPREAD = 256  # components per place of a feature in a band
_FIRST_BAND = 32
_CACHE_FLOATS = 2_000_000  # components of cached vectors per model (16 MB as float64)
_FEATURE_CACHE = 32_768  # features whose places are cached per model (about 1 kB each)


_SUFFIXES = ("ingly", "edly", "ings", "ing", "ers", "er", "ed", "ies", "es", "s", "ly")


def _stem(word: str) -> str:
    """A crude English stem (``running``, ``runner`` -> ``runn``): the first suffix leaving 3+ letters."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: -len(suffix)]
            return stem + "y" if suffix == "ies" else stem
    return word


def features(text: str) -> dict[str, float]:
    """The weighted features of ``text``: words ``w:``, stems ``s:``, word pairs ``b:``, trigrams ``c:``."""
    words = _WORD.findall(text.lower())
    counts: dict[str, float] = {}
    for word in words:
        key = "w:" + word
        counts[key] = counts.get(key, 0.0) + 1.0
        if word not in _STOP:
            key = "s:" + _stem(word)
            counts[key] = counts.get(key, 0.0) + 1.0
            padded = f"#{word}#"
            for i in range(len(padded) - 2):
                key = "c:" + padded[i : i + 3]
                counts[key] = counts.get(key, 0.0) + 1.0
    for first, second in itertools.pairwise(words):
        if first in _STOP and second in _STOP:
            continue
        key = f"b:{first} {second}"
        counts[key] = counts.get(key, 0.0) + 1.0
    out: dict[str, float] = {}
    for key, tf in counts.items():
        kind = key[0]
        if kind == "w":
            base = _STOP_UNIGRAM if key[2:] in _STOP else _UNIGRAM
        elif kind == "s":
            base = _STEM
        elif kind == "b":
            base = _BIGRAM
        else:
            base = _TRIGRAM
        out[key] = base * (1.0 + math.log(tf))
    return out


def _bands(dims: int) -> list[tuple[int, int]]:
    bands = []
    lo, hi = 0, _FIRST_BAND
    while lo < dims:
        bands.append((lo, min(hi, dims)))
        lo, hi = hi, hi * 2
    return bands


def _unit_bytes(data: bytes) -> list[float]:
    """Signed bytes as a unit vector with no zero component (a deterministic pseudo-random direction)."""
    values = [2 * v + 1 for v in array("b", data)]
    scale = 1.0 / math.hypot(*values)
    return [v * scale for v in values]


class Embedder:
    """The vectors of one model: ``dims`` native dimensions, keyed by ``model``.

    ``baseline`` is the cosine two unrelated texts get (0 <= baseline < 1).  Thread-safe;
    the caches are bounded.
    """

    __slots__ = (
        "_features",
        "_key",
        "_lock",
        "_lows",
        "_scales",
        "_shared",
        "_unpack",
        "_vectors",
        "_widths",
        "baseline",
        "dims",
    )

    def __init__(self, model: str, dims: int, *, baseline: float = 0.0) -> None:
        if dims < 1:
            raise ValueError(f"dims must be >= 1, not {dims}")
        if not 0.0 <= baseline < 1.0:
            raise ValueError(f"baseline must be in [0, 1), not {baseline}")
        self.dims = dims
        self.baseline = baseline
        self._key = hashlib.blake2b(model.encode(), digest_size=32).digest()
        # A feature takes one place per _SPREAD components of each band (at least one), and a
        # band's share of its weight grows with the band's width: every component carries the
        # same energy on average, and no component of a short text stands out.
        self._lows: list[int] = []
        self._widths: list[int] = []
        self._scales: list[float] = []
        for lo, hi in _bands(dims):
            places = max(1, (hi - lo) // _SPREAD)
            self._lows += [lo] * places
            self._widths += [hi - lo] * places
            self._scales += [math.sqrt((hi - lo) / dims / places)] * places
        self._unpack = struct.Struct(f"<{len(self._lows)}I").unpack  # little-endian: the same on every machine
        # One fixed dense direction per model: it makes every component non-zero and gives
        # unrelated texts their cosine, (shared^2) / (1 + shared^2 + noise^2) = baseline.
        shared = math.sqrt(baseline * (1.0 + _DENSE**2 + _NOISE**2) / (1.0 - baseline))
        shared = max(shared, _DENSE)
        self._shared = [c * shared for c in _unit_bytes(hashlib.shake_128(self._key + b"shared").digest(dims))]
        self._features: dict[str, list[tuple[int, float]]] = {}
        self._vectors: dict[str, array[float]] = {}
        self._lock = threading.Lock()

    def _places(self, feature: str) -> list[tuple[int, float]]:
        """Where ``feature`` lands: (position, signed share of its weight) in each band."""
        found = self._features.get(feature)
        if found is None:
            digest = hashlib.shake_128(self._key + feature.encode("utf-8", "surrogatepass")).digest(4 * len(self._lows))
            words = self._unpack(digest)
            found = [
                (lo + h % w, -scale if h >> 31 else scale)
                for lo, w, scale, h in zip(self._lows, self._widths, self._scales, words, strict=True)
            ]
            if len(self._features) >= _FEATURE_CACHE:
                self._features.clear()
            self._features[feature] = found
        return found

    def embed(self, text: str) -> array[float]:
        """The unit vector of ``text``: ``dims`` float64 values.  Do not modify the returned array."""
        cached = self._vectors.get(text)
        if cached is not None:
            return cached
        dims = self.dims
        with self._lock:
            places = [(self._places(f), w) for f, w in features(text).items()]
        signal: dict[int, float] = {}
        for where, weight in places:
            for pos, sign in where:
                signal[pos] = signal.get(pos, 0.0) + sign * weight
        # per-text noise on a few positions: texts with equal features (``Hello!``, ``hello``) still differ
        raw = hashlib.shake_128(self._key + text.encode("utf-8", "surrogatepass")).digest(3 * _NOISE_PLACES)
        picks = struct.unpack(f"<{_NOISE_PLACES}H", raw[: 2 * _NOISE_PLACES])
        values = array("b", raw[2 * _NOISE_PLACES :])
        length = math.hypot(*signal.values())
        a = 1.0 / length if length else 0.0
        b = (_NOISE if length else 1.0) / (math.hypot(*values) or 1.0)
        vector = list(self._shared)
        for pos, value in signal.items():
            vector[pos] += value * a
        for pos, value in zip(picks, values, strict=True):
            vector[pos % dims] += value * b
        scale = 1.0 / math.hypot(*vector)
        out = array("d", [v * scale for v in vector])
        with self._lock:
            if (len(self._vectors) + 1) * dims > _CACHE_FLOATS:
                self._vectors.clear()
            self._vectors[text] = out
        return out


def truncate(vector: Sequence[float], dims: int) -> list[float]:
    """The first ``dims`` components, re-normalised to unit length."""
    head = vector[:dims]
    scale = 1.0 / (math.hypot(*head) or 1.0)
    return [v * scale for v in head]


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity of two vectors of equal length."""
    if len(a) != len(b):
        raise ValueError(f"vectors of different lengths: {len(a)} and {len(b)}")
    dot = sum(map(operator.mul, a, b))  # ulp-level differences between Python versions are possible
    norm = math.hypot(*a) * math.hypot(*b)
    return dot / norm if norm else 0.0


def float32(vector: Sequence[float]) -> list[float]:
    """The values rounded to float32, as the real API computes and sends them."""
    return array("f", vector).tolist()


def base64_float32(vector: Sequence[float]) -> str:
    """Base64 of the little-endian float32 values (``encoding_format="base64"``)."""
    packed = array("f", vector)
    if sys.byteorder == "big":
        packed.byteswap()
    return base64.b64encode(packed.tobytes()).decode("ascii")
