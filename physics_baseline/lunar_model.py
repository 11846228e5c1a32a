"""The lander's published model, its unknown parameters, and their estimation.

Everything here comes from :mod:`exgen.envs.lunar.public` (observation scaling, action
meanings, the structure of the forces); no parameter value of the world is known.
The estimator measures, from the planner's own transitions in free flight,

- ``g`` gravity [m/s²], ``main`` and ``side`` engine accelerations [m/s²],
- ``drag`` drag per unit mass [1/m] and ``wind`` the steady horizontal air speed [m/s],

by weighted nonlinear least squares (Gauss-Newton with a weak prior), and ``turn``,
the side engines' angular acceleration [rad/s²], by linear least squares on the
spin changes. Estimates come with standard errors.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from exgen.envs.lunar import public

#: Parameter order of the translational model.
PARAMETERS = ("g", "main", "side", "drag", "wind")
#: Weak prior: a centre and a standard deviation per parameter (broad on purpose).
PRIOR_MEAN = np.array([5.0, 20.0, 2.0, 0.01, 0.0])
PRIOR_STD = np.array([30.0, 100.0, 20.0, 0.2, 15.0])
TURN_PRIOR = (5.0, 50.0)
#: Physical bounds of the parameters: drag cannot be negative, and with little data a
#: tiny drag against an unbounded wind would fit as well as the truth.
LOWER = np.array([0.0, 0.0, 0.0, 0.0, -30.0])
UPPER = np.array([40.0, 500.0, 100.0, 0.5, 30.0])
#: Transitions kept for fitting, newest last.
MEMORY = 1500


@dataclass(frozen=True)
class State:
    """The lander's state in SI units, read from one observation."""

    x: float
    y: float
    vx: float
    vy: float
    angle: float
    omega: float
    left_contact: bool
    right_contact: bool

    @classmethod
    def from_observation(cls, observation: np.ndarray) -> State:
        o = np.asarray(observation, dtype=np.float64)
        return cls(o[public.X] * public.X_SCALE_M, o[public.Y] * public.Y_SCALE_M,
                   o[public.VX] * public.VX_SCALE_MPS, o[public.VY] * public.VY_SCALE_MPS,
                   float(o[public.ANGLE]), o[public.OMEGA] * public.OMEGA_SCALE_RADPS,
                   o[public.LEFT_CONTACT] > 0.5, o[public.RIGHT_CONTACT] > 0.5)

    @property
    def touching(self) -> bool:
        return self.left_contact or self.right_contact

    def saturated(self, observation: np.ndarray) -> bool:
        """Whether a sensor reading sits at its clip limit (then it is not a measurement)."""
        values = np.asarray(observation[:6], dtype=np.float64)
        return bool(np.any(np.abs(values) >= np.abs(np.array(public.OBSERVATION_HIGH[:6]))
                           * 0.999))


@dataclass(frozen=True)
class Estimate:
    """Identified parameters with standard errors (same order as ``PARAMETERS``)."""

    values: np.ndarray
    errors: np.ndarray
    turn: float
    turn_error: float
    transitions: int
    residual_rms: float

    def __getattr__(self, name: str) -> float:
        if name in PARAMETERS:
            return float(self.values[PARAMETERS.index(name)])
        raise AttributeError(name)

    def error(self, name: str) -> float:
        return float(self.errors[PARAMETERS.index(name)])

    def as_dict(self) -> dict[str, float]:
        data = {name: float(v) for name, v in zip(PARAMETERS, self.values, strict=True)}
        data.update({f"{name}_error": float(e)
                     for name, e in zip(PARAMETERS, self.errors, strict=True)})
        data.update(turn=self.turn, turn_error=self.turn_error,
                    transitions=self.transitions, residual_rms=self.residual_rms)
        return data


def predicted_acceleration(values: np.ndarray, angle: float, vx: float, vy: float,
                           main: float, side: float) -> tuple[float, float]:
    """The model's linear acceleration [m/s²] for parameters ``values``."""
    g, main_accel, side_accel, drag, wind = values
    return public.body_acceleration(
        angle, (vx, vy), public.Throttles(main, side), gravity=g, main_accel=main_accel,
        side_accel=side_accel, drag_per_mass=drag, air_velocity=(wind, 0.0))


