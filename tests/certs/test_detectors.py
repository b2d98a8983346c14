"""The three certificate categories on listings written from the spec's rules."""

from __future__ import annotations

import pytest

from jingwang.records import Detector
from tests.certs.helpers import categories, make_listing, run, span_text

MISSING, UNLICENSED, INVALID = "missing_cert_fields", "unlicensed_service", "identifier_invalid"

FULL_CCC = ("CCC证书编号：2022010911045678，发证机构：中国质量认证中心，发证日期：2022-04-10，"
            "产品名称：移动电源，型号：PB-10。")
FULL_REPORT = ("检验报告编号：AB-2023-1234，检验机构：某某检测技术有限公司，报告日期：2023-01-02，"
               "检验结论：所检项目符合要求，样品：护手霜 50g。")


def test_every_finding_points_at_its_text_and_cites_law(detectors: list[Detector]) -> None:
    listing = make_listing("ISO9001认证办理 当天出证",
                           "批准书编号CNCA-R-2019-12345，代办各类认证。",
                           seller="合肥某咨询有限公司", credit_code="91340100MA2MWXNG22")
    findings = run(detectors, listing)
    assert categories(findings) == {UNLICENSED, INVALID}
    for finding in findings:
        assert span_text(listing, finding) == finding.text != ""
        assert finding.legal_basis
        assert finding.rule
    rules = {f.rule for f in findings}
    assert {"id.cnca_malformed", "id.credit_code_check", "svc.unlicensed"} <= rules


# --- missing_cert_fields -------------------------------------------------------------------

@pytest.mark.parametrize("description", [
    "已通过国家检测，质检报告齐全。",  # the spec's own example
    "已获得CE认证和FCC认证，品质保证。",
    "产品通过SGS检测，附第三方检测报告。",
    "已通過3C認證，品質保證。",  # traditional characters
    "荣获中华名优产品认证证书，送礼首选。",
    "可提供质检报告，欢迎咨询。",
])
def test_product_claims_without_fields(detectors: list[Detector], description: str) -> None:
    listing = make_listing("家用电热水壶 1.7L", description)
    findings = run(detectors, listing)
    assert categories(findings) == {MISSING}
    [finding] = findings
    assert finding.rule == "cert.missing_fields"
    assert set(finding.detail["missing"]) >= {"number", "date"}
    assert len(finding.detail["missing_zh"]) == len(finding.detail["missing"])


def test_complete_certificate_and_report_are_clean(detectors: list[Detector]) -> None:
    assert run(detectors, make_listing("移动电源 3C认证", FULL_CCC)) == []
    assert run(detectors, make_listing("护手霜 检测报告", FULL_REPORT)) == []
    # The same fields read by OCR from a certificate image count as shown.
    image = make_listing("电热水壶 3C认证", "证书见图片", image_texts=(FULL_CCC,))
    assert run(detectors, image) == []


@pytest.mark.parametrize(("description", "missing"), [
    (FULL_CCC.replace("发证机构：中国质量认证中心，", ""), ["issuer"]),
    (FULL_CCC.replace("发证日期：2022-04-10，", ""), ["date"]),
    (FULL_CCC.replace("，型号：PB-10", ""), ["product_model"]),
    (FULL_REPORT.replace("检验结论：所检项目符合要求，", ""), ["conclusion"]),
    (FULL_REPORT.replace("检验报告编号：AB-2023-1234，", "检验报告，"), ["number"]),
])
def test_one_missing_field_is_named(detectors: list[Detector], description: str,
                                    missing: list[str]) -> None:
    [finding] = run(detectors, make_listing("商品", description))
    assert finding.category == MISSING
    assert finding.detail["missing"] == missing


def test_a_production_date_is_not_an_issue_date(detectors: list[Detector]) -> None:
    description = FULL_CCC.replace("发证日期：2022-04-10", "生产日期：2024-03-01")
    [finding] = run(detectors, make_listing("移动电源", description))
    assert finding.detail["missing"] == ["date"]


