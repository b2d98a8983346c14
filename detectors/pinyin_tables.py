"""Precomputed pinyin tables: one private-use symbol per toneless syllable.

The engine matches on syllables as well as characters, so 当天出正, dang天出证
and 當天出證 all meet 当天出证. Calling pypinyin per text is far too slow
(about 500 texts/s), so the readings of every Han character are read once from
pypinyin's own dictionary and kept as ``str.translate`` tables.
"""

from __future__ import annotations

import unicodedata
from functools import cache, lru_cache

from pypinyin import Style, lazy_pinyin
from pypinyin.pinyin_dict import pinyin_dict

# Syllable symbols live in the Private Use Area; the normaliser deletes every
# private-use character of the input, so a symbol can never come from a seller.
SYMBOL_BASE = 0xE000
SYMBOL_LAST = 0xE3FF

# Syllables a seller's Latin letters may stand for. The consonant-only
# interjections (m, n, ng, hm ...) are left out: they would let almost any run of
# letters (SKU codes, model numbers) be read as pinyin.
_NOT_TYPED = frozenset({"m", "n", "r", "ng", "hm", "hng", "ê"})


def _toneless(reading: str) -> str:
    reading = reading.replace("ü", "v").replace("ǖ", "v").replace("ǘ", "v")
    reading = reading.replace("ǚ", "v").replace("ǜ", "v")
    decomposed = unicodedata.normalize("NFD", reading)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


class PinyinTables:
    """Syllable inventory, per-character readings and the symbol tables built from them."""

    def __init__(self) -> None:
        readings: dict[int, tuple[str, ...]] = {}
        inventory: set[str] = set()
        for code, text in pinyin_dict.items():
            seen: list[str] = []
            for raw in text.split(","):
                syl = _toneless(raw)
                if syl.isascii() and syl.isalpha() and syl not in seen:
                    seen.append(syl)
            if seen:
                readings[code] = tuple(seen)
                inventory.update(seen)
        self.syllables: tuple[str, ...] = tuple(sorted(inventory))
        if SYMBOL_BASE + len(self.syllables) > SYMBOL_LAST:
            raise RuntimeError("pinyin inventory does not fit the symbol range")
        self.symbol_of: dict[str, str] = {
            syl: chr(SYMBOL_BASE + i) for i, syl in enumerate(self.syllables)}
        self.syllable_of: dict[str, str] = {sym: syl for syl, sym in self.symbol_of.items()}
        self.readings = readings
        # Han character -> symbol of its default (first) reading, for str.translate.
        self.han_to_symbol: dict[int, str] = {
            code: self.symbol_of[rs[0]] for code, rs in readings.items()}
        # Characters whose readings differ beyond tone: 行 xing/hang, 重 zhong/chong.
        self.heteronyms: frozenset[str] = frozenset(
            chr(code) for code, rs in readings.items() if len(rs) > 1)
        self.typed: frozenset[str] = frozenset(s for s in inventory if s not in _NOT_TYPED)
        self.longest = max(len(s) for s in self.typed)

    def symbol(self, syllable: str) -> str | None:
        return self.symbol_of.get(syllable)

    def default_syllable(self, han: str) -> str | None:
        rs = self.readings.get(ord(han))
        return rs[0] if rs else None


@cache
def tables() -> PinyinTables:
    """The process-wide tables (built once, in about 50 ms)."""
    return PinyinTables()


@lru_cache(maxsize=65536)
def segment(run: str) -> tuple[str, ...] | None:
    """Split a run of lower-case letters into pinyin syllables, or None.

    Fewest syllables wins, so ``xian`` stays one syllable and ``jiaji`` is
    jia+ji. A run that does not split completely (``iso``, ``cma``) is None.
    """
    t = tables()
    n = len(run)
    if n < 2 or n > 48:  # a lone a/e/o is the caller's decision (it needs neighbours)
        return None
    best: list[tuple[str, ...] | None] = [None] * (n + 1)
    best[n] = ()
    for i in range(n - 1, -1, -1):
        choice: tuple[str, ...] | None = None
        for j in range(min(n, i + t.longest), i + 1, -1):
            piece = run[i:j]
            rest = best[j]
            if rest is None or piece not in t.typed:
                continue
            if choice is None or len(rest) + 1 < len(choice):
                choice = (piece, *rest)
        best[i] = choice
    return best[0]


def initials(syllables: tuple[str, ...]) -> str:
    """First letters, as sellers abbreviate: 当天出证 -> dtcz (zh/ch/sh keep z/c/s)."""
    return "".join(s[0] for s in syllables)


@lru_cache(maxsize=131072)
def contextual_readings(hans: str) -> tuple[str, ...]:
    """pypinyin's readings of a Han string in context (phrase dictionary applied)."""
    return tuple(_toneless(s) for s in lazy_pinyin(hans, style=Style.NORMAL, errors="default"))
