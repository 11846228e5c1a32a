"""The city planner drives unseen cities on the first trial, by the rules, unpeeking."""

import math

import gymnasium as gym
import numpy as np
import pytest

import exgen  # noqa: F401
from exgen.agents import make_agent, run_episodes
from exgen.agents.public_view import PublicView, public_info
from exgen.envs.city.map_file import parse_map
from exgen.physics_baseline import CityPlanner
from exgen.physics_baseline.city_model import Path, RoadMap

#: A 3x2 town: the top row's middle street is closed, the bottom row's east street one-way
#: toward the west; lights at the middle intersections.
TOWN = """columns_m: 80 80
rows_m: 60
map:
+-x-L---+
|   |   |
+---L<--+
"""


def published(text: str, **extra) -> dict:
    city = parse_map(text)
    data = {**city.to_public(), "lanes_per_direction": 1, "lane_width_m": 3.5,
            "sidewalk_m": 3.0, "speed_limit_mps": 13.9, "driving_side": "right",
            "start": 0, "destination": 2}
    data.update(extra)
    return data


def drive(seed: int, trials: int = 1, planner=None, **fields):
    env = PublicView(gym.make("CityDriving-v0", **fields))
    planner = planner or make_agent("planner", env)
    return planner, run_episodes(planner, env, trials, seed=seed, learn=True,
                                 deterministic=True)


def test_the_registry_resolves_planner_for_city_driving():
    assert isinstance(make_agent("planner", gym.make("CityDriving-v0")), CityPlanner)


def test_routes_respect_closures_and_one_way_streets():
    # Bottom row: node 0 (0,0), 1 (80,0), 2 (160,0); top row: 3, 4, 5.
    road = RoadMap(published(TOWN, destination=5))
    assert road.route((0, 1)) == [0, 1, 4, 5]  # 1 -> 2 -> 5 is shorter but one-way
    road = RoadMap(published(TOWN, destination=4))
    assert road.route((0, 3)) == [0, 3, 0, 1, 4]  # 3 -> 4 is closed: back and round
    road.blocked.add((1, 4))
    assert road.route((0, 1))[:3] == [0, 1, 2] or road.route((0, 1)) == [0, 1, 4]


def test_the_path_follows_the_lane_of_the_driving_side():
    for side, lane_y in (("right", -1.75), ("left", 1.75)):
        road = RoadMap(published(TOWN, driving_side=side, destination=2))
        path = Path.along(road, [0, 1, 2])
        straight = path.points[(path.points[:, 0] > 10) & (path.points[:, 0] < 70)]
        assert np.allclose(straight[:, 1], lane_y)
        assert path.junctions[0][1:] == (1, "straight")


@pytest.mark.parametrize("seed", [200, 201, 202, 203])
def test_arrives_on_the_first_trial_in_unseen_cities(seed):
    planner, records = drive(seed)
    assert records[0].is_success, (records[0].outcome, planner.report())


def test_measures_ice_and_brakes_earlier_there():
    dry, records = drive(204)
    ice, ice_records = drive(204, friction=0.15)
    assert records[0].is_success and ice_records[0].is_success
    assert ice.report()["friction"] == pytest.approx(0.15, rel=0.3)
    assert dry.report()["friction"] > 0.6
    assert ice._plan_deceleration() < 0.4 * dry._plan_deceleration()
    assert ice_records[0].length > 1.25 * records[0].length  # it drives slower


def test_keeps_to_its_lane_on_straights_and_through_turns():
    env = gym.make("CityDriving-v0", preset="empty")
    planner = make_agent("planner", env)
    observation, info = env.reset(seed=205)
    planner.start_episode(observation, public_info(info))
    worst_straight = worst_turn = 0.0
    while True:
        action, _ = planner.predict(observation, deterministic=True)
        observation, _, terminated, truncated, info = env.step(action)
        car = env.unwrapped.world.car
        _, off = planner.path.project(car.x, car.y, planner.progress)
        near = (planner.path.s > planner.progress - 5) & (planner.path.s < planner.progress + 5)
        curving = planner.path.curvature[near].max(initial=0.0)
        if curving > 0.05:
            worst_turn = max(worst_turn, off)
        else:
            worst_straight = max(worst_straight, off)
        if terminated or truncated:
            break
    assert info["is_success"]
    assert worst_straight < 0.5
    assert worst_turn < 1.5


def test_stops_at_red_lights():
    stopped_at_red = red_lights = 0
    env = gym.make("CityDriving-v0", preset="empty")
    for seed in (206, 207):
        planner = make_agent("planner", env)
        observation, info = env.reset(seed=seed)
        planner.start_episode(observation, public_info(info))
        while True:
            action, _ = planner.predict(observation, deterministic=True)
            observation, _, terminated, truncated, info = env.step(action)
            car = planner._read(observation)
            if car["light"] == "red" and car["speed"] < 0.05 and car["light_distance"] < 5:
                stopped_at_red += 1
            if terminated or truncated:
                break
        red_lights += info["infractions"]["red_light"]
        assert info["is_success"]
    assert stopped_at_red > 0 and red_lights == 0


