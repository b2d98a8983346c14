"""The route tree (``config/routing.yaml``), in the manner of Prometheus Alertmanager.

A lead event walks the tree from the root: a child whose matchers all match takes it
(and the walk stops there unless the child says ``continue: true``); a node none of
whose children match takes it itself. Each node that takes it names a unit (by role,
id or name; children inherit it and the timing); the unit's receivers get one outbox
row each, and a unit reached by two routes is alerted once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
)
from pydantic_core import PydanticCustomError

from alerts.timeintervals import TimeInterval, next_active
from alerts.units import Units
from jingwang.config import parse_duration
from jingwang.errors import ConfigError
from jingwang.yamlfile import LineMap, load_yaml, validation_error
from store.alerting import Delivery, LeadLabels

LABELS = ("event", "category", "severity", "platform", "region", "score", "status",
          "signal", "rule", "referral")
MULTI_LABELS = frozenset({"category", "platform", "signal", "rule"})
EVENTS = ("created", "confirmed", "referred", "reminder", "takedown_overdue")
_MATCHER = re.compile(
    r'^\s*(?P<label>[a-z_]+)\s*(?P<op>=~|!~|!=|>=|<=|=|>|<)\s*'
    r'(?:"(?P<quoted>(?:[^"\\]|\\.)*)"|(?P<bare>[^\s"]+))\s*$')
_NUMERIC_OPS = (">", ">=", "<", "<=")


@dataclass(frozen=True, slots=True)
class Matcher:
    label: str
    op: str
    value: str
    pattern: re.Pattern[str] | None = None

    def matches(self, labels: LeadLabels) -> bool:
        values = labels.values(self.label)
        if self.op in _NUMERIC_OPS:
            number, bound = labels.score, float(self.value)
            return {">": number > bound, ">=": number >= bound, "<": number < bound,
                    "<=": number <= bound}[self.op]
        if self.op in ("=", "!="):
            hit = self.value in values
        else:
            assert self.pattern is not None
            hit = any(self.pattern.fullmatch(v) for v in values)
        return hit if self.op in ("=", "=~") else not hit

    def __str__(self) -> str:
        if self.op in _NUMERIC_OPS:
            return f"{self.label}{self.op}{self.value}"
        return f'{self.label}{self.op}"{self.value}"'


def parse_matcher(text: str) -> Matcher:
    """``label op "value"``: ops ``=``, ``!=``, ``=~``, ``!~`` on every label, and
    ``>``, ``>=``, ``<``, ``<=`` on ``score``. Regexes are anchored, as in Alertmanager."""
    match = _MATCHER.match(text)
    if not match:
        raise ValueError(f'not a matcher: {text!r} (use e.g. category="fake_certificate", '
                         f'severity=~"high|critical", score>=10)')
    label, op = match.group("label"), match.group("op")
    value = match.group("quoted")
    value = re.sub(r"\\(.)", r"\1", value) if value is not None else match.group("bare")
    if label not in LABELS:
        raise ValueError(f"unknown label {label!r} (labels: {', '.join(LABELS)})")
    if op in _NUMERIC_OPS:
        if label != "score":
            raise ValueError(f"{op} compares numbers: only score takes it, not {label}")
        try:
            float(value)
        except ValueError:
            raise ValueError(f"score{op} needs a number, not {value!r}") from None
        return Matcher(label, op, value)
    if label == "event" and op in ("=", "!=") and value not in EVENTS:
        raise ValueError(f"unknown event {value!r} (events: {', '.join(EVENTS)})")
    if op in ("=~", "!~"):
        try:
            pattern = re.compile(value)
        except re.error as exc:
            raise ValueError(f"bad regex {value!r}: {exc}") from None
        return Matcher(label, op, value, pattern)
    return Matcher(label, op, value)


def _checked_matcher(text: str) -> str:
    try:
        parse_matcher(text)
    except ValueError as exc:
        # A custom error is shown as is (a ValueError would get a "Value error, " prefix).
        raise PydanticCustomError("matcher", str(exc)) from None
    return text


def _duration(value: Any) -> float | None:
    if value is None:
        return None
    seconds = parse_duration(value)
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return seconds


Duration = Annotated[float | None, BeforeValidator(_duration)]
GROUP_LABELS = (*LABELS, "unit", "lead", "...")


def _group_label(value: str) -> str:
    if value not in GROUP_LABELS:
        raise ValueError(f"cannot group by {value!r} (use: {', '.join(GROUP_LABELS)})")
    return value


class RouteConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    unit: str | None = None
    matchers: list[Annotated[str, AfterValidator(_checked_matcher)]] = Field(
        default_factory=list)
    continue_: bool = Field(default=False, alias="continue")
    group_by: list[Annotated[str, AfterValidator(_group_label)]] | None = None
    group_wait: Duration = None
    group_interval: Duration = None
    repeat_interval: Duration = None
    active_time_intervals: list[str] = Field(default_factory=list)
    routes: list[RouteConfig] = Field(default_factory=list)


class RoutingFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    route: RouteConfig
    time_intervals: list[TimeInterval] = Field(default_factory=list)


# Root defaults (Alertmanager's, except a shorter group_wait: a lead is worth minutes).
DEFAULT_GROUP_BY = ("unit",)
DEFAULT_GROUP_WAIT = 30.0
DEFAULT_GROUP_INTERVAL = 300.0
DEFAULT_REPEAT_INTERVAL = 4 * 3600.0


@dataclass
class Route:
    """A node of the tree with its inherited settings filled in."""

    path: str
    unit: str
    matchers: tuple[Matcher, ...]
    continue_: bool
    group_by: tuple[str, ...]
    group_wait: float
    group_interval: float
    repeat_interval: float
    intervals: list[TimeInterval]
    routes: list[Route] = field(default_factory=list)

    def matches(self, labels: LeadLabels) -> bool:
        return all(m.matches(labels) for m in self.matchers)


class Router:
    """Routes lead events to units' receivers; implements ``store.alerting.Router``."""

    def __init__(self, root: Route, units: Units) -> None:
        self.root = root
        self.units = units

    def match(self, labels: LeadLabels) -> list[Route]:
        """The nodes that take the event, in tree order."""
        return _walk(self.root, labels)

    def route(self, labels: LeadLabels, *, now: datetime) -> list[Delivery]:
        deliveries: list[Delivery] = []
        seen: set[str] = set()
        for node in self.match(labels):
            unit = self.units.resolve(node.unit)
            if unit is None or unit.id in seen:
                continue
            seen.add(unit.id)
            deliveries.extend(self._deliveries(node, unit.id, labels, now))
        return deliveries

    def unit_deliveries(self, unit: str, labels: LeadLabels, *,
                        now: datetime) -> list[Delivery]:
        config = self.units.resolve(unit)
        if config is None:
            return []
        return self._deliveries(self.root, config.id, labels, now)

    def unit_name(self, unit: str) -> str | None:
        config = self.units.resolve(unit)
        return config.name if config else None

    def _deliveries(self, node: Route, unit_id: str, labels: LeadLabels,
                    now: datetime) -> list[Delivery]:
        unit = self.units.by_id(unit_id)
        assert unit is not None
        key = group_key(node.group_by, unit.id, labels)
        not_before = next_active(node.intervals, now + timedelta(seconds=node.group_wait))
        return [Delivery(unit=unit.id, unit_name=unit.name, channel=channel, group_key=key,
                         not_before=not_before, group_interval=node.group_interval,
                         repeat_interval=node.repeat_interval)
                for channel in unit.receivers]


