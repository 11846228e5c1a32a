"""Draw a :class:`~exgen.envs.city.world.CityWorld` top-down with pygame, headless or in a window.

pygame is imported only when an env first renders. North is up. The main view follows
the car at ``PX_PER_M``; a minimap in a corner shows the whole city, the route and the
destination; a HUD line gives the speed, time, grip, driving side and infractions.
Only what lies within the view is drawn, so a 20x20 city renders as fast as a small
one. :func:`render_map_image` draws a whole city fitted to a square frame.

Frames are drawn from the world's state itself, in layers, by role:

- ``render_roads``: sidewalks, buildings, lane markings, zebra crosswalks, roadworks;
- ``render_route``: the route the navigation follows and the destination;
- ``render_lights``: stop lines and lights in the colour ``world.light`` gives;
- ``render_road_users``: the other cars, the pedestrians and the car;
- ``render_hud``: the minimap, the HUD and the pointer to the destination.

``render_view`` maps metres to pixels, ``render_canvas`` holds what the layers share
and ``render_style`` their colours and sizes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from exgen.envs.city.render_canvas import Canvas, draw_text, import_pygame, pixels
from exgen.envs.city.render_hud import Minimap, Panel, draw_destination_pointer, draw_hud
from exgen.envs.city.render_lights import draw_lights
from exgen.envs.city.render_road_users import BrakeLights, draw_car, draw_pedestrians, draw_traffic
from exgen.envs.city.render_roads import (
    draw_barriers,
    draw_crosswalks,
    draw_ground,
    draw_markings,
)
from exgen.envs.city.render_route import (
    draw_destination_area,
    draw_destination_marker,
    draw_route,
)
from exgen.envs.city.render_style import TEXT
from exgen.envs.city.render_view import HEIGHT_PX, PX_PER_M, WIDTH_PX, View, car_view, map_view

if TYPE_CHECKING:
    from exgen.envs.city.world import CityWorld

#: Margin of the whole-city image around the city [px]: room for the row and column numbers.
MAP_PAD_PX = 26


def draw_scene(canvas: Canvas, overlay: Any, braking: np.ndarray | None = None) -> None:
    """Every layer of the world under the HUD, bottom first; the route and the
    destination's tint go through ``overlay`` (a clear per-pixel-alpha surface the size
    of the frame); ``braking``: which other cars show brake lights (default: the
    stopped ones)."""
    draw_ground(canvas)
    draw_markings(canvas)
    draw_crosswalks(canvas)
    draw_barriers(canvas)
    draw_route(canvas, overlay)
    draw_destination_area(canvas, overlay)
    canvas.surface.blit(overlay, (0, 0))
    draw_lights(canvas)
    draw_traffic(canvas, braking)
    draw_pedestrians(canvas)
    draw_destination_marker(canvas)
    draw_car(canvas)


class CityRenderer:
    """Draws frames of a city world in ``rgb_array`` or ``human`` mode: a car-centred
    view with a minimap and a HUD."""

    def __init__(self, render_mode: str, fps: int, width_px: int = WIDTH_PX,
                 height_px: int = HEIGHT_PX, px_per_m: float = PX_PER_M) -> None:
        pygame = import_pygame()
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
        self.minimap = Minimap()
        self.brake_lights = BrakeLights()

    def view(self, world: CityWorld) -> View:
        """The main view of ``world``'s frame: centred on the car."""
        return car_view(world, *self.size, self.scale)

    def render(self, world: CityWorld) -> np.ndarray | None:
        """Draw ``world``; return the frame (H, W, 3) uint8 in ``rgb_array`` mode."""
        pygame, surface = self.pygame, self.surface
        view = self.view(world)
        self.overlay.fill((0, 0, 0, 0))
        draw_scene(Canvas(pygame, surface, view, world), self.overlay,
                   self.brake_lights.update(world))
        panels: list[Panel] = [self.minimap.draw(pygame, surface, world, view),
                               draw_hud(pygame, surface, self.font, self.big_font, world)]
        draw_destination_pointer(pygame, surface, self.font, world, view, panels)
        if self.render_mode == "human":
            pygame.event.pump()
            self.window.blit(surface, (0, 0))
            pygame.display.flip()
            self.clock.tick(self.fps)
            return None
        return pixels(pygame, surface)

    def close(self) -> None:
        if self.render_mode == "human":
            self.pygame.display.quit()


def render_map_image(world: CityWorld, size_px: int = 800) -> np.ndarray:
    """The whole city of ``world`` fitted to a ``size_px`` square frame, as (H, W, 3) uint8:
    roads, markings, roadworks, lights, the route, the destination, the other cars, the
    car, and the column and row numbers of the intersections along the bottom and left
    edges (crosswalks and pedestrians too, where the frame is large enough to show them)."""
    pygame = import_pygame()
    view = map_view(world.city, world.half_width, size_px, MAP_PAD_PX)
    surface = pygame.Surface((size_px, size_px))
    overlay = pygame.Surface((size_px, size_px), pygame.SRCALPHA)
    draw_scene(Canvas(pygame, surface, view, world), overlay)
    font = pygame.font.Font(None, 20)
    city = world.city
    for column, x in enumerate(city.column_x_m):
        image = font.render(str(column), True, TEXT)
        px = view.px(x, 0.0)[0] - image.get_width() / 2
        draw_text(surface, font, str(column), (round(px), size_px - image.get_height() - 4))
    for row, y in enumerate(city.row_y_m):
        image = font.render(str(row), True, TEXT)
        py = view.px(0.0, y)[1] - image.get_height() / 2
        draw_text(surface, font, str(row), (6, round(py)))
    title = city.name or "city"
    draw_text(surface, font, f"{title}: columns 0-{city.n_columns - 1} west to east, "
                             f"rows 0-{city.n_rows - 1} south to north", (30, 6))
    return pixels(pygame, surface)
