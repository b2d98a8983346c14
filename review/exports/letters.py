"""The referral letter (移送函) to one unit, filled into a DOCX template the bureau edits.

A template is any Word document with ``{占位符}`` in its text: ``{机关名称}``,
``{承办单位}``, ``{文号}``, ``{日期}``, ``{线索数量}``, ``{商品数量}``. A table row
holding ``{序号}`` is repeated once per listing, with ``{平台}``, ``{店铺}``,
``{经营者名称}``, ``{统一社会信用代码}``, ``{商品标题}``, ``{商品链接}``, ``{命中内容}``,
``{违规类别}``, ``{法律依据}``, ``{取证时间}`` and ``{证据SHA-256}``.
"""

from __future__ import annotations

import copy
import io
import re
from collections.abc import Iterator, Mapping, Sequence

from docx import Document
from docx.document import Document as DocumentType
from docx.shared import Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from review.exports.sheets import REFERRAL_HEADERS

PLACEHOLDER = re.compile(r"\{([^{}\s]{1,20})\}")
ROW_MARK = "{序号}"
ROW_FIELDS = ("序号", "平台", "店铺", "经营者名称", "统一社会信用代码", "违规类别",
              "商品链接", "证据SHA-256")


class TemplateError(ValueError):
    """A letter template that is not a readable DOCX."""


def default_template() -> bytes:
    """The built-in template; ``jingwang export template`` writes it out for editing."""
    document = Document()
    document.styles["Normal"].font.size = Pt(12)
    document.add_heading("{机关名称}", level=1)
    document.add_heading("关于移送涉嫌虚假认证违法线索的函", level=2)
    document.add_paragraph("{文号}")
    document.add_paragraph("{承办单位}：")
    document.add_paragraph(
        "　　在虚假认证专项整治行动中，我局通过网络交易监测发现下列涉嫌违法线索 {线索数量} 条"
        "（涉及商品 {商品数量} 件），根据职责分工现移送你单位依法核查处理，"
        "并请将处理结果及时反馈我局。")
    document.add_paragraph("　　附件：线索移送清单、电子数据及提取笔录")
    table = document.add_table(rows=2, cols=len(ROW_FIELDS))
    table.style = "Table Grid"
    for cell, name in zip(table.rows[0].cells, ROW_FIELDS, strict=True):
        cell.text = name
    for cell, name in zip(table.rows[1].cells, ROW_FIELDS, strict=True):
        cell.text = "{" + name + "}"
    document.add_paragraph()
    document.add_paragraph("{机关名称}")
    document.add_paragraph("{日期}")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _fill(paragraph: Paragraph, values: Mapping[str, str]) -> None:
    """Replace placeholders even when Word split one across several runs."""
    text = "".join(run.text for run in paragraph.runs)
    if "{" not in text:
        return
    filled = PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)
    if filled == text:
        return
    runs = paragraph.runs
    runs[0].text = filled
    for run in runs[1:]:
        run.text = ""


def _tables(container: DocumentType | _Cell) -> Iterator[Table]:
    for table in container.tables:
        yield table
        for row in table.rows:
            for cell in row.cells:
                yield from _tables(cell)


def _paragraphs(document: DocumentType) -> Iterator[Paragraph]:
    yield from document.paragraphs
    for table in _tables(document):
        for row in table.rows:
            for cell in row.cells:
                yield from cell.paragraphs
    for section in document.sections:
        for part in (section.header, section.footer):
            yield from part.paragraphs


def _expand_rows(document: DocumentType, rows: Sequence[Mapping[str, str]]) -> None:
    for table in list(_tables(document)):
        for row in list(table.rows):
            if ROW_MARK not in "".join(cell.text for cell in row.cells):
                continue
            template = row._tr
            for values in rows:
                clone = copy.deepcopy(template)
                template.addprevious(clone)
                for paragraph in clone.iter(
                        "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}p"):
                    _fill(Paragraph(paragraph, row._parent), values)
            template.getparent().remove(template)


def render_letter(template: bytes, *, fields: Mapping[str, str],
                  rows: Sequence[Sequence[object]]) -> bytes:
    """Fill ``template`` with ``fields`` and one table row per referral-list row."""
    try:
        document = Document(io.BytesIO(template))
    except Exception as exc:  # python-docx raises several kinds for a bad file
        raise TemplateError(f"not a DOCX template: {exc}") from exc
    row_values = [{header: str(value) for header, value in zip(REFERRAL_HEADERS, row,
                                                               strict=False)}
                  for row in rows]
    _expand_rows(document, row_values)
    for paragraph in _paragraphs(document):
        _fill(paragraph, fields)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
