"""Phrase signals the certificate checks rely on, matched on the compact view.

Four families: a certification/testing service offered (办理, 代办, 出具 …), a
promise only such a service makes (当天出证, 包过, 免审核 …), a trade in
ready-made documents (出售, 转让, 现成报告), and a product's claim to hold a
certificate or test report (检测报告齐全, 已通过3C认证 …). Matches inside a
warning or negation (谨防…, 不承诺…, 拒绝…) do not count. The patterns
tolerate the evasions of the spec that matter here: separators, width,
traditional characters, a few pinyin syllables and homophones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from detectors.certs.textview import MappedText

# Pinyin and homophones sellers write in place of the characters of these phrases.
_ALTERNATES = {
    "当": ("dang",), "天": ("tian",), "出": ("chu",), "证": ("正", "政", "zheng"),
    "包": ("bao", "保"), "过": ("guo",), "通": ("tong",), "免": ("mian",), "送": ("song",),
    "样": ("洋", "yang"), "办": ("ban",), "代": ("dai",), "确": ("que",), "保": ("bao",),
    "报": ("抱", "bao"), "告": ("gao",), "拿": ("na",), "下": ("xia",), "审": ("shen",),
    "核": ("he",), "检": ("jian",), "测": ("ce",), "认": ("ren",),
}


def _p(phrase: str) -> str:
    """A regex for ``phrase`` where each character may be written as its alternates."""
    parts = []
    for ch in phrase:
        alts = _ALTERNATES.get(ch)
        parts.append(f"(?:{ch}|{'|'.join(alts)})" if alts else re.escape(ch))
    return "".join(parts)


_ZHENG_END = r"(?!明|件|据|照)"  # 证明, 证件, 证据, 证照 are not certificates
_DOC = rf"(?:{_p('证')}{_ZHENG_END}书?|(?:检测|质检|检验)?{_p('报告')})"
# Without a time word in front, 正 for 证 would match 直出正品; only the plain forms count.
_DOC_PLAIN = rf"(?:证{_ZHENG_END}书?|(?:检测|质检|检验)?{_p('报告')})"
_ISSUE = rf"(?:出具|{_p('出')}|{_p('下')}|{_p('拿')})"
_SAME_DAY = rf"(?:{_p('当天')}|当日|即日|今日|今天|24小时|二十四小时|立等|次日|隔日|隔天|马上|秒)"
_N_DAYS = r"(?:[0-9一二三四五六七八九十两]{1,3}个?(?:工作)?天)"
_FAST = r"(?:加急|急速|极速|快速|火速|jiaji|加ji|jia急)"
_PASS_HEAD = rf"(?:{_p('包')}|稳|{_p('确保')}|保证|百分百|百分之百|100)"

ISSUE_PROMISE = re.compile(
    rf"(?:{_SAME_DAY}|{_N_DAYS}){_ISSUE}{_DOC}|(?:{_FAST}|直接|直){_ISSUE}{_DOC_PLAIN}"
    rf"|{_ISSUE}{_DOC_PLAIN}快|{_DOC_PLAIN}(?:加急|急出|速出)"
    rf"|(?:可|能|负责|帮您?|保证|确保|包)(?:出|下|拿)证{_ZHENG_END}|(?<![a-z])dtcz(?![a-z])")
PASS_PROMISE = re.compile(
    rf"{_PASS_HEAD}{_p('通')}?{_p('过')}(?!塑|膜|冬|寒|年|节|夜|期)|不过(?:全额)?退(?:款|费|钱)")
NO_AUDIT = re.compile(
    rf"(?:免|不用|无需|不需要?|无须|mian)(?:现场|到厂)?{_p('审核')}|(?:免|不用|无需|无须)审查"
    rf"|(?:免|不用|无需|不需要?|无须|不|mian){_p('送')}?(?:{_p('送')}|寄){_p('样')}品?"
    rf"|不到(?:现场|厂)|(?:不|免|无需)看厂|不{_p('审核')}|只出证书|只需(?:提供)?营业执照")
EXPLICIT_OFFER = re.compile(
    rf"(?:{_p('代')}|申报|代为|一站式|专业|帮)?{_p('办')}理|{_p('代')}{_p('办')}|申办|代申请|申报"
    rf"|代理(?:办理|申请|申报|[^，。]{{0,10}}?(?:认证|证书|报告|检测))|(?:认证|证书|报告|检测)代理"
    rf"|{_p('代')}{_p('出')}|出具(?!的|发票|收据|证明|票据|体检|诊断|病历)|代做|帮办"
    rf"|(?:专业|可以|可|能|都能|均可|代|帮|我们|找我们?|承)做(?!过|了)"
    r"[^，。]{0,8}?(?:认证|证书|报告|检测|体系|iso|3c|ccc|ce|fcc|9001|14001|45001)"
    rf"|(?:可|能|都能|均可|都可以|可以|都可|一起|全国可){_p('办')}|承接|受理"
    r"|(?:检测|认证|测试|检验)服务(?!有限|中心|公司|部|站)")
TESTING_OFFER = re.compile(
    r"上门(?:采样|检测|取样)|(?:寄|送)样品?后?(?:检测|测试|检验)|检测周期"
    r"|(?:提供|承接|开展|从事)[^，。]{0,15}?(?:检测|检验|测试)(?!报告|盒|仪|笔|卡|试剂|纸)")
# A testing offer counts only in a listing about reports or lab credentials (not 上门检测 repairs).
TESTING_CONTEXT = re.compile(r"报告|cma|cnas|资质认定|实验室|第三方|检测机构|检验检测")
# Medical check-ups (体检, 血常规) are not the testing services of the spec.
MEDICAL_CONTEXT = re.compile(r"体检|医院|诊所|门诊|血常规|核酸|病理|心电图|彩超")
TRADE = re.compile(
    r"现成(?:的)?[^，。]{0,8}?(?:证书|报告)"
    r"|(?:出售|转让|售卖|甩卖|低价出)[^，。]{0,20}?(?:证书|报告)|(?:证书|报告)[^，。]{0,12}?(?:出售|转让)"
    r"|(?:证书|报告)可改|可以?改(?:名|品牌|公司名|型号)")
_CERT_SCHEMES = r"(?<![a-z0-9])(?:3c|ccc|cqc|ce|fcc|rohs|ul|etl|gs|kc|pse|saa|fda|lfgb|cb|emc)"
REPORT_CLAIM = re.compile(
    rf"(?:检测|质检|检验|测试|化验|sgs|第三方){_p('报告')}|(?:有|带|附){_p('报告')}"
    rf"|{_p('报告')}(?:齐全|可查|可看|可提供)"
    r"|(?:已经?通过|通过了|经过|经由|经(?!济|销|营|理|典|常|验|过)|已过|已做)[^，。]{0,16}?"
    r"(?:检测|检验|质检)(?!机构|中心|公司)"
    r"|通过(?:国家|第三方|sgs|cqc|cma|cnas|权威|官方|国际|省级|专业机构)[^，。]{0,10}?(?:检测|检验)")
# Platform identity checks (实名认证, 企业认证店铺) are not certificates.
_NOT_CERT = r"(?<!实名)(?<!身份)(?<!微信)(?<!支付宝)(?<!平台)(?<!店铺)(?<!商家)(?<!人脸)(?<!学生)" \
    r"(?<!蓝v)(?<!官方)(?<!企业)(?<!手机)"
CERT_CLAIM = re.compile(
    rf"{_CERT_SCHEMES}认证|(?:有机|绿色|环保|节能|能效|强制性产品)认证"
    rf"|(?:通过|获得|已获|荣获|获|取得|已做|已过|拥有|具有)[^，。]{{0,20}}?(?:{_NOT_CERT}认证|证书)"
    rf"|{_NOT_CERT}认证(?:产品|齐全|证书|标志)|(?:证书|认证)编号|证书(?:齐全|可查)"
    r"|(?:附|附带|带|配|含|有)[^，。]{0,8}?证书")
# What a service or promise is about; a bare 证 (证件, 行驶证) is not enough.
# 企业认证 is a platform's identity check (企业认证店铺, 已企业认证) unless it names a scheme
# (守信用企业认证, AAA信用企业认证), so it is an object here when a longer name leads it.
_ENTERPRISE_SCHEME = (r"(?<=[\u4e00-\u9fff]{2})(?<!已)(?<!通过)企业认证"
                      r"(?!店|商家|用户|会员|账号|主体)")
OBJECT = re.compile(
    rf"{_NOT_CERT}认证|{_ENTERPRISE_SCHEME}|证书|报告|检测|检验|测试|体系|质检|信用等级"
    r"|9001|14001|45001|27001|20000|22000|50001"
    r"|(?<![a-z])(?:ce|fcc|rohs|cma|cnas|ccc|aaa|iso)(?![a-z])|(?<![0-9a-z])3c(?![a-z])")
_OBJECT_WINDOW = 12  # characters either side of a verb where its object may be
# A clause holding one of these is a warning or a refusal, not an offer or a claim.
WARNING = re.compile(
    r"谨防|警惕|骗局|提醒|谨慎|当心|小心|防范|举报|拒绝|不承诺|不作|不做|不接受|不提供|不出具"
    r"|不代办|不办理|严禁|切勿|不能替代|不可替代|并非|不是|不含|不涉及|骗子|假冒")
_NEGATION_BEFORE = re.compile(r"(?:不|无法|不能|不会|拒绝|未|勿|禁止|不可|没有?|无)$")


class Signal(StrEnum):
    OFFER = "offer"  # explicit service verb (办理, 代办, 出具 …)
    TESTING = "testing"  # a testing service (上门采样, 寄样检测, 提供…检测)
    ISSUE = "issue_promise"  # 当天出证, 三天拿证, 出证快, 直出证书
    PASS = "pass_promise"  # 包过, 确保通过, 不过退款
    NO_AUDIT = "no_audit"  # 免审核, 免送样, 不到现场
    TRADE = "trade"  # 出售/转让 证书, 现成报告
    REPORT_CLAIM = "report_claim"
    CERT_CLAIM = "cert_claim"


_FAMILIES: tuple[tuple[Signal, re.Pattern[str], bool], ...] = (
    # (signal, pattern, needs an OBJECT in its clause or within _OBJECT_WINDOW characters)
    (Signal.OFFER, EXPLICIT_OFFER, True),
    (Signal.TESTING, TESTING_OFFER, False),
    (Signal.ISSUE, ISSUE_PROMISE, False),
    (Signal.PASS, PASS_PROMISE, True),
    (Signal.NO_AUDIT, NO_AUDIT, True),
    (Signal.TRADE, TRADE, False),
    (Signal.REPORT_CLAIM, REPORT_CLAIM, False),
    (Signal.CERT_CLAIM, CERT_CLAIM, False),
)


@dataclass(frozen=True, slots=True)
class Hit:
    """A signal in one field; ``start``/``end`` index the original field text."""

    signal: Signal
    field: str
    start: int
    end: int
    text: str


def _bounds(text: str, pos: int, marks: str) -> tuple[int, int]:
    start = max(text.rfind(m, 0, pos) for m in marks) + 1
    ends = [i for i in (text.find(m, pos) for m in marks) if i != -1]
    return start, min(ends) if ends else len(text)


def find_signals(field: str, original: str, view: MappedText) -> list[Hit]:
    """Every signal in one field's text (``view`` is its compact view)."""
    text = view.text
    hits: list[Hit] = []
    for signal, pattern, needs_object in _FAMILIES:
        for m in pattern.finditer(text):
            c_start, c_end = _bounds(text, m.start(), "，。")
            clause = text[c_start:c_end]
            if WARNING.search(clause):
                continue
            if _NEGATION_BEFORE.search(text[max(c_start, m.start() - 2):m.start()]) and \
                    signal in (Signal.OFFER, Signal.TESTING, Signal.REPORT_CLAIM,
                               Signal.CERT_CLAIM):
                continue
            if needs_object and not OBJECT.search(clause):
                s_start, s_end = _bounds(text, m.start(), "。")
                window = text[max(s_start, m.start() - _OBJECT_WINDOW):
                              min(s_end, m.end() + _OBJECT_WINDOW)]
                if not OBJECT.search(window):
                    continue
            start, end = view.span(m.start(), m.end())
            hits.append(Hit(signal, field, start, end, original[start:end]))
    return hits
