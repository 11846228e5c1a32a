"""``observe_lead``: the car ahead, read off the lidar's road-user returns.

Of the returns from road users, those ahead along the lane and within
``public.LEAD_HALF_WIDTH_M`` of the car's line; the nearest one's distance and how fast it
changes. A car in the other lane is a road user but not the car ahead. The option
appends two entries and changes nothing else.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from exgen.envs.city import public
from tests.envs.city.test_road_users import (
    LANE_Y,
    RANGE_M,
    RAYS,
    ROAD,
    clear_the_road,
    park,
    twin_episodes,
)

#: The centre of the strip's west-bound lane, the other side of the centre line [m].
OTHER_LANE_Y = 50.0 + 1.75


def test_the_layout_appends_a_distance_then_a_rate_after_everything_else():
    full = public.layout(3, observe_context=True, observe_route=True, observe_road_users=True,
                         observe_lead=True)
    size = public.observation_size(3, True, True, True, True)
    assert (full["lead_distance"], full["lead_rate"]) == (size - 2, size - 1)
    assert public.observation_size(32, observe_lead=True) == 20 + 32 + 2
    assert public.layout(32) == public.layout(32, observe_lead=False)
    assert public.observation_size(32, observe_lead=True) in public.observation_sizes(32)
    with pytest.raises(TypeError, match="observe_lead must be a bool"):
        gym.make("CityDriving-v0", observe_lead="yes")


def lead_env(strip_map: str) -> gym.Env:
    return gym.make("CityDriving-v0", map_file=strip_map, start=(0, 1), destination=(2, 1),
                    lidar_rays=RAYS, observe_lead=True, observe_road_users=True, **ROAD)


def test_closing_on_a_stopped_car_ahead_reads_its_distance_and_a_negative_rate(strip_map):
    env = lead_env(strip_map)
    observation, _ = env.reset(seed=0)
    at = public.layout(RAYS, observe_road_users=True, observe_lead=True)
    lead, rate, user_rate = at["lead_distance"], at["lead_rate"], at["road_user_rate_0"]
    city = env.unwrapped
    world = city.world
    clear_the_road(world)
    x = world.car.x
    park(world, (x + 30.0, LANE_Y - 0.95, x + 34.6, LANE_Y + 0.95))
    rates = []
    for t in range(25):
        # The ego car drives and the road users stay put (step() would move them).
        city.drive(np.array([0.0, 1.0], np.float32))
        observation = city.settle()[0]
        along = (x + 30.0 - world.car.x) * np.cos(world.car.heading)  # the lane runs east
        assert observation[lead] == pytest.approx(along / RANGE_M, abs=1e-5)
        if t == 0:
            assert observation[rate] == 0.0  # first seen: no rate yet
        else:
            # Along the lane as the ray sees it: the road-user rate of ray 0, to rounding.
            assert observation[rate] == pytest.approx(observation[user_rate], abs=2e-3)
            rates.append(observation[rate])
    assert max(rates) < 0.0 and min(rates) < -0.3  # closing at more than 6 m/s by the end
    # Gone: no car ahead, and no rate.
    clear_the_road(world)
    city.drive(np.array([0.0, 0.0], np.float32))
    observation = city.settle()[0]
    assert observation[lead] == 1.0 and observation[rate] == 0.0


def test_a_car_in_the_other_lane_is_a_road_user_but_not_the_car_ahead(strip_map):
    env = lead_env(strip_map)
    env.reset(seed=0)
    at = public.layout(RAYS, observe_road_users=True, observe_lead=True)
    city = env.unwrapped
    world = city.world
    clear_the_road(world)
    x = world.car.x
    # Beside the car, 45 degrees to its left: ray 1 sees it.
    park(world, (x + 1.0, OTHER_LANE_Y - 0.95, x + 5.6, OTHER_LANE_Y + 0.95))
    city.drive(np.array([0.0, 0.0], np.float32))
    observation = city.settle()[0]
    assert observation[at["road_user_1"]] < 1.0
    assert observation[at["lead_distance"]] == 1.0 and observation[at["lead_rate"]] == 0.0
    # Moved into the car's lane ahead, it is the car ahead.
    park(world, (x + 10.0, LANE_Y - 0.95, x + 14.6, LANE_Y + 0.95))
    city.drive(np.array([0.0, 0.0], np.float32))
    observation = city.settle()[0]
    assert observation[at["lead_distance"]] < 1.0


def test_the_option_appends_and_changes_nothing_else_noise_included():
    fields = {"traffic_density": 12.0, "pedestrian_density": 2.0, "sensor_noise": 0.02,
              "lidar_rays": 16}
    at = public.layout(16, observe_lead=True)
    distance, rate = at["lead_distance"], at["lead_rate"]
    seen = moving = 0
    for a, b, start in twin_episodes(fields, "observe_lead", (5, 7), 300):
        if start:
            assert b[rate] == 0.0  # an episode's first observation
        assert np.array_equal(a, b[:distance])
        seen += int(b[distance] < 1.0)
        moving += int(b[rate] != 0.0)
    assert seen > 20 and moving > 10
