"""``jingwang alerts``, ``jingwang silence`` and ``jingwang leads`` on a real database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from alerts.jobs import load_alerting
from jingwang.cli import app
from jingwang.config import SourceConfig, load_settings
from store.db import make_engine, upgrade
from store.evidence import EvidenceStore
from store.service import Store
from tests.alerts.conftest import ROOT, WebhookReceiver, crawled, detect, units_file

ROUTING = """\
route:
  unit: enforcement
  group_wait: 0s
  group_interval: 0s
  routes:
    - matchers: ['category="false_advertising"']
      unit: advertising
    - matchers: ['event="confirmed"']
      unit: credit
"""


def _config(tmp_path: Path, webhook_url: str, routing: str = ROUTING) -> Path:
    routing_file = tmp_path / "routing.yaml"
    routing_file.write_text(routing, encoding="utf-8")
    config = tmp_path / "jingwang.yaml"
    config.write_text(f"""\
database_url: sqlite:///{tmp_path}/cli.db
evidence_dir: {tmp_path}/evidence
platforms_dir: {ROOT}/config/platforms
channels:
  - {{name: log, type: log}}
  - {{name: hook, type: webhook, url: "{webhook_url}"}}
alerts:
  units_file: {units_file(tmp_path)}
  routing_file: {routing_file}
""", encoding="utf-8")
    return config


def test_alert_lead_and_silence_commands(tmp_path: Path, webhook: WebhookReceiver) -> None:
    config = _config(tmp_path, webhook.url)
    settings = load_settings(config)
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    store = Store(engine, EvidenceStore(settings.evidence_dir),
                  router=load_alerting(settings, config_path=config).router)
    store.sync_source(SourceConfig(name="alerts-test", platform="sandbox"))
    run_id = store.start_run("alerts-test")
    lead_id = store.ingest(run_id, crawled("1", shop="某认证", at=datetime.now(UTC)), detect,
                           channels=()).lead_id
    engine.dispose()
    runner = CliRunner()

    def cli(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, [*args, "--config", str(config)], env={"COLUMNS": "240"})
        assert result.exit_code == code, result.output + repr(result.exception)
        return result.output

    out = cli("alerts", "check")
    assert "亳州市谯城区市场监督管理局" in out and "知识产权监督管理股" in out
    assert 'category="false_advertising" → advertising' in out
    assert "知识产权监督管理股（qc-ip）→ 渠道 hook" in cli(
        "alerts", "route", "--category", "false_advertising")
    assert "某认证" in cli("leads", "list")
    detail = json.loads(cli("leads", "show", str(lead_id)))
    assert detail["sellers"][0]["name"] == "某认证" and detail["profile"]["severity"] == "high"
    cli("leads", "show", "999", code=1)
    cli("leads", "move", str(lead_id), "in_review", "--by", "li")
    cli("leads", "move", str(lead_id), "confirmed", "--by", "li")
    assert "不能" not in cli("leads", "move", str(lead_id), "referred", "--unit", "法制股",
                             "--platform")
    assert "not an allowed move" in cli("leads", "move", str(lead_id), "new", code=1)

    log = json.loads(cli("alerts", "log", "--json"))
    assert sorted(r["idempotency_key"] for r in log) == sorted([
        f"lead:{lead_id}:created:qc-enforcement:hook",
        f"lead:{lead_id}:confirmed:qc-credit:hook",
        f"lead:{lead_id}:referred-unit:qc-legal:hook",
        f"lead:{lead_id}:referred-platform:qc-enforcement:hook"])
    assert {r["status"] for r in log} == {"pending"}
    assert "已发送 4 条" in cli("alerts", "dispatch")
    assert len(webhook.processed) == 3  # the two enforcement rows went as one message
    assert "已发送" in cli("alerts", "log", "--status", "sent")
    assert json.loads(cli("alerts", "log", "--json", "--status", "pending")) == []
    assert "已重新排队 0 条" in cli("alerts", "retry", "1")

    assert "静默 #1：seller" in cli("silence", "add", "--lead", str(lead_id), "--for", "2h",
                                    "--reason", "已约谈")
    cli("silence", "add", "--reason", "x", code=1)
    cli("silence", "add", "--rule", "r", "--reason", "x", "--for", "soon", code=1)
    assert "已约谈" in cli("silence", "list")
    cli("silence", "expire", "1")
    assert "已约谈" not in cli("silence", "list")
    assert "已约谈" in cli("silence", "list", "--all")
    cli("silence", "expire", "42", code=1)

    assert "摘要" in cli("alerts", "digest")
    out = cli("alerts", "takedown")
    assert "共移送 1 件" in out and "sandbox" in out


def test_a_malformed_routing_file_stops_with_file_and_line(
        tmp_path: Path, webhook: WebhookReceiver) -> None:
    config = _config(tmp_path, webhook.url, routing="route:\n  unit: enforcement\n  routes:\n"
                     "    - matchers: ['severity=~\"(high\"']\n")
    env = {**os.environ, "JINGWANG_CONFIG": str(config)}
    env.pop("JINGWANG_DATABASE_URL", None)
    result = subprocess.run([sys.executable, "-m", "jingwang.cli", "alerts", "check"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert f"{tmp_path / 'routing.yaml'}:4" in result.stderr.replace("\n", "")
    assert "bad regex" in result.stderr
