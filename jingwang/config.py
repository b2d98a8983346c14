"""The daemon's configuration file (``config/jingwang.yaml``) as typed settings."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from jingwang.yamlfile import load_model

DEFAULT_CONFIG = Path("config/jingwang.yaml")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


def parse_duration(value: Any) -> float:
    """Seconds from ``90``, ``"30s"``, ``"10m"``, ``"1.5h"`` or ``"1d"``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"not a duration: {value!r} (use e.g. 30s, 10m, 1h)")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SourceConfig(_Strict):
    """One thing to crawl on a schedule: a platform with keywords and pages."""

    name: str = Field(min_length=1)
    platform: str = Field(min_length=1)
    kind: Literal["search", "shop", "urls"] = "search"
    keywords: list[str] = Field(default_factory=list)
    shops: list[str] = Field(default_factory=list)
    urls: list[str] = Field(default_factory=list)
    pages: int = Field(default=1, ge=1, le=1000)
    interval: float = 3600.0
    enabled: bool = True
    region: str | None = None
    # Per-source crawler overrides of the platform profile (None: the profile decides).
    robots: Literal["respect", "ignore"] | None = None
    user_agent: str | None = None
    proxies: list[str] = Field(default_factory=list)

    @field_validator("interval", mode="before")
    @classmethod
    def _interval(cls, value: Any) -> float:
        seconds = parse_duration(value)
        if seconds < 1:
            raise ValueError("interval must be at least 1s")
        return seconds


class ChannelConfig(_Strict):
    """An alert channel: ``log``, ``webhook`` (JSON POST) or any Apprise URL."""

    name: str = Field(min_length=1)
    type: Literal["log", "webhook", "apprise"]
    url: str | None = None
    timeout: float = 10.0


class TakedownConfig(_Strict):
    """Follow-up of listings referred to their platform for cleanup (跟踪问效)."""

    check_interval: float = 6 * 3600.0
    escalate_after: float = 7 * 86400.0

    @field_validator("check_interval", "escalate_after", mode="before")
    @classmethod
    def _durations(cls, value: Any) -> float:
        seconds = parse_duration(value)
        if seconds < 60:
            raise ValueError("must be at least 1m")
        return seconds


class AlertsConfig(_Strict):
    """Routing of lead alerts to enforcement units; without the two files every new
    lead goes to every channel."""

    units_file: Path | None = None
    routing_file: Path | None = None
    timezone: str = "Asia/Shanghai"
    daily_digest_at: int = Field(default=8, ge=0, le=23)
    max_attempts: int = Field(default=8, ge=1, le=100)
    retry_base: float = 30.0
    retry_max: float = 3600.0
    takedown: TakedownConfig = Field(default_factory=TakedownConfig)

    @field_validator("retry_base", "retry_max", mode="before")
    @classmethod
    def _delays(cls, value: Any) -> float:
        seconds = parse_duration(value)
        if seconds <= 0:
            raise ValueError("must be positive")
        return seconds

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. Asia/Shanghai)") from None
        return value


class WebConfig(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    base_url: str | None = None


class SandboxConfig(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=8765, ge=1, le=65535)
    seed: int = 20231117


class SchedulerConfig(_Strict):
    """How ``jingwang run`` fires sources (APScheduler; schedules persist in the database)."""

    jitter: float = 30.0  # at most this random delay per run, and at most a tenth of the interval
    misfire_grace: float | None = None  # a run missed by longer is skipped; None: always run once

    @field_validator("jitter", "misfire_grace", mode="before")
    @classmethod
    def _durations(cls, value: Any) -> float | None:
        if value is None:
            return None
        seconds = parse_duration(value)
        if seconds < 0:
            raise ValueError("must not be negative")
        return seconds


class QueueConfig(_Strict):
    """The crawl queue of the many-machine mode (procrastinate on PostgreSQL)."""

    concurrency: int = Field(default=1, ge=1, le=64)  # crawl jobs one worker runs at once
    heartbeat: float = 10.0  # how often a worker says it is alive
    stalled_after: float = 60.0  # a worker silent this long is dead; its job runs again
    keep_finished: float = 7 * 86400.0  # finished queue jobs are deleted after this long

    @field_validator("heartbeat", "stalled_after", "keep_finished", mode="before")
    @classmethod
    def _durations(cls, value: Any) -> float:
        seconds = parse_duration(value)
        if seconds < 0.5:
            raise ValueError("must be at least 0.5s")
        return seconds


class Settings(_Strict):
    """Everything ``jingwang run`` needs; paths are relative to the working directory."""

    database_url: str = "sqlite:///var/jingwang.db"
    evidence_dir: Path = Path("var/evidence")
    lexicon_dir: Path = Path("keywords")
    platforms_dir: Path = Path("config/platforms")
    web: WebConfig = Field(default_factory=WebConfig)
    sandbox: SandboxConfig = Field(default_factory=SandboxConfig)
    sources: list[SourceConfig] = Field(default_factory=list)
    channels: list[ChannelConfig] = Field(default_factory=lambda: [
        ChannelConfig(name="log", type="log")])
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    scheduler: SchedulerConfig = Field(default_factory=SchedulerConfig)
    queue: QueueConfig = Field(default_factory=QueueConfig)

    @field_validator("sources")
    @classmethod
    def _unique_sources(cls, sources: list[SourceConfig]) -> list[SourceConfig]:
        seen: set[str] = set()
        for source in sources:
            if source.name in seen:
                raise ValueError(f"duplicate source name {source.name!r}")
            seen.add(source.name)
        return sources


def load_settings(path: str | Path | None = None) -> Settings:
    """Read the config file; ``JINGWANG_DATABASE_URL`` and ``JINGWANG_WEB_HOST`` override it."""
    path = Path(path or os.environ.get("JINGWANG_CONFIG") or DEFAULT_CONFIG)
    settings = load_model(Settings, path)
    url = os.environ.get("JINGWANG_DATABASE_URL")
    if url:
        settings = settings.model_copy(update={"database_url": url})
    host = os.environ.get("JINGWANG_WEB_HOST")
    if host:  # e.g. 0.0.0.0 inside a container; the default stays loopback
        settings.web.host = host
    return settings
