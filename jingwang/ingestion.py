"""Where a crawl's listings are detected and stored.

Detection and the store's writes are pure Python CPU work. In a thread of the
crawling process they hold the GIL against the event loop that fetches and
parses: every network wake-up waits for the GIL, and the two halves of a run
take turns instead of overlapping. :class:`ProcessIngest` moves them into one
process of their own (one, so that writes keep their order and SQLite keeps a
single writer), fed in batches; the long-running daemon and workers use it.
:class:`ThreadIngest` keeps them in a thread: for one-shot commands, where
starting a process and loading the lexicon again would cost more than it saves,
and for tests that inject a clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import signal
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from detectors.suite import DetectorSuite
from jingwang import metrics
from jingwang.config import Settings
from jingwang.lifeline import exit_with_parent
from jingwang.records import CrawledListing
from store.service import IngestResult, Store

if TYPE_CHECKING:
    from multiprocessing.synchronize import Event

log = logging.getLogger("jingwang.ingest")


class IngestFailed(RuntimeError):
    """Storing a batch failed in the ingest process (its error, as text: database
    errors do not always survive pickling)."""


class Ingest(Protocol):
    async def __call__(self, run_id: int, items: list[CrawledListing]) -> list[IngestResult]:
        """Detect and store ``items`` (one transaction); one result per item, in order."""

    async def start(self) -> None:
        """Get ready before the first batch (nothing to do for a thread)."""

    def stopping(self) -> None:
        """The process is stopping: a write waiting out a database outage gives up."""

    def close(self) -> None:
        """Stop accepting work and release what this holds."""


@contextlib.asynccontextmanager
async def serving(ingest: Ingest, stop: asyncio.Event) -> AsyncIterator[None]:
    """``ingest`` for a long-running process's life: started in the background at once,
    told when ``stop`` is set, closed (queued batches stored first) when the block ends."""

    async def relay() -> None:
        await stop.wait()
        ingest.stopping()

    async def warm() -> None:
        try:
            await ingest.start()
        except Exception:  # the first batch tries again and fails the run loudly
            log.exception("could not start the ingest process")

    tasks = [asyncio.create_task(relay()), asyncio.create_task(warm())]
    try:
        yield
    finally:
        tasks[0].cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.to_thread(ingest.close)


def _record_metrics(results: Sequence[IngestResult]) -> None:
    for result in results:
        if result.changed:  # counted once stored, so a retried batch counts once
            metrics.DETECT_SECONDS.observe(result.detect_seconds)
            metrics.count_findings(result.categories)


class ThreadIngest:
    """Detection and writes in a worker thread of this process."""

    def __init__(self, store: Store, suite: DetectorSuite, channels: Sequence[str]) -> None:
        self.store = store
        self.suite = suite
        self.channels = list(channels)

    async def __call__(self, run_id: int, items: list[CrawledListing]) -> list[IngestResult]:
        results = await asyncio.to_thread(self.store.ingest_many, run_id, items,
                                          self.suite.detect, channels=self.channels)
        _record_metrics(results)
        return results

    async def start(self) -> None:
        pass

    def stopping(self) -> None:
        pass  # the store's own retry loop watches the process's stop event

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class IngestRecipe:
    """What the ingest process builds its store and detectors from (picklable)."""

    settings: Settings
    config_path: Path
    resilient: bool  # wait out database outages (long-running processes)


# The ingest process's own store and detectors, built once by _start.
_built: tuple[Store, DetectorSuite] | None = None


def _start(recipe: IngestRecipe, stopping: Event) -> None:
    """Build the store (with the alert router) and the detectors in the ingest process."""
    global _built
    # The parent owns Ctrl-C and SIGTERM: it stops its crawls, lets this process store
    # what they fetched, then shuts the pool down, which ends this process.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    exit_with_parent()  # ... and a SIGKILLed parent leaves no orphan behind
    from alerts.jobs import load_alerting
    from jingwang.resilient_store import ResilientStore
    from store.db import make_engine
    from store.evidence import EvidenceStore

    settings = recipe.settings
    router = load_alerting(settings, config_path=recipe.config_path).router
    # Crawled data can be crawled again: commits need not wait for the disk.
    engine = make_engine(settings.database_url, relaxed_commits=True)
    evidence = EvidenceStore(settings.evidence_dir)
    store: Store
    if recipe.resilient:
        resilient = ResilientStore(engine, evidence, router=router)
        resilient.watch(stopping.is_set)
        store = resilient
    else:
        store = Store(engine, evidence, router=router)
    _built = (store, DetectorSuite.from_paths(lexicon_dir=settings.lexicon_dir))


def _ready() -> bool:
    return _built is not None


def _ingest(run_id: int, items: list[CrawledListing],
            channels: list[str]) -> list[IngestResult]:
    assert _built is not None, "the ingest process was not started"
    store, suite = _built
    suite.reload_if_changed()  # an edited lexicon applies here too (a broken edit keeps the old)
    try:
        return store.ingest_many(run_id, items, suite.detect, channels=channels)
    except Exception as exc:
        raise IngestFailed(f"{type(exc).__name__}: {exc}") from None


class ProcessIngest:
    """Detection and writes in one child process (started on first use or by
    :meth:`start`, started again if it dies)."""

    def __init__(self, recipe: IngestRecipe, channels: Sequence[str]) -> None:
        self.recipe = recipe
        self.channels = list(channels)
        self._context = multiprocessing.get_context("spawn")
        self._stopping = self._context.Event()
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1, mp_context=self._context, initializer=_start,
                initargs=(self.recipe, self._stopping))
        return self._pool

    async def start(self) -> None:
        """Start the process and build its detectors now, not on the first batch."""
        await asyncio.get_running_loop().run_in_executor(self._executor(), _ready)

    async def __call__(self, run_id: int, items: list[CrawledListing]) -> list[IngestResult]:
        pool = self._executor()
        try:
            results = await asyncio.get_running_loop().run_in_executor(
                pool, _ingest, run_id, items, self.channels)
        except BrokenProcessPool as exc:
            self._pool = None  # the next batch starts a new process
            pool.shutdown(wait=False, cancel_futures=True)
            log.error("the ingest process died; %d listing(s) of run %d not stored",
                      len(items), run_id)
            raise IngestFailed(f"the ingest process died: {exc}") from None
        _record_metrics(results)
        return results

    def stopping(self) -> None:
        """The daemon is stopping: a write waiting out a database outage gives up."""
        self._stopping.set()

    def pid(self) -> int | None:
        """The ingest process's id (None before it started)."""
        processes = getattr(self._pool, "_processes", None) or {}
        return next(iter(processes), None)

    def close(self) -> None:
        self._stopping.set()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
