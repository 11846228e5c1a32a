"""CityDriving-v0 as a Gymnasium env: API conformance, determinism, episode ends, info."""

import copy
import json
import math
import pickle

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import exgen  # noqa: F401
from exgen.envs.city import CityConfig, heuristic, public
from exgen.envs.city.env import CityDrivingEnv

MODES = [{"continuous": True}, {"continuous": False},
         {"continuous": True, "observe_context": True, "lidar_rays": 8},
         {"continuous": False, "observe_route": True, "lidar_rays": 8}]


def rollout(env: gym.Env, seed: int, steps: int, action_seed: int = 0):
    env.action_space.seed(action_seed)
    observation, info = env.reset(seed=seed)
    trace = [(observation, 0.0, json.dumps(info["map"], sort_keys=True))]
    for _ in range(steps):
        observation, reward, terminated, truncated, info = env.step(env.action_space.sample())
        trace.append((observation, reward, info["outcome"]))
        if terminated or truncated:
            observation, info = env.reset()
            trace.append((observation, 0.0, json.dumps(info["map"], sort_keys=True)))
    return trace


def same(a, b) -> bool:
    return len(a) == len(b) and all(
        x[0].tobytes() == y[0].tobytes() and x[1] == y[1] and x[2] == y[2]
        for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("kwargs", MODES)
def test_gymnasium_and_sb3_env_checkers_pass(kwargs):
    check_env(gym.make("CityDriving-v0", **kwargs).unwrapped, skip_render_check=True)
    sb3_check_env(gym.make("CityDriving-v0", **kwargs).unwrapped)


def test_the_issue_example_runs():
    env = gym.make("CityDriving-v0", map_seed=7, friction=0.15, driving_side="left")
    observation, info = env.reset(seed=0)
    assert info["context"]["friction"] == 0.15
    assert info["map"]["driving_side"] == "left"
    for _ in range(50):
        observation, *_ = env.step(env.action_space.sample())
    assert env.observation_space.contains(observation)


def test_same_seed_same_episode_bit_for_bit_and_other_seeds_differ():
    kwargs = {"sensor_noise": 0.05, "friction": (0.3, 1.0), "green_s": (5.0, 20.0),
              "traffic_density": 6.0, "pedestrian_density": 1.0, "jaywalk_rate": 0.2}
    a = rollout(gym.make("CityDriving-v0", **kwargs), seed=3, steps=400)
    b = rollout(gym.make("CityDriving-v0", **kwargs), seed=3, steps=400)
    c = rollout(gym.make("CityDriving-v0", **kwargs), seed=4, steps=400)
    assert same(a, b)
    assert not same(a, c)


def test_different_seeds_give_different_cities_and_a_fixed_map_seed_one_city():
    env = gym.make("CityDriving-v0")
    maps = {json.dumps(env.reset(seed=s)[1]["map"]["streets"]) for s in range(5)}
    assert len(maps) == 5
    fixed = gym.make("CityDriving-v0", map_seed=11)
    maps = {json.dumps(fixed.reset(seed=s)[1]["map"]["streets"]) for s in range(5)}
    assert len(maps) == 1
    routes = {(fixed.reset(seed=s)[1]["map"]["start"],) for s in range(8)}
    assert len(routes) > 1


def test_a_list_of_map_seeds_is_a_training_set_of_cities():
    env = gym.make("CityDriving-v0", map_seed=[5, 6, 7])
    names = {env.reset(seed=s)[1]["context"]["map_name"] for s in range(30)}
    assert names == {"generated-5", "generated-6", "generated-7"}


def test_published_map_leaves_out_hidden_state_and_is_json():
    _, info = gym.make("CityDriving-v0").reset(seed=1)
    published = json.dumps(info["map"])
    for hidden in ("friction", "green_s", "amber_s", "offset", "sensor_noise"):
        assert hidden not in published
    assert {"nodes", "streets", "lanes_per_direction", "lane_width_m", "speed_limit_mps",
            "driving_side", "start", "destination"} <= set(info["map"])
    lit = [n for n in info["map"]["nodes"] if n["traffic_light"]]
    assert lit, "default cities have traffic lights"
    json.dumps(info["context"])


def test_observations_share_no_memory_and_none_is_constant():
    env = gym.make("CityDriving-v0", lidar_rays=8)
    first, _ = env.reset(seed=2)
    observations = [first]
    for step in range(150):
        observation, _, terminated, truncated, _ = env.step(
            np.array([0.3 if step % 20 < 10 else -0.3, 1.0], np.float32))
        observations.append(observation)
        if terminated or truncated:
            break
    assert not np.shares_memory(observations[0], observations[1])
    stacked = np.array(observations)
    index = public.layout(8)
    moving = [index["speed"], index["steering"], index["x"], index["y"], index["route_distance"],
              index["heading_cos"]]
    assert all(np.ptp(stacked[:, i]) > 0 for i in moving)


def test_reward_terms_add_up_and_progress_is_paid_per_metre():
    env = gym.make("CityDriving-v0", map_seed=2, preset="quiet")
    env.reset(seed=0)
    route_before = env.unwrapped.world.readings.route_distance
    total = 0.0
    for _ in range(50):
        _, reward, _terminated, _truncated, info = env.step(np.array([0.0, 0.6], np.float32))
        assert reward == pytest.approx(sum(info["reward_terms"].values()))
        total += info["reward_terms"]["progress"]
    driven = route_before - info["route_distance_m"]
    assert driven > 15.0
    assert total == pytest.approx(0.1 * driven)


def test_time_runs_out_with_truncation():
    env = gym.make("CityDriving-v0", map_seed=3)
    _, info = env.reset(seed=0)
    steps = 0
    while True:
        _, _, terminated, truncated, info = env.step(np.array([0.0, -1.0], np.float32))
        steps += 1
        if terminated or truncated:
            break
    assert truncated and not terminated
    assert info["outcome"] == "timeout" and not info["is_success"]
    assert steps == int(np.ceil(env.unwrapped._time_limit_s / public.DT_S))


def test_crashing_into_a_building_terminates_with_a_scored_collision():
    env = gym.make("CityDriving-v0", map_seed=3)
    env.reset(seed=0)
    while True:
        _, _reward, terminated, truncated, info = env.step(np.array([1.0, 1.0], np.float32))
        if terminated or truncated:
            break
    assert terminated and info["outcome"] == "collision" and not info["is_success"]
    assert info["infractions"]["collision_static"] == 1
    assert info["reward_terms"]["collision"] == -20.0
    assert info["driving_score"] <= 0.65 * info["route_completion"] + 1e-12


def test_step_after_the_end_and_before_reset_raise():
    env = CityDrivingEnv(map_seed=3)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(np.zeros(2, np.float32))
    env.reset(seed=0)
    while True:
        *_, terminated, truncated, _ = env.step(np.array([1.0, 1.0], np.float32))
        if terminated or truncated:
            break
    with pytest.raises(RuntimeError, match="ended"):
        env.step(np.zeros(2, np.float32))


def test_pickle_and_deepcopy_continue_bit_for_bit():
    env = gym.make("CityDriving-v0", sensor_noise=0.1).unwrapped
    env.reset(seed=5)
    for _ in range(20):
        env.step(np.array([0.1, 0.8], np.float32))
    clones = [pickle.loads(pickle.dumps(env)), copy.deepcopy(env)]
    actions = np.random.default_rng(0).uniform(-1, 1, (40, 2)).astype(np.float32)
    expected = [env.step(a)[0] for a in actions]
    for clone in clones:
        assert all(clone.step(a)[0].tobytes() == e.tobytes()
                   for a, e in zip(actions, expected, strict=True))


def test_context_observation_is_appended_scaled():
    env = gym.make("CityDriving-v0", observe_context=True, friction=0.6, driving_side="left",
                   lidar_rays=4)
    observation, _ = env.reset(seed=0)
    assert observation.shape == (public.observation_size(4) + 4,)
    assert observation.shape == (public.observation_size(4, observe_context=True),)
    at = public.layout(4, observe_context=True)
    assert [at[name] for name in public.CONTEXT_OBSERVATION_FIELDS] == list(range(
        public.observation_size(4), public.observation_size(4) + 4))
    assert observation[-4:].tolist() == pytest.approx([0.6, 13.9 / 20, 1.0, -1.0])


@pytest.mark.parametrize("fields", [{}, {"driving_side": "left", "one_way_fraction": 0.5}],
                         ids=["right-hand", "left-hand-one-way"])
def test_the_route_observation_leads_the_scripted_driver_through_every_turn(fields):
    """Each route point observed is where the heuristic driver (which follows the lanes
    alone) then passes, and it is appended after the context, in the car's frame."""
    env = gym.make("CityDriving-v0", observe_context=True, observe_route=True, lidar_rays=16,
                   traffic_density=0.0, pedestrian_density=0.0, **fields)
    observation, info = env.reset(seed=2)
    assert observation.shape == (public.observation_size(16) + 4 + 4,)
    at = public.layout(16, observe_context=True, observe_route=True)
    assert [at[name] for name in public.ROUTE_OBSERVATION] == list(range(
        public.observation_size(16) + 4, public.observation_size(16, True, True)))
    world, side, passed, points = env.unwrapped.world, info["map"]["driving_side"], {}, []
    while True:
        car = world.car
        ahead, left = observation[-4:-2] * public.DISTANCE_SCALE_M
        point = (round(car.x + math.cos(car.heading) * ahead - math.sin(car.heading) * left, 3),
                 round(car.y + math.sin(car.heading) * ahead + math.cos(car.heading) * left, 3))
        if not points or points[-1] != point:
            points.append(point)
        passed[point] = min(passed.get(point, math.inf), math.dist(point, (car.x, car.y)))
        action = heuristic.drive(observation[:-8], 16, side)
        observation, _, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            break
    assert info["is_success"] and len(points) >= 3
    assert points[-1] == pytest.approx(world.city.position(world.destination), abs=1e-3)
    assert max(passed[p] for p in points[:-1]) < 1.5  # every exit point lies on its way


def test_bad_reset_options_are_refused():
    with pytest.raises(ValueError, match="no reset options"):
        gym.make("CityDriving-v0").reset(seed=0, options={"friction": 0.1})


_contexts = st.fixed_dictionaries({
    "grid_columns": st.integers(2, 7), "grid_rows": st.integers(2, 7),
    "removed_street_fraction": st.floats(0.0, 0.5), "one_way_fraction": st.floats(0.0, 0.6),
    "closed_street_fraction": st.floats(0.0, 0.3), "closed_lane_fraction": st.floats(0.0, 0.3),
    "lanes_per_direction": st.integers(1, 2), "lane_width_m": st.floats(2.5, 4.0),
    "friction": st.floats(0.05, 1.5), "driving_side": st.sampled_from(["right", "left"]),
    "sensor_noise": st.floats(0.0, 0.5), "speed_limit_mps": st.floats(3.0, 35.0),
    "continuous": st.booleans(), "min_route_m": st.floats(0.0, 2000.0),
    "traffic_density": st.floats(0.0, 30.0), "pedestrian_density": st.floats(0.0, 5.0),
    "jaywalk_rate": st.floats(0.0, 1.0),
})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(context=_contexts, seed=st.integers(0, 9999), action_seed=st.integers(0, 9999))
def test_any_valid_context_and_actions_keep_observations_finite_and_in_space(
        context, seed, action_seed):
    env = gym.make("CityDriving-v0", config=CityConfig(**context), lidar_rays=16)
    env.action_space.seed(action_seed)
    observation, _ = env.reset(seed=seed)
    for _ in range(120):
        assert np.all(np.isfinite(observation))
        assert env.observation_space.contains(observation)
        observation, reward, terminated, truncated, _info = env.step(env.action_space.sample())
        assert np.isfinite(reward)
        if terminated or truncated:
            observation, _ = env.reset()
