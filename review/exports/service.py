"""Exports for enforcement (线索移送): referral list, evidence packages, referral letters.

Each export is written to the audit trail with who took what out; the web views and
the CLI call the same methods.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from review.exports.evidence import evidence_package
from review.exports.letters import default_template, render_letter
from review.exports.sheets import REFERRAL_HEADERS, csv_bytes, referral_rows, xlsx_bytes
from review.rendering import CHINA
from store.errors import NotFound
from store.evidence import EvidenceStore
from store.review_queries import ReviewQueries
from store.workbench import Workbench

TOOL = "jingwang 净网 0.1"
MEDIA = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "zip": "application/zip",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
FORMATS = ("xlsx", "csv")


@dataclass(frozen=True, slots=True)
class ExportFile:
    filename: str
    media_type: str
    content: bytes

    def disposition(self) -> str:
        """A Content-Disposition that keeps a Chinese file name and an ASCII fallback."""
        ascii_name = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_"
                             for c in self.filename)
        return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(self.filename)}"


class ExportService:
    def __init__(self, *, queries: ReviewQueries, workbench: Workbench,
                 evidence: EvidenceStore, clock: Callable[[], datetime],
                 letter_template: Path | None = None) -> None:
        self.queries = queries
        self.workbench = workbench
        self.evidence = evidence
        self.clock = clock
        self.letter_template = letter_template

    def _stamp(self) -> str:
        return self.clock().astimezone(CHINA).strftime("%Y%m%d-%H%M%S")

    def referral_list(self, lead_ids: Sequence[int], *, fmt: str, actor: str,
                      query: dict[str, str] | None = None) -> ExportFile:
        """The 线索移送清单 of these leads as XLSX or CSV."""
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r} (choose {', '.join(FORMATS)})")
        bundles = self.queries.bundles(lead_ids)
        rows = referral_rows(bundles)
        if fmt == "xlsx":
            content = xlsx_bytes(REFERRAL_HEADERS, rows, title="线索移送清单")
        else:
            content = csv_bytes(REFERRAL_HEADERS, rows)
        name = f"线索移送清单-{self._stamp()}.{fmt}"
        self.workbench.record(
            actor=actor, action="export.referral_list", object_type="export", object_id=name,
            detail={"format": fmt, "rows": len(rows), "leads": len(bundles),
                    "lead_ids": [b.lead.id for b in bundles], "query": query or {}},
            lead_ids=[b.lead.id for b in bundles])
        return ExportFile(name, MEDIA[fmt], content)

    def evidence_package(self, lead_id: int, *, actor: str) -> ExportFile:
        bundles = self.queries.bundles([lead_id])
        if not bundles:
            raise NotFound(f"unknown lead {lead_id}")
        now = self.clock()
        content = evidence_package(bundles[0].lead, self.evidence, exported_by=actor,
                                   exported_at=now, tool=TOOL)
        name = f"线索{lead_id}-电子证据-{self._stamp()}.zip"
        self.workbench.record(actor=actor, action="export.evidence", object_type="export",
                              object_id=name, detail={"lead_ids": [lead_id],
                                                      "size": len(content)},
                              lead_ids=[lead_id])
        return ExportFile(name, MEDIA["zip"], content)

    def template(self) -> bytes:
        if self.letter_template is not None and self.letter_template.is_file():
            return self.letter_template.read_bytes()
        return default_template()

    def letter(self, *, unit: str, lead_ids: Sequence[int], actor: str, authority: str,
               number: str = "", template: bytes | None = None) -> ExportFile:
        """The 移送函 to ``unit`` listing the flagged listings of ``lead_ids``."""
        bundles = self.queries.bundles(lead_ids)
        rows = referral_rows(bundles)
        today = self.clock().astimezone(CHINA)
        fields = {"机关名称": authority, "承办单位": unit, "文号": number,
                  "日期": f"{today.year}年{today.month}月{today.day}日",
                  "线索数量": str(len(bundles)), "商品数量": str(len(rows))}
        content = render_letter(template or self.template(), fields=fields, rows=rows)
        name = f"移送函-{unit}-{self._stamp()}.docx"
        self.workbench.record(actor=actor, action="export.letter", object_type="export",
                              object_id=name, detail={"unit": unit, "leads": len(bundles),
                                                      "lead_ids": [b.lead.id for b in bundles]},
                              lead_ids=[b.lead.id for b in bundles])
        return ExportFile(name, MEDIA["docx"], content)

    def dismissals(self, *, actor: str) -> ExportFile:
        """Dismissal reasons with the matched phrases, for the lexicon's maintainers."""
        rows: list[list[object]] = []
        for item in self.queries.dismissals(limit=10_000):
            for rule, category, text, version in item.findings or (("", "", "", ""),):
                rows.append([item.lead_id, item.platform, item.shop_name, rule, category, text,
                             version, item.reason or "",
                             item.dismissed_at.isoformat() if item.dismissed_at else ""])
        headers = ("线索编号", "平台", "店铺", "规则", "类别", "命中内容", "词库版本",
                   "排除理由", "排除时间")
        name = f"误报排除理由-{self._stamp()}.csv"
        self.workbench.record(actor=actor, action="export.dismissals", object_type="export",
                              object_id=name, detail={"rows": len(rows)})
        return ExportFile(name, MEDIA["csv"], csv_bytes(headers, rows))
