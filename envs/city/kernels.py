"""Compiled kernels of the city world, each looping over one or many cities.

The single env calls them with one city, the vector env with all of its cities: one
implementation. They are compiled by numba on first use and cached on disk. Their
arithmetic follows the numpy code they replaced operation for operation (libm's
``cos``, ``sin``, ``tan`` and ``atan2``, as Python's ``math``; a fused multiply-add
where numpy's matrix product used one), so seeded episodes stay bit for bit.

They are written as plain loops over scalars, for their compile time (the first
``make`` with an empty numba cache compiles them all): no array expressions, slice
copies, boolean masks or fancy indexing (each pulls in numba's broadcasting and
error-message code) and no ``np.searchsorted`` or ``ndarray.min``. Numba compiles a
kernel apart and then optimises it once more inside each caller, so the small helpers
and most kernels that only :mod:`~exgen.envs.city.batch_kernels` calls are inlined into
their callers (``inline="always"``); not :func:`sense` (inlining it into the large
batch kernel costs more than compiling it apart) nor ``_cast_at`` and ``_ray_to_box``
(their ray loop, which LLVM unrolls and vectorises, is called three times).
"""

from __future__ import annotations

import math

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic


@intrinsic
def _fma(typingctx, a, b, c):
    """``a * b + c`` rounded once, as BLAS computes a 2-term dot product."""
    signature = types.float64(types.float64, types.float64, types.float64)

    def codegen(context, builder, sig, args):
        double = ir.DoubleType()
        fma = builder.module.declare_intrinsic("llvm.fma", [double],
                                               ir.FunctionType(double, [double] * 3))
        return builder.call(fma, args)

    return signature, codegen


@numba.njit(cache=True, inline="always")
def _minimum(a: float, b: float) -> float:
    """``np.minimum``: NaN if either is."""
    if a != a:
        return a
    if b != b:
        return b
    return a if a <= b else b


@numba.njit(cache=True, inline="always")
def _maximum(a: float, b: float) -> float:
    """``np.maximum``: NaN if either is."""
    if a != a:
        return a
    if b != b:
        return b
    return a if a >= b else b


@numba.njit(cache=True)
def _ray_to_box(x: float, y: float, inv_x: float, inv_y: float, box: np.ndarray,
                max_range: float) -> float:
    """Distance along a ray (inverse direction ``inv_x, inv_y``) from ``(x, y)`` to
    ``box`` ``[x0, y0, x1, y1]``; ``max_range`` when it misses."""
    tx0 = (box[0] - x) * inv_x
    tx1 = (box[2] - x) * inv_x
    ty0 = (box[1] - y) * inv_y
    ty1 = (box[3] - y) * inv_y
    near = _maximum(_minimum(tx0, tx1), _minimum(ty0, ty1))
    far = _minimum(_maximum(tx0, tx1), _maximum(ty0, ty1))
    if far >= near and far >= 0.0:
        return _maximum(near, 0.0)
    return max_range


@numba.njit(cache=True, inline="always")
def _inverse(value: float) -> float:
    """``1 / value``, infinite (with the sign of zero) for zero, as numpy divides."""
    if value == 0.0:
        return math.copysign(math.inf, value)
    return 1.0 / value


@numba.njit(cache=True)
def _cast_at(cx: float, cy: float, inv_x: np.ndarray, inv_y: np.ndarray, boxes: np.ndarray,
             reach: float, cull: bool, out: np.ndarray) -> None:
    """Lower ``out`` (one entry per ray) to the distance to each of ``boxes``; with
    ``cull``, skip boxes outside the square of half side ``reach`` around the car."""
    for j in range(boxes.shape[0]):
        box = boxes[j]
        if cull and not (box[2] > cx - reach and box[0] < cx + reach
                         and box[3] > cy - reach and box[1] < cy + reach):
            continue
        for i in range(out.shape[0]):
            out[i] = _minimum(out[i], _ray_to_box(cx, cy, inv_x[i], inv_y[i], box, reach))


