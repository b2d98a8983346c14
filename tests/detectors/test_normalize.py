"""The normaliser: each fold, the offset map back to the original, and fast == slow."""

from __future__ import annotations

import pytest

from detectors.fold import char_forms
from detectors.normalize import (
    GAP_HARD,
    GAP_SPACE,
    KIND_TYPED,
    fast_forms,
    flag_names,
    normalize,
    unit_kind,
    unit_text,
)
from detectors.pinyin_tables import initials, segment, tables


@pytest.mark.parametrize(("source", "expected", "flags"), [
    ("當天出證", "当天出证", {"traditional"}),
    ("ｃｍａ２４", "cma24", {"width"}),
    ("ＣＭＡ", "cma", {"width", "case"}),
    ("Iso9001", "iso9001", {"case"}),
    ("③天 ❺天 二十四小时 两天", "3天5天24小时2天", {"numeral", "separator"}),
    ("当\u200b天\u2060出\ufeff证\u00ad", "当天出证", {"invisible"}),
    ("确✅保·通/过", "确保通过", {"separator"}),
    ("当当天天", "当天", set()),
    ("岀证", "出证", {"homophone"}),
    ("\u0456s\u043e", "iso", {"homophone"}),  # Cyrillic і and о posing as Latin
])
def test_folds(source: str, expected: str, flags: set[str]) -> None:
    n = normalize(source)
    assert n.text == expected
    assert set(flag_names(n.flags(0, len(source)))) == flags


def test_offsets_map_each_unit_to_its_original_characters() -> None:
    source = "ISO 當 天·出/證！"
    n = normalize(source)
    assert n.text == "iso当天出证"
    pieces = [source[n.starts[u]:n.end(u)] for u in range(len(n.text))]
    assert pieces == ["I", "S", "O", "當", "天", "出", "證"]
    start, end = n.span(3, 7)
    assert source[start:end] == "當 天·出/證"


def test_gaps_record_spaces_and_clause_breaks() -> None:
    n = normalize("包过，不过 退款。")
    assert n.text == "包过不过退款"
    assert n.gaps[2] & GAP_HARD
    assert n.gaps[4] & GAP_SPACE
    assert n.gaps[1] == 0
    assert n.gaps[1:3] == [0, n.gaps[2]]
    assert n.gap_before(6) & GAP_HARD  # after the last unit


def test_collapsed_and_merged_units_span_all_their_characters() -> None:
    n = normalize("二十四小时")
    assert n.text == "24小时"
    assert (n.starts[0], n.end(0)) == (0, 3)
    assert not n.whole(1, 4)  # 4小时 would cut 二十四
    assert not n.repeated(0, 4)
    assert normalize("天天").repeated(0, 1)


def test_typed_pinyin_becomes_syllables_split_at_spaces() -> None:
    n = normalize("dang天 jiaji出证 ISO")
    kinds = [unit_kind(ch) for ch in n.text]
    assert kinds[0] == KIND_TYPED
    assert n.y[0] == n.text[0] == tables().symbol_of["dang"]
    assert n.text.endswith("iso")  # not pinyin: stays letters
    jia, ji = n.text[2], n.text[3]
    assert unit_kind(jia) == unit_kind(ji) == KIND_TYPED
    assert normalize("ISO dang").text[-1] != "g"  # the space splits iso | dang


def test_syllable_form_makes_homophones_equal() -> None:
    assert fast_forms("当天出正").y == fast_forms("当天出证").y
    assert fast_forms("当天出正").text != fast_forms("当天出证").text


def test_segment_and_initials() -> None:
    assert segment("jiaji") == ("jia", "ji")
    assert segment("quanwei") == ("quan", "wei")
    assert segment("iso") is None
    assert segment("cma") is None
    assert initials(("dang", "tian", "chu", "zheng")) == "dtcz"


@pytest.mark.parametrize("source", [
    "", " ", "！！", "abc", "Ｄang天chu證 ③天 二十 一百二十 十", "a\u3000b \t\n c",
    "\ud800\udfff", "🇨🇳✅💯", "ℌ𝔢𝔩𝔩𝔬 ｱｲｳ ㈠㈡", "dtcz DTCZ-1 x9",
])
def test_fast_and_slow_forms_agree(source: str) -> None:
    fast = fast_forms(source)
    slow = normalize(source)
    assert (fast.text, fast.y) == (slow.text, slow.y)
    assert unit_text(source) == slow.text
    assert len(slow.starts) == len(slow.text) == len(slow.gaps)
    assert slow.ends is None or len(slow.ends) == len(slow.text)


def test_wide_text_takes_the_dict_tables() -> None:
    from detectors.fold import fold, is_wide

    assert not is_wide("当天出证 abc") and not is_wide("") and not is_wide("\uffff")
    assert is_wide("当天💯出证") and is_wide("\U00020000")
    assert fold("当💯天") == fold("当天") == "当天"  # the emoji is deleted either way
    assert normalize("确💯保💯通💯过").text == "确保通过"


def test_char_forms_fold_letters_only() -> None:
    """The certificate checks' folded view: width, traditional, look-alikes; nothing deleted."""
    assert char_forms("ＣＮＣＡ－Ｒ－２０２１ 發證機構：検測報吿①") == \
        "CNCA-R-2021 发证机构:检测报告1"
    assert char_forms("三天 Iso9001, 1.8L") == "三天 Iso9001, 1.8L"
