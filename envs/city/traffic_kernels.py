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


@numba.njit(cache=True)
def mark_crosswalks(s: np.ndarray, stop: np.ndarray, half_width: np.ndarray,
                    arc: np.ndarray, next_arc: np.ndarray, reserved: np.ndarray,
                    arc_from: np.ndarray, arc_to: np.ndarray, direction: np.ndarray,
                    half_length: float, length: float, crosswalk: float, reach: float,
                    danger: np.ndarray) -> None:
    """Mark in ``danger`` (intersections, 4 arms) the crosswalks a car is about to cross
    or is crossing: the one before its stop line once its front is within ``reach`` [m]
    of it, the one it leaves by when it holds a reservation, and the one behind it while
    it is still near (cars' distances ``s`` and ``stop`` along their arcs [m])."""
    for car in range(s.shape[0]):
        a = arc[car]
        if s[car] + half_length > stop[car] - crosswalk - reach and s[car] < stop[car]:
            danger[arc_to[a], (direction[a] + 2) % 4] = True
        if reserved[car]:
            danger[arc_to[a], direction[next_arc[car]]] = True
        if s[car] < half_width[car] + crosswalk + length:
            danger[arc_from[a], direction[a]] = True
