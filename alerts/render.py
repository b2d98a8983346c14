"""Chinese title and body of every kind of alert, from outbox payloads (message catalogue).

Payload text is seller-written: it is only ever put into plain text here; channels
that render markup (e-mail HTML, DingTalk markdown) get it as text, never as markup.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from jingwang.i18n import t

_CHINA = ZoneInfo("Asia/Shanghai")
MAX_LISTINGS = 10


def lead_link(payload: dict[str, Any], base_url: str | None) -> str:
    return f"{base_url.rstrip('/')}/leads/{payload.get('lead_id')}" if base_url else ""


def _categories(payload: dict[str, Any]) -> str:
    return "、".join(t(f"category.{c}") for c in payload.get("categories", []))


def _listings(payload: dict[str, Any], items: list[dict[str, Any]] | None = None) -> str:
    items = payload.get("listings", []) if items is None else items
    lines = []
    for item in items[:MAX_LISTINGS]:
        gone = t("alert.removed") if item.get("removed_at") else ""
        lines.append(f"· {item.get('title', '')} {item.get('url') or ''}".rstrip() + gone)
    total = int(payload.get("listing_count") or len(items))
    if total > min(len(items), MAX_LISTINGS):
        lines.append(t("alert.more_listings", n=total))
    return "\n".join(lines)


def _extras(payload: dict[str, Any]) -> list[str]:
    lines = []
    if payload.get("unit_name"):
        lines.append(t("alert.to_unit", unit=payload["unit_name"]))
    if payload.get("signals"):
        lines.append(t("alert.signals", signals="、".join(
            t(f"signal.{s}") for s in payload["signals"])))
    if payload.get("other_shops"):
        lines.append(t("alert.other_shops", shops="、".join(
            f"{s.get('shop', '')}（{s.get('platform', '')}）" for s in payload["other_shops"])))
    return lines


def _event_name(payload: dict[str, Any]) -> str:
    event = str(payload.get("event") or "created")
    referral = payload.get("referral")
    if event == "referred" and referral:
        return t(f"event.referred_{referral}")
    return t(f"event.{event}")


def render_lead(payload: dict[str, Any], *, base_url: str | None = None) -> tuple[str, str]:
    """A message about one lead (created, confirmed, referred, reminder, takedown)."""
    link = lead_link(payload, base_url)
    platform = t(f"platform.{payload.get('platform', '')}") if payload.get("platform") else ""
    platform = payload.get("platform", "") if platform.startswith("platform.") else platform
    shop = payload.get("shop", "")
    event = str(payload.get("event") or "created")
    if event == "created":
        title = t("alert.lead_created_title", platform=platform, shop=shop)
        body = t("alert.lead_created_body", platform=platform, shop=shop,
                 categories=_categories(payload), score=payload.get("score", ""),
                 listings=_listings(payload), link=link)
    elif event == "takedown_overdue":
        title = t("alert.takedown_title", platform=platform, shop=shop)
        body = t("alert.takedown_body", days=payload.get("days", ""), platform=platform,
                 shop=shop, listings=_listings(payload, payload.get("overdue", [])), link=link)
    else:
        name = _event_name(payload)
        title = t("alert.lead_event_title", event=name, platform=platform, shop=shop)
        body = t("alert.lead_event_body", event=name, platform=platform, shop=shop,
                 status=t(f"status.{payload.get('status', '')}"),
                 categories=_categories(payload), score=payload.get("score", ""),
                 listings=_listings(payload), link=link)
    extras = _extras(payload)
    return title, "\n".join([body, *extras]) if extras else body


def _local(value: str) -> str:
    return datetime.fromisoformat(value).astimezone(_CHINA).strftime("%Y-%m-%d %H:%M")


def render_digest(payload: dict[str, Any], *, base_url: str | None = None) -> tuple[str, str]:
    start, end = _local(payload["window_start"]), _local(payload["window_end"])
    title = t("alert.digest_title", unit=payload.get("unit_name") or "",
              period=t(f"digest.{payload.get('period', 'daily')}"), start=start, end=end)
    categories = "\n".join(t("alert.digest_category", category=t(f"category.{c}"), n=n)
                           for c, n in sorted(payload.get("by_category", {}).items()))
    top_lines = [t("alert.digest_top")] if payload.get("top") else []
    for item in payload.get("top", []):
        top_lines.append(t("alert.digest_top_item", shop=item.get("shop", ""),
                           platform=item.get("platform", ""), score=item.get("score", ""),
                           link=lead_link(item, base_url)).rstrip())
    counts = payload.get("counts", {})
    body = t("alert.digest_body", start=start, end=end, new=counts.get("new", 0),
             categories=categories, confirmed=counts.get("confirmed", 0),
             referred=counts.get("referred", 0), closed=counts.get("closed", 0),
             removed=counts.get("removed", 0), overdue=counts.get("overdue", 0),
             top="\n".join(top_lines), link=(base_url or "").rstrip("/") + "/")
    return title, body


def render_group(payload: dict[str, Any], *, base_url: str | None = None) -> tuple[str, str]:
    """Several messages for one unit sent as one (grouped by the route's ``group_by``)."""
    items: list[dict[str, Any]] = payload.get("items", [])
    unit = payload.get("unit_name")
    title = (t("alert.group_title", unit=unit, n=len(items)) if unit
             else t("alert.group_title_plain", n=len(items)))
    sections = []
    for index, item in enumerate(items, 1):
        item_title, item_body = render(item, base_url=base_url)
        sections.append(t("alert.group_item", index=index, title=item_title) + "\n" + item_body)
    return title, "\n\n".join(sections)


def render(payload: dict[str, Any], *, base_url: str | None = None) -> tuple[str, str]:
    """Title and body of any outbox payload."""
    kind = payload.get("kind")
    if kind == "group":
        return render_group(payload, base_url=base_url)
    if kind == "digest":
        return render_digest(payload, base_url=base_url)
    if payload.get("event") == "source_blocked":
        # An operator notice, not a lead: the crawler wrote its Chinese title and body.
        return str(payload.get("title", "")), str(payload.get("body", ""))
    return render_lead(payload, base_url=base_url)
