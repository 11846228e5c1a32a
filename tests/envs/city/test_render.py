"""The city renderer: frames of the right shape that show the car, lights, route, other
cars, pedestrians and crosswalks."""

import itertools

import gymnasium as gym
import numpy as np
import pytest

import exgen  # noqa: F401  (registers CityDriving-v0)
from exgen.envs.city import public
from exgen.envs.city.config import shipped_maps
from exgen.envs.city.pedestrians import crosswalks
from exgen.envs.city.render import render_map_image
from exgen.envs.city.render_lights import light_spots
from exgen.envs.city.render_road_users import traffic_colour
from exgen.envs.city.render_roads import zebra_stripes
from exgen.envs.city.render_route import route_points
from exgen.envs.city.render_style import (
    BRAKE_LIGHT,
    CAR,
    CAR_SLIPPING,
    LIGHT_COLOURS,
    MINIMAP_MARGIN_PX,
    MINIMAP_PX,
    MINIMAP_TRAFFIC,
    PEDESTRIAN,
    PEDESTRIAN_AGAINST,
    TRAFFIC_WINDOW,
    ZEBRA,
    ZEBRA_GAP_M,
    ZEBRA_STRIPE_M,
)
from exgen.envs.city.render_view import HEIGHT_PX, WIDTH_PX, car_view
from exgen.envs.city.traffic import CROSSWALK_M

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


def _pixel(frame, view, x, y):
    """The frame's pixel at the world point ``(x, y)`` [m]."""
    column, row = (round(v) for v in view.px(x, y))
    return frame[row, column]


def _look_at(world, x, y):
    """Move the car 20 m south of ``(x, y)`` [m]: the point is drawn 100 px above the
    frame's centre, clear of the car, the minimap and the HUD."""
    world.car.x, world.car.y = float(x), float(y) - 20.0


def _far_from_destination(world, x, y):
    dx, dy = world.city.position(world.destination)
    return np.hypot(x - dx, y - dy) > world.half_width + 15.0


def test_traffic_cars_are_drawn_where_the_traffic_has_them():
    env = make(traffic_density=8.0, pedestrian_density=0.0)
    env.reset(seed=0)
    for _ in range(3):
        env.step(THROTTLE)
    world = env.unwrapped.world
    traffic = world.traffic
    half_l, half_w = public.CAR_LENGTH_M / 2, public.CAR_WIDTH_M / 2
    cars = [i for i in range(len(traffic.x))
            if _far_from_destination(world, traffic.x[i], traffic.y[i])][:4]
    assert len(cars) == 4
    for i in cars:
        _look_at(world, traffic.x[i], traffic.y[i])
        frame = env.render()
        view = car_view(world)
        c, s = np.cos(traffic.heading[i]), np.sin(traffic.heading[i])

        def at(along, across, i=i, c=c, s=s, frame=frame, view=view):
            return _pixel(frame, view, traffic.x[i] + c * along - s * across,
                          traffic.y[i] + s * along + c * across)

        # The body in the car's colour over its footprint, the windscreen at its front.
        for along in (-0.6, -0.3, 0.0):
            for across in (-0.6, 0.0, 0.6):
                assert (at(along * half_l, across * half_w) == traffic_colour(i)).all()
        assert (at(0.45 * half_l, 0.0) == TRAFFIC_WINDOW).all()
        assert not (at(half_l + 1.0, 0.0) == traffic_colour(i)).all()
    env.close()


def test_stopped_and_slowing_cars_show_brake_lights():
    env = make(traffic_density=8.0, pedestrian_density=0.0)
    env.reset(seed=0)
    world = env.unwrapped.world
    traffic = world.traffic
    i = next(i for i in range(len(traffic.x))
             if _far_from_destination(world, traffic.x[i], traffic.y[i]))
    _look_at(world, traffic.x[i], traffic.y[i])
    half_l, half_w = public.CAR_LENGTH_M / 2, public.CAR_WIDTH_M / 2
    c, s = np.cos(traffic.heading[i]), np.sin(traffic.heading[i])
    rear = (traffic.x[i] - c * 0.93 * half_l - s * 0.65 * half_w,
            traffic.y[i] - s * 0.93 * half_l + c * 0.65 * half_w)

    def brake_light_on():
        return (_pixel(env.render(), car_view(world), *rear) == BRAKE_LIGHT).all()

    traffic.v[i] = 8.0
    assert not brake_light_on()
    traffic.v[i] = 0.0
    assert brake_light_on()
    traffic.v[i] = 8.0
    world.time_s += 1.0
    assert not brake_light_on()
    # Slowing by 0.3 m/s in a decision (3 m/s²) since the last frame.
    traffic.v[i] = 7.7
    world.time_s += public.DT_S
    assert brake_light_on()
    env.close()


