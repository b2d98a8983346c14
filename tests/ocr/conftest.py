"""OCR fixtures: one real worker pool per module, and the sandbox's certificate pictures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from detectors.ocr import OcrPool, available
from sandbox.certificates import DocumentImage
from sandbox.data import Catalog, SandboxListing, generate
from tests.conftest import SANDBOX_SEED


@pytest.fixture(scope="module")
def pool() -> Iterator[OcrPool]:
    if not available():
        pytest.fail("rapidocr-onnxruntime is not installed")
    ocr = OcrPool(workers=2)
    yield ocr
    ocr.close()


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return generate(SANDBOX_SEED)


def image_name(path: str) -> str:
    return path.removeprefix("/img/").removesuffix(".png")


def document_listings(catalog: Catalog) -> list[SandboxListing]:
    """Listings with at least one document picture."""
    return [listing for listing in catalog.listings
            if any(isinstance(catalog.images[image_name(p)], DocumentImage)
                   for p in listing.images)]
