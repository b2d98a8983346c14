"""Normalise listing text for matching, keeping a map back to the original offsets.

Two forms are produced. The *unit* text folds what sellers vary on purpose:
NFKC, full/half width, case, traditional → simplified (OpenCC's character
table), look-alike characters, Chinese and circled numerals → digits, repeated
Han characters collapsed, and separators deleted (whitespace, punctuation,
symbols, emoji, zero-width and other invisible code points). The *syllable*
text replaces each Han character by a symbol for its toneless pinyin and each
run of Latin letters that spells pinyin by its syllables, so homophones and
typed pinyin meet the lexicon too.

``fast_forms`` computes both with ``str.translate`` and ``re.sub`` only; ``normalize``
computes the same strings plus offsets and evasion flags, and is run only on
fields where the fast pass found a candidate.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from dataclasses import dataclass
from enum import IntFlag
from functools import cache
from itertools import compress
from typing import Any, NamedTuple, overload

import opencc

from detectors.pinyin_tables import SYMBOL_BASE, SYMBOL_LAST, segment, tables


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
HARD_BREAKS = frozenset("，。；！？,.;!?：:\n\r\u2028\u2029…｡︰﹔﹖﹗")
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
    "営": "营", "歩": "步", "弐": "贰",
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


_UNIT_TABLE = _CharCache(0)
_FLAG_TABLE = _CharCache(1)
_GAP_TABLE = _CharCache(2)
_COUNT_TABLE = _CharCache(3)

# str.translate with a list indexed by code point is nearly twice as fast as with
# a dict, so the Basic Multilingual Plane gets lists (built once, in ~0.1 s);
# text with characters beyond it uses the dicts.
_UCS4_BASE = sys.getsizeof("\U00010000") - 8


def _wide(text: str) -> bool:
    """True when ``text`` holds a character beyond U+FFFF (CPython stores it as UCS-4)."""
    return sys.getsizeof(text) >= _UCS4_BASE + 4 * (len(text) + 1)


@cache
def _bmp_lists() -> tuple[list[str], list[str], list[str], list[str]]:
    """Unit, count, syllable and unit+syllable pair tables for U+0000..U+FFFF as lists."""
    units = [_UNIT_TABLE[c] for c in range(0x10000)]
    counts = [_COUNT_TABLE[c] for c in range(0x10000)]
    symbols = [chr(c) for c in range(0x10000)]
    for code, sym in tables().han_to_symbol.items():
        if code < 0x10000:
            symbols[code] = sym
    # Each unit followed by its syllable form: one translate gives both texts,
    # interleaved, and two slices take them apart.
    pairs = ["".join(u + symbols[ord(u)] if ord(u) < 0x10000 else u + u for u in rep)
             for rep in units]
    return units, counts, symbols, pairs


def fold(text: str) -> str:
    """Each character to its unit text (MARK for breaks, '' for separators)."""
    return text.translate(_UNIT_TABLE if _wide(text) else _bmp_lists()[0])


def syllables_of(units: str) -> str:
    """Unit text to syllable text: each Han character becomes its syllable's symbol."""
    return units.translate(tables().han_to_symbol if _wide(units) else _bmp_lists()[2])


def _counts(text: str) -> bytes:
    return text.translate(_COUNT_TABLE if _wide(text) else _bmp_lists()[1]).encode("latin-1")

TENS_RX = re.compile(r"(\d?)" + TEN + r"(\d?)")
REPEAT_RX = re.compile(f"([{HAN_CLASS}])\\1+")
# Runs of Latin letters that may spell pinyin (single letters never do).
LATIN_RX = re.compile(r"[a-z]{2,}")
_ANY_TWICE = re.compile(r"(.)\1")


def _tens(m: re.Match[str]) -> str:
    return (m.group(1) or "1") + (m.group(2) or "0")


