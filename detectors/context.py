"""Context around a candidate match: exclusions, negation/warning cues, word boundaries.

All positions here are unit indices of a :class:`Normalized` text; the gaps
between units say whether the seller's text had a clause break (，。；) or a
space there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

from detectors.automaton import (
    ATTACH_LEFT,
    ATTACH_RIGHT,
    CUE_AFTER,
    CUE_BEFORE,
    EXCLUDE,
    CompiledLexicon,
)
from detectors.lexicon import ContextRules
from detectors.normalize import GAP_HARD, GAP_SPACE, Normalized, is_han


@dataclass(slots=True)
class ContextHits:
    """Context-automaton hits in one normalised field."""

    exclude: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    before: list[tuple[int, int]] = field(default_factory=list)
    after: list[tuple[int, int]] = field(default_factory=list)
    left_ends: set[int] = field(default_factory=set)
    right_starts: set[int] = field(default_factory=set)


def context_hits(compiled: CompiledLexicon, n: Normalized,
                 windows: list[tuple[int, int]] | None = None) -> ContextHits:
    """Context-automaton hits, in the whole text or only in the given unit windows."""
    hits = ContextHits()
    if not n.text:
        return hits
    for lo, hi in _merged(windows) if windows is not None else [(0, len(n.text))]:
        _scan(compiled, n, max(0, lo), min(len(n.text), hi), hits)
    return hits


def _merged(windows: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(windows):
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def _scan(compiled: CompiledLexicon, n: Normalized, lo: int, hi: int,
          hits: ContextHits) -> None:
    if hi <= lo:
        return
    gaps = n.gaps
    for end, entries in compiled.context.iter(n.text, lo, hi):
        for kind, rule, length in entries:
            span = (end + 1 - length, end + 1)
            if kind == EXCLUDE:
                # An exclusion is one word of the seller's: it does not reach across
                # a space (保证通过 正规流程 is still a promise).
                if not any(g & (GAP_SPACE | GAP_HARD) for g in gaps[span[0] + 1:span[1]]):
                    hits.exclude.setdefault(rule, []).append(span)
            elif kind == CUE_BEFORE:
                hits.before.append(span)
            elif kind == CUE_AFTER:
                hits.after.append(span)
            elif kind == ATTACH_LEFT:
                hits.left_ends.add(span[1])
            elif kind == ATTACH_RIGHT:
                hits.right_starts.add(span[0])


def excluded(hits: ContextHits, rule: int, u0: int, u1: int) -> bool:
    """An exclusion of the rule overlaps the candidate (包过塑, 中国有机产品认证)."""
    return any(a < u1 and b > u0 for a, b in hits.exclude.get(rule, ()))


def _clause_link(n: Normalized, left_end: int, right_start: int) -> bool:
    """True when units left_end-1 and right_start sit in one clause.

    A clause break (，。；！？) always separates; a space separates too, unless
    nothing but separators lies between (谨防 “当天出证”).
    """
    gaps = n.gaps_between(left_end, right_start)
    if gaps & GAP_HARD:
        return False
    return not (right_start > left_end and gaps & GAP_SPACE)


def negated(n: Normalized, hits: ContextHits, rules: ContextRules, u0: int, u1: int) -> str:
    """The cue that suppresses [u0, u1), or '' when none does."""
    for c0, c1 in hits.before:
        if c0 >= u0 or c1 > u1:
            continue
        if c1 > u0:  # the cue overlaps the start: 不承诺通过 against 承诺通过
            return n.text[c0:c1]
        if u0 - c1 <= rules.window_before and _clause_link(n, c1, u0):
            return n.text[c0:c1]
    for c0, c1 in hits.after:
        if c0 < u1:
            continue
        if c0 - u1 <= rules.window_after and (_clause_link(n, u1, c0)
                                              or _answered(n, u1, c0)):
            return n.text[c0:c1]
    return ""


def _answered(n: Normalized, u1: int, c0: int) -> bool:
    """A question answered right away: 包过？不存在的 · 当天出证? 不可能."""
    if c0 - u1 > 1:
        return False
    between = n.source[n.end(u1 - 1):n.starts[c0]]
    return any(q in between for q in "？?") and not any(b in between for b in "。；;\n")


def word_boundary(n: Normalized, hits: ContextHits, u0: int, u1: int) -> bool:
    """Both ends of [u0, u1) fall on a word boundary (short phrases such as 包过)."""
    left = (u0 == 0 or n.gaps[u0] != 0 or not is_han(n.text[u0 - 1])
            or u0 in hits.left_ends)
    if not left:
        return False
    return (u1 >= len(n.text) or n.gap_before(u1) != 0 or not is_han(n.text[u1])
            or u1 in hits.right_starts)


def gap_ok(n: Normalized, prev_end: int, start: int, disguised: bool = False) -> bool:
    """May a gap of a pattern span units [prev_end, start)?

    Always within one clause. A space only right after the previous part
    (国·家·级 绿色环保认证, not 全国包邮 荣誉证书), unless the seller split the
    parts themselves too (全国重合同守 信用企业 认 证) or spaced single characters
    apart (五 * 星 * 级): then the spaces are disguise.
    """
    if n.gaps_between(prev_end, start) & GAP_HARD:
        return False
    spaces = [i for i in range(prev_end + 1, start + 1) if n.gaps.at(i) & GAP_SPACE]
    # A single character between two spaces is nobody's keyword (五 * 星 * 级).
    return not spaces or disguised or any(b - a == 1 for a, b in pairwise(spaces))
