"""One test per evasion kind and per clean case of detection-spec.md, on the shipped lexicon.

The strings are written for these tests (not taken from the eval sets): each
puts a phrase of the spec in a listing-like sentence and checks the category,
the exact original span and the evasions the finding reports.
"""

from __future__ import annotations

import pytest

from detectors.engine import Engine
from tests.detectors.conftest import categories, only

FC = "fake_certificate"
FA = "false_advertising"
NP = "national_prefix_misuse"


@pytest.mark.parametrize(("text", "category", "span", "evasion"), [
    # 1. characters between the letters
    ("体系认证 当 天 出 证 价格优惠", FC, "当 天 出 证", "separator"),
    ("质检报告办理，免/送/样，三天出", FC, "免/送/样", "separator"),
    ("确✅保✅通✅过，放心下单", FA, "确✅保✅通✅过", "separator"),
    ("资料简单 当\u200b日\u200b下\u200b证", FC, "当\u200b日\u200b下\u200b证", "invisible"),
    ("认证办理 不\u2060用\ufeff审\u00ad核", FC, "不\u2060用\ufeff审\u00ad核", "invisible"),
    # 2. full/half width and case
    ("３天出证 欢迎咨询", FA, "３天出证", "width"),
    ("ＤＴＣＺ 各类认证", FC, "ＤＴＣＺ", "width"),
    ("老板放心 DTCZ 找我", FC, "DTCZ", "case"),
    # 3. traditional characters
    ("質量體系認證 當日下證 價格實惠", FC, "當日下證", "traditional"),
    ("環評認證代辦 保證通過", FA, "保證通過", "traditional"),
    # 4. pinyin, whole or initials
    ("体系证书 当天chu证 加急", FC, "当天chu证", "pinyin"),
    ("报告办理 mian审核 速度快", FC, "mian审核", "pinyin"),
    ("三体系 dtcz 价格私聊", FC, "dtcz", "initials"),
    # 5. homophones and look-alikes
    ("证书办理 当日出正 速来", FC, "当日出正", "homophone"),
    ("检测报告 免送扬 电商可用", FC, "免送扬", "homophone"),
    ("认证代办，稳过，价格透明", FA, "稳过", "homophone"),
    ("报告办理 当天岀证 全品类", FC, "当天岀证", "homophone"),
    # 6. synonyms
    ("体系证书 即日拿证 急用", FC, "即日拿证", "synonym"),
    ("实验室检测 两天出报告", FA, "两天出报告", "synonym"),
    # 7. Chinese numerals and circled digits
    ("ISO认证 ④天出证 一站式", FA, "④天出证", "numeral"),
    ("认证代办 五天拿证 可加急", FA, "五天拿证", "numeral"),
    # repeated characters
    ("认证办理 当当天天出证", FC, "当当天天出证", "repeat"),
])
def test_evasion_is_seen_through(engine: Engine, text: str, category: str, span: str,
                                 evasion: str) -> None:
    m = only(engine, text, category)
    assert m.text == span
    assert text[m.start:m.end] == span
    assert evasion in m.evasions, m.evasions


def test_combined_evasions_are_all_reported(engine: Engine) -> None:
    m = only(engine, "ISO 當 天·Chu/證 老板私聊", FC)
    assert m.text == "當 天·Chu/證"
    assert {"separator", "traditional", "pinyin", "case"} <= set(m.evasions)


def test_near_miss_is_found_by_fuzzy_match(engine: Engine) -> None:
    m = only(engine, "证书办理 只需营业执照图片即可", FC)
    assert m.rule.entry.id == "fc.license_only"
    m = only(engine, "质量体系认证办理，不过全额退还款项", FA)
    assert m.rule.entry.id == "fa.refund_if_fail"


@pytest.mark.parametrize(("text", "expected"), [
    # the phrases of the spec's table, plainly written
    ("当天出检测报告", {FC}), ("24小时出报告", {FC}), ("立等出证", {FC}), ("直出证书", {FC}),
    ("直接出证", {FC}), ("不送样检测", {FC}), ("无需寄样", {FC}), ("免现场审核", {FC}),
    ("不到现场", {FC}), ("只出证书", {FC}), ("无需审查", {FC}), ("只需营业执照照片", {FC}),
    ("代出报告", {FC}), ("次日出具报告", {FC}), ("出售检测报告", {FC}), ("转让证书", {FC}),
    ("现成报告", {FC}), ("报告可改", {FC}),
    ("检测包过", {FA}), ("认证包过", {FA}), ("包通过", {FA}), ("确保通过", {FA}),
    ("100%通过", {FA}), ("不过全额退款", {FA}), ("出证快", {FA}), ("拿证快", {FA}),
    ("快速出证", {FA}), ("极速拿证", {FA}), ("急速出报告", {FA}), ("三天拿证", {FA}),
    ("7天出证", {FA}), ("快捷认证", {FA}), ("加急认证", {FA}), ("加急出证", {FA}),
    ("权威认证", {FA}), ("招标必备认证", {FA}), ("投标必备证书", {FA}),
    ("国家AAA级信用企业认证", {NP}), ("中华名优产品认证证书", {NP}),
    ("全国质量信得过产品证书", {NP}), ("国家级绿色环保认证", {NP}),
])
def test_spec_phrase_matches(engine: Engine, text: str, expected: set[str]) -> None:
    assert categories(engine, f"商品说明：{text}，详情咨询客服") == expected


