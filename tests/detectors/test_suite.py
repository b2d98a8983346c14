"""The detector suite: findings on listings, and hot reload under a running detector."""

from __future__ import annotations

import logging
import os
import re
import threading
from pathlib import Path

import pytest

from detectors.suite import DetectorSuite
from jingwang.records import Listing, Seller

NEW_RULE = """
  - id: fc.test_reload
    category: fake_certificate
    severity: high
    phrases: [秒开证明]
    legal_basis: [认证认可条例 第61条]
"""


def listing(title: str, description: str = "", license_text: str | None = None) -> Listing:
    return Listing(platform="taobao", listing_id="t-1", title=title, description=description,
                   seller=Seller(name="测试店铺", license_text=license_text))


def bump(path: Path, text: str) -> None:
    """Write and move the mtime forward, so a same-second edit is still seen."""
    path.write_text(text, encoding="utf-8")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))


def test_findings_carry_field_span_legal_basis_and_version(keywords_copy: Path) -> None:
    suite = DetectorSuite.from_paths(lexicon_dir=keywords_copy)
    item = listing("ISO9001认证 當天出證", "资料简单，包⭐过，不过全额退款")
    found = [f for f in suite.detect(item) if f.rule.startswith(("fc.", "fa."))]
    by_rule = {f.rule: f for f in found}
    same_day = by_rule["fc.same_day"]
    assert (same_day.field, same_day.text) == ("title", "當天出證")
    assert item.title[same_day.start:same_day.end] == "當天出證"
    assert same_day.evasions == ("traditional",)
    assert same_day.lexicon_version == suite.version
    assert "认证认可条例 第61条" in same_day.legal_basis
    assert by_rule["fa.pass_short"].text == "包⭐过"
    assert item.description[by_rule["fa.pass_short"].start:by_rule["fa.pass_short"].end] \
        == "包⭐过"
    assert suite.categories(found) == ["fake_certificate", "false_advertising"]
    keys = [(f.field, f.start) for f in suite.detect(item)]
    assert keys == sorted(keys, key=lambda k: (k[0] != "title", k[0], k[1]))


def test_hot_reload_under_a_running_detector(keywords_copy: Path,
                                             caplog: pytest.LogCaptureFixture) -> None:
    suite = DetectorSuite.from_paths(lexicon_dir=keywords_copy)
    old_version = suite.version
    item = listing("证明办理 秒开证明")
    assert suite.detect(item) == [f for f in suite.detect(item) if f.rule != "fc.test_reload"]
    assert not suite.reload_if_changed()

    errors: list[BaseException] = []
    seen_versions: set[str] = set()
    stop = threading.Event()

    def worker() -> None:  # a crawl run detecting while the analyst edits the lexicon
        try:
            while not stop.is_set():
                for f in suite.detect(item):
                    seen_versions.add(f.lexicon_version)
                stop.wait(0.002)  # leave the reload some of the GIL
        except BaseException as exc:  # pragma: no cover - reported by the assert below
            errors.append(exc)

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        path = keywords_copy / "fake_certificate.yaml"
        original = path.read_text(encoding="utf-8")
        bump(path, original + NEW_RULE)
        assert suite.reload_if_changed()
        assert suite.version != old_version
        assert any(f.rule == "fc.test_reload" for f in suite.detect(item))

        # A broken edit keeps the lexicon in use and logs file:line.
        current = suite.version
        with caplog.at_level(logging.ERROR, logger="detectors.suite"):
            bump(path, original + NEW_RULE + "  - id: fc.broken\n    colour: red\n")
            assert not suite.reload_if_changed()
        assert suite.version == current
        assert re.search(r"fake_certificate\.yaml:\d+: ", caplog.text)
        assert any(f.rule == "fc.test_reload" for f in suite.detect(item))
        assert not suite.reload_if_changed()  # the same broken state is not retried

        bump(path, original)  # fixed again: back to the shipped rules
        assert suite.reload_if_changed()
        assert suite.version == old_version
        assert not any(f.rule == "fc.test_reload" for f in suite.detect(item))
    finally:
        stop.set()
        thread.join()
    assert not errors
    assert seen_versions <= {old_version, current}


def test_a_new_lexicon_file_is_picked_up(keywords_copy: Path) -> None:
    suite = DetectorSuite.from_paths(lexicon_dir=keywords_copy)
    assert not any(f.rule == "fc.test_reload" for f in suite.detect(listing("秒开证明")))
    bump(keywords_copy / "extra.yaml", "entries:" + NEW_RULE)
    assert suite.reload_if_changed()
    assert any(f.rule == "fc.test_reload" for f in suite.detect(listing("秒开证明")))


@pytest.mark.parametrize(("title", "expected"), [
    # Only trading ready-made reports: fake_certificate alone, not a product's missing fields.
    # (disguised, so only the lexicon engine sees the trade — the suite must combine)
    ("电热水壶检验报告 转rang检测报告 电子版", ["fake_certificate"]),
    # A product that shows a report without its key fields keeps missing_cert_fields.
    ("电热水壶 1.8L 附检测报告 质量放心", ["missing_cert_fields"]),
])
def test_categories_combine_as_the_spec_says(title: str, expected: list[str]) -> None:
    suite = DetectorSuite.from_paths()
    assert suite.categories(suite.detect(listing(title))) == expected
