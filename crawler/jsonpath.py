"""A small JSON path dialect for profiles: ``$.items[*].seller.name``, ``data.list[0].id``.

Only what platform APIs need: object keys (dotted, or ``["key with dots"]``),
list indexes (``[0]``, ``[-1]``) and every element (``[*]``). Paths are checked
when a profile loads, so a typo is a profile error, not a crawl finding nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

_TOKEN = re.compile(r"""
    \.(?P<key>[^.\[\]]+)            # .key
  | \[(?P<index>-?\d+)\]            # [3]
  | \[(?P<star>\*)\]                # [*]
  | \["(?P<quoted>[^"]*)"\]         # ["a.b"]
""", re.VERBOSE)

Step = str | int | None  # a key, an index, or None for "every element"


class JsonPathError(ValueError):
    """A path that does not follow the dialect."""


def compile_path(text: str) -> tuple[Step, ...]:
    """The steps of ``text``; raises :class:`JsonPathError` for anything malformed."""
    path = text.strip()
    if not path:
        raise JsonPathError("empty JSON path")
    if path == "$":
        return ()
    if path.startswith("$"):
        path = path[1:]
    if not path.startswith(("[", ".")):
        path = "." + path
    steps: list[Step] = []
    position = 0
    while position < len(path):
        match = _TOKEN.match(path, position)
        if match is None:
            raise JsonPathError(f"invalid JSON path {text!r} at {path[position:]!r} "
                                "(use keys.like.this, [0] or [*])")
        if match.group("key") is not None:
            steps.append(match.group("key").strip())
        elif match.group("index") is not None:
            steps.append(int(match.group("index")))
        elif match.group("star") is not None:
            steps.append(None)
        else:
            steps.append(match.group("quoted"))
        position = match.end()
    return tuple(steps)


def find(data: Any, text: str) -> list[Any]:
    """Every value ``text`` reaches in ``data`` (an empty list when it reaches none)."""
    return list(_walk(data, compile_path(text)))


def _walk(value: Any, steps: tuple[Step, ...]) -> Iterator[Any]:
    if not steps:
        yield value
        return
    step, rest = steps[0], steps[1:]
    if step is None:
        items = value if isinstance(value, list) else (
            list(value.values()) if isinstance(value, dict) else [])
        for item in items:
            yield from _walk(item, rest)
    elif isinstance(step, int):
        if isinstance(value, list) and -len(value) <= step < len(value):
            yield from _walk(value[step], rest)
    elif isinstance(value, dict) and step in value:
        yield from _walk(value[step], rest)


def scalar_text(value: Any) -> str:
    """A JSON value as field text: strings as they are, numbers and booleans as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    return ""  # objects and lists are not field text
