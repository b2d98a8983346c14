"""Referral exports read back: XLSX and CSV with neutralised formulas, the evidence ZIP
with its manifest and capture record, the referral letter, and the audit trail."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from docx import Document
from openpyxl import load_workbook
from typer.testing import CliRunner

from jingwang.cli import app as cli
from review.exports.letters import default_template, render_letter
from review.exports.sheets import REFERRAL_HEADERS, neutralise, operator_name
from tests.review.conftest import Workbench
from tests.review.data import FORMULA_TITLE


def _post(client: httpx.Client, path: str, data: dict[str, object]) -> httpx.Response:
    return client.post(path, data={**data, "csrf_token": client.csrf})  # type: ignore[attr-defined]


def test_neutralise_prefixes_every_formula_start() -> None:
    for payload in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert neutralise(payload) == "'" + payload
    assert neutralise("当天出证") == "当天出证"
    assert neutralise(3) == 3
    assert operator_name("企业名称：合肥速办认证咨询有限公司 统一社会信用代码：9134") == \
        "合肥速办认证咨询有限公司"
    assert operator_name("本店由 上海某某检测技术有限公司 运营") == "上海某某检测技术有限公司"
    assert operator_name(None) == ""


def test_xlsx_referral_list_reads_back_with_formulas_as_text(
        workbench: Workbench, as_role: Callable[[str], httpx.Client]) -> None:
    client = as_role("analyst")
    response = _post(client, "/exports/referral-list",
                     {"status": ["new"], "format": "xlsx", "sort": "oldest"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml")
    assert "filename*=UTF-8''%E7%BA%BF%E7%B4%A2" in response.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None and sheet.title == "线索移送清单"
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == REFERRAL_HEADERS
    assert len(rows) == 1 + 5
    by_title = {row[7]: row for row in rows[1:]}
    iso = by_title["ISO9001认证 当天出证 全国可查"]
    assert iso[2] == "沙箱商城" and iso[3] == "速办认证咨询工作室"
    assert iso[4] == "合肥速办认证咨询有限公司" and iso[5] == "91340100MA2T3XXXX1"
    assert iso[6] == "http://127.0.0.1:8765/item/sb-1001"
    assert iso[8] == "当天出证、包过"
    assert "涉嫌虚假认证/出具虚假证书报告" in iso[9] and "《广告法》第二十八条" in iso[10]
    assert iso[11] == "2024-03-04 09:00:00"
    lead = workbench.store.lead(workbench.seeded.leads["iso"])
    assert lead is not None
    html = next(e for e in lead.listings[0].evidence if e.kind.value == "html")
    assert f"网页快照 {html.sha256}" in iso[12]
    # The formula payloads come out as text, never as formulas.
    formula = by_title["'" + FORMULA_TITLE]
    assert formula[3] == "'-2+3 公式店" and formula[5] == "'=1+2"
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f", cell.coordinate
    trail = workbench.store.audit_events(object_type="lead", object_id=lead.id)
    assert trail[-1]["action"] == "export.referral_list" and trail[-1]["actor"] == "analyst"


def test_csv_referral_list_and_selected_leads(workbench: Workbench,
                                              as_role: Callable[[str], httpx.Client]) -> None:
    client = as_role("analyst")
    chosen = workbench.seeded.leads["formula"]
    response = _post(client, "/exports/referral-list", {"lead_id": [str(chosen)],
                                                        "format": "csv"})
    assert response.status_code == 200 and response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == list(REFERRAL_HEADERS) and len(rows) == 2
    assert rows[1][7] == "'" + FORMULA_TITLE and rows[1][5] == "'=1+2"


def test_evidence_zip_hashes_match_its_manifest(workbench: Workbench,
                                                as_role: Callable[[str], httpx.Client]) -> None:
    client = as_role("analyst")
    lead_id = workbench.seeded.leads["green"]
    response = _post(client, f"/leads/{lead_id}/evidence.zip", {})
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["lead_id"] == lead_id and manifest["exported_by"] == "analyst"
    assert {f["kind"] for f in manifest["files"]} == {"html", "screenshot", "capture_record"}
    for item in manifest["files"]:
        data = archive.read(item["path"])
        assert hashlib.sha256(data).hexdigest() == item["sha256"] and len(data) == item["size"]
    record = archive.read(manifest["record"]["path"])
    assert hashlib.sha256(record).hexdigest() == manifest["record"]["sha256"]
    text = "\n".join(cell.text for table in Document(io.BytesIO(record)).tables
                     for row in table.rows for cell in row.cells)
    assert "提取时间" in text and "SHA-256" in text and "绿源标准服务中心" in text
    for item in manifest["files"]:
        assert item["sha256"] in text
    trail = workbench.store.audit_events(object_type="lead", object_id=lead_id)
    assert trail[-1]["action"] == "export.evidence"


def test_evidence_zip_refuses_a_damaged_file(workbench: Workbench,
                                             as_role: Callable[[str], httpx.Client]) -> None:
    client = as_role("analyst")
    lead = workbench.store.lead(workbench.seeded.leads["green"])
    assert lead is not None
    path = workbench.store.evidence_store.path(lead.listings[0].evidence[0].sha256)
    path.chmod(0o644)
    path.write_bytes(b"tampered")
    response = _post(client, f"/leads/{lead.id}/evidence.zip", {})
    assert response.status_code == 303 and response.headers["location"].endswith(
        "error=evidence_missing")


def test_referral_letter_lists_the_units_leads(workbench: Workbench,
                                               as_role: Callable[[str], httpx.Client]) -> None:
    client = as_role("analyst")
    lead_id = workbench.seeded.leads["iso"]
    _post(client, f"/leads/{lead_id}/decide", {"decision": "confirm"})
    _post(client, f"/leads/{lead_id}/decide", {"decision": "refer", "kind": "unit",
                                               "target": "综合行政执法大队"})
    response = _post(client, "/exports/letter", {"unit": "综合行政执法大队",
                                                 "authority": "亳州市谯城区市场监督管理局",
                                                 "number": "谯市监移〔2024〕3号"})
    assert response.status_code == 200
    document = Document(io.BytesIO(response.content))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "亳州市谯城区市场监督管理局" in text and "谯市监移〔2024〕3号" in text
    assert "综合行政执法大队：" in text and "线索 1 条" in text and "{" not in text
    table = document.tables[0]
    assert [c.text for c in table.rows[1].cells][:3] == ["1", "沙箱商城", "速办认证咨询工作室"]
    assert len(table.rows) == 2
    assert _post(client, "/exports/letter", {"unit": ""}).status_code == 303


def test_letter_template_placeholders_survive_split_runs() -> None:
    document = Document(io.BytesIO(default_template()))
    paragraph = document.add_paragraph()
    for piece in ("{承办", "单位}", "请于十日内反馈"):
        paragraph.add_run(piece)
    out = io.BytesIO()
    document.save(out)
    filled = render_letter(out.getvalue(), fields={"承办单位": "法制股"},
                           rows=[[1, 7, "淘宝", "某店"], [2, 8, "京东", "另一店"]])
    result = Document(io.BytesIO(filled))
    assert "法制股请于十日内反馈" in [p.text for p in result.paragraphs]
    assert [row.cells[2].text for row in result.tables[0].rows] == ["店铺", "某店", "另一店"]


def test_cli_exports(workbench: Workbench, tmp_path: Path,
                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JINGWANG_DATABASE_URL", str(workbench.store.engine.url))
    config = tmp_path / "jingwang.yaml"
    config.write_text(f"evidence_dir: {workbench.store.evidence_store.root}\n", encoding="utf-8")
    runner = CliRunner()
    out = tmp_path / "list.xlsx"
    result = runner.invoke(cli, ["export", "leads", "--status", "new", "--format", "xlsx",
                                 "--out", str(out), "--config", str(config),
                                 "--actor", "cli:tester"])
    assert result.exit_code == 0, result.output
    rows = list(load_workbook(out).active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert len(rows) == 6 and rows[0][0] == "序号"
    zipped = tmp_path / "ev.zip"
    lead_id = workbench.seeded.leads["report"]
    result = runner.invoke(cli, ["export", "evidence", str(lead_id), "--out", str(zipped),
                                 "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "manifest.json" in zipfile.ZipFile(zipped).namelist()
    template = tmp_path / "template.docx"
    assert runner.invoke(cli, ["export", "template", "--out", str(template)]).exit_code == 0
    letter = tmp_path / "letter.docx"
    result = runner.invoke(cli, ["export", "letter", "--unit", "法制股", "--status", "new",
                                 "--template", str(template), "--out", str(letter),
                                 "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert len(Document(str(letter)).tables[0].rows) == 1 + 0  # no leads of that unit yet
    bad = runner.invoke(cli, ["export", "leads", "--status", "nope", "--out", str(out),
                              "--config", str(config)])
    assert bad.exit_code != 0 and "unknown status" in bad.output
    missing = runner.invoke(cli, ["export", "evidence", "999", "--out", str(zipped),
                                  "--config", str(config)])
    assert missing.exit_code == 1 and "999" in missing.output
    trail = workbench.store.audit_events(object_type="lead", object_id=lead_id)
    assert ("export.referral_list", "cli:tester") in [(e["action"], e["actor"]) for e in trail]
