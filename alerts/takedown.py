"""Re-checks listings referred to their platform for cleanup: fetch each listing page
with the crawler, record a removal with its time, and escalate what stays online.

A page that blocks the crawler, or a fetch that fails, is recorded as such and never
counts as a removal; only the platform's own "gone" page or a 404/410 without a block
does (``crawler.parse.parse_detail``).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from crawler.events import Blocked, Removed
from crawler.fetch_http import FetchError, HttpFetcher
from crawler.parse import parse_detail
from crawler.profiles import Profile
from jingwang.clock import utcnow
from store.service import Store
from store.takedown import Takedowns, TakedownTarget

log = logging.getLogger("jingwang.alerts")



@dataclass
class CheckStats:
    added: int = 0
    checked: int = 0
    removed: int = 0
    online: int = 0
    failed: int = 0
    escalated: int = 0


class TakedownChecker:
    """One pass: follow new platform referrals, check due listings, escalate overdue ones."""

    def __init__(self, store: Store, takedowns: Takedowns, profiles: Mapping[str, Profile], *,
                 check_interval: timedelta, escalate_after: timedelta,
                 base_urls: Mapping[str, str] | None = None,
                 fetcher_factory: Callable[[Profile], HttpFetcher] | None = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.takedowns = takedowns
        self.profiles = profiles
        self.check_interval = check_interval
        self.escalate_after = escalate_after
        self.base_urls = dict(base_urls or {})
        self.fetcher_factory = fetcher_factory or (lambda profile: HttpFetcher(profile))
        self.clock = clock

    def _profile(self, platform: str) -> Profile | None:
        profile = self.profiles.get(platform)
        base = self.base_urls.get(platform)
        return profile.with_base_url(base) if profile is not None and base else profile

    async def run_once(self, *, limit: int = 200) -> CheckStats:
        stats = CheckStats()
        stats.added = await asyncio.to_thread(self.takedowns.sync)
        due = await asyncio.to_thread(self.takedowns.due, limit=limit)
        by_platform: dict[str, list[TakedownTarget]] = defaultdict(list)
        for target in due:
            by_platform[target.platform].append(target)
        for platform, targets in by_platform.items():
            await self._check_platform(platform, targets, stats)
        stats.escalated = await asyncio.to_thread(self.takedowns.escalate,
                                                  escalate_after=self.escalate_after)
        return stats

    async def _check_platform(self, platform: str, targets: list[TakedownTarget],
                              stats: CheckStats) -> None:
        profile = self._profile(platform)
        if profile is None:
            log.warning("takedown check: no profile for platform %r; %d listing(s) wait",
                        platform, len(targets))
            for target in targets:
                await asyncio.to_thread(self._record, target, "error")
                stats.failed += 1
            return
        async with self.fetcher_factory(profile) as fetcher:
            for target in targets:
                result = await self._check(fetcher, profile, target)
                stats.checked += 1
                if result == "removed":
                    stats.removed += 1
                elif result == "online":
                    stats.online += 1
                else:
                    stats.failed += 1
                await asyncio.to_thread(self._record, target, result)

    async def _check(self, fetcher: HttpFetcher, profile: Profile,
                     target: TakedownTarget) -> str:
        if not target.url:
            return "error"
        try:
            capture = await fetcher.fetch(target.url)
        except FetchError as exc:
            log.info("takedown check of %s failed: %s", target.url, exc)
            return "error"
        page = parse_detail(profile, capture, platform=target.platform)
        if isinstance(page, Removed):
            await asyncio.to_thread(self.store.mark_removed, platform=target.platform,
                                    listing_id=target.platform_listing_id, at=self.clock())
            return "removed"
        if isinstance(page, Blocked):
            return "blocked"
        # A parse failure is still a live page: the listing has not been taken down.
        return "online"

    def _record(self, target: TakedownTarget, result: str) -> None:
        now = self.clock()
        self.takedowns.record(target, result=result, at=now,
                              next_check_at=now + self.check_interval)
