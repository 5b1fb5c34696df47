"""Pictures as real PNG, JPEG and WebP bytes, and reading the images clients upload.

Pure data, standard library only (zlib, struct, random)::

    pic = draw(seed=7, width=1024, height=1024)          # a deterministic picture
    png = encode(pic, "png")                              # bytes any decoder opens at 1024x1024
    info = read_image(png)                                # ImageInfo(format="png", width=1024, ...)

A picture is a grid of flat 16x16-pixel cells: a two-colour gradient with a few
circles and rectangles on it, all drawn from the seed.  Flat cells are what keep
encoding cheap without any imaging library: a PNG repeats each cell row with the
``Up`` filter (rows of zeros that zlib compresses at memory speed), a JPEG is one
DC coefficient per 8x8 block (one 4:2:0 MCU per cell), and a WebP is lossless VP8L
made of one literal pixel and back-references per cell.

:func:`read_image` checks what a client uploads: a PNG is decoded in full (chunk
CRCs, zlib stream, row filters); a JPEG and a WebP are checked structurally (markers
and segment lengths, RIFF chunks) and their size and channels read from their
headers -- their pixels are not decoded.
"""

from __future__ import annotations

import colorsys
import math
import random
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "CELL",
    "FORMATS",
    "ImageError",
    "ImageInfo",
    "Picture",
    "draw",
    "encode",
    "encode_jpeg",
    "encode_png",
    "encode_webp",
    "read_image",
]

#: Side of the flat cells a picture is made of, in pixels.
CELL = 16
#: Output formats :func:`encode` writes.
FORMATS = ("png", "jpeg", "webp")

Color = tuple[int, int, int, int]  # r, g, b, a


@dataclass(frozen=True, slots=True)
class Picture:
    """A ``width`` x ``height`` picture made of flat ``CELL``-sized cells (``grid[row][col]`` is RGBA)."""

    width: int
    height: int
    grid: tuple[tuple[Color, ...], ...]
    alpha: bool  # some cell is not fully opaque

    @property
    def cols(self) -> int:
        return len(self.grid[0])

    @property
    def rows(self) -> int:
        return len(self.grid)


def _rgb(h: float, s: float, v: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, min(1.0, max(0.0, s)), min(1.0, max(0.0, v)))
    return round(r * 255), round(g * 255), round(b * 255)


