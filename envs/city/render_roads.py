"""The ground of a city frame: sidewalks, buildings, lane markings, crosswalks and
roadworks. Every crosswalk is a zebra, on every open street just outside each
intersection."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from exgen.envs.city.pedestrians import crosswalks
from exgen.envs.city.render_canvas import Canvas, cache_by_city
from exgen.envs.city.render_style import (
    ARROW_SPACING_M,
    ASPHALT,
    BARRIER,
    BARRIER_EDGE,
    BARRIER_STRIPE,
    BUILDING_EDGE,
    BUILDINGS,
    CENTRE_YELLOW,
    DASH_M,
    GAP_M,
    LANE_WHITE,
    SIDEWALK,
    ZEBRA,
    ZEBRA_GAP_M,
    ZEBRA_INSET_M,
    ZEBRA_STRIPE_M,
)
from exgen.envs.city.render_view import Point
from exgen.envs.city.traffic import CROSSWALK_M

if TYPE_CHECKING:
    from exgen.envs.city.city_map import CityMap
    from exgen.envs.city.world import CityWorld

#: Unit vector of each arm direction code: east, north, west, south.
_ARMS = ((1.0, 0.0), (0.0, 1.0), (-1.0, 0.0), (0.0, -1.0))


@cache_by_city
def street_boxes(city: CityMap) -> np.ndarray:
    """Centre-line extent ``[x0, y0, x1, y1]`` [m] of every street, for culling."""
    boxes = [(*city.position(s.a), *city.position(s.b)) for s in city.streets]
    return np.array(boxes, float).reshape(-1, 4)


@cache_by_city
def _zebra_stripes(city: CityMap, half_width: float) -> np.ndarray:
    """``(k, 4)`` boxes ``[x0, y0, x1, y1]`` [m] of the stripes of every crosswalk."""
    period = ZEBRA_STRIPE_M + ZEBRA_GAP_M
    count = max(1, math.floor((2 * half_width + ZEBRA_GAP_M) / period))
    offsets = (np.arange(count) - (count - 1) / 2) * period  # stripe centres across [m]
    near, far = half_width + ZEBRA_INSET_M, half_width + CROSSWALK_M - ZEBRA_INSET_M
    boxes = []
    for node, arm in crosswalks(city):
        x, y = city.position(node)
        ux, uy = _ARMS[arm]
        # Along the arm from ``near`` to ``far``; across, one stripe per offset.
        ax0, ax1 = sorted((x + ux * near, x + ux * far))
        ay0, ay1 = sorted((y + uy * near, y + uy * far))
        for offset in offsets:
            lo, hi = offset - ZEBRA_STRIPE_M / 2, offset + ZEBRA_STRIPE_M / 2
            if ux:
                boxes.append((ax0, y + lo, ax1, y + hi))
            else:
                boxes.append((x + lo, ay0, x + hi, ay1))
    return np.array(boxes, float).reshape(-1, 4)


def zebra_stripes(world: CityWorld) -> np.ndarray:
    """``(k, 4)``: the crosswalks' stripes as boxes ``[x0, y0, x1, y1]`` [m], on every
    open street just outside each intersection (``traffic.CROSSWALK_M`` wide)."""
    return _zebra_stripes(world.city, world.half_width)


def draw_ground(canvas: Canvas) -> None:
    """Asphalt everywhere, then sidewalks (curb boxes) and the buildings on them."""
    layout, view, pg, surface = canvas.world.layout, canvas.view, canvas.pg, canvas.surface
    surface.fill(ASPHALT)
    for i in view.visible(layout.curbs):
        pg.draw.rect(surface, SIDEWALK, view.rect(layout.curbs[i]))
    edge = canvas.detail
    for i in view.visible(layout.buildings):
        rect = view.rect(layout.buildings[i])
        pg.draw.rect(surface, BUILDINGS[(i * 7 + i // 5) % len(BUILDINGS)], rect)
        if edge:
            pg.draw.rect(surface, BUILDING_EDGE, rect, 2)


def draw_markings(canvas: Canvas) -> None:
    """Centre lines, lane dividers and one-way arrows of the open streets in view."""
    world, view, detail = canvas.world, canvas.view, canvas.detail
    city, hw, lanes, lane_width = world.city, world.half_width, world.lanes, world.lane_width
    boxes = street_boxes(city)
    bx0, by0, bx1, by1 = view.bounds
    end_gap = hw + CROSSWALK_M  # markings end at the crosswalks' outer edges
    for i in view.visible(boxes, margin_m=hw):
        street = city.streets[i]
        if street.closed:
            continue
        start, end = city.position(street.a), city.position(street.b)
        horizontal = start[1] == end[1]
        d = (1.0, 0.0) if horizontal else (0.0, 1.0)
        normal = (-d[1], d[0])
        length = city.length(street.a, street.b)
        # The part of the street between the crosswalks that lies in view.
        low, high = (bx0, bx1) if horizontal else (by0, by1)
        origin = start[0] if horizontal else start[1]
        t0 = max(end_gap, low - origin - 1.0)
        t1 = min(length - end_gap, high - origin + 1.0)
        if t1 <= t0:
            continue

        def at(t: float, offset: float, start: Point = start, d: Point = d,
               normal: Point = normal) -> Point:
            return (start[0] + d[0] * t + normal[0] * offset,
                    start[1] + d[1] * t + normal[1] * offset)

        if street.one_way_to is None:
            _centre_line(canvas, at, t0, t1)
            if detail:
                for k in range(1, lanes):
                    for sign in (-1.0, 1.0):
                        _dashes(canvas, at, sign * k * lane_width, t0, t1, end_gap, length)
        else:
            if detail:
                for k in range(1, 2 * lanes):
                    _dashes(canvas, at, -hw + k * lane_width, t0, t1, end_gap, length)
            forward = street.one_way_to == street.b
            centres = [-hw + (k + 0.5) * lane_width for k in range(2 * lanes)]
            if not detail:
                centres = [0.0]
            _arrows(canvas, at, centres, forward, t0, t1, end_gap, length)


def _centre_line(canvas: Canvas, at: Any, t0: float, t1: float) -> None:
    """A two-way street's centre line from ``t0`` to ``t1`` [m]: double yellow up close."""
    if canvas.detail:
        gap = 0.22
        for offset in (-gap, gap):
            canvas.line(CENTRE_YELLOW, at(t0, offset), at(t1, offset), canvas.width(0.15))
    else:
        canvas.line(CENTRE_YELLOW, at(t0, 0.0), at(t1, 0.0), 1)


