"""Platform profiles: how to search a platform and read its listing pages, loaded from YAML.

A profile is data, not code: adding a platform is a new file in
``config/platforms/``. Selectors and URL templates are checked when the file
is loaded, so a typo is a :class:`ConfigError` naming file, line and key
instead of a crawl that silently finds nothing.
"""

from __future__ import annotations

import codecs
import re
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import quote, urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from selectolax.lexbor import LexborHTMLParser

from crawler.cookies import CookieFileError, load_cookie_file
from crawler.jsonpath import JsonPathError, compile_path
from jingwang.config import parse_duration
from jingwang.errors import ConfigError
from jingwang.yamlfile import load_yaml, validation_error

# Detail fields a profile may extract, named as in Listing / Seller.
DETAIL_FIELDS = (
    "listing_id", "title", "description", "price", "url", "images",
    "seller.name", "seller.shop_id", "seller.shop_url", "seller.credit_code",
    "seller.license_text",
)
# Fields whose values are links, resolved against the page URL.
URL_FIELDS = frozenset({"url", "images", "seller.shop_url"})
# Fields whose text keeps line breaks (<br>, <p>) instead of one line.
MULTILINE_FIELDS = frozenset({"description", "seller.license_text"})
# A listing without these is never produced, whatever ``required`` says.
ALWAYS_REQUIRED = ("listing_id", "title")

_PLACEHOLDERS = ("base_url", "keyword", "page", "shop")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


def _invalid(message: str) -> PydanticCustomError:
    # No context: the message is shown as is (a ValueError would get a "Value error, " prefix).
    return PydanticCustomError("profile", message)


def check_selector(selector: str) -> str:
    """Compile ``selector`` against an empty document; a bad one is a validation error."""
    selector = selector.strip()
    if not selector:
        raise _invalid("empty CSS selector")
    try:
        LexborHTMLParser("").css(selector)
    except Exception as exc:  # selectolax raises its own error type per backend
        raise _invalid(f"invalid CSS selector {selector!r}: {exc}") from None
    return selector


def _check_pattern(pattern: str) -> str:
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise _invalid(f"invalid regular expression {pattern!r}: {exc}") from None
    if compiled.groups > 1:
        raise _invalid("pattern may have at most one capture group")
    return pattern


def check_json_path(path: str) -> str:
    """Compile ``path``; a malformed one is a validation error."""
    try:
        compile_path(path)
    except JsonPathError as exc:
        raise _invalid(str(exc)) from None
    return path.strip()


def _check_base_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _invalid(f"base_url must be an http(s) URL with a host, got {url!r}")
    if parts.query or parts.fragment:
        raise _invalid("base_url must not have a query or fragment")
    return url.rstrip("/")


Selector = Annotated[str, AfterValidator(check_selector)]
Pattern = Annotated[str, AfterValidator(_check_pattern)]
BaseUrl = Annotated[str, AfterValidator(_check_base_url)]
JsonPath = Annotated[str, AfterValidator(check_json_path)]
Duration = Annotated[float, BeforeValidator(parse_duration), Field(ge=0)]


def template_placeholders(template: str, *, required: tuple[str, ...],
                          allowed: tuple[str, ...] = _PLACEHOLDERS) -> set[str]:
    """Placeholders of a URL template; unknown, positional or missing ones are errors."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise _invalid(f"malformed URL template ({exc}); write literal braces as "
                       "{{ and }}") from None
    names: set[str] = set()
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in allowed:
            raise _invalid(f"unknown placeholder {{{name}}} in URL template "
                           f"(known: {', '.join(allowed)})")
        if spec or conversion:
            raise _invalid(f"placeholder {{{name}}} may not have a format spec")
        names.add(name)
    for name in required:
        if name not in names:
            raise _invalid(f"URL template must contain the {{{name}}} placeholder")
    if not (template.startswith("{base_url}") or template.startswith(("http://", "https://"))):
        raise _invalid("URL template must start with {base_url} or http(s)://")
    return names


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Extract(_Strict):
    """Where a value is: an element's text or attribute (HTML), or a JSON path (JSON pages)."""

    selector: Selector | None = None
    path: JsonPath | None = None
    attr: str | None = None
    many: bool = False
    # Keep only what this regex matches (its group, if it has one), e.g. "¥12.00" → "12.00".
    pattern: Pattern | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Extract:
        if (self.selector is None) == (self.path is None):
            raise _invalid("give exactly one of selector (HTML pages) and path (JSON pages)")
        if self.path is not None and self.attr is not None:
            raise _invalid("attr belongs to a selector, not to a JSON path")
        return self

    def describe(self) -> str:
        """How the profile check shows it: ``h1.title``, ``a @href`` or ``json:seller.name``."""
        if self.path is not None:
            return f"json:{self.path}"
        return f"{self.selector}" + (f" @{self.attr}" if self.attr else "")


