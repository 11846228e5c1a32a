"""The route and the destination in a city frame: the path the navigation follows
(``world.arc`` then ``world.next_hop``) along the lanes, the destination intersection
tinted, ringed and flagged."""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING, Any

from exgen.envs.city import public
from exgen.envs.city.render_canvas import Canvas
from exgen.envs.city.render_style import DESTINATION, DESTINATION_ALPHA, ROUTE, ROUTE_ALPHA
from exgen.envs.city.render_view import Point

if TYPE_CHECKING:
    from exgen.envs.city.city_map import CityMap
    from exgen.envs.city.world import CityWorld


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


def draw_route(canvas: Canvas, overlay: Any) -> None:
    """The route on ``overlay`` (a per-pixel-alpha surface the size of the frame)."""
    points = [canvas.view.px(*p) for p in route_points(canvas.world)]
    if len(points) < 2:
        return
    colour = (*ROUTE, ROUTE_ALPHA)
    half = canvas.width(1.6, 5) / 2
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        length = math.hypot(x1 - x0, y1 - y0)
        if length < 1e-6:
            continue
        nx, ny = (y0 - y1) / length * half, (x1 - x0) / length * half
        canvas.pg.draw.polygon(overlay, colour, [(x0 + nx, y0 + ny), (x1 + nx, y1 + ny),
                                                 (x1 - nx, y1 - ny), (x0 - nx, y0 - ny)])
    for point in points[1:-1]:
        canvas.pg.draw.circle(overlay, colour, point, half)


def draw_destination_area(canvas: Canvas, overlay: Any) -> None:
    """The destination intersection's square, tinted, on ``overlay``."""
    world, view = canvas.world, canvas.view
    x, y = world.city.position(world.destination)
    hw = world.half_width
    canvas.pg.draw.rect(overlay, (*DESTINATION, DESTINATION_ALPHA),
                        view.rect((x - hw, y - hw, x + hw, y + hw)))


def draw_destination_marker(canvas: Canvas) -> None:
    """A ring around the destination intersection and a chequered flag at its centre."""
    world, view, pg = canvas.world, canvas.view, canvas.pg
    x, y = world.city.position(world.destination)
    hw = world.half_width
    if not view.contains(x, y, -(hw + 10) * view.scale - 40):
        return
    centre = view.px(x, y)
    ring = max(8, round((hw + 1.5) * view.scale))
    pg.draw.circle(canvas.surface, DESTINATION, centre, ring, max(3, round(0.5 * view.scale)))
    _flag(canvas, centre)


def _flag(canvas: Canvas, base: Point) -> None:
    """A chequered flag [px] planted at ``base``."""
    pg, surface = canvas.pg, canvas.surface
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
