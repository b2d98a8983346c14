"""The matching engine: lexicon rules over one text, and the listing detector built on it.

A cheap pass reduces the text with translate tables and a few regexes and runs
the main Aho-Corasick automaton over its syllable form, so homophones and typed
pinyin reach the lexicon too. Hits are checked against the unit text at once
(exact, or disguised within the policy); only when something survives is the
text normalised again with offsets, and each candidate verified against its
context: exclusions, negation and warning cues, word boundaries and the gaps
of gapped patterns. A match names its original span and the evasions seen.
The detector scans all fields of a listing as one text, put together from each
field's own normalisation (:mod:`detectors.texts`, which the certificate checks
share), so most listings cost one cheap pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rapidfuzz.distance import Levenshtein

from detectors.automaton import (
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
    GAP_SPACE,
    REPEAT,
    Normalized,
    fast_forms,
    flag_names,
    is_symbol,
    join_lines,
    joinable,
    normalize,
)
from detectors.texts import texts_of
from jingwang.records import Finding, Listing


@dataclass(frozen=True, slots=True)
class Match:
    """One rule matched in one text, located in the original string."""

    rule: CompiledRule = field(repr=False)
    start: int
    end: int
    text: str
    evasions: tuple[str, ...]
    phrase: str      # the lexicon variant(s) that matched
    canonical: str   # the pattern's canonical form


class _Hits:
    """What the cheap pass found in one text (unit positions)."""

    __slots__ = ("complete", "fuzzy", "hits", "phrase", "regex", "words")

    def __init__(self) -> None:
        self.hits: list[tuple[int, int, Target]] = []
        self.fuzzy: list[tuple[int, int, Target]] = []
        self.words: list[tuple[int, int, Target]] = []
        self.regex: list[tuple[int, int, int]] = []
        self.phrase = False    # a whole phrase passed the cheap checks
        self.complete = False  # a gapped pattern has every part


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


def policy_ok(length: int, exact: int, homophones: int, typed: int,
              first_exact: bool = True) -> bool:
    """How much disguise a variant of ``length`` units may carry and still count.

    Homophones need three or more characters and at most one substitution per
    three (当天出正, 免送洋; never 包裹 for 包过); without typed pinyin they also
    need two exact characters. Typed pinyin needs one exact character (bao过,
    que保tong过, 免婶he) unless the whole phrase is typed (dangtianchuzheng).
    """
    if typed == length:  # dangtianchuzheng, baoguo: the whole phrase typed
        return length >= 2
    if homophones and (length < 3 or homophones > max(1, length // 3)):
        return False
    if typed:  # typed pinyin is deliberate; one exact unit is enough (免婶he)
        return exact >= 1
    # Homophones alone: two exact units, and not the first of three (当面审核 is
    # not 免审核).
    return not homophones or (exact >= 2 and (length > 3 or first_exact))


def _compare(seg: str, v: VariantKey) -> tuple[int, int, int, bool]:
    """(exact units, homophones, typed syllables, first unit exact) of a hit."""
    exact = homo = typed = 0
    for a, b in zip(seg, v.text, strict=True):
        if a == b:
            exact += 1
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
        first, last = v.text[0], v.text[-1]
        # Most anchor hits end here: the far end of every window (lengths n-1..n+1,
        # n >= fuzzy_min_length >= 3) lies in these three units, so the far
        # character must be among them.
        if target.part == 0:
            if last not in t[start + n - 2:start + n + 1]:
                return []
        elif first not in t[max(0, end - n - 1):max(0, end - n + 2)]:
            return []
        out = []
        for d in (0, -1, 1):
            length = n + d
            s, e = (start, start + length) if target.part == 0 else (end - length, end)
            # Both ends must be exact: a near-miss changes the middle of a phrase;
            # 工作日出具报告 is not 次日出具报告.
            if s < 0 or e > len(t) or t[s] != first or t[e - 1] != last or t[s:e] == v.text:
                continue
            if Levenshtein.normalized_similarity(t[s:e], v.text) >= \
                    self.settings.fuzzy_threshold:
                out.append((s, e))
        return out

    def _collect(self, t: str, y: str) -> _Hits | None:
        """Every automaton hit that survives the cheap checks, or None when none counts.

        Parts of gapped patterns are checked only once all parts of the pattern
        are present; initials, fuzzy windows and regex hits always count.
        """
        # Most texts have a few anchor or part hits and nothing that counts: the
        # lists are made only when something goes into them.
        hits: list[tuple[int, int, Target]] = []
        fuzzy: list[tuple[int, int, Target]] | None = None
        words: list[tuple[int, int, Target]] | None = None
        part_hits: list[tuple[int, int, tuple[Target, ...]]] | None = None
        part_ids: set[tuple[int, int, int]] = set()
        phrase = False
        # The hot loop of the cheap pass: plain tuple unpacking, nothing else.
        for last, (length, phrases, parts, anchors, initials, ids) in \
                self.compiled.main.iter(y):
            e = last + 1
            s = e - length
            if phrases:
                seg = t[s:e]
                for tg in phrases:
                    v = tg.variant
                    if seg == v.text or policy_ok(length, *_compare(seg, v)):
                        hits.append((s, e, tg))
                        phrase = True
            if parts:
                if part_hits is None:
                    part_hits = []
                part_hits.append((s, e, parts))
                part_ids |= ids
            if initials:
                if words is None:
                    words = []
                words.extend((s, e, tg) for tg in initials)
            if anchors:
                # A single edit is outside one of the two anchors, so the anchor that
                # found it matches exactly; homophone anchor hits end here, cheaply.
                for tg in anchors.get(t[s:e], ()):
                    windows = self._fuzzy_windows(t, s, e, tg)
                    if windows:
                        if fuzzy is None:
                            fuzzy = []
                        fuzzy.extend((ws, we, tg) for ws, we in windows)
        complete = False
        # A gapped pattern is checked only when every one of its parts was hit.
        if part_hits is not None and not part_ids.isdisjoint(self.compiled.first_parts):
            complete = self._complete(t, part_hits, part_ids, hits)
        regex: list[tuple[int, int, int]] = []
        if self.compiled.regexes:
            regex = [(r, m.start(), m.end()) for r, rx in self.compiled.regexes
                     for m in rx.finditer(t) if m.end() > m.start()]
        if not (phrase or complete or fuzzy or words or regex):
            return None
        found = _Hits()
        found.hits = hits
        found.fuzzy = fuzzy or []
        found.words = words or []
        found.regex = regex
        found.phrase = phrase
        found.complete = complete
        return found

    def _complete(self, t: str, part_hits: list[tuple[int, int, tuple[Target, ...]]],
                  part_ids: set[tuple[int, int, int]],
                  hits: list[tuple[int, int, Target]]) -> bool:
        """Whether some gapped pattern has all its parts in order; adds their hits if so."""
        complete = {key for key, ids in self.compiled.gapped if ids <= part_ids}
        if not complete:
            return False
        spans: dict[tuple[int, int], list[list[tuple[int, int]]]] = {}
        kept = []
        for s, e, targets in part_hits:
            seg = t[s:e]
            for tg in targets:
                key2 = (tg.rule, tg.pattern)
                if key2 not in complete:
                    continue
                if self._part_ok(seg, tg):
                    rp = self.rules[tg.rule].patterns[tg.pattern]
                    spans.setdefault(key2, [[] for _ in range(rp.parts)])[tg.part].append(
                        (s, e))
                    kept.append((s, e, tg))
        if not any(self._chain_possible(r, q, by_part) for (r, q), by_part in spans.items()):
            return False
        hits.extend(kept)
        return True

    def _part_ok(self, seg: str, tg: Target) -> bool:
        """The cheap check for a part of a gapped pattern.

        The last part may also be two characters with one homophone (认正, 仞证):
        the rest of the pattern already stands behind it.
        """
        v = tg.variant
        if seg == v.text:
            return True
        exact, homo, typed, first = _compare(seg, v)
        if policy_ok(len(seg), exact, homo, typed, first):
            return True
        last = tg.part == self.rules[tg.rule].patterns[tg.pattern].parts - 1
        return last and len(seg) == 2 and homo == 1 and not typed

    def _chain_possible(self, rule: int, pattern: int,
                        by_part: list[list[tuple[int, int]]]) -> bool:
        """Parts in order, each within its gap of the one before (clauses not checked)."""
        gaps = self.rules[rule].patterns[pattern].gaps
        ends = {e for _, e in by_part[0]}
        for k, (lo, hi) in enumerate(gaps, start=1):
            ends = {e for s, e in by_part[k] if any(lo <= s - p <= hi for p in ends)}
            if not ends:
                return False
        return True

    def scan(self, text: str) -> list[Match]:
        """Every rule's matches in one text, located in the original string.

        A cheap pass (translate tables, regexes, one automaton run) decides; the
        text is normalised again with offsets only when something may match.
        """
        if not text:
            return []
        forms = fast_forms(text)
        found = self._collect(forms.text, forms.y)
        if found is None:
            return []
        return self._verify(normalize(text, forms), found)

    def scan_lines(self, parts: list[Normalized]) -> list[Match]:
        """:meth:`scan` of texts joined by line breaks, given each text normalised.

        The joined text's forms are put together from the parts' (see
        :func:`detectors.normalize.join_lines`), its offsets only when something
        may match.
        """
        if not joinable(parts):
            return self.scan("\n".join(p.source for p in parts))
        found = self._collect("".join(p.text for p in parts), "".join(p.y for p in parts))
        if found is None:
            return []
        return self._verify(join_lines(parts), found)

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
            if typed == e - s and not self._whole_run(n, s, e):
                return None  # baoguo inside dabaoguohou is not 包过
            if typed:
                ev.add("pinyin")
            if homo:
                ev.add("homophone")
        if v.synonym:
            ev.add("synonym")
        if v.lookalike:
            ev.add("homophone")
        return _Candidate(tg.rule, tg.pattern, s, e, ((s, e, v.flags),), frozenset(ev), v.raw)

    @staticmethod
    def _whole_run(n: Normalized, s: int, e: int) -> bool:
        """Typed syllables [s, e) are a whole run of letters, not part of a longer one."""
        before = s == 0 or n.gaps.at(s) or not is_symbol(n.text[s - 1])
        return bool(before and (e >= len(n.text) or n.gaps.at(e) or not is_symbol(n.text[e])))

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

    def _initials_candidates(self, n: Normalized, words: list[tuple[int, int, Target]],
                             ) -> list[_Candidate]:
        """Initials (dtcz) count only as a whole word: no letter or digit either side."""
        out = []
        breaks = GAP_SPACE | GAP_HARD  # DTCZ-200 is a model number, DTCZ 200 is not
        for u0, u1, tg in words:
            before_ok = u0 == 0 or n.gaps.at(u0) & breaks or not n.text[u0 - 1].isascii() \
                or not n.text[u0 - 1].isalnum()
            after_ok = u1 == len(n.text) or n.gaps.at(u1) & breaks \
                or not n.text[u1].isascii() or not n.text[u1].isalnum()
            inner = any(g & breaks for g in n.gaps[u0 + 1:u1])
            if before_ok and after_ok and n.whole(u0, u1) and not inner:
                out.append(_Candidate(tg.rule, tg.pattern, u0, u1, ((u0, u1, 0),),
                                      frozenset({"initials"}), tg.variant.raw))
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
                split = any(n.gaps[x.u0 + 1:x.u1]) or any(n.gaps[c.u0 + 1:c.u1]) \
                    if (x := chain[-1]) else False
                if gap_ok(n, prev, c.u0, split):
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
        # The tightest chain wins: 报告可改, not 报告 报告可改.
        return [c for c in out if not any(
            o is not c and c.u0 <= o.u0 and o.u1 <= c.u1 and (o.u0, o.u1) != (c.u0, c.u1)
            for o in out)]

    def _verify(self, n: Normalized, found: _Hits) -> list[Match]:
        hits, fuzzy, words, regex_hits = found.hits, found.fuzzy, found.words, found.regex
        # The context automaton runs only around what was found.
        reach, gap_reach = self.compiled.context_reach, self.compiled.gap_reach
        windows = [(s - reach, e + (gap_reach if tg.kind == PART else 0) + reach)
                   for s, e, tg in (*hits, *fuzzy, *words)]
        windows += [(a - reach, b + reach) for _, a, b in regex_hits]
        ctx = context_hits(self.compiled, n, windows)
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
        """Findings in every field of the listing.

        The fields are scanned as one text joined by line breaks (a clause break,
        so nothing matches across two fields); offsets are mapped back to each
        field afterwards.
        """
        texts = texts_of(listing)
        fields = texts.fields
        if not fields:
            return []
        matches = self.engine.scan_lines([texts.normalized(name) for name, _ in fields])
        if not matches:
            return []
        bounds = []
        offset = 0
        for name, text in fields:
            bounds.append((offset, offset + len(text), name))
            offset += len(text) + 1
        out = []
        for m in matches:
            home = next(((lo, name) for lo, hi, name in bounds
                         if lo <= m.start and m.end <= hi), None)
            if home is None:  # a clause break never lets a match cross fields
                continue
            lo, field_name = home
            entry = m.rule.entry
            out.append(Finding(
                rule=entry.id, category=entry.category, field=field_name,
                start=m.start - lo, end=m.end - lo, text=m.text, severity=entry.severity,
                legal_basis=entry.legal_basis, evasions=m.evasions,
                lexicon_version=self.version,
                detail={"phrase": m.phrase, "canonical": m.canonical}))
        return out
