"""REST API under /api/v1: leads, listings, findings, decisions, exports and figures.

Authenticate with a per-user token (``Authorization: Bearer jw_…``, made on the account
page or with ``jingwang user token``); the browser session works too, with its CSRF
token in ``X-CSRF-Token`` for state changes.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from fastapi.security import HTTPBearer

from review.api.schemas import (
    DecisionIn,
    FindingOut,
    LeadOut,
    LeadPageOut,
    LeadSummaryOut,
    ListingHistoryOut,
    NoteIn,
    StatsOut,
    UserOut,
    VersionOut,
)
from review.deps import AnalystUser, Ctx, CurrentLead, CurrentUser
from review.exports.evidence import EvidenceMissing
from review.exports.service import FORMATS
from review.exports.views import download
from review.leads.enums import Decision
from review.leads.filters import parse_filter
from review.leads.service import DecisionError, DecisionInput
from review.stats.views import period_from

# Declares the bearer scheme in the OpenAPI document (the gate middleware checks it).
bearer = HTTPBearer(auto_error=False, description="API token from /account")
router = APIRouter(prefix="/api/v1", tags=["api"], dependencies=[Depends(bearer)])


@router.get("/me", response_model=UserOut)
def me(principal: CurrentUser) -> UserOut:
    user = principal.user
    return UserOut(username=user.username, display_name=user.display_name,
                   role=user.role.value)


@router.get("/leads", response_model=LeadPageOut)
def leads(request: Request, principal: CurrentUser, context: Ctx,
          status: Annotated[list[str] | None, Query()] = None, page: int = Query(1, ge=1),
          per_page: int = Query(50, ge=1, le=500)) -> LeadPageOut:
    """Leads filtered like the queue: status (repeatable), category, platform, unit,
    min_score, from, to (YYYY-MM-DD, China time), q, assignee (me/none), escalated, sort."""
    form = parse_filter(request.query_params, status or [], me=principal.user.id)
    result = context.leads.queue(form.query, page=page, per_page=per_page)
    return LeadPageOut(total=result.total, page=page, per_page=per_page,
                       items=[LeadSummaryOut.of(row) for row in result.rows])


@router.get("/leads/{lead_id}", response_model=LeadOut)
def lead(lead: CurrentLead, context: Ctx) -> LeadOut:
    return LeadOut.of(lead, context.leads.state(lead.id))


@router.post("/leads/{lead_id}/decisions", response_model=LeadOut)
def decide(lead: CurrentLead, body: DecisionIn, principal: AnalystUser,
           context: Ctx) -> LeadOut:
    try:
        choice = DecisionInput(decision=Decision(body.decision), reason_code=body.reason_code,
                               reason=body.reason, kind=body.kind, target=body.target,
                               note=body.note, outcome=body.outcome)
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=f"unknown decision {body.decision!r}") \
            from exc
    try:
        context.leads.decide(lead.id, choice, principal.user)
    except DecisionError as exc:
        raise HTTPException(status_code=409, detail=exc.key) from exc
    updated = context.leads.lead(lead.id)
    assert updated is not None
    return LeadOut.of(updated, context.leads.state(lead.id))


@router.post("/leads/{lead_id}/notes", response_model=LeadOut, status_code=201)
def note(lead: CurrentLead, body: NoteIn, principal: AnalystUser, context: Ctx) -> LeadOut:
    try:
        context.leads.add_note(lead.id, body.body, principal.user)
    except DecisionError as exc:
        raise HTTPException(status_code=409, detail=exc.key) from exc
    return LeadOut.of(lead, context.leads.state(lead.id))


@router.get("/leads/{lead_id}/evidence.zip", response_class=Response,
            responses={200: {"content": {"application/zip": {}}}})
def evidence_zip(lead: CurrentLead, principal: AnalystUser, context: Ctx) -> Response:
    """The lead's evidence package: files, manifest.json with SHA-256, 电子数据提取笔录."""
    try:
        return download(context.exports.evidence_package(lead.id,
                                                         actor=principal.user.username))
    except EvidenceMissing as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc


def _history(listing_id: int, context: Ctx) -> ListingHistoryOut:
    history = context.queries.listing_history(listing_id)
    if history is None:
        raise HTTPException(status_code=404, detail="listing not found")
    return ListingHistoryOut(id=history.id, platform=history.platform,
                             listing_id=history.listing_id, url=history.url,
                             removed_at=history.removed_at,
                             lead_ids=context.queries.lead_ids_of_listing(listing_id),
                             versions=[VersionOut.of(v) for v in history.versions])


@router.get("/listings/{listing_id}", response_model=ListingHistoryOut)
def listing(listing_id: int, principal: CurrentUser, context: Ctx) -> ListingHistoryOut:
    """A listing with every captured version, its findings and evidence hashes."""
    return _history(listing_id, context)


@router.get("/listings/{listing_id}/findings", response_model=list[FindingOut])
def findings(listing_id: int, principal: CurrentUser, context: Ctx) -> list[FindingOut]:
    """Findings of the listing's newest version that has any."""
    history = _history(listing_id, context)
    for version in reversed(history.versions):
        if version.findings:
            return list(version.findings)
    return []


@router.get("/exports/referral-list", response_class=Response,
            responses={200: {"content": {"application/vnd.openxmlformats-officedocument."
                                         "spreadsheetml.sheet": {}, "text/csv": {}}}})
def referral_list(request: Request, principal: AnalystUser, context: Ctx,
                  status: Annotated[list[str] | None, Query()] = None,
                  format: str = Query("xlsx", pattern="^(xlsx|csv)$")) -> Response:
    """The 线索移送清单 (XLSX or CSV) of the leads the queue filters select."""
    if format not in FORMATS:
        raise HTTPException(status_code=422, detail="format")
    form = parse_filter(request.query_params, status or [], me=principal.user.id)
    ids = context.queries.lead_ids(form.query)
    return download(context.exports.referral_list(
        ids, fmt=format, actor=principal.user.username,
        query={k: v for k, v in request.query_params.items()}))


@router.get("/stats", response_model=StatsOut)
def stats(principal: CurrentUser, context: Ctx,
          start: Annotated[str | None, Query(alias="from")] = None,
          end: Annotated[str | None, Query(alias="to")] = None) -> StatsOut:
    """The campaign's figures for whole China-time days [from, to]."""
    figures = context.stats.figures(period_from(context, start, end))
    return StatsOut(
        start=str(figures.period.first), end=str(figures.period.last), totals=figures.totals,
        by_platform=[{"platform": p.platform, "listings": p.listings, "leads": p.leads,
                      "confirmed": p.confirmed, "referred_platform": p.referred_platform,
                      "cleaned_up": p.cleaned_up} for p in figures.by_platform],
        by_category=[{"category": c, "leads": n, "confirmed": m}
                     for c, n, m in figures.by_category],
        by_unit=[{"unit": u, "leads": n} for u, n in figures.by_unit],
        by_week=[{"monday": str(w.monday), "leads": w.leads, "confirmed": w.confirmed,
                  "referred": w.referred} for w in figures.by_week])
