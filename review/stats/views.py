"""The statistics page (figures with SVG charts), its workbook and the monthly briefing."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from jingwang.i18n import t
from review.deps import Ctx, CurrentUser, SupervisorUser
from review.exports.service import MEDIA, ExportFile
from review.exports.sheets import platform_label
from review.exports.views import download
from review.rendering import request_locale, translator
from review.stats.charts import columns, hbar
from review.stats.reports import briefing_docx, stats_xlsx
from review.stats.service import TOTAL_KEYS, Figures, Period, month_period

router = APIRouter(include_in_schema=False)
MAX_DAYS = 3 * 366


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        return None


def period_from(context: Ctx, start: str | None, end: str | None) -> Period:
    default = context.stats.default_period()
    first = _day(start) or default.first
    last = _day(end) or max(default.last, first)
    if last < first:
        first, last = last, first
    if (last - first).days > MAX_DAYS:
        first = date.fromordinal(last.toordinal() - MAX_DAYS)
    return Period(first, last)


def charts(figures: Figures, locale: str) -> dict[str, object]:
    tr = translator(locale)
    return {
        "platform": hbar(tr("stats.by_platform"),
                         [(platform_label(p.platform), (p.leads, p.confirmed))
                          for p in figures.by_platform],
                         (tr("stats.leads_found"), tr("stats.confirmed"))),
        "category": hbar(tr("stats.by_category"),
                         [(tr(f"category.{c}"), (found, confirmed))
                          for c, found, confirmed in figures.by_category],
                         (tr("stats.leads_found"), tr("stats.confirmed"))),
        "unit": hbar(tr("stats.by_unit"), [(u, (n,)) for u, n in figures.by_unit],
                     (tr("stats.referred_units"),)),
        "week": columns(tr("stats.by_week"), [f"{w.monday:%m-%d}" for w in figures.by_week],
                        [(w.leads, w.confirmed, w.referred) for w in figures.by_week],
                        (tr("stats.leads_found"), tr("stats.confirmed"),
                         tr("stats.referred"))),
    }


@router.get("/stats")
def stats_page(request: Request, principal: CurrentUser, context: Ctx) -> Response:
    period = period_from(context, request.query_params.get("from"),
                         request.query_params.get("to"))
    figures = context.stats.figures(period)
    today = context.stats.today()
    return context.renderer.page(request, "stats.html", {
        "figures": figures, "total_keys": TOTAL_KEYS, "platform_label": platform_label,
        "charts": charts(figures, request_locale(request)),
        "month": f"{today:%Y-%m}"}, principal=principal)


@router.post("/stats/export.xlsx")
async def stats_export(request: Request, principal: SupervisorUser, context: Ctx) -> Response:
    form = await request.form()
    period = period_from(context, str(form.get("from") or ""), str(form.get("to") or ""))
    content = stats_xlsx(context.stats.figures(period))
    name = f"专项整治统计-{period.first:%Y%m%d}-{period.last:%Y%m%d}.xlsx"
    context.leads.workbench.record(actor=principal.user.username, action="export.stats",
                                   object_type="export", object_id=name,
                                   detail={"from": str(period.first), "to": str(period.last)})
    return download(ExportFile(name, MEDIA["xlsx"], content))


@router.post("/stats/briefing.docx")
async def briefing(request: Request, principal: SupervisorUser, context: Ctx) -> Response:
    form = await request.form()
    month = str(form.get("month") or "")
    try:
        year, number = (int(part) for part in month.split("-", 1))
        period = month_period(year, number)
    except ValueError:
        return RedirectResponse("/stats?msg=bad_month", status_code=303)
    authority = str(form.get("authority") or "").strip()[:100] or "市场监督管理局"
    issue = str(form.get("issue") or "").strip()[:100] or f"{year}年第{number}期"
    content = briefing_docx(context.stats.figures(period), authority=authority, issue=issue,
                            generated_at=context.clock())
    name = f"信息简报-{year}年{number:02d}月.docx"
    context.leads.workbench.record(actor=principal.user.username, action="export.briefing",
                                   object_type="export", object_id=name,
                                   detail={"month": month, "title": t("stats.briefing")})
    return download(ExportFile(name, MEDIA["docx"], content))
