"""The daemon as a real subprocess: it crawls the sandbox, serves the UI, and stops cleanly."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[1]


def write_config(tmp_path: Path, *, web_port: int, sandbox_port: int) -> Path:
    config = tmp_path / "jingwang.yaml"
    config.write_text(f"""\
database_url: sqlite:///{tmp_path}/jw.db
evidence_dir: {tmp_path}/evidence
lexicon_dir: {ROOT}/keywords
platforms_dir: {ROOT}/config/platforms
web: {{host: 127.0.0.1, port: {web_port}}}
sandbox: {{host: 127.0.0.1, port: {sandbox_port}}}
sources:
  - name: demo
    platform: sandbox
    keywords: [认证, 检测报告, 证书, 3C]
    pages: 10
    interval: 1h
channels:
  - {{name: log, type: log}}
""", encoding="utf-8")
    return config


def jingwang(*args: str) -> list[str]:
    return [sys.executable, "-m", "jingwang.cli", *args]


def wait_for(predicate, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("condition not reached in time")


@pytest.mark.slow
def test_sigterm_mid_crawl_leaves_a_consistent_database(tmp_path: Path) -> None:
    web_port, sandbox_port = free_port(), free_port()
    config = write_config(tmp_path, web_port=web_port, sandbox_port=sandbox_port)
    env = {**os.environ, "JINGWANG_CONFIG": str(config)}
    env.pop("JINGWANG_DATABASE_URL", None)
    subprocess.run(jingwang("db", "upgrade"), check=True, env=env, cwd=tmp_path)
    db = create_engine(f"sqlite:///{tmp_path}/jw.db")

    def listings() -> int:
        with db.connect() as conn:
            return int(conn.execute(text("select count(*) from listing")).scalar_one())

    proc = subprocess.Popen(jingwang("run", "--with-sandbox"), env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(lambda: listings() >= 5)
        health = httpx.get(f"http://127.0.0.1:{web_port}/healthz", timeout=10)
        assert health.status_code == 200 and health.json()["status"] == "ok"
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    assert "stopped cleanly" in out

    with db.connect() as conn:
        runs = conn.execute(text("select status, finished_at from crawl_run")).all()
        assert runs and all(r.status != "running" and r.finished_at for r in runs), runs
        assert runs[-1].status == "interrupted", runs
        # every listing points at a stored version; every version has its HTML evidence
        orphans = conn.execute(text(
            "select count(*) from listing l left join listing_version v "
            "on v.id = l.current_version_id where v.id is null")).scalar_one()
        assert orphans == 0
        versions = conn.execute(text("select count(*) from listing_version")).scalar_one()
        assert versions == listings()
        rows = conn.execute(text("select sha256, path from evidence")).all()
    assert len(rows) >= versions
    for sha, path in rows:
        file = Path(path) if Path(path).is_absolute() else tmp_path / "evidence" / path
        data = file.read_bytes()
        assert hashlib.sha256(data).hexdigest() == sha
