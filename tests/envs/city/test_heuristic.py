"""The heuristic driver completes routes on empty cities, by the rules, and on quiet ones."""

import gymnasium as gym
import pytest

import exgen  # noqa: F401
from exgen.envs.city.heuristic import drive


def run(seed: int, **fields) -> dict:
    fields = {"traffic_density": 0.0, "pedestrian_density": 0.0, **fields}
    env = gym.make("CityDriving-v0", lidar_rays=16, **fields)
    observation, info = env.reset(seed=seed)
    side = info["map"]["driving_side"]
    while True:
        observation, _, terminated, truncated, info = env.step(drive(observation, 16, side))
        if terminated or truncated:
            return info


@pytest.mark.parametrize("fields", [
    {},
    {"driving_side": "left"},
    {"friction": 0.6, "lanes_per_direction": 2},
    {"preset": "roadworks"},
], ids=["default", "left-hand", "wet-two-lanes", "roadworks"])
def test_the_heuristic_driver_arrives_cleanly(fields):
    for seed in range(3):
        info = run(seed, **fields)
        assert info["is_success"], (seed, info["outcome"], info["infractions"])
        assert info["infractions"]["red_light"] == 0
        assert info["infractions"]["collision_static"] == 0


@pytest.mark.parametrize("name", ["downtown", "riverside", "ring"])
def test_the_heuristic_driver_arrives_on_the_shipped_maps(name):
    for seed in range(2):
        info = run(seed, map_file=name)
        assert info["is_success"], (name, seed, info["outcome"], info["infractions"])


def test_the_heuristic_driver_still_arrives_on_quiet_streets():
    """A few cars and pedestrians: it follows cars and stops at lights, though it does
    not yield while turning (its lidar cannot tell a kerb seen askew from a person)."""
    infos = [run(seed, traffic_density=0.5, pedestrian_density=0.05) for seed in range(10)]
    assert sum(info["is_success"] for info in infos) >= 8
    assert sum(info["infractions"]["red_light"] for info in infos) == 0


@pytest.mark.parametrize("preset", ["compact", "van", "truck"])
def test_the_heuristic_driver_arrives_with_each_car(preset):
    for seed in range(3):
        info = run(seed, preset=preset)
        assert info["is_success"], (preset, seed, info["outcome"], info["infractions"])
        assert info["clean_arrival"] == (not any(info["infractions"].values()))
