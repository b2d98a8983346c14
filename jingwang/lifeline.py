"""Child processes that end with their parent.

A worker of a ``ProcessPoolExecutor`` waits on a pipe whose writing end it holds
itself, so it never sees its parent go: when the daemon is SIGKILLed (or dies of
out-of-memory), its ingest and OCR workers would live on as orphans, holding
memory and, for the ingest process, a database connection. Each worker calls
:func:`exit_with_parent` from its initializer; a daemon thread polls the parent
and ends the worker once it is gone (an unfinished transaction is rolled back by
the database).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time

POLL_SECONDS = 1.0


def exit_with_parent(poll: float = POLL_SECONDS) -> None:
    """End this process soon after its parent process ends — also when the parent died
    while this one was still starting (its pid is the one multiprocessing recorded at
    the spawn, not whatever ``getppid`` says by now)."""
    spawner = multiprocessing.parent_process()
    parent = spawner.pid if spawner is not None and spawner.pid else os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
