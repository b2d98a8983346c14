"""The real OCR on the sandbox's certificate pictures: every key field a picture shows is read,
and detection on the read text gives ``image:N`` findings that match the ground truth.

The pictures are read once for the module (about a second each on two cores).
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.profiles import load_profiles
from detectors.certs.fields import present_fields
from detectors.certs.textview import folded
from detectors.ocr import ImageReader, ImageText, OcrCache, OcrPool
from detectors.suite import DetectorSuite
from jingwang.config import SourceConfig
from jingwang.pipeline import Pipeline
from jingwang.records import Finding, Listing, Seller
from sandbox.certificates import FONT_HINT, KEY_FIELDS, DocumentImage, font_path
from sandbox.data import Catalog, SandboxListing
from sandbox.images import draw_png
from store.db import make_engine, upgrade
from store.evidence import EvidenceStore
from store.image_texts import StoredImageTexts
from store.models import ListingVersion
from store.service import Store
from tests.conftest import ROOT
from tests.ocr.conftest import document_listings, image_name
from tests.support.aio import run


@dataclass(frozen=True)
class Read:
    """The sandbox listing, the listing record with its OCR texts, and each image's result."""

    truth: SandboxListing
    listing: Listing
    images: tuple[ImageText, ...]


@pytest.fixture(scope="module")
def ocr_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ocr-cache")


@pytest.fixture(scope="module")
def read(pool: OcrPool, catalog: Catalog, ocr_cache: Path) -> list[Read]:
    if font_path() is None:
        pytest.fail(FONT_HINT)  # the pictures would be drawn without Chinese glyphs
    reader = ImageReader(pool, OcrCache(ocr_cache, pool.key))
    listings = document_listings(catalog)

    async def read_all() -> list[Read]:
        out = []
        for item in listings:
            pngs = [draw_png(catalog.images[image_name(p)]) for p in item.images]
            images = await asyncio.gather(*(reader.read_bytes(png, index=i, url=p)
                                            for i, (png, p) in enumerate(zip(pngs, item.images,
                                                                             strict=True))))
            shop = catalog.shop(item.shop_id)
            assert shop is not None
            listing = Listing("sandbox", item.id, item.title, item.description, item.price,
                              seller=Seller(shop.name, shop.credit_code, shop.license_text,
                                            shop.id), images=item.images,
                              image_texts=tuple(i.text for i in images))
            out.append(Read(item, listing, tuple(images)))
        return out

    return run(read_all())


def _plain(text: str) -> str:
    """Compare as a reader would: width, case, spaces and bracket forms do not matter."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[\s()（）]", "", text)


def test_the_sandbox_has_certificate_listings_of_every_kind(read: list[Read]) -> None:
    assert len(read) >= 8
    categories = {c for r in read for c in r.truth.categories}
    assert {"missing_cert_fields", "identifier_invalid", "unlicensed_service"} <= categories
    assert any(not r.truth.categories for r in read)  # complete documents are clean


def test_every_key_field_in_a_picture_is_read(read: list[Read], catalog: Catalog) -> None:
    for r in read:
        for path, image in zip(r.truth.images, r.images, strict=True):
            spec = catalog.images[image_name(path)]
            if not isinstance(spec, DocumentImage):
                continue
            assert image.status == "read", image
            document = spec.document
            text = _plain(image.text)
            for field in document.fields:
                value = document.value(field)
                assert value is not None and _plain(value) in text, (r.truth.id, field, value,
                                                                     image.text)
            # The certificate checks find the same fields in what OCR produced.
            found = present_fields([folded(image.text, drop_noise=True).text])
            assert set(document.fields) <= found, (r.truth.id, document.fields, found)
            if document.kind in ("report", "certificate"):  # and a missing one is missed
                assert not found & (set(KEY_FIELDS) - document.fields), (r.truth.id, found)


def test_detection_on_read_pictures_matches_the_ground_truth(read: list[Read]) -> None:
    suite = DetectorSuite.from_paths(lexicon_dir=ROOT / "keywords")
    for r in read:
        findings = suite.detect(r.listing)
        assert {f.category for f in findings} == set(r.truth.categories), (r.truth.id, findings)
        for finding in findings:
            _assert_span(r.listing, finding)
        # What the picture decides shows up as a finding in the picture.
        if r.truth.categories & {"identifier_invalid"}:
            assert any(f.field.startswith("image:") and f.category == "identifier_invalid"
                       for f in findings), findings


def test_without_the_pictures_the_text_alone_misleads(read: list[Read]) -> None:
    """The reason OCR is needed: text-only detection gets most of these listings wrong."""
    suite = DetectorSuite.from_paths(lexicon_dir=ROOT / "keywords")
    wrong = [r.truth.id for r in read if {f.category for f in suite.detect(
        Listing(r.listing.platform, r.listing.listing_id, r.listing.title,
                r.listing.description, seller=r.listing.seller, images=r.listing.images))}
        != set(r.truth.categories)]
    assert len(wrong) >= len(read) // 2


def _assert_span(listing: Listing, finding: Finding) -> None:
    text = listing.field_text(finding.field)
    assert 0 <= finding.start < finding.end <= len(text), finding
    assert text[finding.start:finding.end] == finding.text, finding


def test_a_crawl_reads_the_pictures_once_and_stores_what_they_say(
        pool: OcrPool, catalog: Catalog, ocr_cache: Path, sandbox_url: str,
        tmp_path: Path, read: list[Read]) -> None:
    url = f"sqlite:///{tmp_path / 'jw.db'}"
    upgrade(url)
    store = Store(make_engine(url), EvidenceStore(tmp_path / "evidence"))
    reader = ImageReader(pool, OcrCache(ocr_cache, pool.key),
                         previous=StoredImageTexts(store.engine))
    pipeline = Pipeline(store=store, suite=DetectorSuite.from_paths(lexicon_dir=ROOT / "keywords"),
                        profiles=load_profiles(ROOT / "config/platforms"), channels=["log"],
                        base_urls={"sandbox": sandbox_url}, images=reader)
    ids = [r.truth.id for r in read]
    source = SourceConfig(name="pictures", platform="sandbox", kind="urls",
                          urls=[f"{sandbox_url}/item/{i}" for i in ids])

    first = run(pipeline.run_source(source))
    assert (first.status, first.listings, first.new_versions) == ("ok", len(ids), len(ids))
    assert first.image_problems == 0
    predicted: dict[str, set[str]] = {i: set() for i in ids}
    for lead in store.recent_leads(limit=1000):
        for item in lead.listings:
            predicted[item.listing_id] = {f.category for f in item.findings}
    assert predicted == {r.truth.id: set(r.truth.categories) for r in read}
    with Session(store.engine) as session:
        texts = {v.listing_id: v.image_texts for v in session.scalars(select(ListingVersion))}
    assert len(texts) == len(ids)
    assert all(any("编号" in t for t in stored) for stored in texts.values())

    # Nothing changed: the stored texts are reused; no download, no OCR, no new version.
    runs_before = pool.ocr_runs
    again = run(pipeline.run_source(source))
    assert (again.status, again.new_versions, again.images_read) == ("ok", 0, 0)
    assert pool.ocr_runs == runs_before
    store.engine.dispose()
