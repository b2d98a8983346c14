"""Alert fixtures: a store routed by the shipped YAML, a steppable clock, and real
receivers on loopback — an HTTP webhook receiver and an SMTP server (aiosmtpd)."""

from __future__ import annotations

import email
import email.policy
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI, Request, Response
from sqlalchemy import Engine

from alerts.routing import Router, load_routing
from alerts.units import load_units
from jingwang.config import SourceConfig
from jingwang.records import Capture, CrawledListing, Finding, Listing, Seller
from store.db import make_engine, upgrade
from store.evidence import EvidenceStore
from store.service import Store
from tests.servers import UvicornThread, free_port
from tests.support.aio import run as run_async

ROOT = Path(__file__).resolve().parents[2]
UNITS_YAML = ROOT / "config" / "units.yaml"
ROUTING_YAML = ROOT / "config" / "routing.yaml"
# A Monday, 10:00 in Beijing: inside the shipped office hours.
T0 = datetime(2024, 3, 4, 2, 0, tzinfo=UTC)


class Clock:
    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def tick(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def units_file(tmp_path: Path, *, receivers: str = "[hook]", preset: str = "qiaocheng") -> Path:
    """The shipped units file with test receivers and the chosen preset."""
    text = UNITS_YAML.read_text(encoding="utf-8")
    text = text.replace("receivers: [log]", f"receivers: {receivers}")
    text = text.replace("preset: qiaocheng", f"preset: {preset}", 1)
    path = tmp_path / f"units-{preset}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def shipped_router(tmp_path: Path, *, receivers: str = "[hook]",
                   preset: str = "qiaocheng") -> Router:
    units = load_units(units_file(tmp_path, receivers=receivers, preset=preset))
    return load_routing(ROUTING_YAML, units)


PHRASES = {
    "当天出证": ("same_day_certificate", "fake_certificate", "high"),
    "包过": ("guaranteed_pass", "false_advertising", "medium"),
    "国家级": ("national_prefix", "national_prefix_misuse", "medium"),
}


def detect(listing: Listing) -> list[Finding]:
    """Exact phrases in the original text (no detector package needed)."""
    found = []
    for field_name, text in listing.fields():
        for phrase, (rule, category, severity) in PHRASES.items():
            start = text.find(phrase)
            if start >= 0:
                found.append(Finding(rule=rule, category=category, field=field_name,
                                     start=start, end=start + len(phrase), text=phrase,
                                     severity=severity))
    return found


def crawled(listing_id: str, *, title: str = "ISO9001认证 当天出证", description: str = "",
            shop: str = "速办认证工作室", shop_id: str | None = None,
            credit_code: str | None = None, platform: str = "sandbox",
            url: str | None = None, at: datetime = T0) -> CrawledListing:
    url = url or f"http://127.0.0.1:8765/item/{listing_id}"
    listing = Listing(platform=platform, listing_id=listing_id, title=title,
                      description=description, price="99.00", url=url,
                      seller=Seller(name=shop, shop_id=shop_id or f"{platform}-{shop}",
                                    credit_code=credit_code))
    body = f"<html><body><h1>{title}</h1></body></html>".encode()
    capture = Capture(url=url, final_url=url, status=200, fetched_at=at,
                      headers={"content-type": "text/html"}, body=body, tool="tests")
    return CrawledListing(listing=listing, capture=capture, source="alerts-test")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    upgrade(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'alerts.db'}"
    upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


def make_store(engine: Engine, tmp_path: Path, clock: Clock, router: Router | None,
               region: str | None = None) -> tuple[Store, int]:
    store = Store(engine, EvidenceStore(tmp_path / "evidence"), clock=clock, router=router)
    store.sync_source(SourceConfig(name="alerts-test", platform="sandbox", keywords=["认证"],
                                   region=region))
    return store, store.start_run("alerts-test")


@pytest.fixture
def routed(sqlite_engine: Engine, tmp_path: Path, clock: Clock) -> tuple[Store, int]:
    """A SQLite store routed by the shipped tree (Qiaocheng), every unit on ``hook``."""
    return make_store(sqlite_engine, tmp_path, clock, shipped_router(tmp_path))


# -- receivers ------------------------------------------------------------------------


@dataclass
class WebhookReceiver:
    """Keeps what it processed; a repeat of an Idempotency-Key is acknowledged, not
    processed again (what a receiver that "allows it" does)."""

    url: str = ""
    up: bool = True
    processed: dict[str, dict[str, Any]] = field(default_factory=dict)
    seen: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    state = WebhookReceiver()
    app = FastAPI()

    @app.post("/hook")
    async def hook(request: Request) -> Response:
        if not state.up:
            return Response(status_code=503)
        key = request.headers["Idempotency-Key"]
        body = await request.json()
        with state.lock:
            state.seen.append(key)
            state.processed.setdefault(key, body)
        return Response(status_code=204)

    with UvicornThread(app) as url:
        state.url = f"{url}/hook"
        yield state


@dataclass
class SmtpReceiver:
    port: int
    messages: list[email.message.EmailMessage] = field(default_factory=list)
    controller: Controller | None = None

    @property
    def url(self) -> str:
        return (f"mailto://127.0.0.1:{self.port}?from=jingwang@example.org"
                f"&to=unit@example.org&mode=insecure")

    def keys(self) -> list[str]:
        return [str(m["Idempotency-Key"]) for m in self.messages]

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.original_content or envelope.content
        message = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(message, email.message.EmailMessage)
        self.messages.append(message)
        return "250 OK"

    def start(self) -> None:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    receiver = SmtpReceiver(port=free_port())
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()


def run(coro: Any) -> Any:
    return run_async(coro)