@numba.njit(cache=True, inline="always")
def right_of(lines: np.ndarray, value: float) -> int:
    """``np.searchsorted(lines, value, side="right")`` for sorted ``lines`` [m]: how
    many of them are at most ``value`` (all of them for a NaN ``value``)."""
    low, high = 0, lines.shape[0]
    while low < high:
        middle = (low + high) // 2
        if value < lines[middle]:
            high = middle
        else:
            low = middle + 1
    return low


@numba.njit(cache=True, inline="always")
def cell_boxes_of(x: float, y: float, lines_x: np.ndarray, lines_y: np.ndarray,
                  cell_start: np.ndarray, cell_boxes: np.ndarray,
                  boxes: np.ndarray) -> np.ndarray:
    """A copy of the rows of ``boxes`` (k, 4) [m] in the grid cell of ``(x, y)`` [m]
    (:class:`~exgen.envs.city.geometry.Neighbourhood`): cell ``(right_of(lines_x, x),
    right_of(lines_y, y))``, numbered ``column * (len(lines_y) + 1) + row``, holds rows
    ``cell_boxes[cell_start[c]:cell_start[c + 1]]``."""
    column = right_of(lines_x, x)
    row = right_of(lines_y, y)
    cell = column * (lines_y.shape[0] + 1) + row
    first, end = cell_start[cell], cell_start[cell + 1]
    near = np.empty((end - first, 4))
    for i in range(end - first):
        box = cell_boxes[first + i]
        for m in range(4):
            near[i, m] = boxes[box, m]
    return near


@numba.njit(cache=True, inline="always")
def scan(x: float, y: float, heading: float, rays: np.ndarray, reach: float,
         lines_x: np.ndarray, lines_y: np.ndarray, cell_start: np.ndarray,
         cell_boxes: np.ndarray, static_boxes: np.ndarray, cars: np.ndarray,
         people: np.ndarray, out: np.ndarray, users: np.ndarray) -> None:
    """The lidar of a car at ``(x, y)`` heading ``heading``: ``out[i]`` is the distance [m]
    along ray ``i`` to the first box, capped at ``reach``; ``users[i]`` is that distance
    where the first box is a road user's (one of ``cars`` or ``people``), else ``reach``.

    ``rays`` (R, 2) are the unit ray directions in the car's frame. The static boxes
    (kerbs, roadworks) are culled per grid cell (:func:`cell_boxes_of`). ``cars`` and
    ``people`` are the moving boxes, ``[x0, y0, x1, y1]``. The static and the moving
    boxes are cast apart and ``out`` is the nearer of the two; a road user as near as a
    static box counts as seen.
    """
    c, s = math.cos(heading), math.sin(heading)
    n_rays = rays.shape[0]
    inv_x = np.empty(n_rays)
    inv_y = np.empty(n_rays)
    for i in range(n_rays):
        # The ray turned with the car: rays @ [[c, s], [-s, c]], as BLAS rounds it.
        inv_x[i] = _inverse(_fma(rays[i, 1], -s, rays[i, 0] * c))
        inv_y[i] = _inverse(_fma(rays[i, 1], c, rays[i, 0] * s))
        out[i] = reach
        users[i] = reach
    near = cell_boxes_of(x, y, lines_x, lines_y, cell_start, cell_boxes, static_boxes)
    _cast_at(x, y, inv_x, inv_y, near, reach, False, out)
    _cast_at(x, y, inv_x, inv_y, cars, reach, True, users)
    _cast_at(x, y, inv_x, inv_y, people, reach, True, users)
    for i in range(n_rays):
        static, user = out[i], users[i]
        out[i] = _minimum(static, user)
        if not user <= static:
            users[i] = reach  # hidden behind a static box


@numba.njit(cache=True)
def cast_rays(x: float, y: float, cos_sin: np.ndarray, boxes: np.ndarray,
              max_range: float) -> np.ndarray:
    """Distance [m] along each ray (unit directions ``cos_sin``, shape (rays, 2)) from
    ``(x, y)`` to the first of ``boxes`` (k, 4), capped at ``max_range``; a ray starting
    inside a box reads 0."""
    n_rays = cos_sin.shape[0]
    inv_x, inv_y, out = np.empty(n_rays), np.empty(n_rays), np.empty(n_rays)
    for i in range(n_rays):
        inv_x[i], inv_y[i] = _inverse(cos_sin[i, 0]), _inverse(cos_sin[i, 1])
        out[i] = max_range
    _cast_at(x, y, inv_x, inv_y, boxes, max_range, False, out)
    return out


