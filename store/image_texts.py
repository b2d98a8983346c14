"""The stored texts of a listing's images: an unchanged listing is not downloaded and read again."""

from __future__ import annotations

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from jingwang.records import Listing
from store.ingest import bounded_key
from store.models import Listing as ListingRow
from store.models import ListingVersion


class StoredImageTexts:
    """``lookup(listing)`` → (content hash, images, image texts) of its current version, or None.

    A callable for :class:`detectors.ocr.ImageReader` (``previous=``): one
    indexed read per crawled listing that has images.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __call__(self, listing: Listing) -> tuple[str, tuple[str, ...], tuple[str, ...]] | None:
        query = (select(ListingRow.content_hash, ListingVersion.images,
                        ListingVersion.image_texts)
                 .join(ListingVersion, ListingVersion.id == ListingRow.current_version_id)
                 .where(ListingRow.platform == listing.platform,
                        ListingRow.platform_listing_id == bounded_key(listing.listing_id)))
        with Session(self.engine) as session:
            row = session.execute(query).one_or_none()
        if row is None or row.content_hash is None:
            return None
        return row.content_hash, tuple(row.images or ()), tuple(row.image_texts or ())
