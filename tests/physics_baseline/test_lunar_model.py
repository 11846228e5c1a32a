"""The estimator recovers the world's numbers from synthetic, noisy transitions."""

import math

import numpy as np
import pytest

from exgen.envs.lunar import public
from exgen.physics_baseline.lunar_model import Estimator, predicted_acceleration

TRUE = np.array([3.71, 30.0, 2.6, 0.02, 4.0])  # g, main, side, drag, wind
TURN = 6.5


def observation(x, y, vx, vy, angle, omega):
    return np.array([x / public.X_SCALE_M, y / public.Y_SCALE_M, vx / public.VX_SCALE_MPS,
                     vy / public.VY_SCALE_MPS, angle, omega / public.OMEGA_SCALE_RADPS,
                     0.0, 0.0])


def synthetic_flight(steps: int, noise: float, seed: int = 0) -> Estimator:
    """Integrate the published model with random engine commands; feed the estimator."""
    rng = np.random.default_rng(seed)
    estimator = Estimator()
    x, y, vx, vy, angle, omega = 0.0, 10.0, 1.0, -1.0, 0.1, 0.0
    for _ in range(steps):
        throttles = public.discrete_throttles(int(rng.integers(0, 4)))
        before = observation(x, y, vx, vy, angle, omega)
        new_omega = omega - throttles.side * TURN * public.DT_S
        mid_angle = angle + 0.5 * (omega + new_omega) * public.DT_S / 2
        ax, ay = predicted_acceleration(TRUE, mid_angle, vx, vy, throttles.main, throttles.side)
        vx, vy = vx + ax * public.DT_S, vy + ay * public.DT_S
        x, y = x + vx * public.DT_S, y + vy * public.DT_S
        angle += 0.5 * (omega + new_omega) * public.DT_S
        omega = new_omega
        after = observation(x, y, vx, vy, angle, omega)
        noisy = after + rng.normal(0.0, noise, 8) * (np.arange(8) < 6)
        estimator.add(before, throttles, noisy)
        if abs(angle) > 0.8:  # keep the synthetic craft roughly upright
            omega = -np.sign(angle) * 0.5
    return estimator


@pytest.mark.parametrize(("noise", "tolerance"), [(0.0, 0.01), (0.002, 0.05)])
def test_recovers_gravity_thrust_and_turning(noise, tolerance):
    estimate = synthetic_flight(400, noise).fit(iterations=6)
    assert estimate.g == pytest.approx(TRUE[0], rel=tolerance)
    assert estimate.main == pytest.approx(TRUE[1], rel=tolerance)
    assert estimate.side == pytest.approx(TRUE[2], rel=4 * tolerance + 0.02)
    assert estimate.turn == pytest.approx(TURN, rel=2 * tolerance)
    assert estimate.error("g") < 0.1 and math.isfinite(estimate.error("main"))


def test_standard_errors_shrink_with_data():
    few = synthetic_flight(30, 0.002).fit(iterations=6)
    many = synthetic_flight(600, 0.002).fit(iterations=6)
    assert many.error("g") < few.error("g")
    assert many.error("main") < few.error("main")


def test_contact_and_saturated_readings_are_not_used():
    estimator = Estimator()
    before = observation(0, 5, 0, -1, 0, 0)
    touching = before.copy()
    touching[public.LEFT_CONTACT] = 1.0
    saturated = before.copy()
    saturated[public.OMEGA] = public.OBSERVATION_HIGH[public.OMEGA]
    assert not estimator.add(before, public.Throttles(0, 0), touching)
    assert not estimator.add(saturated, public.Throttles(0, 0), before)
    assert estimator.add(before, public.Throttles(0, 0), before)
    assert len(estimator) == 1
