"""Identifier generators for the sandbox: credit codes, approval, CMA, CCC and report numbers."""

from __future__ import annotations

from random import Random

CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

# Administrative division codes used in generated credit codes (six digits each).
REGION_CODES = ("340100", "340104", "340111", "340200", "330100", "330782", "320500",
                "440300", "440100", "441900", "350200", "370200", "410100", "420100",
                "510100", "310115", "110105")


def credit_check_char(first17: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters of a credit code."""
    pairs = zip(first17, _CREDIT_WEIGHTS, strict=True)
    total = sum(CREDIT_ALPHABET.index(ch) * w for ch, w in pairs)
    return CREDIT_ALPHABET[(31 - total % 31) % 31]


def credit_code_valid(code: str) -> bool:
    return (len(code) == 18 and all(ch in CREDIT_ALPHABET for ch in code)
            and credit_check_char(code[:17]) == code[17])


def _org_check_char(first8: str) -> str:
    # GB 11714: the organisation code inside a credit code carries its own check digit;
    # real codes pass it, so generated ones do too.
    total = sum((int(ch) if ch.isdigit() else ord(ch) - 55) * w
                for ch, w in zip(first8, _ORG_WEIGHTS, strict=True))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def make_credit_code(rng: Random, *, individual: bool = False) -> str:
    """A valid 统一社会信用代码 (an enterprise, or an individual business with ``individual``)."""
    head = "92" if individual else "91"
    region = rng.choice(REGION_CODES)
    body = "MA" + "".join(rng.choice(CREDIT_ALPHABET) for _ in range(6))
    org = body + _org_check_char(body)
    first17 = head + region + org
    return first17 + credit_check_char(first17)


def corrupt_credit_code(code: str, rng: Random) -> str:
    """The same code with a wrong check character, so the GB 32100 check fails."""
    wrong = [ch for ch in CREDIT_ALPHABET if ch != code[17]]
    return code[:17] + rng.choice(wrong)


def make_cnca_number(rng: Random, *, foreign: bool = False) -> str:
    """A well-formed approval number for a body outside the registry (years before 2020)."""
    year = rng.randint(2003, 2019)
    if foreign:
        return f"CNCA-RF-{year}-{rng.randint(10, 99)}"
    return f"CNCA-R-{year}-{rng.randint(1, 999):03d}"


def malform_cnca_number(number: str, rng: Random) -> str:
    """A CNCA-R look-alike that breaks the ``CNCA-R-YYYY-NNN`` shape."""
    _, _, year, serial = number.split("-")
    shapes = (
        f"CNCA-R-{year[2:]}-{serial}",          # two-digit year
        f"CNCA-R-{year}-{serial}{rng.randint(10, 99)}",  # five- or six-digit serial
        f"CNCA-R-{year}-{serial[-1]}",          # one-digit serial
        f"CNCA-R-{year[:3]}-{serial}",          # three-digit year
    )
    return rng.choice(shapes)


def make_cma_number(rng: Random) -> str:
    """A 12-digit CMA number: year, issuing authority, field, sector, four-digit serial."""
    return (f"{rng.randint(15, 23):02d}{rng.choice([0, *range(1, 32)]):02d}"
            f"{rng.randint(1, 9):02d}{rng.randint(1, 60):02d}{rng.randint(1, 9999):04d}")


def make_cnas_lab_number(rng: Random) -> str:
    return f"CNAS L{rng.randint(1000, 19999)}"


def make_ccc_number(rng: Random, year: int) -> str:
    """A 16-digit CCC certificate number issued by CQC (body code 01)."""
    category = rng.choice(("0701", "0702", "0710", "0801", "0901", "2202", "2203", "1101"))
    return f"{year}01{category}{rng.randint(0, 999999):06d}"


def make_report_number(rng: Random, year: int, month: int) -> str:
    prefix = rng.choice(("WT", "JH", "QT", "A", "TS", "HX"))
    serial = rng.randint(1, 9999)
    shapes = (
        f"{prefix}{year % 100:02d}{month:02d}{serial:04d}",
        f"{prefix}-{year}-{month:02d}-{serial:04d}",
        f"No.{prefix}{year}{month:02d}{serial:05d}",
    )
    return rng.choice(shapes)


def make_certificate_number(rng: Random, year: int, prefix: str) -> str:
    return f"{prefix}{year % 100:02d}{rng.randint(1, 99999):05d}"
