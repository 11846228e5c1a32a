import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnvWrapper, VecNormalize

import exgen  # noqa: F401
from exgen.agents.records import EpisodeLog, read_log
from exgen.agents.reward_shaping import GiveUp, Penalties, check_shaping, env_wrapper, shape_rewards
from exgen.agents.vec_log import EpisodeLogVecEnv
from exgen.envs.city import public
from exgen.envs.city.heuristic import drive


def test_the_learner_pays_the_penalty_and_the_log_keeps_the_envs_returns(tmp_path):
    log = EpisodeLog(tmp_path, "LunarLanding-v0")
    inner = EpisodeLogVecEnv(DummyVecEnv([lambda: gym.make("LunarLanding-v0")]), log,
                             "ppo", 10_000)
    shaped = Penalties(inner, step_penalty=0.25)
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
        Penalties(venv, step_penalty=penalty)


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
    shaped = shape_rewards(inner, {"give_up_after_steps": 7, "give_up_penalty": 3.0})
    shaped.seed(3)
    shaped.reset()
    paid = []
    while not read_log(log.path):
        _, reward, _, _ = shaped.step(np.array([BRAKE]))
        paid.append(float(reward[0]))
    row = read_log(log.path)[0]
    assert row["outcome"] == "gave_up" and int(row["l"]) == 7 and row["is_success"] == "0"
    assert float(row["r"]) == 0.0  # the env's own return: a parked car earns nothing
    assert paid == [0.0] * 6 + [-3.0]  # the learner alone pays for giving up
    log.close()


def test_a_learner_pays_for_speeding_above_the_limit(tmp_path):
    log = EpisodeLog(tmp_path, "CityDriving-v0")
    make = lambda: gym.make("CityDriving-v0", preset="empty", continuous=False,  # noqa: E731
                            speed_limit_mps=4.0)
    inner = EpisodeLogVecEnv(DummyVecEnv([make]), log, "ppo", 10_000)
    shaped = shape_rewards(inner, {"speeding_penalty": 0.5}, "CityDriving-v0")
    inner.seed(3)
    inner.reset()
    raw = DummyVecEnv([make])  # the same episode, unshaped
    raw.seed(3)
    raw.reset()
    speeds = []
    for _ in range(40):
        _, reward, _, infos = shaped.step(np.array([THROTTLE]))
        _, raw_reward, _, _ = raw.step(np.array([THROTTLE]))
        speeds.append(infos[0]["speed_mps"])
        expected = raw_reward[0] - 0.5 * max(0.0, infos[0]["speed_mps"] - 4.0)
        assert reward[0] == pytest.approx(expected, abs=1e-5)
    assert speeds[0] < 4.0 < speeds[-1]  # paid nothing at first, then for the excess
    with pytest.raises(ValueError, match="speeding_penalty needs an env with a speed limit"):
        check_shaping({"speeding_penalty": 1.0}, "LunarLanding-v0")
    with pytest.raises(ValueError, match="speeding_penalty must be a number >= 0"):
        check_shaping({"speeding_penalty": -1.0}, "CityDriving-v0")
    log.close()


def test_the_headway_is_the_gap_to_the_nearest_hit_in_the_cars_path():
    from exgen.agents.reward_shaping import LidarLayout, _LidarPath, stopping_speed

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
    assert stopping_speed(np.array([10.0, 1.0, np.inf])).tolist() == [8.0, 0.0, np.inf]


def test_a_learner_pays_for_driving_faster_than_it_could_stop(tmp_path):
    make = lambda: gym.make("CityDriving-v0", preset="empty", continuous=False)  # noqa: E731
    shaped = shape_rewards(DummyVecEnv([make]), {"headway_penalty": 0.5}, "CityDriving-v0")
    raw = DummyVecEnv([make])  # the same episode, unshaped
    for venv in (shaped, raw):
        venv.seed(3)
        venv.reset()
    paid, done = [], False
    while not done:  # full throttle down a street, into whatever ends it
        _, reward, dones, infos = shaped.step(np.array([THROTTLE]))
        _, raw_reward, _, _ = raw.step(np.array([THROTTLE]))
        paid.append(raw_reward[0] - reward[0])
        done = dones[0]
    assert infos[0]["outcome"] == "collision"
    assert paid[0] == 0.0 and max(paid) > 5.0  # free while clear, dear when closing in
    peak = int(np.argmax(paid))  # closing in on the end of the street, ever dearer
    assert peak > 10 and np.all(np.diff(paid[peak - 10:peak + 1]) > 0)
    with pytest.raises(ValueError, match="headway_penalty needs an env with a lidar"):
        check_shaping({"headway_penalty": 1.0}, "LunarLanding-v0")
    with pytest.raises(ValueError, match="headway_penalty must be a number >= 0"):
        check_shaping({"headway_penalty": -1.0}, "CityDriving-v0")