def draw(seed: int, width: int, height: int, *, transparent: bool = False, layers: int | None = None) -> Picture:
    """A deterministic picture for ``seed``: a gradient and 3-6 shapes (``layers``: only the first few).

    ``transparent``: the background is fully transparent, the shapes opaque.
    ``layers=0`` draws the background alone; partial images of a stream draw more
    shapes each, the last one being the whole picture.
    """
    if width <= 0 or height <= 0:
        raise ValueError(f"a picture needs a positive size, not {width}x{height}")
    rng = random.Random(seed)
    cols, rows = -(-width // CELL), -(-height // CELL)
    hue = rng.random()
    top = _rgb(hue, 0.25 + 0.3 * rng.random(), 0.95)
    bottom = _rgb(hue + 0.05 + 0.15 * rng.random(), 0.55 + 0.3 * rng.random(), 0.35 + 0.3 * rng.random())
    tilt = rng.uniform(-0.3, 0.3)
    grid: list[list[Color]] = []
    span = max(1.0, (rows - 1) + abs(tilt) * (cols - 1))
    for y in range(rows):
        row: list[Color] = []
        for x in range(cols):
            t = min(1.0, max(0.0, (y + tilt * (x - (cols - 1) * (tilt < 0))) / span))
            if transparent:
                row.append((0, 0, 0, 0))
            else:
                row.append(
                    (
                        round(top[0] + (bottom[0] - top[0]) * t),
                        round(top[1] + (bottom[1] - top[1]) * t),
                        round(top[2] + (bottom[2] - top[2]) * t),
                        255,
                    )
                )
        grid.append(row)
    shapes = 3 + rng.randrange(4)
    for k in range(shapes if layers is None else min(layers, shapes)):
        r, g, b = _rgb(hue + 0.3 + 0.4 * rng.random(), 0.5 + 0.4 * rng.random(), 0.6 + 0.4 * rng.random())
        color = (r, g, b, 255)
        cx, cy = rng.uniform(0.15, 0.85) * cols, rng.uniform(0.15, 0.85) * rows
        size = rng.uniform(0.08, 0.28) * min(cols, rows) + 1
        if k % 2 == 0:  # a circle, row by row
            for y in range(max(0, math.floor(cy - size)), min(rows, math.ceil(cy + size))):
                dy = y + 0.5 - cy
                if abs(dy) >= size:
                    continue
                half = math.sqrt(size * size - dy * dy)
                x0, x1 = max(0, round(cx - half)), min(cols, round(cx + half))
                grid[y][x0:x1] = [color] * max(0, x1 - x0)
        else:  # a rectangle
            w, h = size * rng.uniform(0.8, 1.8), size * rng.uniform(0.5, 1.2)
            x0, x1 = max(0, round(cx - w)), min(cols, round(cx + w))
            for y in range(max(0, round(cy - h)), min(rows, round(cy + h))):
                grid[y][x0:x1] = [color] * max(0, x1 - x0)
    return Picture(width, height, tuple(tuple(row) for row in grid), transparent)


def encode(pic: Picture, fmt: str, *, quality: int = 100) -> bytes:
    """``pic`` as ``png``, ``jpeg`` or ``webp`` bytes (``quality`` 0-100 matters for JPEG only)."""
    if fmt == "png":
        return encode_png(pic)
    if fmt in ("jpeg", "jpg"):
        return encode_jpeg(pic, quality=quality)
    if fmt == "webp":
        return encode_webp(pic)
    raise ValueError(f"unknown image format {fmt!r}: use one of {', '.join(FORMATS)}")


# -- PNG -------------------------------------------------------------------------------------------


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(pic: Picture) -> bytes:
    """8-bit RGB (RGBA when the picture has transparency), not interlaced."""
    channels = 4 if pic.alpha else 3
    stride = pic.width * channels
    parts: list[bytes] = []
    for index, row in enumerate(pic.grid):
        if channels == 4:
            line = b"".join(bytes(c) * CELL for c in row)[:stride]
        else:
            line = b"".join(bytes(c[:3]) * CELL for c in row)[:stride]
        height = min(CELL, pic.height - index * CELL)
        parts.append(b"\x00" + line)
        if height > 1:  # the same row again: the Up filter leaves zeros
            parts.append((b"\x02" + bytes(stride)) * (height - 1))
    ihdr = struct.pack(">IIBBBBB", pic.width, pic.height, 8, 6 if channels == 4 else 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", zlib.compress(b"".join(parts), 1))
        + _chunk(b"IEND", b"")
    )


# -- JPEG (baseline, 4:2:0, one DC coefficient per block) ------------------------------------------

_ZIGZAG_LEN = 64
_DC_LUMA = ((0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0), tuple(range(12)))
_DC_CHROMA = ((0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0), tuple(range(12)))
# every block has no AC coefficient, so the AC tables hold one symbol: end of block, coded "0"
_AC_EOB_ONLY = ((1, *([0] * 15)), (0,))


def _jpeg_codes(table: tuple[Sequence[int], Sequence[int]]) -> dict[int, str]:
    counts, symbols = table
    codes: dict[int, str] = {}
    code = k = 0
    for length, count in enumerate(counts, 1):
        for _ in range(count):
            codes[symbols[k]] = format(code, f"0{length}b")
            code += 1
            k += 1
        code <<= 1
    return codes


_LUMA_CODES = _jpeg_codes(_DC_LUMA)
_CHROMA_CODES = _jpeg_codes(_DC_CHROMA)


def _dc_bits(codes: dict[int, str], diff: int) -> str:
    if diff == 0:
        return codes[0]
    size = abs(diff).bit_length()
    extra = diff if diff > 0 else diff + (1 << size) - 1
    return codes[size] + format(extra, f"0{size}b")


def _segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def encode_jpeg(pic: Picture, *, quality: int = 100) -> bytes:
    """Baseline JFIF, YCbCr 4:2:0: each 16x16 cell is one MCU (transparency is dropped)."""
    q = max(1, min(16, round((100 - quality) / 6) + 1))  # DC quantiser: 1 (quality 100) .. 16
    eob = "0"
    luma_same = (_LUMA_CODES[0] + eob) * 3
    bits: list[str] = []
    prev = (0, 0, 0)
    cache: dict[tuple[int, int, int], tuple[int, int, int]] = {}
    for row in pic.grid:
        for r, g, b, _a in row:
            dc = cache.get((r, g, b))
            if dc is None:
                y = 0.299 * r + 0.587 * g + 0.114 * b
                cb = 128 - 0.168736 * r - 0.331264 * g + 0.5 * b
                cr = 128 + 0.5 * r - 0.418688 * g - 0.081312 * b
                dc = cache[(r, g, b)] = (round(8 * (y - 128) / q), round(8 * (cb - 128) / q), round(8 * (cr - 128) / q))
            bits.append(_dc_bits(_LUMA_CODES, dc[0] - prev[0]) + eob + luma_same)
            bits.append(_dc_bits(_CHROMA_CODES, dc[1] - prev[1]) + eob)
            bits.append(_dc_bits(_CHROMA_CODES, dc[2] - prev[2]) + eob)
            prev = dc
    text = "".join(bits)
    text += "1" * (-len(text) % 8)  # pad the last byte with ones
    scan = int(text, 2).to_bytes(len(text) // 8, "big").replace(b"\xff", b"\xff\x00")
    quant = bytes([q] + [max(1, q)] * (_ZIGZAG_LEN - 1))
    huffman = b""
    for klass, table in ((0x00, _DC_LUMA), (0x01, _DC_CHROMA), (0x10, _AC_EOB_ONLY), (0x11, _AC_EOB_ONLY)):
        huffman += bytes([klass, *table[0], *table[1]])
    return b"".join(
        (
            b"\xff\xd8",
            _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"),
            _segment(0xDB, b"\x00" + quant),
            _segment(0xC0, struct.pack(">BHHB", 8, pic.height, pic.width, 3) + b"\x01\x22\x00\x02\x11\x00\x03\x11\x00"),
            _segment(0xC4, huffman),
            _segment(0xDA, b"\x03\x01\x00\x02\x11\x03\x11\x00\x3f\x00"),
            scan,
            b"\xff\xd9",
        )
    )


# -- WebP (lossless VP8L) --------------------------------------------------------------------------


class _BitWriter:
    """Least-significant bit first, as VP8L reads."""

    __slots__ = ("_acc", "_n", "out")

    def __init__(self) -> None:
        self.out = bytearray()
        self._acc = 0
        self._n = 0

    def put(self, value: int, nbits: int) -> None:
        self._acc |= value << self._n
        self._n += nbits
        while self._n >= 8:
            self.out.append(self._acc & 0xFF)
            self._acc >>= 8
            self._n -= 8

    def finish(self) -> bytes:
        if self._n:
            self.out.append(self._acc & 0xFF)
            self._acc = self._n = 0
        return bytes(self.out)


def _canonical(lengths: Sequence[int]) -> list[tuple[int, int]]:
    """(bit-reversed code, length) per symbol, for a canonical prefix code with these lengths."""
    count = [0] * 16
    for n in lengths:
        count[n] += 1
    count[0] = 0
    next_code = [0] * 16
    code = 0
    for n in range(1, 16):
        code = (code + count[n - 1]) << 1
        next_code[n] = code
    out = []
    for n in lengths:
        if n == 0:
            out.append((0, 0))
            continue
        c = next_code[n]
        next_code[n] += 1
        out.append((int(format(c, f"0{n}b")[::-1], 2), n))
    return out


_CODE_LENGTH_ORDER = (17, 18, 0, 1, 2, 3, 4, 5, 16, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)


def _write_normal_code(w: _BitWriter, lengths: Sequence[int]) -> list[tuple[int, int]]:
    """Write a prefix code given by its code lengths; return its codes."""
    used = sorted(set(lengths))
    if len(used) == 2:
        meta = dict(zip(used, (1, 1), strict=True))
    elif len(used) == 3:
        meta = {used[1]: 1, used[0]: 2, used[2]: 2}
    else:  # pragma: no cover - the fixed layouts below use two or three lengths
        raise ValueError("unsupported code length layout")
    cl_lengths = [meta.get(i, 0) for i in range(19)]
    last = max(i for i, sym in enumerate(_CODE_LENGTH_ORDER) if cl_lengths[sym]) + 1
    last = max(last, 4)
    w.put(0, 1)  # a normal (not simple) code
    w.put(last - 4, 4)
    for sym in _CODE_LENGTH_ORDER[:last]:
        w.put(cl_lengths[sym], 3)
    w.put(0, 1)  # every symbol's length follows
    cl_codes = _canonical(cl_lengths)
    for n in lengths:
        code, nbits = cl_codes[n]
        w.put(code, nbits)
    return _canonical(lengths)


def _write_simple_code(w: _BitWriter, symbols: Sequence[int], alphabet: int) -> list[tuple[int, int]]:
    """One or two symbols (each below 256): VP8L's 'simple' code."""
    w.put(1, 1)
    w.put(len(symbols) - 1, 1)
    first = symbols[0]
    if first <= 1:
        w.put(0, 1)
        w.put(first, 1)
    else:
        w.put(1, 1)
        w.put(first, 8)
    if len(symbols) == 2:
        w.put(symbols[1], 8)
    lengths = [0] * alphabet
    if len(symbols) == 1:
        return [(0, 0)] * alphabet
    for s in symbols:
        lengths[s] = 1
    return _canonical(lengths)


# complete prefix codes over whole alphabets: 232 x 8 bits + 48 x 9 bits (green: 256 literals + 24
# length prefixes), and 1 x 7 + 253 x 8 + 2 x 9 bits (red, blue)
_GREEN_LENGTHS = [8] * 232 + [9] * 48
_BYTE_LENGTHS = [7] + [8] * 253 + [9] * 2
_LEFT, _UP = 2, 1  # VP8L distance codes: the pixel to the left, the pixel above
_MAX_COPY = 4096


def _prefix(value: int) -> tuple[int, int, int]:
    """VP8L's prefix coding of a length or distance: (symbol, extra bit count, extra bits)."""
    if value <= 4:
        return value - 1, 0, 0
    d = value - 1
    high = d.bit_length() - 1
    second = (d >> (high - 1)) & 1
    extra = high - 1
    return 2 * high + second, extra, d & ((1 << extra) - 1)


def encode_webp(pic: Picture) -> bytes:
    """Lossless WebP (VP8L): per cell one literal pixel, the rest copied from the left and above."""
    w = _BitWriter()
    w.put(0x2F, 8)
    w.put(pic.width - 1, 14)
    w.put(pic.height - 1, 14)
    w.put(1 if pic.alpha else 0, 1)
    w.put(0, 3)  # version
    w.put(0, 1)  # no transform
    w.put(0, 1)  # no colour cache
    w.put(0, 1)  # one group of prefix codes for the whole image
    green = _write_normal_code(w, _GREEN_LENGTHS)
    red = _write_normal_code(w, _BYTE_LENGTHS)
    blue = _write_normal_code(w, _BYTE_LENGTHS)
    alphas = sorted({c[3] for row in pic.grid for c in row})
    alpha = _write_simple_code(w, alphas if len(alphas) <= 2 else [0, 255], 256)
    dist = _write_simple_code(w, [_UP - 1, _LEFT - 1], 40)
    put = w.put

    def copy(length: int, distance_code: int) -> None:
        while length > 0:
            n = min(length, _MAX_COPY)
            symbol, nextra, extra = _prefix(n)
            code, nbits = green[256 + symbol]
            put(code, nbits)
            if nextra:
                put(extra, nextra)
            code, nbits = dist[distance_code - 1]
            put(code, nbits)
            length -= n

    for index, row in enumerate(pic.grid):
        for col, (r, g, b, a) in enumerate(row):
            for table, value in ((green, g), (red, r), (blue, b), (alpha, a if len(alphas) <= 2 else 255)):
                code, nbits = table[value]
                if nbits:
                    put(code, nbits)
            run = min(CELL, pic.width - col * CELL) - 1
            if run:
                copy(run, _LEFT)
        height = min(CELL, pic.height - index * CELL)
        if height > 1:
            copy((height - 1) * pic.width, _UP)
    data = w.finish()
    chunk = b"VP8L" + struct.pack("<I", len(data)) + data + b"\x00" * (len(data) & 1)
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


# -- reading uploads -------------------------------------------------------------------------------


class ImageError(ValueError):
    """Bytes that are not an image this module can read; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """What an uploaded image is: format (png/jpeg/webp/gif), size and pixel mode (PIL's names)."""

    format: str
    width: int
    height: int
    mode: str  # "RGBA", "RGB", "LA", "L", "P", "PA", "CMYK", ...

    @property
    def has_alpha(self) -> bool:
        return self.mode in ("RGBA", "LA", "PA")


_PNG_MODES = {0: "L", 2: "RGB", 3: "P", 4: "LA", 6: "RGBA"}
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_PNG_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}
_MAX_SIDE = 1 << 16
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))


