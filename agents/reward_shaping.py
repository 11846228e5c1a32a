"""Reward shaping for RL training only: what the learner is paid, not what is recorded.

The "tuning notes" cited below are docs/notes/city-ppo-tuning.md.

A hyperparameter table may set ``step_penalty`` (reward units per env step): the
learner's reward is lowered by it at every step, so that standing still until the time
limit stops being a safe harbour (the city's PPO otherwise learns to park). It may also
set ``normalize_reward = true``: the learner's rewards are divided by a running
estimate of the standard deviation of the discounted return (SB3's ``VecNormalize``
with ``norm_obs=False``, as rl-baselines3-zoo's ``normalize`` does for rewards).
Observations are left alone, so a saved agent needs no statistics to act.

``give_up_after_steps`` (env steps) ends a training episode, as a driver who is stuck
would, once the env's return has not reached a new high for that many steps, and
``give_up_penalty`` (reward units, >= 0) is then taken from the learner's reward. The
episode is logged as played (its return is the env's, its outcome ``gave_up``), and it
counts as an episode the agent acted in. Long episodes spent parked against a corner
(the city's PPO) then end after the patience rather than at the time limit;
CARLA agents such as Roach end training episodes that are "blocked" likewise.
``give_up_margin`` (env reward units, default 0) is how far above its last high the
return must climb to count as a new one: with a margin, creeping forward no longer
holds off the give-up (CityDriving: a margin of 1 asks for 10 m of route progress per
patience). The city's PPO spent 43-73% of some runs' steps crawling to the time limit;
a margin of 1 ended that, but 80% of its training episodes then gave up (tuning notes,
tries 49-51). ``give_up_excuse_waiting = true`` (CityDriving) stops the patience's
clock while the car waits as a driver must (:class:`CityWaits`: stopped in its
lane at a red or amber light, or behind something close ahead on its way), so that
with a margin a crawl gives up and a wait at a light or in a queue does not.
``give_up_on_infraction = true`` (CityDriving) also gives up at the first infraction
(red light, wrong lane, off the road), as MetaDrive ends its PPO's episodes when the
car leaves the road and Roach's CARLA training ends them at a red light run: the
learner never practises driving on from a broken rule, and a broken rule costs it all
the progress it would have been paid after. A list (``["red_light"]``) watches only the
infractions it names.

``reward_weights`` (a table of term -> weight >= 0, CityDriving) pays the learner each
term of ``info["reward_terms"]`` times its weight (1 for a term it does not name):
``{progress = 10}`` pays progress as MetaDrive does relative to its penalties (1 per
metre against 5 for leaving the road, where CityDriving pays 0.1 against 5).

``speeding_penalty`` (reward units per step per m/s, CityDriving) takes that much per
m/s above the speed limit from every step: the env itself has no speeding infraction,
and a learner paid per metre drives at up to 25 m/s in a 13.9 m/s city (tuning notes).

``headway_penalty`` (reward units per step per m/s, CityDriving) takes that much per
m/s above the speed from which the car could still stop, braking at
``HEADWAY_DECELERATION_MPS2``, ``HEADWAY_MARGIN_M`` short of the nearest thing the
lidar sees in the car's path (a corridor as wide as the car, along the lane, ahead of
its front): the city's PPO otherwise drives into the back of cars queued at red
lights, braking for the stop line only (tuning notes). Like a following-distance term in a
driving reward, it pays for keeping room to stop, not for stopping.

``lane_offset_penalty`` (reward units per step per metre, CityDriving) takes that much
per metre between the car and its lane's centre (the observation's lane offset): the
city's PPO otherwise drives about 0.6 m left of it, where the lidar's rays straight
ahead pass beside the car in front (tuning notes). Unlike ``lane_keeping`` it changes which
policy is optimal; at 0.1 and 0.3 it slowed the city's PPO down (tuning notes, tries 38-39).
``lane_offset_free_m`` (metres, default 0) is the offset that costs nothing: at
``(3.5 - 1.9) / 2 = 0.8`` (the offset's scale, a default lane width, less the car's
width, halved) the learner pays per metre of its body outside its lane, over the
centre line or the lane's edge, and not for where it keeps inside the lane. At 0.5
that way the city's PPO crawled (tuning notes, try 44).

``lane_keeping`` (a weight >= 0) adds potential-based shaping (Ng, Harada and Russell,
1999): ``gamma * phi(s') - phi(s)`` with ``phi = -weight * (|lane heading| + |lane
offset|)`` read from the observation in its published scaled units (CityDriving: pi
rad and 3.5 m). Being a potential difference it cannot change which policy is
optimal; it pays at once for turning toward the lane, as a Stanley controller steers.
Roach's CARLA reward has the same two terms.

The episode log sits inside the reward wrappers and evaluations use the plain env, so
recorded returns and successes are the env's own.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper

from exgen.agents.learner_infos import info_column, learner_infos, outcome_in
from exgen.agents.route_reward import (
    ROUTE_REWARD_KEYS,
    RouteReward,
    check_route_reward,
    flat_observations,
    step_observations,
)
from exgen.envs.city import public as city_public

#: The keys of the per-step and give-up penalties (reward units >= 0), paid by
#: :class:`Penalties`.
PENALTY_KEYS = ("step_penalty", "give_up_penalty", "speeding_penalty", "headway_penalty",
                "lane_offset_penalty")
#: The hyperparameter-table keys this module reads.
SHAPING_KEYS = (*PENALTY_KEYS, "normalize_reward", "give_up_after_steps", "give_up_margin",
                "give_up_excuse_waiting", "give_up_on_infraction", "reward_weights",
                "lane_keeping", "lane_offset_free_m", *ROUTE_REWARD_KEYS)
#: Per env id: the observation entries of the lane heading and lateral offset.
LANE_ENTRIES = {"CityDriving-v0": (city_public.LANE_HEADING, city_public.LANE_OFFSET)}
#: Per env id: the observation entry of the lateral offset and its scale [m].
LANE_OFFSET = {"CityDriving-v0": (city_public.LANE_OFFSET, city_public.LANE_OFFSET_SCALE_M)}
#: Per env id: the ``info["infractions"]`` counts that ``give_up_on_infraction`` watches.
INFRACTIONS = {"CityDriving-v0": ("red_light", "wrong_lane", "off_road")}
#: Per env id: the terms of ``info["reward_terms"]`` that ``reward_weights`` may weigh.
REWARD_TERMS = {"CityDriving-v0": ("progress", "infractions", "collision", "arrival")}
#: Env ids whose step ``info`` holds ``speed_mps`` and ``speed_limit_mps``.
SPEED_LIMITED = ("CityDriving-v0",)


@dataclass(frozen=True)
class LidarLayout:
    """Where an env's observation holds its lidar (``lidar_rays`` rays from ``start``,
    scaled by ``lidar_range_m``, both env attributes; ray k along heading + 2 pi k /
    rays) and the lane heading (entry ``lane_heading``, in units of ``heading_scale``
    rad), and the car's half length and half width [m] around the lidar."""

    start: int
    lane_heading: int
    heading_scale: float
    half_length_m: float
    half_width_m: float