def test_is_deterministic():
    actions = []
    for _ in range(2):
        env = gym.make("CityDriving-v0")
        planner = make_agent("planner", env)
        observation, info = env.reset(seed=208)
        planner.start_episode(observation, public_info(info))
        trace = []
        for _ in range(300):
            action, _ = planner.predict(observation, deterministic=True)
            trace.append(action.tobytes())
            observation, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                break
        actions.append(trace)
    assert actions[0] == actions[1]


def test_sees_only_the_public_view_and_needs_the_map():
    env = PublicView(gym.make("CityDriving-v0"))
    observation, info = env.reset(seed=209)
    assert set(info) <= {"map", "is_success"} and "context" not in info
    planner = make_agent("planner", env)
    with pytest.raises(RuntimeError, match="start_episode"):
        planner.predict(observation)
    with pytest.raises(ValueError, match="published map"):
        planner.start_episode(observation, {})


def test_measures_a_trucks_acceleration_and_braking_in_its_first_trial():
    truck, _ = drive(205, preset="truck")
    report = truck.report()
    assert report["acceleration_mps2"] == pytest.approx(0.4 * 3.0, rel=0.1)
    assert report["braking_mps2"] == pytest.approx(0.6 * 8.0, rel=0.1)
    assert truck._hard_deceleration() < 0.6 * 8.0  # it brakes with the truck's brakes


def test_times_the_ambers_and_counts_on_the_shortest_until_then():
    from exgen.envs.city import public
    from exgen.physics_baseline.city_planner import AmberClock

    clock = AmberClock()
    assert clock.duration == public.MIN_AMBER_S
    for step in range(20):  # green, then 1.7 s of amber (seen 1.4 s so far), then red
        light = "green" if step < 5 else "amber" if step < 22 else "red"
        clock.see(light, 30.0 - 0.1 * step)
    assert clock.duration == pytest.approx(1.4, abs=0.01)  # seen so far: a lower bound
    for step in range(20, 25):
        clock.see("amber" if step < 22 else "red", 30.0 - 0.1 * step)
    assert clock.duration == pytest.approx(1.7, abs=0.01)


def test_drives_short_ambers_without_running_a_red_light():
    env = gym.make("CityDriving-v0", amber_s=1.0, all_red_s=0.0)
    view = PublicView(env)
    planner = make_agent("planner", view)
    for seed in (206, 207):
        observation, info = view.reset(seed=seed)
        planner.start_episode(observation, info)
        done = False
        while not done:
            action, _ = planner.predict(observation, deterministic=True)
            observation, _, terminated, truncated, _ = view.step(action)
            done = terminated or truncated
        infractions = env.unwrapped.world.counts
        assert env.unwrapped.world.arrived and infractions["red_light"] == 0, infractions


def planner_on_ice(nodes: list[int], destination: int, turn_radius: float | None = None):
    """A planner that measured ice (friction 0.15, hard braking 1.25 m/s²) and timed no
    amber yet, on TOWN's path through ``nodes``."""
    planner = make_agent("planner", gym.make("CityDriving-v0"))
    planner.grip.saturated = 0.15
    planner.road = RoadMap(published(TOWN, destination=destination))
    planner.path = Path.along(planner.road, nodes, turn_radius)
    return planner


def car_on(planner, s: float, speed: float, light: str | None, light_distance: float):
    """The planner's reading of a car at path distance ``s`` [m], heading along the path."""
    x, y = planner.path.point_at(s)
    ahead = planner.path.point_at(s + 1.0)
    return {"speed": speed, "steering": 0.0, "x": x, "y": y,
            "heading": float(np.arctan2(ahead[1] - y, ahead[0] - x)),
            "lidar": np.full(planner.rays, planner.lidar_range), "light": light,
            "light_distance": light_distance}


# East along TOWN's bottom row through the lit node 1: its edge is 73 m along the path
# (node 1 at x = 80, the road 3.5 m wide each side, the path from x = 3.5), the stop
# line (before the 3 m crosswalk) at 70 m.
LINE_M = 70.0


