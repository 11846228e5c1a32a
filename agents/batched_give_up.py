"""Giving up, for a batch of envs: the rule of :class:`~exgen.agents.reward_shaping.GiveUp`.

A batched world (:class:`~exgen.agents.batched_vec_env.BatchedVecEnv`) steps every city
at once, so no per-env gym wrapper can end one city's episode. :class:`BatchGiveUp`
applies the rule of ``GiveUp`` around a single env
(:class:`~exgen.agents.reward_shaping.GiveUpRule`) to every city at once, on arrays
over the cities (the world's vector infos), and judges a whole step before the adapter
resets the cities whose episode ended.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from exgen.agents.reward_shaping import GAVE_UP, GiveUpRule, give_up_arguments


class BatchGiveUp:
    """Ends the episode of each of ``num_envs`` cities as :class:`GiveUp` would, with
    the arguments of :class:`~exgen.agents.reward_shaping.GiveUpRule`: per city, the
    env's return, its best so far, the steps waited since, and the watched infractions'
    count, as arrays, updated as one rule per city would update them."""

    def __init__(self, num_envs: int, patience: int | None,
                 infractions: tuple[str, ...] = ()) -> None:
        rule = GiveUpRule(patience, infractions)  # checks the arguments
        self.patience, self.infractions = rule.patience, rule.infractions
        self.returns = np.zeros(num_envs)  # env reward units
        self.best = np.zeros(num_envs)  # env reward units
        self.waited = np.zeros(num_envs, np.int64)  # env steps
        self.broken = np.zeros(num_envs, np.int64)  # watched infractions

    def reset(self, mask: np.ndarray | None = None) -> None:
        """Start afresh the cities in ``mask`` (all when None)."""
        where = slice(None) if mask is None else np.asarray(mask, np.bool_)
        for state in (self.returns, self.best, self.waited, self.broken):
            state[where] = 0

    def __call__(self, rewards: np.ndarray, terminated: np.ndarray, truncated: np.ndarray,
                 infos: dict[str, Any]) -> np.ndarray:
        """The cities that give up at this step (a mask; never one whose episode ended),
        from the world's vector ``infos`` (``infos["infractions"]``: arrays of counts)."""
        self.returns += rewards  # float64, as the rule's float additions
        high = self.returns > self.best
        self.best = np.where(high, self.returns, self.best)
        self.waited = np.where(high, 0, self.waited + 1)
        broken = self.broken
        if self.infractions:
            counts = infos["infractions"]
            self.broken = sum(np.asarray(counts[name], np.int64) for name in self.infractions)
        stuck = (np.zeros(len(self.waited), np.bool_) if self.patience is None
                 else self.waited >= self.patience)
        return ~(terminated | truncated) & (stuck | (self.broken > broken))


def gave_up_infos(infos: dict[str, Any], gave_up: np.ndarray) -> dict[str, Any]:
    """The vector ``infos`` with those of the cities in ``gave_up`` as
    :func:`~exgen.agents.reward_shaping.gave_up` makes them: ``outcome = "gave_up"``,
    ``is_success = False``; the arrays changed are copies."""
    changed = dict(infos)
    for key, value in (("outcome", GAVE_UP), ("is_success", False)):
        column = infos.get(key)
        if column is None:  # a key no city had: None (or False) but where given up
            column = (np.full(len(gave_up), None, object) if key == "outcome"
                      else np.zeros(len(gave_up), np.bool_))
        column = column.copy()
        column[gave_up] = value
        mask = infos.get(f"_{key}", np.zeros(len(gave_up), np.bool_)) | gave_up
        changed[key], changed[f"_{key}"] = column, mask
    return changed


def batch_give_up(table: dict[str, Any], env_id: str, num_envs: int) -> BatchGiveUp | None:
    """The :class:`BatchGiveUp` that ``table`` asks for (the keys of
    :func:`~exgen.agents.reward_shaping.env_wrapper`), or None."""
    arguments = give_up_arguments(table, env_id)
    if arguments is None:
        return None
    return BatchGiveUp(num_envs, *arguments)