#: Per env id: its :class:`LidarLayout`, for ``headway_penalty``.
LIDAR = {"CityDriving-v0": LidarLayout(city_public.LIDAR_START, city_public.LANE_HEADING,
                                       math.pi, city_public.CAR_LENGTH_M / 2,
                                       city_public.CAR_WIDTH_M / 2)}
#: ``headway_penalty``: the braking the learner is asked to leave room for [m/s²] and
#: the gap kept when stopped [m].
HEADWAY_DECELERATION_MPS2 = 4.0
HEADWAY_MARGIN_M = 2.0

#: The outcome recorded for an episode the learner gave up.
GAVE_UP = "gave_up"

#: ``give_up_excuse_waiting`` in the city: the car waits when slower than
#: ``WAIT_SPEED_MPS``, within ``WAIT_HEADING_RAD`` of its lane's heading, and either a red
#: or amber light's stop line is within ``WAIT_LIGHT_M`` or the front lidar ray meets
#: something within ``WAIT_OBSTACLE_M`` of the car's centre, before the route's next turn.
WAIT_SPEED_MPS = 0.5
WAIT_HEADING_RAD = 0.3
WAIT_LIGHT_M = 15.0
WAIT_OBSTACLE_M = 10.0


class CityWaits:
    """Whether a ``CityDriving-v0`` observation (flat, or ``observe_raster``'s Dict) of
    ``env`` shows the car waiting at a light or behind an obstacle, by the ``WAIT_*``
    thresholds; the entries are looked up once, for the env's lidar."""

    def __init__(self, env: gym.Env) -> None:
        self.lidar_range_m = float(env.get_wrapper_attr("lidar_range_m"))
        index = city_public.layout(env.get_wrapper_attr("lidar_rays"))
        self.light_red, self.light_amber = index["light_red"], index["light_amber"]
        self.light_distance = index["light_distance"]
        self.turn_straight, self.turn_distance = index["turn_straight"], index["turn_distance"]

    def __call__(self, observation: Any) -> bool:
        vector = flat_observations(observation)[0]
        if (vector[city_public.SPEED] * city_public.SPEED_SCALE_MPS >= WAIT_SPEED_MPS
                or abs(vector[city_public.LANE_HEADING]) * math.pi > WAIT_HEADING_RAD):
            return False
        to_line = vector[self.light_distance] * city_public.DISTANCE_SCALE_M
        if (vector[self.light_red] or vector[self.light_amber]) and to_line < WAIT_LIGHT_M:
            return True
        ahead = vector[city_public.LIDAR_START] * self.lidar_range_m
        to_turn = vector[self.turn_distance] * city_public.DISTANCE_SCALE_M
        return bool(ahead < WAIT_OBSTACLE_M and (vector[self.turn_straight] or ahead < to_turn))


