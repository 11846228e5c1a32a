"""``CityDriving-v0``'s native vector env against N single envs, bit for bit.

``gym.make_vec("CityDriving-v0", num_envs=N, vectorization_mode="vector_entry_point")``
steps N cities as one batch. With the same seeds and actions it must give what N
single envs give (``gym.make``), step after step and across Gymnasium's next-step
autoresets: observations, rewards, ends and every entry of every ``info``, compared
with ``==``. Then Gymnasium's vector conventions, an env checker for vector envs,
seeding, partial resets, rendering and bad input.
"""

from __future__ import annotations

import inspect
import re
from collections import Counter
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

from exgen.envs.city import public
from exgen.envs.city.heuristic import drive
from exgen.envs.city.vector_env import CityDrivingVectorEnv
from tests.envs.city.v0_replay import info_digest

ENV_ID = "CityDriving-v0"
#: Map seed 1's first two intersections: routes of one block, for quick arrivals and
#: time limits of about 700 steps (60 s plus the block at a quarter of 35 m/s).
SHORT_ROUTE = {"map_seed": 1, "start": (0, 0), "destination": (1, 0),
               "speed_limit_mps": 35.0, "min_route_m": 0.0}


# ----------------------------------------------------------------------- helpers
def make_vec(num_envs: int, **fields: Any) -> CityDrivingVectorEnv:
    """The native vector env of ``num_envs`` cities, through ``gym.make_vec``."""
    return gym.make_vec(ENV_ID, num_envs=num_envs, vectorization_mode="vector_entry_point",
                        **fields)


def city_info(infos: dict[str, Any], i: int) -> dict[str, Any]:
    """City ``i``'s own ``info``, rebuilt from the vector infos and their ``_key`` masks."""
    return {key: city_info(value, i) if isinstance(value, dict) else value[i]
            for key, value in infos.items()
            if f"_{key}" in infos and infos[f"_{key}"][i]}


class _InfoFolder(gym.vector.VectorEnv):
    """Just enough of a vector env for Gymnasium's own ``VectorEnv._add_info``."""

    def __init__(self, num_envs: int) -> None:
        self.num_envs = num_envs


def gymnasium_infos(infos: list[dict[str, Any] | None]) -> dict[str, Any]:
    """The cities' infos (None: none) folded city after city by ``VectorEnv._add_info``."""
    folder, folded = _InfoFolder(len(infos)), {}
    for i, info in enumerate(infos):
        if info is not None:
            folded = folder._add_info(folded, info, i)
    return folded


def same_vector_infos(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two vector infos have the same keys, masks, dtypes and values, to the bit."""
    if a.keys() != b.keys():
        return False
    for key, value in a.items():
        other = b[key]
        if isinstance(value, dict) or isinstance(other, dict):
            if not (isinstance(value, dict) and isinstance(other, dict)
                    and same_vector_infos(value, other)):
                return False
        elif value.dtype != other.dtype or value.shape != other.shape:
            return False
        elif value.dtype == object:
            if info_digest({"v": list(value)}) != info_digest({"v": list(other)}):
                return False
        elif value.tobytes() != other.tobytes():
            return False
    return True


def city_observation(observations: Any, i: int) -> Any:
    """City ``i``'s observation out of the batch (a Box or a Dict observation)."""
    if isinstance(observations, dict):
        return {key: value[i] for key, value in observations.items()}
    return observations[i]


def same_observation(a: Any, b: Any) -> bool:
    """Whether two observations are equal to the bit, with equal dtypes."""
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_observation(a[k], b[k]) for k in a)
    return a.dtype == b.dtype and a.shape == b.shape and bool(np.array_equal(a, b))


def choose(driver: str, observation: Any, side: str, rng: np.random.Generator,
           continuous: bool, lidar_rays: int) -> np.ndarray | int:
    """One action: the scripted driver's (from the city's own observation), seeded random
    actions, random steering at two-thirds throttle (``reckless``: collisions) or
    full brakes (``brake``: timeouts); discrete envs get the nearest discrete action."""
    if driver == "scripted":
        vector = observation["vector"] if isinstance(observation, dict) else observation
        action = drive(vector, lidar_rays, side)
    elif driver == "random":
        action = rng.uniform(-1.0, 1.0, 2)
    elif driver == "reckless":
        action = np.array([rng.uniform(-1.0, 1.0), 0.66])
    else:
        action = np.array([0.0, -1.0])
    if continuous:
        return action.astype(np.float32)
    steer, pedal = (float(np.sign(np.round(a * 1.5))) for a in action)
    return public.DISCRETE_ACTIONS.index((steer, pedal))


