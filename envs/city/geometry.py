"""Where the road is: curbs, buildings and roadworks as axis-aligned boxes.

Every street is straight and axis-aligned, so the space between roads is a set of
boxes ``[x0, y0, x1, y1]`` [m]. *Curb* boxes bound the road surface (the lidar sees
them and a car whose centre crosses one has left the road); *building* boxes sit a
sidewalk inside them (touching one is a collision); *barrier* boxes are roadworks on
the road. :class:`Neighbourhood` keeps, per grid cell, the boxes within the lidar's
range, so a step only looks at the boxes near the car.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from exgen.envs.city import public
from exgen.envs.city.city_map import CityMap, grid_streets

#: How far the boxes around the city reach beyond its outer streets [m].
OUTER_MARGIN_M = 200.0
#: Gap between roadworks and the intersections at the street's ends [m]: room for a
#: turning car to swing (see ``world.TURN_SWING_M``).
BARRIER_SETBACK_M = 5.0


@dataclass(frozen=True)
class RoadLayout:
    """The boxes of one city for one lane layout and driving side."""

    curbs: np.ndarray
    buildings: np.ndarray
    barriers: np.ndarray
    half_width_m: float


def road_layout(city: CityMap, lanes_per_direction: int, lane_width_m: float,
                driving_side: str) -> RoadLayout:
    """Curb, building and barrier boxes of ``city``."""
    hw = public.road_half_width(lanes_per_direction, lane_width_m)
    sw = public.SIDEWALK_M
    xs, ys = city.column_x_m, city.row_y_m
    curbs: list[tuple[float, float, float, float]] = []
    buildings: list[tuple[float, float, float, float]] = []

    def add(x0: float, y0: float, x1: float, y1: float, sides: tuple[bool, ...]) -> None:
        """A curb box and its building, inset on the sides (W, S, E, N) that face a road."""
        curbs.append((x0, y0, x1, y1))
        w, s, e, n = (sw if side else 0.0 for side in sides)
        buildings.append((x0 + w, y0 + s, x1 - e, y1 - n))

    for c in range(city.n_columns - 1):
        for r in range(city.n_rows - 1):
            add(xs[c] + hw, ys[r] + hw, xs[c + 1] - hw, ys[r + 1] - hw, (True,) * 4)
    present = {(s.a, s.b) for s in city.streets}
    nodes_with_streets = {n for s in city.streets for n in (s.a, s.b)}
    for street in grid_streets(city.n_columns, city.n_rows):
        if (street.a, street.b) in present:
            continue
        (ca, ra), (cb, rb) = city.label(street.a), city.label(street.b)
        if ra == rb:
            add(xs[ca] + hw, ys[ra] - hw, xs[cb] - hw, ys[ra] + hw, (True, False, True, False))
        else:
            add(xs[ca] - hw, ys[ra] + hw, xs[ca] + hw, ys[rb] - hw, (False, True, False, True))
    for node in range(city.n_nodes):
        if node not in nodes_with_streets:
            x, y = city.position(node)
            add(x - hw, y - hw, x + hw, y + hw, (False,) * 4)
    big = OUTER_MARGIN_M
    left, right, bottom, top = xs[0] - hw, xs[-1] + hw, ys[0] - hw, ys[-1] + hw
    add(left - big, bottom - big, left, top + big, (False, False, True, False))
    add(right, bottom - big, right + big, top + big, (True, False, False, False))
    add(left, bottom - big, right, bottom, (False, False, False, True))
    add(left, top, right, top + big, (False, True, False, False))
    barriers = [_barrier(city, street, hw, lane_width_m, driving_side)
                for street in city.streets if street.closed or street.closed_toward is not None]
    return RoadLayout(np.array(curbs, float).reshape(-1, 4),
                      np.array(buildings, float).reshape(-1, 4),
                      np.array(barriers, float).reshape(-1, 4), hw)


def _barrier(city: CityMap, street, hw: float, lane_width_m: float,
             driving_side: str) -> tuple[float, float, float, float]:
    (xa, ya), (xb, yb) = city.position(street.a), city.position(street.b)
    setback = hw + BARRIER_SETBACK_M
    if street.closed:
        if ya == yb:
            return (xa + setback, ya - hw, xb - setback, ya + hw)
        return (xa - hw, ya + setback, xa + hw, yb - setback)
    # One direction closed: a barrier over the lanes that carry traffic toward that end.
    toward = street.closed_toward
    start = street.a if toward == street.b else street.b
    (x0, y0), (x1, y1) = city.position(start), city.position(toward)
    length = abs(x1 - x0) + abs(y1 - y0)
    dx, dy = (x1 - x0) / length, (y1 - y0) / length
    nx, ny = public.side_normal(dx, dy, driving_side)
    inner, outer = 0.3, hw
    ends = [(x0 + dx * setback, y0 + dy * setback), (x1 - dx * setback, y1 - dy * setback)]
    points = [(px + nx * off, py + ny * off) for px, py in ends for off in (inner, outer)]
    xs_, ys_ = [p[0] for p in points], [p[1] for p in points]
    return (min(xs_), min(ys_), max(xs_), max(ys_))


class Neighbourhood:
    """Boxes near each grid cell, so that a step tests only those (a culling index)."""

    def __init__(self, city: CityMap, boxes: np.ndarray, reach_m: float) -> None:
        self.xs = list(city.column_x_m)
        self.ys = list(city.row_y_m)
        edges_x = [-math.inf, *self.xs, math.inf]
        edges_y = [-math.inf, *self.ys, math.inf]
        rows = []
        for i in range(len(edges_x) - 1):
            for j in range(len(edges_y) - 1):
                x0, x1 = edges_x[i] - reach_m, edges_x[i + 1] + reach_m
                y0, y1 = edges_y[j] - reach_m, edges_y[j + 1] + reach_m
                near = ((boxes[:, 2] >= x0) & (boxes[:, 0] <= x1)
                        & (boxes[:, 3] >= y0) & (boxes[:, 1] <= y1))
                rows.append(np.flatnonzero(near))
        # Cell ``c = i * (len(ys) + 1) + j`` (``i, j`` the grid lines left of and below a
        # point) holds rows ``cell_boxes[cell_start[c]:cell_start[c + 1]]`` of ``boxes``.
        self.boxes = np.ascontiguousarray(boxes, float).reshape(-1, 4)
        self.lines_x, self.lines_y = np.array(self.xs, float), np.array(self.ys, float)
        self.cell_start = np.cumsum([0] + [len(r) for r in rows])
        self.cell_boxes = np.concatenate(rows).astype(np.int64) if rows else np.zeros(0, int)


@dataclass(frozen=True)
class Approach:
    """One open approach to an intersection with lights: traffic from ``origin`` toward
    ``node``, seen from the centre ``(x, y)`` [m] of that intersection."""

    node: int
    origin: int
    axis: int  #: 0 west-east, 1 south-north: the light phase it obeys
    x: float  #: centre of ``node`` [m]
    y: float
    dx: float  #: unit direction of travel toward ``node``
    dy: float
    nx: float  #: unit normal from the centre line toward the driving side
    ny: float
    length_m: float  #: centre-to-centre length of the street [m]
    one_way: bool  #: whether the street is one-way (its lanes span the whole road)
    half_width_m: float  #: road half width [m]

    def point(self, back_m: float, offset_m: float) -> tuple[float, float]:
        """The point ``back_m`` [m] before the node's centre, ``offset_m`` [m] from the
        centre line toward the driving side."""
        return (self.x - self.dx * back_m + self.nx * offset_m,
                self.y - self.dy * back_m + self.ny * offset_m)

    def lane_span(self, centre_gap_m: float = 0.0) -> tuple[float, float]:
        """``(inner, outer)`` offsets [m] of the approaching lanes' edges from the centre
        line toward the driving side; a two-way street's lanes start ``centre_gap_m``
        from its centre line, a one-way street's at the far curb."""
        inner = -self.half_width_m if self.one_way else centre_gap_m
        return inner, self.half_width_m


def light_approaches(city: CityMap, half_width_m: float,
                     driving_side: str) -> tuple[Approach, ...]:
    """Every open approach to an intersection with lights, in the order of
    ``city.streets`` and of each street's ``directions()``."""
    approaches = []
    for street in city.streets:
        for origin, node in street.directions():
            if node not in city.lights:
                continue
            (x, y), (ox, oy) = city.position(node), city.position(origin)
            length = abs(x - ox) + abs(y - oy)
            dx, dy = (x - ox) / length, (y - oy) / length
            nx, ny = public.side_normal(dx, dy, driving_side)
            approaches.append(Approach(node, origin, 0 if dy == 0.0 else 1, x, y, dx, dy,
                                       nx, ny, length, street.one_way_to is not None,
                                       half_width_m))
    return tuple(approaches)
