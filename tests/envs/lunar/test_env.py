"""The Gymnasium env: API conformance, determinism, episode ends, bad actions."""

import copy
import itertools
import pickle

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env
from stable_baselines3.common.env_util import make_vec_env

from exgen.envs.lunar import LanderConfig, LunarLandingEnv, public
from exgen.envs.lunar.heuristic import heuristic_action

MODES = [{"continuous": False}, {"continuous": True},
         {"continuous": True, "observe_fuel": True, "observe_context": True}]


def rollout(env: gym.Env, seed: int, steps: int, action_seed: int = 0):
    """Observations, rewards and infos of ``steps`` random actions, resetting at ends."""
    env.action_space.seed(action_seed)
    observation, info = env.reset(seed=seed)
    trace = [(observation, 0.0, info["context"])]
    for _ in range(steps):
        observation, reward, terminated, truncated, info = env.step(env.action_space.sample())
        trace.append((observation, reward, info["outcome"]))
        if terminated or truncated:
            observation, info = env.reset()
            trace.append((observation, 0.0, info["context"]))
    return trace


def record_observations(env: gym.Env, policy, seed: int):
    """Observations of one episode under ``policy``, and its last info."""
    observation, _ = env.reset(seed=seed)
    observations = [observation]
    while True:
        observation, _, terminated, truncated, info = env.step(policy(observation))
        observations.append(observation)
        if terminated or truncated:
            return observations, info


def assert_same_trace(a, b):
    assert len(a) == len(b)
    for (obs_a, rew_a, info_a), (obs_b, rew_b, info_b) in zip(a, b, strict=True):
        assert obs_a.tobytes() == obs_b.tobytes()
        assert rew_a == rew_b
        assert info_a == info_b


@pytest.mark.parametrize("kwargs", MODES)
def test_gymnasium_and_sb3_env_checkers_pass(kwargs):
    check_env(gym.make("LunarLanding-v0", **kwargs).unwrapped, skip_render_check=False)
    sb3_check_env(gym.make("LunarLanding-v0", **kwargs).unwrapped)


def test_make_accepts_context_fields_presets_and_a_config():
    env = gym.make("LunarLanding-v0", gravity=24.79, wind_speed=5.0, turbulence=1.0)
    _, info = env.reset(seed=0)
    assert info["context"]["gravity"] == 24.79 and info["context"]["wind_speed"] == 5.0
    assert info["context"]["env_id"] == "LunarLanding-v0"
    env = gym.make("LunarLanding-v0", preset=("mars", "strong_wind"))
    assert env.unwrapped.config == LanderConfig.from_presets("mars", "strong_wind")
    env = gym.make("LunarLanding-v0", config=LanderConfig(gravity=1.62), fuel_mass=2.0)
    assert env.unwrapped.config.gravity == 1.62 and env.unwrapped.config.fuel_mass == 2.0


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"render_mode": "ascii"}, ValueError, "render_mode must be one of"),
    ({"observe_fuel": "yes"}, TypeError, "observe_fuel must be a bool"),
    ({"physics_substeps": 0}, ValueError, r"physics_substeps=0 is out of range; valid: \[1, 50\]"),
    ({"physics_substeps": 2.0}, TypeError, "physics_substeps must be an int"),
    ({"config": {"gravity": 1.0}}, TypeError, "config must be a LanderConfig"),
    ({"preset": "moon", "config": LanderConfig()}, ValueError, "either config or preset"),
    ({"preset": "vulcan"}, ValueError, "unknown preset 'vulcan'"),
    ({"gravity_mps2": 3.0}, TypeError, "unknown LanderConfig field.*env arguments"),
])
@pytest.mark.filterwarnings("ignore:.*render_mode='ascii'")
def test_bad_env_arguments_raise_clearly(kwargs, error, match):
    with pytest.raises(error, match=match):
        gym.make("LunarLanding-v0", **kwargs)


@pytest.mark.parametrize("fields", [{}, {"turbulence": 2.0, "observation_noise": 0.05,
                                         "gravity": (2.0, 20.0), "continuous": True}])
def test_same_seed_same_trajectory_bit_for_bit(fields):
    env_a = gym.make("LunarLanding-v0", **fields)
    env_b = gym.make("LunarLanding-v0", **fields)
    assert_same_trace(rollout(env_a, seed=11, steps=400), rollout(env_b, seed=11, steps=400))


def test_different_seeds_give_different_terrain_and_start():
    env = gym.make("LunarLanding-v0")
    starts, terrains = set(), set()
    for seed in range(10):
        observation, _ = env.reset(seed=seed)
        starts.add(observation.tobytes())
        terrains.add(tuple(env.unwrapped.world.terrain_points))
    assert len(starts) == 10 and len(terrains) == 10