# ------------------------------------------------------------------------- the ego car
@numba.njit(cache=True, inline="always")
def _py_max(a: float, b: float) -> float:
    """Python's ``max(a, b)``: ``a`` unless ``b`` is greater."""
    return b if b > a else a


@numba.njit(cache=True, inline="always")
def _py_min(a: float, b: float) -> float:
    """Python's ``min(a, b)``: ``a`` unless ``b`` is smaller."""
    return b if b < a else a


#: Indices into the ego car's state array (:func:`drive`).
X, Y, HEADING, SPEED, STEERING, COURSE, SLIPPING = range(7)


@numba.njit(cache=True, inline="always")
def drive(state: np.ndarray, steer: float, pedal: float, friction: float, dt: float,
          substeps: int, car: np.ndarray, gravity: float, steering_rate: float,
          slip_authority: float, max_speed: float) -> None:
    """Advance the ego car's ``state`` (x, y [m], heading [rad], speed [m/s], steering
    [rad], course [rad], slipping 0/1) by ``substeps`` steps of ``dt`` [s] under a
    steering and pedal command in [-1, 1]: a kinematic bicycle inside a friction circle
    (:mod:`exgen.envs.city.vehicle`). ``car``: steering limit [rad], throttle and brake
    [m/s²], wheelbase [m]."""
    max_steering, max_acceleration, max_braking, wheelbase = car[0], car[1], car[2], car[3]
    grip = friction * gravity
    for _ in range(substeps):
        target = steer * max_steering
        step = steering_rate * dt
        state[STEERING] += _py_min(_py_max(target - state[STEERING], -step), step)
        speed = state[SPEED]
        if pedal >= 0.0:
            longitudinal = pedal * max_acceleration
        else:
            longitudinal = pedal * max_braking if speed > 0.0 else 0.0
        lateral = speed * speed * math.tan(state[STEERING]) / wheelbase
        slipping = longitudinal * longitudinal + lateral * lateral > grip * grip
        if state[SLIPPING] and not slipping:
            # Grip returns: the velocity's component along the heading survives.
            state[SPEED] = _py_max(0.0, speed * math.cos(state[HEADING] - state[COURSE]))
        state[SLIPPING] = 1.0 if slipping else 0.0
        authority = 1.0
        if slipping:
            longitudinal = _py_min(_py_max(longitudinal, -grip), grip)
            authority = slip_authority
        speed = _py_min(_py_max(state[SPEED] + longitudinal * dt, 0.0), max_speed)
        state[HEADING] += authority * speed * math.tan(state[STEERING]) / wheelbase * dt
        if not slipping:
            state[COURSE] = state[HEADING]
        state[SPEED] = speed
        state[X] += speed * math.cos(state[COURSE]) * dt
        state[Y] += speed * math.sin(state[COURSE]) * dt


# ------------------------------------------------------------------------- collisions
@numba.njit(cache=True)
def rectangle_hits_boxes(x: float, y: float, heading: float, length: float, width: float,
                         boxes: np.ndarray) -> bool:
    """Whether the rectangle centred at ``(x, y)``, turned by ``heading``, overlaps any of
    ``boxes`` (k, 4): separating axes on the two boxes' axes, exact for them."""
    c, s = math.cos(heading), math.sin(heading)
    hl, hw = length / 2, width / 2
    # The corners' bounding box (NaN if a corner is, as ndarray.min and max).
    low_x = low_y = math.inf
    high_x = high_y = -math.inf
    signs = ((hl, hw), (-hl, hw), (-hl, -hw), (hl, -hw))
    for k in range(4):
        dx, dy = signs[k]
        corner_x = x + c * dx - s * dy
        corner_y = y + s * dx + c * dy
        low_x, high_x = _minimum(low_x, corner_x), _maximum(high_x, corner_x)
        low_y, high_y = _minimum(low_y, corner_y), _maximum(high_y, corner_y)
    for j in range(boxes.shape[0]):
        b = boxes[j]
        if not (high_x >= b[0] and low_x <= b[2] and high_y >= b[1] and low_y <= b[3]):
            continue
        bx = (b[0] - x, b[2] - x, b[2] - x, b[0] - x)
        by = (b[1] - y, b[1] - y, b[3] - y, b[3] - y)
        along_min = along_max = bx[0] * c + by[0] * s
        across_min = across_max = -bx[0] * s + by[0] * c
        for k in range(1, 4):
            along = bx[k] * c + by[k] * s
            across = -bx[k] * s + by[k] * c
            along_min, along_max = min(along_min, along), max(along_max, along)
            across_min, across_max = min(across_min, across), max(across_max, across)
        if not (along_min > length / 2 or along_max < -length / 2
                or across_min > width / 2 or across_max < -width / 2):
            return True
    return False


