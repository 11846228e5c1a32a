"""The city world: one car on a map with traffic lights, its sensors and its infractions.

A :class:`CityWorld` is built per episode from a map, a concrete context and a random
generator (which places the lights' phases, the start and the destination). It
advances the car, casts the lidar, follows the car along the road graph and counts
what it does wrong. No Gymnasium import here: the env turns this into a task.
"""

from __future__ import annotations

import bisect
import functools
import math
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from exgen.envs.city import kernels, public
from exgen.envs.city.city_map import CityMap
from exgen.envs.city.config import CityConfig
from exgen.envs.city.geometry import Neighbourhood, RoadLayout, road_layout
from exgen.envs.city.lights import Lights
from exgen.envs.city.pedestrians import RADIUS_M, Pedestrians
from exgen.envs.city.road_users import crosswalks_in_danger, move_road_users
from exgen.envs.city.traffic import CROSSWALK_M, Arcs, Traffic, direction_code
from exgen.envs.city.vehicle import LENGTH_M, WIDTH_M, Car, VehicleState, advance

#: Shortest street between two intersection squares a car can use [m].
MIN_STREET_M = 8.0
#: Within this distance of an intersection [m], a turning car may swing over the centre
#: line without a wrong-lane infraction: no car turns tighter than a lane. A longer ego
#: car swings over its own length.
TURN_SWING_M = LENGTH_M
#: Pedestrians do not step onto a crosswalk the ego car is this close to [m], or this
#: few seconds away from at its speed [s].
PEDESTRIAN_CAUTION_M = 20.0
PEDESTRIAN_CAUTION_S = 4.0
#: Penalties of the driving score, one factor per infraction (CARLA's where it has one).
INFRACTION_PENALTIES = {"collision_static": 0.65, "collision_vehicle": 0.6,
                        "collision_pedestrian": 0.5, "red_light": 0.7, "wrong_lane": 0.8,
                        "off_road": 0.8}
COLLISIONS = ("collision_static", "collision_vehicle", "collision_pedestrian")


@dataclass
class Readings:
    """What the sensors and the navigation say after a step (SI units)."""

    lane_heading: float = 0.0
    lane_offset: float = 0.0
    light: str | None = None
    light_distance: float = math.inf
    turn: str | None = None
    turn_distance: float = math.inf
    route_distance: float = 0.0
    lidar: np.ndarray = field(default_factory=lambda: np.zeros(0))


@functools.lru_cache(maxsize=64)
def _prepared(city: CityMap, lanes: int, lane_width_m: float, side: str,
              lidar_reach_m: float, body_reach_m: float = LENGTH_M
              ) -> tuple[RoadLayout, Neighbourhood, Neighbourhood, Neighbourhood,
                         nx.DiGraph, Arcs]:
    layout = road_layout(city, lanes, lane_width_m, side)
    seen = np.vstack([layout.curbs, layout.barriers])
    solid = np.vstack([layout.buildings, layout.barriers])
    return (layout, Neighbourhood(city, seen, lidar_reach_m),
            Neighbourhood(city, solid, body_reach_m),
            Neighbourhood(city, layout.barriers, body_reach_m),
            city.graph(), Arcs.of(city, lanes, lane_width_m, side))


