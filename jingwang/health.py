"""Liveness and readiness of a jingwang process, and the small ops web app that serves them.

``/healthz`` answers while the process's event loop runs. ``/readyz`` says whether
it can do its work: the database answers, the scheduler (where the process has one)
runs and its heartbeat is fresh, the worker (where there is one) runs; it also
lists, per source, how long ago its last successful crawl finished. A process that
serves the web UI adds these routes to it; a scheduler or worker without the UI
serves them alone on ``--ops-port``, with ``/metrics``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import SQLAlchemyError

from jingwang.config import SourceConfig
from jingwang.metrics import CONTENT_TYPE, Exporter
from jingwang.resilient_store import first_line

DB_TIMEOUT = 3.0
# A source is stale when its last success is older than this many intervals.
STALE_INTERVALS = 3
HEARTBEAT_EVERY = 5.0
HEARTBEAT_STALE = 30.0


class Health:
    """State a process reports; the daemon and the worker update it as they run."""

    def __init__(self, *, role: str, engine: Engine, sources: Sequence[SourceConfig],
                 has_scheduler: bool = False, has_worker: bool = False) -> None:
        self.role = role
        self.engine = engine
        self.sources = list(sources)
        self.has_scheduler = has_scheduler
        self.has_worker = has_worker
        self.scheduler_state = "starting" if has_scheduler else "none"
        self.scheduler_beat: float | None = None
        self.worker_state = "starting" if has_worker else "none"
        self.running: Callable[[], int] = lambda: 0
        self.last_runs: dict[str, dict[str, Any]] = {}

    def beat(self) -> None:
        """Called by a scheduler job: proof that the scheduler still fires jobs."""
        self.scheduler_beat = time.monotonic()

    def live(self) -> dict[str, Any]:
        return {"role": self.role, "sources": self.last_runs, "running": self.running()}

    def _database(self) -> tuple[dict[str, Any], dict[str, datetime]]:
        from store.enums import RunStatus
        from store.models import CrawlRun, Source

        started = time.perf_counter()
        with self.engine.connect() as conn:
            conn.execute(text("select 1"))
            latency = (time.perf_counter() - started) * 1000
            last = {name: finished for name, finished in conn.execute(
                select(Source.name, func.max(CrawlRun.finished_at))
                .join(CrawlRun, CrawlRun.source_id == Source.id)
                .where(CrawlRun.status.in_((RunStatus.OK, RunStatus.PARTIAL)))
                .group_by(Source.name)) if finished is not None}
        return {"ok": True, "latency_ms": round(latency, 1)}, last

    async def ready(self) -> tuple[bool, dict[str, Any]]:
        checks: dict[str, Any] = {}
        last: dict[str, datetime] = {}
        try:
            checks["database"], last = await asyncio.wait_for(
                asyncio.to_thread(self._database), DB_TIMEOUT)
        except (SQLAlchemyError, OSError) as exc:
            checks["database"] = {"ok": False, "error": first_line(exc)}
        except TimeoutError:
            checks["database"] = {"ok": False, "error": f"no answer in {DB_TIMEOUT:.0f}s"}
        if self.has_scheduler:
            fresh = (self.scheduler_beat is not None
                     and time.monotonic() - self.scheduler_beat < HEARTBEAT_STALE)
            ok = self.scheduler_state in ("running", "standby") and (
                fresh or self.scheduler_state == "standby")
            checks["scheduler"] = {"ok": ok, "state": self.scheduler_state}
        if self.has_worker:
            checks["worker"] = {"ok": self.worker_state == "running",
                                "state": self.worker_state}
        now = datetime.now(UTC)
        sources: dict[str, Any] = {}
        for source in self.sources:
            if not source.enabled:
                continue
            finished = last.get(source.name)
            age = (now - finished).total_seconds() if finished else None
            sources[source.name] = {
                "last_success": finished.isoformat() if finished else None,
                "age_seconds": round(age, 1) if age is not None else None,
                "interval": source.interval,
                "stale": age is None or age > STALE_INTERVALS * source.interval}
        ok = all(check["ok"] for check in checks.values())
        return ok, {"status": "ready" if ok else "not_ready", "role": self.role,
                    "checks": checks, "sources": sources}


def add_ops_routes(app: FastAPI, health: Health, exporter: Exporter) -> None:
    """``/readyz`` and ``/metrics`` on ``app`` (the web UI exempts both from login)."""

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> Response:
        ok, body = await health.ready()
        return JSONResponse(body, status_code=200 if ok else 503)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        body = await asyncio.to_thread(exporter.render)
        return Response(body, media_type=CONTENT_TYPE)


def ops_app(health: Health, exporter: Exporter) -> FastAPI:
    """``/healthz``, ``/readyz`` and ``/metrics`` alone, for a process without the web UI."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, Any]:
        return {"status": "ok", **health.live()}

    add_ops_routes(app, health, exporter)
    return app