def test_each_reset_builds_a_fresh_space():
    env = gym.make("LunarLanding-v0")
    env.reset(seed=0)
    first = env.unwrapped.world.space
    env.reset(seed=0)
    assert env.unwrapped.world.space is not first


@pytest.mark.parametrize("clone", [lambda env: pickle.loads(pickle.dumps(env)), copy.deepcopy])
def test_pickling_round_trips_mid_episode(clone):
    env = gym.make("LunarLanding-v0", turbulence=2.0, observation_noise=0.01)
    env.reset(seed=3)
    env.action_space.seed(0)
    for _ in range(30):
        env.step(env.action_space.sample())
    twin = clone(env)
    for action in [2, 2, 1, 0, 3, 2, 0, 0, 2, 1] * 5:
        result = env.step(action)
        twin_result = twin.step(action)
        assert result[0].tobytes() == twin_result[0].tobytes()
        assert result[1:4] == twin_result[1:4]
        if result[2]:
            break


def test_observations_are_fresh_arrays_and_not_constant():
    env = gym.make("LunarLanding-v0")
    observations, _ = record_observations(env, heuristic_action, seed=0)
    assert not any(np.shares_memory(a, b) for a, b in itertools.pairwise(observations))
    stacked = np.stack(observations)
    assert all(np.ptp(stacked[:, i]) > 0 for i in range(8))


def test_context_and_fuel_observations():
    env = gym.make("LunarLanding-v0", observe_fuel=True, observe_context=True,
                   gravity=(2.0, 20.0))
    assert env.observation_space.shape == (8 + 1 + len(public.CONTEXT_OBSERVATION_FIELDS),)
    gravity_index = 9 + public.CONTEXT_OBSERVATION_FIELDS.index("gravity")
    observation, info = env.reset(seed=0)
    assert observation[8] == 1.0
    assert observation[gravity_index] == pytest.approx(info["context"]["gravity"] / 10.0)
    for _ in range(5):
        observation, *_ = env.step(public.FIRE_MAIN)
    assert observation[8] < 1.0
    gravities = {float(env.reset(seed=s)[0][gravity_index]) for s in range(5)}
    assert len(gravities) == 5


def test_domain_randomization_draws_a_new_context_each_reset():
    env = gym.make("LunarLanding-v0", gravity=(8.0, 12.0), wind_speed=(-3.0, 3.0))
    contexts = [env.reset(seed=s)[1]["context"] for s in range(20)]
    assert all(8.0 <= c["gravity"] <= 12.0 and -3 <= c["wind_speed"] <= 3 for c in contexts)
    assert len({c["gravity"] for c in contexts}) == 20
    assert all(c["landable"] for c in contexts)


def test_an_unlandable_context_runs_and_says_why():
    env = gym.make("LunarLanding-v0", gravity=30.0, main_engine_thrust=50.0)
    _, info = env.reset(seed=0)
    assert info["context"]["landable"] is False
    assert "thrust-to-weight" in info["context"]["landable_reason"]
    env.step(public.FIRE_MAIN)


def drop(**fields):
    """Release the lander still, 2 m above flat ground, and let it settle."""
    env = gym.make("LunarLanding-v0", initial_height=2.0, initial_velocity_spread=0.0,
                   terrain_roughness=0.0, **fields)
    env.reset(seed=0)
    total = 0.0
    while True:
        _, reward, terminated, truncated, info = env.step(public.NOOP)
        total += reward
        if terminated or truncated:
            return info, total, terminated


def test_settling_on_the_pad_is_a_success_with_the_bonus():
    info, total, terminated = drop(gravity=1.62)
    assert terminated and info["is_success"] and info["outcome"] == "landed"
    assert total > 100.0
    assert 0.0 < info["touchdown_speed"] < 3.0


def test_settling_beside_the_pad_is_not_a_success():
    info, _, terminated = drop(gravity=1.62, pad_x=6.0)
    assert terminated and info["outcome"] == "landed_off_pad" and not info["is_success"]


def test_landing_too_fast_is_a_crash():
    info, total, terminated = drop(gravity=24.79)
    assert terminated and info["outcome"] == "hard_landing" and not info["is_success"]
    assert info["touchdown_speed"] > 3.0
    assert total < -100.0 + 20.0


def test_touching_down_tilted_beyond_the_limit_is_not_a_success():
    env = gym.make("LunarLanding-v0", initial_height=2.0, initial_velocity_spread=0.0,
                   terrain_roughness=0.0, gravity=1.62, max_landing_tilt=0.3)
    env.reset(seed=0)
    env.unwrapped.world.place(env.unwrapped.world.pad_center_x + 2.2, 4.8, angle=0.5)
    outcome = "flying"
    while outcome == "flying":
        *_, info = env.step(public.NOOP)
        outcome = info["outcome"]
    assert outcome in ("landed_tilted", "landed_off_pad", "crashed")
    assert not info["is_success"]


