"""Import listings from data files platforms hand over (CSV, XLSX, JSONL), with a column mapping.

Each row becomes a :class:`~jingwang.records.Listing`, is detected and stored
like a crawled listing; its evidence is the row itself (as JSON) in a capture
whose tool is ``import``. Bad rows are reported by line and skipped; good rows
are kept.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crawler.fetch_http import TOOL
from crawler.profiles import DETAIL_FIELDS
from jingwang.config import SourceConfig
from jingwang.errors import ConfigError
from jingwang.records import Capture, CrawledListing, Finding, Listing, Seller
from store.service import Store

FIELDS = (*DETAIL_FIELDS, "image_texts")
# Column names understood without a mapping, besides the field names themselves.
ALIASES = {"id": "listing_id", "item_id": "listing_id", "name": "title",
           "desc": "description", "link": "url", "shop": "seller.name",
           "shop_name": "seller.name", "seller": "seller.name", "shop_id": "seller.shop_id",
           "shop_url": "seller.shop_url", "credit_code": "seller.credit_code",
           "license_text": "seller.license_text", "license": "seller.license_text"}
IMPORT_TOOL = f"import {TOOL.split(' ', 1)[0]}"
MAX_CELL = 100_000  # characters; a longer cell is a bad row, not a huge listing


@dataclass(frozen=True, slots=True)
class RowError:
    line: int  # 1-based line (CSV, JSONL) or row (XLSX) of the file
    problem: str  # zh-CN


@dataclass
class ImportReport:
    path: str
    rows: int = 0
    stored: int = 0
    new_versions: int = 0
    findings: int = 0
    leads_created: int = 0
    run_id: int = 0
    errors: list[RowError] = field(default_factory=list)


def parse_mapping(items: Sequence[str]) -> dict[str, str]:
    """``["商品ID=listing_id", "标题=title"]`` → column → field; bad items are ConfigErrors."""
    mapping: dict[str, str] = {}
    for item in items:
        column, sep, target = item.partition("=")
        column, target = column.strip(), target.strip()
        if not sep or not column or not target:
            raise ConfigError("--mapping", f"expected COLUMN=FIELD, got {item!r}")
        if target not in FIELDS:
            raise ConfigError("--mapping", f"unknown field {target!r} in {item!r} "
                              f"(known: {', '.join(FIELDS)})")
        mapping[column] = target
    return mapping


def _flatten(row: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def _rows(path: Path) -> tuple[list[str] | None, Iterator[tuple[int, dict[str, Any] | str]]]:
    """The header (None for JSONL) and (line, row or problem) pairs of a data file."""
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return None, _jsonl_rows(path)
    if suffix == ".csv":
        return _csv_rows(path)
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx_rows(path)
    raise ConfigError(path, f"unsupported file type {suffix or '(none)'!r} "
                      "(use .csv, .xlsx or .jsonl)")


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(path, "file not found") from None
    for encoding in ("utf-8-sig", "gb18030"):  # exports from Chinese Excel are often GBK
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ConfigError(path, "neither UTF-8 nor GB18030 text")


def _jsonl_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    for number, line in enumerate(_read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, f"不是合法的 JSON（{exc.msg}，第 {exc.colno} 列）"
            continue
        if not isinstance(value, dict):
            yield number, "每行应是一个 JSON 对象"
            continue
        yield number, _flatten(value)


def _csv_rows(path: Path) -> tuple[list[str], Iterator[tuple[int, dict[str, Any] | str]]]:
    reader = csv.reader(io.StringIO(_read_text(path), newline=""))
    try:
        header = [cell.strip() for cell in next(reader)]
    except StopIteration:
        raise ConfigError(path, "file is empty (a header row is needed)") from None
    except csv.Error as exc:
        raise ConfigError(path, f"invalid CSV header: {exc}", line=1) from None

    def rows() -> Iterator[tuple[int, dict[str, Any] | str]]:
        while True:
            line = reader.line_num + 1  # where the next record starts
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield line, f"CSV 格式错误：{exc}"
                continue
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) > len(header):
                yield line, f"列数（{len(cells)}）多于表头（{len(header)}）"
                continue
            yield line, dict(zip(header, cells, strict=False))

    return header, rows()


def _xlsx_rows(path: Path) -> tuple[list[str], Iterator[tuple[int, dict[str, Any] | str]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except FileNotFoundError:
        raise ConfigError(path, "file not found") from None
    except Exception as exc:  # openpyxl raises zipfile, KeyError, InvalidFileException ...
        raise ConfigError(path, f"not a readable XLSX workbook ({exc})") from None
    try:  # read it all now: a read-only workbook keeps its file open until closed
        table = [list(cells) for cells in workbook.worksheets[0].iter_rows(values_only=True)]
    finally:
        workbook.close()
    if not table:
        raise ConfigError(path, "the first sheet is empty (a header row is needed)")
    header = ["" if cell is None else str(cell).strip() for cell in table[0]]

    def rows() -> Iterator[tuple[int, dict[str, Any] | str]]:
        for number, cells in enumerate(table[1:], start=2):
            if all(cell is None or str(cell).strip() == "" for cell in cells):
                continue
            yield number, {name: cell for name, cell in zip(header, cells, strict=False)
                           if name}

    return header, rows()


def _text(value: Any, name: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float | datetime):
        raise ValueError(f"字段 {name} 应是文本，而不是 {type(value).__name__}")
    text = str(value).strip()
    if len(text) > MAX_CELL:
        raise ValueError(f"字段 {name} 超过 {MAX_CELL} 个字符")
    return text


def _list(value: Any, name: str) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, list):
        return tuple(_text(item, name) for item in value if item not in (None, ""))
    text = _text(value, name)
    if text.startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError:
            raise ValueError(f"字段 {name} 不是合法的 JSON 列表") from None
        return _list(items, name)
    return tuple(part.strip() for part in text.replace("|", "\n").splitlines() if part.strip())


def row_listing(row: Mapping[str, Any], *, platform: str,
                mapping: Mapping[str, str]) -> Listing:
    """The listing of one row; raises ValueError (zh-CN) for a row that cannot be one."""
    values: dict[str, Any] = {}
    for column, value in row.items():
        target = mapping.get(column) or (column if column in FIELDS else ALIASES.get(column))
        if target is not None and target not in values:
            values[target] = value
    text = {name: _text(values.get(name), name) for name in FIELDS
            if name not in ("images", "image_texts")}
    missing = [name for name in ("listing_id", "title") if not text[name]]
    if missing:
        raise ValueError(f"缺少必填字段：{', '.join(missing)}")
    return Listing(
        platform=platform, listing_id=text["listing_id"], title=text["title"],
        description=text["description"], price=text["price"] or None, url=text["url"] or None,
        seller=Seller(name=text["seller.name"], credit_code=text["seller.credit_code"] or None,
                      license_text=text["seller.license_text"] or None,
                      shop_id=text["seller.shop_id"] or None,
                      shop_url=text["seller.shop_url"] or None),
        images=_list(values.get("images"), "images"),
        image_texts=_list(values.get("image_texts"), "image_texts"))


def _capture(path: Path, line: int, row: Mapping[str, Any], listing: Listing,
             now: datetime) -> Capture:
    where = f"{path.resolve().as_uri()}#line={line}"
    body = json.dumps(row, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8")
    return Capture(url=listing.url or where, final_url=where, status=200, fetched_at=now,
                   headers={"content-type": "application/json; charset=utf-8",
                            "x-jingwang-import-file": path.name,
                            "x-jingwang-import-line": str(line)},
                   body=body, tool=IMPORT_TOOL)


def import_file(path: Path, *, platform: str, store: Store,
                detect: Callable[[Listing], Sequence[Finding]], channels: Sequence[str],
                mapping: Mapping[str, str] | None = None, source_name: str | None = None,
                clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> ImportReport:
    """Import every good row of ``path``; bad rows are in ``report.errors`` by line.

    A mapping that names a column the file's header lacks is a ConfigError
    before anything is stored.
    """
    mapping = dict(mapping or {})
    header, rows = _rows(path)
    if header is not None:
        absent = [column for column in mapping if column not in header]
        if absent:
            raise ConfigError(path, f"mapping names columns the header lacks: "
                              f"{', '.join(absent)} (header: {', '.join(header)})", line=1)
    report = ImportReport(path=str(path))
    source = SourceConfig(name=source_name or f"import-{platform}", platform=platform,
                          kind="urls", enabled=False)
    store.sync_source(source)
    report.run_id = store.start_run(source.name)
    seen: dict[str, int] = {}
    for line, row in rows:
        report.rows += 1
        if isinstance(row, str):
            report.errors.append(RowError(line, row))
            continue
        try:
            listing = row_listing(row, platform=platform, mapping=mapping)
        except ValueError as exc:
            report.errors.append(RowError(line, str(exc)))
            continue
        if listing.listing_id in seen:
            report.errors.append(RowError(line, f"商品ID {listing.listing_id} 重复（首次出现在第 "
                                          f"{seen[listing.listing_id]} 行）"))
            continue
        seen[listing.listing_id] = line
        item = CrawledListing(listing=listing, capture=_capture(path, line, row, listing,
                                                                clock()), source=source.name)
        result = store.ingest(report.run_id, item, detect, channels=channels)
        report.stored += 1
        report.new_versions += int(result.changed)
        report.findings += result.findings
        report.leads_created += int(result.lead_created)
    for error in report.errors:
        store.record_failure(report.run_id, url=f"{path.resolve().as_uri()}#line={error.line}",
                             kind="parse", problem=error.problem)
    store.finish_run(report.run_id, status="partial" if report.errors else "ok", stats={
        "pages": 1, "listings": report.stored, "new_versions": report.new_versions,
        "findings": report.findings, "leads_created": report.leads_created,
        "parse_failures": len(report.errors)})
    return report
