"""What a crawl reports, one event at a time: listings, failures, removals, blocks, pages."""

from __future__ import annotations

from dataclasses import dataclass

from jingwang.records import Capture, CrawledListing


@dataclass(frozen=True, slots=True)
class FetchFailed:
    """A page could not be fetched (network, timeout, blocked address, HTTP error ...)."""

    url: str
    kind: str  # a FetchError kind: "network", "timeout", "status", "blocked", ...
    message: str


@dataclass(frozen=True, slots=True)
class ParseFailure:
    """A page was fetched but its selectors found nothing usable: never an empty result."""

    url: str
    missing: tuple[str, ...]  # profile keys that found nothing, e.g. ("title",)
    message: str = ""
    capture: Capture | None = None  # the page as fetched, to debug the profile

    def describe(self) -> str:
        """One line for logs and the crawl-run record."""
        return self.message or f"selectors found nothing: {', '.join(self.missing)}"


@dataclass(frozen=True, slots=True)
class Removed:
    """A listing page says the listing is gone (removed marker, or HTTP 404/410)."""

    url: str


@dataclass(frozen=True, slots=True)
class Blocked:
    """The platform answered with a captcha, slider, login wall or anti-bot page.

    Never a listing and never a removal; the crawl of the source stops here.
    """

    url: str
    reason: str  # zh-CN, shown to operators
    capture: Capture | None = None


@dataclass(frozen=True, slots=True)
class PageDone:
    """One search results page and all its detail pages are finished."""

    keyword: str
    page: int
    listings: int  # CrawledListing events this page produced


CrawlEvent = CrawledListing | ParseFailure | FetchFailed | Removed | Blocked | PageDone
