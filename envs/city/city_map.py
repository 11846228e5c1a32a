"""The city map: intersections on a grid of uneven blocks, joined by streets.

Plain data, like a navigation app's map: where the intersections are, which streets
join them, which are one-way or closed by roadworks, and where the traffic lights
stand. Intersection ``(column, row)`` has node id ``row * columns + column``; columns
run west to east (x grows), rows south to north (y grows). A street joins two
neighbouring intersections and is straight. No Gymnasium import here.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field

import networkx as nx
import numpy as np


class MapError(ValueError):
    """A map that cannot be driven: unconnected roads, a bad street or node."""


@dataclass(frozen=True)
class Street:
    """A street between neighbouring intersections ``a < b``.

    ``one_way_to`` is None for a two-way street, else the node traffic flows toward.
    ``closed`` means roadworks close the whole street. ``closed_toward`` names the node
    toward which the lanes are closed by roadworks (the other direction stays open).
    """

    a: int
    b: int
    one_way_to: int | None = None
    closed: bool = False
    closed_toward: int | None = None

    def directions(self) -> tuple[tuple[int, int], ...]:
        """The open directed arcs ``(from, to)`` of this street."""
        if self.closed:
            return ()
        arcs = ((self.a, self.b), (self.b, self.a))
        blocked = self.closed_toward
        if self.one_way_to is not None:
            blocked = self.a if self.one_way_to == self.b else self.b
        return tuple(arc for arc in arcs if arc[1] != blocked)


@dataclass(frozen=True)
class CityMap:
    """A city: grid positions of the intersections, its streets and traffic lights."""

    column_x_m: tuple[float, ...]
    row_y_m: tuple[float, ...]
    streets: tuple[Street, ...]
    lights: frozenset[int] = frozenset()
    name: str = ""
    _by_pair: dict[tuple[int, int], Street] = field(
        init=False, repr=False, compare=False, hash=False)
    _positions: tuple[tuple[float, float], ...] = field(
        init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "streets", tuple(sorted(self.streets,
                                                         key=lambda s: (s.a, s.b))))
        object.__setattr__(self, "lights", frozenset(self.lights))
        by_pair: dict[tuple[int, int], Street] = {}
        for street in self.streets:
            self._check_street(street)
            if (street.a, street.b) in by_pair:
                raise MapError(f"two streets join {self.label(street.a)} and "
                               f"{self.label(street.b)}")
            by_pair[(street.a, street.b)] = street
            by_pair[(street.b, street.a)] = street
        object.__setattr__(self, "_by_pair", by_pair)
        object.__setattr__(self, "_positions", tuple(
            (x, y) for y in self.row_y_m for x in self.column_x_m))
        if "#" in self.name or "\n" in self.name:
            raise MapError(f"a map name may not hold '#' or a line break, got {self.name!r}")
        for node in self.lights:
            if not 0 <= node < self.n_nodes:
                raise MapError(f"traffic light at node {node}, outside the map")

    # ------------------------------------------------------------------ grid
    @property
    def n_columns(self) -> int:
        return len(self.column_x_m)

    @property
    def n_rows(self) -> int:
        return len(self.row_y_m)

    @property
    def n_nodes(self) -> int:
        return self.n_columns * self.n_rows

    @property
    def size_m(self) -> tuple[float, float]:
        """Width and height between the outermost intersections [m]."""
        return self.column_x_m[-1] - self.column_x_m[0], self.row_y_m[-1] - self.row_y_m[0]

    def node(self, column: int, row: int) -> int:
        if not (0 <= column < self.n_columns and 0 <= row < self.n_rows):
            raise MapError(f"intersection ({column}, {row}) is outside the "
                           f"{self.n_columns}x{self.n_rows} map")
        return row * self.n_columns + column

    def label(self, node: int) -> tuple[int, int]:
        """``(column, row)`` of a node id."""
        return node % self.n_columns, node // self.n_columns

    def position(self, node: int) -> tuple[float, float]:
        """Centre of an intersection [m]."""
        return self._positions[node]

    def street(self, u: int, v: int) -> Street | None:
        """The street joining ``u`` and ``v``, if any."""
        return self._by_pair.get((u, v))

    def length(self, u: int, v: int) -> float:
        """Centre-to-centre length of the street from ``u`` to ``v`` [m]."""
        (x0, y0), (x1, y1) = self.position(u), self.position(v)
        return abs(x1 - x0) + abs(y1 - y0)

    def arcs(self) -> list[tuple[int, int]]:
        """Every open directed arc ``(from, to)``, in a fixed order."""
        return [arc for street in self.streets for arc in street.directions()]

    def degree(self, node: int) -> int:
        """Streets (closed ones included) meeting at ``node``."""
        return sum(1 for street in self.streets if node in (street.a, street.b))

    def graph(self) -> nx.DiGraph:
        """The drivable road graph: open arcs weighted by length [m]."""
        graph = nx.DiGraph()
        graph.add_nodes_from(self._street_nodes())
        graph.add_weighted_edges_from((u, v, self.length(u, v)) for u, v in self.arcs())
        return graph

    def check_connected(self) -> None:
        """Raise :class:`MapError` unless every street's ends reach each other by road."""
        nodes = self._street_nodes()
        if not nodes:
            raise MapError("the map has no streets")
        graph = self.graph()
        if not nx.is_strongly_connected(graph):
            parts = sorted(nx.strongly_connected_components(graph), key=len)
            stranded = sorted(self.label(n) for n in parts[0])
            raise MapError(f"the roads are not all connected: intersections {stranded} "
                           f"cannot be reached from the rest or cannot reach it "
                           f"(mind one-way streets and closures)")

    def _street_nodes(self) -> list[int]:
        return sorted({n for street in self.streets for n in (street.a, street.b)})

    def _check_street(self, street: Street) -> None:
        if not (0 <= street.a < street.b < self.n_nodes):
            raise MapError(f"street ({street.a}, {street.b}) needs 0 <= a < b < {self.n_nodes}")
        (ca, ra), (cb, rb) = self.label(street.a), self.label(street.b)
        if abs(ca - cb) + abs(ra - rb) != 1:
            raise MapError(f"street from {(ca, ra)} to {(cb, rb)} does not join neighbours")
        for name, end in (("one_way_to", street.one_way_to),
                          ("closed_toward", street.closed_toward)):
            if end is not None and end not in (street.a, street.b):
                raise MapError(f"street {(ca, ra)}-{(cb, rb)}: {name}={end} is not one of its ends")
        if street.one_way_to is not None and street.closed_toward is not None:
            raise MapError(f"street {(ca, ra)}-{(cb, rb)} is one-way and has a lane closure")

    # -------------------------------------------------------------- publishing
    def to_public(self) -> dict:
        """The map as a navigation app gives it: plain, JSON-ready data."""
        nodes = [{"id": n, "column": self.label(n)[0], "row": self.label(n)[1],
                  "x_m": self.position(n)[0], "y_m": self.position(n)[1],
                  "traffic_light": n in self.lights} for n in range(self.n_nodes)]
        streets = [{"a": s.a, "b": s.b, "length_m": self.length(s.a, s.b),
                    "one_way_to": s.one_way_to, "closed": s.closed,
                    "closed_toward": s.closed_toward,
                    "open_directions": [list(arc) for arc in s.directions()]}
                   for s in self.streets]
        return {"name": self.name, "columns": self.n_columns, "rows": self.n_rows,
                "column_x_m": list(self.column_x_m), "row_y_m": list(self.row_y_m),
                "nodes": nodes, "streets": streets}