def test_clears_the_intersection_once_its_centre_is_past_the_stop_line():
    planner = planner_on_ice([0, 1, 2], destination=2)
    entry = planner.path.junctions[0][0]
    assert entry == pytest.approx(LINE_M + 3.0)
    for light in ("amber", "red"):  # the red-light rule is about crossing the line
        past = car_on(planner, LINE_M + 0.5, 1.5, light, 0.0)
        assert planner._light_room(past, LINE_M + 0.5) == math.inf
    # Nor does the light hold its speed down there, while just before the line it
    # crawls at the speed with no dilemma on a 1 s amber: 2 x 1.25 x (0.9 - 0.3) m/s.
    decel = planner._plan_deceleration()
    past = car_on(planner, LINE_M + 0.5, 1.5, "green", 0.0)
    assert planner._light_speed(past, LINE_M + 0.5, entry, decel) == math.inf
    before = car_on(planner, LINE_M - 5.0, 1.5, "green", 5.0)
    assert planner._light_speed(before, LINE_M - 5.0, entry, decel) == pytest.approx(1.5, rel=0.01)


def test_goes_on_an_amber_it_surely_crosses_and_stops_for_one_it_may_not():
    planner = planner_on_ice([0, 1, 2], destination=2)
    # Crawling at 1.5 m/s: 0.5 m from the line it crosses within 1 s less the lag.
    near = car_on(planner, LINE_M - 0.5, 1.5, "amber", 0.5)
    assert planner._light_room(near, LINE_M - 0.5) == math.inf
    # 3 m away it would not: it stops, its centre short of the line.
    far = car_on(planner, LINE_M - 3.0, 1.5, "amber", 3.0)
    room = planner._light_room(far, LINE_M - 3.0)
    assert 0.0 < room < 3.0


def test_counts_on_the_slower_speed_of_a_turn_at_the_line():
    planner = planner_on_ice([1, 0, 3], destination=3, turn_radius=6.0)
    entry, node, turn = planner.path.junctions[0]
    assert (node, turn) == (0, "right")
    s, to_line = entry - 13.0, 10.0
    car = car_on(planner, s, 7.0, "green", to_line)
    assert planner._time_to_line(car, s, to_line) > 2 * to_line / 7.0
    straight = planner_on_ice([0, 1, 2], destination=2)
    car = car_on(straight, LINE_M - to_line, 7.0, "green", to_line)
    assert straight._time_to_line(car, LINE_M - to_line, to_line) == pytest.approx(to_line / 7)


def test_slows_for_the_light_of_a_lit_destination():
    planner = planner_on_ice([0, 1], destination=1)
    assert planner.path.junctions[-1][1:] == (1, "arrive") and 1 in planner.road.lit
    car = car_on(planner, LINE_M - 20.0, 7.0, "green", 20.0)
    target, _ = planner._target_speed(car, LINE_M - 20.0)
    # Able to stop gently before the line, bumper of the longest car included.
    decel = planner._plan_deceleration()
    assert target == pytest.approx(math.sqrt(2 * decel * (20.0 - 4.0 - 1.7)), rel=0.01)


@pytest.mark.parametrize("seed", [232, 246])
def test_drives_ice_with_short_ambers_without_running_a_red_light(seed):
    # Before it counted on its centre, it crept over the line at 232 and ran the
    # destination's red at 246.
    env = gym.make("CityDriving-v0", map_seed=seed, friction=0.15, amber_s=1.0, all_red_s=0.0)
    view = PublicView(env)
    planner = make_agent("planner", view)
    run_episodes(planner, view, 1, seed=seed, learn=True, deterministic=True)
    infractions = env.unwrapped.world.counts
    assert env.unwrapped.world.arrived and infractions["red_light"] == 0, infractions


@pytest.mark.parametrize("radius", [4.5, 6.6])
def test_turns_are_laid_for_the_cars_turning_radius_inside_its_half_of_the_road(radius):
    # Right turn at node 0 (0, 0): west along the bottom street, then north.
    road = RoadMap(published(TOWN, destination=3))
    path = Path.along(road, [1, 0, 3], turn_radius=radius)
    assert path.curvature.max() <= 1.0 / radius * 1.05
    corner = np.hypot(path.points[:, 0] - 3.5, path.points[:, 1] - 3.5)
    assert corner.min() > 0.4  # clear of the kerb's corner
    assert road.on_road(path.points).all()
    # Its own side of each centre line: north of y = 0 going west, east of x = 0 north.
    assert (path.points[:, 1] > 0.5).all() and (path.points[:, 0] > 0.5).all()
    entry, node, turn = path.junctions[0]
    assert (node, turn) == (0, "right")
    assert entry == pytest.approx(Path.along(road, [1, 0, 3]).junctions[0][0], abs=0.1)


def test_a_kerb_is_off_the_road_and_a_lane_on_it():
    road = RoadMap(published(TOWN, destination=3))
    hw = road.half_width
    points = np.array([[40.0, 1.75], [40.0, -1.75], [40.0, hw], [hw, hw], [0.0, 0.0]])
    assert road.on_road(points).tolist() == [True, True, False, False, True]