class Twins:
    """A vector env of N cities and N single envs, reset and stepped alike and
    compared bit for bit at every call; ``outcomes`` counts the ended episodes."""

    def __init__(self, num_envs: int, fields: dict[str, Any],
                 drivers: tuple[str, ...] = ("random",), seed: int = 0,
                 cities: list[dict[str, Any]] | None = None) -> None:
        if cities is None:  # every city of ``fields``; else each of its own (of_cities)
            self.vec = make_vec(num_envs, **fields)
            self.singles = [gym.make(ENV_ID, **fields) for _ in range(num_envs)]
        else:
            own = [{**fields, **city} for city in cities]
            self.vec = CityDrivingVectorEnv.of_cities(own)
            self.singles = [gym.make(ENV_ID, **city) for city in own]
        self.n = num_envs
        self.continuous = isinstance(self.vec.single_action_space, gym.spaces.Box)
        self.lidar_rays = fields.get("lidar_rays", 32)
        self.drivers = [drivers[i % len(drivers)] for i in range(num_envs)]
        self.rngs = [np.random.default_rng([seed, i]) for i in range(num_envs)]
        self.ended = np.zeros(num_envs, bool)
        self.sides = ["right"] * num_envs
        self.observations: Any = None
        self.outcomes: Counter[str] = Counter()
        self.t = 0

    def reset(self, seed: int | list[int | None] | None = None,
              mask: np.ndarray | None = None) -> tuple[Any, dict[str, Any]]:
        options = None if mask is None else {"reset_mask": mask}
        observations, infos = self.vec.reset(seed=seed, options=options)
        mask = np.ones(self.n, bool) if mask is None else mask
        seeds = seed if isinstance(seed, list) else [
            None if seed is None else seed + i for i in range(self.n)]
        single_infos: list[dict[str, Any] | None] = [None] * self.n
        for i in np.flatnonzero(mask):
            observation, single_infos[i] = self.singles[i].reset(seed=seeds[i])
            self._compare(observations, infos, i, observation, single_infos[i], where="reset")
            self.ended[i] = False
        assert same_vector_infos(infos, gymnasium_infos(single_infos)), "reset infos"
        for i in np.flatnonzero(~mask):
            assert same_observation(city_observation(observations, i),
                                    city_observation(self.observations, i))
            assert city_info(infos, i) == {}
        self.observations = observations
        return observations, infos

    def actions(self) -> np.ndarray:
        """Each city's driver's action, from the city's own observation."""
        return np.array([choose(self.drivers[i], city_observation(self.observations, i),
                                self.sides[i], self.rngs[i], self.continuous,
                                self.lidar_rays) for i in range(self.n)])

    def step(self, actions: np.ndarray | None = None) -> tuple[Any, ...]:
        actions = self.actions() if actions is None else actions
        result = self.vec.step(actions)
        observations, rewards, terminations, truncations, infos = result
        single_infos = []
        for i, env in enumerate(self.singles):
            if self.ended[i]:
                observation, info = env.reset()
                reward, terminated, truncated = 0.0, False, False
            else:
                observation, reward, terminated, truncated, info = env.step(actions[i])
            single_infos.append(info)
            self._compare(observations, infos, i, observation, info, where=f"step {self.t}")
            assert (rewards[i], terminations[i], truncations[i]) == (
                reward, terminated, truncated), f"step {self.t}, city {i}"
            self.ended[i] = terminated or truncated
            if self.ended[i]:
                self.outcomes[info["outcome"]] += 1
        assert same_vector_infos(infos, gymnasium_infos(single_infos)), f"step {self.t} infos"
        self.observations = observations
        self.t += 1
        return result

    def run(self, steps: int) -> Counter[str]:
        for _ in range(steps):
            self.step()
        return self.outcomes

    def close(self) -> None:
        self.vec.close()
        for env in self.singles:
            env.close()

    def _compare(self, observations: Any, infos: dict[str, Any], i: int, observation: Any,
                 info: dict[str, Any], where: str) -> None:
        assert same_observation(city_observation(observations, i), observation), \
            f"{where}, city {i}: observation differs"
        rebuilt = city_info(infos, i)
        assert rebuilt.keys() == info.keys(), f"{where}, city {i}: info keys differ"
        assert info_digest(rebuilt) == info_digest(info), f"{where}, city {i}: info differs"
        if "map" in info:
            self.sides[i] = info["map"]["driving_side"]