#: Per env id: what ``give_up_excuse_waiting`` builds, from the env, to tell a wait.
WAITING = {"CityDriving-v0": CityWaits}


def check_shaping(table: dict[str, Any], env_id: str | None = None) -> None:
    """Raise ``ValueError`` naming a shaping key of ``table`` with an invalid value (or
    one that ``env_id``'s observation cannot support)."""
    for key in (*PENALTY_KEYS, "lane_keeping", "lane_offset_free_m", "give_up_margin"):
        _check_non_negative(key, table.get(key, 0.0))
    if table.get("lane_offset_free_m") and not table.get("lane_offset_penalty"):
        raise ValueError("lane_offset_free_m needs lane_offset_penalty (what an offset "
                         "beyond it costs per metre)")
    for key, envs, need in (
            ("headway_penalty", LIDAR, "an env with a lidar and a speed"),
            ("lane_offset_penalty", LANE_OFFSET, "an observation with a lane offset"),
            ("speeding_penalty", SPEED_LIMITED, "an env with a speed limit"),
            ("lane_keeping", LANE_ENTRIES, "an observation with a lane heading and offset")):
        if table.get(key) and env_id is not None and env_id not in envs:
            raise ValueError(f"{key} needs {need}: {', '.join(envs)}, not {env_id}")
    if not isinstance(table.get("normalize_reward", False), bool):
        raise ValueError(f"normalize_reward must be true or false, "
                         f"got {table['normalize_reward']!r}")
    _watched_infractions(table, env_id)
    check_route_reward(table, env_id, LIDAR)
    if "reward_weights" in table:
        _check_weights(table["reward_weights"], env_id)
    _check_patience(table.get("give_up_after_steps"))
    excuse = table.get("give_up_excuse_waiting", False)
    if not isinstance(excuse, bool):
        raise ValueError(f"give_up_excuse_waiting must be true or false, got {excuse!r}")
    for key, patience in (
            ("give_up_margin", "the patience in env steps within which the return must "
                               "climb by the margin"),
            ("give_up_excuse_waiting", "the patience whose clock it stops")):
        if table.get(key) and table.get("give_up_after_steps") is None:
            raise ValueError(f"{key} needs give_up_after_steps ({patience})")
    if excuse and env_id is not None and env_id not in WAITING:
        raise ValueError(f"give_up_excuse_waiting needs an env whose waits it knows: "
                         f"{', '.join(WAITING)}, not {env_id}")
    if (table.get("give_up_penalty") and table.get("give_up_after_steps") is None
            and not table.get("give_up_on_infraction")):
        raise ValueError("give_up_penalty needs give_up_after_steps (the patience in env "
                         "steps) or give_up_on_infraction")


def _check_non_negative(key: str, value: Any) -> None:
    if (isinstance(value, bool) or not isinstance(value, (int, float))
            or not np.isfinite(value) or value < 0):
        raise ValueError(f"{key} must be a number >= 0, got {value!r}")


