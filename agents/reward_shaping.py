"""Reward shaping for RL training only: what the learner is paid, not what is recorded.

A hyperparameter table may set ``step_penalty`` (reward units per env step): the
learner's reward is lowered by it at every step, so that standing still until the time
limit stops being a safe harbour. It may also set ``normalize_reward = true``: the
learner's rewards are divided by a running estimate of the standard deviation of the
discounted return (SB3's ``VecNormalize`` with ``norm_obs=False``, as
rl-baselines3-zoo's ``normalize`` does for rewards). Observations are left alone, so a
saved agent needs no statistics to act.

``give_up_after_steps`` (env steps) ends a training episode, as a driver who is stuck
would, once the env's return has not reached a new high for that many steps. The
episode is logged as played (its return is the env's, its outcome ``gave_up``), and it
counts as an episode the agent acted in; CARLA agents such as Roach end training
episodes that are "blocked" likewise. ``give_up_on_infraction = true`` (CityDriving)
also gives up at the first infraction (red light, wrong lane, off the road), as
MetaDrive ends its PPO's episodes when the car leaves the road and Roach's CARLA
training ends them at a red light run: the learner never practises driving on from a
broken rule. A list (``["red_light"]``) watches only the infractions it names.

``route_reward = true`` (CityDriving) pays the learner CaRL's route-completion reward
instead of the env's (:mod:`exgen.agents.route_reward`, with its keys).

The episode log sits inside the reward wrappers and evaluations use the plain env, so
recorded returns and successes are the env's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper

from exgen.agents.route_reward import ROUTE_REWARD_KEYS, RouteReward, check_route_reward
from exgen.envs.city import public as city_public

#: The hyperparameter-table keys this module reads.
SHAPING_KEYS = ("step_penalty", "normalize_reward", "give_up_after_steps",
                "give_up_on_infraction", *ROUTE_REWARD_KEYS)
#: Per env id: the ``info["infractions"]`` counts that ``give_up_on_infraction`` watches.
INFRACTIONS = {"CityDriving-v0": ("red_light", "wrong_lane", "off_road")}


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


#: Per env id: its :class:`LidarLayout`, for the route reward's time to collision.
LIDAR = {"CityDriving-v0": LidarLayout(city_public.LIDAR_START, city_public.LANE_HEADING,
                                       np.pi, city_public.CAR_LENGTH_M / 2,
                                       city_public.CAR_WIDTH_M / 2)}

#: The outcome recorded for an episode the learner gave up.
GAVE_UP = "gave_up"


def check_shaping(table: dict[str, Any], env_id: str | None = None) -> None:
    """Raise ``ValueError`` naming a shaping key of ``table`` with an invalid value (or
    one that ``env_id`` cannot support)."""
    _check_non_negative("step_penalty", table.get("step_penalty", 0.0))
    if not isinstance(table.get("normalize_reward", False), bool):
        raise ValueError(f"normalize_reward must be true or false, "
                         f"got {table['normalize_reward']!r}")
    _watched_infractions(table, env_id)
    check_route_reward(table, env_id, LIDAR)
    _check_patience(table.get("give_up_after_steps"))


def _check_non_negative(key: str, value: Any) -> None:
    if (isinstance(value, bool) or not isinstance(value, (int, float))
            or not np.isfinite(value) or value < 0):
        raise ValueError(f"{key} must be a number >= 0, got {value!r}")


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
                      ) -> tuple[int | None, tuple[str, ...]] | None:
    """What giving up ``table`` asks for (``give_up_after_steps`` and the watched
    infractions), or None when it asks for none."""
    patience = table.get("give_up_after_steps")
    watched = _watched_infractions(table, env_id)
    if patience is None and not watched:
        return None
    return None if patience is None else int(patience), watched


def env_wrapper(table: dict[str, Any], env_id: str | None = None) -> Any:
    """A function that wraps one training env (of ``env_id``) as ``table`` asks, or None:
    giving up (``give_up_after_steps``, ``give_up_on_infraction``) happens inside the
    episode log, so it is recorded."""
    arguments = give_up_arguments(table, env_id)
    if arguments is None:
        return None
    patience, watched = arguments
    return lambda env: GiveUp(env, patience, watched)


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
    (``route_reward``, ``step_penalty``, ``normalize_reward``, with the table's
    ``gamma``), for the learner's eyes only. These wrappers read the env's private info
    (speeds, route completion, outcomes), so a training run puts them inside the agent's
    public view; with ``normalize`` False, :func:`normalize_rewards` is left to the
    caller, to put outside it."""
    check_shaping(table, env_id)
    if table.get("route_reward"):
        if env_id is None:
            raise ValueError("route_reward needs the env id, to find the lidar")
        lidar = _LidarPath(LIDAR[env_id], venv.get_attr("lidar_rays")[0],
                           venv.get_attr("lidar_range_m")[0])
        venv = RouteReward(venv, lidar.gap, **{key: float(table[key])
                                               for key in ROUTE_REWARD_KEYS[1:] if key in table})
    if table.get("step_penalty"):
        venv = StepPenalty(venv, float(table["step_penalty"]))
    return normalize_rewards(venv, table) if normalize else venv