@numba.njit(cache=True, inline="always")
def _apart(cx: float, cy: float, heading: float, px: np.ndarray, py: np.ndarray,
           half_l: float, half_w: float) -> bool:
    """Whether the points ``px, py`` all lie beyond one side of a rectangle."""
    c, s = math.cos(heading), math.sin(heading)
    along_min = across_min = math.inf
    along_max = across_max = -math.inf
    for k in range(4):
        rx, ry = px[k] - cx, py[k] - cy
        along, across = rx * c + ry * s, -rx * s + ry * c
        along_min, along_max = min(along_min, along), max(along_max, along)
        across_min, across_max = min(across_min, across), max(across_max, across)
    return (along_min > half_l or along_max < -half_l or across_min > half_w
            or across_max < -half_w)


@numba.njit(cache=True, inline="always")
def _corners(cx: float, cy: float, heading: float, half_l: float,
             half_w: float) -> tuple[np.ndarray, np.ndarray]:
    """The corners [m] of the rectangle of half sides ``half_l``, ``half_w`` centred at
    ``(cx, cy)`` turned by ``heading`` [rad], as x and y arrays."""
    c, s = math.cos(heading), math.sin(heading)
    px, py = np.empty(4), np.empty(4)
    signs = ((1.0, 1.0), (-1.0, 1.0), (-1.0, -1.0), (1.0, -1.0))
    for k in range(4):
        ax, ay = signs[k][0] * half_l, signs[k][1] * half_w
        px[k] = cx + c * ax - s * ay
        py[k] = cy + s * ax + c * ay
    return px, py


@numba.njit(cache=True)
def rectangles_overlap(x: float, y: float, heading: float, length: float, width: float,
                       xs: np.ndarray, ys: np.ndarray, headings: np.ndarray) -> np.ndarray:
    """Which rectangles of the same size, centred at ``xs, ys`` and turned by
    ``headings``, overlap the one at ``(x, y)`` turned by ``heading``: separating axes,
    the pair apart when the corners of one lie beyond a side of the other."""
    half_l, half_w = length / 2, width / 2
    mx, my = _corners(x, y, heading, half_l, half_w)
    overlap = np.zeros(xs.shape[0], np.bool_)
    for j in range(xs.shape[0]):
        overlap[j] = _overlaps(x, y, heading, mx, my, xs[j], ys[j], headings[j], half_l,
                               half_w)
    return overlap


@numba.njit(cache=True, inline="always")
def _overlaps(x: float, y: float, heading: float, mx: np.ndarray, my: np.ndarray,
              ox: float, oy: float, other_heading: float, half_l: float,
              half_w: float) -> bool:
    """Whether the rectangle at ``(x, y)`` turned by ``heading`` (corners ``mx, my``)
    overlaps the one of the same size at ``(ox, oy)`` turned by ``other_heading``."""
    tx, ty = _corners(ox, oy, other_heading, half_l, half_w)
    return not (_apart(x, y, heading, tx, ty, half_l, half_w)
                or _apart(ox, oy, other_heading, mx, my, half_l, half_w))


