"""HTML pages of the static sandbox platform (Jinja2 with autoescape: seller text is escaped).

The markup follows the shared sandbox contract that the crawler's
``config/platforms/sandbox.yaml`` profile is written against; class names and
structure must not change without changing that contract.
"""

from __future__ import annotations

from collections.abc import Sequence

from jinja2 import DictLoader, Environment, select_autoescape

from sandbox.data import SandboxListing, Shop

_CSS = """
body{margin:0;font-family:"PingFang SC","Noto Sans CJK SC","Microsoft YaHei",sans-serif;
 background:#f5f5f5;color:#222;line-height:1.6}
header{background:#e4393c;color:#fff;padding:10px 24px;display:flex;gap:24px;align-items:center}
header a{color:#fff;text-decoration:none;font-weight:bold;font-size:20px}
header form{flex:1;display:flex;max-width:560px}
header input{flex:1;padding:6px 10px;border:0;border-radius:4px 0 0 4px;font-size:15px}
header button{padding:6px 16px;border:0;background:#333;color:#fff;border-radius:0 4px 4px 0}
main{max-width:960px;margin:20px auto;background:#fff;padding:20px 28px;border-radius:6px}
ul.results{list-style:none;padding:0;margin:0}
li.item{padding:10px 0;border-bottom:1px solid #eee;display:flex;gap:16px;align-items:baseline}
li.item a.item-link{flex:1;color:#333;text-decoration:none}
li.item a.item-link:hover{color:#e4393c}
.price{color:#e4393c;font-weight:bold}
a.shop-link{color:#888;font-size:13px;text-decoration:none}
.pager{margin-top:16px;display:flex;gap:16px}
.empty,.removed{padding:40px;text-align:center;color:#888}
.gallery img{width:180px;height:180px;margin:0 8px 8px 0;border:1px solid #eee}
.desc p{margin:4px 0}
.seller{margin-top:20px;padding:12px;background:#fafafa;border:1px solid #eee;font-size:14px}
.seller .credit-code{display:block;color:#555}
.credit-code::before{content:"统一社会信用代码："}
.license{color:#555}
.license::before{content:"资质信息："}
.muted{color:#888;font-size:13px}
"""

_BASE = """<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{% block meta %}{% endblock %}
<title>{% block title %}{% endblock %} - 沙箱商城</title>
<style>{{ css }}</style>
</head>
<body>
<header>
<a href="/">沙箱商城</a>
<form action="/search" method="get"><input name="q" value="{{ q or '' }}" placeholder="搜索商品">
<button type="submit">搜索</button></form>
</header>
<main>
{% block main %}{% endblock %}
</main>
</body>
</html>
"""

_ROW = """<li class="item" data-id="{{ item.id }}"><a class="item-link" href="/item/{{ item.id }}">\
{{ item.title }}</a> <span class="price">¥{{ item.price }}</span> \
<a class="shop-link" href="/shop/{{ item.shop_id }}">{{ shops[item.shop_id].name }}</a></li>
"""

_TEMPLATES = {
    "base.html": _BASE,
    "row.html": _ROW,
    "index.html": """{% extends "base.html" %}{% block title %}首页{% endblock %}
{% block main %}
<h1>沙箱商城</h1>
<p class="muted">离线演示商城，商品与店铺均为生成的示例数据。</p>
<h2>热门搜索</h2>
<p>{% for word in keywords %}<a href="/search?q={{ word | urlencode }}">{{ word }}</a> \
{% endfor %}</p>
<h2>全部店铺</h2>
<ul>{% for shop in all_shops %}<li><a href="/shop/{{ shop.id }}">{{ shop.name }}</a></li>\
{% endfor %}
</ul>
{% endblock %}
""",
    "search.html": """{% extends "base.html" %}{% block title %}搜索 {{ q }}{% endblock %}
{% block main %}
<h1>“{{ q }}”的搜索结果</h1>
<p class="muted">共 {{ total }} 件商品，第 {{ page }} 页</p>
{% if items %}
<ul class="results">
{% for item in items %}{% include "row.html" %}{% endfor %}
</ul>
{% else %}
<div class="empty">没有找到相关商品</div>
{% endif %}
<div class="pager">
{% if page > 1 %}<a class="prev" href="/search?q={{ q | urlencode }}&amp;page={{ page - 1 }}">\
上一页</a>{% endif %}
{% if has_next %}<a class="next" href="/search?q={{ q | urlencode }}&amp;page={{ page + 1 }}">\
下一页</a>{% endif %}
</div>
{% endblock %}
""",
    "item.html": """{% extends "base.html" %}
{% block meta %}<meta name="listing-id" content="{{ item.id }}">{% endblock %}
{% block title %}{{ item.title }}{% endblock %}
{% block main %}
<h1 class="title">{{ item.title }}</h1>
<p><span class="price">¥{{ item.price }}</span></p>
<div class="gallery">{% for src in item.images %}\
<img class="gallery-img" src="{{ src }}" alt="商品图片">{% endfor %}</div>
<div class="desc">{% for para in item.paragraphs %}<p>{{ para }}</p>{% endfor %}</div>
<div class="seller"><a class="shop-name" href="/shop/{{ shop.id }}">{{ shop.name }}</a>\
{% if shop.credit_code %}<span class="credit-code">{{ shop.credit_code }}</span>{% endif %}\
{% if shop.license_text %}<div class="license">{{ shop.license_text }}</div>{% endif %}</div>
{% endblock %}
""",
    "shop.html": """{% extends "base.html" %}{% block title %}{{ shop.name }}{% endblock %}
{% block main %}
<h1 class="shop-name">{{ shop.name }}</h1>
{% if shop.credit_code %}<p><span class="credit-code">{{ shop.credit_code }}</span></p>{% endif %}
{% if shop.license_text %}<div class="license">{{ shop.license_text }}</div>{% endif %}
<h2>全部商品</h2>
<ul class="results">
{% for item in items %}{% include "row.html" %}{% endfor %}
</ul>
{% endblock %}
""",
    "removed.html": """{% extends "base.html" %}{% block title %}商品不存在{% endblock %}
{% block main %}<div class="removed">该商品已下架或不存在</div>{% endblock %}
""",
    "not_found.html": """{% extends "base.html" %}{% block title %}页面不存在{% endblock %}
{% block main %}<div class="empty">{{ message }}</div>{% endblock %}
""",
}

_ENV = Environment(loader=DictLoader(_TEMPLATES), autoescape=select_autoescape(default=True),
                   keep_trailing_newline=True)


class Pages:
    """Renders the pages of one catalogue; shop names are looked up for result rows."""

    def __init__(self, shops: Sequence[Shop]) -> None:
        self.shops = {shop.id: shop for shop in shops}
        self.all_shops = list(shops)

    def _render(self, name: str, **context: object) -> str:
        return _ENV.get_template(name).render(css=_CSS, shops=self.shops, **context)

    def index(self, keywords: Sequence[str]) -> str:
        return self._render("index.html", keywords=keywords, all_shops=self.all_shops)

    def search(self, q: str, page: int, items: Sequence[SandboxListing], total: int,
               has_next: bool) -> str:
        return self._render("search.html", q=q, page=page, items=items, total=total,
                            has_next=has_next)

    def item(self, item: SandboxListing) -> str:
        return self._render("item.html", item=item, shop=self.shops[item.shop_id])

    def shop(self, shop: Shop, items: Sequence[SandboxListing]) -> str:
        return self._render("shop.html", shop=shop, items=items)

    def removed(self) -> str:
        return self._render("removed.html")

    def not_found(self, message: str) -> str:
        return self._render("not_found.html", message=message)
