import math

import gymnasium as gym
import numpy as np
import pytest

from exgen.envs.lunar.config import (
    DESIGN_GRAVITY_MAX,
    DESIGN_GRAVITY_MIN,
    PRESETS,
    LanderConfig,
    field_bounds,
    numeric_field_names,
)


def test_defaults_are_valid_and_landable_from_moon_to_jupiter():
    for gravity in (DESIGN_GRAVITY_MIN, 1.62, 9.81, 24.79, DESIGN_GRAVITY_MAX):
        context = LanderConfig(gravity=gravity)
        assert context.landability() == (True, "")
    # Thrust acceleration well above 25 m/s², with margin for braking.
    default = LanderConfig()
    assert default.main_engine_thrust / (default.dry_mass + default.fuel_mass) > 30.0


def test_presets_combine_left_to_right_and_overrides_win():
    context = LanderConfig.from_presets("mars", "strong_wind", turbulence=0.5)
    assert context.gravity == 3.71
    assert context.wind_speed == PRESETS["strong_wind"]["wind_speed"]
    assert context.turbulence == 0.5
    assert LanderConfig.from_presets("jupiter").gravity == 24.79
    assert LanderConfig.from_presets("moon").gravity == 1.62
    assert LanderConfig.from_presets("titan").gravity == 1.35


def test_a_field_that_contradicts_a_preset_is_an_error_naming_both():
    with pytest.raises(ValueError, match=r"^gravity=9\.81 contradicts preset 'moon' "
                                         r"\(gravity 1\.62\); give the field or the preset"):
        gym.make("LunarLanding-v0", gravity=9.81, preset="moon")
    with pytest.raises(ValueError, match=r"turbulence=0\.5 contradicts preset 'strong_wind'"):
        gym.make("LunarLanding-v0", preset=["mars", "strong_wind"], turbulence=0.5)


def test_a_field_that_agrees_with_its_preset_is_accepted():
    env = gym.make("LunarLanding-v0", gravity=1.62, preset="moon", wind_speed=2.0)
    assert env.unwrapped.config.gravity == 1.62 and env.unwrapped.config.wind_speed == 2.0
    assert LanderConfig.without_presets({"preset": ["moon", "strong_wind"],
                                         "observe_fuel": True}) == {
        "gravity": 1.62, "wind_speed": 10.0, "turbulence": 3.0, "observe_fuel": True}


def test_a_preset_must_be_a_name_or_names():
    with pytest.raises(TypeError, match=r"preset must be a name or a list of names, got 3"):
        gym.make("LunarLanding-v0", preset=3)


def test_unknown_preset_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown preset 'plutoo'.*pluto"):
        LanderConfig.from_presets("plutoo")


def test_ranges_are_sampled_within_bounds_and_reproducibly():
    config = LanderConfig(gravity=(8.0, 12.0), wind_speed=[-2.0, 2.0])
    assert config.randomized_fields == ("gravity", "wind_speed")
    draws = [config.sample(np.random.default_rng(seed)) for seed in range(50)]
    gravities = [d.gravity for d in draws]
    assert all(8.0 <= g <= 12.0 for g in gravities)
    assert len(set(gravities)) == 50
    assert all(not d.randomized_fields for d in draws)
    again = config.sample(np.random.default_rng(7))
    assert again == config.sample(np.random.default_rng(7))


def test_a_concrete_context_is_its_own_sample():
    config = LanderConfig(gravity=3.0)
    assert config.sample(np.random.default_rng(0)) is config


def test_unlandable_context_is_allowed_and_flagged_with_a_reason():
    context = LanderConfig(gravity=30.0, main_engine_thrust=100.0)
    landable, reason = context.landability()
    assert not landable
    assert "thrust-to-weight" in reason
    assert LanderConfig(fuel_mass=0.0).landability() == (False, "no fuel on board")


def test_derived_facts_need_a_concrete_context():
    with pytest.raises(ValueError, match="sample"):
        LanderConfig(gravity=(1.0, 2.0)).thrust_to_weight()


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"gravty": 3.0}, TypeError, r"unknown LanderConfig field 'gravty'.*did you mean 'gravity'"),
    ({"gravity": math.nan}, ValueError, r"gravity must be finite.*\(0, 30\]"),
    ({"gravity": math.inf}, ValueError, r"gravity must be finite"),
    ({"gravity": 0.0}, ValueError, r"gravity=0 is out of range; valid: \(0, 30\] m/s²"),
    ({"gravity": 31.0}, ValueError, r"gravity=31 is out of range"),
    ({"gravity": -1.0}, ValueError, r"gravity=-1 is out of range"),
    ({"gravity": (12.0, 8.0)}, ValueError, r"gravity range is inverted"),
    ({"gravity": (1.0, 2.0, 3.0)}, ValueError, r"gravity range must be \(low, high\)"),
    ({"gravity": (1.0, 40.0)}, ValueError, r"gravity high=40 is out of range"),
    ({"gravity": "moon"}, TypeError, r"gravity must be a number.*got str"),
    ({"gravity": True}, TypeError, r"gravity must be a number.*got bool"),
    ({"gravity": None}, TypeError, r"gravity must be a number"),
    ({"pad_width": 1.0}, ValueError, r"pad_width=1 is out of range; valid: \[2, 8\] m"),
    ({"pad_x": 7.0, "pad_width": 8.0}, ValueError, r"pad_x=7.0 with pad_width=8.0 puts the "
     r"pad outside the world: need \|pad_x\| \+ pad_width/2 <= 9.5 m"),
    ({"pad_x": (-6.0, 1.0), "pad_width": (2.0, 8.0)}, ValueError, "outside the world"),
    ({"continuous": 1}, TypeError, r"continuous must be a bool"),
    ({"terrain_seed": -3}, ValueError, r"terrain_seed must be an int >= 0"),
    ({"terrain_seed": 1.5}, TypeError, r"terrain_seed must be an int"),
])
def test_bad_fields_raise_naming_the_field_and_the_valid_range(kwargs, error, match):
    with pytest.raises(error, match=match):
        LanderConfig.from_kwargs(**kwargs)
    with pytest.raises(error, match=match):
        gym.make("LunarLanding-v0", **kwargs)


def test_every_numeric_field_accepts_its_bounds_and_numpy_numbers():
    for name in numeric_field_names():
        low, high = field_bounds(name).low, field_bounds(name).high
        inside = low + 0.5 * (high - low)
        assert getattr(LanderConfig(**{name: np.float32(inside)}), name) == pytest.approx(
            inside, rel=1e-6)
        assert getattr(LanderConfig(**{name: (inside, high)}), name) == (
            pytest.approx(inside), high)


def test_to_dict_is_plain_data_and_describe_fields_documents_every_field():
    data = LanderConfig(gravity=(8.0, 12.0)).to_dict()
    assert data["gravity"] == [8.0, 12.0]
    table = LanderConfig.describe_fields()
    for name in data:
        assert f"`{name}`" in table


def test_replace_validates():
    with pytest.raises(ValueError, match="fuel_mass"):
        LanderConfig().replace(fuel_mass=-1.0)
    with pytest.raises(TypeError, match="unknown LanderConfig field 'fuel'"):
        LanderConfig().replace(fuel=1.0)
