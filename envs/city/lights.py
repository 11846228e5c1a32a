"""Traffic light timing: two protected phases per light, offsets per intersection.

West-east approaches (axis 0) get green, then amber, then all red; then south-north
(axis 1) the same. Each light starts its cycle at its own offset, drawn per episode.
``public.light_state`` states the rule; this module evaluates it for one light or for
many at once.
"""

from __future__ import annotations

import numpy as np

from exgen.envs.city import public

#: Codes of :meth:`Lights.codes`.
NO_LIGHT, GREEN, AMBER, RED = -1, 0, 1, 2


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


    def state(self, node: int, axis: int, time_s: float) -> str | None:
        """``green``, ``amber`` or ``red`` for approaches along ``axis``; None if no light."""
        offset = self.offsets.get(node)
        if offset is None:
            return None
        return public.light_state(time_s + offset, axis, self.green_s, self.amber_s,
                                  self.all_red_s)

    def codes(self, nodes: np.ndarray, axes: np.ndarray, time_s: float) -> np.ndarray:
        """:data:`GREEN`, :data:`AMBER`, :data:`RED` or :data:`NO_LIGHT` for many at once."""
        t = np.mod(time_s + self.offset[nodes] - axes * self.half_cycle_s,
                   2.0 * self.half_cycle_s)
        codes = (t >= self.green_s).astype(int) + (t >= self.green_s + self.amber_s)
        codes[np.isnan(t)] = NO_LIGHT
        return codes

    def time_to_green(self, nodes: np.ndarray, axes: np.ndarray, time_s: float) -> np.ndarray:
        """Seconds until the next green for approaches along ``axes`` (0 while green)."""
        cycle = 2.0 * self.half_cycle_s
        t = np.mod(time_s + self.offset[nodes] - axes * self.half_cycle_s, cycle)
        return np.where(t < self.green_s, 0.0, cycle - t)
