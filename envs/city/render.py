"""Draw a :class:`~exgen.envs.city.world.CityWorld` top-down with pygame, headless or in a window.

pygame is imported here only, when an env first renders. North is up. The main view
follows the car at ``PX_PER_M``; a minimap in a corner shows the whole city, the route
and the destination; a HUD line gives the speed, time, grip, driving side and
infractions. Only what lies within the view is drawn, so a 20x20 city renders as fast
as a small one. :func:`render_map_image` draws a whole city fitted to a square frame.

Frames are drawn from the world's state itself: the car where the physics has it,
each light in the colour ``world.light`` gives, the route the navigation follows
(``world.arc`` then ``world.next_hop``), the other cars where ``world.traffic`` has them
(brake lights on when one is stopped or slowing) and the pedestrians where
``world.pedestrians`` has them. Every crosswalk is a zebra, with its street's stop line
just before it.
"""

from __future__ import annotations

import functools
import itertools
import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from exgen.envs.city import public
from exgen.envs.city.pedestrians import RADIUS_M as PEDESTRIAN_RADIUS_M
from exgen.envs.city.pedestrians import crosswalks
from exgen.envs.city.traffic import CROSSWALK_M

if TYPE_CHECKING:
    from exgen.envs.city.city_map import CityMap
    from exgen.envs.city.traffic import Traffic
    from exgen.envs.city.world import CityWorld

#: Main view: frame size [px] and scale [px/m].
WIDTH_PX = 800
HEIGHT_PX = 600
PX_PER_M = 5.0
#: Minimap inset: side [px] and gap to the frame's edge [px].
MINIMAP_PX = 180
MINIMAP_MARGIN_PX = 10
#: Below this scale [px/m] lane dividers and stop lines are left out (they would blur).
DETAIL_PX_PER_M = 3.0

ASPHALT = (62, 64, 68)
SIDEWALK = (178, 178, 172)
BUILDINGS = ((124, 118, 128), (118, 122, 130), (128, 122, 116), (120, 126, 122))
BUILDING_EDGE = (92, 88, 98)
BARRIER = (255, 128, 16)
BARRIER_STRIPE = (250, 250, 250)
LANE_WHITE = (236, 236, 236)
CENTRE_YELLOW = (250, 204, 40)
LIGHT_COLOURS = {"green": (40, 225, 90), "amber": (255, 176, 0), "red": (240, 40, 40)}
LIGHT_HOUSING = (18, 18, 20)
ROUTE = (160, 100, 255)
ROUTE_ALPHA = 150
DESTINATION = (160, 100, 255)
CAR = (30, 200, 255)
CAR_SLIPPING = (255, 60, 200)
CAR_EDGE = (8, 20, 40)
WINDSCREEN = (20, 44, 74)
HEADLIGHT = (255, 250, 200)
#: Other cars: body colours (picked by the car's index), outline, windows and brake
#: lights; a dot's colour in the minimap.
TRAFFIC_COLOURS = ((216, 212, 200), (198, 168, 108), (126, 152, 102), (106, 130, 172),
                   (156, 122, 156), (146, 148, 154))
TRAFFIC_EDGE = (22, 22, 26)
TRAFFIC_WINDOW = (38, 44, 54)
BRAKE_LIGHT = (255, 30, 30)
MINIMAP_TRAFFIC = (255, 222, 90)
#: Pedestrians: walking with the signal (or waiting), and crossing against it.
PEDESTRIAN = (255, 196, 120)
PEDESTRIAN_AGAINST = (255, 40, 150)
PEDESTRIAN_EDGE = (40, 20, 10)
ZEBRA = LANE_WHITE
TEXT = (242, 242, 242)
TEXT_SHADOW = (0, 0, 0)
MINIMAP_BACK = (26, 28, 32)
MINIMAP_STREET = (150, 152, 158)
MINIMAP_FRAME = (220, 220, 220)

#: Lane divider dashes and gaps, one-way arrows' spacing [m].
DASH_M = 3.0
GAP_M = 5.0
ARROW_SPACING_M = 30.0
#: Traffic light disc radius [m], its housing's rim [m] and its distance from the
#: intersection's corner onto the sidewalk, along and across the approach [m].
LIGHT_RADIUS_M = 0.9
LIGHT_RIM_M = 0.35
LIGHT_SETBACK_M = 1.2
#: Stop line's width [m]; its near edge is at the crosswalk's outer edge.
STOP_LINE_M = 0.5
#: Zebra stripes: width and gap across the street [m], inset from the crosswalk's edges
#: along it [m].
ZEBRA_STRIPE_M = 0.6
ZEBRA_GAP_M = 0.6
ZEBRA_INSET_M = 0.25
#: Brake lights are on below this speed [m/s], or while a car slows faster than this
#: [m/s²] between two frames at most ``BRAKING_WINDOW_S`` apart.
BRAKING_SPEED_MPS = 0.5
BRAKING_DECELERATION_MPS2 = 1.0
BRAKING_WINDOW_S = 0.5
#: Pedestrians are drawn this large [m] (their body is ``pedestrians.RADIUS_M``), and at
#: least ``PEDESTRIAN_MIN_PX`` [px].
PEDESTRIAN_DRAW_M = max(PEDESTRIAN_RADIUS_M, 0.6)
PEDESTRIAN_MIN_PX = 4

