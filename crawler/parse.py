"""Turn fetched pages into result lists and listings with a profile's selectors or JSON paths.

Everything on a page is seller-written and hostile: it is only ever read as
text (scripts and styles are skipped, control characters dropped), and links
are kept only when they resolve to http(s) URLs. Pages that block the crawler
(:mod:`crawler.blocks`) are reported as such, never as results or removals.
"""

from __future__ import annotations

import codecs
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from crawler.blocks import text_block, trusted_block
from crawler.events import Blocked, ParseFailure, Removed
from crawler.jsonpath import find, scalar_text
from crawler.profiles import (
    MULTILINE_FIELDS,
    URL_FIELDS,
    Extract,
    JsonApi,
    Link,
    ListSpec,
    Profile,
)
from jingwang.records import Capture, Listing, Seller

# Elements that start a new line in the text of a multi-line field.
_BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "dd", "div", "dl", "dt", "figcaption",
    "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main",
    "nav", "ol", "p", "pre", "section", "table", "tbody", "td", "th", "thead", "tr", "ul",
})
# Elements whose content is never text a reader sees.
_SKIP_TAGS = frozenset({"script", "style", "template", "noscript", "head", "-comment"})
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"\s+")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
# Chinese pages that declare GB2312 or GBK routinely use characters only GB18030 has.
_CHARSET_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030"}
_GONE_STATUSES = frozenset({404, 410})


@dataclass(frozen=True, slots=True)
class SearchPage:
    """The listings a result page (search or shop) links to, and the next page, if any."""

    item_urls: list[str]  # absolute, in page order, without duplicates
    next_url: str | None
    empty: bool  # the platform's "no results" marker is present (or the API list is empty)
    more: bool | None = None  # a JSON API's own "more pages" flag, when the profile reads it


def decode_body(capture: Capture) -> str:
    """The page as text: charset from Content-Type, else a <meta> tag, else UTF-8."""
    charset = None
    for key, value in capture.headers.items():
        if key.lower() == "content-type":
            match = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", value, re.I)
            charset = match.group(1) if match else None
    body = capture.body
    if body.startswith(codecs.BOM_UTF8):
        charset, body = "utf-8", body[len(codecs.BOM_UTF8):]
    if charset is None:
        meta = _META_CHARSET.search(body[:4096])
        charset = meta.group(1).decode("ascii") if meta else "utf-8"
    charset = _CHARSET_ALIASES.get(charset.lower(), charset)
    try:
        codecs.lookup(charset)
    except LookupError:
        charset = "utf-8"
    return body.decode(charset, errors="replace")


def node_text(node: LexborNode, *, multiline: bool = False) -> str:
    """Visible text of an element, whitespace collapsed.

    With ``multiline``, ``<br>`` and block elements such as ``<p>`` become line
    breaks; otherwise the text is one line.
    """
    lines = [""]

    def soft_break() -> None:
        if lines[-1].strip():
            lines.append("")

    # An explicit stack instead of recursion: hostile pages may nest deeply.
    stack: list[LexborNode | None] = [node]
    while stack:
        current = stack.pop()
        if current is None:  # end of a block element
            soft_break()
            continue
        tag = current.tag or ""
        if current.is_text_node:
            raw = _CONTROL.sub("", current.text_content or "")
            lines[-1] += _SPACES.sub(" ", raw)
            continue
        if tag in _SKIP_TAGS or (not current.is_element_node and current is not node):
            continue
        if tag == "br":
            lines.append("")
            continue
        if tag in _BLOCK_TAGS:
            soft_break()
            stack.append(None)
        stack.extend(reversed(list(current.iter(include_text=True))))
    cleaned = [_SPACES.sub(" ", line).strip() for line in lines]
    if not multiline:
        return " ".join(line for line in cleaned if line)
    out: list[str] = []
    for line in cleaned:
        if line or (out and out[-1]):  # at most one blank line in a row
            out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)


def _clean_attr(value: str | None) -> str:
    return _SPACES.sub(" ", _CONTROL.sub("", value or "")).strip()


def absolute_url(base: str, value: str) -> str | None:
    """``value`` resolved against ``base``, or None unless it is an http(s) URL."""
    value = value.strip()
    if not value:
        return None
    try:
        url = urljoin(base, value)
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return urlunsplit(parts._replace(fragment=""))


