"""Regexes that skip quickly over text where no match can start.

Python's ``re`` jumps ahead fast only when a pattern starts with a literal or a
character class. A pattern that starts with an alternation of words, an
optional prefix or a lookbehind (most of the certificate checks' patterns) is
tried alternative by alternative at every position of the text. :class:`Led`
searches such a pattern from a class of the characters its matches can start
with: the matches stay the same, and most positions cost a table look-up.

The characters are read from the parse tree ``re`` itself builds. Anything
the reader does not know (a negated class, ``.``, case-insensitive matching, a
pattern that may match the empty string) leaves the pattern to search as it is.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from typing import Any

try:  # CPython's own regex parser (``sre_parse`` before 3.11, deprecated since)
    _PARSER: Any = importlib.import_module("re._parser")
except ImportError:  # another Python: patterns stay as they are
    _PARSER = None

_ZERO_WIDTH = frozenset({"ASSERT", "ASSERT_NOT", "AT"})
_REPEATS = frozenset({"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"})
_CATEGORIES = {"CATEGORY_DIGIT": r"\d", "CATEGORY_SPACE": r"\s", "CATEGORY_WORD": r"\w"}


def _class_items(items: Any) -> list[str] | None:
    """Members of a character class as regex class items, or None when negated/unknown."""
    out = []
    for op, av in items:
        name = str(op)
        if name == "LITERAL":
            out.append(re.escape(chr(av)))
        elif name == "RANGE":
            out.append(f"{re.escape(chr(av[0]))}-{re.escape(chr(av[1]))}")
        elif name == "CATEGORY" and str(av) in _CATEGORIES:
            out.append(_CATEGORIES[str(av)])
        else:
            return None
    return out


def _first(items: Any) -> list[str] | None:
    """Class items for the first character of any match of a sequence.

    None when unknown, or when the sequence may match the empty string.
    """
    lead: list[str] = []
    for op, av in items:
        name = str(op)
        if name in _ZERO_WIDTH:
            continue  # a lookaround or an anchor consumes nothing
        if name == "LITERAL":
            return [*lead, re.escape(chr(av))]
        if name == "IN":
            members = _class_items(av)
            return None if members is None else [*lead, *members]
        if name == "BRANCH":
            for alternative in av[1]:
                sub = _first(alternative)
                if sub is None:
                    return None
                lead += sub
            return lead
        if name == "SUBPATTERN":
            _group, add_flags, del_flags, sub_items = av
            sub = _first(sub_items) if not (add_flags or del_flags) else None
            return None if sub is None else [*lead, *sub]
        if name in _REPEATS:
            low, _high, sub_items = av
            sub = _first(sub_items)
            if sub is None:
                return None
            lead += sub
            if low > 0:
                return lead
            continue  # optional: the next item may come first
        return None
    return None


def lead_class(pattern: re.Pattern[str]) -> str | None:
    """A character class every match of ``pattern`` starts with, or None."""
    if _PARSER is None or pattern.flags & ~re.UNICODE:
        return None
    try:
        lead = _first(_PARSER.parse(pattern.pattern, pattern.flags))
    except Exception:  # a parser of another shape: do without
        return None
    return None if not lead else "[" + "".join(dict.fromkeys(lead)) + "]"


class Led:
    """``pattern``, searched only from the characters its matches can start with.

    The search runs a second pattern that matches one such character where
    ``pattern`` matches too (a lookbehind steps back over it, a lookahead tries
    ``pattern`` there): as it starts with a character class, the engine skips
    to the next candidate in a tight loop instead of trying every position.
    """

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        self._starts: re.Pattern[str] | None = None
        lead = lead_class(pattern)
        if lead is not None:
            try:
                self._starts = re.compile(f"{lead}(?<=(?={pattern.pattern})[\\s\\S])",
                                          pattern.flags)
            except re.error:  # the pattern cannot stand in a lookbehind: search it as it is
                self._starts = None

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        """The matches ``pattern.finditer(text)`` yields (none of them is empty)."""
        if self._starts is None:
            yield from self.pattern.finditer(text)
            return
        end = 0
        for start in self._starts.finditer(text):
            if start.start() >= end:
                match = self.pattern.match(text, start.start())
                if match is not None:  # always: the lookahead just matched it there
                    yield match
                    end = match.end()

    def search(self, text: str) -> re.Match[str] | None:
        """``pattern.search(text)``."""
        if self._starts is None:
            return self.pattern.search(text)
        start = self._starts.search(text)
        return None if start is None else self.pattern.match(text, start.start())
