"""``jingwang db upgrade | downgrade | current`` against real databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from jingwang.cli import app
from store.db import current_revision, head_revision


def test_db_commands(database_url: str) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["db", "current", "--database-url", database_url])
    assert result.exit_code == 0, result.output
    assert "未迁移" in result.output

    result = runner.invoke(app, ["db", "upgrade", "--database-url", database_url])
    assert result.exit_code == 0, result.output
    assert current_revision(database_url) == head_revision()
    result = runner.invoke(app, ["db", "current", "--database-url", database_url])
    assert result.output.startswith(head_revision()) and "最新" in result.output

    result = runner.invoke(app, ["db", "downgrade", "base", "--database-url", database_url])
    assert result.exit_code == 0, result.output
    assert current_revision(database_url) is None

    result = runner.invoke(app, ["db", "upgrade", "--revision", "nope",
                                 "--database-url", database_url])
    assert result.exit_code == 1
    assert "错误" in result.output and "nope" in result.output
    assert current_revision(database_url) is None


def test_database_url_from_config_and_environment(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from_config = tmp_path / "from-config.db"
    config = tmp_path / "jingwang.yaml"
    config.write_text(f"database_url: sqlite:///{from_config}\n", encoding="utf-8")
    monkeypatch.delenv("JINGWANG_DATABASE_URL", raising=False)
    runner = CliRunner()
    result = runner.invoke(app, ["db", "upgrade", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert current_revision(f"sqlite:///{from_config}") == head_revision()

    from_env = tmp_path / "nested" / "from-env.db"
    monkeypatch.setenv("JINGWANG_DATABASE_URL", f"sqlite:///{from_env}")
    result = runner.invoke(app, ["db", "upgrade", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert current_revision(f"sqlite:///{from_env}") == head_revision()
