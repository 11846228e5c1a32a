"""``observe_road_users``: a semantic lidar of the lidar's own rays.

Per ray, the distance to the road user (another car or a pedestrian) its return comes
from, and how fast that distance changes; kerbs and roadworks are not road users, and a
road user behind them is not seen. The option appends entries and changes nothing else.
"""

from __future__ import annotations

from collections.abc import Iterator

import gymnasium as gym
import numpy as np
import pytest

from exgen.envs.city import CityConfig, public
from exgen.envs.city.heuristic import drive
from exgen.envs.city.map_file import parse_map
from exgen.envs.city.world import CityWorld
from tests.envs.city.test_world import STRIP, place

RAYS = 8  # 45 degrees apart, ray 0 ahead, ray 2 to the left
RANGE_M = public.DEFAULT_LIDAR_RANGE_M
#: The strip's east-bound lane (right-hand traffic): its centre and its kerb [m].
LANE_Y, KERB_Y = 50.0 - 1.75, 50.0 - 3.5
#: A few cars on the strip (0.17 km of street) and no pedestrians.
ROAD = {"traffic_density": 12.0, "pedestrian_density": 0.0}


def clear_the_road(world: CityWorld) -> None:
    """Every other car parked far off the map."""
    traffic = world.traffic
    traffic.x[:], traffic.y[:] = -1e4, -1e4
    traffic.boxes[:] = (-1e4, -1e4, -1e4 + 1.0, -1e4 + 1.0)


def park(world: CityWorld, box: tuple[float, float, float, float]) -> None:
    """A stopped car whose bounding box is ``box`` [x0, y0, x1, y1] (m), heading east."""
    traffic = world.traffic
    traffic.boxes[0] = box
    traffic.x[0], traffic.y[0] = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    traffic.heading[0] = 0.0


def strip_world() -> CityWorld:
    config = CityConfig(start=(0, 1), destination=(2, 1), **ROAD)
    world = CityWorld(parse_map(STRIP), config, np.random.default_rng(0), lidar_rays=RAYS)
    assert len(world.traffic.x) >= 1
    clear_the_road(world)
    return world


# ------------------------------------------------------------------ the layout
def test_the_layout_appends_a_distance_then_a_rate_per_ray_after_everything_else():
    names = public.road_user_names(3)
    assert names == ("road_user_0", "road_user_1", "road_user_2",
                     "road_user_rate_0", "road_user_rate_1", "road_user_rate_2")
    plain = public.layout(3, observe_context=True, observe_route=True)
    full = public.layout(3, observe_context=True, observe_route=True, observe_road_users=True)
    assert {k: v for k, v in full.items() if k in plain} == plain
    end = public.observation_size(3, observe_context=True, observe_route=True)
    assert [full[name] for name in names] == list(range(end, end + 6))
    assert public.observation_size(3, True, True, True) == end + 6 == len(full) + 3
    assert public.observation_size(32, observe_road_users=True) == 20 + 3 * 32
    assert public.layout(32) == public.layout(32, observe_road_users=False)


def test_the_env_publishes_the_layout_and_bounds_of_the_entries():
    env = gym.make("CityDriving-v0", lidar_rays=RAYS, observe_route=True,
                   observe_road_users=True)
    space = env.observation_space
    at = public.layout(RAYS, observe_route=True, observe_road_users=True)
    assert space.shape == (public.observation_size(RAYS, False, True, True),)
    users, rates = at["road_user_0"], at["road_user_rate_0"]
    assert rates == users + RAYS == space.shape[0] - RAYS
    assert (space.low[users:rates] == 0.0).all() and (space.high[users:rates] == 1.0).all()
    assert (space.low[rates:] == -1.0).all() and (space.high[rates:] == 1.0).all()
    with pytest.raises(TypeError, match="observe_road_users must be a bool"):
        gym.make("CityDriving-v0", observe_road_users="yes")


# ------------------------------------------------------------ what is seen
def test_a_car_ahead_in_the_lane_is_a_road_user_and_the_kerbs_are_not():
    world = strip_world()
    park(world, (45.0, LANE_Y - 0.95, 49.6, LANE_Y + 0.95))  # 15 m ahead
    place(world, 30.0, LANE_Y, 0.0)
    readings = world.readings
    assert readings.lidar[0] == readings.road_users[0] == pytest.approx(15.0)
    # The kerbs beside the car: the lidar sees them, the road-user channel does not.
    assert readings.lidar[2] == pytest.approx(53.5 - LANE_Y)
    assert readings.lidar[6] == pytest.approx(LANE_Y - KERB_Y)
    assert (readings.road_users[1:] == RANGE_M).all()
    # With the car gone, nothing ahead.
    clear_the_road(world)
    world.update()
    assert world.readings.lidar[0] == world.readings.road_users[0] == RANGE_M


