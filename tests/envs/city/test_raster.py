"""The ego-centred occupancy raster: layout, frame, each channel, env integration."""

import math

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from stable_baselines3 import PPO
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import exgen  # noqa: F401
from exgen.envs.city import CityConfig, public
from exgen.envs.city.map_file import parse_map
from exgen.envs.city.raster import CARS, LIGHTS, PEDESTRIANS, ROAD, occupancy_raster
from exgen.envs.city.vehicle import VehicleState
from exgen.envs.city.world import CityWorld

#: Intersections 60 m apart; lights in the middle, whose streets north and east are
#: missing (a block there); the street along the south edge is closed by roadworks.
#: Roads are 7 m wide (one 3.5 m lane each way): blocks start 3.5 m from a centre line.
TOWN = """columns_m: 60 60
rows_m: 60 60
map:
+---+---+
|       |
+---L   +
|   |   |
+-x-+---+
"""
NORTH, EAST = math.pi / 2, 0.0
#: Centre cells of the 64 x 64 raster: the car's centre is the corner they share.
MID = 32


def town(**fields) -> CityWorld:
    config = CityConfig(start=(0, 1), destination=(2, 1), traffic_density=0.0,
                        pedestrian_density=0.0, **fields)
    return CityWorld(parse_map(TOWN), config, np.random.default_rng(0), lidar_rays=8)


def put(world: CityWorld, x: float, y: float, heading: float) -> None:
    world.car = VehicleState(x, y, heading)


def cells(channel: np.ndarray) -> set[tuple[int, int]]:
    return {(int(r), int(c)) for r, c in zip(*np.nonzero(channel), strict=True)}


def block(rows: range, columns: range) -> set[tuple[int, int]]:
    return {(r, c) for r in rows for c in columns}


# Poses 18.5 m short of the block beyond the lit intersection, in the driving lane:
# northbound on the middle column's street, eastbound on the middle row's street.
POSES = {"north": (61.75, 45.0, NORTH), "east": (45.0, 58.25, EAST)}


def test_shape_dtype_and_sizes():
    world = town()
    raster = occupancy_raster(world)
    assert raster.shape == (len(public.RASTER_CHANNELS), public.RASTER_SIZE_PX,
                            public.RASTER_SIZE_PX)
    assert raster.dtype == np.uint8
    assert occupancy_raster(world, size_px=17, metres_per_px=2.5).shape == (4, 17, 17)
    for bad in ({"size_px": 0}, {"size_px": 2.5}, {"metres_per_px": 0.0},
                {"metres_per_px": math.nan}):
        with pytest.raises(ValueError):
            occupancy_raster(world, **bad)


@pytest.mark.parametrize("pose", POSES)
def test_the_road_is_under_the_car_and_the_block_straight_ahead_in_the_top_rows(pose):
    world = town()
    put(world, *POSES[pose])
    road = occupancy_raster(world)[ROAD]
    assert set(np.unique(road)) <= {0, 255}
    assert (road[MID - 2:MID + 2, MID - 1:MID + 1] == 255).all()
    # Straight ahead, the block starts 18.5 m away: row 32 - 18.5 - 0.5 = 13 and up.
    assert (road[:13, MID - 1:MID + 1] == 0).all()
    assert (road[14:MID, MID - 1:MID + 1] == 255).all()
    # Behind, the street goes on.
    assert (road[MID:, MID - 1:MID + 1] == 255).all()
    # The road's edge is 1.75 m to the car's right and 5.25 m to its left (columns grow
    # to the right): 3.5 m right is a block, 3.5 m left the oncoming lane.
    assert road[MID - 1, MID + 3] == 0 and road[MID - 1, MID - 4] == 255
    assert road[MID - 1, MID - 6] == 0


def test_roadworks_are_not_road():
    world = town()
    # Eastbound on the closed south street, 3 m before its barrier (x from 8.5 m).
    put(world, 5.5, 1.75, EAST)
    road = occupancy_raster(world)[ROAD]
    assert (road[:MID - 3, MID - 1:MID + 1] == 0).all()
    assert (road[MID:MID + 8, MID - 1:MID + 1] == 255).all()


@pytest.mark.parametrize("pose", POSES)
def test_a_car_ten_metres_ahead_fills_its_cells(pose):
    world = town()
    x, y, heading = POSES[pose]
    put(world, x, y, heading)
    traffic = world.traffic
    traffic.x = np.array([x + 10.0 * math.cos(heading)])
    traffic.y = np.array([y + 10.0 * math.sin(heading)])
    traffic.heading = np.array([heading])
    cars = occupancy_raster(world)[CARS]
    # 4.6 m x 1.9 m from 7.7 m to 12.3 m ahead: cell centres 8.5 .. 11.5 m ahead (rows
    # 20 .. 23), 0.5 m either side (columns 31, 32).
    assert cells(cars) == block(range(20, 24), range(31, 33))
    assert set(np.unique(cars)) == {0, 255}
    # Turned across the car's path, it spans columns instead.
    traffic.heading = np.array([heading + math.pi / 2])
    assert cells(occupancy_raster(world)[CARS]) == block(range(21, 23), range(30, 34))


