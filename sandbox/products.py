"""Product listings that show (or only claim) a certificate or test report for the goods.

Key fields of the spec: issuing/testing body, issue date, certificate/report
number, conclusion (reports only), product name and model. All shown → clean
(national schemes such as CCC included); any core field missing or a bare
claim → ``missing_cert_fields``; an honorary 中国/国家 certificate →
``national_prefix_misuse`` on top of whatever its fields say.
"""

from __future__ import annotations

from random import Random

from sandbox import catalog as cat
from sandbox import phrases
from sandbox.drafts import (
    CLAIM_KINDS,
    NATIONAL_KINDS,
    Draft,
    Piece,
    Trigger,
    fill,
    issue_date,
    price_text,
)
from sandbox.identifiers import make_ccc_number, make_certificate_number, make_report_number
from sandbox.shops import ShopPlan
from sandbox.writers import MISSING, NATIONAL, shop_categories

CLEAN_MODES = ("report", "cert", "none")
VIOLATING_MODES = ("missing_claim", "missing_partial", "national_missing", "national_complete")

_SCHEME_HEADERS = {
    "ccc": ("【3C认证】本品已获中国强制性产品认证（CCC）。", "中国强制性产品认证证书信息："),
    "organic": ("【有机认证】本品已获中国有机产品认证。", "中国有机产品认证证书信息："),
    "green": ("本品已获中国绿色产品认证。", "中国绿色产品认证证书信息："),
    "eco": ("本品已获中国环境标志（十环）认证。", "中国环境标志产品认证证书信息："),
}
_TITLE_NOTES = {"report": ("附检测报告", "有检测报告", ""), "ccc": ("3C认证", "CCC认证", ""),
                "organic": ("有机认证", ""), "green": ("绿色产品认证", ""), "eco": ("十环认证", "")}


def _join(fields: list[str], header: str, rng: Random) -> list[list[Piece]]:
    """One paragraph with semicolons, or one paragraph per field."""
    if rng.random() < 0.6:
        return [[header + "；".join(fields) + "。"]]
    paragraphs: list[list[Piece]] = [[header]]
    paragraphs += ([f + "。"] for f in fields)
    return paragraphs


def report_block(rng: Random, name: str, model: str, spec: str, standard: str, lab: str,
                 drop: frozenset[str] = frozenset()) -> list[list[Piece]]:
    date, year, month = issue_date(rng)
    fields = {
        "body": f"{rng.choice(('检测机构', '检验机构', '承检机构'))}：{lab}",
        "number": f"{rng.choice(('报告编号', '报告号'))}：{make_report_number(rng, year, month)}",
        "date": f"{rng.choice(('签发日期', '报告签发日期', '签发时间'))}：{date}",
        "model": (f"{rng.choice(('样品名称及型号', '产品名称及规格型号', '商品名称及型号'))}："
                  f"{name} {model}（{spec}）"),
        "conclusion": rng.choice(("检测结论：合格", f"检验结论：所检项目符合{standard}要求",
                                  f"检测结论：符合{standard}，判定合格")),
    }
    header = rng.choice(("【检测报告】", "检测报告信息：", "产品检测报告——"))
    return _join([v for k, v in fields.items() if k not in drop], header, rng)


def cert_block(rng: Random, scheme: str, name: str, model: str, body: str,
               drop: frozenset[str] = frozenset()) -> list[list[Piece]]:
    date, year, _ = issue_date(rng)
    if scheme == "ccc":
        number, body = make_ccc_number(rng, year), "中国质量认证中心"
    elif scheme == "organic":
        number = f"{rng.randint(100, 299)}OP{year % 100:02d}{rng.randint(1, 99999):05d}"
    elif scheme == "eco":
        number, body = make_certificate_number(rng, year, "CEC"), "中环联合（北京）认证中心有限公司"
    else:
        number = make_certificate_number(rng, year, "GP")
    fields = {
        "number": f"证书编号：{number}",
        "body": f"{rng.choice(('发证机构', '认证机构', '颁发机构'))}：{body}",
        "date": f"{rng.choice(('发证日期', '颁发日期'))}：{date}",
        "model": f"{rng.choice(('产品名称及型号', '产品名称及规格型号'))}：{name} {model}",
    }
    return _join([v for k, v in fields.items() if k not in drop],
                 rng.choice(_SCHEME_HEADERS[scheme]), rng)


