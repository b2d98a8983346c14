"""Per-character folding tables: what each code point becomes before matching.

One function, :func:`map_char`, decides for a single character its unit text
(NFKC, width, case, traditional → simplified, look-alikes, Chinese and circled
numerals; '' for a separator, MARK for a word or clause break), the evasion
flags it carries and the kind of gap it leaves. Everything else here caches
that decision as ``str.translate`` tables.
"""

from __future__ import annotations

import sys
import unicodedata
from enum import IntFlag
from functools import cache
from typing import Any

import opencc

from detectors.pinyin_tables import tables


class Flag(IntFlag):
    """What the normaliser had to undo for one original character."""

    SEPARATOR = 1
    INVISIBLE = 2
    WIDTH = 4
    CASE = 8
    TRADITIONAL = 16
    NUMERAL = 32
    LOOKALIKE = 64
    REPEAT = 128


# Evasion names reported on findings, in a stable order.
FLAG_NAMES: tuple[tuple[int, str], ...] = (
    (Flag.SEPARATOR.value, "separator"), (Flag.INVISIBLE.value, "invisible"),
    (Flag.WIDTH.value, "width"), (Flag.CASE.value, "case"),
    (Flag.TRADITIONAL.value, "traditional"), (Flag.NUMERAL.value, "numeral"),
    (Flag.LOOKALIKE.value, "homophone"), (Flag.REPEAT.value, "repeat"),
)
# Plain ints on the hot path: IntFlag arithmetic costs a Python call per operation.
_NAMES_BY_BITS: tuple[tuple[str, ...], ...] = tuple(
    tuple(name for bit, name in FLAG_NAMES if bits & bit) for bits in range(256))

REPEAT = Flag.REPEAT.value

# Kinds of deleted text between two units, for clause and word boundaries.
GAP_SOFT = 1   # punctuation, symbols, emoji, invisible characters
GAP_SPACE = 2  # whitespace and title separators such as |
GAP_HARD = 4   # end of a clause: ，。；！？ : newline

INVISIBLE = frozenset(
    [chr(c) for c in range(0x200B, 0x2010)] + [chr(c) for c in range(0x2060, 0x2065)]
    + ["\uFEFF", "\u00AD", "\u034F"])
# Clause ends. ASCII . , : are not among them: sellers put them between the
# characters of a phrase (不.送.样, 当天..出证) far more often than they end a
# clause with them in Chinese text.
HARD_BREAKS = frozenset("，。；！？;!?：\n\r\u2028\u2029｡︰﹔﹖﹗")
SPACE_LIKE = frozenset("|｜¦")

TEN = "\uE7FF"  # stands for 十 until the numeral pass turns it into digits
MARK = "\uE7FE"  # whitespace or a clause break, kept only until Latin runs are split
_NUMERALS = {
    "零": "0", "〇": "0", "一": "1", "壹": "1", "二": "2", "贰": "2", "两": "2",
    "三": "3", "叁": "3", "四": "4", "肆": "4", "五": "5", "伍": "5", "六": "6",
    "陆": "6", "七": "7", "柒": "7", "八": "8", "捌": "8", "九": "9", "玖": "9",
    "十": TEN, "拾": TEN,
}
# Characters that look like others and that t2s does not fold: Japanese
# shinjitai, rare variants, the U+5C80 岀 sellers use for 出.
_LOOKALIKES = {
    "岀": "出", "囯": "国", "圀": "国", "証": "证", "検": "检", "験": "验", "発": "发",
    "対": "对", "図": "图", "価": "价", "売": "卖", "転": "转", "譲": "让", "済": "济",
    "営": "营", "歩": "步", "弐": "贰", "吿": "告",
}
# Cyrillic and Greek letters that pass for Latin ones.
_CONFUSABLE_LATIN = dict(zip(
    "АВЕКМНОРСТХаеорсухіјѕԁԛԝΑΒΕΖΗΙΚΜΝΟΡΤΥΧαβεικνορτυχ",
    "abekmhopctxaeopcyxijsdqwabezhikmnoptyxabeiknoptux", strict=True))

_HAN_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0x20000, 0x3134F))
HAN_CLASS = "\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0003134f"


def is_han(ch: str) -> bool:
    return ("\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"
            or "\U00020000" <= ch <= "\U0003134f")


@cache
def _t2s_table() -> dict[str, str]:
    """OpenCC's t2s, character by character (one conversion of every Han code point)."""
    converter = opencc.OpenCC("t2s")
    chars = [chr(c) for lo, hi in _HAN_RANGES[:2] for c in range(lo, hi + 1)]
    converted = converter.convert("\n".join(chars)).split("\n")
    if len(converted) != len(chars):
        raise RuntimeError("OpenCC changed the number of lines")
    return {a: b for a, b in zip(chars, converted, strict=True) if a != b and len(b) == 1}


