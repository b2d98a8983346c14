"""Two schedulers on one database: one schedules, the other stands by and takes over
(resuming the stored schedules) when the first one dies."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from tests.ops.support import (
    Proc,
    engine,
    env_for,
    platforms_dir,
    processes,
    scalar,
    upgrade,
    wait_for,
    write_config,
)
from tests.servers import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def test_second_scheduler_stands_by_and_takes_over(tmp_path: Path,
                                                   pg_database_url: str) -> None:
    config = write_config(
        tmp_path, database_url=pg_database_url,
        platforms=platforms_dir(tmp_path, "http://127.0.0.1:9", concurrency=1),
        sources="\n".join(f"  - {{name: s{i}, platform: sandbox, kind: shop, "
                          f"shops: [shop-000{i}], interval: 1h}}" for i in (1, 2)),
        web_port=free_port())
    upgrade(config, tmp_path)
    env = env_for(config)
    db = engine(pg_database_url)
    with processes() as procs:
        first = Proc("scheduler-1", ["run", "--role", "scheduler"], cwd=tmp_path, env=env)
        procs.append(first)
        wait_for(lambda: "scheduler running" in first.output(), 90, "the first schedules")
        second = Proc("scheduler-2", ["run", "--role", "scheduler"], cwd=tmp_path, env=env)
        procs.append(second)
        wait_for(lambda: "standing by" in second.output(), 90, "the second stands by")
        wait_for(lambda: scalar(db, "select count(*) from procrastinate_jobs") == 2, 30,
                 "both sources queued")
        assert "crawl queued" not in second.output()

        os.kill(first.pid, signal.SIGKILL)
        first.popen.wait(timeout=10)
        wait_for(lambda: "took over scheduling" in second.output(), 60, "the take-over")
        assert second.terminate() == 0, second.output()[-3000:]
    log = second.output()
    # the stored schedules were resumed, not made anew; nothing was queued twice
    assert "source s1: schedule resumed" in log and "scheduled every" not in log
    assert scalar(db, "select count(*) from procrastinate_jobs") == 2
    db.dispose()