def test_a_pedestrian_shows_even_between_cell_centres():
    world = town()
    x, y, _ = POSES["north"]
    put(world, x, y, NORTH)
    # 3.3 m right, 5.4 m ahead: within 0.3 m of the centre of cell (26, 35).
    world.pedestrians._positions = np.array([[x + 3.3, y + 5.4]])
    assert cells(occupancy_raster(world)[PEDESTRIANS]) == {(26, 35)}
    # 3.02 m right, 5.02 m ahead: no cell centre within 0.3 m; its cell shows it.
    world.pedestrians._positions = np.array([[x + 3.02, y + 5.02]])
    assert cells(occupancy_raster(world)[PEDESTRIANS]) == {(26, 35)}
    # Finer cells: a disc of them.
    fine = occupancy_raster(world, size_px=128, metres_per_px=0.1)[PEDESTRIANS]
    assert 20 <= len(cells(fine)) <= 40
    # Out of sight, nothing.
    world.pedestrians._positions = np.array([[x, y + 40.0]])
    assert not occupancy_raster(world)[PEDESTRIANS].any()


@pytest.mark.parametrize("state, value", [("red", 255), ("amber", 170), ("green", 85)])
def test_a_light_paints_its_approach(state, value):
    world = town()
    x, y, _ = POSES["north"]
    put(world, x, y + 0.2, NORTH)
    light = world.city.node(1, 1)
    while world.light(light, 1) != state:
        world.time_s += 0.1
    lights = occupancy_raster(world)[LIGHTS]
    # The northbound lanes (x 60 .. 63.5 m) the 5 m before the intersection's edge
    # (y 51.5 .. 56.5 m): 6.3 .. 11.3 m ahead, 1.75 m either side.
    south = block(range(21, 26), range(30, 34))
    # The eastbound lanes (y 56.5 .. 60 m, x 51.5 .. 56.5 m): 11.3 .. 14.8 m ahead,
    # 5.25 .. 10.25 m to the left.
    west = block(range(17, 21), range(22, 27))
    assert cells(lights == value) >= south
    west_value = {"red": 255, "amber": 170, "green": 85}[world.light(light, 0)]
    assert cells(lights == west_value) >= west
    assert cells(lights) == south | west
    # A light without lights around it paints nothing.
    put(world, 120.0, 110.0, NORTH)
    assert not occupancy_raster(world)[LIGHTS].any()


def test_the_left_hand_town_paints_the_other_lanes():
    world = town(driving_side="left")
    light = world.city.node(1, 1)
    while world.light(light, 1) != "red":
        world.time_s += 0.1
    put(world, 58.25, 45.2, NORTH)
    lights = occupancy_raster(world)[LIGHTS]
    # Driving on the left, the northbound lanes lie west of the centre line (x 56.5 ..
    # 60 m), right under the car's path; the eastbound ones north of it, up and left.
    assert cells(lights[:, MID - 2:]) == block(range(21, 26), range(0, 4))
    assert (lights[21:26, MID - 2:MID + 2] == 255).all()
    assert cells(lights[:, :MID - 2]) == block(range(14, 17), range(25, 30))


def test_raster_is_deterministic_and_shows_the_env_traffic():
    def rasters(seed: int) -> list[np.ndarray]:
        env = gym.make("CityDriving-v0", observe_raster=True, traffic_density=20.0,
                       pedestrian_density=2.0)
        env.action_space.seed(0)
        observation, _ = env.reset(seed=seed)
        found = [observation["raster"]]
        for _ in range(60):
            observation, *_ = env.step(env.action_space.sample())
            found.append(observation["raster"])
        return found

    a, b = rasters(5), rasters(5)
    assert all(x.tobytes() == y.tobytes() for x, y in zip(a, b, strict=True))
    stacked = np.stack(a)
    assert stacked[:, ROAD].any() and stacked[:, CARS].any()
    assert not all(x.tobytes() == y.tobytes() for x, y in zip(a, rasters(6), strict=True))


def test_the_env_returns_a_dict_with_the_vector_unchanged():
    plain = gym.make("CityDriving-v0")
    env = gym.make("CityDriving-v0", observe_raster=True)
    assert isinstance(env.observation_space, gym.spaces.Dict)
    assert env.observation_space["vector"] == plain.observation_space
    assert env.observation_space["raster"] == gym.spaces.Box(0, 255, (4, 64, 64), np.uint8)
    observation, _ = env.reset(seed=2)
    vector, _ = plain.reset(seed=2)
    assert observation["vector"].tobytes() == vector.tobytes()
    assert env.observation_space.contains(observation)
    assert (observation["raster"][ROAD, MID - 1:MID + 1, MID - 1:MID + 1] == 255).all()
    with pytest.raises(TypeError, match="observe_raster"):
        gym.make("CityDriving-v0", observe_raster="yes")


def test_gymnasium_and_sb3_env_checkers_pass_with_the_raster():
    check_env(gym.make("CityDriving-v0", observe_raster=True).unwrapped,
              skip_render_check=True)
    sb3_check_env(gym.make("CityDriving-v0", observe_raster=True, continuous=False).unwrapped)


def test_ppo_with_a_multi_input_policy_learns_on_it():
    env = gym.make("CityDriving-v0", observe_raster=True, lidar_rays=8)
    model = PPO("MultiInputPolicy", env, n_steps=64, batch_size=32, n_epochs=1, seed=0,
                device="cpu")
    model.learn(total_timesteps=128)
    action, _ = model.predict(env.reset(seed=0)[0], deterministic=True)
    assert env.action_space.contains(action)
