"""Protocol v2: the ego car is part of the context, and ``clean_arrival`` is reported.

Seeded default episodes are those recorded before the car became a context (digests
below), so nothing about ``CityDriving-v0``'s default changed but a new info key.
"""

import hashlib

import gymnasium as gym
import numpy as np
import pytest

import exgen  # noqa: F401
from exgen.envs.city import public
from exgen.envs.city.config import PRESETS, CityConfig
from exgen.envs.city.heuristic import drive
from exgen.envs.city.vehicle import DEFAULT_CAR, Car
from tests.envs.city.test_heuristic import run

CAR_FIELDS = ("max_acceleration_mps2", "max_braking_mps2", "max_steering_rad",
              "wheelbase_m", "car_length_m")
#: sha256 (first 16 hex digits) of the float32 observations and float64 rewards of 400
#: random-action steps, recorded before the car fields existed.
RECORDED = {0: ("", "888ecd9edd038324"), 1: ("", "72c98a0dcf35516c"),
            2: ("", "1e14ba9c899e0ba6"), 3: ("wet", "7009586f3bb96368")}


def _digest(seed: int, preset: str) -> str:
    env = gym.make("CityDriving-v0", **({"preset": preset} if preset else {}))
    observation, _ = env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    observations, rewards = [observation], []
    for _ in range(400):
        action = rng.uniform(-1, 1, 2).astype(np.float32)
        observation, reward, terminated, truncated, _ = env.step(action)
        observations.append(observation)
        rewards.append(reward)
        if terminated or truncated:
            break
    data = np.array(observations, np.float32).tobytes() + np.array(rewards).tobytes()
    return hashlib.sha256(data).hexdigest()[:16]


@pytest.mark.parametrize("seed", sorted(RECORDED))
def test_seeded_default_episodes_are_unchanged(seed):
    preset, digest = RECORDED[seed]
    assert _digest(seed, preset) == digest


def test_car_fields_default_to_todays_car_and_presets_scale_it():
    config = CityConfig()
    assert Car.of(config) == DEFAULT_CAR
    assert (config.max_acceleration_mps2, config.max_braking_mps2, config.max_steering_rad,
            config.wheelbase_m, config.car_length_m) == (3.0, 8.0, 0.6, 2.7, 4.6)
    compact = CityConfig.from_presets("compact")
    assert compact.max_acceleration_mps2 == pytest.approx(1.3 * 3.0)
    van = CityConfig.from_presets("van")
    assert (van.car_length_m, van.max_acceleration_mps2) == pytest.approx((1.2 * 4.6, 0.7 * 3.0))
    truck = CityConfig.from_presets("truck")
    assert (truck.car_length_m, truck.wheelbase_m, truck.max_acceleration_mps2,
            truck.max_braking_mps2) == pytest.approx((1.6 * 4.6, 1.4 * 2.7, 0.4 * 3.0,
                                                      0.6 * 8.0))
    for name in ("compact", "van", "truck"):
        assert set(PRESETS[name]) <= set(CAR_FIELDS)
        env = gym.make("CityDriving-v0", preset=name).unwrapped
        env.reset(seed=0)
        assert env.world.spec == Car.of(CityConfig.from_presets(name))


@pytest.mark.parametrize(("fields", "message"), [
    ({"max_acceleration_mps2": 0.0}, "max_acceleration_mps2=0 is out of range"),
    ({"max_braking_mps2": 20.0}, "max_braking_mps2=20 is out of range"),
    ({"max_steering_rad": float("nan")}, "max_steering_rad must be finite"),
    ({"wheelbase_m": 0.5}, "wheelbase_m=0.5 is out of range"),
    ({"car_length_m": public.MAX_CAR_LENGTH_M + 1}, "car_length_m=9 is out of range"),
    ({"wheelbase_m": 4.0, "car_length_m": 3.5}, "wheelbase_m=4.0 must be shorter than "
                                                "car_length_m=3.5"),
    ({"car_length_m": (5.0, 4.0)}, "car_length_m range is inverted"),
])
def test_bad_car_values_are_named(fields, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        CityConfig(**fields)
    with pytest.raises(TypeError, match="wheelbase_m must be a number"):
        CityConfig(wheelbase_m="long")


def test_the_car_fields_change_the_car():
    def after_throttle(**fields) -> tuple[float, float]:
        env = gym.make("CityDriving-v0", traffic_density=0.0, pedestrian_density=0.0,
                       **fields)
        env.reset(seed=5)
        for _ in range(10):
            observation, *_ = env.step(np.array([0.0, 1.0], np.float32))
        return env.unwrapped.world.car.speed, float(observation[public.STEERING])

    assert after_throttle()[0] == pytest.approx(3.0, abs=0.01)
    assert after_throttle(preset="truck")[0] == pytest.approx(1.2, abs=0.01)
    # The steering observation stays a fraction of the car's own limit.
    env = gym.make("CityDriving-v0", max_steering_rad=0.3)
    env.reset(seed=0)
    for _ in range(5):
        observation, *_ = env.step(np.array([1.0, 0.3], np.float32))
    assert observation[public.STEERING] == pytest.approx(1.0)
    assert env.unwrapped.world.car.steering == pytest.approx(0.3)


def test_clean_arrival_is_false_after_a_red_light_and_true_for_a_clean_one():
    clean = run(0)
    assert clean["is_success"] and clean["clean_arrival"]
    assert not any(clean["infractions"].values())
    # The same route, the same driver, but it runs the first red light it meets.
    env = gym.make("CityDriving-v0", lidar_rays=16, traffic_density=0.0,
                   pedestrian_density=0.0, green_s=2.0, amber_s=1.0, all_red_s=10.0)
    seen_red = False
    for seed in range(10):
        observation, info = env.reset(seed=seed)
        index = public.layout(16)
        ran = False
        while True:
            action = drive(observation, 16, "right")
            if observation[index["light_red"]] and not ran:
                action = np.array([action[0], 0.6], np.float32)  # ignore the red light
            observation, _, terminated, truncated, info = env.step(action)
            ran = ran or info["infractions"]["red_light"] > 0
            assert info["clean_arrival"] is False or not any(info["infractions"].values())
            if terminated or truncated:
                break
        if ran and info["is_success"]:
            seen_red = True
            assert info["infractions"]["red_light"] >= 1
            assert info["clean_arrival"] is False
            break
    assert seen_red, "no seed ran a red light and still arrived"
