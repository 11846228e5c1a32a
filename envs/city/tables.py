"""The per-city tables of the batch kernels, every city's concatenated into one array each.

City ``k``'s table ``t`` is rows ``bounds[k, t, 0]:bounds[k, t, 1]`` of ``flat[t]``;
indices inside a table (a street's row, a node, a box) count from its first row. A
table is stored once per array object: the tables of a map, shared by its episodes
(:func:`exgen.envs.city.world._prepared` caches them), take no room again. When a
flat array fills up, the rows no city uses any more are dropped first.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: The tables, by index: grid lines (x, y) [m]; streets (a, b, one-way-to; -1 two-way)
#: and the street leaving each node each way; the nodes' centres [m], next hop toward
#: the destination, route left [m] and light phase [s], and whether a street reaches
#: them; the open arc leaving each node each way and each arc's direction and side
#: normal; per static neighbourhood (what the lidar sees, what the body hits off the
#: road, roadworks) the first cell entry of each grid cell, the cells' box rows, the
#: boxes [m].
NAMES = ("lines_x", "lines_y", "streets", "street_at", "positions", "next_hop",
         "node_values", "in_graph", "arc_at", "arc_frames", "seen_start", "seen_cells",
         "seen_boxes", "solid_start", "solid_cells", "solid_boxes", "barrier_start",
         "barrier_cells", "barrier_boxes")
(LINES_X, LINES_Y, STREETS, STREET_AT, POSITIONS, NEXT_HOP, NODE_VALUES, IN_GRAPH, ARC_AT,
 ARC_FRAMES, SEEN_START, SEEN_CELLS, SEEN_BOXES, SOLID_START, SOLID_CELLS, SOLID_BOXES,
 BARRIER_START, BARRIER_CELLS, BARRIER_BOXES) = range(len(NAMES))
#: dtype and shape after the first axis of each table.
_KINDS = {"lines_x": (np.float64, ()), "lines_y": (np.float64, ()),
          "streets": (np.int64, (3,)), "street_at": (np.int64, (4,)),
          "positions": (np.float64, (2,)), "next_hop": (np.int64, ()),
          "node_values": (np.float64, (2,)), "in_graph": (np.bool_, ()),
          "arc_at": (np.int64, (4,)), "arc_frames": (np.float64, (4,)),
          **{f"{name}_{part}": kind for name in ("seen", "solid", "barrier")
             for part, kind in (("start", (np.int64, ())), ("cells", (np.int64, ())),
                                ("boxes", (np.float64, (4,))))}}


class TableStore:
    """The tables of ``n`` cities (:data:`NAMES`), as ``flat`` arrays and ``bounds``."""

    def __init__(self, n: int) -> None:
        self.bounds = np.zeros((n, len(NAMES), 2), np.int64)
        self.flat = [np.zeros((0, *_KINDS[name][1]), _KINDS[name][0]) for name in NAMES]
        self._used = [0] * len(NAMES)
        # Per table: id of a stored array -> (the array, its first row in flat).
        self._stored: list[dict[int, tuple[np.ndarray, int]]] = [{} for _ in NAMES]

    def put(self, k: int, tables: dict[str, np.ndarray]) -> None:
        """City ``k``'s tables are now ``tables`` (by name)."""
        for t, name in enumerate(NAMES):
            array = tables[name]
            stored = self._stored[t].get(id(array))
            if stored is None or stored[0] is not array:
                stored = (array, self._append(t, array, k))
                self._stored[t][id(array)] = stored
            self.bounds[k, t] = (stored[1], stored[1] + len(array))

    def table(self, k: int, name: str) -> np.ndarray:
        """City ``k``'s table ``name``."""
        t = NAMES.index(name)
        return self.flat[t][self.bounds[k, t, 0]:self.bounds[k, t, 1]]

    def _append(self, t: int, array: np.ndarray, k: int) -> int:
        """Copy ``array`` after the used rows of ``flat[t]``, making room (dropping what
        no city but ``k`` uses, else growing); returns its first row."""
        dtype, shape = _KINDS[NAMES[t]]
        array = np.ascontiguousarray(array, dtype)
        if array.shape[1:] != shape:
            raise ValueError(f"table {NAMES[t]} must have rows of shape {shape}, "
                             f"got {array.shape[1:]}")
        size = len(array)
        if self._used[t] == 0 and len(self.flat[t]) == 0:
            # The first table is kept as it is; a later one needs room, hence a copy.
            self.flat[t], self._used[t] = array, size
            return 0
        if self._used[t] + size > len(self.flat[t]):
            self._compact(t, k)
        used = self._used[t]
        if used + size > len(self.flat[t]):
            grown = np.empty((max(2 * len(self.flat[t]), used + size), *shape), dtype)
            grown[:used] = self.flat[t][:used]
            self.flat[t] = grown
        self.flat[t][used:used + size] = array
        self._used[t] = used + size
        return used

    def _compact(self, t: int, k: int) -> None:
        """Drop from ``flat[t]`` the rows that no city other than ``k`` uses."""
        dtype, shape = _KINDS[NAMES[t]]
        bounds = self.bounds[:, t]
        others = np.arange(len(bounds)) != k
        segments = sorted({(int(begin), int(end)) for begin, end in bounds[others]
                           if end > begin})
        size = sum(end - begin for begin, end in segments)
        flat = np.empty((max(2 * size, 1), *shape), dtype)
        moved: dict[int, int] = {}
        used = 0
        for begin, end in segments:
            flat[used:used + end - begin] = self.flat[t][begin:end]
            moved[begin] = used
            used += end - begin
        for row in range(len(bounds)):
            begin, end = bounds[row]
            start = moved.get(int(begin), 0) if row != k and end > begin else 0
            bounds[row] = (start, start + end - begin if row != k and end > begin else start)
        self._stored[t] = {key: (array, moved[begin])
                           for key, (array, begin) in self._stored[t].items()
                           if begin in moved and len(array)}
        self.flat[t], self._used[t] = flat, used

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without the identities of the stored arrays (a copy has new ones)."""
        state = dict(self.__dict__)
        state["_stored"] = [{} for _ in NAMES]
        return state
