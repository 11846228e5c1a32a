"""A heuristic controller that proves ``LunarLanding-v0`` can be solved.

It reads only the observation, like any agent, and is never told the gravity or the
context; its only knowledge of the craft is the nominal one-step kick of each default
engine (constants below), which sets its decision thresholds. It sets a target
velocity (descend slower near the ground, drift toward the pad) and a target tilt
that points the main engine along the velocity error, tilting less while falling too
fast and more while climbing; then each step it picks the one action whose nominal
kick most reduces the squared velocity and spin errors.
"""

from __future__ import annotations

import math

import numpy as np

from exgen.envs.lunar import public

#: Descent speed held near the ground and its growth with height [m/s], [m/s per √m].
TOUCHDOWN_SPEED_MPS = 0.6
DESCENT_GAIN = 0.7
#: Horizontal approach speed per metre from the pad [1/s], and its limit [m/s].
APPROACH_GAIN = 1.0
MAX_APPROACH_MPS = 3.0
#: Upward bias of the thrust direction [m/s], and the weight of falling too fast [1].
UP_BIAS_MPS = 3.0
FALL_WEIGHT = 10.0
#: Largest tilt [rad], and the extra tilt allowed per m/s of climb [rad·s/m].
MAX_TILT_RAD = 0.45
CLIMB_TILT_GAIN = 0.8
#: Spin commanded per radian of tilt error [1/s].
ATTITUDE_GAIN = 2.5
#: Nominal change in one step of the main / a side engine: speed [m/s], spin [rad/s].
MAIN_KICK_MPS = 0.7
SIDE_KICK_MPS = 0.05
SIDE_SPIN_RADPS = 0.12
#: Weight of spin error against velocity error in the step cost [(m/s)² per (rad/s)²].
SPIN_WEIGHT = 20.0


def heuristic_action(observation: np.ndarray, continuous: bool = False) -> int | np.ndarray:
    """The heuristic's action for one observation, discrete (0..3) or continuous (2,)."""
    x = float(observation[public.X]) * public.X_SCALE_M
    y = float(observation[public.Y]) * public.Y_SCALE_M
    vx = float(observation[public.VX]) * public.VX_SCALE_MPS
    vy = float(observation[public.VY]) * public.VY_SCALE_MPS
    angle = float(observation[public.ANGLE])
    omega = float(observation[public.OMEGA]) * public.OMEGA_SCALE_RADPS
    touching = observation[public.LEFT_CONTACT] > 0.5 or observation[public.RIGHT_CONTACT] > 0.5

    ex = min(max(-APPROACH_GAIN * x, -MAX_APPROACH_MPS), MAX_APPROACH_MPS) - vx
    ey = -(TOUCHDOWN_SPEED_MPS + DESCENT_GAIN * math.sqrt(max(y, 0.0))) - vy
    limit = min(MAX_TILT_RAD + CLIMB_TILT_GAIN * max(vy, 0.0), math.pi)
    up = FALL_WEIGHT * max(ey, 0.0) + min(ey, 0.0) + UP_BIAS_MPS
    tilt = min(max(math.atan2(-ex, up), -limit), limit)
    if touching:
        ex, ey, tilt = -vx, -TOUCHDOWN_SPEED_MPS - vy, 0.0
    spin = ATTITUDE_GAIN * ((tilt - angle + math.pi) % (2 * math.pi) - math.pi) - omega
    sin_a, cos_a = math.sin(angle), math.cos(angle)

    def gain(dvx: float, dvy: float, dspin: float) -> float:
        """Drop in the squared errors if this step adds these changes."""
        return (2 * (ex * dvx + ey * dvy) - dvx * dvx - dvy * dvy
                + SPIN_WEIGHT * (2 * spin * dspin - dspin * dspin))

    side_x, side_y = SIDE_KICK_MPS * cos_a, SIDE_KICK_MPS * sin_a
    gains = {public.NOOP: 0.0,
             public.FIRE_MAIN: gain(-MAIN_KICK_MPS * sin_a, MAIN_KICK_MPS * cos_a, 0.0),
             public.FIRE_LEFT: gain(-side_x, -side_y, SIDE_SPIN_RADPS),
             public.FIRE_RIGHT: gain(side_x, side_y, -SIDE_SPIN_RADPS)}
    action = max(gains, key=gains.get)
    if not continuous:
        return action
    main = 1.0 if action == public.FIRE_MAIN else -1.0
    lateral = {public.FIRE_LEFT: -1.0, public.FIRE_RIGHT: 1.0}.get(action, 0.0)
    return np.array([main, lateral], dtype=np.float32)