class Estimator:
    """Online identification of the lander model from free-flight transitions."""

    def __init__(self) -> None:
        self.rows: deque[tuple[float, ...]] = deque(maxlen=MEMORY)
        self.values = PRIOR_MEAN.copy()
        self.estimate = self._current(np.full(5, np.inf), TURN_PRIOR[0], np.inf, 0.0)

    def __len__(self) -> int:
        return len(self.rows)

    def add(self, before: np.ndarray, throttles: public.Throttles, after: np.ndarray) -> bool:
        """Record one transition if it is free flight; return whether it was used."""
        s0, s1 = State.from_observation(before), State.from_observation(after)
        if s0.touching or s1.touching or s0.saturated(before) or s1.saturated(after):
            return False
        turn = (s1.angle - s0.angle + math.pi) % (2 * math.pi) - math.pi
        self.rows.append((
            s0.angle + turn / 2, (s0.vx + s1.vx) / 2, (s0.vy + s1.vy) / 2,
            (s1.vx - s0.vx) / public.DT_S, (s1.vy - s0.vy) / public.DT_S,
            (s1.omega - s0.omega) / public.DT_S, throttles.main, throttles.side))
        return True

    def extend(self, rows: list[tuple[float, ...]]) -> None:
        self.rows.extend(rows)

    def fit(self, iterations: int = 3) -> Estimate:
        """Refit on the stored transitions, starting from the last estimate."""
        if not self.rows:
            return self.estimate
        data = np.array(self.rows)
        angle, vx, vy, ax, ay, alpha, main, side = data.T
        sin_a, cos_a = np.sin(angle), np.cos(angle)
        values = self.values.copy()
        prior_weight = 1.0 / PRIOR_STD
        for _ in range(iterations):
            g, main_accel, side_accel, drag, wind = values
            rx, ry = wind - vx, -vy
            speed = np.sqrt(rx * rx + ry * ry) + 1e-9
            model_x = -main * main_accel * sin_a + side * side_accel * cos_a + drag * speed * rx
            model_y = main * main_accel * cos_a + side * side_accel * sin_a + drag * speed * ry - g
            zeros = np.zeros_like(main)
            jx = np.column_stack([zeros, -main * sin_a, side * cos_a, speed * rx,
                                  drag * (speed + rx * rx / speed)])
            jy = np.column_stack([-np.ones_like(main), main * cos_a, side * sin_a, speed * ry,
                                  drag * rx * ry / speed])
            jacobian = np.vstack([jx, jy, np.diag(prior_weight)])
            residual = np.concatenate([ax - model_x, ay - model_y,
                                       prior_weight * (PRIOR_MEAN - values)])
            step, *_ = np.linalg.lstsq(jacobian, residual, rcond=None)
            values = np.clip(values + step, LOWER, UPPER)
        g, main_accel, side_accel, drag, wind = values
        rx, ry = wind - vx, -vy
        speed = np.sqrt(rx * rx + ry * ry)
        residual = np.concatenate([
            ax - (-main * main_accel * sin_a + side * side_accel * cos_a + drag * speed * rx),
            ay - (main * main_accel * cos_a + side * side_accel * sin_a + drag * speed * ry - g)])
        rms = float(np.sqrt(np.mean(residual**2)))
        sigma2 = max(rms**2, 1e-6)
        normal = jacobian.T @ jacobian
        covariance = sigma2 * np.linalg.pinv(normal)
        errors = np.sqrt(np.clip(np.diag(covariance), 0.0, None))
        turn, turn_error = _fit_turn(alpha, side)
        self.values = values
        self.estimate = self._current(errors, turn, turn_error, rms)
        return self.estimate

    def misfit(self, rows: list[tuple[float, ...]]) -> float:
        """RMS acceleration error [m/s²] of ``rows`` under the current estimate."""
        if not rows:
            return 0.0
        errors = []
        for angle, vx, vy, ax, ay, _, main, side in rows:
            px, py = predicted_acceleration(self.values, angle, vx, vy, main, side)
            errors += [ax - px, ay - py]
        return float(np.sqrt(np.mean(np.square(errors))))

    def _current(self, errors: np.ndarray, turn: float, turn_error: float,
                 rms: float) -> Estimate:
        return Estimate(self.values.copy(), errors, turn, turn_error, len(self.rows), rms)


def _fit_turn(alpha: np.ndarray, side: np.ndarray) -> tuple[float, float]:
    """Angular acceleration per unit side throttle: alpha = -side * turn."""
    prior, prior_std = TURN_PRIOR
    weight = 1.0 / prior_std**2
    used = side != 0
    numerator = float(np.sum(-side[used] * alpha[used])) + weight * prior
    denominator = float(np.sum(side[used] ** 2)) + weight
    turn = numerator / denominator
    residual = alpha[used] + side[used] * turn
    spread = float(np.std(residual)) if used.sum() > 1 else prior_std
    return turn, spread / math.sqrt(denominator)