def test_flying_away_ends_the_episode_with_the_crash_penalty():
    env = gym.make("LunarLanding-v0", gravity=1.0)
    env.reset(seed=0)
    for _ in range(200):
        _, reward, terminated, _, info = env.step(public.FIRE_MAIN)
        if terminated:
            break
    assert info["outcome"] == "out_of_bounds" and reward == -100.0


def test_time_limit_truncates_at_1000_steps():
    env = gym.make("LunarLanding-v0", gravity=1.0, main_engine_fuel_rate=0.0,
                   initial_velocity_spread=0.0)
    assert env.spec.max_episode_steps == 1000
    env.reset(seed=0)
    # Hover: fire the main engine just often enough, never touching down.
    steps, truncated = 0, False
    while not truncated:
        _, _, terminated, truncated, _ = env.step(
            public.FIRE_MAIN if observation_vy(env) < 0 else public.NOOP)
        assert not terminated
        steps += 1
    assert steps == 1000


def observation_vy(env) -> float:
    return env.unwrapped.world.kinematics()[3]


@pytest.mark.parametrize("action", [0, 3, np.int64(2), np.int32(1), np.array(2),
                                    np.uint8(1)])
def test_discrete_actions_accept_ints_as_v3_does(action):
    env = gym.make("LunarLanding-v0")
    env.reset(seed=0)
    env.step(action)


@pytest.mark.parametrize(("action", "error", "match"), [
    (4, ValueError, "must be in 0..3"),
    (-1, ValueError, "must be in 0..3"),
    (1.0, TypeError, "integer in 0..3, got float"),
    (True, TypeError, "integer in 0..3, got bool"),
    (np.array([1, 2]), TypeError, "integer in 0..3"),
    (np.float32(2.0), TypeError, "got dtype float32"),
    ("2", TypeError, "integer in 0..3, got str"),
])
def test_bad_discrete_actions_raise(action, error, match):
    env = gym.make("LunarLanding-v0").unwrapped
    env.reset(seed=0)
    with pytest.raises(error, match=match):
        env.step(action)


@pytest.mark.parametrize("action", [np.array([0.5, -0.7], np.float32),
                                    np.array([0.5, -0.7], np.float64), [0.5, -0.7],
                                    np.array([1, 0]), np.array([0.5, -0.7], np.float16)])
def test_continuous_actions_accept_any_real_dtype(action):
    env = gym.make("LunarLanding-v0", continuous=True).unwrapped
    env.reset(seed=0)
    env.step(action)


def test_continuous_actions_are_clipped_like_v3():
    clipped, raw = (gym.make("LunarLanding-v0", continuous=True).unwrapped for _ in range(2))
    clipped.reset(seed=0)
    raw.reset(seed=0)
    a = clipped.step(np.array([1.0, -1.0]))
    b = raw.step(np.array([7.0, -np.inf]))
    assert a[0].tobytes() == b[0].tobytes() and a[1] == b[1]


@pytest.mark.parametrize(("action", "error", "match"), [
    (np.array([np.nan, 0.0]), ValueError, "NaN"),
    (np.array([0.1, 0.2, 0.3]), ValueError, r"shape \(2,\), got shape \(3,\)"),
    (0.5, ValueError, r"shape \(2,\), got shape \(\)"),
    (np.array(["a", "b"]), TypeError, "real numbers"),
    (np.array([True, False]), TypeError, "real numbers"),
])
def test_bad_continuous_actions_raise(action, error, match):
    env = gym.make("LunarLanding-v0", continuous=True).unwrapped
    env.reset(seed=0)
    with pytest.raises(error, match=match):
        env.step(action)


def test_stepping_before_reset_or_after_the_end_raises():
    env = LunarLandingEnv()
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)
    env = LunarLandingEnv(gravity=1.0)
    env.reset(seed=0)
    terminated = False
    while not terminated:
        *_, terminated, _, _ = env.step(public.FIRE_MAIN)
    with pytest.raises(RuntimeError, match="episode has ended"):
        env.step(0)


def test_reset_rejects_options():
    with pytest.raises(ValueError, match="no reset options"):
        LunarLandingEnv().reset(seed=0, options={"gravity": 3.0})


def test_runs_under_sb3_vec_env_and_gymnasium_async_vector_env():
    vec = make_vec_env("LunarLanding-v0", n_envs=2, seed=0, env_kwargs={"gravity": 3.71})
    vec.reset()
    for _ in range(20):
        vec.step(np.array([2, 0]))
    vec.close()
    async_env = gym.make_vec("LunarLanding-v0", num_envs=2, vectorization_mode="async",
                             vector_kwargs={"context": "spawn"}, continuous=True)
    observations, _ = async_env.reset(seed=0)
    assert observations.shape == (2, 8)
    async_env.step(np.zeros((2, 2), np.float32))
    async_env.close()