class Page:
    """A parsed page (HTML, or JSON from an API) with the URL its relative links resolve against."""

    def __init__(self, capture: Capture) -> None:
        self.capture = capture
        self.text = decode_body(capture)
        self.base = capture.final_url
        self.json: Any = None
        self.is_json = _looks_like_json(capture, self.text)
        if self.is_json:
            try:
                self.json = json.loads(self.text)
            except ValueError:
                self.is_json = False
        self.tree = LexborHTMLParser("" if self.is_json else self.text)
        base_tag = self.tree.css_first("base[href]")
        if base_tag is not None:
            self.base = absolute_url(self.base, base_tag.attributes.get("href") or "") or self.base

    def has(self, selector: str | None) -> bool:
        return selector is not None and self.tree.css_first(selector) is not None

    def link(self, scope: LexborNode | LexborHTMLParser, link: Link) -> str | None:
        if link.selector is None:
            return None
        node = scope.css_first(link.selector)
        if node is None:
            return None
        return absolute_url(self.base, node.attributes.get(link.attr) or "")

    def json_link(self, item: Any, link: Link, base_url: str) -> str | None:
        """The URL a JSON result item links to (its value put into the template, if any)."""
        if link.path is None:
            return None
        values = [scalar_text(v) for v in find(item, link.path)]
        value = next((v for v in values if v.strip()), None)
        if value is None:
            return None
        if link.template is not None:
            value = link.template.format(base_url=base_url, value=quote(value.strip(), safe=""))
        return absolute_url(self.base, value)

    def blocked(self, profile: Profile) -> str | None:
        """A trusted sign that this page blocks the crawler (see :mod:`crawler.blocks`)."""
        return trusted_block(profile, self.capture, None if self.is_json else self.has)

    def values(self, name: str, spec: Extract) -> list[str]:
        """Every value ``spec`` extracts (one at most unless ``many``), empties dropped."""
        raw: list[str] = []
        if spec.path is not None:
            if self.is_json:
                found = [scalar_text(v) for v in find(self.json, spec.path)]
                raw = [_clean_json_text(v, multiline=name in MULTILINE_FIELDS) for v in found]
        elif spec.selector is not None and not self.is_json:
            nodes = self.tree.css(spec.selector) if spec.many else [
                n for n in [self.tree.css_first(spec.selector)] if n is not None]
            for node in nodes:
                if spec.attr is not None:
                    raw.append(_clean_attr(node.attributes.get(spec.attr)))
                else:
                    raw.append(node_text(node, multiline=name in MULTILINE_FIELDS))
        if not spec.many:
            raw = [value for value in raw if value][:1]
        values: list[str] = []
        for value in raw:
            if spec.pattern is not None:
                match = re.search(spec.pattern, value)
                value = "" if match is None else (match.group(1) if match.re.groups else
                                                  match.group(0)) or ""
            if value and name in URL_FIELDS:
                value = absolute_url(self.base, value) or ""
            if value:
                values.append(value)
        return list(dict.fromkeys(values)) if name in URL_FIELDS else values


def _looks_like_json(capture: Capture, text: str) -> bool:
    for key, value in capture.headers.items():
        if key.lower() == "content-type":
            kind = value.split(";", 1)[0].strip().lower()
            if kind == "application/json" or kind.endswith("+json"):
                return True
            if "html" in kind:
                return False
    return text.lstrip()[:1] in ("{", "[")


def _clean_json_text(value: str, *, multiline: bool) -> str:
    value = _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
    if not multiline:
        return _SPACES.sub(" ", value).strip()
    lines = [_SPACES.sub(" ", line).strip() for line in value.split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)


