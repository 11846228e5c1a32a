"""The world: lane geometry per driving side, lights, infractions, lidar, routes."""

import math

import numpy as np
import pytest

from exgen.envs.city import CityConfig, public
from exgen.envs.city.kernels import cast_rays, rectangle_hits_boxes
from exgen.envs.city.map_file import parse_map
from exgen.envs.city.vehicle import VehicleState
from exgen.envs.city.world import CityWorld

#: Three intersections in a row, 60 m apart, the middle one with lights; a side street.
STRIP = """columns_m: 60 60
rows_m: 50
map:
+---L---+
    |
    +
"""


def world_on_strip(**fields) -> CityWorld:
    config = CityConfig(start=(0, 1), destination=(2, 1), **fields)
    return CityWorld(parse_map(STRIP), config, np.random.default_rng(0), lidar_rays=8)


def place(world: CityWorld, x: float, y: float, heading: float, speed: float = 0.0) -> None:
    world.car = VehicleState(x, y, heading, speed=speed)
    world.update()


@pytest.mark.parametrize("side, lane_y", [("right", -1.75), ("left", 1.75)])
def test_the_car_starts_in_the_lane_of_its_driving_side(side, lane_y):
    world = world_on_strip(driving_side=side)
    assert world.car.heading == 0.0  # eastward, toward the destination
    assert world.car.y - 50.0 == pytest.approx(lane_y)
    assert world.readings.lane_offset == pytest.approx(0.0)


def test_left_hand_driving_mirrors_lanes_and_offsets():
    for side, sign in (("right", 1.0), ("left", -1.0)):
        world = world_on_strip(driving_side=side)
        # 1 m north of the centre line, heading east.
        place(world, 20.0, 51.0, 0.0)
        lane_centre = -1.75 * sign
        assert world.readings.lane_offset == pytest.approx(1.0 - lane_centre)
        assert (world.counts["wrong_lane"] == 1) == (side == "right")
    assert public.side_normal(1.0, 0.0, "right") == (0.0, -1.0)
    assert public.side_normal(1.0, 0.0, "left") == (-0.0, 1.0)


def test_lights_never_show_two_conflicting_greens():
    for green, amber, red in [(12.0, 3.0, 1.0), (5.0, 2.0, 0.0), (30.0, 4.0, 2.0)]:
        for t in np.linspace(0.0, 200.0, 4001):
            states = [public.light_state(t, axis, green, amber, red) for axis in (0, 1)]
            assert states.count("green") + states.count("amber") <= 1
    # Each axis gets its green, amber and red within one cycle.
    seen = {public.light_state(t, 1, 12.0, 3.0, 1.0) for t in np.linspace(0, 32, 321)}
    assert seen == {"green", "amber", "red"}


def drive_east_into_the_light(world: CityWorld, want: str) -> dict:
    """Wait until the light shows ``want`` for west-east traffic, then cross its stop line
    (before the crosswalk) on it."""
    light = world.city.node(1, 1)
    while world.light(light, 0) != want:
        world.time_s += 0.05
    stop_line = 60.0 - 3.5 - 3.0
    place(world, stop_line - 0.2, 48.25, 0.0, speed=5.0)
    events = world.step(0.0, 0.0)
    assert world.car.x > stop_line
    return events


def test_crossing_the_stop_line_on_red_is_an_infraction_and_on_green_is_not():
    assert drive_east_into_the_light(world_on_strip(), "red")["red_light"] == 1
    assert drive_east_into_the_light(world_on_strip(), "green")["red_light"] == 0
    assert drive_east_into_the_light(world_on_strip(), "amber")["red_light"] == 0


def test_a_car_past_the_line_when_the_light_turns_red_commits_no_infraction():
    world = world_on_strip()
    light = world.city.node(1, 1)
    while world.light(light, 0) != "amber":
        world.time_s += 0.05
    place(world, 60.0 - 3.5 - 3.0 + 0.5, 48.25, 0.0, speed=0.5)  # on the crosswalk
    while world.light(light, 0) != "red":
        world.step(0.0, 0.0)
    for _ in range(30):
        world.step(0.0, 0.3)
    assert world.region[0] in ("node", "street") and world.counts["red_light"] == 0


