"""The certificate checks see through the spec's evasions, as the lexicon engine does.

Each disguise is stacked on a phrase the checks turn on (办理, 当天出证, 检测报告,
证书齐全 …); the finding must name its category, point at the disguised text
and say which evasions it saw. Clean look-alikes must stay clean.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detectors.certs.signals import vocabulary
from detectors.certs.textview import folded, phrase_view
from jingwang.records import Detector
from tests.certs.helpers import categories, make_listing, run, span_text

MISSING, UNLICENSED = "missing_cert_fields", "unlicensed_service"


# --- a service offered, disguised --------------------------------------------------------------

@pytest.mark.parametrize(("title", "text", "seen"), [
    ("ISO9001认证 办 理", "办 理", {"separator"}),
    ("ISO9001认证 代\u200b办", "代\u200b办", {"invisible"}),
    ("ISO9001認證辦理", "辦理", {"traditional"}),
    ("Iso9001认证ban理", "ban理", {"pinyin"}),  # one syllable typed
    ("ISO9001 renzheng banli", "banli", {"pinyin"}),  # the whole word typed
    ("ISO9001认证代bàn", "代bàn", {"pinyin"}),  # with its tone mark
    ("CE认证 dang天chu证", "dang天chu证", {"pinyin"}),
    ("CE认证 dtcz", "dtcz", {"initials"}),
    ("CE认证 当天出正", "当天出正", {"homophone"}),
    ("CE认证 ③天出证", "③天出证", {"numeral"}),
    ("CE认证 叁天拿证", "叁天拿证", {"numeral"}),
    ("CE认证 当当天出证", "当当天出证", {"repeat"}),
    ("ISO认证 免审he", "免审he", {"pinyin"}),
    ("CMA检测报告 免送洋", "免送洋", {"homophone"}),
    ("各类产品检测报告 chuju", "chuju", {"pinyin"}),
])
def test_disguised_service_is_unlicensed(detectors: list[Detector], title: str, text: str,
                                         seen: set[str]) -> None:
    listing = make_listing(title)
    [finding] = run(detectors, listing)
    assert finding.category == UNLICENSED
    assert finding.text == text == span_text(listing, finding)
    assert set(finding.evasions) == seen


def test_homophone_of_two_characters_counts_next_to_an_anchor_word(
        detectors: list[Detector]) -> None:
    # 仞证 alone is not 认证 (two characters, one homophone); before 办理 it is.
    listing = make_listing("中华诚信经营示范单位仞证办理 全国可做")
    assert UNLICENSED in categories(run(detectors, listing))
    view = phrase_view("仞证办理", vocabulary())
    assert view.text == "认证办理"
    assert view.evasions(0, 4) == ("homophone",)
    assert phrase_view("仞证，办理", vocabulary()).text == "仞证，办理"  # not across a clause
    assert phrase_view("小学仞证", vocabulary()).text == "小学仞证"


# --- a product's claim, disguised ---------------------------------------------------------------

@pytest.mark.parametrize(("title", "text", "seen"), [
    ("遥控车 附-检-测-豹-告", "检-测-豹-告", {"separator", "homophone"}),
    ("遥控车 附検测报吿", "検测报吿", {"homophone"}),  # Japanese and variant forms
    ("遥控车 质検報告齊全", "质検報告", {"traditional", "homophone"}),
    ("遥控车 有zhi捡bao告", "zhi捡bao告", {"pinyin", "homophone"}),
    ("遥控车 证～书qiquan", "证～书qiquan", {"separator", "pinyin"}),
    ("遥控车 正书齐全", "正书齐全", {"homophone"}),
    ("遥控车 已同过检测", "已同过检测", {"homophone"}),
    ("遥控车 已通过ＳＧＳ检测", "已通过ＳＧＳ检测", {"width"}),
])
def test_disguised_claim_is_missing_fields(detectors: list[Detector], title: str, text: str,
                                           seen: set[str]) -> None:
    listing = make_listing(title)
    [finding] = run(detectors, listing)
    assert finding.category == MISSING
    assert finding.text == text == span_text(listing, finding)
    assert set(finding.evasions) == seen


def test_a_scheme_code_vouches_for_the_homophone_after_it(detectors: list[Detector]) -> None:
    listing = make_listing("新国标插线板 3C仞证产品")
    [finding] = run(detectors, listing)
    assert finding.category == MISSING
    assert finding.text == "3C仞证"
    assert finding.evasions == ("homophone",)


def test_pinyin_inside_an_honorary_certificate_claim(detectors: list[Detector]) -> None:
    listing = make_listing("磁力片 CL-7142", "荣获全国产品zhi量放心品牌证shu，品质有保障。")
    [finding] = run(detectors, listing)
    assert finding.category == MISSING
    assert "pinyin" in finding.evasions


def test_trading_disguised_reports_is_not_a_product_claim(detectors: list[Detector]) -> None:
    listing = make_listing("各类产品型式检验报告 转rang检测报告", "报告ke改，价格实惠。")
    assert run(detectors, listing) == []


def test_complete_certificate_in_disguise_is_clean(detectors: list[Detector]) -> None:
    listing = make_listing("移動電源 ３Ｃ認證",
                           "ＣＣＣ證書編號：2022010911045678，發證機構：中國質量認證中心，"
                           "發證日期：2022-04-10，產品名稱：移動電源，型號：PB-10。")
    assert run(detectors, listing) == []


# --- clean look-alikes --------------------------------------------------------------------------

@pytest.mark.parametrize(("title", "description"), [
    ("智能手环 睡眠监测", "支持睡眠监测报告，24小时心率监测。"),  # 监测 is a word, not 检测
    ("快递纸箱 加厚", "包裹严实，快递包裹不破损，当天发货。"),  # 包裹 is no 包过
    ("认证知识读本", "书中提示：谨防“dang天chu证”“bao过”等虚假认证骗局。"),
    ("考研资料", "本店拒绝包guo承诺，资料仅供学习。"),
    ("金属徽章", "金属pin牌，可定制logo，Li Ning同款。"),
    ("打包过程视频", "dabaoguohou全程拍摄。"),  # baoguo inside a longer run of letters
])
def test_look_alikes_of_disguises_stay_clean(detectors: list[Detector], title: str,
                                             description: str) -> None:
    assert run(detectors, make_listing(title, description)) == []


def test_key_field_labels_written_in_pinyin_still_count(detectors: list[Detector]) -> None:
    listing = make_listing("婴儿口水巾",
                           "检cebao告编号：FP-2310-0712，检ce机构：苏州纺谱jian测技术有限公司，"
                           "签发日期：2023-10-19，检ce结论：符合GB 31701-2015，"
                           "样品：口水巾 25×25cm。")
    assert run(detectors, listing) == []


def test_a_body_named_with_a_homophone_shows_its_own_number(detectors: list[Detector]) -> None:
    listing = make_listing("ISO9001质量管理体系认证 现场审核",
                           "亚环仞证(合肥)有限公司，认证机构批准书编号CNCA-R-2021-775。",
                           seller="亚环认证(合肥)有限公司")
    assert run(detectors, listing) == []


def test_licensed_body_writing_in_traditional_and_full_width_is_clean(
        detectors: list[Detector]) -> None:
    listing = make_listing("ISO9001質量管理體系認證 現場審核",
                           "認證機構批准書編號：ＣＮＣＡ－Ｒ－２０２１－７７５。",
                           seller="亚环认证(合肥)有限公司")
    assert run(detectors, listing) == []


# --- the views themselves -----------------------------------------------------------------------

def test_phrase_view_maps_every_character_back() -> None:
    source = "附-检-测-豹-告，當天 chu證！ISO9001,iso 14001"
    view = phrase_view(source, vocabulary())
    assert view.text == "附检测报告，当天出证。iso9001 iso 14001"
    start = view.text.index("当天")
    a, b = view.span(start, start + 4)
    assert source[a:b] == "當天 chu證"
    assert view.evasions(start, start + 4) == ("separator", "traditional", "pinyin")


def test_phrase_view_keeps_words_joined_by_a_repeat_and_chinese_numerals() -> None:
    # The normaliser collapses 认证证书 to 认证书; the words on either side stay whole.
    view = phrase_view("中国绿色产品认证证书，二十四小时出证", vocabulary())
    assert view.text == "中国绿色产品认证证书，二十四小时出证"
    assert view.evasions(0, len(view.text)) == ()
    assert phrase_view("当当天出证", vocabulary()).text == "当天出证"


def test_unread_pinyin_goes_back_to_letters() -> None:
    view = phrase_view("CE认证 AAA级 dabaoguohou", vocabulary())
    assert view.text == "ce认证aaa级dabaoguohou"


def test_typed_letters_count_only_as_whole_runs() -> None:
    assert phrase_view("bao gao", vocabulary()).text == "报告"
    assert phrase_view("dabao gao", vocabulary()).text == "dabao gao"
    # Dropping 报告 leaves gaoban half read, so 办理 goes too, and so on down the chain.
    chain = "dabao " + " ".join(["gaoban", "lidai", "banbao"] * 50)
    assert phrase_view(chain, vocabulary()).text == chain


def test_folded_view_keeps_what_the_field_checks_read() -> None:
    view = folded("發證日期：２０２２－０４－１０，型號PB-10，検測")
    assert view.text == "发证日期:2022-04-10,型号PB-10,检测"
    assert len(view.origin) == len(view.text)


_ALPHABET = ("认证证书检测报告办理当天出证二十四三包过bao gao jian ce zhi dang tian "
             "ＣＭＡ當證報 ，。：！,.-·⭐\u200b③叁十0123456789🔥𠀀AaZz")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=_ALPHABET, max_size=40))
def test_phrase_view_spans_stay_inside_the_source_in_order(source: str) -> None:
    view = phrase_view(source, vocabulary())
    assert len(view.origin) == len(view.text) == len(view.ends or view.origin)
    last = 0
    for i in range(len(view.text)):
        a, b = view.span(i, i + 1)
        assert 0 <= a < b <= len(source)
        assert a >= last
        last = a
        view.evasions(i, i + 1)