def _fold_letter(ch: str) -> tuple[str, int]:
    if "A" <= ch <= "Z":
        return ch.lower(), Flag.CASE
    if ch.isascii():
        return ch, 0
    if ch in _CONFUSABLE_LATIN:
        return _CONFUSABLE_LATIN[ch], Flag.LOOKALIKE
    if ch in "üÜǖǘǚǜǕǗǙǛ":
        return "v", 0
    base = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
    if base.isascii() and base.isalpha():  # tone-marked pinyin: dāng -> dang
        return base.lower(), 0
    return ch.lower(), (Flag.CASE if ch.lower() != ch else 0)


def _fold_han(ch: str) -> tuple[str, int]:
    flags = 0
    simple = _t2s_table().get(ch)
    if simple is not None:
        ch, flags = simple, Flag.TRADITIONAL
    if ch in _LOOKALIKES:
        ch, flags = _LOOKALIKES[ch], flags | Flag.LOOKALIKE
    if ch in _NUMERALS:
        return _NUMERALS[ch], flags | Flag.NUMERAL
    return ch, flags


def _compat_flag(original: str) -> int:
    code = ord(original)
    if 0xFF00 <= code <= 0xFFEF or code == 0x3000:
        return Flag.WIDTH
    if 0x2E80 <= code <= 0x2FDF or 0xF900 <= code <= 0xFAFF or 0x2F800 <= code <= 0x2FA1F:
        return Flag.LOOKALIKE
    if (0x2460 <= code <= 0x24FF or 0x2776 <= code <= 0x2793 or 0x3200 <= code <= 0x32FF
            or 0x1F100 <= code <= 0x1F1FF):
        return Flag.NUMERAL
    return Flag.WIDTH


def map_char(c: str) -> tuple[str, int, int]:
    """(replacement, flags, gap kind) for one original character.

    An empty replacement deletes the character; its gap kind says whether it
    ends a clause, separates words, or is only noise inside a word.
    """
    text, flags, gap = _map_char(c)
    return text, int(flags), gap


def _map_char(c: str) -> tuple[str, int, int]:
    if c in INVISIBLE:
        return "", Flag.INVISIBLE, GAP_SOFT
    if c in HARD_BREAKS:  # before NFKC: ， folds to the ASCII comma, which is no break
        return MARK, Flag.SEPARATOR, GAP_HARD
    folded = unicodedata.normalize("NFKC", c)
    flags = _compat_flag(c) if folded != c else 0
    out: list[str] = []
    gap = 0
    for ch in folded:
        cat = unicodedata.category(ch)
        major = cat[0]
        if major == "L":
            if is_han(ch):
                text, extra = _fold_han(ch)
            else:
                text, extra = _fold_letter(ch)
            out.append(text)
            flags |= extra
        elif cat == "Nd":
            out.append(str(unicodedata.digit(ch)))
            if not ch.isascii():
                flags |= Flag.NUMERAL
        elif major == "N":
            value = unicodedata.numeric(ch, -1.0)
            if cat == "Nl" and ch in _NUMERALS:  # 〇
                out.append(_NUMERALS[ch])
                flags |= Flag.NUMERAL
            elif value >= 0 and value == int(value) and value < 100:
                out.append(str(int(value)))
                flags |= Flag.NUMERAL
            else:
                gap |= GAP_SOFT
        elif ch in HARD_BREAKS:
            gap |= GAP_HARD
        elif major == "Z" or ch in "\t\v\f" or ch in SPACE_LIKE:
            gap |= GAP_SPACE
        else:  # punctuation, symbols, emoji, marks, controls, private use
            if cat == "Cf":
                flags |= Flag.INVISIBLE
            gap |= GAP_SOFT
    text = "".join(out)
    if not text:  # a deleted character is a separator, whatever its width
        flags = Flag.INVISIBLE if flags & Flag.INVISIBLE else Flag.SEPARATOR
        gap = gap or GAP_SOFT
        # Word and clause breaks survive the first pass as MARK, so that runs of
        # Latin letters are split where the seller split them ("ISO dang天").
        return (MARK if gap & (GAP_SPACE | GAP_HARD) else ""), flags, gap
    return text, flags, 0


