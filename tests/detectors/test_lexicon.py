"""Lexicon loading: validation errors name file and line; the version covers every file."""

from __future__ import annotations

from pathlib import Path

import pytest

from detectors.lexicon import load_lexicon
from detectors.patterns import Expander, PatternError, SlotRange
from jingwang.errors import ConfigError

ENTRY = """\
entries:
  - id: t.one
    category: fake_certificate
    phrases: [当天出证]
    legal_basis: [认证认可条例 第61条]
"""


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(directory: Path) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_lexicon(directory)
    return info.value


def test_shipped_lexicon_loads_with_legal_basis_on_every_rule(keywords_copy: Path) -> None:
    lx = load_lexicon(keywords_copy)
    assert len(lx.entries) >= 15
    assert {e.category for e in lx.entries} >= {
        "fake_certificate", "false_advertising", "national_prefix_misuse"}
    for e in lx.entries:
        assert e.legal_basis and all(ref in lx.legal_basis for ref in e.legal_basis)
    assert any("[verify]" in ref for e in lx.entries for ref in e.legal_basis)
    assert len(lx.version) == 12


def test_unknown_key_names_file_and_line(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", ENTRY + "    colour: red\n")
    err = error_of(tmp_path)
    assert err.path.endswith("a.yaml") and err.line == 6
    assert "unknown key" in str(err)


def test_bad_regex_names_file_and_line(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", ENTRY + "  - id: t.two\n    category: fake_certificate\n"
          "    regex: ['当天(出证']\n    legal_basis: [x]\n")
    err = error_of(tmp_path)
    assert err.line == 8 and "bad regex" in err.problem


def test_duplicate_id_across_files_names_both_places(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", ENTRY)
    write(tmp_path, "b.yaml", "\n\n" + ENTRY)
    err = error_of(tmp_path)
    assert err.path.endswith("b.yaml") and err.line == 4
    assert "duplicate id 't.one'" in err.problem and "a.yaml:2" in err.problem


def test_unknown_slot_and_unknown_legal_basis_are_errors(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", ENTRY.replace("phrases: [当天出证]", "patterns: ['{无此槽}出证']"))
    err = error_of(tmp_path)
    assert err.line == 4 and "unknown slot" in err.problem
    write(tmp_path, "a.yaml", "legal_basis: [广告法 第9条]\n" + ENTRY)
    err = error_of(tmp_path)
    assert err.line == 6 and "legal basis" in err.problem


def test_yaml_syntax_error_and_missing_key(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "entries:\n  - id: [unclosed\n")
    assert error_of(tmp_path).line is not None
    write(tmp_path, "a.yaml", ENTRY.replace("    legal_basis: [认证认可条例 第61条]\n", ""))
    err = error_of(tmp_path)
    assert "required" in err.problem and err.line == 2


def test_version_changes_with_any_file(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", ENTRY)
    first = load_lexicon(tmp_path).version
    write(tmp_path, "z.yaml", "slots:\n  x: [a]\n")
    assert load_lexicon(tmp_path).version != first


def test_pattern_expansion_marks_synonyms_and_splits_gaps() -> None:
    ex = Expander({"当天": ["当天", "今日"], "出证": ["出证", "下证"], "N": SlotRange(1, 2)})
    e = ex.expand("{当天}{|就}{出证}")
    texts = {v.text: v.synonym for v in e.parts[0]}
    assert texts["当天出证"] is False and texts["今日下证"] is True and texts["当天就出证"] is False
    gapped = ex.expand("{N}天{~0,3}{出证}")
    assert [v.text for v in gapped.parts[0]] == ["1天", "2天"] and gapped.gaps == ((0, 3),)
    for bad in ("{当天", "{~3}", "{当天}{x}", "{}", "{a{b}}"):
        with pytest.raises(PatternError):
            ex.expand(bad)
