"""Other cars and pedestrians: no collisions, lights, IDM gaps, yielding, crossings."""

import gymnasium as gym
import numpy as np
import pytest

import exgen  # noqa: F401
from exgen.envs.city import public
from exgen.envs.city.kernels import rectangles_overlap
from exgen.envs.city.lights import GREEN, RED
from exgen.envs.city.traffic import CROSSWALK_M, MIN_GAP_M, conflict_table
from exgen.envs.city.vehicle import LENGTH_M, WIDTH_M

BUSY = {"traffic_density": 8.0, "pedestrian_density": 0.5, "jaywalk_rate": 0.1}


def world_for(seed: int, **fields):
    env = gym.make("CityDriving-v0", **{**BUSY, **fields})
    env.reset(seed=seed)
    world = env.unwrapped.world
    world.car.x += 1e4  # the ego car waits far away, out of everybody's way
    return world


def overlapping_pairs(traffic) -> int:
    centres = np.stack([traffic.x, traffic.y], axis=1)
    pairs = 0
    for i in range(len(centres)):
        others = np.arange(i + 1, len(centres))
        near = others[np.abs(centres[others] - centres[i]).max(axis=1) < LENGTH_M]
        pairs += int(rectangles_overlap(traffic.x[i], traffic.y[i], traffic.heading[i],
                                        LENGTH_M, WIDTH_M, centres[near, 0], centres[near, 1],
                                        traffic.heading[near]).sum())
    return pairs


@pytest.mark.parametrize("seed, side", [(0, "right"), (1, "left"), (2, "right")])
def test_other_cars_never_collide_and_keep_moving(seed, side):
    world = world_for(seed, driving_side=side)
    traffic = world.traffic
    assert len(traffic.s) >= 15
    travelled = 0.0
    for _ in range(1200):
        world.step(0.0, -1.0)
        assert overlapping_pairs(traffic) == 0
        travelled += traffic.v.sum() * public.DT_S
    assert travelled / len(traffic.s) > 300.0  # metres per car in two minutes


def test_cars_keep_their_gaps_in_a_lane():
    world = world_for(3)
    traffic = world.traffic
    closest = np.inf
    for _ in range(1000):
        world.step(0.0, -1.0)
        order = np.lexsort((traffic.s, traffic.arc))
        same = traffic.arc[order[1:]] == traffic.arc[order[:-1]]
        gaps = traffic.s[order[1:]][same] - traffic.s[order[:-1]][same] - LENGTH_M
        if len(gaps):
            closest = min(closest, gaps.min())
    assert closest >= 0.5 * MIN_GAP_M - 1e-9


def test_cars_stop_at_red_lights():
    world = world_for(4)
    traffic, arcs, lights = world.traffic, world.traffic.arcs, world.lights
    line = traffic.stop - CROSSWALK_M
    crossings = late = 0
    for _ in range(1500):
        before = traffic.s + LENGTH_M / 2 < line
        arc_before = traffic.arc.copy()
        world.step(0.0, -1.0)
        line = traffic.stop - CROSSWALK_M
        crossed = np.flatnonzero(before & (traffic.arc == arc_before)
                                 & (traffic.s + LENGTH_M / 2 >= line))
        nodes = arcs.to[traffic.arc[crossed]]
        axes = arcs.direction[traffic.arc[crossed]] % 2
        codes = lights.codes(nodes, axes, world.time_s)
        crossings += len(crossed)
        lit = codes != -1
        # Time into red: a car may still be clearing the line as its amber ends.
        t = np.mod(world.time_s + lights.offset[nodes] - axes * lights.half_cycle_s,
                   2 * lights.half_cycle_s) - lights.green_s - lights.amber_s
        late += int((lit & (codes == RED) & (t > lights.all_red_s)).sum())
    assert crossings > 50
    assert late == 0


def test_no_two_cars_hold_conflicting_paths_through_one_intersection():
    world = world_for(5)
    traffic = world.traffic
    for _ in range(1500):
        world.step(0.0, -1.0)
        holders = np.flatnonzero(traffic.reserved)
        nodes = traffic.arcs.to[traffic.arc[holders]]
        moves = traffic.movement[holders]
        same = nodes[:, None] == nodes[None, :]
        clash = traffic.conflicts[moves[:, None], moves[None, :]]
        assert not (same & clash).any()


@pytest.mark.parametrize("side, crossing_turn, kerb_turn", [
    ("right", (0, 1), (0, 3)), ("left", (0, 3), (0, 1))])
def test_turns_across_oncoming_traffic_yield_and_kerb_turns_do_not(side, crossing_turn,
                                                                    kerb_turn):
    table = conflict_table(side, 3.5, 3.5)
    oncoming_straight = 4 * 2 + 2  # from the east, going west
    assert table[4 * crossing_turn[0] + crossing_turn[1], oncoming_straight]
    assert not table[4 * kerb_turn[0] + kerb_turn[1], oncoming_straight]
    assert not table[4 * 0 + 0, oncoming_straight]  # straight past each other
    assert table[4 * 0 + 0, 4 * 1 + 1]  # crossing paths
    assert (table == table.T).all()


