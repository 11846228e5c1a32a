"""Compiled kernels over a batch of ego cars, one call per phase for every city.

Each loops over the rows ``rows`` of the batch's arrays (:class:`~exgen.envs.city.ego.
EgoBatch`) and calls the one-car kernels of :mod:`exgen.envs.city.kernels` on each, so
a single env (a batch of one) and the vector env run the same code. A city's tables
(grid lines, streets, route, lights, static boxes) are its rows of the flat arrays of
a :class:`~exgen.envs.city.tables.TableStore` (``bounds``); the other road users of
every city come as joined arrays with each city's first row in ``car_base`` and
``person_base``. Every float operation is the one the scalar code it replaced did, in
the same order, so seeded episodes stay bit for bit; like those kernels, they are
plain loops over scalars, for their compile time.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from exgen.envs.city import kernels
from exgen.envs.city import tables as T
from exgen.envs.city.kernels import (
    ARRIVED,
    HEADING,
    NODE,
    OFF,
    SPEED,
    STREET,
    X,
    Y,
    _direction,
    _py_max,
    _py_min,
    cell_boxes_of,
    right_of,
)

#: Columns of a row's events and counts (``world.INFRACTION_PENALTIES`` order).
COLLISION_STATIC, COLLISION_VEHICLE, COLLISION_PEDESTRIAN, RED_LIGHT, WRONG_LANE, OFF_ROAD = \
    range(6)
#: Episode outcomes.
DRIVING, ARRIVED_OUTCOME, COLLISION, TIMEOUT = range(4)
#: Columns of the reward terms: progress, infractions, collision, arrival.
PROGRESS, INFRACTION_TERM, COLLISION_TERM, ARRIVAL = range(4)
#: Columns of ``body``: the ego car's length and reach [m].
LENGTH, REACH = range(2)


@numba.njit(cache=True, inline="always")
def _part(flat: np.ndarray, bounds: np.ndarray, k: int, t: int) -> np.ndarray:
    """City ``k``'s table ``t`` out of its flat array."""
    return flat[bounds[k, t, 0]:bounds[k, t, 1]]


@numba.njit(cache=True)
def drive(rows: np.ndarray, car: np.ndarray, steer: np.ndarray, pedal: np.ndarray,
          friction: np.ndarray, dt: float, substeps: int, limits: np.ndarray,
          time_s: np.ndarray, decision_s: float, gravity: float, steering_rate: float,
          slip_authority: float, max_speed: float) -> None:
    """Each row's ego car drives one decision under ``steer[j], pedal[j]`` (row
    ``rows[j]``, :func:`kernels.drive`); its clock moves on by ``decision_s`` [s]."""
    for j in range(rows.shape[0]):
        k = rows[j]
        kernels.drive(car[k], steer[j], pedal[j], friction[k], dt, substeps, limits[k],
                      gravity, steering_rate, slip_authority, max_speed)
        time_s[k] += decision_s


@numba.njit(cache=True, inline="always")
def _nearest_line(lines: np.ndarray, index: int, value: float, half_width: float) -> int:
    """The grid line within ``half_width`` of ``value``, given the line just below it
    (-1: none)."""
    if index >= 0 and value - lines[index] <= half_width:
        return index
    if index + 1 < lines.shape[0] and lines[index + 1] - value <= half_width:
        return index + 1
    return -1


@numba.njit(cache=True, inline="always")
def locate(x: float, y: float, lines_x: np.ndarray, lines_y: np.ndarray, half_width: float,
           street_at: np.ndarray) -> tuple[int, int]:
    """The region under ``(x, y)`` [m]: ``(NODE, node)``, ``(STREET, street row)`` or
    ``(OFF, -1)``; intersections lie within ``half_width`` of two grid lines."""
    n_columns, n_rows = lines_x.shape[0], lines_y.shape[0]
    c = right_of(lines_x, x) - 1
    r = right_of(lines_y, y) - 1
    column = _nearest_line(lines_x, c, x, half_width)
    row = _nearest_line(lines_y, r, y, half_width)
    if column >= 0 and row >= 0:
        return NODE, row * n_columns + column
    if row >= 0 and 0 <= c < n_columns - 1:
        street = street_at[row * n_columns + c, 0]  # toward the east
        if street >= 0:
            return STREET, street
    if column >= 0 and 0 <= r < n_rows - 1:
        street = street_at[r * n_columns + column, 1]  # toward the north
        if street >= 0:
            return STREET, street
    return OFF, -1


