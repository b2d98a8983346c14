"""Page rendering: one autoescaping Jinja environment, the request's locale, China time,
and the security headers every page carries."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from jingwang.i18n import DEFAULT_LOCALE, LOCALES, catalogue, t
from review.highlight import segments

HERE = Path(__file__).resolve().parent
LANG_COOKIE = "jw_lang"
# China Standard Time has no daylight saving: a fixed offset avoids needing tzdata.
CHINA = timezone(timedelta(hours=8), "CST")

# Pages: scripts and styles only from our own static files (no inline code at all),
# frames only from our own snapshot path, forms only to ourselves.
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
            "frame-ancestors 'none'")
COMMON_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC time shown in China time; empty for None."""
    if value is None:
        return ""
    return value.astimezone(CHINA).strftime(fmt)


def request_locale(request: Request) -> str:
    chosen = request.cookies.get(LANG_COOKIE, "")
    return chosen if chosen in LOCALES else DEFAULT_LOCALE


def translator(locale: str) -> Any:
    return partial(_translate, locale)


def _translate(locale: str, key: str, **values: Any) -> str:
    return t(key, locale, **values)


def known_message(key: str, locale: str = DEFAULT_LOCALE) -> bool:
    return key in catalogue(locale)


class Renderer:
    """Renders templates from ``review/templates`` with escaping always on."""

    def __init__(self) -> None:
        self.env = Environment(loader=FileSystemLoader(str(HERE / "templates")),
                               autoescape=True, undefined=StrictUndefined,
                               trim_blocks=True, lstrip_blocks=True)
        keys = set(catalogue())
        # Labels exist for known fields, evasions and audit actions; others show as stored.
        self.env.globals.update(
            segments=segments, local_time=local_time, LOCALES=LOCALES,
            field_keys={k for k in keys if k.startswith("field.")},
            evasion_keys={k for k in keys if k.startswith("evasion.")},
            audit_keys={k for k in keys if k.startswith("audit.")})
        self.env.filters["lt"] = local_time
        self.env.filters["tojson_attr"] = lambda value: json.dumps(value, ensure_ascii=False)

    def render(self, name: str, context: dict[str, Any]) -> str:
        return self.env.get_template(name).render(context)

    def page(self, request: Request, name: str, context: dict[str, Any], *,
             principal: Any = None, status_code: int = 200,
             headers: dict[str, str] | None = None) -> HTMLResponse:
        locale = request_locale(request)
        tr = translator(locale)
        flash = request.query_params.get("msg", "")
        full = {
            "request": request, "t": tr, "locale": locale, "principal": principal,
            "user": principal.user if principal is not None else None,
            "csrf": principal.csrf if principal is not None else "",
            "flash": tr(f"flash.{flash}") if flash and known_message(f"flash.{flash}") else "",
            "partial": request.headers.get("hx-request") == "true",
            **context,
        }
        response = HTMLResponse(self.render(name, full), status_code=status_code)
        response.headers.update(headers or {})
        return response
