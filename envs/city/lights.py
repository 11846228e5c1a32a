"""Traffic light timing: two protected phases per light, offsets per intersection.

West-east approaches (axis 0) get green, then amber, then all red; then south-north
(axis 1) the same. Each light starts its cycle at its own offset, drawn per episode.
``public.light_state`` states the rule; this module evaluates it for one light or for
many at once, in one city or in many cities joined (:meth:`Lights.join`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from exgen.envs.city import public
from exgen.envs.city.rows import replace_rows

#: Codes of :meth:`Lights.codes`.
NO_LIGHT, GREEN, AMBER, RED = -1, 0, 1, 2


#: Per-node arrays of joined lights.
_JOINED = ("offset", "city_of_node", "_green", "_red", "_half_cycle")


class Lights:
    """Every light of a city: offsets [s] per node (NaN where there is no light)."""

    def __init__(self, offsets: dict[int, float], n_nodes: int, green_s: float,
                 amber_s: float, all_red_s: float) -> None:
        self.offsets = dict(offsets)
        self.offset = np.full(n_nodes, np.nan)
        for node, offset in offsets.items():
            self.offset[node] = offset
        self.green_s, self.amber_s, self.all_red_s = green_s, amber_s, all_red_s
        self.half_cycle_s = green_s + amber_s + all_red_s
        # Per node, for lights of many cities at once: each node's city and timings.
        self.city_of_node = np.zeros(n_nodes, int)
        self._green = np.full(n_nodes, green_s)
        self._red = np.full(n_nodes, green_s + amber_s)
        self._half_cycle = np.full(n_nodes, self.half_cycle_s)

    @classmethod
    def join(cls, parts: Sequence[Lights]) -> Lights:
        """The lights of several cities as one, nodes numbered city after city; their
        :meth:`codes` then take one time per city. :meth:`state` is for one city only."""
        joined = cls.__new__(cls)
        joined.offsets = {}
        joined.green_s = joined.amber_s = joined.all_red_s = joined.half_cycle_s = None
        joined.offset = np.concatenate([part.offset for part in parts])
        joined.city_of_node = np.repeat(np.arange(len(parts)),
                                        [len(part.offset) for part in parts])
        for name in ("_green", "_red", "_half_cycle"):
            setattr(joined, name, np.concatenate([getattr(part, name) for part in parts]))
        return joined

    def replaced(self, k: int, nodes: slice, part: Lights) -> Lights:
        """These joined lights with city ``k``'s (intersections ``nodes``) replaced by
        those of ``part`` (one city), as :meth:`join` would give them."""
        joined = Lights.__new__(Lights)
        joined.offsets = {}
        joined.green_s = joined.amber_s = joined.all_red_s = joined.half_cycle_s = None
        columns = replace_rows(self, part, _JOINED, nodes, {"city_of_node": (k, 0)})
        for name, array in columns.items():
            setattr(joined, name, array)
        return joined

    def _phase(self, nodes: np.ndarray, axes: np.ndarray,
               time_s: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Time into each light's cycle [s] for approaches along ``axes``, and the cycle.
        ``time_s`` is the city's clock, or one clock per city of joined lights."""
        if np.ndim(time_s):
            time_s = time_s[self.city_of_node[nodes]]
        half = self._half_cycle[nodes]
        return np.mod(time_s + self.offset[nodes] - axes * half, 2.0 * half), half

    def state(self, node: int, axis: int, time_s: float) -> str | None:
        """``green``, ``amber`` or ``red`` for approaches along ``axis``; None if no light."""
        offset = self.offsets.get(node)
        if offset is None:
            return None
        return public.light_state(time_s + offset, axis, self.green_s, self.amber_s,
                                  self.all_red_s)

    def codes(self, nodes: np.ndarray, axes: np.ndarray,
              time_s: float | np.ndarray) -> np.ndarray:
        """:data:`GREEN`, :data:`AMBER`, :data:`RED` or :data:`NO_LIGHT` for many at once."""
        t, _ = self._phase(nodes, axes, time_s)
        codes = (t >= self._green[nodes]).astype(int) + (t >= self._red[nodes])
        codes[np.isnan(t)] = NO_LIGHT
        return codes

    def time_to_green(self, nodes: np.ndarray, axes: np.ndarray,
                      time_s: float | np.ndarray) -> np.ndarray:
        """Seconds until the next green for approaches along ``axes`` (0 while green)."""
        t, half = self._phase(nodes, axes, time_s)
        return np.where(t < self._green[nodes], 0.0, 2.0 * half - t)
