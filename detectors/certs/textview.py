"""Views of a field's text for the certificate checks, built on the engine's normaliser.

Both views keep a map back to the original offsets, and neither folds a
character itself: :mod:`detectors.fold` and :mod:`detectors.normalize` do, for
the lexicon engine and these checks alike.

``folded`` undoes width, traditional forms and look-alikes character by
character (:func:`detectors.fold.char_form`) and keeps case, numerals and
punctuation: the key-field, identifier and name checks read dates, numbers,
labels and model codes in it.

``phrase_view`` is what the phrase signals run on. It starts from the engine's
unit text (separators, invisible characters and repeats gone, width, case,
traditional forms and look-alikes undone), puts a clause mark back where the
seller ended a clause, and spells out again the words of a vocabulary that the
seller disguised with typed pinyin or homophones (附检测豹告 → 附检测报告,
仞证办理 → 认证办理, pin牌证书 → 品牌证书), allowing as much disguise as the
engine's own policy does. Typed letters that spell no word go back to letters
and Chinese numerals stay Chinese, so the patterns read the text as written.
"""

from __future__ import annotations

import operator
import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from itertools import compress
from typing import Any, NamedTuple

import ahocorasick

from detectors.engine import policy_ok
from detectors.fold import (
    CHAR_FORMS,
    FLAG_TABLE,
    GAP_HARD,
    HARD_BREAKS,
    UNIT_TABLE,
    Flag,
    char_forms,
    flag_names,
    han_numerals,
    is_han,
)
from detectors.normalize import Normalized, is_symbol, normalize, syllables_of, unit_text
from detectors.pinyin_tables import contextual_readings, tables

_NOISE_CHARS = frozenset("·・•")
_NOISE_CATEGORIES = frozenset({"Cf", "So", "Sk", "Co"})
# Clause ends of the engine (HARD_BREAKS) by strength: a sentence, a comma, a colon.
_SENTENCE_ENDS = frozenset("。；;！!？?\n\r\u2028\u2029｡﹔﹖﹗")
_COLONS = frozenset("：︰")
_HAN_DIGITS = "〇一二三四五六七八九"
_PLAIN_NUMERALS = frozenset("两十" + _HAN_DIGITS)  # what Chinese is written with
_CASE = Flag.CASE.value
_NUMERAL = Flag.NUMERAL.value
_LETTERS = re.compile("[A-Za-z]+")
# Evasions a phrase view adds to the flags of the original characters.
_PINYIN = 1
_HOMOPHONE = 2
_REPEAT = 4
_ORDER = ("separator", "invisible", "width", "case", "traditional", "pinyin", "initials",
          "homophone", "synonym", "numeral", "repeat", "fuzzy")


