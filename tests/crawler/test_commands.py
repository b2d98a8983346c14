"""The crawler's commands end to end: ``submit``, ``import``, ``crawl`` and ``evidence verify``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from jingwang.cli import app
from sandbox.data import generate
from store.db import make_engine, upgrade
from store.models import CrawlFailure, Evidence, Source
from store.models import Listing as ListingRow
from tests.conftest import ROOT, SANDBOX_SEED
from tests.crawler.conftest import Hostile

WIDE = {"COLUMNS": "200", "NO_COLOR": "1"}
CATALOG = generate(SANDBOX_SEED)
FLAGGED = sorted(i for i, t in CATALOG.truth().items() if t["categories"] and not t["evasions"])


class Env:
    def __init__(self, tmp_path: Path, hostile: Hostile) -> None:
        self.tmp = tmp_path
        self.db = f"sqlite:///{tmp_path / 'jw.db'}"
        upgrade(self.db)
        self.config = tmp_path / "jingwang.yaml"
        self.config.write_text(f"""\
database_url: {self.db}
evidence_dir: {tmp_path / 'evidence'}
lexicon_dir: {ROOT / 'keywords'}
platforms_dir: {ROOT / 'config' / 'platforms'}
sources:
  - name: mao
    platform: sandbox
    keywords: [毛绒, 面膜]
    pages: 2
channels:
  - {{name: log, type: log}}
