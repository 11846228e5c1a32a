"""Physics of the pymunk world, driven directly (no Gymnasium)."""

import math

import numpy as np
import pytest

from exgen.envs.lunar import public
from exgen.envs.lunar.config import LanderConfig
from exgen.envs.lunar.world import PAD_Y_M, LanderWorld

STILL = {"initial_velocity_spread": 0.0, "drag_coefficient": 0.0, "terrain_roughness": 0.0}
OFF = public.Throttles(0.0, 0.0)


def make_world(substeps: int = 2, seed: int = 0, **fields) -> LanderWorld:
    return LanderWorld(LanderConfig(**{**STILL, **fields}), np.random.default_rng(seed),
                       substeps)


@pytest.mark.parametrize("gravity", [0.5, 1.62, 9.81, 24.79])
def test_free_fall_matches_half_g_t_squared(gravity):
    world = make_world(initial_height=14.0, gravity=gravity, substeps=4)
    y0 = world.kinematics()[1]
    steps = 20
    for _ in range(steps):
        world.step(OFF)
    t = steps * public.DT_S
    fallen = y0 - world.kinematics()[1]
    # Semi-implicit Euler is off by at most g·t·h/2 with h the substep.
    assert fallen == pytest.approx(0.5 * gravity * t**2, abs=gravity * t * public.DT_S / 4 + 1e-9)
    assert world.kinematics()[3] == pytest.approx(-gravity * t, rel=1e-9)


@pytest.mark.parametrize("angle", [-0.6, 0.0, 0.4])
def test_main_engine_accelerates_along_the_body_axis(angle):
    world = make_world(gravity=1.0, initial_height=14.0, fuel_mass=0.0,
                       main_engine_fuel_rate=0.0, side_engine_fuel_rate=0.0)
    world.place(*world.hull.position, angle=angle)
    steps = 10
    for _ in range(steps):
        world.step(public.Throttles(1.0, 0.0))
    t = steps * public.DT_S
    _, _, vx, vy, final_angle, _ = world.kinematics()
    assert final_angle == pytest.approx(angle, abs=1e-6)
    thrust_accel = world.context.main_engine_thrust / world.mass
    assert vx == pytest.approx(-math.sin(angle) * thrust_accel * t, rel=0.03, abs=1e-6)
    assert vy == pytest.approx(math.cos(angle) * thrust_accel * t - 1.0 * t, rel=0.03)


def test_side_engines_turn_and_push_as_published():
    for side, turn_sign in ((-1.0, 1.0), (1.0, -1.0)):
        world = make_world(gravity=1.0, initial_height=14.0)
        for _ in range(5):
            world.step(public.Throttles(0.0, side))
        _, _, vx, _, angle, omega = world.kinematics()
        assert np.sign(omega) == turn_sign and np.sign(angle) == turn_sign
        assert np.sign(vx) == np.sign(side)


def test_fuel_runs_out_and_then_the_engine_is_dead():
    world = make_world(gravity=5.0, initial_height=14.0, fuel_mass=0.05,
                       main_engine_fuel_rate=0.5)
    start_mass = world.mass
    steps_of_fuel = 0.05 / (0.5 * public.DT_S)
    for _ in range(int(steps_of_fuel) + 1):
        world.step(public.Throttles(1.0, 0.0))
    assert world.fuel == 0.0
    assert world.fuel_used == pytest.approx(0.05)
    assert world.mass == pytest.approx(start_mass - 0.05)
    vy_before = world.kinematics()[3]
    for _ in range(10):
        world.step(public.Throttles(1.0, 0.0))
    assert world.throttles == OFF
    assert world.kinematics()[3] == pytest.approx(vy_before - 5.0 * 10 * public.DT_S, rel=1e-6)


def test_trajectories_agree_across_substep_counts():
    actions = [public.Throttles(1.0, 0.0) if i % 3 == 0 else public.Throttles(0.0, 0.7 * (
        -1) ** i) for i in range(60)]
    finals = []
    for substeps in (1, 2, 4, 8):
        world = make_world(substeps=substeps, initial_height=14.0, gravity=9.81,
                           drag_coefficient=0.1, wind_speed=3.0)
        for throttles in actions:
            world.step(throttles)
        finals.append(np.array(world.kinematics()))
    reference = finals[-1]
    for final in finals[:-1]:
        np.testing.assert_allclose(final, reference, atol=0.15)