@numba.njit(cache=True)
def circles_touch_rectangle(x: float, y: float, heading: float, length: float,
                            width: float, points: np.ndarray, radius: float) -> np.ndarray:
    """Which circles of ``radius`` around ``points`` (n, 2) touch the rectangle centred at
    ``(x, y)`` turned by ``heading``."""
    c, s = math.cos(heading), math.sin(heading)
    touch = np.zeros(points.shape[0], np.bool_)
    for j in range(points.shape[0]):
        touch[j] = _touches(x, y, c, s, length, width, points[j, 0], points[j, 1], radius)
    return touch


@numba.njit(cache=True, inline="always")
def _touches(x: float, y: float, c: float, s: float, length: float, width: float,
             px: float, py: float, radius: float) -> bool:
    """Whether the circle of ``radius`` around ``(px, py)`` touches the rectangle centred
    at ``(x, y)`` whose heading has cosine ``c`` and sine ``s`` [m]."""
    rx, ry = px - x, py - y
    along, across = rx * c + ry * s, -rx * s + ry * c
    dx = _maximum(abs(along) - length / 2, 0.0)
    dy = _maximum(abs(across) - width / 2, 0.0)
    return dx * dx + dy * dy <= radius * radius


@numba.njit(cache=True, inline="always")
def collisions(x: float, y: float, heading: float, length: float, width: float,
               reach: float, static_boxes: np.ndarray, cars_x: np.ndarray,
               cars_y: np.ndarray, cars_heading: np.ndarray, people: np.ndarray,
               person_radius: float) -> tuple[bool, bool, bool]:
    """Whether the ego car's body touches a static box, another car (of the same size,
    within ``reach`` on both axes) or a pedestrian (within ``reach``)."""
    static = static_boxes.shape[0] > 0 and rectangle_hits_boxes(x, y, heading, length,
                                                                width, static_boxes)
    half_l, half_w = length / 2, width / 2
    mx, my = _corners(x, y, heading, half_l, half_w)
    vehicle = False
    for j in range(cars_x.shape[0]):
        if (abs(cars_x[j] - x) < reach and abs(cars_y[j] - y) < reach
                and _overlaps(x, y, heading, mx, my, cars_x[j], cars_y[j], cars_heading[j],
                              half_l, half_w)):
            vehicle = True
            break
    c, s = math.cos(heading), math.sin(heading)
    pedestrian = False
    for j in range(people.shape[0]):
        px, py = people[j, 0], people[j, 1]
        if (abs(px - x) < reach and abs(py - y) < reach
                and _touches(x, y, c, s, length, width, px, py, person_radius)):
            pedestrian = True
            break
    return static, vehicle, pedestrian


# ------------------------------------------------------------------ rules and sensing
#: Codes of the region under the car, of lights and of turns (``public.TURNS`` order).
NODE, STREET, OFF = 0, 1, 2
NO_LIGHT, GREEN, AMBER, RED = -1, 0, 1, 2
NO_TURN = -1
#: Indices into :func:`sense`'s ``state`` (in and out) and ``readings`` (out).
ARC_FROM, ARC_TO, BEYOND_LINE, WRONG_LANE, ARRIVED, RED_LIGHT_EVENT, WRONG_LANE_EVENT = \
    range(7)
(LANE_HEADING, LANE_OFFSET, LIGHT, LIGHT_DISTANCE, TURN, TURN_DISTANCE,
 ROUTE_DISTANCE) = range(7)
#: Indices into :func:`sense`'s ``params``.
HALF_WIDTH, LANE_WIDTH, LANES, RIGHT_HAND, TURN_SWING, GREEN_S, AMBER_S, ALL_RED_S, \
    CROSSWALK = range(9)


@numba.njit(cache=True, inline="always")
def _direction(dx: float, dy: float) -> int:
    """0 east, 1 north, 2 west, 3 south, for an axis direction."""
    if abs(dx) > abs(dy):
        return 0 if dx > 0 else 2
    return 1 if dy > 0 else 3


@numba.njit(cache=True, inline="always")
def _light(offset: float, axis: int, time_s: float, params: np.ndarray) -> int:
    """``public.light_state`` as a code, for a light of phase ``offset`` [s]."""
    green, amber = params[GREEN_S], params[AMBER_S]
    half = green + amber + params[ALL_RED_S]
    t = (time_s + offset - axis * half) % (2.0 * half)
    if t < green:
        return GREEN
    return AMBER if t < green + amber else RED