def group_key(group_by: tuple[str, ...], unit: str, labels: LeadLabels) -> str:
    """Messages with the same key are sent together; ``...`` groups by every label,
    which is one lead per message."""
    if "..." in group_by:
        return f"{unit}|lead={labels.lead_id}|event={labels.event}"
    parts = [f"unit={unit}"]
    for name in group_by:
        if name == "unit":
            continue
        value = str(labels.lead_id) if name == "lead" else ",".join(labels.values(name))
        parts.append(f"{name}={value}")
    return "|".join(parts)


def _walk(node: Route, labels: LeadLabels) -> list[Route]:
    taken: list[Route] = []
    for child in node.routes:
        if child.matches(labels):
            taken.extend(_walk(child, labels))
            if not child.continue_:
                break
    return taken or [node]


def build_tree(config: RouteConfig, intervals: dict[str, TimeInterval], *, path: str,
               parent: Route | None) -> Route:
    unit = config.unit or (parent.unit if parent else "")
    route = Route(
        path=path, unit=unit, matchers=tuple(parse_matcher(m) for m in config.matchers),
        continue_=config.continue_,
        group_by=tuple(config.group_by) if config.group_by is not None else (
            parent.group_by if parent else DEFAULT_GROUP_BY),
        group_wait=_pick(config.group_wait, parent.group_wait if parent else None,
                         DEFAULT_GROUP_WAIT),
        group_interval=_pick(config.group_interval, parent.group_interval if parent else None,
                             DEFAULT_GROUP_INTERVAL),
        repeat_interval=_pick(config.repeat_interval,
                              parent.repeat_interval if parent else None,
                              DEFAULT_REPEAT_INTERVAL),
        intervals=[intervals[n] for n in config.active_time_intervals] if (
            config.active_time_intervals) else (parent.intervals if parent else []))
    route.routes = [build_tree(child, intervals, path=f"{path}.routes.{i}", parent=route)
                    for i, child in enumerate(config.routes)]
    return route