class CityWorld:
    """One episode's world; ``step`` advances it by one decision (``public.DT_S``)."""

    def __init__(self, city: CityMap, context: CityConfig, rng: np.random.Generator, *,
                 lidar_rays: int = 32, lidar_range_m: float = public.DEFAULT_LIDAR_RANGE_M,
                 physics_substeps: int = 5) -> None:
        if context.randomized_fields:
            raise ValueError(f"CityWorld needs a concrete context; sample() the ranges "
                             f"{', '.join(context.randomized_fields)} first")
        self.city = city
        self.context = context
        self.lanes = context.lanes_per_direction
        self.lane_width = context.lane_width_m
        self.side = context.driving_side
        self.half_width = public.road_half_width(self.lanes, self.lane_width)
        #: The ego car's size and limits, from the context.
        self.spec = spec = Car.of(context)
        #: How far from the car's centre its body or a touching car may reach [m].
        self._reach = max(LENGTH_M, spec.length_m)
        self._turn_swing = max(TURN_SWING_M, spec.length_m)
        check_street_lengths(city, self.lanes, self.lane_width)
        (self.layout, self._seen, self._solid, self._barriers,
         self.graph, self.arcs) = _prepared(city, self.lanes, self.lane_width, self.side,
                                 lidar_range_m + LENGTH_M, self._reach)
        self.lidar_range = float(lidar_range_m)
        angles = np.arange(lidar_rays) * (2.0 * math.pi / lidar_rays)
        self._ray_directions = np.stack([np.cos(angles), np.sin(angles)], axis=1)
        self.substeps = physics_substeps
        cycle = 2.0 * (context.green_s + context.amber_s + context.all_red_s)
        self.light_offsets = {n: float(rng.uniform(0.0, cycle)) for n in sorted(city.lights)}
        self.lights = Lights(self.light_offsets, city.n_nodes, context.green_s,
                             context.amber_s, context.all_red_s)
        self.start, self.destination = self._pick_route(rng)
        reverse = self.graph.reverse(copy=False)
        self.remaining, paths = nx.single_source_dijkstra(reverse, self.destination)
        self.next_hop = {n: path[-2] for n, path in paths.items() if len(path) > 1}
        self.time_s = 0.0
        first = self.next_hop[self.start]
        self.car = self._place(self.start, first)
        self.arc = (self.start, first)
        self.region: tuple[str, object] = ("street", city.street(self.start, first))
        street_km = sum(city.length(*arc) for arc in city.arcs()) / 2000.0
        self.traffic = Traffic(
            city, self.arcs, round(context.traffic_density * street_km), rng,
            half_width=self.half_width, lane_width=self.lane_width, side=self.side,
            speed_limit=context.speed_limit_mps, lights=self.lights,
            avoid=(self.car.x, self.car.y))
        self.pedestrians = Pedestrians(
            city, round(context.pedestrian_density * len(self.graph)), rng,
            half_width=self.half_width, jaywalk_rate=context.jaywalk_rate,
            lights=self.lights)
        self._map_tables = _map_tables(city)
        self._node_values = np.stack([
            [self.remaining.get(n, math.inf) for n in range(city.n_nodes)],
            self.lights.offset], axis=1)
        self._next_hop = np.array([self.next_hop.get(n, -1) for n in range(city.n_nodes)])
        self._params = np.array([self.half_width, self.lane_width, self.lanes,
                                 1.0 if self.side == "right" else -1.0, self._turn_swing,
                                 context.green_s, context.amber_s, context.all_red_s,
                                 CROSSWALK_M])
        self._sensed = np.zeros(7, np.int64)
        self._readings = np.zeros(7)
        self.counts = dict.fromkeys(INFRACTION_PENALTIES, 0)
        self.collided = False
        self.arrived = False
        self._wrong_lane = False
        self._off_road = False
        self._beyond_line = False
        self.readings = self._read()
        self.initial_route_m = self.readings.route_distance

    # ------------------------------------------------------------- set-up
    def _pick_route(self, rng: np.random.Generator) -> tuple[int, int]:
        """Start and destination: as configured, else drawn at least ``min_route_m`` apart
        by road (the farthest pair end when the city is too small)."""
        city, context = self.city, self.context
        usable = sorted(self.graph.nodes)
        start = _configured_node(city, context.start, "start", usable)
        destination = _configured_node(city, context.destination, "destination", usable)
        if start is not None and start == destination:
            raise ValueError(f"start and destination are the same intersection "
                             f"{city.label(start)}; pick two different ones")
        if start is None and destination is not None:
            to_destination = nx.single_source_dijkstra_path_length(
                self.graph.reverse(copy=False), destination)
            start = _far_node(usable, destination, to_destination, context.min_route_m, rng)
        if start is None:
            start = usable[int(rng.integers(len(usable)))]
        if destination is None:
            from_start = nx.single_source_dijkstra_path_length(self.graph, start)
            destination = _far_node(usable, start, from_start, context.min_route_m, rng)
        return start, destination

    def _place(self, node: int, toward: int) -> VehicleState:
        (x0, y0), (x1, y1) = self.city.position(node), self.city.position(toward)
        length = abs(x1 - x0) + abs(y1 - y0)
        dx, dy = (x1 - x0) / length, (y1 - y0) / length
        nx_, ny_ = public.side_normal(dx, dy, self.side)
        street = self.city.street(node, toward)
        lane = public.lane_offsets(self.lanes, self.lane_width, street.one_way_to is not None)[-1]
        along = min(self.half_width + 1.0 + self.spec.length_m / 2, length / 2)
        return VehicleState(x0 + dx * along + nx_ * lane, y0 + dy * along + ny_ * lane,
                            math.atan2(dy, dx))

    # ------------------------------------------------------------- stepping
    def step(self, steer: float, pedal: float) -> dict[str, int]:
        """Advance one decision; returns the infractions committed during it."""
        self.drive(steer, pedal)
        self.move_road_users()
        return self.update()

    def drive(self, steer: float, pedal: float) -> None:
        """The ego car's physics substeps for one decision; the clock moves on."""
        advance(self.car, steer, pedal, self.context.friction, public.DT_S / self.substeps,
                self.spec, self.substeps)
        self.time_s += public.DT_S

    def move_road_users(self) -> None:
        """The other cars, then the pedestrians, move one decision."""
        move_road_users([self], self.traffic, self.pedestrians)

    def crosswalks_in_danger(self) -> np.ndarray:
        """(n_nodes, 4): crosswalks a car (other or ego) is about to cross or crossing."""
        return crosswalks_in_danger([self], self.traffic)

    def mark_danger(self, danger: np.ndarray) -> None:
        """Mark in ``danger`` (n_nodes, 4) the crosswalks the ego car is about to cross or
        is crossing, which no pedestrian steps onto."""
        kind, where = self.region
        if kind == "node":
            danger[where] = True
        elif kind == "street":
            frm, to = self.arc
            _, _, _, to_go, length = self._arc_frame(self.arc)
            (x0, y0), (x1, y1) = self.city.position(frm), self.city.position(to)
            toward = direction_code(x1 - x0, y1 - y0)
            if to_go - self.half_width < max(PEDESTRIAN_CAUTION_M,
                                             PEDESTRIAN_CAUTION_S * self.car.speed):
                danger[to] = True  # it may turn into any of them
            if length - to_go - self.half_width < CROSSWALK_M + self.spec.length_m:
                danger[frm, toward] = True

    def ego_on_road(self) -> tuple[float, ...]:
        """The ego car as traffic sees it (:meth:`EgoOnRoad.stack`): centre, arc (-1: not
        on an open street), distance along it and offset across it, speed, the
        intersection it is in (-1: none), lane tolerance and length."""
        car = self.car
        kind, where = self.region
        if kind == "node":
            return (car.x, car.y, -1, 0.0, 0.0, car.speed, where, 0.0, self.spec.length_m)
        index = self.arcs.index.get(self.arc, -1) if kind == "street" else -1
        if index < 0:
            return (car.x, car.y, -1, 0.0, 0.0, car.speed, -1, 0.0, self.spec.length_m)
        x0, y0 = self.city.position(self.arc[0])
        a = self.arcs
        rx, ry = car.x - x0, car.y - y0
        return (car.x, car.y, index, rx * a.dx[index] + ry * a.dy[index],
                rx * a.nx[index] + ry * a.ny[index], car.speed, -1, WIDTH_M + 0.3,
                self.spec.length_m)

    def update(self) -> dict[str, int]:
        """Where the car is now, what it hit and broke, and its sensors' readings."""
        car, spec = self.car, self.spec
        length, reach = spec.length_m, self._reach
        events = dict.fromkeys(INFRACTION_PENALTIES, 0)
        self.region = region = self._locate(car.x, car.y)
        kind, where = region
        # The road's edge is a sidewalk away from any building: with its centre on the
        # road, the car can only touch roadworks.
        off_road = kind == "off" or (kind == "node" and where not in self.graph)
        solid = self._solid if off_road else self._barriers
        traffic = self.traffic
        hits = kernels.collisions(car.x, car.y, car.heading, length, WIDTH_M, reach,
                                  solid.near(car.x, car.y), traffic.x, traffic.y,
                                  traffic.heading, self.pedestrians.positions(), RADIUS_M)
        for name, hit in zip(COLLISIONS, hits, strict=True):
            events[name] = int(hit)
        self.collided = any(events[name] for name in COLLISIONS)
        if off_road and not self._off_road:
            events["off_road"] = 1
        self._off_road = off_road
        if kind == "node":
            self.readings = self._read(kernels.NODE, where)
        elif kind == "street":
            self.readings = self._read(kernels.STREET, self._map_tables[3][(where.a, where.b)])
        else:
            self.readings = self._read(kernels.OFF)
        events["red_light"] = int(self._sensed[kernels.RED_LIGHT_EVENT])
        events["wrong_lane"] = int(self._sensed[kernels.WRONG_LANE_EVENT])
        for name, count in events.items():
            self.counts[name] += count
        return events

    # ------------------------------------------------------------- geometry
    def _locate(self, x: float, y: float) -> tuple[str, object]:
        """``("node", id)``, ``("street", Street)`` or ``("off", None)`` under ``(x, y)``."""
        city, hw = self.city, self.half_width
        xs, ys = city.column_x_m, city.row_y_m
        c = bisect.bisect_right(xs, x) - 1
        r = bisect.bisect_right(ys, y) - 1
        column = _nearest_line(xs, c, x, hw)
        row = _nearest_line(ys, r, y, hw)
        if column is not None and row is not None:
            return ("node", row * city.n_columns + column)
        if row is not None and 0 <= c < city.n_columns - 1:
            street = city.street(row * city.n_columns + c, row * city.n_columns + c + 1)
            if street is not None:
                return ("street", street)
        if column is not None and 0 <= r < city.n_rows - 1:
            street = city.street(r * city.n_columns + column, (r + 1) * city.n_columns + column)
            if street is not None:
                return ("street", street)
        return ("off", None)

    def _arc_frame(self, arc: tuple[int, int]) -> tuple[float, float, float, float, float]:
        """Unit direction, side normal's lateral offset of the car, and distance to go [m]."""
        (x0, y0), (x1, y1) = self.city.position(arc[0]), self.city.position(arc[1])
        length = abs(x1 - x0) + abs(y1 - y0)
        dx, dy = (x1 - x0) / length, (y1 - y0) / length
        nx_, ny_ = public.side_normal(dx, dy, self.side)
        rx, ry = self.car.x - x0, self.car.y - y0
        lateral = rx * nx_ + ry * ny_
        to_go = (x1 - self.car.x) * dx + (y1 - self.car.y) * dy
        return dx, dy, lateral, to_go, length

    def light(self, node: int, axis: int) -> str:
        """State of ``node``'s light for approaches along ``axis`` (0 west-east)."""
        return self.lights.state(node, axis, self.time_s)

    # ------------------------------------------------------------- sensing
    def _read(self, kind: int = -1, where: int = -1) -> Readings:
        """Follow the car along the route once it has moved into region ``kind, where``
        (:func:`exgen.envs.city.kernels.sense`; -1: no move), count the red light and
        wrong lane it committed, and read the sensors."""
        car, state, values = self.car, self._sensed, self._readings
        state[kernels.ARC_FROM], state[kernels.ARC_TO] = self.arc
        state[kernels.BEYOND_LINE] = self._beyond_line
        state[kernels.WRONG_LANE] = self._wrong_lane
        state[kernels.ARRIVED] = self.arrived
        streets, street_at, positions, _ = self._map_tables
        kernels.sense(kind, where, car.x, car.y, car.heading, self.time_s, self.destination,
                      streets, street_at, positions, self._next_hop, self._node_values,
                      self._params, state, values)
        self.arc = (int(state[kernels.ARC_FROM]), int(state[kernels.ARC_TO]))
        self._beyond_line = bool(state[kernels.BEYOND_LINE])
        self._wrong_lane = bool(state[kernels.WRONG_LANE])
        self.arrived = bool(state[kernels.ARRIVED])
        (lane_heading, lane_offset, light, light_distance, turn, turn_distance,
         route_distance) = values.tolist()
        readings = Readings(lane_heading, lane_offset, None, light_distance, None,
                            turn_distance, route_distance)
        if light != kernels.NO_LIGHT:
            readings.light = ("green", "amber", "red")[int(light)]
        if turn != kernels.NO_TURN:
            readings.turn = public.TURNS[int(turn)]
        readings.lidar = self.scan()
        return readings

    @property
    def sensed_readings(self) -> np.ndarray:
        """The last readings as :func:`exgen.envs.city.kernels.sense` wrote them."""
        return self._readings

    def scan(self) -> np.ndarray:
        """The lidar: distance along each ray to the road's edge, roadworks, a car or a
        pedestrian [m]. Cars are seen as their bounding boxes (exact on a street, a
        little larger while turning), pedestrians as squares: one ray cast for all."""
        car, seen = self.car, self._seen
        lidar = np.empty(len(self._ray_directions))
        kernels.scan(car.x, car.y, car.heading, self._ray_directions, self.lidar_range,
                     seen.lines_x, seen.lines_y, seen.cell_start, seen.cell_boxes,
                     seen.boxes, self.traffic.boxes, self.pedestrians.boxes(), lidar)
        return lidar

    def route_targets(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """Where the route goes next [m, world frame]: the point where it leaves the
        intersection the car is in or comes to next (the kerb lane's centre at the
        intersection's edge, on the street it leaves by), and the same point of the
        intersection after it; the destination's centre stands for both once reached."""
        kind, where = self.region
        node = where if kind == "node" and where in self.next_hop else self.arc[1]
        targets = []
        for _ in range(2):
            if node == self.destination or node not in self.next_hop:
                targets.append(self.city.position(self.destination))
                continue
            onward = self.next_hop[node]
            targets.append(self._exit_point(node, onward))
            node = onward
        return targets[0], targets[1]

    def _exit_point(self, node: int, onward: int) -> tuple[float, float]:
        """Centre of the kerb lane toward ``onward`` at ``node``'s edge [m]."""
        (x0, y0), (x1, y1) = self.city.position(node), self.city.position(onward)
        length = math.hypot(x1 - x0, y1 - y0)
        dx, dy = (x1 - x0) / length, (y1 - y0) / length
        nx_, ny_ = public.side_normal(dx, dy, self.side)
        one_way = self.city.street(node, onward).one_way_to is not None
        kerb = public.lane_offsets(self.lanes, self.lane_width, one_way)[-1]
        return (x0 + dx * self.half_width + nx_ * kerb, y0 + dy * self.half_width + ny_ * kerb)

    # ------------------------------------------------------------- scoring
    @property
    def route_completion(self) -> float:
        """Fraction of the initial route length covered, in [0, 1]."""
        if self.arrived:
            return 1.0
        initial = self.initial_route_m
        return min(max(1.0 - self.readings.route_distance / initial, 0.0), 1.0)

    @property
    def driving_score(self) -> float:
        """Route completion times one penalty factor per infraction (CARLA's score)."""
        score = self.route_completion
        for name, count in self.counts.items():
            score *= INFRACTION_PENALTIES[name] ** count
        return score


@functools.lru_cache(maxsize=64)
def _map_tables(city: CityMap) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                       dict[tuple[int, int], int]]:
    """A map for :func:`exgen.envs.city.kernels.sense`: its streets (rows ``a, b,
    one_way_to``, -1: two-way), ``street_at[node, direction]`` (-1: none), the
    intersections' centres [m], and each street's row by its ``(a, b)``."""
    streets = np.array([(st.a, st.b, -1 if st.one_way_to is None else st.one_way_to)
                        for st in city.streets], np.int64).reshape(-1, 3)
    positions = np.array([city.position(n) for n in range(city.n_nodes)], float)
    street_at = np.full((city.n_nodes, 4), -1, np.int64)
    for i, (a, b, _) in enumerate(streets):
        toward = direction_code(*(positions[b] - positions[a]))
        street_at[a, toward], street_at[b, (toward + 2) % 4] = i, i
    return streets, street_at, positions, {(int(a), int(b)): i
                                           for i, (a, b, _) in enumerate(streets)}


