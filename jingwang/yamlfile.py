"""Load YAML files with line numbers, so every error names the file and line.

``load_yaml`` returns plain Python data plus a map from key paths to lines;
``load_model`` validates that data with a Pydantic model and turns a
validation error into a :class:`ConfigError` that points at the offending line.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from jingwang.errors import ConfigError

Path_ = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)


class LineMap:
    """Line numbers (1-based) of the nodes of a YAML document, by key path."""

    def __init__(self) -> None:
        self._lines: dict[Path_, int] = {}

    def set(self, path: Path_, line: int) -> None:
        self._lines[path] = line

    def line_of(self, path: Iterable[str | int]) -> int | None:
        """Line of the deepest node of ``path`` that the document has."""
        parts = tuple(path)
        while parts:
            if parts in self._lines:
                return self._lines[parts]
            parts = parts[:-1]
        return self._lines.get((), None)


def _construct(node: yaml.Node, path: Path_, lines: LineMap, file: str) -> Any:
    lines.set(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = yaml.safe_load(yaml.serialize(key_node)) if not isinstance(
                key_node, yaml.ScalarNode) else key_node.value
            key = str(key)
            if key in out:
                raise ConfigError(file, f"duplicate key {key!r}",
                                  line=key_node.start_mark.line + 1)
            out[key] = _construct(value_node, (*path, key), lines, file)
            lines.set((*path, key), key_node.start_mark.line + 1)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, (*path, i), lines, file) for i, item in enumerate(node.value)]
    # Scalars: let SafeLoader resolve the tag (int, bool, null, str ...).
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


def load_yaml(path: str | Path, text: str | None = None) -> tuple[Any, LineMap]:
    """Parse one YAML document; syntax errors and duplicate keys are ConfigErrors."""
    file = str(path)
    if text is None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(file, "file not found") from None
        except UnicodeDecodeError as exc:
            raise ConfigError(file, f"not UTF-8 text ({exc.reason})") from None
    lines = LineMap()
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise ConfigError(file, f"invalid YAML: {exc.problem or exc}", line=line) from None
    except yaml.YAMLError as exc:
        raise ConfigError(file, f"invalid YAML: {exc}") from None
    if node is None:
        return None, lines
    return _construct(node, (), lines, file), lines


def validation_error(path: str | Path, exc: ValidationError, lines: LineMap,
                     prefix: Path_ = ()) -> ConfigError:
    """The first problem of a Pydantic error as a ConfigError with its line."""
    err = exc.errors()[0]
    loc = tuple(p for p in err["loc"] if isinstance(p, (str, int)))
    key = ".".join(str(p) for p in (*prefix, *loc)) or None
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    elif err["type"] == "missing":
        msg = "required key is missing"
    return ConfigError(path, msg, line=lines.line_of((*prefix, *loc)), key=key)


def load_model(model: type[M], path: str | Path, text: str | None = None) -> M:
    """Load ``path`` and validate it as ``model``; errors name file, line and key."""
    data, lines = load_yaml(path, text)
    if data is None:
        raise ConfigError(path, "file is empty")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(path, exc, lines) from None