def normalize_rewards(venv: VecEnv, table: dict[str, Any]) -> VecEnv:
    """``venv`` in SB3's ``VecNormalize`` of rewards when ``table`` sets
    ``normalize_reward`` (with its ``gamma``), else ``venv``. It reads rewards only."""
    from stable_baselines3.common.vec_env import VecNormalize

    if not table.get("normalize_reward"):
        return venv
    gamma = float(table.get("gamma", 0.99))
    return VecNormalize(venv, norm_obs=False, norm_reward=True, gamma=gamma)


class StepPenalty(VecEnvWrapper):
    """Subtracts ``step_penalty`` (reward units) from every reward of ``venv``."""

    def __init__(self, venv: VecEnv, step_penalty: float) -> None:
        _check_non_negative("step_penalty", step_penalty)
        super().__init__(venv)
        self.step_penalty = float(step_penalty)

    def reset(self) -> Any:
        return self.venv.reset()

    def step_wait(self) -> Any:
        observations, rewards, dones, infos = self.venv.step_wait()
        return observations, (rewards - self.step_penalty).astype(np.float32), dones, infos


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
        seen = distance < self.range_m * 0.999  # a saturated ray saw nothing
        nearest = city_public.nearest_ahead(distance, from_lane, seen, layout.half_width_m)
        return np.maximum(nearest - layout.half_length_m, 0.0)


class GiveUpRule:
    """When episodes give up, in each of ``num_envs`` envs at once: once its return has
    not reached a new high for ``patience`` steps (None: never for that), or once one of
    the ``infractions`` counts of its ``info["infractions"]`` grows. Per env: the
    return and its best so far [env reward units], the steps waited since, and the
    watched infractions' count."""

    def __init__(self, patience: int | None, infractions: tuple[str, ...] = (),
                 num_envs: int = 1) -> None:
        _check_patience(patience)
        self.patience = patience
        self.infractions = tuple(infractions)
        self.returns = np.zeros(num_envs)
        self.best = np.zeros(num_envs)
        self.waited = np.zeros(num_envs, np.int64)
        self.broken = np.zeros(num_envs, np.int64)

    def reset(self, mask: np.ndarray | None = None) -> None:
        """New episodes start in the envs of ``mask`` (all when None)."""
        where = slice(None) if mask is None else np.asarray(mask, np.bool_)
        for state in (self.returns, self.best, self.waited, self.broken):
            state[where] = 0

    def judge(self, rewards: np.ndarray, ended: np.ndarray, counts: Any) -> np.ndarray:
        """The envs whose episode gives up at this step (never one that ``ended``), from
        each env's reward and its infraction ``counts`` by name (arrays over the envs;
        read only when infractions are watched)."""
        self.returns += rewards  # float64, one addition per step
        high = self.returns > self.best
        self.best = np.where(high, self.returns, self.best)
        self.waited = np.where(high, 0, self.waited + 1)
        before = self.broken
        if self.infractions:
            self.broken = np.zeros(len(before), np.int64)
            for name in self.infractions:
                self.broken += np.asarray(counts[name], np.int64)
        stuck = (np.zeros(len(self.waited), np.bool_) if self.patience is None
                 else self.waited >= self.patience)
        return ~np.asarray(ended, np.bool_) & (stuck | (self.broken > before))

    def gives_up(self, reward: float, ended: bool, info: dict[str, Any]) -> bool:
        """Whether the episode of a one-env rule gives up at this step."""
        counts = info["infractions"] if self.infractions else {}
        return bool(self.judge(np.array([float(reward)]), np.array([ended]), counts)[0])


class GiveUp(gym.Wrapper):
    """Ends the episode (terminated, ``info["outcome"] = "gave_up"``) when
    :class:`GiveUpRule` says so; rewards pass unchanged."""

    def __init__(self, env: gym.Env, patience: int | None,
                 infractions: tuple[str, ...] = ()) -> None:
        super().__init__(env)
        self.rule = GiveUpRule(patience, infractions)

    @property
    def infractions(self) -> tuple[str, ...]:
        """The infractions whose count growing gives up."""
        return self.rule.infractions

    def reset(self, **kwargs: Any) -> Any:
        self.rule.reset()
        return self.env.reset(**kwargs)

    def step(self, action: Any) -> Any:
        observation, reward, terminated, truncated, info = self.env.step(action)
        if self.rule.gives_up(reward, terminated or truncated, info):
            terminated = True
            info = gave_up(info)
        return observation, reward, terminated, truncated, info


def gave_up(info: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``info`` of an episode that gave up."""
    return {**info, "outcome": GAVE_UP, "is_success": False}