def _check_weights(weights: Any, env_id: str | None) -> None:
    if not isinstance(weights, dict):
        raise ValueError(f"reward_weights must be a table of reward term -> weight, got "
                         f"{weights!r}")
    if env_id is not None:
        terms = REWARD_TERMS.get(env_id)
        if terms is None:
            raise ValueError(f"reward_weights needs an env that reports its reward terms: "
                             f"{', '.join(REWARD_TERMS)}, not {env_id}")
        unknown = sorted(set(weights) - set(terms))
        if unknown:
            raise ValueError(f"reward_weights: unknown term(s) {', '.join(unknown)} of "
                             f"{env_id}; valid: {', '.join(terms)}")
    for term, weight in weights.items():
        _check_non_negative(f"reward_weights.{term}", weight)


def _watched_infractions(table: dict[str, Any], env_id: str | None) -> tuple[str, ...]:
    """The infraction counts ``give_up_on_infraction`` watches in ``env_id``: none when it
    is false, all those the env counts when true, else the list it names; raise on a bad
    value, or on an env that counts none (``env_id`` None: check the value's type only)."""
    value = table.get("give_up_on_infraction", False)
    names = value if isinstance(value, list) else None
    if not isinstance(value, bool) and (names is None
                                        or not all(isinstance(n, str) for n in names)):
        raise ValueError(f"give_up_on_infraction must be true, false or a list of "
                         f"infraction names, got {value!r}")
    if not value:
        return ()
    if env_id is None:
        return tuple(names or ())
    if env_id not in INFRACTIONS:
        raise ValueError(f"give_up_on_infraction needs an env that counts infractions: "
                         f"{', '.join(INFRACTIONS)}, not {env_id}")
    counted = INFRACTIONS[env_id]
    unknown = sorted(set(names or ()) - set(counted))
    if unknown:
        raise ValueError(f"give_up_on_infraction: unknown infraction(s) {', '.join(unknown)} "
                         f"of {env_id}; valid: {', '.join(counted)}")
    return counted if names is None else tuple(names)


def _check_patience(steps: Any) -> None:
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int)
                              or steps < 1):
        raise ValueError(f"give_up_after_steps must be a whole number of env steps >= 1, "
                         f"got {steps!r}")


def give_up_arguments(table: dict[str, Any], env_id: str | None = None
                      ) -> tuple[int | None, tuple[str, ...], float, Any] | None:
    """What giving up ``table`` asks for (``give_up_after_steps``, the watched
    infractions, ``give_up_margin``, and the waits of ``env_id`` as a function of one env,
    or None when waits are not excused), or None when it asks for none."""
    patience = table.get("give_up_after_steps")
    watched = _watched_infractions(table, env_id)
    if patience is None and not watched:
        return None
    waits = None
    if table.get("give_up_excuse_waiting"):
        if env_id is None:
            raise ValueError("give_up_excuse_waiting needs the env id, to know its waits")
        waits = WAITING[env_id]
    return (None if patience is None else int(patience), watched,
            float(table.get("give_up_margin", 0.0)), waits)


def env_wrapper(table: dict[str, Any], env_id: str | None = None) -> Any:
    """A function that wraps one training env (of ``env_id``) as ``table`` asks, or None:
    giving up (``give_up_after_steps``, ``give_up_on_infraction``) happens inside the
    episode log, so it is recorded."""
    arguments = give_up_arguments(table, env_id)
    if arguments is None:
        return None
    patience, watched, margin, waits = arguments
    return lambda env: GiveUp(env, patience, watched, margin,
                              None if waits is None else waits(env))


def zoo_give_up(env: gym.Env, table: dict[str, Any], env_id: str | None = None) -> gym.Env:
    """rl-baselines3-zoo's ``env_wrapper`` hook (:mod:`exgen.agents.zoo`): ``env``
    with :func:`env_wrapper`'s give-up applied. The zoo wraps its ``Monitor`` first, so
    the give-up goes under that ``Monitor``, as in our own training: the zoo's episode
    log then ends and records a given-up episode instead of dropping it at the reset."""
    from stable_baselines3.common.monitor import Monitor

    wrap = env_wrapper(table, env_id)
    if wrap is None:
        return env
    if isinstance(env, Monitor):
        env.env = wrap(env.env)  # Monitor keeps no state of the env it wraps
        return env
    return wrap(env)


