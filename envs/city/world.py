"""The city world: one car on a map with traffic lights, its sensors and its infractions.

A :class:`CityWorld` is built per episode from a map, a concrete context and a random
generator (which places the lights' phases, the start and the destination). It
advances the car, casts the lidar, follows the car along the road graph and counts
what it does wrong. No Gymnasium import here: the env turns this into a task.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np

from exgen.envs.city import kernels, public
from exgen.envs.city.city_map import CityMap
from exgen.envs.city.config import CityConfig
from exgen.envs.city.ego import INFRACTIONS, CarRow, CountsRow, EgoBatch, write_car
from exgen.envs.city.geometry import Neighbourhood, RoadLayout, road_layout
from exgen.envs.city.lights import Lights
from exgen.envs.city.pedestrians import RADIUS_M, Pedestrians
from exgen.envs.city.road_users import crosswalks_in_danger, move_road_users
from exgen.envs.city.traffic import CROSSWALK_M, Arcs, Traffic, direction_code
from exgen.envs.city.vehicle import LENGTH_M, Car, VehicleState

#: Shortest street between two intersection squares a car can use [m].
MIN_STREET_M = 8.0
#: Within this distance of an intersection [m], a turning car may swing over the centre
#: line without a wrong-lane infraction: no car turns tighter than a lane. A longer ego
#: car swings over its own length.
TURN_SWING_M = LENGTH_M
#: Penalties of the driving score, one factor per infraction (CARLA's where it has one).
INFRACTION_PENALTIES = {"collision_static": 0.65, "collision_vehicle": 0.6,
                        "collision_pedestrian": 0.5, "red_light": 0.7, "wrong_lane": 0.8,
                        "off_road": 0.8}
COLLISIONS = ("collision_static", "collision_vehicle", "collision_pedestrian")
#: The penalties in the order of the batch's counts.
PENALTIES = np.array([INFRACTION_PENALTIES[name] for name in INFRACTIONS])


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
    #: Per ray, the lidar's return where it is a road user's, else the range [m].
    road_users: np.ndarray = field(default_factory=lambda: np.zeros(0))


@functools.lru_cache(maxsize=64)
def _prepared(city: CityMap, lanes: int, lane_width_m: float, side: str,
              lidar_reach_m: float, body_reach_m: float = LENGTH_M
              ) -> tuple[RoadLayout, Neighbourhood, Neighbourhood, Neighbourhood,
                         nx.DiGraph, Arcs, dict[str, np.ndarray]]:
    layout = road_layout(city, lanes, lane_width_m, side)
    seen = Neighbourhood(city, np.vstack([layout.curbs, layout.barriers]), lidar_reach_m)
    solid = Neighbourhood(city, np.vstack([layout.buildings, layout.barriers]), body_reach_m)
    barriers = Neighbourhood(city, layout.barriers, body_reach_m)
    graph, arcs = city.graph(), Arcs.of(city, lanes, lane_width_m, side)
    streets, street_at, positions, _ = _map_tables(city)
    arc_at = np.full((city.n_nodes, 4), -1, np.int64)
    arc_at[arcs.frm, arcs.direction] = np.arange(len(arcs.frm))
    in_graph = np.zeros(city.n_nodes, np.bool_)
    in_graph[list(graph.nodes)] = True
    tables = {"lines_x": seen.lines_x, "lines_y": seen.lines_y, "streets": streets,
              "street_at": street_at, "positions": positions, "in_graph": in_graph,
              "arc_at": arc_at,
              "arc_frames": np.stack([arcs.dx, arcs.dy, arcs.nx, arcs.ny], axis=1)}
    for name, cells in (("seen", seen), ("solid", solid), ("barrier", barriers)):
        tables.update({f"{name}_start": cells.cell_start, f"{name}_cells": cells.cell_boxes,
                       f"{name}_boxes": cells.boxes})
    return layout, seen, solid, barriers, graph, arcs, tables


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
        (self.layout, self._seen, self._solid, self._barriers, self.graph, self.arcs,
         map_tables) = _prepared(city, self.lanes, self.lane_width, self.side,
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
        #: :meth:`route_targets_at` by the node its route is taken from (fixed per world).
        self._route_targets: dict[int, tuple[tuple[float, float], tuple[float, float]]] = {}
        #: This world's row in the batch of ego cars it is stepped with (its own batch
        #: of one until a vector env takes it in, :meth:`join`).
        self.batch, self.row = EgoBatch(1, self._ray_directions, self.lidar_range,
                                        physics_substeps), 0
        #: This world's row as the rows of a kernel call.
        self._rows = np.zeros(1, np.int64)
        first = self.next_hop[self.start]
        self.car = self._place(self.start, first)
        self.arc = (self.start, first)
        _, _, positions, street_rows = _map_tables(city)
        self.batch.region[0] = (kernels.STREET,
                                street_rows[(min(self.start, first), max(self.start, first))])
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
        #: The joined road users the batch's rows are read from (its own until joined).
        self.road_users: tuple[Any, Any] = (self.traffic, self.pedestrians)
        node_values = np.stack([
            [self.remaining.get(n, math.inf) for n in range(city.n_nodes)],
            self.lights.offset], axis=1)
        self._next_hop = np.array([self.next_hop.get(n, -1) for n in range(city.n_nodes)],
                                  np.int64)
        params = np.array([self.half_width, self.lane_width, self.lanes,
                           1.0 if self.side == "right" else -1.0, self._turn_swing,
                           context.green_s, context.amber_s, context.all_red_s,
                           CROSSWALK_M])
        #: The kernels' tables of this episode (:class:`EgoBatch`).
        self.tables = {**map_tables, "next_hop": self._next_hop, "node_values": node_values}
        batch = self.batch
        batch.friction[0] = context.friction
        batch.limits[0] = spec.limits()
        batch.body[0] = (spec.length_m, self._reach)
        batch.params[0] = params
        batch.destination[0] = self.destination
        batch.destination_xy[0] = positions[self.destination]
        batch.tables.put(0, self.tables)
        batch.sense(self._rows, False, self.traffic, self.pedestrians, RADIUS_M)
        self.initial_route_m = batch.initial_route[0] = float(
            batch.readings[0, kernels.ROUTE_DISTANCE])

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
        self.batch.drive(self._rows, np.array([steer]), np.array([pedal]))

    def move_road_users(self) -> None:
        """The other cars, then the pedestrians, move one decision."""
        move_road_users(self.batch, self.traffic, self.pedestrians)

    def crosswalks_in_danger(self) -> np.ndarray:
        """(n_nodes, 4): crosswalks a car (other or ego) is about to cross or crossing."""
        return crosswalks_in_danger(self.batch, self.traffic)

    def update(self) -> dict[str, int]:
        """Where the car is now, what it hit and broke, and its sensors' readings; returns
        the infractions committed since the last update."""
        self.batch.sense(self._rows, True, *self.road_users, RADIUS_M)
        return dict(zip(INFRACTIONS, self.batch.events[self.row].tolist(), strict=True))

    def join(self, batch: EgoBatch, row: int, road_users: tuple[Any, Any]) -> None:
        """Row ``row`` of ``batch`` takes this world's car and tables, and the world reads
        and writes it there from now on, its road users among ``road_users`` (joined
        traffic and pedestrians, city ``row`` being this one)."""
        batch.put(row, self.batch, self.row, self.tables)
        self.batch, self.row, self.road_users = batch, row, road_users
        self._rows = np.array([row], np.int64)

    # ------------------------------------------------------------- state
    @property
    def car(self) -> CarRow:
        """The ego car (position [m], heading [rad], speed [m/s], ...), read and written
        in the batch."""
        return CarRow(self.batch, self.row)

    @car.setter
    def car(self, state: VehicleState | CarRow) -> None:
        write_car(self.batch, self.row, state)

    @property
    def time_s(self) -> float:
        """Time since the episode started [s]."""
        return self.batch.time.item(self.row)

    @time_s.setter
    def time_s(self, value: float) -> None:
        self.batch.time[self.row] = value

    @property
    def arc(self) -> tuple[int, int]:
        """The arc (from, to) the car follows."""
        return (self.batch.sensed.item(self.row, kernels.ARC_FROM),
                self.batch.sensed.item(self.row, kernels.ARC_TO))

    @arc.setter
    def arc(self, arc: tuple[int, int]) -> None:
        self.batch.sensed[self.row, kernels.ARC_FROM:kernels.ARC_TO + 1] = arc

    @property
    def region(self) -> tuple[str, object]:
        """``("node", id)``, ``("street", Street)`` or ``("off", None)`` under the car at
        the last update."""
        kind, where = self.batch.region[self.row].tolist()
        if kind == kernels.NODE:
            return ("node", where)
        if kind == kernels.STREET:
            return ("street", self.city.streets[where])
        return ("off", None)

    @property
    def arrived(self) -> bool:
        """Whether the car has reached the destination."""
        return bool(self.batch.sensed[self.row, kernels.ARRIVED])

    @arrived.setter
    def arrived(self, value: bool) -> None:
        self.batch.sensed[self.row, kernels.ARRIVED] = bool(value)

    @property
    def collided(self) -> bool:
        """Whether the car touched something at the last update."""
        return bool(self.batch.collided[self.row])

    @collided.setter
    def collided(self, value: bool) -> None:
        self.batch.collided[self.row] = bool(value)

    @property
    def counts(self) -> CountsRow:
        """Infractions so far, by name (``INFRACTION_PENALTIES``'s)."""
        return CountsRow(self.batch, self.row)

    @property
    def readings(self) -> Readings:
        """The sensors' and the navigation's last readings."""
        (lane_heading, lane_offset, light, light_distance, turn, turn_distance,
         route_distance) = self.batch.readings[self.row].tolist()
        readings = Readings(lane_heading, lane_offset, None, light_distance, None,
                            turn_distance, route_distance, self.batch.lidar[self.row].copy(),
                            self.batch.users[self.row].copy())
        if light != kernels.NO_LIGHT:
            readings.light = ("green", "amber", "red")[int(light)]
        if turn != kernels.NO_TURN:
            readings.turn = public.TURNS[int(turn)]
        return readings

    # ------------------------------------------------------------- sensing
    def light(self, node: int, axis: int) -> str:
        """State of ``node``'s light for approaches along ``axis`` (0 west-east)."""
        return self.lights.state(node, axis, self.time_s)

    @property
    def sensed_readings(self) -> np.ndarray:
        """The last readings as :func:`exgen.envs.city.kernels.sense` wrote them."""
        return self.batch.readings[self.row]

    def scan(self) -> np.ndarray:
        """The lidar: distance along each ray to the road's edge, roadworks, a car or a
        pedestrian [m]. Cars are seen as their bounding boxes (exact on a street, a
        little larger while turning), pedestrians as squares: one ray cast for all."""
        car, seen = self.car, self._seen
        lidar = np.empty(len(self._ray_directions))
        users = np.empty(len(self._ray_directions))
        kernels.scan(car.x, car.y, car.heading, self._ray_directions, self.lidar_range,
                     seen.lines_x, seen.lines_y, seen.cell_start, seen.cell_boxes,
                     seen.boxes, self.traffic.boxes, self.pedestrians.boxes(), lidar, users)
        return lidar

    def route_targets_at(self, kind: int, where: int, arc_to: int
                         ) -> tuple[tuple[float, float], tuple[float, float]]:
        """Where the route goes next [m, world frame] for a car in region ``(kind,
        where)`` (the kernels' ``NODE``/``STREET``/``OFF`` and its node or street) on an
        arc toward ``arc_to``: the point where it leaves the intersection the car is in
        or comes to next (the kerb lane's centre at the intersection's edge, on the
        street it leaves by), and the same point of the intersection after it; the
        destination's centre stands for both once reached."""
        node = where if kind == kernels.NODE and where in self.next_hop else arc_to
        targets = self._route_targets.get(node)
        if targets is None:
            targets = self._route_targets[node] = self._targets_from(node)
        return targets

    def _targets_from(self, node: int) -> tuple[tuple[float, float], tuple[float, float]]:
        """:meth:`route_targets_at` for a car whose route is taken from ``node``."""
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
        self.batch.score(self._rows, PENALTIES)
        return self.batch.route_completion.item(self.row)

    @property
    def driving_score(self) -> float:
        """Route completion times one penalty factor per infraction (CARLA's score)."""
        self.batch.score(self._rows, PENALTIES)
        return self.batch.driving_score.item(self.row)


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