def _pick(own: float | None, inherited: float | None, default: float) -> float:
    if own is not None:
        return own
    return inherited if inherited is not None else default


def load_routing(path: str | Path, units: Units) -> Router:
    """Load and check the route tree: matchers, units and time intervals it names."""
    data, lines = load_yaml(path)
    if data is None:
        raise ConfigError(path, "file is empty")
    try:
        model = RoutingFile.model_validate(data)
    except ValidationError as exc:
        raise validation_error(path, exc, lines) from None
    intervals: dict[str, TimeInterval] = {}
    for i, interval in enumerate(model.time_intervals):
        if interval.name in intervals:
            raise ConfigError(path, f"duplicate time interval {interval.name!r}",
                              line=lines.line_of(("time_intervals", i, "name")),
                              key=f"time_intervals.{i}.name")
        intervals[interval.name] = interval
    if not model.route.unit:
        raise ConfigError(path, "the root route needs a unit (it takes what no route "
                          "below it takes)", line=lines.line_of(("route",)), key="route.unit")
    _check(path, model.route, ("route",), lines, units, intervals)
    return Router(build_tree(model.route, intervals, path="route", parent=None), units)


def _check(path: str | Path, config: RouteConfig, where: tuple[str | int, ...],
           lines: LineMap, units: Units, intervals: dict[str, TimeInterval]) -> None:
    if config.unit is not None and units.resolve(config.unit) is None:
        known = ", ".join(sorted({u.id for u in units.units} |
                                 {r for u in units.units for r in u.roles}))
        raise ConfigError(path, f"unknown unit {config.unit!r} in preset {units.preset!r} "
                          f"(units and roles: {known})", line=lines.line_of((*where, "unit")),
                          key=".".join(map(str, (*where, "unit"))))
    for i, name in enumerate(config.active_time_intervals):
        if name not in intervals:
            at = (*where, "active_time_intervals", i)
            raise ConfigError(path, f"unknown time interval {name!r}", line=lines.line_of(at),
                              key=".".join(map(str, at)))
    for i, child in enumerate(config.routes):
        _check(path, child, (*where, "routes", i), lines, units, intervals)
