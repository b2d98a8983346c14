"""Logging set-up: readable lines by default, one JSON object a line when asked."""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "run_tag"}


@dataclass
class RunContext:
    """The crawl a task works for. Mutable on purpose: tasks and threads started for the
    run copy the context variable, so they share this object and see the run id once
    the run has one."""

    source: str
    crawl_run_id: int | None = None


_RUN: ContextVar[RunContext | None] = ContextVar("jingwang_run", default=None)


@contextlib.contextmanager
def bind_run(source: str) -> Iterator[RunContext]:
    """Tag every log line of the code inside (and of the tasks it starts) with the run."""
    context = RunContext(source)
    token = _RUN.set(context)
    try:
        yield context
    finally:
        _RUN.reset(token)


def current_run() -> RunContext | None:
    return _RUN.get()


class RunFilter(logging.Filter):
    """Adds ``source`` and ``crawl_run_id`` of the current crawl to each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _RUN.get()
        run_id = getattr(record, "crawl_run_id", None)
        tag = ""
        if context is not None:
            if getattr(record, "source", None) is None:
                record.source = context.source
            run_id = run_id if run_id is not None else context.crawl_run_id
            tag = f" [{context.source}#{run_id or '-'}]"
        # every JSON line has the key, null outside a crawl
        record.crawl_run_id = run_id
        record.run_tag = tag
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        data.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


def setup_logging(*, json_logs: bool = False, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_logs else logging.Formatter(
        "%(asctime)s %(levelname)-7s %(name)s%(run_tag)s: %(message)s"))
    handler.addFilter(RunFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "apscheduler.executors.default", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
