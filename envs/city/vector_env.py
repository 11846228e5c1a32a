"""``CityDriving-v0`` as Gymnasium's native vector env: N cities stepped together.

``gym.make_vec("CityDriving-v0", num_envs=N, vectorization_mode="vector_entry_point",
**fields)`` makes it. Each city is a :class:`~exgen.envs.city.env.CityDrivingEnv` with its
own context (drawn per episode), map and random generator. The ego cars of all cities
are rows of one :class:`~exgen.envs.city.ego.EgoBatch`: a step drives them all, moves
the other road users of all cities at once
(:func:`~exgen.envs.city.road_users.move_road_users`), then senses, settles and
observes every city, one kernel call per phase (:mod:`exgen.envs.city.batch_kernels`):
the code a single env runs as a batch of one, so N cities seeded ``seed, seed + 1,
...`` give what N single envs give. An ended city resets on the next step (Gymnasium's next-step
autoreset, as ``SyncVectorEnv``), and infos follow Gymnasium's vector conventions:
arrays over the cities, with a ``_key`` mask of the cities that have the key.
"""

from __future__ import annotations

from collections.abc import Sequence
from copy import deepcopy
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space, create_empty_array

from exgen.envs import fields as _fields
from exgen.envs.city import batch_kernels, public
from exgen.envs.city.config import CityConfig
from exgen.envs.city.env import ENV_OPTIONS, REWARD_WEIGHTS, CityDrivingEnv, observe_rows
from exgen.envs.city.infos import reset_only_infos, step_infos
from exgen.envs.city.raster import occupancy_raster
from exgen.envs.city.road_users import Fleet
from exgen.envs.city.world import PENALTIES
from exgen.envs.vector_infos import stack_infos_of

#: The most cities one vector env steps.
MAX_NUM_ENVS = 65_536
#: Steering and pedal of each discrete action.
_DISCRETE = np.array(public.DISCRETE_ACTIONS, np.float64)