@numba.njit(cache=True, inline="always")
def _arc_frame(frm: int, to: int, x: float, y: float, positions: np.ndarray,
               right_hand: bool) -> tuple[float, float, float, float, float]:
    """Unit direction of the arc ``frm -> to``, the car's offset from its centre line
    toward the driving side, its distance to go and the arc's length [m]."""
    x0, y0 = positions[frm, 0], positions[frm, 1]
    x1, y1 = positions[to, 0], positions[to, 1]
    length = abs(x1 - x0) + abs(y1 - y0)
    dx, dy = (x1 - x0) / length, (y1 - y0) / length
    nx, ny = (dy, -dx) if right_hand else (-dy, dx)
    rx, ry = x - x0, y - y0
    lateral = rx * nx + ry * ny
    to_go = (x1 - x) * dx + (y1 - y) * dy
    return dx, dy, lateral, to_go, length


@numba.njit(cache=True)
def sense(kind: int, where: int, x: float, y: float, heading: float, time_s: float,
          destination: int, streets: np.ndarray, street_at: np.ndarray,
          positions: np.ndarray, next_hop: np.ndarray, node_values: np.ndarray,
          params: np.ndarray, state: np.ndarray, readings: np.ndarray) -> None:
    """The rules and the navigation once the car has moved into region ``kind, where``
    (an intersection, or a street of ``streets``: rows ``a, b, one_way_to``; -1: none).

    Follows the car along its arc ``state[ARC_FROM:ARC_TO + 1]``, sets the red-light and
    wrong-lane events (the car's centre crossing a red light's stop line; entering the
    wrong side of a two-way street away from the intersections, or a one-way street
    against its flow) and writes the ``readings``: heading and offset in the lane, the
    next light and its distance, the route left, the next turn and its distance.
    ``street_at[node, direction]`` is the street leaving ``node`` that way; per node,
    ``next_hop`` toward the destination (-1: none) and ``node_values`` (route left [m],
    light phase [s], NaN: no light).
    """
    right_hand = params[RIGHT_HAND] > 0.0
    hw, crosswalk = params[HALF_WIDTH], params[CROSSWALK]
    state[RED_LIGHT_EVENT] = 0
    state[WRONG_LANE_EVENT] = 0
    if kind == STREET:
        a, b = streets[where, 0], streets[where, 1]
        along = ((positions[b, 0] - positions[a, 0]) * math.cos(heading)
                 + (positions[b, 1] - positions[a, 1]) * math.sin(heading))
        frm, to = (a, b) if along >= 0.0 else (b, a)
        to_go = _arc_frame(frm, to, x, y, positions, right_hand)[3]
        beyond_line = to_go < hw + crosswalk
        if (frm == state[ARC_FROM] and to == state[ARC_TO] and beyond_line
                and not state[BEYOND_LINE] and node_values[to, 1] == node_values[to, 1]):
            axis = 0 if positions[frm, 1] == positions[to, 1] else 1
            if _light(node_values[to, 1], axis, time_s, params) == RED:
                state[RED_LIGHT_EVENT] = 1
        state[ARC_FROM], state[ARC_TO], state[BEYOND_LINE] = frm, to, beyond_line
    elif kind == NODE:
        if where == destination:
            state[ARRIVED] = 1
        elif next_hop[where] >= 0:
            state[ARC_FROM], state[ARC_TO] = where, next_hop[where]
    frm, to = state[ARC_FROM], state[ARC_TO]
    dx, dy, lateral, to_go, length = _arc_frame(frm, to, x, y, positions, right_hand)
    street = street_at[frm, _direction(positions[to, 0] - positions[frm, 0],
                                       positions[to, 1] - positions[frm, 1])]
    one_way_to = streets[street, 2]
    # The lane whose centre is nearest (the first of equals), from the centre line.
    lanes, lane_width = int(params[LANES]), params[LANE_WIDTH]
    lane, best = 0.0, math.inf
    for k in range(2 * lanes if one_way_to >= 0 else lanes):
        centre = (-hw + (k + 0.5) * lane_width if one_way_to >= 0
                  else (k + 0.5) * lane_width)
        if abs(lateral - centre) < best:
            lane, best = centre, abs(lateral - centre)
    readings[LANE_HEADING] = ((heading - math.atan2(dy, dx)) + math.pi) % (2.0 * math.pi) \
        - math.pi
    # Left of the lane centre is positive whichever side traffic keeps to.
    readings[LANE_OFFSET] = (-1.0 if right_hand else 1.0) * (lateral - lane)
    edge_distance = _py_max(to_go - hw, 0.0)
    readings[LIGHT], readings[LIGHT_DISTANCE] = NO_LIGHT, math.inf
    if node_values[to, 1] == node_values[to, 1]:
        readings[LIGHT] = _light(node_values[to, 1], 0 if dy == 0.0 else 1, time_s, params)
        readings[LIGHT_DISTANCE] = _py_max(to_go - hw - crosswalk, 0.0)
    readings[ROUTE_DISTANCE] = _py_max(to_go, 0.0) + node_values[to, 0]
    if state[ARRIVED]:
        readings[ROUTE_DISTANCE] = 0.0
    readings[TURN], readings[TURN_DISTANCE] = NO_TURN, math.inf
    if to != destination:
        onward = next_hop[to]
        xa, ya = positions[to, 0], positions[to, 1]
        xn, yn = positions[onward, 0], positions[onward, 1]
        span = abs(xn - xa) + abs(yn - ya)
        out_x, out_y = (xn - xa) / span, (yn - ya) / span
        cross = dx * out_y - dy * out_x
        if cross > 0.5:
            readings[TURN] = 0
        elif cross < -0.5:
            readings[TURN] = 2
        else:
            readings[TURN] = 1 if dx * out_x + dy * out_y > 0 else 3
        readings[TURN_DISTANCE] = edge_distance
    # Against a one-way street, or left of the centre line (right in left-hand traffic)
    # farther than the turn swing from the intersections.
    wrong = False
    if kind == STREET:
        street_one_way = streets[where, 2]
        if street_one_way >= 0:
            wrong = to != street_one_way
        elif not (_py_min(to_go, length - to_go) - hw < params[TURN_SWING]):
            wrong = lateral < 0.0
    if wrong and not state[WRONG_LANE]:
        state[WRONG_LANE_EVENT] = 1
    state[WRONG_LANE] = wrong


