"""Registry of certification bodies and testing labs: CSV files, layered, and their import.

The shipped registry (``config/registry/``) holds the 34 bodies of the seed's
附件3; ``jingwang registry import`` merges user rows into ``var/registry/``,
which is read on top of it. Both are plain CSV so an analyst can read them.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from detectors.certs.identifiers import IdKind, canonical, classify, cma_check, credit_code_check
from detectors.certs.names import same_body
from jingwang.errors import ConfigError

_REPO_CONFIG = Path(__file__).resolve().parents[2] / "config" / "registry"


class Table(StrEnum):
    BODIES = "bodies"
    LABS = "labs"


FILE_NAMES = {Table.BODIES: "certification-bodies.csv", Table.LABS: "testing-labs.csv"}
KEY_FIELD = {Table.BODIES: "approval_no", Table.LABS: "cma_no"}
COLUMNS = {
    Table.BODIES: ("approval_no", "name", "credit_code", "region", "address"),
    Table.LABS: ("cma_no", "name", "credit_code", "region", "address"),
}
# Headers an import file may use for each field (Chinese as in 附件3 and CNCA lists).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "approval_no": ("approval_no", "批准书编号", "认证机构批准书编号", "批准号", "批准编号",
                    "批准书号", "机构批准号"),
    "cma_no": ("cma_no", "资质认定证书编号", "CMA编号", "CMA证书编号", "证书编号", "资质认定编号"),
    "name": ("name", "机构名称", "名称", "认证机构名称", "检验检测机构名称", "单位名称",
             "机构全称"),
    "credit_code": ("credit_code", "统一社会信用代码", "信用代码", "社会信用代码"),
    "region": ("region", "所在地区", "地区", "区域", "所在地", "行政区域", "注册地区"),
    "address": ("address", "地址", "办公地址", "注册地址", "机构地址", "详细地址"),
}


def default_config_dir() -> Path:
    """``config/registry`` in the working directory, else the one beside the code."""
    local = Path("config/registry")
    return local if local.is_dir() else _REPO_CONFIG


def default_var_dir() -> Path:
    """Where imported rows are kept (``var/registry`` in the working directory)."""
    return Path(os.environ.get("JINGWANG_REGISTRY_DIR", "var/registry"))


@dataclass(frozen=True, slots=True)
class Entry:
    """One certification body (key: approval number) or lab (key: CMA number)."""

    key: str
    name: str
    credit_code: str = ""
    region: str = ""
    address: str = ""

    def row(self, table: Table) -> dict[str, str]:
        return {KEY_FIELD[table]: self.key, "name": self.name, "credit_code": self.credit_code,
                "region": self.region, "address": self.address}


@dataclass
class Registry:
    """Certification bodies by approval number and testing labs by CMA number."""

    bodies: dict[str, Entry] = field(default_factory=dict)
    labs: dict[str, Entry] = field(default_factory=dict)

    def body_for(self, approval_no: str) -> Entry | None:
        return self.bodies.get(canonical(approval_no))

    def lab_for(self, cma_no: str) -> Entry | None:
        return self.labs.get(canonical(cma_no))

    def bodies_named(self, name: str) -> list[Entry]:
        """Bodies whose registered name matches ``name`` (name variants tolerated)."""
        return [e for e in self.bodies.values() if same_body(e.name, name)]

    def table(self, table: Table) -> dict[str, Entry]:
        return self.bodies if table is Table.BODIES else self.labs

    @classmethod
    def load(cls, path: Path | None = None) -> Registry:
        """Load a registry.

        ``None`` → the shipped files with ``var/registry`` layered on top; a
        directory → its two CSV files; a file → a bodies CSV alone.
        """
        registry = cls()
        layers = [default_config_dir(), default_var_dir()] if path is None else [path]
        for layer in layers:
            if layer.is_file():
                registry.bodies.update(read_table(layer, Table.BODIES))
                continue
            for table, file_name in FILE_NAMES.items():
                file = layer / file_name
                if file.is_file():
                    registry.table(table).update(read_table(file, table))
        return registry


def read_table(path: Path, table: Table) -> dict[str, Entry]:
    """Read a registry CSV in our own column layout; a bad row stops with file:line."""
    rows, errors = _parse(path, table, mapping=None)
    if errors:
        line, problem = errors[0]
        raise ConfigError(path, problem, line=line)
    return {entry.key: entry for _, entry in rows}


# --- import -------------------------------------------------------------------------------


@dataclass
class ImportReport:
    """Outcome of one import: rows kept, and bad rows by line with the reason."""

    table: Table
    target: Path
    rows_ok: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


def parse_mapping(pairs: Iterable[str]) -> dict[str, str]:
    """``["批准号=approval_no", ...]`` → ``{"批准号": "approval_no"}`` (source header → field)."""
    mapping: dict[str, str] = {}
    known = set(HEADER_ALIASES)
    for pair in pairs:
        source, sep, target = pair.partition("=")
        source, target = source.strip(), target.strip()
        if not sep or not source or target not in known:
            raise ConfigError("--mapping",
                              f"“{pair}”应为 表头=字段，字段为 {', '.join(sorted(known))} 之一")
        mapping[source] = target
    return mapping


def import_file(path: Path, mapping: dict[str, str] | None = None, *,
                table: Table | None = None, target_dir: Path | None = None) -> ImportReport:
    """Import a CSV or XLSX file of bodies or labs and merge its good rows.

    Bad rows are reported by line (the spreadsheet row; header = line 1) and
    skipped; good rows replace rows with the same key in ``target_dir``.
    """
    detected = table or _detect_table(path, mapping)
    rows, errors = _parse(path, detected, mapping)
    target = (target_dir or default_var_dir()) / FILE_NAMES[detected]
    merged: dict[str, Entry] = read_table(target, detected) if target.is_file() else {}
    for _, entry in rows:
        merged[entry.key] = entry
    _write(target, detected, merged.values())
    return ImportReport(detected, target, rows_ok=len(rows), errors=errors)


def _write(target: Path, table: Table, entries: Iterable[Entry]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=COLUMNS[table])
        writer.writeheader()
        for entry in entries:
            writer.writerow(entry.row(table))
    tmp.replace(target)


def _read_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) for every row of a CSV or XLSX file, header included."""
    if not path.is_file():
        raise ConfigError(path, "文件不存在")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        yield from _read_xlsx(path)
        return
    if suffix not in (".csv", ".txt", ""):
        raise ConfigError(path, "只支持 CSV 或 XLSX 文件")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel on Chinese Windows saves CSV in GB18030/GBK.
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError as exc:
            raise ConfigError(path, "无法识别文件编码（请使用 UTF-8 或 GBK）") from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    line = 1
    for cells in reader:
        yield line, cells
        line = reader.line_num + 1