def shape_rewards(venv: VecEnv, table: dict[str, Any], env_id: str | None = None, *,
                  normalize: bool = True) -> VecEnv:
    """``venv`` (of ``env_id``) wrapped as the hyperparameter ``table`` asks
    (``route_reward``, ``step_penalty``, ``give_up_penalty``, ``lane_keeping``,
    ``speeding_penalty``, ``headway_penalty``, ``lane_offset_penalty``,
    ``normalize_reward``, with the table's ``gamma``), for the learner's eyes only.
    These wrappers read the env's private info (speeds, reward terms, outcomes), so a
    training run puts them inside the agent's public view; with ``normalize`` False,
    :func:`normalize_rewards` is left to the caller, to put outside it."""
    check_shaping(table, env_id)
    gamma = float(table.get("gamma", 0.99))
    if table.get("route_reward"):
        if env_id is None:
            raise ValueError("route_reward needs the env id, to find the lidar")
        lidar = _LidarPath(LIDAR[env_id], venv.get_attr("lidar_rays")[0],
                           venv.get_attr("lidar_range_m")[0])
        venv = RouteReward(venv, lidar.gap, **{key: float(table[key])
                                               for key in ROUTE_REWARD_KEYS[1:] if key in table})
    if table.get("reward_weights"):
        venv = TermWeights(venv, table["reward_weights"])
    if table.get("lane_keeping"):
        if env_id is None:
            raise ValueError("lane_keeping needs the env id, to find the lane entries")
        venv = LanePotential(venv, float(table["lane_keeping"]), gamma, LANE_ENTRIES[env_id])
    if any(table.get(key) for key in PENALTY_KEYS):
        venv = Penalties(venv, **{key: float(table.get(key, 0.0)) for key in PENALTY_KEYS},
                         lidar=LIDAR.get(env_id) if table.get("headway_penalty") else None,
                         lane_offset=(LANE_OFFSET.get(env_id)
                                      if table.get("lane_offset_penalty") else None),
                         lane_offset_free_m=float(table.get("lane_offset_free_m", 0.0)))
    return normalize_rewards(venv, table) if normalize else venv


def normalize_rewards(venv: VecEnv, table: dict[str, Any]) -> VecEnv:
    """``venv`` in SB3's ``VecNormalize`` of rewards when ``table`` sets
    ``normalize_reward`` (with its ``gamma``), else ``venv``. It reads rewards only."""
    from stable_baselines3.common.vec_env import VecNormalize

    if not table.get("normalize_reward"):
        return venv
    gamma = float(table.get("gamma", 0.99))
    return VecNormalize(venv, norm_obs=False, norm_reward=True, gamma=gamma)


class Penalties(VecEnvWrapper):
    """Subtracts ``step_penalty`` from every reward of ``venv``, ``speeding_penalty``
    times the speed above the limit (``info["speed_mps"] - info["speed_limit_mps"]``,
    when positive) and ``headway_penalty`` times the speed above the stopping speed
    (:func:`stopping_speed`) and ``lane_offset_penalty`` times the distance [m] from
    the lane's centre beyond ``lane_offset_free_m`` from every reward too, and
    ``give_up_penalty`` from the last reward of an episode the learner gave up
    (:class:`GiveUp`). The headway needs the env's ``lidar`` layout, the offset its
    ``lane_offset`` (entry, scale [m])."""

    def __init__(self, venv: VecEnv, step_penalty: float = 0.0,
                 give_up_penalty: float = 0.0, speeding_penalty: float = 0.0,
                 headway_penalty: float = 0.0, lane_offset_penalty: float = 0.0,
                 lidar: LidarLayout | None = None,
                 lane_offset: tuple[int, float] | None = None,
                 lane_offset_free_m: float = 0.0) -> None:
        values = (step_penalty, give_up_penalty, speeding_penalty, headway_penalty,
                  lane_offset_penalty)
        for key, value in zip(PENALTY_KEYS, values, strict=True):
            _check_non_negative(key, value)
        _check_non_negative("lane_offset_free_m", lane_offset_free_m)
        if headway_penalty and lidar is None:
            raise ValueError("headway_penalty needs the lidar's place in the observation")
        if lane_offset_penalty and lane_offset is None:
            raise ValueError("lane_offset_penalty needs the lane offset's place in the "
                             "observation")
        super().__init__(venv)
        self.step_penalty = float(step_penalty)
        self.give_up_penalty = float(give_up_penalty)
        self.speeding_penalty = float(speeding_penalty)
        self.headway_penalty = float(headway_penalty)
        self.lane_offset_penalty = float(lane_offset_penalty)
        self.lane_offset = lane_offset
        self.lane_offset_free_m = float(lane_offset_free_m)
        if self.headway_penalty:
            self._lidar = _LidarPath(lidar, venv.get_attr("lidar_rays")[0],
                                     venv.get_attr("lidar_range_m")[0])

    def reset(self) -> Any:
        return self.venv.reset()

    def step_wait(self) -> Any:
        observations, rewards, dones, infos = self.venv.step_wait()
        arrays = learner_infos(self.venv)  # a batched world's arrays, else None
        gave_up = outcome_in(arrays, infos, (GAVE_UP,))
        rewards = rewards - self.step_penalty - self.give_up_penalty * (dones & gave_up)
        if self.speeding_penalty or self.headway_penalty:
            speeds = info_column(arrays, infos, "speed_mps")
        if self.speeding_penalty:
            limits = info_column(arrays, infos, "speed_limit_mps")
            rewards = rewards - self.speeding_penalty * np.maximum(0.0, speeds - limits)
        if self.headway_penalty or self.lane_offset_penalty:
            seen = step_observations(observations, dones, infos)
        if self.headway_penalty:
            room = stopping_speed(self._lidar.gap(seen))
            rewards = rewards - self.headway_penalty * np.maximum(0.0, speeds - room)
        if self.lane_offset_penalty:
            entry, scale_m = self.lane_offset
            beyond_m = np.maximum(np.abs(seen[:, entry]) * scale_m - self.lane_offset_free_m, 0.0)
            rewards = rewards - self.lane_offset_penalty * beyond_m
        return observations, rewards.astype(np.float32), dones, infos


