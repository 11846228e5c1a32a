"""Traffic lights of a city frame: a stop line across each lit approach's lanes and a
light disc on the sidewalk beside it, in the colour ``world.light`` gives."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from exgen.envs.city.geometry import light_approaches
from exgen.envs.city.render_canvas import Canvas, cache_by_city
from exgen.envs.city.render_style import (
    LANE_WHITE,
    LIGHT_COLOURS,
    LIGHT_HOUSING,
    LIGHT_RADIUS_M,
    LIGHT_RIM_M,
    LIGHT_SETBACK_M,
    STOP_LINE_CENTRE_GAP_M,
    STOP_LINE_M,
)
from exgen.envs.city.traffic import CROSSWALK_M

if TYPE_CHECKING:
    from exgen.envs.city.city_map import CityMap
    from exgen.envs.city.world import CityWorld


@dataclass(frozen=True)
class LightLayout:
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


@cache_by_city
def light_layout(city: CityMap, half_width: float, side: str) -> LightLayout:
    """Lights sit on the sidewalk beside their stop line, clear of the crosswalk and of
    the pedestrians waiting at its ends (``half_width`` [m]: the road's half width)."""
    hw, setback = half_width, LIGHT_SETBACK_M
    spots, lines = [], []
    for approach in light_approaches(city, half_width, side):
        x, y = approach.point(hw + CROSSWALK_M + setback, hw + setback)
        spots.append((approach.node, approach.axis, x, y))
        back = hw + CROSSWALK_M + STOP_LINE_M / 2
        inner, outer = approach.lane_span(STOP_LINE_CENTRE_GAP_M)
        lines.append((*approach.point(back, inner), *approach.point(back, outer)))
    return LightLayout(tuple(spots), np.array(lines, float).reshape(-1, 4))


def light_spots(world: CityWorld) -> tuple[tuple[int, int, float, float], ...]:
    """``(node, axis, x, y)``: where each approach's light is drawn [m], on the sidewalk
    where that approach's stop line meets the driving-side curb."""
    return light_layout(world.city, world.half_width, world.side).spots


def draw_lights(canvas: Canvas) -> None:
    """Stop lines across the approaching lanes, and each approach's light disc."""
    world, view, pg = canvas.world, canvas.view, canvas.pg
    layout = light_layout(world.city, world.half_width, world.side)
    if canvas.detail:
        width = canvas.width(STOP_LINE_M, 2)
        for i in view.visible(layout.stop_line_boxes):
            x0, y0, x1, y1 = layout.stop_lines[i]
            canvas.line(LANE_WHITE, (x0, y0), (x1, y1), width)
    radius = max(3, round(LIGHT_RADIUS_M * view.scale))
    rim = radius + max(1, round(LIGHT_RIM_M * view.scale))
    for i in view.visible(layout.boxes(rim / view.scale)):
        node, axis, x, y = layout.spots[i]
        centre = view.px(x, y)
        pg.draw.circle(canvas.surface, LIGHT_HOUSING, centre, rim)
        pg.draw.circle(canvas.surface, LIGHT_COLOURS[world.light(node, axis)], centre, radius)
