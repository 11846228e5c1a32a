import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnvWrapper, VecNormalize

import exgen  # noqa: F401
from exgen.agents.records import EpisodeLog, read_log
from exgen.agents.reward_shaping import (
    GiveUp,
    StepPenalty,
    check_shaping,
    env_wrapper,
    shape_rewards,
)
from exgen.agents.vec_log import EpisodeLogVecEnv
from exgen.envs.city import public


def test_the_learner_pays_the_penalty_and_the_log_keeps_the_envs_returns(tmp_path):
    log = EpisodeLog(tmp_path, "LunarLanding-v0")
    inner = EpisodeLogVecEnv(DummyVecEnv([lambda: gym.make("LunarLanding-v0")]), log,
                             "ppo", 10_000)
    shaped = StepPenalty(inner, 0.25)
    shaped.seed(3)
    shaped.reset()
    paid, steps = 0.0, 0
    while not read_log(log.path):
        _, reward, _, _ = shaped.step(np.array([0]))
        paid += float(reward[0])
        steps += 1
    logged = float(read_log(log.path)[0]["r"])
    assert paid == pytest.approx(logged - 0.25 * steps)
    log.close()


@pytest.mark.parametrize("penalty", [-0.1, float("nan")])
def test_a_negative_or_missing_penalty_is_refused(penalty):
    venv = DummyVecEnv([lambda: gym.make("LunarLanding-v0")])
    with pytest.raises(ValueError, match="step_penalty must be a number >= 0"):
        StepPenalty(venv, penalty)


def test_normalized_rewards_reach_the_learner_only(tmp_path):
    log = EpisodeLog(tmp_path, "LunarLanding-v0")
    inner = EpisodeLogVecEnv(DummyVecEnv([lambda: gym.make("LunarLanding-v0")]), log,
                             "ppo", 10_000)
    shaped = shape_rewards(inner, {"normalize_reward": True, "gamma": 0.99})
    assert isinstance(shaped, VecNormalize) and not shaped.norm_obs
    inner.seed(3)
    raw_observation = inner.reset()
    shaped.seed(3)
    assert np.array_equal(shaped.reset(), raw_observation)  # observations untouched
    paid = []
    while not read_log(log.path):
        _, reward, _, _ = shaped.step(np.array([0]))
        paid.append(float(reward[0]))
    logged = float(read_log(log.path)[0]["r"])
    assert sum(paid) != pytest.approx(logged)  # the learner saw scaled rewards ...
    assert shaped.get_original_reward() is not None  # ... and the log the env's own
    log.close()


BRAKE = public.DISCRETE_ACTIONS.index((0.0, -1.0))  # steer straight, brake
THROTTLE = public.DISCRETE_ACTIONS.index((0.0, 1.0))


def test_a_learner_that_stands_still_gives_up_and_pays_only_in_its_own_rewards(tmp_path):
    log = EpisodeLog(tmp_path, "CityDriving-v0")
    make = lambda: GiveUp(gym.make("CityDriving-v0", preset="empty", continuous=False),  # noqa: E731
                          patience=7)
    inner = EpisodeLogVecEnv(DummyVecEnv([make]), log, "ppo", 10_000)
    shaped = shape_rewards(inner, {"give_up_after_steps": 7, "step_penalty": 0.5})
    shaped.seed(3)
    shaped.reset()
    paid = []
    while not read_log(log.path):
        _, reward, _, _ = shaped.step(np.array([BRAKE]))
        paid.append(float(reward[0]))
    row = read_log(log.path)[0]
    assert row["outcome"] == "gave_up" and int(row["l"]) == 7 and row["is_success"] == "0"
    assert float(row["r"]) == 0.0  # the env's own return: a parked car earns nothing
    assert paid == [-0.5] * 7  # the learner alone pays for standing still
    log.close()


