"""Character-level differences between two versions of a listing's text (Chinese has no
spaces, so words would be whole sentences)."""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher


@dataclass(frozen=True, slots=True)
class Piece:
    op: str  # "same", "added", "removed"
    text: str


def diff_text(old: str, new: str) -> list[Piece]:
    pieces: list[Piece] = []
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pieces.append(Piece("same", old[i1:i2]))
            continue
        if i2 > i1:
            pieces.append(Piece("removed", old[i1:i2]))
        if j2 > j1:
            pieces.append(Piece("added", new[j1:j2]))
    return pieces


def changed(pieces: list[Piece]) -> bool:
    return any(p.op != "same" for p in pieces)
