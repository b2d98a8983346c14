"""The source schedules: APScheduler 3 with its SQLAlchemy job store in the jingwang database.

Each enabled source is one interval job ``source:NAME`` in the table
``apscheduler_jobs`` (created by APScheduler, beside the Alembic-managed tables), so
a restart resumes the schedule where it was: a run that fell due while the process
was down fires once on start (coalesced, however many were missed). A job names the
module-level :func:`fire_source` and the source name, never a bound method, so it
can be stored; the running daemon registers what firing a source means (crawl here,
or enqueue for a worker). Only one process may use a job store: APScheduler 3 does
not share one between schedulers.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.job import Job
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url

from jingwang.config import SchedulerConfig, SourceConfig
from store.db import make_engine

log = logging.getLogger("jingwang.scheduler")

SOURCES = "sources"  # the persistent job store
JOB_PREFIX = "source:"
RETRY_INTERVAL = 5.0  # seconds between job store retries while the database is away

_target: Callable[[str], Awaitable[None]] | None = None


def set_target(target: Callable[[str], Awaitable[None]] | None) -> None:
    """What :func:`fire_source` does in this process (None: nothing, e.g. after stop)."""
    global _target
    _target = target


async def fire_source(name: str) -> None:
    """The stored job of every source: hand the source to the running daemon."""
    if _target is None:
        log.warning("source %s fired while no daemon is running; ignored", name)
        return
    await _target(name)


class Scheduler(AsyncIOScheduler):  # type: ignore[misc]
    """An AsyncIOScheduler that keeps waking up when its job store fails mid-pass.

    APScheduler retries a failing ``get_due_jobs``, but an error after it (updating
    a job's next run time while the database goes away) would end the wake-up timer
    and with it all scheduling; here such a pass is retried a little later.
    """

    def _process_jobs(self) -> float | None:
        try:
            return super()._process_jobs()  # type: ignore[no-any-return]
        except Exception as exc:
            log.warning("scheduler pass failed (%s); trying again in %.0fs",
                        str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
                        RETRY_INTERVAL)
            return RETRY_INTERVAL


def job_store_engine(url: str) -> Engine:
    """The job store's own engine: SQLite as the store sets it up; PostgreSQL with a
    connect timeout so a wake-up never blocks the event loop for long."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return make_engine(url)
    return create_engine(parsed, pool_pre_ping=True, pool_size=2,
                         connect_args={"connect_timeout": 5})


def make_scheduler(url: str) -> tuple[Scheduler, Engine]:
    engine = job_store_engine(url)
    scheduler = Scheduler(timezone=UTC, jobstore_retry_interval=RETRY_INTERVAL,
                          jobstores={"default": MemoryJobStore(),
                                     SOURCES: SQLAlchemyJobStore(engine=engine)})
    return scheduler, engine


def jitter_for(source: SourceConfig, config: SchedulerConfig) -> int:
    """Whole seconds of jitter (APScheduler's unit): at most a tenth of the interval."""
    return int(min(config.jitter, source.interval / 10.0))


def _job_options(source: SourceConfig, config: SchedulerConfig) -> dict[str, Any]:
    return {"max_instances": 1, "coalesce": True, "misfire_grace_time": config.misfire_grace}


def _trigger(source: SourceConfig, config: SchedulerConfig) -> IntervalTrigger:
    jitter = jitter_for(source, config)
    return IntervalTrigger(seconds=source.interval, jitter=jitter or None, timezone=UTC)


def missed_runs(job: Job, now: datetime) -> int:
    """How many runs of an interval job fell due while nothing was running it."""
    if job.next_run_time is None or job.next_run_time > now:
        return 0
    interval = float(job.trigger.interval.total_seconds())
    late: float = (now - job.next_run_time).total_seconds()
    return 1 + math.floor(late / interval)


def sync_source_jobs(scheduler: Scheduler, sources: Sequence[SourceConfig],
                     config: SchedulerConfig, *, now: datetime | None = None) -> None:
    """Make the stored jobs match the configured sources; call while the scheduler is
    started paused. A job whose interval and jitter are unchanged keeps its stored
    next run time (that is what makes schedules survive restarts); a new or changed
    source first runs shortly, staggered; a removed or disabled source loses its job.
    """
    now = now or datetime.now(UTC)
    stored = {job.id: job for job in scheduler.get_jobs(jobstore=SOURCES)}
    wanted: set[str] = set()
    for i, source in enumerate(s for s in sources if s.enabled):
        job_id = f"{JOB_PREFIX}{source.name}"
        wanted.add(job_id)
        trigger = _trigger(source, config)
        options = _job_options(source, config)
        job = stored.get(job_id)
        if job is not None and _same_trigger(job.trigger, trigger):
            changes = {k: v for k, v in options.items() if getattr(job, k) != v}
            if changes:
                scheduler.modify_job(job_id, jobstore=SOURCES, **changes)
            missed = missed_runs(job, now)
            if missed:
                log.info("source %s: %d run(s) fell due while stopped (first at %s); "
                         "they run once now", source.name, missed,
                         job.next_run_time.isoformat(timespec="seconds"))
            else:
                log.info("source %s: schedule resumed, next run at %s", source.name,
                         job.next_run_time.isoformat(timespec="seconds")
                         if job.next_run_time else "never")
            continue
        scheduler.add_job(fire_source, trigger, args=[source.name], id=job_id,
                          name=source.name, jobstore=SOURCES, replace_existing=True,
                          next_run_time=now + timedelta(seconds=0.5 + i), **options)
        log.info("source %s: scheduled every %ss (%s)", source.name, f"{source.interval:g}",
                 "changed" if job is not None else "new")
    for job_id in set(stored) - wanted:
        scheduler.remove_job(job_id, jobstore=SOURCES)
        log.info("source %s: no longer configured or enabled; its schedule is removed",
                 job_id.removeprefix(JOB_PREFIX))


def _same_trigger(old: Any, new: IntervalTrigger) -> bool:
    return (isinstance(old, IntervalTrigger) and old.interval == new.interval
            and (old.jitter or None) == (new.jitter or None))


class Leadership:
    """Which process schedules, on PostgreSQL: the holder of a session advisory lock.

    A second scheduler (or a second one-machine daemon on the same database) waits as a
    standby and takes over when the holder's session ends (it stopped, crashed or lost
    its connection). Jobs enqueued twice during a hand-over are dropped by the queueing
    lock; in-process crawls are idempotent.
    """

    KEY = 0x6A77_7363  # "jwsc"

    def __init__(self, url: str) -> None:
        from jingwang.jobs import conninfo

        self.conninfo = conninfo(url)
        self.conn: Any = None

    def hold(self) -> bool:
        """Whether this process holds the lock now (taking it if it is free). Raises when
        the database cannot be reached: then nobody can tell."""
        import psycopg

        if self.conn is not None:
            try:
                self.conn.execute("select 1")
                return True
            except psycopg.Error:
                self.close()
        conn = psycopg.connect(self.conninfo, autocommit=True, connect_timeout=5)
        row = conn.execute("select pg_try_advisory_lock(%s)", (self.KEY,)).fetchone()
        if row is not None and row[0]:
            self.conn = conn
            return True
        conn.close()
        return False

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):
                self.conn.close()
            self.conn = None