def test_a_left_turner_waits_for_an_oncoming_car_holding_the_intersection():
    world = world_for(6)
    traffic = world.traffic
    waited = 0
    for _ in range(2000):
        world.step(0.0, -1.0)
        holders = np.flatnonzero(traffic.reserved)
        front_to_line = traffic.stop - CROSSWALK_M - LENGTH_M / 2 - traffic.s
        waiting = np.flatnonzero(~traffic.reserved & (front_to_line < 4.0)
                                 & (front_to_line > 0) & (traffic.v < 0.1))
        for car in waiting:
            node = traffic.arcs.to[traffic.arc[car]]
            same = holders[traffic.arcs.to[traffic.arc[holders]] == node]
            if traffic.conflicts[traffic.movement[car], traffic.movement[same]].any():
                waited += 1
    assert waited > 0  # conflicts happen in busy traffic, and cars wait them out


def test_pedestrians_cross_on_their_signal_unless_they_jaywalk():
    world = world_for(7, jaywalk_rate=0.0, pedestrian_density=1.0)
    people = world.pedestrians
    starts = against = 0
    for _ in range(2000):
        was = people.crossing.copy()
        world.step(0.0, -1.0)
        started = np.flatnonzero(people.crossing & ~was)
        starts += len(started)
        if len(started):
            walk = people.walk_signal(world.time_s, started)
            against += int((~walk).sum())
    assert starts > 20 and against == 0
    reckless = world_for(7, jaywalk_rate=1.0, pedestrian_density=1.0).pedestrians
    assert reckless.reckless.all()


def test_nobody_steps_in_front_of_a_car_about_to_cross():
    world = world_for(8, pedestrian_density=1.0)
    people = world.pedestrians
    for _ in range(1500):
        was = people.crossing.copy()
        world.step(0.0, -1.0)
        # Pedestrians decide after the cars have moved, as the cars stand now.
        danger = world.crosswalks_in_danger()
        started = np.flatnonzero(people.crossing & ~was)
        assert not danger[people.node[started], people.arm[started]].any()


def test_ego_collisions_with_a_car_and_a_pedestrian_are_scored():
    env = gym.make("CityDriving-v0", **BUSY)
    env.reset(seed=9)
    world = env.unwrapped.world
    world.car.x, world.car.y = world.traffic.x[0], world.traffic.y[0]
    _, _, terminated, _, info = env.step(np.zeros(2, np.float32))
    assert terminated and info["outcome"] == "collision"
    assert info["infractions"]["collision_vehicle"] == 1
    assert info["driving_score"] <= 0.6 * info["route_completion"] + 1e-12
    env.reset(seed=9)
    world = env.unwrapped.world
    world.traffic.s[:] = -1e4  # cars far out of the way
    world.traffic._poses()
    world.traffic.v[:] = 0.0
    (x, y), = world.pedestrians.positions()[:1]
    world.car.x, world.car.y = x, y
    _, _, terminated, _, info = env.step(np.zeros(2, np.float32))
    assert terminated and info["infractions"]["collision_pedestrian"] == 1


def test_lidar_sees_other_cars():
    world = world_for(10)
    traffic = world.traffic
    car = 0
    world.car.x = traffic.x[car] - 10.0 * np.cos(traffic.heading[car])
    world.car.y = traffic.y[car] - 10.0 * np.sin(traffic.heading[car])
    world.car.heading = float(traffic.heading[car])
    assert world.scan()[0] == pytest.approx(10.0 - LENGTH_M / 2, abs=0.05)


def test_traffic_is_deterministic_and_seeded():
    a, b, c = world_for(11), world_for(11), world_for(12)
    for _ in range(300):
        for world in (a, b, c):
            world.step(0.0, -1.0)
    assert a.traffic.x.tobytes() == b.traffic.x.tobytes()
    assert a.pedestrians.positions().tobytes() == b.pedestrians.positions().tobytes()
    assert a.traffic.x.tobytes() != c.traffic.x.tobytes()


def test_densities_set_the_numbers():
    empty = world_for(0, traffic_density=0.0, pedestrian_density=0.0)
    assert len(empty.traffic.s) == 0 and empty.pedestrians.count == 0
    for _ in range(20):
        empty.step(0.0, 1.0)
    dense = world_for(0, traffic_density=4.0)
    sparse = world_for(0, traffic_density=1.0)
    assert len(dense.traffic.s) == pytest.approx(4 * len(sparse.traffic.s), abs=2)


def test_lights_codes_match_the_published_rule():
    world = world_for(13)
    lights = world.lights
    nodes = np.array(sorted(lights.offsets))
    for t in np.linspace(0.0, 100.0, 57):
        for axis in (0, 1):
            codes = lights.codes(nodes, np.full(len(nodes), axis), t)
            names = [lights.state(int(n), axis, t) for n in nodes]
            assert [("green", "amber", "red")[c] for c in codes] == names
    assert GREEN == 0


def test_the_densest_traffic_in_a_small_city_starts_and_runs_without_overlaps():
    world = world_for(14, grid_columns=3, grid_rows=3, traffic_density=30.0)
    street_km = sum(world.city.length(*arc) for arc in world.city.arcs()) / 2000.0
    assert 0 < len(world.traffic.s) <= round(30.0 * street_km)
    for _ in range(300):
        assert overlapping_pairs(world.traffic) == 0
        world.step(0.0, -1.0)
