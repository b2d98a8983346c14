"""``jingwang alerts``, ``jingwang silence`` and ``jingwang leads``: the delivery log,
routing checks, silences, takedown follow-up and lead moves from the command line."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from jingwang.commands.run import ConfigOpt
from jingwang.config import DEFAULT_CONFIG, Settings, load_settings, parse_duration

if TYPE_CHECKING:
    from alerts.jobs import Alerting
    from store.service import Store

alerts_app = typer.Typer(help="告警：投递记录、路由检查、摘要和平台下架跟踪。",
                         no_args_is_help=True)
silence_app = typer.Typer(help="静默：在一段时间内不为某店铺或某规则发送告警。",
                          no_args_is_help=True)
leads_app = typer.Typer(help="线索：列表、详情和状态变更。", no_args_is_help=True)

_STATUS = {"pending": "待发送", "sent": "已发送", "failed": "失败"}


def register(app: typer.Typer) -> None:
    """Add this module's commands to the jingwang app."""
    app.add_typer(alerts_app, name="alerts")
    app.add_typer(silence_app, name="silence")
    app.add_typer(leads_app, name="leads")


@dataclass
class _Env:
    settings: Settings
    alerting: Alerting
    store: Store


@contextmanager
def _env(config: Path, *, routing: bool = True) -> Iterator[_Env]:
    from alerts.jobs import Alerting, load_alerting
    from store.db import make_engine
    from store.evidence import EvidenceStore
    from store.service import Store

    settings = load_settings(config)
    alerting = load_alerting(settings, config_path=config) if routing else Alerting()
    engine = make_engine(settings.database_url)
    try:
        yield _Env(settings, alerting, Store(engine, EvidenceStore(settings.evidence_dir),
                                             router=alerting.router))
    finally:
        engine.dispose()


