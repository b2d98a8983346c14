"""Listing writers, one per kind of seller; each decides its listing's categories by the spec.

The rules of "How the categories combine" live here: an agency without a
well-formed approval number is ``unlicensed_service``; a borrowed number is
``identifier_invalid`` instead; a malformed one is both; selling ready-made
reports is ``fake_certificate`` alone; a lab or body that shows its number gets
only the categories of the claims it makes.
"""

from __future__ import annotations

from random import Random

from jingwang.records import Category
from sandbox import catalog as cat
from sandbox import phrases
from sandbox.drafts import (
    NATIONAL_KINDS,
    OBJECT_KINDS,
    VERB_KINDS,
    Draft,
    Piece,
    Trigger,
    fill,
    pastel,
    price_text,
    with_days,
)
from sandbox.shops import ShopPlan

FAKE = Category.FAKE_CERTIFICATE.value
FALSE = Category.FALSE_ADVERTISING.value
NATIONAL = Category.NATIONAL_PREFIX_MISUSE.value
MISSING = Category.MISSING_CERT_FIELDS.value
UNLICENSED = Category.UNLICENSED_SERVICE.value
INVALID = Category.IDENTIFIER_INVALID.value


def shop_categories(shop: ShopPlan, *, offers_service: bool) -> set[str]:
    """Categories every listing of ``shop`` gets from what the shop shows about itself."""
    cats = set() if shop.code_valid else {INVALID}
    if not offers_service:
        return cats
    if shop.credential == "borrowed":
        cats.add(INVALID)  # a well-formed number counts as shown
    elif shop.credential == "malformed":
        cats |= {INVALID, UNLICENSED}  # a malformed number counts as no number
    elif shop.credential not in ("own", "unregistered", "cma"):
        cats.add(UNLICENSED)
    return cats


def _service(svc: tuple[str, str, tuple[str, ...]], verb: str, *, verb_first: bool,
             ) -> list[Piece]:
    """``ISO9001质量管理体系认证代办`` with the object and the service words as triggers."""
    obj, rest, _ = svc
    head: list[Piece] = [Trigger(obj, UNLICENSED, OBJECT_KINDS)] if obj else []
    if verb_first:
        return [Trigger(verb, UNLICENSED, VERB_KINDS), *head, rest]
    return [*head, rest[:-2], Trigger("认证" + verb, UNLICENSED, VERB_KINDS)]


def agency(rng: Random, index: int, shop: ShopPlan, hooks: tuple[str, ...]) -> Draft:
    """A certification agent: a service with no credentials of its own, maybe with claims."""
    cats = shop_categories(shop, offers_service=True)
    if "national" in hooks:
        national = Trigger(rng.choice(phrases.NATIONAL_SERVICE), NATIONAL, NATIONAL_KINDS)
        verb = rng.choice(("办理", "代办"))
        title_svc: list[Piece] = [national, Trigger(verb, UNLICENSED, VERB_KINDS)]
        desc_svc: list[Piece] = [Trigger(verb, UNLICENSED, VERB_KINDS), national]
        tags = ["认证", "证书", "信用", "荣誉"] + (["AAA"] if "AAA" in national.text else [])
        cats.add(NATIONAL)
    else:
        svc = rng.choice(cat.AGENCY_SERVICES)
        verb = rng.choice(cat.AGENCY_VERBS)
        title_svc = _service(svc, verb, verb_first=rng.random() < 0.3)
        desc_svc = _service(svc, rng.choice(("代办", "办理")), verb_first=True)
        tags = [*svc[2], "代办"]
    hook_pieces: list[Trigger] = []
    hook_paras: list[list[Piece]] = []
    if "fake" in hooks:
        fake = Trigger(rng.choice(phrases.FAKE_CERT_SERVICE), FAKE)
        hook_pieces.append(fake)
        hook_paras.append(fill("{h}，{t}。", h=fake, t=rng.choice(cat.FAKE_TAILS)))
        cats.add(FAKE)
    if "false" in hooks:
        false = Trigger(with_days(rng.choice(phrases.FALSE_CERT), rng), FALSE)
        hook_pieces.append(false)
        hook_paras.append(fill("{h}，{t}。", h=false, t=rng.choice(cat.FALSE_TAILS)))
        cats.add(FALSE)
    hook: list[Piece] = []
    for piece in hook_pieces:
        hook += [piece, " "]
    tail = rng.choice(cat.AGENCY_TAILS)
    template = rng.choice(("{svc} {hook}{tail}", "{svc}，{hook}{tail}",
                           "【{city}】{svc} {hook}{tail}", "{svc} {tail} {hook}"))
    title = fill(template, svc=title_svc, hook=hook, tail=tail,
                 city=rng.choice(cat.CITIES))
    intro = fill("本店专业{svc}，{scope}。", svc=desc_svc, scope=rng.choice(cat.AGENCY_SCOPES))
    paragraphs = [intro, *hook_paras]
    if shop.number and rng.random() < 0.7:
        paragraphs.append([f"我司认证机构批准书编号：{shop.number}，官网可查。"])
    if not shop.code_valid and shop.credit_code and rng.random() < 0.5:
        paragraphs.append([f"统一社会信用代码：{shop.credit_code}。"])
    paragraphs.append([rng.choice(cat.AGENCY_PROCESS)])
    paragraphs.append([rng.choice(cat.AGENCY_CONTACT)])
    price = "1.00" if rng.random() < 0.2 else price_text(rng, 800, 6800)
    return Draft(index, "agency", _strip(title), paragraphs, cats, tags, price,
                 rng.choice((0, 0, 1)), pastel(rng))


