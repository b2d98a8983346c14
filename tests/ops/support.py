"""Helpers of the operations tests: jingwang subprocesses, configs, a cuttable TCP proxy."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import httpx
from sqlalchemy import Engine, create_engine, text

ROOT = Path(__file__).resolve().parents[2]


def wait_for(predicate: Callable[[], Any], timeout: float = 60.0, what: str = "condition",
             every: float = 0.2) -> Any:
    """Poll until ``predicate()`` is truthy (and return it); fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"{what}: not reached within {timeout:.0f}s")


def platforms_dir(tmp_path: Path, sandbox_url: str, *, concurrency: int) -> Path:
    """The sandbox profile pointed at a live sandbox, with the given crawl concurrency."""
    folder = tmp_path / "platforms"
    folder.mkdir(exist_ok=True)
    profile = (ROOT / "config/platforms/sandbox.yaml").read_text(encoding="utf-8")
    profile = profile.replace('base_url: "http://127.0.0.1:8765"', f'base_url: "{sandbox_url}"')
    profile = profile.replace("concurrency: 8 ", f"concurrency: {concurrency} ")
    assert sandbox_url in profile and f"concurrency: {concurrency} " in profile
    (folder / "sandbox.yaml").write_text(profile, encoding="utf-8")
    return folder


def write_config(tmp_path: Path, *, database_url: str, platforms: Path, sources: str,
                 web_port: int, extra: str = "") -> Path:
    config = tmp_path / "jingwang.yaml"
    config.write_text(f"""\
database_url: {database_url}
evidence_dir: {tmp_path}/evidence
lexicon_dir: {ROOT}/keywords
platforms_dir: {platforms}
web: {{host: 127.0.0.1, port: {web_port}}}
sources:
{sources}
channels:
  - {{name: log, type: log}}
{extra}""", encoding="utf-8")
    return config


def shop_sources(shop_ids: list[str], groups: int, interval: str = "1h") -> str:
    """``groups`` shop sources that together cover ``shop_ids``."""
    lines = []
    for g in range(groups):
        shops = shop_ids[g::groups]
        lines.append(f"  - {{name: shops-{g}, platform: sandbox, kind: shop, "
                     f"shops: [{', '.join(shops)}], interval: {interval}}}")
    return "\n".join(lines)


class Proc:
    """A ``python -m jingwang.cli`` subprocess whose output goes to a file."""

    def __init__(self, name: str, args: list[str], *, cwd: Path, env: dict[str, str]) -> None:
        self.name = name
        self.log_path = cwd / f"{name}.log"
        self._log: IO[str] = self.log_path.open("a", encoding="utf-8")
        self.popen = subprocess.Popen([sys.executable, "-m", "jingwang.cli", *args], cwd=cwd,
                                      env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                      text=True)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def json_lines(self) -> list[dict[str, Any]]:
        lines = []
        for line in self.output().splitlines():
            with contextlib.suppress(ValueError):
                lines.append(json.loads(line))
        return lines

    def alive(self) -> bool:
        return self.popen.poll() is None

    def terminate(self, timeout: float = 60.0) -> int:
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout=timeout)
        finally:
            self.kill()

    def kill(self) -> None:
        if self.alive():
            self.popen.kill()
            self.popen.wait(timeout=10)
        self._log.close()


@contextlib.contextmanager
def processes() -> Iterator[list[Proc]]:
    """Every process started into the yielded list is killed on the way out."""
    started: list[Proc] = []
    try:
        yield started
    finally:
        for proc in started:
            proc.kill()


def env_for(config: Path) -> dict[str, str]:
    env = {**os.environ, "JINGWANG_CONFIG": str(config), "PYTHONUNBUFFERED": "1"}
    env.pop("JINGWANG_DATABASE_URL", None)
    return env


def upgrade(config: Path, cwd: Path) -> None:
    subprocess.run([sys.executable, "-m", "jingwang.cli", "db", "upgrade"], check=True,
                   env=env_for(config), cwd=cwd, capture_output=True, timeout=120)


def engine(url: str) -> Engine:
    return create_engine(url, pool_pre_ping=True)


def scalar(db: Engine, sql: str, **params: Any) -> Any:
    with db.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def rows(db: Engine, sql: str, **params: Any) -> list[Any]:
    with db.connect() as conn:
        return list(conn.execute(text(sql), params).all())


def http_status(url: str) -> int | None:
    try:
        return httpx.get(url, timeout=5).status_code
    except httpx.HTTPError:
        return None


class TcpProxy:
    """A loopback TCP proxy to PostgreSQL that a test can cut and restore.

    Cutting closes the listening socket (new connections are refused) and aborts every
    open connection, as a database restart or a network partition would; restoring
    listens on the same port again. It runs its own event loop on a thread.
    """

    def __init__(self, target_port: int, port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.port = port
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    def __enter__(self) -> TcpProxy:
        self.thread.start()
        self.restore()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cut()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=10)

    def restore(self) -> None:
        async def start() -> None:
            self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

        self._call(start())

    def cut(self) -> None:
        async def stop() -> None:
            if self.server is not None:
                self.server.close()
                self.server = None
            for writer in list(self.writers):
                writer.transport.abort()
            self.writers.clear()

        self._call(stop())

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.writers.update((writer, up_writer))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self.writers.difference_update((writer, up_writer))