class _CharCache(dict[int, Any]):
    """Lazy table for ``str.translate``: each code point is mapped once per process."""

    LIMIT = 400_000

    def __init__(self, pick: int) -> None:
        super().__init__()
        self._pick = pick

    def __missing__(self, code: int) -> Any:
        mapped = map_char(chr(code))
        if self._pick == 3:  # how many units: "\0" none (or a break), "\1" one, "\2" more
            rep = mapped[0]
            value: Any = "\0" if rep in ("", MARK) else "\1" if len(rep) == 1 else "\2"
        else:
            value = mapped[self._pick]
        if len(self) < self.LIMIT:
            self[code] = value
        return value


UNIT_TABLE = _CharCache(0)
FLAG_TABLE = _CharCache(1)
GAP_TABLE = _CharCache(2)
COUNT_TABLE = _CharCache(3)

# str.translate with a list indexed by code point is nearly twice as fast as with
# a dict, so the Basic Multilingual Plane gets lists (built once, in ~0.1 s);
# text with characters beyond it uses the dicts.
_UCS4_BASE = sys.getsizeof("\U00010000") - 8


def is_wide(text: str) -> bool:
    """True when ``text`` holds a character beyond U+FFFF (CPython stores it as UCS-4)."""
    return sys.getsizeof(text) >= _UCS4_BASE + 4 * (len(text) + 1)


@cache
def bmp_lists() -> tuple[list[str], list[str], list[str], list[str]]:
    """Unit, count, syllable and unit+syllable pair tables for U+0000..U+FFFF as lists."""
    units = [UNIT_TABLE[c] for c in range(0x10000)]
    counts = [COUNT_TABLE[c] for c in range(0x10000)]
    symbols = [chr(c) for c in range(0x10000)]
    for code, sym in tables().han_to_symbol.items():
        if code < 0x10000:
            symbols[code] = sym
    # Each unit followed by its syllable form: one translate gives both texts,
    # interleaved, and two slices take them apart.
    # (A BMP character may fold to one beyond it, e.g. 覼 → 𫌨: its syllable still counts.)
    wide = tables().han_to_symbol
    pairs = ["".join(u + (symbols[ord(u)] if ord(u) < 0x10000 else wide.get(ord(u), u))
                     for u in rep)
             for rep in units]
    return units, counts, symbols, pairs


@cache
def han_numerals() -> str:
    """Every Han character that folds to a digit or to 十 (三, 叁, 貳, 拾 …).

    Only characters of the Basic Multilingual Plane do: the traditional,
    look-alike and numeral tables hold no others.
    """
    units = bmp_lists()[0]
    numerals = frozenset("0123456789" + TEN)
    return "".join(chr(c) for lo, hi in _HAN_RANGES[:2] for c in range(lo, hi + 1)
                   if units[c] in numerals)


def fold(text: str) -> str:
    """Each character to its unit text (MARK for breaks, '' for separators)."""
    return text.translate(UNIT_TABLE if is_wide(text) else bmp_lists()[0])


def syllables_of(units: str) -> str:
    """Unit text to syllable text: each Han character becomes its syllable's symbol."""
    return units.translate(tables().han_to_symbol if is_wide(units) else bmp_lists()[2])


def unit_counts(text: str) -> bytes:
    return text.translate(COUNT_TABLE if is_wide(text) else bmp_lists()[1]).encode("latin-1")


def flag_names(flags: int) -> tuple[str, ...]:
    """Evasion names of a set of Flag bits, in the stable order of FLAG_NAMES."""
    return _NAMES_BY_BITS[flags & 0xFF]


def char_form(c: str) -> str:
    """One character with width, traditional forms and look-alikes undone, nothing else.

    The same folds as :func:`map_char` for letters, but case, numerals,
    punctuation and spaces stay: the certificate checks read dates, numbers,
    labels and model codes, where 2022-04-10 must not become 20220410.
    """
    out: list[str] = []
    for ch in unicodedata.normalize("NFKC", c):
        if is_han(ch):
            ch = _t2s_table().get(ch, ch)
            ch = _LOOKALIKES.get(ch, ch)
        elif ch in _CONFUSABLE_LATIN:
            ch = _CONFUSABLE_LATIN[ch]
        out.append(ch)
    return "".join(out)


class _FormCache(dict[int, str]):
    """Lazy ``str.translate`` table of :func:`char_form`, each code point mapped once."""

    def __missing__(self, code: int) -> str:
        value = char_form(chr(code))
        if len(self) < _CharCache.LIMIT:
            self[code] = value
        return value


CHAR_FORMS = _FormCache()


def char_forms(text: str) -> str:
    """:func:`char_form` of every character of ``text``."""
    return text.translate(CHAR_FORMS)
