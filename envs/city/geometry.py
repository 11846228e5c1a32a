"""Where the road is: curbs, buildings and roadworks as axis-aligned boxes.

Every street is straight and axis-aligned, so the space between roads is a set of
boxes ``[x0, y0, x1, y1]`` [m]. *Curb* boxes bound the road surface (the lidar sees
them and a car whose centre crosses one has left the road); *building* boxes sit a
sidewalk inside them (touching one is a collision); *barrier* boxes are roadworks on
the road. :class:`Neighbourhood` keeps, per grid cell, the boxes within the lidar's
range, so a step only looks at the boxes near the car.
"""

from __future__ import annotations

import bisect
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
        self._cells: dict[tuple[int, int], np.ndarray] = {}
        edges_x = [-math.inf, *self.xs, math.inf]
        edges_y = [-math.inf, *self.ys, math.inf]
        for i in range(len(edges_x) - 1):
            for j in range(len(edges_y) - 1):
                x0, x1 = edges_x[i] - reach_m, edges_x[i + 1] + reach_m
                y0, y1 = edges_y[j] - reach_m, edges_y[j + 1] + reach_m
                near = ((boxes[:, 2] >= x0) & (boxes[:, 0] <= x1)
                        & (boxes[:, 3] >= y0) & (boxes[:, 1] <= y1))
                self._cells[(i, j)] = np.ascontiguousarray(boxes[near])

    def near(self, x: float, y: float) -> np.ndarray:
        """The boxes within the reach of point ``(x, y)`` (and some a little beyond)."""
        return self._cells[(bisect.bisect_right(self.xs, x), bisect.bisect_right(self.ys, y))]


def cast_rays(x: float, y: float, cos_sin: np.ndarray, boxes: np.ndarray,
              max_range: float) -> np.ndarray:
    """Distance [m] along each ray from ``(x, y)`` to the first box, capped at ``max_range``.

    ``cos_sin`` has shape (rays, 2): unit directions. A ray starting inside a box reads 0.
    """
    if len(boxes) == 0:
        return np.full(len(cos_sin), max_range)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = 1.0 / cos_sin
        tx0 = (boxes[:, 0] - x) * inv[:, :1]
        tx1 = (boxes[:, 2] - x) * inv[:, :1]
        ty0 = (boxes[:, 1] - y) * inv[:, 1:]
        ty1 = (boxes[:, 3] - y) * inv[:, 1:]
        near = np.maximum(np.minimum(tx0, tx1), np.minimum(ty0, ty1))
        far = np.minimum(np.maximum(tx0, tx1), np.maximum(ty0, ty1))
    hit = (far >= near) & (far >= 0.0)
    distance = np.where(hit, np.maximum(near, 0.0), max_range).min(axis=1)
    return np.minimum(distance, max_range)


def points_in_boxes(points: np.ndarray, boxes: np.ndarray) -> bool:
    """Whether any of ``points`` (n, 2) lies in any of ``boxes`` (k, 4)."""
    if len(boxes) == 0:
        return False
    px, py = points[:, :1], points[:, 1:]
    inside = ((px >= boxes[:, 0]) & (px <= boxes[:, 2])
              & (py >= boxes[:, 1]) & (py <= boxes[:, 3]))
    return bool(inside.any())


def rectangle_hits_boxes(centre: tuple[float, float], heading: float, length: float,
                         width: float, corners: np.ndarray, boxes: np.ndarray) -> bool:
    """Whether a rectangle (its ``corners`` (4, 2)) overlaps any box (k, 4).

    Exact for convex shapes by the separating axis theorem on the two boxes' axes.
    """
    if len(boxes) == 0:
        return False
    c, s = math.cos(heading), math.sin(heading)
    # Axes of the world boxes: compare the rectangle's extent with each box.
    overlap = ((corners[:, 0].max() >= boxes[:, 0]) & (corners[:, 0].min() <= boxes[:, 2])
               & (corners[:, 1].max() >= boxes[:, 1]) & (corners[:, 1].min() <= boxes[:, 3]))
    if not overlap.any():
        return False
    boxes = boxes[overlap]
    # Axes of the rectangle: project each box's corners onto them.
    bx = boxes[:, [0, 2, 2, 0]] - centre[0]
    by = boxes[:, [1, 1, 3, 3]] - centre[1]
    along = bx * c + by * s
    across = -bx * s + by * c
    separated = ((along.min(axis=1) > length / 2) | (along.max(axis=1) < -length / 2)
                 | (across.min(axis=1) > width / 2) | (across.max(axis=1) < -width / 2))
    return bool((~separated).any())


