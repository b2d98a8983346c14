"""``jingwang detect``, ``eval`` and ``keywords list|test|add`` run end to end."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from detectors.lexicon import load_lexicon
from jingwang.cli import app

runner = CliRunner()

LISTINGS: list[dict[str, object]] = [
    {"id": "x-1", "platform": "taobao", "title": "ISO9001认证 當天出證 包⭐过",
     "description": "资料简单", "seller": {"name": "某服务"}, "labels": ["fake_certificate"]},
    {"id": "x-2", "platform": "jd", "title": "不锈钢保温杯 当天发货", "description": "确保质量",
     "seller": {"name": "杯具店", "license_text": None}, "labels": []},
]


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                    encoding="utf-8")
    return path


def test_detect_writes_one_line_per_listing_with_exact_spans(
        tmp_path: Path, keywords_copy: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", LISTINGS)
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["detect", "--input", str(source), "--output", str(out),
                                 "--lexicon", str(keywords_copy)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["x-1", "x-2"]
    first = rows[0]
    assert {"fake_certificate", "false_advertising"} <= set(first["categories"])
    same_day = next(f for f in first["findings"] if f["rule"] == "fc.same_day")
    assert list(same_day)[:7] == ["rule", "category", "field", "start", "end", "text",
                                  "severity"]
    title = LISTINGS[0]["title"]
    assert isinstance(title, str)
    assert title[same_day["start"]:same_day["end"]] == same_day["text"] == "當天出證"
    assert same_day["evasions"] == ["traditional"] and same_day["legal_basis"]
    assert not [f for f in rows[1]["findings"] if f["rule"].startswith(("fc.", "fa.", "np."))]


def test_eval_prints_scores_and_the_listings_it_got_wrong(
        tmp_path: Path, keywords_copy: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", LISTINGS)
    result = runner.invoke(app, ["eval", "--input", str(source), "--category",
                                 "fake_certificate", "--category", "false_advertising",
                                 "--lexicon", str(keywords_copy), "--show-errors", "5"])
    assert result.exit_code == 0, result.output
    assert "precision" in result.output and "flagged at all" in result.output
    assert "1 listings wrong" in result.output  # x-1 is not labelled false_advertising
    assert "x-1" in result.output and "extra: false_advertising" in result.output
    bad = runner.invoke(app, ["eval", "--input", str(source), "--category", "nonsense",
                              "--lexicon", str(keywords_copy)])
    assert bad.exit_code != 0


def test_bad_input_line_is_reported_with_its_line(tmp_path: Path, keywords_copy: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": "a", "title": "x"}\n{not json\n', encoding="utf-8")
    result = runner.invoke(app, ["detect", "--input", str(source), "--output",
                                 str(tmp_path / "o.jsonl"), "--lexicon", str(keywords_copy)])
    assert result.exit_code != 0
    assert "in.jsonl:2" in str(result.exception)


def test_keywords_list_and_test(keywords_copy: Path) -> None:
    listed = runner.invoke(app, ["keywords", "list", "--lexicon", str(keywords_copy),
                                 "--category", "national_prefix_misuse"])
    assert listed.exit_code == 0, listed.output
    assert "np.national_prefix" in listed.output and "fc.same_day" not in listed.output
    tested = runner.invoke(app, ["keywords", "test", "老板放心 當 天·chu證", "--json",
                                 "--lexicon", str(keywords_copy)])
    assert tested.exit_code == 0, tested.output
    found = [json.loads(line) for line in tested.output.splitlines()]
    assert found[0]["rule"] == "fc.same_day"
    assert found[0]["text"] == "當 天·chu證"
    assert set(found[0]["evasions"]) >= {"separator", "traditional", "pinyin"}
    plain = runner.invoke(app, ["keywords", "test", "当天发货", "--lexicon", str(keywords_copy)])
    assert "no findings" in plain.output


def test_keywords_add_validates_appends_and_refuses_duplicates(keywords_copy: Path) -> None:
    before = load_lexicon(keywords_copy).version
    args = ["keywords", "add", "--lexicon", str(keywords_copy), "--id", "fc.test_added",
            "--category", "fake_certificate", "--phrase", "包出证明", "--severity", "high",
            "--legal-basis", "认证认可条例 第61条", "--note", "added by a test"]
    added = runner.invoke(app, args)
    assert added.exit_code == 0, added.output
    lx = load_lexicon(keywords_copy)
    assert lx.version != before
    entry = lx.entry("fc.test_added")
    assert entry is not None and entry.phrases == ("包出证明",)
    assert entry.file.endswith("fake_certificate.yaml")
    text_after = (keywords_copy / "fake_certificate.yaml").read_text(encoding="utf-8")

    again = runner.invoke(app, args)  # duplicate id: refused, file untouched
    assert again.exit_code != 0
    assert "duplicate id" in str(again.exception)
    bad = runner.invoke(app, ["keywords", "add", "--lexicon", str(keywords_copy), "--id",
                              "fc.other", "--category", "fake_certificate", "--pattern",
                              "{无此槽}出证", "--legal-basis", "认证认可条例 第61条"])
    assert bad.exit_code != 0
    assert "unknown slot" in str(bad.exception)
    assert (keywords_copy / "fake_certificate.yaml").read_text(encoding="utf-8") == text_after
    tested = runner.invoke(app, ["keywords", "test", "本店包出证明", "--json",
                                 "--lexicon", str(keywords_copy)])
    assert '"fc.test_added"' in tested.output
