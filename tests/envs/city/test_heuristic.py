"""The scripted driver completes routes on empty cities, by the rules."""

import gymnasium as gym
import pytest

import envs  # noqa: F401
from envs.city.heuristic import drive


def run(seed: int, **fields) -> dict:
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
def test_the_scripted_driver_arrives_cleanly(fields):
    for seed in range(3):
        info = run(seed, **fields)
        assert info["is_success"], (seed, info["outcome"], info["infractions"])
        assert info["infractions"]["red_light"] == 0
        assert info["infractions"]["collision_static"] == 0


@pytest.mark.parametrize("name", ["downtown", "riverside", "ring"])
def test_the_scripted_driver_arrives_on_the_shipped_maps(name):
    for seed in range(2):
        info = run(seed, map_file=name)
        assert info["is_success"], (name, seed, info["outcome"], info["infractions"])