@pytest.mark.parametrize("text", [
    # warnings and negations
    "谨防“当天出证”骗局，认证须经现场审核",
    "本店拒绝包过承诺，结论以审核为准",
    "认证需现场审核，不承诺当天出证",
    "提醒：警惕“免审核”“包过”等虚假宣传",
    "本实验室不接受免送样委托，须寄送样品",
    "所谓“当天拿证”都是骗局，请选择正规机构",
    # everyday look-alikes
    "下午四点前下单当天发货",
    "确保质量，破损包退",
    "快速发货，七天无理由退换",
    "曾获权威媒体报道的老字号",
    "证件照冲印 包过塑 立等可取",
    "打包过程全程录像",
    "羽绒服 零下二十度稳过寒冬",
    "江浙沪三天到货 其他地区五天",
    "24小时发货 当日达",
    "2023年5月3日出具报告，结论合格",
    # the national schemes and the bodies that run them
    "中国强制性产品认证（CCC）证书编号见图，发证机构：中国质量认证中心",
    "中国有机产品认证证书编号 105OP0000001",
    "中国绿色产品认证 型号 A-1",
    "中国环境标志产品认证证书",
    "证书信息可在全国认证认可信息公共服务平台查询",
    # 中国/国家 in names that are not certifications
    "中国风刺绣团扇 全国包邮",
    "国家地理杂志合订本 九成新",
    "中国结挂件 全国包邮 荣誉证书外壳",
])
def test_clean_text_stays_clean(engine: Engine, text: str) -> None:
    found = engine.scan(text)
    assert not found, [(m.rule.entry.id, m.text) for m in found]


def test_short_phrase_needs_a_word_boundary(engine: Engine) -> None:
    assert categories(engine, "CCC认证代办，包过！") == {FA}
    assert categories(engine, "认证包过包拿证") == {FA}
    assert not engine.scan("面包过期不退")
    assert not engine.scan("书包过大")


def test_random_ascii_does_not_read_as_initials(engine: Engine) -> None:
    for text in ("型号 DTCZ-200", "SKU dtcz2024", "https://example.com/dtcz/x",
                 "ISO9001 CMA CNAS", "型号BSY 规格QBTG-1"):
        assert not engine.scan(text), text


def test_number_family_respects_the_limit_and_number_edges(engine: Engine) -> None:
    assert categories(engine, "最快7天出证") == {FA}
    assert not engine.scan("约10天出证，需现场审核")
    assert not engine.scan("17天出证")
    assert not engine.scan("三十天出证")


def test_gap_pattern_stays_inside_one_clause(engine: Engine) -> None:
    assert categories(engine, "中国315诚信品牌认证申报") == {NP}
    assert not engine.scan("中国大陆发货，证书齐全")
    assert not engine.scan("全国包邮 荣誉证书")
    m = only(engine, "国·家·级 绿色环保认证代办", NP)
    assert m.text == "国·家·级 绿色环保认证"


def test_finding_names_its_phrase_and_canonical_form(engine: Engine) -> None:
    m = only(engine, "当日下证", FC)
    assert m.phrase == "当日下证"
    assert m.canonical == "当天出证"
    assert m.rule.entry.legal_basis


@pytest.mark.parametrize(("text", "category", "span"), [
    ("当天..出证 资料简单", FC, "当天..出证"),             # ASCII dots are separators
    ("资料简单，不过全e退款", FA, "不过全e退款"),          # a lone vowel typed between characters
    ("国家AAA级信用企业认zhengban理", NP, "国家AAA级信用企业认zheng"),  # a run cut at a syllable
    ("各类认证 5tcbg 加急", FA, "5tcbg"),                 # initials keep the digit
    ("全国重合同守信用企业仞证", NP, "全国重合同守信用企业仞证"),  # a homophone in the last part
    ("全国重合同守 信用企业 认 证", NP, "全国重合同守 信用企业 认 证"),  # spaces also inside a part
])
def test_combined_disguises(engine: Engine, text: str, category: str, span: str) -> None:
    assert only(engine, text, category).text == span


def test_exclusions_and_cues_do_not_reach_across_a_space(engine: Engine) -> None:
    assert categories(engine, "认证咨询办理 保证通过 正规流程") == {FA}
    assert not engine.scan("保证通过正规渠道办理")
    assert not engine.scan("本机构不出售、不转让任何证书或报告。")


def test_initials_prefer_the_canonical_phrase(engine: Engine) -> None:
    # jcbg are the initials of 检测包过 and also of the synonym 仅出报告.
    assert categories(engine, "家具检测服务 正规实验室 jcbg") == {FA}
