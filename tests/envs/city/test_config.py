import dataclasses
import json
import math
import re

import gymnasium as gym
import numpy as np
import pytest

from exgen.envs.city.config import (
    MAX_GRID,
    PRESETS,
    CityConfig,
    field_bounds,
    shipped_maps,
)

NUMERIC_FIELDS = [f.name for f in dataclasses.fields(CityConfig) if "bounds" in f.metadata]
INT_FIELDS = {f.name: f.metadata["int"] for f in dataclasses.fields(CityConfig)
              if "int" in f.metadata}
# Fields whose valid values depend on another field: keep the pair consistent.
_COMPANIONS = {"min_block_m": {"max_block_m": 300.0}, "max_block_m": {"min_block_m": 20.0},
               "wheelbase_m": {"car_length_m": 8.0}, "car_length_m": {"wheelbase_m": 1.5}}


def _valid(name: str, value) -> dict:
    return {name: value, **_COMPANIONS.get(name, {})}


# ---------------------------------------------------------------- defaults


def test_defaults_are_valid_and_concrete():
    config = CityConfig()
    assert config.map_seed is None and config.map_file is None
    assert config.driving_side == "right"
    assert config.continuous is True
    assert config.randomized_fields == ()
    assert config.min_block_m <= config.max_block_m
    # A lane each way of 3.5 m plus the 8 m street minimum fits the shortest block.
    assert config.min_block_m >= 2 * config.lanes_per_direction * config.lane_width_m + 8.0
    assert CityConfig.from_kwargs() == config


def test_numeric_and_int_field_lists_cover_the_table():
    assert {"min_block_m", "friction", "min_route_m", "lane_width_m"} <= set(NUMERIC_FIELDS)
    assert set(INT_FIELDS) == {"grid_columns", "grid_rows", "lanes_per_direction"}
    assert INT_FIELDS["grid_columns"] == (2, MAX_GRID)


# ---------------------------------------------------------- numeric fields


@pytest.mark.parametrize("name", NUMERIC_FIELDS)
def test_every_numeric_field_accepts_its_bounds_ranges_and_numpy_numbers(name):
    bounds = field_bounds(name)
    middle = bounds.low + 0.5 * (bounds.high - bounds.low)
    assert getattr(CityConfig(**_valid(name, np.float32(middle))), name) == pytest.approx(
        middle, rel=1e-6)
    assert isinstance(getattr(CityConfig(**_valid(name, np.float32(middle))), name), float)
    if name != "max_block_m":  # max_block_m at its low end is below the default minimum
        assert getattr(CityConfig(**_valid(name, bounds.low)), name) == bounds.low
    assert getattr(CityConfig(**_valid(name, bounds.high)), name) == bounds.high
    ranged = CityConfig(**_valid(name, [middle, bounds.high]))
    assert getattr(ranged, name) == (pytest.approx(middle), bounds.high)
    assert name in ranged.randomized_fields


@pytest.mark.parametrize("name", NUMERIC_FIELDS)
def test_every_numeric_field_rejects_nan_and_infinities_naming_the_valid_range(name):
    valid = re.escape(field_bounds(name).describe())
    for bad in (math.nan, math.inf, -math.inf, np.float64("nan")):
        with pytest.raises(ValueError, match=rf"^{name} must be finite, got .*; valid: {valid}$"):
            CityConfig(**_valid(name, bad))
    low = field_bounds(name).low
    with pytest.raises(ValueError, match=rf"^{name} high must be finite.*valid: {valid}$"):
        CityConfig(**_valid(name, (low, math.nan)))
    with pytest.raises(ValueError, match=rf"^{name} low must be finite.*valid: {valid}$"):
        CityConfig(**_valid(name, (-math.inf, low)))


