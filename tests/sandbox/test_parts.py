"""Building blocks of the sandbox: identifiers, evasions, text drafts and pictures."""

from __future__ import annotations

from random import Random

import pytest

from sandbox.data import ImageSpec
from sandbox.drafts import OBJECT_KINDS, Draft, Trigger, fill, render
from sandbox.evasions import EVASION_KINDS, applicable, evade
from sandbox.identifiers import (
    corrupt_credit_code,
    credit_code_valid,
    make_cma_number,
    make_cnca_number,
    make_credit_code,
    malform_cnca_number,
)
from sandbox.images import draw_png
from sandbox.registry import REGISTRY


def test_credit_codes_follow_gb_32100() -> None:
    assert len(REGISTRY) == 34
    assert all(credit_code_valid(body.credit_code) for body in REGISTRY)
    assert credit_code_valid("11341602003165249U")  # the bureau's own code
    assert not credit_code_valid("11341602003165249X")
    rng = Random(5)
    for _ in range(200):
        code = make_credit_code(rng)
        assert credit_code_valid(code)
        assert not credit_code_valid(corrupt_credit_code(code, rng))


def test_generated_numbers_have_their_shapes() -> None:
    rng = Random(9)
    for _ in range(100):
        assert len(make_cma_number(rng)) == 12 and make_cma_number(rng).isdigit()
        number = make_cnca_number(rng)
        year = int(number.split("-")[2])
        assert number.startswith("CNCA-R-") and 2003 <= year <= 2019
        assert number not in {b.approval_no for b in REGISTRY}
        bad = malform_cnca_number("CNCA-R-2021-775", rng)
        assert bad.startswith("CNCA-R-") and bad != "CNCA-R-2021-775"
        _, _, y, serial = bad.split("-")
        assert len(y) != 4 or not 2 <= len(serial) <= 4


@pytest.mark.parametrize(("kind", "text", "expected"), [
    ("traditional", "当天出证", "當天出證"),
    ("initials", "当天出证", "dtcz"),
    ("width", "100%通过", "１００％通过"),
    ("case", "ISO9001", None),
    ("numeral", "3天拿证", None),
    ("synonym", "当天出证", None),
    ("homophone", "包过", None),
    ("pinyin", "确保通过", None),
    ("separator", "确保通过", None),
    ("invisible", "当天出证", None),
])
def test_each_evasion_changes_its_phrase(kind: str, text: str, expected: str | None) -> None:
    assert kind in applicable(text)
    changed, used = evade(text, [kind], Random(1))
    assert used == {kind}
    assert changed != text
    if expected is not None:
        assert changed == expected


def test_evasions_that_do_not_apply_leave_the_text_alone() -> None:
    assert {"width", "case", "numeral", "initials"}.isdisjoint(applicable("免审核"))
    text, used = evade("免审核", ["width", "case", "numeral"], Random(1))
    assert (text, used) == ("免审核", frozenset())
    assert set(applicable("当天出证")) >= {"traditional", "synonym", "pinyin", "initials"}
    assert set(EVASION_KINDS) >= applicable("国家AAA级信用企业认证") >= {"width", "case"}


def test_render_disguises_only_triggers_of_the_listings_categories() -> None:
    own = Trigger("当天出证", "fake_certificate")
    other = Trigger("ISO9001", "unlicensed_service", OBJECT_KINDS)
    draft = Draft(0, "agency", fill("{o}认证 {f}", o=other, f=own), [], {"fake_certificate"},
                  [], "1.00", 0, (0, 0, 0), wanted=("traditional", "width"))
    text, used = render(draft.title, draft, Random(0))
    assert text == "ISO9001认证 當天出證"
    assert used == {"traditional"}


def test_pictures_are_deterministic_pngs() -> None:
    spec = ImageSpec("sb-000001-1", (200, 220, 240), (40, 40, 40), "bottle")
    png = draw_png(spec)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert draw_png(spec) == png
    assert draw_png(ImageSpec("x", (200, 220, 240), (40, 40, 40), "circle")) != png
