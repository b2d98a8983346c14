"""One machine: the daemon is killed and started again; its schedule resumes from the
database, and the runs it missed while down are coalesced into one."""

from __future__ import annotations

import math
import os
import re
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

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
    upgrade,
    wait_for,
    write_config,
)
from tests.servers import UvicornThread, free_port

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

INTERVAL = 5.0
MISSED = 2


def _runs(db: object) -> list[datetime]:
    return [r[0] for r in rows(db, "select started_at from crawl_run order by id")]  # type: ignore[arg-type]


def _next_run(db: object) -> datetime:
    stamp = scalar(db, "select next_run_time from apscheduler_jobs "  # type: ignore[arg-type]
                       "where id = 'source:one'")
    return datetime.fromtimestamp(float(stamp), UTC)


def test_restart_resumes_the_schedule_and_coalesces_missed_runs(
        tmp_path: Path, pg_database_url: str) -> None:
    with UvicornThread(create_app(seed=SANDBOX_SEED)) as url:
        config = write_config(
            tmp_path, database_url=pg_database_url,
            platforms=platforms_dir(tmp_path, url, concurrency=2),
            sources=f"  - {{name: one, platform: sandbox, kind: shop, shops: [shop-0001], "
                    f"interval: {INTERVAL:g}s}}",
            web_port=free_port(), extra="scheduler: {jitter: 0s}\n")
        upgrade(config, tmp_path)
        env = env_for(config)
        db = engine(pg_database_url)
        with processes() as procs:
            first = Proc("daemon-1", ["run", "--no-web"], cwd=tmp_path, env=env)
            procs.append(first)
            wait_for(lambda: scalar(db, "select count(*) from crawl_run "
                                        "where status = 'ok'") >= 1, 90, "a first run")
            os.kill(first.pid, signal.SIGKILL)
            first.popen.wait(timeout=10)
            due = _next_run(db)
            before = len(_runs(db))
            # Stay down until MISSED runs fell due, restarting half-way to the next one.
            restart_at = due + timedelta(seconds=(MISSED - 0.5) * INTERVAL)
            wait_for(lambda: datetime.now(UTC) >= restart_at, 60, "the missed runs",
                     every=0.05)
            second = Proc("daemon-2", ["run", "--no-web"], cwd=tmp_path, env=env)
            procs.append(second)
            wait_for(lambda: len(_runs(db)) >= before + 2, 90, "two runs after the restart")
            assert second.terminate() == 0, second.output()[-3000:]

        log = second.output()
        # the stored schedule was resumed, not replaced by a new one
        found = re.search(r"source one: (\d+) run\(s\) fell due while stopped", log)
        assert found and int(found.group(1)) >= MISSED, log[-3000:]
        assert "scheduled every" not in log
        after = _runs(db)[before:]
        # One run per interval slot of the stored schedule: the missed ones ran once.
        slots = [math.floor((at - due).total_seconds() / INTERVAL) for at in after]
        assert slots[0] >= MISSED - 1, (due, after)
        assert len(slots) == len(set(slots)), (due, after)
        db.dispose()