@pytest.mark.parametrize("name", NUMERIC_FIELDS)
def test_every_numeric_field_rejects_values_out_of_range_naming_the_valid_range(name):
    bounds = field_bounds(name)
    valid = re.escape(bounds.describe())
    span = bounds.high - bounds.low
    below, above = bounds.low - 0.25 * span - 1.0, bounds.high + 0.25 * span + 1.0
    for bad in (below, above):
        with pytest.raises(ValueError, match=rf"^{name}={bad:g} is out of range; "
                                             rf"valid: {valid}$"):
            CityConfig(**_valid(name, bad))
    with pytest.raises(ValueError, match=rf"^{name} high={above:g} is out of range; "
                                         rf"valid: {valid}$"):
        CityConfig(**_valid(name, (bounds.low, above)))
    with pytest.raises(ValueError, match=rf"^{name} low={below:g} is out of range"):
        CityConfig(**_valid(name, (below, bounds.high)))


@pytest.mark.parametrize("name", NUMERIC_FIELDS)
def test_every_numeric_field_rejects_inverted_and_malformed_ranges(name):
    bounds = field_bounds(name)
    low, high = bounds.low, bounds.high
    with pytest.raises(ValueError, match=rf"^{name} range is inverted: "
                                         rf"low {high:g} > high {low:g}$"):
        CityConfig(**_valid(name, (high, low)))
    valid = re.escape(bounds.describe())
    for bad in ((low,), (low, low, high), []):
        with pytest.raises(ValueError, match=rf"^{name} range must be \(low, high\), got "
                                             rf"{len(bad)} values; valid: {valid}$"):
            CityConfig(**_valid(name, bad))


@pytest.mark.parametrize("name", NUMERIC_FIELDS)
def test_every_numeric_field_rejects_wrong_types(name):
    valid = re.escape(field_bounds(name).describe())
    for bad, type_name in ((True, "bool"), (np.bool_(False), "bool"), ("1.0", "str"),
                           (None, "NoneType"), (1 + 2j, "complex")):
        with pytest.raises(TypeError, match=rf"^{name} must be a number or a \(low, high\) "
                                            rf"range in {valid}, got {type_name}"):
            CityConfig(**_valid(name, bad))
    with pytest.raises(TypeError, match=rf"^{name} low must be a number.*got bool"):
        CityConfig(**_valid(name, (False, 1.0)))


# -------------------------------------------------------------- int fields


@pytest.mark.parametrize("name", sorted(INT_FIELDS))
def test_int_fields_reject_out_of_range_and_wrong_types(name):
    low, high = INT_FIELDS[name]
    assert getattr(CityConfig(**{name: np.int64(high)}), name) == high
    assert type(getattr(CityConfig(**{name: np.int64(high)}), name)) is int
    for bad in (low - 1, high + 1, -5):
        with pytest.raises(ValueError, match=rf"^{name}={bad} is out of range; "
                                             rf"valid: \[{low}, {high}\]$"):
            CityConfig(**{name: bad})
    for bad, type_name in ((True, "bool"), (str(low), "str"), (float(low), "float"),
                           (None, "NoneType"), ((low, high), "tuple")):
        with pytest.raises(TypeError, match=rf"^{name} must be an int in \[{low}, {high}\], "
                                            rf"got {type_name}"):
            CityConfig(**{name: bad})


# ----------------------------------------------------------------- map seed


def test_map_seed_takes_an_int_a_list_or_none():
    assert CityConfig(map_seed=0).map_seed == 0
    assert CityConfig(map_seed=np.int64(7)).map_seed == 7
    assert type(CityConfig(map_seed=np.int64(7)).map_seed) is int
    assert CityConfig(map_seed=[3, 1, 2]).map_seed == (3, 1, 2)
    assert CityConfig(map_seed=np.array([4, 5])).map_seed == (4, 5)
    assert CityConfig(map_seed=None).map_seed is None
    assert CityConfig(map_seed=2**40).map_seed == 2**40