def test_a_road_user_behind_the_kerb_is_not_seen():
    world = strip_world()
    # A pedestrian-sized box on the sidewalk north of the road, 2 m behind the kerb.
    park(world, (29.7, 55.5, 30.3, 56.1))
    place(world, 30.0, LANE_Y, 0.0)
    readings = world.readings
    assert readings.lidar[2] == pytest.approx(53.5 - LANE_Y)  # the kerb, as before
    assert readings.road_users[2] == RANGE_M
    # The same box on the road, in front of the kerb, is seen.
    park(world, (29.7, 51.0, 30.3, 51.6))
    world.update()
    assert world.readings.lidar[2] == world.readings.road_users[2] == pytest.approx(
        51.0 - LANE_Y)


def test_the_lidar_is_the_nearer_of_the_static_and_the_road_user_returns_bit_for_bit():
    world = strip_world()
    rng = np.random.default_rng(4)
    for _ in range(50):
        x0, y0 = rng.uniform(5.0, 115.0), rng.uniform(40.0, 60.0)
        park(world, (x0, y0, x0 + rng.uniform(0.5, 5.0), y0 + rng.uniform(0.5, 5.0)))
        place(world, rng.uniform(8.0, 112.0), rng.uniform(47.0, 53.0),
              rng.uniform(-np.pi, np.pi))
        lidar, users = world.readings.lidar, world.readings.road_users
        seen = users < RANGE_M
        assert (lidar[seen] == users[seen]).all()
        assert (lidar <= users).all()
        assert np.array_equal(lidar, world.scan())


# ----------------------------------------------------------------- the rate
def test_the_rate_is_negative_when_closing_on_a_stopped_car(strip_map):
    env = gym.make("CityDriving-v0", map_file=strip_map, start=(0, 1), destination=(2, 1),
                   lidar_rays=RAYS, observe_road_users=True, **ROAD)
    observation, _ = env.reset(seed=0)
    at = public.layout(RAYS, observe_road_users=True)
    users, rates = at["road_user_0"], at["road_user_rate_0"]
    assert (observation[users:rates] == 1.0).all() and (observation[rates:] == 0.0).all()
    city = env.unwrapped
    world = city.world
    clear_the_road(world)
    x = world.car.x
    park(world, (x + 30.0, LANE_Y - 0.95, x + 34.6, LANE_Y + 0.95))
    seen = []
    for t in range(25):
        # The ego car drives and the road users stay put (step() would move them).
        before = world.car.x
        city.drive(np.array([0.0, 1.0], np.float32))
        observation = city.settle()[0]
        distance = x + 30.0 - world.car.x
        assert observation[users] == pytest.approx(distance / RANGE_M, abs=1e-6)
        assert (observation[users + 1:rates] == 1.0).all()  # the kerbs are no road users
        if t == 0:
            assert observation[rates] == 0.0  # first seen: no rate yet
        else:
            closing = (world.car.x - before) / public.DT_S / public.SPEED_SCALE_MPS
            assert observation[rates] == pytest.approx(-closing, abs=1e-5)
            seen.append(observation[rates])
        assert (observation[rates + 1:] == 0.0).all()
    assert max(seen) < 0.0 and min(seen) < -0.3  # closing at more than 6 m/s by the end
    # Gone from the ray: the distance is the range again and the rate 0.
    clear_the_road(world)
    city.drive(np.array([0.0, 0.0], np.float32))
    observation = city.settle()[0]
    assert observation[users] == 1.0 and observation[rates] == 0.0


def twin_episodes(fields: dict, option: str, seeds: tuple[int, ...], steps: int
                  ) -> Iterator[tuple[np.ndarray, np.ndarray, bool]]:
    """The scripted driver's episodes (``seeds``, at most ``steps`` decisions each) in an
    env of ``fields`` without and with the boolean ``option``: per decision both
    observations and whether it is an episode's first, their rewards and ends checked
    equal."""
    plain = gym.make("CityDriving-v0", **fields)
    other = gym.make("CityDriving-v0", **{option: True}, **fields)
    rays = fields.get("lidar_rays", public.DEFAULT_LIDAR_RAYS)
    for seed in seeds:
        a, info = plain.reset(seed=seed)
        b, _ = other.reset(seed=seed)
        for step in range(steps):
            yield a, b, step == 0
            action = drive(a, rays, info["map"]["driving_side"]).astype(np.float32)
            a, reward_a, *end_a, _ = plain.step(action)
            b, reward_b, *end_b, _ = other.step(action)
            assert (reward_a, end_a) == (reward_b, end_b)
            if any(end_a):
                break


def test_the_option_appends_and_changes_nothing_else_noise_included():
    fields = {"traffic_density": 8.0, "pedestrian_density": 2.0, "jaywalk_rate": 0.5,
              "sensor_noise": 0.02, "lidar_rays": 16}
    at = public.layout(16, observe_road_users=True)
    first, rate0 = at["road_user_0"], at["road_user_rate_0"]
    sightings = rates = 0
    for a, b, start in twin_episodes(fields, "observe_road_users", (5, 7), 200):
        if start:
            assert (b[rate0:] == 0.0).all()  # an episode's first observation
        assert np.array_equal(a, b[:first])
        seen = b[first:rate0] < 1.0
        # A road-user entry is its ray's lidar entry, noise included.
        assert np.array_equal(b[first:rate0][seen], b[4:4 + 16][seen])
        sightings += int(seen.sum())
        rates += int((b[rate0:] != 0.0).sum())
    assert sightings > 50 and rates > 20