LEFT_THROTTLE = public.DISCRETE_ACTIONS.index((1.0, 1.0))


@pytest.mark.parametrize("free_m", [0.0, 0.4])
def test_a_learner_pays_per_metre_off_its_lane_centre(free_m):
    make = lambda: gym.make("CityDriving-v0", preset="empty", continuous=False)  # noqa: E731
    table = {"lane_offset_penalty": 0.3, "lane_offset_free_m": free_m}
    shaped = shape_rewards(DummyVecEnv([make]), table, "CityDriving-v0")
    raw = DummyVecEnv([make])  # the same episode, unshaped
    for venv in (shaped, raw):
        venv.seed(3)
        venv.reset()
    paid, offsets = [], []
    for _ in range(15):  # drift left of the lane, off its centre
        observation, reward, dones, _ = shaped.step(np.array([LEFT_THROTTLE]))
        _, raw_reward, _, _ = raw.step(np.array([LEFT_THROTTLE]))
        assert not dones[0]
        paid.append(raw_reward[0] - reward[0])
        offsets.append(abs(observation[0, public.LANE_OFFSET]) * public.LANE_OFFSET_SCALE_M)
    offsets = np.array(offsets)
    assert offsets.min() < free_m < 0.5 < offsets.max() or free_m == 0.0
    np.testing.assert_allclose(paid, 0.3 * np.maximum(offsets - free_m, 0.0), rtol=1e-5,
                               atol=1e-6)
    with pytest.raises(ValueError, match="lane_offset_free_m needs lane_offset_penalty"):
        check_shaping({"lane_offset_free_m": 0.8}, "CityDriving-v0")
    with pytest.raises(ValueError, match="lane_offset_penalty needs an observation with a "
                                         "lane offset"):
        check_shaping({"lane_offset_penalty": 1.0}, "LunarLanding-v0")
    with pytest.raises(ValueError, match="lane_offset_penalty must be a number >= 0"):
        check_shaping({"lane_offset_penalty": -0.1}, "CityDriving-v0")


def test_a_driver_making_progress_does_not_give_up():
    env = GiveUp(gym.make("CityDriving-v0", preset="empty", continuous=False), patience=5)
    env.reset(seed=3)
    for _ in range(60):
        _, _, terminated, truncated, info = env.step(THROTTLE)
        assert info["outcome"] != "gave_up" and not (terminated or truncated)


def played(table: dict, controller, max_steps: int = 3000) -> tuple[str, int]:
    """The outcome and length of a CityDriving-v0 episode (empty streets, seed 3, at
    most ``max_steps``) in ``table``'s give-up wrapper, acting
    ``controller(observation, info, env)``."""
    env = env_wrapper(table, "CityDriving-v0")(
        gym.make("CityDriving-v0", preset="empty", continuous=True))
    observation, info = env.reset(seed=3)
    for steps in range(1, max_steps + 1):  # noqa: B007 (the count is read after the loop)
        observation, _, terminated, truncated, step_info = env.step(
            controller(observation, info, env))
        if terminated or truncated:
            break
    return step_info["outcome"], steps


def creeping(observation, info, env):
    """Throttle below 0.5 m/s, brake above it."""
    slow = observation[public.SPEED] * public.SPEED_SCALE_MPS < 0.5  # m/s
    return np.array([0.0, 1.0 if slow else -1.0], np.float32)


def scripted(observation, info, env):
    """The scripted city driver (``exgen.envs.city.heuristic``)."""
    return drive(observation, env.get_wrapper_attr("lidar_rays"),
                 info["map"]["driving_side"], env.get_wrapper_attr("lidar_range_m"))


def braking(observation, info, env):
    return np.array([0.0, -1.0], np.float32)


