"""``jingwang export``: the workbench's exports from the command line (referral list,
evidence package, referral letter and its template, statistics, briefing, dismissals).
Each export is written to the audit trail like the web ones."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from review.exports.service import ExportService
    from store.review_queries import ReviewQueries
    from store.workbench import Workbench

export_app = typer.Typer(help="导出：线索移送清单、电子证据包、移送函、统计表、信息简报。",
                         no_args_is_help=True)

DatabaseUrl = Annotated[str | None, typer.Option(
    "--database-url", help="数据库 URL，覆盖配置文件和 JINGWANG_DATABASE_URL。")]
ConfigPath = Annotated[Path | None, typer.Option(
    "--config", help="配置文件路径（默认 config/jingwang.yaml 或 JINGWANG_CONFIG）。")]
Out = Annotated[Path, typer.Option("--out", "-o", help="输出文件。")]
Actor = Annotated[str | None, typer.Option(
    help="记入操作记录的导出人（默认 cli:当前系统用户）。")]


def register(app: typer.Typer) -> None:
    """Add this module's commands to the jingwang app."""
    app.add_typer(export_app, name="export")


@dataclass
class _Services:
    exports: ExportService
    queries: ReviewQueries
    workbench: Workbench
    database_url: str


@contextmanager
def _services(database_url: str | None, config: Path | None,
              template: Path | None = None) -> Iterator[_Services]:
    from jingwang.clock import utcnow
    from jingwang.config import load_settings
    from review.exports.service import ExportService
    from store.db import make_engine
    from store.evidence import EvidenceStore
    from store.review_queries import ReviewQueries
    from store.workbench import Workbench

    settings = load_settings(config)
    url = database_url or settings.database_url
    engine = make_engine(url)
    try:
        queries = ReviewQueries(engine)
        workbench = Workbench(engine)
        yield _Services(ExportService(queries=queries, workbench=workbench,
                                      evidence=EvidenceStore(settings.evidence_dir),
                                      clock=utcnow, letter_template=template),
                        queries, workbench, url)
    finally:
        engine.dispose()


def _actor(actor: str | None) -> str:
    return actor or f"cli:{getpass.getuser()}"


def _write(out: Path, content: bytes) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(content)
    typer.echo(f"已写入 {out}（{len(content)} 字节）")


@contextmanager
def _errors() -> Iterator[None]:
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from review.exports.evidence import EvidenceMissing
    from review.exports.letters import TemplateError
    from store.errors import StoreError

    try:
        yield
    except (StoreError, EvidenceMissing, TemplateError, ValueError) as exc:
        typer.echo(f"错误：{exc}", err=True)
        raise typer.Exit(1) from exc
    except (OperationalError, ProgrammingError) as exc:
        typer.echo(f"错误：数据库不可用或未迁移（先运行 jingwang db upgrade）：{exc.orig}",
                   err=True)
        raise typer.Exit(1) from exc


@export_app.command("leads")
def leads(out: Out,
          status: Annotated[list[str] | None, typer.Option(
              help="线索状态，可重复：new、in_review、confirmed、dismissed、referred、closed。")
          ] = None,
          format: Annotated[str, typer.Option("--format", help="xlsx 或 csv。")] = "xlsx",
          category: Annotated[str | None, typer.Option(help="违规类别。")] = None,
          platform: Annotated[str | None, typer.Option(help="平台。")] = None,
          unit: Annotated[str | None, typer.Option(help="承办单位。")] = None,
          since: Annotated[str | None, typer.Option(
              "--from", help="发现日期起（YYYY-MM-DD，北京时间）。")] = None,
          until: Annotated[str | None, typer.Option(
              "--to", help="发现日期止（含当日）。")] = None,
          actor: Actor = None, database_url: DatabaseUrl = None,
          config: ConfigPath = None) -> None:
    """导出线索移送清单（XLSX 或 CSV）。"""
    from review.exports.service import FORMATS
    from review.leads.filters import parse_filter
    from store.enums import LeadStatus

    if format not in FORMATS:
        raise typer.BadParameter(f"unknown format {format!r} (xlsx or csv)")
    known = {s.value for s in LeadStatus}
    for value in status or []:
        if value not in known:
            raise typer.BadParameter(f"unknown status {value!r} ({', '.join(sorted(known))})")
    params = {"category": category or "", "platform": platform or "", "unit": unit or "",
              "from": since or "", "to": until or "", "sort": "oldest"}
    with _errors(), _services(database_url, config) as services:
        query = parse_filter(params, status or [], me=None).query
        ids = services.queries.lead_ids(query)
        export = services.exports.referral_list(
            ids, fmt=format, actor=_actor(actor),
            query={"status": ",".join(status or []), **{k: v for k, v in params.items() if v}})
        _write(out, export.content)
    typer.echo(f"{len(ids)} 条线索")


