"""The crawl queue of the many-machine mode: procrastinate on PostgreSQL.

One job crawls one source once. Every job of a source carries the same ``lock``
(procrastinate runs at most one job per lock at a time) and ``queueing_lock`` (at
most one waiting job per source: enqueueing another while one waits is a no-op), so
a source has at most one crawl running and one waiting, whichever machine runs it.

A worker that dies mid-job stops sending heartbeats; :func:`recover_stalled` (run
by the scheduler) finds its jobs and puts them back in the queue, and the next run
of the source stores what the dead one had not. Stores are idempotent, so nothing
is stored twice.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import psycopg
from procrastinate import App, PsycopgConnector
from procrastinate.exceptions import AlreadyEnqueued, UniqueViolation
from procrastinate.jobs import Status
from procrastinate.schema import SchemaManager
from sqlalchemy.engine import make_url

log = logging.getLogger("jingwang.jobs")

TASK = "jingwang.crawl_source"
QUEUE = "crawl"
# A job whose worker died this many times is given up (a page that kills workers
# should not kill every worker in turn); the source's next scheduled run tries again.
MAX_STALLED_RETRIES = 3
_SCHEMA_LOCK = 0x6A696E67  # advisory lock key while applying the schema ("jing")


def is_postgresql(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def conninfo(url: str) -> str:
    """A libpq connection URI from a SQLAlchemy URL (``postgresql+psycopg://…``)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ValueError("the crawl queue needs PostgreSQL; SQLite runs everything in one "
                         "process (jingwang run)")
    return str(parsed.set(drivername="postgresql").render_as_string(hide_password=False))


def source_lock(name: str) -> str:
    return f"source:{name}"


def schema_present(url: str) -> bool:
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        row = conn.execute("select to_regclass('procrastinate_jobs')").fetchone()
        return row is not None and row[0] is not None


def apply_schema(url: str) -> bool:
    """Create procrastinate's tables and functions unless they exist (under an advisory
    lock, so two processes starting together do not both try). Returns whether it did."""
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        conn.execute("select pg_advisory_lock(%s)", (_SCHEMA_LOCK,))
        try:
            row = conn.execute("select to_regclass('procrastinate_jobs')").fetchone()
            if row is not None and row[0] is not None:
                return False
            with conn.transaction():
                # Sent as one simple-protocol script: no parameters, so no % escaping.
                conn.execute(SchemaManager.get_schema().encode("utf-8"), prepare=False)
            return True
        finally:
            conn.execute("select pg_advisory_unlock(%s)", (_SCHEMA_LOCK,))


def make_app(url: str, *, crawl: Callable[[str], Awaitable[None]] | None = None,
             pool_size: int = 4) -> App:
    """A procrastinate app on ``url``; with ``crawl`` it can also run crawl jobs."""
    app = App(connector=PsycopgConnector(conninfo=conninfo(url), min_size=1,
                                         max_size=pool_size))
    if crawl is not None:
        async def crawl_source(source: str) -> None:
            await crawl(source)

        app.task(name=TASK, queue=QUEUE)(crawl_source)
    return app


async def defer_crawl(app: App, source: str) -> int | None:
    """Queue a crawl of ``source``; None when one is already waiting (the queueing lock)."""
    try:
        job_id = await app.configure_task(
            TASK, queue=QUEUE, lock=source_lock(source),
            queueing_lock=source_lock(source)).defer_async(source=source)
    except AlreadyEnqueued:
        log.info("source %s: a crawl is already waiting in the queue; not queued again",
                 source)
        return None
    log.info("source %s: crawl queued (job %d)", source, job_id)
    return job_id


async def recover_stalled(app: App, *, stalled_after: float) -> int:
    """Put the jobs of workers silent for ``stalled_after`` seconds back in the queue.

    A job whose source already has a newer job waiting is closed instead (the waiting
    one crawls the source); so is one that has lost too many workers. Returns how
    many jobs were queued again.
    """
    requeued = 0
    for job in await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after):
        assert job.id is not None
        source = str(job.task_kwargs.get("source", "?"))
        if job.attempts >= MAX_STALLED_RETRIES:
            log.error("source %s: job %d lost its worker %d times; given up until the next "
                      "scheduled run", source, job.id, job.attempts + 1)
            await app.job_manager.finish_job_by_id_async(job.id, Status.FAILED, False)
            continue
        try:
            await app.job_manager.retry_job(job)
        except UniqueViolation:
            log.warning("source %s: job %d lost its worker; a newer crawl is already waiting",
                        source, job.id)
            await app.job_manager.finish_job_by_id_async(job.id, Status.FAILED, False)
            continue
        requeued += 1
        log.warning("source %s: job %d lost its worker (no heartbeat for %.0fs); queued again",
                    source, job.id, stalled_after)
    return requeued
