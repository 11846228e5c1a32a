"""The envs that :func:`~exgen.agents.batched_episodes.run_batched_episodes` steps: N
instances, each its own env (its own context and random generator), stepped together.

:class:`LockstepEnvs` steps N single envs one after the other (any env id);
:class:`CityBatch` steps N cities of ``CityDriving-v0`` as one batch of its batched
world (:meth:`~exgen.envs.city.vector_env.CityDrivingVectorEnv.of_cities`), each city its
own context, which plays the episodes of N single envs seeded alike. Both keep the
batch's observations in ``observations`` (an array with one row per env, or a dict of
them) and reset an env only when told, with no seed after the first reset, so each env's
generator continues from one trial to the next as a single env's does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

import gymnasium as gym
import numpy as np
from gymnasium.vector.utils import create_empty_array

from exgen.agents.batched_vec_env import unbatch_info

#: The info dict of env ``i`` after the last step (the runner's: it is never an agent's).
InfoOf = Callable[[int], dict[str, Any]]


class EpisodeWorld(Protocol):
    """N envs stepped together; ``observations`` holds their latest observations."""

    num_envs: int
    action_space: gym.Space  #: one env's
    observations: Any

    def reset(self, seeds: Sequence[int | None]) -> list[dict[str, Any]]: ...

    def step(self, rows: np.ndarray, actions: np.ndarray) -> tuple[
        np.ndarray, np.ndarray, np.ndarray, InfoOf]: ...

    def reset_rows(self, rows: np.ndarray) -> list[dict[str, Any]]: ...

    def close(self) -> None: ...


class LockstepEnvs:
    """N single envs (``gym.make``'s, as the sequential path makes them) stepped in turn.

    ``reset(seeds)`` resets env ``i`` with ``seeds[i]`` and gives the reset infos;
    ``step(rows, actions)`` steps the envs ``rows`` only, giving their rewards,
    terminations and truncations (aligned with ``rows``) and their infos by env index;
    ``reset_rows(rows)`` starts their next episode unseeded.
    """

    def __init__(self, envs: Sequence[gym.Env]) -> None:
        self.envs = list(envs)
        self.num_envs = len(self.envs)
        self.action_space = self.envs[0].action_space
        self.observations = create_empty_array(self.envs[0].observation_space, self.num_envs)

    def reset(self, seeds: Sequence[int | None]) -> list[dict[str, Any]]:
        return [self._reset(i, seed) for i, seed in enumerate(seeds)]

    def step(self, rows: np.ndarray, actions: np.ndarray) -> tuple[
            np.ndarray, np.ndarray, np.ndarray, InfoOf]:
        rewards = np.zeros(len(rows), np.float64)
        terminated = np.zeros(len(rows), np.bool_)
        truncated = np.zeros(len(rows), np.bool_)
        infos: dict[int, dict[str, Any]] = {}
        for j, i in enumerate(rows.tolist()):
            observation, reward, terminated[j], truncated[j], infos[i] = self.envs[i].step(
                actions[j])
            rewards[j] = float(reward)
            put_row(self.observations, i, observation)
        return rewards, terminated, truncated, infos.__getitem__

    def reset_rows(self, rows: np.ndarray) -> list[dict[str, Any]]:
        return [self._reset(i, None) for i in rows.tolist()]

    def close(self) -> None:
        for env in self.envs:
            env.close()

    def _reset(self, i: int, seed: int | None) -> dict[str, Any]:
        observation, info = self.envs[i].reset(seed=seed)
        put_row(self.observations, i, observation)
        return info


class CityBatch:
    """N cities of ``CityDriving-v0``, ``cities[i]`` the single-env arguments of city
    ``i``, stepped as one batch of the batched world; the interface of
    :class:`LockstepEnvs`.

    The batch steps every city: a city whose instance has played its trials (not in
    ``rows``) drives on with the action it was last given, and the world resets it when
    its episode ends; nothing reads it.
    """

    def __init__(self, cities: Sequence[dict[str, Any]]) -> None:
        from exgen.envs.city.vector_env import CityDrivingVectorEnv

        self.venv = CityDrivingVectorEnv.of_cities(cities)
        self.num_envs = self.venv.num_envs
        self.action_space = self.venv.single_action_space
        self.observations: Any = None
        self._actions = create_empty_array(self.action_space, self.num_envs)

    def reset(self, seeds: Sequence[int | None]) -> list[dict[str, Any]]:
        self.observations, infos = self.venv.reset(seed=list(seeds))
        return [unbatch_info(infos, i) for i in range(self.num_envs)]

    def step(self, rows: np.ndarray, actions: np.ndarray) -> tuple[
            np.ndarray, np.ndarray, np.ndarray, InfoOf]:
        self._actions[rows] = actions
        self.observations, rewards, terminated, truncated, infos = self.venv.step(
            self._actions)
        return (rewards[rows], terminated[rows], truncated[rows],
                lambda i: unbatch_info(infos, i))

    def reset_rows(self, rows: np.ndarray) -> list[dict[str, Any]]:
        mask = np.zeros(self.num_envs, np.bool_)
        mask[rows] = True
        self.observations, infos = self.venv.reset(options={"reset_mask": mask})
        return [unbatch_info(infos, i) for i in rows.tolist()]

    def close(self) -> None:
        self.venv.close()


def episode_world(env_id: str, instances: Sequence[dict[str, Any]],
                  world: str = "auto") -> EpisodeWorld:
    """The envs of ``instances`` (each one's env arguments): ``"batched"`` (the city's
    batched world), ``"lockstep"`` (single envs), or ``"auto"``, batched where
    ``env_id`` has a batched world."""
    from exgen.agents.batched_vec_env import BATCHED_ENVS

    if world not in ("auto", "batched", "lockstep"):
        raise ValueError(f"world must be 'auto', 'batched' or 'lockstep', got {world!r}")
    batched = env_id == "CityDriving-v0" and not any("contexts" in i for i in instances)
    if world == "batched" and not batched:
        raise ValueError(f"{env_id} with these instances has no batched world; use "
                         f"'lockstep' (batched worlds: {', '.join(BATCHED_ENVS)})")
    if batched and world != "lockstep":
        return CityBatch(instances)
    return LockstepEnvs([gym.make(env_id, **instance) for instance in instances])


def put_row(batch: Any, i: int, observation: Any) -> None:
    """Row ``i`` of ``batch`` (an array, or a dict of them) takes ``observation``."""
    if isinstance(batch, dict):
        for key, value in observation.items():
            batch[key][i] = value
    else:
        batch[i] = observation


def take_rows(batch: Any, rows: np.ndarray) -> Any:
    """Rows ``rows`` of ``batch`` (an array, or a dict of them), a copy."""
    if isinstance(batch, dict):
        return {key: value[rows] for key, value in batch.items()}
    return batch[rows]