@pytest.mark.parametrize(("value", "error", "match"), [
    (-1, ValueError, r"^map_seed must be >= 0, got -1$"),
    ([1, -2], ValueError, r"^map_seed must be >= 0, got -2$"),
    ([], ValueError, r"^map_seed list must hold one or more ints >= 0, got \[\]$"),
    ([[1, 2]], ValueError, r"^map_seed list must hold one or more ints >= 0"),
    (True, TypeError, r"^map_seed must be an int >= 0, a list of them or None, got bool True$"),
    ([1, False], TypeError, r"map_seed must be an int >= 0.*got bool False"),
    (1.5, TypeError, r"map_seed must be an int >= 0.*got float 1.5"),
    ("3", TypeError, r"map_seed must be an int >= 0.*got str '3'"),
])
def test_bad_map_seeds_raise(value, error, match):
    with pytest.raises(error, match=match):
        CityConfig(map_seed=value)


def test_map_file_and_map_seed_are_exclusive():
    with pytest.raises(ValueError, match=r"^pass either map_seed or map_file, not both$"):
        CityConfig(map_seed=1, map_file="downtown")
    with pytest.raises(ValueError, match="either map_seed or map_file"):
        CityConfig(map_seed=[1, 2], map_file="downtown")
    with pytest.raises(ValueError, match="either map_seed or map_file"):
        CityConfig(map_file="downtown").replace(map_seed=0)
    assert CityConfig(map_seed=0, map_file=None).map_seed == 0


def test_map_file_takes_a_name_or_a_path():
    from pathlib import Path

    assert CityConfig(map_file=Path("envs/city/maps/ring.txt")).map_file == (
        "envs/city/maps/ring.txt")
    with pytest.raises(TypeError, match=r"^map_file must be a path or a shipped map name, "
                                        r"got int$"):
        CityConfig(map_file=3)


# --------------------------------------------------------- other fields


@pytest.mark.parametrize("side", ["center", "Right", "", None, 1])
def test_driving_side_is_right_or_left(side):
    with pytest.raises(ValueError, match=r"^driving_side must be 'right' or 'left', got "):
        CityConfig(driving_side=side)
    assert CityConfig(driving_side="left").driving_side == "left"


def test_continuous_must_be_a_bool():
    assert CityConfig(continuous=np.bool_(False)).continuous is False
    for bad in (1, "yes", None):
        with pytest.raises(TypeError, match=r"^continuous must be a bool, got "):
            CityConfig(continuous=bad)


def test_start_and_destination_are_intersections():
    config = CityConfig(start=[1, 2], destination=np.array([3, 4]))
    assert config.start == (1, 2) and config.destination == (3, 4)
    with pytest.raises(ValueError, match=r"^start and destination are the same intersection "
                                         r"\(2, 2\); pick two different ones$"):
        CityConfig(start=(2, 2), destination=[2, 2])
    with pytest.raises(ValueError, match=r"^start must be an intersection \(column, row\) "
                                         r"or None, got \(1,\)$"):
        CityConfig(start=(1,))
    with pytest.raises(ValueError, match=r"^destination must be an intersection"):
        CityConfig(destination="ab")
    with pytest.raises(ValueError, match=r"^start row=20 is out of range; valid: \[0, 19\]$"):
        CityConfig(start=(1, MAX_GRID))
    with pytest.raises(ValueError, match=r"^destination column=-1 is out of range"):
        CityConfig(destination=(-1, 0))
    with pytest.raises(TypeError, match=r"^start column must be an int.*got float"):
        CityConfig(start=(1.0, 2))


def test_min_block_must_not_exceed_max_block():
    with pytest.raises(ValueError, match=r"^min_block_m=100.0 exceeds max_block_m=50.0$"):
        CityConfig(min_block_m=100.0, max_block_m=50.0)
    with pytest.raises(ValueError, match=r"min_block_m=\(30.0, 100.0\) exceeds max_block_m"):
        CityConfig(min_block_m=(30.0, 100.0), max_block_m=(60.0, 150.0))
    assert CityConfig(min_block_m=50.0, max_block_m=50.0).max_block_m == 50.0
    assert CityConfig(min_block_m=(30.0, 50.0), max_block_m=(60.0, 90.0)).randomized_fields == (
        "min_block_m", "max_block_m")