def _read_xlsx(path: Path) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise ConfigError(path, f"无法读取 XLSX：{exc}") from exc
    try:
        sheet = book.worksheets[0]
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, ["" if v is None else str(v) for v in values]
    finally:
        book.close()


def _header_map(header: Sequence[str], mapping: dict[str, str] | None) -> dict[int, str]:
    aliases = {alias.lower(): target for target, names in HEADER_ALIASES.items()
               for alias in names}
    columns: dict[int, str] = {}
    for index, cell in enumerate(header):
        name = cell.strip().lstrip("\ufeff")
        target = (mapping or {}).get(name) or aliases.get(name.lower())
        if target and target not in columns.values():
            columns[index] = target
    return columns


def _detect_table(path: Path, mapping: dict[str, str] | None) -> Table:
    for _, header in _read_rows(path):
        fields = set(_header_map(header, mapping).values())
        if "approval_no" in fields:
            return Table.BODIES
        if "cma_no" in fields:
            return Table.LABS
        break
    raise ConfigError(path, "表头中没有“批准书编号”或“资质认定证书编号”列（可用 --mapping 指定）",
                      line=1)


def _parse(path: Path, table: Table, mapping: dict[str, str] | None
           ) -> tuple[list[tuple[int, Entry]], list[tuple[int, str]]]:
    rows: list[tuple[int, Entry]] = []
    errors: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    iterator = _read_rows(path)
    header = next(iterator, None)
    if header is None:
        raise ConfigError(path, "文件为空")
    columns = _header_map(header[1], mapping)
    for required in (KEY_FIELD[table], "name"):
        if required not in columns.values():
            raise ConfigError(path, f"缺少“{HEADER_ALIASES[required][1]}”列", line=header[0])
    for line, cells in iterator:
        if not any(c.strip() for c in cells):
            continue
        values = {target: (cells[i].strip() if i < len(cells) else "")
                  for i, target in columns.items()}
        entry, problem = _validate(table, values)
        if problem is None and entry is not None and entry.key in seen:
            problem = f"编号{entry.key}与第{seen[entry.key]}行重复"
        if problem is not None or entry is None:
            errors.append((line, problem or "无效行"))
            continue
        seen[entry.key] = line
        rows.append((line, entry))
    return rows, errors


def _validate(table: Table, values: dict[str, str]) -> tuple[Entry | None, str | None]:
    key = canonical(values.get(KEY_FIELD[table], ""))
    name = values.get("name", "")
    if not key:
        return None, f"缺少{HEADER_ALIASES[KEY_FIELD[table]][1]}"
    if table is Table.BODIES:
        result = classify(key)
        if result.kind not in (IdKind.CNCA_R, IdKind.CNCA_RF) or not result.valid:
            return None, f"批准书编号“{key}”无效：{result.reason}"
        key = result.code
    else:
        result = cma_check(key)
        if not result.valid:
            return None, f"资质认定证书编号“{key}”无效：{result.reason}"
    if not name:
        return None, "缺少机构名称"
    credit = canonical(values.get("credit_code", ""))
    if credit:
        check = credit_code_check(credit)
        if not check.valid:
            return None, f"统一社会信用代码“{credit}”无效：{check.reason}"
    return Entry(key, name, credit, values.get("region", ""), values.get("address", "")), None
