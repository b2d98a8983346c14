"""Parsing search and detail pages with a profile; pages are built in the contract's shape."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crawler.events import ParseFailure, Removed
from crawler.parse import SearchPage, decode_body, parse_detail, parse_search
from crawler.profiles import Profile, load_profile
from jingwang.records import Capture, Listing, Seller
from tests.crawler.conftest import SITE_PROFILE

BASE = "http://shop.test"


@pytest.fixture(scope="module")
def profile() -> Profile:
    return load_profile(SITE_PROFILE).with_base_url(BASE)


def capture(body: str | bytes, *, url: str = f"{BASE}/search?q=x&page=1", status: int = 200,
            headers: dict[str, str] | None = None) -> Capture:
    data = body.encode("utf-8") if isinstance(body, str) else body
    return Capture(url=url, final_url=url, status=status, fetched_at=datetime.now(UTC),
                   headers=headers if headers is not None else {
                       "content-type": "text/html; charset=utf-8"},
                   body=data, tool="tests")


def li(item_id: str, title: str = "标题") -> str:
    return (f'<li class="item" data-id="{item_id}"><a class="item-link" href="/item/{item_id}">'
            f'{title}</a> <span class="price">¥1.00</span> '
            f'<a class="shop-link" href="/shop/s">店</a></li>')


def test_search_page_links_are_absolute_deduplicated_and_in_order(profile: Profile) -> None:
    body = (f'<ul class="results">{li("b")}{li("a")}{li("b")}'
            '<li class="item"><a class="item-link" href="javascript:alert(1)">x</a></li>'
            '<li class="item"><span>an ad without a link</span></li></ul>'
            '<a class="next" href="/search?q=x&amp;page=2">下一页</a>')
    page = parse_search(profile, capture(body))
    assert page == SearchPage(item_urls=[f"{BASE}/item/b", f"{BASE}/item/a"],
                              next_url=f"{BASE}/search?q=x&page=2", empty=False)


def test_search_page_relative_links_resolve_against_the_final_url(profile: Profile) -> None:
    body = '<ul class="results"><li class="item"><a class="item-link" href="item/9">t</a></li></ul>'
    page = parse_search(profile, capture(body, url="http://m.shop.test/s/list?q=1"))
    assert isinstance(page, SearchPage)
    assert page.item_urls == ["http://m.shop.test/s/item/9"]
    assert page.next_url is None


def test_empty_search_page_is_empty_not_a_failure(profile: Profile) -> None:
    page = parse_search(profile, capture('<div class="empty">没有找到相关商品</div>'))
    assert page == SearchPage(item_urls=[], next_url=None, empty=True)


def test_search_page_whose_selectors_find_nothing_is_a_parse_failure(profile: Profile) -> None:
    body = '<div class="grid"><div class="card"><a href="/item/1">新版页面</a></div></div>'
    result = parse_search(profile, capture(body))
    assert isinstance(result, ParseFailure)
    assert result.missing == ("search.item",)
    assert "empty marker is absent" in result.describe()
    assert result.capture is not None and result.capture.body == body.encode()


def test_search_items_without_any_link_are_a_parse_failure(profile: Profile) -> None:
    body = '<ul class="results"><li class="item"><a class="other" href="/item/1">t</a></li></ul>'
    result = parse_search(profile, capture(body))
    assert isinstance(result, ParseFailure) and result.missing == ("search.link",)


DETAIL = """<!doctype html><html><head><title>ignored</title>
<meta name="listing-id" content=" sb-000123 "></head><body>
<h1 class="title">  ISO9001
   认证 &amp; 当天出证 </h1>
