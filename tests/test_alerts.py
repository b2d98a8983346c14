"""Outbox rows reach a real webhook receiver on loopback, once, even after it was down."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request, Response

from alerts.channels import LogChannel, WebhookChannel
from alerts.dispatcher import Dispatcher
from alerts.render import render
from store.db import make_engine, upgrade
from store.evidence import EvidenceStore
from store.service import Store
from tests.servers import UvicornThread
from tests.support.aio import run as run_async
from tests.support.factories import crawled, new_run, phrase_detector


@dataclass
class Receiver:
    up: bool = True
    received: list[dict[str, Any]] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    state = Receiver()
    app = FastAPI()

    @app.post("/hook")
    async def hook(request: Request) -> Response:
        if not state.up:
            return Response(status_code=503)
        state.keys.append(request.headers["Idempotency-Key"])
        state.received.append(await request.json())
        return Response(status_code=204)

    with UvicornThread(app) as url:
        yield state, f"{url}/hook"


@pytest.fixture
def store(database_url: str, tmp_path: Path) -> Iterator[Store]:
    upgrade(database_url)
    store = Store(make_engine(database_url), EvidenceStore(tmp_path / "evidence"))
    yield store
    store.engine.dispose()


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def test_lead_alert_is_delivered_once_after_the_channel_comes_back(
        store: Store, receiver: tuple[Receiver, str]) -> None:
    state, url = receiver
    run = new_run(store)
    result = store.ingest(run, crawled("sb-1"), phrase_detector(), channels=["hook", "log"])
    assert result.lead_created
    clock = Clock()
    dispatcher = Dispatcher(store, {"hook": WebhookChannel("hook", url), "log": LogChannel()},
                            clock=clock, base_delay=60)

    state.up = False
    stats = run_async(dispatcher.run_once())
    assert (stats.delivered, stats.retried) == (1, 1)  # log delivered, webhook postponed
    assert state.received == []
    assert run_async(dispatcher.run_once()).delivered == 0  # not due yet

    state.up = True
    clock.now += timedelta(hours=2)
    assert run_async(dispatcher.run_once()).delivered == 1
    assert run_async(dispatcher.run_once()).delivered == 0
    assert len(state.received) == 1
    payload = state.received[0]
    assert payload["lead_id"] == result.lead_id
    assert payload["categories"] == ["fake_certificate"]
    assert state.keys == [f"lead:{result.lead_id}:created:hook"]


def test_unknown_channel_gives_up_without_retrying(store: Store) -> None:
    run = new_run(store)
    store.ingest(run, crawled("sb-2"), phrase_detector(), channels=["missing"])
    stats = run_async(Dispatcher(store, {}).run_once())
    assert (stats.delivered, stats.failed, stats.retried) == (0, 1, 0)


def test_alert_text_is_chinese_and_names_the_shop() -> None:
    title, body = render({"lead_id": 7, "platform": "taobao", "shop": "某认证",
                               "categories": ["fake_certificate"], "score": 9,
                               "listings": [{"title": "当天出证", "url": "http://x/1"}]},
                              base_url="http://127.0.0.1:8000")
    assert "某认证" in title and "新线索" in title
    assert "涉嫌虚假认证" in body and "http://127.0.0.1:8000/leads/7" in body
