"""Validated numeric fields shared by the worlds' frozen config dataclasses.

A numeric context field takes a number or a ``(low, high)`` range that the env samples
afresh at every reset. These helpers declare such fields with their unit and valid
interval, and check values so that a bad one raises at once, naming the field.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeAlias, TypeVar

import numpy as np

Number: TypeAlias = float | tuple[float, float]
Config = TypeVar("Config", bound="ContextConfig")


class ContextConfig:
    """Building, copying and sampling shared by the worlds' frozen config dataclasses.

    A subclass is a frozen dataclass whose numeric fields come from
    :func:`numeric_field`; it sets ``presets`` (name -> partial context) once they are
    defined.
    """

    presets: ClassVar[Mapping[str, Mapping[str, Any]]] = {}

    @classmethod
    def from_kwargs(cls: type[Config], **kwargs: Any) -> Config:
        """Build a config, naming the closest valid field when a keyword is unknown."""
        check_field_names(cls, kwargs)
        return cls(**kwargs)

    @classmethod
    def from_presets(cls: type[Config], *names: str, **overrides: Any) -> Config:
        """Combine named presets left to right, then apply ``overrides``."""
        values = {key: value for key, (value, _) in cls.preset_sources(names).items()}
        values.update(overrides)
        return cls.from_kwargs(**values)

    @classmethod
    def preset_sources(cls, names: Sequence[str]) -> dict[str, tuple[Any, str]]:
        """Field -> ``(value, preset name)`` of the presets ``names``, combined left to
        right (a later preset wins)."""
        sources: dict[str, tuple[Any, str]] = {}
        for name in names:
            if name not in cls.presets:
                raise ValueError(f"unknown preset {name!r}; valid presets: "
                                 f"{', '.join(sorted(cls.presets))}")
            sources.update({key: (value, name) for key, value in cls.presets[name].items()})
        return sources

    @classmethod
    def without_presets(cls, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        """``kwargs`` (env keywords) with ``preset`` replaced by the fields it sets.

        Presets combine left to right; a field given in ``kwargs`` too must have the
        same value, else ``ValueError`` names the field and the preset.
        """
        given = dict(kwargs)
        preset = given.pop("preset", None)
        if preset is None:
            return given
        from_presets = cls.preset_sources(preset_names(preset))
        for key, value in given.items():
            if key in from_presets and not same_value(value, from_presets[key][0]):
                preset_value, name = from_presets[key]
                raise ValueError(f"{key}={value!r} contradicts preset {name!r} ({key} "
                                 f"{preset_value!r}); give the field or the preset, not both")
        return {**{key: value for key, (value, _) in from_presets.items()}, **given}

    @classmethod
    def for_env(cls: type[Config], config: Config | None,
                preset: str | Sequence[str] | None, fields: Mapping[str, Any],
                env_arguments: Sequence[str]) -> Config:
        """The context of an env made with ``config`` or ``preset`` and field keywords;
        an unknown keyword's error also lists ``env_arguments``. A field that a preset
        sets to another value is an error (:meth:`without_presets`)."""
        try:
            check_field_names(cls, fields)
        except TypeError as error:
            raise TypeError(f"{error}; env arguments: {', '.join(env_arguments)}") from None
        if config is not None and not isinstance(config, cls):
            raise TypeError(f"config must be a {cls.__name__} or None, "
                            f"got {type(config).__name__}")
        if config is not None and preset is not None:
            raise ValueError("pass either config or preset, not both")
        if preset is not None:
            return cls.from_kwargs(**cls.without_presets({**fields, "preset": preset}))
        return (config or cls()).replace(**fields)

    def replace(self: Config, **changes: Any) -> Config:
        """A copy with ``changes`` applied and validated."""
        check_field_names(type(self), changes)
        return dataclasses.replace(self, **changes)

    @property
    def randomized_fields(self) -> tuple[str, ...]:
        """Names of the numeric fields given as ``(low, high)`` ranges."""
        return ranged_field_names(self)

    def sample(self: Config, rng: np.random.Generator) -> Config:
        """A concrete context: every range replaced by a uniform draw from ``rng``.

        Fields are drawn in declaration order, one draw per ranged field, so the
        same generator state gives the same context.
        """
        return sample_ranges(self, rng)

    def to_dict(self) -> dict[str, Any]:
        """Plain data: tuples become lists, so the dict is JSON-serializable."""
        return plain_data(self)


@dataclass(frozen=True)
class FieldBounds:
    """Valid interval of a numeric field [unit]; ``open_low`` excludes the lower end."""

    low: float
    high: float
    unit: str
    open_low: bool = False

    def contains(self, value: float) -> bool:
        above = value > self.low if self.open_low else value >= self.low
        return above and value <= self.high

    def describe(self) -> str:
        left = "(" if self.open_low else "["
        return f"{left}{self.low:g}, {self.high:g}] {self.unit}".rstrip()


def numeric_field(default: float, low: float, high: float, unit: str, doc: str,
                  open_low: bool = False) -> Any:
    """A dataclass field holding a number or a ``(low, high)`` range within bounds."""
    bounds = FieldBounds(low, high, unit, open_low)
    return field(default=default, metadata={"bounds": bounds, "doc": doc})


def validate_numeric_fields(config: Any) -> None:
    """Check and normalize (to float or a float pair) every numeric field of ``config``."""
    for f in dataclasses.fields(config):
        if "bounds" in f.metadata:
            value = validate_number(f.name, getattr(config, f.name), f.metadata["bounds"])
            object.__setattr__(config, f.name, value)


def ranged_field_names(config: Any) -> tuple[str, ...]:
    """Names of the numeric fields of ``config`` given as ``(low, high)`` ranges."""
    return tuple(f.name for f in dataclasses.fields(config)
                 if "bounds" in f.metadata and isinstance(getattr(config, f.name), tuple))


def sample_ranges(config: Any, rng: np.random.Generator) -> Any:
    """``config`` with each range replaced by a uniform draw, in declaration order."""
    ranged = ranged_field_names(config)
    if not ranged:
        return config
    draws = {name: float(rng.uniform(*getattr(config, name))) for name in ranged}
    return dataclasses.replace(config, **draws)


def preset_names(preset: str | Sequence[str]) -> tuple[str, ...]:
    """The names in a ``preset`` argument: one name or a sequence of them."""
    names = (preset,) if isinstance(preset, str) else preset
    if not isinstance(names, Sequence) or not all(isinstance(n, str) for n in names):
        raise TypeError(f"preset must be a name or a list of names, got {preset!r}")
    return tuple(names)


def same_value(first: Any, second: Any) -> bool:
    """Whether two field values are equal, a list and a tuple of equal items included."""
    def plain(value: Any) -> Any:
        if isinstance(value, Sequence | np.ndarray) and not isinstance(value, str):
            return tuple(plain(v) for v in value)
        return value

    return bool(plain(first) == plain(second))


def check_field_names(cls: type, kwargs: Iterable[str]) -> None:
    """Raise ``TypeError`` for a keyword that is not a field of ``cls``, naming the nearest."""
    valid = [f.name for f in dataclasses.fields(cls)]
    for key in kwargs:
        if key not in valid:
            near = difflib.get_close_matches(key, valid, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise TypeError(f"unknown {cls.__name__} field {key!r}{hint}; "
                            f"valid fields: {', '.join(valid)}")


def bounds_of(cls: type, name: str) -> FieldBounds:
    """The valid interval of numeric field ``name`` of dataclass ``cls``."""
    bounds = {f.name: f.metadata.get("bounds") for f in dataclasses.fields(cls)}
    if bounds.get(name) is None:
        raise ValueError(f"{name!r} is not a numeric field of {cls.__name__}")
    return bounds[name]


def extreme(value: Number, key: Any) -> float:
    """The largest ``key(v)`` over a number or both ends of a range."""
    return max(key(v) for v in value) if isinstance(value, tuple) else key(value)


def validate_scalar(name: str, value: Any, bounds: FieldBounds) -> float:
    """``value`` as a finite float inside ``bounds``, or an error naming ``name``."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.integer
                                                              | np.floating):
        raise TypeError(f"{name} must be a number or a (low, high) range in "
                        f"{bounds.describe()}, got {type(value).__name__} {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {number}; valid: {bounds.describe()}")
    if not bounds.contains(number):
        raise ValueError(f"{name}={number:g} is out of range; valid: {bounds.describe()}")
    return number


