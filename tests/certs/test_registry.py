"""The registry: shipped rows, import of CSV/XLSX with bad rows reported by line, layering."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from detectors.certs.registry import (
    Registry,
    Table,
    import_file,
    parse_mapping,
    read_table,
)
from jingwang.cli import app
from jingwang.errors import ConfigError
from tests.certs.helpers import SHIPPED_REGISTRY

GOOD_BODY = ("CNCA-R-2019-123", "合肥示例认证有限公司", "91340100MA2MWXNG21", "安徽省合肥市",
             "某路1号")


def test_shipped_registry_holds_the_34_seed_bodies(registry: Registry) -> None:
    assert len(registry.bodies) == 34
    body = registry.body_for("ＣＮＣＡ－Ｒ－２０２１－７７５")
    assert body is not None and body.name == "亚环认证(合肥)有限公司"
    assert registry.body_for("CNCA-R-2022-1096") is not None
    assert registry.body_for("CNCA-R-2099-001") is None
    named = registry.bodies_named("荣联认证（安徽）有限公司")
    assert [b.key for b in named] == ["CNCA-R-2023-1264"]


def write_csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


def test_csv_import_reports_bad_rows_by_line_and_keeps_good_ones(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "bodies.csv", "\n".join([
        "批准书编号,机构名称,统一社会信用代码,所在地区,地址",
        ",".join(GOOD_BODY),
        "CNCA-R-2019-12345,五位序号认证有限公司,,安徽,",  # line 3: malformed number
        "CNCA-R-2020-456,,,安徽,",  # line 4: no name
        "CNCA-R-2020-457,错码认证有限公司,91340100MA2MWXNG22,安徽,",  # line 5: bad check char
        "",  # blank lines are skipped silently
        "CNCA-RF-2003-27,外资认证有限公司,,北京,",  # line 7: good
        "CNCA-R-2019-123,重复认证有限公司,,安徽,",  # line 8: duplicate of line 2
    ]) + "\n")
    target = tmp_path / "var"
    report = import_file(source, target_dir=target)
    assert report.table is Table.BODIES
    assert report.rows_ok == 2
    assert [line for line, _ in report.errors] == [3, 4, 5, 8]
    reasons = dict(report.errors)
    assert "2至4位" in reasons[3]
    assert "名称" in reasons[4]
    assert "校验码" in reasons[5]
    assert "第2行" in reasons[8]
    stored = read_table(target / "certification-bodies.csv", Table.BODIES)
    assert set(stored) == {"CNCA-R-2019-123", "CNCA-RF-2003-27"}
    assert stored["CNCA-R-2019-123"].name == "合肥示例认证有限公司"


def test_xlsx_import_with_a_header_mapping(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["证号", "单位", "备注"])
    sheet.append(["CNCA-R-2018-321", "表格认证有限公司", "x"])
    sheet.append(["not-a-number", "坏行认证有限公司", "y"])
    sheet.append([None, None, None])
    sheet.append(["CNCA-R-2018-322", "第二表格认证有限公司", None])
    source = tmp_path / "bodies.xlsx"
    book.save(source)
    mapping = parse_mapping(["证号=approval_no", "单位=name"])
    report = import_file(source, mapping, target_dir=tmp_path / "var")
    assert report.rows_ok == 2
    assert [line for line, _ in report.errors] == [3]
    merged = Registry.load(tmp_path / "var")
    assert set(merged.bodies) == {"CNCA-R-2018-321", "CNCA-R-2018-322"}


def test_gbk_csv_of_labs_and_layering_over_the_shipped_registry(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = write_csv(tmp_path / "labs.csv",
                       "资质认定证书编号,检验检测机构名称\n221212050366,合肥清源环境检测有限公司\n"
                       "12345,坏编号检测有限公司\n", encoding="gb18030")
    var = tmp_path / "var" / "registry"
    report = import_file(source, target_dir=var)
    assert report.table is Table.LABS
    assert report.rows_ok == 1 and [line for line, _ in report.errors] == [3]
    # The default registry is the shipped one with the var directory on top.
    monkeypatch.setenv("JINGWANG_REGISTRY_DIR", str(var))
    layered = Registry.load()
    assert len(layered.bodies) == 34
    lab = layered.lab_for("221212050366")
    assert lab is not None and lab.name == "合肥清源环境检测有限公司"


def test_reimport_replaces_rows_with_the_same_key(tmp_path: Path) -> None:
    var = tmp_path / "var"
    first = write_csv(tmp_path / "a.csv", "approval_no,name\nCNCA-R-2019-123,旧名称认证有限公司\n")
    second = write_csv(tmp_path / "b.csv", "approval_no,name\nCNCA-R-2019-123,新名称认证有限公司\n"
                                           "CNCA-R-2019-124,另一认证有限公司\n")
    import_file(first, target_dir=var)
    import_file(second, target_dir=var)
    bodies = Registry.load(var).bodies
    assert bodies["CNCA-R-2019-123"].name == "新名称认证有限公司"
    assert len(bodies) == 2


def test_unusable_files_raise_config_errors_naming_the_file(tmp_path: Path) -> None:
    no_key = write_csv(tmp_path / "x.csv", "名称,地址\n某认证有限公司,某地\n")
    with pytest.raises(ConfigError, match=r"x\.csv"):
        import_file(no_key, target_dir=tmp_path / "var")
    with pytest.raises(ConfigError, match="不存在"):
        import_file(tmp_path / "missing.csv", target_dir=tmp_path / "var")
    with pytest.raises(ConfigError, match="--mapping"):
        parse_mapping(["证号"])
    with pytest.raises(ConfigError, match="--mapping"):
        parse_mapping(["证号=nonsense"])
    # A malformed row in a registry file the detectors load stops with file:line.
    broken = tmp_path / "reg"
    broken.mkdir()
    write_csv(broken / "certification-bodies.csv",
              "approval_no,name,credit_code,region,address\nCNCA-R-2019-123,甲认证有限公司,,,\n"
              "CNCA-R-19-1,乙认证有限公司,,,\n")
    with pytest.raises(ConfigError, match=r"certification-bodies\.csv:3"):
        Registry.load(broken)


def test_registry_commands(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "b.csv",
                       "批准号,机构名称\nCNCA-R-2019-123,命令行认证有限公司\nCNCA-R-2019,坏行\n")
    var = tmp_path / "var"
    runner = CliRunner()
    result = runner.invoke(app, ["registry", "import", str(source), "--into", str(var)])
    assert result.exit_code == 1  # one row was rejected; the good one is kept
    assert f"{source}:3:" in result.output
    assert "导入 1 行，跳过 1 行" in result.output
    listed = runner.invoke(app, ["registry", "list", "--registry", str(var), "--json"])
    assert listed.exit_code == 0
    assert "命令行认证有限公司" in listed.output
    shipped = runner.invoke(app, ["registry", "list", "--registry", str(SHIPPED_REGISTRY)])
    assert shipped.exit_code == 0
    assert shipped.output.count("CNCA-R-") == 34
