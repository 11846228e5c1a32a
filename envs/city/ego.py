"""The ego cars of a batch of cities and their episodes' state, as arrays over the cities.

An :class:`EgoBatch` holds, row ``k`` for city ``k``: the car (``kernels.X`` ...
``SLIPPING``), its clock, what the rules keep (arc, stop line, lane, arrival), the
readings and the lidar, the region under the car, collisions, infraction counts, and
what the env keeps (steps left, route at the last step, outcome, reward). Each city's
tables (grid lines, streets, route, lights, static boxes) sit in a
:class:`~exgen.envs.city.tables.TableStore`, put once per episode
(:meth:`EgoBatch.put`). Every phase of a step is one kernel call over the rows
(:mod:`exgen.envs.city.batch_kernels`); a single world is a batch of one.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, MutableMapping
from typing import TYPE_CHECKING, Any

import numpy as np

from exgen.envs.city import batch_kernels, kernels, public, tables
from exgen.envs.city.config import GRAVITY_MPS2
from exgen.envs.city.tables import TableStore
from exgen.envs.city.traffic import EgoOnRoad
from exgen.envs.city.vehicle import (
    MAX_SPEED_MPS,
    SLIP_STEERING_AUTHORITY,
    STEERING_RATE_RADPS,
    WIDTH_M,
    VehicleState,
)

if TYPE_CHECKING:
    from exgen.envs.city.pedestrians import Pedestrians
    from exgen.envs.city.traffic import Traffic

#: Infractions in the order of the events' and counts' columns, with their penalties.
INFRACTIONS = ("collision_static", "collision_vehicle", "collision_pedestrian", "red_light",
               "wrong_lane", "off_road")
#: Outcome names by code (``batch_kernels.DRIVING`` ...).
OUTCOMES = ("driving", "arrived", "collision", "timeout")
#: Per-row arrays: (name, shape after the row, dtype).
_ROWS = (("car", (7,), np.float64), ("time", (), np.float64), ("sensed", (7,), np.int64),
         ("readings", (7,), np.float64), ("region", (2,), np.int64),
         ("collided", (), np.bool_), ("off_road", (), np.bool_),
         ("counts", (6,), np.int64), ("events", (6,), np.int64),
         ("friction", (), np.float64), ("limits", (4,), np.float64),
         ("body", (2,), np.float64), ("params", (9,), np.float64),
         ("destination", (), np.int64), ("destination_xy", (2,), np.float64),
         ("steps_left", (), np.int64), ("previous_route", (), np.float64),
         ("initial_route", (), np.float64), ("outcome", (), np.int64),
         ("rewards", (), np.float64), ("terms", (4,), np.float64),
         ("route_completion", (), np.float64), ("driving_score", (), np.float64),
         ("noisy", (), np.bool_), ("context_obs", (4,), np.float64),
         ("speed_limit", (), np.float64))


class EgoBatch:
    """``n`` ego cars with ``rays`` lidar rays of ``lidar_range`` [m], stepped by
    ``substeps`` physics substeps a decision; rows are filled by :meth:`put`."""

    def __init__(self, n: int, rays: np.ndarray, lidar_range: float, substeps: int) -> None:
        self.n = n
        self.rays = rays
        self.lidar_range = float(lidar_range)
        #: Each ray's angle from the heading [rad].
        self.ray_angles = np.arctan2(rays[:, 1], rays[:, 0])
        #: A change of a lidar entry per decision to a rate entry (``SPEED_SCALE_MPS``).
        self.rate_scale = self.lidar_range / (public.DT_S * public.SPEED_SCALE_MPS)
        self.substeps = substeps
        self.dt = public.DT_S / substeps
        for name, shape, dtype in _ROWS:
            setattr(self, name, np.zeros((n, *shape), dtype))
        self.lidar = np.zeros((n, len(rays)))
        #: Per ray, the lidar's return [m] where it is a road user's, else the range.
        self.users = np.zeros((n, len(rays)))
        #: The road-user entries of the last observation (NaN: none seen, or none yet).
        self.users_before = np.full((n, len(rays)), np.nan)
        #: The ``lead_distance`` entry of the last observation (NaN: none seen, or none yet).
        self.lead_before = np.full(n, np.nan)
        self.draws = np.zeros((n, len(rays) + 1))
        self.tables = TableStore(n)

    # ------------------------------------------------------------------ rows
    def put(self, k: int, source: EgoBatch, row: int, tables: dict[str, np.ndarray]) -> None:
        """Row ``k`` takes row ``row`` of ``source`` and the city's ``tables``
        (:data:`exgen.envs.city.tables.NAMES`)."""
        for name, _, _ in _ROWS:
            getattr(self, name)[k] = getattr(source, name)[row]
        self.lidar[k] = source.lidar[row]
        self.users[k] = source.users[row]
        self.users_before[k] = source.users_before[row]
        self.lead_before[k] = source.lead_before[row]
        self.tables.put(k, tables)

    # ---------------------------------------------------------------- phases
    def drive(self, rows: np.ndarray, steer: np.ndarray, pedal: np.ndarray) -> None:
        """The cars of ``rows`` drive one decision under ``steer``, ``pedal`` in [-1, 1]
        (one each); their clocks move on."""
        batch_kernels.drive(rows, self.car, steer, pedal, self.friction, self.dt,
                            self.substeps, self.limits, self.time, public.DT_S,
                            GRAVITY_MPS2, STEERING_RATE_RADPS, SLIP_STEERING_AUTHORITY,
                            MAX_SPEED_MPS)

    def sense(self, rows: np.ndarray, moved: bool, traffic: Traffic,
              pedestrians: Pedestrians, person_radius: float) -> None:
        """Where the cars of ``rows`` are, what they hit and broke (``moved``), and their
        readings, among the joined ``traffic`` and ``pedestrians`` (row ``k``'s are
        city ``k``'s)."""
        batch_kernels.sense(
            rows, moved, self.car, self.time, self.sensed, self.readings, self.lidar,
            self.users, self.region, self.collided, self.off_road, self.counts, self.events,
            self.params, self.body, self.destination, self.tables.bounds,
            *self.tables.flat, self.rays, self.lidar_range, WIDTH_M, person_radius,
            traffic.x, traffic.y, traffic.heading, traffic.boxes, traffic.car_base,
            pedestrians.positions(), pedestrians.boxes(), pedestrians.person_base)

    def on_road(self, node_base: np.ndarray, arc_base: np.ndarray) -> EgoOnRoad:
        """Every car as the joined traffic sees it (intersections and arcs numbered
        from ``node_base``, ``arc_base``)."""
        floats = np.empty((self.n, 7))
        ints = np.empty((self.n, 2), np.int64)
        flat = self.tables.flat
        batch_kernels.on_road(self.car, self.sensed, self.region, self.body,
                              self.tables.bounds, flat[tables.POSITIONS], flat[tables.ARC_AT],
                              flat[tables.ARC_FRAMES], node_base, arc_base, WIDTH_M + 0.3,
                              floats, ints)
        return EgoOnRoad(floats[:, 0], floats[:, 1], ints[:, 0], floats[:, 2], floats[:, 3],
                         floats[:, 4], ints[:, 1], floats[:, 5], floats[:, 6])

    def mark_danger(self, danger: np.ndarray, node_base: np.ndarray, caution_m: float,
                    caution_s: float) -> None:
        """Mark in ``danger`` (joined intersections, 4) the crosswalks every car is about
        to cross or is crossing."""
        batch_kernels.mark_danger(self.car, self.sensed, self.region, self.body, self.params,
                                  self.tables.bounds, self.tables.flat[tables.POSITIONS],
                                  node_base, caution_m, caution_s, danger)

    def settle(self, rows: np.ndarray, weights: np.ndarray, penalties: np.ndarray) -> None:
        """Rewards (terms weighted by ``weights``), outcomes, route completion and driving
        scores (``penalties`` per infraction) of ``rows``, once sensed."""
        batch_kernels.settle(rows, self.sensed, self.readings, self.collided, self.events,
                             self.counts, self.steps_left, self.previous_route,
                             self.initial_route, self.outcome, weights, penalties, self.rewards,
                             self.terms, self.route_completion, self.driving_score)

    def score(self, rows: np.ndarray, penalties: np.ndarray) -> None:
        """Route completion and driving score of ``rows``."""
        batch_kernels.score(rows, self.sensed, self.readings, self.counts, self.initial_route,
                            penalties, self.route_completion, self.driving_score)

    def observe(self, rows: np.ndarray, obs: np.ndarray, scales: np.ndarray,
                users_at: int = -1) -> None:
        """The default observation of ``rows`` into ``obs`` (float32, one row each), with
        ``draws`` added where ``noisy``; with ``users_at >= 0`` also the road-user
        entries and their rates from that column on (``public.road_user_names``)."""
        batch_kernels.observe(rows, obs, self.car, self.readings, self.lidar, self.noisy,
                              self.draws, self.limits, self.lidar_range,
                              self.destination_xy, scales, users_at, self.users,
                              self.users_before, self.rate_scale)

    def observe_lead(self, rows: np.ndarray, obs: np.ndarray, lead_at: int) -> None:
        """The car ahead (``public.LEAD_OBSERVATION``) of ``rows`` into ``obs``'s columns
        ``lead_at`` and ``lead_at + 1``, from the lidar entries ``obs`` holds (scaled,
        noise included, not yet clipped), its lane heading entry and the road-user
        returns ``users``; ``lead_before`` then takes the distance entries."""
        start = public.LIDAR_START
        distance = obs[rows, start:start + len(self.rays)] * self.lidar_range
        from_lane = self.ray_angles + obs[rows, public.LANE_HEADING, None] * math.pi
        nearest = public.nearest_ahead(distance, from_lane,
                                       self.users[rows] < self.lidar_range,
                                       public.LEAD_HALF_WIDTH_M)
        seen = np.isfinite(nearest)
        entry = np.where(seen, nearest / self.lidar_range, 1.0)
        before = self.lead_before[rows]
        rate = np.where(seen & ~np.isnan(before),
                        np.clip((entry - before) * self.rate_scale, -1.0, 1.0), 0.0)
        self.lead_before[rows] = np.where(seen, entry, np.nan)
        obs[rows, lead_at] = entry
        obs[rows, lead_at + 1] = rate


class CarRow:
    """Row ``row`` of a batch's cars as a :class:`~exgen.envs.city.vehicle.VehicleState`:
    x, y [m], heading [rad], speed [m/s], steering [rad], course [rad], slipping."""

    __slots__ = ("_batch", "_row")
    _FIELDS = {"x": kernels.X, "y": kernels.Y, "heading": kernels.HEADING,
               "speed": kernels.SPEED, "steering": kernels.STEERING,
               "course": kernels.COURSE}

    def __init__(self, batch: EgoBatch, row: int) -> None:
        object.__setattr__(self, "_batch", batch)
        object.__setattr__(self, "_row", row)

    def __getattr__(self, name: str) -> Any:
        if name == "slipping":
            return bool(self._batch.car[self._row, kernels.SLIPPING])
        if name in self._FIELDS:
            return self._batch.car.item(self._row, self._FIELDS[name])
        raise AttributeError(name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "slipping":
            self._batch.car[self._row, kernels.SLIPPING] = 1.0 if value else 0.0
        elif name in self._FIELDS:
            self._batch.car[self._row, self._FIELDS[name]] = value
        else:
            raise AttributeError(name)

    def state(self) -> VehicleState:
        """A copy as a :class:`VehicleState`."""
        x, y, heading, speed, steering, course, slipping = \
            self._batch.car[self._row].tolist()
        return VehicleState(x, y, heading, speed, steering, course, slipping != 0.0)

    def __repr__(self) -> str:
        return repr(self.state())


def write_car(batch: EgoBatch, row: int, state: Any) -> None:
    """Row ``row`` of the batch's cars takes ``state`` (a VehicleState or CarRow)."""
    batch.car[row] = (state.x, state.y, state.heading, state.speed, state.steering,
                      state.course, 1.0 if state.slipping else 0.0)


class CountsRow(MutableMapping):
    """Row ``row`` of a batch's infraction counts as a dict by name."""

    def __init__(self, batch: EgoBatch, row: int) -> None:
        self._batch, self._row = batch, row

    def __getitem__(self, name: str) -> int:
        return self._batch.counts.item(self._row, INFRACTIONS.index(name))

    def __setitem__(self, name: str, value: int) -> None:
        self._batch.counts[self._row, INFRACTIONS.index(name)] = value

    def __delitem__(self, name: str) -> None:
        raise TypeError("infraction counts cannot be removed")

    def __iter__(self) -> Iterator[str]:
        return iter(INFRACTIONS)

    def __len__(self) -> int:
        return len(INFRACTIONS)

    def __repr__(self) -> str:
        return repr(dict(self))