def _read_png(data: bytes) -> ImageInfo:
    pos = 8
    header: tuple[int, ...] | None = None
    idat: list[bytes] = []
    transparency = False
    ended = False
    while pos < len(data):
        if pos + 12 > len(data):
            raise ImageError("the PNG is truncated inside a chunk header")
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > len(data):
            raise ImageError(f"the PNG is truncated inside its {kind.decode('latin-1')} chunk")
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[end - 4 : end])
        if zlib.crc32(kind + body) != crc:
            raise ImageError(f"the PNG's {kind.decode('latin-1')} chunk fails its CRC check")
        if header is None and kind != b"IHDR":
            raise ImageError("the PNG does not start with an IHDR chunk")
        if kind == b"IHDR":
            if length != 13:
                raise ImageError("the PNG's IHDR chunk has the wrong length")
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"tRNS":
            transparency = True
        elif kind == b"IEND":
            ended = True
            break
        pos = end
    if header is None or not ended:
        raise ImageError("the PNG has no IHDR or no IEND chunk")
    width, height, depth, color, compression, filtering, interlace = header
    if not (0 < width < _MAX_SIDE and 0 < height < _MAX_SIDE):
        raise ImageError(f"the PNG's size {width}x{height} is out of range")
    if color not in _PNG_MODES or depth not in _PNG_DEPTHS[color] or compression or filtering or interlace > 1:
        raise ImageError("the PNG's IHDR describes no valid pixel format")
    if not idat:
        raise ImageError("the PNG has no image data (IDAT)")
    stride = (width * _PNG_CHANNELS[color] * depth + 7) // 8
    expected = height * (stride + 1)
    if interlace:  # Adam7: seven smaller images, each with its own filter bytes
        expected = 0
        for x0, y0, dx, dy in _ADAM7:
            pw, ph = -(-(width - x0) // dx), -(-(height - y0) // dy)
            if pw > 0 and ph > 0:
                expected += ph * ((pw * _PNG_CHANNELS[color] * depth + 7) // 8 + 1)
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(b"".join(idat), expected + 1)
    except zlib.error as exc:
        raise ImageError(f"the PNG's image data is not a valid zlib stream ({exc})") from None
    if len(raw) != expected or not inflater.eof:
        raise ImageError(f"the PNG's image data holds {len(raw)} bytes; {width}x{height} needs {expected}")
    if not interlace and max(raw[:: stride + 1]) > 4:
        raise ImageError("the PNG's image data has an invalid row filter")
    mode = _PNG_MODES[color]
    if transparency and mode in ("L", "RGB", "P"):
        mode = {"L": "LA", "RGB": "RGBA", "P": "PA"}[mode]
    return ImageInfo("png", width, height, mode)


_SOF_MARKERS = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})


