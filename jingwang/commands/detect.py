"""``jingwang detect``, ``jingwang eval`` and ``jingwang keywords list|test|add``.

``detect`` and ``eval`` follow ../shared/eval/README.md: listings in the eval
schema in, one result line per listing out; ``eval`` compares the categories
with the labels and prints precision, recall and F1 per category and for
"flagged at all", then the listings it got wrong with their findings.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from jingwang.errors import ConfigError
from jingwang.records import Category, Finding, Listing, Severity

LexiconOpt = Annotated[Path, typer.Option("--lexicon", help="lexicon directory (keywords/)")]
RegistryOpt = Annotated[Path | None, typer.Option(
    "--registry", help="certification-body registry CSV for the certificate checks")]
FLAGGED = "flagged at all"


def register(app: typer.Typer) -> None:
    app.command("detect")(detect)
    app.command("eval")(evaluate)
    keywords = typer.Typer(help="The keyword lexicon: list, test and add rules.",
                           no_args_is_help=True)
    keywords.command("list")(keywords_list)
    keywords.command("test")(keywords_test)
    keywords.command("add")(keywords_add)
    app.add_typer(keywords, name="keywords")


def read_listings(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) of each non-empty line of a JSONL file."""
    try:
        handle = path.open(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(path, "file not found") from None
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ConfigError(path, f"invalid JSON: {exc.msg}", line=number) from None
            if not isinstance(data, dict):
                raise ConfigError(path, "each line must be a JSON object", line=number)
            yield number, data


def _suite(lexicon: Path, registry: Path | None) -> Any:
    from detectors.suite import DetectorSuite

    return DetectorSuite.from_paths(lexicon_dir=lexicon, registry_path=registry)


def finding_json(f: Finding) -> dict[str, Any]:
    data = f.to_dict()
    ordered = {k: data.pop(k) for k in ("rule", "category", "field", "start", "end", "text",
                                        "severity")}
    ordered.update(data)
    return ordered


def detect(input: Annotated[Path, typer.Option("--input", help="listings, one JSON a line")],
           output: Annotated[Path, typer.Option("--output", help="results (JSONL)")],
           lexicon: LexiconOpt = Path("keywords"), registry: RegistryOpt = None) -> None:
    """Run every detector over a JSONL file of listings and write one result line each."""
    suite = _suite(lexicon, registry)
    count = flagged = 0
    with output.open("w", encoding="utf-8") as out:
        for number, data in read_listings(input):
            listing = Listing.from_dict(data)
            findings = suite.detect(listing)
            categories = suite.categories(findings)
            out.write(json.dumps({"id": data.get("id", f"line-{number}"),
                                  "categories": categories,
                                  "findings": [finding_json(f) for f in findings]},
                                 ensure_ascii=False) + "\n")
            count += 1
            flagged += bool(categories)
    Console(stderr=True).print(f"{count} listings, {flagged} flagged, lexicon {suite.version}"
                               f" → {output}", highlight=False)


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    support: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def add(self, predicted: bool, gold: bool) -> None:
        self.support += gold
        if predicted and gold:
            self.tp += 1
        elif predicted:
            self.fp += 1
        elif gold:
            self.fn += 1


@dataclass
class Evaluation:
    """Scores per category and for "flagged at all", and the listings got wrong."""

    categories: list[str]
    scores: dict[str, Score] = field(default_factory=dict)
    errors: list[tuple[dict[str, Any], set[str], set[str], list[Finding]]] = field(
        default_factory=list)
    listings: int = 0

    def add(self, data: dict[str, Any], predicted: set[str], findings: list[Finding]) -> None:
        gold = {str(c) for c in data.get("labels") or []} & set(self.categories)
        predicted = predicted & set(self.categories)
        self.listings += 1
        for c in self.categories:
            self.scores.setdefault(c, Score()).add(c in predicted, c in gold)
        self.scores.setdefault(FLAGGED, Score()).add(bool(predicted), bool(gold))
        if predicted != gold:
            self.errors.append((data, gold, predicted, findings))


def run_eval(suite: Any, path: Path, categories: list[str]) -> Evaluation:
    ev = Evaluation(categories)
    for _, data in read_listings(path):
        findings = suite.detect(Listing.from_dict(data))
        ev.add(data, set(suite.categories(findings)), findings)
    return ev


def evaluate(input: Annotated[Path, typer.Option("--input", help="labelled listings (JSONL)")],
             category: Annotated[list[str] | None, typer.Option(
                 "--category", help="only these categories (repeatable)")] = None,
             show_errors: Annotated[int, typer.Option(
                 "--show-errors", help="how many wrong listings to print")] = 50,
             lexicon: LexiconOpt = Path("keywords"), registry: RegistryOpt = None) -> None:
    """Precision, recall and F1 per category and for "flagged at all" on a labelled file."""
    known = [c.value for c in Category]
    chosen = category or known
    unknown = [c for c in chosen if c not in known]
    if unknown:
        raise typer.BadParameter(f"unknown category {unknown[0]!r} (one of {', '.join(known)})")
    suite = _suite(lexicon, registry)
    ev = run_eval(suite, input, chosen)
    console = _console()
    table = Table(title=f"{input} · {ev.listings} listings · lexicon {suite.version}")
    for name in ("category", "precision", "recall", "F1", "TP", "FP", "FN", "support"):
        table.add_column(name, justify="left" if name == "category" else "right")
    for name in [*chosen, FLAGGED]:
        s = ev.scores.get(name, Score())
        table.add_row(name, f"{s.precision:.3f}", f"{s.recall:.3f}", f"{s.f1:.3f}",
                      str(s.tp), str(s.fp), str(s.fn), str(s.support))
    console.print(table)
    console.print(f"{len(ev.errors)} listings wrong" +
                  (f", showing {min(show_errors, len(ev.errors))}" if ev.errors else ""))
    for data, gold, predicted, findings in ev.errors[:max(0, show_errors)]:
        missing = ", ".join(sorted(gold - predicted)) or "-"
        extra = ", ".join(sorted(predicted - gold)) or "-"
        console.print(f"\n[bold]{escape(str(data.get('id')))}[/] "
                      f"{escape(str(data.get('title', ''))[:60])}")
        console.print(f"  expected {sorted(gold)} got {sorted(predicted)} · "
                      f"missing: {missing} · extra: {extra}")
        for f in findings:
            ev_text = f" [{', '.join(f.evasions)}]" if f.evasions else ""
            console.print(f"  {escape(f.rule)} {f.category} {f.field}[{f.start}:{f.end}] "
                          f"{escape(repr(f.text))}{escape(ev_text)}")


def _console() -> Console:
    """A console wide enough for the tables even when output is piped."""
    return Console(highlight=False, width=max(Console().width, 120))


def _lexicon_dir(path: Path) -> Path:
    from detectors.suite import default_lexicon_dir

    return default_lexicon_dir(path)


def keywords_list(category: Annotated[str | None, typer.Option(
                      "--category", help="only this category")] = None,
                  lexicon: LexiconOpt = Path("keywords")) -> None:
    """List the lexicon's rules with their phrases and where they are defined."""
    from detectors.lexicon import load_lexicon

    lx = load_lexicon(_lexicon_dir(lexicon))
    table = Table(title=f"lexicon {lx.version} · {len(lx.entries)} rules · {lx.directory}")
    for name in ("id", "category", "severity", "phrases / patterns", "defined at"):
        table.add_column(name)
    for e in lx.entries:
        if category and e.category != category:
            continue
        shown = [*e.phrases, *e.patterns, *(f"≈{x}" for x in e.lookalikes),
                 *(f"/{r.pattern}/" for r in e.regex)]
        text = " · ".join(shown[:4]) + (f" (+{len(shown) - 4})" if len(shown) > 4 else "")
        table.add_row(e.id, e.category, e.severity, escape(text),
                      f"{Path(e.file).name}:{e.line}")
    _console().print(table)


def keywords_test(text: Annotated[str, typer.Argument(help="text to scan, e.g. 當天出證")],
                  lexicon: LexiconOpt = Path("keywords"),
                  as_json: Annotated[bool, typer.Option("--json", help="JSON lines")] = False,
                  ) -> None:
    """Show every lexicon finding in a text, with the evasions it saw through."""
    from detectors.automaton import compile_lexicon
    from detectors.engine import Engine
    from detectors.lexicon import load_lexicon

    engine = Engine(compile_lexicon(load_lexicon(_lexicon_dir(lexicon))))
    matches = engine.scan(text)
    console = _console()
    for m in matches:
        e = m.rule.entry
        if as_json:
            typer.echo(json.dumps({"rule": e.id, "category": e.category, "start": m.start,
                                   "end": m.end, "text": m.text, "severity": e.severity,
                                   "evasions": list(m.evasions), "phrase": m.phrase,
                                   "legal_basis": list(e.legal_basis)}, ensure_ascii=False))
            continue
        evasions = ", ".join(m.evasions) or "none"
        console.print(f"[bold]{escape(e.id)}[/] {e.category} ({e.severity}) "
                      f"[{m.start}:{m.end}] {escape(repr(m.text))}")
        console.print(f"  matched {escape(m.phrase)} · evasions: {evasions}")
        console.print(f"  legal basis: {escape('; '.join(e.legal_basis))}")
    if not matches and not as_json:
        console.print(f"no findings (lexicon {engine.version})")


def keywords_add(
        entry_id: Annotated[str, typer.Option("--id", help="unique rule id, e.g. fc.my_rule")],
        category: Annotated[str, typer.Option("--category", help="violation category")],
        legal_basis: Annotated[list[str], typer.Option(
            "--legal-basis", help="citation from legal_basis.yaml (repeatable)")],
        phrase: Annotated[list[str] | None, typer.Option(
            "--phrase", help="literal phrase (repeatable)")] = None,
        pattern: Annotated[list[str] | None, typer.Option(
            "--pattern", help="pattern with {slots} (repeatable)")] = None,
        lookalike: Annotated[list[str] | None, typer.Option(
            "--lookalike", help="homophone / look-alike variant (repeatable)")] = None,
        exclude: Annotated[list[str] | None, typer.Option(
            "--exclude", help="exclusion context (repeatable)")] = None,
        severity: Annotated[Severity, typer.Option("--severity")] = Severity.MEDIUM,
        boundary: Annotated[str, typer.Option(
            "--boundary", help="none, or word for short phrases")] = "none",
        note: Annotated[str, typer.Option("--note", help="why the rule exists")] = "",
        file: Annotated[str | None, typer.Option(
            "--file", help="lexicon file name (default: CATEGORY.yaml)")] = None,
        lexicon: LexiconOpt = Path("keywords")) -> None:
    """Append a rule to a category file, after validating the whole lexicon with it."""
    from detectors.lexicon import entry_yaml, load_lexicon
    from jingwang.yamlfile import load_yaml

    directory = _lexicon_dir(lexicon)
    name = file or f"{category}.yaml"
    if "/" in name or not name.endswith((".yaml", ".yml")):
        raise typer.BadParameter(f"--file must be a .yaml file name, not {name!r}")
    data: dict[str, Any] = {"id": entry_id, "category": category,
                            "severity": severity.value}
    for key, values in (("phrases", phrase), ("patterns", pattern),
                        ("lookalikes", lookalike), ("exclude", exclude)):
        if values:
            data[key] = list(values)
    if boundary != "none":
        data["boundary"] = boundary
    data["legal_basis"] = list(legal_basis)
    if note:
        data["note"] = note
    path = directory / name
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    parsed, _ = load_yaml(path, current) if current.strip() else (None, None)
    if current and not current.endswith("\n"):
        current += "\n"
    if not isinstance(parsed, dict) or "entries" not in parsed:
        current += "entries:\n"
    elif list(parsed).index("entries") != len(parsed) - 1:
        raise ConfigError(path, "cannot append: 'entries' must be the file's last key")
    updated = current + entry_yaml(data)
    lx = load_lexicon(directory, overrides={name: updated})  # raises on any problem
    handle, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(updated)
    os.replace(tmp, path)
    Console(highlight=False).print(f"added {entry_id} to {path} (lexicon {lx.version})")
