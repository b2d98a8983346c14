"""The referral list (线索移送清单) as rows, and any table as XLSX or CSV with every cell
that a spreadsheet could read as a formula neutralised."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from datetime import datetime

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from jingwang.i18n import catalogue, t
from review.rendering import local_time
from store.enums import EvidenceKind
from store.review_queries import LeadBundle

# A cell starting with one of these is a formula (or DDE payload) to Excel, WPS and
# LibreOffice; a leading apostrophe makes it text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

REFERRAL_HEADERS = ("序号", "线索编号", "平台", "店铺", "经营者名称", "统一社会信用代码",
                    "商品链接", "商品标题", "命中内容", "违规类别", "法律依据", "取证时间",
                    "证据SHA-256", "承办单位")
FIELD_ORDER = {"title": 0, "description": 1}
EVIDENCE_LABELS = {EvidenceKind.HTML: "网页快照", EvidenceKind.SCREENSHOT: "截图",
                   EvidenceKind.CAPTURE_RECORD: "提取记录"}

_OPERATOR = re.compile(r"(?:企业名称|公司名称|经营者名称|经营者|名称|主体)\s*[:：]\s*"
                       r"([^\s,，;；|/]{2,60})")
_COMPANY = re.compile(r"([\u4e00-\u9fff（）()A-Za-z0-9]{2,40}(?:有限责任公司|股份有限公司|"
                      r"有限公司|工作室|经营部|商行|中心|事务所))")


def neutralise(value: object) -> object:
    """Text that a spreadsheet would evaluate comes back prefixed with an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def platform_label(platform: str) -> str:
    key = f"platform.{platform}"
    return t(key) if key in catalogue() else platform


def operator_name(license_text: str | None) -> str:
    """The business name (经营者名称) a shop's licence text shows, if it shows one."""
    if not license_text:
        return ""
    named = _OPERATOR.search(license_text)
    if named:
        return named.group(1)
    company = _COMPANY.search(license_text)
    return company.group(1) if company else ""


def capture_time(value: datetime | None) -> str:
    return local_time(value, "%Y-%m-%d %H:%M:%S") if value else ""


def referral_rows(bundles: Sequence[LeadBundle]) -> list[list[object]]:
    """One row per flagged listing (listings without findings are left out)."""
    rows: list[list[object]] = []
    for bundle in bundles:
        lead = bundle.lead
        for item in lead.listings:
            if not item.findings:
                continue
            # Title first, then description, then other fields, each in reading order.
            findings = sorted(item.findings, key=lambda f: (
                FIELD_ORDER.get(f.field, len(FIELD_ORDER)), f.field, f.start))
            phrases = dict.fromkeys(f.text for f in findings)
            categories = dict.fromkeys(t(f"category.{f.category}") for f in findings)
            basis = dict.fromkeys(b for f in findings for b in f.legal_basis)
            hashes = "\n".join(f"{EVIDENCE_LABELS.get(e.kind, e.kind)} {e.sha256}"
                               for e in item.evidence)
            rows.append([len(rows) + 1, lead.id, platform_label(lead.platform), lead.shop_name,
                         operator_name(lead.license_text), lead.credit_code or "",
                         item.url or "", item.title, "、".join(phrases), "、".join(categories),
                         "；".join(basis), capture_time(item.captured_at), hashes,
                         bundle.review.unit or ""])
    return rows


def xlsx_bytes(headers: Sequence[str], rows: Sequence[Sequence[object]], *,
               title: str) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    sheet.append(list(headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([neutralise(v) for v in row])
    wrap = Alignment(wrap_text=True, vertical="top")
    for row_cells in sheet.iter_rows(min_row=2):
        for cell in row_cells:
            if isinstance(cell, Cell) and isinstance(cell.value, str):
                # Never a formula, whatever openpyxl guessed from the text.
                cell.data_type = "s"
                cell.alignment = wrap
    for i, header in enumerate(headers, start=1):
        longest = max([len(str(header)) * 2, *(min(len(str(r[i - 1])), 60)
                                               for r in rows if len(r) >= i)], default=10)
        sheet.column_dimensions[get_column_letter(i)].width = max(8, min(longest + 2, 60))
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    """UTF-8 with a byte-order mark, so Excel opens the Chinese text correctly."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([neutralise(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
