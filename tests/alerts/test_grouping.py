"""Leads gather a seller across platforms and merge reposted listings; the score counts
severity, listings, categories and the spec's priority signals."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import pytest
from opencc import OpenCC
from sqlalchemy import Engine

from store.leads import (
    NAME_THRESHOLD,
    LeadReader,
    credit_code,
    name_similarity,
    normalize_name,
)
from store.priority import find_signals
from tests.alerts.conftest import ROOT, Clock, crawled, detect, make_store

# Distinct sellers whose names look alike: they must never be joined by name.
LOOKALIKES = [
    "优证企业服务", "快证企业服务", "速证企业服务", "港信企业服务", "诚信企业服务店",
    "小李代办", "小周代办", "企业荣誉服务号", "企业荣誉申报服务", "拼企服务社", "拼拼企业服务",
    "宁波市甬研检测技术有限公司", "宁波市甬诚检测技术服务有限公司", "上海谱研检测技术有限公司",
    "东莞市正衡检测技术有限公司", "广州市粤衡检测技术有限公司", "权威认证服务中心",
    "质量认证服务中心", "佛山市顺德区品越电器有限公司", "佛山市顺德区美厨电器有限公司",
]


def _registry_names() -> list[str]:
    with (ROOT / "config" / "registry" / "certification-bodies.csv").open(
            encoding="utf-8") as f:
        return [row["name"] for row in csv.DictReader(f)]


def _variants(name: str) -> list[str]:
    """How one shop's name shows on other platforms."""
    core = name.removesuffix("有限公司")
    out = [core + "旗舰店", core + "官方店", core + " 企业店", OpenCC("s2t").convert(name),
           name.replace("(", "（").replace(")", "）"), f"【{core}】"]
    for province in ("安徽", "上海", "宁波市", "东莞市", "广州市", "佛山市"):
        if core.startswith(province) and len(core) - len(province) >= 4:
            out.append(f"{core.removeprefix(province)}（{province}）")
    return out


def test_name_threshold_separates_distinct_sellers_from_the_same_shop() -> None:
    names = sorted(set(_registry_names()) | set(LOOKALIKES))
    distinct = [(name_similarity(a, b), a, b) for a, b in itertools.combinations(names, 2)
                if normalize_name(a) != normalize_name(b)]
    worst = max(distinct)
    assert worst[0] < NAME_THRESHOLD, worst
    same = [(name_similarity(name, v), name, v) for name in names for v in _variants(name)]
    assert min(same)[0] >= NAME_THRESHOLD, min(same)
    # The margin the threshold was chosen with: the closest distinct pair is far below.
    assert worst[0] <= 85.0


def test_credit_codes_compare_normalised() -> None:
    assert credit_code(" 91340100ma2ufxn14 ") is None  # 18 characters needed
    assert credit_code("91340100 MA2UFXN14J") == "91340100MA2UFXN14J"
    assert credit_code("９１３４０１００ＭＡ２ＵＦＸＮ１４Ｊ") == "91340100MA2UFXN14J"


def test_same_credit_code_on_another_platform_joins_the_lead(
        sqlite_engine: Engine, tmp_path: Path, clock: Clock) -> None:
    store, run = make_store(sqlite_engine, tmp_path, clock, None)
    first = store.ingest(run, crawled("t-1", platform="taobao", shop="华博认证",
                                      credit_code="91340100MA8NQP6B08"), detect, channels=())
    other = store.ingest(run, crawled("j-1", platform="jd", shop="完全不同的名字",
                                      title="CE认证包过", credit_code="91340100MA8NQP6B08"),
                         detect, channels=())
    assert other.lead_id == first.lead_id and not other.lead_created
    detail = LeadReader(sqlite_engine).describe(first.lead_id or 0)
    assert detail is not None
    assert [(s["platform"], s["joined_by"]) for s in detail["sellers"]] == [
        ("taobao", None), ("jd", "credit_code")]
    assert detail["profile"]["platforms"] == ["jd", "taobao"]
    # A third listing of the joined shop finds the same lead directly.
    third = store.ingest(run, crawled("j-2", platform="jd", shop="完全不同的名字",
                                      title="国家级认证 当天出证"), detect, channels=())
    assert third.lead_id == first.lead_id
    lead = store.lead(first.lead_id or 0)
    assert lead is not None and len(lead.listings) == 3
    assert store.counts()["leads"] == 1


