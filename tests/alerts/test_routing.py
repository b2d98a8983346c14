"""The route tree, case by case from the shipped YAML, and every kind of malformed file."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from alerts.routing import parse_matcher
from alerts.units import load_units
from jingwang.errors import ConfigError
from store.alerting import LeadLabels
from tests.alerts.conftest import ROUTING_YAML, T0, shipped_router, units_file

BASE = LeadLabels(event="created", lead_id=7, status="new", categories=("fake_certificate",),
                  severity="high", platforms=("taobao",), region="谯城区", score=3.0)

# (what changes from BASE, unit ids in Qiaocheng, unit ids in Luojiang)
CASES = [
    ({}, ["qc-enforcement"], ["lj-brigade4"]),
    ({"categories": ("false_advertising",)}, ["qc-ip"], ["lj-market"]),
    ({"categories": ("fake_certificate", "false_advertising")},
     ["qc-enforcement", "qc-ip"], ["lj-brigade4", "lj-market"]),
    ({"categories": ("unlicensed_service",)}, ["qc-enforcement"], ["lj-brigade4"]),
    # A high score also tells the legal unit; in Luojiang that is the brigade itself,
    # which is alerted once.
    ({"score": 15.0}, ["qc-enforcement", "qc-legal"], ["lj-brigade4"]),
    ({"score": 14.99}, ["qc-enforcement"], ["lj-brigade4"]),
    ({"event": "confirmed"}, ["qc-credit"], ["lj-credit"]),
    ({"event": "referred", "referral": "platform"}, ["qc-enforcement"], ["lj-credit"]),
    ({"event": "referred", "referral": "police"}, ["qc-legal"], ["lj-brigade4"]),
    ({"event": "takedown_overdue"}, ["qc-enforcement"], ["lj-brigade4"]),
    # Nothing below the root takes it: the root's unit does.
    ({"event": "reminder"}, ["qc-enforcement"], ["lj-brigade4"]),
    ({"categories": ()}, ["qc-enforcement"], ["lj-brigade4"]),
]


@pytest.mark.parametrize(("changes", "qiaocheng", "luojiang"), CASES)
def test_shipped_tree_routes_each_case_to_its_units(
        tmp_path: Path, changes: dict[str, object], qiaocheng: list[str],
        luojiang: list[str]) -> None:
    labels = replace(BASE, **changes)  # type: ignore[arg-type]
    for preset, expected in (("qiaocheng", qiaocheng), ("luojiang", luojiang)):
        router = shipped_router(tmp_path, preset=preset, receivers="[hook, mail]")
        deliveries = router.route(labels, now=T0)
        assert sorted({d.unit for d in deliveries}) == sorted(expected), preset
        # Every unit reached gets one row per receiver, never two for the same channel.
        assert sorted((d.unit, d.channel) for d in deliveries) == sorted(
            (u, c) for u in expected for c in ("hook", "mail"))


def test_unit_names_come_from_the_seeds(tmp_path: Path) -> None:
    qc = shipped_router(tmp_path, preset="qiaocheng")
    lj = shipped_router(tmp_path, preset="luojiang")
    assert qc.unit_name("enforcement") == "综合行政执法大队"
    assert qc.unit_name("advertising") == "知识产权监督管理股"
    assert qc.unit_name("credit") == "信用监管股"
    assert qc.unit_name("legal") == "法制股"
    assert lj.unit_name("enforcement") == lj.unit_name("legal") == "市局执法支队四大队"
    assert lj.unit_name("advertising") == "市场股"
    assert lj.unit_name("credit") == "信用股"
    # A unit may be named by role, id or name.
    assert qc.unit_name("qc-legal") == qc.unit_name("法制股") == "法制股"
    assert qc.unit_name("no-such-unit") is None


def test_grouping_and_timing_from_the_tree(tmp_path: Path) -> None:
    router = shipped_router(tmp_path)
    (delivery,) = router.route(BASE, now=T0)
    assert delivery.group_key == "unit=qc-enforcement|event=created"
    assert delivery.not_before == T0 + timedelta(seconds=30)  # group_wait
    assert (delivery.group_interval, delivery.repeat_interval) == (300.0, 86400.0)
    # takedown_overdue waits for office hours (08:30–17:30 Beijing, Monday–Friday).
    saturday_night = datetime(2024, 3, 9, 14, 0, tzinfo=UTC)  # Sat 22:00 Beijing
    (overdue,) = router.route(replace(BASE, event="takedown_overdue"), now=saturday_night)
    assert overdue.not_before == datetime(2024, 3, 11, 0, 30, tzinfo=UTC)  # Mon 08:30
    (now,) = router.route(replace(BASE, event="takedown_overdue"), now=T0)
    assert now.not_before == T0


@pytest.mark.parametrize(("text", "labels", "expected"), [
    ('category="fake_certificate"', BASE, True),
    ('category!="fake_certificate"', BASE, False),
    ('category!="false_advertising"', BASE, True),
    ('category=~"fake_.*"', BASE, True),
    ('category=~"fake"', BASE, False),  # anchored
    ('category!~"false_.*|national.*"', BASE, True),
    ('severity=~"high|critical"', BASE, True),
    ('platform="taobao"', replace(BASE, platforms=("jd", "taobao")), True),
    ('region="谯城区"', BASE, True),
    ("score>=3", BASE, True),
    ("score>3", BASE, False),
    ("score<3.5", BASE, True),
    ('score=~"3"', BASE, True),
    ('signal="off_platform"', replace(BASE, signals=("off_platform",)), True),
    ('signal="off_platform"', BASE, False),
])
def test_matcher_semantics(text: str, labels: LeadLabels, expected: bool) -> None:
    assert parse_matcher(text).matches(labels) is expected


@pytest.mark.parametrize(("text", "problem"), [
    ('category=~"fake_(certificate"', "bad regex"),
    ('colour="red"', "unknown label"),
    ('severity>="high"', "only score"),
    ("score>=many", "needs a number"),
    ('event="published"', "unknown event"),
    ("category fake", "not a matcher"),
])
def test_bad_matchers_are_refused(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_matcher(text)


def _routing(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "routing.yaml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD_HEAD = "route:\n  unit: enforcement\n  routes:\n"


@pytest.mark.parametrize(("text", "line", "problem"), [
    (GOOD_HEAD + "    - matchers: ['event=\"created\"']\n      unit: legal\n"
     "    - matchers:\n        - category=~\"(unclosed\"\n      unit: credit\n",
     7, "bad regex"),
    (GOOD_HEAD + "    - matchers: ['colour=\"red\"']\n", 4, "unknown label"),
    (GOOD_HEAD + "    - unit: police-station\n", 4, "unknown unit"),
    (GOOD_HEAD + "    - unit: legal\n      active_time_intervals: [weekends]\n", 5,
     "unknown time interval"),
    ("route:\n  group_wait: 30s\n", 1, "root route needs a unit"),
    (GOOD_HEAD + "    - unit: legal\n      group_wait: soon\n", 5, "not a duration"),
    (GOOD_HEAD + "    - unit: legal\n      recievers: [x]\n", 5, "unknown key"),
    (GOOD_HEAD + "    - unit: legal\n      group_by: [colour]\n", 5, "cannot group by"),
    ("route:\n  unit: enforcement\ntime_intervals:\n  - name: office\n    times:\n"
     "      - weekdays: [monday:funday]\n", 6, "not a weekday"),
    ("route:\n  unit: enforcement\ntime_intervals:\n  - name: office\n    times:\n"
     "      - {start: '18:00', end: '09:00'}\n", 6, "not before end"),
    ("route:\n  unit: enforcement\ntime_intervals:\n  - name: office\n"
     "    location: Mars/Olympus\n    times: [{start: '09:00'}]\n", 5, "unknown time zone"),
    ("route:\n  unit: enforcement\ntime_intervals:\n  - name: a\n    times: [{}]\n"
     "  - name: a\n    times: [{}]\n", 6, "duplicate time interval"),
    ("route:\n  unit: enforcement\n  unit: legal\n", 3, "duplicate key"),
    ("route: [\n", 2, "invalid YAML"),
])
def test_malformed_routing_names_file_and_line(tmp_path: Path, text: str, line: int,
                                               problem: str) -> None:
    units = load_units(units_file(tmp_path))
    path = _routing(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        from alerts.routing import load_routing

        load_routing(path, units)
    assert info.value.path == str(path)
    assert info.value.line == line, str(info.value)
    assert problem in str(info.value)


def test_empty_routing_file(tmp_path: Path) -> None:
    from alerts.routing import load_routing

    with pytest.raises(ConfigError, match="file is empty"):
        load_routing(_routing(tmp_path, "# nothing\n"), load_units(units_file(tmp_path)))


UNITS_HEAD = "preset: a\npresets:\n  a:\n    bureau: 某局\n    units:\n"


@pytest.mark.parametrize(("text", "line", "problem"), [
    (UNITS_HEAD + "      - {id: x, name: 甲}\n      - {id: x, name: 乙}\n", 3, "duplicate unit id"),
    (UNITS_HEAD + "      - {id: x, name: 甲, roles: [legal]}\n"
     "      - {id: y, name: 乙, roles: [legal]}\n", 3, "role 'legal' is taken"),
    (UNITS_HEAD + "      - {id: X Y, name: 甲}\n", 6, "should match pattern"),
    (UNITS_HEAD + "      - {id: x, name: 甲, digests: [weekly]}\n", 6, "hourly"),
    (UNITS_HEAD + "      - {id: x, name: 甲, receivers: [pager]}\n", 6, "unknown channel"),
    ("preset: b\npresets:\n  a:\n    bureau: 某局\n    units: [{id: x, name: 甲}]\n", 1,
     "unknown preset"),
    (UNITS_HEAD + "      - {id: x}\n", 6, "required key is missing"),
])
def test_malformed_units_names_file_and_line(tmp_path: Path, text: str, line: int,
                                             problem: str) -> None:
    path = tmp_path / "units.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_units(path, channels={"log", "hook"})
    assert info.value.path == str(path)
    assert info.value.line == line, str(info.value)
    assert problem in str(info.value)


def test_shipped_files_load_with_the_shipped_channels() -> None:
    units = load_units(Path("config/units.yaml"), channels={"log"})
    assert units.preset == "qiaocheng" and len(units.units) == 5
    from alerts.routing import load_routing

    router = load_routing(ROUTING_YAML, units)
    assert router.root.unit == "enforcement"
