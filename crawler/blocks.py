"""Recognise pages that block the crawler: captchas, sliders, login walls, anti-bot challenges.

A blocked page is neither a listing nor a removal: the source backs off and an
operator is told. Two kinds of signs, because listing text is seller-written:

- trusted signs hold on any page: an HTTP status that refuses access, one of the
  profile's block selectors (sellers cannot add elements to a page), or a final
  URL that is a login page (sellers cannot redirect the platform);
- text signs (the profile's ``blocks.texts`` and the generic phrases below)
  count only on a page that did not parse as a listing or a result page — else
  a seller could hide a listing by writing "请完成安全验证" in its description.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from crawler.profiles import Profile
from jingwang.records import Capture

# Access refused outright: never a listing, never a removal.
_REFUSED = {401: "HTTP 401 需要登录", 403: "HTTP 403 拒绝访问", 407: "HTTP 407 需要代理认证",
            451: "HTTP 451 因法律原因不可用"}
# Login pages, matched on the path of a final URL that the requested URL did not have.
_LOGIN_URL = re.compile(r"/(?:login|signin|sign-in|sign_in|passport|account/login|"
                        r"member/login|user/login)(?:[/?#.]|$)", re.I)
# Generic signs, lower-cased; each with what it says about the page.
_TEXT_SIGNS: tuple[tuple[str, str], ...] = (
    ("captcha", "验证码"), ("geetest", "验证码"), ("验证码", "验证码"),
    ("滑块", "滑块验证"), ("向右滑动", "滑块验证"), ("拖动滑块", "滑块验证"),
    ("nc_1_wrapper", "滑块验证"), ("请完成安全验证", "安全验证"), ("安全验证", "安全验证"),
    ("人机验证", "人机验证"), ("cf-chl", "反爬挑战页"), ("challenge-platform", "反爬挑战页"),
    ("just a moment", "反爬挑战页"), ("checking your browser", "反爬挑战页"),
    ("attention required", "反爬挑战页"), ("ddos protection", "反爬挑战页"),
    ("访问过于频繁", "访问频率限制"), ("请求过于频繁", "访问频率限制"), ("访问受限", "访问受限"),
    ("异常访问", "访问受限"), ("网络环境存在异常", "访问受限"), ("access denied", "访问受限"),
    ("请登录", "登录墙"), ("登录后查看", "登录墙"), ("扫码登录", "登录墙"), ("立即登录", "登录墙"),
    ("sign in to continue", "登录墙"), ("log in to continue", "登录墙"),
)
_SCAN_LIMIT = 256 * 1024  # challenge pages are small; do not lower-case a huge page


def trusted_block(profile: Profile, capture: Capture,
                  tree_has: Callable[[str], bool] | None = None) -> str | None:
    """A sign of a block that holds on any page, or None.

    ``tree_has`` is a callable ``selector -> bool`` for the parsed page (None to
    skip the selector check, e.g. for JSON bodies).
    """
    if capture.status in _REFUSED:
        return _REFUSED[capture.status]
    if tree_has is not None:
        for selector in profile.blocks.selectors:
            if tree_has(selector):
                return f"命中平台拦截标记 {selector}"
    final, requested = capture.final_url, capture.url
    if _LOGIN_URL.search(_path(final)) and not _LOGIN_URL.search(_path(requested)):
        return f"被重定向到登录页（登录墙） {final}"
    for pattern in profile.blocks.url_patterns:
        if re.search(pattern, final) and not re.search(pattern, requested):
            return f"被重定向到平台配置的拦截页 {final}"
    return None


def text_block(profile: Profile, text: str) -> str | None:
    """A text sign of a block in a page that did not parse, or None."""
    sample = text[:_SCAN_LIMIT].lower()
    for phrase in profile.blocks.texts:
        if phrase.lower() in sample:
            return f"页面含平台拦截文字「{phrase}」"
    for sign, meaning in _TEXT_SIGNS:
        if sign in sample:
            return f"疑似{meaning}页面（含「{sign}」）"
    return None


def _path(url: str) -> str:
    # Only the path and query: a host name such as login.example.com is not a sign.
    after_scheme = url.split("://", 1)[-1]
    slash = after_scheme.find("/")
    return after_scheme[slash:] if slash >= 0 else "/"
