"""The campaign's figures as a workbook and as the monthly briefing (信息简报, DOCX)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime

from docx import Document
from docx.shared import Pt
from openpyxl import Workbook
from openpyxl.styles import Font

from jingwang.i18n import t
from review.exports.sheets import neutralise, platform_label
from review.rendering import CHINA
from review.stats.service import TOTAL_KEYS, Figures


def _period_text(figures: Figures) -> str:
    p = figures.period
    return f"{p.first:%Y年%m月%d日}至{p.last:%Y年%m月%d日}"


def tables(figures: Figures) -> list[tuple[str, tuple[str, ...], list[list[object]]]]:
    """(sheet title, headers, rows) for each breakdown; shared by XLSX and DOCX."""
    totals = [[t(f"stats.{key}"), figures.totals[key], item] for key, item in TOTAL_KEYS]
    platforms = [[platform_label(p.platform), p.listings, p.leads, p.confirmed,
                  p.referred_platform, p.cleaned_up] for p in figures.by_platform]
    categories = [[t(f"category.{c}"), found, confirmed]
                  for c, found, confirmed in figures.by_category]
    units = [[unit, n] for unit, n in figures.by_unit]
    weeks = [[f"{w.monday:%Y-%m-%d}", w.leads, w.confirmed, w.referred]
             for w in figures.by_week]
    return [
        ("总体情况", ("指标", "数量", "对应验收标准序号"), totals),
        ("分平台", ("平台", "监测商品", "发现线索", "确认违规", "移送平台", "已清理"),
         platforms),
        ("分类别", ("违规类别", "发现线索", "确认违规"), categories),
        ("分单位", ("承办单位", "移送线索"), units),
        ("分周", ("周（周一）", "发现线索", "确认违规", "移送线索"), weeks),
    ]


def stats_xlsx(figures: Figures) -> bytes:
    book = Workbook()
    first = True
    for title, headers, rows in tables(figures):
        sheet = book.active if first else book.create_sheet()
        assert sheet is not None
        first = False
        sheet.title = title
        sheet.append(["统计期间", _period_text(figures)])
        sheet.append(list(headers))
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append([neutralise(v) for v in row])
        for row_cells in sheet.iter_rows(min_row=3):
            for cell in row_cells:
                if isinstance(cell.value, str):
                    cell.data_type = "s"
        sheet.column_dimensions["A"].width = 28
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _table(document: object, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    table = document.add_table(rows=1, cols=len(headers))  # type: ignore[attr-defined]
    table.style = "Table Grid"
    for cell, head in zip(table.rows[0].cells, headers, strict=True):
        cell.text = head
    for row in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = str(value)


def briefing_docx(figures: Figures, *, authority: str, issue: str,
                  generated_at: datetime) -> bytes:
    """The monthly 信息简报 of the campaign's online monitoring."""
    totals = figures.totals
    document = Document()
    document.styles["Normal"].font.size = Pt(12)
    document.add_heading("虚假认证专项整治行动信息简报", level=1)
    document.add_paragraph(f"{issue}　　{authority}　　"
                           f"{generated_at.astimezone(CHINA):%Y年%m月%d日}")
    document.add_heading("一、网络交易监测总体情况", level=2)
    document.add_paragraph(
        f"　　{_period_text(figures)}，通过“净网”网络交易监测系统监测网络交易平台商品 "
        f"{totals['listings_monitored']} 件，发现涉嫌虚假认证、虚假宣传等违法线索 "
        f"{totals['leads_found']} 条；经人工审核确认违规 {totals['confirmed']} 条，"
        f"排除误报 {totals['dismissed']} 条。")
    document.add_paragraph(
        f"　　移送执法单位线索 {totals['referred_units']} 条，督促网络交易平台清理 "
        f"{totals['referred_platform']} 条，平台已清理（下架）违规商品 {totals['cleaned_up']} "
        f"件，移送公安机关 {totals['referred_police']} 条，办结 {totals['closed']} 条。")
    headings = {"分平台": "二、分平台情况", "分类别": "三、违规类别分布",
                "分单位": "四、线索移送情况", "分周": "五、分周趋势"}
    for title, headers, rows in tables(figures)[1:]:
        document.add_heading(headings[title], level=2)
        if rows:
            _table(document, headers, rows)
        else:
            document.add_paragraph("　　本期无数据。")
    document.add_heading("六、下一步工作", level=2)
    document.add_paragraph("　　（请专班办公室补充。）")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
