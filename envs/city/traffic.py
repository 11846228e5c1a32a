"""Other cars: lane following with IDM, lights, yielding at intersections, no collisions.

Every car is a row of numpy arrays, and a step updates them all at once. A car drives
along a directed street (an *arc*) in its kerb-side lane, then through the intersection at its end
on a curve into the next arc it picked at random. Its acceleration is the Intelligent
Driver Model's, toward its desired speed, behind its leader: the car ahead in its lane,
the stop line when it may not enter the intersection, or the ego car.

Entering an intersection needs a *reservation*, asked for when the car is near enough
to the stop line that it must decide. It is granted when the light is green (or there
is none), the crosswalks on the way are clear, the next street has room, and no car
holding a reservation at that intersection (nor the ego car inside it) has a path that
comes within a car's width of this one's. Several requests in one step are granted in
index order. A reservation is dropped if the light turns while the car can still stop
comfortably, and released once the car has left the intersection. Left turns across
oncoming traffic (right turns in left-hand traffic) therefore wait for a gap, and cars
never meet inside an intersection. No Gymnasium import here.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from exgen.envs.city import public
from exgen.envs.city.city_map import CityMap
from exgen.envs.city.lights import GREEN, NO_LIGHT, RED, Lights
from exgen.envs.city.rows import join_rows, joined_bases, replace_rows
from exgen.envs.city.traffic_kernels import arc_order, mark_crosswalks
from exgen.envs.city.vehicle import LENGTH_M, WIDTH_M

#: IDM parameters: time gap [s], minimum gap [m], acceleration and comfortable
#: braking [m/s²], and the hardest braking a car ever uses [m/s²].
TIME_GAP_S = 1.2
MIN_GAP_M = 2.0
IDM_ACCELERATION_MPS2 = 1.5
COMFORT_BRAKING_MPS2 = 2.5
MAX_BRAKING_MPS2 = 8.0
#: Desired speed as a fraction of the speed limit: uniform in this range per car.
SPEED_FRACTION = (0.7, 1.0)
#: Speed through a turn [m/s].
TURN_SPEED_MPS = 5.0
#: Width of the crosswalk just outside each intersection [m]; cars stop before it.
CROSSWALK_M = public.CROSSWALK_M
#: A car decides at this distance beyond its comfortable stopping distance [m].
DECISION_MARGIN_M = 6.0
#: Room needed on the next street, beyond the intersection, before a car enters it: its
#: own length and gap past the crosswalk, up to the centre of the car ahead [m].
EXIT_ROOM_M = CROSSWALK_M + 1.5 * LENGTH_M + MIN_GAP_M
#: The ego car this close to an intersection [m], or this few seconds away [s], has the
#: right of way of a car going straight on there.
EGO_APPROACH_M = 15.0
EGO_APPROACH_S = 3.0
#: A car looks this far ahead for the ego car in its way [m].
EGO_LOOKAHEAD_M = 30.0
#: Random draws per car when spreading the cars over the streets at the start.
PLACEMENT_TRIES = 50
#: Two paths conflict when they come closer than this [m].
CONFLICT_DISTANCE_M = WIDTH_M + 0.6
_IDM_BRAKING_TERM = 1.0 / (2.0 * math.sqrt(IDM_ACCELERATION_MPS2 * COMFORT_BRAKING_MPS2))
_DIRECTIONS = ((1.0, 0.0), (0.0, 1.0), (-1.0, 0.0), (0.0, -1.0))  # east, north, west, south


def direction_code(dx: float, dy: float) -> int:
    """0 east, 1 north, 2 west, 3 south, for a unit axis direction."""
    if abs(dx) > abs(dy):
        return 0 if dx > 0 else 2
    return 1 if dy > 0 else 3


@dataclass(frozen=True)
class Arcs:
    """The open directed streets of a city as arrays, for vectorized lookups."""

    frm: np.ndarray
    to: np.ndarray
    dx: np.ndarray
    dy: np.ndarray
    nx: np.ndarray
    ny: np.ndarray
    length: np.ndarray
    heading: np.ndarray
    direction: np.ndarray
    lanes: tuple[tuple[float, ...], ...]
    kerb: np.ndarray
    index: dict[tuple[int, int], int]
    leaving: tuple[tuple[int, ...], ...]

    @classmethod
    def of(cls, city: CityMap, lanes_per_direction: int, lane_width_m: float,
           side: str) -> Arcs:
        arcs = city.arcs()
        frm = np.array([a for a, _ in arcs], int)
        to = np.array([b for _, b in arcs], int)
        start = np.array([city.position(a) for a, _ in arcs])
        end = np.array([city.position(b) for _, b in arcs])
        length = np.abs(end - start).sum(axis=1)
        d = (end - start) / length[:, None]
        normals = np.array([public.side_normal(x, y, side) for x, y in d])
        lanes = tuple(public.lane_offsets(lanes_per_direction, lane_width_m,
                                          city.street(a, b).one_way_to is not None)
                      for a, b in arcs)
        leaving = [[] for _ in range(city.n_nodes)]
        for i, (a, _) in enumerate(arcs):
            leaving[a].append(i)
        return cls(frm, to, d[:, 0].copy(), d[:, 1].copy(), normals[:, 0].copy(),
                   normals[:, 1].copy(), length, np.arctan2(d[:, 1], d[:, 0]),
                   np.array([direction_code(x, y) for x, y in d], int), lanes,
                   np.array([offsets[-1] for offsets in lanes]),
                   {arc: i for i, arc in enumerate(arcs)}, tuple(map(tuple, leaving)))


_ARC_ARRAYS = ("frm", "to", "dx", "dy", "nx", "ny", "length", "heading", "direction", "kerb")


def _join_arcs(parts: Sequence[Arcs], node_base: np.ndarray) -> Arcs:
    """The arcs of several cities as arrays, nodes and arcs numbered city after city
    (without the per-city ``lanes``, ``index`` and ``leaving``)."""
    columns = join_rows(parts, _ARC_ARRAYS, {"frm": node_base, "to": node_base})
    return Arcs(**columns, lanes=(), index={}, leaving=())


def _replace_arcs(joined: Arcs, arcs: slice, part: Arcs, node_start: int,
                  node_shift: int) -> Arcs:
    """``joined`` with the arcs of slice ``arcs`` replaced by those of ``part``, whose
    nodes start at ``node_start``; later nodes move by ``node_shift``."""
    nodes = (node_start, node_shift)
    columns = replace_rows(joined, part, _ARC_ARRAYS, arcs, {"frm": nodes, "to": nodes})
    return Arcs(**columns, lanes=(), index={}, leaving=())


def turn_curve(city: CityMap, arcs: Arcs, half_width: float, arc_in: int, lane_in: float,
               arc_out: int, lane_out: float) -> tuple[np.ndarray, float]:
    """Control points (3, 2) of the quadratic curve from the stop line of ``arc_in`` to
    the start of ``arc_out``, and its length [m]."""
    node = arcs.to[arc_in]
    px, py = city.position(int(node))
    a = np.array([px - arcs.dx[arc_in] * half_width + arcs.nx[arc_in] * lane_in,
                  py - arcs.dy[arc_in] * half_width + arcs.ny[arc_in] * lane_in])
    b = np.array([px + arcs.dx[arc_out] * half_width + arcs.nx[arc_out] * lane_out,
                  py + arcs.dy[arc_out] * half_width + arcs.ny[arc_out] * lane_out])
    din = np.array([arcs.dx[arc_in], arcs.dy[arc_in]])
    dout = np.array([arcs.dx[arc_out], arcs.dy[arc_out]])
    cross = din[0] * dout[1] - din[1] * dout[0]
    if abs(cross) < 0.5:  # straight on (or a u-turn, drawn straight back)
        k = (a + b) / 2.0
    else:  # where the two lanes' lines meet
        t = ((b - a)[0] * dout[1] - (b - a)[1] * dout[0]) / cross
        k = a + t * din
    chord = math.dist(a, b)
    length = (math.dist(a, k) + math.dist(k, b) + chord) / 2.0
    return np.stack([a, k, b]), max(length, 0.5)


@functools.lru_cache(maxsize=64)
def shared_curves(city: CityMap, half_width: float, lane_width: float,
                  side: str) -> dict[tuple[int, float, int, float], tuple[np.ndarray, float]]:
    """The turn curves of a city's roads (:func:`turn_curve` by arc in, lane in, arc out,
    lane out), filled as cars first take them and shared by every episode on them."""
    return {}


@functools.lru_cache(maxsize=16)
def conflict_table(side: str, half_width: float, lane_width: float) -> np.ndarray:
    """``table[m1, m2]``: whether movements ``m = 4 * in + out`` (direction codes) through
    one intersection, kerb lane to kerb lane, come closer than ``CONFLICT_DISTANCE_M``.
    Movements from the same entry never conflict: those cars follow each other."""
    offset = half_width - lane_width / 2.0
    samples = np.linspace(0.0, 1.0, 25)

    def path(m: int) -> np.ndarray:
        din, dout = _DIRECTIONS[m // 4], _DIRECTIONS[m % 4]
        nin = public.side_normal(*din, side)
        nout = public.side_normal(*dout, side)
        a = np.array([-din[0] * half_width + nin[0] * offset,
                      -din[1] * half_width + nin[1] * offset])
        b = np.array([dout[0] * half_width + nout[0] * offset,
                      dout[1] * half_width + nout[1] * offset])
        cross = din[0] * dout[1] - din[1] * dout[0]
        if abs(cross) < 0.5:
            k = (a + b) / 2.0
        else:
            t = ((b - a)[0] * dout[1] - (b - a)[1] * dout[0]) / cross
            k = a + t * np.array(din)
        u = samples[:, None]
        return (1 - u) ** 2 * a + 2 * (1 - u) * u * k + u**2 * b

    paths = [path(m) for m in range(16)]
    table = np.zeros((16, 16), bool)
    for m1 in range(16):
        for m2 in range(16):
            if m1 // 4 == m2 // 4:
                continue
            gap = np.linalg.norm(paths[m1][:, None, :] - paths[m2][None, :, :], axis=2).min()
            table[m1, m2] = gap < CONFLICT_DISTANCE_M
    return table


@dataclass
class _City:
    """What the other cars of one city keep that never changes in an episode."""

    city: CityMap
    arcs: Arcs
    lights: Lights
    rng: np.random.Generator
    half_width: float
    conflicts: np.ndarray
    curves: dict[tuple[int, float, int, float], tuple[np.ndarray, float]]


#: Per-car arrays.
_CAR_ARRAYS = ("arc", "lane", "s", "v", "v0", "turn_v0", "next_arc", "next_lane", "curve",
               "c0", "c1", "c2", "curve_length", "movement", "stop", "turns", "origin",
               "along", "street_heading", "street_half", "boxes", "entered_by", "reserved",
               "x", "y", "heading", "city_of_car", "half_width")


class Traffic:
    """The other cars of one episode, or of many cities' episodes joined
    (:meth:`join`); ``step`` moves them all by one decision.

    Joined, the cities' intersections and arcs are numbered city after city, and every
    per-city value (clock, road half width, random generator, the ego car) is looked up
    per car, so each car computes exactly what it computes alone in its city.
    """

    def __init__(self, city: CityMap, arcs: Arcs, count: int, rng: np.random.Generator, *,
                 half_width: float, lane_width: float, side: str, speed_limit: float,
                 lights: Lights, avoid: tuple[float, float] | None = None) -> None:
        self.cities = [_City(city, arcs, lights, rng, half_width,
                             conflict_table(side, half_width, lane_width),
                             shared_curves(city, half_width, lane_width, side))]
        self.arcs, self.lights = arcs, lights
        self.positions = np.array([city.position(n) for n in range(city.n_nodes)])
        self._index_cities()
        spots = self._spots(count, avoid)
        n = len(spots)
        self.arc = np.zeros(n, int)
        self.lane = np.zeros(n, float)
        self.s = np.zeros(n, float)
        self.v = np.zeros(n, float)
        self.v0 = speed_limit * rng.uniform(*SPEED_FRACTION, n)
        self.turn_v0 = np.minimum(self.v0, TURN_SPEED_MPS)
        self.next_arc = np.zeros(n, int)
        self.next_lane = np.zeros(n, float)
        self.curve = np.zeros((n, 3, 2), float)
        # The curve as a polynomial in u: point = c0 + u c1 + u^2 c2.
        self.c0, self.c1, self.c2 = np.zeros((n, 2)), np.zeros((n, 2)), np.zeros((n, 2))
        self.curve_length = np.ones(n, float)
        self.movement = np.zeros(n, int)
        self.stop = np.zeros(n, float)
        self.turns = np.zeros(n, bool)
        self.origin = np.zeros((n, 2))
        self.along = np.zeros((n, 2))
        self.street_heading = np.zeros(n)
        self.street_half = np.zeros((n, 2))
        self.boxes = np.zeros((n, 4))
        self.entered_by = np.full(n, -1)
        self.reserved = np.zeros(n, bool)
        self.city_of_car = np.zeros(n, int)
        self.half_width = np.full(n, half_width)
        self.car_base = np.array([0, n])
        for car, (arc, lane, s) in enumerate(spots):
            self.arc[car], self.lane[car], self.s[car] = arc, lane, s
            self.v[car] = 0.5 * self.v0[car]
        self._choose_next(np.arange(n))
        self.x, self.y, self.heading = self._poses()

    @property
    def conflicts(self) -> np.ndarray:
        """``table[m1, m2]`` of :func:`conflict_table` (of a single city)."""
        if len(self.cities) != 1:
            raise ValueError("joined traffic has a conflict table per city; use cities[k]")
        return self.cities[0].conflicts

    # ----------------------------------------------------------------- joining
    @classmethod
    def join(cls, parts: Sequence[Traffic]) -> Traffic:
        """The cars of several cities as one :class:`Traffic`, city after city. The parts'
        arrays are copied: step the joined traffic, not the parts."""
        if len(parts) == 1:
            return parts[0]
        joined = cls.__new__(cls)
        joined.cities = [city for part in parts for city in part.cities]
        node_base = np.cumsum([0] + [len(part.positions) for part in parts])
        arc_base = np.cumsum([0] + [len(part.arcs.frm) for part in parts])
        city_base = np.cumsum([0] + [len(part.cities) for part in parts])
        joined.arcs = _join_arcs([part.arcs for part in parts], node_base)
        joined.positions = np.concatenate([part.positions for part in parts])
        joined.lights = Lights.join([city.lights for city in joined.cities])
        offsets = {"arc": arc_base, "next_arc": arc_base, "city_of_car": city_base}
        for name, array in join_rows(parts, _CAR_ARRAYS, offsets).items():
            setattr(joined, name, array)
        joined.car_base = joined_bases([part.car_base for part in parts])
        joined._index_cities()
        return joined

    def _index_cities(self) -> None:
        """Per node and per city: its city's conflict table and node numbers."""
        self.node_base = np.cumsum([0] + [c.city.n_nodes for c in self.cities])
        self.arc_base = np.cumsum([0] + [len(c.arcs.frm) for c in self.cities])
        self._tables = np.stack([c.conflicts for c in self.cities])
        self._table_of_node = np.repeat(np.arange(len(self.cities)),
                                        np.diff(self.node_base))
        self._city_half_width = np.array([c.half_width for c in self.cities])

    def replace(self, k: int, part: Traffic) -> None:
        """Put the cars of ``part`` (a single city) in place of city ``k``'s: a city of a
        joined traffic starts a new episode."""
        if len(part.cities) != 1:
            raise ValueError("replace() takes the traffic of one city")
        cars = slice(self.car_base[k], self.car_base[k + 1])
        nodes = slice(self.node_base[k], self.node_base[k + 1])
        arcs = slice(self.arc_base[k], self.arc_base[k + 1])
        arc_numbers = (arcs.start, len(part.arcs.frm) - (arcs.stop - arcs.start))
        offsets = {"arc": arc_numbers, "next_arc": arc_numbers, "city_of_car": (k, 0)}
        for name, array in replace_rows(self, part, _CAR_ARRAYS, cars, offsets).items():
            setattr(self, name, array)
        node_shift = part.positions.shape[0] - (nodes.stop - nodes.start)
        self.arcs = _replace_arcs(self.arcs, arcs, part.arcs, nodes.start, node_shift)
        self.positions = replace_rows(self, part, ("positions",), nodes, {})["positions"]
        self.cities[k] = part.cities[0]
        self.lights = self.lights.replaced(k, nodes, part.cities[0].lights)
        self.car_base[k + 1:] += len(part.s) - (cars.stop - cars.start)
        self._index_cities()

    # ----------------------------------------------------------------- set-up
    def _spots(self, count: int, avoid: tuple[float, float] | None
               ) -> list[tuple[int, float, float]]:
        """Where the cars start: arc, lane, distance along it [m]; spread over the streets,
        apart from each other and from ``avoid``. A city too small for ``count`` cars
        gets as many as fit."""
        arcs, own = self.arcs, self.cities[0]
        rng, half_width = own.rng, own.half_width
        usable = [i for i in range(len(arcs.frm))
                  if arcs.length[i] - 2 * half_width - CROSSWALK_M > 2 * LENGTH_M]
        spots: list[tuple[int, float, float]] = []
        for _ in range(count * PLACEMENT_TRIES if usable else 0):
            if len(spots) == count:
                break
            arc = usable[int(rng.integers(len(usable)))]
            lane = arcs.lanes[arc][-1]
            low = half_width + LENGTH_M
            high = arcs.length[arc] - half_width - CROSSWALK_M - LENGTH_M
            s = float(rng.uniform(low, high))
            if any(a == arc and abs(s - s_) < 3 * LENGTH_M for a, _, s_ in spots):
                continue
            x, y = self._street_point(arc, s, lane)
            if avoid is not None and math.hypot(x - avoid[0], y - avoid[1]) < 25.0:
                continue
            spots.append((arc, lane, s))
        return spots

    def _street_point(self, arc: int, s: float, lane: float) -> tuple[float, float]:
        a = self.arcs
        x0, y0 = self.positions[a.frm[arc]]
        return (x0 + a.dx[arc] * s + a.nx[arc] * lane, y0 + a.dy[arc] * s + a.ny[arc] * lane)

    def _choose_next(self, cars: np.ndarray) -> None:
        """Pick the street after the current one of each of ``cars`` (in index order, each
        drawing from its city's generator; no u-turn unless at a dead end), and set
        its turn and its pose along the current street."""
        if not len(cars):
            return
        chosen = np.empty(len(cars), int)
        curves = np.empty((len(cars), 3, 2))
        lengths = np.empty(len(cars))
        for i, car in enumerate(cars.tolist()):
            k = self.city_of_car[car]
            own, base = self.cities[k], self.arc_base[k]
            arcs = own.arcs
            arc = int(self.arc[car] - base)
            options = [a for a in arcs.leaving[arcs.to[arc]] if arcs.to[a] != arcs.frm[arc]]
            if not options:
                options = list(arcs.leaving[arcs.to[arc]])
            nxt = options[int(own.rng.integers(len(options)))]
            lane = arcs.lanes[nxt][-1]
            key = (arc, float(self.lane[car]), nxt, lane)
            if key not in own.curves:
                own.curves[key] = turn_curve(own.city, arcs, own.half_width, arc,
                                             self.lane[car], nxt, lane)
            curves[i], lengths[i] = own.curves[key]
            chosen[i] = nxt + base
        a, arc = self.arcs, self.arc[cars]
        self.next_arc[cars], self.next_lane[cars] = chosen, a.kerb[chosen]
        self.curve[cars], self.curve_length[cars] = curves, lengths
        p0, k, p1 = curves[:, 0], curves[:, 1], curves[:, 2]
        self.c0[cars], self.c1[cars], self.c2[cars] = p0, 2 * (k - p0), p0 - 2 * k + p1
        self.movement[cars] = 4 * a.direction[arc] + a.direction[chosen]
        self.stop[cars] = a.length[arc] - self.half_width[cars]
        self.turns[cars] = a.direction[arc] != a.direction[chosen]
        start = self.positions[a.frm[arc]]
        lane = self.lane[cars]
        self.origin[cars] = np.stack([start[:, 0] + a.nx[arc] * lane,
                                      start[:, 1] + a.ny[arc] * lane], axis=1)
        self.along[cars] = np.stack([a.dx[arc], a.dy[arc]], axis=1)
        self.street_heading[cars] = a.heading[arc]
        horizontal = np.abs(a.dx[arc]) > 0.5
        self.street_half[cars] = np.where(horizontal[:, None], (LENGTH_M / 2, WIDTH_M / 2),
                                          (WIDTH_M / 2, LENGTH_M / 2))

    # ----------------------------------------------------------------- queries
    def poses(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """x, y [m] and heading [rad] of every car's centre (as of the last step)."""
        return self.x, self.y, self.heading

    def _poses(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Poses from the arrays, and each car's axis-aligned bounding box (``boxes``)."""
        s = self.s
        x = self.origin[:, 0] + self.along[:, 0] * s
        y = self.origin[:, 1] + self.along[:, 1] * s
        heading = self.street_heading.copy()
        half = self.street_half.copy()
        turning = np.flatnonzero(s > self.stop)
        if len(turning):
            u = np.minimum((s[turning] - self.stop[turning]) / self.curve_length[turning],
                           1.0)[:, None]
            c1, c2 = self.c1[turning], self.c2[turning]
            point = self.c0[turning] + u * (c1 + u * c2)
            tangent = c1 + 2 * u * c2
            x[turning], y[turning] = point[:, 0], point[:, 1]
            heading[turning] = angle = np.arctan2(tangent[:, 1], tangent[:, 0])
            c, s_ = np.abs(np.cos(angle)), np.abs(np.sin(angle))
            half[turning, 0] = c * (LENGTH_M / 2) + s_ * (WIDTH_M / 2)
            half[turning, 1] = s_ * (LENGTH_M / 2) + c * (WIDTH_M / 2)
        boxes = self.boxes
        boxes[:, 0], boxes[:, 2] = x - half[:, 0], x + half[:, 0]
        boxes[:, 1], boxes[:, 3] = y - half[:, 1], y + half[:, 1]
        return x, y, heading

    # ----------------------------------------------------------------- stepping
    def step(self, time_s: np.ndarray, dt: float, ego: EgoOnRoad,
             crosswalk_clear: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> None:
        """Advance every car by ``dt`` seconds; ``time_s`` and ``ego`` have one entry per
        city (:meth:`EgoOnRoad.stack`).

        ``crosswalk_clear(nodes, arms)`` says which crosswalks have no pedestrian on them.
        """
        if not len(self.s):
            return
        a, city = self.arcs, self.city_of_car
        arc, s, v, stop = self.arc, self.s, self.v, self.stop
        front_to_line = stop - CROSSWALK_M - LENGTH_M / 2 - s

        # Leaders on the same arc (all keep to its kerb lane; turning cars included).
        order = arc_order(arc, s, self.car_base)
        same = arc[order[1:]] == arc[order[:-1]]
        behind, ahead = order[:-1][same], order[1:][same]
        # The front car of an arc follows the rearmost car on the arc it turns into.
        first_on = np.full(len(a.frm), np.inf)
        rearmost = order[np.concatenate(([True], ~same))]
        first_on[arc[rearmost]] = s[rearmost]
        in_lane = ego.arc >= 0
        in_lane[in_lane] = (np.abs(a.kerb[ego.arc[in_lane]] - ego.lateral[in_lane])
                            < ego.lane_tolerance[in_lane])
        if in_lane.any():
            # A longer ego car counts as a car whose centre is further back.
            lane_arc = ego.arc[in_lane]
            first_on[lane_arc] = np.minimum(
                first_on[lane_arc], ego.s[in_lane] - (ego.length[in_lane] - LENGTH_M) / 2)
        gap = stop + self.curve_length - s + first_on[self.next_arc] - self.half_width \
            - LENGTH_M
        gap[behind] = s[ahead] - s[behind] - LENGTH_M
        leader_speed = np.zeros(len(s))
        leader_speed[behind] = v[ahead]
        # The ego car, when it is ahead of a car, across its path (anywhere: on a street,
        # turning, inside an intersection).
        bodies = ((LENGTH_M + ego.length) / 2)[city]
        rx, ry = ego.x[city] - self.x, ego.y[city] - self.y
        c, sn = np.cos(self.heading), np.sin(self.heading)
        forward = rx * c + ry * sn
        take = np.flatnonzero((forward > 0.0) & (forward < EGO_LOOKAHEAD_M)
                              & (np.abs(ry * c - rx * sn) < WIDTH_M + 0.4)
                              & (forward - bodies < gap))
        gap[take] = forward[take] - bodies[take]
        leader_speed[take] = 0.0
        # Reservations: ask near the line, keep unless the light turns while stoppable.
        stopping = v * v / (2 * COMFORT_BRAKING_MPS2)
        before_line = front_to_line > 0.0
        deciding = before_line & (front_to_line < stopping + DECISION_MARGIN_M)
        if deciding.any():
            which = np.flatnonzero(deciding)
            codes = self.lights.codes(a.to[arc[which]], a.direction[arc[which]] % 2, time_s)
            go = (codes == GREEN) | (codes == NO_LIGHT)
            red = which[~go]
            self.reserved[red[front_to_line[red] > stopping[red]]] = False
            asking = which[go & ~self.reserved[which]]
            if len(asking):
                self._grant(asking, a.to[arc], crosswalk_clear, ego, first_on, time_s)
        hold = before_line & ~self.reserved
        stop_gap = front_to_line - 0.5
        take = hold & (stop_gap < gap)
        gap[take] = stop_gap[take]
        leader_speed[take] = 0.0

        # IDM toward the desired speed, slower near a turn.
        desired = np.where(self.turns & (stop - s < 25.0), self.turn_v0, self.v0)
        wanted = MIN_GAP_M + v * (TIME_GAP_S + (v - leader_speed) * _IDM_BRAKING_TERM)
        free = v / desired
        free *= free
        crowded = np.maximum(wanted, 0.0) / np.maximum(gap, 0.1)
        accel = IDM_ACCELERATION_MPS2 * (1.0 - free * free - crowded * crowded)
        v_new = np.maximum(v + np.maximum(accel, -MAX_BRAKING_MPS2) * dt, 0.0)
        # Never closer than the minimum gap, whatever the model says.
        advance = np.minimum(0.5 * (v + v_new) * dt, np.maximum(gap - 0.5 * MIN_GAP_M, 0.0))
        self.v = v_new
        self.s = s + advance

        # Leave the intersection onto the next street.
        cars = np.flatnonzero(self.s > stop + self.curve_length)
        extra = self.s[cars] - stop[cars] - self.curve_length[cars]
        self.arc[cars], self.lane[cars] = self.next_arc[cars], self.next_lane[cars]
        self.s[cars] = self.half_width[cars] + extra
        self.reserved[cars] = False
        self.entered_by[cars] = self.movement[cars]
        self._choose_next(cars)
        self.x, self.y, self.heading = self._poses()

    def _grant(self, asking: np.ndarray, node: np.ndarray,
               crosswalk_clear: Callable[[np.ndarray, np.ndarray], np.ndarray],
               ego: EgoOnRoad, first_on: np.ndarray, time_s: np.ndarray) -> None:
        """Grant the reservations that conflict with no holder and no earlier asker."""
        a = self.arcs
        at = node[asking]
        mine = self.movement[asking]
        # Each asker's row of its city's conflict table: clashes[i, m] for movement m.
        clashes = self._tables[self._table_of_node[at], mine]
        # Holders: cars with a reservation, and cars whose rear is still in the
        # intersection they just left.
        leaving = (self.entered_by >= 0) & (self.s - LENGTH_M / 2 < self.half_width + 0.5)
        held = np.zeros((len(self.positions), 16), bool)
        held[node[self.reserved], self.movement[self.reserved]] = True
        held[a.frm[self.arc[leaving]], self.entered_by[leaving]] = True
        blocked = (held[at] & clashes).any(axis=1)
        city = self.city_of_car[asking]
        blocked |= at == ego.in_node[city]
        # The ego car coming up to an intersection on a light that lets it go has the
        # right of way of a car going straight on: conflicting turns wait for it.
        approaching = self._ego_approach(ego, time_s)
        straight = 5 * a.direction[np.maximum(ego.arc, 0)]  # 4 * in + out, out = in
        blocked |= (at == approaching[city]) & clashes[np.arange(len(asking)), straight[city]]
        entry_arm = (a.direction[self.arc[asking]] + 2) % 4
        exit_arm = a.direction[self.next_arc[asking]]
        clear = crosswalk_clear(np.concatenate([at, at]), np.concatenate([entry_arm, exit_arm]))
        blocked |= ~(clear[:len(asking)] & clear[len(asking):])
        blocked |= first_on[self.next_arc[asking]] < self.half_width[asking] + EXIT_ROOM_M
        # Among the askers themselves, the lower index goes first.
        blocked |= _blocked_by_earlier(at, mine, clashes, blocked)
        self.reserved[asking[~blocked]] = True

    def _ego_approach(self, ego: EgoOnRoad, time_s: np.ndarray) -> np.ndarray:
        """Per city, the intersection its ego car has the right of way into (-1: none):
        the one it comes up to, close or soon, on a light that is not red."""
        a = self.arcs
        approach = np.full(len(ego.arc), -1)
        on_arc = np.flatnonzero((ego.in_node < 0) & (ego.arc >= 0))
        if not len(on_arc):
            return approach
        arc = ego.arc[on_arc]
        half_width = self._city_half_width[on_arc]
        to_go = a.length[arc] - ego.s[on_arc] - half_width
        near = to_go < np.maximum(EGO_APPROACH_M, EGO_APPROACH_S * ego.speed[on_arc])
        cities, arc = on_arc[near], arc[near]
        if len(cities):
            code = self.lights.codes(a.to[arc], a.direction[arc] % 2, time_s)
            approach[cities[code != RED]] = a.to[arc[code != RED]]
        return approach

    # ----------------------------------------------------------------- crosswalks
    def mark_crosswalks(self, danger: np.ndarray, reach_m: float = 20.0) -> None:
        """Mark in ``danger`` (intersections, 4 arms) the crosswalks a car is about to
        cross or is crossing (:func:`~exgen.envs.city.traffic_kernels.mark_crosswalks`)."""
        a = self.arcs
        mark_crosswalks(self.s, self.stop, self.half_width, self.arc, self.next_arc,
                        self.reserved, a.frm, a.to, a.direction, LENGTH_M / 2, LENGTH_M,
                        CROSSWALK_M, reach_m, danger)


def _blocked_by_earlier(nodes: np.ndarray, movements: np.ndarray, clashes: np.ndarray,
                        blocked: np.ndarray) -> np.ndarray:
    """Askers (in index order) whose path clashes with that of an earlier, unblocked asker
    at the same intersection."""
    order = np.argsort(nodes, kind="stable")
    sorted_nodes = nodes[order]
    result = np.zeros(len(nodes), bool)
    for d in range(1, len(nodes)):
        later, earlier = order[d:], order[:-d]
        pairs = sorted_nodes[d:] == sorted_nodes[:-d]
        if not pairs.any():
            break
        later, earlier = later[pairs], earlier[pairs]
        result[later] |= clashes[later, movements[earlier]] & ~blocked[earlier]
    return result


@dataclass(frozen=True)
class EgoOnRoad:
    """Where each city's ego car is, as traffic sees it, one entry per city: its centre
    [m], its arc and distance along it with its offset from the centre line toward the
    driving side (arc -1 when not on an open street), its speed, the intersection it is
    inside (-1: none), how far from the kerb lane's centre it still counts as in that
    lane [m], and its length [m]. Arcs and intersections are numbered as in the
    (joined) traffic."""

    x: np.ndarray
    y: np.ndarray
    arc: np.ndarray
    s: np.ndarray
    lateral: np.ndarray
    speed: np.ndarray
    in_node: np.ndarray
    lane_tolerance: np.ndarray
    length: np.ndarray

    @classmethod
    def stack(cls, egos: Sequence[tuple[float, ...]], node_base: np.ndarray,
              arc_base: np.ndarray) -> EgoOnRoad:
        """From one ``(x, y, arc, s, lateral, speed, in_node, lane_tolerance, length)``
        per city, arc and intersection numbered within the city (-1: none)."""
        columns = [np.array(column) for column in zip(*egos, strict=True)]
        arc, in_node = columns[2], columns[6]
        columns[2] = np.where(arc >= 0, arc + arc_base[:len(egos)], -1)
        columns[6] = np.where(in_node >= 0, in_node + node_base[:len(egos)], -1)
        return cls(*columns)
