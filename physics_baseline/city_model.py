"""What the city planner knows: the published map as a graph, paths along lanes, and the
car's grip and steering, measured from its own driving.

Everything here comes from ``info["map"]`` and :mod:`exgen.envs.city.public`: the map gives
intersections, streets, one-ways, closures, lanes and the driving side; ``public``
gives the lane geometry and the observation layout. The car's acceleration, braking,
steering and the road's friction are measured by :class:`GripEstimator`.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from exgen.envs.city import public

#: Standard gravity [m/s²], to turn accelerations into a friction coefficient.
G_MPS2 = 9.81
#: Curve points sampled through each intersection.
CURVE_POINTS = 8
#: Least distance [m] between the car's centre and the inner corner of a turn.
CORNER_CLEARANCE_M = 0.5
#: A turn toward the kerb from or into a street whose oncoming lanes are closed keeps the body's
#: swept area (of the longest car it may be) this far inside the centre line [m].
SWEEP_MARGIN_M = 0.1


class RoadMap:
    """The published map: nodes, open directed streets, lanes, the driving side."""

    def __init__(self, published: dict) -> None:
        self.nodes = {n["id"]: (n["x_m"], n["y_m"]) for n in published["nodes"]}
        self.lit = {n["id"] for n in published["nodes"] if n["traffic_light"]}
        self.lanes = published["lanes_per_direction"]
        self.lane_width = published["lane_width_m"]
        self.side = published["driving_side"]
        self.speed_limit = published["speed_limit_mps"]
        self.destination = published["destination"]
        self.half_width = public.road_half_width(self.lanes, self.lane_width)
        self.one_way: dict[tuple[int, int], bool] = {}
        self.graph = nx.DiGraph()
        for street in published["streets"]:
            for a, b in street["open_directions"]:
                self.graph.add_edge(a, b, weight=street["length_m"])
                self.one_way[(a, b)] = street["one_way_to"] is not None
        self.blocked: set[tuple[int, int]] = set()
        # Arcs whose oncoming lanes roadworks close: a barrier lies beyond the centre line.
        self.barrier_across: set[tuple[int, int]] = set()
        for street in published["streets"]:
            toward = street.get("closed_toward")
            if toward is not None and not street["closed"]:
                other = street["b"] if toward == street["a"] else street["a"]
                self.barrier_across.add((toward, other))
        # Road rectangles (x low, x high, y low, y high): streets and intersections.
        hw = self.half_width
        boxes = [(x - hw, x + hw, y - hw, y + hw) for x, y in self.nodes.values()]
        for street in published["streets"]:
            (xa, ya), (xb, yb) = self.nodes[street["a"]], self.nodes[street["b"]]
            boxes.append((min(xa, xb) - (ya != yb) * hw, max(xa, xb) + (ya != yb) * hw,
                          min(ya, yb) - (xa != xb) * hw, max(ya, yb) + (xa != xb) * hw))
        self._road_boxes = np.array(boxes, float)

    def direction(self, a: int, b: int) -> tuple[float, float]:
        (x0, y0), (x1, y1) = self.nodes[a], self.nodes[b]
        length = abs(x1 - x0) + abs(y1 - y0)
        return (x1 - x0) / length, (y1 - y0) / length

    def lane_offset(self, a: int, b: int) -> float:
        """Offset of the kerb-side lane of arc ``a -> b`` toward the driving side [m]."""
        return public.lane_offsets(self.lanes, self.lane_width,
                                   self.one_way.get((a, b), False))[-1]

    def locate(self, x: float, y: float, heading: float) -> tuple[int, int]:
        """The open arc the car is on (or nearest to), given its direction of travel."""
        best, best_cost = None, math.inf
        for a, b in self.graph.edges:
            (x0, y0), (x1, y1) = self.nodes[a], self.nodes[b]
            dx, dy = self.direction(a, b)
            length = abs(x1 - x0) + abs(y1 - y0)
            along = min(max((x - x0) * dx + (y - y0) * dy, 0.0), length)
            gap = math.hypot(x - (x0 + dx * along), y - (y0 + dy * along))
            misalignment = 1.0 - (math.cos(heading) * dx + math.sin(heading) * dy)
            cost = gap + 10.0 * misalignment
            if cost < best_cost:
                best, best_cost = (a, b), cost
        return best

    def on_road(self, points: np.ndarray, inset_m: float = 0.2) -> np.ndarray:
        """Whether each point (n, 2) lies on a road, at least ``inset_m`` from its edge
        (a kerb the lidar sees is not)."""
        if not len(points):
            return np.zeros(0, bool)
        b = self._road_boxes
        x, y = points[:, 0:1], points[:, 1:2]
        inside = ((x > b[:, 0] + inset_m) & (x < b[:, 1] - inset_m)
                  & (y > b[:, 2] + inset_m) & (y < b[:, 3] - inset_m))
        return inside.any(axis=1)

    def route(self, arc: tuple[int, int]) -> list[int]:
        """Nodes from the start of ``arc`` through its end to the destination."""
        graph = self.graph.copy()
        graph.remove_edges_from(self.blocked - {arc})
        a, b = arc
        if b == self.destination:
            return [a, b]
        try:
            rest = nx.dijkstra_path(graph, b, self.destination)
        except nx.NetworkXNoPath:
            rest = nx.dijkstra_path(self.graph, b, self.destination)
        return [a, *rest]


@dataclass
class Path:
    """A polyline along lane centres, with where it enters each intersection."""

    points: np.ndarray
    s: np.ndarray
    curvature: np.ndarray
    junctions: list[tuple[float, int, str]] = field(default_factory=list)
    arcs: list[tuple[int, int]] = field(default_factory=list)

    @classmethod
    def along(cls, road: RoadMap, nodes: list[int], turn_radius: float | None = None) -> Path:
        """The path through ``nodes``: lane by lane, curving through intersections.

        With ``turn_radius`` [m], the tightest the car turns, a right-angle turn is an
        arc of that radius between the lanes, begun before the intersection where it
        must be, and drawn toward the centre line where the kerb's corner is too near.
        """
        hw = road.half_width
        points: list[tuple[float, float]] = []
        junctions: list[tuple[int, str, int]] = []
        entry_offsets: list[float] = []
        arcs = list(itertools.pairwise(nodes))
        for i, (a, b) in enumerate(arcs):
            dx, dy = road.direction(a, b)
            nx_, ny_ = public.side_normal(dx, dy, road.side)
            offset = road.lane_offset(a, b)
            (x0, y0), (x1, y1) = road.nodes[a], road.nodes[b]
            start = (x0 + dx * hw + nx_ * offset, y0 + dy * hw + ny_ * offset)
            end = (x1 - dx * hw + nx_ * offset, y1 - dy * hw + ny_ * offset)
            if i == 0:
                points.append(start)
            points.append(end)
            if i + 1 < len(arcs):
                c, d = arcs[i + 1]
                ex, ey = road.direction(c, d)
                turn = public.turn_between((dx, dy), (ex, ey))
                arc_turn = None
                if turn_radius is not None and turn in ("left", "right"):
                    arc_turn = _arc_turn(road, (dx, dy), end, c, d, turn_radius, (a, b))
                if arc_turn is None:
                    junctions.append((len(points) - 1, turn, b))
                    entry_offsets.append(0.0)
                    points.extend(_turn(road, (dx, dy), end, c, d)[1:-1])
                else:
                    curve, early = arc_turn
                    if early > 0.0:  # the arc begins before the intersection
                        points.pop()
                        junctions.append((len(points), turn, b))
                        entry_offsets.append(early)
                    else:
                        junctions.append((len(points) - 1, turn, b))
                        entry_offsets.append(0.0)
                    points.extend(curve)
            else:
                junctions.append((len(points) - 1, "arrive", b))
                entry_offsets.append(0.0)
                points.append((x1 + nx_ * offset, y1 + ny_ * offset))
        array = np.array(points, float)
        steps = np.hypot(*np.diff(array, axis=0).T)
        keep = np.concatenate([[True], steps > 1e-6])
        array = array[keep]
        s = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(array, axis=0).T))])
        index_map = np.cumsum(keep) - 1
        marks = [(float(s[index_map[i]]) + extra, node, turn)
                 for (i, turn, node), extra in zip(junctions, entry_offsets, strict=True)]
        return cls(array, s, _curvature(array), marks, arcs)

    def project(self, x: float, y: float, hint: float = 0.0,
                window_m: float = 60.0) -> tuple[float, float]:
        """Path distance of the nearest point to ``(x, y)`` near ``hint``, and the distance
        from the path [m]."""
        lo = max(int(np.searchsorted(self.s, hint - 10.0)) - 1, 0)
        hi = min(int(np.searchsorted(self.s, hint + window_m)) + 1, len(self.s) - 1)
        a, b = self.points[lo:hi], self.points[lo + 1:hi + 1]
        if len(a) == 0:
            return float(self.s[-1]), math.hypot(x - self.points[-1, 0],
                                                 y - self.points[-1, 1])
        seg = b - a
        length2 = np.maximum((seg**2).sum(axis=1), 1e-12)
        t = np.clip(((x - a[:, 0]) * seg[:, 0] + (y - a[:, 1]) * seg[:, 1]) / length2, 0, 1)
        px, py = a[:, 0] + t * seg[:, 0], a[:, 1] + t * seg[:, 1]
        d = np.hypot(px - x, py - y)
        k = int(np.argmin(d))
        return float(self.s[lo + k] + t[k] * math.sqrt(length2[k])), float(d[k])

    def point_at(self, s: float) -> tuple[float, float]:
        s = min(max(s, 0.0), float(self.s[-1]))
        return (float(np.interp(s, self.s, self.points[:, 0])),
                float(np.interp(s, self.s, self.points[:, 1])))

    @property
    def length(self) -> float:
        return float(self.s[-1])


def _turn(road: RoadMap, din: tuple[float, float], start: tuple[float, float], c: int,
          d: int) -> list[tuple[float, float]]:
    """Points of a quadratic curve from ``start`` (end of a lane) into arc ``c -> d``."""
    hw = road.half_width
    dx, dy = road.direction(c, d)
    nx_, ny_ = public.side_normal(dx, dy, road.side)
    offset = road.lane_offset(c, d)
    x, y = road.nodes[c]
    end = (x + dx * hw + nx_ * offset, y + dy * hw + ny_ * offset)
    cross = din[0] * dy - din[1] * dx
    if abs(cross) < 0.5:
        corner = ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2)
    else:
        t = ((end[0] - start[0]) * dy - (end[1] - start[1]) * dx) / cross
        corner = (start[0] + t * din[0], start[1] + t * din[1])
    u = np.linspace(0.0, 1.0, CURVE_POINTS + 2)[:, None]
    p0, k, p1 = np.array(start), np.array(corner), np.array(end)
    curve = (1 - u) ** 2 * p0 + 2 * (1 - u) * u * k + u**2 * p1
    return [tuple(p) for p in curve]


def _arc_turn(road: RoadMap, din: tuple[float, float], end: tuple[float, float], c: int,
              d: int, radius: float, entry: tuple[int, int] | None = None,
              ) -> tuple[list[tuple[float, float]], float] | None:
    """A right-angle turn from the lane ending at ``end`` into arc ``c -> d`` as a circle
    of ``radius`` [m] tangent to both lanes (moved toward the centre line where the kerb's
    corner would be nearer than ``CORNER_CLEARANCE_M``, and for a turn toward the kerb where
    roadworks close an oncoming lane of ``entry`` or ``c -> d``, so that the body's sweep
    keeps off them): its points, and how far before the intersection's edge it begins [m]
    (negative: inside). None if not a right angle."""
    hw = road.half_width
    dout = np.array(road.direction(c, d))
    d_in = np.array(din)
    if abs(float(np.dot(d_in, dout))) > 1e-6:
        return None
    nx_, ny_ = public.side_normal(*dout, road.side)
    offset = road.lane_offset(c, d)
    node = np.array(road.nodes[c])
    exit_point = node + dout * hw + np.array([nx_, ny_]) * offset
    # Where the two lanes' centre lines cross, and the circle tangent to both.
    start = np.array(end)
    corner = start + d_in * float(np.dot(exit_point - start, d_in))
    centre = corner + radius * (dout - d_in)
    inner = node - hw * d_in + hw * dout  # the block's corner inside the turn
    if np.linalg.norm(centre - inner) > radius - CORNER_CLEARANCE_M and \
            np.dot(inner - node, corner - node) > 0:
        centre = inner + (radius - CORNER_CLEARANCE_M) / math.sqrt(2.0) * (dout - d_in)
    kerb_side = float(np.dot(public.side_normal(*d_in, road.side), dout)) > 0.5
    if kerb_side:
        entry_barrier = entry is not None and entry in road.barrier_across
        centre = _sweep_clear(centre, inner, d_in, dout, radius, hw,
                              hw - road.lane_offset(c, d),
                              exit_barrier=(c, d) in road.barrier_across,
                              entry_barrier=entry_barrier)
    first, last = centre - radius * dout, centre + radius * d_in
    # A quarter circle from ``first`` (heading d_in) to ``last`` (heading dout).
    u = np.linspace(0.0, math.pi / 2, 2 * CURVE_POINTS + 2)[:, None]
    curve = centre + radius * (-np.cos(u) * dout + np.sin(u) * d_in)
    curve = np.vstack([first, curve[1:-1], last])
    early = float(np.dot(start - first, d_in))
    return [tuple(p) for p in curve], early


def swept_reach(radius: float, length_m: float = public.MAX_CAR_LENGTH_M) -> float:
    """Farthest a body ``length_m`` long whose centre runs on a circle of ``radius`` [m]
    reaches from the circle's centre: its outer front corner (the front swing) [m]."""
    return math.hypot(radius + public.CAR_WIDTH_M / 2, length_m / 2)


