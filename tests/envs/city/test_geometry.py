"""Geometry of the city shared by the renderer and the raster: the lit approaches."""

import numpy as np
import pytest

from exgen.envs.city import public
from exgen.envs.city.city_map import generate_map
from exgen.envs.city.geometry import light_approaches
from exgen.envs.city.raster import LIGHT_STRIP_M, _approaches
from exgen.envs.city.render_lights import light_layout


def city(seed: int = 3):
    """A 5x5 city, every intersection of 3 or more streets lit, many one-way streets."""
    return generate_map(seed, 5, 5, 40.0, 90.0, 0.1, 0.4, 0.03, 0.2, 1.0)


@pytest.mark.parametrize("side", ["right", "left"])
def test_every_open_arc_into_a_lit_intersection_is_one_approach(side):
    town = city()
    approaches = light_approaches(town, 3.5, side)
    expected = [(u, v) for s in town.streets for u, v in s.directions() if v in town.lights]
    assert [(a.origin, a.node) for a in approaches] == expected
    for a in approaches:
        (x, y), (ox, oy) = town.position(a.node), town.position(a.origin)
        assert (a.x, a.y) == (x, y) and a.length_m == town.length(a.origin, a.node)
        assert np.hypot(a.dx, a.dy) == 1.0 and (a.dx * (x - ox) + a.dy * (y - oy)) > 0
        assert (a.nx, a.ny) == public.side_normal(a.dx, a.dy, side)
        assert a.axis == (0 if a.dy == 0.0 else 1)


def test_points_are_measured_back_from_the_node_and_toward_the_driving_side():
    a = light_approaches(city(), 3.5, "right")[0]
    x, y = a.point(10.0, 2.0)
    assert np.isclose((a.x - x) * a.dx + (a.y - y) * a.dy, 10.0)
    assert np.isclose((x - a.x) * a.nx + (y - a.y) * a.ny, 2.0)


def test_a_one_way_street_spans_the_whole_road_a_two_way_one_its_half():
    approaches = light_approaches(city(), 3.5, "right")
    one_way = [a for a in approaches if a.one_way]
    two_way = [a for a in approaches if not a.one_way]
    assert one_way and two_way
    assert {a.lane_span(0.15) for a in one_way} == {(-3.5, 3.5)}
    assert {a.lane_span(0.15) for a in two_way} == {(0.15, 3.5)}
    assert {a.lane_span() for a in two_way} == {(0.0, 3.5)}


def test_the_renderer_and_the_raster_draw_the_same_approaches():
    town, half_width = city(), 3.5
    layout = light_layout(town, half_width, "left")
    boxes, nodes, axes = _approaches(town, half_width, "left")
    assert sorted((n, a) for n, a, _, _ in layout.spots) == sorted(
        zip(nodes.tolist(), axes.tolist(), strict=True))
    # Each strip reaches at most LIGHT_STRIP_M along its approach and spans its lanes.
    approaches = sorted(light_approaches(town, half_width, "left"), key=lambda a: a.node)
    for box, approach in zip(boxes, approaches, strict=True):
        along = box[2] - box[0] if approach.axis == 0 else box[3] - box[1]
        across = box[3] - box[1] if approach.axis == 0 else box[2] - box[0]
        inner, outer = approach.lane_span()
        assert along <= LIGHT_STRIP_M and np.isclose(across, outer - inner)