def test_close_name_joins_but_different_credit_codes_do_not(
        sqlite_engine: Engine, tmp_path: Path, clock: Clock) -> None:
    store, run = make_store(sqlite_engine, tmp_path, clock, None)
    first = store.ingest(run, crawled("t-1", platform="taobao", shop="安徽中科赋能认证有限公司"),
                         detect, channels=())
    by_name = store.ingest(run, crawled("p-1", platform="pdd", shop="中科赋能认证(安徽)旗舰店"),
                           detect, channels=())
    assert by_name.lead_id == first.lead_id
    # Same name, but both show credit codes and they differ: two sellers.
    a = store.ingest(run, crawled("t-2", platform="taobao", shop="凯维认证有限公司",
                                  credit_code="91340100MA8NDC428P"), detect, channels=())
    b = store.ingest(run, crawled("j-2", platform="jd", shop="凯维认证有限公司",
                                  credit_code="91340100MA2UDG4B8M"), detect, channels=())
    assert a.lead_id != b.lead_id and b.lead_created
    # A lookalike short name on another platform is another seller.
    c = store.ingest(run, crawled("t-3", platform="taobao", shop="优证企业服务"), detect,
                     channels=())
    d = store.ingest(run, crawled("j-3", platform="jd", shop="快证企业服务"), detect, channels=())
    assert c.lead_id != d.lead_id
    # The same shop name on the same platform with another shop id stays its own seller.
    e = store.ingest(run, crawled("t-4", platform="taobao", shop="优证企业服务",
                                  shop_id="another"), detect, channels=())
    assert e.lead_id != c.lead_id


def test_reposted_listings_merge_and_count_once(sqlite_engine: Engine, tmp_path: Path,
                                                clock: Clock) -> None:
    store, run = make_store(sqlite_engine, tmp_path, clock, None)
    text = "ISO9001认证 当天出证 全程代办，资料齐全即可"
    first = store.ingest(run, crawled("1", title=text), detect, channels=())
    for n in range(2, 6):  # the same text, with a changed character of punctuation
        store.ingest(run, crawled(str(n), title=text.replace("，", "! ") if n % 2 else text),
                     detect, channels=())
    other = store.ingest(run, crawled("9", title="CE认证包过 不过退款"), detect, channels=())
    assert other.lead_id == first.lead_id
    detail = LeadReader(sqlite_engine).describe(first.lead_id or 0)
    assert detail is not None
    reps = {item["listing_id"]: item["representative"] for item in detail["listings"]}
    ids = {item["listing_id"]: item["id"] for item in detail["listings"]}
    assert all(reps[str(n)] == ids["1"] for n in range(1, 6))
    assert reps["9"] == ids["9"]
    profile = detail["profile"]
    assert (profile["listing_count"], profile["group_count"]) == (6, 2)
    lead = store.lead(first.lead_id or 0)
    assert lead is not None
    # Two texts (high 3 + medium 2), four reposts at 0.25 each.
    assert lead.score == 3.0 + 2.0 + 4 * 0.25


def test_priority_signals_raise_the_score(sqlite_engine: Engine, tmp_path: Path,
                                          clock: Clock) -> None:
    store, run = make_store(sqlite_engine, tmp_path, clock, None)
    plain = store.ingest(run, crawled("1", shop="甲"), detect, channels=())
    text = "拍下联系客服补差价，加V详聊；证书全国可查，鲜章原件"
    signalled = store.ingest(run, crawled("2", shop="乙", description=text), detect,
                             channels=())
    a, b = store.lead(plain.lead_id or 0), store.lead(signalled.lead_id or 0)
    assert a is not None and b is not None
    assert a.score == 3.0
    assert b.score == 3.0 * (1 + 0.5 * 3)
    detail = LeadReader(sqlite_engine).describe(b.id)
    assert detail is not None
    assert detail["profile"]["signals"] == ["off_platform", "original_seal",
                                            "verifiable_anywhere"]


def test_breadth_of_categories_adds_to_the_score(sqlite_engine: Engine, tmp_path: Path,
                                                 clock: Clock) -> None:
    store, run = make_store(sqlite_engine, tmp_path, clock, None)
    result = store.ingest(run, crawled("1", title="国家级认证 当天出证 包过"), detect, channels=())
    lead = store.lead(result.lead_id or 0)
    assert lead is not None
    assert lead.categories == ("fake_certificate", "false_advertising", "national_prefix_misuse")
    assert lead.score == 3.0 + 1.0  # worst finding, plus one for the third category


def test_region_comes_from_the_source(sqlite_engine: Engine, tmp_path: Path,
                                      clock: Clock) -> None:
    store, run = make_store(sqlite_engine, tmp_path, clock, None, region="谯城区")
    lead_id = store.ingest(run, crawled("1"), detect, channels=()).lead_id or 0
    detail = LeadReader(sqlite_engine).describe(lead_id)
    assert detail is not None and detail["profile"]["region"] == "谯城区"
    assert detail["profile"]["severity"] == "high"
    assert detail["profile"]["rules"] == ["same_day_certificate"]


@pytest.mark.parametrize(("text", "signals"), [
    ("1元链接，拍下联系客服", {"off_platform"}),
    ("加 v 信详谈", {"off_platform"}),
    ("加·薇：abc", {"off_platform"}),
    ("私聊报价", {"off_platform"}),
    ("官网可查，假一赔十", {"verifiable_anywhere"}),
    ("全國可查", {"verifiable_anywhere"}),
    ("提供鲜章", {"original_seal"}),
    ("虚拟服务 自动发货", {"virtual_goods"}),
    ("设计服务类目", {"virtual_goods"}),
    ("VIP会员专享 当天发货", set()),
    ("弥补差距 提升品质", set()),
    ("", set()),
])
def test_priority_signals(text: str, signals: set[str]) -> None:
    assert find_signals([text]) == signals