def _read_jpeg(data: bytes) -> ImageInfo:
    pos = 2
    frame: tuple[int, int, int] | None = None
    while True:
        if pos + 4 > len(data) or data[pos] != 0xFF:
            raise ImageError("the JPEG's segments are malformed or truncated")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD9 or 0xD0 <= marker <= 0xD7 or marker == 0x01:
            raise ImageError("the JPEG ends before its image data")
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if length < 2 or pos + 2 + length > len(data):
            raise ImageError("the JPEG's segments are malformed or truncated")
        if marker in _SOF_MARKERS:
            if length < 8:
                raise ImageError("the JPEG's frame header is truncated")
            height, width, components = struct.unpack(">HHB", data[pos + 5 : pos + 10])
            frame = (width, height, components)
        pos += 2 + length
        if marker == 0xDA:
            break
    if frame is None:
        raise ImageError("the JPEG has no frame header (SOF) before its scan")
    if data.rfind(b"\xff\xd9") < pos:
        raise ImageError("the JPEG has no end-of-image marker after its scan")
    width, height, components = frame
    if width == 0 or height == 0 or components not in (1, 3, 4):
        raise ImageError(f"the JPEG's frame header describes {width}x{height} with {components} components")
    return ImageInfo("jpeg", width, height, {1: "L", 3: "RGB", 4: "CMYK"}[components])


