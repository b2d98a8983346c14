"""Export pages and downloads: referral list (XLSX/CSV), evidence ZIP, referral letter,
dismissal reasons for the lexicon. Every download is a POST with the CSRF token, because
each one writes the audit trail."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from jingwang.records import Category
from review.deps import AnalystUser, Ctx, CurrentLead, CurrentUser
from review.exports.evidence import EvidenceMissing
from review.exports.letters import TemplateError
from review.exports.service import FORMATS, MEDIA, ExportFile
from review.leads.enums import UNITS
from review.leads.filters import parse_filter
from store.enums import LeadStatus

router = APIRouter(include_in_schema=False)


def download(export: ExportFile) -> Response:
    return Response(content=export.content, media_type=export.media_type,
                    headers={"Content-Disposition": export.disposition(),
                             "Cache-Control": "no-store"})


@router.get("/exports")
def exports_page(request: Request, principal: CurrentUser, context: Ctx) -> Response:
    return context.renderer.page(request, "exports.html", {
        "statuses": list(LeadStatus), "categories": list(Category),
        "platforms": context.queries.platforms(),
        "units": sorted(set(UNITS) | set(context.queries.units())), "formats": FORMATS,
        "error": request.query_params.get("error", "")}, principal=principal)


@router.post("/exports/referral-list")
async def referral_list(request: Request, principal: AnalystUser, context: Ctx) -> Response:
    form = await request.form()
    params = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    statuses = [str(v) for v in form.getlist("status")]
    fmt = params.get("format", "xlsx")
    if fmt not in FORMATS:
        return RedirectResponse("/exports?error=format", status_code=303)
    ids = [int(v) for v in form.getlist("lead_id") if isinstance(v, str) and v.isdigit()]
    if not ids:
        query = parse_filter(params, statuses, me=principal.user.id).query
        ids = context.queries.lead_ids(query)
    described = {k: v for k, v in params.items() if k not in ("csrf_token",) and v}
    export = context.exports.referral_list(ids, fmt=fmt, actor=principal.user.username,
                                           query=described)
    return download(export)


@router.post("/leads/{lead_id}/evidence.zip")
def evidence_zip(lead: CurrentLead, principal: AnalystUser, context: Ctx) -> Response:
    try:
        export = context.exports.evidence_package(lead.id, actor=principal.user.username)
    except EvidenceMissing:
        return RedirectResponse(f"/leads/{lead.id}?error=evidence_missing", status_code=303)
    return download(export)


@router.post("/exports/letter")
async def letter(request: Request, principal: AnalystUser, context: Ctx) -> Response:
    form = await request.form()
    unit = str(form.get("unit") or "").strip()
    if not unit:
        return RedirectResponse("/exports?error=unit", status_code=303)
    statuses = [str(v) for v in form.getlist("status")] or [LeadStatus.CONFIRMED.value,
                                                            LeadStatus.REFERRED.value]
    query = parse_filter({"unit": unit}, statuses, me=principal.user.id).query
    ids = context.queries.lead_ids(query)
    try:
        export = context.exports.letter(
            unit=unit, lead_ids=ids, actor=principal.user.username,
            authority=str(form.get("authority") or "").strip() or "市场监督管理局",
            number=str(form.get("number") or "").strip())
    except TemplateError:
        return RedirectResponse("/exports?error=template", status_code=303)
    return download(export)


@router.get("/exports/letter-template.docx")
def letter_template(principal: CurrentUser, context: Ctx) -> Response:
    return Response(content=context.exports.template(), media_type=MEDIA["docx"],
                    headers={"Content-Disposition": ExportFile(
                        "移送函模板.docx", MEDIA["docx"], b"").disposition()})


@router.get("/lexicon/dismissals")
def dismissals(request: Request, principal: CurrentUser, context: Ctx) -> Response:
    items = context.queries.dismissals(limit=500)
    by_rule: dict[tuple[str, str], int] = {}
    for item in items:
        for rule, category, _, _ in dict.fromkeys((f[0], f[1], "", "") for f in item.findings):
            by_rule[(rule, category)] = by_rule.get((rule, category), 0) + 1
    ranked = sorted(by_rule.items(), key=lambda kv: (-kv[1], kv[0]))
    return context.renderer.page(request, "dismissals.html", {
        "items": items, "ranked": ranked}, principal=principal)


@router.post("/lexicon/dismissals.csv")
def dismissals_csv(principal: AnalystUser, context: Ctx,
                   csrf_token: Annotated[str, Form()] = "") -> Response:
    return download(context.exports.dismissals(actor=principal.user.username))