# ------------------------------------------------------------ field names


@pytest.mark.parametrize(("key", "nearest"), [
    ("frcition", "friction"), ("map_sed", "map_seed"), ("lane_width", "lane_width_m"),
    ("gridcolumns", "grid_columns"), ("speed_limit", "speed_limit_mps"),
])
def test_unknown_field_names_suggest_the_nearest(key, nearest):
    with pytest.raises(TypeError, match=rf"^unknown CityConfig field '{key}' \(did you mean "
                                        rf"'{nearest}'\?\); valid fields: map_seed, "):
        CityConfig.from_kwargs(**{key: 1.0})
    with pytest.raises(TypeError, match=rf"unknown CityConfig field '{key}'"):
        CityConfig().replace(**{key: 1.0})


def test_an_unknown_field_far_from_all_gives_no_suggestion_but_lists_the_fields():
    with pytest.raises(TypeError, match=r"^unknown CityConfig field 'zzz'; valid fields: .*"
                                        r"car_length_m$"):
        CityConfig.from_kwargs(zzz=1)


# ----------------------------------------------------------------- presets


def test_presets_combine_left_to_right_and_overrides_win():
    config = CityConfig.from_presets("wet", "left_hand", "small_blocks", "discrete",
                                     friction=0.3)
    assert config.friction == 0.3
    assert config.driving_side == "left"
    assert (config.min_block_m, config.max_block_m) == (30.0, 50.0)
    assert config.continuous is False
    assert CityConfig.from_presets("small_blocks", "large_blocks").min_block_m == 80.0
    assert CityConfig.from_presets("large_blocks", "small_blocks").min_block_m == 30.0
    quiet = CityConfig.from_presets("roadworks", "quiet")
    assert quiet.closed_street_fraction == 0.0 and quiet.closed_lane_fraction == 0.0
    assert CityConfig.from_presets("ice").friction == 0.15


def test_every_preset_is_valid_on_its_own():
    for name, values in PRESETS.items():
        config = CityConfig.from_presets(name)
        for key, value in values.items():
            assert getattr(config, key) == value


def test_unknown_presets_and_bad_overrides_raise():
    with pytest.raises(ValueError, match=r"^unknown preset 'icy'; valid presets: .*\bice\b"):
        CityConfig.from_presets("icy")
    with pytest.raises(TypeError, match=r"unknown CityConfig field 'frictoin'"):
        CityConfig.from_presets("wet", frictoin=0.5)
    with pytest.raises(ValueError, match=r"friction=2 is out of range"):
        CityConfig.from_presets("wet", friction=2.0)


# ----------------------------------------------------------------- sampling


def test_sample_draws_ranges_deterministically_within_bounds():
    config = CityConfig(friction=(0.2, 0.9), lane_width_m=[3.0, 4.0], map_seed=5)
    assert config.randomized_fields == ("lane_width_m", "friction")
    draws = [config.sample(np.random.default_rng(seed)) for seed in range(40)]
    assert all(0.2 <= d.friction <= 0.9 and 3.0 <= d.lane_width_m <= 4.0 for d in draws)
    assert len({d.friction for d in draws}) == 40
    assert all(d.randomized_fields == () and d.map_seed == 5 for d in draws)
    assert config.sample(np.random.default_rng(7)) == config.sample(np.random.default_rng(7))
    assert config.sample(np.random.default_rng(7)) != config.sample(np.random.default_rng(8))


def test_sample_picks_a_map_seed_from_a_list():
    config = CityConfig(map_seed=[11, 22, 33])
    seeds = [config.sample(np.random.default_rng(s)).map_seed for s in range(60)]
    assert set(seeds) == {11, 22, 33}
    assert config.sample(np.random.default_rng(3)).map_seed == (
        config.sample(np.random.default_rng(3)).map_seed)


