"""Hostile image bytes: refused with a reason before (or instead of) decoding, never crashing."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from detectors.ocr import ImageLimits, ImageReader, ImageRefused, OcrCache, OcrPool
from detectors.ocr.images import (
    CORRUPT,
    DECOMPRESSION_BOMB,
    NOT_AN_IMAGE,
    TOO_LARGE,
    TOO_MANY_PIXELS,
    TRUNCATED,
    UNSUPPORTED_TYPE,
    decode,
    sniff,
)
from tests.support.aio import run

LIMITS = ImageLimits()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def png_declaring(width: int, height: int) -> bytes:
    """A tiny, well-formed PNG file whose header claims ``width`` × ``height`` pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    rows = zlib.compress(b"\x00" * 64)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", rows)
            + _chunk(b"IEND", b""))


def png(width: int = 120, height: int = 80) -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise((width, height), 60).convert("RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, format="JPEG")
    return buffer.getvalue()


def refusal(data: bytes, limits: ImageLimits = LIMITS) -> str:
    with pytest.raises(ImageRefused) as caught:
        decode(data, limits)
    assert caught.value.message  # a reason an operator can read
    return caught.value.reason


def test_real_images_decode_to_rgb() -> None:
    for data in (png(), jpeg()):
        image = decode(data, LIMITS)
        assert image.mode == "RGB" and image.width > 0


@pytest.mark.parametrize(("data", "reason"), [
    (b"<!DOCTYPE html><html><body>404</body></html>", NOT_AN_IMAGE),
    (b'{"error": "not found"}', NOT_AN_IMAGE),
    (b"", NOT_AN_IMAGE),
    (b"\x00\x01\x02 random bytes that are no format at all", NOT_AN_IMAGE),
    (b"%PDF-1.7\n1 0 obj", UNSUPPORTED_TYPE),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
     UNSUPPORTED_TYPE),
])
def test_what_is_not_an_image_is_refused_by_its_bytes(data: bytes, reason: str) -> None:
    assert refusal(data) == reason


def test_too_many_bytes_is_refused_before_anything_else() -> None:
    data = png()
    assert refusal(data, ImageLimits(max_bytes=len(data) - 1)) == TOO_LARGE
    assert sniff(data, ImageLimits(max_bytes=len(data))) == "PNG"


def test_a_png_declaring_fifty_thousand_squared_pixels_is_a_bomb() -> None:
    bomb = png_declaring(50_000, 50_000)
    assert len(bomb) < 200
    assert refusal(bomb) == DECOMPRESSION_BOMB


def test_pixels_past_the_cap_are_refused_from_the_header() -> None:
    assert refusal(png_declaring(6_000, 6_000)) == TOO_MANY_PIXELS  # 36 MP > 30 MP
    assert refusal(png(100, 100), ImageLimits(max_pixels=9_999)) == TOO_MANY_PIXELS
    assert refusal(png_declaring(20_000, 10), ImageLimits()) == TOO_MANY_PIXELS  # one side


def test_truncated_and_corrupt_files_are_refused() -> None:
    data = png(400, 300)
    assert refusal(data[: len(data) // 2]) == TRUNCATED
    assert refusal(jpeg()[:200]) == TRUNCATED
    header = png_declaring(10, 10)
    bad_checksum = header[:29] + bytes([header[29] ^ 0xFF]) + header[30:]  # IHDR's CRC
    assert refusal(bad_checksum) == CORRUPT


def test_refusals_come_back_through_the_pool_and_are_cached(pool: OcrPool,
                                                            tmp_path: Path) -> None:
    reader = ImageReader(pool, OcrCache(tmp_path, pool.key))
    before = pool.ocr_runs
    bomb = png_declaring(50_000, 50_000)
    truncated = png(400, 300)[:600]

    async def read_all() -> list[tuple[str, str | None]]:
        out = []
        for data in (b"<html>login</html>", bomb, truncated, bomb):
            result = await reader.read_bytes(data)
            out.append((result.status, result.reason))
        return out

    assert run(read_all()) == [("refused", NOT_AN_IMAGE), ("refused", DECOMPRESSION_BOMB),
                               ("refused", TRUNCATED), ("refused", DECOMPRESSION_BOMB)]
    assert pool.ocr_runs == before  # the engine never saw any of them
    cached = list(tmp_path.rglob("*.json"))
    assert len(cached) == 2  # the bomb and the truncated file (HTML never reaches the pool)
