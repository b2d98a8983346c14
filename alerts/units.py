"""The enforcement units (``config/units.yaml``): presets for each bureau's structure, the
roles each unit takes, and the channels that reach it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from jingwang.errors import ConfigError
from jingwang.yamlfile import LineMap, load_yaml, validation_error

# The duties the campaign documents divide between units; routes name these roles so
# one route tree serves every preset. Custom roles are allowed too.
ROLES: dict[str, str] = {
    "enforcement": "查处虚假认证、虚假证书报告（执法）",
    "advertising": "查处认证检测虚假广告",
    "credit": "信用惩戒、严重违法失信名单",
    "legal": "行刑衔接，移送公安机关",
    "platform": "督促网络交易平台清理",
    "quality": "认证检测市场监管（专班办公室）",
}
_ID = r"^[a-z0-9][a-z0-9_-]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UnitConfig(_Strict):
    id: str = Field(pattern=_ID, max_length=64)
    name: str = Field(min_length=1, max_length=64)
    roles: list[str] = Field(default_factory=list)
    duties: str | None = None
    receivers: list[str] = Field(default_factory=list)
    digests: list[Literal["hourly", "daily"]] = Field(default_factory=list)


class PresetConfig(_Strict):
    bureau: str = Field(min_length=1)
    basis: str | None = None  # the document the structure comes from
    units: list[UnitConfig] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> PresetConfig:
        ids: set[str] = set()
        roles: dict[str, str] = {}
        for unit in self.units:
            if unit.id in ids:
                raise ValueError(f"duplicate unit id {unit.id!r}")
            ids.add(unit.id)
            for role in unit.roles:
                if role in roles:
                    raise ValueError(f"role {role!r} is taken by both {roles[role]!r} "
                                     f"and {unit.id!r}")
                roles[role] = unit.id
        return self


class UnitsFile(_Strict):
    preset: str
    presets: dict[str, PresetConfig] = Field(min_length=1)


@dataclass(frozen=True)
class Units:
    """The units of the preset in force, looked up by id, role or name."""

    preset: str
    bureau: str
    units: tuple[UnitConfig, ...]

    def resolve(self, ref: str) -> UnitConfig | None:
        ref = ref.strip()
        for unit in self.units:
            if ref == unit.id or ref == unit.name:
                return unit
        for unit in self.units:
            if ref in unit.roles:
                return unit
        return None

    def by_id(self, unit_id: str) -> UnitConfig | None:
        return next((u for u in self.units if u.id == unit_id), None)


def load_units(path: str | Path, *, channels: set[str] | None = None) -> Units:
    """Load the units file; with ``channels``, every receiver must name one of them."""
    data, lines = load_yaml(path)
    if data is None:
        raise ConfigError(path, "file is empty")
    try:
        model = UnitsFile.model_validate(data)
    except ValidationError as exc:
        raise validation_error(path, exc, lines) from None
    if model.preset not in model.presets:
        known = ", ".join(sorted(model.presets))
        raise ConfigError(path, f"unknown preset {model.preset!r} (presets: {known})",
                          line=lines.line_of(("preset",)), key="preset")
    if channels is not None:
        _check_receivers(path, model, lines, channels)
    preset = model.presets[model.preset]
    return Units(model.preset, preset.bureau, tuple(preset.units))


def _check_receivers(path: str | Path, model: UnitsFile, lines: LineMap,
                     channels: set[str]) -> None:
    for name, preset in model.presets.items():
        for i, unit in enumerate(preset.units):
            for j, receiver in enumerate(unit.receivers):
                if receiver not in channels:
                    where = ("presets", name, "units", i, "receivers", j)
                    known = ", ".join(sorted(channels)) or "none"
                    raise ConfigError(path, f"unknown channel {receiver!r} (channels in the "
                                      f"config file: {known})", line=lines.line_of(where),
                                      key=".".join(map(str, where)))
