"""Phrase signals the certificate checks rely on, matched on the phrase view.

Four families: a certification/testing service offered (办理, 代办, 出具 …), a
promise only such a service makes (当天出证, 包过, 免审核 …), a trade in
ready-made documents (出售, 转让, 现成报告), and a product's claim to hold a
certificate or test report (检测报告齐全, 已通过3C认证 …). Matches inside a
warning or negation (谨防…, 不承诺…, 拒绝…) do not count.

The patterns are written in plain simplified Chinese: the phrase view
(:func:`detectors.certs.textview.phrase_view`) has already undone the
evasions of the spec with the engine's normaliser, and spelled out the words
of :data:`VOCABULARY_WORDS` that the seller disguised with pinyin or
homophones.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from detectors.certs.textview import PhraseView, Vocabulary
from detectors.leading import Led
from detectors.pinyin_tables import initials, tables

# Words whose disguised spellings (typed pinyin, homophones) the phrase view spells
# out again before the patterns run: the words the patterns below are made of,
# and the promises they compose (出证, 天出证 for 三天出证). Only words of two or
# more Chinese characters without numerals count.
VOCABULARY_WORDS = (
    # documents, schemes and what they are about
    "证书", "报告", "检测", "检验", "质检", "测试", "化验", "认证", "资质", "体系", "信用",
    "等级", "企业", "产品", "品牌", "质量", "型号", "编号", "标志", "机构", "实验室",
    # offering a service
    "办理", "代办", "代理", "申报", "申办", "申请", "代为", "代出", "出具", "代做", "帮办",
    "承接", "受理", "服务", "专业", "办证",
    # how fast a document comes
    "当天", "当日", "即日", "今日", "今天", "小时", "立等", "次日", "隔日", "隔天", "马上",
    "出证", "下证", "拿证", "天出证", "天下证", "天拿证", "出报告", "加急", "急速", "极速",
    "快速", "火速", "直接",
    # passing, auditing, samples
    "包过", "通过", "包通过", "确保", "确保通过", "保证", "百分百", "退款", "全额", "审核",
    "审查", "免审", "免审核", "送样", "寄样", "样品", "免送样", "不送样", "现场", "看厂",
    "营业执照",
    # trading documents and claiming them
    "现成", "出售", "转让", "售卖", "甩卖", "低价", "可改", "齐全", "可查", "可看", "提供",
    "有报告", "附报告", "带报告", "有证书", "附证书", "带证书",
    "已经", "经过", "获得", "荣获", "取得", "拥有", "具有", "国家", "权威", "官方", "国际",
    "省级", "有机", "绿色", "环保", "节能", "能效",
    # warnings and refusals
    "谨防", "警惕", "骗局", "提醒", "谨慎", "当心", "小心", "防范", "举报", "拒绝", "承诺",
    "严禁", "切勿", "替代", "并非", "骗子", "假冒",
    # testing services
    "上门", "采样", "取样", "周期",
)
# Words that vouch for a disguised neighbour of two characters (检测豹告, 仞证办理):
# what the checks are about, as the engine's attach_left words are for its rules.
ANCHOR_WORDS = ("证书", "报告", "检测", "检验", "质检", "测试", "认证", "资质", "体系", "审核",
                "办理", "代办", "代理", "出具", "办证", "出证", "下证", "拿证", "齐全", "送样",
                "编号", "有机", "绿色", "环保", "节能", "能效")
# Scheme and standard codes that vouch for the disguised word after them (3C仞证).
ANCHOR_CODES = re.compile(
    r"(?:3c|ccc|cqc|ce|fcc|rohs|ul|etl|gs|kc|pse|saa|fda|lfgb|cb|emc|cma|cnas|sgs|iso\d*)")
# Everyday words that sound like one of the vocabulary and are never respelled:
# a smartwatch's 睡眠监测报告 is no test report, a parcel (包裹) no pass.
EVERYDAY_WORDS = ("监测", "包裹", "出手", "待办", "人证")
# Promises sellers abbreviate to the initials of their syllables (dtcz), as the
# lexicon engine reads them: a whole word of letters.
INITIALS_PHRASES = ("当天出证", "当天下证", "当天拿证", "当天出报告", "当日出证", "今日出证",
                    "即日出证", "直接出证", "快速出证", "极速拿证", "加急出证")


@cache
def vocabulary() -> Vocabulary:
    """The compiled vocabulary (built on first use: it needs the pinyin tables)."""
    return Vocabulary(VOCABULARY_WORDS, ANCHOR_WORDS, EVERYDAY_WORDS, ANCHOR_CODES)


def _initials(phrase: str) -> str:
    syllables = tuple(tables().default_syllable(ch) or "" for ch in phrase)
    return initials(syllables)


_ZHENG_END = r"(?!明|件|据|照)"  # 证明, 证件, 证据, 证照 are not certificates
_DOC = rf"(?:证{_ZHENG_END}书?|(?:检测|质检|检验)?报告)"
_ISSUE = r"(?:出具|出|下|拿)"
_SAME_DAY = r"(?:当天|当日|即日|今日|今天|24小时|二十四小时|立等|次日|隔日|隔天|马上|秒)"
_N_DAYS = r"(?:[0-9一二三四五六七八九十两]{1,3}个?(?:工作)?天)"
_FAST = r"(?:加急|急速|极速|快速|火速)"
# 保过 and 稳过 are the look-alikes of 包过 sellers use (the spec's own example).
_PASS_HEAD = r"(?:包|保|稳|确保|保证|百分百|百分之百|100)"

_INITIALS = "|".join(dict.fromkeys(_initials(p) for p in INITIALS_PHRASES))
ISSUE_PROMISE = re.compile(
    rf"(?:{_SAME_DAY}|{_N_DAYS}){_ISSUE}{_DOC}|(?:{_FAST}|直接|直){_ISSUE}{_DOC}"
    rf"|{_ISSUE}{_DOC}快|{_DOC}(?:加急|急出|速出)"
    rf"|(?:可|能|负责|帮您?|保证|确保|包)(?:出|下|拿)证{_ZHENG_END}"
    rf"|(?<![a-z0-9])(?P<initials>{_INITIALS})(?![a-z0-9])")
PASS_PROMISE = re.compile(
    rf"{_PASS_HEAD}通?过(?!塑|膜|冬|寒|年|节|夜|期)|不过(?:全额)?退(?:款|费|钱)")
NO_AUDIT = re.compile(
    r"(?:免|不用|无需|不需要?|无须)(?:现场|到厂)?审核|(?:免|不用|无需|无须)审查"
    r"|(?:免|不用|无需|不需要?|无须|不)送?(?:送|寄)样品?"
    r"|不到(?:现场|厂)|(?:不|免|无需)看厂|不审核|只出证书|只需(?:提供)?营业执照")
EXPLICIT_OFFER = re.compile(
    r"(?:代|申报|代为|一站式|专业|帮)?办理|代办|申办|代申请|申报"
    r"|代理(?:办理|申请|申报|[^，。]{0,10}?(?:认证|证书|报告|检测))|(?:认证|证书|报告|检测)代理"
    r"|代出|出具(?!的|发票|收据|证明|票据|体检|诊断|病历)|代做|帮办"
    r"|(?:专业|可以|可|能|都能|均可|代|帮|我们|找我们?|承)做(?!过|了)"
    r"[^，。]{0,8}?(?:认证|证书|报告|检测|体系|iso|3c|ccc|ce|fcc|9001|14001|45001)"
    r"|(?:可|能|都能|均可|都可以|可以|都可|一起|全国可)办|承接|受理"
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
    r"(?:检测|质检|检验|测试|化验|sgs|第三方)报告|(?:有|带|附)报告"
    r"|报告(?:齐全|可查|可看|可提供)"
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


_FAMILIES: tuple[tuple[Signal, Led, bool], ...] = tuple(
    # (signal, pattern, needs an OBJECT in its clause or within _OBJECT_WINDOW characters);
    # each searched only from the characters its matches can start with.
    (signal, Led(pattern), needs_object) for signal, pattern, needs_object in (
        (Signal.OFFER, EXPLICIT_OFFER, True),
        (Signal.TESTING, TESTING_OFFER, False),
        (Signal.ISSUE, ISSUE_PROMISE, False),
        (Signal.PASS, PASS_PROMISE, True),
        (Signal.NO_AUDIT, NO_AUDIT, True),
        (Signal.TRADE, TRADE, False),
        (Signal.REPORT_CLAIM, REPORT_CLAIM, False),
        (Signal.CERT_CLAIM, CERT_CLAIM, False),
    ))


@dataclass(frozen=True, slots=True)
class Hit:
    """A signal in one field; ``start``/``end`` index the original field text."""

    signal: Signal
    field: str
    start: int
    end: int
    text: str
    evasions: tuple[str, ...] = ()  # the spec's evasions the match saw through


_CLAUSE_MARK = re.compile("[，。]")
_SENTENCE_MARK = re.compile("。")


class _Clauses:
    """Clause and sentence bounds of one text, each clause searched once.

    Seller text may be one clause thousands of characters long: finding the
    bounds and searching the clause again for every match would be quadratic.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self._clause_marks: list[int] | None = None  # found when first asked for
        self._sentence_marks: list[int] | None = None
        self._warned: dict[int, bool] = {}
        self._objects: dict[int, bool] = {}

    def _bounds(self, marks: list[int], pos: int) -> tuple[int, int]:
        k = bisect_left(marks, pos)  # the first mark at or after pos
        return (marks[k - 1] + 1 if k else 0), (marks[k] if k < len(marks) else len(self.text))

    def clause(self, pos: int) -> tuple[int, int]:
        if self._clause_marks is None:
            self._clause_marks = [m.start() for m in _CLAUSE_MARK.finditer(self.text)]
        return self._bounds(self._clause_marks, pos)

    def sentence(self, pos: int) -> tuple[int, int]:
        if self._sentence_marks is None:
            self._sentence_marks = [m.start() for m in _SENTENCE_MARK.finditer(self.text)]
        return self._bounds(self._sentence_marks, pos)

    def warned(self, start: int, end: int) -> bool:
        """The clause [start, end) is a warning or a refusal."""
        if start not in self._warned:
            self._warned[start] = WARNING.search(self.text, start, end) is not None
        return self._warned[start]

    def has_object(self, start: int, end: int) -> bool:
        """The clause [start, end) names what a service or promise is about."""
        if start not in self._objects:
            self._objects[start] = OBJECT.search(self.text[start:end]) is not None
        return self._objects[start]


def find_signals(field: str, original: str, view: PhraseView) -> list[Hit]:
    """Every signal in one field's text (``view`` is its phrase view)."""
    text = view.text
    clauses = _Clauses(text)
    hits: list[Hit] = []
    for signal, pattern, needs_object in _FAMILIES:
        for m in pattern.finditer(text):
            c_start, c_end = clauses.clause(m.start())
            if clauses.warned(c_start, c_end):
                continue
            if _NEGATION_BEFORE.search(text[max(c_start, m.start() - 2):m.start()]) and \
                    signal in (Signal.OFFER, Signal.TESTING, Signal.REPORT_CLAIM,
                               Signal.CERT_CLAIM):
                continue
            if needs_object and not clauses.has_object(c_start, c_end):
                s_start, s_end = clauses.sentence(m.start())
                window = text[max(s_start, m.start() - _OBJECT_WINDOW):
                              min(s_end, m.end() + _OBJECT_WINDOW)]
                if not OBJECT.search(window):
                    continue
            start, end = view.span(m.start(), m.end())
            initials = ("initials",) if m.groupdict().get("initials") else ()
            hits.append(Hit(signal, field, start, end, original[start:end],
                            view.evasions(m.start(), m.end(), initials)))
    return hits