#: HUD labels of the infraction counts; after them, all collisions (``collision_*``) as one.
INFRACTION_LABELS = {"red_light": "red lights", "wrong_lane": "wrong lane",
                     "off_road": "off road"}

Point = tuple[float, float]
#: Unit vector of each arm direction code: east, north, west, south.
_ARMS = ((1.0, 0.0), (0.0, 1.0), (-1.0, 0.0), (0.0, -1.0))


@dataclass(frozen=True)
class View:
    """A north-up window on the world: ``(centre_x, centre_y)`` [m] at the frame's
    centre, ``scale`` [px/m], ``width`` x ``height`` [px]."""

    centre_x: float
    centre_y: float
    scale: float
    width: int
    height: int

    def px(self, x: float, y: float) -> Point:
        """World metres to frame pixels (column, row), y down."""
        return (self.width / 2 + (x - self.centre_x) * self.scale,
                self.height / 2 - (y - self.centre_y) * self.scale)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(x0, y0, x1, y1)`` [m] of what the frame shows."""
        half_w, half_h = self.width / 2 / self.scale, self.height / 2 / self.scale
        return (self.centre_x - half_w, self.centre_y - half_h,
                self.centre_x + half_w, self.centre_y + half_h)

    def visible(self, boxes: np.ndarray, margin_m: float = 0.0) -> np.ndarray:
        """The rows of ``boxes`` (k, 4) ``[x0, y0, x1, y1]`` [m] that overlap the frame."""
        x0, y0, x1, y1 = self.bounds
        keep = ((boxes[:, 2] >= x0 - margin_m) & (boxes[:, 0] <= x1 + margin_m)
                & (boxes[:, 3] >= y0 - margin_m) & (boxes[:, 1] <= y1 + margin_m))
        return np.flatnonzero(keep)

    def rect(self, box: Any) -> tuple[int, int, int, int]:
        """Pixel rectangle ``(left, top, width, height)`` of a box [m], clipped near the
        frame; neighbouring boxes tile without gaps."""
        left, top = self.px(box[0], box[3])
        right, bottom = self.px(box[2], box[1])
        left, right = (min(max(round(v), -4), self.width + 4) for v in (left, right))
        top, bottom = (min(max(round(v), -4), self.height + 4) for v in (top, bottom))
        return left, top, right - left, bottom - top

    def contains(self, x: float, y: float, margin_px: float = 0.0) -> bool:
        """Whether the point [m] lies inside the frame, ``margin_px`` in from its edge."""
        column, row = self.px(x, y)
        return (margin_px <= column <= self.width - margin_px
                and margin_px <= row <= self.height - margin_px)


def car_view(world: CityWorld, width: int = WIDTH_PX, height: int = HEIGHT_PX,
             scale: float = PX_PER_M) -> View:
    """The main view: centred on the car, north up."""
    return View(world.car.x, world.car.y, scale, width, height)


def map_view(city: CityMap, half_width_m: float, size_px: int, pad_px: int = 0) -> View:
    """A square view that fits the whole city, its roads and sidewalks, ``pad_px`` in."""
    reach = half_width_m + public.SIDEWALK_M + 4.0
    x0, x1 = city.column_x_m[0] - reach, city.column_x_m[-1] + reach
    y0, y1 = city.row_y_m[0] - reach, city.row_y_m[-1] + reach
    scale = (size_px - 2 * pad_px) / max(x1 - x0, y1 - y0)
    return View((x0 + x1) / 2, (y0 + y1) / 2, scale, size_px, size_px)


# --------------------------------------------------------------------- geometry
def _unit(start: Point, end: Point) -> Point:
    dx, dy = end[0] - start[0], end[1] - start[1]
    length = math.hypot(dx, dy)
    return dx / length, dy / length


def _lane_centre(city: CityMap, u: int, v: int, lanes: int, lane_width: float) -> float:
    """Centre of the driving-side (kerb) lane of travel from ``u`` to ``v``, from the
    centre line toward the driving side [m]: the lane a car starts in."""
    street = city.street(u, v)
    return public.lane_offsets(lanes, lane_width, street.one_way_to is not None)[-1]


def route_nodes(world: CityWorld) -> list[int]:
    """The intersections the navigation goes through, from ``world.arc[1]`` to the
    destination; empty once the car has arrived."""
    if world.arrived:
        return []
    nodes = [world.arc[1]]
    while nodes[-1] != world.destination and len(nodes) <= world.city.n_nodes:
        if nodes[-1] not in world.next_hop:
            break
        nodes.append(world.next_hop[nodes[-1]])
    return nodes


def route_points(world: CityWorld) -> list[Point]:
    """The route as a polyline [m]: the car, then along the lanes of the route's
    direction of travel to the destination's centre; empty once the car has arrived."""
    nodes = route_nodes(world)
    if not nodes:
        return []
    city, side = world.city, world.side
    points: list[Point] = [(world.car.x, world.car.y)]
    previous = world.arc[0]
    for i, node in enumerate(nodes):
        here = city.position(node)
        d1 = _unit(city.position(previous), here)
        n1 = public.side_normal(*d1, side)
        o1 = _lane_centre(city, previous, node, world.lanes, world.lane_width)
        if i + 1 == len(nodes):
            points.append((here[0] + n1[0] * o1, here[1] + n1[1] * o1))
            break
        following = nodes[i + 1]
        d2 = _unit(here, city.position(following))
        n2 = public.side_normal(*d2, side)
        o2 = _lane_centre(city, node, following, world.lanes, world.lane_width)
        if abs(d1[0] * d2[0] + d1[1] * d2[1]) < 0.5:
            # A turn: where the two lanes cross.
            points.append((here[0] + n1[0] * o1 + n2[0] * o2, here[1] + n1[1] * o1 + n2[1] * o2))
        else:
            points.append((here[0] + n1[0] * o1, here[1] + n1[1] * o1))
            if o1 != o2 or d1 != d2:
                points.append((here[0] + n2[0] * o2, here[1] + n2[1] * o2))
        previous = node
    return points