def parse_search(profile: Profile, capture: Capture,
                 spec: ListSpec | None = None) -> SearchPage | ParseFailure | Blocked:
    """Result links and the next page of a search page (or of ``spec``, e.g. a shop page).

    A page whose item selector finds nothing is a :class:`ParseFailure` unless
    the profile's empty marker is present: a layout change must never look like
    "no results". A page that blocks the crawler is :class:`Blocked`.
    """
    spec = spec if spec is not None else profile.search
    if spec is None:
        return ParseFailure(capture.url, ("search",), "profile has no search section", capture)
    where = spec.where()
    page = Page(capture)
    reason = page.blocked(profile)
    if reason is not None:
        return Blocked(capture.url, reason, capture)
    if isinstance(spec.pagination, JsonApi):
        return _parse_json_list(profile, spec, page, where)
    items = page.tree.css(spec.item)
    if not items:
        if page.has(spec.empty):
            return SearchPage(item_urls=[], next_url=None, empty=True)
        reason = text_block(profile, page.text)
        if reason is not None:
            return Blocked(capture.url, reason, capture)
        return ParseFailure(capture.url, (f"{where}.item",),
                            f"{where} page (HTTP {capture.status}): item selector {spec.item!r} "
                            "found nothing and the empty marker is absent", capture)
    urls: list[str] = []
    for item in items:
        url = page.link(item, spec.link)
        if url is not None:
            urls.append(url)
    if not urls:
        return ParseFailure(capture.url, (f"{where}.link",),
                            f"{len(items)} result items but none has a link "
                            f"{spec.link.describe()!r}", capture)
    next_url = page.link(page.tree, spec.next) if spec.next is not None else None
    if next_url in (capture.url, capture.final_url):
        next_url = None
    return SearchPage(item_urls=list(dict.fromkeys(urls)), next_url=next_url, empty=False)


def _parse_json_list(profile: Profile, spec: ListSpec, page: Page,
                     where: str) -> SearchPage | ParseFailure | Blocked:
    capture = page.capture
    if not page.is_json:
        reason = text_block(profile, page.text)
        if reason is not None:
            return Blocked(capture.url, reason, capture)
        return ParseFailure(capture.url, (f"{where}.item",),
                            f"{where} API (HTTP {capture.status}) did not answer JSON", capture)
    found = find(page.json, spec.item)
    if not found:
        return ParseFailure(capture.url, (f"{where}.item",),
                            f"{where} API (HTTP {capture.status}): JSON path {spec.item!r} "
                            "found nothing", capture)
    items = found[0] if len(found) == 1 and isinstance(found[0], list) else found
    more: bool | None = None
    assert isinstance(spec.pagination, JsonApi)
    if spec.pagination.more is not None:
        flags = find(page.json, spec.pagination.more)
        more = bool(flags[0]) if flags else False
    if not items:
        return SearchPage(item_urls=[], next_url=None, empty=True, more=more)
    urls = [url for item in items
            if (url := page.json_link(item, spec.link, profile.base_url)) is not None]
    if not urls:
        return ParseFailure(capture.url, (f"{where}.link",),
                            f"{len(items)} result items but none has a link "
                            f"{spec.link.describe()!r}", capture)
    return SearchPage(item_urls=list(dict.fromkeys(urls)), next_url=None, empty=False, more=more)


def parse_detail(profile: Profile, capture: Capture, *,
                 platform: str) -> Listing | ParseFailure | Removed | Blocked:
    """The listing on a detail page, ``Removed`` if the page says it is gone.

    Required fields that find nothing make a :class:`ParseFailure`, never a
    listing with empty fields. A page that blocks the crawler is
    :class:`Blocked` — in particular never ``Removed``: a 404 counts as a
    removal only when it shows no sign of a block.
    """
    spec = profile.detail
    page = Page(capture)
    reason = page.blocked(profile)
    if reason is not None:
        return Blocked(capture.url, reason, capture)
    if page.has(spec.removed):
        return Removed(capture.url)
    if capture.status in _GONE_STATUSES:
        reason = text_block(profile, page.text)
        if reason is not None:
            return Blocked(capture.url, reason, capture)
        return Removed(capture.url)
    found: dict[str, list[str]] = {
        name: page.values(name, extract) for name, extract in spec.fields.items()}
    missing = tuple(name for name in spec.required_fields() if not found.get(name))
    if missing:
        reason = text_block(profile, page.text)
        if reason is not None:
            return Blocked(capture.url, reason, capture)
        return ParseFailure(capture.url, missing,
                            f"detail page (HTTP {capture.status}): required fields found "
                            f"nothing: {', '.join(missing)}", capture)

    def one(name: str) -> str | None:
        values = found.get(name)
        if not values:
            return None
        return ("\n" if name in MULTILINE_FIELDS else " ").join(values)

    return Listing(
        platform=platform,
        listing_id=one("listing_id") or "",
        title=one("title") or "",
        description=one("description") or "",
        price=one("price"),
        url=(found.get("url") or [capture.final_url])[0],
        seller=Seller(
            name=one("seller.name") or "",
            credit_code=one("seller.credit_code"),
            license_text=one("seller.license_text"),
            shop_id=one("seller.shop_id"),
            shop_url=next(iter(found.get("seller.shop_url") or ()), None),
        ),
        images=tuple(found.get("images") or ()),
    )
