"""Fixtures of the crawler tests: the test marketplace and the hostile sandbox over real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from crawler.profiles import Profile, load_profile
from sandbox.faults import Faults, RequestLog
from tests.conftest import ROOT, SANDBOX_SEED
from tests.crawler.site import SiteLog, create_site
from tests.servers import UvicornThread

HERE = Path(__file__).resolve().parent
SITE_PROFILE = HERE / "site.yaml"
PLATFORMS = ROOT / "config" / "platforms"
T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run one coroutine on a fresh event loop (tests stay plain functions)."""
    return asyncio.run(coro)


@dataclass
class Site:
    url: str
    log: SiteLog
    profile: Profile  # the site's profile, pointed at the live server


@pytest.fixture(scope="session")
def _site_server() -> Iterator[tuple[str, SiteLog]]:
    log = SiteLog()
    with UvicornThread(create_site(log)) as url:
        yield url, log


@pytest.fixture
def site(_site_server: tuple[str, SiteLog]) -> Site:
    """The test marketplace on 127.0.0.1, its request log emptied for this test."""
    url, log = _site_server
    log.reset()
    return Site(url=url, log=log, profile=load_profile(SITE_PROFILE).with_base_url(url))


@dataclass
class Hostile:
    """The hostile sandbox over real HTTP: its URL, live fault switches and request log."""

    url: str
    faults: Faults
    log: RequestLog

    def profile(self, name: str = "sandbox") -> Profile:
        return load_profile(PLATFORMS / f"{name}.yaml").with_base_url(self.url)

    def hits(self, prefix: str) -> int:
        return len(self.log.paths(prefix))


@pytest.fixture(scope="session")
def _hostile_server() -> Iterator[tuple[str, Faults, RequestLog]]:
    from sandbox.server import create_app

    faults = Faults()
    app = create_app(seed=SANDBOX_SEED, faults=faults)
    with UvicornThread(app) as url:
        yield url, faults, app.state.log


@pytest.fixture
def hostile(_hostile_server: tuple[str, Faults, RequestLog]) -> Iterator[Hostile]:
    """The hostile sandbox with every fault off and an empty log; faults are reset after."""
    url, faults, log = _hostile_server
    faults.reset()
    log.clear()
    yield Hostile(url, faults, log)
    faults.reset()
