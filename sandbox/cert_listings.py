"""Listings whose certificate evidence is an image, with the ground truth an OCR reader must reach.

A fixed mix, appended after the text-only catalogue (so those listings stay
exactly as they were), with details chosen by a generator of its own seeded
from the catalogue's seed:

- products whose report or certificate picture shows every key field (clean),
  one of them with no claim in its text at all;
- pictures missing the issue date or the conclusion, and a product whose only
  certificate evidence is a picture without an issue date (missing_cert_fields);
- a report naming its lab with a credit code whose check character is wrong
  (identifier_invalid);
- certification agencies showing an approval page with a number the registry
  gives to another body (identifier_invalid), or a malformed number
  (identifier_invalid and unlicensed_service: a malformed number counts as none).

Text alone is misleading on purpose: without reading the pictures, the clean
report listings look like bare claims and the agencies look unlicensed. The
listings with a bad identifier in the picture belong to shops whose own credit
code already fails its check, so every shop's listings still agree on
identifier_invalid (the catalogue's invariant); the picture then decides the
rest (an approval number shown: not unlicensed; a complete report: no
missing fields).
"""

from __future__ import annotations

from random import Random

from sandbox import catalog as cat
from sandbox.certificates import (
    CONCLUSION,
    DATE,
    ISSUER,
    NUMBER,
    PRODUCT_MODEL,
    Document,
    DocumentImage,
    Line,
)
from sandbox.data import ImageSpec, SandboxListing
from sandbox.drafts import issue_date, pastel, price_text
from sandbox.identifiers import corrupt_credit_code, make_credit_code, malform_cnca_number
from sandbox.registry import REGISTRY
from sandbox.shops import ShopPlan
from sandbox.writers import INVALID, MISSING, UNLICENSED

_PAPER = (252, 250, 243)
_INK = (28, 28, 32)
# (scenario, count), in the order the listings are numbered.
MIX: tuple[tuple[str, int], ...] = (
    ("report_complete", 2), ("report_no_date", 1), ("report_no_conclusion", 1),
    ("cert_complete", 1), ("image_only_cert_no_date", 1), ("image_only_report", 1),
    ("report_bad_credit_code", 1), ("agency_borrowed", 2), ("agency_malformed", 1))
_TRUTH = {
    "report_complete": frozenset(), "report_no_date": frozenset({MISSING}),
    "report_no_conclusion": frozenset({MISSING}), "cert_complete": frozenset(),
    "image_only_cert_no_date": frozenset({MISSING}), "image_only_report": frozenset(),
    "report_bad_credit_code": frozenset({INVALID}), "agency_borrowed": frozenset({INVALID}),
    "agency_malformed": frozenset({INVALID, UNLICENSED}),
}


def _report_number(rng: Random, year: int, month: int) -> str:
    # Letters then digits only: a shape like WT-2023-05-… would read as an issue date.
    prefix = rng.choice(("WT", "JH", "QT", "TS", "HX", "BG"))
    return f"{prefix}{year % 100:02d}{month:02d}{rng.randint(1, 9999):04d}"


def report_document(rng: Random, item: cat.Product, model: str, lab: str, *,
                    drop: frozenset[str] = frozenset(),
                    lab_code: str | None = None) -> Document:
    """A test report; ``drop`` leaves key fields out, ``lab_code`` adds the lab's credit code."""
    date, year, month = issue_date(rng)
    lines = [
        Line("报告编号", _report_number(rng, year, month), NUMBER),
        Line(rng.choice(("样品名称及型号", "产品名称及规格型号")),
             f"{item.name} {model}（{item.spec}）", PRODUCT_MODEL),
        Line("检测机构", lab, ISSUER),
    ]
    if lab_code:
        lines.append(Line("统一社会信用代码", lab_code))
    lines += [
        Line("检测结论", f"所检项目符合{item.standard}要求，判定合格", CONCLUSION),
        Line(rng.choice(("签发日期", "报告日期")), date, DATE),
    ]
    return Document(rng.choice(("检验检测报告", "产品检测报告")),
                    tuple(line for line in lines if line.field not in drop), "report")


def certificate_document(rng: Random, item: cat.Product, model: str, body: str, *,
                         drop: frozenset[str] = frozenset()) -> Document:
    """A product certification certificate (number, product and model, body, date)."""
    date, year, _ = issue_date(rng)
    lines = (
        Line("证书编号", f"{rng.choice(('CP', 'PC', 'QP'))}{year % 100:02d}"
             f"{rng.randint(1, 99999):05d}", NUMBER),
        Line("产品名称及型号", f"{item.name} {model}", PRODUCT_MODEL),
        Line("发证机构", body, ISSUER),
        Line("发证日期", date, DATE),
    )
    return Document("产品认证证书", tuple(line for line in lines if line.field not in drop),
                    "certificate")


def approval_document(rng: Random, holder: str, number: str) -> Document:
    """An approval page an agency shows as its own (机构名称 + 批准书编号)."""
    date, _, _ = issue_date(rng)
    return Document("认证机构批准书", (
        Line("机构名称", holder), Line("批准书编号", number), Line("批准日期", date),
        Line("业务范围", "管理体系认证")), "approval")


