"""Shop plans: who sells in the sandbox, what each shop shows about itself, and how many listings.

The plan is fixed (counts per kind), so every seed yields the same mix and the
same share of violating listings; the seed picks names, numbers and texts.
"""

from __future__ import annotations

from dataclasses import dataclass
from random import Random

from sandbox import catalog as cat
from sandbox.identifiers import (
    corrupt_credit_code,
    make_cma_number,
    make_cnas_lab_number,
    make_cnca_number,
    make_credit_code,
    malform_cnca_number,
)
from sandbox.registry import REGISTRY


@dataclass(frozen=True, slots=True)
class ShopPlan:
    """A shop as generated, with the facts the ground truth depends on."""

    kind: str  # agency, report_sale, report_service, lab, cert_body, product, plain
    name: str
    brand: str
    credit_code: str | None
    license_text: str | None
    credential: str  # none, borrowed, malformed, own, unregistered, cma
    code_valid: bool  # False: the shown credit code fails its check
    listings: int
    group: str = ""  # product group, or the lab's field
    number: str | None = None  # the approval or CMA number it shows

    @property
    def public_kind(self) -> str:
        return "report_seller" if self.kind.startswith("report_") else self.kind


# (credential, listings) of the agency shops; every agency listing violates.
_AGENCIES = (("none", 6), ("none", 6), ("none", 5), ("none", 6), ("none", 5), ("borrowed", 5),
             ("borrowed", 5), ("malformed", 5), ("corrupt", 5), ("corrupt", 5))
_PRODUCT_GROUPS = ("appliance", "appliance", "appliance", "appliance", "toy", "toy", "cosmetic",
                   "cosmetic", "textile", "textile", "textile", "food_contact", "food_contact",
                   "food_contact", "food", "home")
PRODUCT_LISTINGS_PER_SHOP = 7
LAB_SHOPS, LAB_LISTINGS = 7, 5
BODY_SHOPS, BODY_LISTINGS = 6, 4
PLAIN_SHOPS, PLAIN_LISTINGS = 13, 7


class _Names:
    """Hands out brands and shop names without repeats."""

    def __init__(self, rng: Random) -> None:
        self.rng = rng
        self.brands = list(cat.BRANDS)
        rng.shuffle(self.brands)
        self.used: set[str] = set()

    def brand(self) -> str:
        if not self.brands:  # more shops than brands: reuse, the city keeps names apart
            self.brands = list(cat.BRANDS)
        return self.brands.pop()

    def name(self, templates: tuple[str, ...], brand: str) -> str:
        for _ in range(20):
            name = self.rng.choice(templates).format(brand=brand, city=self.rng.choice(cat.CITIES))
            if name not in self.used:
                self.used.add(name)
                return name
        name = f"{self.rng.choice(cat.CITIES)}{name}"
        self.used.add(name)
        return name


def _maybe_code(rng: Random, shown: float = 0.8) -> str | None:
    return make_credit_code(rng, individual=rng.random() < 0.2) if rng.random() < shown else None


def build_shops(rng: Random) -> list[ShopPlan]:
    """Every shop of the sandbox, in a fixed order of kinds (shuffled later with the listings)."""
    names = _Names(rng)
    bodies = list(REGISTRY)
    rng.shuffle(bodies)
    own_bodies, lent_bodies = bodies[:BODY_SHOPS], bodies[BODY_SHOPS:]
    shops: list[ShopPlan] = []

    for credential, count in _AGENCIES:
        brand = names.brand()
        name = names.name(cat.AGENCY_SHOP_NAMES, brand)
        code = _maybe_code(rng)
        scope = rng.choice((*cat.AGENCY_LICENSE, None))
        number: str | None = None
        license_text = scope
        if credential == "corrupt":
            code = corrupt_credit_code(make_credit_code(rng), rng)
            license_text = f"统一社会信用代码：{code}；{rng.choice(cat.AGENCY_LICENSE)}"
        elif credential == "borrowed":
            number = lent_bodies.pop().approval_no
            license_text = f"认证机构批准书编号：{number}" + (f"；{scope}" if scope else "")
        elif credential == "malformed":
            number = malform_cnca_number(rng.choice(bodies).approval_no, rng)
            license_text = f"认证机构批准书编号：{number}" + (f"；{scope}" if scope else "")
        shops.append(ShopPlan("agency", name, brand, code, license_text, credential,
                              credential != "corrupt", count, number=number))

    for i in range(6):
        brand = names.brand()
        sale = i < 3
        templates = cat.REPORT_SALE_SHOP_NAMES if sale else cat.REPORT_SERVICE_SHOP_NAMES
        license_text = (None if sale or rng.random() < 0.5
                        else "经营范围：商务信息咨询；企业管理咨询。")
        shops.append(ShopPlan("report_sale" if sale else "report_service",
                              names.name(templates, brand), brand, _maybe_code(rng, 0.6),
                              license_text, "none", True, 4))

    fields = list(range(len(cat.LAB_FIELDS)))
    rng.shuffle(fields)
    for i in range(LAB_SHOPS):
        brand = names.brand()
        cma = make_cma_number(rng)
        license_text = f"检验检测机构资质认定证书编号（CMA）：{cma}"
        if rng.random() < 0.5:
            license_text += f"；CNAS实验室认可编号：{make_cnas_lab_number(rng)}"
        shops.append(ShopPlan("lab", names.name(cat.LAB_NAMES, brand), brand,
                              make_credit_code(rng), license_text, "cma", True, LAB_LISTINGS,
                              group=str(fields[i]), number=cma))

    for body in own_bodies:
        license_text = (f"认证机构批准书编号：{body.approval_no}；统一社会信用代码："
                        f"{body.credit_code}；所在地：{body.region}")
        shops.append(ShopPlan("cert_body", body.name, body.name[:2], body.credit_code,
                              license_text, "own", True, BODY_LISTINGS, number=body.approval_no))
    for foreign, count in ((False, 2), (True, 1)):
        brand = names.brand()
        number = make_cnca_number(rng, foreign=foreign)
        template = cat.UNREGISTERED_BODY_NAMES[1 if foreign else 0]
        shops.append(ShopPlan("cert_body", names.name((template,), brand), brand,
                              make_credit_code(rng), f"认证机构批准书编号：{number}",
                              "unregistered", True, count, number=number))

    for group in _PRODUCT_GROUPS:
        brand = names.brand()
        license_text = rng.choice((None, None, "企业营业执照信息已公示。"))
        shops.append(ShopPlan("product", names.name(
            tuple("{brand}" + s for s in cat.PRODUCT_SHOP_SUFFIX[group]), brand), brand,
            _maybe_code(rng, 0.9), license_text, "none", True, PRODUCT_LISTINGS_PER_SHOP,
            group=group))

    plain_templates = tuple("{brand}" + s for s in cat.PLAIN_SHOP_SUFFIX)
    for _ in range(PLAIN_SHOPS):
        brand = names.brand()
        shops.append(ShopPlan("plain", names.name(plain_templates, brand), brand,
                              _maybe_code(rng, 0.5), None, "none", True, PLAIN_LISTINGS))
    # A product shop whose certificates show every field but whose credit code fails
    # its check: identifier_invalid and nothing else.
    brand, group = names.brand(), rng.choice(("appliance", "textile", "toy"))
    shops.append(ShopPlan("product", names.name(
        tuple("{brand}" + s for s in cat.PRODUCT_SHOP_SUFFIX[group]), brand), brand,
        corrupt_credit_code(make_credit_code(rng, individual=True), rng), None, "none", False,
        3, group=group))
    return shops
