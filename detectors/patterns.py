"""The lexicon's pattern language: literal text with slots and gaps.

``{当天}{出证}`` joins two named slots (each a list of synonyms; the first is
canonical), ``{就?}`` makes a slot optional, ``{出售|转让}`` lists alternatives
inline (``{|就|即}`` may be empty), ``{天数}`` may be a number range slot, and
``{~2,14}`` is a gap of 2–14 normalised characters inside one clause, which
splits the pattern into parts matched separately and joined afterwards.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

MAX_VARIANTS = 50_000
_TOKEN = re.compile(r"\{([^{}]*)\}")
_GAP = re.compile(r"^~(\d+),(\d+)$")
SLOT_NAME = re.compile(r"^[^\s{}|?~,][^{}|?]*$")


class PatternError(ValueError):
    """A pattern or slot that cannot be expanded (message says why)."""


@dataclass(frozen=True, slots=True)
class Variant:
    """One concrete string a pattern part stands for."""

    text: str
    synonym: bool  # a non-canonical option of a named slot was used


@dataclass(frozen=True, slots=True)
class SlotRange:
    """A number slot: every integer lo..hi, in any numeral form once normalised."""

    lo: int
    hi: int


SlotDef = Sequence[str] | SlotRange


@dataclass(frozen=True, slots=True)
class Expanded:
    """A pattern expanded into parts (one unless it has gaps) and the gaps between them."""

    parts: tuple[tuple[Variant, ...], ...]
    gaps: tuple[tuple[int, int], ...]


def _check_braces(text: str) -> None:
    depth = 0
    for ch in text:
        if ch == "{":
            depth += 1
            if depth > 1:
                raise PatternError(f"nested '{{' in {text!r}")
        elif ch == "}":
            depth -= 1
            if depth < 0:
                raise PatternError(f"unmatched '}}' in {text!r}")
    if depth:
        raise PatternError(f"unclosed '{{' in {text!r}")


class Expander:
    """Expands patterns against a set of slot definitions (slots may use slots)."""

    def __init__(self, slots: Mapping[str, SlotDef]) -> None:
        self.slots = slots
        self._cache: dict[str, tuple[Variant, ...]] = {}

    def _slot(self, name: str, stack: tuple[str, ...]) -> tuple[Variant, ...]:
        if name in stack:
            raise PatternError(f"slot {{{name}}} refers to itself ({' → '.join((*stack, name))})")
        if name in self._cache:
            return self._cache[name]
        if name not in self.slots:
            raise PatternError(f"unknown slot {{{name}}}")
        definition = self.slots[name]
        out: list[Variant] = []
        if isinstance(definition, SlotRange):
            out = [Variant(str(n), False) for n in range(definition.lo, definition.hi + 1)]
        else:
            for i, option in enumerate(definition):
                for v in self._sequence(option, (*stack, name)):
                    out.append(Variant(v.text, v.synonym or i > 0))
        result = tuple(_unique(out))
        self._cache[name] = result
        return result

    def _sequence(self, text: str, stack: tuple[str, ...]) -> list[Variant]:
        """Expand a gap-free piece of pattern text."""
        _check_braces(text)
        pieces: list[list[Variant]] = []
        pos = 0
        for m in _TOKEN.finditer(text):
            if m.start() > pos:
                pieces.append([Variant(text[pos:m.start()], False)])
            body = m.group(1)
            if body.startswith("~"):
                raise PatternError(f"a gap {{{body}}} is not allowed here")
            if "|" in body:
                pieces.append([Variant(o, False) for o in body.split("|")])
            elif body.endswith("?"):
                pieces.append([Variant("", False), *self._slot(body[:-1], stack)])
            elif body:
                pieces.append(list(self._slot(body, stack)))
            else:
                raise PatternError("empty {} in pattern")
            pos = m.end()
        if pos < len(text):
            pieces.append([Variant(text[pos:], False)])
        combos = [Variant("", False)]
        for options in pieces:
            if len(combos) * len(options) > MAX_VARIANTS:
                raise PatternError(
                    f"expands to more than {MAX_VARIANTS} variants; split it into patterns")
            combos = [Variant(a.text + b.text, a.synonym or b.synonym)
                      for a in combos for b in options]
        return combos

    def expand(self, pattern: str) -> Expanded:
        _check_braces(pattern)
        parts: list[str] = []
        gaps: list[tuple[int, int]] = []
        pos = 0
        for m in _TOKEN.finditer(pattern):
            gap = _GAP.match(m.group(1))
            if m.group(1).startswith("~") and not gap:
                raise PatternError(f"bad gap {{{m.group(1)}}}: write {{~MIN,MAX}}")
            if gap:
                lo, hi = int(gap.group(1)), int(gap.group(2))
                if lo > hi or hi > 40:
                    raise PatternError(f"bad gap {{{m.group(1)}}}: need MIN <= MAX <= 40")
                parts.append(pattern[pos:m.start()])
                gaps.append((lo, hi))
                pos = m.end()
        parts.append(pattern[pos:])
        expanded: list[tuple[Variant, ...]] = []
        for piece in parts:
            variants = tuple(_unique(v for v in self._sequence(piece, ()) if v.text.strip()))
            if not variants:
                raise PatternError(f"pattern {pattern!r} has an empty part")
            expanded.append(variants)
        return Expanded(tuple(expanded), tuple(gaps))


def _unique(variants: Iterable[Variant]) -> list[Variant]:
    """Drop repeated texts, keeping the first (canonical) occurrence."""
    seen: dict[str, Variant] = {}
    for v in variants:
        if v.text not in seen:
            seen[v.text] = v
    return list(seen.values())
