"""Split a listing's text into plain and highlighted segments from finding spans."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Protocol


class Span(Protocol):
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...


@dataclass(frozen=True)
class Segment:
    text: str
    marks: tuple[Span, ...] = ()  # the findings covering this segment; empty = plain text


def segments(text: str, spans: Sequence[Span]) -> list[Segment]:
    """Cut ``text`` at every span boundary; each piece knows which spans cover it.

    Spans outside the text are clipped, so a bad offset can never break a page.
    """
    size = len(text)
    valid = [s for s in spans if 0 <= s.start < s.end and s.start < size]
    cuts = sorted({0, size, *(s.start for s in valid), *(min(s.end, size) for s in valid)})
    out: list[Segment] = []
    for left, right in pairwise(cuts):
        if left == right:
            continue
        covering = tuple(s for s in valid if s.start <= left and min(s.end, size) >= right)
        out.append(Segment(text[left:right], covering))
    return out