def stopping_speed(gap_m: np.ndarray) -> np.ndarray:
    """The speed [m/s] from which braking at ``HEADWAY_DECELERATION_MPS2`` stops the car
    ``HEADWAY_MARGIN_M`` short of something ``gap_m`` ahead of its front."""
    return np.sqrt(2.0 * HEADWAY_DECELERATION_MPS2
                   * np.maximum(np.asarray(gap_m, dtype=float) - HEADWAY_MARGIN_M, 0.0))


class _LidarPath:
    """The gap [m] from the car's front to the nearest lidar hit in its path: a corridor
    as wide as the car, along the lane (a kerb the car weaves toward is not in it until
    the car is over it; a car ahead in its lane is)."""

    def __init__(self, layout: LidarLayout, rays: int, range_m: float) -> None:
        self.layout = layout
        self.entries = slice(layout.start, layout.start + rays)
        self.angles = 2.0 * np.pi * np.arange(rays) / rays  # from the heading
        self.range_m = float(range_m)

    def gap(self, vectors: np.ndarray) -> np.ndarray:
        layout, vectors = self.layout, np.asarray(vectors)
        distance = vectors[:, self.entries] * self.range_m
        from_lane = self.angles + vectors[:, [layout.lane_heading]] * layout.heading_scale
        ahead, beside = distance * np.cos(from_lane), np.abs(distance * np.sin(from_lane))
        in_path = ((ahead > 0.0) & (beside < layout.half_width_m)
                   & (distance < self.range_m * 0.999))  # a saturated ray saw nothing
        nearest = np.where(in_path, ahead, np.inf).min(axis=1)
        return np.maximum(nearest - layout.half_length_m, 0.0)


class TermWeights(VecEnvWrapper):
    """Pays each term of ``info["reward_terms"]`` times its weight in ``weights`` (the
    env's reward otherwise: a term not named keeps weight 1)."""

    def __init__(self, venv: VecEnv, weights: dict[str, float]) -> None:
        _check_weights(weights, None)
        super().__init__(venv)
        self.weights = {term: float(weight) for term, weight in weights.items()}

    def reset(self) -> Any:
        return self.venv.reset()

    def step_wait(self) -> Any:
        observations, rewards, dones, infos = self.venv.step_wait()
        extra = np.array([sum((weight - 1.0) * info["reward_terms"].get(term, 0.0)
                              for term, weight in self.weights.items()) for info in infos])
        return observations, (rewards + extra).astype(np.float32), dones, infos