def grid_streets(columns: int, rows: int) -> list[Street]:
    """Every street of a full grid, west-east ones first."""
    streets = [Street(r * columns + c, r * columns + c + 1)
               for r in range(rows) for c in range(columns - 1)]
    streets += [Street(r * columns + c, (r + 1) * columns + c)
                for r in range(rows - 1) for c in range(columns)]
    return streets


@functools.lru_cache(maxsize=256)
def generate_map(seed: int, columns: int, rows: int, min_block_m: float, max_block_m: float,
                 removed_street_fraction: float, one_way_fraction: float,
                 closed_street_fraction: float, closed_lane_fraction: float,
                 traffic_light_fraction: float) -> CityMap:
    """A procedural city from ``seed``: the same arguments give the same city.

    Streets are removed, made one-way and closed in random order, each change kept
    only if every intersection can still reach every other by road.
    """
    rng = np.random.default_rng(seed)
    xs = positions(np.round(rng.uniform(min_block_m, max_block_m, columns - 1), 1))
    ys = positions(np.round(rng.uniform(min_block_m, max_block_m, rows - 1), 1))
    streets = {(s.a, s.b): s for s in grid_streets(columns, rows)}
    undirected = nx.Graph(list(streets))
    directed = nx.DiGraph([arc for s in streets.values() for arc in s.directions()])

    def shuffled(keys: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
        keys = sorted(keys)
        return [keys[i] for i in rng.permutation(len(keys))]

    def quota(fraction: float, available: int) -> int:
        return round(fraction * available)

    remove = quota(removed_street_fraction, len(streets))
    for key in shuffled(streets):
        if remove == 0:
            break
        undirected.remove_edge(*key)
        if min(dict(undirected.degree).values()) > 0 and nx.is_connected(undirected):
            del streets[key]
            directed.remove_edges_from([key, key[::-1]])
            remove -= 1
        else:
            undirected.add_edge(*key)

    def try_close(key: tuple[int, int], arcs: list[tuple[int, int]], street: Street) -> bool:
        directed.remove_edges_from(arcs)
        if nx.is_strongly_connected(directed):
            streets[key] = street
            return True
        directed.add_edges_from(arcs)
        return False

    changes = [
        (one_way_fraction, "one_way"),
        (closed_street_fraction, "closed"),
        (closed_lane_fraction, "closed_lane"),
    ]
    for fraction, kind in changes:
        candidates = [k for k, s in streets.items()
                      if not s.closed and s.one_way_to is None and s.closed_toward is None]
        left = quota(fraction, len(candidates))
        for key in shuffled(candidates):
            if left == 0:
                break
            a, b = key
            toward = (a, b)[int(rng.integers(2))]
            against = a if toward == b else b
            if kind == "one_way":
                changed = try_close(key, [(toward, against)], Street(a, b, one_way_to=toward))
            elif kind == "closed":
                changed = try_close(key, [(a, b), (b, a)], Street(a, b, closed=True))
            else:
                changed = try_close(key, [(against, toward)],
                                    Street(a, b, closed_toward=toward))
            left -= changed
    degree = dict(undirected.degree)
    lights = frozenset(n for n in sorted(degree)
                       if degree[n] >= 3 and rng.random() < traffic_light_fraction)
    return CityMap(xs, ys, tuple(streets.values()), lights, name=f"generated-{seed}")


def positions(gaps: Iterable[float]) -> tuple[float, ...]:
    """Grid coordinates [m] from the gaps between neighbouring intersections, from 0."""
    coordinates = [0.0]
    for gap in gaps:
        coordinates.append(coordinates[-1] + float(gap))
    return tuple(coordinates)
