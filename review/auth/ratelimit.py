"""Login throttling: too many failed sign-ins for one name from one client, or from one
client at all, lock further attempts for a while."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from threading import Lock

# Bounds the memory an attacker can make us spend by spraying names and addresses.
MAX_KEYS = 10_000


class LoginLimiter:
    """Sliding-window counters of failures, kept in memory (one daemon process)."""

    def __init__(self, *, per_user: int = 5, per_client: int = 20, window: float = 900.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.per_user = per_user
        self.per_client = per_client
        self.window = window
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = Lock()

    @staticmethod
    def _keys(username: str, client: str) -> tuple[str, str]:
        return f"u:{client}:{username.strip().lower()}", f"c:{client}"

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def allowed(self, username: str, client: str) -> bool:
        """Whether another attempt may be checked now."""
        user_key, client_key = self._keys(username, client)
        now = self._clock()
        with self._lock:
            return (len(self._recent(user_key, now)) < self.per_user
                    and len(self._recent(client_key, now)) < self.per_client)

    def failed(self, username: str, client: str) -> None:
        now = self._clock()
        with self._lock:
            if len(self._failures) >= MAX_KEYS:
                for key in list(self._failures)[: MAX_KEYS // 10]:
                    del self._failures[key]
            for key in self._keys(username, client):
                self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, username: str, client: str) -> None:
        """A good password clears that name's failures from that client."""
        with self._lock:
            self._failures.pop(self._keys(username, client)[0], None)