def _pinyin_runs(t0: str) -> str:
    """Latin runs that spell pinyin become syllable symbols (dang天 -> [dang]天)."""
    # Most runs are ml, iso, usb ...: a cached lookup says there is nothing to do.
    if not any(map(segment, LATIN_RX.findall(t0))):
        return t0
    pieces: list[str] = []
    pos = 0
    sym = tables().symbol_of
    for m in LATIN_RX.finditer(t0):
        syllables = segment(m.group())  # cached; None for iso, cma, bw ...
        if syllables is not None:
            pieces.append(t0[pos:m.start()])
            pieces.append("".join(sym[x] for x in syllables))
            pos = m.end()
    if not pieces:
        return t0
    pieces.append(t0[pos:])
    return "".join(pieces)


def _first_pass(text: str, folded: str | None = None) -> str:
    """Per-character fold, then Latin runs that spell pinyin become syllables."""
    return _pinyin_runs(fold(text) if folded is None else folded)


def _first_han_repeat(text: str) -> int:
    """Where a Han character first comes twice in a row, or -1. The generic search is
    four times cheaper than the Han class; digits (100) make it look a little further."""
    pos = 0
    while (m := _ANY_TWICE.search(text, pos)) is not None:
        if is_han(m.group(1)):
            return m.start()
        pos = m.start() + 1
    return -1


def _finish(t0: str) -> str:
    # Repeats collapse before the breaks go, so 款。款 stays two units.
    at = _first_han_repeat(t0)
    if at >= 0:
        t0 = t0[:at] + REPEAT_RX.sub(r"\1", t0[at:])
    t = t0.replace(MARK, "")
    if TEN in t:
        t = TENS_RX.sub(_tens, t)
    return t


def unit_text(text: str) -> str:
    """The unit form only (regex rules and the bench's pre-normalised text use it)."""
    return _finish(_first_pass(text))


class FastForms(NamedTuple):
    """The forms of one string without offsets: enough to decide whether to look closer."""

    text: str        # unit text
    y: str           # syllable text, index-aligned with ``text``
    folded: str      # each character folded, breaks still MARK (``normalize`` reuses it)


def fast_forms(text: str) -> FastForms:
    """Unit and syllable text without offsets (most text takes a single translate)."""
    if _wide(text):
        folded = fold(text)
        t = _finish(_first_pass(text, folded))
        return FastForms(t, syllables_of(t), folded)
    # Every unit comes paired with its syllable symbol; a break is MARK in both
    # halves, so one replace drops it from both and the halves stay aligned.
    both = text.translate(_bmp_lists()[3])
    folded = both[0::2]
    if LATIN_RX.search(folded):
        typed = _pinyin_runs(folded)
        if typed is not folded:  # typed pinyin: the long way
            t = _finish(typed)
            return FastForms(t, syllables_of(t), folded)
    at = _first_han_repeat(folded)
    if at >= 0:  # collapse the same units in both halves
        keep = [both[:2 * at]]
        pos = at
        for m in REPEAT_RX.finditer(folded, at):
            keep.append(both[2 * pos:2 * m.start() + 2])
            pos = m.end()
        keep.append(both[2 * pos:])
        both = "".join(keep)
    both = both.replace(MARK, "")
    t, y = both[0::2], both[1::2]
    if TEN in t:
        t = TENS_RX.sub(_tens, t)
        y = TENS_RX.sub(_tens, y)
    return FastForms(t, y, folded)


# Kinds of units.
KIND_HAN = 0
KIND_TYPED = 1  # a pinyin syllable spelled in Latin letters by the seller
KIND_OTHER = 2


def is_symbol(ch: str) -> bool:
    return SYMBOL_BASE <= ord(ch) <= SYMBOL_LAST


def unit_kind(ch: str) -> int:
    if is_symbol(ch):
        return KIND_TYPED
    return KIND_HAN if is_han(ch) else KIND_OTHER