@pytest.fixture
def twins():
    """Makes :class:`Twins`, and closes them after the test."""
    made: list[Twins] = []

    def make(num_envs: int, fields: dict[str, Any], **kwargs: Any) -> Twins:
        made.append(Twins(num_envs, fields, **kwargs))
        return made[-1]

    yield make
    for pair in made:
        pair.close()


# ------------------------------------------------------------------- equivalence
#: (fields, cities, drivers, steps): every context mix ends several episodes.
MIXES = {
    "rush_hour_and_jaywalkers_on_a_mixture_of_maps": (
        {"traffic_density": 5.0, "jaywalk_rate": 0.5, "pedestrian_density": 1.0,
         "map_seed": [1, 2, 3]}, 4, ("scripted", "reckless"), 300),
    "ice_and_left_hand_driving": (
        {"preset": ("ice", "left_hand", "rush_hour")}, 4, ("reckless", "scripted", "random"),
        300),
    "compact_on_the_left": ({"preset": ("compact", "left_hand")}, 3,
                            ("reckless", "scripted"), 300),
    "van_in_rush_hour": ({"preset": ("van", "rush_hour")}, 3, ("scripted", "reckless"), 300),
    "truck_discrete": ({"preset": ("truck", "discrete")}, 3, ("reckless", "scripted"), 300),
    "a_range_of_car_lengths": (
        {"car_length_m": (4.6, 7.0), "max_acceleration_mps2": (1.2, 3.9),
         "friction": (0.3, 1.0), "preset": "rush_hour"}, 4, ("scripted", "reckless"), 300),
    "downtown_map": ({"map_file": "downtown", "preset": "rush_hour"}, 3,
                     ("scripted", "reckless"), 300),
    "riverside_map_on_the_left": (
        {"map_file": "riverside", "driving_side": "left", "jaywalk_rate": 0.3}, 3,
        ("reckless", "scripted"), 300),
    "a_fresh_city_per_episode_with_route_and_context": (
        {"map_seed": None, "observe_route": True, "observe_context": True,
         "sensor_noise": 0.02, "preset": "one_ways"}, 3, ("scripted", "reckless"), 300),
    "road_users_with_noise_route_and_jaywalkers": (
        {"observe_road_users": True, "observe_route": True, "sensor_noise": 0.02,
         "traffic_density": 8.0, "pedestrian_density": 1.0, "jaywalk_rate": 0.5,
         "map_seed": [1, 2, 3]}, 4, ("scripted", "reckless"), 300),
    "the_car_ahead_with_noise_in_traffic": (
        {"observe_lead": True, "observe_route": True, "sensor_noise": 0.02,
         "traffic_density": 12.0, "map_seed": [4, 5]}, 3, ("scripted", "reckless"), 300),
    "raster_observations_and_discrete_actions": (
        {"observe_raster": True, "continuous": False, "preset": "small_blocks"}, 3,
        ("reckless", "random", "scripted"), 250),
}


@pytest.mark.parametrize("name", MIXES)
def test_n_cities_in_a_batch_are_n_single_envs_bit_for_bit(twins, name):
    fields, cities, drivers, steps = MIXES[name]
    # Any route length, so that the scripted driver arrives now and then.
    pair = twins(cities, {"min_route_m": 0.0, **fields}, drivers=drivers, seed=7)
    pair.reset(seed=11)
    outcomes = pair.run(steps)
    assert sum(outcomes.values()) >= 3, outcomes


@pytest.mark.slow
@pytest.mark.parametrize("name", MIXES)
def test_many_cities_over_many_episodes_are_single_envs_bit_for_bit(twins, name):
    fields, _, drivers, _ = MIXES[name]
    pair = twins(12, fields, drivers=(*drivers, "brake"), seed=70)
    pair.reset(seed=1100)
    outcomes = pair.run(1500)
    assert outcomes["collision"] >= 10, outcomes
    assert outcomes["arrived"] + outcomes["timeout"] >= 1, outcomes


