"""The workbench's entry point as the daemon calls it: ``create_app(store=…, health=…)``
starts on a fresh database, says how to create the first account, and can bootstrap a
demo admin from JINGWANG_DEMO_ADMIN."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from jingwang.cli import app as cli
from review.app import create_app
from review.highlight import segments
from store.accounts import Accounts
from store.db import make_engine, upgrade
from store.evidence import EvidenceStore
from store.service import Store
from tests.servers import UvicornThread


@pytest.fixture
def fresh_store(tmp_path: Path) -> Store:
    url = f"sqlite:///{tmp_path / 'jw.db'}"
    upgrade(url)
    return Store(make_engine(url), EvidenceStore(tmp_path / "evidence"))


def test_fresh_database_says_how_to_create_an_admin(
        fresh_store: Store, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JINGWANG_DEMO_ADMIN", raising=False)
    with caplog.at_level(logging.WARNING, logger="jingwang.review.auth"):
        app = create_app(store=fresh_store, health=lambda: {"running": 0})
    assert "jingwang user add NAME --role admin" in caplog.text
    with UvicornThread(app) as url:
        health = httpx.get(f"{url}/healthz").json()
        assert health == {"status": "ok", "running": 0}
        login = httpx.get(f"{url}/", follow_redirects=True)
        assert login.status_code == 200 and "登录" in login.text and "线索" in login.text
    fresh_store.engine.dispose()


def test_demo_admin_from_the_environment(fresh_store: Store,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JINGWANG_DEMO_ADMIN", "demo:demo-pass-123")
    create_app(store=fresh_store)
    create_app(store=fresh_store)  # a restart does not add it twice
    users = Accounts(fresh_store.engine).users()
    assert [(u.username, u.role.value) for u in users] == [("demo", "admin")]
    monkeypatch.setenv("JINGWANG_DEMO_ADMIN", "no-colon")
    create_app(store=fresh_store)  # users exist: the variable is not even read
    fresh_store.engine.dispose()


def test_user_commands(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jw.db'}"
    upgrade(url)
    runner = CliRunner()
    base = ["--database-url", url]
    added = runner.invoke(cli, ["user", "add", "li", "--role", "supervisor",
                                "--display-name", "李", "--password-stdin", *base],
                          input="first-pass-1\n")
    assert added.exit_code == 0, added.output
    assert "li（supervisor）" in added.output
    twice = runner.invoke(cli, ["user", "add", "li", "--password-stdin", *base],
                          input="first-pass-1\n")
    assert twice.exit_code == 1 and "already exists" in twice.output
    short = runner.invoke(cli, ["user", "add", "wang", "--password-stdin", *base], input="x\n")
    assert short.exit_code == 1 and "too short" in short.output
    assert runner.invoke(cli, ["user", "passwd", "li", "--password-stdin", *base],
                         input="second-pass-2\n").exit_code == 0
    engine = make_engine(url)
    from argon2 import PasswordHasher

    stored = Accounts(engine).credentials("li")
    assert stored is not None and PasswordHasher().verify(stored[1], "second-pass-2")
    assert runner.invoke(cli, ["user", "role", "li", "viewer", *base]).exit_code == 0
    assert runner.invoke(cli, ["user", "disable", "li", *base]).exit_code == 0
    listed = runner.invoke(cli, ["user", "list", *base])
    assert "li\tviewer\t停用\t李" in listed.output
    assert runner.invoke(cli, ["user", "enable", "li", *base]).exit_code == 0
    token = runner.invoke(cli, ["user", "token", "li", "--name", "ci", *base])
    assert token.exit_code == 0 and token.output.startswith("jw_")
    assert runner.invoke(cli, ["user", "disable", "nobody", *base]).exit_code == 1
    engine.dispose()


def test_segments_cut_at_spans_and_clip_bad_offsets() -> None:
    class S:
        def __init__(self, start: int, end: int) -> None:
            self.start, self.end = start, end

    segs = segments("abcdef", [S(1, 3), S(2, 5), S(4, 99), S(-1, 2), S(7, 9)])
    assert "".join(s.text for s in segs) == "abcdef"
    assert [(s.text, len(s.marks)) for s in segs] == [
        ("a", 0), ("b", 1), ("c", 2), ("d", 1), ("e", 2), ("f", 1)]
