"""Reading certificate and report images: fetch, validate, OCR in a process pool, cache by SHA-256.

The pipeline hands crawled listings through :meth:`ImageReader.stream`; the
texts land in ``Listing.image_texts`` and the certificate detectors scan them
as fields ``image:N`` like any other text.
"""

from __future__ import annotations

import logging
from pathlib import Path

from detectors.ocr.cache import CachedText, OcrCache
from detectors.ocr.engine import available, engine_key
from detectors.ocr.images import ImageLimits, ImageRefused
from detectors.ocr.pool import JobResult, OcrFailed, OcrPool
from detectors.ocr.reader import (
    ImageFetcher,
    ImageReader,
    ImageText,
    ListingImages,
    Previous,
    PreviousLookup,
)

__all__ = [
    "CachedText",
    "ImageFetcher",
    "ImageLimits",
    "ImageReader",
    "ImageRefused",
    "ImageText",
    "JobResult",
    "ListingImages",
    "OcrCache",
    "OcrFailed",
    "OcrPool",
    "Previous",
    "PreviousLookup",
    "available",
    "default_reader",
]

log = logging.getLogger("jingwang.ocr")


def default_reader(evidence_dir: Path, *, previous: PreviousLookup | None = None,
                   workers: int | None = None) -> ImageReader | None:
    """An image reader caching under ``evidence_dir/ocr``; None when OCR is not installed.

    No worker process starts until the first image arrives.
    """
    if not available():
        log.warning("OCR is off: rapidocr-onnxruntime is not installed; "
                    "texts in listing images will not be read")
        return None
    pool = OcrPool(workers=workers)
    return ImageReader(pool, OcrCache(Path(evidence_dir) / "ocr", engine_key()),
                       previous=previous)