@numba.njit(cache=True)
def sense(rows: np.ndarray, moved: bool, car: np.ndarray, time_s: np.ndarray,
          sensed: np.ndarray, readings: np.ndarray, lidar: np.ndarray, users: np.ndarray,
          region: np.ndarray,
          collided: np.ndarray, off_road: np.ndarray, counts: np.ndarray,
          events: np.ndarray, params: np.ndarray, body: np.ndarray, destination: np.ndarray,
          bounds: np.ndarray, lines_x, lines_y, streets, street_at, positions, next_hop,
          node_values, in_graph, arc_at, arc_frames, seen_start, seen_cells, seen_boxes,
          solid_start, solid_cells, solid_boxes, barrier_start, barrier_cells,
          barrier_boxes, rays: np.ndarray, lidar_range: float,
          width: float, person_radius: float, cars_x: np.ndarray, cars_y: np.ndarray,
          cars_heading: np.ndarray, car_boxes: np.ndarray, car_base: np.ndarray,
          people: np.ndarray, people_boxes: np.ndarray, person_base: np.ndarray) -> None:
    """Where each row's car is now, what it hit and broke, and its sensors' readings.

    With ``moved``: the region under the car (``region``: kind, node or street row),
    collisions with static boxes (every solid one off the road, else roadworks), other
    cars and pedestrians, leaving the road, then the rules and navigation
    (:func:`kernels.sense`); the step's ``events`` are added to ``counts``. Without:
    only the readings of where the car stands (a new episode). Then the lidar, and in
    ``users`` its returns from road users (:func:`kernels.scan`). The tables follow
    ``bounds`` in :data:`~exgen.envs.city.tables.NAMES` order.
    """
    for j in range(rows.shape[0]):
        k = rows[j]
        x, y, heading = car[k, X], car[k, Y], car[k, HEADING]
        xs, ys = _part(lines_x, bounds, k, T.LINES_X), _part(lines_y, bounds, k, T.LINES_Y)
        city_streets = _part(streets, bounds, k, T.STREETS)
        city_street_at = _part(street_at, bounds, k, T.STREET_AT)
        first_car, end_car = car_base[k], car_base[k + 1]
        first_person, end_person = person_base[k], person_base[k + 1]
        kind, where = -1, -1
        if moved:
            kind, where = locate(x, y, xs, ys, params[k, kernels.HALF_WIDTH], city_street_at)
            region[k, 0], region[k, 1] = kind, where
            off = kind == OFF or (kind == NODE
                                  and not _part(in_graph, bounds, k, T.IN_GRAPH)[where])
            # Off the road every solid box counts, on it only roadworks (a neighbourhood's
            # tables are its start, cells and boxes, in that order).
            start, cells, boxes = ((solid_start, solid_cells, solid_boxes) if off
                                   else (barrier_start, barrier_cells, barrier_boxes))
            t = T.SOLID_START if off else T.BARRIER_START
            near = cell_boxes_of(x, y, xs, ys, _part(start, bounds, k, t),
                                 _part(cells, bounds, k, t + 1),
                                 _part(boxes, bounds, k, t + 2))
            static, vehicle, pedestrian = kernels.collisions(
                x, y, heading, body[k, LENGTH], width, body[k, REACH], near,
                cars_x[first_car:end_car], cars_y[first_car:end_car],
                cars_heading[first_car:end_car], people[first_person:end_person],
                person_radius)
            events[k, COLLISION_STATIC] = 1 if static else 0
            events[k, COLLISION_VEHICLE] = 1 if vehicle else 0
            events[k, COLLISION_PEDESTRIAN] = 1 if pedestrian else 0
            collided[k] = static or vehicle or pedestrian
            events[k, OFF_ROAD] = 1 if off and not off_road[k] else 0
            off_road[k] = off
        kernels.sense(kind, where, x, y, heading, time_s[k], destination[k], city_streets,
                      city_street_at, _part(positions, bounds, k, T.POSITIONS),
                      _part(next_hop, bounds, k, T.NEXT_HOP),
                      _part(node_values, bounds, k, T.NODE_VALUES), params[k], sensed[k],
                      readings[k])
        if moved:
            events[k, RED_LIGHT] = sensed[k, kernels.RED_LIGHT_EVENT]
            events[k, WRONG_LANE] = sensed[k, kernels.WRONG_LANE_EVENT]
            for i in range(events.shape[1]):
                counts[k, i] += events[k, i]
        kernels.scan(x, y, heading, rays, lidar_range, xs, ys,
                     _part(seen_start, bounds, k, T.SEEN_START),
                     _part(seen_cells, bounds, k, T.SEEN_CELLS),
                     _part(seen_boxes, bounds, k, T.SEEN_BOXES), car_boxes[first_car:end_car],
                     people_boxes[first_person:end_person], lidar[k], users[k])


