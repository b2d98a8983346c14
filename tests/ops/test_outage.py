"""The database goes away mid-crawl and comes back: the daemon logs it, /readyz says not
ready, and once the database is back every listing the crawl had fetched is stored.

The PostgreSQL server is shared with other tests, so it cannot be stopped. The daemon
reaches it instead through a TCP proxy on loopback that this test controls: cutting
the proxy aborts every open connection and refuses new ones, which is what the
daemon sees when its database restarts or the network between them fails; restoring
it lets connections through again. Migrations go straight to the server.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from sandbox.data import generate
from sandbox.faults import Faults
from sandbox.server import create_app
from tests.conftest import SANDBOX_SEED
from tests.ops.support import (
    Proc,
    TcpProxy,
    engine,
    env_for,
    http_status,
    platforms_dir,
    processes,
    rows,
    scalar,
    shop_sources,
    upgrade,
    wait_for,
    write_config,
)
from tests.servers import UvicornThread, free_port

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

SHOPS = 12
OUTAGE = 4.0  # seconds the database stays unreachable once the daemon noticed


def test_database_outage_is_reported_and_nothing_fetched_is_lost(
        tmp_path: Path, pg_database_url: str) -> None:
    catalog = generate(SANDBOX_SEED)
    shop_ids = [shop.id for shop in catalog.shops][:SHOPS]
    expected = {listing.id for shop in shop_ids for listing in catalog.shop_listings(shop)}
    real = make_url(pg_database_url)
    web_port = free_port()
    ready_url = f"http://127.0.0.1:{web_port}/readyz"
    app = create_app(seed=SANDBOX_SEED, faults=Faults(slow=0.1))
    with UvicornThread(app) as url, TcpProxy(real.port or 5432, free_port()) as proxy:
        proxied = real.set(host="127.0.0.1", port=proxy.port).render_as_string(
            hide_password=False)
        config = write_config(
            tmp_path, database_url=proxied,
            platforms=platforms_dir(tmp_path, url, concurrency=2),
            sources=shop_sources(shop_ids, 1), web_port=web_port)
        upgrade(config, tmp_path)
        db = engine(pg_database_url)  # the test's own view, never through the proxy
        with processes() as procs:
            daemon = Proc("daemon", ["run", "--json-logs"], cwd=tmp_path, env=env_for(config))
            procs.append(daemon)
            wait_for(lambda: scalar(db, "select count(*) from listing") >= 5, 90,
                     "the crawl stores listings")
            assert http_status(ready_url) == 200

            proxy.cut()
            wait_for(lambda: http_status(ready_url) == 503, 30, "/readyz reports not ready")
            body = httpx.get(ready_url, timeout=10).json()
            assert body["status"] == "not_ready" and not body["checks"]["database"]["ok"]
            assert body["checks"]["scheduler"]["ok"]  # alive, only the database is away
            wait_for(lambda: "database unavailable" in daemon.output(), 30,
                     "the daemon logs the outage")
            stored_during = scalar(db, "select count(*) from listing")
            time.sleep(OUTAGE)  # the crawl keeps fetching meanwhile
            # nothing was written while the database was unreachable
            assert scalar(db, "select count(*) from listing") == stored_during
            proxy.restore()

            wait_for(lambda: http_status(ready_url) == 200, 60, "/readyz ready again")
            wait_for(lambda: scalar(db, "select count(*) from crawl_run "
                                        "where status <> 'running'") >= 1, 120,
                     "the run finishes", every=0.5)
            assert daemon.terminate() == 0, daemon.output()[-3000:]

        fetched = {entry["path"].removeprefix("/item/").split("?")[0]
                   for entry in httpx.get(f"{url}/_log", timeout=10).json()
                   if entry["path"].startswith("/item/") and entry["status"] == 200}
    stored = {r[0] for r in rows(db, "select platform_listing_id from listing")}
    assert stored_during < len(expected)  # the outage did cut the crawl short of its end
    assert fetched == expected
    assert stored == fetched  # every listing fetched, also during the outage, was stored
    run = rows(db, "select status, stats from crawl_run")[0]
    assert run.status == "ok", run
    lines = daemon.json_lines()
    assert any(line.get("crawl_run_id") for line in lines
               if "database unavailable" in str(line.get("message")))
    assert any("database reachable again" in str(line.get("message")) for line in lines)
    db.dispose()
