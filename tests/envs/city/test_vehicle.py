"""The car's model: braking distance, the friction circle, slip, steering."""

import math

import pytest

from exgen.envs.city.config import GRAVITY_MPS2
from exgen.envs.city.vehicle import (
    MAX_BRAKING_MPS2,
    MAX_SPEED_MPS,
    WHEELBASE_M,
    VehicleState,
    advance,
    braking_distance,
    corners,
)

DT = 0.02


def stop_from(speed: float, friction: float) -> tuple[float, bool]:
    """Distance driven under full braking from ``speed``, and whether it slipped."""
    car = VehicleState(0.0, 0.0, 0.0, speed=speed)
    slipped = False
    while car.speed > 0.0:
        advance(car, 0.0, -1.0, friction, DT)
        slipped |= car.slipping
    return car.x, slipped


@pytest.mark.parametrize("friction", [1.0, 0.6, 0.3, 0.15])
@pytest.mark.parametrize("speed", [8.0, 14.0, 20.0])
def test_braking_distance_is_v_squared_over_twice_the_usable_deceleration(friction, speed):
    distance, slipped = stop_from(speed, friction)
    expected = speed**2 / (2.0 * min(MAX_BRAKING_MPS2, friction * GRAVITY_MPS2))
    assert braking_distance(speed, friction) == pytest.approx(expected)
    # Discrete steps add at most one step of travel.
    assert distance == pytest.approx(expected, abs=speed * DT)
    assert slipped == (friction * GRAVITY_MPS2 < MAX_BRAKING_MPS2)


def test_cornering_inside_the_circle_follows_the_bicycle_model():
    car = VehicleState(0.0, 0.0, 0.0, speed=5.0, steering=0.2)
    for _ in range(50):
        advance(car, 0.2 / 0.6, 0.0, 1.0, DT)
    assert not car.slipping
    yaw_rate = 5.0 * math.tan(0.2) / WHEELBASE_M
    assert car.heading == pytest.approx(yaw_rate * 50 * DT, rel=1e-9)
    assert car.course == car.heading


def test_cornering_too_fast_on_ice_slides_along_the_course():
    car = VehicleState(0.0, 0.0, 0.0, speed=15.0)
    for _ in range(25):
        advance(car, 1.0, 0.0, 0.15, DT)
    assert car.slipping
    assert car.course == 0.0 and abs(car.y) < 1e-9  # still going straight on
    assert 0.0 < car.heading < 15.0 * math.tan(0.6) / WHEELBASE_M * 25 * DT
    for _ in range(200):
        advance(car, 0.0, 0.0, 0.15, DT)
    assert not car.slipping and car.course == car.heading


def test_speed_stays_between_zero_and_the_top_speed():
    car = VehicleState(0.0, 0.0, 1.0)
    advance(car, 0.0, -1.0, 1.0, DT)
    assert car.speed == 0.0 and car.x == 0.0
    for _ in range(3000):
        advance(car, 0.0, 1.0, 1.0, DT)
    assert car.speed == MAX_SPEED_MPS


def test_steering_is_rate_limited():
    car = VehicleState(0.0, 0.0, 0.0)
    advance(car, 1.0, 0.0, 1.0, DT)
    assert 0.0 < car.steering < 0.6 * 0.1


def test_corners_surround_the_centre():
    xs, ys = zip(*corners(VehicleState(10.0, 5.0, math.pi / 2)), strict=True)
    assert sum(xs) / 4 == pytest.approx(10.0) and sum(ys) / 4 == pytest.approx(5.0)
    assert max(ys) - min(ys) == pytest.approx(4.6) and max(xs) - min(xs) == pytest.approx(1.9)
