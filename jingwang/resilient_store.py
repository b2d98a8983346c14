"""The store a long-running crawl writes through: it waits out a database outage.

When the database goes away mid-crawl, a plain store call raises and the listings
the crawl had fetched but not stored yet would be lost. Here every call the crawl
makes is retried with back-off while the error is a transient one (connection
refused or lost, server shutting down, lock timeout) until it succeeds or the
daemon is stopping. Retrying is safe because each call is one transaction and
ingest is idempotent (per listing content hash; outbox rows by idempotency key):
a retry after a commit whose acknowledgement was lost finds the row and changes
nothing. Meanwhile the crawl's bounded queue fills and holds the crawl back.

It also tags log lines with the crawl run id once a run has one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from jingwang import metrics
from jingwang.config import SourceConfig
from jingwang.logs import current_run
from jingwang.records import Capture, CrawledListing, Finding, Listing
from store.enums import RunStatus
from store.models import CrawlRun, Source
from store.service import IngestResult, Store

log = logging.getLogger("jingwang.store")

T = TypeVar("T")
A = TypeVar("A")

FIRST_DELAY = 0.5
MAX_DELAY = 10.0
# PostgreSQL error classes worth retrying: connection exceptions, operator intervention
# (server shutting down), insufficient resources, and transaction rollbacks (deadlock,
# serialization failure).
_RETRY_SQLSTATES = ("08", "57", "53", "40")
_SQLITE_TRANSIENT = ("locked", "busy", "disk i/o", "unable to open")
ORPHAN_ERROR = "进程中断：该次抓取未正常结束（进程被终止或崩溃）"


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` says the database is (for now) unreachable or busy, not that the
    statement or the schema is wrong."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    if not isinstance(exc, (OperationalError, InterfaceError)):
        return False
    orig = exc.orig
    if type(orig).__module__.startswith("sqlite3"):
        message = str(orig).lower()
        return any(word in message for word in _SQLITE_TRANSIENT)
    sqlstate = getattr(orig, "sqlstate", None)
    return sqlstate is None or str(sqlstate).startswith(_RETRY_SQLSTATES)


def first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class ResilientStore(Store):
    """A :class:`Store` whose crawl-side calls wait for the database to come back.

    ``stopping`` tells the retry loop to give up (the daemon is shutting down); until
    :meth:`watch` hands it an event, it never stops retrying.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stopping: Callable[[], bool] = lambda: False
        self.outage_started: float | None = None  # monotonic time of the current outage
        self._outage_lock = threading.Lock()

    def watch(self, stopping: Callable[[], bool]) -> None:
        self._stopping = stopping

    def _retrying(self, what: str, call: Callable[[], T]) -> T:
        delay = FIRST_DELAY
        while True:
            try:
                result = call()
            except DBAPIError as exc:
                if not is_transient(exc) or self._stopping():
                    raise
                run = current_run()
                metrics.ERRORS.labels(source=run.source if run else "", kind="database").inc()
                with self._outage_lock:
                    self.outage_started = self.outage_started or time.monotonic()
                log.warning("database unavailable during %s (%s); retrying in %.1fs",
                            what, first_line(exc), delay)
                deadline = time.monotonic() + delay
                while time.monotonic() < deadline and not self._stopping():
                    time.sleep(0.1)
                delay = min(delay * 2, MAX_DELAY)
                continue
            with self._outage_lock:
                if self.outage_started is not None:
                    log.info("database reachable again after %.1fs; %s stored",
                             time.monotonic() - self.outage_started, what)
                    self.outage_started = None
            return result

    def wrap(self, what: str, call: Callable[[A], T]) -> Callable[[A], T]:
        """``call`` (a one-argument database read the crawl makes outside the store, e.g.
        the previous image texts OCR reuses) retried like the store's own calls."""
        return lambda arg: self._retrying(what, lambda: call(arg))

    # -- what a crawl run calls ---------------------------------------------------------

    def sync_source(self, source: SourceConfig) -> int:
        return self._retrying("sync_source", lambda: super(ResilientStore, self)
                              .sync_source(source))

    def block_streak(self, source_name: str) -> tuple[int, datetime | None]:
        return self._retrying("block_streak", lambda: super(ResilientStore, self)
                              .block_streak(source_name))

    def start_run(self, source_name: str) -> int:
        run_id = self._retrying("start_run", lambda: super(ResilientStore, self)
                                .start_run(source_name))
        context = current_run()
        if context is not None:
            context.crawl_run_id = run_id
        return run_id

    def finish_run(self, run_id: int, *, status: str, stats: dict[str, int],
                   error: str | None = None) -> None:
        self._retrying("finish_run", lambda: super(ResilientStore, self).finish_run(
            run_id, status=status, stats=stats, error=error))

    def record_failure(self, run_id: int, *, url: str, kind: str, problem: str) -> None:
        self._retrying("record_failure", lambda: super(ResilientStore, self).record_failure(
            run_id, url=url, kind=kind, problem=problem))

    # ``ingest`` (a batch of one) comes here too.
    def ingest_many(self, run_id: int, items: Sequence[CrawledListing],
                    detect: Callable[[Listing], Sequence[Finding]], *,
                    channels: Sequence[str]) -> list[IngestResult]:
        what = (f"ingest of {items[0].listing.listing_id}" if len(items) == 1
                else f"ingest of {len(items)} listings")
        return self._retrying(what, lambda: super(ResilientStore, self).ingest_many(
            run_id, items, detect, channels=channels))

    def mark_removed(self, *, platform: str, listing_id: str | None = None,
                     url: str | None = None, at: datetime) -> bool:
        return self._retrying("mark_removed", lambda: super(ResilientStore, self).mark_removed(
            platform=platform, listing_id=listing_id, url=url, at=at))

    def attach_screenshot(self, version_id: int, capture: Capture) -> str:
        return self._retrying("attach_screenshot", lambda: super(
            ResilientStore, self).attach_screenshot(version_id, capture))

    def enqueue_notice(self, *, key: str, payload: dict[str, Any],
                       channels: Sequence[str]) -> int:
        return self._retrying("enqueue_notice", lambda: super(ResilientStore, self)
                              .enqueue_notice(key=key, payload=payload, channels=channels))

    # -- runs a dead process left behind -------------------------------------------------

    def close_orphaned_runs(self, source_name: str | None = None) -> int:
        """Mark runs still ``running`` as interrupted: of every source (the embedded
        daemon at start, being the only crawler), or of one source (a worker about to
        crawl it, holding the queue's lock for that source). Returns how many."""
        def work() -> int:
            with self._write() as session:
                query = update(CrawlRun).where(CrawlRun.status == RunStatus.RUNNING)
                if source_name is not None:
                    query = query.where(CrawlRun.source_id.in_(
                        select(Source.id).where(Source.name == source_name)))
                result = session.execute(query.values(
                    status=RunStatus.INTERRUPTED, finished_at=datetime.now(UTC),
                    error=ORPHAN_ERROR).execution_options(synchronize_session=False))
                return int(getattr(result, "rowcount", 0) or 0)

        closed = self._retrying("close_orphaned_runs", work)
        if closed:
            log.warning("%d crawl run(s) left running by a stopped process marked interrupted",
                        closed)
        return closed
