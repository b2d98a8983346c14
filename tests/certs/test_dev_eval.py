"""Precision and recall of the three certificate categories on the labelled dev set.

Also on disguised copies of it (traditional characters, full-width forms,
separators between characters, typed pinyin and homophones in the words of
certificate talk): the spec's evasions must not move the result.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import opencc
import pytest

from detectors.pinyin_tables import tables
from jingwang.records import Detector, Listing
from tests.certs.helpers import categories, run, span_text

DEV = Path(__file__).resolve().parents[2].parent / "shared/eval/dev.jsonl"
CATEGORIES = ("missing_cert_fields", "unlicensed_service", "identifier_invalid")
FLOOR = 0.9

pytestmark = pytest.mark.skipif(not DEV.is_file(),
                                reason="shared/eval/dev.jsonl is not beside the repo")


def dev_rows() -> list[dict[str, Any]]:
    return [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def score(detectors: list[Detector], rows: list[dict[str, Any]]) -> dict[str, tuple[float, float]]:
    counts = {c: [0, 0, 0] for c in CATEGORIES}  # tp, fp, fn
    for data in rows:
        listing = Listing.from_dict(data)
        findings = run(detectors, listing)
        for finding in findings:
            assert span_text(listing, finding) == finding.text, (data["id"], finding)
        got, want = categories(findings), set(data["labels"])
        for category in CATEGORIES:
            if category in got or category in want:
                index = 0 if category in got and category in want else \
                    1 if category in got else 2
                counts[category][index] += 1
    result = {}
    for category, (tp, fp, fn) in counts.items():
        assert tp > 0, category
        result[category] = (tp / (tp + fp), tp / (tp + fn))
    return result


def test_precision_and_recall_on_dev(detectors: list[Detector]) -> None:
    for category, (precision, recall) in score(detectors, dev_rows()).items():
        assert precision >= FLOOR and recall >= FLOOR, (category, precision, recall)


def _traditional() -> Callable[[str], str]:
    converter = opencc.OpenCC("s2t")
    return converter.convert


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


def _separators(text: str) -> str:
    rng = random.Random(text)
    out = []
    for ch in text:
        out.append(ch)
        if "\u4e00" <= ch <= "\u9fff" and rng.random() < 0.3:
            out.append(rng.choice(["·", " ", "\u200b", "⭐", "/"]))
    return "".join(out)


# Words of certificate talk and a homophone sellers write for one of their characters.
_WORDS = ("证书", "报告", "检测", "认证", "办理", "代办", "齐全", "出具", "质检", "检验")
_HOMOPHONES = {"证": "正", "报": "豹", "认": "仞", "齐": "琪", "检": "捡", "办": "半"}


def _one_character(text: str, swap: Callable[[str], str]) -> str:
    """Each of _WORDS with one of its two characters (picked at random) swapped."""
    rng = random.Random(text)

    def sub(m: re.Match[str]) -> str:
        word = m.group()
        i = rng.randrange(2)
        return word[:i] + swap(word[i]) + word[i + 1:]

    return re.sub("|".join(_WORDS), sub, text)


def _pinyin(text: str) -> str:
    return _one_character(text, lambda ch: tables().default_syllable(ch) or ch)


def _homophones(text: str) -> str:
    return _one_character(text, lambda ch: _HOMOPHONES.get(ch, ch))


@pytest.mark.parametrize("disguise", ["traditional", "full_width", "separators", "pinyin",
                                      "homophones"])
def test_disguised_dev_set_scores_the_same(detectors: list[Detector], disguise: str) -> None:
    change = {"traditional": _traditional(), "full_width": _full_width,
              "separators": _separators, "pinyin": _pinyin,
              "homophones": _homophones}[disguise]
    rows = [{**row, "title": change(row["title"]), "description": change(row["description"])}
            for row in dev_rows()]
    for category, (precision, recall) in score(detectors, rows).items():
        assert precision >= FLOOR and recall >= FLOOR, (disguise, category, precision, recall)