def product(rng: Random, index: int, shop: ShopPlan, mode: str, labs: list[str],
            bodies: list[str]) -> Draft:
    """A product of the shop's group; ``mode`` says what it shows about its certificate."""
    item = rng.choice([p for p in cat.PRODUCTS if p.group == shop.group])
    model = f"{item.model_prefix}{rng.randint(100, 9999)}"
    shown_model = item.spec if item.group == "food" else model
    base = f"{shop.brand}{item.name} {model} {item.spec}"
    feature = rng.choice(cat.PRODUCT_FEATURES).format(name=item.name, spec=item.spec)
    scheme = rng.choice(item.schemes) if item.schemes else "report"
    lab, body = rng.choice(labs), rng.choice(bodies)
    cats = shop_categories(shop, offers_service=False)
    title: list[Piece]
    block: list[list[Piece]] = []
    kind = "product"

    if mode in ("report", "cert"):
        if mode == "report" or scheme == "report":
            scheme = "report"
            block = report_block(rng, item.name, shown_model, item.spec, item.standard, lab)
        else:
            block = cert_block(rng, scheme, item.name, shown_model, body)
        title = [f"{base} {rng.choice(_TITLE_NOTES[scheme])}".strip()]
    elif mode == "none":
        kind = "plain"
        title = [f"{base} {rng.choice(('当天发货', '快速发货', '新款', '热卖', ''))}".strip()]
    elif mode == "missing_claim":
        bank = [c for c in phrases.MISSING_CLAIMS
                if scheme == "ccc" or ("3C" not in c and "CCC" not in c)]
        claim = Trigger(rng.choice(bank), MISSING, CLAIM_KINDS)
        shapes: tuple[list[Piece], ...] = ([base, " ", claim], ["【", claim, "】", base])
        title = rng.choice(shapes)
        block = [fill("{c}，{t}", c=claim, t=rng.choice(("放心购买。", "品质有保障。",
                                                         "需要可联系客服查看。")))]
        cats.add(MISSING)
    elif mode == "missing_partial":
        core = ["body", "number", "date"] + (["conclusion"] if scheme == "report" else [])
        drop = set(rng.sample(core, rng.randint(1, len(core) - 1)))
        if rng.random() < 0.3:
            drop.add("model")
        if scheme == "report":
            block = report_block(rng, item.name, shown_model, item.spec, item.standard, lab,
                                 frozenset(drop))
        else:
            block = cert_block(rng, scheme, item.name, shown_model, body, frozenset(drop))
        title = [f"{base} {rng.choice(_TITLE_NOTES[scheme])}".strip()]
        cats.add(MISSING)
    else:
        national = Trigger(rng.choice(phrases.NATIONAL_PRODUCT), NATIONAL, NATIONAL_KINDS)
        title = ["【", national, "】", base]
        cats.add(NATIONAL)
        if mode == "national_missing":
            block = [fill("荣获{n}，品质有保障。", n=national)]
            cats.add(MISSING)
        else:
            date, year, _ = issue_date(rng)
            issuer = rng.choice(cat.BRANDS) + rng.choice(("品牌发展促进会", "质量服务协会",
                                                          "消费品评价中心"))
            block = [fill("荣获{n}。", n=national),
                     [f"证书编号：{make_certificate_number(rng, year, 'QX')}；颁发单位：{issuer}；"
                      f"颁发日期：{date}；产品名称及型号：{item.name} {shown_model}。"]]

    paragraphs: list[list[Piece]] = [[feature], *block]
    if rng.random() < 0.4:
        paragraphs.append([rng.choice(phrases.LOOKALIKES)])
    paragraphs.append([rng.choice(cat.SHIPPING)])
    tags = [item.name, cat.GROUP_LABELS[item.group]]
    if mode != "none":
        tags += ["证书", "检测报告", "认证"] + (["3C", "CCC"] if scheme == "ccc" else [])
    return Draft(index, kind, title, paragraphs, cats, tags, price_text(rng, *item.price),
                 rng.choice((1, 2)), item.color)