def test_conclusion_is_required_for_reports_only(detectors: list[Detector]) -> None:
    assert "结论" not in FULL_CCC and "合格" not in FULL_CCC
    assert run(detectors, make_listing("移动电源", FULL_CCC)) == []


@pytest.mark.parametrize(("title", "description"), [
    ("甲醛检测仪 家用", "可通过手机APP检测数据，经过1000次弯折测试，出厂质检合格。"),
    ("纯棉T恤", "店铺已通过实名认证，企业认证店铺，正品保障。"),
    ("A4荣誉证书外壳", "绒面烫金，空白证书内芯，奖状定制。"),
    ("甲醛自测盒", "结果仅供参考，不能替代具备CMA资质的机构出具的检测报告。"),
    ("认证知识读本", "书中提示：谨防“当天出证”“包过”等虚假认证骗局。"),
])
def test_look_alikes_stay_clean(detectors: list[Detector], title: str, description: str) -> None:
    assert run(detectors, make_listing(title, description)) == []


def test_trading_ready_made_reports_is_neither_missing_fields_nor_a_service(
        detectors: list[Detector]) -> None:
    listing = make_listing("现成检测报告转让 化妆品",
                           "手上有现成的检测报告，便宜出售，报告可改品牌。")
    assert run(detectors, listing) == []
    # Offering to issue new ones as well makes it a service.
    issuing = make_listing("现成报告转让", "现成报告出售，也可代出新报告。")
    assert categories(run(detectors, issuing)) == {UNLICENSED}


# --- unlicensed_service --------------------------------------------------------------------

@pytest.mark.parametrize(("title", "description"), [
    ("ISO9001认证办理 全国可做", ""),
    ("CE认证代理", "代理各类CE、FCC认证，价格优惠。"),
    ("承接各类产品检测报告", "第三方检测，周期短。"),
    ("甲醛检测 上门采样 CMA资质", "提供室内空气检测，出具检测报告。"),
    ("ISO认证", "当 天·出/证，不用审核。"),  # promises only a service makes, with separators
    ("體系認證代辦", "質量管理體系認證代辦。"),
    ("中国绿色环保产品认证办理", "证书牌匾一套。"),  # honorary certificate offered as a service
])
def test_services_without_credentials(detectors: list[Detector], title: str,
                                      description: str) -> None:
    findings = run(detectors, make_listing(title, description))
    assert categories(findings) == {UNLICENSED}
    [finding] = findings
    assert finding.rule == "svc.unlicensed"


def test_credentials_make_a_service_licensed(detectors: list[Detector]) -> None:
    lab = make_listing("甲醛检测 上门采样 CMA资质", "提供室内空气检测，出具检测报告。",
                       seller="合肥清源环境检测有限公司",
                       license_text="检验检测机构资质认定证书编号：221212050366")
    assert run(detectors, lab) == []
    # A well-formed number absent from the registry is not invalid: the registry is incomplete.
    body = make_listing("ISO9001认证 现场审核", "某某认证有限公司，批准书编号CNCA-R-2019-123。",
                        seller="某某认证有限公司")
    assert run(detectors, body) == []


def test_lab_with_cma_making_a_banned_claim_gets_nothing_from_these_checks(
        detectors: list[Detector]) -> None:
    listing = make_listing("食品接触材料检测报告 不送样检测", "CMA资质认定证书编号：231912050688，"
                           "提供食品接触材料检测，提供产品图片即可出具报告。",
                           seller="广州某检测技术有限公司")
    assert run(detectors, listing) == []


def test_product_honorary_certificate_without_service_is_not_unlicensed(
        detectors: list[Detector]) -> None:
    listing = make_listing("五常大米 10斤", "荣获国家AAA级信用企业证书，品质有保障。")
    assert categories(run(detectors, listing)) == {MISSING}


# --- identifier_invalid --------------------------------------------------------------------

