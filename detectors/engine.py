"""The matching engine: lexicon rules over one text, and the listing detector built on it.

A field is first reduced with ``fast_forms`` (translate tables and regexes)
and scanned by the main Aho-Corasick automaton in syllable form. Only when a
hit survives a cheap check (exact, or homophone/pinyin within the policy) is
the field normalised again with offsets, and each candidate is verified
against its context: exclusions, negation and warning cues, word boundaries
and pattern gaps. Each surviving match names the original span and the
evasions it saw through.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from detectors.automaton import (
    ANCHOR,
    ANCHOR_LENGTH,
    CLASS_OTHER,
    PART,
    PHRASE,
    CompiledLexicon,
    CompiledRule,
    Target,
    VariantKey,
    char_class,
)
from detectors.context import (
    ContextHits,
    context_hits,
    excluded,
    gap_ok,
    negated,
    word_boundary,
)
from detectors.normalize import (
    GAP_HARD,
    REPEAT,
    Normalized,
    fast_syllables,
    flag_names,
    is_han,
    is_symbol,
    normalize,
)
from jingwang.records import Finding, Listing


@dataclass(frozen=True, slots=True)
class Match:
    """One rule matched in one text, located in the original string."""

    rule: CompiledRule
    start: int
    end: int
    text: str
    evasions: tuple[str, ...]
    phrase: str      # the lexicon variant(s) that matched
    canonical: str   # the pattern's canonical form


@dataclass(frozen=True, slots=True)
class _Candidate:
    """A match not yet checked against its context; evasions are worked out at the end."""

    rule: int
    pattern: int
    u0: int
    u1: int
    pieces: tuple[tuple[int, int, int], ...]  # (u0, u1, flags the lexicon spelling has)
    extra: frozenset[str]                     # evasions seen while matching
    phrase: str
    fuzzy: bool = False


def policy_ok(length: int, exact_han: int, homophones: int, typed: int,
              first_exact: bool = True) -> bool:
    """How much disguise a variant of ``length`` units may carry and still count.

    Homophones need three or more characters, two of them exact, and at most one
    substitution per three characters (当天出正, 免送洋; never 包裹 for 包过).
    Typed pinyin needs one exact character (bao过, que保tong过) unless the whole
    phrase of three or more syllables is typed (dangtianchuzheng).
    """
    if homophones and (length < 3 or exact_han < 2 or homophones > max(1, length // 3)
                       or homophones + typed > length - 2):
        return False
    if homophones and length == 3 and not first_exact:  # 务审核 is not 无审核
        return False
    if typed and not (exact_han >= 1 and typed + homophones <= length - 1):
        return typed == length and length >= 3
    return True


def _compare(seg: str, v: VariantKey) -> tuple[int, int, int, bool]:
    """(exact Han, homophones, typed syllables, first unit exact) of a hit."""
    exact = homo = typed = 0
    for a, b in zip(seg, v.text, strict=True):
        if a == b:
            exact += is_han(a)
        elif is_symbol(a) and not is_symbol(b):
            typed += 1
        else:
            homo += 1
    return exact, homo, typed, seg[:1] == v.text[:1]


class Engine:
    """Scans one text with a compiled lexicon."""

    def __init__(self, compiled: CompiledLexicon) -> None:
        self.compiled = compiled
        self.rules = compiled.rules
        self.settings = compiled.lexicon.context
        self.version = compiled.lexicon.version

    # -- fast pass ---------------------------------------------------------

    def _fuzzy_windows(self, t: str, start: int, end: int, target: Target,
                       ) -> list[tuple[int, int]]:
        """Windows next to an anchor hit that differ from the variant by a little."""
        v = target.variant
        n = len(v.text)
        out = []
        for d in (0, -1, 1):
            length = n + d
            s, e = (start, start + length) if target.part == 0 else (end - length, end)
            # Both ends must be exact: a near-miss changes the middle of a phrase;
            # 工作日出具报告 is not 次日出具报告.
            if s < 0 or e > len(t) or t[s:e] == v.text or t[s] != v.text[0] \
                    or t[e - 1] != v.text[-1]:
                continue
            if Levenshtein.normalized_similarity(t[s:e], v.text) >= \
                    self.settings.fuzzy_threshold:
                out.append((s, e))
        return out

    def worth_a_look(self, text: str) -> bool:
        """Could any rule match in ``text``? A cheap pass that is False for most listings.

        The detector runs it once over all fields of a listing joined by line
        breaks, and scans the fields one by one only when it says yes. The unit
        text is only computed once a hit needs it.
        """
        quick = fast_syllables(text)
        y = quick.y
        if any(w in self.compiled.initials for w in quick.words):
            return True
        if any(rx.search(quick.text) for _, rx in self.compiled.regexes):
            return True
        parts: list[tuple[int, Target]] = []
        threshold = self.settings.fuzzy_threshold
        for last, targets in self.compiled.main.iter(y):
            for tg in targets:
                v = tg.variant
                if tg.kind == PART:
                    parts.append((last, tg))
                    continue
                if tg.kind == ANCHOR:
                    # In syllables first: ends equal and close enough, then characters.
                    s = last + 1 - ANCHOR_LENGTH
                    e = s + len(v.y) if tg.part == 0 else last + 1
                    s = s if tg.part == 0 else e - len(v.y)
                    lo, hi = max(0, s - 1), min(len(y), e + 1)
                    if Levenshtein.normalized_similarity(y[lo:hi], v.y) < threshold - 0.25:
                        continue
                    if self._fuzzy_windows(quick.text, last + 1 - ANCHOR_LENGTH, last + 1, tg):
                        return True
                    continue
                seg = quick.text[last + 1 - len(v.y):last + 1]
                if seg == v.text or policy_ok(len(seg), *_compare(seg, v)):
                    return True
        if not parts:
            return False
        # A gapped pattern is worth a closer look only once all of its parts are seen.
        by_pattern: dict[tuple[int, int], set[int]] = {}
        for _, tg in parts:
            by_pattern.setdefault((tg.rule, tg.pattern), set()).add(tg.part)
        complete = {key for key, seen in by_pattern.items()
                    if len(seen) == self.rules[key[0]].patterns[key[1]].parts}
        if not complete:
            return False
        t = quick.text
        valid: dict[tuple[int, int], set[int]] = {}
        for last, tg in parts:
            if (tg.rule, tg.pattern) not in complete:
                continue
            v = tg.variant
            seg = t[last + 1 - len(v.y):last + 1]
            if seg == v.text or policy_ok(len(seg), *_compare(seg, v)):
                valid.setdefault((tg.rule, tg.pattern), set()).add(tg.part)
        return any(len(valid.get(key, ())) == self.rules[key[0]].patterns[key[1]].parts
                   for key in complete)

    def scan(self, text: str) -> list[Match]:
        """Every rule's matches in one text, located in the original string."""
        if not text or not self.worth_a_look(text):
            return []
        return self.scan_deep(text)

    def scan_deep(self, text: str) -> list[Match]:
        """:meth:`scan` without the cheap pre-check (for text already known to be worth it)."""
        if not text:
            return []
        n = normalize(text)
        t, y = n.text, n.y
        hits: list[tuple[int, int, Target]] = []
        fuzzy: list[tuple[int, int, Target]] = []
        if y:
            for last, targets in self.compiled.main.iter(y):
                for tg in targets:
                    v = tg.variant
                    if tg.kind == ANCHOR:
                        s, e = last + 1 - ANCHOR_LENGTH, last + 1
                        for ws, we in self._fuzzy_windows(t, s, e, tg):
                            fuzzy.append((ws, we, tg))
                        continue
                    s, e = last + 1 - len(v.y), last + 1
                    seg = t[s:e]
                    if seg != v.text and not policy_ok(len(seg), *_compare(seg, v)):
                        continue
                    hits.append((s, e, tg))
        words = [w for w in n.latin_words() if w in self.compiled.initials] \
            if self.compiled.initials else []
        regex_hits = [(r, m.start(), m.end()) for r, rx in self.compiled.regexes
                      for m in rx.finditer(t) if m.end() > m.start()]
        if not (hits or fuzzy or words or regex_hits):
            return []
        return self._verify(n, hits, fuzzy, words, regex_hits)

    # -- slow pass ---------------------------------------------------------

    @staticmethod
    def _evasions(n: Normalized, c: _Candidate) -> tuple[str, ...]:
        names = set(c.extra)
        for u0, u1, own in c.pieces:
            a, b = n.span(u0, u1)
            flags = n.flags(a, b) & ~own
            if n.repeated(u0, u1):
                flags |= REPEAT
            names.update(flag_names(flags))
        return tuple(sorted(names, key=_EVASION_ORDER.index))

    def _edges_ok(self, n: Normalized, s: int, e: int, v: VariantKey) -> bool:
        """No cut unit group, and a digit or letter edge does not continue a number/word."""
        if not n.whole(s, e):
            return False
        if v.first != CLASS_OTHER and s > 0 and not n.gaps[s] \
                and char_class(n.text[s - 1]) == v.first:
            return False
        return not (v.last != CLASS_OTHER and e < len(n.text) and not n.gaps[e]
                    and char_class(n.text[e]) == v.last)

    def _hit_candidate(self, n: Normalized, s: int, e: int, tg: Target,
                       ) -> _Candidate | None:
        v = tg.variant
        if not self._edges_ok(n, s, e, v):
            return None
        ev: set[str] = set()
        inner = n.gaps[s + 1:e]
        exact = n.text[s:e] == v.text
        # A clause break inside a phrase is an evasion only when every character is
        # set apart by one (当，天，出，证) and the characters themselves are exact.
        if any(g & GAP_HARD for g in inner) and not (exact and all(g & GAP_HARD
                                                                  for g in inner)):
            return None
        if not exact:
            _, homo, typed, _ = _compare(n.text[s:e], v)
            if typed:
                ev.add("pinyin")
            if homo:
                ev.add("homophone")
        if v.synonym:
            ev.add("synonym")
        if v.lookalike:
            ev.add("homophone")
        return _Candidate(tg.rule, tg.pattern, s, e, ((s, e, v.flags),), frozenset(ev), v.raw)

    def _fuzzy_candidate(self, n: Normalized, s: int, e: int, tg: Target,
                         ) -> _Candidate | None:
        v = tg.variant
        if not self._edges_ok(n, s, e, v) or n.hard_break_inside(s, e):
            return None
        if Levenshtein.normalized_similarity(n.text[s:e], v.text) < \
                self.settings.fuzzy_threshold:
            return None
        return _Candidate(tg.rule, tg.pattern, s, e, ((s, e, v.flags),), frozenset({"fuzzy"}),
                          v.raw, fuzzy=True)

    def _initials_candidates(self, n: Normalized, words: list[str]) -> list[_Candidate]:
        out = []
        for word in set(words):
            if sum(word.count(c) for c in "aeiou") > 1:  # English words, not initials
                continue
            k = len(word)
            pos = n.text.find(word)
            while pos >= 0:
                u0, u1 = pos, pos + k
                before_ok = u0 == 0 or n.gaps[u0] or not n.text[u0 - 1].isascii() \
                    or not n.text[u0 - 1].isalnum()
                after_ok = u1 == len(n.text) or n.gap_before(u1) \
                    or not n.text[u1].isascii() or not n.text[u1].isalnum()
                if before_ok and after_ok and n.whole(u0, u1):
                    for tg in self.compiled.initials[word]:
                        out.append(_Candidate(tg.rule, tg.pattern, u0, u1, ((u0, u1, 0),),
                                              frozenset({"initials"}), tg.variant.raw))
                pos = n.text.find(word, pos + 1)
        return out

    def _chains(self, n: Normalized, hits: ContextHits, rule: int, pattern: int,
                parts: dict[int, list[_Candidate]]) -> list[_Candidate]:
        """Join the parts of a gapped pattern: nearest next part within the gap."""
        rp = self.rules[rule].patterns[pattern]
        out = []

        def extend(chain: list[_Candidate]) -> list[_Candidate] | None:
            k = len(chain)
            if k == rp.parts:
                u0, u1 = chain[0].u0, chain[-1].u1
                return None if excluded(hits, rule, u0, u1) else chain
            lo, hi = rp.gaps[k - 1]
            prev = chain[-1].u1
            options = sorted((c for c in parts.get(k, ()) if lo <= c.u0 - prev <= hi),
                             key=lambda c: (c.u0 - prev, -c.u1))
            for c in options:
                if gap_ok(n, prev, c.u0):
                    found = extend([*chain, c])
                    if found:
                        return found
            return None

        for first in parts.get(0, ()):
            chain = extend([first])
            if chain:
                out.append(_Candidate(
                    rule, pattern, chain[0].u0, chain[-1].u1,
                    tuple(p for c in chain for p in c.pieces),
                    frozenset().union(*(c.extra for c in chain)),
                    "…".join(c.phrase for c in chain)))
        return out

    def _verify(self, n: Normalized, hits: list[tuple[int, int, Target]],
                fuzzy: list[tuple[int, int, Target]], words: list[str],
                regex_hits: list[tuple[int, int, int]]) -> list[Match]:
        ctx = context_hits(self.compiled, n)
        singles: list[_Candidate] = []
        parts: dict[tuple[int, int], dict[int, list[_Candidate]]] = {}
        firsts = {(tg.rule, tg.pattern) for _, _, tg in hits if tg.kind != PHRASE and tg.part == 0}
        for s, e, tg in hits:
            if tg.kind != PHRASE and (tg.rule, tg.pattern) not in firsts:
                continue
            cand = self._hit_candidate(n, s, e, tg)
            if cand is None:
                continue
            if tg.kind == PHRASE:
                singles.append(cand)
            else:
                parts.setdefault((tg.rule, tg.pattern), {}).setdefault(tg.part, []).append(cand)
        for (rule, pattern), by_part in parts.items():
            singles.extend(self._chains(n, ctx, rule, pattern, by_part))
        singles.extend(self._initials_candidates(n, words))
        for rule, a, b in regex_hits:
            singles.append(_Candidate(rule, -1, a, b, ((a, b, 0),), frozenset(), n.text[a:b]))
        for s, e, tg in fuzzy:
            cand = self._fuzzy_candidate(n, s, e, tg)
            if cand is not None:
                singles.append(cand)
        accepted: dict[int, list[_Candidate]] = {}
        # Longest first, exact before fuzzy: overlapping candidates of one rule
        # collapse into the best one.
        singles.sort(key=lambda c: (c.fuzzy, -(c.u1 - c.u0), len(c.extra), c.u0))
        for c in singles:
            taken = accepted.setdefault(c.rule, [])
            if any(o.u0 < c.u1 and o.u1 > c.u0 for o in taken):
                continue
            entry = self.rules[c.rule].entry
            if excluded(ctx, c.rule, c.u0, c.u1):
                continue
            if entry.boundary == "word" and not word_boundary(n, ctx, c.u0, c.u1):
                continue
            if negated(n, ctx, self.settings, c.u0, c.u1):
                continue
            taken.append(c)
        kept = [c for cands in accepted.values() for c in cands]
        matches = []
        for c in kept:
            compiled = self.rules[c.rule]
            # A match inside a longer one of the same category adds nothing (保通过
            # inside 确保通过), nor does a homophone reading of an exact match's span
            # (只出证书 read as 直出证书).
            if any(o is not c and o.u0 <= c.u0 and c.u1 <= o.u1
                   and self.rules[o.rule].entry.category == compiled.entry.category
                   and ((o.u1 - o.u0) > (c.u1 - c.u0)
                        or (len(o.extra), o.rule) < (len(c.extra), c.rule))
                   for o in kept):
                continue
            a, b = n.span(c.u0, c.u1)
            canonical = compiled.patterns[c.pattern].canonical if c.pattern >= 0 \
                else compiled.entry.id
            matches.append(Match(compiled, a, b, n.source[a:b], self._evasions(n, c),
                                 c.phrase, canonical))
        matches.sort(key=lambda m: (m.start, m.end, m.rule.entry.id))
        return matches


_EVASION_ORDER = ["separator", "invisible", "width", "case", "traditional", "pinyin",
                  "initials", "homophone", "synonym", "numeral", "repeat", "fuzzy"]


class LexiconDetector:
    """The lexicon rules as a :class:`jingwang.records.Detector`: listing in, findings out."""

    name = "lexicon"

    def __init__(self, compiled: CompiledLexicon) -> None:
        self.engine = Engine(compiled)
        self.version = compiled.lexicon.version

    def detect(self, listing: Listing) -> list[Finding]:
        fields = [(name, text) for name, text in listing.fields() if text]
        if not fields or not self.engine.worth_a_look("\n".join(t for _, t in fields)):
            return []
        out = []
        for field_name, text in fields:
            for m in self.engine.scan_deep(text):
                entry = m.rule.entry
                out.append(Finding(
                    rule=entry.id, category=entry.category, field=field_name,
                    start=m.start, end=m.end, text=m.text, severity=entry.severity,
                    legal_basis=entry.legal_basis, evasions=m.evasions,
                    lexicon_version=self.version,
                    detail={"phrase": m.phrase, "canonical": m.canonical}))
        return out
