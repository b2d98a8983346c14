"""Sources, crawl runs and crawl failures."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from jingwang.config import SourceConfig
from store.enums import FailureKind, RunStatus
from store.errors import NotFound
from store.models import CrawlFailure, CrawlRun, Source
from store.service import Store
from tests.store.conftest import Clock


def test_sync_source_inserts_then_updates(store: Store, clock: Clock) -> None:
    config = SourceConfig.model_validate(
        {"name": "s1", "platform": "sandbox", "keywords": ["认证"], "interval": "10m"})
    source_id = store.sync_source(config)
    clock.tick(60)
    assert store.sync_source(config) == source_id
    changed = config.model_copy(update={"kind": "urls", "urls": ["http://127.0.0.1/x"]})
    assert store.sync_source(changed) == source_id
    with Session(store.engine) as session:
        row = session.get_one(Source, source_id)
        assert row.kind == "urls" and row.config["urls"] == ["http://127.0.0.1/x"]
        assert row.config["interval"] == 600.0
        assert row.updated_at > row.created_at
    assert store.counts()["sources"] == 1


def test_run_lifecycle_and_failures(store: Store, clock: Clock) -> None:
    store.sync_source(SourceConfig(name="s1", platform="sandbox"))
    run_id = store.start_run("s1")
    store.record_failure(run_id, url="http://127.0.0.1/a", kind="fetch", problem="timeout")
    store.record_failure(run_id, url="http://127.0.0.1/b", kind="parse", problem="no title")
    clock.tick(30)
    store.finish_run(run_id, status="partial", stats={"pages": 3, "errors": 2})
    with Session(store.engine) as session:
        run = session.get_one(CrawlRun, run_id)
        assert run.status is RunStatus.PARTIAL
        assert run.finished_at == clock.now and run.started_at < clock.now
        assert run.stats == {"pages": 3, "listings": 0, "new_versions": 0, "findings": 0,
                             "errors": 2, "parse_failures": 0}
        kinds = session.scalars(select(CrawlFailure.kind).order_by(CrawlFailure.id)).all()
        assert kinds == [FailureKind.FETCH, FailureKind.PARSE]


def test_bad_run_inputs(store: Store) -> None:
    with pytest.raises(NotFound):
        store.start_run("nope")
    store.sync_source(SourceConfig(name="s1", platform="sandbox"))
    run_id = store.start_run("s1")
    with pytest.raises(ValueError):
        store.finish_run(run_id, status="great", stats={})
    with pytest.raises(ValueError):
        store.finish_run(run_id, status="running", stats={})
    with pytest.raises(ValueError):
        store.record_failure(run_id, url="u", kind="oops", problem="p")
    with pytest.raises(NotFound):
        store.finish_run(run_id + 100, status="ok", stats={})
    with pytest.raises(NotFound):
        store.record_failure(run_id + 100, url="u", kind="fetch", problem="p")
    assert store.counts()["failures"] == 0