def report_sale(rng: Random, index: int, shop: ShopPlan) -> Draft:
    """Ready-made reports traded as goods: ``fake_certificate`` alone."""
    product = rng.choice(cat.PRODUCTS)
    rtype = rng.choice(cat.REPORT_TYPES)
    sale = Trigger(rng.choice(phrases.FAKE_SALE), FAKE)
    template = rng.choice(("{p}{r} {sale} {extra}", "{sale} {p}{r} {extra}",
                           "各类产品{r} {sale} {extra}"))
    title = fill(template, p=product.name, r=rtype, sale=sale, extra=rng.choice(cat.REPORT_EXTRAS))
    others = rng.sample([p.name for p in cat.PRODUCTS if p != product], 2)
    paragraphs = [fill("店内现有{a}、{b}、{c}等产品的{r}，{sale}。", a=product.name, b=others[0],
                       c=others[1], r=rtype, sale=sale)]
    if rng.random() < 0.5:
        second = Trigger(rng.choice([p for p in phrases.FAKE_SALE if p != sale.text]), FAKE)
        paragraphs.append(fill("{s}，价格实惠。", s=second))
    paragraphs.append([rng.choice(cat.REPORT_SALE_NOTES)])
    cats = {FAKE} | shop_categories(shop, offers_service=False)
    return Draft(index, "report_seller", title, paragraphs, cats,
                 ["检测报告", "报告", rtype, product.name], price_text(rng, 20, 300),
                 rng.choice((0, 1)), pastel(rng))


def report_service(rng: Random, index: int, shop: ShopPlan, hooks: tuple[str, ...]) -> Draft:
    """Reports obtained for a client without testing or with promises: a service, unlicensed."""
    product = rng.choice(cat.PRODUCTS)
    rtype = rng.choice(cat.REPORT_TYPES)
    verb = Trigger(rng.choice(("代办", "办理", "出具")), UNLICENSED, VERB_KINDS)
    cats = shop_categories(shop, offers_service=True)
    hook: list[Piece] = []
    hook_paras: list[list[Piece]] = []
    if "fake" in hooks:
        fake = Trigger(rng.choice(phrases.FAKE_REPORT_SERVICE), FAKE)
        hook += [fake, " "]
        hook_paras.append(fill("{h}，{t}。", h=fake, t=rng.choice(cat.FAKE_TAILS)))
        cats.add(FAKE)
    if "false" in hooks:
        false = Trigger(with_days(rng.choice(phrases.FALSE_REPORT), rng), FALSE)
        hook += [false, " "]
        hook_paras.append(fill("{h}，{t}。", h=false, t=rng.choice(cat.FALSE_TAILS)))
        cats.add(FALSE)
    template = rng.choice(("{p}{r}{verb} {hook}{extra}", "{verb}各类产品{r} {hook}{extra}",
                           "电商入驻{r}{verb} {hook}{extra}"))
    title = fill(template, p=product.name, r=rtype, verb=verb, hook=hook,
                 extra=rng.choice(cat.REPORT_EXTRAS))
    paragraphs: list[list[Piece]] = [
        fill("专业{verb}{r}，适用于电商平台入驻、招投标、商超进场。", verb=verb, r=rtype),
        *hook_paras, [rng.choice(cat.REPORT_SERVICE_NOTES)]]
    return Draft(index, "report_seller", title, paragraphs, cats,
                 ["检测报告", "质检报告", rtype, product.name], price_text(rng, 50, 800),
                 rng.choice((0, 1)), pastel(rng))


def _claim(rng: Random, category: str, bank: tuple[str, ...]) -> Trigger:
    return Trigger(with_days(rng.choice(bank), rng), category)


