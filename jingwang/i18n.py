"""Message catalogue: every user-facing string is looked up here by key (zh-CN first)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

LOCALES_DIR = Path(__file__).with_name("locales")
DEFAULT_LOCALE = "zh-CN"
LOCALES = ("zh-CN", "en")


@cache
def catalogue(locale: str = DEFAULT_LOCALE) -> dict[str, str]:
    """All messages of a locale; keys missing from it fall back to zh-CN."""
    data = yaml.safe_load((LOCALES_DIR / f"{locale}.yaml").read_text(encoding="utf-8")) or {}
    flat: dict[str, str] = {}
    _flatten(data, "", flat)
    if locale != DEFAULT_LOCALE:
        return {**catalogue(DEFAULT_LOCALE), **flat}
    return flat


def _flatten(node: Any, prefix: str, out: dict[str, str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _flatten(value, f"{prefix}{key}." if not isinstance(value, str) else f"{prefix}{key}",
                     out)
            if isinstance(value, str):
                out[f"{prefix}{key}"] = value
    elif isinstance(node, str):
        out[prefix.rstrip(".")] = node


def t(key: str, locale: str = DEFAULT_LOCALE, **values: Any) -> str:
    """Translate ``key``; an unknown key is returned as itself so it shows up in review."""
    text = catalogue(locale).get(key, key)
    return text.format(**values) if values else text