@export_app.command("evidence")
def evidence(lead_id: Annotated[int, typer.Argument(help="线索编号")], out: Out,
             actor: Actor = None, database_url: DatabaseUrl = None,
             config: ConfigPath = None) -> None:
    """导出一条线索的电子证据包（ZIP：证据文件、manifest.json、电子数据提取笔录）。"""
    with _errors(), _services(database_url, config) as services:
        _write(out, services.exports.evidence_package(lead_id, actor=_actor(actor)).content)


@export_app.command("letter")
def letter(out: Out, unit: Annotated[str, typer.Option(help="承办单位。")],
           authority: Annotated[str, typer.Option(help="机关名称。")] = "市场监督管理局",
           number: Annotated[str, typer.Option(help="文号。")] = "",
           template: Annotated[Path | None, typer.Option(
               help="移送函模板（DOCX，可用 jingwang export template 生成后编辑）。")] = None,
           status: Annotated[list[str] | None, typer.Option(
               help="纳入的线索状态（默认 confirmed 和 referred）。")] = None,
           actor: Actor = None, database_url: DatabaseUrl = None,
           config: ConfigPath = None) -> None:
    """按承办单位生成移送函（DOCX）。"""
    from review.leads.filters import parse_filter

    if template is not None and not template.is_file():
        raise typer.BadParameter(f"template {template} does not exist")
    with _errors(), _services(database_url, config, template) as services:
        query = parse_filter({"unit": unit, "sort": "oldest"},
                             status or ["confirmed", "referred"], me=None).query
        ids = services.queries.lead_ids(query)
        export = services.exports.letter(unit=unit, lead_ids=ids, actor=_actor(actor),
                                         authority=authority, number=number)
        _write(out, export.content)
    typer.echo(f"{len(ids)} 条线索")


@export_app.command("template")
def template(out: Out) -> None:
    """写出内置的移送函模板（DOCX），供编辑后通过 --template 使用。"""
    from review.exports.letters import default_template

    _write(out, default_template())


@export_app.command("stats")
def stats(out: Out,
          since: Annotated[str, typer.Option("--from", help="起始日期 YYYY-MM-DD。")],
          until: Annotated[str, typer.Option("--to", help="截止日期 YYYY-MM-DD（含）。")],
          actor: Actor = None, database_url: DatabaseUrl = None,
          config: ConfigPath = None) -> None:
    """导出统计期间的专项整治统计表（XLSX）。"""
    from datetime import date

    from review.stats.reports import stats_xlsx
    from review.stats.service import Period, StatsService

    try:
        period = Period(date.fromisoformat(since), date.fromisoformat(until))
    except ValueError as exc:
        raise typer.BadParameter(f"dates must look like 2024-03-01: {exc}") from exc
    with _errors(), _services(database_url, config) as services:
        figures = StatsService(services.queries.engine,
                               clock=services.exports.clock).figures(period)
        _write(out, stats_xlsx(figures))
        services.workbench.record(actor=_actor(actor), action="export.stats",
                                  object_type="export", object_id=out.name,
                                  detail={"from": since, "to": until})


@export_app.command("briefing")
def briefing(out: Out, month: Annotated[str, typer.Option(help="月份 YYYY-MM。")],
             authority: Annotated[str, typer.Option(help="机关名称。")] = "市场监督管理局",
             issue: Annotated[str, typer.Option(help="期号，如 2024年第3期。")] = "",
             actor: Actor = None, database_url: DatabaseUrl = None,
             config: ConfigPath = None) -> None:
    """导出月度信息简报（DOCX）。"""
    from review.stats.reports import briefing_docx
    from review.stats.service import StatsService, month_period

    try:
        year, number = (int(part) for part in month.split("-", 1))
        period = month_period(year, number)
    except ValueError as exc:
        raise typer.BadParameter(f"month must look like 2024-03: {month!r}") from exc
    with _errors(), _services(database_url, config) as services:
        clock = services.exports.clock
        figures = StatsService(services.queries.engine, clock=clock).figures(period)
        _write(out, briefing_docx(figures, authority=authority,
                                  issue=issue or f"{year}年第{number}期",
                                  generated_at=clock()))
        services.workbench.record(actor=_actor(actor), action="export.briefing",
                                  object_type="export", object_id=out.name,
                                  detail={"month": month})


@export_app.command("dismissals")
def dismissals(out: Out, actor: Actor = None, database_url: DatabaseUrl = None,
               config: ConfigPath = None) -> None:
    """导出误报排除理由及命中的规则、词语（CSV），供词库维护。"""
    with _errors(), _services(database_url, config) as services:
        _write(out, services.exports.dismissals(actor=_actor(actor)).content)
