"""The city renderer: frames of the right shape that show the car, lights and route."""

import itertools

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401  (registers CityDriving-v0)
from envs.city.config import shipped_maps
from envs.city.render import (
    CAR,
    CAR_SLIPPING,
    HEIGHT_PX,
    LIGHT_COLOURS,
    WIDTH_PX,
    car_view,
    light_spots,
    render_map_image,
    route_points,
)

THROTTLE = np.array([0.0, 0.5], np.float32)


def make(**kwargs):
    return gym.make("CityDriving-v0", render_mode="rgb_array", map_seed=3, **kwargs)


def test_rgb_array_frames_have_the_right_shape_and_change():
    env = make()
    env.reset(seed=0)
    first = env.render()
    assert first.shape == (HEIGHT_PX, WIDTH_PX, 3) and first.dtype == np.uint8
    assert len(np.unique(first.reshape(-1, 3), axis=0)) > 20
    for _ in range(10):
        env.step(THROTTLE)
    assert not np.array_equal(first, env.render())
    env.close()


def test_the_car_is_drawn_where_the_car_is():
    env = make()
    for seed in range(3):
        env.reset(seed=seed)
        for _ in range(5):
            env.step(THROTTLE)
        world = env.unwrapped.world
        frame = env.render()
        assert (frame[HEIGHT_PX // 2, WIDTH_PX // 2] == CAR).all()
        # The body's pixels centre on the car (the minimap's dot lies outside this box).
        box = frame[HEIGHT_PX // 2 - 20:HEIGHT_PX // 2 + 21, WIDTH_PX // 2 - 20:WIDTH_PX // 2 + 21]
        pixels = np.argwhere((box == CAR).all(axis=-1))
        assert len(pixels) > 60
        assert np.abs(pixels.mean(axis=0) - 20).max() < 4
        world.car.slipping = True
        assert (env.render()[HEIGHT_PX // 2, WIDTH_PX // 2] == CAR_SLIPPING).all()
    env.close()


def test_lights_show_the_state_the_world_gives_as_time_passes():
    env = make()
    env.reset(seed=0)
    world = env.unwrapped.world
    view = car_view(world)
    spots = [spot for spot in light_spots(world) if view.contains(spot[2], spot[3], 80)]
    assert spots, "the start should have a light in view"
    node, axis, x, y = min(spots, key=lambda s: np.hypot(s[2] - world.car.x, s[3] - world.car.y))
    column, row = (round(v) for v in view.px(x, y))
    cycle = 2 * (world.context.green_s + world.context.amber_s + world.context.all_red_s)
    seen = set()
    for t in np.arange(0.0, cycle, 1.0):
        world.time_s = float(t)
        state = world.light(node, axis)
        assert (env.render()[row, column] == LIGHT_COLOURS[state]).all(), (t, state)
        seen.add(state)
    assert seen == set(LIGHT_COLOURS)
    env.close()


def test_the_route_runs_from_the_car_to_the_destination():
    env = make()
    env.reset(seed=1)
    world = env.unwrapped.world
    points = route_points(world)
    assert points[0] == (world.car.x, world.car.y)
    dx, dy = world.city.position(world.destination)
    assert np.hypot(points[-1][0] - dx, points[-1][1] - dy) <= world.half_width
    # Each leg runs along a street: axis-aligned after the first.
    for (x0, y0), (x1, y1) in itertools.pairwise(points[1:]):
        assert min(abs(x1 - x0), abs(y1 - y0)) < 1e-9
    env.close()


def test_map_image_of_a_generated_city():
    env = make()
    env.reset(seed=0)
    image = render_map_image(env.unwrapped.world, size_px=300)
    assert image.shape == (300, 300, 3) and image.dtype == np.uint8
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 20
    env.close()


@pytest.mark.parametrize("name", shipped_maps() or [
    pytest.param(None, marks=pytest.mark.skip(reason="no shipped maps yet"))])
def test_shipped_maps_render(name):
    env = gym.make("CityDriving-v0", render_mode="rgb_array", map_file=name)
    env.reset(seed=0)
    frame = env.render()
    assert frame.shape == (HEIGHT_PX, WIDTH_PX, 3) and frame.dtype == np.uint8
    assert (frame[HEIGHT_PX // 2, WIDTH_PX // 2] == CAR).all()
    image = render_map_image(env.unwrapped.world, size_px=300)
    assert image.shape == (300, 300, 3) and len(np.unique(image.reshape(-1, 3), axis=0)) > 20
    env.close()


def test_a_large_two_lane_city_renders():
    env = make(grid_columns=20, grid_rows=20, lanes_per_direction=2)
    env.reset(seed=0)
    frames = [env.render() for _ in range(2)]
    assert frames[0].shape == (HEIGHT_PX, WIDTH_PX, 3)
    env.close()


def test_human_mode_runs_headless(monkeypatch):
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    env = gym.make("CityDriving-v0", render_mode="human", map_seed=3)
    env.reset(seed=0)
    env.step(THROTTLE)
    assert env.render() is None
    env.close()


def test_arrival_and_collision_are_drawn():
    env = make()
    env.reset(seed=0)
    world = env.unwrapped.world
    driving = env.render()
    world.arrived = True
    arrived = env.render()
    assert not np.array_equal(driving, arrived)
    world.arrived, world.collided = False, True
    assert not np.array_equal(arrived, env.render())
    env.close()
