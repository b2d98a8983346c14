"""Certificate and test-report pictures drawn with Pillow: evidence the sandbox hides in images.

A :class:`Document` is a title and labelled lines; each line may carry the key
field of the detection spec it shows (issuer, date, number, conclusion,
product_model), so tests know which fields an image holds. Text is drawn with
a CJK font (Debian ``fonts-noto-cjk``); without one the picture still renders,
with a warning, but no OCR can read it.
"""

from __future__ import annotations

import io
import logging
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from sandbox.data import ImageSpec

log = logging.getLogger("jingwang.sandbox.certificates")

ISSUER, DATE, NUMBER, CONCLUSION, PRODUCT_MODEL = (
    "issuer", "date", "number", "conclusion", "product_model")
KEY_FIELDS = (ISSUER, DATE, NUMBER, CONCLUSION, PRODUCT_MODEL)

WIDTH = 1000
_MARGIN = 70
_TITLE_SIZE, _LINE_SIZE, _LINE_HEIGHT = 46, 28, 56
_PAPER, _INK, _FRAME, _SEAL = (252, 250, 243), (28, 28, 32), (150, 120, 60), (205, 40, 40)
# ``JINGWANG_CJK_FONT`` wins; then the Debian/Ubuntu Noto and WenQuanYi paths.
_FONT_CANDIDATES = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),  # index 2: Simplified Chinese
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
)
FONT_HINT = ("未找到中文字体：证书图片无法辨认。"
             "请安装 fonts-noto-cjk（apt-get install fonts-noto-cjk）")


@dataclass(frozen=True, slots=True)
class Line:
    """One labelled line; ``field`` is the key field it shows ("" for any other line)."""

    label: str
    value: str
    field: str = ""

    @property
    def text(self) -> str:
        return f"{self.label}：{self.value}"


@dataclass(frozen=True, slots=True)
class Document:
    """A certificate, test report or approval page as it is drawn."""

    title: str
    lines: tuple[Line, ...]
    kind: str = "report"  # report | certificate | approval

    @property
    def fields(self) -> frozenset[str]:
        """The key fields this document shows."""
        return frozenset(line.field for line in self.lines if line.field)

    def value(self, field: str) -> str | None:
        return next((line.value for line in self.lines if line.field == field), None)


@dataclass(frozen=True, slots=True)
class DocumentImage(ImageSpec):
    """A listing picture that is a document; the server draws it with :func:`render`."""

    document: Document


@cache
def font_path() -> tuple[str, int] | None:
    """The CJK font file and face index to draw with, or None when none is installed."""
    chosen = os.environ.get("JINGWANG_CJK_FONT")
    if chosen and Path(chosen).is_file():
        return chosen, 0
    for path, index in _FONT_CANDIDATES:
        if Path(path).is_file():
            return path, index
    return None


def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    found = font_path()
    if found is None:
        log.warning(FONT_HINT)
        return ImageFont.load_default(size)
    path, index = found
    return ImageFont.truetype(path, size, index=index)


def render(document: Document) -> bytes:
    """The document as a PNG: framed paper, a title, one line per field and a red seal."""
    title_font, line_font = font(_TITLE_SIZE), font(_LINE_SIZE)
    top = _MARGIN + _TITLE_SIZE + 50
    height = top + _LINE_HEIGHT * len(document.lines) + 150
    image = Image.new("RGB", (WIDTH, height), _PAPER)
    pen = ImageDraw.Draw(image)
    pen.rectangle((18, 18, WIDTH - 19, height - 19), outline=_FRAME, width=6)
    pen.rectangle((30, 30, WIDTH - 31, height - 31), outline=_FRAME, width=2)
    pen.text((WIDTH // 2, _MARGIN), document.title, font=title_font, fill=_INK, anchor="mt")
    y = top
    for line in document.lines:
        pen.text((_MARGIN + 20, y), line.text, font=line_font, fill=_INK)
        y += _LINE_HEIGHT
    # An official-looking seal without text: lettering on a curve only adds OCR noise.
    cx, cy, r = WIDTH - 190, height - 120, 70
    pen.ellipse((cx - r, cy - r, cx + r, cy + r), outline=_SEAL, width=5)
    star = [(cx + dx * 0.9, cy + dy * 0.9) for dx, dy in
            ((0, -30), (9, -9), (29, -9), (13, 5), (19, 26), (0, 13), (-19, 26), (-13, 5),
             (-29, -9), (-9, -9))]
    pen.polygon(star, fill=_SEAL)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
