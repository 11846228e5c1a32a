"""What the learner-only wrappers read of a step's infos, as arrays over the envs.

SB3's ``VecEnv`` gives one info dict per env. A batched world's adapter
(:class:`~exgen.agents.batched_vec_env.BatchedVecEnv`) also keeps the step's vector
infos (arrays over the cities, Gymnasium's ``_key`` masks), of the world's
``LEARNER_INFO`` keys only, as ``learner_infos``: the wrappers read a key there, at
once for every env, when every env has it, and from the dicts otherwise (any other
``VecEnv``). Both give the same numbers.

A wrapper between the adapter and a reader must leave the step's infos as they are
(``VecMonitor`` and the episode log add or read keys only): the arrays are the
adapter's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from stable_baselines3.common.vec_env import VecEnv


def learner_infos(venv: VecEnv) -> dict[str, Any] | None:
    """The vector infos of the step ``venv`` just returned, where ``venv`` is or wraps a
    batched world's adapter (its ``learner_infos``); None for any other ``VecEnv``."""
    return getattr(venv, "learner_infos", None)


def info_column(arrays: dict[str, Any] | None, infos: Sequence[dict[str, Any]],
                *keys: str) -> np.ndarray:
    """``info[keys[0]][keys[1]]...`` of every env, as floats: from the vector infos
    ``arrays`` when every env has it, else from the per-env ``infos``."""
    column = _full_column(arrays, keys)
    if column is not None:
        return np.asarray(column, dtype=float)
    values = []
    for info in infos:
        for key in keys:
            info = info[key]
        values.append(info)
    return np.array(values, dtype=float)


def outcome_in(arrays: dict[str, Any] | None, infos: Sequence[dict[str, Any]],
               outcomes: Sequence[str]) -> np.ndarray:
    """Whether each env's ``info["outcome"]`` is one of ``outcomes`` (False where it
    has none), from the vector infos ``arrays`` when every env has one, else from
    ``infos``."""
    column = _full_column(arrays, ("outcome",))
    if column is None:
        return np.array([info.get("outcome") in outcomes for info in infos], np.bool_)
    found = np.zeros(len(column), np.bool_)
    for outcome in outcomes:
        found |= column == outcome
    return found


def _full_column(arrays: dict[str, Any] | None, keys: Sequence[str]) -> np.ndarray | None:
    """The array of ``keys`` (nested) in the vector infos ``arrays`` where every env has
    it (its ``_key`` masks all true), else None."""
    for key in keys:
        if arrays is None or key not in arrays:
            return None
        present = arrays.get(f"_{key}")
        if present is not None and not present.all():
            return None
        arrays = arrays[key]
    return arrays