@pytest.mark.parametrize("seller", [
    "亚环认证(合肥)有限公司",
    "亚环认证（合肥）有限公司",
    "亚环认证有限公司",
    "安徽亚环认证有限公司",
    "亚环认证",
])
def test_owner_showing_its_number_under_a_name_variant_is_clean(
        detectors: list[Detector], seller: str) -> None:
    listing = make_listing("ISO9001质量管理体系认证 现场审核",
                           "认证机构批准书编号：CNCA-R-2021-775。", seller=seller)
    assert run(detectors, listing) == []


def test_borrowed_number_is_invalid_not_unlicensed(detectors: list[Detector]) -> None:
    listing = make_listing("ISO9001认证办理 快速出证",
                           "认证机构批准书：CNCA-R-2021-775，可办理9001。",
                           seller="合肥某某企业管理咨询有限公司")
    findings = run(detectors, listing)
    assert categories(findings) == {INVALID}
    borrowed = [f for f in findings if f.rule == "id.cnca_borrowed"]
    assert borrowed and borrowed[0].text == "CNCA-R-2021-775"
    assert borrowed[0].detail["owner"] == "亚环认证(合肥)有限公司"


def test_number_written_next_to_another_registry_body_is_borrowed(
        detectors: list[Detector]) -> None:
    # The seller is a registry body, but the number beside the name is another body's.
    listing = make_listing("产品认证", "认证机构：华博认证有限公司（批准号CNCA-R-2022-1126）",
                           seller="中山某照明有限公司")
    assert categories(run(detectors, listing)) == {INVALID}
    own = make_listing("产品认证", "认证机构：朗迪认证检测有限公司（批准号CNCA-R-2022-1126）",
                       seller="中山某照明有限公司")
    assert INVALID not in categories(run(detectors, own))


def test_malformed_number_is_invalid_and_counts_as_none(detectors: list[Detector]) -> None:
    listing = make_listing("ISO45001认证 体系认证办理", "",
                           license_text="认证机构批准书编号：CNCA-R-2023-12A8")
    findings = run(detectors, listing)
    assert categories(findings) == {INVALID, UNLICENSED}
    [malformed] = [f for f in findings if f.rule == "id.cnca_malformed"]
    assert malformed.field == "seller.license_text"
    assert malformed.text == "CNCA-R-2023-12A8"


def test_credit_codes(detectors: list[Detector]) -> None:
    seller_code = make_listing("儿童泡泡机", "全自动出泡。", credit_code="92330782MA2K7DF35H")
    [finding] = run(detectors, seller_code)
    assert (finding.category, finding.field, finding.rule) == \
        (INVALID, "seller.credit_code", "id.credit_code_check")
    assert finding.text == "92330782MA2K7DF35H"
    in_text = make_listing("CE认证", "统一社会信用代码：91440300MA5H2CWU7A。CE认证代办。")
    assert categories(run(detectors, in_text)) == {INVALID, UNLICENSED}
    valid = make_listing("儿童泡泡机", "全自动出泡。", credit_code="91340100MA2MWXNG21")
    assert run(detectors, valid) == []
    # A 15-digit pre-2015 registration number is not a credit code.
    old = make_listing("儿童泡泡机", "全自动出泡。", credit_code="340100000123456")
    assert run(detectors, old) == []


def test_malformed_cma_and_ccc_numbers_are_not_invalid(detectors: list[Detector]) -> None:
    listing = make_listing("检测实验室", "CMA证书编号：224512050366。3C证书编号：2022000705123456，"
                           "发证机构：中国质量认证中心，发证日期：2022-01-01，产品名称：插座，型号：A-1。",
                           seller="某检测有限公司")
    assert INVALID not in categories(run(detectors, listing))


def test_findings_name_the_evasions_they_saw_through(detectors: list[Detector]) -> None:
    listing = make_listing("體系認證 代⭐辦", "")
    [finding] = run(detectors, listing)
    assert finding.category == UNLICENSED
    assert finding.text == "代⭐辦"
    assert set(finding.evasions) == {"separator", "traditional"}
