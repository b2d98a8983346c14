"""Listing drafts: text made of plain pieces and trigger phrases, rendered with evasions.

A :class:`Trigger` is a phrase that makes a listing violate one category. The
ground truth is decided on the draft; rendering may then disguise the triggers
of the listing's own categories, and records which evasions changed the text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from random import Random

from sandbox.evasions import EVASION_KINDS, applicable, evade

ALL_KINDS = frozenset(EVASION_KINDS)
# Claims like 质检报告齐全 and service words like 认证代办: disguised by form, not by meaning.
CLAIM_KINDS = frozenset({"separator", "invisible", "traditional", "pinyin", "homophone", "width",
                         "case"})
VERB_KINDS = frozenset({"separator", "invisible", "traditional", "pinyin"})
# Honorary 中国/国家 titles: synonyms (证书→报告) and initials would garble the title.
NATIONAL_KINDS = ALL_KINDS - {"synonym", "initials", "numeral"}
# ASCII names of what is certified (ISO9001, 3C, AAA): full width or another case.
OBJECT_KINDS = frozenset({"width", "case"})


@dataclass(frozen=True, slots=True)
class Trigger:
    """A phrase that puts the listing in ``category``; ``kinds`` are the evasions it may take."""

    text: str
    category: str
    kinds: frozenset[str] = ALL_KINDS

    def evasions(self) -> frozenset[str]:
        return self.kinds & applicable(self.text)


Piece = str | Trigger
_SLOT = re.compile(r"\{(\w+)\}")


def fill(template: str, **values: Piece | Sequence[Piece]) -> list[Piece]:
    """Split ``template`` at ``{name}`` slots and put the pieces in; plain text stays text."""
    pieces: list[Piece] = []
    for i, part in enumerate(_SLOT.split(template)):
        if i % 2 == 0:
            if part:
                pieces.append(part)
            continue
        value = values[part]
        if isinstance(value, (str, Trigger)):
            pieces.append(value)
        else:
            pieces.extend(value)
    return pieces


@dataclass(slots=True)
class Draft:
    """A listing before ids, shuffling and evasions."""

    shop: int  # index of the shop plan
    kind: str
    title: list[Piece]
    paragraphs: list[list[Piece]]
    categories: set[str]
    tags: list[str]
    price: str
    images: int
    color: tuple[int, int, int]
    hostile: bool = False
    wanted: tuple[str, ...] = ()  # evasion kinds chosen for this listing
    evasion_kinds: frozenset[str] = field(default_factory=frozenset)

    def triggers(self) -> list[Trigger]:
        """Triggers of the listing's own categories (only those may be disguised)."""
        pieces = [*self.title, *(p for para in self.paragraphs for p in para)]
        return [p for p in pieces if isinstance(p, Trigger) and p.category in self.categories]

    def evadable(self) -> list[str]:
        """Evasion kinds that would change at least one of its triggers, in spec order."""
        kinds: set[str] = set()
        for trigger in self.triggers():
            kinds |= trigger.evasions()
        return [k for k in EVASION_KINDS if k in kinds]


def render(pieces: Sequence[Piece], draft: Draft, rng: Random) -> tuple[str, set[str]]:
    """The text of ``pieces`` with the draft's evasions applied to its own triggers."""
    out: list[str] = []
    applied: set[str] = set()
    for piece in pieces:
        if isinstance(piece, str):
            out.append(piece)
            continue
        if piece.category in draft.categories and draft.wanted:
            kinds = [k for k in draft.wanted if k in piece.kinds]
            text, used = evade(piece.text, kinds, rng)
            out.append(text)
            applied |= used
        else:
            out.append(piece.text)
    return "".join(out), applied


def price_text(rng: Random, low: float, high: float) -> str:
    value = rng.uniform(low, high)
    return f"{int(value) + rng.choice((0.0, 0.9, 0.99, 0.5)):.2f}"


def pastel(rng: Random) -> tuple[int, int, int]:
    return (rng.randint(170, 250), rng.randint(170, 250), rng.randint(170, 250))


def with_days(phrase: str, rng: Random) -> str:
    return phrase.replace("{n}", str(rng.randint(2, 7)))


def issue_date(rng: Random) -> tuple[str, int, int]:
    year, month, day = rng.randint(2021, 2024), rng.randint(1, 12), rng.randint(1, 28)
    text = rng.choice((f"{year}年{month}月{day}日", f"{year}-{month:02d}-{day:02d}",
                       f"{year}.{month:02d}.{day:02d}"))
    return text, year, month
