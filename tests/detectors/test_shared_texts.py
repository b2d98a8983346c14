"""Each field normalised once: the joined text put together from the fields, and shared."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detectors.certs.signals import _FAMILIES, ISSUE_PROMISE, OBJECT
from detectors.engine import Engine, LexiconDetector
from detectors.leading import Led, lead_class
from detectors.normalize import Normalized, join_lines, joinable, normalize
from detectors.texts import texts_of
from jingwang.records import Listing, Seller


def _same(a: Normalized, b: Normalized) -> None:
    assert (a.source, a.text, a.y, a.starts, a.ends, a.repeat) == \
        (b.source, b.text, b.y, b.starts, b.ends, b.repeat)
    assert a.gaps[0:len(a.text) + 1] == b.gaps[0:len(b.text) + 1]


@pytest.mark.parametrize("fields", [
    ["当天出证 包过", "免审核，不送样。"],
    ["款款式 新款", "款式"],            # repeats at the ends of both fields
    ["dang天chu证", "iso9001 认zheng"],  # typed pinyin in both
    ["二十四小时出证", "", "三天 拿证"],  # a numeral group inside a field; an empty field
    ["ISO 9001 认证", "  ", "！！"],      # fields of separators only
    ["认证💯", "Ｄang天chu證"],           # a wide character in one field
])
def test_joined_lines_are_the_normalisation_of_the_joined_text(fields: list[str]) -> None:
    parts = [normalize(text) for text in fields]
    assert joinable(parts)
    _same(join_lines(parts), normalize("\n".join(fields)))


@pytest.mark.parametrize("fields", [["时间二", "十四小时"], ["满2", "10元"], ["第一", "十"]])
def test_a_number_across_two_fields_is_not_joined(fields: list[str]) -> None:
    # 二 / 十四 would read as 24 across the line break: normalise the whole text.
    assert not joinable([normalize(text) for text in fields])


_PIECES = st.sampled_from(["当天", "出证", "二", "十", "四", "款", "dang", "tian", "ISO", "9001",
                           " ", "，", "。", "\n", "·", "①", "叁", "證", "a", "e", "💯"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_PIECES, max_size=8).map("".join), min_size=1, max_size=4))
def test_joined_lines_property(fields: list[str]) -> None:
    parts = [normalize(text) for text in fields]
    if joinable(parts):
        _same(join_lines(parts), normalize("\n".join(fields)))


def test_engine_scans_the_lines_as_it_scans_the_joined_text(engine: Engine) -> None:
    for fields in (["证书可查 当天出证", "包过 不过退款"], ["第二", "十天出证"],
                   ["国家级认证", "", "免审核"]):
        parts = [normalize(text) for text in fields]
        assert engine.scan_lines(parts) == engine.scan("\n".join(fields))


def test_detectors_of_one_listing_share_its_normalised_fields() -> None:
    listing = Listing(platform="t", listing_id="1", title="当天出证", description="包过",
                      seller=Seller(name="某某认证咨询有限公司", license_text="经营范围：咨询"))
    texts = texts_of(listing)
    assert texts_of(listing) is texts
    assert texts.normalized("title") is texts.normalized("title")
    other = Listing(platform="t", listing_id="2", title="当天出证",
                    seller=Seller(name="某某认证咨询有限公司", license_text="经营范围：咨询"))
    assert texts_of(other) is not texts
    # A shop's own fields come with each of its listings: normalised once.
    assert texts_of(other).normalized("seller.name") is texts.normalized("seller.name")


def test_a_number_across_two_fields_is_read_as_in_the_joined_text(engine: Engine) -> None:
    detector = LexiconDetector(engine.compiled)
    listing = Listing(platform="t", listing_id="1", title="当天出证 二",
                      description="十四小时拿证，包过")
    found = {(f.field, f.start, f.end, f.rule) for f in detector.detect(listing)}
    # The joined text reads 二 / 十四小时拿证 as 24小时拿证: across two fields, so no
    # finding; the description alone would read 14小时拿证.
    assert found == {("title", 0, 4, "fc.same_day"), ("description", 7, 9, "fa.pass_short")}
    assert normalize("十四小时拿证").text.startswith("14")


# --- regexes searched from their leading characters ---------------------------------------


def test_lead_class_reads_the_first_characters() -> None:
    assert lead_class(re.compile("(?:包|保)通?过|不过退")) == "[包保不]"
    assert lead_class(re.compile(r"(?<![a-z])(?:3c|ccc)认证")) == "[3c]"
    assert lead_class(re.compile(r"(?:可|能)?办理")) == "[可能办]"
    assert lead_class(re.compile(r"\d{4}年")) == r"[\d]"


@pytest.mark.parametrize("pattern", [
    r"a?",             # may match the empty string
    r"(?i)cnca",       # case-insensitive
    r"[^，。]报告",     # a negated class
    r".证书",           # any character
    r"(?:证书)|",      # an empty alternative
])
def test_lead_class_gives_up_on_what_it_cannot_read(pattern: str) -> None:
    compiled = re.compile(pattern)
    assert lead_class(compiled) is None
    assert Led(compiled).pattern is compiled


_TEXTS = ["当天出证，3天拿证，今日出证 加急出证快，dtcz", "证书可查，报告齐全 24小时出报告",
          "a3c认证 3c认证 不过退款 包过 保过塑", "", "检测报告 出证 证书 认证认证证书",
          "谨防当天出证，不承诺包过。专业办理ISO9001认证"]


@pytest.mark.parametrize("text", _TEXTS)
def test_led_finds_what_the_pattern_finds(text: str) -> None:
    for pattern in (ISSUE_PROMISE, OBJECT, *(led.pattern for _, led, _ in _FAMILIES)):
        led = Led(pattern)
        assert [m.span() for m in led.finditer(text)] == \
            [m.span() for m in pattern.finditer(text)]
        found, expected = led.search(text), pattern.search(text)
        assert (found and found.span()) == (expected and expected.span())
        assert [m.groupdict() for m in led.finditer(text)] == \
            [m.groupdict() for m in pattern.finditer(text)]