class CityDrivingVectorEnv(gym.vector.VectorEnv):
    """``num_envs`` cities of ``CityDriving-v0`` stepped as one batch.

    Takes the single env's arguments (``config``, ``preset``, ``render_mode``,
    ``lidar_rays``, ... and context fields), shared by every city, or each city its own
    context (:meth:`of_cities`). ``reset(seed=s)`` seeds
    city ``i`` with ``s + i`` (a list gives one seed per city); ``options={"reset_mask":
    mask}`` resets only the masked cities.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": public.DECISION_HZ,
                "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(self, num_envs: int = 1, config: CityConfig | None = None, *,
                 render_mode: str | None = None, **kwargs: Any) -> None:
        self.num_envs = _fields.validate_int("num_envs", num_envs, 1, MAX_NUM_ENVS)
        _check_render_mode(render_mode)
        first = CityDrivingEnv(config, render_mode=render_mode, **kwargs)
        # The cities after the first take its config, which holds the fields and preset.
        options = {key: value for key, value in kwargs.items() if key in ENV_OPTIONS}
        self._setup([first] + [CityDrivingEnv(first.config, render_mode=render_mode, **options)
                               for _ in range(self.num_envs - 1)], render_mode)

    @classmethod
    def of_cities(cls, cities: Sequence[dict[str, Any]], *,
                  render_mode: str | None = None) -> CityDrivingVectorEnv:
        """One city per entry of ``cities``, each made with its own single-env arguments
        (its context: a map seed, a preset, ...), stepped as one batch. Their env options
        (``lidar_rays``, ``observe_route``, ...) and action spaces must agree."""
        count = _fields.validate_int("number of cities", len(cities), 1, MAX_NUM_ENVS)
        _check_render_mode(render_mode)
        envs = [CityDrivingEnv(render_mode=render_mode, **city) for city in cities]
        first = envs[0]
        for i, env in enumerate(envs[1:], start=1):
            differing = [name for name in (*ENV_OPTIONS, "action_space")
                         if getattr(env, name) != getattr(first, name)]
            if differing:
                raise ValueError(f"city {i} differs from city 0 in {differing}: the cities "
                                 f"of a batch share the env options and the action space")
        vector = cls.__new__(cls)
        vector.num_envs = count
        vector._setup(envs, render_mode)
        return vector

    def _setup(self, envs: list[CityDrivingEnv], render_mode: str | None) -> None:
        """Spaces and buffers of the batch of ``envs`` (its cities, made)."""
        first = envs[0]
        self.envs = envs
        self.render_mode = render_mode
        self.single_observation_space = first.observation_space
        self.single_action_space = first.action_space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._observations = create_empty_array(self.single_observation_space, self.num_envs)
        self._rewards = np.zeros(self.num_envs, np.float64)
        self._terminations = np.zeros(self.num_envs, np.bool_)
        self._truncations = np.zeros(self.num_envs, np.bool_)
        self._autoreset = np.zeros(self.num_envs, np.bool_)
        self._vectors = np.zeros((self.num_envs, first.observation_space["vector"].shape[0]
                                  if first.observe_raster else first.observation_space.shape[0]),
                                 np.float32)
        self._fleet: Fleet | None = None

    @property
    def config(self) -> CityConfig:
        """The context (with its ranges) every city draws from (the first city's, in a
        batch made by :meth:`of_cities`)."""
        return self.envs[0].config

    def reset(self, *, seed: int | Sequence[int | None] | None = None,
              options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        seeds = _seeds(seed, self.num_envs)
        mask = _reset_mask(options, self.num_envs)
        if self._fleet is None and not mask.all():
            raise RuntimeError("the first reset() must reset every city; drop reset_mask")
        observations, infos = {}, {}
        for i in np.flatnonzero(mask).tolist():
            env = self.envs[i]
            observations[i], infos[i] = env.reset(seed=seeds[i])
            self._autoreset[i] = False
            if self._fleet is not None and not mask.all():
                self._fleet.replace(i, env.world)
        if mask.all():
            self._fleet = Fleet([env.world for env in self.envs])
        self._store(np.zeros(0, np.int64), self._vectors[:0], observations)
        return deepcopy(self._observations), stack_infos_of(infos, self.num_envs)

    def step(self, actions: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray,
                                          dict[str, Any]]:
        if self._fleet is None:
            raise RuntimeError("call reset() before step()")
        actions = _split_actions(actions, self.single_action_space, self.num_envs)
        stepping = np.flatnonzero(~self._autoreset)
        resetting = np.flatnonzero(self._autoreset)
        # Every action is checked before any city drives.
        steer, pedal = self._controls(actions, stepping)
        fleet = self._fleet
        egos = fleet.egos
        egos.drive(stepping, steer, pedal)
        fleet.move()
        fleet.sense(stepping)
        egos.settle(stepping, REWARD_WEIGHTS, PENALTIES)
        vectors = observe_rows(self.envs, egos, stepping, self._vectors)
        reset_observations, reset_infos = {}, {}
        for i in resetting.tolist():
            env = self.envs[i]
            reset_observations[i], reset_infos[i] = env.reset()
            fleet.replace(i, env.world)
        outcome = egos.outcome[stepping]
        self._rewards[:] = 0.0
        self._rewards[stepping] = egos.rewards[stepping]
        self._terminations[:] = False
        self._terminations[stepping] = ((outcome == batch_kernels.COLLISION)
                                        | (outcome == batch_kernels.ARRIVED_OUTCOME))
        self._truncations[:] = False
        self._truncations[stepping] = outcome == batch_kernels.TIMEOUT
        self._autoreset = self._terminations | self._truncations
        self._store(stepping, vectors, reset_observations)
        infos = step_infos(egos, stepping)
        if reset_infos:
            infos.update(reset_only_infos(reset_infos, self.num_envs))
        return (deepcopy(self._observations), self._rewards.copy(),
                self._terminations.copy(), self._truncations.copy(), infos)

    def _controls(self, actions: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Steering and pedal in [-1, 1] of the cities ``rows``; the error of the first
        refused action (:meth:`CityDrivingEnv.controls`) if any is."""
        chosen = actions[rows]
        if self.config.continuous:
            if chosen.dtype.kind in "iuf" and np.isfinite(chosen).all():
                values = np.clip(chosen.astype(np.float64), -1.0, 1.0)
                return values[:, 0].copy(), values[:, 1].copy()
        elif chosen.dtype.kind in "iu" and ((chosen >= 0) & (chosen < len(_DISCRETE))).all():
            values = _DISCRETE[chosen]
            return values[:, 0].copy(), values[:, 1].copy()
        for i in rows.tolist():
            self.envs[i].controls(actions[i])
        raise AssertionError("an action was refused in the batch but not alone")

    def _store(self, stepping: np.ndarray, vectors: np.ndarray,
               reset_observations: dict[int, Any]) -> None:
        """The batch's observations: ``vectors`` for the cities ``stepping`` (with their
        rasters), each reset city's own."""
        observations = self._observations
        if isinstance(observations, dict):
            observations["vector"][stepping] = vectors
            for i in stepping.tolist():
                observations["raster"][i] = occupancy_raster(self.envs[i].world)
        else:
            observations[stepping] = vectors
        for i, observation in reset_observations.items():
            if isinstance(observations, dict):
                for key, value in observation.items():
                    observations[key][i] = value
            else:
                observations[i] = observation

    def render(self) -> tuple[np.ndarray, ...] | None:
        """Every city's frame, when made with ``render_mode="rgb_array"``."""
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass "
                            "render_mode='rgb_array' to gym.make_vec")
            return None
        return tuple(env.render() for env in self.envs)

    def close_extras(self, **kwargs: Any) -> None:
        for env in self.envs:
            env.close()