# ------------------------------------------------------------------------ observation
@numba.njit(cache=True, inline="always")
def observe(obs: np.ndarray, speed: float, steering: float, readings: np.ndarray,
            lidar: np.ndarray, x: float, y: float, heading: float, destination_x: float,
            destination_y: float, scales: np.ndarray) -> None:
    """Write the default observation's entries into ``obs`` (float32, zeros), in the
    layout of :func:`exgen.envs.city.public.layout`: the speed and steering (scaled),
    the ``readings`` of :func:`sense`, the ``lidar`` (scaled), the bearing of the
    destination and the position. ``scales``: speed, lane offset, distance, route and
    position scales [m/s, m]."""
    obs[0] = speed
    obs[1] = steering
    obs[2] = readings[LANE_HEADING] / math.pi
    obs[3] = readings[LANE_OFFSET] / scales[1]
    end = 4 + lidar.shape[0]
    for i in range(lidar.shape[0]):
        obs[4 + i] = lidar[i]
    if readings[LIGHT] != NO_LIGHT:
        obs[end + int(readings[LIGHT])] = 1.0
    obs[end + 3] = readings[LIGHT_DISTANCE] / scales[2]
    bearing = math.atan2(destination_y - y, destination_x - x) - heading
    obs[end + 4] = math.cos(bearing)
    obs[end + 5] = math.sin(bearing)
    obs[end + 6] = readings[ROUTE_DISTANCE] / scales[3]
    if readings[TURN] != NO_TURN:
        obs[end + 7 + int(readings[TURN])] = 1.0
    obs[end + 11] = readings[TURN_DISTANCE] / scales[2]
    obs[end + 12] = x / scales[4]
    obs[end + 13] = y / scales[4]
    obs[end + 14] = math.cos(heading)
    obs[end + 15] = math.sin(heading)
