"""The ego car: a kinematic bicycle model inside a friction circle.

State in SI units: position [m], heading [rad, counter-clockwise from +x], speed
[m/s, never negative], course (direction of travel) [rad], steering angle [rad] and
whether the tyres slip. With grip the car goes where it points. When the demanded
acceleration (longitudinal and lateral together) exceeds μ·g, the tyres slip: the
car slides along its course, speeds up or slows down by at most μ·g, and the
steering keeps only ``SLIP_STEERING_AUTHORITY`` of its effect, until the demand
falls back inside the circle. The car's size and limits are a :class:`Car`, made from
the context's car fields (``Car.of``); ``DEFAULT_CAR`` is today's car, which the other
cars share. No Gymnasium import here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from exgen.envs.city import kernels
from exgen.envs.city.config import GRAVITY_MPS2, CityConfig

#: The default car (the context's defaults); the other cars keep its size.
WHEELBASE_M: float = CityConfig.wheelbase_m
LENGTH_M: float = CityConfig.car_length_m
WIDTH_M = 1.9
MAX_ACCELERATION_MPS2: float = CityConfig.max_acceleration_mps2
MAX_BRAKING_MPS2: float = CityConfig.max_braking_mps2
MAX_STEERING_RAD: float = CityConfig.max_steering_rad
STEERING_RATE_RADPS = 1.5
MAX_SPEED_MPS = 30.0
#: Fraction of the yaw rate that steering still gives while the tyres slip.
SLIP_STEERING_AUTHORITY = 0.25


@dataclass(frozen=True)
class Car:
    """The ego car's size [m] and limits: throttle and brake [m/s²], steering [rad]."""

    wheelbase_m: float = WHEELBASE_M
    length_m: float = LENGTH_M
    width_m: float = WIDTH_M
    max_acceleration_mps2: float = MAX_ACCELERATION_MPS2
    max_braking_mps2: float = MAX_BRAKING_MPS2
    max_steering_rad: float = MAX_STEERING_RAD

    def limits(self) -> np.ndarray:
        """Steering limit [rad], throttle and brake [m/s²] and wheelbase [m], for
        :func:`exgen.envs.city.kernels.drive`."""
        return np.array([self.max_steering_rad, self.max_acceleration_mps2,
                         self.max_braking_mps2, self.wheelbase_m])

    @classmethod
    def of(cls, context: Any) -> Car:
        """The car of a concrete :class:`~exgen.envs.city.config.CityConfig`."""
        return cls(context.wheelbase_m, context.car_length_m, WIDTH_M,
                   context.max_acceleration_mps2, context.max_braking_mps2,
                   context.max_steering_rad)


DEFAULT_CAR = Car()


@dataclass
class VehicleState:
    """Pose and motion of the car; mutable, advanced in place by :func:`advance`."""

    x: float
    y: float
    heading: float
    speed: float = 0.0
    steering: float = 0.0
    course: float | None = None
    slipping: bool = False

    def __post_init__(self) -> None:
        if self.course is None:
            self.course = self.heading


def demanded_acceleration(speed: float, steering: float, pedal: float,
                          car: Car = DEFAULT_CAR) -> tuple[float, float]:
    """Longitudinal and lateral acceleration [m/s²] the driver asks of the tyres.

    ``pedal`` in [-1, 1]: throttle above zero, brake below. Braking at rest asks nothing.
    """
    if pedal >= 0.0:
        longitudinal = pedal * car.max_acceleration_mps2
    else:
        longitudinal = pedal * car.max_braking_mps2 if speed > 0.0 else 0.0
    lateral = speed * speed * math.tan(steering) / car.wheelbase_m
    return longitudinal, lateral


def advance(state: VehicleState, steer: float, pedal: float, friction: float,
            dt: float, car: Car = DEFAULT_CAR, substeps: int = 1) -> None:
    """Advance ``state`` by ``substeps`` steps of ``dt`` seconds under a steering and
    pedal command in [-1, 1] (:func:`exgen.envs.city.kernels.drive`)."""
    array = np.array([state.x, state.y, state.heading, state.speed, state.steering,
                      state.course, float(state.slipping)])
    kernels.drive(array, steer, pedal, friction, dt, substeps, car.limits(), GRAVITY_MPS2,
                  STEERING_RATE_RADPS, SLIP_STEERING_AUTHORITY, MAX_SPEED_MPS)
    (state.x, state.y, state.heading, state.speed, state.steering, state.course,
     slipping) = array.tolist()
    state.slipping = slipping != 0.0


def braking_distance(speed: float, friction: float, car: Car = DEFAULT_CAR) -> float:
    """Distance [m] to stop from ``speed`` under full braking, in continuous time."""
    return speed * speed / (2.0 * min(car.max_braking_mps2, friction * GRAVITY_MPS2))


def corners(state: VehicleState, car: Car = DEFAULT_CAR) -> list[tuple[float, float]]:
    """The four corners of the car's body [m], front-left first, counter-clockwise."""
    c, s = math.cos(state.heading), math.sin(state.heading)
    hl, hw = car.length_m / 2, car.width_m / 2
    return [(state.x + c * dx - s * dy, state.y + s * dx + c * dy)
            for dx, dy in ((hl, hw), (-hl, hw), (-hl, -hw), (hl, -hw))]
