"""An ego-centred top-down occupancy raster of the city, for CNN policies.

``occupancy_raster(world)`` returns a ``uint8`` array of shape ``(4, size_px, size_px)``:

=======  ============  ===========================================================
channel  name          255 (or the value given) where
=======  ============  ===========================================================
0        road          drivable: inside the city, in no curb box, on no roadworks
1        cars          inside another car's body (``CAR_LENGTH_M`` x ``CAR_WIDTH_M``)
2        pedestrians   within ``pedestrians.RADIUS_M`` of a pedestrian, or in the cell
                       holding its centre
3        lights        the ``LIGHT_STRIP_M`` of an approach's lanes before a lit
                       intersection's edge (its stop line): 255 red, 170 amber,
                       85 green; 0 elsewhere
=======  ============  ===========================================================

Frame: the raster is centred on the ego car's centre and turns with it. Row 0 is the
farthest *ahead* of the car, the last row the farthest behind; column index grows
to the car's *right*. Cell ``(row, column)`` has its centre at
``((column + 0.5 - size_px / 2) * metres_per_px`` to the right,
``(size_px / 2 - row - 0.5) * metres_per_px)`` ahead of the car's centre [m]. A cell
is tested at its centre only, except that a car's or a pedestrian's centre always
marks the cell it lies in (so neither vanishes at coarse resolutions). The ego car
itself is not drawn. No Gymnasium import here.
"""

from __future__ import annotations

import functools
import math
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from exgen.envs.city import public
from exgen.envs.city.city_map import CityMap
from exgen.envs.city.geometry import light_approaches
from exgen.envs.city.lights import AMBER, GREEN, RED
from exgen.envs.city.pedestrians import RADIUS_M

if TYPE_CHECKING:
    from exgen.envs.city.world import CityWorld

#: Channel indices.
ROAD, CARS, PEDESTRIANS, LIGHTS = range(4)
#: Depth of the painted approach of a light, before the intersection's edge [m].
LIGHT_STRIP_M = 5.0
#: Boxes tested together against all cells (bounds the temporaries' size).
_BOX_CHUNK = 8
#: Light channel value per ``lights`` code; index -1 (``NO_LIGHT``) is the last entry.
_LIGHT_VALUES = np.zeros(4, np.uint8)
_LIGHT_VALUES[[GREEN, AMBER, RED]] = (85, 170, 255)


@functools.lru_cache(maxsize=8)
def _cell_offsets(size_px: int, metres_per_px: float) -> tuple[np.ndarray, np.ndarray]:
    """Right and ahead offsets [m] of every cell centre from the raster's centre, each
    flattened in row-major order (``size_px ** 2``,); read-only."""
    centres = (np.arange(size_px) + 0.5 - size_px / 2.0) * metres_per_px
    ahead, right = np.meshgrid(-centres, centres, indexing="ij")
    right, ahead = right.ravel(), ahead.ravel()
    right.flags.writeable = False
    ahead.flags.writeable = False
    return right, ahead


@dataclass(frozen=True)
class _Static:
    """What a world's raster needs that never changes during its episode."""

    #: ``[x0, y0, x1, y1]`` of all the curb boxes together: the city's extent [m].
    extent: tuple[float, float, float, float]
    #: Light strips: boxes (k, 4) [m], and the node and axis (0 west-east) of each.
    strips: np.ndarray
    strip_nodes: np.ndarray
    strip_axes: np.ndarray


_STATIC: weakref.WeakKeyDictionary[CityWorld, _Static] = weakref.WeakKeyDictionary()


def _static(world: CityWorld) -> _Static:
    """The static part of ``world``'s raster, computed once per world."""
    found = _STATIC.get(world)
    if found is None:
        curbs = world.layout.curbs
        extent = (float(curbs[:, 0].min()), float(curbs[:, 1].min()),
                  float(curbs[:, 2].max()), float(curbs[:, 3].max()))
        found = _Static(extent, *_approaches(world.city, world.half_width, world.side))
        _STATIC[world] = found
    return found