def test_a_margin_makes_a_creeping_driver_give_up():
    outcomes = {margin: played({"give_up_after_steps": 50, "give_up_margin": margin},
                               creeping, max_steps=399) for margin in (0.0, 1.0)}
    assert outcomes[0.0] == ("driving", 399)  # each metre crept is a new high
    assert outcomes[1.0][0] == "gave_up" and outcomes[1.0][1] < 399  # not 10 m per 5 s


def test_waiting_at_a_red_light_is_excused_and_standing_anywhere_else_is_not():
    patient = {"give_up_after_steps": 30}
    excusing = {**patient, "give_up_excuse_waiting": True}
    # The heuristic driver stops at a red light for longer than 3 s...
    assert played(patient, scripted)[0] == "gave_up"
    assert played(excusing, scripted)[0] == "arrived"
    # ...but a car that stands where nothing makes it wait still gives up.
    assert played(excusing, braking) == ("gave_up", 30)


def test_give_up_excuse_waiting_is_refused_where_it_cannot_work():
    with pytest.raises(ValueError, match="give_up_excuse_waiting must be true or false"):
        check_shaping({"give_up_after_steps": 30, "give_up_excuse_waiting": 1})
    with pytest.raises(ValueError, match="give_up_excuse_waiting needs give_up_after_steps"):
        check_shaping({"give_up_excuse_waiting": True}, "CityDriving-v0")
    with pytest.raises(ValueError, match="give_up_excuse_waiting needs an env whose waits "
                                         "it knows: CityDriving-v0, not LunarLanding-v0"):
        check_shaping({"give_up_after_steps": 30, "give_up_excuse_waiting": True},
                      "LunarLanding-v0")
    with pytest.raises(ValueError, match="give_up_excuse_waiting needs the env id"):
        env_wrapper({"give_up_after_steps": 30, "give_up_excuse_waiting": True})


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
    check_shaping({"give_up_on_infraction": True, "give_up_penalty": 5.0}, "CityDriving-v0")


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
    ({"give_up_after_steps": 10, "give_up_penalty": -1}, "give_up_penalty must be a number"),
    ({"give_up_penalty": 5.0}, "give_up_penalty needs give_up_after_steps"),
    ({"give_up_margin": 1.0}, "give_up_margin needs give_up_after_steps"),
    ({"give_up_after_steps": 10, "give_up_margin": -1}, "give_up_margin must be a number"),
])
def test_bad_give_up_settings_are_refused_by_name(table, message):
    with pytest.raises(ValueError, match=message):
        check_shaping(table)


def test_lane_keeping_is_a_potential_difference_the_log_never_sees(tmp_path):
    log = EpisodeLog(tmp_path, "CityDriving-v0")
    make = lambda: GiveUp(gym.make("CityDriving-v0", preset="empty", continuous=False),  # noqa: E731
                          patience=30)
    inner = EpisodeLogVecEnv(DummyVecEnv([make]), log, "ppo", 10_000)
    shaped = shape_rewards(inner, {"lane_keeping": 2.0, "gamma": 1.0}, "CityDriving-v0")
    shaped.seed(5)
    first = shaped.reset()[0]
    rng = np.random.default_rng(0)
    paid = 0.0
    while not read_log(log.path):
        _, reward, _, _ = shaped.step(rng.integers(9, size=1))
        paid += float(reward[0])
    # Undiscounted, the potentials telescope: phi(terminal) = 0 minus phi(first state).
    start = 2.0 * (abs(first[public.LANE_HEADING]) + abs(first[public.LANE_OFFSET]))
    assert paid == pytest.approx(float(read_log(log.path)[0]["r"]) + start, abs=1e-3)
    log.close()


def test_reward_weights_pay_each_term_weighed_and_the_log_keeps_the_envs_return(tmp_path):
    log = EpisodeLog(tmp_path, "CityDriving-v0")
    inner = EpisodeLogVecEnv(DummyVecEnv([lambda: gym.make(
        "CityDriving-v0", preset="empty", continuous=False)]), log, "ppo", 10_000)
    shaped = shape_rewards(inner, {"reward_weights": {"progress": 10.0, "collision": 0.5}},
                           "CityDriving-v0")
    shaped.seed(3)
    shaped.reset()
    terms = {"progress": 0.0, "infractions": 0.0, "collision": 0.0, "arrival": 0.0}
    paid = 0.0
    while not read_log(log.path):  # straight on at full throttle, into a building
        _, reward, _, infos = shaped.step(np.array([THROTTLE]))
        paid += float(reward[0])
        for term, value in infos[0]["reward_terms"].items():
            terms[term] += value
    assert abs(terms["progress"]) > 1.0 and terms["collision"] == -20.0
    expected = 10 * terms["progress"] + terms["infractions"] + 0.5 * terms["collision"]
    assert paid == pytest.approx(expected, rel=1e-4)
    assert float(read_log(log.path)[0]["r"]) == pytest.approx(sum(terms.values()), rel=1e-4)
    log.close()