def test_sample_draws_a_fresh_map_seed_when_none():
    config = CityConfig()
    seeds = [config.sample(np.random.default_rng(s)).map_seed for s in range(20)]
    assert all(isinstance(s, int) and 0 <= s < 2**31 for s in seeds)
    assert len(set(seeds)) == 20
    assert config.sample(np.random.default_rng(4)) == config.sample(np.random.default_rng(4))


def test_a_concrete_context_is_its_own_sample_and_a_map_file_stays():
    fixed = CityConfig(map_seed=3)
    assert fixed.sample(np.random.default_rng(0)) is fixed
    from_file = CityConfig(map_file="ring", friction=(0.5, 1.0))
    sampled = from_file.sample(np.random.default_rng(0))
    assert sampled.map_file == "ring" and sampled.map_seed is None
    assert 0.5 <= sampled.friction <= 1.0


# -------------------------------------------------------- describe / dict


def test_describe_fields_lists_every_field_with_its_valid_range():
    table = CityConfig.describe_fields()
    lines = table.splitlines()
    assert lines[0] == "| field | default | valid | meaning |"
    assert len(lines) == 2 + len(dataclasses.fields(CityConfig))
    for f in dataclasses.fields(CityConfig):
        (row,) = [line for line in lines if line.startswith(f"| `{f.name}` |")]
        if f.name in NUMERIC_FIELDS:
            assert field_bounds(f.name).describe() in row
        if f.name in INT_FIELDS:
            assert "int in [{}, {}]".format(*INT_FIELDS[f.name]) in row
    assert "[0.05, 1.5]" in table


def test_to_dict_is_json_ready_plain_data():
    data = CityConfig(friction=(0.5, 1.0), map_seed=[1, 2], start=(0, 1)).to_dict()
    assert data["friction"] == [0.5, 1.0]
    assert data["map_seed"] == [1, 2]
    assert data["start"] == [0, 1]
    assert set(data) == {f.name for f in dataclasses.fields(CityConfig)}
    assert json.loads(json.dumps(data)) == data


def test_field_bounds_rejects_non_numeric_fields():
    with pytest.raises(ValueError, match=r"'driving_side' is not a numeric field of CityConfig"):
        field_bounds("driving_side")


# ------------------------------------------------------- through gym.make


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"frcition": 0.5}, TypeError,
     r"unknown CityConfig field 'frcition' \(did you mean 'friction'\?\).*env arguments: "
     r"config, preset, render_mode, lidar_rays"),
    ({"friction": math.nan}, ValueError, r"friction must be finite.*\[0.05, 1.5\]"),
    ({"friction": 2.0}, ValueError, r"friction=2 is out of range; valid: \[0.05, 1.5\]"),
    ({"min_block_m": (60.0, 30.0)}, ValueError, r"min_block_m range is inverted"),
    ({"grid_rows": 21}, ValueError, r"grid_rows=21 is out of range; valid: \[2, 20\]"),
    ({"lanes_per_direction": 1.0}, TypeError, r"lanes_per_direction must be an int"),
    ({"speed_limit_mps": True}, TypeError, r"speed_limit_mps must be a number.*got bool"),
    ({"map_seed": -4}, ValueError, r"map_seed must be >= 0, got -4"),
    ({"map_seed": 1, "map_file": "ring"}, ValueError, r"either map_seed or map_file"),
    ({"driving_side": "middle"}, ValueError, r"driving_side must be 'right' or 'left'"),
    ({"start": (1, 1), "destination": (1, 1)}, ValueError, r"same intersection \(1, 1\)"),
    ({"min_block_m": 120.0, "max_block_m": 60.0}, ValueError, r"exceeds max_block_m"),
    ({"map_file": "nowhere"}, ValueError,
     r"map_file 'nowhere' is neither a file nor a shipped map; "
     r"shipped maps: downtown, ring, riverside"),
    ({"lidar_rays": 0}, ValueError, r"lidar_rays=0 is out of range; valid: \[1, 360\]"),
    ({"lidar_rays": 361}, ValueError, r"lidar_rays=361 is out of range"),
    ({"lidar_rays": 8.0}, TypeError, r"lidar_rays must be an int in \[1, 360\], got float"),
    ({"lidar_rays": True}, TypeError, r"lidar_rays must be an int.*got bool"),
    ({"lidar_range_m": 1.0}, ValueError, r"lidar_range_m=1 is out of range; valid: \[5, 200\]"),
    ({"physics_substeps": 0}, ValueError, r"physics_substeps=0 is out of range"),
    ({"observe_context": 1}, TypeError, r"observe_context must be a bool"),
    ({"preset": "icy"}, ValueError, r"unknown preset 'icy'"),
    ({"config": {"friction": 1.0}}, TypeError, r"config must be a CityConfig or None, got dict"),
    ({"config": CityConfig(), "preset": "wet"}, ValueError, r"either config or preset"),
])
def test_bad_env_arguments_raise_at_make(kwargs, error, match):
    with pytest.raises(error, match=match):
        gym.make("CityDriving-v0", **kwargs)