def test_the_gap_ahead_is_to_the_nearest_hit_in_the_cars_path():
    from exgen.agents.reward_shaping import LidarLayout, _LidarPath

    # Lane heading in entry 0 (units of pi rad), 32 rays from entry 1.
    path = _LidarPath(LidarLayout(1, 0, np.pi, 2.3, 0.95), rays=32, range_m=50.0)

    def seen(ray: int, distance_m: float, lane_heading_rad: float = 0.0) -> np.ndarray:
        vector = np.full((1, 33), 1.0)  # every ray saturated: nothing seen
        vector[0, 0] = lane_heading_rad / np.pi
        vector[0, 1 + ray] = distance_m / 50.0
        return vector

    assert path.gap(seen(0, 50.0))[0] == np.inf
    assert path.gap(seen(0, 12.3))[0] == pytest.approx(10.0)  # straight ahead
    assert path.gap(seen(8, 1.0))[0] == np.inf  # a kerb 1 m to the left is not ahead
    assert path.gap(seen(16, 3.0))[0] == np.inf  # behind
    assert path.gap(seen(4, 2.0))[0] == np.inf  # beside the body, not in its path
    assert path.gap(seen(0, 1.5))[0] == 0.0  # touching the front
    # Ray 1 (11.25 degrees left) sees into the path only near the car's axis.
    angle = 2 * np.pi / 32
    inside = 0.9 * 0.95 / np.sin(angle)
    assert path.gap(seen(1, inside))[0] == pytest.approx(inside * np.cos(angle) - 2.3)
    assert path.gap(seen(31, inside))[0] == pytest.approx(inside * np.cos(angle) - 2.3)
    assert path.gap(seen(1, 1.1 * 0.95 / np.sin(angle)))[0] == np.inf
    # The path runs along the lane: turned 11.25 degrees right of it, the car's ray 1
    # looks straight down the lane, and its ray 0 at a kerb 1.5 m to the right does not.
    assert path.gap(seen(1, 12.3, -angle))[0] == pytest.approx(10.0)
    assert path.gap(seen(0, 1.5 / np.sin(angle), -angle))[0] == np.inf


LEFT_THROTTLE = public.DISCRETE_ACTIONS.index((1.0, 1.0))


def test_a_driver_making_progress_does_not_give_up():
    env = GiveUp(gym.make("CityDriving-v0", preset="empty", continuous=False), patience=5)
    env.reset(seed=3)
    for _ in range(60):
        _, _, terminated, truncated, info = env.step(THROTTLE)
        assert info["outcome"] != "gave_up" and not (terminated or truncated)


def test_a_learner_that_breaks_a_rule_gives_up_at_once():
    env = GiveUp(gym.make("CityDriving-v0", preset="empty", continuous=False), None,
                 ("red_light", "wrong_lane", "off_road"))
    env.reset(seed=3)
    for steps in range(1, 200):  # noqa: B007 (the count is read after the loop)
        _, _, terminated, truncated, info = env.step(LEFT_THROTTLE)
        broken = sum(info["infractions"][name] for name in env.infractions)
        if terminated or truncated:
            break
        assert broken == 0
    assert info["outcome"] == "gave_up" and broken == 1 and steps > 1
    assert info["infractions"]["collision_static"] == 0  # it gave up, it did not crash


def test_give_up_on_infraction_needs_an_env_that_counts_them():
    with pytest.raises(ValueError, match="give_up_on_infraction needs an env that counts"):
        check_shaping({"give_up_on_infraction": True}, "LunarLanding-v0")
    with pytest.raises(ValueError, match="give_up_on_infraction must be true, false or a list"):
        check_shaping({"give_up_on_infraction": 1}, "CityDriving-v0")
    with pytest.raises(ValueError, match=r"unknown infraction\(s\) speeding of CityDriving-v0; "
                                         r"valid: red_light, wrong_lane, off_road"):
        check_shaping({"give_up_on_infraction": ["red_light", "speeding"]}, "CityDriving-v0")
    check_shaping({"give_up_on_infraction": True}, "CityDriving-v0")


def test_a_list_of_infractions_gives_up_only_at_those():
    wrap = env_wrapper({"give_up_on_infraction": ["red_light"]}, "CityDriving-v0")
    env = wrap(gym.make("CityDriving-v0", preset="empty", continuous=False))
    assert env.infractions == ("red_light",)
    env.reset(seed=3)
    terminated = truncated = False
    while not (terminated or truncated):
        _, _, terminated, truncated, info = env.step(LEFT_THROTTLE)
    # It left its lane and the road (which true would give up at) and drove on to crash.
    assert info["infractions"]["wrong_lane"] + info["infractions"]["off_road"] > 0
    assert info["outcome"] != "gave_up"


@pytest.mark.parametrize("table, message", [
    ({"give_up_after_steps": 0}, "give_up_after_steps must be a whole number"),
    ({"give_up_after_steps": 2.5}, "give_up_after_steps must be a whole number"),
    ({"give_up_after_steps": True}, "give_up_after_steps must be a whole number"),
    ({"step_penalty": -1}, "step_penalty must be a number >= 0"),
    ({"normalize_reward": 1}, "normalize_reward must be true or false"),
])
def test_bad_shaping_settings_are_refused_by_name(table, message):
    with pytest.raises(ValueError, match=message):
        check_shaping(table)