class Gaps:
    """Gap kinds before each unit, worked out from the original text when asked.

    ``gaps[u]`` holds the GAP_* kinds of the characters deleted between unit u-1
    and unit u; ``gaps[len(gaps)]`` those after the last unit. Most fields need
    only a few of them, so none is computed up front.
    """

    __slots__ = ("_cache", "_ends", "_source", "_starts")

    def __init__(self, source: str, starts: list[int], ends: list[int] | None) -> None:
        self._source = source
        self._starts = starts
        self._ends = ends
        self._cache: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self._starts)

    def at(self, u: int) -> int:
        cached = self._cache.get(u)
        if cached is not None:
            return cached
        starts = self._starts
        lo = 0 if u <= 0 else (self._ends[u - 1] if self._ends is not None
                               else starts[u - 1] + 1)
        hi = starts[u] if u < len(starts) else len(self._source)
        out = 0
        for ch in self._source[lo:hi]:
            out |= _GAP_TABLE[ord(ch)]
        self._cache[u] = out
        return out

    @overload
    def __getitem__(self, key: int) -> int: ...

    @overload
    def __getitem__(self, key: slice) -> list[int]: ...

    def __getitem__(self, key: int | slice) -> int | list[int]:
        if isinstance(key, slice):
            return [self.at(u) for u in range(*key.indices(len(self._starts)))]
        return self.at(key)


@dataclass(slots=True)
class Normalized:
    """Both forms of one string plus everything needed to map a match back."""

    source: str
    text: str                   # unit text
    y: str                      # syllable text (same length as ``text``)
    starts: list[int]           # per unit: original start offset
    ends: list[int] | None      # per unit: original end; None when every unit is one char
    repeat: list[bool] | None   # per unit: collapsed from repeats; None when none was
    gaps: Gaps

    def end(self, u: int) -> int:
        return self.ends[u] if self.ends is not None else self.starts[u] + 1

    def span(self, u0: int, u1: int) -> tuple[int, int]:
        """Original [start, end) of units [u0, u1)."""
        return self.starts[u0], self.end(u1 - 1)

    def flags(self, start: int, end: int) -> int:
        """Flag bits of the original characters [start, end)."""
        out = 0
        for c in self.source[start:end]:
            out |= _FLAG_TABLE[ord(c)]
        return out

    def repeated(self, u0: int, u1: int) -> bool:
        return self.repeat is not None and any(self.repeat[u0:u1])

    def gaps_between(self, u0: int, u1: int) -> int:
        """Gap kinds deleted between unit u0-1 and unit u1 (u0 <= u1 <= len)."""
        out = 0
        for u in range(u0, min(u1, len(self.text)) + 1):
            out |= self.gaps.at(u)
        return out

    def hard_break_inside(self, u0: int, u1: int) -> bool:
        """A clause break between two units of [u0, u1)."""
        return any(self.gaps.at(u) & GAP_HARD for u in range(u0 + 1, u1))

    def gap_before(self, u: int) -> int:
        return self.gaps.at(u)

    def whole(self, u0: int, u1: int) -> bool:
        """True when [u0, u1) does not cut a unit group (a split Latin run, 二十四)."""
        if u0 > 0 and self.starts[u0 - 1] == self.starts[u0]:
            return False
        return not (u1 < len(self.starts) and self.end(u1) == self.end(u1 - 1))


_Edit = tuple[int, int, str]


def _replace(edits: list[_Edit], text: str, starts: list[int], ends: list[int],
             repeat: list[bool], mark_repeat: bool,
             ) -> tuple[str, list[int], list[int], list[bool]]:
    """Apply (a, b, new) replacements, carrying offsets along (new text spans a..b)."""
    out: list[str] = []
    ns: list[int] = []
    ne: list[int] = []
    nr: list[bool] = []
    pos = 0
    for a, b, new in edits:
        out.append(text[pos:a])
        ns += starts[pos:a]
        ne += ends[pos:a]
        nr += repeat[pos:a]
        flag = mark_repeat or any(repeat[a:b])
        k = len(new)
        ns += [starts[a]] * k
        ne += [ends[b - 1]] * k
        nr += [flag] * k
        out.append(new)
        pos = b
    out.append(text[pos:])
    ns += starts[pos:]
    ne += ends[pos:]
    nr += repeat[pos:]
    return "".join(out), ns, ne, nr