def test_arrivals_collisions_and_timeouts_all_autoreset_alike(twins):
    fields = {**SHORT_ROUTE, "preset": "rush_hour"}
    pair = twins(4, fields, drivers=("brake", "scripted", "reckless", "scripted"), seed=3)
    pair.reset(seed=100)
    outcomes = pair.run(760)
    assert outcomes["timeout"] >= 1 and outcomes["arrived"] >= 4 \
        and outcomes["collision"] >= 3, outcomes


def test_cities_of_their_own_contexts_are_single_envs_bit_for_bit(twins):
    # Alike in the types of their context's values, as Gymnasium's infos need.
    cities = [{"map_seed": 1_000_000}, {"map_seed": 1_000_001, "preset": "ice"},
              {"map_seed": 1_000_002, "preset": ("left_hand", "rush_hour")},
              {"map_seed": 1_000_003, "preset": "truck"}]
    pair = twins(len(cities), {"observe_route": True, "min_route_m": 0.0},
                 drivers=("scripted", "reckless"), seed=9, cities=cities)
    pair.reset(seed=[50, 51, 52, 53])
    assert [pair.vec.envs[i].context.driving_side for i in range(4)] == [
        "right", "right", "left", "right"]
    outcomes = pair.run(300)
    assert sum(outcomes.values()) >= 3, outcomes


def test_cities_of_a_batch_must_share_env_options_and_actions():
    with pytest.raises(ValueError, match=r"city 1 differs from city 0 in \['observe_route'\]"):
        CityDrivingVectorEnv.of_cities([{}, {"observe_route": True}])
    with pytest.raises(ValueError, match="action_space"):
        CityDrivingVectorEnv.of_cities([{}, {"continuous": False}])
    with pytest.raises(ValueError, match="render_mode"):
        CityDrivingVectorEnv.of_cities([{}], render_mode="human")


def test_a_seed_list_with_a_repeated_seed_on_the_ring_map(twins):
    pair = twins(3, {"map_file": "ring", "preset": "rush_hour"},
                 drivers=("reckless", "scripted"), seed=5)
    observations, _ = pair.reset(seed=[40, 2, 2])
    assert np.array_equal(observations[1], observations[2])
    assert not np.array_equal(observations[0], observations[1])
    pair.run(200)
    assert sum(pair.outcomes.values()) >= 3, pair.outcomes


# ---------------------------------------------------------- gymnasium conventions
@pytest.mark.parametrize("fields", [{}, {"observe_raster": True, "continuous": False},
                                    {"observe_road_users": True, "lidar_rays": 8},
                                    {"observe_lead": True, "observe_road_users": True}])
def test_spaces_are_batched_from_the_single_spaces(fields):
    vec, single = make_vec(3, **fields), gym.make(ENV_ID, **fields)
    assert isinstance(vec, gym.vector.VectorEnv) and type(vec) is CityDrivingVectorEnv
    assert vec.num_envs == 3
    assert vec.single_observation_space == single.observation_space
    assert vec.single_action_space == single.action_space
    assert vec.observation_space == batch_space(single.observation_space, 3)
    assert vec.action_space == batch_space(single.action_space, 3)
    assert vec.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    vec.close()
    single.close()


def test_next_step_autoreset_returns_the_reset_and_ignores_the_action(twins):
    pair = twins(3, {"preset": "rush_hour"}, drivers=("reckless",), seed=1)
    _, infos = pair.reset(seed=2)
    assert all(infos[f"_{key}"].all() for key in ("map", "context", "time_limit_s"))
    while True:
        _, rewards, terminations, truncations, infos = pair.step()
        ended = terminations | truncations
        if ended.any():
            break
        assert "map" not in infos and "context" not in infos
    # The next step: the ended cities reset (reward 0, no end, the reset info), whatever
    # their action; the others step on.
    actions = pair.actions()
    actions[ended] = np.float32(np.nan)
    _, rewards, terminations, truncations, infos = pair.vec.step(actions)
    assert (rewards[ended] == 0.0).all()
    assert not (terminations[ended] | truncations[ended]).any()
    for key in ("map", "context", "time_limit_s"):
        assert (infos[f"_{key}"] == ended).all()
    assert (infos["outcome"][ended] == "driving").all()
    assert (infos["time_s"][ended] == 0.0).all()
    # Next-step autoreset keeps no final observation or info (same-step autoreset would).
    assert not {"final_obs", "final_info"} & infos.keys()


