"""Draw a :class:`~exgen.envs.lunar.world.LanderWorld` with pygame, headless or in a window.

pygame is imported here only, when an env first renders. Frames are drawn from the
physics state itself, so a frame shows exactly where the bodies are.
"""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING

import numpy as np

from exgen.envs.lunar.public import WORLD_HEIGHT_M, WORLD_WIDTH_M
from exgen.envs.lunar.world import HULL_VERTICES_M, PAD_Y_M, SIDE_ENGINE_HEIGHT_M

if TYPE_CHECKING:
    from exgen.envs.lunar.world import LanderWorld

#: Frame size [px] and scale [px/m], as LunarLander-v3.
WIDTH_PX = 600
HEIGHT_PX = 400
PX_PER_M = WIDTH_PX / WORLD_WIDTH_M

SKY = (14, 16, 38)
STAR = (120, 124, 160)
GROUND = (112, 106, 98)
GROUND_EDGE = (190, 182, 170)
PAD = (240, 200, 60)
HULL = (128, 102, 230)
HULL_EDGE = (77, 77, 128)
LEG = (160, 140, 235)
LEG_TOUCHING = (110, 220, 120)
FLAME = (255, 150, 40)
FLAME_CORE = (255, 240, 170)
TEXT = (225, 228, 240)
WIND = (120, 200, 255)


class LanderRenderer:
    """Draws frames of a lander world in ``rgb_array`` or ``human`` mode."""

    def __init__(self, render_mode: str, fps: int) -> None:
        os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
        import pygame

        self.pygame = pygame
        self.render_mode = render_mode
        self.fps = fps
        pygame.font.init()
        self.font = pygame.font.Font(None, 20)
        if render_mode == "human":
            pygame.display.init()
            pygame.display.set_caption("LunarLanding-v0")
            self.window = pygame.display.set_mode((WIDTH_PX, HEIGHT_PX))
            self.clock = pygame.time.Clock()
        self.surface = pygame.Surface((WIDTH_PX, HEIGHT_PX))
        stars = np.random.default_rng(7).uniform(0, 1, (60, 2))
        self.stars = [(int(x * WIDTH_PX), int(y * HEIGHT_PX * 0.7)) for x, y in stars]

    def render(self, world: LanderWorld) -> np.ndarray | None:
        """Draw ``world``; return the frame (H, W, 3) uint8 in ``rgb_array`` mode."""
        pygame = self.pygame
        surface = self.surface
        surface.fill(SKY)
        for star in self.stars:
            surface.set_at(star, STAR)
        self._draw_terrain(world)
        self._draw_flames(world)
        self._draw_lander(world)
        self._draw_hud(world)
        if self.render_mode == "human":
            pygame.event.pump()
            self.window.blit(surface, (0, 0))
            pygame.display.flip()
            self.clock.tick(self.fps)
            return None
        return np.transpose(pygame.surfarray.array3d(surface), (1, 0, 2))

    def close(self) -> None:
        if self.render_mode == "human":
            self.pygame.display.quit()

    # ----------------------------------------------------------------- drawing
    def _draw_terrain(self, world: LanderWorld) -> None:
        gfx = self._gfxdraw()
        outline = [_to_px(p) for p in world.terrain_points]
        polygon = [(0, HEIGHT_PX), *outline, (WIDTH_PX, HEIGHT_PX)]
        gfx.filled_polygon(self.surface, polygon, GROUND)
        self.pygame.draw.lines(self.surface, GROUND_EDGE, False, outline, 2)
        left, right = _to_px((world.pad_left, PAD_Y_M)), _to_px((world.pad_right, PAD_Y_M))
        self.pygame.draw.line(self.surface, PAD, left, right, 4)
        for x, y in (left, right):
            self.pygame.draw.line(self.surface, TEXT, (x, y), (x, y - 25), 1)
            gfx.filled_polygon(self.surface, [(x, y - 25), (x, y - 17), (x + 12, y - 21)], PAD)

    def _draw_lander(self, world: LanderWorld) -> None:
        gfx = self._gfxdraw()
        for leg, shape, touching in zip(world.legs, world.leg_shapes, world.leg_contacts,
                                        strict=True):
            start = _to_px(leg.local_to_world(shape.a))
            end = _to_px(leg.local_to_world(shape.b))
            width = max(2, round(2 * shape.radius * PX_PER_M))
            self.pygame.draw.line(self.surface, LEG_TOUCHING if touching else LEG, start, end,
                                  width)
        hull = world.hull
        points = [_to_px(hull.local_to_world(v)) for v in HULL_VERTICES_M]
        gfx.filled_polygon(self.surface, points, HULL)
        gfx.aapolygon(self.surface, points, HULL_EDGE)

    def _draw_flames(self, world: LanderWorld) -> None:
        gfx = self._gfxdraw()
        hull = world.hull
        main, side = world.throttles
        if main > 0:
            length = 0.35 + 0.55 * main
            flame = [(-0.18, -0.33), (0.18, -0.33), (0.0, -0.33 - length)]
            core = [(-0.08, -0.33), (0.08, -0.33), (0.0, -0.33 - 0.6 * length)]
            gfx.filled_polygon(self.surface, [_to_px(hull.local_to_world(p)) for p in flame],
                               FLAME)
            gfx.filled_polygon(self.surface, [_to_px(hull.local_to_world(p)) for p in core],
                               FLAME_CORE)
        if side != 0:
            # The left engine (side < 0) pushes the hull left: its jet points right.
            direction = 1.0 if side < 0 else -1.0
            base = 0.57 * direction
            tip = base + direction * (0.15 + 0.3 * abs(side))
            h = SIDE_ENGINE_HEIGHT_M - 0.15
            flame = [(base, h - 0.07), (base, h + 0.07), (tip, h)]
            gfx.filled_polygon(self.surface, [_to_px(hull.local_to_world(p)) for p in flame],
                               FLAME)

    def _draw_hud(self, world: LanderWorld) -> None:
        ctx = world.context
        speed = math.hypot(*world.hull.velocity)
        fuel = f"{world.fuel:.2f} kg" if world.fuel_limited else "unlimited"
        lines = [f"gravity {ctx.gravity:.2f} m/s²", f"fuel {fuel}", f"speed {speed:.1f} m/s"]
        air = ctx.wind_speed + world.gust[0]
        if ctx.wind_speed or ctx.turbulence:
            lines.append(f"wind {air:+.1f} m/s")
        for row, text in enumerate(lines):
            image = self.font.render(text, True, TEXT)
            self.surface.blit(image, (8, 6 + 16 * row))
        if ctx.wind_speed or ctx.turbulence:
            x0, y = WIDTH_PX - 70, 14
            x1 = x0 + max(-40, min(40, round(3 * air)))
            self.pygame.draw.line(self.surface, WIND, (x0, y), (x1, y), 2)
            if x1 != x0:
                head = 6 if x1 > x0 else -6
                self.pygame.draw.polygon(self.surface, WIND,
                                         [(x1, y), (x1 - head, y - 4), (x1 - head, y + 4)])
        if world.hull.position.y > WORLD_HEIGHT_M:
            x = _to_px(world.hull.position)[0]
            self.pygame.draw.polygon(self.surface, HULL, [(x, 2), (x - 6, 12), (x + 6, 12)])

    def _gfxdraw(self):
        import pygame.gfxdraw

        return pygame.gfxdraw


def _to_px(point: tuple[float, float]) -> tuple[int, int]:
    """World metres to screen pixels (y down)."""
    return round(point[0] * PX_PER_M), round(HEIGHT_PX - point[1] * PX_PER_M)
