"""Normalise listing text for matching, keeping a map back to the original offsets.

Two forms are produced from the per-character folds of :mod:`detectors.fold`.
The *unit* text is the folded text with separators gone, Latin runs that spell
pinyin turned into syllable symbols, repeated Han characters collapsed and
Chinese numbers such as 二十四 written as digits. The *syllable* text, aligned
with it, replaces each Han character by the symbol of its toneless pinyin, so
homophones and typed pinyin meet the lexicon too.

``fast_forms`` computes both with translate tables and a few regexes;
``normalize`` computes the same strings plus offsets and gaps, and runs only on
text where the fast pass found a candidate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import compress, pairwise
from typing import NamedTuple, overload

from detectors.fold import (
    FLAG_NAMES,
    FLAG_TABLE,
    GAP_HARD,
    GAP_SOFT,
    GAP_SPACE,
    GAP_TABLE,
    HAN_CLASS,
    MARK,
    REPEAT,
    TEN,
    UNIT_TABLE,
    Flag,
    bmp_lists,
    flag_names,
    fold,
    is_han,
    is_wide,
    map_char,
    syllables_of,
    unit_counts,
)
from detectors.pinyin_tables import SYMBOL_BASE, SYMBOL_LAST, segment, tables

__all__ = ["FLAG_NAMES", "GAP_HARD", "GAP_SOFT", "GAP_SPACE", "MARK", "REPEAT", "TEN",
           "FastForms", "Flag", "Gaps", "Normalized", "fast_forms", "flag_names", "flags_of",
           "fold", "is_han", "is_symbol", "join_lines", "joinable", "map_char", "normalize",
           "pattern_forms", "syllables_of", "unit_kind", "unit_text"]


REPEAT_RX = re.compile(f"([{HAN_CLASS}])\\1+")
# Runs of Latin letters that may spell pinyin; a single a, e or o only when it
# sits between two Han characters (全e退款), so A100 and A类 stay letters.
LATIN_RX = re.compile(r"[a-z]+")
_LONE_RX = re.compile(r"[\u3400-\u9fff]([aeo])(?=[\u3400-\u9fff])")
_ANY_TWICE = re.compile(r"(.)\1")


def _tens_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, digits) of each 十 with its digit neighbours: 二十四 -> 24, 十 -> 10.

    Does what ``re.sub(r"(\\d?)十(\\d?)", ...)`` would, left to right and each
    digit used once, but jumps from 十 to 十 with ``str.find``: a pattern that
    starts with an optional class makes the regex try every position of the text.
    """
    out: list[tuple[int, int, str]] = []
    pos = 0
    n = len(text)
    i = text.find(TEN)
    while i >= 0:
        a = i - 1 if i > pos and text[i - 1].isdecimal() else i
        b = i + 2 if i + 1 < n and text[i + 1].isdecimal() else i + 1
        out.append((a, b, (text[a:i] or "1") + (text[i + 1:b] or "0")))
        pos = b
        i = text.find(TEN, pos)
    return out


def _apply_spans(text: str, spans: list[tuple[int, int, str]]) -> str:
    pieces: list[str] = []
    pos = 0
    for a, b, new in spans:
        pieces.append(text[pos:a])
        pieces.append(new)
        pos = b
    pieces.append(text[pos:])
    return "".join(pieces)


def _typed(folded: str) -> list[tuple[int, tuple[str, ...]]]:
    """(start, syllables) of each Latin run of ``folded`` that spells pinyin."""
    runs = LATIN_RX.findall(folded)
    # Most runs are ml, iso, usb ...: cached lookups say there is nothing to do.
    lone = ("a" in runs or "e" in runs or "o" in runs) and _LONE_RX.search(folded)
    if not lone and not any(map(segment, runs)):
        return []
    out: list[tuple[int, tuple[str, ...]]] = []
    for m in LATIN_RX.finditer(folded):
        run = m.group()
        if len(run) == 1:
            a, b = m.start(), m.end()
            if run in "aeo" and a > 0 and b < len(folded) \
                    and "\u3400" <= folded[a - 1] <= "\u9fff" \
                    and "\u3400" <= folded[b] <= "\u9fff":
                out.append((a, (run,)))
            continue
        syllables = segment(run)  # cached; None for iso, cma, bw ...
        if syllables is not None:
            out.append((m.start(), syllables))
    return out


