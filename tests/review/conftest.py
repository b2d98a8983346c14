"""Workbench fixtures: a seeded store served by a real uvicorn server, clients signed in
as a given role (a Datasette habit), and one Debian Chromium per session."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from review.app import create_app
from store.db import make_engine, upgrade
from store.evidence import EvidenceStore
from store.service import Store
from tests.review.data import FAST_HASHER, PASSWORD, Seeded, add_users, seed
from tests.servers import UvicornThread

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Workbench:
    url: str
    store: Store
    seeded: Seeded
    app: Any


def make_store(database_url: str, root: Path) -> Store:
    upgrade(database_url)
    return Store(make_engine(database_url), EvidenceStore(root / "evidence"))


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Seeded]:
    """Seeded once per session; each test gets its own copy of the files."""
    root = tmp_path_factory.mktemp("review-template")
    store = make_store(f"sqlite:///{root / 'jw.db'}", root)
    seeded = seed(store)
    add_users(store)
    store.engine.dispose()
    return root, seeded


@pytest.fixture
def workbench(tmp_path: Path, seeded_template: tuple[Path, Seeded]) -> Iterator[Workbench]:
    """A fresh SQLite store with seeded leads and one user per role, served over HTTP."""
    template, seeded = seeded_template
    for name in ("jw.db", "jw.db-wal", "jw.db-shm"):
        if (template / name).exists():
            shutil.copy(template / name, tmp_path / name)
    shutil.copytree(template / "evidence", tmp_path / "evidence")
    store = Store(make_engine(f"sqlite:///{tmp_path / 'jw.db'}"),
                  EvidenceStore(tmp_path / "evidence"))
    app = create_app(store=store, password_hasher=FAST_HASHER, demo_admin="")
    with UvicornThread(app) as url:
        yield Workbench(url, store, seeded, app)
    store.engine.dispose()


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def login(base: str, username: str, password: str = PASSWORD) -> httpx.Client:
    """A client signed in through the real login form; ``client.csrf`` holds its token."""
    client = httpx.Client(base_url=base, timeout=20, follow_redirects=False)
    form = client.get("/login")
    assert form.status_code == 200
    response = client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": csrf_of(form.text), "next": "/"})
    assert response.status_code == 303, response.text[:500]
    page = client.get("/account")
    assert page.status_code == 200
    client.csrf = csrf_of(page.text)  # type: ignore[attr-defined]
    return client


@pytest.fixture
def as_role(workbench: Workbench) -> Iterator[Callable[[str], httpx.Client]]:
    """``as_role("analyst")`` → a client signed in as that role's user."""
    clients: list[httpx.Client] = []

    def make(role: str) -> httpx.Client:
        client = login(workbench.url, role)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
        pytest.skip("/usr/bin/chromium is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