<div class="desc"><p>第一段   文字</p><p>第二段<br>换行<br><br>空一行</p>
<script>document.write('恶意')</script><style>.x{}</style>结尾<b>加粗</b>\x00字</div>
<span class="price">¥1,280.00</span>
<div class="gallery"><img class="gallery-img" src="/img/1.png">
<img class="gallery-img" src="2.png"><img class="gallery-img" src="/img/1.png">
<img class="gallery-img" src="javascript:x"></div>
<div class="seller"><a class="shop-name" href="/shop/shop-0042?from=item">速办
认证工作室</a><span class="credit-code">91350100M000100Y43</span>
<div class="license">营业执照<br>经营范围：认证咨询</div></div>
</body></html>"""


def test_detail_page_becomes_a_listing(profile: Profile) -> None:
    url = f"{BASE}/item/sb-000123"
    listing = parse_detail(profile, capture(DETAIL, url=url), platform="sandbox")
    assert listing == Listing(
        platform="sandbox",
        listing_id="sb-000123",
        title="ISO9001 认证 & 当天出证",
        description="第一段 文字\n第二段\n换行\n\n空一行\n结尾加粗字",
        price="1,280.00",
        url=url,
        seller=Seller(name="速办 认证工作室", credit_code="91350100M000100Y43",
                      license_text="营业执照\n经营范围：认证咨询", shop_id="shop-0042",
                      shop_url=f"{BASE}/shop/shop-0042?from=item"),
        images=(f"{BASE}/img/1.png", f"{BASE}/item/2.png"),
    )


def test_optional_fields_missing_stay_empty(profile: Profile) -> None:
    body = '<meta name="listing-id" content="x1"><h1 class="title">只有标题</h1>'
    listing = parse_detail(profile, capture(body, url=f"{BASE}/item/x1"), platform="p")
    assert isinstance(listing, Listing)
    assert (listing.description, listing.price, listing.images) == ("", None, ())
    assert listing.seller.name == "" and listing.seller.credit_code is None


@pytest.mark.parametrize(("body", "missing"), [
    ('<meta name="listing-id" content="x1"><h2>标题换了位置</h2>', ("title",)),
    ('<meta name="listing-id" content="x1"><h1 class="title">   </h1>', ("title",)),
    ("<p>改版后的页面</p>", ("listing_id", "title")),
])
def test_detail_without_required_fields_is_a_parse_failure(
        profile: Profile, body: str, missing: tuple[str, ...]) -> None:
    result = parse_detail(profile, capture(body, url=f"{BASE}/item/x1"), platform="p")
    assert isinstance(result, ParseFailure)
    assert result.missing == missing
    assert result.url == f"{BASE}/item/x1"


def test_removed_marker_and_gone_statuses_are_removed(profile: Profile) -> None:
    url = f"{BASE}/item/sb-9"
    marked = parse_detail(profile, capture('<div class="removed">该商品已下架或不存在</div>',
                                           url=url, status=200), platform="p")
    gone = parse_detail(profile, capture("<p>Not Found</p>", url=url, status=410), platform="p")
    assert marked == Removed(url) and gone == Removed(url)


def test_charset_from_meta_and_gb2312_read_as_gb18030(profile: Profile) -> None:
    # "㐀" exists in GB18030 only: pages labelled GB2312/GBK use such characters anyway.
    html = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
            '</head><body><meta name="listing-id" content="g1"><h1 class="title">国家级㐀</h1>'
            '</body></html>').encode("gb18030")
    listing = parse_detail(profile, capture(html, headers={}), platform="p")
    assert isinstance(listing, Listing) and listing.title == "国家级㐀"
    assert decode_body(capture("é".encode("latin-1"), headers={
        "Content-Type": "text/html; charset=ISO-8859-1"})) == "é"


def test_base_tag_changes_how_links_resolve(profile: Profile) -> None:
    body = ('<head><base href="http://cdn.shop.test/p/"></head><meta name="listing-id" '
            'content="i"><h1 class="title">t</h1><img class="gallery-img" src="a.png">')
    listing = parse_detail(profile, capture(body), platform="p")
    assert isinstance(listing, Listing) and listing.images == ("http://cdn.shop.test/p/a.png",)
