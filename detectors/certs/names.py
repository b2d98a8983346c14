"""Organisation names: a comparison key tolerant of legal-form, region and bracket variants.

``亚环认证(合肥)有限公司``, ``亚环认证（合肥）有限公司``, ``亚环认证有限公司`` and
``安徽亚环认证有限公司`` all have the key ``亚环认证``; keys are compared with
rapidfuzz so a long name survives one stray character.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from rapidfuzz import fuzz

from detectors.certs.textview import folded
from detectors.normalize import syllables_of

_PROVINCES = (
    "北京|天津|上海|重庆|河北|山西|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|山东|河南|湖北|湖南|"
    "广东|海南|四川|贵州|云南|陕西|甘肃|青海|台湾|内蒙古|广西|西藏|宁夏|新疆|香港|澳门"
)
_REGION_PREFIX = re.compile(
    rf"^(?:(?:{_PROVINCES})(?:省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)?)?"
    r"(?:[\u4e00-\u9fff]{2,3}市)?")
_BRACKETED = re.compile(r"[(\[【][^()\[\]【】]{0,8}[)\]】]")
_LEGAL_FORM = re.compile(r"(?:集团)?(?:股份)?(?:有限(?:责任)?)?公司$|集团$")
_NOISE = re.compile(r"[\s·.,，、:：\"'“”]")
# How close two keys must be (rapidfuzz ratio, 0–100) to name the same body.
MATCH_RATIO = 88.0

# An organisation name as written in a listing: Chinese characters (and brackets)
# ending in a legal form or an institutional word.
ORG_NAME = re.compile(
    r"[\u4e00-\u9fff()]{2,40}?"
    r"(?:(?:集团|认证中心|检测中心|检验中心|服务中心|中心|研究院|研究所|检验所|检测站|实验室)"
    r"(?:(?:股份)?有限(?:责任)?公司)?|(?:股份)?有限(?:责任)?公司|公司)")
# Label words that run into a name when there is no colon (认证机构华博认证有限公司).
_LABEL_PREFIX = re.compile(
    r"^(?:认证机构|发证机构|检测机构|检验机构|颁证机构|机构名称|单位名称|公司名称|名称|本品经|经|由|系)")
_NOT_NAMES = re.compile(r"^(?:本|我|该|贵|其|正规|专业|第三方|合作|省|市|\()")


@lru_cache(maxsize=4096)
def name_key(name: str) -> str:
    """The comparison key of an organisation name."""
    text = unicodedata.normalize("NFKC", folded(name).text)
    text = _NOISE.sub("", text)
    text = text.replace("（", "(").replace("）", ")")
    text = _BRACKETED.sub("", text)
    text = _REGION_PREFIX.sub("", text, count=1) or text
    text = _LEGAL_FORM.sub("", text) or text
    return text


def same_body(a: str, b: str) -> bool:
    """Whether two written names plausibly name the same organisation."""
    key_a, key_b = name_key(a), name_key(b)
    if not key_a or not key_b:
        return False
    if key_a == key_b:
        return True
    # A name written with homophones (亚环仞证) is still that body's name.
    if len(key_a) == len(key_b) and syllables_of(key_a) == syllables_of(key_b):
        return True
    return fuzz.ratio(key_a, key_b) >= MATCH_RATIO


def mentions(text_key: str, name: str) -> bool:
    """Whether a text (already reduced with :func:`name_key`-style folding) names ``name``."""
    key = name_key(name)
    return len(key) >= 3 and key in text_key


def fold_for_mentions(text: str) -> str:
    """Fold a free text the way :func:`mentions` expects (brackets, region words dropped)."""
    flat = unicodedata.normalize("NFKC", folded(text).text)
    flat = _NOISE.sub("", flat).replace("（", "(").replace("）", ")")
    return _BRACKETED.sub("", flat)


def org_names(text: str) -> list[tuple[int, int, str]]:
    """Organisation names in ``text`` as (start, end, name), offsets into ``text``."""
    found: list[tuple[int, int, str]] = []
    for m in ORG_NAME.finditer(text):
        start, name = m.start(), m.group()
        label = _LABEL_PREFIX.match(name)
        if label and len(name) - label.end() >= 4:
            start, name = start + label.end(), name[label.end():]
        if _NOT_NAMES.match(name) or len(name_key(name)) < 2:
            continue
        found.append((start, m.end(), name))
    return found