def _sweep_clear(centre: np.ndarray, inner: np.ndarray, d_in: np.ndarray,
                 dout: np.ndarray, radius: float, hw: float, kerb_gap: float,
                 exit_barrier: bool, entry_barrier: bool) -> np.ndarray:
    """The turn's circle centre moved so that the body's swept area (the front swing into
    the exit street, the rear swing in the entry street, of the longest car) stays on the
    near side of that street's centre line where roadworks close its oncoming lanes,
    still passing the inner corner at ``CORNER_CLEARANCE_M``. ``kerb_gap`` is a lane
    centre's distance from the kerb [m]. With roadworks on both, it stays as it is."""
    across = float(np.dot(centre - inner, d_in))  # toward the exit's centre line
    along = float(np.dot(centre - inner, dout))  # into the exit street
    room = radius - CORNER_CLEARANCE_M
    reach = hw - SWEEP_MARGIN_M - swept_reach(radius)
    if exit_barrier == entry_barrier:
        return centre
    if exit_barrier and across > reach:
        # Later and wider at the start: as little as the corner allows, not beyond the
        # entry lane toward the kerb.
        across = max(reach, -room + 1e-3)
        along = min(math.sqrt(max(room**2 - across**2, 0.0)), radius - kerb_gap)
    elif entry_barrier and -along > reach:
        # The mirror image: early, and wide into the exit street.
        along = min(-reach, room - 1e-3)
        across = max(-math.sqrt(max(room**2 - along**2, 0.0)), kerb_gap - radius)
    return inner + across * d_in + along * dout