def test_infos_are_arrays_over_the_cities_with_key_masks():
    vec = make_vec(4, preset="rush_hour")
    _, infos = vec.reset(seed=0)
    _, _, _, _, infos = vec.step(vec.action_space.sample())
    assert infos["speed_mps"].shape == (4,) and infos["speed_mps"].dtype == np.float64
    assert infos["outcome"].dtype == object and infos["_outcome"].all()
    assert infos["is_success"].dtype == np.bool_
    assert infos["infractions"]["red_light"].shape == (4,)
    assert infos["reward_terms"]["_progress"].all()
    vec.close()


# -------------------------------------------------------------------- env checker
def check_vector_env(vec: gym.vector.VectorEnv, make: Any, seed: int = 0,
                     steps: int = 30) -> None:
    """The vector env's counterpart of Gymnasium's ``check_env``: spaces, signatures,
    observations in their spaces with their dtypes, seeded determinism, no shared
    memory, ``close``. ``make`` makes another env like ``vec``."""
    n = vec.num_envs
    assert isinstance(vec, gym.vector.VectorEnv) and isinstance(n, int) and n >= 1
    assert vec.unwrapped is vec and vec.render_mode in (None, *vec.metadata["render_modes"])
    assert vec.observation_space == batch_space(vec.single_observation_space, n)
    assert vec.action_space == batch_space(vec.single_action_space, n)
    reset = inspect.signature(vec.reset).parameters
    assert reset["seed"].kind is reset["options"].kind is inspect.Parameter.KEYWORD_ONLY
    assert list(inspect.signature(vec.step).parameters) == ["actions"]
    assert vec.metadata["autoreset_mode"] in AutoresetMode
    other = make()
    runs = [_checked_rollout(env, seed, steps) for env in (vec, other)]
    assert all(_same(a, b) for a, b in zip(*runs, strict=True)), "not deterministic"
    different = _checked_rollout(other, seed + n, 1)[0]
    assert not _same(runs[0][0], different), "another seed gives the same cities"
    other.close()
    vec.close()
    assert vec.closed
    vec.close()


def _checked_rollout(vec: gym.vector.VectorEnv, seed: int, steps: int) -> list[Any]:
    """Everything ``vec`` returns over a seeded rollout, each return checked."""
    n = vec.num_envs
    vec.action_space.seed(seed)
    result = vec.reset(seed=seed)
    assert isinstance(result, tuple) and len(result) == 2
    observations, infos = result
    assert observations in vec.observation_space and isinstance(infos, dict)
    _check_dtypes(observations, vec.observation_space)
    returns = [observations]
    for _ in range(steps):
        previous = returns[-4] if len(returns) > 1 else returns[0]
        result = vec.step(vec.action_space.sample())
        assert isinstance(result, tuple) and len(result) == 5
        observations, rewards, terminations, truncations, infos = result
        assert observations in vec.observation_space
        _check_dtypes(observations, vec.observation_space)
        assert rewards.shape == (n,) and np.issubdtype(rewards.dtype, np.floating)
        assert terminations.shape == truncations.shape == (n,)
        assert terminations.dtype == truncations.dtype == np.bool_
        assert np.isfinite(rewards).all() and isinstance(infos, dict)
        # A step's returns are new arrays, not the env's buffers returned again.
        assert not np.shares_memory(_first(observations), _first(previous))
        if len(returns) > 1:
            assert not np.shares_memory(rewards, returns[-3])
            assert not np.shares_memory(terminations, returns[-2])
        returns += [observations, rewards, terminations, truncations]
    return returns


def _check_dtypes(observations: Any, space: gym.Space) -> None:
    if isinstance(space, gym.spaces.Dict):
        for key, subspace in space.spaces.items():
            _check_dtypes(observations[key], subspace)
    else:
        assert observations.dtype == space.dtype and observations.shape == space.shape


