"""Active time windows of routes (office hours): when a route may notify, and when it may
next if not now. Outside its windows a message waits; it is never dropped."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_CLOCK = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")


def _minutes(value: str) -> int:
    match = _CLOCK.match(value.strip())
    if not match:
        raise ValueError(f"not a time of day: {value!r} (use HH:MM, e.g. 08:30)")
    minutes = int(match.group(1)) * 60 + int(match.group(2))
    if minutes > 24 * 60:
        raise ValueError(f"not a time of day: {value!r}")
    return minutes


def _weekday_set(specs: list[str]) -> frozenset[int]:
    days: set[int] = set()
    for spec in specs:
        parts = spec.strip().lower().split(":")
        if len(parts) > 2 or any(p not in WEEKDAYS for p in parts):
            raise ValueError(f"not a weekday or range: {spec!r} (e.g. monday:friday)")
        first, last = WEEKDAYS.index(parts[0]), WEEKDAYS.index(parts[-1])
        if last < first:
            raise ValueError(f"weekday range runs backwards: {spec!r}")
        days.update(range(first, last + 1))
    return frozenset(days)


class TimeRange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    weekdays: list[str] = Field(default_factory=list)  # empty: every day
    start: str = "00:00"
    end: str = "24:00"

    @field_validator("weekdays")
    @classmethod
    def _days(cls, value: list[str]) -> list[str]:
        _weekday_set(value)
        return value

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: str) -> str:
        _minutes(value)
        return value

    @model_validator(mode="after")
    def _order(self) -> TimeRange:
        if _minutes(self.start) >= _minutes(self.end):
            raise ValueError(f"start {self.start} is not before end {self.end}")
        return self

    def days(self) -> frozenset[int]:
        return _weekday_set(self.weekdays) if self.weekdays else frozenset(range(7))


class TimeInterval(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    location: str = "Asia/Shanghai"
    times: list[TimeRange] = Field(min_length=1)

    @field_validator("location")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. Asia/Shanghai)") from None
        return value

    def _windows(self, day: date) -> list[tuple[datetime, datetime]]:
        zone = ZoneInfo(self.location)
        midnight = datetime.combine(day, time(0), tzinfo=zone)
        return [(midnight + timedelta(minutes=_minutes(r.start)),
                 midnight + timedelta(minutes=_minutes(r.end)))
                for r in self.times if day.weekday() in r.days()]

    def next_active(self, now: datetime) -> datetime | None:
        """``now`` if the interval is active, else when it next starts (within 8 days)."""
        today = now.astimezone(ZoneInfo(self.location)).date()
        best: datetime | None = None
        for offset in range(-1, 9):
            for start, end in self._windows(today + timedelta(days=offset)):
                if start <= now < end:
                    return now
                if start > now and (best is None or start < best):
                    best = start
        return best


def next_active(intervals: list[TimeInterval], now: datetime) -> datetime:
    """When a route with these windows may next notify (``now`` without windows)."""
    if not intervals:
        return now
    times = [t for t in (i.next_active(now) for i in intervals) if t is not None]
    return min(times) if times else now
