"""Read a cookie file an analyst exported from a logged-in browser session.

Two formats: Netscape ``cookies.txt`` (curl, wget, most "export cookies"
extensions) and JSON — a list of cookie objects (EditThisCookie, Cookie-Editor)
or a Playwright storage state (``{"cookies": [...]}``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx


@dataclass(frozen=True, slots=True)
class Cookie:
    name: str
    value: str
    domain: str
    path: str = "/"
    secure: bool = False
    expires: float | None = None  # Unix time; None for a session cookie


class CookieFileError(ValueError):
    """The cookie file cannot be read; the message names the line or entry."""


def load_cookie_file(path: Path) -> list[Cookie]:
    """The cookies of ``path``; raises :class:`CookieFileError` naming the bad line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CookieFileError(f"cookie file {path} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CookieFileError(f"cookie file {path} cannot be read: {exc}") from None
    if text.lstrip().startswith(("[", "{")):
        return _json_cookies(path, text)
    return _netscape_cookies(path, text)


def _netscape_cookies(path: Path, text: str) -> list[Cookie]:
    cookies = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith("#HttpOnly_"):  # curl marks HttpOnly cookies this way
            line = line[len("#HttpOnly_"):]
        elif not line or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 7:
            raise CookieFileError(f"{path}:{number}: expected 7 tab-separated fields "
                                  f"(domain, subdomains, path, secure, expiry, name, value), "
                                  f"got {len(parts)}")
        domain, _subdomains, cookie_path, secure, expiry, name, value = parts
        try:
            expires = float(expiry) or None
        except ValueError:
            raise CookieFileError(f"{path}:{number}: expiry {expiry!r} is not a number") from None
        cookies.append(Cookie(name=name, value=value, domain=domain, path=cookie_path or "/",
                              secure=secure.upper() == "TRUE", expires=expires))
    return cookies


def _json_cookies(path: Path, text: str) -> list[Cookie]:
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CookieFileError(f"{path}:{exc.lineno}: invalid JSON ({exc.msg})") from None
    if isinstance(data, dict):
        data = data.get("cookies")
    if not isinstance(data, list):
        raise CookieFileError(f"{path}: expected a list of cookies or {{\"cookies\": [...]}}")
    cookies = []
    for i, item in enumerate(data):
        if not isinstance(item, dict) or not item.get("name") or not item.get("domain"):
            raise CookieFileError(f"{path}: cookie #{i + 1} needs at least name and domain")
        expires = item.get("expires", item.get("expirationDate"))
        cookies.append(Cookie(
            name=str(item["name"]), value=str(item.get("value", "")),
            domain=str(item["domain"]), path=str(item.get("path") or "/"),
            secure=bool(item.get("secure", False)),
            expires=float(expires) if isinstance(expires, int | float) and expires > 0 else None))
    return cookies


def to_httpx(cookies: list[Cookie]) -> httpx.Cookies:
    jar = httpx.Cookies()
    for cookie in cookies:
        jar.set(cookie.name, cookie.value, domain=cookie.domain, path=cookie.path)
    return jar