def test_pedestrians_are_drawn_where_they_are():
    env = make(traffic_density=0.0, pedestrian_density=1.0)
    env.reset(seed=0)
    world = env.unwrapped.world
    people = world.pedestrians
    positions = people.positions()
    assert people.count > 4 and len(world.traffic.x) == 0
    apart = np.hypot(*(positions[:, None] - positions[None]).transpose(2, 0, 1))
    alone = [j for j in range(people.count)
             if np.sort(apart[j])[1] > 2.0 and _far_from_destination(world, *positions[j])]
    assert len(alone) >= 3
    for j in alone[:3]:
        _look_at(world, *positions[j])
        frame = env.render()
        view = car_view(world)
        colour = PEDESTRIAN_AGAINST if people.against_signal[j] and people.crossing[j] \
            else PEDESTRIAN
        assert (_pixel(frame, view, *positions[j]) == colour).all()
        # Small: a metre away along the crosswalk it is gone.
        assert not (_pixel(frame, view, positions[j][0] + 1.0, positions[j][1]) == colour).all()
        assert not (_pixel(frame, view, positions[j][0], positions[j][1] + 1.0) == colour).all()
    j = alone[0]
    people.crossing[j] = people.against_signal[j] = True
    _look_at(world, *positions[j])
    assert (_pixel(env.render(), car_view(world), *positions[j]) == PEDESTRIAN_AGAINST).all()
    env.close()


def test_crosswalk_stripes_lie_just_outside_the_intersections():
    env = make()
    env.reset(seed=0)
    world = env.unwrapped.world
    city, hw = world.city, world.half_width
    stripes = zebra_stripes(world)
    assert len(stripes) >= 5 * len(crosswalks(city))
    nodes = np.array([city.position(n) for n in range(city.n_nodes)])
    centres = (stripes[:, :2] + stripes[:, 2:]) / 2
    nearest = np.abs(centres[:, None] - nodes[None]).sum(axis=2).argmin(axis=1)
    along = np.abs(stripes - np.tile(nodes[nearest], 2))
    # Along its street within [hw, hw + CROSSWALK_M] of the node, across within the road.
    horizontal = (stripes[:, 2] - stripes[:, 0]) > (stripes[:, 3] - stripes[:, 1])
    a = np.where(horizontal[:, None], along[:, [0, 2]], along[:, [1, 3]])
    b = np.where(horizontal[:, None], along[:, [1, 3]], along[:, [0, 2]])
    assert (a.min(axis=1) >= hw).all() and (a.max(axis=1) <= hw + CROSSWALK_M).all()
    assert (b.max(axis=1) <= hw).all()
    # The lights stand beyond the crosswalks, clear of the pedestrians waiting there.
    for node, _, x, y in light_spots(world):
        px, py = city.position(node)
        assert max(abs(x - px), abs(y - py)) > hw + CROSSWALK_M
    env.close()


def test_crosswalk_stripes_are_drawn_near_an_intersection():
    env = make(traffic_density=0.0, pedestrian_density=0.0)
    env.reset(seed=0)
    world = env.unwrapped.world
    view = car_view(world)
    frame = env.render()
    stripes = zebra_stripes(world)
    # Those in the frame's lower half, clear of the minimap and the HUD.
    centres = (stripes[:, :2] + stripes[:, 2:]) / 2
    rows = np.array([view.px(x, y)[1] for x, y in centres])
    shown = [k for k in range(len(stripes))
             if view.contains(*centres[k], 20) and rows[k] > HEIGHT_PX / 2]
    assert len(shown) >= 10
    white = [(_pixel(frame, view, *centres[k]) == ZEBRA).all() for k in shown]
    # Nearly all are white (the route's tint may cross a crosswalk or two).
    assert np.mean(white) > 0.7
    # Between two neighbouring stripes lies the road.
    half_period = (ZEBRA_STRIPE_M + ZEBRA_GAP_M) / 2
    for k in shown[:5]:
        long_x = stripes[k, 2] - stripes[k, 0] > stripes[k, 3] - stripes[k, 1]
        step = (0.0, half_period) if long_x else (half_period, 0.0)
        between = _pixel(frame, view, centres[k][0] + step[0], centres[k][1] + step[1])
        assert not (between == ZEBRA).all()
    env.close()


def test_the_minimap_shows_the_traffic():
    corner = (slice(MINIMAP_MARGIN_PX, MINIMAP_MARGIN_PX + MINIMAP_PX),
              slice(WIDTH_PX - MINIMAP_PX - MINIMAP_MARGIN_PX, WIDTH_PX - MINIMAP_MARGIN_PX))
    counts = []
    for density in (0.0, 8.0):
        env = make(traffic_density=density)
        env.reset(seed=0)
        minimap = env.render()[corner]
        counts.append((minimap == MINIMAP_TRAFFIC).all(axis=-1).sum())
        env.close()
    assert counts[0] == 0 and counts[1] > 20


def test_the_hud_counts_collisions_with_cars_and_pedestrians():
    env = make()
    env.reset(seed=0)
    world = env.unwrapped.world
    hud = (slice(0, 70), slice(0, 400))
    before = env.render()[hud]
    world.counts["collision_vehicle"] += 1
    assert not np.array_equal(before, env.render()[hud])
    env.close()
