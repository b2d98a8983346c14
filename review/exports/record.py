"""The capture record of an evidence package, in the shape of an 电子数据提取笔录:
what was extracted, where, when, with what tool, and each file's SHA-256."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from docx import Document
from docx.shared import Pt

from jingwang.i18n import t
from review.exports.sheets import capture_time, operator_name, platform_label
from store.views import LeadView


@dataclass(frozen=True, slots=True)
class PackedFile:
    """One evidence file as it sits in the ZIP."""

    path: str
    kind: str
    sha256: str
    size: int
    content_type: str
    url: str
    final_url: str
    fetched_at: datetime
    tool: str
    listing_id: str


def _cell_text(cell: object, text: str) -> None:
    cell.text = text  # type: ignore[attr-defined]


def capture_record_docx(lead: LeadView, files: Sequence[PackedFile], *,
                        exported_by: str, exported_at: datetime) -> bytes:
    document = Document()
    style = document.styles["Normal"]
    style.font.size = Pt(10.5)
    document.add_heading("电子数据提取笔录", level=1)
    times = sorted(f.fetched_at for f in files)
    tools = sorted({f.tool for f in files})
    urls = list(dict.fromkeys(f.url for f in files))
    categories = "、".join(t(f"category.{c}") for c in lead.categories)
    operator = operator_name(lead.license_text)
    facts = [
        ("案由", f"涉嫌网络销售虚假认证证书、检验检测报告或虚假宣传（线索编号 {lead.id}；"
               f"{categories or '—'}）"),
        ("提取对象", f"{platform_label(lead.platform)} 店铺“{lead.shop_name}”"
                 + (f"，经营者 {operator}" if operator else "")
                 + (f"，统一社会信用代码 {lead.credit_code}" if lead.credit_code else "")),
        ("提取时间", f"{capture_time(times[0])} 至 {capture_time(times[-1])}（北京时间）"
         if times else "—"),
        ("提取地点", "互联网（网络交易平台）：" + "；".join(urls) if urls else "—"),
        ("提取方法", "使用“净网”网络交易监测系统自动访问上述网址，保存网页源代码、页面截图及"
                 "访问记录（请求地址、最终地址、响应状态、响应头、时间），逐一计算 SHA-256 "
                 "校验值；文件按校验值存储，提取后未作任何修改。"),
        ("提取工具", "；".join(tools) or "—"),
        ("校验算法", "SHA-256"),
        ("导出时间", capture_time(exported_at) + "（北京时间）"),
        ("导出人", exported_by),
    ]
    table = document.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for label, value in facts:
        row = table.add_row().cells
        _cell_text(row[0], label)
        _cell_text(row[1], value)
    document.add_paragraph()
    document.add_paragraph("提取内容：")
    listing = document.add_table(rows=1, cols=6)
    listing.style = "Table Grid"
    for cell, head in zip(listing.rows[0].cells,
                          ("序号", "文件", "类型", "大小（字节）", "SHA-256", "提取时间"),
                          strict=True):
        _cell_text(cell, head)
    for i, item in enumerate(files, start=1):
        cells = listing.add_row().cells
        for cell, value in zip(cells, (str(i), item.path, item.content_type, str(item.size),
                                       item.sha256, capture_time(item.fetched_at)),
                               strict=True):
            _cell_text(cell, value)
    document.add_paragraph()
    document.add_paragraph("提取人（签名）：＿＿＿＿＿＿　　见证人（签名）：＿＿＿＿＿＿")
    document.add_paragraph("日期：＿＿＿＿年＿＿月＿＿日")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
