"""Identifier formats: check characters, shapes, extraction from text, and ``check-id``."""

from __future__ import annotations

import csv
import json

import pytest
from typer.testing import CliRunner

from detectors.certs.identifiers import (
    CREDIT_ALPHABET,
    IdKind,
    classify,
    credit_code_check,
    find_identifiers,
)
from jingwang.cli import app
from tests.certs.helpers import SEED_BODIES

BUREAU_CODE = "11341602003165249U"


def seed_codes() -> list[str]:
    with SEED_BODIES.open(encoding="utf-8") as f:
        return [row["credit_code"] for row in csv.DictReader(f)]


def test_seed_has_34_bodies_and_their_codes_pass() -> None:
    codes = seed_codes()
    assert len(codes) == 34
    for code in [*codes, BUREAU_CODE]:
        assert credit_code_check(code).valid, code


def test_every_single_character_substitution_is_rejected() -> None:
    codes = [*seed_codes(), BUREAU_CODE]
    checked = 0
    for code in codes:
        for position in range(18):
            for replacement in CREDIT_ALPHABET:
                if replacement == code[position]:
                    continue
                altered = code[:position] + replacement + code[position + 1:]
                assert not credit_code_check(altered).valid, (code, position, replacement)
                checked += 1
            for outside in "IOSVZ":  # letters GB 32100 leaves out of the alphabet
                altered = code[:position] + outside + code[position + 1:]
                assert not credit_code_check(altered).valid
    assert checked == len(codes) * 18 * 30


def test_credit_code_reason_names_the_expected_character() -> None:
    result = credit_code_check("91340100MA2MWXNG22")
    assert not result.valid
    assert result.expected == "1"
    assert "1" in result.reason and "GB 32100" in result.reason
    assert not credit_code_check("91340100MA2MWXNG2").valid  # 17 characters


@pytest.mark.parametrize(("code", "kind", "valid"), [
    ("CNCA-R-2002-001", IdKind.CNCA_R, True),
    ("CNCA-R-2021-775", IdKind.CNCA_R, True),
    ("CNCA-R-2022-1096", IdKind.CNCA_R, True),
    ("CNCA-R-2019-12", IdKind.CNCA_R, True),
    ("CNCA-RF-2003-27", IdKind.CNCA_RF, True),
    ("ＣＮＣＡ－Ｒ－２０２２－９９７", IdKind.CNCA_R, True),
    ("cnca-r-2022-997", IdKind.CNCA_R, True),
    ("CNCA-R-2022-10961", IdKind.CNCA_R, False),  # five-digit serial
    ("CNCA-R-2021-8", IdKind.CNCA_R, False),  # one-digit serial
    ("CNCA-R-2023-12A8", IdKind.CNCA_R, False),  # letter in the serial
    ("CNCA-R-21-0775", IdKind.CNCA_R, False),  # two-digit year
    ("CNCA-R-1998-101", IdKind.CNCA_R, False),  # before approvals began
    ("CNCA-RF-2003", IdKind.CNCA_RF, False),
    ("221212050366", IdKind.CMA, True),
    ("2006010165K", IdKind.CMA, True),  # older 11-character form
    ("224512050366", IdKind.CMA, False),  # authority 45 does not exist
    ("CNAS L12785", IdKind.CNAS_LAB, True),
    ("CNAS L1234", IdKind.CNAS_LAB, True),
    ("CNAS L123", IdKind.CNAS_LAB, False),
    ("CNAS C001-M", IdKind.CNAS_CB, True),
    ("CNAS C123-Q", IdKind.CNAS_CB, True),
    ("CNAS C12-M", IdKind.CNAS_CB, False),
    ("2022010705123456", IdKind.CCC, True),
    ("2022000705123456", IdKind.CCC, False),  # body code 00
    ("91510100MA66F7047N", IdKind.CREDIT_CODE, True),
    ("91510100MA66F7047M", IdKind.CREDIT_CODE, False),
    ("hello", IdKind.UNKNOWN, False),
])
def test_classify(code: str, kind: IdKind, valid: bool) -> None:
    result = classify(code)
    assert (result.kind, result.valid) == (kind, valid), result.reason
    assert result.reason


def test_find_identifiers_spans_point_into_the_original_text() -> None:
    text = ("认证机构批准号ＣＮＣＡ－Ｒ－２０２２－９９７，CMA证书编号：221212050366；"
            "统一社会信用代码：9134 0100 MA2M WXNG 21，CNAS L12785，3C证书编号2022010705123456")
    found = find_identifiers(text)
    by_kind = {m.kind: m for m in found}
    assert set(by_kind) == {IdKind.CNCA_R, IdKind.CMA, IdKind.CREDIT_CODE, IdKind.CNAS_LAB,
                            IdKind.CCC}
    assert text[by_kind[IdKind.CNCA_R].start:by_kind[IdKind.CNCA_R].end] == \
        "ＣＮＣＡ－Ｒ－２０２２－９９７"
    assert by_kind[IdKind.CNCA_R].code == "CNCA-R-2022-997"
    credit = by_kind[IdKind.CREDIT_CODE]
    assert text[credit.start:credit.end] == "9134 0100 MA2M WXNG 21"
    assert credit.code == "91340100MA2MWXNG21"


def test_unlabelled_numbers_are_not_taken_for_identifiers() -> None:
    # An 18-digit run may be an ID-card or order number; 12 digits without CMA may be anything.
    assert find_identifiers("订单号 340104199001011234 电话 221212050366") == []
    # A code with letters in its body and the credit-code shape is taken without a label.
    found = find_identifiers("公司代码91440300MA5H2CWU7A。")
    assert [m.kind for m in found] == [IdKind.CREDIT_CODE]


def test_malformed_approval_numbers_are_found_whole() -> None:
    for number in ("CNCA-R-2022-10961", "CNCA-R-2021-8", "CNCA-R-2023-12A8", "CNCA-R-21-0775"):
        text = f"批准号：{number}，可办理"
        [match] = find_identifiers(text)
        assert text[match.start:match.end] == number


def test_check_id_command_plain_and_json() -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["check-id", BUREAU_CODE, "CNCA-R-2021-775"])
    assert ok.exit_code == 0, ok.output
    assert "有效" in ok.output and "统一社会信用代码" in ok.output

    bad = runner.invoke(app, ["check-id", "--json", BUREAU_CODE, "CNCA-R-2021-8",
                              "91340100MA2MWXNG22"])
    assert bad.exit_code == 1
    rows = [json.loads(line) for line in bad.output.splitlines()]
    assert [r["code"] for r in rows] == [BUREAU_CODE, "CNCA-R-2021-8", "91340100MA2MWXNG22"]
    assert [r["valid"] for r in rows] == [True, False, False]
    assert [r["kind"] for r in rows] == ["credit_code", "cnca_r", "credit_code"]
    assert all(set(r) == {"code", "kind", "valid", "reason"} for r in rows)
