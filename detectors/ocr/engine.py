"""The OCR engine: RapidOCR on onnxruntime, with the models its wheel ships (no network).

One engine is created per worker process and reused for every image. Boxes
the engine finds are put back into lines (top to bottom, left to right), so a
label and its value end up on one line of text, as a reader sees them.
"""

from __future__ import annotations

import importlib.util
import itertools
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from PIL import Image

# Bump when the settings below change what text comes out: cached texts are keyed by it.
SETTINGS_VERSION = 1
# PaddleOCR's own detection default: shrink so the longer side is at most 960 pixels,
# never enlarge. RapidOCR's default (enlarge the shorter side to 736) costs ten times
# more on small product photos and reads certificates no better.
_SETTINGS: dict[str, Any] = {
    "det_limit_type": "max",
    "det_limit_side_len": 960,
    "use_cls": False,  # certificates are upright; the angle classifier only costs time
    # One thread per worker: parallelism comes from the process pool.
    "intra_op_num_threads": 1,
    "inter_op_num_threads": 1,
}


def available() -> bool:
    """Whether the OCR engine can be imported here."""
    return (importlib.util.find_spec("rapidocr_onnxruntime") is not None
            and importlib.util.find_spec("onnxruntime") is not None)


def engine_key() -> str:
    """Names the engine and its settings; a different key means texts are read again."""
    try:
        version = metadata.version("rapidocr-onnxruntime")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return f"rapidocr-{version}-s{SETTINGS_VERSION}"


@dataclass(frozen=True, slots=True)
class Box:
    """One piece of text the engine found, with its bounding box."""

    text: str
    left: float
    top: float
    right: float
    bottom: float
    score: float

    @property
    def middle(self) -> float:
        return (self.top + self.bottom) / 2

    @property
    def height(self) -> float:
        return self.bottom - self.top


def lines_of(boxes: list[Box]) -> str:
    """Boxes grouped into lines by vertical overlap; a wide gap in a line becomes a space."""
    rows: list[list[Box]] = []
    for box in sorted(boxes, key=lambda b: (b.middle, b.left)):
        row = rows[-1] if rows else None
        if row is not None and abs(box.middle - _middle(row)) < 0.5 * max(box.height, 1.0):
            row.append(box)
        else:
            rows.append([box])
    out: list[str] = []
    for row in rows:
        row.sort(key=lambda b: b.left)
        text = row[0].text
        for before, box in itertools.pairwise(row):
            gap = box.left - before.right
            text += (" " if gap > 0.5 * max(box.height, 1.0) else "") + box.text
        out.append(text)
    return "\n".join(out)


def _middle(row: list[Box]) -> float:
    return sum(b.middle for b in row) / len(row)


class OcrEngine:
    """RapidOCR with the settings above; ``read`` turns a picture into text."""

    def __init__(self) -> None:
        from rapidocr_onnxruntime import RapidOCR  # imported here: heavy, and workers only

        self._ocr = RapidOCR(**_SETTINGS)
        self.key = engine_key()

    def boxes(self, image: Image.Image) -> list[Box]:
        result, _elapsed = self._ocr(image)
        found: list[Box] = []
        for points, text, score in result or ():
            xs = [float(p[0]) for p in points]
            ys = [float(p[1]) for p in points]
            found.append(Box(str(text), min(xs), min(ys), max(xs), max(ys), float(score)))
        return found

    def read(self, image: Image.Image) -> str:
        return lines_of(self.boxes(image))
