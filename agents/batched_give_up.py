"""Giving up, for a batch of envs: the rule of :class:`~exgen.agents.reward_shaping.GiveUp`.

A batched world (:class:`~exgen.agents.batched_vec_env.BatchedVecEnv`) steps every city
at once, so no per-env gym wrapper can end one city's episode. :class:`BatchGiveUp`
keeps the give-up state of every env in arrays and judges a whole step at once, before
the adapter resets the cities whose episode ended; ``GiveUp`` around a single env is
this rule for a batch of one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from exgen.agents.reward_shaping import (
    GAVE_UP,
    _check_non_negative,
    _check_patience,
    give_up_arguments,
)


class BatchGiveUp:
    """Ends the episode of each of ``num_envs`` cities as :class:`GiveUp` would: once
    its return [reward units] has not climbed ``margin`` above its last high for
    ``patience`` env steps (None: never for that; a step ``excused(observation)`` calls
    a wait does not count), or once one of its ``infractions`` counts grows."""

    def __init__(self, num_envs: int, patience: int | None,
                 infractions: tuple[str, ...] = (), margin: float = 0.0,
                 excused: Callable[[Any], bool] | None = None) -> None:
        _check_patience(patience)
        _check_non_negative("give_up_margin", margin)
        self.num_envs = num_envs
        self.patience = patience
        self.infractions = tuple(infractions)
        self.margin = float(margin)
        self.excused = excused
        self._return = np.zeros(num_envs)
        self._best = np.zeros(num_envs)
        self._waited = np.zeros(num_envs, np.int64)
        self._broken = np.zeros(num_envs, np.int64)

    def reset(self, mask: np.ndarray | None = None) -> None:
        """Start afresh the cities in ``mask`` (all when None)."""
        mask = slice(None) if mask is None else np.asarray(mask, np.bool_)
        self._return[mask] = self._best[mask] = 0.0
        self._waited[mask] = self._broken[mask] = 0

    def __call__(self, observations: Any, rewards: np.ndarray, terminated: np.ndarray,
                 truncated: np.ndarray, infos: list[dict[str, Any]]) -> np.ndarray:
        """``terminated`` with the cities that give up at this step added; their entries
        of ``infos`` become copies with ``outcome = "gave_up"`` and ``is_success =
        False``."""
        self._return += rewards  # float64, as GiveUp's Python float
        improved = self._return > self._best + self.margin
        self._best[improved] = self._return[improved]
        self._waited[improved] = 0
        waiting = ~improved
        if self.excused is not None:
            for i in np.flatnonzero(waiting):
                waiting[i] = not self.excused(_city(observations, i))
        self._waited += waiting
        broken = self._broken.copy()
        if self.infractions:
            self._broken = np.array([sum(info["infractions"][name] for name in self.infractions)
                                     for info in infos], np.int64)
        stuck = (self._waited >= self.patience if self.patience is not None
                 else np.zeros(self.num_envs, np.bool_))
        gave_up = ~(terminated | truncated) & (stuck | (self._broken > broken))
        for i in np.flatnonzero(gave_up):
            infos[i] = {**infos[i], "outcome": GAVE_UP, "is_success": False}
        return terminated | gave_up


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