def test_wind_pushes_downwind_through_drag():
    calm = make_world(gravity=1.0, initial_height=14.0, drag_coefficient=0.1)
    windy = make_world(gravity=1.0, initial_height=14.0, drag_coefficient=0.1, wind_speed=10.0)
    for _ in range(25):
        calm.step(OFF)
        windy.step(OFF)
    assert calm.kinematics()[2] == pytest.approx(0.0, abs=1e-9)
    assert windy.kinematics()[2] > 0.5


def test_resting_on_the_pad_both_legs_touch_and_the_hull_does_not():
    world = make_world(gravity=9.81, initial_height=2.0)
    for _ in range(150):
        world.step(OFF)
    _x, y, vx, vy, angle, _omega = world.kinematics()
    assert world.leg_contacts == [1, 1]
    assert world.feet_on_pad()
    assert not world.crashed
    assert abs(y) < 0.1 and math.hypot(vx, vy) < 0.01 and abs(angle) < 0.01


def test_terrain_has_a_flat_pad_and_bounded_hills():
    world = make_world(terrain_roughness=2.0, pad_x=-4.0, pad_width=3.0)
    xs, ys = zip(*world.terrain_points, strict=True)
    assert list(xs) == sorted(xs)
    assert (world.pad_left, PAD_Y_M) in world.terrain_points
    assert (world.pad_right, PAD_Y_M) in world.terrain_points
    assert world.pad_right - world.pad_left == pytest.approx(3.0)
    assert all(abs(y - PAD_Y_M) <= 2.0 + 1e-9 for y in ys)
    assert max(abs(y - PAD_Y_M) for y in ys) > 0.1


def test_terrain_seed_fixes_the_terrain_across_episode_seeds():
    fixed = [make_world(seed=s, terrain_roughness=3.0, terrain_seed=5).terrain_points
             for s in range(3)]
    free = [make_world(seed=s, terrain_roughness=3.0).terrain_points for s in range(3)]
    assert fixed[0] == fixed[1] == fixed[2]
    assert free[0] != free[1]


def test_a_ranged_context_must_be_sampled_first():
    with pytest.raises(ValueError, match="concrete context"):
        LanderWorld(LanderConfig(gravity=(1.0, 2.0)), np.random.default_rng(0))


@pytest.mark.parametrize(("throttles", "angle", "velocity"), [
    (public.Throttles(1.0, 0.0), 0.3, (2.0, -3.0)),
    (public.Throttles(0.6, -1.0), -0.5, (-1.0, 1.0)),
    (public.Throttles(0.0, 0.8), 1.2, (0.0, -6.0)),
])
def test_the_published_model_predicts_the_free_flight_physics(throttles, angle, velocity):
    """``public.body_acceleration`` with the true per-mass parameters matches pymunk."""
    world = make_world(substeps=16, gravity=3.0, initial_height=14.0, drag_coefficient=0.2,
                       wind_speed=4.0, main_engine_fuel_rate=0.0, side_engine_fuel_rate=0.0)
    world.place(*world.hull.position, angle=angle, velocity=velocity)
    mass = world.mass
    ctx = world.context
    predicted = public.body_acceleration(
        angle, velocity, throttles, gravity=ctx.gravity,
        main_accel=ctx.main_engine_thrust / mass, side_accel=ctx.side_engine_thrust / mass,
        drag_per_mass=ctx.drag_coefficient / mass, air_velocity=(ctx.wind_speed, 0.0))
    world.step(throttles)
    _, _, vx, vy, _, omega = world.kinematics()
    measured = ((vx - velocity[0]) / public.DT_S, (vy - velocity[1]) / public.DT_S)
    np.testing.assert_allclose(measured, predicted, rtol=0.05, atol=0.05)
    # The side engines turn the craft the published way round; nothing else turns it
    # (beyond the legs' small lag on their springs).
    angular = public.angular_acceleration(throttles, side_angular_accel=1.0)
    if angular:
        assert np.sign(omega) == np.sign(angular) and abs(omega) > 0.05
    else:
        assert abs(omega) < 0.01
