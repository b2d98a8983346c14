"""``jingwang check-id`` and ``jingwang registry``: identifiers, and the bodies/labs registry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from detectors.certs.identifiers import KIND_LABELS, classify
from detectors.certs.registry import (
    FILE_NAMES,
    Registry,
    Table,
    default_var_dir,
    import_file,
    parse_mapping,
)


def check_id(
    codes: Annotated[list[str], typer.Argument(help="要校验的编号，可多个")],
    as_json: Annotated[bool, typer.Option("--json", help="每行输出一个 JSON 对象")] = False,
) -> None:
    """Validate 统一社会信用代码, CNCA-R/RF, CMA, CNAS and CCC numbers (exit 1 if any fails)."""
    all_valid = True
    for code in codes:
        result = classify(code)
        all_valid = all_valid and result.valid
        if as_json:
            typer.echo(json.dumps({"code": code, "kind": result.kind.value,
                                   "valid": result.valid, "reason": result.reason},
                                  ensure_ascii=False))
        else:
            verdict = "有效" if result.valid else "无效"
            typer.echo(f"{code}\t{KIND_LABELS[result.kind]}\t{verdict}\t{result.reason}")
    raise typer.Exit(0 if all_valid else 1)


registry_app = typer.Typer(help="认证机构与检验检测机构名录（registry）", no_args_is_help=True)


_IMPORT_HELP = "导入认证机构或检验检测机构名录（CSV/XLSX）；错误行按行号报告并跳过，正确行保留。"
_CHECK_HELP = "校验统一社会信用代码、CNCA-R/RF、CMA、CNAS、CCC 编号；有无效编号时退出码为 1。"


@registry_app.command("import", help=_IMPORT_HELP)
def registry_import(
    file: Annotated[Path, typer.Argument(help="CSV 或 XLSX 文件，首行为表头")],
    mapping: Annotated[list[str] | None, typer.Option(
        "--mapping", "-m",
        help="表头映射 表头=字段（字段：approval_no, cma_no, name, credit_code, region, "
             "address），可重复")] = None,
    kind: Annotated[Table | None, typer.Option(
        "--kind", help="bodies（认证机构）或 labs（检验检测机构）；默认按表头判断")] = None,
    into: Annotated[Path | None, typer.Option(
        "--into", help="导入到的名录目录（默认 var/registry）")] = None,
) -> None:
    """Import certification bodies or labs; bad rows are reported by line and skipped."""
    report = import_file(file, parse_mapping(mapping or []), table=kind,
                         target_dir=into or default_var_dir())
    for line, reason in report.errors:
        typer.echo(f"{file}:{line}: {reason}", err=True)
    typer.echo(f"导入 {report.rows_ok} 行，跳过 {len(report.errors)} 行 → {report.target}")
    raise typer.Exit(1 if report.errors else 0)


@registry_app.command("list", help="列出检测器使用的名录（内置名录叠加已导入的行）。")
def registry_list(
    kind: Annotated[Table, typer.Option("--kind", help="bodies 或 labs")] = Table.BODIES,
    registry: Annotated[Path | None, typer.Option(
        "--registry", help="名录文件或目录（默认 config/registry 加 var/registry）")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="每行输出一个 JSON 对象")] = False,
) -> None:
    """List the registry the detectors use (shipped rows with imported rows on top)."""
    entries = Registry.load(registry).table(kind)
    for entry in entries.values():
        if as_json:
            typer.echo(json.dumps(entry.row(kind), ensure_ascii=False))
        else:
            typer.echo(f"{entry.key}\t{entry.name}\t{entry.credit_code}\t{entry.region}")
    if not as_json:
        typer.echo(f"共 {len(entries)} 条（{FILE_NAMES[kind]}）", err=True)


def register(app: typer.Typer) -> None:
    """Add ``check-id`` and the ``registry`` group to the jingwang app."""
    app.command("check-id", help=_CHECK_HELP)(check_id)
    app.add_typer(registry_app, name="registry")