def _pinyin_edits(text: str, gaps: Gaps) -> list[_Edit]:
    """Latin runs that spell pinyin, split where the seller put a space or a break."""
    edits = []
    sym = tables().symbol_of
    for m in LATIN_RX.finditer(text):
        a, b = m.span()
        cuts = [u for u in range(a + 1, b) if gaps.at(u) & (GAP_SPACE | GAP_HARD)]
        for lo, hi in zip([a, *cuts], [*cuts, b], strict=True):
            syllables = segment(text[lo:hi]) if hi - lo >= 2 else None
            if syllables is not None:
                edits.append((lo, hi, "".join(sym[x] for x in syllables)))
    return edits


def _repeat_edits(text: str, gaps: Gaps) -> list[_Edit]:
    """Runs of one repeated Han character, not across a space or a clause break."""
    edits = []
    for m in REPEAT_RX.finditer(text):
        a, b = m.span()
        cuts = [u for u in range(a + 1, b) if gaps.at(u) & (GAP_SPACE | GAP_HARD)]
        for lo, hi in zip([a, *cuts], [*cuts, b], strict=True):
            if hi - lo >= 2:
                edits.append((lo, hi, text[lo]))
    return edits


def _tens_edits(text: str) -> list[_Edit]:
    return [(m.start(), m.end(), _tens(m)) for m in TENS_RX.finditer(text)]


def normalize(source: str, forms: FastForms | None = None) -> Normalized:
    """Unit and syllable forms of ``source`` with offsets, gaps and collapsed repeats.

    Produces exactly the strings of :func:`fast_forms` (the tests check it). The
    offsets come from translate tables and ``itertools`` in C; gaps are computed
    only where a match needs them.
    """
    n = len(source)
    counts = _counts(source)
    # Mostly every character gives zero or one unit: the offsets come out of C.
    starts = _starts_slow(source) if b"\x02" in counts else list(compress(range(n), counts))
    text = (fold(source) if forms is None else forms.folded).replace(MARK, "")
    ends: list[int] | None = None
    repeat_: list[bool] | None = None
    gaps = Gaps(source, starts, ends)
    for kind in ("pinyin", "repeat", "tens"):
        if kind == "pinyin":
            edits = _pinyin_edits(text, gaps) if LATIN_RX.search(text) else []
        elif kind == "repeat":
            edits = _repeat_edits(text, gaps) if _first_han_repeat(text) >= 0 else []
        else:
            edits = _tens_edits(text) if TEN in text else []
        if not edits:
            continue
        if ends is None or repeat_ is None:
            ends = [u + 1 for u in starts]
            repeat_ = [False] * len(starts)
        text, starts, ends, repeat_ = _replace(edits, text, starts, ends, repeat_,
                                               kind == "repeat")
        gaps = Gaps(source, starts, ends)
    y = syllables_of(text) if forms is None else forms.y
    return Normalized(source, text, y, starts, ends, repeat_, gaps)


def _starts_slow(source: str) -> list[int]:
    """Unit offsets when some character expands to several units (㈣, ﬁ)."""
    starts: list[int] = []
    for i, c in enumerate(source):
        rep = _UNIT_TABLE[ord(c)]
        if rep != MARK:
            starts.extend([i] * len(rep))
    return starts


def flag_names(flags: int) -> tuple[str, ...]:
    return _NAMES_BY_BITS[flags & 0xFF]


def flags_of(text: str) -> int:
    """Flag bits of every character of ``text`` (what a lexicon phrase itself carries)."""
    out = 0
    for c in text:
        out |= _FLAG_TABLE[ord(c)]
    t = _first_pass(text).replace(MARK, "")
    if TEN in t:
        t = TENS_RX.sub(_tens, t)
    if REPEAT_RX.search(t):  # 认证证书 collapses to 认证书 on both sides: no evasion
        out |= REPEAT
    return out
