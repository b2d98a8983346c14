"""Compile a lexicon into Aho-Corasick automata and lookup tables for the engine.

Every expanded variant of every pattern becomes a key of the *main* automaton
in syllable form (so homophones and typed pinyin reach it); exclusions, cues
and boundary words become keys of the *context* automaton in unit form (exact
after normalisation). Long canonical phrases also get anchor keys for the
residual fuzzy pass, and phrases of four or more Han characters an entry in the
initials key (当天出证 → dtcz).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import ahocorasick

from detectors.lexicon import Entry, Lexicon
from detectors.normalize import is_han, pattern_forms, syllables_of, unit_text
from detectors.patterns import Expanded, Variant
from detectors.pinyin_tables import contextual_readings, tables

# Kinds of main-automaton targets.
PHRASE = 0   # a whole single-part pattern
PART = 1     # one part of a pattern with gaps
ANCHOR = 2   # the head or tail of a long phrase, for near-misses
INITIALS = 3  # the first letters of a phrase's syllables (dtcz)

# Kinds of context-automaton targets.
EXCLUDE = 0
CUE_BEFORE = 1
CUE_AFTER = 2
ATTACH_LEFT = 3
ATTACH_RIGHT = 4

# Character classes at the edges of a variant (a digit must not continue a number).
CLASS_OTHER = 0
CLASS_DIGIT = 1
CLASS_LETTER = 2
MAX_FUZZY_PER_PATTERN = 64
ANCHOR_LENGTH = 3


def char_class(ch: str) -> int:
    if ch.isascii() and ch.isdigit():
        return CLASS_DIGIT
    if ch.isascii() and ch.isalpha():
        return CLASS_LETTER
    return CLASS_OTHER


@dataclass(frozen=True, slots=True)
class VariantKey:
    """One concrete variant, normalised: what a hit is compared against."""

    raw: str        # as expanded from the lexicon
    text: str       # unit form
    y: str          # syllable form (same length as text)
    flags: int      # evasion flags the lexicon's own spelling carries
    synonym: bool
    lookalike: bool
    first: int
    last: int


@dataclass(frozen=True, slots=True)
class Target:
    kind: int
    rule: int
    pattern: int
    part: int
    variant: VariantKey


class KeyTargets(NamedTuple):
    """What one key of the main automaton stands for, grouped by kind."""

    length: int
    phrases: tuple[Target, ...]
    parts: tuple[Target, ...]
    anchors: dict[str, tuple[Target, ...]]  # by the exact unit text of the anchor
    initials: tuple[Target, ...]
    part_ids: frozenset[tuple[int, int, int]]  # (rule, pattern, part) of ``parts``


@dataclass(frozen=True, slots=True)
class RulePattern:
    label: str       # the pattern as written
    canonical: str   # its first expansion (gaps shown as …)
    parts: int
    gaps: tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class CompiledRule:
    entry: Entry
    patterns: tuple[RulePattern, ...]


@dataclass(slots=True)
class CompiledLexicon:
    """Everything the engine needs, built once per lexicon version."""

    lexicon: Lexicon
    rules: tuple[CompiledRule, ...]
    main: Any            # ahocorasick.Automaton: syllable key -> KeyTargets
    context: Any         # ahocorasick.Automaton: unit key -> tuple[(kind, rule, length)]
    regexes: tuple[tuple[int, Any], ...]
    keys: int = 0
    context_reach: int = 0   # how far around a candidate its context can matter (units)
    gap_reach: int = 0       # the longest gap of any pattern plus its longest part
    # Patterns with gaps: (rule, pattern) and the (rule, pattern, part) ids of all parts.
    gapped: tuple[tuple[tuple[int, int], frozenset[tuple[int, int, int]]], ...] = ()
    first_parts: frozenset[tuple[int, int, int]] = frozenset()  # part 0 of each of them
    build_seconds: float = 0.0
    stats: dict[str, int] = field(default_factory=dict)


def _variant_key(v: Variant, lookalike: bool) -> VariantKey | None:
    text, flags = pattern_forms(v.text)
    if not text:
        return None
    return VariantKey(v.text, text, syllables_of(text), flags, v.synonym, lookalike,
                      char_class(text[0]), char_class(text[-1]))


def _alternate_ys(key: VariantKey) -> list[str]:
    """Syllable keys for the contextual readings of heteronyms (银行 hang, 重庆 chong)."""
    t = tables()
    if not any(ch in t.heteronyms for ch in key.text):
        return []
    positions = [i for i, ch in enumerate(key.text) if is_han(ch)]
    readings = contextual_readings("".join(key.text[i] for i in positions))
    if len(readings) != len(positions):
        return []
    y = list(key.y)
    for i, syl in zip(positions, readings, strict=True):
        sym = t.symbol(syl)
        if sym is not None:
            y[i] = sym
    alt = "".join(y)
    return [alt] if alt != key.y else []


def _initials_key(text: str) -> str | None:
    """dtcz for 当天出证, 5tcbg for 5天出报告: 4-6 Han characters, digits kept."""
    hans = [ch for ch in text if is_han(ch)]
    if not 4 <= len(hans) <= 6 or not all(is_han(ch) or ch.isdigit() for ch in text):
        return None
    syllables = [tables().default_syllable(ch) if is_han(ch) else ch for ch in text]
    if any(s is None for s in syllables):
        return None
    return "".join(s[0] for s in syllables if s)


class _Builder:
    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self.main: dict[str, dict[tuple[int, int, int, int, str], Target]] = defaultdict(dict)
        self.context: dict[str, set[tuple[int, int, int]]] = defaultdict(set)
        self.initials = 0
        self.regexes: list[tuple[int, Any]] = []

    def add_main(self, y: str, target: Target) -> None:
        self.main[y].setdefault(
            (target.kind, target.rule, target.pattern, target.part, target.variant.text), target)

    def add_pattern(self, r: int, p: int, expanded: Expanded, lookalike: bool,
                    entry: Entry) -> None:
        settings = self.lexicon.context
        single = len(expanded.parts) == 1
        kind = PHRASE if single else PART
        fuzzy_budget = MAX_FUZZY_PER_PATTERN
        for part_index, variants in enumerate(expanded.parts):
            for v in variants:
                key = _variant_key(v, lookalike)
                if key is None:
                    continue
                target = Target(kind, r, p, part_index, key)
                self.add_main(key.y, target)
                if not v.synonym:  # sellers type pinyin over the canonical wording
                    for alt in _alternate_ys(key):
                        self.add_main(alt, target)
                if not single or lookalike:
                    continue
                n = len(key.text)
                letters = _initials_key(key.text)
                # Two vowels make an English word more likely than initials.
                if letters and sum(letters.count(c) for c in "aeiou") <= 1:
                    self.add_main(letters, Target(INITIALS, r, p, 0, key))
                    self.initials += 1
                if (entry.fuzzy and not v.synonym and n >= settings.fuzzy_min_length
                        and fuzzy_budget > 0):
                    fuzzy_budget -= 1
                    self.add_main(key.y[:ANCHOR_LENGTH], Target(ANCHOR, r, p, 0, key))
                    self.add_main(key.y[-ANCHOR_LENGTH:], Target(ANCHOR, r, p, 1, key))

    def add_context(self, text: str, kind: int, rule: int) -> None:
        key = unit_text(text)
        if key:
            self.context[key].add((kind, rule, len(key)))

    def build(self) -> CompiledLexicon:
        started = time.perf_counter()
        rules = []
        for r, entry in enumerate(self.lexicon.entries):
            patterns: list[RulePattern] = []
            for phrase in entry.phrases:
                self.add_pattern(r, len(patterns), Expanded(((Variant(phrase, False),),), ()),
                                 False, entry)
                patterns.append(RulePattern(phrase, phrase, 1, ()))
            for phrase in entry.lookalikes:
                self.add_pattern(r, len(patterns), Expanded(((Variant(phrase, False),),), ()),
                                 True, entry)
                patterns.append(RulePattern(phrase, phrase, 1, ()))
            for label, expanded in zip(entry.patterns, entry.expanded, strict=True):
                self.add_pattern(r, len(patterns), expanded, False, entry)
                canonical = "…".join(part[0].text for part in expanded.parts)
                patterns.append(RulePattern(label, canonical, len(expanded.parts),
                                            expanded.gaps))
            for rx in entry.regex:
                self.regexes.append((r, rx))
            for ex in entry.expanded_exclude:
                for v in ex.parts[0]:
                    self.add_context(v.text, EXCLUDE, r)
            rules.append(CompiledRule(entry, tuple(patterns)))
        ctx = self.lexicon.context
        for kind, words in ((CUE_BEFORE, ctx.negations_before), (CUE_AFTER, ctx.warnings_after),
                            (ATTACH_LEFT, ctx.attach_left), (ATTACH_RIGHT, ctx.attach_right)):
            for word in words:
                self.add_context(word, kind, -1)
        # Initials are ambiguous (jcbg: 检测包过 or 仅出报告); where a key has a
        # canonical phrase, synonyms do not share it.
        for targets in self.main.values():
            ids = [k for k, t in targets.items() if t.kind == INITIALS]
            if any(not targets[k].variant.synonym for k in ids):
                for k in ids:
                    if targets[k].variant.synonym:
                        del targets[k]
        main = ahocorasick.Automaton()
        for key, targets in self.main.items():
            by_kind: list[list[Target]] = [[], [], [], []]
            for target in targets.values():
                by_kind[target.kind].append(target)
            phrases, parts, anchors, initial = (tuple(k) for k in by_kind)
            by_text: dict[str, list[Target]] = {}
            for t in anchors:
                text = t.variant.text
                by_text.setdefault(text[:len(key)] if t.part == 0 else text[-len(key):],
                                   []).append(t)
            main.add_word(key, KeyTargets(
                len(key), phrases, parts, {k: tuple(v) for k, v in by_text.items()}, initial,
                frozenset((t.rule, t.pattern, t.part) for t in parts)))
        main.make_automaton()
        context = ahocorasick.Automaton()
        for key, entries in self.context.items():
            context.add_word(key, tuple(sorted(entries)))
        context.make_automaton()
        longest = max((len(k) for k in self.context), default=0)
        reach = max(ctx.window_before, ctx.window_after) + longest + 1
        gaps = max((hi for r in rules for p in r.patterns for _, hi in p.gaps), default=0)
        return CompiledLexicon(
            context_reach=reach, gap_reach=gaps + max((len(k) for k in self.main), default=0),
            gapped=tuple(((r, q), frozenset((r, q, k) for k in range(p.parts)))
                         for r, rule in enumerate(rules)
                         for q, p in enumerate(rule.patterns) if p.parts > 1),
            first_parts=frozenset((r, q, 0) for r, rule in enumerate(rules)
                                  for q, p in enumerate(rule.patterns) if p.parts > 1),
            lexicon=self.lexicon, rules=tuple(rules), main=main, context=context,
            regexes=tuple(self.regexes), keys=len(self.main),
            build_seconds=time.perf_counter() - started,
            stats={"main_keys": len(self.main), "context_keys": len(self.context),
                   "initials": self.initials})


_RECENT: OrderedDict[str, CompiledLexicon] = OrderedDict()
_RECENT_LOCK = threading.Lock()


def compile_lexicon(lexicon: Lexicon) -> CompiledLexicon:
    """Build the automata for one lexicon version.

    The last two versions are kept: the version hash covers every byte of the
    lexicon, so a reload or a second command over the same files reuses them.
    """
    with _RECENT_LOCK:
        cached = _RECENT.get(lexicon.version)
        if cached is not None:
            _RECENT.move_to_end(lexicon.version)
            return cached
    compiled = _Builder(lexicon).build()
    with _RECENT_LOCK:
        _RECENT[lexicon.version] = compiled
        while len(_RECENT) > 2:
            _RECENT.popitem(last=False)
    return compiled