@pytest.mark.parametrize("table, env_id, message", [
    ({"reward_weights": {"speed": 2.0}}, "CityDriving-v0", "unknown term.*speed.*valid: progress"),
    ({"reward_weights": {"progress": -1.0}}, "CityDriving-v0", "reward_weights.progress must be"),
    ({"reward_weights": 2.0}, "CityDriving-v0", "reward_weights must be a table"),
    ({"reward_weights": {"progress": 2.0}}, "LunarLanding-v0", "reports its reward terms"),
])
def test_bad_reward_weights_are_refused_by_name(table, env_id, message):
    with pytest.raises(ValueError, match=message):
        check_shaping(table, env_id)


def test_lane_keeping_reads_the_vector_of_a_raster_observation():
    inner = DummyVecEnv([lambda: gym.make("CityDriving-v0", preset="empty", continuous=False,
                                          observe_raster=True, lidar_rays=8)])
    shaped = shape_rewards(inner, {"lane_keeping": 2.0, "gamma": 1.0}, "CityDriving-v0")
    shaped.seed(5)
    first = shaped.reset()["vector"][0]
    observations, reward, _, infos = shaped.step(np.array([LEFT_THROTTLE]))
    after = observations["vector"][0]
    phi = lambda v: -2.0 * (abs(v[public.LANE_HEADING]) + abs(v[public.LANE_OFFSET]))  # noqa: E731
    assert phi(after) != phi(first)
    assert float(reward[0]) == pytest.approx(
        sum(infos[0]["reward_terms"].values()) + phi(after) - phi(first), abs=1e-4)


def test_lane_keeping_is_refused_for_an_env_without_lanes():
    with pytest.raises(ValueError, match="lane_keeping needs an observation with a lane"):
        check_shaping({"lane_keeping": 1.0}, "LunarLanding-v0")
    with pytest.raises(ValueError, match="lane_keeping must be a number >= 0"):
        check_shaping({"lane_keeping": -1.0}, "CityDriving-v0")


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
_CITY_GIVE_UP = {"give_up_after_steps": 15, "give_up_margin": 0.5,
                 "give_up_excuse_waiting": True, "give_up_on_infraction": True,
                 "give_up_penalty": 1.0, "step_penalty": 0.01, "speeding_penalty": 0.1,
                 "headway_penalty": 0.1, "lane_offset_penalty": 0.1,
                 "lane_offset_free_m": 0.8, "normalize_reward": True}


@pytest.mark.parametrize("env_id, kwargs, table, reads", [
    ("CityDriving-v0", _CITY,
     {**_CITY_GIVE_UP, "lane_keeping": 0.5,
      "reward_weights": {"progress": 2.0, "collision": 0.5}},
     set(public.LEARNER_INFO) - {"route_completion"}),
    ("CityDriving-v0", _CITY,
     {**_CITY_GIVE_UP, "route_reward": True, "ttc_s": 1.5, "terminal_penalty": 1.0},
     set(public.LEARNER_INFO) - {"reward_terms"}),
    ("LunarLanding-v0", {},
     {"give_up_after_steps": 15, "give_up_margin": 0.5, "give_up_penalty": 1.0,
      "step_penalty": 0.01, "normalize_reward": True}, {"outcome"}),
])
def test_learner_only_wrappers_read_only_their_worlds_learner_info(env_id, kwargs, table,
                                                                   reads):
    from importlib import import_module

    world = import_module(f"exgen.envs.{'city' if env_id.startswith('City') else 'lunar'}"
                          ".public")
    env_reads, vec_reads = set(), set()
    wrap = env_wrapper(table, env_id)  # GiveUp (with CityWaits in the city)
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
    assert "outcome" in vec_reads  # the recording works: Penalties looks for a give-up
    assert env_reads | vec_reads >= reads
