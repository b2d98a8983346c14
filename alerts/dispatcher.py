"""Delivers outbox rows to their channels in batches, with retries and exponential back-off.

Each channel's batches go out in order while channels run side by side, so one channel
that is down delays nothing else; its messages wait, are retried with back-off, and all
go out once it is back. A message is never dropped except after ``max_attempts``, and
then it stays in the log as failed (``jingwang alerts retry`` queues it again).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from alerts.channels import Channel, DeliveryError
from jingwang.clock import utcnow
from store.outbox_batches import AlertOutbox, Batch
from store.service import Store

log = logging.getLogger("jingwang.alerts")



@dataclass
class DispatchStats:
    delivered: int = 0  # outbox rows
    failed: int = 0
    retried: int = 0
    messages: int = 0  # batches sent


class Dispatcher:
    """Sends every due outbox message once; a failed one is retried later, never lost."""

    def __init__(self, store: Store, channels: Mapping[str, Channel], *,
                 max_attempts: int = 8, base_delay: float = 30.0, max_delay: float = 3600.0,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.outbox = AlertOutbox(store.engine, clock=clock)
        self.channels = channels
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.clock = clock

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after ``attempts`` failures: exponential with full jitter."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** max(0, attempts - 1))
        return random.uniform(ceiling / 2, ceiling)

    async def run_once(self, *, limit: int = 50) -> DispatchStats:
        stats = DispatchStats()
        batches = await asyncio.to_thread(self.outbox.claim, now=self.clock(), limit=limit)
        by_channel: dict[str, list[Batch]] = defaultdict(list)
        for batch in batches:
            by_channel[batch.channel].append(batch)
        await asyncio.gather(*(self._send_all(name, items, stats)
                               for name, items in by_channel.items()))
        return stats

    async def _send_all(self, name: str, batches: list[Batch], stats: DispatchStats) -> None:
        channel = self.channels.get(name)
        for batch in batches:
            try:
                if channel is None:
                    raise DeliveryError(f"no channel named {name!r} is configured",
                                        retryable=False)
                await channel.send(idempotency_key=batch.idempotency_key,
                                   payload=batch.payload)
            except Exception as exc:  # a channel's own bug must not lose the message either
                retryable = exc.retryable if isinstance(exc, DeliveryError) else True
                give_up = not retryable or batch.attempts >= self.max_attempts
                retry_at = None if give_up else self.clock() + timedelta(
                    seconds=self.backoff(batch.attempts))
                log.warning("alert %s to %s failed (attempt %d): %s", batch.idempotency_key,
                            name, batch.attempts, exc)
                error = (str(exc) if isinstance(exc, DeliveryError)
                         else f"{type(exc).__name__}: {exc}")
                await asyncio.to_thread(self.outbox.failed, batch, error=error[:2000],
                                        retry_at=retry_at)
                if give_up:
                    stats.failed += len(batch.outbox_ids)
                else:
                    stats.retried += len(batch.outbox_ids)
            else:
                await asyncio.to_thread(self.outbox.delivered, batch, at=self.clock())
                stats.delivered += len(batch.outbox_ids)
                stats.messages += 1

    async def run_forever(self, stop: asyncio.Event, *, interval: float = 2.0) -> None:
        """Poll the outbox until ``stop`` is set; errors are logged, never fatal."""
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:
                log.exception("alert dispatcher pass failed; will try again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)
