"""The spec's evasions as text transforms, so violating listings disguise their phrases.

Each transform changes a phrase or leaves it alone when it does not apply;
``evade`` reports which ones changed something, and that is what the ground
truth records.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from random import Random
from typing import Any

EVASION_KINDS = ("separator", "invisible", "width", "case", "traditional", "pinyin",
                 "initials", "homophone", "synonym", "numeral")

# Character-level rewrites first, then insertions, so separators land between the
# characters the phrase finally shows.
_ORDER = ("synonym", "numeral", "homophone", "traditional", "pinyin", "initials", "width",
          "case", "separator", "invisible")

_SEPARATORS = (" ", "·", "/", "-", "*", "✅", "🔥", "★", "|", "_", "～", "、", "..", " * ")
_INVISIBLE = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff")

# Synonyms the spec lists: 当日/即日/今日/24小时/立等 for 当天, 下证/拿证 for 出证,
# 报告 for 证书.
_SYNONYMS = {
    "当天": ("当日", "即日", "今日", "24小时", "立等"),
    "出证": ("下证", "拿证"),
    "证书": ("报告",),
}

_NUMERALS = {
    "1": ("一", "①", "壹"), "2": ("两", "②", "贰"), "3": ("三", "③", "叁"),
    "4": ("四", "④", "肆"), "5": ("五", "⑤", "伍"), "6": ("六", "⑥", "陆"),
    "7": ("七", "⑦", "柒"),
}
_N_DAYS = re.compile(r"(?<![0-9])([1-7])(?=天)")

_PHRASE_HOMOPHONES = {"包过": ("稳过", "包锅"), "通过": ("通锅", "同过")}
_HOMOPHONES = {
    "证": ("正", "政", "症"), "审": ("申", "婶"), "核": ("合", "和"), "样": ("洋", "羊"),
    "检": ("捡", "俭"), "测": ("侧", "恻"), "报": ("抱", "豹"), "告": ("吿",),
    "天": ("添", "田"), "出": ("岀", "初"), "认": ("仞",), "快": ("块", "筷"),
    "速": ("塑", "素"), "国": ("囯",), "级": ("极", "汲"), "拿": ("哪", "那"),
    "送": ("宋", "颂"), "质": ("志",), "齐": ("琪", "其"), "办": ("半", "扮"),
}

_PINYIN = {
    "当": "dang", "天": "tian", "出": "chu", "证": "zheng", "报": "bao", "告": "gao",
    "包": "bao", "过": "guo", "通": "tong", "确": "que", "保": "bao", "拿": "na",
    "下": "xia", "审": "shen", "核": "he", "免": "mian", "送": "song", "样": "yang",
    "检": "jian", "测": "ce", "快": "kuai", "速": "su", "认": "ren", "国": "guo",
    "家": "jia", "级": "ji", "权": "quan", "威": "wei", "加": "jia", "急": "ji",
    "日": "ri", "直": "zhi", "接": "jie", "书": "shu", "现": "xian", "成": "cheng",
    "改": "gai", "售": "shou", "质": "zhi", "齐": "qi", "全": "quan", "华": "hua",
    "中": "zhong", "信": "xin", "办": "ban", "理": "li", "代": "dai", "标": "biao",
    "备": "bei", "必": "bi", "招": "zhao", "投": "tou", "需": "xu", "无": "wu",
    "用": "yong", "不": "bu", "场": "chang", "寄": "ji", "只": "zhi", "具": "ju",
    "次": "ci", "转": "zhuan", "让": "rang", "极": "ji",
    "品": "pin", "名": "ming", "优": "you", "绿": "lv", "色": "se", "环": "huan",
    "可": "ke", "营": "ying", "业": "ye", "执": "zhi", "照": "zhao", "片": "pian",
    "额": "e", "退": "tui", "款": "kuan", "到": "dao", "查": "cha", "即": "ji", "今": "jin",
    "立": "li", "等": "deng", "小": "xiao", "时": "shi", "捷": "jie", "最": "zui",
}


def _is_hanzi(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def _is_ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


@functools.cache
def _s2t() -> Any:
    import opencc  # imported lazily: only generation needs it

    return opencc.OpenCC("s2t")


def _synonym(text: str, rng: Random) -> str:
    keys = [k for k in _SYNONYMS if k in text]
    if not keys:
        return text
    key = rng.choice(keys)
    return text.replace(key, rng.choice(_SYNONYMS[key]), 1)


def _numeral(text: str, rng: Random) -> str:
    return _N_DAYS.sub(lambda m: rng.choice(_NUMERALS[m.group(1)]), text, count=1)


def _homophone(text: str, rng: Random) -> str:
    phrases = [p for p in _PHRASE_HOMOPHONES if p in text]
    if phrases and rng.random() < 0.6:
        phrase = rng.choice(phrases)
        return text.replace(phrase, rng.choice(_PHRASE_HOMOPHONES[phrase]), 1)
    spots = [i for i, ch in enumerate(text) if ch in _HOMOPHONES]
    if not spots:
        return text
    i = rng.choice(spots)
    return text[:i] + rng.choice(_HOMOPHONES[text[i]]) + text[i + 1:]


def _traditional(text: str, rng: Random) -> str:
    return str(_s2t().convert(text))


def _pinyin(text: str, rng: Random) -> str:
    spots = [i for i, ch in enumerate(text) if ch in _PINYIN]
    if not spots:
        return text
    chosen = set(rng.sample(spots, k=min(len(spots), rng.choice((1, 1, 2)))))
    return "".join(_PINYIN[ch] if i in chosen else ch for i, ch in enumerate(text))


def _initials_span(text: str) -> tuple[int, int] | None:
    """The phrase's hanzi core when it is 4–5 characters with known pinyin (当天出证 → dtcz).

    Initials inside a long phrase, or of a short one (msy), would be unreadable
    even to a person, so those phrases do not take this evasion.
    """
    spots = [i for i, ch in enumerate(text) if _is_hanzi(ch)]
    if not 4 <= len(spots) <= 5 or spots[-1] - spots[0] + 1 != len(spots):
        return None
    if not all(text[i] in _PINYIN for i in spots):
        return None
    return spots[0], spots[-1] + 1


def _initials(text: str, rng: Random) -> str:
    span = _initials_span(text)
    if span is None:
        return text
    start, end = span
    return text[:start] + "".join(_PINYIN[ch][0] for ch in text[start:end]) + text[end:]


def _width(text: str, rng: Random) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if ch.isascii() and (ch.isalnum() or ch in "%-.")
                   else ch for ch in text)


def _case(text: str, rng: Random) -> str:
    letters = [ch for ch in text if ch.isascii() and ch.isalpha()]
    if not letters:
        return text
    if all(ch.isupper() for ch in letters):
        styles: tuple[Callable[[str], str], ...] = (str.lower, _capitalise_runs)
    elif all(ch.islower() for ch in letters):
        styles = (str.upper, _capitalise_runs)
    else:
        styles = (str.swapcase,)
    for style in rng.sample(styles, k=len(styles)):
        changed = style(text)
        if changed != text:
            return changed
    return text.swapcase()


def _capitalise_runs(text: str) -> str:
    return re.sub(r"[A-Za-z]+", lambda m: m.group(0).capitalize(), text)


def _insert_between(text: str, rng: Random, fillers: tuple[str, ...]) -> str:
    gaps = [i for i in range(1, len(text))
            if not (_is_ascii_alnum(text[i - 1]) and _is_ascii_alnum(text[i]))
            and not text[i - 1].isspace() and not text[i].isspace()]
    if not gaps:
        return text
    if len(text) <= 5 and rng.random() < 0.6:
        chosen = set(gaps)
    else:
        chosen = set(rng.sample(gaps, k=rng.randint(1, min(3, len(gaps)))))
    filler = rng.choice(fillers)
    return "".join((filler if i in chosen else "") + ch for i, ch in enumerate(text))


def _separator(text: str, rng: Random) -> str:
    return _insert_between(text, rng, _SEPARATORS)


def _invisible(text: str, rng: Random) -> str:
    return _insert_between(text, rng, _INVISIBLE)


_TRANSFORMS: dict[str, Callable[[str, Random], str]] = {
    "synonym": _synonym, "numeral": _numeral, "homophone": _homophone,
    "traditional": _traditional, "pinyin": _pinyin, "initials": _initials, "width": _width,
    "case": _case, "separator": _separator, "invisible": _invisible,
}


def applicable(text: str) -> frozenset[str]:
    """Evasion kinds that would change ``text`` on their own."""
    kinds = {"separator", "invisible"} if len(text) >= 2 else set()
    if any(k in text for k in _SYNONYMS):
        kinds.add("synonym")
    if _N_DAYS.search(text):
        kinds.add("numeral")
    if any(p in text for p in _PHRASE_HOMOPHONES) or any(ch in _HOMOPHONES for ch in text):
        kinds.add("homophone")
    if _traditional(text, Random(0)) != text:
        kinds.add("traditional")
    if any(ch in _PINYIN for ch in text):
        kinds.add("pinyin")
    if _initials_span(text):
        kinds.add("initials")
    if any(ch.isascii() and (ch.isalnum() or ch == "%") for ch in text):
        kinds.add("width")
    if any(ch.isascii() and ch.isalpha() for ch in text):
        kinds.add("case")
    return frozenset(kinds)


def evade(text: str, kinds: Iterable[str], rng: Random) -> tuple[str, frozenset[str]]:
    """Apply ``kinds`` in a fixed order; return the new text and the kinds that changed it."""
    wanted = set(kinds)
    applied: set[str] = set()
    for kind in _ORDER:
        if kind in wanted:
            changed = _TRANSFORMS[kind](text, rng)
            if changed != text:
                applied.add(kind)
                text = changed
    return text, frozenset(applied)
