"""Prometheus metrics: counters of this process's crawls, and gauges read from the database.

Counters and histograms live in the default registry of each process (the daemon,
each worker); Prometheus adds them up across processes. The database gauges (leads
by status, alert deliveries by result, queue depth, last successful crawl) describe
shared state, so only processes that serve the web UI export them — scrape one of
those for them, and every worker for its crawl counters.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger("jingwang.metrics")

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

PAGES = Counter("jingwang_pages_fetched", "Pages fetched by crawls: result pages (kind=result) "
                "and listing pages (kind=detail)", ["source", "kind"])
ERRORS = Counter("jingwang_crawl_errors", "Crawl errors by kind: fetch, parse, blocked, "
                 "run (a failed run), database (a store call that had to be retried)",
                 ["source", "kind"])
BLOCKED = Counter("jingwang_blocked_pages", "Pages on which the platform blocked the crawler",
                  ["source"])
RUNS = Counter("jingwang_crawl_runs", "Finished crawl runs by final status",
               ["source", "status"])
FINDINGS = Counter("jingwang_findings", "Findings of newly stored listing versions",
                   ["category"])
CRAWL_SECONDS = Histogram("jingwang_crawl_duration_seconds", "Wall time of one crawl run",
                          ["source"], buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800,
                                               3600, 7200))
DETECT_SECONDS = Histogram("jingwang_detection_duration_seconds",
                           "Time to run every detector over one listing",
                           buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                    0.25, 0.5, 1.0, 2.5))

# RunSummary fields counted as they grow, and the counter (and label) each one feeds.
_PROGRESS: dict[str, tuple[Counter, dict[str, str]]] = {
    "pages": (PAGES, {"kind": "result"}),
    "listings": (PAGES, {"kind": "detail"}),
    "errors": (ERRORS, {"kind": "fetch"}),
    "parse_failures": (ERRORS, {"kind": "parse"}),
    "blocked": (BLOCKED, {}),
}


class ProgressMeter:
    """Turns a run's growing summary (``on_progress``) into counter increments."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.seen: dict[str, int] = dict.fromkeys(_PROGRESS, 0)
        self.started = time.monotonic()

    def __call__(self, summary: Any) -> None:
        for name, (counter, labels) in _PROGRESS.items():
            value = int(getattr(summary, name, 0) or 0)
            if value > self.seen[name]:
                counter.labels(source=self.source, **labels).inc(value - self.seen[name])
                if name == "blocked":
                    ERRORS.labels(source=self.source, kind="blocked").inc(
                        value - self.seen[name])
                self.seen[name] = value

    def finish(self, summary: Any) -> None:
        """Count what the last events added, the run's status and its duration."""
        self(summary)
        status = str(getattr(summary, "status", "unknown"))
        RUNS.labels(source=self.source, status=status).inc()
        if status == "failed":
            ERRORS.labels(source=self.source, kind="run").inc()
        if status != "skipped":
            CRAWL_SECONDS.labels(source=self.source).observe(time.monotonic() - self.started)


def count_findings(categories: Sequence[str]) -> None:
    for category in categories:
        FINDINGS.labels(category=category).inc()


class DatabaseCollector(Collector):
    """Gauges read from the database at scrape time (a few GROUP BY queries)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        from store.enums import RunStatus
        from store.models import CrawlRun, Lead, Outbox, Source

        up = GaugeMetricFamily("jingwang_database_up", "1 if the database answered this scrape")
        leads = GaugeMetricFamily("jingwang_leads", "Leads by status", labels=["status"])
        deliveries = GaugeMetricFamily("jingwang_alert_deliveries",
                                       "Alert messages by result: sent, failed (given up), "
                                       "pending (queued or retrying)", labels=["result"])
        queue = GaugeMetricFamily("jingwang_queue_depth", "Jobs waiting (todo) or running "
                                  "(doing) in the crawl queue, and alerts waiting to be sent",
                                  labels=["queue", "status"])
        success = GaugeMetricFamily("jingwang_source_last_success_timestamp_seconds",
                                    "When each source last finished a run that was ok or partial",
                                    labels=["source"])
        try:
            with self.engine.connect() as conn:
                for status, count in conn.execute(
                        select(Lead.status, func.count()).group_by(Lead.status)):
                    leads.add_metric([_value(status)], count)
                for outbox_status, count in conn.execute(
                        select(Outbox.status, func.count()).group_by(Outbox.status)):
                    name = _value(outbox_status)
                    deliveries.add_metric([name], count)
                    if name == "pending":
                        queue.add_metric(["alerts", "todo"], count)
                for name, finished in conn.execute(
                        select(Source.name, func.max(CrawlRun.finished_at))
                        .join(CrawlRun, CrawlRun.source_id == Source.id)
                        .where(CrawlRun.status.in_((RunStatus.OK, RunStatus.PARTIAL)))
                        .group_by(Source.name)):
                    if finished is not None:
                        success.add_metric([name], finished.timestamp())
                if conn.dialect.name == "postgresql" and conn.execute(text(
                        "select to_regclass('procrastinate_jobs')")).scalar() is not None:
                    for status, count in conn.execute(text(
                            "select status::text, count(*) from procrastinate_jobs "
                            "where status in ('todo', 'doing') group by status")):
                        queue.add_metric(["crawl", status], count)
            up.add_metric([], 1)
        except SQLAlchemyError as exc:
            log.warning("metrics: database unavailable: %s", str(exc).splitlines()[0])
            up.add_metric([], 0)
            yield up
            return
        yield from (up, leads, deliveries, queue, success)


def _value(status: Any) -> str:
    return str(getattr(status, "value", status))


class Exporter:
    """What ``/metrics`` answers: this process's counters, plus database gauges if asked."""

    def __init__(self, engine: Engine | None = None) -> None:
        self.database: CollectorRegistry | None = None
        if engine is not None:
            self.database = CollectorRegistry(auto_describe=False)
            self.database.register(DatabaseCollector(engine))

    def render(self) -> bytes:
        body = generate_latest(REGISTRY)
        if self.database is not None:
            body += generate_latest(self.database)
        return body