def test_the_next_light_and_turn_are_read_ahead():
    world = world_on_strip()
    place(world, 30.0, 48.25, 0.0)
    assert world.readings.light in public.LIGHT_STATES
    assert world.readings.light_distance == pytest.approx(30.0 - 3.5 - 3.0)  # crosswalk
    assert world.readings.turn == "straight"
    assert world.readings.route_distance == pytest.approx(90.0)


def test_leaving_the_road_and_hitting_a_building_are_detected():
    world = world_on_strip()
    place(world, 30.0, 50.0 - 3.5 - 0.5, 0.0)  # centre on the sidewalk
    assert world.counts["off_road"] == 1 and not world.collided
    place(world, 30.0, 50.0 - 3.5 - 3.0 - 0.5, 0.0)  # body inside the building
    assert world.collided and world.counts["collision_static"] == 1


def test_driving_score_multiplies_penalties_into_route_completion():
    world = world_on_strip()
    world.counts.update(red_light=1, wrong_lane=2)
    assert world.driving_score == pytest.approx(world.route_completion * 0.7 * 0.8 * 0.8)


def test_lidar_reads_the_distance_to_the_road_edge():
    world = world_on_strip()
    place(world, 30.0, 50.0, 0.0)  # on the centre line, heading east
    rays = world.readings.lidar  # 8 rays, 45 degrees apart, ray 0 ahead
    assert rays[2] == pytest.approx(3.5)  # north: the curb
    assert rays[6] == pytest.approx(3.5)  # south
    assert rays[1] == pytest.approx(3.5 * math.sqrt(2))
    assert rays[0] == pytest.approx(world.lidar_range)  # along the street, beyond range


def test_cast_rays_against_boxes_from_inside_and_outside():
    boxes = np.array([[5.0, -1.0, 6.0, 1.0]])
    directions = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]])
    assert cast_rays(0.0, 0.0, directions, boxes, 50.0).tolist() == [5.0, 50.0, 50.0]
    assert cast_rays(5.5, 0.0, directions, boxes, 50.0).tolist() == [0.0, 0.0, 0.0]


def test_rectangle_overlap_catches_a_box_corner_poking_into_the_side():
    box = np.array([[0.9, 0.5, 3.0, 3.0]])  # its corner (0.9, 0.5) lies inside the car
    assert rectangle_hits_boxes(0.0, 0.0, 0.0, 4.6, 1.9, box)
    far = np.array([[3.0, 3.0, 4.0, 4.0]])
    assert not rectangle_hits_boxes(0.0, 0.0, 0.0, 4.6, 1.9, far)
    beside = np.array([[1.8, -0.6, 2.6, 0.2]])  # inside its bounding box, not the car
    assert not rectangle_hits_boxes(0.0, 0.0, math.pi / 4, 4.6, 1.9, beside)


def test_routes_reroute_after_a_wrong_turn():
    world = world_on_strip()
    side_street_end = world.city.node(1, 0)
    place(world, 60.0 - 1.75, 30.0, -math.pi / 2)  # down the side street, away from it all
    assert world.arc == (world.city.node(1, 1), side_street_end)
    assert world.readings.turn == "u_turn"
    assert world.readings.route_distance == pytest.approx(30.0 + 50.0 + 60.0, abs=0.01)


def test_start_equal_to_destination_and_unusable_nodes_are_refused():
    with pytest.raises(ValueError, match="same intersection"):
        CityConfig(start=(1, 1), destination=(1, 1))
    config = CityConfig(start=(0, 0), destination=(2, 1))
    with pytest.raises(ValueError, match="start=\\(0, 0\\) is not on any street"):
        CityWorld(parse_map(STRIP), config, np.random.default_rng(0))
