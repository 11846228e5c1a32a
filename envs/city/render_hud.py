"""What a city frame shows over the view: a minimap of the whole city (route,
destination, other cars, the view's outline), a HUD line of speed, time, grip, driving
side and infractions, a banner at the episode's end, and a pointer toward an
off-screen destination."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from exgen.envs.city.render_canvas import draw_text
from exgen.envs.city.render_route import route_points
from exgen.envs.city.render_style import (
    BARRIER,
    CAR,
    CAR_EDGE,
    CAR_SLIPPING,
    DESTINATION,
    MINIMAP_BACK,
    MINIMAP_FRAME,
    MINIMAP_LIGHT,
    MINIMAP_MARGIN_PX,
    MINIMAP_PX,
    MINIMAP_STREET,
    MINIMAP_TRAFFIC,
    ROUTE,
    TEXT,
)
from exgen.envs.city.render_view import View, map_view

if TYPE_CHECKING:
    from exgen.envs.city.traffic import Traffic
    from exgen.envs.city.world import CityWorld

#: HUD labels of the infraction counts; after them, all collisions (``collision_*``) as one.
INFRACTION_LABELS = {"red_light": "red lights", "wrong_lane": "wrong lane",
                     "off_road": "off road"}
#: Screen rectangle ``(left, top, width, height)`` [px].
Panel = tuple[int, int, int, int]


class Minimap:
    """The whole city in the frame's top-right corner; its streets are drawn once per
    city and kept."""

    def __init__(self) -> None:
        self._key: object = None
        self._base: Any = None
        self._view: View | None = None

    def draw(self, pg: Any, surface: Any, world: CityWorld, view: View) -> Panel:
        """Streets, route, other cars, destination, the main ``view``'s outline and the
        car onto ``surface``; return the minimap's screen rectangle."""
        key = (world.city, world.half_width)
        if key != self._key:
            self._key = key
            self._view = map_view(world.city, world.half_width, MINIMAP_PX, 6)
            self._base = _minimap_base(pg, world, self._view)
        mini, mview = self._base.copy(), self._view
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
        surface.blit(mini, corner)
        return (*corner, MINIMAP_PX, MINIMAP_PX)


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
        pygame.draw.circle(surface, MINIMAP_LIGHT, view.px(*city.position(node)), 1)
    return surface


def hud_lines(world: CityWorld) -> list[str]:
    """The HUD's text: speed and limit [km/h], time [s], grip, driving side, route left
    [m] and the infraction counts."""
    car, ctx = world.car, world.context
    limit = ctx.speed_limit_mps * 3.6
    collisions = sum(n for name, n in world.counts.items() if name.startswith("collision"))
    return [
        f"speed {car.speed * 3.6:5.1f} km/h (limit {limit:.0f})   time {world.time_s:6.1f} s",
        f"grip {ctx.friction:.2f}{'  SLIPPING' if car.slipping else ''}   "
        f"drive on the {world.side}   route left {world.readings.route_distance:.0f} m",
        "   ".join([*(f"{label} {world.counts[name]}"
                     for name, label in INFRACTION_LABELS.items()),
                    f"collisions {collisions}"]),
    ]


def draw_hud(pg: Any, surface: Any, font: Any, big_font: Any, world: CityWorld) -> Panel:
    """The HUD lines top left, and an ARRIVED or COLLISION banner at the bottom once the
    episode ends; return the HUD's screen rectangle."""
    lines = hud_lines(world)
    width = max(font.size(line)[0] for line in lines) + 16
    panel = pg.Surface((width, 16 * len(lines) + 10), pg.SRCALPHA)
    panel.fill((0, 0, 0, 150))
    surface.blit(panel, (6, 6))
    for row, text in enumerate(lines):
        draw_text(surface, font, text, (14, 12 + 16 * row))
    banner = "ARRIVED" if world.arrived else "COLLISION" if world.collided else None
    if banner:
        frame_width, frame_height = surface.get_size()
        image = big_font.render(banner, True, TEXT)
        x = (frame_width - image.get_width()) // 2
        back = pg.Surface((image.get_width() + 24, image.get_height() + 12), pg.SRCALPHA)
        back.fill((0, 0, 0, 160))
        surface.blit(back, (x - 12, frame_height - image.get_height() - 36))
        surface.blit(image, (x, frame_height - image.get_height() - 30))
    return (6, 6, *panel.get_size())


def draw_destination_pointer(pg: Any, surface: Any, font: Any, world: CityWorld, view: View,
                             panels: list[Panel]) -> None:
    """An arrow at the frame's edge toward an off-screen destination, with the route's
    length; it keeps clear of the ``panels`` (minimap, HUD)."""
    if world.arrived:
        return
    x, y = world.city.position(world.destination)
    if view.contains(x, y, 10):
        return
    cx, cy = view.width / 2, view.height / 2
    tx, ty = view.px(x, y)
    dx, dy = tx - cx, ty - cy
    inset = 28
    reach = min((cx - inset) / abs(dx) if dx else math.inf,
                (cy - inset) / abs(dy) if dy else math.inf)
    px, py = cx + dx * reach, cy + dy * reach
    for left, top, width, height in panels:
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
    pg.draw.polygon(surface, DESTINATION, dart)
    pg.draw.polygon(surface, TEXT, dart, 2)
    label = f"{world.readings.route_distance:.0f} m"
    image = font.render(label, True, TEXT)
    lx = min(max(px - ux * 24 - image.get_width() / 2, 4), view.width - image.get_width() - 4)
    ly = min(max(py - uy * 24 - image.get_height() / 2, 4),
             view.height - image.get_height() - 4)
    draw_text(surface, font, label, (round(lx), round(ly)))
