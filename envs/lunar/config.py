"""The lunar landing context: a validated, frozen description of one world.

Every numeric field takes either a number or a ``(low, high)`` range. A range is
sampled afresh from the env's ``np_random`` at every reset (domain randomization);
:meth:`LanderConfig.sample` turns a config with ranges into a concrete context.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from exgen.envs import fields as _fields
from exgen.envs.fields import ContextConfig, FieldBounds, Number, extreme, numeric_field

#: Lowest gravity [m/s²] at which the default engines are designed to land.
DESIGN_GRAVITY_MIN = 0.5
#: Highest gravity [m/s²] at which the default engines are designed to land.
DESIGN_GRAVITY_MAX = 25.0
#: The pad must end this far from the middle of the world or closer [m].
PAD_REACH_M = 9.5

@dataclass(frozen=True)
class LanderConfig(ContextConfig):
    """Context of a lunar landing world, in SI units.

    Each numeric field accepts a number or a ``(low, high)`` range sampled at every
    reset. An unknown field, a wrong type, NaN, inf, an out-of-range value or an
    inverted range raises ``TypeError`` or ``ValueError`` naming the field and its
    valid range. See ``LanderConfig.describe_fields()`` for the table.
    """

    gravity: Number = numeric_field(9.81, 0.0, 30.0, "m/s²", "gravity magnitude", open_low=True)
    main_engine_thrust: Number = numeric_field(
        180.0, 0.0, 5000.0, "N", "main engine thrust at full throttle, along the body axis")
    side_engine_thrust: Number = numeric_field(
        12.0, 0.0, 500.0, "N", "side engine thrust at full throttle, across the body axis")
    dry_mass: Number = numeric_field(
        4.0, 0.5, 100.0, "kg", "mass without fuel, legs included", open_low=False)
    fuel_mass: Number = numeric_field(1.0, 0.0, 100.0, "kg", "fuel on board at the start")
    main_engine_fuel_rate: Number = numeric_field(
        0.1, 0.0, 10.0, "kg/s", "fuel burned by the main engine at full throttle")
    side_engine_fuel_rate: Number = numeric_field(
        0.01, 0.0, 10.0, "kg/s", "fuel burned by a side engine at full throttle")
    wind_speed: Number = numeric_field(
        0.0, -30.0, 30.0, "m/s", "steady horizontal air speed, positive blows toward +x")
    turbulence: Number = numeric_field(
        0.0, 0.0, 20.0, "m/s", "standard deviation of gusts (both axes, 1 s correlation)")
    drag_coefficient: Number = numeric_field(
        0.1, 0.0, 10.0, "kg/m", "air drag: force = coefficient · norm(v_air - v) · (v_air - v)")
    terrain_roughness: Number = numeric_field(
        3.0, 0.0, 3.3, "m", "largest height of the terrain above or below the pad")
    pad_x: Number = numeric_field(0.0, -7.0, 7.0, "m", "pad centre, from the middle of the world")
    pad_width: Number = numeric_field(4.0, 2.0, 8.0, "m", "width of the flat landing pad")
    initial_x_spread: Number = numeric_field(
        0.0, 0.0, 8.0, "m", "start x is uniform in ± this, around the middle of the world")
    initial_height: Number = numeric_field(
        10.0, 2.0, 15.0, "m", "start height of the lander's centre above the pad")
    initial_velocity_spread: Number = numeric_field(
        4.0, 0.0, 10.0, "m/s", "each start velocity component is uniform in ± this")
    initial_angle_spread: Number = numeric_field(
        0.0, 0.0, math.pi / 4, "rad", "start tilt is uniform in ± this")
    max_touchdown_speed: Number = numeric_field(
        3.0, 0.0, 20.0, "m/s",
        "a leg touching down while the hull moves faster than this (any direction) crashes",
        open_low=True)
    max_landing_tilt: Number = numeric_field(
        0.4, 0.0, math.pi / 2, "rad", "largest tilt at rest that counts as landed",
        open_low=True)
    observation_noise: Number = numeric_field(
        0.0, 0.0, 1.0, "", "std of Gaussian noise added to the 6 kinematic observations "
        "(in observation units)")
    terrain_seed: int | None = field(
        default=None,
        metadata={"doc": "fixes the terrain; None draws it from the episode seed"})
    continuous: bool = field(
        default=False, metadata={"doc": "Box(-1, 1, (2,)) actions instead of Discrete(4)"})

    def __post_init__(self) -> None:
        _fields.validate_numeric_fields(self)
        if not isinstance(self.continuous, bool | np.bool_):
            raise TypeError(f"continuous must be a bool, got {type(self.continuous).__name__}")
        object.__setattr__(self, "continuous", bool(self.continuous))
        seed = self.terrain_seed
        if seed is not None:
            if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
                raise TypeError(f"terrain_seed must be an int >= 0 or None, "
                                f"got {type(seed).__name__}")
            if seed < 0:
                raise ValueError(f"terrain_seed must be an int >= 0 or None, got {seed}")
            object.__setattr__(self, "terrain_seed", int(seed))
        widest_reach = extreme(self.pad_x, abs) + extreme(self.pad_width, abs) / 2
        if widest_reach > PAD_REACH_M:
            raise ValueError(f"pad_x={self.pad_x} with pad_width={self.pad_width} puts the pad "
                             f"outside the world: need |pad_x| + pad_width/2 <= {PAD_REACH_M:g} m")

    # ---------------------------------------------------------- derived facts
    def thrust_to_weight(self) -> float:
        """Main engine thrust over weight with full tanks (needs a concrete context)."""
        self._require_concrete("thrust_to_weight")
        weight = (self.dry_mass + self.fuel_mass) * self.gravity
        return self.main_engine_thrust / weight

    def landability(self) -> tuple[bool, str]:
        """Whether the engines can hold the craft against gravity, and why not."""
        self._require_concrete("landability")
        if self.fuel_mass <= 0.0 and (self.main_engine_fuel_rate > 0.0):
            return False, "no fuel on board"
        ratio = self.thrust_to_weight()
        if ratio <= 1.0:
            return False, (f"main engine thrust {self.main_engine_thrust:g} N cannot hold "
                           f"{self.dry_mass + self.fuel_mass:g} kg against {self.gravity:g} "
                           f"m/s² (thrust-to-weight {ratio:.2f} <= 1)")
        return True, ""

    def _require_concrete(self, what: str) -> None:
        if self.randomized_fields:
            raise ValueError(f"{what} needs a concrete context; sample() the ranges "
                             f"{', '.join(self.randomized_fields)} first")

    @classmethod
    def describe_fields(cls) -> str:
        """A Markdown table of the fields, their defaults, units and valid ranges."""
        rows = ["| field | default | valid | meaning |", "| --- | --- | --- | --- |"]
        for f in dataclasses.fields(cls):
            bounds = f.metadata.get("bounds")
            valid = bounds.describe() if bounds else ("bool" if f.name == "continuous"
                                                      else "int >= 0 or None")
            rows.append(f"| `{f.name}` | {f.default} | {valid} | {f.metadata['doc']} |")
        return "\n".join(rows)


_NUMERIC_FIELDS = tuple(f.name for f in dataclasses.fields(LanderConfig)
                        if "bounds" in f.metadata)


def numeric_field_names() -> tuple[str, ...]:
    """The fields that accept a number or a ``(low, high)`` range, in order."""
    return _NUMERIC_FIELDS


def field_bounds(name: str) -> FieldBounds:
    """The valid interval of numeric field ``name``."""
    return _fields.bounds_of(LanderConfig, name)


def check_field_names(kwargs: Mapping[str, Any]) -> None:
    """Raise ``TypeError`` for a keyword that is not a field, suggesting the nearest."""
    _fields.check_field_names(LanderConfig, kwargs)


#: Named partial contexts; combine them with :meth:`LanderConfig.from_presets`.
PRESETS: dict[str, dict[str, Any]] = {
    "earth": {"gravity": 9.81},
    "moon": {"gravity": 1.62},
    "mars": {"gravity": 3.71},
    "titan": {"gravity": 1.35},
    "jupiter": {"gravity": 24.79},
    "pluto": {"gravity": 0.62},
    "europa": {"gravity": 1.31},
    "mercury": {"gravity": 3.70},
    "venus": {"gravity": 8.87},
    "saturn": {"gravity": 10.44},
    "neptune": {"gravity": 11.15},
    "calm": {"wind_speed": 0.0, "turbulence": 0.0},
    "breezy": {"wind_speed": 4.0, "turbulence": 1.0},
    "strong_wind": {"wind_speed": 10.0, "turbulence": 3.0},
    "flat_terrain": {"terrain_roughness": 0.0},
    "continuous": {"continuous": True},
}
LanderConfig.presets = PRESETS