@numba.njit(cache=True)
def on_road(car: np.ndarray, sensed: np.ndarray, region: np.ndarray, body: np.ndarray,
            bounds: np.ndarray, positions: np.ndarray, arc_at: np.ndarray,
            arc_frames: np.ndarray, node_base: np.ndarray, arc_base: np.ndarray,
            lane_tolerance: float, out_float: np.ndarray, out_int: np.ndarray) -> None:
    """Every row's ego car as traffic sees it (:class:`~exgen.envs.city.traffic.
    EgoOnRoad`), intersections and arcs numbered as in the joined traffic (bases).

    ``out_float`` (N, 7): x, y, distance along the arc, offset across it [m], speed
    [m/s], lane tolerance and length [m]; ``out_int`` (N, 2): arc and intersection (-1:
    none). An arc counts only while the car is on an open street."""
    for k in range(car.shape[0]):
        x, y = car[k, X], car[k, Y]
        out_float[k, 0], out_float[k, 1] = x, y
        out_float[k, 2], out_float[k, 3] = 0.0, 0.0
        out_float[k, 4] = car[k, SPEED]
        out_float[k, 5] = 0.0
        out_float[k, 6] = body[k, LENGTH]
        out_int[k, 0], out_int[k, 1] = -1, -1
        if region[k, 0] == NODE:
            out_int[k, 1] = region[k, 1] + node_base[k]
            continue
        if region[k, 0] != STREET:
            continue
        frm, to = sensed[k, kernels.ARC_FROM], sensed[k, kernels.ARC_TO]
        nodes = _part(positions, bounds, k, T.POSITIONS)
        index = _part(arc_at, bounds, k, T.ARC_AT)[
            frm, _direction(nodes[to, 0] - nodes[frm, 0], nodes[to, 1] - nodes[frm, 1])]
        if index < 0:
            continue
        frame = _part(arc_frames, bounds, k, T.ARC_FRAMES)
        rx, ry = x - nodes[frm, 0], y - nodes[frm, 1]
        out_float[k, 2] = rx * frame[index, 0] + ry * frame[index, 1]
        out_float[k, 3] = rx * frame[index, 2] + ry * frame[index, 3]
        out_float[k, 5] = lane_tolerance
        out_int[k, 0] = index + arc_base[k]


@numba.njit(cache=True)
def mark_danger(car: np.ndarray, sensed: np.ndarray, region: np.ndarray, body: np.ndarray,
                params: np.ndarray, bounds: np.ndarray, positions: np.ndarray,
                node_base: np.ndarray, caution_m: float,
                caution_s: float, danger: np.ndarray) -> None:
    """Mark in ``danger`` (joined intersections, 4 arms) the crosswalks each row's car is
    about to cross or is crossing: all of its intersection's, all of the one ahead once
    within ``max(caution_m, caution_s * speed)`` of it [m, s], and the one behind while
    its rear is still near."""
    for k in range(car.shape[0]):
        base = node_base[k]
        if region[k, 0] == NODE:
            danger[base + region[k, 1], :] = True
            continue
        if region[k, 0] != STREET:
            continue
        frm, to = sensed[k, kernels.ARC_FROM], sensed[k, kernels.ARC_TO]
        nodes = _part(positions, bounds, k, T.POSITIONS)
        x0, y0, x1, y1 = nodes[frm, 0], nodes[frm, 1], nodes[to, 0], nodes[to, 1]
        length = abs(x1 - x0) + abs(y1 - y0)
        dx, dy = (x1 - x0) / length, (y1 - y0) / length
        to_go = (x1 - car[k, X]) * dx + (y1 - car[k, Y]) * dy
        half_width = params[k, kernels.HALF_WIDTH]
        if to_go - half_width < _py_max(caution_m, caution_s * car[k, SPEED]):
            danger[base + to, :] = True  # it may turn into any of them
        if length - to_go - half_width < params[k, kernels.CROSSWALK] + body[k, LENGTH]:
            danger[base + frm, _direction(x1 - x0, y1 - y0)] = True