def _read_webp(data: bytes) -> ImageInfo:
    (size,) = struct.unpack("<I", data[4:8])
    if size + 8 > len(data) or size < 12:
        raise ImageError("the WebP file is shorter than its RIFF header says")
    kind = data[12:16]
    body = data[20:]
    if kind == b"VP8 ":
        if len(body) < 10 or body[3:6] != b"\x9d\x01\x2a":
            raise ImageError("the WebP's VP8 frame header is invalid")
        width, height = (v & 0x3FFF for v in struct.unpack("<HH", body[6:10]))
        mode = "RGB"
    elif kind == b"VP8L":
        if len(body) < 5 or body[0] != 0x2F:
            raise ImageError("the WebP's VP8L header is invalid")
        (bits,) = struct.unpack("<I", body[1:5])
        width, height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        mode = "RGBA" if (bits >> 28) & 1 else "RGB"
    elif kind == b"VP8X":
        if len(body) < 10:
            raise ImageError("the WebP's VP8X header is truncated")
        width = int.from_bytes(body[4:7], "little") + 1
        height = int.from_bytes(body[7:10], "little") + 1
        mode = "RGBA" if body[0] & 0x10 else "RGB"
    else:
        raise ImageError(f"the WebP starts with an unknown chunk {kind!r}")
    if width == 0 or height == 0:
        raise ImageError("the WebP's size is zero")
    return ImageInfo("webp", width, height, mode)


def read_image(data: bytes) -> ImageInfo:
    """The format, size and mode of an image file, or :class:`ImageError` saying why it is not one."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return _read_png(data)
    if data.startswith(b"\xff\xd8\xff"):
        return _read_jpeg(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _read_webp(data)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return ImageInfo("gif", width, height, "P")
    raise ImageError("the file is not a PNG, JPEG, WebP or GIF image")