def lab(rng: Random, index: int, shop: ShopPlan, claim: str | None) -> Draft:
    """A testing lab showing its CMA number; clean unless it makes a banned claim."""
    field, items = cat.LAB_FIELDS[int(shop.group)]
    item = rng.choice(items)
    cma = "ＣＭＡ" if rng.random() < 0.1 else "CMA"
    template = rng.choice(("{f}检测 {cma}资质 可出具检测报告",
                           "{f}{i}检测 第三方实验室 出具{cma}报告", "{f}检测服务 正规实验室 {i}"))
    title = fill(template, f=field, i=item, cma=cma)
    paragraphs: list[list[Piece]] = []
    if rng.random() < 0.6:
        paragraphs.append([f"{shop.name}具备检验检测机构资质认定（CMA），证书编号{shop.number}。"])
    else:
        paragraphs.append([f"本实验室提供{field}{item}等项目检测，报告加盖{cma}章。"])
    cats: set[str] = set()
    if claim:
        trigger = (_claim(rng, FAKE, ("当天出报告", "当天出检测报告", "免送样", "无需寄样"))
                   if claim == "fake" else _claim(rng, FALSE, ("检测包过", "急速出报告", "包通过")))
        title += [" ", trigger]
        paragraphs.append(fill("{c}，{t}。", c=trigger, t=rng.choice(cat.FALSE_TAILS)))
        cats.add(trigger.category)
    else:
        days = rng.choice((10, 12, 15, 20))
        paragraphs.append([rng.choice(cat.LAB_PROCESS).format(days=days)])
        if rng.random() < 0.4:
            paragraphs.append([rng.choice(phrases.NEGATIONS)])
    paragraphs.append(["价格按检测项目核算，下单前请联系客服确认项目。"])
    return Draft(index, "lab", title, paragraphs, cats, ["检测报告", "检测", "CMA", field],
                 price_text(rng, 300, 3000), rng.choice((0, 1)), pastel(rng))


def cert_body(rng: Random, index: int, shop: ShopPlan, claim: str | None) -> Draft:
    """A certification body showing its own approval number; clean unless it makes a claim."""
    obj, rest, tags = rng.choice(cat.BODY_SERVICES)
    template = rng.choice(("{o}{r} 认证机构受理 现场审核", "{o}{r}服务 批准号{n}",
                           "{o}{r} 正规认证机构"))
    title = fill(template, o=obj, r=rest, n=shop.number or "")
    paragraphs: list[list[Piece]] = []
    if rng.random() < 0.7:
        paragraphs.append([f"{shop.name}是经认监委批准的认证机构，批准书编号{shop.number}。"])
    else:
        paragraphs.append([f"本机构受理{obj}{rest}申请，审核员具备相应注册资格。"])
    cats: set[str] = set()
    if claim:
        trigger = (_claim(rng, FAKE, ("免现场审核", "不到现场", "只需营业执照照片"))
                   if claim == "fake" else
                   _claim(rng, FALSE, ("加急认证", "认证包过", "快捷认证", "{n}天出证")))
        title += [" ", trigger]
        paragraphs.append(fill("{c}，{t}。", c=trigger, t=rng.choice(cat.FALSE_TAILS)))
        cats.add(trigger.category)
    else:
        days = rng.choice((30, 45, 60))
        paragraphs.append([rng.choice(cat.BODY_PROCESS).format(days=days)])
        if rng.random() < 0.4:
            paragraphs.append([rng.choice(phrases.NEGATIONS)])
    paragraphs.append(["认证费用按企业人数和场所核算，欢迎来电咨询。"])
    return Draft(index, "cert_body", title, paragraphs, cats, list(tags),
                 price_text(rng, 3000, 20000), 0, pastel(rng))


def _strip(pieces: list[Piece]) -> list[Piece]:
    """Drop trailing spaces left by an empty slot at the end of a title."""
    while pieces and isinstance(pieces[-1], str) and not pieces[-1].strip():
        pieces.pop()
    if pieces and isinstance(pieces[-1], str):
        pieces[-1] = pieces[-1].rstrip()
    return pieces


def plain(rng: Random, index: int, shop: ShopPlan) -> Draft:
    """An ordinary product that never mentions a certificate (maybe with look-alike phrases)."""
    item = rng.choice(cat.PLAIN_ITEMS)
    prefix = "3C数码配件 " if "3C数码" in item.tags and rng.random() < 0.6 else ""
    extra = rng.choice(("当天发货", "快速发货", "确保质量", "包邮", "现货", "", ""))
    title: list[Piece] = [f"{prefix}{shop.brand}{item.name} {item.feature} {extra}".strip()]
    paragraphs: list[list[Piece]] = [[f"{item.name}，{item.feature}。"]]
    paragraphs += [[d] for d in rng.sample(cat.PLAIN_DETAILS, 2)]
    if rng.random() < 0.5:
        paragraphs.append([rng.choice(phrases.LOOKALIKES)])
    paragraphs.append([rng.choice(cat.SHIPPING)])
    cats = shop_categories(shop, offers_service=False)
    return Draft(index, "plain", title, paragraphs, cats, [*item.tags, item.name],
                 price_text(rng, *item.price), rng.choice((1, 1, 2)), item.color)