def validate_number(name: str, value: Any, bounds: FieldBounds) -> Number:
    """A number or a non-inverted ``(low, high)`` pair inside ``bounds``."""
    if isinstance(value, str) or not isinstance(value, Sequence | np.ndarray):
        return validate_scalar(name, value, bounds)
    if len(value) != 2:
        raise ValueError(f"{name} range must be (low, high), got {len(value)} values; "
                         f"valid: {bounds.describe()}")
    low = validate_scalar(f"{name} low", value[0], bounds)
    high = validate_scalar(f"{name} high", value[1], bounds)
    if low > high:
        raise ValueError(f"{name} range is inverted: low {low:g} > high {high:g}")
    return (low, high)


def validate_int(name: str, value: Any, low: int, high: int) -> int:
    """``value`` as an int in ``[low, high]``, or an error naming ``name``."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an int in [{low}, {high}], "
                        f"got {type(value).__name__} {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name}={value} is out of range; valid: [{low}, {high}]")
    return int(value)


def validate_bool(name: str, value: Any) -> bool:
    """``value`` as a bool, or an error naming ``name``."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
    return bool(value)


def plain_data(config: Any) -> dict[str, Any]:
    """A config as JSON-ready data: tuples become lists."""
    def plain(value: Any) -> Any:
        if isinstance(value, tuple):
            return [plain(v) for v in value]
        return value

    return {f.name: plain(getattr(config, f.name)) for f in dataclasses.fields(config)}


def merge_kwargs(*parts: Mapping[str, Any]) -> dict[str, Any]:
    """Merge keyword dicts left to right."""
    merged: dict[str, Any] = {}
    for part in parts:
        merged.update(part)
    return merged
