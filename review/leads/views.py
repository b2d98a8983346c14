"""The queue, the lead page, decisions, notes, bulk actions, version history and the
evidence files (seller HTML only ever rendered inside a sandbox)."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from jingwang.records import Category
from review.auth.service import has_role
from review.deps import (
    AnalystUser,
    Ctx,
    CurrentLead,
    CurrentUser,
    Forbidden,
    LeadNotFound,
    Principal,
    SupervisorUser,
)
from review.leads.diff import changed, diff_text
from review.leads.enums import (
    DISMISS_REASONS,
    OUTCOMES,
    PLATFORM_TARGET,
    REFERRAL_KINDS,
    UNITS,
    Decision,
)
from review.leads.filters import PER_PAGE, FilterForm, page_number, parse_filter
from review.leads.service import BULK_ACTIONS, DecisionError, DecisionInput
from review.rendering import request_locale, translator
from store.enums import LEAD_TRANSITIONS, LeadStatus
from store.models_review import UserRole
from store.review_queries import QueueFilter

router = APIRouter(include_in_schema=False)

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
# Seller HTML is shown only here: its own path, a unique opaque origin (sandbox), no
# scripts, no plugins, no network, no forms, and only our own page may frame it.
SNAPSHOT_HEADERS = {
    "Content-Security-Policy": "sandbox; default-src 'none'; style-src 'unsafe-inline'; "
                               "img-src data:; frame-ancestors 'self'",
    "X-Frame-Options": "SAMEORIGIN",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "private, max-age=3600",
}
EVIDENCE_HEADERS = {**SNAPSHOT_HEADERS, "X-Frame-Options": "DENY",
                    "Content-Security-Policy": "sandbox; default-src 'none'"}


def _filter(request: Request, principal: Principal) -> FilterForm:
    return parse_filter(request.query_params, request.query_params.getlist("status"),
                        me=principal.user.id)


def _queue_context(context: Ctx, form: FilterForm, page: int) -> dict[str, object]:
    result = context.leads.queue(form.query, page=page, per_page=PER_PAGE)
    pages = max(1, -(-result.total // PER_PAGE))
    return {"rows": result.rows, "total": result.total, "page": page, "pages": pages,
            "form": form, "qs": form.querystring()}


@router.get("/")
def queue(request: Request, principal: CurrentUser, context: Ctx) -> Response:
    form = _filter(request, principal)
    page = page_number(request.query_params.get("page"))
    data = _queue_context(context, form, page)
    if request.headers.get("hx-request") == "true" and request.headers.get(
            "hx-target") == "queue-results":
        return context.renderer.page(request, "_queue_results.html", data,
                                     principal=principal)
    return context.renderer.page(request, "queue.html", {
        **data, "statuses": list(LeadStatus), "categories": list(Category),
        "platforms": context.queries.platforms(),
        "units": sorted(set(UNITS) | set(context.queries.units())),
        "bulk_actions": BULK_ACTIONS, "dismiss_reasons": DISMISS_REASONS},
        principal=principal)


def _allowed(status: LeadStatus, principal: Principal) -> set[str]:
    """Decisions the lead page offers for this status and role."""
    if not has_role(principal.user, UserRole.ANALYST):
        return set()
    moves = LEAD_TRANSITIONS[status]
    allowed = set()
    if status is LeadStatus.NEW:
        allowed |= {Decision.REVIEW, Decision.CONFIRM, Decision.ESCALATE}
    if status is LeadStatus.IN_REVIEW:
        allowed |= {Decision.CONFIRM, Decision.ESCALATE}
    if LeadStatus.DISMISSED in moves:
        allowed.add(Decision.DISMISS)
    if status in (LeadStatus.CONFIRMED, LeadStatus.REFERRED):
        allowed.add(Decision.REFER)
        if has_role(principal.user, UserRole.SUPERVISOR):
            allowed.add(Decision.CLOSE)
    return {str(d) for d in allowed}


@router.get("/leads/{lead_id}")
def lead_page(request: Request, lead: CurrentLead, principal: CurrentUser,
              context: Ctx) -> Response:
    form = _filter(request, principal)
    previous, following = context.queries.neighbours(form.query, lead.id)
    supervisor = has_role(principal.user, UserRole.SUPERVISOR)
    return context.renderer.page(request, "lead.html", {
        "lead": lead, "state": context.leads.state(lead.id),
        "trail": context.leads.trail(lead.id), "qs": form.querystring(),
        "previous": previous, "next": following,
        "allowed": _allowed(lead.status, principal),
        "dismiss_reasons": DISMISS_REASONS, "units": UNITS, "outcomes": OUTCOMES,
        "referral_kinds": [k.value for k in REFERRAL_KINDS],
        "platform_target": PLATFORM_TARGET,
        "users": [u for u in context.auth.accounts.users() if not u.disabled]
        if supervisor else [],
        "error": request.query_params.get("error", ""), "note_error": ""},
        principal=principal)


def _back(lead_id: int, qs: str, **extra: str) -> RedirectResponse:
    query = "&".join(p for p in [qs, *(f"{k}={v}" for k, v in extra.items())] if p)
    return RedirectResponse(f"/leads/{lead_id}" + (f"?{query}" if query else ""),
                            status_code=303)


def _clean_qs(qs: str) -> str:
    # The filter string only comes back to our own lead URL; keep it to plain characters.
    return re.sub(r"[^\w%&=+.\-]", "", qs)[:1000]


@router.post("/leads/{lead_id}/decide")
def decide(request: Request, lead: CurrentLead, principal: AnalystUser, context: Ctx,
           decision: Annotated[str, Form()], reason_code: Annotated[str, Form()] = "",
           reason: Annotated[str, Form()] = "", kind: Annotated[str, Form()] = "",
           target: Annotated[str, Form()] = "", note: Annotated[str, Form()] = "",
           outcome: Annotated[str, Form()] = "", qs: Annotated[str, Form()] = "") -> Response:
    qs = _clean_qs(qs)
    error: DecisionError | None = None
    try:
        choice = DecisionInput(decision=Decision(decision), reason_code=reason_code,
                               reason=reason, kind=kind, target=target, note=note,
                               outcome=outcome)
        context.leads.decide(lead.id, choice, principal.user)
    except ValueError:
        error = DecisionError("decision")
    except DecisionError as exc:
        if exc.key == "forbidden":
            raise Forbidden("role") from exc
        error = exc
    if _from_queue_row(request, lead.id):
        return _queue_row(request, context, principal, lead.id, qs, decision, error)
    if error:
        return _back(lead.id, qs, error=error.key)
    return _back(lead.id, qs, msg=f"decided_{decision}")


def _from_queue_row(request: Request, lead_id: int) -> bool:
    """A decision made with c / d / e on the queue: HTMX swaps the answer into the row."""
    return (request.headers.get("hx-request") == "true"
            and request.headers.get("hx-target") == f"row-{lead_id}")


def _queue_row(request: Request, context: Ctx, principal: Principal, lead_id: int,
               qs: str, decision: str, error: DecisionError | None) -> Response:
    """The lead's queue row as it is now, carrying the outcome for the queue to announce.

    The row stays even when it no longer matches the queue's filter, so the analyst sees
    what changed and the cursor keeps its place.
    """
    found = context.leads.queue(QueueFilter(lead_ids=(lead_id,)), page=1, per_page=1)
    if not found.rows:
        raise LeadNotFound()
    tr = translator(request_locale(request))
    message = (tr(f"error.{error.key}", **error.values) if error
               else tr(f"flash.decided_{decision}"))
    return context.renderer.page(request, "_queue_row.html", {
        "row": found.rows[0], "qs": qs, "message": f"#{lead_id} {message}",
        "message_kind": "error" if error else "ok"}, principal=principal)


@router.post("/leads/{lead_id}/claim")
def claim(request: Request, lead: CurrentLead, principal: AnalystUser, context: Ctx,
          qs: Annotated[str, Form()] = "") -> Response:
    ok = context.leads.claim(lead.id, principal.user)
    if request.headers.get("hx-request") == "true":
        state = context.leads.state(lead.id)
        return context.renderer.page(request, "_claim.html", {
            "lead_id": lead.id, "assignee": state.assignee, "refused": not ok},
            principal=principal)
    return _back(lead.id, _clean_qs(qs), **({"msg": "claimed"} if ok
                                           else {"error": "claimed_by_other"}))


@router.post("/leads/{lead_id}/assign")
def assign(lead: CurrentLead, principal: SupervisorUser, context: Ctx,
           username: Annotated[str, Form()] = "", qs: Annotated[str, Form()] = "") -> Response:
    try:
        context.leads.assign(lead.id, username or None, principal.user)
    except DecisionError as exc:
        return _back(lead.id, _clean_qs(qs), error=exc.key)
    return _back(lead.id, _clean_qs(qs), msg="assigned")


@router.post("/leads/{lead_id}/notes")
def add_note(request: Request, lead: CurrentLead, principal: AnalystUser, context: Ctx,
             body: Annotated[str, Form()] = "", qs: Annotated[str, Form()] = "") -> Response:
    error = ""
    try:
        context.leads.add_note(lead.id, body, principal.user)
    except DecisionError as exc:
        error = exc.key
    if request.headers.get("hx-request") == "true":
        tr = translator(request_locale(request))
        return context.renderer.page(request, "_notes.html", {
            "state": context.leads.state(lead.id), "lead": lead, "qs": _clean_qs(qs),
            "note_error": tr(f"error.{error}") if error else ""}, principal=principal)
    return _back(lead.id, _clean_qs(qs), **({"error": error} if error else {"msg": "noted"}))


@router.post("/leads/bulk")
async def bulk(request: Request, principal: AnalystUser, context: Ctx) -> Response:
    form = await request.form()
    ids = [int(v) for v in form.getlist("lead_id") if isinstance(v, str) and v.isdigit()]
    action = str(form.get("action") or "")
    reason_code = str(form.get("reason_code") or "")
    reason = str(form.get("reason") or "")
    if not ids or action not in BULK_ACTIONS:
        return RedirectResponse("/?msg=bulk_nothing", status_code=303)
    if form.get("confirmed") != "1":
        rows = context.queries.bundles(ids[:200])
        return context.renderer.page(request, "bulk_confirm.html", {
            "ids": ids, "bundles": rows, "action": action, "reason_code": reason_code,
            "reason": reason}, principal=principal)
    try:
        result = context.leads.bulk(ids, action, principal.user, reason_code=reason_code,
                                    reason=reason)
    except DecisionError as exc:
        return RedirectResponse(f"/?error={exc.key}", status_code=303)
    return context.renderer.page(request, "bulk_done.html", {
        "result": result, "action": action}, principal=principal)


@router.get("/listings/{listing_id}/versions")
def versions(request: Request, listing_id: int, principal: CurrentUser, context: Ctx,
             a: int | None = None, b: int | None = None) -> Response:
    history = context.queries.listing_history(listing_id)
    if history is None or not history.versions:
        raise HTTPException(status_code=404)
    by_id = {v.id: v for v in history.versions}
    new = by_id.get(b) if b is not None else None
    new = new or history.versions[-1]
    old = by_id.get(a) if a is not None else None
    if old is None:
        index = history.versions.index(new)
        old = history.versions[index - 1] if index > 0 else new
    fields = [(name, diff_text(getattr(old, name) or "", getattr(new, name) or ""))
              for name in ("title", "description", "price")]
    return context.renderer.page(request, "versions.html", {
        "history": history, "old": old, "new": new, "fields": fields, "changed": changed,
        "lead_ids": context.queries.lead_ids_of_listing(listing_id)}, principal=principal)


def _evidence_bytes(context: Ctx, sha256: str) -> tuple[bytes, str, str]:
    if not _SHA256.match(sha256):
        raise HTTPException(status_code=404)
    info = context.queries.evidence_known(sha256)
    if info is None:
        raise HTTPException(status_code=404)
    try:
        data = context.store.evidence_store.read(sha256)
    except FileNotFoundError as exc:
        raise HTTPException(status_code=410, detail="evidence file missing") from exc
    return data, info.content_type or "application/octet-stream", str(info.kind)


@router.get("/evidence/{sha256}")
def evidence(sha256: str, principal: CurrentUser, context: Ctx) -> Response:
    """The file's bytes; HTML comes back as plain text so nothing in it can run."""
    data, media, _ = _evidence_bytes(context, sha256)
    if not media.startswith(("image/png", "image/jpeg", "image/webp")):
        media = "text/plain; charset=utf-8"
    return Response(content=data, media_type=media, headers=EVIDENCE_HEADERS)


@router.get("/snapshot/{sha256}")
def snapshot(sha256: str, principal: CurrentUser, context: Ctx) -> Response:
    """The HTML snapshot rendered for the sandboxed iframe of the lead page."""
    data, media, kind = _evidence_bytes(context, sha256)
    if kind != "html":
        raise HTTPException(status_code=404)
    charset = "utf-8"
    found = re.search(r"charset=([\w-]+)", media)
    if found:
        charset = found.group(1)
    return Response(content=data, media_type=f"text/html; charset={charset}",
                    headers=SNAPSHOT_HEADERS)
