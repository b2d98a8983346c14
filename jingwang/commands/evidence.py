"""``jingwang evidence verify``: re-hash every evidence file; report changed or missing ones."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import typer
from rich.console import Console
from rich.text import Text

from jingwang.commands.run import ConfigOpt
from jingwang.config import DEFAULT_CONFIG, load_settings
from store.evidence import EvidenceStore
from store.service import EvidenceFile, Store

evidence_app = typer.Typer(help="证据文件：校验哈希。", no_args_is_help=True)
_CHUNK = 1024 * 1024


def register(app: typer.Typer) -> None:
    app.add_typer(evidence_app, name="evidence")


@dataclass(frozen=True, slots=True)
class Problem:
    evidence_id: int
    version_id: int
    kind: str
    sha256: str
    path: Path
    problem: str  # zh-CN


@dataclass
class VerifyReport:
    checked: int = 0
    bytes: int = 0
    problems: list[Problem] = field(default_factory=list)


def file_sha256(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def verify_evidence(store: Store) -> VerifyReport:
    """Re-hash every file the evidence table names, and check that the files a capture
    record names (its HTML and screenshot) are there too."""
    files: EvidenceStore = store.evidence_store
    report = VerifyReport()
    for row in store.evidence_files():
        report.checked += 1
        problem = _check(files, row, report)
        if problem is not None:
            report.problems.append(Problem(row.id, row.version_id, row.kind, row.sha256,
                                           files.root / row.path, problem))
    return report


def _check(files: EvidenceStore, row: EvidenceFile, report: VerifyReport) -> str | None:
    """What is wrong with one evidence file, or None."""
    if row.path != files.relative_path(row.sha256):
        return f"记录的路径 {row.path} 与哈希不符"
    path = files.root / row.path
    try:
        actual, size = file_sha256(path)
    except FileNotFoundError:
        return "文件缺失"
    except OSError as exc:
        return f"无法读取：{exc}"
    report.bytes += size
    if actual != row.sha256:
        return f"内容已改变：现在的 SHA-256 为 {actual}"
    if size != row.size:
        return f"大小不符：记录 {row.size} 字节，实际 {size} 字节"
    if row.kind == "capture_record":
        try:
            record = json.loads(path.read_bytes())
        except ValueError:
            return "抓取记录不是合法的 JSON"
        for key in ("html_sha256", "screenshot_sha256"):
            named = record.get(key)
            if isinstance(named, str) and named and not files.exists(named):
                return f"抓取记录引用的 {key} 文件缺失：{named}"
    return None


@evidence_app.command("verify")
def verify(config: ConfigOpt = DEFAULT_CONFIG) -> None:
    """重新计算每个证据文件的 SHA-256，报告被改动或缺失的文件。"""
    from store.db import make_engine

    settings = load_settings(config)
    store = Store(make_engine(settings.database_url), EvidenceStore(settings.evidence_dir))
    console = Console(highlight=False)
    report = verify_evidence(store)
    for item in report.problems:
        console.print(Text(f"✗ 证据 #{item.evidence_id}（{item.kind}，版本 {item.version_id}）"
                           f" {item.path}：{item.problem}", style="bold red"))
    bad = len(report.problems)
    console.print(Text(f"已校验 {report.checked} 个证据文件（{report.bytes} 字节），"
                       f"{'全部完好' if not bad else f'{bad} 个有问题'}。",
                       style="green" if not bad else "bold red"))
    if bad:
        raise typer.Exit(1)
