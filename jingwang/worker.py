"""``jingwang worker``: runs queued crawl jobs; start any number, on any number of machines.

Each job crawls one source once through the same pipeline as ``jingwang run``.
The worker sends a heartbeat; when it dies, the scheduler queues its job again (see
:mod:`jingwang.jobs`). SIGTERM lets the running crawls finish their current page,
then queues each interrupted source again so another worker finishes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from datetime import UTC, datetime
from typing import Any

import uvicorn

from jingwang import jobs
from jingwang.daemon import Components, _QuietServer, run_measured
from jingwang.health import Health, ops_app
from jingwang.ingestion import serving
from jingwang.metrics import Exporter

log = logging.getLogger("jingwang.worker")

RESTART_DELAY = 5.0
POLL_INTERVAL = 2.0  # seconds between queue polls besides LISTEN/NOTIFY wake-ups


class CrawlWorker:
    def __init__(self, components: Components, *, concurrency: int = 1,
                 ops_port: int | None = None) -> None:
        if components.crawl_store is None:
            raise ValueError("a worker needs a resilient crawl store (build(resilient=True))")
        self.c = components
        self.crawl_store = components.crawl_store
        self.concurrency = concurrency
        self.ops_port = ops_port
        self.name = f"{socket.gethostname()}-{os.getpid()}"
        self.stop = asyncio.Event()
        self.running: set[str] = set()
        self.last_runs: dict[str, dict[str, Any]] = {}
        self.health = Health(role="worker", engine=components.store.engine,
                             sources=components.settings.sources, has_worker=True)
        self.health.running = lambda: len(self.running)
        self.health.last_runs = self.last_runs
        self.crawl_store.watch(self.stop.is_set)
        self.app = jobs.make_app(components.settings.database_url, crawl=self.crawl,
                                 pool_size=concurrency + 3)
        self._worker_task: asyncio.Task[None] | None = None

    async def crawl(self, name: str) -> None:
        """The crawl job: one run of the source named ``name``."""
        source = next((s for s in self.c.settings.sources if s.name == name), None)
        if source is None or not source.enabled:
            log.warning("job for source %s, which this worker's configuration does not "
                        "have (or has disabled); skipped", name)
            return
        self.running.add(name)
        try:
            # This job holds the source's queue lock: a run still marked running belongs
            # to a worker that died.
            await asyncio.to_thread(self.crawl_store.close_orphaned_runs, name)
            log.info("worker %s: crawling source %s", self.name, name)
            summary = await run_measured(self.c.pipeline, source, stop=self.stop)
            self.last_runs[name] = {
                "status": summary.status, "finished_at": datetime.now(UTC).isoformat(),
                "listings": summary.listings, "findings": summary.findings}
        finally:
            self.running.discard(name)
        if summary.status == "interrupted" and self.stop.is_set():
            with contextlib.suppress(Exception):  # the next scheduled run crawls it anyway
                await jobs.defer_crawl(self.app, name)

    async def serve(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._request_stop, sig)
        server: uvicorn.Server | None = None
        server_task: asyncio.Task[None] | None = None
        if self.ops_port is not None:
            server = _QuietServer(uvicorn.Config(
                ops_app(self.health, Exporter()), host=self.c.settings.web.host,
                port=self.ops_port, log_level="warning", lifespan="off"))
            server_task = asyncio.create_task(server.serve())
        queue = self.c.settings.queue
        try:
            async with self.app.open_async(), serving(self.c.pipeline.ingest, self.stop):
                while not self.stop.is_set():
                    self.health.worker_state = "running"
                    log.info("worker %s: waiting for crawl jobs (concurrency %d)", self.name,
                             self.concurrency)
                    self._worker_task = asyncio.create_task(self.app.run_worker_async(
                        queues=[jobs.QUEUE], concurrency=self.concurrency, name=self.name,
                        install_signal_handlers=False, listen_notify=True,
                        fetch_job_polling_interval=POLL_INTERVAL,
                        update_heartbeat_interval=queue.heartbeat,
                        stalled_worker_timeout=queue.stalled_after))
                    try:
                        await self._worker_task
                    except asyncio.CancelledError:
                        if not self.stop.is_set():
                            raise
                    except Exception as exc:  # e.g. the database went away
                        log.warning("worker %s: queue loop failed: %s", self.name, exc)
                    if self.stop.is_set():
                        break
                    # procrastinate stops a worker whose heartbeat or listener failed
                    # (database away); start again once it may be back.
                    self.health.worker_state = "restarting"
                    log.warning("worker %s: queue loop ended; restarting in %.0fs", self.name,
                                RESTART_DELAY)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.stop.wait(), RESTART_DELAY)
        finally:
            self.health.worker_state = "stopped"
            if server is not None and server_task is not None:
                server.should_exit = True
                await asyncio.gather(server_task, return_exceptions=True)
        log.info("worker %s stopped cleanly", self.name)

    def _request_stop(self, sig: int) -> None:
        if self.stop.is_set():
            return
        log.info("worker %s: received %s; running crawls finish their current page",
                 self.name, signal.Signals(sig).name)
        self.stop.set()
        if self._worker_task is not None and not self._worker_task.done():
            # procrastinate's graceful stop: take no new job, wait for the running ones.
            self._worker_task.cancel()
