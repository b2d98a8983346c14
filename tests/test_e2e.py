"""End to end: one crawl of the sandbox over real HTTP into a fresh database, checked
against the sandbox's own ground truth."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from jingwang.config import Settings, SourceConfig
from jingwang.daemon import build
from store.db import upgrade
from tests.support.aio import run as run_async

ROOT = Path(__file__).resolve().parents[1]
KEYWORDS = ["认证", "检测报告", "证书", "3C"]


@pytest.fixture(scope="module")
def crawl_result(sandbox_url: str, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("e2e")
    url = f"sqlite:///{tmp / 'jw.db'}"
    upgrade(url)
    source = SourceConfig(name="e2e", platform="sandbox", keywords=KEYWORDS, pages=50)
    settings = Settings(database_url=url, evidence_dir=tmp / "evidence",
                        lexicon_dir=ROOT / "keywords", platforms_dir=ROOT / "config/platforms",
                        sources=[source])
    components = build(settings, config_path=tmp / "none.yaml",
                       base_urls={"sandbox": sandbox_url})
    summary = run_async(components.pipeline.run_source(source))
    truth = httpx.get(f"{sandbox_url}/_truth.json", timeout=10).json()["listings"]
    return components, summary, truth


def test_crawl_stores_every_listing_it_found(crawl_result) -> None:  # type: ignore[no-untyped-def]
    components, summary, truth = crawl_result
    assert summary.status == "ok", summary
    assert summary.errors == 0 and summary.parse_failures == 0
    violating = {i for i, t in truth.items() if t["categories"]}
    assert summary.listings >= len(violating)  # the keywords reach every violating listing
    counts = components.store.counts()
    assert counts["listings"] == summary.listings
    assert counts["versions"] == summary.listings


def test_flagged_listings_match_ground_truth(crawl_result) -> None:  # type: ignore[no-untyped-def]
    components, _, truth = crawl_result
    leads = components.store.recent_leads(limit=10_000)
    predicted: dict[str, set[str]] = {}
    for lead in leads:
        for item in lead.listings:
            predicted[item.listing_id] = {f.category for f in item.findings}
    # Plain (non-evaded) phrases: exact agreement, listing by listing.
    plain = {i: set(t["categories"]) for i, t in truth.items() if not t["evasions"]}
    wrong = {i: (predicted.get(i, set()), cats) for i, cats in plain.items()
             if predicted.get(i, set()) != cats}
    assert not wrong, f"{len(wrong)} plain listings disagree: {sorted(wrong.items())[:10]}"
    # Evaded phrases too: nothing clean is flagged, nothing violating is missed.
    flagged = set(predicted)
    violating = {i for i, t in truth.items() if t["categories"]}
    assert flagged == violating, (sorted(flagged - violating)[:10],
                                  sorted(violating - flagged)[:10])