def cast_rays_at_rectangles(x: float, y: float, cos_sin: np.ndarray, centres: np.ndarray,
                            headings: np.ndarray, length: float, width: float,
                            max_range: float) -> np.ndarray:
    """Distance along each ray to the first of some oriented rectangles (cars) [m]."""
    if len(centres) == 0:
        return np.full(len(cos_sin), max_range)
    c, s = np.cos(headings), np.sin(headings)
    ox, oy = x - centres[:, 0], y - centres[:, 1]
    # The ray's origin and direction in each rectangle's frame: (rays, rectangles).
    local_ox, local_oy = ox * c + oy * s, -ox * s + oy * c
    dx = cos_sin[:, :1] * c + cos_sin[:, 1:] * s
    dy = -cos_sin[:, :1] * s + cos_sin[:, 1:] * c
    with np.errstate(divide="ignore", invalid="ignore"):
        tx0, tx1 = (-length / 2 - local_ox) / dx, (length / 2 - local_ox) / dx
        ty0, ty1 = (-width / 2 - local_oy) / dy, (width / 2 - local_oy) / dy
        near = np.maximum(np.minimum(tx0, tx1), np.minimum(ty0, ty1))
        far = np.minimum(np.maximum(tx0, tx1), np.maximum(ty0, ty1))
    hit = (far >= near) & (far >= 0.0)
    distance = np.where(hit, np.maximum(near, 0.0), max_range).min(axis=1)
    return np.minimum(distance, max_range)


def cast_rays_at_circles(x: float, y: float, cos_sin: np.ndarray, centres: np.ndarray,
                         radius: float, max_range: float) -> np.ndarray:
    """Distance along each ray to the first of some circles (pedestrians) [m]."""
    if len(centres) == 0:
        return np.full(len(cos_sin), max_range)
    rx, ry = centres[:, 0] - x, centres[:, 1] - y
    along = cos_sin[:, :1] * rx + cos_sin[:, 1:] * ry
    miss = rx * rx + ry * ry - along * along
    inside = radius * radius - miss
    with np.errstate(invalid="ignore"):
        t = along - np.sqrt(inside)
    hit = (inside >= 0.0) & (along + np.sqrt(np.maximum(inside, 0.0)) >= 0.0)
    distance = np.where(hit, np.maximum(t, 0.0), max_range).min(axis=1)
    return np.minimum(distance, max_range)


def rectangles_overlap(centre: tuple[float, float], heading: float, length: float,
                       width: float, centres: np.ndarray, headings: np.ndarray) -> np.ndarray:
    """Which of some rectangles of the same size overlap one rectangle, by separating
    axes: the pair is apart when the corners of one lie beyond a side of the other."""
    n = len(centres)
    if n == 0:
        return np.zeros(0, bool)
    half_l, half_w = length / 2, width / 2
    corner = np.array([(1, 1), (-1, 1), (-1, -1), (1, -1)]) * (half_l, half_w)

    def corners(cx: np.ndarray, cy: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, ...]:
        c, s = np.cos(h)[:, None], np.sin(h)[:, None]
        return (cx[:, None] + c * corner[:, 0] - s * corner[:, 1],
                cy[:, None] + s * corner[:, 0] + c * corner[:, 1])

    def apart(cx: np.ndarray, cy: np.ndarray, h: np.ndarray, px: np.ndarray,
              py: np.ndarray) -> np.ndarray:
        c, s = np.cos(h)[:, None], np.sin(h)[:, None]
        rx, ry = px - cx[:, None], py - cy[:, None]
        along, across = rx * c + ry * s, -rx * s + ry * c
        return ((along.min(axis=1) > half_l) | (along.max(axis=1) < -half_l)
                | (across.min(axis=1) > half_w) | (across.max(axis=1) < -half_w))

    mine = (np.full(n, centre[0]), np.full(n, centre[1]), np.full(n, heading))
    theirs = (centres[:, 0], centres[:, 1], headings)
    return ~(apart(*mine, *corners(*theirs)) | apart(*theirs, *corners(*mine)))


def circles_touch_rectangle(centre: tuple[float, float], heading: float, length: float,
                            width: float, points: np.ndarray, radius: float) -> np.ndarray:
    """Which circles of ``radius`` around ``points`` touch an oriented rectangle."""
    if len(points) == 0:
        return np.zeros(0, bool)
    c, s = math.cos(heading), math.sin(heading)
    rx, ry = points[:, 0] - centre[0], points[:, 1] - centre[1]
    along, across = rx * c + ry * s, -rx * s + ry * c
    dx = np.maximum(np.abs(along) - length / 2, 0.0)
    dy = np.maximum(np.abs(across) - width / 2, 0.0)
    return dx * dx + dy * dy <= radius * radius


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
