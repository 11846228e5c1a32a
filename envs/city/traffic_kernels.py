"""Compiled helpers of the other cars' step (:mod:`exgen.envs.city.traffic`)."""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, inline="always")
def _after(arc_a: int, s_a: float, arc_b: int, s_b: float) -> bool:
    """Whether car a sorts after car b: by arc, then distance along it, NaN last."""
    if arc_a != arc_b:
        return arc_a > arc_b
    return s_a > s_b or (s_a != s_a and s_b == s_b)


@numba.njit(cache=True)
def arc_order(arc: np.ndarray, s: np.ndarray, car_base: np.ndarray) -> np.ndarray:
    """``np.lexsort((s, arc))``: the cars by arc, then by distance ``s`` along it [m],
    equals in index order; each city's cars (``car_base[k]:car_base[k + 1]``) sorted
    apart, its arcs being numbered after the previous city's."""
    order = np.empty(arc.shape[0], np.int64)
    for k in range(car_base.shape[0] - 1):
        first = car_base[k]
        for i in range(first, car_base[k + 1]):
            j = i
            while j > first and _after(arc[order[j - 1]], s[order[j - 1]], arc[i], s[i]):
                order[j] = order[j - 1]
                j -= 1
            order[j] = i
    return order
