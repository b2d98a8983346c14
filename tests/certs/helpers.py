"""Helpers of the certificate tests: listings built in code and a detector run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jingwang.records import Detector, Finding, Listing

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_REGISTRY = ROOT / "config" / "registry"
SEED_BODIES = SHIPPED_REGISTRY / "certification-bodies.csv"


def make_listing(title: str = "", description: str = "", *, seller: str = "某某小店",
                 credit_code: str | None = None, license_text: str | None = None,
                 image_texts: tuple[str, ...] = ()) -> Listing:
    data: dict[str, Any] = {
        "id": "t-1", "platform": "taobao", "title": title, "description": description,
        "seller": {"name": seller, "credit_code": credit_code, "license_text": license_text},
        "image_texts": list(image_texts),
    }
    return Listing.from_dict(data)


def run(detectors: list[Detector], listing: Listing) -> list[Finding]:
    return [f for d in detectors for f in d.detect(listing)]


def categories(findings: list[Finding]) -> set[str]:
    return {f.category for f in findings}


def span_text(listing: Listing, finding: Finding) -> str:
    """The original text a finding's span points at."""
    if finding.field == "seller.credit_code":
        text = listing.seller.credit_code or ""
    else:
        text = listing.field_text(finding.field)
    return text[finding.start:finding.end]