def _curvature(points: np.ndarray) -> np.ndarray:
    """Unsigned curvature [1/m] at each point, from its neighbours (0 at the ends)."""
    curvature = np.zeros(len(points))
    if len(points) < 3:
        return curvature
    a, b, c = points[:-2], points[1:-1], points[2:]
    ab, bc, ca = (np.hypot(*(b - a).T), np.hypot(*(c - b).T), np.hypot(*(a - c).T))
    cross = np.abs((b - a)[:, 0] * (c - a)[:, 1] - (b - a)[:, 1] * (c - a)[:, 0])
    curvature[1:-1] = 2 * cross / np.maximum(ab * bc * ca, 1e-9)
    return curvature


class GripEstimator:
    """The car's acceleration per unit pedal, braking per unit pedal, steering (path
    curvature per unit of steering) and the road's friction, from observed motion.

    Friction is known as a lower bound (the largest acceleration seen without slipping,
    over g) until the tyres are seen to saturate: the acceleration stops growing with
    the pedal, or the car slides off its heading; then it is that acceleration over g.
    """

    #: Prior curvature at full steering [1/m], until turns have been measured.
    PRIOR_CURVATURE = 0.2

    def __init__(self) -> None:
        self.throttle_gain: list[float] = []
        self.brake_gain: list[float] = []
        self.curvature_gain: list[float] = []
        self.grip_seen = 0.0
        self.saturated: float | None = None

    def add(self, pedal: float, speed: float, next_speed: float, steering: float,
            yaw_rate: float, slip_angle: float, dt: float) -> None:
        """One step: the pedal held, speeds before and after [m/s], the steering (fraction
        of its limit), the yaw rate [rad/s] and the angle between course and heading."""
        accel = (next_speed - speed) / dt
        lateral = abs(speed * yaw_rate)
        total = math.hypot(accel, lateral)
        sliding = speed > 1.0 and abs(slip_angle) > 0.05
        if pedal > 0.05 and speed > 0.0:
            self.throttle_gain.append(accel / pedal)
        elif pedal < -0.05 and next_speed > 0.3:
            self.brake_gain.append(-accel / -pedal)
        saturating = sliding or self._falls_short(pedal, accel)
        if saturating and total > 0.3:
            seen = total / G_MPS2
            self.saturated = seen if self.saturated is None else 0.8 * self.saturated + 0.2 * seen
        elif not sliding:
            self.grip_seen = max(self.grip_seen, total / G_MPS2)
        if not sliding and abs(steering) > 0.15 and speed > 2.0:
            self.curvature_gain.append(yaw_rate / speed / steering)

    def _falls_short(self, pedal: float, accel: float) -> bool:
        """Whether a strong pedal got clearly less than the gain a light one showed."""
        if pedal > 0.6 and len(self.throttle_gain) >= 3:
            light = max(self.throttle_gain[:-1])
            return accel < 0.75 * light * pedal
        if pedal < -0.6 and len(self.brake_gain) >= 3:
            light = max(self.brake_gain[:-1])
            return -accel < 0.75 * light * -pedal
        return False

    @property
    def friction(self) -> float:
        """The friction to plan with: measured saturation, else the grip seen so far."""
        if self.saturated is not None:
            return self.saturated
        return max(self.grip_seen, 0.1)

    @property
    def steering_curvature(self) -> float:
        """Path curvature per unit of steering at full grip [1/m]."""
        if len(self.curvature_gain) < 5:
            return self.PRIOR_CURVATURE
        return float(np.median(self.curvature_gain[-200:]))

    @property
    def acceleration(self) -> float:
        """Acceleration at full throttle [m/s²], from the recent throttle gains."""
        if not self.throttle_gain:
            return 0.0
        return float(np.median(self.throttle_gain[-50:]))

    @property
    def braking(self) -> float:
        """Deceleration at full brake pedal, within grip [m/s²] (a lower bound)."""
        return max(self.brake_gain, default=3.0)