def _dashes(canvas: Canvas, at: Any, offset: float, t0: float, t1: float, end_gap: float,
            length: float) -> None:
    """Dashes along a street of ``length`` [m], a gap clear of the crosswalks that end
    ``end_gap`` [m] from its ends, drawn where they fall in [t0, t1] [m]."""
    period = DASH_M + GAP_M
    first = end_gap + 1.0
    t0, t1 = max(t0, first), min(t1, length - first)
    k = math.floor((t0 - first) / period)
    width = canvas.width(0.15)
    while first + k * period < t1:
        a = max(first + k * period, t0)
        b = min(first + k * period + DASH_M, t1)
        if b > a:
            canvas.line(LANE_WHITE, at(a, offset), at(b, offset), width)
        k += 1


def _arrows(canvas: Canvas, at: Any, centres: list[float], forward: bool, t0: float,
            t1: float, first: float, length: float) -> None:
    """One-way arrows in each lane, every ``ARROW_SPACING_M``, pointing the traffic's way."""
    usable = length - 2 * first
    count = max(1, int(usable // ARROW_SPACING_M))
    spacing = usable / count
    scale = canvas.view.scale
    size = max(4.0, 12.0 / scale)  # length [m]; at least 12 px on a small map
    half = max(0.8, 4.0 / scale)  # half-width of the head [m]
    shaft = max(0.3, 1.0 / scale)  # half-width of the shaft [m]
    sign = 1.0 if forward else -1.0
    for j in range(count):
        t = first + spacing * (j + 0.5)
        if not (t0 - size <= t <= t1 + size):
            continue
        for c in centres:
            tip, tail = t + sign * size / 2, t - sign * size / 2
            neck = t + sign * size * 0.05
            polygon = [at(tail, c - shaft), at(neck, c - shaft), at(neck, c - half),
                       at(tip, c), at(neck, c + half), at(neck, c + shaft),
                       at(tail, c + shaft)]
            canvas.pg.draw.polygon(canvas.surface, LANE_WHITE,
                                   [canvas.view.px(*p) for p in polygon])


def draw_crosswalks(canvas: Canvas) -> None:
    """Zebra stripes on the crosswalks in view; left out on a small map."""
    if not canvas.detail:
        return
    stripes, view, fill = zebra_stripes(canvas.world), canvas.view, canvas.surface.fill
    for i in view.visible(stripes):
        fill(ZEBRA, view.rect(stripes[i]))


def draw_barriers(canvas: Canvas) -> None:
    """Roadworks: orange boxes with white diagonal stripes."""
    barriers, view, pg = canvas.world.layout.barriers, canvas.view, canvas.pg
    surface = canvas.surface
    for i in view.visible(barriers):
        rect = pg.Rect(view.rect(barriers[i]))
        pg.draw.rect(surface, BARRIER, rect)
        if canvas.detail:
            clip = surface.get_clip()
            surface.set_clip(rect.clip(clip))
            step = max(6, round(1.6 * view.scale))
            width = max(2, round(0.5 * view.scale))
            for x in range(rect.left - rect.height, rect.right + step, step):
                pg.draw.line(surface, BARRIER_STRIPE, (x, rect.bottom),
                             (x + rect.height, rect.top), width)
            surface.set_clip(clip)
        pg.draw.rect(surface, BARRIER_EDGE, rect, 1)
