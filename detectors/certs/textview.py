"""Folded views of a field's text that keep a map back to the original offsets.

``folded`` applies NFKC (full-width → half-width, circled digits → digits),
traditional → simplified and a few look-alike characters, one output character
per source character where possible. ``compact`` goes further for phrase
matching: lower case, and every separator, symbol, emoji and invisible
character between the letters dropped, while clause punctuation survives as
``，`` (comma level) and ``。`` (sentence level).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import opencc

# Characters sellers use in place of a look-alike one (岀 U+5C80 for 出).
_LOOKALIKES = {"岀": "出", "証": "证", "驗": "验"}
_SENTENCE_MARKS = frozenset("。；;！!？?\n\r")
_COMMA_MARKS = frozenset("，,")


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@dataclass(slots=True)
class MappedText:
    """A derived text whose character ``i`` comes from ``origin[i]`` of the source."""

    text: str
    origin: list[int]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original ``(start, end)`` of the derived slice ``[start:end]`` (non-empty)."""
        return self.origin[start], self.origin[end - 1] + 1


def _to_simplified(chars: list[str]) -> list[str]:
    """Convert a list of single characters to simplified Chinese, keeping alignment."""
    joined = "".join(chars)
    if joined.isascii():
        return chars
    converted = _t2s().convert(joined)
    if len(converted) == len(joined):
        return list(converted)
    # A phrase-level conversion changed the length: fall back to one character at a time.
    return [_t2s().convert(c) if len(_t2s().convert(c)) == 1 else c for c in chars]


_NOISE_CATEGORIES = frozenset({"Cf", "So", "Sk", "Co"})
_NOISE_CHARS = frozenset("·・•")


def _is_noise(ch: str) -> bool:
    """Invisible characters, emoji and middle dots: never part of a word or a number."""
    return ch in _NOISE_CHARS or unicodedata.category(ch) in _NOISE_CATEGORIES


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


def _without_noise(text: str) -> list[int]:
    """Indices of ``text`` without noise, nor spaces or slashes between two CJK characters."""
    kept = [i for i, ch in enumerate(text) if ch.isascii() or not _is_noise(ch)]
    out: list[int] = []
    for n, i in enumerate(kept):
        if text[i] in " \t\u3000/" and out and n + 1 < len(kept) \
                and _is_cjk(text[out[-1]]) and _is_cjk(text[kept[n + 1]]):
            continue
        out.append(i)
    return out


def folded(text: str, *, drop_noise: bool = False) -> MappedText:
    """NFKC, simplified characters and look-alikes; case and separators kept.

    ``drop_noise`` also drops invisible characters, emoji and middle dots, so
    labels and names written with them in between (发·证机构) still read whole.
    """
    chars: list[str] = []
    origin: list[int] = []
    indices: Sequence[int] = _without_noise(text) if drop_noise else range(len(text))
    for i in indices:
        ch = text[i]
        if ch.isascii():
            chars.append(ch)
            origin.append(i)
            continue
        for out in unicodedata.normalize("NFKC", ch):
            chars.append(out)
            origin.append(i)
    chars = _to_simplified(chars)
    chars = [_LOOKALIKES.get(c, c) for c in chars]
    return MappedText("".join(chars), origin)


def _keeps(ch: str) -> bool:
    category = unicodedata.category(ch)
    return category[0] in "LN" or ch == ":"


def compact(text: str) -> MappedText:
    """The folded text in lower case with separators dropped, for phrase matching.

    Dropped characters between two ASCII letters or digits leave one space, so
    ``CE FCC`` stays two words while ``当 天·出/证`` becomes ``当天出证``.
    """
    base = folded(text)
    out: list[str] = []
    origin: list[int] = []
    gap = False
    for ch, src in zip(base.text, base.origin, strict=True):
        if ch in _SENTENCE_MARKS or ch in _COMMA_MARKS:
            mark = "。" if ch in _SENTENCE_MARKS else "，"
            if out and out[-1] in "。，":
                if mark == "。":
                    out[-1] = mark
                    origin[-1] = src
            else:
                out.append(mark)
                origin.append(src)
            gap = False
            continue
        if not _keeps(ch):
            gap = True
            continue
        lowered = ch.lower() if ch.isascii() else ch
        if gap and out and lowered.isascii() and lowered.isalnum() and out[-1].isascii() \
                and out[-1].isalnum():
            out.append(" ")
            origin.append(src)
        gap = False
        out.append(lowered)
        origin.append(src)
    return MappedText("".join(out), origin)


def evasions(span: str) -> tuple[str, ...]:
    """Which disguises of the spec a matched span shows (separator, width, traditional, pinyin)."""
    found: list[str] = []
    if any(not _keeps(ch) and ch not in _SENTENCE_MARKS and ch not in _COMMA_MARKS
           for ch in span.strip()):
        found.append("separator")
    if any(not ch.isascii() and unicodedata.normalize("NFKC", ch) != ch for ch in span):
        found.append("width")
    if not span.isascii() and _t2s().convert(span) != span:
        found.append("traditional")
    has_cjk = any("\u4e00" <= ch <= "\u9fff" for ch in span)
    if has_cjk and any(ch.isascii() and ch.isalpha() for ch in span):
        found.append("pinyin")
    return tuple(found)
