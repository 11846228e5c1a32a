"""The vector env's ``info`` built as arrays over the cities, straight from the batch.

:func:`step_infos` gives what stacking each city's ``info`` gives
(:func:`exgen.envs.vector_infos.stack_infos`): the same keys, ``_key`` masks, dtypes and
values, with the reward terms masked off for the cities that reset in this step (their
``info`` has none). :func:`reset_only_infos` adds the keys only a reset's ``info`` has.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from exgen.envs.city import batch_kernels, kernels
from exgen.envs.city.ego import INFRACTIONS, OUTCOMES, EgoBatch
from exgen.envs.vector_infos import stack_infos_of

#: The outcome names as an object array, indexed by code.
_OUTCOME_NAMES = np.array(OUTCOMES, object)
#: Names of the reward terms, in the order of ``EgoBatch.terms``.
REWARD_TERMS = ("progress", "infractions", "collision", "arrival")
#: Keys of a reset's ``info`` that a step's lacks.
RESET_ONLY_KEYS = ("map", "context", "time_limit_s")


def step_infos(egos: EgoBatch, stepped: np.ndarray) -> dict[str, Any]:
    """Every city's ``info`` as of now (rows of ``egos``), the reward terms of the cities
    ``stepped`` (the others have just reset)."""
    n = egos.n
    every = np.ones(n, np.bool_)
    arrived = egos.outcome == batch_kernels.ARRIVED_OUTCOME
    counts = egos.counts
    columns: dict[str, Any] = {
        "is_success": arrived, "outcome": _OUTCOME_NAMES[egos.outcome],
        "clean_arrival": arrived & ~counts.any(axis=1),
        "infractions": _masked({name: counts[:, i].copy()
                                for i, name in enumerate(INFRACTIONS)}, every),
        "route_completion": egos.route_completion.copy(),
        "driving_score": egos.driving_score.copy(),
        "route_distance_m": egos.readings[:, kernels.ROUTE_DISTANCE].copy(),
        "speed_mps": egos.car[:, kernels.SPEED].copy(),
        "speed_limit_mps": egos.speed_limit.copy(),
        "slipping": egos.car[:, kernels.SLIPPING] != 0.0,
        "time_s": egos.time.copy()}
    if len(stepped):
        terms = np.zeros((n, len(REWARD_TERMS)))
        terms[stepped] = egos.terms[stepped]
        mask = np.zeros(n, np.bool_)
        mask[stepped] = True
        columns["reward_terms"] = _masked({name: terms[:, i].copy()
                                           for i, name in enumerate(REWARD_TERMS)}, mask)
    else:
        columns["reward_terms"] = {}
    return _masked(columns, every)


def reset_only_infos(infos: dict[int, dict[str, Any]], n: int) -> dict[str, Any]:
    """The keys only a reset's ``info`` has, of the cities ``infos`` (by index) of
    ``n``, stacked."""
    return stack_infos_of({i: {key: info[key] for key in RESET_ONLY_KEYS}
                           for i, info in infos.items()}, n)


def _masked(columns: dict[str, Any], mask: np.ndarray) -> dict[str, Any]:
    """``columns`` each followed by its ``_key`` mask."""
    infos: dict[str, Any] = {}
    for key, value in columns.items():
        infos[key] = value
        infos[f"_{key}"] = mask.copy()
    return infos