def _check_render_mode(render_mode: str | None) -> None:
    modes = CityDrivingVectorEnv.metadata["render_modes"]
    if render_mode not in (None, *modes):
        raise ValueError(f"render_mode of the vector env must be one of {modes} or None, "
                         f"got {render_mode!r}")


def _seeds(seed: int | Sequence[int | None] | None, n: int) -> list[int | None]:
    """One seed per city (None: fresh entropy), every one checked before any city
    resets."""
    if seed is None:
        return [None] * n
    if _is_int(seed):
        seeds: list[int | None] = [int(seed) + i for i in range(n)]
    elif isinstance(seed, Sequence | np.ndarray) and not isinstance(seed, str):
        if len(seed) != n:
            raise ValueError(f"seed must be an int, None or a list of {n} seeds (one per "
                             f"city), got a list of {len(seed)}")
        seeds = [None if s is None else int(s) if _is_int(s) else s for s in seed]
    else:
        raise TypeError(f"seed must be an int, None or a list of {n} seeds, "
                        f"got {type(seed).__name__}")
    for i, s in enumerate(seeds):
        if s is not None and not (isinstance(s, int) and s >= 0):
            raise ValueError(f"seed of city {i} must be None or an int >= 0, got {s!r}")
    return seeds


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def _reset_mask(options: dict[str, Any] | None, n: int) -> np.ndarray:
    if not options:
        return np.ones(n, np.bool_)
    unknown = sorted(set(options) - {"reset_mask"})
    if unknown:
        raise ValueError(f"CityDriving-v0's vector env takes only the reset option "
                         f"'reset_mask', got {unknown}; make a new env to change the context")
    mask = np.asarray(options["reset_mask"])
    if mask.dtype != np.bool_ or mask.shape != (n,):
        raise ValueError(f"reset_mask must be a bool array of shape ({n},), got "
                         f"{mask.dtype} of shape {mask.shape}")
    return mask


def _split_actions(actions: Any, space: gym.Space, n: int) -> Sequence[Any]:
    """One action per city, with the batch's shape checked."""
    array = np.asarray(actions)
    shape = (n, *space.shape)
    if array.shape != shape:
        raise ValueError(f"actions must have shape {shape} (one action per city), "
                         f"got {array.shape}")
    return array