class Link(_Strict):
    """A link: an element's ``attr`` (HTML), or a JSON value, made a URL by ``template``."""

    selector: Selector | None = None
    attr: str = "href"
    path: JsonPath | None = None
    # For JSON values that are ids, not URLs: "{base_url}/item/{value}".
    template: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Link:
        if (self.selector is None) == (self.path is None):
            raise _invalid("give exactly one of selector (HTML pages) and path (JSON pages)")
        if self.template is not None:
            if self.path is None:
                raise _invalid("template applies to a JSON path link")
            template_placeholders(self.template, required=("value",),
                                  allowed=("base_url", "value"))
        return self

    def describe(self) -> str:
        if self.path is not None:
            return f"json:{self.path}" + (f" → {self.template}" if self.template else "")
        return f"{self.selector} @{self.attr}"


class PageParam(_Strict):
    """Pages are numbered in the URL's ``{page}`` placeholder."""

    mode: Literal["page"] = "page"
    first: int = Field(default=1, ge=0)  # some platforms count pages from 0


class NextLink(_Strict):
    """Only the first page has a URL template; later pages follow ``next``."""

    mode: Literal["next_link"]


class JsonApi(_Strict):
    """Results come from a JSON API, page by page through ``{page}``; ``item`` is a JSON path."""

    mode: Literal["json_api"]
    first: int = Field(default=1, ge=0)
    # A JSON path to a boolean "there are more pages"; without it, pages run until one is empty.
    more: JsonPath | None = None


class InfiniteScroll(_Strict):
    """One page in a browser that loads more results as it scrolls; each scroll is a page."""

    mode: Literal["infinite_scroll"]
    pause: Duration = 1.0  # how long to wait for new results after a scroll


Pagination = Annotated[PageParam | NextLink | JsonApi | InfiniteScroll,
                       Field(discriminator="mode")]


class ListSpec(_Strict):
    """A page of results (search or shop): its URL, its items and how to reach the next page."""

    subject: ClassVar[str] = "keyword"  # the placeholder naming what is listed
    page_optional: ClassVar[bool] = False

    pagination: Pagination = Field(default_factory=PageParam)
    url: str
    # How {keyword} is percent-encoded; some older platforms expect GBK.
    encoding: str = "utf-8"
    item: str  # a CSS selector of one result (a JSON path to the result list for json_api)
    link: Link
    empty: Selector | None = None  # marker of a legitimately empty page
    next: Link | None = None  # the next-page link; its absence ends the crawl
    wait_for: Selector | None = None  # render: browser — wait for this before reading

    @field_validator("url")
    @classmethod
    def _url(cls, value: str, info: ValidationInfo) -> str:
        pagination = info.data.get("pagination")
        single = isinstance(pagination, NextLink | InfiniteScroll)
        required = (cls.subject,) if single or cls.page_optional else (cls.subject, "page")
        names = template_placeholders(value, required=required,
                                      allowed=("base_url", cls.subject, "page"))
        if single and "page" in names:
            raise _invalid(f"with pagination mode {pagination.mode} the URL template is "  # type: ignore[union-attr]
                           "for the first page; drop {page}")
        return value

    @field_validator("item")
    @classmethod
    def _item(cls, value: str, info: ValidationInfo) -> str:
        if isinstance(info.data.get("pagination"), JsonApi):
            return check_json_path(value)
        return check_selector(value)

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError:
            raise _invalid(f"unknown encoding {value!r}") from None
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ListSpec:
        json_api = isinstance(self.pagination, JsonApi)
        if json_api and self.link.path is None:
            raise _invalid("with pagination mode json_api, link needs a JSON path "
                           "(relative to one item)")
        if not json_api and self.link.selector is None:
            raise _invalid("link needs a CSS selector (JSON paths need pagination mode json_api)")
        if isinstance(self.pagination, NextLink) and self.next is None:
            raise _invalid(f"pagination mode next_link needs {self.where()}.next")
        if self.next is not None and self.next.selector is None:
            raise _invalid("next needs a CSS selector")
        return self

    def where(self) -> str:
        return "search"