def test_shipped_maps_are_listed():
    assert set(shipped_maps()) >= {"downtown", "riverside", "ring"}


@pytest.mark.filterwarnings("ignore:.*render_mode")
def test_bad_render_mode_raises():
    with pytest.raises(ValueError, match=r"render_mode must be one of \['human', 'rgb_array'\] "
                                         r"or None, got 'ascii'"):
        gym.make("CityDriving-v0", render_mode="ascii")


def test_env_arguments_combine_presets_config_and_fields():
    env = gym.make("CityDriving-v0", preset=["wet", "left_hand"], grid_columns=4, map_seed=2)
    assert env.unwrapped.config.friction == 0.6 and env.unwrapped.config.grid_columns == 4
    assert env.unwrapped.config.driving_side == "left"
    env = gym.make("CityDriving-v0", config=CityConfig(map_seed=3), grid_columns=4)
    assert env.unwrapped.config.map_seed == 3 and env.unwrapped.config.grid_columns == 4


def test_a_field_that_contradicts_a_preset_is_an_error_naming_both():
    with pytest.raises(ValueError, match=r"^friction=0\.4 contradicts preset 'wet' "
                                         r"\(friction 0\.6\); give the field or the preset"):
        gym.make("CityDriving-v0", preset=["wet", "left_hand"], friction=0.4)
    with pytest.raises(ValueError, match=r"driving_side='right' contradicts preset "
                                         r"'left_hand' \(driving_side 'left'\)"):
        gym.make("CityDriving-v0", preset="left_hand", driving_side="right")
    same = gym.make("CityDriving-v0", preset="wet", friction=0.6, map_seed=2)
    assert same.unwrapped.config.friction == 0.6


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"map_seed": 1, "start": (10, 10)},
     r"^start=\(10, 10\) is outside the 6x6 map; valid columns 0..5, rows 0..5$"),
    ({"map_seed": 1, "destination": (0, 6)}, r"^destination=\(0, 6\) is outside the 6x6 map"),
    ({"map_file": "ring", "start": (3, 3)}, r"^start=\(3, 3\) is not on any street of the map$"),
    ({"map_file": "ring", "destination": (3, 3)},
     r"^destination=\(3, 3\) is not on any street of the map$"),
    ({"map_file": "downtown", "start": (5, 4), "destination": (6, 0)},
     r"^destination=\(6, 0\) is outside the 6x5 map"),
])
def test_start_or_destination_off_the_map_raises_at_reset(kwargs, match):
    env = gym.make("CityDriving-v0", **kwargs)
    with pytest.raises(ValueError, match=match):
        env.reset(seed=0)