def _first(observations: Any) -> np.ndarray:
    return observations["vector"] if isinstance(observations, dict) else observations


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, dict):
        return all(_same(a[key], b[key]) for key in a)
    return bool(np.array_equal(a, b))


@pytest.mark.parametrize("fields", [
    {"preset": "rush_hour"},
    {"observe_raster": True, "continuous": False, "map_file": "downtown"},
    {"observe_route": True, "observe_context": True, "car_length_m": (4.6, 7.0)},
    {"observe_road_users": True, "preset": "rush_hour", "sensor_noise": 0.05},
    {"observe_lead": True, "preset": "rush_hour", "sensor_noise": 0.05},
])
def test_gymnasiums_checker_passes_on_the_single_env_and_ours_on_the_vector_env(fields):
    single = gym.make(ENV_ID, **fields)
    check_env(single.unwrapped, skip_render_check=True)
    single.close()
    check_vector_env(make_vec(2, **fields), lambda: make_vec(2, **fields))


# ------------------------------------------------------ seeding and partial resets
def test_an_int_seed_seeds_city_i_with_seed_plus_i():
    vec, listed = make_vec(3), make_vec(3)
    observations, _ = vec.reset(seed=5)
    assert np.array_equal(observations, listed.reset(seed=[5, 6, 7])[0])
    again, _ = vec.reset(seed=5)
    assert np.array_equal(observations, again)
    assert not np.array_equal(observations, vec.reset(seed=6)[0])
    single = gym.make(ENV_ID)
    assert np.array_equal(observations[2], single.reset(seed=7)[0])
    for env in (vec, listed, single):
        env.close()


def test_unseeded_resets_continue_each_citys_generator():
    first, second = make_vec(2), make_vec(2)
    for vec in (first, second):
        vec.reset(seed=3)
    assert np.array_equal(first.reset()[0], second.reset()[0])
    assert np.array_equal(first.reset(seed=[9, None])[0], second.reset(seed=[9, None])[0])
    first.close()
    second.close()


def test_a_reset_mask_resets_only_those_cities(twins):
    pair = twins(4, {"preset": "rush_hour"}, drivers=("scripted", "reckless"), seed=2)
    pair.reset(seed=20)
    pair.run(60)
    mask = np.array([True, False, False, True])
    _, infos = pair.reset(seed=[30, None, None, 33], mask=mask)
    assert (infos["_map"] == mask).all() and (infos["_context"] == mask).all()
    pair.run(80)
    _, infos = pair.reset(seed=50, mask=np.array([False, True, False, False]))
    assert (infos["_outcome"] == [False, True, False, False]).all()
    pair.run(60)
    assert sum(pair.outcomes.values()) >= 3, pair.outcomes


# --------------------------------------------------------------------- rendering
@pytest.mark.parametrize("fields", [{"traffic_density": 5.0, "pedestrian_density": 0.0},
                                    {"traffic_density": 5.0, "pedestrian_density": 2.0}])
def test_rgb_array_renders_one_frame_per_city_as_the_single_env_does(fields):
    vec = make_vec(2, render_mode="rgb_array", **fields)
    singles = [gym.make(ENV_ID, render_mode="rgb_array", **fields) for _ in range(2)]
    vec.reset(seed=4)
    for i, env in enumerate(singles):
        env.reset(seed=4 + i)
    actions = np.array([[0.1, 0.5], [-0.1, 0.8]], np.float32)
    for _ in range(3):
        vec.step(actions)
        for env, action in zip(singles, actions, strict=True):
            env.step(action)
    frames = vec.render()
    assert isinstance(frames, tuple) and len(frames) == 2
    for frame, env in zip(frames, singles, strict=True):
        assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
        assert np.array_equal(frame, env.render())
    assert not np.array_equal(frames[0], frames[1])
    vec.close()
    for env in singles:
        env.close()


def test_render_without_a_render_mode_warns_and_returns_none():
    vec = make_vec(2)
    vec.reset(seed=0)
    with pytest.warns(UserWarning, match="render_mode"):
        assert vec.render() is None
    vec.close()


# --------------------------------------------------------------------- bad input
@pytest.mark.parametrize("num_envs", [0, -1, 2.5, "3", True, 10**6])
def test_bad_num_envs_is_refused_naming_it(num_envs):
    with pytest.raises((TypeError, ValueError), match="num_envs"):
        make_vec(num_envs)


