"""Who is on the road in a city frame: the car where the physics has it, the other cars
where ``world.traffic`` has them (brake lights on when one is stopped or slowing) and
the pedestrians where ``world.pedestrians`` has them."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from exgen.envs.city import public
from exgen.envs.city.render_canvas import Canvas
from exgen.envs.city.render_style import (
    BRAKE_LIGHT,
    BRAKING_DECELERATION_MPS2,
    BRAKING_SPEED_MPS,
    BRAKING_WINDOW_S,
    CAR,
    CAR_EDGE,
    CAR_SLIPPING,
    HEADLIGHT,
    PEDESTRIAN,
    PEDESTRIAN_AGAINST,
    PEDESTRIAN_DRAW_M,
    PEDESTRIAN_EDGE,
    PEDESTRIAN_MIN_PX,
    TRAFFIC_COLOURS,
    TRAFFIC_EDGE,
    TRAFFIC_WINDOW,
    WINDSCREEN,
)
from exgen.envs.city.render_view import Point

if TYPE_CHECKING:
    from exgen.envs.city.traffic import Traffic
    from exgen.envs.city.world import CityWorld

#: An other car's parts in its own frame, as fractions of its half length (along) and
#: half width (across): body, windscreen (its front mark) and the two brake lights.
_BODY = ((1.0, 1.0), (-1.0, 1.0), (-1.0, -1.0), (1.0, -1.0))
_WINDSCREEN = ((0.62, 0.8), (0.24, 0.86), (0.24, -0.86), (0.62, -0.8))
_BRAKE_LIGHTS = (((-0.8, 1.0), (-1.06, 1.0), (-1.06, 0.3), (-0.8, 0.3)),
                 ((-0.8, -0.3), (-1.06, -0.3), (-1.06, -1.0), (-0.8, -1.0)))


def traffic_colour(index: int) -> tuple[int, int, int]:
    """Body colour of the other car ``index``: the same car keeps its colour."""
    return TRAFFIC_COLOURS[index % len(TRAFFIC_COLOURS)]


def braking_by_speed(traffic: Traffic) -> np.ndarray:
    """Which other cars are stopped or nearly so: their brake lights are on."""
    return np.asarray(traffic.v) < BRAKING_SPEED_MPS


class BrakeLights:
    """Which other cars show brake lights, from one frame to the next: the stopped ones,
    and those that slowed harder than ``BRAKING_DECELERATION_MPS2`` since the last
    frame, if that frame was of the same cars at most ``BRAKING_WINDOW_S`` ago."""

    def __init__(self) -> None:
        #: The other cars at the last frame: ``(traffic, time [s], speeds [m/s], slowing)``.
        self._last: tuple[Traffic, float, np.ndarray, np.ndarray] | None = None

    def update(self, world: CityWorld) -> np.ndarray:
        """Per other car of ``world``, whether its brake lights are on in this frame."""
        traffic, time_s = world.traffic, world.time_s
        speeds = np.array(traffic.v, float)
        slowing = np.zeros(len(speeds), bool)
        last = self._last
        if last is not None and last[0] is traffic and len(last[2]) == len(speeds):
            elapsed = time_s - last[1]
            if elapsed == 0.0:  # the same state drawn again
                slowing = last[3]
            elif 0.0 < elapsed <= BRAKING_WINDOW_S:
                slowing = (last[2] - speeds) > BRAKING_DECELERATION_MPS2 * elapsed
        self._last = (traffic, time_s, speeds, slowing)
        return slowing | (speeds < BRAKING_SPEED_MPS)


def draw_traffic(canvas: Canvas, braking: np.ndarray | None = None) -> None:
    """The other cars in view: a body in the car's colour, a windscreen, brake lights
    where ``braking`` (default: the stopped cars) says; small on a map: dots."""
    traffic, view, pg, surface = canvas.world.traffic, canvas.view, canvas.pg, canvas.surface
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


def draw_pedestrians(canvas: Canvas) -> None:
    """The pedestrians in view: discs, in another colour while crossing against the
    signal; left out on a small map."""
    people = canvas.world.pedestrians
    if not canvas.detail or not people.count:
        return
    view, pg, surface = canvas.view, canvas.pg, canvas.surface
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


def draw_car(canvas: Canvas) -> None:
    """The car's body, a windscreen and headlights at its front; small on a map: an
    arrow head."""
    car, view, pg, surface = canvas.world.car, canvas.view, canvas.pg, canvas.surface
    colour = CAR_SLIPPING if car.slipping else CAR
    c, s = math.cos(car.heading), math.sin(car.heading)

    def body(along: float, across: float) -> Point:
        return view.px(car.x + c * along - s * across, car.y + s * along + c * across)

    half_l, half_w = public.CAR_LENGTH_M / 2, public.CAR_WIDTH_M / 2
    if public.CAR_LENGTH_M * view.scale < 14:
        size = 9.0 / view.scale
        arrow = [body(size, 0.0), body(-size * 0.7, size * 0.7), body(-size * 0.3, 0.0),
                 body(-size * 0.7, -size * 0.7)]
        pg.draw.polygon(surface, colour, arrow)
        pg.draw.polygon(surface, CAR_EDGE, arrow, 1)
        return
    outline = [body(half_l, half_w), body(-half_l, half_w), body(-half_l, -half_w),
               body(half_l, -half_w)]
    pg.draw.polygon(surface, colour, outline)
    front, back = 0.68 * half_l, 0.28 * half_l
    windscreen = [body(front, 0.8 * half_w), body(back, 0.85 * half_w),
                  body(back, -0.85 * half_w), body(front, -0.8 * half_w)]
    pg.draw.polygon(surface, WINDSCREEN, windscreen)
    for side in (-1.0, 1.0):
        pg.draw.circle(surface, HEADLIGHT, body(half_l - 0.25, side * 0.6 * half_w),
                       max(1.5, 0.25 * view.scale))
    pg.draw.polygon(surface, CAR_EDGE, outline, 1)
