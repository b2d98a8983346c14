"""Simple product pictures drawn with Pillow: same spec, same PNG bytes."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

from sandbox.certificates import DocumentImage, render
from sandbox.data import ImageSpec

SIZE = 240


def draw_png(spec: ImageSpec) -> bytes:
    """A flat picture of a product-like shape on the listing's colour (or a document)."""
    if isinstance(spec, DocumentImage):
        return render(spec.document)
    image = Image.new("RGB", (SIZE, SIZE), spec.background)
    pen = ImageDraw.Draw(image)
    fg, m = spec.foreground, SIZE // 2
    if spec.shape == "circle":
        pen.ellipse((50, 50, 190, 190), fill=fg)
    elif spec.shape == "box":
        pen.rounded_rectangle((45, 70, 195, 190), radius=12, fill=fg)
        pen.rectangle((45, 95, 195, 105), fill=spec.background)
    elif spec.shape == "bottle":
        pen.rounded_rectangle((85, 80, 155, 200), radius=18, fill=fg)
        pen.rectangle((105, 45, 135, 82), fill=fg)
    elif spec.shape == "triangle":
        pen.polygon(((m, 40), (200, 195), (40, 195)), fill=fg)
    elif spec.shape == "cup":
        pen.rounded_rectangle((70, 70, 160, 190), radius=10, fill=fg)
        pen.arc((140, 95, 195, 155), start=270, end=90, fill=fg, width=10)
    else:
        for y in range(40, 200, 30):
            pen.rectangle((40, y, 200, y + 14), fill=fg)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
