"""The one wall clock: timezone-aware UTC. Classes take a ``clock`` so tests hand in their own."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
