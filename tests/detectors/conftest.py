"""Fixtures of the detection-engine tests: the shipped lexicon, compiled once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from detectors.automaton import CompiledLexicon, compile_lexicon
from detectors.engine import Engine, Match
from detectors.lexicon import load_lexicon

KEYWORDS = Path(__file__).resolve().parents[2] / "keywords"


@pytest.fixture(scope="session")
def compiled() -> CompiledLexicon:
    return compile_lexicon(load_lexicon(KEYWORDS))


@pytest.fixture(scope="session")
def engine(compiled: CompiledLexicon) -> Engine:
    return Engine(compiled)


@pytest.fixture
def keywords_copy(tmp_path: Path) -> Path:
    """A private copy of the shipped lexicon that a test may edit."""
    target = tmp_path / "keywords"
    shutil.copytree(KEYWORDS, target)
    return target


def categories(engine: Engine, text: str) -> set[str]:
    return {m.rule.entry.category for m in engine.scan(text)}


def only(engine: Engine, text: str, category: str) -> Match:
    """The single match of ``category`` in ``text`` (fails if there is none or several)."""
    found = [m for m in engine.scan(text) if m.rule.entry.category == category]
    assert len(found) == 1, f"{text!r}: {[(m.rule.entry.id, m.text) for m in found]}"
    return found[0]
