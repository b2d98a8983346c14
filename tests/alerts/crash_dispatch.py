"""A dispatcher that dies (SIGKILL) right after a channel accepted a message and before
the outbox hears of it; run as a subprocess by test_crash.py.

Usage: python -m tests.alerts.crash_dispatch DB_URL WEBHOOK_URL MAILTO_URL NOW CRASH_ON
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from alerts.channels import AppriseChannel, Channel, WebhookChannel
from alerts.dispatcher import Dispatcher
from store.db import make_engine
from store.evidence import EvidenceStore
from store.service import Store


class CrashAfterSend:
    """The real channel, then a SIGKILL of this process once it has returned."""

    def __init__(self, inner: Channel) -> None:
        self.inner = inner
        self.name = inner.name

    async def send(self, *, idempotency_key: str, payload: dict[str, Any]) -> None:
        await self.inner.send(idempotency_key=idempotency_key, payload=payload)
        print(f"sent {idempotency_key}", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)


def main() -> None:
    database_url, webhook_url, mailto_url, now, crash_on = sys.argv[1:6]
    at = datetime.fromisoformat(now)
    engine = make_engine(database_url)
    store = Store(engine, EvidenceStore(Path(os.environ.get("TMPDIR", "/tmp")) / "unused"))
    channels: dict[str, Channel] = {"hook": WebhookChannel("hook", webhook_url),
                                    "mail": AppriseChannel("mail", mailto_url)}
    channels[crash_on] = CrashAfterSend(channels[crash_on])
    asyncio.run(Dispatcher(store, channels, clock=lambda: at).run_once())
    print("finished without crashing", flush=True)


if __name__ == "__main__":
    main()
