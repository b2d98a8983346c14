"""``jingwang run``: schedules every source, dispatches alerts and serves the web UI.

SIGINT/SIGTERM stop it cleanly: the crawl in progress finishes its current page
(each listing is stored in its own transaction), then everything shuts down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import uvicorn
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from alerts.channels import build_channels
from alerts.dispatcher import Dispatcher
from alerts.jobs import SCHEDULED_EVERY, TAKEDOWN_EVERY, Alerting, AlertJobs, load_alerting
from crawler.profiles import Profile, load_profiles
from detectors.suite import DetectorSuite
from jingwang.config import Settings, SourceConfig
from jingwang.errors import ConfigError
from jingwang.pipeline import Pipeline, RunSummary
from store.db import make_engine
from store.evidence import EvidenceStore
from store.service import Store

log = logging.getLogger("jingwang.daemon")


class _QuietServer(uvicorn.Server):
    """uvicorn without its own signal handling: the daemon owns SIGINT/SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def check_sources(settings: Settings, profiles: dict[str, Profile], config_path: Path) -> None:
    """Every source must name a known platform profile; say which one does not."""
    for i, source in enumerate(settings.sources):
        if source.platform not in profiles:
            known = ", ".join(sorted(profiles)) or "none"
            raise ConfigError(config_path, f"unknown platform {source.platform!r} "
                              f"(profiles in {settings.platforms_dir}: {known})",
                              key=f"sources.{i}.platform")


@dataclass
class Components:
    """Everything built from the settings, shared by ``run`` and ``crawl``."""

    settings: Settings
    store: Store
    suite: DetectorSuite
    profiles: dict[str, Profile]
    pipeline: Pipeline
    base_urls: dict[str, str] = field(default_factory=dict)
    alerting: Alerting = field(default_factory=Alerting)


def build(settings: Settings, *, config_path: Path,
          base_urls: dict[str, str] | None = None) -> Components:
    """Load profiles and lexicon (bad files stop start-up with file:line) and wire stages."""
    profiles = load_profiles(settings.platforms_dir)
    check_sources(settings, profiles, config_path)
    suite = DetectorSuite.from_paths(lexicon_dir=settings.lexicon_dir)
    alerting = load_alerting(settings, config_path=config_path)
    engine = make_engine(settings.database_url)
    store = Store(engine, EvidenceStore(settings.evidence_dir), router=alerting.router)
    pipeline = Pipeline(store=store, suite=suite, profiles=profiles,
                        channels=[c.name for c in settings.channels], base_urls=base_urls)
    return Components(settings, store, suite, profiles, pipeline, dict(base_urls or {}),
                      alerting)


class Daemon:
    def __init__(self, components: Components, *, serve_web: bool = True,
                 sandbox_app: Any | None = None) -> None:
        self.c = components
        self.serve_web = serve_web
        self.sandbox_app = sandbox_app
        self.stop = asyncio.Event()
        self.running: set[asyncio.Task[RunSummary]] = set()
        self.last_runs: dict[str, dict[str, Any]] = {}

    def health(self) -> dict[str, Any]:
        return {"sources": self.last_runs, "running": len(self.running)}

    async def _run_source(self, source: SourceConfig) -> None:
        if self.stop.is_set():
            return
        task = asyncio.create_task(self.c.pipeline.run_source(source, stop=self.stop))
        self.running.add(task)
        try:
            # Shielded: stopping the scheduler cancels its job coroutines, but a crawl
            # must finish its current page and record its run.
            summary = await asyncio.shield(task)
            self.last_runs[source.name] = {
                "status": summary.status, "finished_at": datetime.now(UTC).isoformat(),
                "listings": summary.listings, "findings": summary.findings}
        finally:
            self.running.discard(task)

    def _schedule(self, scheduler: AsyncIOScheduler) -> None:
        now = datetime.now(UTC)
        for i, source in enumerate(self.c.settings.sources):
            if not source.enabled:
                continue
            scheduler.add_job(
                self._run_source, IntervalTrigger(seconds=source.interval, jitter=5),
                args=[source], id=f"source:{source.name}", name=source.name,
                max_instances=1, coalesce=True, misfire_grace_time=int(source.interval),
                next_run_time=now + timedelta(seconds=0.5 + i), replace_existing=True)

    def _schedule_alerts(self, scheduler: AsyncIOScheduler) -> None:
        """Digests, reminders and takedown re-checks (each pass is idempotent)."""
        jobs = AlertJobs(self.c.settings, self.c.store, self.c.alerting,
                         profiles=self.c.profiles, base_urls=self.c.base_urls)
        now = datetime.now(UTC)
        scheduler.add_job(jobs.run_scheduled, IntervalTrigger(seconds=SCHEDULED_EVERY),
                          id="alerts:scheduled", max_instances=1, coalesce=True,
                          next_run_time=now + timedelta(seconds=5), replace_existing=True)
        scheduler.add_job(jobs.run_takedown, IntervalTrigger(seconds=TAKEDOWN_EVERY),
                          id="alerts:takedown", max_instances=1, coalesce=True,
                          next_run_time=now + timedelta(seconds=10), replace_existing=True)

    async def serve(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._request_stop, sig)

        servers: list[uvicorn.Server] = []
        settings = self.c.settings
        if self.sandbox_app is not None:
            servers.append(_QuietServer(uvicorn.Config(
                self.sandbox_app, host=settings.sandbox.host, port=settings.sandbox.port,
                log_level="warning", lifespan="off")))
        if self.serve_web:
            from review.app import create_app

            web = create_app(store=self.c.store, health=self.health)
            servers.append(_QuietServer(uvicorn.Config(
                web, host=settings.web.host, port=settings.web.port, log_level="warning",
                lifespan="off")))
        server_tasks = [asyncio.create_task(s.serve()) for s in servers]
        for server in servers:
            while not server.started and not any(t.done() for t in server_tasks):
                await asyncio.sleep(0.05)
        for task in server_tasks:
            if task.done() and task.exception():
                raise RuntimeError(f"web server failed to start: {task.exception()}")

        channels = build_channels(settings.channels, base_url=settings.web.base_url or
                                  f"http://{settings.web.host}:{settings.web.port}")
        alerts = settings.alerts
        dispatcher = Dispatcher(self.c.store, channels, max_attempts=alerts.max_attempts,
                                base_delay=alerts.retry_base, max_delay=alerts.retry_max)
        dispatch_task = asyncio.create_task(dispatcher.run_forever(self.stop))

        scheduler = AsyncIOScheduler(timezone=UTC)
        self._schedule(scheduler)
        self._schedule_alerts(scheduler)
        scheduler.start()
        log.info("jingwang running: %d sources, web on http://%s:%d",
                 len(settings.sources), settings.web.host, settings.web.port)
        await self.stop.wait()

        log.info("stopping: letting %d running crawl(s) finish their current page",
                 len(self.running))
        scheduler.pause()
        if self.running:
            await asyncio.gather(*self.running, return_exceptions=True)
        scheduler.shutdown(wait=False)
        await dispatch_task
        for server in servers:
            server.should_exit = True
        await asyncio.gather(*server_tasks, return_exceptions=True)
        log.info("stopped cleanly")

    def _request_stop(self, sig: int) -> None:
        if self.stop.is_set():
            return
        log.info("received %s", signal.Signals(sig).name)
        self.stop.set()