def _by_identity(function: Any) -> Any:
    """Cache ``function(city, *args)`` by the city's identity: hashing a 20x20 city's
    streets on every frame would cost more than drawing them."""
    cache: dict[tuple, tuple[object, object]] = {}

    @functools.wraps(function)
    def cached(city: CityMap, *args: Any) -> Any:
        key = (id(city), *args)
        hit = cache.get(key)
        if hit is not None and hit[0] is city:
            return hit[1]
        if len(cache) >= 16:
            cache.pop(next(iter(cache)))
        value = function(city, *args)
        cache[key] = (city, value)
        return value

    return cached


@_by_identity
def _street_boxes(city: CityMap) -> np.ndarray:
    """Centre-line extent ``[x0, y0, x1, y1]`` [m] of every street, for culling."""
    boxes = [(*city.position(s.a), *city.position(s.b)) for s in city.streets]
    return np.array(boxes, float).reshape(-1, 4)


@dataclass(frozen=True)
class _LightLayout:
    """Per open approach to an intersection with lights: ``spots`` ``(node, axis, x, y)``
    of its light disc [m], ``stop_lines`` ``[x0, y0, x1, y1]`` [m] across its lanes."""

    spots: tuple[tuple[int, int, float, float], ...]
    stop_lines: np.ndarray

    @functools.cached_property
    def positions(self) -> np.ndarray:
        """``(k, 2)`` centres of the light discs [m]."""
        return np.array([spot[2:] for spot in self.spots], float).reshape(-1, 2)

    @functools.cached_property
    def stop_line_boxes(self) -> np.ndarray:
        """``(k, 4)`` bounding boxes of the stop lines [m]."""
        a, b = self.stop_lines[:, :2], self.stop_lines[:, 2:]
        return np.hstack([np.minimum(a, b), np.maximum(a, b)])

    def boxes(self, reach_m: float) -> np.ndarray:
        """A box of ``reach_m`` around each light, for culling."""
        return np.hstack([self.positions - reach_m, self.positions + reach_m])


@_by_identity
def _light_layout(city: CityMap, half_width: float, side: str) -> _LightLayout:
    """Lights sit on the sidewalk beside their stop line, clear of the crosswalk and of
    the pedestrians waiting at its ends."""
    hw, setback = half_width, LIGHT_SETBACK_M
    spots, lines = [], []
    for street in city.streets:
        for u, node in street.directions():
            if node not in city.lights:
                continue
            (x, y), (ux, uy) = city.position(node), city.position(u)
            dx, dy = _unit((ux, uy), (x, y))
            nx, ny = public.side_normal(dx, dy, side)
            along, across = hw + CROSSWALK_M + setback, hw + setback
            spots.append((node, 0 if dy == 0.0 else 1, x - dx * along + nx * across,
                          y - dy * along + ny * across))
            inner = -hw if street.one_way_to is not None else 0.15
            back = hw + CROSSWALK_M + STOP_LINE_M / 2
            lines.append((x - dx * back + nx * inner, y - dy * back + ny * inner,
                          x - dx * back + nx * hw, y - dy * back + ny * hw))
    return _LightLayout(tuple(spots), np.array(lines, float).reshape(-1, 4))


def light_spots(world: CityWorld) -> tuple[tuple[int, int, float, float], ...]:
    """``(node, axis, x, y)``: where each approach's light is drawn [m], on the sidewalk
    where that approach's stop line meets the driving-side curb."""
    return _light_layout(world.city, world.half_width, world.side).spots


@_by_identity
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


def traffic_colour(index: int) -> tuple[int, int, int]:
    """Body colour of the other car ``index``: the same car keeps its colour."""
    return TRAFFIC_COLOURS[index % len(TRAFFIC_COLOURS)]


def braking_by_speed(traffic: Traffic) -> np.ndarray:
    """Which other cars are stopped or nearly so: their brake lights are on."""
    return np.asarray(traffic.v) < BRAKING_SPEED_MPS


#: An other car's parts in its own frame, as fractions of its half length (along) and
#: half width (across): body, windscreen (its front mark) and the two brake lights.
_BODY = ((1.0, 1.0), (-1.0, 1.0), (-1.0, -1.0), (1.0, -1.0))
_WINDSCREEN = ((0.62, 0.8), (0.24, 0.86), (0.24, -0.86), (0.62, -0.8))
_BRAKE_LIGHTS = (((-0.8, 1.0), (-1.06, 1.0), (-1.06, 0.3), (-0.8, 0.3)),
                 ((-0.8, -0.3), (-1.06, -0.3), (-1.06, -1.0), (-0.8, -1.0)))


