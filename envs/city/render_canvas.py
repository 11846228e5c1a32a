"""What every city drawing step shares: the surface it draws on, pygame, text, pixels
and a per-city cache of the static geometry it draws."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from exgen.envs.city.render_style import DETAIL_PX_PER_M, TEXT, TEXT_SHADOW
from exgen.envs.city.render_view import Point, View

if TYPE_CHECKING:
    from exgen.envs.city.city_map import CityMap
    from exgen.envs.city.world import CityWorld


@dataclass
class Canvas:
    """One surface of pygame (``pg``), drawn through one view of one world."""

    pg: Any
    surface: Any
    view: View
    world: CityWorld

    @property
    def detail(self) -> bool:
        """Whether the scale shows lane dividers, stop lines, zebras and pedestrians."""
        return self.view.scale >= DETAIL_PX_PER_M

    def width(self, metres: float, least: int = 1) -> int:
        """A line width [px] for ``metres``, at least ``least``."""
        return max(least, round(metres * self.view.scale))

    def line(self, colour: tuple[int, ...], a: Point, b: Point, width: int) -> None:
        """A line between two points [m], ``width`` [px] wide."""
        self.pg.draw.line(self.surface, colour, self.view.px(*a), self.view.px(*b), width)


def cache_by_city(function: Any) -> Any:
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


def draw_text(surface: Any, font: Any, text: str, position: tuple[int, int],
              colour: tuple[int, int, int] = TEXT) -> None:
    """Text with a 1-px shadow, legible on any background."""
    shadow = font.render(text, True, TEXT_SHADOW)
    surface.blit(shadow, (position[0] + 1, position[1] + 1))
    surface.blit(font.render(text, True, colour), position)


def pixels(pygame: Any, surface: Any) -> np.ndarray:
    """The surface's pixels as a writable (H, W, 3) uint8 array."""
    width, height = surface.get_size()
    data = pygame.image.tobytes(surface, "RGB")
    return np.frombuffer(data, np.uint8).reshape(height, width, 3).copy()


def import_pygame() -> Any:
    """pygame with its fonts ready, imported on the first frame only."""
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import pygame

    pygame.font.init()
    return pygame
