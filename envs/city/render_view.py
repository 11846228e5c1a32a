"""The window a city frame shows: north-up views from world metres to frame pixels."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from exgen.envs.city import public

if TYPE_CHECKING:
    from exgen.envs.city.city_map import CityMap
    from exgen.envs.city.world import CityWorld

#: Main view: frame size [px] and scale [px/m].
WIDTH_PX = 800
HEIGHT_PX = 600
PX_PER_M = 5.0

Point = tuple[float, float]


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
