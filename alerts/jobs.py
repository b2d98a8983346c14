"""Alerting as the daemon runs it: the router from the config files, and the periodic
jobs (digests, reminders, takedown checks) it schedules beside the dispatcher."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from alerts.routing import Router, load_routing
from alerts.takedown import CheckStats, TakedownChecker
from alerts.units import Units, load_units
from crawler.fetch_http import HttpFetcher
from crawler.profiles import Profile
from jingwang.clock import utcnow
from jingwang.config import Settings
from jingwang.errors import ConfigError
from store.scheduled import DigestUnit, Scheduled, digest_all
from store.service import Store
from store.takedown import Takedowns

log = logging.getLogger("jingwang.alerts")

# How often the daemon looks for due digests, reminders and takedown checks; each
# pass is cheap when nothing is due, and idempotent when something is.
SCHEDULED_EVERY = 300.0
TAKEDOWN_EVERY = 600.0


@dataclass(frozen=True)
class Alerting:
    """The route tree and units in force (both None: every lead to every channel)."""

    router: Router | None = None
    units: Units | None = None


def load_alerting(settings: Settings, *, config_path: str | Path) -> Alerting:
    """Load ``alerts.units_file`` and ``alerts.routing_file``; their receivers must be
    channels of the config file. Errors name file, line and key."""
    cfg = settings.alerts
    if cfg.units_file is None and cfg.routing_file is None:
        return Alerting()
    if cfg.units_file is None or cfg.routing_file is None:
        missing = "units_file" if cfg.units_file is None else "routing_file"
        raise ConfigError(config_path, "alerts.units_file and alerts.routing_file are set "
                          "together", key=f"alerts.{missing}")
    units = load_units(cfg.units_file, channels={c.name for c in settings.channels})
    return Alerting(router=load_routing(cfg.routing_file, units), units=units)



class AlertJobs:
    """The periodic work of alerting, each pass safe to run again."""

    def __init__(self, settings: Settings, store: Store, alerting: Alerting, *,
                 profiles: Mapping[str, Profile], base_urls: Mapping[str, str] | None = None,
                 fetcher_factory: Callable[[Profile], HttpFetcher] | None = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.settings = settings
        self.alerting = alerting
        self.clock = clock
        self.scheduled = Scheduled(store.engine, clock=clock, router=alerting.router)
        self.takedowns = Takedowns(store.engine, clock=clock, router=alerting.router)
        takedown = settings.alerts.takedown
        self.checker = TakedownChecker(
            store, self.takedowns, profiles,
            check_interval=timedelta(seconds=takedown.check_interval),
            escalate_after=timedelta(seconds=takedown.escalate_after), base_urls=base_urls,
            fetcher_factory=fetcher_factory, clock=clock)

    def digest_units(self) -> list[tuple[DigestUnit, list[str]]]:
        units = self.alerting.units
        if units is None:
            return []
        return [(DigestUnit(u.id, u.name, tuple(u.receivers)), list(u.digests))
                for u in units.units if u.digests and u.receivers]

    async def scheduled_pass(self) -> tuple[int, int]:
        """Due digests and reminders; returns (digest rows, leads reminded)."""
        cfg = self.settings.alerts
        digests = await asyncio.to_thread(digest_all, self.scheduled, self.digest_units(),
                                          zone=cfg.timezone, daily_at=cfg.daily_digest_at)
        reminded = await asyncio.to_thread(self.scheduled.remind)
        return digests, reminded

    async def takedown_pass(self) -> CheckStats:
        return await self.checker.run_once()

    async def run_scheduled(self) -> None:
        try:
            digests, reminded = await self.scheduled_pass()
            if digests or reminded:
                log.info("alerts: %d digest message(s), %d reminder(s)", digests, reminded)
        except Exception:
            log.exception("digest/reminder pass failed; will try again")

    async def run_takedown(self) -> None:
        try:
            stats = await self.takedown_pass()
            if stats.checked or stats.escalated:
                log.info("takedown follow-up: %s", stats)
        except Exception:
            log.exception("takedown pass failed; will try again")