# --------------------------------------------------------------------- drawing
class _Painter:
    """Draws the parts of a world onto one surface through one view."""

    def __init__(self, pygame: Any, surface: Any, view: View, world: CityWorld) -> None:
        self.pg = pygame
        self.surface = surface
        self.view = view
        self.world = world
        self.detail = view.scale >= DETAIL_PX_PER_M

    def width(self, metres: float, least: int = 1) -> int:
        """A line width [px] for ``metres``, at least ``least``."""
        return max(least, round(metres * self.view.scale))

    def line(self, colour: tuple[int, ...], a: Point, b: Point, width: int) -> None:
        """A line between two points [m], ``width`` [px] wide."""
        self.pg.draw.line(self.surface, colour, self.view.px(*a), self.view.px(*b), width)

    def ground(self) -> None:
        """Asphalt everywhere, then sidewalks (curb boxes) and the buildings on them."""
        layout, view, pg = self.world.layout, self.view, self.pg
        self.surface.fill(ASPHALT)
        for i in view.visible(layout.curbs):
            pg.draw.rect(self.surface, SIDEWALK, view.rect(layout.curbs[i]))
        edge = self.detail
        for i in view.visible(layout.buildings):
            rect = view.rect(layout.buildings[i])
            pg.draw.rect(self.surface, BUILDINGS[(i * 7 + i // 5) % len(BUILDINGS)], rect)
            if edge:
                pg.draw.rect(self.surface, BUILDING_EDGE, rect, 2)

    def markings(self) -> None:
        """Centre lines, lane dividers and one-way arrows of the open streets in view."""
        world, view = self.world, self.view
        city, hw, lanes, lane_width = world.city, world.half_width, world.lanes, world.lane_width
        boxes = _street_boxes(city)
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
                self._centre_line(at, t0, t1)
                if self.detail:
                    for k in range(1, lanes):
                        for sign in (-1.0, 1.0):
                            self._dashes(at, sign * k * lane_width, t0, t1, end_gap,
                                         length)
            else:
                if self.detail:
                    for k in range(1, 2 * lanes):
                        self._dashes(at, -hw + k * lane_width, t0, t1, end_gap, length)
                forward = street.one_way_to == street.b
                centres = [-hw + (k + 0.5) * lane_width for k in range(2 * lanes)]
                if not self.detail:
                    centres = [0.0]
                self._arrows(at, centres, forward, t0, t1, end_gap, length)

    def _centre_line(self, at: Any, t0: float, t1: float) -> None:
        """A two-way street's centre line from ``t0`` to ``t1`` [m]: double yellow up close."""
        if self.detail:
            gap = 0.22
            for offset in (-gap, gap):
                self.line(CENTRE_YELLOW, at(t0, offset), at(t1, offset), self.width(0.15))
        else:
            self.line(CENTRE_YELLOW, at(t0, 0.0), at(t1, 0.0), 1)

    def _dashes(self, at: Any, offset: float, t0: float, t1: float, end_gap: float,
                length: float) -> None:
        """Dashes along a street of ``length`` [m], a gap clear of the crosswalks that end
        ``end_gap`` [m] from its ends, drawn where they fall in [t0, t1] [m]."""
        period = DASH_M + GAP_M
        first = end_gap + 1.0
        t0, t1 = max(t0, first), min(t1, length - first)
        k = math.floor((t0 - first) / period)
        width = self.width(0.15)
        while first + k * period < t1:
            a = max(first + k * period, t0)
            b = min(first + k * period + DASH_M, t1)
            if b > a:
                self.line(LANE_WHITE, at(a, offset), at(b, offset), width)
            k += 1

    def _arrows(self, at: Any, centres: list[float], forward: bool, t0: float, t1: float,
                first: float, length: float) -> None:
        """One-way arrows in each lane, every ``ARROW_SPACING_M``, pointing the traffic's way."""
        usable = length - 2 * first
        count = max(1, int(usable // ARROW_SPACING_M))
        spacing = usable / count
        scale = self.view.scale
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
                self.pg.draw.polygon(self.surface, LANE_WHITE,
                                     [self.view.px(*p) for p in polygon])

    def crosswalks(self) -> None:
        """Zebra stripes on the crosswalks in view; left out on a small map."""
        if not self.detail:
            return
        stripes, view, fill = zebra_stripes(self.world), self.view, self.surface.fill
        for i in view.visible(stripes):
            fill(ZEBRA, view.rect(stripes[i]))

    def barriers(self) -> None:
        """Roadworks: orange boxes with white diagonal stripes."""
        barriers, view, pg = self.world.layout.barriers, self.view, self.pg
        surface = self.surface
        for i in view.visible(barriers):
            rect = pg.Rect(view.rect(barriers[i]))
            pg.draw.rect(surface, BARRIER, rect)
            if self.detail:
                clip = surface.get_clip()
                surface.set_clip(rect.clip(clip))
                step = max(6, round(1.6 * view.scale))
                width = max(2, round(0.5 * view.scale))
                for x in range(rect.left - rect.height, rect.right + step, step):
                    pg.draw.line(surface, BARRIER_STRIPE, (x, rect.bottom),
                                 (x + rect.height, rect.top), width)
                surface.set_clip(clip)
            pg.draw.rect(surface, (120, 50, 0), rect, 1)

    def lights(self) -> None:
        """Stop lines across the approaching lanes, and each approach's light disc."""
        world, view, pg = self.world, self.view, self.pg
        layout = _light_layout(world.city, world.half_width, world.side)
        if self.detail:
            width = self.width(0.5, 2)
            for i in view.visible(layout.stop_line_boxes):
                x0, y0, x1, y1 = layout.stop_lines[i]
                self.line(LANE_WHITE, (x0, y0), (x1, y1), width)
        radius = max(3, round(LIGHT_RADIUS_M * view.scale))
        rim = radius + max(1, round(LIGHT_RIM_M * view.scale))
        for i in view.visible(layout.boxes(rim / view.scale)):
            node, axis, x, y = layout.spots[i]
            centre = view.px(x, y)
            pg.draw.circle(self.surface, LIGHT_HOUSING, centre, rim)
            pg.draw.circle(self.surface, LIGHT_COLOURS[world.light(node, axis)], centre, radius)

    def traffic(self, braking: np.ndarray | None = None) -> None:
        """The other cars in view: a body in the car's colour, a windscreen, brake lights
        where ``braking`` (default: the stopped cars) says; small on a map: dots."""
        traffic, view, pg, surface = self.world.traffic, self.view, self.pg, self.surface
        shown = view.visible(traffic.boxes, margin_m=1.0)
        if not len(shown):
            return
        if braking is None:
            braking = braking_by_speed(traffic)
        x, y, heading = traffic.x[shown], traffic.y[shown], traffic.heading[shown]
        scale = view.scale
        columns = view.width / 2 + (x - view.centre_x) * scale
        rows = view.height / 2 - (y - view.centre_y) * scale
        if public.CAR_LENGTH_M * scale < 8:
            radius = max(2.0, 0.5 * public.CAR_LENGTH_M * scale)
            for i, column, row in zip(shown.tolist(), columns.tolist(), rows.tolist(),
                                      strict=True):
                pg.draw.circle(surface, traffic_colour(i), (column, row), radius)
                pg.draw.circle(surface, TRAFFIC_EDGE, (column, row), radius, 1)
            return
        detailed = public.CAR_LENGTH_M * scale >= 14
        parts = [_BODY, _WINDSCREEN, *_BRAKE_LIGHTS]
        local = np.array(parts, float).reshape(-1, 2)
        local *= (public.CAR_LENGTH_M / 2 * scale, public.CAR_WIDTH_M / 2 * scale)
        c, s = np.cos(heading)[:, None], np.sin(heading)[:, None]
        # Pixel rows grow southward: rotate by the heading, then flip y.
        px = columns[:, None] + c * local[:, 0] - s * local[:, 1]
        py = rows[:, None] - (s * local[:, 0] + c * local[:, 1])
        points = np.stack([px, py], axis=-1).reshape(len(shown), -1, 4, 2).tolist()
        for k, i in enumerate(shown.tolist()):
            body, windscreen, *lights = points[k]
            pg.draw.polygon(surface, traffic_colour(i), body)
            if detailed:
                pg.draw.polygon(surface, TRAFFIC_WINDOW, windscreen)
            pg.draw.polygon(surface, TRAFFIC_EDGE, body, 1)
            if braking[i]:
                for light in lights:
                    pg.draw.polygon(surface, BRAKE_LIGHT, light)

    def pedestrians(self) -> None:
        """The pedestrians in view: discs, in another colour while crossing against the
        signal; left out on a small map."""
        people = self.world.pedestrians
        if not self.detail or not people.count:
            return
        view, pg, surface = self.view, self.pg, self.surface
        shown = view.visible(people.boxes(), margin_m=1.0)
        if not len(shown):
            return
        radius = max(PEDESTRIAN_MIN_PX, round(PEDESTRIAN_DRAW_M * view.scale))
        positions = people.positions()[shown]
        against = people.against_signal[shown] & people.crossing[shown]
        for (x, y), reckless in zip(positions.tolist(), against.tolist(), strict=True):
            centre = view.px(x, y)
            pg.draw.circle(surface, PEDESTRIAN_AGAINST if reckless else PEDESTRIAN, centre,
                           radius)
            pg.draw.circle(surface, PEDESTRIAN_EDGE, centre, radius, 1)

    def route(self, overlay: Any) -> None:
        """The route on ``overlay`` (a per-pixel-alpha surface the size of the frame)."""
        points = [self.view.px(*p) for p in route_points(self.world)]
        if len(points) < 2:
            return
        colour = (*ROUTE, ROUTE_ALPHA)
        half = self.width(1.6, 5) / 2
        for (x0, y0), (x1, y1) in itertools.pairwise(points):
            length = math.hypot(x1 - x0, y1 - y0)
            if length < 1e-6:
                continue
            nx, ny = (y0 - y1) / length * half, (x1 - x0) / length * half
            self.pg.draw.polygon(overlay, colour, [(x0 + nx, y0 + ny), (x1 + nx, y1 + ny),
                                                   (x1 - nx, y1 - ny), (x0 - nx, y0 - ny)])
        for point in points[1:-1]:
            self.pg.draw.circle(overlay, colour, point, half)

    def destination(self, overlay: Any) -> None:
        """The destination intersection's square, tinted, on ``overlay``."""
        world, view = self.world, self.view
        x, y = world.city.position(world.destination)
        hw = world.half_width
        self.pg.draw.rect(overlay, (*DESTINATION, 90),
                          view.rect((x - hw, y - hw, x + hw, y + hw)))

    def destination_marker(self) -> None:
        """A ring around the destination intersection and a chequered flag at its centre."""
        world, view, pg = self.world, self.view, self.pg
        x, y = world.city.position(world.destination)
        hw = world.half_width
        if not view.contains(x, y, -(hw + 10) * view.scale - 40):
            return
        centre = view.px(x, y)
        ring = max(8, round((hw + 1.5) * view.scale))
        pg.draw.circle(self.surface, DESTINATION, centre, ring, max(3, round(0.5 * view.scale)))
        self._flag(centre)

    def _flag(self, base: Point) -> None:
        """A chequered flag [px] planted at ``base``."""
        pg, surface = self.pg, self.surface
        bx, by = round(base[0]), round(base[1])
        pole_top = by - 34
        pg.draw.line(surface, (30, 30, 30), (bx, by), (bx, pole_top), 3)
        cell = 5
        for row in range(3):
            for column in range(4):
                colour = (250, 250, 250) if (row + column) % 2 == 0 else (20, 20, 20)
                pg.draw.rect(surface, colour, (bx + 2 + column * cell, pole_top + row * cell,
                                               cell, cell))
        pg.draw.rect(surface, (20, 20, 20), (bx + 1, pole_top - 1, 4 * cell + 2, 3 * cell + 2), 1)

    def car(self) -> None:
        """The car's body, a windscreen and headlights at its front; small on a map: an
        arrow head."""
        car, view, pg = self.world.car, self.view, self.pg
        colour = CAR_SLIPPING if car.slipping else CAR
        c, s = math.cos(car.heading), math.sin(car.heading)

        def body(along: float, across: float) -> Point:
            return view.px(car.x + c * along - s * across, car.y + s * along + c * across)

        half_l, half_w = public.CAR_LENGTH_M / 2, public.CAR_WIDTH_M / 2
        if public.CAR_LENGTH_M * view.scale < 14:
            size = 9.0 / view.scale
            arrow = [body(size, 0.0), body(-size * 0.7, size * 0.7), body(-size * 0.3, 0.0),
                     body(-size * 0.7, -size * 0.7)]
            pg.draw.polygon(self.surface, colour, arrow)
            pg.draw.polygon(self.surface, CAR_EDGE, arrow, 1)
            return
        outline = [body(half_l, half_w), body(-half_l, half_w), body(-half_l, -half_w),
                   body(half_l, -half_w)]
        pg.draw.polygon(self.surface, colour, outline)
        front, back = 0.68 * half_l, 0.28 * half_l
        windscreen = [body(front, 0.8 * half_w), body(back, 0.85 * half_w),
                      body(back, -0.85 * half_w), body(front, -0.8 * half_w)]
        pg.draw.polygon(self.surface, WINDSCREEN, windscreen)
        for side in (-1.0, 1.0):
            pg.draw.circle(self.surface, HEADLIGHT, body(half_l - 0.25, side * 0.6 * half_w),
                           max(1.5, 0.25 * view.scale))
        pg.draw.polygon(self.surface, CAR_EDGE, outline, 1)


def _text(pygame: Any, surface: Any, font: Any, text: str, position: tuple[int, int],
          colour: tuple[int, int, int] = TEXT) -> None:
    """Text with a 1-px shadow, legible on any background."""
    shadow = font.render(text, True, TEXT_SHADOW)
    surface.blit(shadow, (position[0] + 1, position[1] + 1))
    surface.blit(font.render(text, True, colour), position)


def _pixels(pygame: Any, surface: Any) -> np.ndarray:
    """The surface's pixels as a writable (H, W, 3) uint8 array."""
    width, height = surface.get_size()
    data = pygame.image.tobytes(surface, "RGB")
    return np.frombuffer(data, np.uint8).reshape(height, width, 3).copy()


def _import_pygame() -> Any:
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import pygame

    pygame.font.init()
    return pygame


class CityRenderer:
    """Draws frames of a city world in ``rgb_array`` or ``human`` mode: a car-centred
    view with a minimap and a HUD."""

    def __init__(self, render_mode: str, fps: int, width_px: int = WIDTH_PX,
                 height_px: int = HEIGHT_PX, px_per_m: float = PX_PER_M) -> None:
        pygame = _import_pygame()
        self.pygame = pygame
        self.render_mode = render_mode
        self.fps = fps
        self.size = (width_px, height_px)
        self.scale = px_per_m
        self.font = pygame.font.Font(None, 20)
        self.big_font = pygame.font.Font(None, 40)
        if render_mode == "human":
            pygame.display.init()
            pygame.display.set_caption("CityDriving-v0")
            self.window = pygame.display.set_mode(self.size)
            self.clock = pygame.time.Clock()
        self.surface = pygame.Surface(self.size)
        self.overlay = pygame.Surface(self.size, pygame.SRCALPHA)
        self._minimap_key: object = None
        self._minimap: Any = None
        self._minimap_view: View | None = None
        #: Screen rectangles of the minimap and the HUD, which the pointer avoids.
        self._panels: list[tuple[int, int, int, int]] = []
        #: The other cars at the last frame: ``(traffic, time [s], speeds [m/s], braking)``.
        self._last_traffic: tuple[Traffic, float, np.ndarray, np.ndarray] | None = None

    def view(self, world: CityWorld) -> View:
        """The main view of ``world``'s frame: centred on the car."""
        return car_view(world, *self.size, self.scale)

    def render(self, world: CityWorld) -> np.ndarray | None:
        """Draw ``world``; return the frame (H, W, 3) uint8 in ``rgb_array`` mode."""
        pygame = self.pygame
        view = self.view(world)
        painter = _Painter(pygame, self.surface, view, world)
        painter.ground()
        painter.markings()
        painter.crosswalks()
        painter.barriers()
        self.overlay.fill((0, 0, 0, 0))
        painter.route(self.overlay)
        painter.destination(self.overlay)
        self.surface.blit(self.overlay, (0, 0))
        painter.lights()
        painter.traffic(self._braking(world))
        painter.pedestrians()
        painter.destination_marker()
        painter.car()
        self._panels.clear()
        self._draw_minimap(world, view)
        self._draw_hud(world)
        self._destination_pointer(world, view)
        if self.render_mode == "human":
            pygame.event.pump()
            self.window.blit(self.surface, (0, 0))
            pygame.display.flip()
            self.clock.tick(self.fps)
            return None
        return _pixels(pygame, self.surface)

    def _braking(self, world: CityWorld) -> np.ndarray:
        """Which other cars show brake lights: the stopped ones, and those that slowed
        harder than ``BRAKING_DECELERATION_MPS2`` since the last frame, if that frame was
        of the same cars at most ``BRAKING_WINDOW_S`` ago."""
        traffic, time_s = world.traffic, world.time_s
        speeds = np.array(traffic.v, float)
        slowing = np.zeros(len(speeds), bool)
        last = self._last_traffic
        if last is not None and last[0] is traffic and len(last[2]) == len(speeds):
            elapsed = time_s - last[1]
            if elapsed == 0.0:  # the same state drawn again
                slowing = last[3]
            elif 0.0 < elapsed <= BRAKING_WINDOW_S:
                slowing = (last[2] - speeds) > BRAKING_DECELERATION_MPS2 * elapsed
        self._last_traffic = (traffic, time_s, speeds, slowing)
        return slowing | (speeds < BRAKING_SPEED_MPS)

    def close(self) -> None:
        if self.render_mode == "human":
            self.pygame.display.quit()

    # ------------------------------------------------------------------ overlays
    def _destination_pointer(self, world: CityWorld, view: View) -> None:
        """An arrow at the frame's edge toward an off-screen destination, with the route's
        length; it keeps clear of the minimap and the HUD."""
        if world.arrived:
            return
        x, y = world.city.position(world.destination)
        if view.contains(x, y, 10):
            return
        pg = self.pygame
        cx, cy = view.width / 2, view.height / 2
        tx, ty = view.px(x, y)
        dx, dy = tx - cx, ty - cy
        inset = 28
        reach = min((cx - inset) / abs(dx) if dx else math.inf,
                    (cy - inset) / abs(dy) if dy else math.inf)
        px, py = cx + dx * reach, cy + dy * reach
        for left, top, width, height in self._panels:
            x0, y0 = left - inset, top - inset
            x1, y1 = left + width + inset, top + height + inset
            if x0 < px < x1 and y0 < py < y1:
                # Slide along the frame's edge to just beside the panel.
                if min(abs(py - inset), abs(py - (view.height - inset))) < 1.0:
                    px = min((v for v in (x0, x1) if inset <= v <= view.width - inset),
                             key=lambda v: abs(v - px), default=px)
                else:
                    py = min((v for v in (y0, y1) if inset <= v <= view.height - inset),
                             key=lambda v: abs(v - py), default=py)
        norm = math.hypot(tx - px, ty - py)
        ux, uy = (tx - px) / norm, (ty - py) / norm
        size = 18
        dart = [(px + ux * size, py + uy * size), (px - uy * 10, py + ux * 10),
                (px + ux * 6, py + uy * 6), (px + uy * 10, py - ux * 10)]
        pg.draw.polygon(self.surface, DESTINATION, dart)
        pg.draw.polygon(self.surface, TEXT, dart, 2)
        label = f"{world.readings.route_distance:.0f} m"
        image = self.font.render(label, True, TEXT)
        lx = min(max(px - ux * 24 - image.get_width() / 2, 4), view.width - image.get_width() - 4)
        ly = min(max(py - uy * 24 - image.get_height() / 2, 4),
                 view.height - image.get_height() - 4)
        _text(pg, self.surface, self.font, label, (round(lx), round(ly)))

    def _draw_minimap(self, world: CityWorld, view: View) -> None:
        """The whole city in the top-right corner: streets, route, destination, car and
        the main view's outline."""
        pg = self.pygame
        key = (world.city, world.half_width)
        if key != self._minimap_key:
            self._minimap_key = key
            self._minimap_view = map_view(world.city, world.half_width, MINIMAP_PX, 6)
            self._minimap = _minimap_base(pg, world, self._minimap_view)
        mini, mview = self._minimap.copy(), self._minimap_view
        points = [mview.px(*p) for p in route_points(world)]
        if len(points) >= 2:
            pg.draw.lines(mini, ROUTE, False, points, 3)
        _traffic_dots(mini, mview, world.traffic)
        if not world.arrived:
            dx, dy = mview.px(*world.city.position(world.destination))
            pg.draw.circle(mini, DESTINATION, (dx, dy), 6, 2)
        x0, y0, x1, y1 = view.bounds
        pg.draw.rect(mini, MINIMAP_FRAME, mview.rect((x0, y0, x1, y1)), 1)
        car = mview.px(world.car.x, world.car.y)
        pg.draw.circle(mini, CAR_SLIPPING if world.car.slipping else CAR, car, 4)
        pg.draw.circle(mini, CAR_EDGE, car, 4, 1)
        pg.draw.rect(mini, MINIMAP_FRAME, mini.get_rect(), 1)
        corner = (view.width - MINIMAP_PX - MINIMAP_MARGIN_PX, MINIMAP_MARGIN_PX)
        self.surface.blit(mini, corner)
        self._panels.append((*corner, MINIMAP_PX, MINIMAP_PX))

    def _draw_hud(self, world: CityWorld) -> None:
        """Speed, time, grip, driving side, route left and infraction counts, top left."""
        pg, car, ctx = self.pygame, world.car, world.context
        limit = ctx.speed_limit_mps * 3.6
        collisions = sum(n for name, n in world.counts.items() if name.startswith("collision"))
        lines = [
            f"speed {car.speed * 3.6:5.1f} km/h (limit {limit:.0f})   time {world.time_s:6.1f} s",
            f"grip {ctx.friction:.2f}{'  SLIPPING' if car.slipping else ''}   "
            f"drive on the {world.side}   route left {world.readings.route_distance:.0f} m",
            "   ".join([*(f"{label} {world.counts[name]}"
                         for name, label in INFRACTION_LABELS.items()),
                        f"collisions {collisions}"]),
        ]
        width = max(self.font.size(line)[0] for line in lines) + 16
        panel = pg.Surface((width, 16 * len(lines) + 10), pg.SRCALPHA)
        panel.fill((0, 0, 0, 150))
        self.surface.blit(panel, (6, 6))
        self._panels.append((6, 6, *panel.get_size()))
        for row, text in enumerate(lines):
            _text(pg, self.surface, self.font, text, (14, 12 + 16 * row))
        banner = "ARRIVED" if world.arrived else "COLLISION" if world.collided else None
        if banner:
            image = self.big_font.render(banner, True, TEXT)
            x = (self.size[0] - image.get_width()) // 2
            back = pg.Surface((image.get_width() + 24, image.get_height() + 12), pg.SRCALPHA)
            back.fill((0, 0, 0, 160))
            self.surface.blit(back, (x - 12, self.size[1] - image.get_height() - 36))
            self.surface.blit(image, (x, self.size[1] - image.get_height() - 30))


def _traffic_dots(surface: Any, view: View, traffic: Traffic) -> None:
    """The other cars as 2x2-pixel dots on a small map ``surface`` seen through ``view``."""
    if not len(traffic.x):
        return
    columns = np.floor(view.width / 2 + (traffic.x - view.centre_x) * view.scale - 0.5)
    rows = np.floor(view.height / 2 - (traffic.y - view.centre_y) * view.scale - 0.5)
    fill = surface.fill
    for column, row in zip(columns.astype(int).tolist(), rows.astype(int).tolist(),
                           strict=True):
        fill(MINIMAP_TRAFFIC, (column, row, 2, 2))


def _minimap_base(pygame: Any, world: CityWorld, view: View) -> Any:
    """The minimap's fixed part: background and streets (closed ones in orange)."""
    surface = pygame.Surface((view.width, view.height))
    surface.fill(MINIMAP_BACK)
    city = world.city
    for street in city.streets:
        a, b = view.px(*city.position(street.a)), view.px(*city.position(street.b))
        if street.closed:
            pygame.draw.line(surface, BARRIER, a, b, 1)
        else:
            pygame.draw.line(surface, MINIMAP_STREET, a, b, 2)
    for node in city.lights:
        pygame.draw.circle(surface, (200, 200, 200), view.px(*city.position(node)), 1)
    return surface


def render_map_image(world: CityWorld, size_px: int = 800) -> np.ndarray:
    """The whole city of ``world`` fitted to a ``size_px`` square frame, as (H, W, 3) uint8:
    roads, markings, roadworks, lights, the route, the destination, the other cars, the
    car, and the column and row numbers of the intersections along the bottom and left
    edges (crosswalks and pedestrians too, where the frame is large enough to show them)."""
    pygame = _import_pygame()
    pad = 26
    view = map_view(world.city, world.half_width, size_px, pad)
    surface = pygame.Surface((size_px, size_px))
    overlay = pygame.Surface((size_px, size_px), pygame.SRCALPHA)
    painter = _Painter(pygame, surface, view, world)
    painter.ground()
    painter.markings()
    painter.crosswalks()
    painter.barriers()
    painter.route(overlay)
    painter.destination(overlay)
    surface.blit(overlay, (0, 0))
    painter.lights()
    painter.traffic()
    painter.pedestrians()
    painter.destination_marker()
    painter.car()
    font = pygame.font.Font(None, 20)
    city = world.city
    for column, x in enumerate(city.column_x_m):
        image = font.render(str(column), True, TEXT)
        px = view.px(x, 0.0)[0] - image.get_width() / 2
        _text(pygame, surface, font, str(column), (round(px), size_px - image.get_height() - 4))
    for row, y in enumerate(city.row_y_m):
        image = font.render(str(row), True, TEXT)
        py = view.px(0.0, y)[1] - image.get_height() / 2
        _text(pygame, surface, font, str(row), (6, round(py)))
    title = city.name or "city"
    _text(pygame, surface, font, f"{title}: columns 0-{city.n_columns - 1} west to east, "
                                 f"rows 0-{city.n_rows - 1} south to north", (30, 6))
    return _pixels(pygame, surface)
