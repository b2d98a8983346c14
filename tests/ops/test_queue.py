"""Many machines: a scheduler and two workers as real processes on real PostgreSQL.

The first worker to take a job is killed with SIGKILL in the middle of it. Its
heartbeat stops, the scheduler puts the job back in the queue, the other worker runs
it, and in the end every sandbox listing is stored exactly once, with no lead or
alert twice.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from sandbox.data import generate
from sandbox.faults import Faults
from sandbox.server import create_app
from tests.conftest import SANDBOX_SEED
from tests.ops.support import (
    Proc,
    engine,
    env_for,
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

GROUPS = 6


def _worker_crawling(proc: Proc) -> str | None:
    """The source the worker logged it is crawling, if any."""
    for line in proc.json_lines():
        message = str(line.get("message", ""))
        if "crawling source" in message:
            return message.rsplit(" ", 1)[-1]
    return None


def test_killed_worker_job_is_retried_and_nothing_is_stored_twice(
        tmp_path: Path, pg_database_url: str) -> None:
    catalog = generate(SANDBOX_SEED)
    shop_ids = [shop.id for shop in catalog.shops]
    # Slow answers make each job last a few seconds, so the kill lands mid-job.
    with UvicornThread(create_app(seed=SANDBOX_SEED, faults=Faults(slow=0.08))) as url:
        config = write_config(
            tmp_path, database_url=pg_database_url,
            platforms=platforms_dir(tmp_path, url, concurrency=2),
            sources=shop_sources(shop_ids, GROUPS), web_port=free_port(),
            extra="queue: {heartbeat: 0.5s, stalled_after: 3s}\n"
                  "scheduler: {jitter: 0s}\n")
        upgrade(config, tmp_path)
        env = env_for(config)
        db = engine(pg_database_url)
        with processes() as procs:
            procs.append(Proc("scheduler", ["run", "--role", "scheduler", "--json-logs"],
                              cwd=tmp_path, env=env))
            workers = [Proc(f"worker-{n}", ["worker", "--json-logs"], cwd=tmp_path, env=env)
                       for n in "ab"]
            procs.extend(workers)
            victim, source = wait_for(lambda: next(
                ((w, s) for w in workers if (s := _worker_crawling(w))), None), 90,
                "a worker takes a job")
            # Let it store part of the source, then kill it without warning.
            run_id = wait_for(lambda: scalar(
                db, "select r.id from crawl_run r join source s on s.id = r.source_id "
                    "where s.name = :n and r.status = 'running' "
                    "and cast(r.stats ->> 'listings' as int) >= 0", n=source), 30,
                "the victim's run starts")
            wait_for(lambda: scalar(db, "select count(*) from listing") >= 3, 30,
                     "some listings stored")
            assert victim.alive()
            os.kill(victim.pid, signal.SIGKILL)
            victim.popen.wait(timeout=10)

            def settled() -> bool:
                queued = scalar(db, "select count(*) from procrastinate_jobs "
                                    "where status in ('todo', 'doing')")
                done = scalar(db, "select count(*) from procrastinate_jobs "
                                  "where status = 'succeeded'")
                return queued == 0 and done >= GROUPS

            wait_for(settled, 150, "every crawl job finished", every=0.5)
            for proc in procs:
                if proc is not victim:
                    assert proc.terminate() == 0, proc.output()[-3000:]
            log = "\n".join(p.output() for p in procs)

        expected = {listing.id for listing in catalog.listings}
        stored = {r[0] for r in rows(db, "select platform_listing_id from listing")}
        assert stored == expected
        assert scalar(db, "select count(*) from listing") == len(expected)
        # unchanged content is stored once: one version per listing
        assert scalar(db, "select count(*) from listing_version") == len(expected)
        assert scalar(db, "select count(*) from finding") == scalar(
            db, "select count(*) from (select distinct version_id, rule, field, start, "
                "\"end\" from finding) f")
        assert scalar(db, "select count(*) from finding") > 0
        leads = scalar(db, "select count(*) from lead")
        assert leads > 0
        assert not rows(db, "select seller_id from lead group by seller_id having count(*) > 1")
        # one alert per new lead on the one channel, never two
        assert scalar(db, "select count(*) from outbox where lead_id is not null") == leads
        # the killed worker's job was queued again and its source crawled to the end
        assert "lost its worker" in log
        killed = rows(db, "select status, error from crawl_run where id = :id", id=run_id)[0]
        assert killed.status == "interrupted" and "进程中断" in killed.error
        assert scalar(db, "select count(*) from crawl_run r join source s on s.id = r.source_id "
                          "where s.name = :n and r.id > :id and r.status in ('ok', 'partial')",
                      n=source, id=run_id) >= 1
        assert scalar(db, "select count(*) from crawl_run where status = 'running'") == 0
        db.dispose()
