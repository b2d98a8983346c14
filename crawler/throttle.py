"""Per-host politeness: a concurrency limit and a delay that adapts to the host.

Like Scrapy's AutoThrottle, the delay between request starts moves towards
latency ÷ concurrency while the host answers well, never below the profile's
``rate.delay``; a 429, a 5xx or a network error doubles it (up to
``rate.max_delay``), and a ``Retry-After`` or a block pauses the host outright.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from crawler.profiles import RateSpec

# The least delay after a failure, so a profile with ``delay: 0`` still slows down.
PENALTY_FLOOR = 0.25


class HostGate:
    """At most ``concurrency`` requests at once to one host, polite ones ``delay`` apart."""

    def __init__(self, rate: RateSpec) -> None:
        self._slots = asyncio.Semaphore(rate.concurrency)
        self._lock = asyncio.Lock()
        self.concurrency = rate.concurrency
        self.min_delay = rate.delay
        self.max_delay = max(rate.max_delay, rate.delay)
        self.adaptive = rate.adaptive
        self.delay = rate.delay
        self._next_start = 0.0
        self._paused_until = 0.0

    def pause_until(self, moment: float) -> None:
        """No request to this host starts before ``moment`` (``time.monotonic()``)."""
        self._paused_until = max(self._paused_until, moment)

    @property
    def paused_for(self) -> float:
        return max(0.0, self._paused_until - time.monotonic())

    def observe(self, latency: float) -> None:
        """A good answer after ``latency`` seconds: move the delay towards the host's pace."""
        if not self.adaptive:
            return
        target = latency / self.concurrency
        new = max(target, (self.delay + target) / 2)
        self.delay = min(self.max_delay, max(self.min_delay, new))

    def penalise(self) -> None:
        """A 429, 5xx or network error: double the delay, counted from now."""
        if not self.adaptive:
            return
        self.delay = min(self.max_delay, max(self.delay * 2, self.min_delay, PENALTY_FLOOR))
        self._next_start = max(self._next_start, time.monotonic() + self.delay)

    @asynccontextmanager
    async def slot(self, *, polite: bool = True) -> AsyncIterator[None]:
        """Hold one of the host's slots; ``polite`` requests also keep the delay."""
        async with self._slots:
            async with self._lock:
                start = self._paused_until
                if polite:
                    start = max(start, self._next_start)
                wait = start - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                if polite:
                    self._next_start = time.monotonic() + self.delay
            yield