class _ReadKeys(dict):
    """An ``info`` dict that notes in ``read`` every key looked up in it."""

    def __init__(self, info, read):
        super().__init__(info)
        self.read = read

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        self.read.add(key)
        return super().get(key, default)

    def __contains__(self, key):
        self.read.add(key)
        return super().__contains__(key)


class _EnvReads(gym.Wrapper):
    """Hands the wrappers above it an ``info`` that notes the keys they read."""

    def __init__(self, env, read):
        super().__init__(env)
        self.read = read

    def reset(self, **kwargs):
        observation, info = self.env.reset(**kwargs)
        return observation, _ReadKeys(info, self.read)

    def step(self, action):
        *step, info = self.env.step(action)
        return (*step, _ReadKeys(info, self.read))


class _VecReads(VecEnvWrapper):
    """The same for the VecEnv wrappers above it."""

    def __init__(self, venv, read):
        super().__init__(venv)
        self.read = read

    def reset(self):
        return self.venv.reset()

    def step_wait(self):
        observations, rewards, dones, infos = self.venv.step_wait()
        return observations, rewards, dones, [_ReadKeys(i, self.read) for i in infos]


#: The keys SB3's VecEnv adds to a step's info (an episode's last observation and
#: whether the time limit ended it): bookkeeping of the vec env, not the world's.
SB3_VEC_INFO = ("terminal_observation", "TimeLimit.truncated")


_CITY = {"preset": "empty", "continuous": False, "speed_limit_mps": 4.0}
_CITY_TABLE = {"give_up_after_steps": 5, "give_up_on_infraction": True, "step_penalty": 0.01,
               "normalize_reward": True, "route_reward": True, "ttc_s": 1.5,
               "terminal_penalty": 1.0, "wrong_lane_penalty": 5.0}


@pytest.mark.parametrize("env_id, kwargs, table, reads", [
    ("CityDriving-v0", _CITY, _CITY_TABLE, set(public.LEARNER_INFO)),
    ("LunarLanding-v0", {},
     {"give_up_after_steps": 15, "step_penalty": 0.01, "normalize_reward": True}, set()),
])
def test_learner_only_wrappers_read_only_their_worlds_learner_info(env_id, kwargs, table,
                                                                   reads):
    from importlib import import_module

    world = import_module(f"exgen.envs.{'city' if env_id.startswith('City') else 'lunar'}"
                          ".public")
    env_reads, vec_reads = set(), set()
    wrap = env_wrapper(table, env_id)  # GiveUp
    venv = DummyVecEnv([lambda: wrap(_EnvReads(gym.make(env_id, **kwargs), env_reads))])
    shaped = shape_rewards(_VecReads(venv, vec_reads), table, env_id)
    shaped.seed(5)
    shaped.reset()
    actions = np.random.default_rng(5)
    dones = 0
    for _ in range(120):
        _, _, done, _ = shaped.step(np.array([actions.integers(venv.action_space.n)]))
        dones += int(done[0])
    assert dones >= 2  # episodes ended, given up or not: their keys were read too
    assert env_reads <= set(world.LEARNER_INFO)
    assert vec_reads <= set(world.LEARNER_INFO) | set(SB3_VEC_INFO)
    assert env_reads | vec_reads >= reads  # each key the world lists is read


#: Keys of a learner-only shaping the city's PPO no longer uses, removed with their code.
REMOVED_KEYS = {"give_up_penalty": 50.0, "speeding_penalty": 0.2, "headway_penalty": 0.5,
                "lane_offset_penalty": 0.1, "lane_offset_free_m": 0.8, "give_up_margin": 1.0,
                "give_up_excuse_waiting": True, "reward_weights": {"progress": 10.0},
                "lane_keeping": 1.0}


@pytest.mark.parametrize("key", sorted(REMOVED_KEYS))
def test_a_removed_shaping_key_is_an_unknown_hyperparameter(key):
    from exgen.agents.sb3 import check_hyperparameters

    with pytest.raises(ValueError, match=f"unknown ppo hyperparameter '{key}'; valid: "):
        check_hyperparameters("ppo", "CityDriving-v0", {key: REMOVED_KEYS[key]})