#: TOWN's bottom-left corner with roadworks closing the west street's southbound lane.
NORTHBOUND_ONLY = """columns_m: 80 80
rows_m: 60
map:
+---+---+
n   |   |
+---+---+
"""


def swept_corners(path: Path, length_m: float, step_m: float = 0.1) -> np.ndarray:
    """The corners (n, 2) of a body ``length_m`` long whose centre runs along ``path``,
    heading along it."""
    s = np.arange(0.0, path.length, step_m)
    x, y = np.interp(s, path.s, path.points[:, 0]), np.interp(s, path.s, path.points[:, 1])
    heading = np.unwrap(np.arctan2(np.gradient(y), np.gradient(x)))
    c, sn = np.cos(heading), np.sin(heading)
    corners = [np.stack([x + c * dx - sn * dy, y + sn * dx + c * dy], axis=1)
               for dx in (length_m / 2, -length_m / 2) for dy in (0.95, -0.95)]
    return np.concatenate(corners)


@pytest.mark.parametrize("radius", [4.5, 6.35])
def test_a_long_cars_right_turn_sweeps_clear_of_a_closed_oncoming_lane(radius):
    # Right turn at node 0: west, then north into a street whose southbound lane (west of
    # x = 0) roadworks close; the truck (7.36 m) and the longest car keep east of it.
    road = RoadMap(published(NORTHBOUND_ONLY, destination=3))
    assert (0, 3) in road.barrier_across
    path = Path.along(road, [1, 0, 3], turn_radius=radius)
    assert path.curvature.max() <= 1.0 / radius * 1.05
    assert np.hypot(path.points[:, 0] - 3.5, path.points[:, 1] - 3.5).min() > 0.4
    assert road.on_road(path.points).all()
    for length in (7.36, 8.0):
        corners = swept_corners(path, length)
        in_exit = corners[corners[:, 1] > road.half_width]
        assert in_exit[:, 0].min() > 0.0
    # Where no roadworks close the oncoming lane, the turn is laid as before.
    plain = Path.along(RoadMap(published(TOWN, destination=3)), [1, 0, 3], turn_radius=radius)
    before = Path.along(RoadMap(published(TOWN, destination=3)), [1, 0, 3])
    assert plain.junctions[0][0] == pytest.approx(before.junctions[0][0], abs=0.1)


def test_a_long_cars_right_turn_keeps_its_rear_swing_off_a_closed_lane_it_leaves():
    # West along a street whose eastbound lane (south of y = 0) roadworks close, then
    # right (north) at node 0: the rear swings south as the body turns.
    text = NORTHBOUND_ONLY.replace("n   |   |\n+---+", "|   |   |\n+<==+")
    road = RoadMap(published(text, destination=3))
    assert (1, 0) in road.barrier_across
    path = Path.along(road, [1, 0, 3], turn_radius=6.35)
    assert np.hypot(path.points[:, 0] - 3.5, path.points[:, 1] - 3.5).min() > 0.4
    assert road.on_road(path.points).all()
    corners = swept_corners(path, 8.0)
    assert corners[corners[:, 0] > road.half_width][:, 1].min() > 0.0


def test_told_its_rays_it_ignores_the_appended_road_user_entries():
    fields = {"preset": "rush_hour", "lidar_rays": 16}
    plain = PublicView(gym.make("CityDriving-v0", **fields))
    users = PublicView(gym.make("CityDriving-v0", observe_road_users=True, **fields))
    planners = [CityPlanner(plain, lidar_rays=16), CityPlanner(users, lidar_rays=16)]
    observations = [env.reset(seed=205) for env in (plain, users)]
    for planner, (observation, info) in zip(planners, observations, strict=True):
        planner.start_episode(observation, info)
    for _ in range(150):
        (a, _), (b, _) = observations
        assert len(b) == len(a) + 2 * 16
        read_a, read_b = planners[0]._read(a), planners[1]._read(b)
        assert np.array_equal(read_a.pop("lidar"), read_b.pop("lidar")) and read_a == read_b
        actions = [planner.predict(o, deterministic=True)[0]
                   for planner, (o, _) in zip(planners, observations, strict=True)]
        assert np.array_equal(*actions)
        observations = [env.step(actions[0])[::4] for env in (plain, users)]


def test_reads_the_default_lidar_behind_the_appended_route_and_road_user_entries():
    env = PublicView(gym.make("CityDriving-v0", preset="rush_hour", observe_route=True,
                              observe_road_users=True))
    assert CityPlanner(env).rays == 32


def test_a_ray_count_that_fits_no_observation_is_refused_with_its_name():
    env = PublicView(gym.make("CityDriving-v0", preset="rush_hour", lidar_rays=16))
    with pytest.raises(ValueError, match="lidar_rays=32"):
        CityPlanner(env)
