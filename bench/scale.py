"""Crawl throughput with 1, 2 and 4 ``jingwang worker`` processes against a sandbox that
adds 200 ms to every answer, each worker capped at the same concurrency.

Run: ``python3 -m uv run --frozen python bench/scale.py [--workers 1 2 4]
[--concurrency 4] [--latency 0.2] [--sources 16]``; PostgreSQL from
``JINGWANG_BENCH_DATABASE_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``).

The sandbox (all 61 shops, 345 listings) runs in its own process with the fault
``slow`` set to ``--latency``. Its shops are split into ``--sources`` shop sources.
For each worker count: a fresh database (``jingwang db upgrade``), that many
``jingwang worker --concurrency 1`` processes (one job at a time; the sandbox
profile's ``rate.concurrency`` caps each job's parallel requests), started and ready
before the clock starts; then one crawl job per source is queued and the bench waits
for the queue to drain. Throughput is pages (result + listing pages) over the time
from the first run's start to the last run's end, from the ``crawl_run`` rows.

Listing pictures go through OCR; a warm-up crawl fills the OCR cache (kept under
the evidence folder all passes share), so the passes measure crawling, not OCR.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jingwang import jobs  # noqa: E402

SERVER = os.environ.get("JINGWANG_BENCH_DATABASE_URL",
                        "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SEED = 20231117

SANDBOX = """
import sys, uvicorn
from sandbox.faults import Faults
from sandbox.server import create_app
uvicorn.run(create_app(seed={seed}, faults=Faults(slow={latency})), host="127.0.0.1",
            port={port}, log_level="warning")
"""


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready in {timeout:.0f}s")


def write_config(folder: Path, *, url: str, sandbox: str, concurrency: int,
                 sources: int, evidence: Path) -> Path:
    from sandbox.data import generate

    platforms = folder / "platforms"
    platforms.mkdir(exist_ok=True)
    profile = (ROOT / "config/platforms/sandbox.yaml").read_text(encoding="utf-8")
    profile = profile.replace('base_url: "http://127.0.0.1:8765"', f'base_url: "{sandbox}"')
    profile = profile.replace("concurrency: 8 ", f"concurrency: {concurrency} ")
    (platforms / "sandbox.yaml").write_text(profile, encoding="utf-8")
    shops = [shop.id for shop in generate(SEED).shops]
    lines = [f"  - {{name: shops-{g:02d}, platform: sandbox, kind: shop, "
             f"shops: [{', '.join(shops[g::sources])}], interval: 1d}}"
             for g in range(sources)]
    config = folder / f"jingwang-{uuid.uuid4().hex[:6]}.yaml"
    config.write_text(f"""\
database_url: {url}
evidence_dir: {evidence}
lexicon_dir: {ROOT}/keywords
platforms_dir: {platforms}
sources:
{chr(10).join(lines)}
channels: [{{name: log, type: log}}]
queue: {{heartbeat: 2s, stalled_after: 30s}}
""", encoding="utf-8")
    return config


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "jingwang.cli", *args]


async def enqueue(url: str, names: list[str]) -> None:
    app = jobs.make_app(url)
    async with app.open_async():
        for name in names:
            await jobs.defer_crawl(app, name)


def one_pass(folder: Path, *, workers: int, concurrency: int, sources: int, sandbox: str,
             evidence: Path) -> dict[str, float]:
    server = make_url(SERVER)
    name = f"jw_scale_{uuid.uuid4().hex[:8]}"
    url = server.set(database=name).render_as_string(hide_password=False)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'create database "{name}"'))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        config = write_config(folder, url=url, sandbox=sandbox, concurrency=concurrency,
                              sources=sources, evidence=evidence)
        env = {**os.environ, "JINGWANG_CONFIG": str(config)}
        env.pop("JINGWANG_DATABASE_URL", None)
        subprocess.run(cli("db", "upgrade"), env=env, check=True, capture_output=True)
        ports = [free_port() for _ in range(workers)]
        for i, port in enumerate(ports):
            log = (folder / f"worker-{workers}-{i}.log").open("wb")
            procs.append(subprocess.Popen(cli("worker", "--concurrency", "1", "--ops-port",
                                              str(port)), env=env, stdout=log,
                                          stderr=subprocess.STDOUT))
        for port in ports:
            wait_http(f"http://127.0.0.1:{port}/readyz")
        names = [f"shops-{g:02d}" for g in range(sources)]
        asyncio.run(enqueue(url, names))
        engine = create_engine(url)
        deadline = time.monotonic() + 1800
        with engine.connect() as conn:
            while time.monotonic() < deadline:
                left = conn.execute(text(
                    "select count(*) from procrastinate_jobs where status in "
                    "('todo', 'doing')")).scalar_one()
                conn.commit()
                if left == 0:
                    break
                time.sleep(0.5)
            row = conn.execute(text(
                "select sum((stats->>'pages')::int + (stats->>'listings')::int), "
                "sum((stats->>'listings')::int), "
                "extract(epoch from max(finished_at) - min(started_at)), "
                "count(*) filter (where status not in ('ok', 'partial')) "
                "from crawl_run")).one()
        engine.dispose()
        pages, listings, seconds, bad = int(row[0]), int(row[1]), float(row[2]), int(row[3])
        return {"workers": workers, "pages": pages, "listings": listings,
                "seconds": seconds, "pages_per_s": pages / seconds, "bad_runs": bad}
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
        with admin.connect() as conn:
            conn.execute(text("select pg_terminate_backend(pid) from pg_stat_activity "
                              "where datname = :n"), {"n": name})
            conn.execute(text(f'drop database if exists "{name}"'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--concurrency", type=int, default=4,
                        help="parallel requests of one crawl job (the profile's rate)")
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--sources", type=int, default=16)
    parser.add_argument("--no-warm-up", action="store_true")
    args = parser.parse_args()
    port = free_port()
    sandbox_url = f"http://127.0.0.1:{port}"
    sandbox = subprocess.Popen([sys.executable, "-c", SANDBOX.format(
        seed=SEED, latency=args.latency, port=port)], cwd=ROOT)
    try:
        wait_http(f"{sandbox_url}/robots.txt")
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            evidence = folder / "evidence"
            common = {"concurrency": args.concurrency, "sources": args.sources,
                      "sandbox": sandbox_url, "evidence": evidence}
            if not args.no_warm_up:
                warm = one_pass(folder, workers=2, **common)  # type: ignore[arg-type]
                print(f"warm-up (fills the OCR cache): {warm['seconds']:.1f}s", flush=True)
            results = []
            for n in args.workers:
                result = one_pass(folder, workers=n, **common)  # type: ignore[arg-type]
                results.append(result)
                print(f"{n} worker(s): {result['pages']:.0f} pages "
                      f"({result['listings']:.0f} listings) in {result['seconds']:.1f}s = "
                      f"{result['pages_per_s']:.1f} pages/s"
                      f"{'' if not result['bad_runs'] else ' (failed runs!)'}", flush=True)
            base = results[0]["pages_per_s"]
            for result in results:
                print(f"  {result['workers']:.0f} worker(s): "
                      f"{result['pages_per_s'] / base:.2f} x one worker")
    finally:
        sandbox.send_signal(signal.SIGTERM)
        sandbox.wait(timeout=30)


if __name__ == "__main__":
    main()
