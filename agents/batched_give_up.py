"""Giving up, for a batch of envs: the rule of :class:`~exgen.agents.reward_shaping.GiveUp`.

A batched world (:class:`~exgen.agents.batched_vec_env.BatchedVecEnv`) steps every city
at once, so no per-env gym wrapper can end one city's episode. :class:`BatchGiveUp`
keeps one give-up rule per city, the rule of ``GiveUp`` around a single env, and
judges a whole step before the adapter resets the cities whose episode ended.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from exgen.agents.reward_shaping import GiveUpRule, gave_up, give_up_arguments


class BatchGiveUp:
    """Ends the episode of each of ``num_envs`` cities as :class:`GiveUp` would: one
    :class:`~exgen.agents.reward_shaping.GiveUpRule` per city (its arguments those of
    the rule)."""

    def __init__(self, num_envs: int, patience: int | None,
                 infractions: tuple[str, ...] = (), margin: float = 0.0,
                 excused: Callable[[Any], bool] | None = None) -> None:
        self.rules = [GiveUpRule(patience, infractions, margin, excused)
                      for _ in range(num_envs)]

    def reset(self, mask: np.ndarray | None = None) -> None:
        """Start afresh the cities in ``mask`` (all when None)."""
        for i in range(len(self.rules)) if mask is None else np.flatnonzero(mask):
            self.rules[i].reset()

    def __call__(self, observations: Any, rewards: np.ndarray, terminated: np.ndarray,
                 truncated: np.ndarray, infos: list[dict[str, Any]]) -> np.ndarray:
        """``terminated`` with the cities that give up at this step added; their entries
        of ``infos`` become copies with ``outcome = "gave_up"`` and ``is_success =
        False``."""
        ended = terminated | truncated
        terminated = terminated.copy()
        for i, rule in enumerate(self.rules):
            if rule.gives_up(_city(observations, i), rewards[i], bool(ended[i]), infos[i]):
                terminated[i] = True
                infos[i] = gave_up(infos[i])
        return terminated


def batch_give_up(table: dict[str, Any], env_id: str, num_envs: int,
                  first_env: Any = None) -> BatchGiveUp | None:
    """The :class:`BatchGiveUp` that ``table`` asks for (the keys of
    :func:`~exgen.agents.reward_shaping.env_wrapper`), or None; ``first_env`` (one
    single env of the batch) tells ``give_up_excuse_waiting`` its lidar."""
    arguments = give_up_arguments(table, env_id)
    if arguments is None:
        return None
    patience, watched, margin, waits = arguments
    if waits is not None and first_env is None:
        raise ValueError("give_up_excuse_waiting needs one env of the batch, to know "
                         "its lidar")
    return BatchGiveUp(num_envs, patience, watched, margin,
                       None if waits is None else waits(first_env))


def _city(observations: Any, i: int) -> Any:
    """City ``i``'s observation out of a batch (a flat array, or a dict of them)."""
    if isinstance(observations, dict):
        return {key: value[i] for key, value in observations.items()}
    return observations[i]