class GiveUpRule:
    """When one env's episode gives up: once its return has not reached a new high, more
    than ``margin`` above the last, for ``patience`` steps (None: never for that), or
    once one of the ``infractions`` counts of ``info["infractions"]`` grows. A step
    whose observation ``excused(observation)`` calls a wait does not count toward the
    patience."""

    def __init__(self, patience: int | None, infractions: tuple[str, ...] = (),
                 margin: float = 0.0, excused: Callable[[Any], bool] | None = None) -> None:
        _check_patience(patience)
        _check_non_negative("give_up_margin", margin)
        self.patience = patience
        self.margin = float(margin)
        self.infractions = tuple(infractions)
        self.excused = excused
        self.reset()

    def reset(self) -> None:
        """A new episode starts."""
        self._return = self._best = 0.0
        self._waited = self._broken = 0

    def gives_up(self, observation: Any, reward: float, ended: bool,
                 info: dict[str, Any]) -> bool:
        """Whether the episode gives up at this step (never once ``ended``)."""
        self._return += float(reward)
        if self._return > self._best + self.margin:
            self._best, self._waited = self._return, 0
        elif self.excused is None or not self.excused(observation):
            self._waited += 1
        broken = self._broken
        if self.infractions:
            counts = info["infractions"]
            self._broken = sum(counts[name] for name in self.infractions)
        stuck = self.patience is not None and self._waited >= self.patience
        return not ended and (stuck or self._broken > broken)


class GiveUp(gym.Wrapper):
    """Ends the episode (terminated, ``info["outcome"] = "gave_up"``) when
    :class:`GiveUpRule` says so; rewards pass unchanged."""

    def __init__(self, env: gym.Env, patience: int | None,
                 infractions: tuple[str, ...] = (), margin: float = 0.0,
                 excused: Callable[[Any], bool] | None = None) -> None:
        super().__init__(env)
        self.rule = GiveUpRule(patience, infractions, margin, excused)

    @property
    def infractions(self) -> tuple[str, ...]:
        """The infractions whose count growing gives up."""
        return self.rule.infractions

    def reset(self, **kwargs: Any) -> Any:
        self.rule.reset()
        return self.env.reset(**kwargs)

    def step(self, action: Any) -> Any:
        observation, reward, terminated, truncated, info = self.env.step(action)
        if self.rule.gives_up(observation, reward, terminated or truncated, info):
            terminated = True
            info = gave_up(info)
        return observation, reward, terminated, truncated, info


def gave_up(info: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``info`` of an episode that gave up."""
    return {**info, "outcome": GAVE_UP, "is_success": False}


class LanePotential(VecEnvWrapper):
    """Adds ``gamma * phi(s') - phi(s)``, ``phi = -weight * (|obs[heading]| +
    |obs[offset]|)``, to every reward; ``phi`` of a terminal state is 0, of a truncated
    episode's last state its observation's."""

    def __init__(self, venv: VecEnv, weight: float, gamma: float,
                 entries: tuple[int, int]) -> None:
        _check_non_negative("lane_keeping", weight)
        space = venv.observation_space
        if isinstance(space, gym.spaces.Dict):  # observe_raster: the lanes are in "vector"
            space = space.spaces.get("vector")
        if not isinstance(space, gym.spaces.Box):
            raise ValueError("lane_keeping needs a flat Box observation, or a Dict with one "
                             "under 'vector'")
        super().__init__(venv)
        self.weight, self.gamma = float(weight), float(gamma)
        self.entries = list(entries)
        self._potential = np.zeros(self.num_envs)

    def phi(self, observations: np.ndarray | dict[str, np.ndarray]) -> np.ndarray:
        """The potential of each observation in a batch (one observation: a batch of 1)."""
        return -self.weight * np.abs(flat_observations(observations)[:, self.entries]).sum(-1)

    def reset(self) -> Any:
        observations = self.venv.reset()
        self._potential = self.phi(observations)
        return observations

    def step_wait(self) -> Any:
        observations, rewards, dones, infos = self.venv.step_wait()
        following = self.phi(observations)
        potential = following.copy()
        for index in np.flatnonzero(dones):
            info = infos[index]
            last = info.get("terminal_observation")
            truncated = info.get("TimeLimit.truncated", False) and last is not None
            following[index] = self.phi(last)[0] if truncated else 0.0
        shaped = rewards + self.gamma * following - self._potential
        self._potential = potential  # a finished env's observation starts its next episode
        return observations, shaped.astype(np.float32), dones, infos
