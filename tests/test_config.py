"""A malformed config file stops start-up with the file, line, key and problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from jingwang.config import load_settings, parse_duration
from jingwang.errors import ConfigError

GOOD = """\
database_url: sqlite:///var/x.db
sources:
  - name: s1
    platform: sandbox
    keywords: [认证]
    pages: 2
    interval: 10m
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "jingwang.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_config_loads(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, GOOD))
    assert settings.sources[0].interval == 600
    assert settings.sources[0].keywords == ["认证"]
    assert settings.web.host == "127.0.0.1"


def test_default_config_of_the_repo_loads() -> None:
    settings = load_settings(Path(__file__).resolve().parents[1] / "config/jingwang.yaml")
    assert {s.platform for s in settings.sources} == {"sandbox"}


@pytest.mark.parametrize(("text", "line", "needle"), [
    (GOOD.replace("pages: 2", "pages: many"), 6, "sources.0.pages"),
    (GOOD.replace("pages: 2", "pagez: 2"), 6, "unknown key"),
    (GOOD.replace("interval: 10m", "interval: soon"), 7, "not a duration"),
    (GOOD.replace("    platform: sandbox\n", ""), 3, "sources.0.platform: required key is missing"),
    (GOOD + "  - name: s1\n    platform: sandbox\n", 2, "duplicate source name"),
    (GOOD.replace("keywords: [认证]", "keywords: [认证"), 6, "invalid YAML"),
    ("database_url: a\ndatabase_url: b\n", 2, "duplicate key 'database_url'"),
])
def test_malformed_config_names_file_line_and_problem(
        tmp_path: Path, text: str, line: int, needle: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    message = str(info.value)
    assert message.startswith(f"{path}:{line}:"), message
    assert needle in message


def test_missing_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_settings(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="file is empty"):
        load_settings(write(tmp_path, "# nothing\n"))


def test_environment_overrides_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JINGWANG_DATABASE_URL", "postgresql+psycopg://u@h/db")
    assert load_settings(write(tmp_path, GOOD)).database_url == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize(("value", "seconds"), [(90, 90.0), ("30s", 30.0), ("10m", 600.0),
                                                ("1.5h", 5400.0), ("1d", 86400.0)])
def test_durations(value: object, seconds: float) -> None:
    assert parse_duration(value) == seconds