def _nearest_line(lines: tuple[float, ...], index: int, value: float,
                  half_width: float) -> int | None:
    """The grid line within ``half_width`` of ``value``, given the line just below it."""
    if index >= 0 and value - lines[index] <= half_width:
        return index
    if index + 1 < len(lines) and lines[index + 1] - value <= half_width:
        return index + 1
    return None


def _far_node(usable: list[int], other: int, distance: dict[int, float], min_route_m: float,
              rng: np.random.Generator) -> int:
    """A node drawn among those at least ``min_route_m`` by road from ``other``, else the
    farthest."""
    far = [n for n in usable if n != other and distance[n] >= min_route_m]
    if far:
        return far[int(rng.integers(len(far)))]
    return max((n for n in usable if n != other), key=distance.__getitem__)


def _configured_node(city: CityMap, label: tuple[int, int] | None, name: str,
                     usable: list[int]) -> int | None:
    if label is None:
        return None
    column, row = label
    if not (0 <= column < city.n_columns and 0 <= row < city.n_rows):
        raise ValueError(f"{name}={label} is outside the {city.n_columns}x{city.n_rows} map; "
                         f"valid columns 0..{city.n_columns - 1}, rows 0..{city.n_rows - 1}")
    node = city.node(column, row)
    if node not in usable:
        raise ValueError(f"{name}={label} is not on any street of the map")
    return node


def check_street_lengths(city: CityMap, lanes_per_direction: int, lane_width_m: float) -> None:
    """Raise ``ValueError`` when roads this wide leave a street too short to drive."""
    half_width = public.road_half_width(lanes_per_direction, lane_width_m)
    gaps = [b - a for a, b in zip(city.column_x_m, city.column_x_m[1:], strict=False)]
    gaps += [b - a for a, b in zip(city.row_y_m, city.row_y_m[1:], strict=False)]
    shortest = min(gaps)
    if shortest - 2.0 * half_width < MIN_STREET_M:
        raise ValueError(
            f"lanes_per_direction={lanes_per_direction} with lane_width_m={lane_width_m:g} "
            f"makes roads {2 * half_width:g} m wide, too wide for the map's shortest block "
            f"of {shortest:g} m: need a block of at least 2 x road half width + "
            f"{MIN_STREET_M:g} m")