def _time(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _fail(message: str) -> typer.Exit:
    typer.echo(f"错误：{message}", err=True)
    return typer.Exit(1)


def _json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


# -- alerts ---------------------------------------------------------------------------


@alerts_app.command("log")
def log_command(
    config: ConfigOpt = DEFAULT_CONFIG,
    status: Annotated[str | None, typer.Option(help="pending、sent 或 failed")] = None,
    channel: Annotated[str | None, typer.Option(help="只看这个渠道")] = None,
    lead: Annotated[int | None, typer.Option(help="只看这条线索")] = None,
    unit: Annotated[str | None, typer.Option(help="只看这个单位（id）")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """告警投递记录（最新在前）：渠道、单位、幂等键、状态、尝试次数和错误。"""
    from store.outbox_batches import AlertOutbox

    if status and status not in _STATUS:
        raise _fail(f"未知状态 {status!r}（可选：pending、sent、failed）")
    with _env(config, routing=False) as env:
        records = AlertOutbox(env.store.engine).log(limit=limit, status=status,
                                                    channel=channel, lead_id=lead, unit=unit)
    if as_json:
        _json([asdict(r) for r in records])
        return
    table = Table(title="告警投递记录")
    for column in ("编号", "生成时间", "线索", "单位", "事件", "渠道", "状态", "尝试", "发送时间",
                   "幂等键", "错误"):
        table.add_column(column, overflow="fold")
    for r in records:
        table.add_row(str(r.id), _time(r.created_at), str(r.lead_id or ""), r.unit or "",
                      r.event or "", r.channel, _STATUS.get(r.status.value, r.status.value),
                      str(r.attempts), _time(r.sent_at), Text(r.idempotency_key),
                      Text(r.last_error or ""))
    Console().print(table)


@alerts_app.command("check")
def check_command(config: ConfigOpt = DEFAULT_CONFIG) -> None:
    """检查单位配置和路由树（含正则、单位、渠道、时间窗口），列出生效的单位。"""
    settings = load_settings(config)
    from alerts.jobs import load_alerting

    alerting = load_alerting(settings, config_path=config)
    if alerting.units is None or alerting.router is None:
        typer.echo("未配置路由（alerts.units_file / alerts.routing_file）：新线索发往所有渠道。")
        return
    units = alerting.units
    table = Table(title=f"{units.bureau}（预设 {units.preset}）")
    for column in ("单位", "名称", "职责", "接收渠道", "摘要"):
        table.add_column(column, overflow="fold")
    for unit in units.units:
        table.add_row(unit.id, unit.name, "、".join(unit.roles), "、".join(unit.receivers),
                      "、".join(unit.digests))
    Console().print(table)
    typer.echo("路由树：")
    _print_route(alerting.router.root, 0)


def _print_route(node: Any, depth: int) -> None:
    matchers = ", ".join(str(m) for m in node.matchers) or "（全部）"
    more = " continue" if node.continue_ else ""
    typer.echo(f"{'  ' * depth}- {matchers} → {node.unit}{more}")
    for child in node.routes:
        _print_route(child, depth + 1)


@alerts_app.command("route")
def route_command(
    config: ConfigOpt = DEFAULT_CONFIG,
    event: Annotated[str, typer.Option(help="created、confirmed、referred …")] = "created",
    category: Annotated[list[str] | None, typer.Option(help="违规类别，可重复")] = None,
    severity: Annotated[str, typer.Option()] = "high",
    platform: Annotated[list[str] | None, typer.Option(help="平台，可重复")] = None,
    region: Annotated[str, typer.Option()] = "",
    score: Annotated[float, typer.Option()] = 3.0,
    signal: Annotated[list[str] | None, typer.Option(help="优先信号，可重复")] = None,
    referral: Annotated[str, typer.Option(help="unit、platform 或 police")] = "",
) -> None:
    """试算路由：给定标签的线索事件会发给哪些单位和渠道（不写数据库）。"""
    from alerts.jobs import load_alerting
    from store.alerting import LeadLabels

    settings = load_settings(config)
    alerting = load_alerting(settings, config_path=config)
    if alerting.router is None:
        raise _fail("未配置路由（alerts.units_file / alerts.routing_file）")
    labels = LeadLabels(event=event, lead_id=0, status="new", categories=tuple(category or ()),
                        severity=severity, platforms=tuple(platform or ("sandbox",)),
                        region=region, score=score, signals=tuple(signal or ()),
                        referral=referral)
    now = datetime.now(UTC)
    for node in alerting.router.match(labels):
        typer.echo(f"路由 {node.path} → {node.unit}")
    for delivery in alerting.router.route(labels, now=now):
        wait = max(0, round((delivery.not_before - now).total_seconds()))
        typer.echo(f"  {delivery.unit_name}（{delivery.unit}）→ 渠道 {delivery.channel}，"
                   f"分组 {delivery.group_key}，{wait} 秒后发送")


@alerts_app.command("dispatch")
def dispatch_command(config: ConfigOpt = DEFAULT_CONFIG) -> None:
    """立即投递一轮到期的告警（守护进程会自动进行）。"""
    from alerts.channels import build_channels
    from alerts.dispatcher import Dispatcher

    with _env(config, routing=False) as env:
        web = env.settings.web
        channels = build_channels(env.settings.channels, base_url=web.base_url or
                                  f"http://{web.host}:{web.port}")
        a = env.settings.alerts
        stats = asyncio.run(Dispatcher(env.store, channels, max_attempts=a.max_attempts,
                                       base_delay=a.retry_base, max_delay=a.retry_max
                                       ).run_once(limit=1000))
    typer.echo(f"已发送 {stats.delivered} 条（{stats.messages} 封消息），稍后重试 "
               f"{stats.retried} 条，放弃 {stats.failed} 条")


@alerts_app.command("retry")
def retry_command(ids: Annotated[list[int], typer.Argument(help="投递记录编号")],
                  config: ConfigOpt = DEFAULT_CONFIG) -> None:
    """把已放弃（失败）的投递重新排队，例如修好渠道配置之后。"""
    from store.outbox_batches import AlertOutbox

    with _env(config, routing=False) as env:
        count = AlertOutbox(env.store.engine).retry(ids, now=datetime.now(UTC))
    typer.echo(f"已重新排队 {count} 条")


@alerts_app.command("digest")
def digest_command(config: ConfigOpt = DEFAULT_CONFIG) -> None:
    """立即生成到期的摘要（每小时、每日）和待处理提醒（守护进程每 5 分钟检查一次）。"""
    from alerts.jobs import AlertJobs

    with _env(config) as env:
        jobs = AlertJobs(env.settings, env.store, env.alerting, profiles={})
        digests, reminded = asyncio.run(jobs.scheduled_pass())
    typer.echo(f"摘要 {digests} 条，提醒 {reminded} 条线索")


@alerts_app.command("takedown")
def takedown_command(
    config: ConfigOpt = DEFAULT_CONFIG,
    check: Annotated[bool, typer.Option("--check", help="先复查一轮到期的商品")] = False,
    lead: Annotated[int | None, typer.Option(help="只看这条线索")] = None,
    base_url: Annotated[list[str] | None, typer.Option(
        help="平台=地址，把平台指向该地址（例如 sandbox=http://127.0.0.1:8765）")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
) -> None:
    """移送平台清理的跟踪问效：每件商品的复查、下架和督办情况及汇总数字。"""
    from alerts.jobs import AlertJobs
    from crawler.profiles import load_profiles

    bases = dict(item.split("=", 1) for item in (base_url or []) if "=" in item)
    with _env(config) as env:
        profiles = load_profiles(env.settings.platforms_dir) if check else {}
        jobs = AlertJobs(env.settings, env.store, env.alerting, profiles=profiles,
                         base_urls=bases)
        if check:
            stats = asyncio.run(jobs.takedown_pass())
            typer.echo(f"复查 {stats.checked} 件：已下架 {stats.removed}，仍在线 "
                       f"{stats.online}，无法核实 {stats.failed}；新跟踪 {stats.added} 件，"
                       f"督办 {stats.escalated} 件")
        else:
            jobs.takedowns.sync()  # show referrals made since the daemon's last pass
        rows = jobs.takedowns.rows(lead_id=lead, limit=limit)
        figures = jobs.takedowns.stats()
    table = Table(title="移送平台清理跟踪")
    for column in ("线索", "平台", "商品", "移送时间", "复查次数", "最近结果", "下架时间",
                   "督办时间"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(str(r.lead_id), r.platform, Text(r.platform_listing_id),
                      _time(r.referred_at), str(r.checks), r.last_result or "",
                      _time(r.removed_at), _time(r.escalated_at))
    Console().print(table)
    median = ("—" if figures.median_hours_to_removal is None
              else f"{figures.median_hours_to_removal} 小时")
    typer.echo(f"共移送 {figures.referred} 件，已下架 {figures.removed} 件，未下架 "
               f"{figures.pending} 件（已督办 {figures.escalated} 件），下架用时中位数 {median}")


# -- silences -------------------------------------------------------------------------


@silence_app.command("add")
def silence_add(
    reason: Annotated[str, typer.Option(help="静默原因（必填）")],
    duration: Annotated[str, typer.Option("--for", help="时长，如 2h、7d")] = "1d",
    seller: Annotated[int | None, typer.Option(help="店铺（卖家）编号")] = None,
    lead: Annotated[int | None, typer.Option(help="静默这条线索的所有店铺")] = None,
    rule: Annotated[str | None, typer.Option(help="规则编号")] = None,
    by: Annotated[str, typer.Option(help="操作人")] = "cli",
    config: ConfigOpt = DEFAULT_CONFIG,
) -> None:
    """静默某店铺或某规则一段时间（到期自动失效）。"""
    from store.errors import NotFound
    from store.silences import Silences

    if sum(x is not None for x in (seller, lead, rule)) != 1:
        raise _fail("请指定且只指定一个：--seller、--lead 或 --rule")
    try:
        seconds = parse_duration(duration)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    with _env(config, routing=False) as env:
        silences = Silences(env.store.engine)
        try:
            if rule is not None:
                targets = [("rule", rule)]
            else:
                ids = silences.sellers_of_lead(lead) if lead is not None else [seller or 0]
                targets = [("seller", str(i)) for i in ids]
            for kind, value in targets:
                silence_id = silences.add(kind=kind, value=value, reason=reason, actor=by,
                                          duration=timedelta(seconds=seconds))
                typer.echo(f"静默 #{silence_id}：{kind} {value}，{duration}")
        except (NotFound, ValueError) as exc:
            raise _fail(str(exc)) from None


@silence_app.command("list")
def silence_list(config: ConfigOpt = DEFAULT_CONFIG,
                 show_all: Annotated[bool, typer.Option("--all", help="包括已结束的")] = False
                 ) -> None:
    """列出静默（默认只列生效中的）。"""
    from store.silences import Silences

    with _env(config, routing=False) as env:
        rows = Silences(env.store.engine).rows(include_ended=show_all)
    table = Table(title="静默")
    for column in ("编号", "对象", "值", "原因", "操作人", "开始", "结束", "提前结束"):
        table.add_column(column, overflow="fold")
    for s in rows:
        table.add_row(str(s.id), s.kind, Text(s.value), Text(s.reason), s.created_by,
                      _time(s.starts_at), _time(s.ends_at), _time(s.expired_at))
    Console().print(table)


@silence_app.command("expire")
def silence_expire(silence_id: Annotated[int, typer.Argument()],
                   by: Annotated[str, typer.Option(help="操作人")] = "cli",
                   config: ConfigOpt = DEFAULT_CONFIG) -> None:
    """立即结束一个静默。"""
    from store.errors import NotFound
    from store.silences import Silences

    with _env(config, routing=False) as env:
        try:
            Silences(env.store.engine).expire(silence_id, actor=by)
        except NotFound as exc:
            raise _fail(str(exc)) from None
    typer.echo(f"静默 #{silence_id} 已结束")


# -- leads ----------------------------------------------------------------------------


@leads_app.command("list")
def leads_list(config: ConfigOpt = DEFAULT_CONFIG,
               limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50) -> None:
    """最新的线索：状态、店铺、类别和评分。"""
    from jingwang.i18n import t

    with _env(config, routing=False) as env:
        leads = env.store.recent_leads(limit=limit)
    table = Table(title="线索")
    for column in ("编号", "状态", "平台", "店铺", "违规类别", "评分", "商品数", "发现时间"):
        table.add_column(column, overflow="fold")
    for lead in leads:
        table.add_row(str(lead.id), t(f"status.{lead.status.value}"), lead.platform,
                      Text(lead.shop_name), "、".join(lead.categories), f"{lead.score:g}",
                      str(len(lead.listings)), _time(lead.created_at))
    Console().print(table)


@leads_app.command("show")
def leads_show(lead_id: Annotated[int, typer.Argument()],
               config: ConfigOpt = DEFAULT_CONFIG) -> None:
    """一条线索的店铺（含跨平台关联）、商品分组、评分构成和移送记录（JSON）。"""
    from store.leads import LeadReader

    with _env(config, routing=False) as env:
        detail = LeadReader(env.store.engine).describe(lead_id)
    if detail is None:
        raise _fail(f"线索 {lead_id} 不存在")
    _json(detail)


@leads_app.command("move")
def leads_move(
    lead_id: Annotated[int, typer.Argument()],
    status: Annotated[str, typer.Argument(
        help="in_review、confirmed、dismissed、referred、closed")],
    reason: Annotated[str | None, typer.Option(help="排除理由或办结情况")] = None,
    unit: Annotated[str | None, typer.Option(help="移送的单位（职责、编号或名称）")] = None,
    platform: Annotated[bool, typer.Option("--platform", help="移送平台清理")] = False,
    police: Annotated[bool, typer.Option("--police", help="移送公安机关")] = False,
    note: Annotated[str | None, typer.Option(help="移送备注")] = None,
    by: Annotated[str, typer.Option(help="操作人")] = "cli",
    config: ConfigOpt = DEFAULT_CONFIG,
) -> None:
    """变更线索状态（唯一的状态变更函数，写入操作记录，并按路由发出告警）。"""
    from store.enums import LeadStatus
    from store.errors import IllegalTransition, NotFound
    from store.service import Referral

    try:
        target = LeadStatus(status)
    except ValueError:
        raise _fail(f"未知状态 {status!r}") from None
    referral = Referral(unit=unit, platform=platform, police=police, note=note)
    with _env(config) as env:
        try:
            env.store.transition_lead(lead_id, target, actor=by, reason=reason,
                                      referral=referral if referral else None)
        except (IllegalTransition, NotFound) as exc:
            raise _fail(str(exc)) from None
    typer.echo(f"线索 {lead_id} → {target.value}")
