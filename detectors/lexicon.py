"""The keyword lexicon: YAML files under ``keywords/``, validated and version-stamped.

Every file may hold ``slots`` (named synonym lists and number ranges shared by
all files), ``entries`` (the rules), ``legal_basis`` (the citations a rule may
name) and, in one file only, ``context`` (negation and warning cues). A bad
file is a :class:`ConfigError` naming file, line and problem; the version is a
hash of every file's bytes, stamped on each finding.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from detectors.patterns import Expanded, Expander, PatternError, SlotDef, SlotRange
from jingwang.errors import ConfigError
from jingwang.records import Category, Severity
from jingwang.yamlfile import LineMap, load_yaml, validation_error

ID_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,79}$"
SUFFIXES = (".yaml", ".yml")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RangeSlotModel(_Strict):
    range: tuple[int, int]

    @model_validator(mode="after")
    def _order(self) -> RangeSlotModel:
        lo, hi = self.range
        if lo < 0 or hi < lo or hi > 999:
            raise ValueError("range must be [low, high] with 0 <= low <= high <= 999")
        return self


class ContextRules(_Strict):
    """Cues that suppress a match and words that count as a word boundary."""

    negations_before: list[str] = Field(default_factory=list)
    warnings_after: list[str] = Field(default_factory=list)
    attach_left: list[str] = Field(default_factory=list)
    attach_right: list[str] = Field(default_factory=list)
    window_before: int = Field(default=16, ge=1, le=60)
    window_after: int = Field(default=10, ge=1, le=60)
    fuzzy_threshold: float = Field(default=0.85, ge=0.5, le=1.0)
    fuzzy_min_length: int = Field(default=6, ge=3, le=40)


class EntryModel(_Strict):
    id: str = Field(pattern=ID_PATTERN)
    category: Category
    severity: Severity = Severity.MEDIUM
    phrases: list[str] = Field(default_factory=list)
    patterns: list[str] = Field(default_factory=list)
    lookalikes: list[str] = Field(default_factory=list)
    regex: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    boundary: Literal["none", "word"] = "none"
    fuzzy: bool = True
    legal_basis: list[str] = Field(min_length=1)
    note: str = ""

    @model_validator(mode="after")
    def _something_to_match(self) -> EntryModel:
        if not (self.phrases or self.patterns or self.lookalikes or self.regex):
            raise ValueError("an entry needs phrases, patterns, lookalikes or regex")
        return self


class LexiconFile(_Strict):
    slots: dict[str, list[str] | RangeSlotModel] = Field(default_factory=dict)
    context: ContextRules | None = None
    legal_basis: list[str] = Field(default_factory=list)
    entries: list[EntryModel] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Entry:
    """One validated rule, with its patterns already expanded."""

    id: str
    category: str
    severity: str
    phrases: tuple[str, ...]
    patterns: tuple[str, ...]
    lookalikes: tuple[str, ...]
    regex: tuple[re.Pattern[str], ...]
    exclude: tuple[str, ...]
    boundary: str
    fuzzy: bool
    legal_basis: tuple[str, ...]
    note: str
    file: str
    line: int
    expanded: tuple[Expanded, ...] = field(repr=False)          # one per pattern
    expanded_exclude: tuple[Expanded, ...] = field(repr=False)  # one per exclusion


@dataclass(frozen=True, slots=True)
class Lexicon:
    directory: Path
    entries: tuple[Entry, ...] = field(repr=False)
    slots: dict[str, SlotDef] = field(repr=False)
    context: ContextRules
    legal_basis: tuple[str, ...]
    version: str
    files: tuple[Path, ...]

    def entry(self, entry_id: str) -> Entry | None:
        return next((e for e in self.entries if e.id == entry_id), None)


def lexicon_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.suffix in SUFFIXES and p.is_file())


def snapshot(directory: Path) -> tuple[tuple[str, int, int, int], ...]:
    """Cheap identity of the lexicon files (name, mtime, size, inode) for hot reload."""
    out = []
    try:
        files = lexicon_files(directory)
    except OSError:
        return ()
    for p in files:
        try:
            st = p.stat()
        except OSError:
            continue
        out.append((p.name, st.st_mtime_ns, st.st_size, st.st_ino))
    return tuple(out)


class _Loader:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.slots: dict[str, SlotDef] = {}
        self.slot_where: dict[str, str] = {}
        self.context: ContextRules | None = None
        self.context_where = ""
        self.legal: list[str] = []
        self.raw_entries: list[tuple[Path, LineMap, int, EntryModel]] = []
        self.id_where: dict[str, str] = {}

    def read(self, path: Path, text: str) -> None:
        data, lines = load_yaml(path, text)
        if data is None:
            return
        if not isinstance(data, dict):
            raise ConfigError(path, "a lexicon file must be a mapping "
                              "(slots / entries / legal_basis / context)", line=1)
        try:
            model = LexiconFile.model_validate(data)
        except ValidationError as exc:
            raise validation_error(path, exc, lines) from None
        for name, definition in model.slots.items():
            line = lines.line_of(("slots", name))
            if not re.match(r"^[^\s{}|?~,]+$", name):
                raise ConfigError(path, f"bad slot name {name!r}", line=line)
            if name in self.slot_where:
                raise ConfigError(path, f"slot {name!r} is already defined at "
                                  f"{self.slot_where[name]}", line=line)
            self.slot_where[name] = f"{path}:{line}"
            if isinstance(definition, RangeSlotModel):
                self.slots[name] = SlotRange(*definition.range)
            else:
                if not definition:
                    raise ConfigError(path, f"slot {name!r} has no options", line=line)
                self.slots[name] = tuple(definition)
        if model.context is not None:
            line = lines.line_of(("context",))
            if self.context is not None:
                raise ConfigError(path, f"context is already defined at {self.context_where}",
                                  line=line)
            self.context = model.context
            self.context_where = f"{path}:{line}"
        self.legal.extend(model.legal_basis)
        for i, entry in enumerate(model.entries):
            line = lines.line_of(("entries", i, "id")) or lines.line_of(("entries", i)) or 1
            if entry.id in self.id_where:
                raise ConfigError(path, f"duplicate id {entry.id!r} "
                                  f"(first defined at {self.id_where[entry.id]})", line=line)
            self.id_where[entry.id] = f"{path}:{line}"
            self.raw_entries.append((path, lines, i, entry))

    def build(self, version: str, files: tuple[Path, ...]) -> Lexicon:
        expander = Expander(self.slots)
        allowed = set(self.legal)
        entries = []
        for path, lines, i, m in self.raw_entries:
            def where(key: str, j: int) -> int | None:
                return lines.line_of(("entries", i, key, j))  # noqa: B023

            expanded = []
            for j, pattern in enumerate(m.patterns):
                try:
                    expanded.append(expander.expand(pattern))
                except PatternError as exc:
                    raise ConfigError(path, f"pattern {pattern!r}: {exc}",
                                      line=where("patterns", j)) from None
            excluded = []
            for j, pattern in enumerate(m.exclude):
                try:
                    ex = expander.expand(pattern)
                except PatternError as exc:
                    raise ConfigError(path, f"exclude {pattern!r}: {exc}",
                                      line=where("exclude", j)) from None
                if len(ex.parts) != 1:
                    raise ConfigError(path, f"exclude {pattern!r}: gaps are not allowed in "
                                      "exclusions", line=where("exclude", j))
                excluded.append(ex)
            regexes = []
            for j, rx in enumerate(m.regex):
                try:
                    regexes.append(re.compile(rx))
                except re.error as exc:
                    raise ConfigError(path, f"bad regex {rx!r}: {exc}",
                                      line=where("regex", j)) from None
            for j, ref in enumerate(m.legal_basis):
                if allowed and ref not in allowed:
                    raise ConfigError(path, f"legal basis {ref!r} is not in the lexicon's "
                                      "legal_basis list", line=where("legal_basis", j))
            for key, values in (("phrases", m.phrases), ("lookalikes", m.lookalikes)):
                for j, value in enumerate(values):
                    if not value.strip():
                        raise ConfigError(path, f"empty {key[:-1]}", line=where(key, j))
            entries.append(Entry(
                id=m.id, category=m.category.value, severity=m.severity.value,
                phrases=tuple(m.phrases), patterns=tuple(m.patterns),
                lookalikes=tuple(m.lookalikes), regex=tuple(regexes), exclude=tuple(m.exclude),
                boundary=m.boundary, fuzzy=m.fuzzy, legal_basis=tuple(m.legal_basis),
                note=m.note, file=str(path),
                line=lines.line_of(("entries", i)) or 1,
                expanded=tuple(expanded), expanded_exclude=tuple(excluded)))
        return Lexicon(self.directory, tuple(entries), dict(self.slots),
                       self.context or ContextRules(), tuple(dict.fromkeys(self.legal)),
                       version, files)


def load_lexicon(directory: str | Path, overrides: dict[str, str] | None = None) -> Lexicon:
    """Load and validate every ``*.yaml`` file of ``directory``.

    ``overrides`` maps a file name to replacement text (``keywords add`` checks
    an edit this way before writing it).
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise ConfigError(directory, "lexicon directory not found")
    overrides = dict(overrides or {})
    paths = {p.name: p for p in lexicon_files(directory)}
    for name in overrides:
        paths.setdefault(name, directory / name)
    if not paths:
        raise ConfigError(directory, "no lexicon files (*.yaml) in the directory")
    loader = _Loader(directory)
    digest = hashlib.sha256()
    files = []
    for name in sorted(paths):
        path = paths[name]
        if name in overrides:
            text = overrides[name]
        else:
            try:
                text = path.read_bytes().decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ConfigError(path, f"not UTF-8 text ({exc.reason})") from None
        digest.update(name.encode() + b"\0" + text.encode("utf-8") + b"\0")
        loader.read(path, text)
        files.append(path)
    return loader.build(digest.hexdigest()[:12], tuple(files))


def entry_yaml(data: dict[str, Any]) -> str:
    """An entry as a YAML list item, indented for a file's ``entries:`` list."""
    import yaml

    body = yaml.safe_dump([data], allow_unicode=True, sort_keys=False, width=100)
    return "".join("  " + line if line.strip() else line for line in body.splitlines(True))
