"""Identifier formats of the detection spec: extract them from text and validate them.

Kinds: 统一社会信用代码 (GB 32100-2015 check character), 认证机构批准书编号
(CNCA-R / CNCA-RF), CMA 资质认定证书编号, CNAS laboratory (L) and
certification-body (C) numbers, and CCC certificate numbers. Reasons are
user-facing and therefore in Chinese.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from detectors.certs.textview import MappedText, folded
from detectors.leading import Led

CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT_INDEX = {c: i for i, c in enumerate(CREDIT_ALPHABET)}
# CNCA approvals started in 2002 (CNCA-R-2002-001).
FIRST_APPROVAL_YEAR = 2002


class IdKind(StrEnum):
    CREDIT_CODE = "credit_code"
    CNCA_R = "cnca_r"
    CNCA_RF = "cnca_rf"
    CMA = "cma"
    CNAS_LAB = "cnas_lab"
    CNAS_CB = "cnas_cb"
    CCC = "ccc"
    UNKNOWN = "unknown"


KIND_LABELS = {
    IdKind.CREDIT_CODE: "统一社会信用代码",
    IdKind.CNCA_R: "认证机构批准书编号",
    IdKind.CNCA_RF: "认证机构批准书编号（外资）",
    IdKind.CMA: "CMA资质认定证书编号",
    IdKind.CNAS_LAB: "CNAS实验室认可编号",
    IdKind.CNAS_CB: "CNAS认证机构认可编号",
    IdKind.CCC: "CCC证书编号",
    IdKind.UNKNOWN: "未知",
}


@dataclass(frozen=True, slots=True)
class CheckResult:
    """Outcome of the GB 32100-2015 check of one credit code."""

    valid: bool
    reason: str
    expected: str | None = None  # the check character the first 17 call for


@dataclass(frozen=True, slots=True)
class IdResult:
    """What an identifier is and whether it is well formed."""

    kind: IdKind
    valid: bool
    reason: str
    code: str  # the canonical form that was checked


@dataclass(frozen=True, slots=True)
class IdMatch:
    """An identifier found in a text; ``start``/``end`` index the original text."""

    kind: IdKind
    start: int
    end: int
    code: str


def credit_code_check(code: str) -> CheckResult:
    """Check an 18-character 统一社会信用代码 against GB 32100-2015."""
    if len(code) != 18:
        return CheckResult(False, f"长度应为18位，实际为{len(code)}位")
    bad = [c for c in code if c not in _CREDIT_INDEX]
    if bad:
        return CheckResult(False, f"含有不允许的字符“{bad[0]}”（不得使用I、O、Z、S、V）")
    total = sum(_CREDIT_INDEX[c] * w for c, w in zip(code[:17], CREDIT_WEIGHTS, strict=True))
    expected = CREDIT_ALPHABET[(31 - total % 31) % 31]
    if code[17] != expected:
        return CheckResult(False, f"校验码应为“{expected}”，实际为“{code[17]}”（GB 32100-2015）",
                           expected)
    return CheckResult(True, "校验码正确（GB 32100-2015）", expected)


_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\uff0d_"


def canonical(code: str) -> str:
    """NFKC, upper case, dash variants as ``-``, surrounding space removed."""
    text = unicodedata.normalize("NFKC", code).strip().upper()
    for dash in _DASHES:
        text = text.replace(dash, "-")
    return text


_CNCA_SHAPE = re.compile(r"^CNCA\s*-?\s*R(F?)\s*-?\s*(.*)$")
_CNAS_SHAPE = re.compile(r"^CNAS\s*-?\s*([LC])\s*-?\s*(.*)$")


def _classify_cnca(text: str) -> IdResult | None:
    match = _CNCA_SHAPE.match(text)
    if not match:
        return None
    foreign = match.group(1) == "F"
    kind = IdKind.CNCA_RF if foreign else IdKind.CNCA_R
    prefix = "CNCA-RF" if foreign else "CNCA-R"
    parts = [p for p in re.split(r"[\s-]+", match.group(2)) if p]
    shape = f"{prefix}-YYYY-NNN"
    if len(parts) != 2:
        return IdResult(kind, False, f"格式应为{shape}（年份-2至4位序号）", text)
    year, serial = parts
    code = f"{prefix}-{year}-{serial}"
    if not year.isdigit() or len(year) != 4:
        return IdResult(kind, False, f"年份“{year}”应为4位数字（{shape}）", code)
    last_year = date.today().year + 1
    if not FIRST_APPROVAL_YEAR <= int(year) <= last_year:
        return IdResult(kind, False,
                        f"年份{year}不在{FIRST_APPROVAL_YEAR}–{last_year}之间", code)
    if not serial.isdigit():
        return IdResult(kind, False, f"序号“{serial}”应全为数字", code)
    if not 2 <= len(serial) <= 4:
        return IdResult(kind, False, f"序号应为2至4位数字，实际为{len(serial)}位", code)
    return IdResult(kind, True, f"格式正确（{shape}）", code)


def _classify_cnas(text: str) -> IdResult | None:
    match = _CNAS_SHAPE.match(text)
    if not match:
        return None
    letter, rest = match.group(1), re.sub(r"\s+", "", match.group(2))
    if letter == "L":
        code = f"CNAS L{rest}"
        if rest.isdigit() and 4 <= len(rest) <= 5:
            return IdResult(IdKind.CNAS_LAB, True, "格式正确（CNAS L + 4至5位数字）", code)
        return IdResult(IdKind.CNAS_LAB, False, "实验室认可编号应为CNAS L + 4至5位数字（可疑）",
                        code)
    code = f"CNAS C{rest}"
    if re.fullmatch(r"\d{3}-[MPQES]", rest):
        note = "" if rest[-1] in "MP" else "（旧版后缀）"
        return IdResult(IdKind.CNAS_CB, True, f"格式正确（CNAS C + 3位数字 + -M/-P）{note}",
                        code)
    return IdResult(IdKind.CNAS_CB, False,
                    "认证机构认可编号应为CNAS C + 3位数字 + -M/-P（旧版-Q/-E/-S）（可疑）", code)


def cma_check(code: str) -> IdResult:
    """A CMA number: 12 digits (year, authority 00–31, field, sector, serial) or 11 old."""
    if re.fullmatch(r"\d{12}", code):
        authority = int(code[2:4])
        if authority > 31:
            return IdResult(IdKind.CMA, False,
                            f"发证机关代码{code[2:4]}应为00（国家）或01–31（省级）（可疑）", code)
        return IdResult(IdKind.CMA, True,
                        "格式正确（12位：年份、发证机关、专业领域、行业、流水号）", code)
    if re.fullmatch(r"\d{10}[0-9A-Z]", code):
        return IdResult(IdKind.CMA, True, "旧版11位编号（格式可接受）", code)
    return IdResult(IdKind.CMA, False, "CMA编号应为12位数字（旧版11位）（可疑）", code)


def ccc_check(code: str) -> IdResult:
    """A CCC certificate number: 16 digits — year, body code, category, serial."""
    if not re.fullmatch(r"\d{16}", code):
        return IdResult(IdKind.CCC, False, "CCC证书编号应为16位数字（可疑）", code)
    year = int(code[:4])
    last_year = date.today().year + 1
    if not FIRST_APPROVAL_YEAR - 1 <= year <= last_year:
        return IdResult(IdKind.CCC, False, f"年份{code[:4]}不合理（可疑）", code)
    if code[4:6] == "00":
        return IdResult(IdKind.CCC, False, "认证机构代码不应为00（可疑）", code)
    return IdResult(IdKind.CCC, True, "格式正确（16位：年份、机构代码、产品类别、流水号）", code)


def classify(code: str) -> IdResult:
    """Decide which kind of identifier ``code`` is and whether it is valid."""
    text = canonical(code)
    if text.startswith("CNCA"):
        result = _classify_cnca(text)
        if result:
            return result
    if text.startswith("CNAS"):
        result = _classify_cnas(text)
        if result:
            return result
    bare = re.sub(r"[\s-]+", "", text)
    if bare.startswith("CMA") and bare[3:].isdigit():
        return cma_check(bare[3:])
    if len(bare) == 18 and bare.isalnum() and bare.isascii():
        check = credit_code_check(bare)
        return IdResult(IdKind.CREDIT_CODE, check.valid, check.reason, bare)
    if bare.isdigit() and len(bare) == 16:
        return ccc_check(bare)
    if (bare.isdigit() and len(bare) == 12) or re.fullmatch(r"\d{10}[A-Z]", bare):
        return cma_check(bare)
    return IdResult(IdKind.UNKNOWN, False,
                    "无法识别的编号（支持统一社会信用代码、CNCA-R、CMA、CNAS、CCC）", text)


def validate(match: IdMatch) -> IdResult:
    """Validate a found identifier as the kind it was found as."""
    if match.kind is IdKind.CREDIT_CODE:
        check = credit_code_check(match.code)
        return IdResult(IdKind.CREDIT_CODE, check.valid, check.reason, match.code)
    return classify(match.code)


# --- finding identifiers in free text -------------------------------------------------------

_SEP = r"[ \t]*-[ \t]*"
_CNCA_RE = re.compile(
    rf"CNCA[ \t]*-?[ \t]*RF?[ \t]+\d{{4}}[ \t]+\d{{2,4}}(?![0-9A-Z])"
    rf"|CNCA(?:{_SEP}|[ \t]*)RF?(?:(?:{_SEP}|[ \t]*)[0-9][0-9A-Z]*)(?:{_SEP}[0-9A-Z]+)*",
    re.IGNORECASE)
_CNAS_RE = re.compile(r"CNAS[ \t]*-?[ \t]*(?:L[ \t]*\d+|C[ \t]*\d+(?:[ \t]*-[ \t]*[A-Z])?)",
                      re.IGNORECASE)
_CREDIT_RE = Led(re.compile(r"(?<![0-9A-Za-z])[0-9A-Za-z]{18}(?![0-9A-Za-z])"))
_CREDIT_SHAPE = re.compile(r"^[1-9A-GY][0-9A-Z]\d{6}[0-9A-Z]{10}$")
_CREDIT_CONTEXT = re.compile(r"(信用代码|社会信用|统一代码|税号|纳税人识别号|营业执照|注册号)")
_DIGITS_RE = Led(
    re.compile(r"(?<![0-9A-Za-z])(\d{16}|\d{12}|\d{10}[A-Z])(?![0-9A-Za-z])"))
_CMA_CONTEXT = re.compile(r"(CMA|资质认定|计量认证|检验检测机构)", re.IGNORECASE)
_CCC_CONTEXT = re.compile(r"(3C|CCC|强制性产品认证|证书)", re.IGNORECASE)
_CONTEXT_CHARS = 24
_ALNUM = re.compile(r"[A-Za-z]|\d")


_CREDIT_LABEL = re.compile(r"(?:统一社会信用代码|社会信用代码|信用代码|统一代码)\s*[:：]?\s*")
_CHUNK = re.compile(r"[0-9A-Za-z]+")
_CHUNK_GAP = re.compile(r"[ \t]*-?[ \t]*")


def _labelled_credit_codes(text: str) -> Iterator[tuple[int, int, str]]:
    """Codes after a 信用代码 label, also when written in groups (9134 0100 MA2M …).

    A single token of 16–20 characters there is reported too, so a code of the
    wrong length is caught; 15 digits is a pre-2015 registration number.
    """
    for label in _CREDIT_LABEL.finditer(text):
        pos, chunks = label.end(), []
        while True:
            chunk = _CHUNK.match(text, pos)
            if not chunk:
                break
            chunks.append(chunk)
            if sum(len(c.group()) for c in chunks) >= 18:
                break
            gap = _CHUNK_GAP.match(text, chunk.end())
            pos = gap.end() if gap else chunk.end()
            if pos == chunk.end():
                break
        if not chunks:
            continue
        joined = "".join(c.group() for c in chunks).upper()
        first = chunks[0].group()
        if len(joined) == 18:
            yield chunks[0].start(), chunks[-1].end(), joined
        elif 16 <= len(first) <= 20:
            yield chunks[0].start(), chunks[0].end(), first.upper()


def _context_before(view: MappedText, start: int, pattern: re.Pattern[str]) -> bool:
    window = view.text[max(0, start - _CONTEXT_CHARS):start]
    return bool(pattern.search(window))


def find_identifiers(text: str) -> list[IdMatch]:
    """Every identifier in ``text``, by offsets into the original (unfolded) text.

    Credit codes need a letter in their body or a 信用代码-like label before them
    (an 18-digit run alone may be an ID-card or order number); CMA and CCC
    numbers need a label (CMA/资质认定, 3C/CCC/证书) shortly before them.
    """
    view = folded(text)
    found: list[IdMatch] = []
    taken: list[tuple[int, int]] = []

    def add(kind: IdKind, start: int, end: int, code: str) -> None:
        if any(start < e and s < end for s, e in taken):
            return
        taken.append((start, end))
        o_start, o_end = view.span(start, end)
        found.append(IdMatch(kind, o_start, o_end, code))

    if not _ALNUM.search(view.text):
        return found  # every identifier has Latin letters or digits
    if "cn" in view.text.lower():  # both patterns start with CN, in any case
        for m in _CNCA_RE.finditer(view.text):
            result = classify(m.group())
            add(result.kind, m.start(), m.end(), result.code)
        for m in _CNAS_RE.finditer(view.text):
            result = classify(m.group())
            add(result.kind, m.start(), m.end(), result.code)
    for start, end, code in _labelled_credit_codes(view.text):
        add(IdKind.CREDIT_CODE, start, end, code)
    for m in _CREDIT_RE.finditer(view.text):
        code = m.group().upper()
        labelled = _context_before(view, m.start(), _CREDIT_CONTEXT)
        has_letter = any(c.isalpha() for c in code[:17])
        if labelled or (has_letter and _CREDIT_SHAPE.match(code)):
            add(IdKind.CREDIT_CODE, m.start(), m.end(), code)
    for m in _DIGITS_RE.finditer(view.text):
        code = m.group(1)
        if len(code) == 16 and _context_before(view, m.start(), _CCC_CONTEXT):
            add(IdKind.CCC, m.start(), m.end(), code)
        elif len(code) in (11, 12) and _context_before(view, m.start(), _CMA_CONTEXT):
            add(IdKind.CMA, m.start(), m.end(), code)
    found.sort(key=lambda match: match.start)
    return found
