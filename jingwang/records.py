"""Plain typed records that carry data from one stage to the next.

Stages (crawler → detectors → store → alerts → review) talk through these
records only, never through another stage's ORM objects.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol


class Category(StrEnum):
    """The six violation categories of the detection spec."""

    FAKE_CERTIFICATE = "fake_certificate"
    FALSE_ADVERTISING = "false_advertising"
    NATIONAL_PREFIX_MISUSE = "national_prefix_misuse"
    MISSING_CERT_FIELDS = "missing_cert_fields"
    UNLICENSED_SERVICE = "unlicensed_service"
    IDENTIFIER_INVALID = "identifier_invalid"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


@dataclass(frozen=True, slots=True)
class Seller:
    """What a listing page or shop page shows about the seller."""

    name: str = ""
    credit_code: str | None = None
    license_text: str | None = None
    shop_id: str | None = None
    shop_url: str | None = None


@dataclass(frozen=True, slots=True)
class Listing:
    """One marketplace listing as parsed from a platform (or read from a file)."""

    platform: str
    listing_id: str
    title: str
    description: str = ""
    price: str | None = None
    url: str | None = None
    seller: Seller = dataclasses.field(default_factory=Seller)
    images: tuple[str, ...] = ()
    # Text read from each image by OCR, index-aligned with ``images``; filled later.
    image_texts: tuple[str, ...] = ()

    def fields(self) -> Iterator[tuple[str, str]]:
        """Yield (field name, text) for every text field a detector scans.

        Field names are the ones findings report: ``title``, ``description``,
        ``seller.name``, ``seller.license_text`` and ``image:N``.
        """
        yield "title", self.title
        yield "description", self.description
        if self.seller.name:
            yield "seller.name", self.seller.name
        if self.seller.license_text:
            yield "seller.license_text", self.seller.license_text
        for i, text in enumerate(self.image_texts):
            if text:
                yield f"image:{i}", text

    def field_text(self, name: str) -> str:
        """Return the original text of a field named as in :meth:`fields`.

        ``seller.credit_code`` is not scanned for phrases but identifier checks
        report spans into it, so it resolves here too.
        """
        if name == "seller.credit_code":
            return self.seller.credit_code or ""
        for key, text in self.fields():
            if key == name:
                return text
        return ""

    def content_hash(self) -> str:
        """SHA-256 of the listing's content; a change makes a new listing version."""
        payload = json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Listing:
        """Build a listing from the eval schema (``../shared/eval/README.md``)."""
        seller = data.get("seller") or {}
        return cls(
            platform=str(data.get("platform") or ""),
            listing_id=str(data.get("id") or data.get("listing_id") or ""),
            title=str(data.get("title") or ""),
            description=str(data.get("description") or ""),
            price=None if data.get("price") is None else str(data["price"]),
            url=data.get("url"),
            seller=Seller(
                name=str(seller.get("name") or ""),
                credit_code=seller.get("credit_code") or None,
                license_text=seller.get("license_text") or None,
                shop_id=seller.get("shop_id") or None,
                shop_url=seller.get("shop_url") or None,
            ),
            images=tuple(data.get("images") or ()),
            image_texts=tuple(data.get("image_texts") or ()),
        )


@dataclass(frozen=True, slots=True)
class Finding:
    """One reason a listing is flagged, located exactly in the original text."""

    rule: str
    category: str  # a Category value
    field: str  # "title", "description", "seller.license_text", "image:N", ...
    start: int  # offsets into the original, unnormalised field text
    end: int
    text: str  # the original text of the span: field_text[start:end]
    severity: str = Severity.MEDIUM.value
    legal_basis: tuple[str, ...] = ()
    evasions: tuple[str, ...] = ()  # e.g. ("traditional", "separator")
    lexicon_version: str = ""
    detail: dict[str, Any] = dataclasses.field(default_factory=dict, compare=False, hash=False)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["legal_basis"] = list(self.legal_basis)
        data["evasions"] = list(self.evasions)
        return data


class Detector(Protocol):
    """Listing in, findings out. Every detector is a small class behind this."""

    name: str

    def detect(self, listing: Listing) -> list[Finding]: ...


@dataclass(frozen=True, slots=True)
class Capture:
    """The record of one HTTP (or browser) fetch: what evidence is made of."""

    url: str
    final_url: str
    status: int
    fetched_at: datetime  # timezone-aware
    headers: dict[str, str]
    body: bytes
    tool: str  # e.g. "jingwang/0.1 httpx/0.28"
    screenshot: bytes | None = None


@dataclass(frozen=True, slots=True)
class CrawledListing:
    """A parsed listing with the capture it was parsed from."""

    listing: Listing
    capture: Capture
    source: str = ""