def _product_listing(rng: Random, scenario: str, shop: ShopPlan, labs: list[str],
                     ) -> tuple[str, str, tuple[str, ...], Document]:
    item = rng.choice([p for p in cat.PRODUCTS if p.group == shop.group])
    model = f"{item.model_prefix}{rng.randint(100, 9999)}"
    base = f"{shop.brand}{item.name} {model} {item.spec}"
    feature = rng.choice(cat.PRODUCT_FEATURES).format(name=item.name, spec=item.spec)
    lab, body = rng.choice(labs), rng.choice(REGISTRY).name
    tags: tuple[str, ...] = (item.name, cat.GROUP_LABELS[item.group], "证书", "检测报告", "认证")
    if scenario.startswith("image_only"):
        title, claim = f"{base} {rng.choice(('新款', '热卖', '现货'))}", ""
        tags = (item.name, cat.GROUP_LABELS[item.group], "证书")
    elif scenario == "cert_complete":
        title, claim = f"{base} 产品认证", "本品已获产品认证，证书见商品图片。"
    else:
        title, claim = f"{base} 附检测报告", "检测报告见商品图片。"
    document: Document
    if scenario == "report_no_date":
        document = report_document(rng, item, model, lab, drop=frozenset({DATE}))
    elif scenario == "report_no_conclusion":
        document = report_document(rng, item, model, lab, drop=frozenset({CONCLUSION}))
    elif scenario == "report_bad_credit_code":
        bad = corrupt_credit_code(make_credit_code(rng), rng)
        document = report_document(rng, item, model, lab, lab_code=bad)
    elif scenario == "cert_complete":
        document = certificate_document(rng, item, model, body)
    elif scenario == "image_only_cert_no_date":
        document = certificate_document(rng, item, model, body, drop=frozenset({DATE}))
    else:
        document = report_document(rng, item, model, lab)
    paragraphs = [feature, claim, rng.choice(cat.SHIPPING)]
    return title, "\n".join(p for p in paragraphs if p), tags, document


def _agency_listing(rng: Random, scenario: str, shop: ShopPlan,
                    ) -> tuple[str, str, tuple[str, ...], Document]:
    obj, rest, tags = rng.choice(cat.AGENCY_SERVICES)
    lender = rng.choice(REGISTRY)
    number = lender.approval_no
    if scenario == "agency_malformed":
        number = malform_cnca_number(number, rng)
    title = f"{obj}{rest}咨询办理 {rng.choice(('正规流程', '一对一服务', '资料协助'))}"
    description = "\n".join((
        f"本公司提供{obj}{rest}咨询办理，认证机构批准书见图片。",
        "流程：提交企业资料，文件审核，现场审核，颁发证书。",
        rng.choice(cat.AGENCY_SCOPES) + "。"))
    return title, description, (*tags, "证书"), approval_document(rng, shop.name, number)


def certificate_listings(seed: int, plans: list[ShopPlan], shop_ids: dict[int, str],
                         first: int) -> tuple[list[SandboxListing], list[ImageSpec]]:
    """The image-evidence listings, numbered from ``first``, and their pictures."""
    rng = Random(f"certificate-listings-{seed}")
    products = [i for i, p in enumerate(plans) if p.kind == "product" and p.code_valid]
    bad_products = [i for i, p in enumerate(plans) if p.kind == "product" and not p.code_valid]
    bad_agencies = [i for i, p in enumerate(plans)
                    if p.kind == "agency" and p.credential == "corrupt"]
    labs = [p.name for p in plans if p.kind == "lab"]
    listings: list[SandboxListing] = []
    images: list[ImageSpec] = []
    specs: list[ImageSpec]
    number = first
    for scenario, count in MIX:
        for _ in range(count):
            listing_id = f"sb-{number:06d}"
            number += 1
            agency = scenario.startswith("agency")
            index = rng.choice(bad_agencies if agency else bad_products
                               if scenario == "report_bad_credit_code" else products)
            shop = plans[index]
            if agency:
                title, description, tags, document = _agency_listing(rng, scenario, shop)
                price = price_text(rng, 800, 6800)
                names = [f"{listing_id}-1"]
                specs = [DocumentImage(names[0], _PAPER, _INK, "document", document)]
                kind = "agency"
            else:
                title, description, tags, document = _product_listing(rng, scenario, shop, labs)
                price = price_text(rng, 29, 399)
                names = [f"{listing_id}-1", f"{listing_id}-2"]
                specs = [ImageSpec(names[0], pastel(rng), _INK, rng.choice(("box", "bottle"))),
                         DocumentImage(names[1], _PAPER, _INK, "document", document)]
                kind = "product"
            images += specs
            listings.append(SandboxListing(
                id=listing_id, shop_id=shop_ids[index], title=title, description=description,
                price=price, images=tuple(f"/img/{name}.png" for name in names), tags=tags,
                categories=_TRUTH[scenario] | (set() if shop.code_valid else {INVALID}),
                evasions=(), kind=kind))
    return listings, images