def _pinyin_runs(t0: str) -> str:
    """Latin runs that spell pinyin become syllable symbols (dang天 -> [dang]天)."""
    typed = _typed(t0)
    if not typed:
        return t0
    sym = tables().symbol_of
    pieces: list[str] = []
    pos = 0
    for start, syllables in typed:
        pieces.append(t0[pos:start])
        pieces.append("".join(sym[x] for x in syllables))
        pos = start + sum(map(len, syllables))
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
        t = _apply_spans(t, _tens_spans(t))
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
    if is_wide(text):
        folded = fold(text)
        t = _finish(_first_pass(text, folded))
        return FastForms(t, syllables_of(t), folded)
    # Every unit comes paired with its syllable symbol; a break is MARK in both
    # halves, so one replace drops it from both and the halves stay aligned.
    both = text.translate(bmp_lists()[3])
    folded = both[0::2]
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
        # Digits and 十 are themselves in the syllable text too: one set of edits.
        spans = _tens_spans(t)
        t = _apply_spans(t, spans)
        y = _apply_spans(y, spans)
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
            out |= GAP_TABLE[ord(ch)]
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
            out |= FLAG_TABLE[ord(c)]
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


def _pinyin_edits(folded: str) -> list[_Edit]:
    """Latin runs that spell pinyin, found exactly as the fast pass finds them.

    ``folded`` still has its breaks (MARK), which split runs where the seller
    put a space; positions are returned for the text without them.
    """
    edits = []
    sym = tables().symbol_of
    for start, syllables in _typed(folded):
        lo = start - folded.count(MARK, 0, start)
        # One edit per syllable: each keeps its own letters, so a match may end
        # inside a run (认zhengban理: 认证 ends after "zheng").
        for syllable in syllables:
            edits.append((lo, lo + len(syllable), sym[syllable]))
            lo += len(syllable)
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
    return _tens_spans(text)


def normalize(source: str, forms: FastForms | None = None) -> Normalized:
    """Unit and syllable forms of ``source`` with offsets, gaps and collapsed repeats.

    Produces exactly the strings of :func:`fast_forms` (the tests check it). The
    offsets come from translate tables and ``itertools`` in C; gaps are computed
    only where a match needs them.
    """
    n = len(source)
    counts = unit_counts(source)
    # Mostly every character gives zero or one unit: the offsets come out of C.
    starts = _starts_slow(source) if b"\x02" in counts else list(compress(range(n), counts))
    folded = fold(source) if forms is None else forms.folded
    text = folded.replace(MARK, "")
    ends: list[int] | None = None
    repeat_: list[bool] | None = None
    gaps = Gaps(source, starts, ends)
    for kind in ("pinyin", "repeat", "tens"):
        if kind == "pinyin":
            edits = _pinyin_edits(folded)
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


def joinable(parts: list[Normalized]) -> bool:
    """Whether :func:`join_lines` may put the parts' normalisation together.

    A line break is a clause break: it leaves no unit, splits every Latin run and
    cuts every run of repeats, so each part keeps its units. Only a number may
    reach across one (二 / 十四 read as 24): not when a part's units end with a
    digit and the next part's start with one.
    """
    texts = [p.text for p in parts if p.text]
    return not any(a[-1].isdecimal() and b[0].isdecimal() for a, b in pairwise(texts))


def join_lines(parts: list[Normalized]) -> Normalized:
    """``normalize("\\n".join(sources))`` from each source's own normalisation (when
    :func:`joinable`): the parts' units one after another, offsets shifted."""
    starts: list[int] = []
    ends: list[int] | None = None
    repeat: list[bool] | None = None
    if any(p.ends is not None for p in parts):
        ends, repeat = [], []
    offset = 0
    for p in parts:
        starts += [s + offset for s in p.starts]
        if ends is not None and repeat is not None:
            if p.ends is None or p.repeat is None:
                ends += [s + offset + 1 for s in p.starts]
                repeat += [False] * len(p.starts)
            else:
                ends += [e + offset for e in p.ends]
                repeat += p.repeat
        offset += len(p.source) + 1
    source = "\n".join(p.source for p in parts)
    return Normalized(source, "".join(p.text for p in parts), "".join(p.y for p in parts),
                      starts, ends, repeat, Gaps(source, starts, ends))


def _starts_slow(source: str) -> list[int]:
    """Unit offsets when some character expands to several units (㈣, ﬁ)."""
    starts: list[int] = []
    for i, c in enumerate(source):
        rep = UNIT_TABLE[ord(c)]
        if rep != MARK:
            starts.extend([i] * len(rep))
    return starts


def pattern_forms(text: str) -> tuple[str, int]:
    """Unit text of a lexicon phrase and the flag bits its own spelling carries.

    A phrase written 认证证书 collapses to 认证书 like the text does, so a match
    of it reports no "repeat"; one written with 三 reports no "numeral".
    """
    t0 = _first_pass(text)
    flags = 0
    for c in set(text):
        flags |= FLAG_TABLE[ord(c)]
    if _first_han_repeat(t0) >= 0:
        flags |= REPEAT
    return _finish(t0), flags


def flags_of(text: str) -> int:
    """Flag bits of every character of ``text`` (what a lexicon phrase itself carries)."""
    return pattern_forms(text)[1]
