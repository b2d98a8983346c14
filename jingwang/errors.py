"""Errors a user can act on: each names the file, line or field and the problem."""

from __future__ import annotations

from pathlib import Path


class ConfigError(Exception):
    """A malformed configuration, profile, lexicon or import file."""

    def __init__(self, path: str | Path, problem: str, *, line: int | None = None,
                 key: str | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.key = key
        self.problem = problem
        where = self.path if line is None else f"{self.path}:{line}"
        if key:
            where = f"{where}: {key}"
        super().__init__(f"{where}: {problem}")
