"""A process pool that decodes and reads images, awaited from asyncio without blocking the loop.

Decoding hostile bytes and running the models both happen in worker
processes: a decoder crash or a runaway image costs a worker, never the
crawler, and the event loop only waits on a future. Each worker builds its
:class:`~detectors.ocr.engine.OcrEngine` once. Workers start with ``spawn``
(the crawler process has threads; forking it could deadlock) and only when
the first image arrives.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from detectors.ocr.engine import OcrEngine, engine_key
from detectors.ocr.images import ImageLimits, ImageRefused, decode
from jingwang.lifeline import exit_with_parent

log = logging.getLogger("jingwang.ocr")

OCR_TIMEOUT = "ocr_timeout"
OCR_CRASHED = "ocr_crashed"
OCR_UNAVAILABLE = "ocr_unavailable"

_ENGINE: OcrEngine | None = None  # one per worker process


def default_workers() -> int:
    """Leave a core to the crawler, detectors and store: one worker on two cores."""
    return max(1, min(4, (os.cpu_count() or 2) - 1))


@dataclass(frozen=True, slots=True)
class JobResult:
    """What a worker made of one image: its text, or why it was refused."""

    text: str | None  # None: refused
    reason: str | None = None
    message: str = ""
    width: int = 0
    height: int = 0
    seconds: float = 0.0  # decode + OCR time in the worker

    @property
    def refused(self) -> bool:
        return self.text is None


class OcrFailed(Exception):
    """The pool could not read an image this time (timeout, crashed worker); try again later."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message


def _start_worker() -> None:
    global _ENGINE
    # Ctrl-C reaches the whole process group; the parent decides when workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    exit_with_parent()  # a SIGKILLed parent leaves no orphan behind
    _ENGINE = OcrEngine()


def _ready() -> None:
    """A job that only makes a worker start (its initializer loads the models)."""


def read_job(data: bytes, limits: ImageLimits) -> JobResult:
    """Decode and read one image (runs in a worker; also callable in-process)."""
    global _ENGINE
    started = time.perf_counter()
    try:
        image = decode(data, limits)
    except ImageRefused as exc:
        return JobResult(None, exc.reason, exc.message, seconds=time.perf_counter() - started)
    if _ENGINE is None:
        _ENGINE = OcrEngine()
    text = _ENGINE.read(image)
    return JobResult(text, width=image.width, height=image.height,
                     seconds=time.perf_counter() - started)


class OcrPool:
    """``await pool.read(data)`` → :class:`JobResult`; :class:`OcrFailed` on timeout or crash."""

    def __init__(self, *, workers: int | None = None, limits: ImageLimits | None = None,
                 timeout: float = 120.0) -> None:
        self.workers = workers or default_workers()
        self.limits = limits or ImageLimits()
        self.timeout = timeout
        self.key = engine_key()
        self.ocr_runs = 0  # images the engine read (refused ones never reach it)
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start_worker)
            return self._executor

    def warm(self) -> None:
        """Start the workers now, so their models load while a crawl fetches its first pages."""
        executor = self._pool()
        try:
            for _ in range(self.workers):
                executor.submit(_ready)
        except BrokenProcessPool:
            self._restart(executor)
        except RuntimeError as exc:  # no worker can start here; each read will say so
            log.warning("OCR workers cannot start: %s", str(exc).strip().splitlines()[0])

    async def read(self, data: bytes) -> JobResult:
        executor = self._pool()
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.timeout):
                result = await loop.run_in_executor(executor, read_job, data, self.limits)
        except TimeoutError:
            # The worker may be stuck in the decoder or the model: replace the pool.
            self._restart(executor)
            raise OcrFailed(OCR_TIMEOUT, f"识别超过 {self.timeout:g} 秒未完成") from None
        except BrokenProcessPool:
            self._restart(executor)
            raise OcrFailed(OCR_CRASHED, "识别进程异常退出（图片可能触发了解码器缺陷）") from None
        except RuntimeError as exc:
            # The pool was shut down, or workers cannot be spawned (a main module
            # without an ``if __name__ == "__main__"`` guard).
            reason = str(exc).strip()[:200]
            raise OcrFailed(OCR_UNAVAILABLE, f"识别进程无法启动：{reason}") from None
        if not result.refused:
            self.ocr_runs += 1
        return result

    def _restart(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._executor is not broken:
                return  # another caller replaced it already
            self._executor = None
        log.warning("OCR pool restarted")
        _terminate(broken)

    def close(self) -> None:
        """Stop the workers; queued images are cancelled."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)


def _terminate(executor: ProcessPoolExecutor) -> None:
    # ProcessPoolExecutor cannot kill a busy worker; its process table is the only handle.
    processes = list(getattr(executor, "_processes", {}).values())
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