""", encoding="utf-8")

    def invoke(self, *args: str) -> tuple[int, str]:
        result = CliRunner().invoke(app, [*args, "--config", str(self.config)], env=WIDE)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.output

    def rows(self, model: type) -> list:  # type: ignore[type-arg]
        engine = make_engine(self.db)
        try:
            with Session(engine) as session:
                return list(session.scalars(select(model)))
        finally:
            engine.dispose()


def summary_row(out: str) -> dict[str, str]:
    """The crawl summary table as {column title: value}."""
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if "页数" in line)
    titles = [cell.strip() for cell in lines[at].split("┃")[1:-1]]
    values = [cell.strip() for cell in lines[at + 2].split("│")[1:-1]]
    return dict(zip(titles, values, strict=True))


@pytest.fixture
def env(tmp_path: Path, hostile: Hostile) -> Env:
    return Env(tmp_path, hostile)


@pytest.mark.parametrize(("url", "reason"), [
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://127.0.0.1:9/item/sb-000001", "loopback"),  # not the sandbox's port
    ("http://10.20.30.40/item/1", "private"),
    ("http://100.64.1.1/item/1", "carrier-grade NAT"),
    ("http://[::ffff:127.0.0.1]/", "IPv4-mapped"),
    ("ftp://shop.example/item/1", "scheme 'ftp'"),
    ("http://93.184.216.34/item/1", "没有与该网址的主机匹配的平台配置"),
])
def test_submit_refuses_with_a_message_and_stores_nothing(env: Env, hostile: Hostile, url: str,
                                                          reason: str) -> None:
    good = f"{hostile.url}/item/{FLAGGED[0]}"
    code, out = env.invoke("submit", good, url, "--platform", "sandbox",
                           "--base-url", hostile.url)
    assert code == 2
    assert url in out and reason in out and "未保存任何内容" in out
    assert env.rows(Source) == [] and env.rows(ListingRow) == []
    assert hostile.hits("/item/") == 0  # not even the good URL was fetched


def test_submit_crawls_detects_and_stores_complaint_urls(env: Env, hostile: Hostile) -> None:
    urls = [f"{hostile.url}/item/{i}" for i in FLAGGED[:2]]
    code, out = env.invoke("submit", *urls, "--source", "tousu-2024-001", "--platform",
                           "sandbox", "--base-url", hostile.url, "--no-screenshots")
    assert code == 0, out
    listings = env.rows(ListingRow)
    assert sorted(row.platform_listing_id for row in listings) == FLAGGED[:2]
    assert [row.name for row in env.rows(Source)] == ["tousu-2024-001"]
    assert "tousu-2024-001" in out


def test_import_keeps_good_rows_and_reports_bad_ones_by_line(env: Env) -> None:
    data = env.tmp / "platform.csv"
    data.write_text(
        "商品ID,标题,描述,店铺\n"
        "p-1,ISO9001认证 当天出证 包过,全国可做,某某咨询\n"
        ",没有编号的商品,,某店\n"
        "p-2,纯棉毛巾 34×76cm,柔软吸水,毛巾旗舰店\n"
        "p-1,重复的编号,,某店\n"
        "p-3,多出一列,描述,店铺,多余\n", encoding="utf-8")
    code, out = env.invoke("import", str(data), "--platform", "shopdata",
                           "--mapping", "商品ID=listing_id", "--mapping", "标题=title",
                           "--mapping", "描述=description", "--mapping", "店铺=seller.name")
    assert code == 1, out
    assert "第 3 行：缺少必填字段：listing_id" in out
    assert "第 5 行：商品ID p-1 重复（首次出现在第 2 行）" in out
    assert "第 6 行：列数（5）多于表头（4）" in out
    assert "导入 2 条" in out
    rows = {row.platform_listing_id: row for row in env.rows(ListingRow)}
    assert sorted(rows) == ["p-1", "p-2"] and rows["p-1"].platform == "shopdata"
    evidence = env.rows(Evidence)
    assert {e.tool.split(" ")[0] for e in evidence} == {"import"}
    html = next(e for e in evidence if e.kind.value == "html" and e.final_url.endswith("line=2"))
    body = json.loads((env.tmp / "evidence" / html.path).read_bytes())
    assert body["商品ID"] == "p-1" and body["标题"].startswith("ISO9001")
    assert sorted(f.url.rsplit("=", 1)[1] for f in env.rows(CrawlFailure)) == ["3", "5", "6"]


def test_import_jsonl_and_xlsx(env: Env) -> None:
    jsonl = env.tmp / "rows.jsonl"
    jsonl.write_text("\n".join([
        json.dumps({"id": "j-1", "title": "检测报告代办 不用送样", "seller": {"name": "甲"},
                    "images": ["https://img.example/1.png"]}, ensure_ascii=False),
        "{not json",
        json.dumps(["a list"]),
        json.dumps({"id": "j-2", "title": "保温杯", "price": 59}, ensure_ascii=False),
    ]), encoding="utf-8")
    code, out = env.invoke("import", str(jsonl), "--platform", "shopdata")
    assert code == 1
    assert "第 2 行：不是合法的 JSON" in out and "第 3 行：每行应是一个 JSON 对象" in out

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["编号", "名称", "价格"])
    sheet.append(["x-1", "CCC认证加急办理 三天拿证", 99.5])
    sheet.append([None, None, None])
    sheet.append(["x-2", None, 10])
    xlsx = env.tmp / "rows.xlsx"
    book.save(xlsx)
    code, out = env.invoke("import", str(xlsx), "--platform", "shopdata",
                           "--mapping", "编号=listing_id", "--mapping", "名称=title",
                           "--mapping", "价格=price")
    assert code == 1 and "第 4 行：缺少必填字段：title" in out
    ids = sorted(row.platform_listing_id for row in env.rows(ListingRow))
    assert ids == ["j-1", "j-2", "x-1"]


def test_import_mapping_errors_stop_before_anything_is_stored(env: Env) -> None:
    data = env.tmp / "platform.csv"
    data.write_text("商品ID,标题\np-1,x\n", encoding="utf-8")
    from jingwang.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown field 'titel'"):
        env.invoke("import", str(data), "--platform", "p", "--mapping", "标题=titel")
    with pytest.raises(ConfigError, match="header lacks: 名称"):
        env.invoke("import", str(data), "--platform", "p", "--mapping", "名称=title")
    assert env.rows(ListingRow) == [] and env.rows(Source) == []


def test_crawl_shows_a_summary_and_verify_checks_the_evidence(env: Env,
                                                              hostile: Hostile) -> None:
    code, out = env.invoke("crawl", "mao", "--base-url", hostile.url, "--no-screenshots")
    assert code == 0, out
    expected = {item.id for w in ("毛绒", "面膜") for item in CATALOG.search(w)}
    assert "mao · 第 1 次运行 · 完成" in out
    table = summary_row(out)
    assert table["商品"] == str(len(expected)) and table["页数"] == "2"
    assert table["被拦截"] == "0" and int(table["命中"]) > 0
    code, out = env.invoke("evidence", "verify")
    assert code == 0 and "全部完好" in out
    record = next(e for e in env.rows(Evidence) if e.kind.value == "capture_record")
    (env.tmp / "evidence" / record.path).unlink()
    code, out = env.invoke("evidence", "verify")
    assert code == 1 and "文件缺失" in out and record.sha256 in out


def test_crawl_of_a_blocked_source_rests_until_forced(env: Env, hostile: Hostile) -> None:
    hostile.faults.challenge = "captcha"
    code, out = env.invoke("crawl", "mao", "--base-url", hostile.url, "--no-screenshots")
    assert code == 0 and "部分完成" in out and "被平台拦截" in out
    code, out = env.invoke("crawl", "mao", "--base-url", hostile.url, "--no-screenshots")
    assert code == 0 and "跳过（退避中）" in out
    hostile.faults.challenge = None
    code, out = env.invoke("crawl", "mao", "--base-url", hostile.url, "--no-screenshots",
                           "--force")
    assert code == 0 and "· 完成" in out