def test_a_lane_layout_too_wide_for_the_blocks_raises_at_make_or_reset():
    message = (r"^lanes_per_direction=2 with lane_width_m=5 makes roads 20 m wide, too wide "
               r"for the map's shortest block of [\d.]+ m: need a block of at least "
               r"2 x road half width \+ 8 m$")
    fields = {"lanes_per_direction": 2, "lane_width_m": 5.0, "min_block_m": 20.0,
              "max_block_m": 25.0}
    with pytest.raises(ValueError, match=message):  # one city: checked at once
        gym.make("CityDriving-v0", map_seed=1, **fields)
    env = gym.make("CityDriving-v0", **fields)  # a new city per reset: checked then
    with pytest.raises(ValueError, match=message):
        env.reset(seed=0)
    # The same lanes fit the shipped maps' blocks (35 m and up).
    env = gym.make("CityDriving-v0", lanes_per_direction=2, lane_width_m=5.0, map_file="ring")
    env.reset(seed=0)


def test_reset_takes_no_options():
    env = gym.make("CityDriving-v0", map_seed=1)
    with pytest.raises(ValueError, match=r"takes no reset options, got \['friction'\]"):
        env.reset(seed=0, options={"friction": 0.5})


def test_a_fixed_destination_with_a_drawn_start_never_draws_the_destination():
    env = gym.make("CityDriving-v0", map_seed=1, destination=(0, 0))
    for seed in range(400):  # seed 187, among others, draws the start (0, 0)
        env.reset(seed=seed)
        world = env.unwrapped.world
        assert world.start != world.destination == world.city.node(0, 0)


# ------------------------------------------------------------------ actions


@pytest.fixture(scope="module")
def continuous_env():
    env = gym.make("CityDriving-v0", map_seed=3)
    env.reset(seed=0)
    return env


@pytest.fixture(scope="module")
def discrete_env():
    env = gym.make("CityDriving-v0", map_seed=3, continuous=False)
    env.reset(seed=0)
    return env


@pytest.mark.parametrize(("action", "error", "match"), [
    (np.zeros(3), ValueError, r"continuous action must have shape \(2,\): \[steer, pedal\], "
                              r"got shape \(3,\)"),
    (np.zeros((1, 2)), ValueError, r"got shape \(1, 2\)"),
    (0.5, ValueError, r"got shape \(\)"),
    ([math.nan, 0.0], ValueError,
     r"continuous action must be finite numbers in \[-1, 1\], got \[nan, 0.0\]"),
    (np.array([0.0, np.nan], np.float32), ValueError, r"must be finite"),
    (np.array([np.inf, 0.0], np.float32), ValueError, r"must be finite"),
    (["a", "b"], TypeError, r"continuous action must be real numbers"),
])
def test_bad_continuous_actions_raise(continuous_env, action, error, match):
    with pytest.raises(error, match=match):
        continuous_env.step(action)


@pytest.mark.parametrize(("action", "error", "match"), [
    (1.0, TypeError, r"discrete action must be an integer in 0..8, got float 1.0"),
    (np.float64(2.0), TypeError, r"discrete action must be an integer in 0..8, got dtype float64"),
    (np.array(2.0, np.float32), TypeError, r"got dtype float32"),
    (True, TypeError, r"discrete action must be an integer in 0..8, got bool True"),
    ("3", TypeError, r"got str '3'"),
    (np.array([4]), TypeError, r"got ndarray"),
    (9, ValueError, r"discrete action must be in 0..8, got 9"),
    (-1, ValueError, r"discrete action must be in 0..8, got -1"),
    (np.int64(12), ValueError, r"got 12"),
])
def test_bad_discrete_actions_raise(discrete_env, action, error, match):
    with pytest.raises(error, match=match):
        discrete_env.step(action)


def test_good_discrete_actions_of_every_integer_kind_step(discrete_env):
    for action in (0, np.int64(4), np.array(8), np.int8(3)):
        obs, _, _, _, _ = discrete_env.step(action)
        assert obs.shape == discrete_env.observation_space.shape


def test_continuous_actions_out_of_range_are_clipped():
    results = []
    for action in ([5.0, 3.0], [1.0, 1.0]):
        env = gym.make("CityDriving-v0", map_seed=3)
        env.reset(seed=0)
        for _ in range(5):
            obs, reward, *_ = env.step(np.array(action))
        results.append((obs, reward))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    assert results[0][1] == results[1][1]
