"""``missing_cert_fields``: a product claims a certificate or test report but hides key fields.

Key fields (认证证书和认证标志管理办法 第7条 and both campaign documents):
发证/检测机构, 颁发/签发日期, 证书/报告编号, 检测结论 (reports only) and
商品名称及规格型号. Certification bodies, labs, services and trades in
ready-made documents are left to the other checks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from detectors.certs import legal
from detectors.certs.analysis import Analysis, SharedAnalyzer
from detectors.certs.identifiers import IdKind
from detectors.certs.names import org_names
from detectors.certs.signals import Signal
from jingwang.records import Finding, Listing

ISSUER, DATE, NUMBER, CONCLUSION, PRODUCT_MODEL = (
    "issuer", "date", "number", "conclusion", "product_model")
FIELD_LABELS = {
    ISSUER: "发证/检测机构",
    DATE: "颁发/签发日期",
    NUMBER: "证书/报告编号",
    CONCLUSION: "检测结论",
    PRODUCT_MODEL: "商品名称及规格型号",
}
CERT_FIELDS = (ISSUER, DATE, NUMBER, PRODUCT_MODEL)
REPORT_FIELDS = (ISSUER, DATE, NUMBER, CONCLUSION, PRODUCT_MODEL)

_NUMBER = re.compile(
    r"(?:编号|编码|号码|证号|报告号|证书号|(?<![A-Za-z])No\.?)[\s/:：]*(?:为|是)?\s*"
    r"[A-Za-z0-9][A-Za-z0-9\-/_.]{3,}", re.IGNORECASE)
# A number after these labels identifies the body or the seller, not the document.
_NOT_DOCUMENT_NUMBER = re.compile(r"(?:批准|资质认定|信用|注册|营业执照|CMA|CNAS|税)\S{0,4}$",
                                  re.IGNORECASE)
_ISSUER_LABEL = re.compile(
    r"(?:发证|认证|检测|检验|颁发|签发|出具|颁证|测试|检验检测)(?:机构|机关|单位)(?:名称)?\s*[:：]?\s*"
    r"[^\s，。；,;]")
_ISSUER_BRAND = re.compile(r"(?<![A-Za-z])(?:SGS|CQC|CTI|Intertek|TÜV|TUV|BV|BSI|CCIC|ITS)"
                           r"(?![A-Za-z])", re.IGNORECASE)
_DOCUMENT_WORD = re.compile(r"检测|检验|认证|证书|报告|发证|测试")
_DATE = re.compile(
    r"(?<!\d)(?:19|20)\d{2}\s*[-/.年]\s*(?:0?[1-9]|1[0-2])(?!\d)(?:\s*[-/.月]\s*\d{1,2})?")
# A production, shelf-life or shipping date is not the date a document was issued.
_NOT_DOCUMENT_DATE = re.compile(r"生产|保质|出厂|发货|上市|上架|活动|截止|到货|包装|批次")
_CONCLUSION = re.compile(
    r"结论|合格|未检出|检测通过|(?:检测|检验|测试|判定)?结果\s*[:：]"
    r"|符合[^，。；]{0,40}?(?:要求|标准|规定|规范|限量)|符合\s*(?:GB|《)",
    re.IGNORECASE)
_PRODUCT = re.compile(
    r"(?:产品名称|商品名称|样品名称|产品|样品|商品|品名)\s*[:：]\s*([^，。；,;\n]+)")
_MODEL_LABEL = re.compile(r"型号|规格|款号|货号|款式|尺寸")
_MODEL_TOKEN = re.compile(
    r"[A-Za-z]{1,8}-?\d[\w\-]*"
    r"|\d+(?:\.\d+)?\s*(?:ml|l|g|kg|w|v|a|cm|mm|m|mah|码|片|只|粒|袋|罐|盒|瓶|装|寸|英寸|毫安|包|升|克)"
    r"(?![A-Za-z])", re.IGNORECASE)


def _has_number(text: str) -> bool:
    for m in _NUMBER.finditer(text):
        if not _NOT_DOCUMENT_NUMBER.search(text[max(0, m.start() - 10):m.start()]):
            return True
    return False


def _has_date(text: str) -> bool:
    for m in _DATE.finditer(text):
        if not _NOT_DOCUMENT_DATE.search(text[max(0, m.start() - 8):m.start()]):
            return True
    return False


def _has_issuer(text: str) -> bool:
    if _ISSUER_LABEL.search(text) or _ISSUER_BRAND.search(text):
        return True
    for sentence in re.split(r"[。；;！!？?\n]", text):
        if _DOCUMENT_WORD.search(sentence) and org_names(sentence):
            return True
    return False


def _has_product_model(text: str) -> bool:
    if _MODEL_LABEL.search(text):
        return True
    return any(_MODEL_TOKEN.search(m.group(1)) for m in _PRODUCT.finditer(text))


def present_fields(texts: Iterable[str], *, ccc_number: bool = False) -> set[str]:
    """Which key fields the given (folded) texts show."""
    present: set[str] = {NUMBER} if ccc_number else set()
    for text in texts:
        if NUMBER not in present and _has_number(text):
            present.add(NUMBER)
        if ISSUER not in present and _has_issuer(text):
            present.add(ISSUER)
        if DATE not in present and _has_date(text):
            present.add(DATE)
        if CONCLUSION not in present and _CONCLUSION.search(text):
            present.add(CONCLUSION)
        if PRODUCT_MODEL not in present and _has_product_model(text):
            present.add(PRODUCT_MODEL)
    return present


def missing_fields(analysis: Analysis) -> list[str] | None:
    """The key fields a product listing's certificate claim lacks; None when no claim applies."""
    if analysis.is_service or analysis.trade:
        return None
    claims = analysis.claims()
    if not claims:
        return None
    wanted = REPORT_FIELDS if any(c.signal is Signal.REPORT_CLAIM for c in claims) \
        else CERT_FIELDS
    texts = [analysis.view(name).text for name in analysis.texts
             if name != "seller.license_text"]
    ccc = any(i.result.kind is IdKind.CCC for i in analysis.ids)
    present = present_fields(texts, ccc_number=ccc)
    return [f for f in wanted if f not in present]


class MissingFieldsDetector:
    """Flags product listings whose certificate or report claim lacks key fields."""

    name = "cert.fields"

    def __init__(self, analyzer: SharedAnalyzer) -> None:
        self._analyze = analyzer

    def detect(self, listing: Listing) -> list[Finding]:
        analysis = self._analyze(listing)
        missing = missing_fields(analysis)
        if not missing:
            return []
        claim = analysis.claims()[0]
        rule = legal.MISSING_FIELDS
        return [Finding(
            rule=rule.id, category=rule.category.value, field=claim.field,
            start=claim.start, end=claim.end, text=claim.text, severity=rule.severity.value,
            legal_basis=rule.legal_basis, evasions=claim.evasions,
            detail={"missing": missing, "missing_zh": [FIELD_LABELS[f] for f in missing]},
        )]
