"""Decide whether downloaded bytes are an image worth reading, and decode them safely.

Listing images are hostile input. :func:`sniff` (in the crawler process) looks
only at the magic bytes and the size; :func:`decode` (in an OCR worker
process, so a decoder crash never takes the crawler down) opens the image
with Pillow, refuses pixel counts past the cap and decompression bombs
*before* decoding, and reports truncated or corrupt files. Every refusal is an
:class:`ImageRefused` with a reason code and a zh-CN message.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

# Reason codes (stable, for logs and tests); messages are zh-CN for operators.
NOT_AN_IMAGE = "not_an_image"
UNSUPPORTED_TYPE = "unsupported_type"
TOO_LARGE = "too_large"
TOO_MANY_PIXELS = "too_many_pixels"
DECOMPRESSION_BOMB = "decompression_bomb"
TRUNCATED = "truncated"
CORRUPT = "corrupt"

# Magic bytes of the raster formats listing galleries use.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
)
# Recognised but refused: vector and container formats OCR should not open.
_REFUSED_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "PDF"),
    (b"<svg", "SVG"),
    (b"<?xml", "XML/SVG"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
)


class ImageRefused(Exception):
    """The bytes are not an image this reader will decode; ``reason`` is a code above."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message


@dataclass(frozen=True, slots=True)
class ImageLimits:
    """What an image may be. Certificates scanned at 300 dpi are about 9 megapixels."""

    max_bytes: int = 8 * 1024 * 1024
    max_pixels: int = 30_000_000
    max_side: int = 12_000


def sniff(data: bytes, limits: ImageLimits) -> str:
    """The format the magic bytes announce; refuses non-images and oversized files."""
    if len(data) > limits.max_bytes:
        raise ImageRefused(TOO_LARGE, f"图片 {len(data)} 字节，超过上限 {limits.max_bytes} 字节")
    if not data:
        raise ImageRefused(NOT_AN_IMAGE, "图片内容为空")
    for magic, name in _MAGIC:
        if data.startswith(magic):
            return name
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    head = data[:256].lstrip().lower()
    for magic, name in _REFUSED_MAGIC:
        if head.startswith(magic.lower()):
            raise ImageRefused(UNSUPPORTED_TYPE, f"不支持的文件类型：{name}")
    if head.startswith((b"<!doctype", b"<html", b"{", b"[")):
        raise ImageRefused(NOT_AN_IMAGE, "不是图片：内容是网页或文本")
    raise ImageRefused(NOT_AN_IMAGE, "不是图片：文件头无法识别")


def decode(data: bytes, limits: ImageLimits) -> Image.Image:
    """The first frame as an RGB image, fully decoded; refusals raise :class:`ImageRefused`."""
    expected = sniff(data, limits)
    with warnings.catch_warnings():
        # Pillow warns past MAX_IMAGE_PIXELS and raises past twice that; both are bombs here.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=[expected])
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageRefused(DECOMPRESSION_BOMB, f"疑似解压炸弹：{exc}") from None
        except UnidentifiedImageError:
            raise ImageRefused(CORRUPT, f"文件头声称是 {expected}，但无法解析") from None
        except (OSError, ValueError, SyntaxError, EOFError) as exc:
            raise _broken(expected, exc) from None
        width, height = image.size
        # Checked on the header, before a single pixel is decoded.
        if width <= 0 or height <= 0:
            raise ImageRefused(CORRUPT, f"图片尺寸无效：{width}×{height}")
        if width * height > limits.max_pixels or max(width, height) > limits.max_side:
            raise ImageRefused(TOO_MANY_PIXELS,
                               f"图片 {width}×{height} 像素，超过上限 {limits.max_pixels} 像素"
                               f"（单边 {limits.max_side}）")
        try:
            image.load()
            rgb = image.convert("RGB")
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageRefused(DECOMPRESSION_BOMB, f"疑似解压炸弹：{exc}") from None
        except (OSError, ValueError, SyntaxError, EOFError) as exc:
            raise _broken(expected, exc) from None
        finally:
            image.close()
    return rgb


def _broken(expected: str, exc: BaseException) -> ImageRefused:
    # Pillow says "image file is truncated" or "Truncated File Read" for a cut-off file.
    if "truncated" in str(exc).lower():
        return ImageRefused(TRUNCATED, f"{expected} 文件不完整（已截断）")
    return ImageRefused(CORRUPT, f"{expected} 文件已损坏：{exc}")