@pytest.mark.parametrize(("fields", "match"), [
    ({"friction": 9}, "friction=9 is out of range"),
    ({"frictoin": 1.0}, "unknown CityConfig field 'frictoin'"),
    ({"car_length_m": (7.0, 4.6)}, "car_length_m range is inverted"),
    ({"driving_side": "middle"}, "driving_side must be 'right' or 'left'"),
    ({"map_file": "atlantis"}, "map_file 'atlantis'"),
    ({"preset": "mars"}, "unknown preset 'mars'"),
    ({"lidar_rays": 0}, "lidar_rays=0 is out of range"),
    ({"observe_raster": 1}, "observe_raster must be a bool"),
    ({"render_mode": "human"}, "render_mode of the vector env"),
])
def test_bad_fields_are_refused_naming_them(fields, match):
    with pytest.raises((TypeError, ValueError), match=match):
        make_vec(2, **fields)


def test_bad_seeds_and_reset_options_are_refused_naming_them():
    vec = make_vec(3)
    with pytest.raises(RuntimeError, match="first reset"):
        vec.reset(seed=0, options={"reset_mask": np.array([True, False, True])})
    with pytest.raises(RuntimeError, match="reset"):
        vec.step(np.zeros((3, 2), np.float32))
    with pytest.raises(ValueError, match=r"list of 3 seeds .* got a list of 2"):
        vec.reset(seed=[1, 2])
    for seed in ("1", 1.5):
        with pytest.raises(TypeError, match="seed must be an int"):
            vec.reset(seed=seed)
    vec.reset(seed=0)
    with pytest.raises(ValueError, match=re.escape("only the reset option 'reset_mask', "
                                                   "got ['map_seed']")):
        vec.reset(options={"map_seed": 1})
    for mask in ([1, 0, 1], np.ones(2, bool), np.ones((3, 1), bool)):
        with pytest.raises(ValueError, match=re.escape("reset_mask must be a bool array of "
                                                       "shape (3,)")):
            vec.reset(options={"reset_mask": mask})
    vec.close()


@pytest.mark.parametrize("actions", [np.zeros((2, 2)), np.zeros(3), np.zeros((3, 3)),
                                     np.zeros((3, 2, 1))])
def test_bad_action_shapes_are_refused_with_the_expected_shape(actions):
    vec = make_vec(3)
    vec.reset(seed=0)
    expected = re.escape(f"actions must have shape (3, 2) (one action per city), "
                         f"got {actions.shape}")
    with pytest.raises(ValueError, match=expected):
        vec.step(actions)
    vec.close()


@pytest.mark.parametrize(("fields", "actions", "error", "match"), [
    ({}, np.full((3, 2), np.nan), ValueError, "finite"),
    ({}, np.array([["a", "b"]] * 3), TypeError, "real numbers"),
    ({"continuous": False}, np.array([0, 1, 9]), ValueError, "9"),
    ({"continuous": False}, np.zeros((3, 1), int), ValueError, "shape \\(3,\\)"),
])
def test_bad_action_values_are_refused(fields, actions, error, match):
    vec = make_vec(3, **fields)
    vec.reset(seed=0)
    with pytest.raises(error, match=match):
        vec.step(actions)
    vec.close()


def test_a_refused_action_leaves_every_city_as_it_was(twins):
    pair = twins(3, {"preset": "rush_hour"}, seed=1)
    pair.reset(seed=8)
    pair.run(5)
    actions = pair.actions()
    bad = actions.copy()
    bad[2] = np.nan
    with pytest.raises(ValueError, match="finite"):
        pair.vec.step(bad)
    pair.step(actions)
    pair.run(5)


@pytest.mark.parametrize("seed", [[5, 6, -1], [5, 6, "7"], [5, 6, 7.5]])
def test_a_refused_seed_list_leaves_every_city_as_it_was(twins, seed):
    pair = twins(3, {"preset": "rush_hour"}, seed=1)
    pair.reset(seed=8)
    pair.run(5)
    with pytest.raises((ValueError, TypeError, gym.error.Error), match=r"[Ss]eed"):
        pair.vec.reset(seed=seed)
    pair.run(30)
