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
import unicodedata
from dataclasses import dataclass
from enum import IntFlag
from functools import cache
from itertools import compress
from typing import Any, overload

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
        elif self._pick == 4:  # straight to syllables: 當 -> the symbol of dang
            value = mapped[0].translate(tables().han_to_symbol)
        else:
            value = mapped[self._pick]
        if len(self) < self.LIMIT:
            self[code] = value
        return value


_UNIT_TABLE = _CharCache(0)
_FLAG_TABLE = _CharCache(1)
_GAP_TABLE = _CharCache(2)
_COUNT_TABLE = _CharCache(3)
_SYLLABLE_TABLE = _CharCache(4)

TENS_RX = re.compile(r"(\d?)" + TEN + r"(\d?)")
REPEAT_RX = re.compile(f"([{HAN_CLASS}])\\1+")
# Runs of Latin letters that may spell pinyin: every syllable has a vowel, so runs
# without one (model codes, dtcz) are left alone without a Python call.
LATIN_RX = re.compile(r"(?=[a-z]{2})[a-z]*[aeiouv][a-z]*")
ANY_REPEAT_RX = re.compile(r"([^\x00-\x7f])\1")
_TWO_LETTERS = re.compile(r"[a-z][a-z]")
_FOUR_LETTERS = re.compile(r"[a-z]{4}")
# Candidate initials (dtcz): alphanumeric runs, kept when they are 4-8 letters.
ALNUM_RX = re.compile(r"[a-z0-9]{4,}")


def _tens(m: re.Match[str]) -> str:
    return (m.group(1) or "1") + (m.group(2) or "0")


def _seg(m: re.Match[str]) -> str:
    syllables = segment(m.group())  # None for a single letter or a run that is not pinyin
    if syllables is None:
        return m.group()
    sym = tables().symbol_of
    return "".join(sym[s] for s in syllables)


def _first_pass(text: str) -> tuple[str, bool]:
    """Per-character fold and pinyin runs; True when a word of 4+ letters is present."""
    t0 = text.translate(_UNIT_TABLE)
    pair = _TWO_LETTERS.search(t0)  # a plain class is much cheaper than LATIN_RX
    if pair is None:
        return t0, False
    if LATIN_RX.search(t0, pair.start()):
        t0 = LATIN_RX.sub(_seg, t0)
    return t0, _FOUR_LETTERS.search(t0) is not None


def _finish(t0: str) -> str:
    # Repeats collapse before the breaks go, so 款。款 stays two units. The generic
    # search is four times cheaper than the Han class, and most text has none.
    if ANY_REPEAT_RX.search(t0):
        t0 = REPEAT_RX.sub(r"\1", t0)
    t = t0.replace(MARK, "")
    if TEN in t:
        t = TENS_RX.sub(_tens, t)
    return t


def unit_text(text: str) -> str:
    """The unit form only (regex rules and the bench's pre-normalised text use it)."""
    return _finish(_first_pass(text)[0])


@dataclass(frozen=True, slots=True)
class FastForms:
    """The forms of one string without offsets: enough to decide whether to look closer."""

    text: str        # unit text
    y: str           # syllable text, index-aligned with ``text``
    words: tuple[str, ...]  # whole Latin words that did not spell pinyin (initials)


def latin_words(t0: str) -> tuple[str, ...]:
    """Runs of 4-8 letters with no letter or digit on either side (dtcz, not dtcz2024)."""
    return tuple(w for w in ALNUM_RX.findall(t0) if len(w) <= 8 and w.isalpha())


_SYMBOL_REPEAT_RX = re.compile(f"([{chr(SYMBOL_BASE)}-{chr(SYMBOL_LAST)}])\\1")


@dataclass(slots=True)
class QuickForms:
    """Syllable text from one translate; the unit text only when someone asks for it."""

    source: str
    y: str
    words: tuple[str, ...]
    _raw: str | None = None  # the per-character fold, Latin runs not yet split
    _t: str | None = None

    @property
    def text(self) -> str:
        if self._t is None:
            raw = self._raw if self._raw is not None else self.source.translate(_UNIT_TABLE)
            self._t = _finish(LATIN_RX.sub(_seg, raw))
        return self._t


def fast_syllables(text: str) -> QuickForms:
    """``fast_forms`` for the common case in one translate (syllables straight away).

    The syllable text equals ``fast_forms(text).y``: a repeated syllable is
    checked against the folded characters, where only identical ones collapse.
    """
    y0 = text.translate(_SYLLABLE_TABLE)
    words: tuple[str, ...] = ()
    pair = _TWO_LETTERS.search(y0)
    if pair is not None:
        y0 = LATIN_RX.sub(_seg, y0)
        if _FOUR_LETTERS.search(y0, pair.start()):
            words = latin_words(y0)
    raw = None
    if _SYMBOL_REPEAT_RX.search(y0):  # 天天 collapses, 是时 does not: ask the characters
        raw = text.translate(_UNIT_TABLE)
        if REPEAT_RX.search(raw):
            quick = QuickForms(text, "", words, raw)
            quick.y = quick.text.translate(tables().han_to_symbol)
            return quick
    y = y0.replace(MARK, "")
    if TEN in y:
        y = TENS_RX.sub(_tens, y)
    return QuickForms(text, y, words, raw)


def fast_forms(text: str) -> FastForms:
    t0, latin = _first_pass(text)
    t = _finish(t0)
    return FastForms(t, t.translate(tables().han_to_symbol), latin_words(t0) if latin else ())


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

    def latin_words(self) -> tuple[str, ...]:
        """The words :func:`latin_words` finds in the fast pass, from the unit text."""
        out = []
        for m in ALNUM_RX.finditer(self.text):
            a, b = m.span()
            cuts = [u for u in range(a + 1, b) if self.gaps.at(u) & (GAP_SPACE | GAP_HARD)]
            for lo, hi in zip([a, *cuts], [*cuts, b], strict=True):
                word = self.text[lo:hi]
                if 4 <= len(word) <= 8 and word.isalpha():
                    out.append(word)
        return tuple(out)

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


def normalize(source: str) -> Normalized:
    """Unit and syllable forms of ``source`` with offsets, gaps and collapsed repeats.

    Produces exactly the strings of :func:`fast_forms` (the tests check it). The
    offsets come from translate tables and ``itertools`` in C; gaps are computed
    only where a match needs them.
    """
    n = len(source)
    counts = source.translate(_COUNT_TABLE).encode("latin-1")
    # Mostly every character gives zero or one unit: the offsets come out of C.
    starts = _starts_slow(source) if b"\x02" in counts else list(compress(range(n), counts))
    text = source.translate(_UNIT_TABLE).replace(MARK, "")
    ends: list[int] | None = None
    repeat_: list[bool] | None = None
    gaps = Gaps(source, starts, ends)
    for kind in ("pinyin", "repeat", "tens"):
        if kind == "pinyin":
            edits = _pinyin_edits(text, gaps) if LATIN_RX.search(text) else []
        elif kind == "repeat":
            edits = _repeat_edits(text, gaps) if ANY_REPEAT_RX.search(text) else []
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
    y = text.translate(tables().han_to_symbol)
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
    t = _first_pass(text)[0].replace(MARK, "")
    if TEN in t:
        t = TENS_RX.sub(_tens, t)
    if REPEAT_RX.search(t):  # 认证证书 collapses to 认证书 on both sides: no evasion
        out |= REPEAT
    return out
