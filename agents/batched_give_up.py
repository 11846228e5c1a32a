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


class BatchGiveUp(GiveUpRule):
    """Ends the episode of each of ``num_envs`` cities as :class:`GiveUp` would (the
    arguments of :class:`~exgen.agents.reward_shaping.GiveUpRule`), judged on the
    world's vector infos."""

    def __init__(self, num_envs: int, patience: int | None,
                 infractions: tuple[str, ...] = ()) -> None:
        super().__init__(patience, infractions, num_envs)

    def __call__(self, rewards: np.ndarray, terminated: np.ndarray, truncated: np.ndarray,
                 infos: dict[str, Any]) -> np.ndarray:
        """The cities that give up at this step (a mask; never one whose episode ended),
        from the world's vector ``infos`` (``infos["infractions"]``: arrays of counts)."""
        return self.judge(rewards, terminated | truncated, infos.get("infractions"))


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
