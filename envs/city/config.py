"""The city driving context: a validated, frozen description of one world.

Numeric fields take a number or a ``(low, high)`` range sampled afresh at every reset,
as in the lunar world. The map is either generated from ``map_seed`` with the
generator's settings, or read from ``map_file``. ``map_seed`` takes an int (one
city), a list of ints (a training set of cities, one drawn per reset) or None (a new
city drawn from the episode seed at every reset).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from exgen.envs import fields as _fields
from exgen.envs.city import public
from exgen.envs.fields import ContextConfig, FieldBounds, Number, extreme, numeric_field

#: Where the example maps that ship with the package live.
MAPS_DIR = Path(__file__).parent / "maps"
#: Standard gravity [m/s²], for the friction circle μ·g.
GRAVITY_MPS2 = 9.81
DRIVING_SIDES = ("right", "left")
#: Largest grid, in intersections along one side.
MAX_GRID = 20


@dataclass(frozen=True)
class CityConfig(ContextConfig):
    """Context of a city driving world, in SI units.

    An unknown field, a wrong type, NaN, an out-of-range value, an inverted range or
    an unreadable map file raises ``TypeError`` or ``ValueError`` naming the field and
    what is valid. See ``CityConfig.describe_fields()`` for the table.
    """

    map_seed: int | tuple[int, ...] | None = field(default=None, metadata={
        "doc": "generated city: an int, a list of ints (one drawn per reset) or None "
               "(drawn from the episode seed)"})
    map_file: str | None = field(default=None, metadata={
        "doc": "a hand-drawn map: a path, or the name of a shipped map "
               "(see `shipped_maps()`); the generator's fields are then unused"})
    grid_columns: int = field(default=6, metadata={
        "doc": "generator: intersections from west to east", "int": (2, MAX_GRID)})
    grid_rows: int = field(default=6, metadata={
        "doc": "generator: intersections from south to north", "int": (2, MAX_GRID)})
    min_block_m: Number = numeric_field(
        40.0, 20.0, 300.0, "m", "generator: shortest distance between neighbouring "
        "intersections; each gap is uniform between this and max_block_m")
    max_block_m: Number = numeric_field(
        90.0, 20.0, 300.0, "m", "generator: longest distance between neighbouring intersections")
    removed_street_fraction: Number = numeric_field(
        0.1, 0.0, 0.5, "", "generator: fraction of streets removed (the city stays connected)")
    one_way_fraction: Number = numeric_field(
        0.1, 0.0, 0.6, "", "generator: fraction of the remaining streets made one-way")
    closed_street_fraction: Number = numeric_field(
        0.03, 0.0, 0.3, "", "generator: fraction of streets closed by roadworks")
    closed_lane_fraction: Number = numeric_field(
        0.05, 0.0, 0.3, "", "generator: fraction of two-way streets with one direction "
        "closed by roadworks")
    traffic_light_fraction: Number = numeric_field(
        1.0, 0.0, 1.0, "", "generator: fraction of intersections of 3 or more streets "
        "with traffic lights")
    lanes_per_direction: int = field(default=1, metadata={
        "doc": "lanes each way on a two-way street (a one-way street has twice this)",
        "int": (1, 2)})
    lane_width_m: Number = numeric_field(3.5, 2.5, 5.0, "m", "width of one lane")
    speed_limit_mps: Number = numeric_field(
        13.9, 3.0, 35.0, "m/s", "speed limit on every street (13.9 m/s = 50 km/h)")
    green_s: Number = numeric_field(12.0, 2.0, 120.0, "s", "green phase of each direction")
    amber_s: Number = numeric_field(3.0, 1.0, 10.0, "s", "amber phase after each green")
    all_red_s: Number = numeric_field(
        1.0, 0.0, 10.0, "s", "all directions red between the phases")
    friction: Number = numeric_field(
        1.0, 0.05, 1.5, "", "tyre-road friction μ: dry 1.0, wet 0.6, ice 0.15")
    driving_side: str = field(default="right", metadata={
        "doc": "`right` or `left`: the side of the street traffic keeps to"})
    traffic_density: Number = numeric_field(
        2.5, 0.0, 30.0, "cars/km", "other cars per kilometre of open street")
    pedestrian_density: Number = numeric_field(
        0.1, 0.0, 5.0, "per node", "pedestrians per intersection, each at a crosswalk")
    jaywalk_rate: Number = numeric_field(
        0.05, 0.0, 1.0, "", "fraction of crossings a pedestrian starts against its signal")
    sensor_noise: Number = numeric_field(
        0.0, 0.0, 0.5, "", "std of Gaussian noise on speed and lidar observations, "
        "as a fraction of their scale")
    min_route_m: Number = numeric_field(
        250.0, 0.0, 5000.0, "m", "the destination is at least this far by road, "
        "where the city allows")
    start: tuple[int, int] | None = field(default=None, metadata={
        "doc": "start intersection (column, row); None draws it from the episode seed"})
    destination: tuple[int, int] | None = field(default=None, metadata={
        "doc": "destination intersection (column, row); None draws it"})
    continuous: bool = field(default=True, metadata={
        "doc": "Box(-1, 1, (2,)) actions; False gives Discrete(9)"})
    max_acceleration_mps2: Number = numeric_field(
        3.0, 0.5, 10.0, "m/s²", "ego car: acceleration at full throttle")
    max_braking_mps2: Number = numeric_field(
        8.0, 1.0, 15.0, "m/s²", "ego car: deceleration at full brake (within the grip)")
    max_steering_rad: Number = numeric_field(
        0.6, 0.2, 1.0, "rad", "ego car: steering angle limit")
    wheelbase_m: Number = numeric_field(
        2.7, 1.5, 5.0, "m", "ego car: wheelbase, shorter than the car")
    car_length_m: Number = numeric_field(
        4.6, 3.0, public.MAX_CAR_LENGTH_M, "m", "ego car: body length (other cars stay "
        "4.6 m)")

    def __post_init__(self) -> None:
        _fields.validate_numeric_fields(self)
        for f in dataclasses.fields(self):
            if "int" in f.metadata:
                low, high = f.metadata["int"]
                object.__setattr__(self, f.name,
                                   _fields.validate_int(f.name, getattr(self, f.name), low, high))
        object.__setattr__(self, "continuous", _fields.validate_bool("continuous",
                                                                      self.continuous))
        object.__setattr__(self, "map_seed", _validate_map_seed(self.map_seed))
        if self.map_file is not None:
            if not isinstance(self.map_file, str | Path):
                raise TypeError(f"map_file must be a path or a shipped map name, "
                                f"got {type(self.map_file).__name__}")
            object.__setattr__(self, "map_file", str(self.map_file))
            map_path(self.map_file)
            if self.map_seed is not None:
                raise ValueError("pass either map_seed or map_file, not both")
        if self.driving_side not in DRIVING_SIDES:
            raise ValueError(f"driving_side must be 'right' or 'left', got {self.driving_side!r}")
        if extreme(self.wheelbase_m, abs) >= _lowest(self.car_length_m):
            raise ValueError(f"wheelbase_m={self.wheelbase_m} must be shorter than "
                             f"car_length_m={self.car_length_m}")
        if extreme(self.min_block_m, abs) > _lowest(self.max_block_m):
            raise ValueError(f"min_block_m={self.min_block_m} exceeds "
                             f"max_block_m={self.max_block_m}")
        for name in ("start", "destination"):
            object.__setattr__(self, name, _validate_node(name, getattr(self, name)))
        if self.start is not None and self.start == self.destination:
            raise ValueError(f"start and destination are the same intersection {self.start}; "
                             f"pick two different ones")

    # ----------------------------------------------------------------- sampling
    def sample(self, rng: np.random.Generator) -> CityConfig:
        """A concrete context: ranges drawn uniformly, then a map seed picked.

        A list of map seeds gives one of them; None gives a fresh seed in
        [0, 2**31) drawn from ``rng``. A map file stays as it is.
        """
        context = super().sample(rng)
        if self.map_file is not None:
            return context
        if isinstance(self.map_seed, tuple):
            seed = self.map_seed[int(rng.integers(len(self.map_seed)))]
        elif self.map_seed is None:
            seed = int(rng.integers(2**31))
        else:
            return context
        return dataclasses.replace(context, map_seed=seed)

    @classmethod
    def describe_fields(cls) -> str:
        """A Markdown table of the fields, their defaults, units and valid ranges."""
        rows = ["| field | default | valid | meaning |", "| --- | --- | --- | --- |"]
        for f in dataclasses.fields(cls):
            bounds: FieldBounds | None = f.metadata.get("bounds")
            if bounds is not None:
                valid = bounds.describe()
            elif "int" in f.metadata:
                valid = "int in [{}, {}]".format(*f.metadata["int"])
            else:
                valid = _OTHER_VALID[f.name]
            rows.append(f"| `{f.name}` | {f.default} | {valid} | {f.metadata['doc']} |")
        return "\n".join(rows)


_OTHER_VALID = {
    "map_seed": "int >= 0, list of them, or None",
    "map_file": "path or shipped map name, or None",
    "driving_side": "`right`, `left`",
    "start": "(column, row) or None",
    "destination": "(column, row) or None",
    "continuous": "bool",
}


def _lowest(value: Number) -> float:
    return min(value) if isinstance(value, tuple) else value


def _validate_map_seed(value: Any) -> int | tuple[int, ...] | None:
    if value is None:
        return None
    if isinstance(value, Sequence | np.ndarray) and not isinstance(value, str):
        seeds = tuple(_validate_map_seed(v) for v in value)
        if not seeds or any(isinstance(s, tuple) for s in seeds):
            raise ValueError(f"map_seed list must hold one or more ints >= 0, got {value!r}")
        return seeds
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        raise TypeError(f"map_seed must be an int >= 0, a list of them or None, "
                        f"got {type(value).__name__} {value!r}")
    if value < 0:
        raise ValueError(f"map_seed must be >= 0, got {value}")
    return int(value)


def _validate_node(name: str, value: Any) -> tuple[int, int] | None:
    if value is None:
        return None
    if (isinstance(value, str) or not isinstance(value, Sequence | np.ndarray)
            or len(value) != 2):
        raise ValueError(f"{name} must be an intersection (column, row) or None, got {value!r}")
    column = _fields.validate_int(f"{name} column", value[0], 0, MAX_GRID - 1)
    row = _fields.validate_int(f"{name} row", value[1], 0, MAX_GRID - 1)
    return (column, row)


def field_bounds(name: str) -> FieldBounds:
    """The valid interval of numeric field ``name``."""
    return _fields.bounds_of(CityConfig, name)


def check_field_names(kwargs: Mapping[str, Any]) -> None:
    """Raise ``TypeError`` for a keyword that is not a field, suggesting the nearest."""
    _fields.check_field_names(CityConfig, kwargs)


def shipped_maps() -> tuple[str, ...]:
    """Names of the example maps in ``envs/city/maps`` (pass one as ``map_file``)."""
    return tuple(sorted(path.stem for path in MAPS_DIR.glob("*.txt")))


def map_path(name: str) -> Path:
    """The file of a ``map_file`` value: a shipped map's name or an existing path."""
    if name in shipped_maps():
        return MAPS_DIR / f"{name}.txt"
    path = Path(name)
    if not path.is_file():
        raise ValueError(f"map_file {name!r} is neither a file nor a shipped map; "
                         f"shipped maps: {', '.join(shipped_maps())}")
    return path