@numba.njit(cache=True)
def settle(rows: np.ndarray, sensed: np.ndarray, readings: np.ndarray, collided: np.ndarray,
           events: np.ndarray, counts: np.ndarray, steps_left: np.ndarray,
           previous_route: np.ndarray, initial_route: np.ndarray, outcome: np.ndarray,
           weights: np.ndarray, penalties: np.ndarray, rewards: np.ndarray, terms: np.ndarray,
           route_completion: np.ndarray, driving_score: np.ndarray) -> None:
    """The reward and the outcome of each row's step, once sensed: progress along the
    route, infractions, collision and arrival (``rewards`` and their ``terms``, weighted
    by ``weights``: per metre of progress, per infraction, per collision, on arrival),
    then the route completion and the driving score (completion times
    ``penalties[i] ** counts[i]``)."""
    for j in range(rows.shape[0]):
        k = rows[j]
        steps_left[k] -= 1
        route = readings[k, kernels.ROUTE_DISTANCE]
        progress = weights[PROGRESS] * (previous_route[k] - route)
        infractions = weights[INFRACTION_TERM] * (events[k, RED_LIGHT] + events[k, WRONG_LANE]
                                              + events[k, OFF_ROAD])
        collision = weights[COLLISION_TERM] * (1.0 if collided[k] else 0.0)
        arrival = 0.0
        previous_route[k] = route
        if collided[k]:
            outcome[k] = COLLISION
        elif sensed[k, ARRIVED]:
            outcome[k] = ARRIVED_OUTCOME
            arrival = weights[ARRIVAL]
        elif steps_left[k] <= 0:
            outcome[k] = TIMEOUT
        terms[k, PROGRESS], terms[k, INFRACTION_TERM] = progress, infractions
        terms[k, COLLISION_TERM], terms[k, ARRIVAL] = collision, arrival
        rewards[k] = 0.0 + progress + infractions + collision + arrival
    score(rows, sensed, readings, counts, initial_route, penalties, route_completion,
          driving_score)


@numba.njit(cache=True)
def score(rows: np.ndarray, sensed: np.ndarray, readings: np.ndarray, counts: np.ndarray,
          initial_route: np.ndarray, penalties: np.ndarray, route_completion: np.ndarray,
          driving_score: np.ndarray) -> None:
    """Each row's route completion (the fraction of the initial route covered, 1 on
    arrival) and driving score (completion times one penalty per infraction)."""
    for j in range(rows.shape[0]):
        k = rows[j]
        if sensed[k, ARRIVED]:
            completion = 1.0
        else:
            completion = _py_min(_py_max(
                1.0 - readings[k, kernels.ROUTE_DISTANCE] / initial_route[k], 0.0), 1.0)
        route_completion[k] = completion
        value = completion
        for i in range(penalties.shape[0]):
            value *= math.pow(penalties[i], float(counts[k, i]))
        driving_score[k] = value


@numba.njit(cache=True)
def observe(rows: np.ndarray, obs: np.ndarray, car: np.ndarray, readings: np.ndarray,
            lidar: np.ndarray, noisy: np.ndarray, draws: np.ndarray, limits: np.ndarray,
            lidar_range: float, destination_xy: np.ndarray, scales: np.ndarray,
            users_at: int, users: np.ndarray, users_before: np.ndarray,
            rate_scale: float) -> None:
    """Each row's default observation (:func:`kernels.observe`) into ``obs[k]``, zeroed
    first: speed and lidar scaled, plus ``draws[k]`` (speed, then each ray) where
    ``noisy[k]``; the steering as a fraction of the limit ``limits[k, 0]`` [rad].

    With ``users_at >= 0`` (``observe_road_users``), the road-user entries from there:
    per ray, its lidar entry where ``users[k]`` [m] saw a road user, else 1; then per
    ray the rate ``(entry - users_before[k]) * rate_scale`` clipped to [-1, 1], 0 where
    either saw none. ``users_before[k]`` (the last observation's entries, NaN: none)
    then takes the entries."""
    n_rays = lidar.shape[1]
    scan = np.empty(n_rays)
    for j in range(rows.shape[0]):
        k = rows[j]
        row = obs[k]
        for i in range(row.shape[0]):
            row[i] = 0.0
        speed = car[k, SPEED] / scales[0]
        for i in range(n_rays):
            scan[i] = lidar[k, i] / lidar_range
        if noisy[k]:
            speed += draws[k, 0]
            for i in range(n_rays):
                scan[i] = scan[i] + draws[k, 1 + i]
        kernels.observe(row, speed, car[k, kernels.STEERING] / limits[k, 0], readings[k],
                        scan, car[k, X], car[k, Y], car[k, HEADING], destination_xy[k, 0],
                        destination_xy[k, 1], scales)
        if users_at < 0:
            continue
        for i in range(n_rays):
            before = users_before[k, i]
            entry, rate = 1.0, 0.0
            if users[k, i] < lidar_range:
                entry = scan[i]
                if before == before:
                    rate = _py_min(_py_max((entry - before) * rate_scale, -1.0), 1.0)
                users_before[k, i] = entry
            else:
                users_before[k, i] = math.nan
            row[users_at + i] = entry
            row[users_at + n_rays + i] = rate
