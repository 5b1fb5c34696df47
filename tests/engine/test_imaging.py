"""engine/imaging.py: pictures as real PNG/JPEG/WebP (decoded here by Pillow), and reading uploads."""

from __future__ import annotations

import io
import struct
import time
import zlib

import pytest

from pytest_fakeai.engine.imaging import CELL, FORMATS, ImageError, Picture, draw, encode, read_image

Image = pytest.importorskip("PIL.Image")

SIZES = [(1024, 1024), (1792, 1024), (1024, 1536), (256, 256), (1000, 37)]


def decoded(data: bytes) -> object:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_decodes_at_the_size_asked(size: tuple[int, int], fmt: str) -> None:
    pic = draw(11, *size)
    data = encode(pic, fmt)
    img = decoded(data)
    assert img.size == size  # type: ignore[attr-defined]
    assert img.format == {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}[fmt]  # type: ignore[attr-defined]
    info = read_image(data)
    assert (info.format, info.width, info.height) == (fmt, *size)


@pytest.mark.parametrize("fmt", ["png", "webp"])
@pytest.mark.parametrize("transparent", [False, True])
def test_lossless_formats_hold_the_picture_pixel_for_pixel(fmt: str, transparent: bool) -> None:
    pic = draw(5, 200, 72, transparent=transparent)
    img = decoded(encode(pic, fmt)).convert("RGBA")  # type: ignore[attr-defined]
    px = img.load()
    for y in range(pic.height):
        for x in range(pic.width):
            assert px[x, y] == pic.grid[y // CELL][x // CELL], (x, y)
    assert read_image(encode(pic, fmt)).has_alpha is transparent


def test_jpeg_keeps_each_cell_colour() -> None:
    pic = draw(5, 512, 512)
    for quality in (100, 50, 0):
        px = decoded(encode(pic, "jpeg", quality=quality)).convert("RGB").load()  # type: ignore[attr-defined]
        worst = max(
            abs(a - b)
            for r in range(pic.rows)
            for c in range(pic.cols)
            for a, b in zip(px[c * CELL + 8, r * CELL + 8], pic.grid[r][c][:3], strict=False)
        )
        assert worst <= 3 + (100 - quality) // 10


def test_pictures_are_deterministic_and_differ_by_seed() -> None:
    assert encode(draw(1, 256, 256), "png") == encode(draw(1, 256, 256), "png")
    assert draw(1, 256, 256) != draw(2, 256, 256)
    background = draw(3, 256, 256, layers=0)
    assert len({c for row in background.grid for c in row}) > 8  # a gradient, not a flat colour
    assert draw(3, 256, 256, layers=0) != draw(3, 256, 256)  # the shapes come on top


def test_transparent_background_keeps_opaque_shapes() -> None:
    pic = draw(9, 256, 256, transparent=True)
    alphas = {c[3] for row in pic.grid for c in row}
    assert alphas == {0, 255}
    assert pic.alpha


def test_a_1024_png_encodes_in_milliseconds() -> None:
    pic = draw(1, 1024, 1024)
    started = time.perf_counter()
    for _ in range(5):
        encode(pic, "png")
    assert (time.perf_counter() - started) / 5 < 0.1  # ~5-10 ms measured; generous for slow CI


def test_bad_sizes_and_formats_are_errors() -> None:
    with pytest.raises(ValueError, match="positive size"):
        draw(1, 0, 10)
    with pytest.raises(ValueError, match="unknown image format"):
        encode(draw(1, 16, 16), "gif")


# -- reading uploads -------------------------------------------------------------------------------


def pil_bytes(mode: str, fmt: str, size: tuple[int, int] = (40, 30), **save: object) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (10, 20, 30, 40)[: len(mode)] if mode not in ("L", "P") else 7).save(out, fmt, **save)
    return out.getvalue()


@pytest.mark.parametrize(
    ("mode", "fmt", "expected"),
    [
        ("RGBA", "PNG", ("png", "RGBA")),
        ("RGB", "PNG", ("png", "RGB")),
        ("L", "PNG", ("png", "L")),
        ("LA", "PNG", ("png", "LA")),
        ("P", "PNG", ("png", "P")),
        ("RGB", "JPEG", ("jpeg", "RGB")),
        ("L", "JPEG", ("jpeg", "L")),
        ("RGB", "WEBP", ("webp", "RGB")),
        ("RGBA", "WEBP", ("webp", "RGBA")),
        ("RGB", "GIF", ("gif", "P")),
    ],
)
def test_read_image_knows_what_pillow_writes(mode: str, fmt: str, expected: tuple[str, str]) -> None:
    info = read_image(pil_bytes(mode, fmt))
    assert (info.format, info.mode, info.width, info.height) == (*expected, 40, 30)


def test_read_image_handles_interlaced_and_lossless_webp() -> None:
    assert read_image(pil_bytes("RGB", "PNG", interlace=1)).mode == "RGB"
    assert read_image(pil_bytes("RGBA", "WEBP", lossless=True)).mode == "RGBA"


def _png_with(ihdr: bytes, raw: bytes) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "not a PNG, JPEG, WebP or GIF"),
        (b"hello, world", "not a PNG, JPEG, WebP or GIF"),
        (encode(draw(1, 32, 32), "png")[:60], "truncated"),
        (encode(draw(1, 32, 32), "png")[:-5] + b"\x00\x00\x00\x00\x00", "CRC"),
        (_png_with(struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0), b"\x00" * 5), "needs"),
        (_png_with(struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0), b"\x09\x00\x00\x00"), "row filter"),
        (_png_with(struct.pack(">IIBBBBB", 1, 1, 7, 2, 0, 0, 0), b"\x00\x00\x00\x00"), "pixel format"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "truncated"),
        (encode(draw(1, 32, 32), "jpeg")[:-2], "end-of-image"),
        (b"RIFF\xff\x00\x00\x00WEBPVP8L", "shorter"),
    ],
    ids=["empty", "text", "cut png", "bad crc", "short data", "bad filter", "bad depth", "cut jpeg", "no eoi", "webp"],
)
def test_read_image_says_what_is_wrong(data: bytes, why: str) -> None:
    with pytest.raises(ImageError, match=why):
        read_image(data)


def test_picture_shape() -> None:
    pic = draw(1, 100, 40)
    assert isinstance(pic, Picture)
    assert (pic.cols, pic.rows) == (7, 3)