@dataclass(slots=True)
class MappedText:
    """A derived text whose character ``i`` comes from ``origin[i]`` of the source.

    ``ends`` is the end of each character's source when one character stands
    for several (二十四 → 24, a typed syllable); None when each comes from one.
    """

    text: str
    origin: Sequence[int]  # a range when each character is its own source's
    ends: list[int] | None = None

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original ``(start, end)`` of the derived slice ``[start:end]`` (non-empty)."""
        last = self.ends[end - 1] if self.ends is not None else self.origin[end - 1] + 1
        return self.origin[start], last


# --- the folded view -------------------------------------------------------------------------

def _is_noise(ch: str) -> bool:
    """Invisible characters, emoji and middle dots: never part of a word or a number."""
    return ch in _NOISE_CHARS or unicodedata.category(ch) in _NOISE_CATEGORIES


_CJK = "\u4e00-\u9fff\uf900-\ufaff"
# A space or slash between two CJK characters (发证 机构, 检测/报告) splits no word.
# (The pattern starts with the separator: the regex engine skips to the next one fast.)
_SPLITS = " \t\u3000/"
_SPACE_IN_CJK = re.compile(f"[{_SPLITS}](?<=[{_CJK}][{_SPLITS}])(?=[{_CJK}])")


class _NoiseTable(dict[int, int | None]):
    """``str.translate`` table that deletes noise, each code point classified once.

    ASCII is never noise here (``^`` and a backquote are modifier symbols to Unicode).
    """

    def __missing__(self, code: int) -> int | None:
        value = None if code >= 0x80 and _is_noise(chr(code)) else code
        if len(self) < 100_000:
            self[code] = value
        return value


_NOISE_TABLE = _NoiseTable()


def _without_noise(text: str) -> tuple[str, list[int] | None]:
    """``text`` without noise, nor spaces or slashes between two CJK characters.

    Returns the kept text and the index in ``text`` of each kept character,
    None when nothing was dropped (most fields: one translate, one search).
    """
    kept = text.translate(_NOISE_TABLE)
    index = range(len(text)) if len(kept) == len(text) else \
        [i for i, ch in enumerate(text) if ch.isascii() or not _is_noise(ch)]
    # A dropped space has a CJK character on either side, so two never touch:
    # their neighbours in the kept text are the ones the seller wrote.
    drops = [m.start() for m in _SPACE_IN_CJK.finditer(kept)]
    if not drops and isinstance(index, range):
        return text, None
    pieces: list[str] = []
    out: list[int] = []
    pos = 0
    for d in [*drops, len(kept)]:
        pieces.append(kept[pos:d])
        out.extend(index[pos:d])
        pos = d + 1
    return "".join(pieces), out


def _fold_chars(text: str) -> MappedText:
    out = char_forms(text)
    if len(out) == len(text):  # every character folds to one (NFKC never deletes)
        return MappedText(out, range(len(text)))
    origin: list[int] = []
    for i, c in enumerate(text):
        origin.extend([i] * len(CHAR_FORMS[ord(c)]))
    return MappedText(out, origin)


def folded(text: str, *, drop_noise: bool = False,
           respell: dict[int, tuple[int, str]] | None = None) -> MappedText:
    """Width, traditional forms and look-alikes undone; case, numerals and separators kept.

    ``drop_noise`` also drops invisible characters, emoji and middle dots, so
    labels and names written with them in between (发·证机构) still read whole.
    ``respell`` (a phrase view's :attr:`PhraseView.respellings`) writes the words
    the seller disguised as the phrase view reads them (检ce机构 → 检测机构).
    """
    if respell:
        return _respelled(text, drop_noise, respell)
    if drop_noise:
        kept, index = _without_noise(text)
        if index is not None:
            view = _fold_chars(kept)
            origin = index if len(view.text) == len(kept) else [index[i] for i in view.origin]
            return MappedText(view.text, origin)
    return _fold_chars(text)


def _respelled(text: str, drop_noise: bool, respell: dict[int, tuple[int, str]]) -> MappedText:
    chars: list[str] = []
    origin: list[int] = []
    ends: list[int] = []
    skip_to = -1
    index = _without_noise(text)[1] if drop_noise else None
    for i in (range(len(text)) if index is None else index):
        if i < skip_to:
            continue
        if i in respell:
            skip_to, ch = respell[i]
            chars.append(ch)
            origin.append(i)
            ends.append(skip_to)
            continue
        form = CHAR_FORMS[ord(text[i])]
        chars.append(form)
        origin.extend([i] * len(form))
        ends.extend([i + 1] * len(form))
    return MappedText("".join(chars), origin, ends)


# --- the vocabulary a phrase view spells out ---------------------------------------------------

class _Occurrence(NamedTuple):
    """A vocabulary word read in the syllable text at units [s, e)."""

    s: int
    e: int
    word: str
    exact: int
    homophones: int
    typed: int
    first_exact: bool

    @property
    def disguised(self) -> bool:
        return self.exact < self.e - self.s


def _keys(word: str) -> list[str]:
    """Syllable forms of ``word``: the default readings, and in-context ones (重 in 重合同)."""
    y = syllables_of(word)
    keys = [y]
    symbols = [tables().symbol(s) for s in contextual_readings(word)]
    if len(symbols) == len(word) and all(symbols):
        alt = "".join(s or "" for s in symbols)
        if alt != y:
            keys.append(alt)
    return keys


class Vocabulary:
    """Words whose disguised spellings the phrase view restores, keyed by their syllables."""

    def __init__(self, words: Iterable[str], anchors: Iterable[str] = (),
                 everyday: Iterable[str] = (), codes: re.Pattern[str] | None = None) -> None:
        self.words = tuple(dict.fromkeys(
            w for w in words if len(w) >= 2 and all(is_han(c) for c in w) and unit_text(w) == w))
        # Words that may vouch for a disguised neighbour (检测 for 豹告, 办理 for 仞证).
        self.anchors = frozenset(anchors) & frozenset(self.words)
        # Words in their own right that merely sound like one of the vocabulary (监测).
        self.everyday = frozenset(everyday)
        # Latin codes that vouch for the disguised word right after them (3C仞证, ISO9001认正).
        self.codes = codes
        by_key: dict[str, list[str]] = {}
        for w in self.words:
            for key in _keys(w):
                by_key.setdefault(key, []).append(w)
        self._automaton: Any = ahocorasick.Automaton()
        for key, words_ in by_key.items():
            self._automaton.add_word(key, (len(key), tuple(words_)))
        self._automaton.make_automaton()
        self._empty = not by_key

    def may_disguise(self, n: Normalized) -> bool:
        """Whether some word in ``n`` may be a disguised one (else no occurrence is).

        Cheap: most fields hold every word of theirs as the vocabulary spells it.
        """
        if self._empty:
            return False
        text = n.text
        for last, (length, words) in self._automaton.iter(n.y):
            if len(words) > 1 or text[last + 1 - length:last + 1] != words[0]:
                return True
        return False

    def occurrences(self, n: Normalized, breaks: set[int]) -> list[_Occurrence]:
        """Every vocabulary word in ``n``'s syllable text that does not cut a unit or a clause.

        ``breaks`` holds the units that follow a clause break.
        """
        if self._empty:
            return []
        out: list[_Occurrence] = []
        text = n.text
        for last, (length, words) in self._automaton.iter(n.y):
            e = last + 1
            s = e - length
            seg = text[s:e]
            if seg in self.everyday or not n.whole(s, e) \
                    or not breaks.isdisjoint(range(s + 1, e)):
                continue
            for w in words:
                if seg == w:
                    out.append(_Occurrence(s, e, w, length, 0, 0, True))
                    continue
                exact = homophones = typed = 0
                for a, b in zip(seg, w, strict=True):
                    if a == b:
                        exact += 1
                    elif is_symbol(a):
                        typed += 1
                    else:
                        homophones += 1
                out.append(_Occurrence(s, e, w, exact, homophones, typed, seg[0] == w[0]))
        return out


def _passes(parts: list[_Occurrence]) -> bool:
    """The engine's policy over adjacent words read as one phrase (检测+豹告, 仞证+办理)."""
    return policy_ok(sum(o.e - o.s for o in parts), sum(o.exact for o in parts),
                     sum(o.homophones for o in parts), sum(o.typed for o in parts),
                     parts[0].first_exact)


# A Latin code before a word counts as two exact units of the phrase they make.
_CODE = _Occurrence(0, 2, "", 2, 0, 0, True)


def _after_code(o: _Occurrence, n: Normalized, vocabulary: Vocabulary) -> bool:
    """Whether a code of the vocabulary's (3c, iso9001) is written right before ``o``."""
    if vocabulary.codes is None or o.s == 0 or n.gaps.at(o.s) & GAP_HARD:
        return False
    text = n.text
    lo = o.s
    while lo > 0 and ((text[lo - 1].isascii() and text[lo - 1].isalnum())
                      or is_symbol(text[lo - 1])) and not n.gaps.at(lo) & GAP_HARD:
        lo -= 1
    code = "".join(tables().syllable_of[c] if is_symbol(c) else c for c in text[lo:o.s])
    return bool(code) and vocabulary.codes.fullmatch(code) is not None


def _rank(o: _Occurrence) -> tuple[bool, int]:
    """Neighbours to try first: exact, then long."""
    return o.disguised, o.s - o.e


def _backed(o: _Occurrence, n: Normalized, vocabulary: Vocabulary,
            by_end: dict[int, list[_Occurrence]], by_start: dict[int, list[_Occurrence]],
            ) -> list[_Occurrence] | None:
    """``o`` with the neighbours that let it count, or None.

    A word passes on its own when the engine's policy allows its disguise (bao告,
    qiquan). Two characters with a homophone never do on their own (包裹 is not
    包过), but they do next to an anchor word of the vocabulary when the two
    together pass as one phrase, as the last part of a gapped lexicon pattern
    does in the engine: 检测豹告, 仞证办理, 证书琪全 (谨防包裹 stays as it is).
    """
    if _passes([o]):
        return [o]
    if _after_code(o, n, vocabulary) and _passes([_CODE, o]):
        return [o]
    anchors = vocabulary.anchors
    lefts = sorted((x for x in by_end.get(o.s, ())
                    if x.word in anchors and not n.gaps.at(o.s) & GAP_HARD), key=_rank)
    rights = sorted((x for x in by_start.get(o.e, ())
                     if x.word in anchors and not n.gaps.at(o.e) & GAP_HARD), key=_rank)
    for left in lefts:
        if _passes([left, o]):
            return [left, o]
    for right in rights:
        if _passes([o, right]):
            return [o, right]
    for left in lefts:
        for right in rights:
            if _passes([left, o, right]):
                return [left, o, right]
    return None


def _typed_runs(n: Normalized, units: Iterable[int]) -> dict[int, range]:
    """Unit → the run of typed letters it belongs to (dabaoguo: 4 units), for typed units."""
    text = n.text
    out: dict[int, range] = {}
    for u in units:
        if u in out:
            continue
        lo = u
        while lo > 0 and is_symbol(text[lo - 1]) and not n.gaps.at(lo):
            lo -= 1
        hi = u + 1
        while hi < len(text) and is_symbol(text[hi]) and not n.gaps.at(hi):
            hi += 1
        run = range(lo, hi)
        out.update(dict.fromkeys(run, run))
    return out


def _restorations(n: Normalized, vocabulary: Vocabulary, occurrences: list[_Occurrence],
                  ) -> dict[int, tuple[str, int]]:
    """Unit index → (the vocabulary's character, _PINYIN or _HOMOPHONE) for disguised words.

    Longer words first; a word that would give a unit another character than
    an accepted one is dropped. Typed letters count only when every syllable of
    their run is read as part of some word (baoguo in dabaoguohou is not 包过);
    dropping a word for that may leave another run partly read, so the check
    goes on until every run left is whole.
    """
    disguised = [o for o in occurrences if o.disguised]
    if not disguised:
        return {}
    by_end: dict[int, list[_Occurrence]] = {}
    by_start: dict[int, list[_Occurrence]] = {}
    for o in occurrences:
        by_end.setdefault(o.e, []).append(o)
        by_start.setdefault(o.s, []).append(o)
    restore: dict[int, tuple[str, int]] = {}
    members: list[list[int]] = []
    owner: dict[int, int] = {}
    for o in sorted(disguised, key=lambda o: (o.s - o.e, -o.exact, o.s)):
        group = _backed(o, n, vocabulary, by_end, by_start)
        if group is None:
            continue
        wanted = {u: x.word[u - x.s] for x in group for u in range(x.s, x.e)
                  if n.text[u] != x.word[u - x.s]}
        if any(u in restore and restore[u][0] != ch for u, ch in wanted.items()):
            continue
        for u, ch in wanted.items():
            if u not in restore:
                restore[u] = (ch, _PINYIN if is_symbol(n.text[u]) else _HOMOPHONE)
                owner[u] = len(members)
        members.append([u for u in wanted if owner.get(u) == len(members)])
    typed = [u for u, (_, kind) in restore.items() if kind == _PINYIN]
    runs = _typed_runs(n, typed)
    todo = list({runs[u].start: runs[u] for u in typed}.values())
    while todo:
        run = todo.pop()
        if all(u in restore for u in run):
            continue
        for g in {owner[u] for u in run if u in restore}:
            for u in members[g]:
                restore.pop(u, None)
                if u in runs:
                    todo.append(runs[u])
            members[g] = []
    return restore


# --- the phrase view -------------------------------------------------------------------------

@dataclass(slots=True)
class PhraseView(MappedText):
    """The text the phrase signals run on, with the evasions each character carried."""

    source: str = ""
    bits: dict[int, int] = field(default_factory=dict)  # view index -> _PINYIN|_HOMOPHONE|_REPEAT
    # Source start -> (source end, character) of each disguised character spelled out.
    respellings: dict[int, tuple[int, str]] = field(default_factory=dict)

    def evasions(self, start: int, end: int, extra: Iterable[str] = ()) -> tuple[str, ...]:
        """The spec's evasions seen in view slice [start, end), named as the engine names them.

        ``extra`` adds what only the matching pattern knows (initials).
        """
        a, b = self.span(start, end)
        flags = 0
        for c in self.source[a:b]:
            if c not in HARD_BREAKS:
                flags |= FLAG_TABLE[ord(c)]
        # Upper-case acronyms are how ISO and CE are written; mixed case (Iso) is a disguise.
        if flags & _CASE and not any(
                run != run.upper() and run != run.lower()
                for run in _LETTERS.findall(char_forms(self.source[a:b]))):
            flags &= ~_CASE
        # 三天 and 一站式 are plain Chinese; circled and capital numerals (③, 叁) are disguises.
        if flags & _NUMERAL and not any(
                FLAG_TABLE[ord(c)] & _NUMERAL and c not in _PLAIN_NUMERALS
                for c in self.source[a:b]):
            flags &= ~_NUMERAL
        bits = 0
        if self.bits:
            for i in range(start, end):
                bits |= self.bits.get(i, 0)
        if not (flags or bits or extra):
            return ()  # most matches: the seller wrote it plainly
        names = set(flag_names(flags)) | set(extra)
        if bits & _PINYIN:
            names.add("pinyin")
        if bits & _HOMOPHONE:
            names.add("homophone")
        if bits & _REPEAT:
            names.add("repeat")
        return tuple(sorted(names, key=_ORDER.index))


class _Builder:
    """Appends text with the source span of each character."""

    def __init__(self) -> None:
        self.pieces: list[str] = []
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.bits: dict[int, int] = {}
        self.last = ""  # the last character written

    def add(self, ch: str, a: int, b: int, bits: int = 0) -> None:
        if bits:
            self.bits[len(self.starts)] = bits
        self.pieces.append(ch)
        self.starts.append(a)
        self.ends.append(b)
        self.last = ch

    def extend(self, text: str, starts: list[int], ends: list[int]) -> None:
        if text:
            self.pieces.append(text)
            self.starts += starts
            self.ends += ends
            self.last = text[-1]

    @property
    def text(self) -> str:
        return "".join(self.pieces)


def _gaps(n: Normalized, ends: list[int],
          ) -> tuple[dict[int, tuple[str, int]], dict[int, tuple[int, int]]]:
    """The characters deleted between two units, by the unit after them: clause marks, and
    the source span of every other gap.

    A gap that holds a clause break gives a mark (mark, source offset): how strongly
    the seller ended the clause, a sentence (。), only a colon (:), else a comma,
    where the first break is. No word of the vocabulary runs across one. There
    are no gaps at the ends, nor inside a unit group (the space in 二 十四 is part
    of 24).
    """
    starts, source = n.starts, n.source
    marks: dict[int, tuple[str, int]] = {}
    others: dict[int, tuple[int, int]] = {}
    for u in compress(range(1, len(starts)), map(operator.gt, starts[1:], ends)):
        a, b = ends[u - 1], starts[u]
        if b - a == 1:  # most gaps: one space or one punctuation mark
            gap = source[a]
            if gap in HARD_BREAKS:
                marks[u] = ("。" if gap in _SENTENCE_ENDS else ":" if gap in _COLONS else "，", a)
            else:
                others[u] = (a, b)
            continue
        hard = [a + i for i, c in enumerate(source[a:b]) if c in HARD_BREAKS]
        if hard:
            mark = "。" if any(source[i] in _SENTENCE_ENDS for i in hard) else \
                ":" if all(source[i] in _COLONS for i in hard) else "，"
            marks[u] = (mark, hard[0])
        else:
            others[u] = (a, b)
    return marks, others


def _numeral(ch: str) -> str | None:
    """A Chinese numeral as the plain character the patterns spell (壹 → 一, 拾 → 十)."""
    if not is_han(ch) or not FLAG_TABLE[ord(ch)] & _NUMERAL:
        return None
    unit = UNIT_TABLE[ord(ch)]
    return _HAN_DIGITS[int(unit)] if unit.isdigit() else "十"


def _seams(n: Normalized, occurrences: list[_Occurrence],
           restore: dict[int, tuple[str, int]]) -> set[int]:
    """Collapsed repeats where one word ends and the next begins (认证证书 read as 认证书).

    The engine collapses repeats in its phrases too; the patterns here are
    written as Chinese is, so such a repeat is written twice again.
    """
    if n.repeat is None:
        return set()

    def reads(o: _Occurrence) -> bool:
        return all(restore.get(u, (n.text[u], 0))[0] == o.word[u - o.s] for u in range(o.s, o.e))

    # Nothing restored (most fields): a word reads as itself where it is spelled so.
    read = [o for o in occurrences if reads(o)] if restore \
        else [o for o in occurrences if n.text[o.s:o.e] == o.word]
    ends = {o.e - 1 for o in read}
    return {o.s for o in read if o.s in ends and n.repeat[o.s]}


_SYMBOLS = re.compile("[\ue000-\ue3ff]")  # typed syllables


@cache
def _han_numeral() -> re.Pattern[str]:
    return re.compile(f"[{han_numerals()}]")


def _special(n: Normalized, restore: dict[int, tuple[str, int]], seams: set[int]) -> set[int]:
    """Units the view does not copy as they are: restored, seams, typed letters, numerals.

    Numerals are the digits the seller wrote as Chinese (三, 叁, 二十四): the units
    that start at a Han numeral of the source.
    """
    special = set(restore) | seams
    special.update(m.start() for m in _SYMBOLS.finditer(n.text))
    starts, text = n.starts, n.text
    for m in _han_numeral().finditer(n.source):
        at = m.start()
        special.update(u for u in range(bisect_left(starts, at), bisect_right(starts, at))
                       if "0" <= text[u] <= "9")
    return special


_WORD_CHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def _spaces(n: Normalized, gaps: dict[int, tuple[int, int]], specials: set[int]) -> set[int]:
    """Gaps (with no clause break) that may put a space between two Latin words (ISO 9001).

    A unit copied as it is stands for its own character; what a special unit
    becomes is known only when it is written out, so those are kept too.
    """
    text = n.text
    return {u for u in gaps
            if (u in specials or text[u] in _WORD_CHARS)
            and (u - 1 in specials or text[u - 1] in _WORD_CHARS)}


def _unit_chars(n: Normalized, u: int, restore: dict[int, tuple[str, int]], seams: set[int],
                ) -> list[tuple[str, int, int, int]]:
    """What a special unit becomes in the view: (character, start, end, bits)."""
    a, b = n.starts[u], n.end(u)
    ch, kind = restore.get(u, (n.text[u], 0))
    if u in seams:
        return [(ch, a, a + 1, kind), (ch, b - 1, b, kind)]
    if kind:
        return [(ch, a, b, kind)]
    unit = n.text[u]
    if is_symbol(unit):
        letters = tables().syllable_of[unit]
        if b - a == len(letters):
            return [(c, a + i, a + i + 1, 0) for i, c in enumerate(letters)]
        return [(c, a, b, 0) for c in letters]
    if u > 0 and n.starts[u - 1] == a and n.end(u - 1) == b:
        return []  # the second digit of 二十四: the group was written out already
    out = []
    for i in range(a, b):
        han = _numeral(n.source[i])
        if han is not None:
            out.append((han, i, i + 1, 0))
        elif (unit_ := UNIT_TABLE[ord(n.source[i])]) and unit_.isdigit():
            out.append((unit_, i, i + 1, 0))
    return out or [(unit, a, b, 0)]


def phrase_view(source: str, vocabulary: Vocabulary,
                normalized: Normalized | None = None) -> PhraseView:
    """The engine's unit text of ``source`` as the phrase signals read it (see the module doc).

    ``normalized``: ``normalize(source)``, when the caller has it already.
    """
    if not source:
        return PhraseView("", [], [], source)
    n = normalize(source) if normalized is None else normalized
    ends = n.ends if n.ends is not None else [s + 1 for s in n.starts]
    marks, gaps = _gaps(n, ends)
    # Occurrences matter only for what they restore, and for seams between repeats.
    occurrences = vocabulary.occurrences(n, set(marks)) \
        if n.repeat is not None or vocabulary.may_disguise(n) else []
    restore = _restorations(n, vocabulary, occurrences)
    seams = _seams(n, occurrences, restore)
    specials = _special(n, restore, seams)
    spaces = _spaces(n, gaps, specials)
    out = _Builder()
    pos = 0
    for u in sorted(specials | marks.keys() | spaces):
        out.extend(n.text[pos:u], n.starts[pos:u], ends[pos:u])
        pieces = _unit_chars(n, u, restore, seams) if u in specials else None
        if u in marks:
            mark, at = marks[u]
            out.add(mark, at, at + 1)
        elif u in spaces:
            following = n.text[u] if pieces is None else pieces[0][0] if pieces else ""
            if following in _WORD_CHARS and out.last in _WORD_CHARS:
                out.add(" ", *gaps[u])
        if pieces is None:
            pos = u  # the unit itself goes with the next run
            continue
        for ch, a, b, bits in pieces:
            out.add(ch, a, b, bits)
        pos = u + 1
    out.extend(n.text[pos:], n.starts[pos:], ends[pos:])
    if n.repeat is not None:
        _mark_repeats(out, n)
    respellings = {n.starts[u]: (n.end(u), ch) for u, (ch, _) in restore.items()}
    return PhraseView(out.text, out.starts, out.ends, source, out.bits, respellings)


def respellings(source: str, vocabulary: Vocabulary,
                normalized: Normalized | None = None) -> dict[int, tuple[int, str]]:
    """:attr:`PhraseView.respellings` of ``source``, without the view when nothing is disguised."""
    if not source:
        return {}
    n = normalize(source) if normalized is None else normalized
    return phrase_view(source, vocabulary, n).respellings if vocabulary.may_disguise(n) else {}


def _mark_repeats(out: _Builder, n: Normalized) -> None:
    """Flag view characters whose source span held a collapsed repeat (当当天 → 当天)."""
    repeat = n.repeat or []
    spans = {(n.starts[u], n.end(u)) for u, r in enumerate(repeat) if r}
    for i, (a, b) in enumerate(zip(out.starts, out.ends, strict=True)):
        if (a, b) in spans:
            out.bits[i] = out.bits.get(i, 0) | _REPEAT


def span_evasions(text: str) -> tuple[str, ...]:
    """Evasions in an identifier as written (ＣＮＣＡ): width, invisible characters, look-alikes."""
    flags = 0
    for c in text:
        flags |= FLAG_TABLE[ord(c)]
    keep = Flag.WIDTH.value | Flag.INVISIBLE.value | Flag.LOOKALIKE.value
    return flag_names(flags & keep)