def _approaches(city: CityMap, half_width: float,
                side: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boxes ``[x0, y0, x1, y1]`` [m] of the light strips of every open approach to a lit
    intersection (by node, then in street order), with the node and axis (0 west-east)
    of each."""
    boxes, nodes, axes = [], [], []
    for approach in sorted(light_approaches(city, half_width, side), key=lambda a: a.node):
        depth = min(LIGHT_STRIP_M, approach.length_m - 2.0 * half_width)
        points = [approach.point(back, offset) for back in (half_width, half_width + depth)
                  for offset in approach.lane_span()]
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        boxes.append((min(xs), min(ys), max(xs), max(ys)))
        nodes.append(approach.node)
        axes.append(approach.axis)
    return (np.array(boxes, float).reshape(-1, 4), np.array(nodes, int),
            np.array(axes, int))


def _overlapping(boxes: np.ndarray, x: float, y: float, reach: float) -> np.ndarray:
    """Which boxes (k, 4) overlap the square of half side ``reach`` [m] around ``(x, y)``."""
    return ((boxes[:, 2] >= x - reach) & (boxes[:, 0] <= x + reach)
            & (boxes[:, 3] >= y - reach) & (boxes[:, 1] <= y + reach))


def _box_values(px: np.ndarray, py: np.ndarray, boxes: np.ndarray,
                values: np.ndarray) -> np.ndarray:
    """Per point (n,), the largest of ``values`` (k,) uint8 of the ``boxes`` (k, 4) it
    lies in (edges included), 0 outside all. A few boxes at a time, the points along the
    last axis: every comparison runs over a long contiguous row, temporaries stay small."""
    result = np.zeros(len(px), np.uint8)
    for i in range(0, len(boxes), _BOX_CHUNK):
        b = boxes[i:i + _BOX_CHUNK]
        inside = ((px >= b[:, 0, None]) & (px <= b[:, 2, None])
                  & (py >= b[:, 1, None]) & (py <= b[:, 3, None]))
        np.maximum(result, (inside * values[i:i + _BOX_CHUNK, None]).max(axis=0), out=result)
    return result


@functools.lru_cache(maxsize=16)
def _window(size_px: int, metres_per_px: float, reach_m: float) -> np.ndarray:
    """Offsets ``(rows, columns)`` (2, n) of the cells around a point's cell that can
    have their centre within ``reach_m`` of it."""
    half = math.ceil(reach_m / metres_per_px + 0.5)
    span = np.arange(-half, half + 1)
    rows, columns = np.meshgrid(span, span, indexing="ij")
    window = np.stack([rows.ravel(), columns.ravel()])
    window.flags.writeable = False
    return window


def _paint_around(channel: np.ndarray, right: np.ndarray, ahead: np.ndarray,
                  reach_m: float, inside: Callable[[np.ndarray, np.ndarray], np.ndarray],
                  size_px: int, metres_per_px: float) -> None:
    """Set to 255 the cells of a flat ``channel`` whose centre ``inside(dr, da)`` says is
    in a shape, and the cell holding each shape's centre. ``right``, ``ahead`` (n,):
    the centres in the car's frame [m]; ``inside`` gets each candidate cell centre's
    offset from its shape's centre, (n, cells) [m]; ``reach_m``: the shapes' radius."""
    row0 = np.floor(size_px / 2.0 - ahead / metres_per_px).astype(int)
    column0 = np.floor(right / metres_per_px + size_px / 2.0).astype(int)
    d_row, d_column = _window(size_px, metres_per_px, reach_m)
    rows, columns = row0[:, None] + d_row, column0[:, None] + d_column
    dr = (columns + 0.5 - size_px / 2.0) * metres_per_px - right[:, None]
    da = (size_px / 2.0 - rows - 0.5) * metres_per_px - ahead[:, None]
    hit = inside(dr, da) | ((d_row == 0) & (d_column == 0))
    hit &= (rows >= 0) & (rows < size_px) & (columns >= 0) & (columns < size_px)
    channel[rows[hit] * size_px + columns[hit]] = 255


def occupancy_raster(world: CityWorld, size_px: int = public.RASTER_SIZE_PX,
                     metres_per_px: float = public.RASTER_M_PER_PX) -> np.ndarray:
    """The ``(4, size_px, size_px)`` uint8 raster around ``world.car`` (layout above);
    ``metres_per_px`` is the side of a cell [m]."""
    if isinstance(size_px, bool) or not isinstance(size_px, int | np.integer) or size_px < 1:
        raise ValueError(f"size_px must be a positive integer, got {size_px!r}")
    if not (math.isfinite(metres_per_px) and metres_per_px > 0.0):
        raise ValueError(f"metres_per_px must be a positive number, got {metres_per_px!r}")
    size_px, metres_per_px = int(size_px), float(metres_per_px)
    car = world.car
    cx, cy = car.x, car.y
    c, s = math.cos(car.heading), math.sin(car.heading)
    right, ahead = _cell_offsets(size_px, metres_per_px)
    # World coordinates of the cell centres: the car's right is (s, -c), ahead (c, s).
    px = cx + right * s + ahead * c
    py = cy - right * c + ahead * s
    # Every cell centre lies within the raster's half diagonal of the car.
    reach = size_px * metres_per_px / math.sqrt(2.0)
    out = np.zeros((4, size_px * size_px), np.uint8)

    static = _static(world)
    layout = world.layout
    x0, y0, x1, y1 = static.extent
    road = (px >= x0) & (px <= x1) & (py >= y0) & (py <= y1)
    curbs, barriers = layout.curbs, layout.barriers
    solid = np.vstack([curbs[_overlapping(curbs, cx, cy, reach)],
                       barriers[_overlapping(barriers, cx, cy, reach)]])
    road &= _box_values(px, py, solid, np.ones(len(solid), np.uint8)) == 0
    out[ROAD][road] = 255

    car_reach = math.hypot(public.CAR_LENGTH_M, public.CAR_WIDTH_M) / 2.0
    traffic = world.traffic
    near = ((np.abs(traffic.x - cx) < reach + car_reach)
            & (np.abs(traffic.y - cy) < reach + car_reach))
    if near.any():
        rx, ry = traffic.x[near] - cx, traffic.y[near] - cy
        hx, hy = np.cos(traffic.heading[near]), np.sin(traffic.heading[near])
        # Each car's heading in the frame (right, ahead).
        fr, fa = (hx * s - hy * c)[:, None], (hx * c + hy * s)[:, None]

        def in_car(dr: np.ndarray, da: np.ndarray) -> np.ndarray:
            return ((np.abs(dr * fr + da * fa) <= public.CAR_LENGTH_M / 2)
                    & (np.abs(da * fr - dr * fa) <= public.CAR_WIDTH_M / 2))

        _paint_around(out[CARS], rx * s - ry * c, rx * c + ry * s, car_reach, in_car,
                      size_px, metres_per_px)

    people = world.pedestrians.positions()
    if len(people):
        people = people[(np.abs(people[:, 0] - cx) < reach + RADIUS_M)
                        & (np.abs(people[:, 1] - cy) < reach + RADIUS_M)]
    if len(people):
        rx, ry = people[:, 0] - cx, people[:, 1] - cy

        def in_person(dr: np.ndarray, da: np.ndarray) -> np.ndarray:
            return dr * dr + da * da <= RADIUS_M * RADIUS_M

        _paint_around(out[PEDESTRIANS], rx * s - ry * c, rx * c + ry * s, RADIUS_M,
                      in_person, size_px, metres_per_px)

    boxes, nodes, axes = static.strips, static.strip_nodes, static.strip_axes
    if len(boxes):
        keep = _overlapping(boxes, cx, cy, reach)
        if keep.any():
            values = _LIGHT_VALUES[world.lights.codes(nodes[keep], axes[keep], world.time_s)]
            # The strips never overlap: each cell takes the value of the one it is in.
            out[LIGHTS] = _box_values(px, py, boxes[keep], values)
    return out.reshape(4, size_px, size_px)
