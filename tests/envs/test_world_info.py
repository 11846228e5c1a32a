"""Each world declares what the experiment layers know of it; they look it up by env id."""

import dataclasses

import pytest

from exgen.envs.city.config import CityConfig
from exgen.envs.city.world import INFRACTION_PENALTIES
from exgen.envs.lunar.config import LanderConfig
from exgen.envs.world_info import WorldInfo, world_info


def test_each_world_is_found_by_its_env_id():
    lunar, city = world_info("LunarLanding-v0"), world_info("CityDriving-v0")
    assert (lunar.env_id, lunar.config_class) == ("LunarLanding-v0", LanderConfig)
    assert (city.env_id, city.config_class) == ("CityDriving-v0", CityConfig)


def test_the_interfaces_are_the_env_arguments_of_each_world():
    assert world_info("LunarLanding-v0").interface_keys == {
        "continuous", "observe_context", "observe_fuel"}
    assert world_info("CityDriving-v0").interface_keys == {
        "continuous", "observe_context", "observe_route", "observe_road_users", "observe_lead",
        "observe_raster"}


def test_the_city_counts_its_infractions_and_the_lander_none():
    assert world_info("CityDriving-v0").infractions == tuple(INFRACTION_PENALTIES)
    assert world_info("LunarLanding-v0").infractions == ()


def test_only_the_lander_has_a_sweep_figure():
    sweep = world_info("LunarLanding-v0").sweep
    assert (sweep.field, sweep.split_field) == ("gravity", "wind_speed")
    assert world_info("CityDriving-v0").sweep is None


def test_categorical_fields_are_the_context_fields_without_bounds():
    city = world_info("CityDriving-v0").categorical_fields
    assert {"map_seed", "driving_side", "map_file"} <= city
    assert not {"friction", "speed_limit_mps"} & city
    assert city == {f.name for f in dataclasses.fields(CityConfig)
                    if "bounds" not in f.metadata}


def test_label_context_drops_env_id_derived_and_interface_keys():
    lunar = world_info("LunarLanding-v0")
    context = {"env_id": "LunarLanding-v0", "gravity": 3.7, "landable": True,
               "thrust_to_weight": 2.0, "continuous": False, "wind_speed": 0.0}
    assert lunar.label_context(context) == {"gravity": 3.7, "wind_speed": 0.0}
    city = world_info("CityDriving-v0")
    assert city.label_context({"map_name": "downtown", "map_seed": 3,
                               "continuous": True}) == {"map_seed": 3}


def test_an_env_without_a_declaration_gets_an_empty_one_and_an_unknown_id_fails():
    mixture = world_info("ContextMixture-v0")
    assert mixture == WorldInfo("ContextMixture-v0")
    assert mixture.categorical_fields == set()
    with pytest.raises(KeyError, match="Nope-v0"):
        world_info("Nope-v0")