class SearchSpec(ListSpec):
    """A search results page."""


class ShopSpec(ListSpec):
    """A shop's listing pages; ``{shop}`` is a shop id from the source (or a full URL)."""

    subject: ClassVar[str] = "shop"
    page_optional: ClassVar[bool] = True  # many shops fit on one page

    def where(self) -> str:
        return "shop"


class DetailFields(_Strict):
    """Selectors of the listing fields; keys are Listing / Seller field names."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    listing_id: Extract
    title: Extract
    description: Extract | None = None
    price: Extract | None = None
    url: Extract | None = None
    images: Extract | None = None
    seller_name: Extract | None = Field(default=None, alias="seller.name")
    seller_shop_id: Extract | None = Field(default=None, alias="seller.shop_id")
    seller_shop_url: Extract | None = Field(default=None, alias="seller.shop_url")
    seller_credit_code: Extract | None = Field(default=None, alias="seller.credit_code")
    seller_license_text: Extract | None = Field(default=None, alias="seller.license_text")

    def items(self) -> Iterator[tuple[str, Extract]]:
        """(field name as in DETAIL_FIELDS, extraction) for each configured field."""
        for attr, info in type(self).model_fields.items():
            spec = getattr(self, attr)
            if spec is not None:
                yield info.alias or attr, spec


class DetailSpec(_Strict):
    """A listing page: field selectors, which fields must be found, the removed marker."""

    fields: DetailFields
    required: list[str] = Field(default_factory=lambda: list(ALWAYS_REQUIRED))
    removed: Selector | None = None  # marker of a removed / unknown listing
    wait_for: Selector | None = None  # render: browser — wait for this before reading

    @field_validator("required")
    @classmethod
    def _required(cls, value: list[str], info: ValidationInfo) -> list[str]:
        fields = info.data.get("fields")
        configured = {name for name, _ in fields.items()} if fields else set(DETAIL_FIELDS)
        for name in value:
            if name not in DETAIL_FIELDS:
                raise _invalid(f"unknown field {name!r} (known: {', '.join(DETAIL_FIELDS)})")
            if name not in configured:
                raise _invalid(f"required field {name!r} has no selector in detail.fields")
        return value

    def required_fields(self) -> list[str]:
        return list(dict.fromkeys((*ALWAYS_REQUIRED, *self.required)))


class BlockSpec(_Strict):
    """What this platform's captcha, slider, login and anti-bot pages look like.

    ``selectors`` and ``url_patterns`` are trusted on any page: sellers cannot
    add elements or change the platform's URLs. ``texts`` are seller-writable,
    so they count only on pages that do not parse as a listing or result page.
    """

    selectors: list[Selector] = Field(default_factory=list)
    texts: list[str] = Field(default_factory=list)
    url_patterns: list[Pattern] = Field(default_factory=list)  # regexes on the final URL


class BrowserSpec(_Strict):
    """Limits of ``render: browser`` pages."""

    timeout: Duration = 30.0  # one navigation
    wait_timeout: Duration = 10.0  # for a page's wait_for selector


class RateSpec(_Strict):
    """Politeness towards one host."""

    concurrency: int = Field(default=2, ge=1, le=64)  # simultaneous requests per host
    delay: float = Field(default=1.0, ge=0)  # least seconds between request starts per host
    # The delay grows with the host's latency and doubles on 429, 5xx and errors, up to this.
    max_delay: float = Field(default=60.0, ge=0)
    adaptive: bool = True

    @field_validator("delay", "max_delay", mode="before")
    @classmethod
    def _delay(cls, value: Any) -> float:
        return parse_duration(value)


class Profile(_Strict):
    """Everything the crawler knows about one platform."""

    name: str
    base_url: BaseUrl
    # Only profiles marked so may reach 127.0.0.0/8 and ::1 (the sandbox, tests).
    allow_loopback: bool = False
    render: Literal["static", "browser"] = "static"
    headers: dict[str, str] = Field(default_factory=dict)
    user_agent: str | None = None
    # A logged-in session exported from a browser (cookies.txt or JSON), relative to this file.
    cookies_file: Path | None = None
    proxies: list[str] = Field(default_factory=list)  # used in turn, one per request
    rate: RateSpec = Field(default_factory=RateSpec)
    robots: Literal["respect", "ignore"] = "respect"
    search: SearchSpec | None = None
    shop: ShopSpec | None = None
    detail: DetailSpec
    blocks: BlockSpec = Field(default_factory=BlockSpec)
    browser: BrowserSpec = Field(default_factory=BrowserSpec)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise _invalid("profile name must be lower-case letters, digits, '-' or '_', "
                           f"got {value!r}")
        return value

    @field_validator("headers")
    @classmethod
    def _headers(cls, value: dict[str, str]) -> dict[str, str]:
        for key, header in value.items():
            if not _HEADER_NAME.match(key):
                raise _invalid(f"invalid header name {key!r}")
            if any(c in header for c in "\r\n\x00"):
                raise _invalid(f"header {key!r} contains a line break")
        return value

    @field_validator("user_agent")
    @classmethod
    def _user_agent(cls, value: str | None) -> str | None:
        if value is not None and (not value.strip() or any(c in value for c in "\r\n\x00")):
            raise _invalid("user_agent must be one non-empty line")
        return value

    @field_validator("proxies")
    @classmethod
    def _proxies(cls, value: list[str]) -> list[str]:
        for proxy in value:
            parts = urlsplit(proxy)
            if parts.scheme not in ("http", "https", "socks5", "socks5h") or not parts.hostname:
                raise _invalid(f"proxy must be an http(s):// or socks5:// URL, got {proxy!r}")
        return value

    @field_validator("cookies_file")
    @classmethod
    def _cookies_file(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if value is None:
            return None
        base = (info.context or {}).get("profile_dir")
        if not value.is_absolute() and base is not None:
            value = Path(base) / value
        try:
            load_cookie_file(value)
        except CookieFileError as exc:
            raise _invalid(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _browser_modes(self) -> Profile:
        for spec in (self.search, self.shop):
            if (spec is not None and isinstance(spec.pagination, InfiniteScroll)
                    and self.render != "browser"):
                raise _invalid(f"{spec.where()}: pagination mode infinite_scroll needs "
                               "render: browser")
        return self

    def with_base_url(self, url: str) -> Profile:
        """The same profile pointed at another server (a live test or sandbox URL)."""
        return self.with_changes(base_url=url)

    def with_changes(self, **changes: Any) -> Profile:
        """A copy with top-level keys replaced, validated like a loaded profile."""
        data = self.model_dump(by_alias=True)
        data.update(changes)
        return Profile.model_validate(data)

    def search_url(self, keyword: str, page: int = 1) -> str:
        """The URL of search results page ``page`` (counting from 1) for ``keyword``."""
        if self.search is None:
            raise ConfigError(f"profile {self.name}", "this profile has no search section",
                              key="search")
        encoded = quote(keyword.encode(self.search.encoding), safe="")
        return self.search.url.format(base_url=self.base_url, keyword=encoded,
                                      page=_page_number(self.search, page))

    def shop_url(self, shop: str, page: int = 1) -> str:
        """The URL of a shop's listing page ``page``; ``shop`` is an id or a full URL."""
        if self.shop is None:
            raise ConfigError(f"profile {self.name}", "this profile has no shop section",
                              key="shop")
        if shop.startswith(("http://", "https://")):
            return shop
        encoded = quote(shop.encode(self.shop.encoding), safe="")
        return self.shop.url.format(base_url=self.base_url, shop=encoded,
                                    page=_page_number(self.shop, page))


def _page_number(spec: ListSpec, page: int) -> int:
    if isinstance(spec.pagination, PageParam | JsonApi):
        return spec.pagination.first + page - 1
    return page


def load_profile(path: str | Path) -> Profile:
    """Load one profile file; errors name the file, line and key."""
    data, lines = load_yaml(path)
    if data is None:
        raise ConfigError(path, "file is empty")
    try:
        return Profile.model_validate(data, context={"profile_dir": Path(path).parent})
    except ValidationError as exc:
        raise validation_error(path, exc, lines) from None


def load_profiles(directory: str | Path) -> dict[str, Profile]:
    """Load every ``*.yaml`` / ``*.yml`` profile of a directory, by profile name."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ConfigError(directory, "platform profile directory not found")
    profiles: dict[str, Profile] = {}
    origin: dict[str, Path] = {}
    for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
        profile = load_profile(path)
        if profile.name in profiles:
            raise ConfigError(path, f"duplicate profile name {profile.name!r} "
                              f"(also in {origin[profile.name]})", key="name")
        profiles[profile.name] = profile
        origin[profile.name] = path
    return profiles
