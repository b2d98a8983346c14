"""/readyz, /metrics and run-tagged JSON logs, served over real HTTP on loopback."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path
from types import SimpleNamespace

import httpx

from jingwang.config import SourceConfig
from jingwang.health import Health, ops_app
from jingwang.logs import JsonFormatter, RunFilter, bind_run, current_run
from jingwang.metrics import Exporter, ProgressMeter
from store.db import make_engine, upgrade
from tests.servers import UvicornThread, free_port

SOURCES = [SourceConfig(name="demo", platform="sandbox", interval=600)]


def test_readyz_reports_the_database_and_source_ages(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jw.db'}"
    upgrade(url)
    engine = make_engine(url)
    health = Health(role="worker", engine=engine, sources=SOURCES, has_worker=True)
    with UvicornThread(ops_app(health, Exporter(engine))) as base:
        starting = httpx.get(f"{base}/readyz", timeout=10)
        health.worker_state = "running"
        ready = httpx.get(f"{base}/readyz", timeout=10)
        live = httpx.get(f"{base}/healthz", timeout=10)
    engine.dispose()
    assert starting.status_code == 503 and starting.json()["checks"]["worker"]["ok"] is False
    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["checks"]["database"]["ok"] is True
    assert body["sources"]["demo"] == {"last_success": None, "age_seconds": None,
                                       "interval": 600.0, "stale": True}
    assert live.status_code == 200 and live.json()["role"] == "worker"


def test_readyz_is_not_ready_without_a_database() -> None:
    # Nothing listens on this loopback port: the database is unreachable.
    engine = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none")
    health = Health(role="web", engine=engine, sources=SOURCES)
    with UvicornThread(ops_app(health, Exporter(engine))) as base:
        answer = httpx.get(f"{base}/readyz", timeout=10)
        metrics = httpx.get(f"{base}/metrics", timeout=10).text
    engine.dispose()
    assert answer.status_code == 503
    assert answer.json()["checks"]["database"]["ok"] is False
    assert "jingwang_database_up 0.0" in metrics


def test_metrics_count_crawl_progress_and_database_state(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jw.db'}"
    upgrade(url)
    engine = make_engine(url)
    meter = ProgressMeter("metrics-test")
    meter(SimpleNamespace(pages=2, listings=5, errors=1, parse_failures=0, blocked=0))
    meter.finish(SimpleNamespace(pages=3, listings=7, errors=1, parse_failures=0, blocked=1,
                                 status="partial"))
    health = Health(role="web", engine=engine, sources=SOURCES)
    with UvicornThread(ops_app(health, Exporter(engine))) as base:
        answer = httpx.get(f"{base}/metrics", timeout=10)
    engine.dispose()
    assert answer.status_code == 200
    text = answer.text
    assert 'jingwang_pages_fetched_total{kind="result",source="metrics-test"} 3.0' in text
    assert 'jingwang_pages_fetched_total{kind="detail",source="metrics-test"} 7.0' in text
    assert 'jingwang_crawl_errors_total{kind="fetch",source="metrics-test"} 1.0' in text
    assert 'jingwang_blocked_pages_total{source="metrics-test"} 1.0' in text
    assert 'jingwang_crawl_runs_total{source="metrics-test",status="partial"} 1.0' in text
    assert 'jingwang_crawl_duration_seconds_count{source="metrics-test"} 1.0' in text
    assert "jingwang_database_up 1.0" in text


def test_json_log_lines_carry_the_crawl_run_id() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RunFilter())
    logger = logging.getLogger("jingwang.test-logs")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("outside")
        with bind_run("demo"):
            logger.warning("before the run has an id")
            context = current_run()
            assert context is not None
            context.crawl_run_id = 42
            logger.warning("inside")
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["crawl_run_id"] for line in lines] == [None, None, 42]
    assert "source" not in lines[0] and lines[2]["source"] == "demo"