#: Named partial contexts; combine them with :meth:`CityConfig.from_presets`.
PRESETS: dict[str, dict[str, Any]] = {
    "dry": {"friction": 1.0},
    "wet": {"friction": 0.6},
    "ice": {"friction": 0.15},
    "left_hand": {"driving_side": "left"},
    "right_hand": {"driving_side": "right"},
    "small_blocks": {"min_block_m": 30.0, "max_block_m": 50.0},
    "large_blocks": {"min_block_m": 80.0, "max_block_m": 150.0},
    "sparse": {"removed_street_fraction": 0.3},
    "one_ways": {"one_way_fraction": 0.4},
    "roadworks": {"closed_street_fraction": 0.1, "closed_lane_fraction": 0.15},
    "quiet": {"closed_street_fraction": 0.0, "closed_lane_fraction": 0.0,
              "one_way_fraction": 0.0, "removed_street_fraction": 0.0},
    "empty": {"traffic_density": 0.0, "pedestrian_density": 0.0},
    "rush_hour": {"traffic_density": 5.0, "pedestrian_density": 0.3},
    "big_city": {"grid_columns": 10, "grid_rows": 10},
    "continuous": {"continuous": True},
    "discrete": {"continuous": False},
    # Other cars, relative to the default one.
    "compact": {"max_acceleration_mps2": 3.9},
    "van": {"car_length_m": 5.52, "max_acceleration_mps2": 2.1},
    "truck": {"car_length_m": 7.36, "wheelbase_m": 3.78, "max_acceleration_mps2": 1.2,
              "max_braking_mps2": 4.8},
}
CityConfig.presets = PRESETS
