"""``jingwang run``: schedules every source, dispatches alerts and serves the web UI.

Roles: ``all`` (the default, one machine) crawls in this process; ``scheduler``
(many machines) enqueues each due source for ``jingwang worker`` processes instead
and puts the jobs of dead workers back in the queue; ``web`` only serves the web UI.
Schedules live in the database (:mod:`jingwang.scheduling`), so they survive restarts.

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
from apscheduler.triggers.interval import IntervalTrigger
from procrastinate import App

from alerts.channels import build_channels
from alerts.dispatcher import Dispatcher
from alerts.jobs import SCHEDULED_EVERY, TAKEDOWN_EVERY, Alerting, AlertJobs, load_alerting
from crawler.fetch_browser import chromium_available
from crawler.profiles import Profile, load_profiles
from detectors.ocr import default_reader
from detectors.suite import DetectorSuite
from jingwang import jobs
from jingwang.config import Settings, SourceConfig
from jingwang.errors import ConfigError
from jingwang.health import HEARTBEAT_EVERY, Health, add_ops_routes, ops_app
from jingwang.ingestion import IngestRecipe, ProcessIngest, serving
from jingwang.logs import bind_run
from jingwang.metrics import Exporter, ProgressMeter
from jingwang.pipeline import Pipeline, RunSummary
from jingwang.resilient_store import ResilientStore
from jingwang.scheduling import (
    Leadership,
    Scheduler,
    make_scheduler,
    set_target,
    sync_source_jobs,
)
from store.db import make_engine
from store.evidence import EvidenceStore
from store.image_texts import StoredImageTexts
from store.service import Store

log = logging.getLogger("jingwang.daemon")

ROLES = ("all", "scheduler", "web")
RECOVER_EVERY = 10.0  # at most this long between looks for jobs of dead workers
LEADERSHIP_EVERY = 5.0  # seconds between checks of the scheduling lock (PostgreSQL)


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
    """Everything built from the settings, shared by ``run``, ``worker`` and ``crawl``.

    ``crawl_store`` is the store the pipeline writes through; with ``resilient`` it
    waits out database outages (long-running processes), else it is ``store``.
    """

    settings: Settings
    store: Store
    suite: DetectorSuite
    profiles: dict[str, Profile]
    pipeline: Pipeline
    base_urls: dict[str, str] = field(default_factory=dict)
    alerting: Alerting = field(default_factory=Alerting)
    crawl_store: ResilientStore | None = None


def build(settings: Settings, *, config_path: Path,
          base_urls: dict[str, str] | None = None, resilient: bool = False,
          ingest_process: bool = False) -> Components:
    """Load profiles and lexicon (bad files stop start-up with file:line) and wire stages.

    ``ingest_process`` detects and stores crawled listings in a process of their own
    (long-running processes; see :mod:`jingwang.ingestion`), else in a thread.
    """
    profiles = load_profiles(settings.platforms_dir)
    check_sources(settings, profiles, config_path)
    suite = DetectorSuite.from_paths(lexicon_dir=settings.lexicon_dir)
    alerting = load_alerting(settings, config_path=config_path)
    engine = make_engine(settings.database_url)
    evidence = EvidenceStore(settings.evidence_dir)
    store = Store(engine, evidence, router=alerting.router)
    crawl_store = (ResilientStore(engine, evidence, router=alerting.router) if resilient
                   else None)
    # Listing pictures are read by OCR (off when it is not installed); texts cached by hash.
    previous = StoredImageTexts(engine)
    images = default_reader(settings.evidence_dir, previous=crawl_store.wrap(
        "image texts lookup", previous) if crawl_store is not None else previous)
    channels = [c.name for c in settings.channels]
    ingest = ProcessIngest(IngestRecipe(settings, Path(config_path), resilient=resilient),
                           channels) if ingest_process else None
    pipeline = Pipeline(store=crawl_store or store, suite=suite, profiles=profiles,
                        channels=channels, base_urls=base_urls, images=images,
                        screenshots=chromium_available(), ingest=ingest)
    return Components(settings, store, suite, profiles, pipeline, dict(base_urls or {}),
                      alerting, crawl_store)


async def run_measured(pipeline: Pipeline, source: SourceConfig, *,
                       stop: asyncio.Event | None) -> RunSummary:
    """One run of ``source`` with metrics, its log lines tagged with source and run id."""
    with bind_run(source.name):
        meter = ProgressMeter(source.name)
        summary = await pipeline.run_source(source, stop=stop, on_progress=meter)
        meter.finish(summary)
        return summary


class Daemon:
    def __init__(self, components: Components, *, role: str = "all", serve_web: bool = True,
                 sandbox_app: Any | None = None, ops_port: int | None = None) -> None:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r} (one of {', '.join(ROLES)})")
        if role == "scheduler" and not jobs.is_postgresql(components.settings.database_url):
            raise ValueError("--role scheduler needs PostgreSQL (the crawl queue lives there)")
        self.c = components
        self.role = role
        self.serve_web = serve_web or role == "web"
        self.sandbox_app = sandbox_app
        self.ops_port = ops_port
        self.stop = asyncio.Event()
        self.running: set[asyncio.Task[RunSummary]] = set()
        self.last_runs: dict[str, dict[str, Any]] = {}
        self.queue: App | None = None
        self.health = Health(role=role, engine=components.store.engine,
                             sources=components.settings.sources,
                             has_scheduler=role in ("all", "scheduler"))
        self.health.running = lambda: len(self.running)
        self.health.last_runs = self.last_runs
        # Database gauges come from the processes serving the web UI only, so that
        # Prometheus does not get them from every process.
        self.exporter = Exporter(components.store.engine if self.serve_web else None)
        if components.crawl_store is not None:
            components.crawl_store.watch(self.stop.is_set)

    def health_info(self) -> dict[str, Any]:
        return self.health.live()

    def _source(self, name: str) -> SourceConfig | None:
        return next((s for s in self.c.settings.sources if s.name == name), None)

    async def fire(self, name: str) -> None:
        """A source fell due: crawl it here, or queue it for a worker."""
        source = self._source(name)
        if source is None or not source.enabled or self.stop.is_set():
            return
        if self.queue is not None:
            await jobs.defer_crawl(self.queue, name)
        else:
            await self._run_source(source)

    async def _run_source(self, source: SourceConfig) -> None:
        task = asyncio.create_task(run_measured(self.c.pipeline, source, stop=self.stop))
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

    def _schedule_extras(self, scheduler: Scheduler) -> None:
        """Digests, reminders, takedown re-checks, the heartbeat that /readyz watches, and
        (scheduler role) the recovery of dead workers' jobs; all in memory, each pass
        idempotent, so they need no persistence."""
        now = datetime.now(UTC)
        scheduler.add_job(self.health.beat, IntervalTrigger(seconds=HEARTBEAT_EVERY),
                          id="ops:heartbeat", next_run_time=now, replace_existing=True)
        jobs_ = AlertJobs(self.c.settings, self.c.store, self.c.alerting,
                          profiles=self.c.profiles, base_urls=self.c.base_urls)
        scheduler.add_job(jobs_.run_scheduled, IntervalTrigger(seconds=SCHEDULED_EVERY),
                          id="alerts:scheduled", max_instances=1, coalesce=True,
                          next_run_time=now + timedelta(seconds=5), replace_existing=True)
        scheduler.add_job(jobs_.run_takedown, IntervalTrigger(seconds=TAKEDOWN_EVERY),
                          id="alerts:takedown", max_instances=1, coalesce=True,
                          next_run_time=now + timedelta(seconds=10), replace_existing=True)
        if self.queue is not None:
            every = min(RECOVER_EVERY, max(1.0, self.c.settings.queue.stalled_after / 3))
            scheduler.add_job(self._recover, IntervalTrigger(seconds=every),
                              id="queue:recover", max_instances=1, coalesce=True,
                              next_run_time=now + timedelta(seconds=1), replace_existing=True)
            scheduler.add_job(self._prune, IntervalTrigger(hours=1), id="queue:prune",
                              max_instances=1, coalesce=True,
                              next_run_time=now + timedelta(minutes=1), replace_existing=True)

    async def _prune(self) -> None:
        """Delete queue jobs finished longer ago than ``queue.keep_finished``."""
        assert self.queue is not None
        hours = max(1, round(self.c.settings.queue.keep_finished / 3600))
        try:
            await self.queue.job_manager.delete_old_jobs(
                nb_hours=hours, include_failed=True, include_cancelled=True,
                include_aborted=True)
        except Exception as exc:
            log.warning("pruning finished queue jobs failed: %s", exc)

    async def _recover(self) -> None:
        assert self.queue is not None
        try:
            await jobs.recover_stalled(self.queue,
                                       stalled_after=self.c.settings.queue.stalled_after)
        except Exception as exc:  # the database may be away; the next pass tries again
            log.warning("looking for jobs of dead workers failed: %s", exc)

    async def _start_servers(self) -> tuple[list[uvicorn.Server], list[asyncio.Task[None]]]:
        settings = self.c.settings
        apps: list[tuple[Any, int]] = []
        if self.sandbox_app is not None:
            apps.append((self.sandbox_app, settings.sandbox.port))
        host = settings.web.host
        if self.serve_web:
            from review.app import create_app

            web = create_app(store=self.c.store, health=self.health_info)
            add_ops_routes(web, self.health, self.exporter)
            apps.append((web, settings.web.port))
        elif self.ops_port is not None:
            apps.append((ops_app(self.health, self.exporter), self.ops_port))
        servers: list[uvicorn.Server] = []
        for app, port in apps:
            bind = settings.sandbox.host if app is self.sandbox_app else host
            servers.append(_QuietServer(uvicorn.Config(app, host=bind, port=port,
                                                       log_level="warning", lifespan="off")))
        tasks = [asyncio.create_task(s.serve()) for s in servers]
        for server in servers:
            while not server.started and not any(t.done() for t in tasks):
                await asyncio.sleep(0.05)
        for task in tasks:
            if task.done() and task.exception():
                raise RuntimeError(f"web server failed to start: {task.exception()}")
        return servers, tasks

    async def serve(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._request_stop, sig)
        servers, server_tasks = await self._start_servers()
        settings = self.c.settings
        try:
            if self.role == "web":
                log.info("jingwang web on http://%s:%d", settings.web.host, settings.web.port)
                await self.stop.wait()
            else:
                # One Chromium for the daemon's whole life (launched on first use).
                async with self.c.pipeline.shared_browser(), \
                        serving(self.c.pipeline.ingest, self.stop):
                    await self._schedule_and_wait()
        finally:
            for server in servers:
                server.should_exit = True
            await asyncio.gather(*server_tasks, return_exceptions=True)
        log.info("stopped cleanly")

    async def _schedule_and_wait(self) -> None:
        settings = self.c.settings
        channels = build_channels(settings.channels, base_url=settings.web.base_url or
                                  f"http://{settings.web.host}:{settings.web.port}")
        alerts = settings.alerts
        dispatcher = Dispatcher(self.c.store, channels, max_attempts=alerts.max_attempts,
                                base_delay=alerts.retry_base, max_delay=alerts.retry_max)
        dispatch_task = asyncio.create_task(dispatcher.run_forever(self.stop))
        queue_context: contextlib.AbstractAsyncContextManager[Any] = contextlib.nullcontext()
        if self.role == "scheduler":
            self.queue = jobs.make_app(settings.database_url)
            queue_context = self.queue.open_async()
        leader = Leadership(settings.database_url) if jobs.is_postgresql(
            settings.database_url) else None
        scheduler, job_engine = make_scheduler(settings.database_url)
        async with queue_context:
            set_target(self.fire)
            try:
                scheduler.start(paused=True)
                await self._lead(scheduler, leader)

                self.health.scheduler_state = "stopping"
                log.info("stopping: letting %d running crawl(s) finish their current page",
                         len(self.running))
                scheduler.pause()
                if self.running:
                    await asyncio.gather(*self.running, return_exceptions=True)
            finally:
                set_target(None)
                if scheduler.running:
                    scheduler.shutdown(wait=False)
                self.stop.set()  # also when start-up failed: the dispatcher must end
                await dispatch_task
                job_engine.dispose()
                if leader is not None:
                    leader.close()

    async def _lead(self, scheduler: Scheduler, leader: Leadership | None) -> None:
        """Schedule while this process holds the scheduling lock (PostgreSQL; with SQLite
        it is the only process), stand by while another does; return on stop."""
        settings = self.c.settings
        prepared = False
        while not self.stop.is_set():
            held: bool | None = True
            if leader is not None:
                try:
                    held = await asyncio.to_thread(leader.hold)
                except Exception as exc:  # database away: nobody can tell; keep going
                    held = None
                    log.warning("scheduling lock: database unavailable (%s)",
                                str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            state = self.health.scheduler_state
            if held and state != "running":
                try:
                    if not prepared:
                        if self.role == "all" and self.c.crawl_store is not None:
                            # The only crawler: a run still marked running was cut off.
                            await asyncio.to_thread(self.c.crawl_store.close_orphaned_runs)
                        sync_source_jobs(scheduler, settings.sources, settings.scheduler)
                        self._schedule_extras(scheduler)
                        prepared = True
                except Exception:
                    log.exception("could not prepare the schedules; trying again")
                else:
                    scheduler.resume()
                    self.health.scheduler_state = "running"
                    log.info("jingwang %s running: %d sources%s%s", self.role,
                             len(settings.sources),
                             f", web on http://{settings.web.host}:{settings.web.port}"
                             if self.serve_web else "",
                             " (took over scheduling)" if state == "standby" else "")
            elif held is False and state != "standby":
                if state == "running":
                    scheduler.pause()
                    log.warning("another process took the scheduling lock; standing by")
                else:
                    log.info("another scheduler holds the scheduling lock; standing by")
                self.health.scheduler_state = "standby"
            if leader is None:
                await self.stop.wait()
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), LEADERSHIP_EVERY)

    def _request_stop(self, sig: int) -> None:
        if self.stop.is_set():
            return
        log.info("received %s", signal.Signals(sig).name)
        self.stop.set()
