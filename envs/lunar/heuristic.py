"""A hand-written pilot that proves ``LunarLanding-v0`` can be solved.

It reads only the observation, like any agent, and needs no knowledge of gravity or
thrust: it holds a descent speed that shrinks with height and steers toward the pad
by tilting. It is the world's reference controller, not the physics planner, and is
tuned at default settings only (see ``tests/envs/lunar/test_heuristic.py``).
"""

from __future__ import annotations

import math

import numpy as np

from envs.lunar import public

#: Descent speed held near the ground and its growth with height [m/s], [m/s per √m].
TOUCHDOWN_SPEED_MPS = 0.6
DESCENT_GAIN = 0.7
#: Horizontal approach speed per metre from the pad [1/s], and its limit [m/s].
APPROACH_GAIN = 0.5
MAX_APPROACH_MPS = 2.5
#: Tilt commanded per m/s of horizontal speed error [rad·s/m], and its limit [rad].
TILT_GAIN = 0.25
MAX_TILT_RAD = 0.35


def heuristic_action(observation: np.ndarray, continuous: bool = False) -> int | np.ndarray:
    """The pilot's action for one observation, discrete (0..3) or continuous (2,)."""
    x = float(observation[public.X]) * public.X_SCALE_M
    y = float(observation[public.Y]) * public.Y_SCALE_M
    vx = float(observation[public.VX]) * public.VX_SCALE_MPS
    vy = float(observation[public.VY]) * public.VY_SCALE_MPS
    angle = float(observation[public.ANGLE])
    omega = float(observation[public.OMEGA]) * public.OMEGA_SCALE_RADPS
    touching = observation[public.LEFT_CONTACT] > 0.5 or observation[public.RIGHT_CONTACT] > 0.5

    approach = min(max(-APPROACH_GAIN * x, -MAX_APPROACH_MPS), MAX_APPROACH_MPS)
    tilt = min(max(TILT_GAIN * (vx - approach), -MAX_TILT_RAD), MAX_TILT_RAD)
    turn = (tilt - angle) - 0.3 * omega
    descent = -(TOUCHDOWN_SPEED_MPS + DESCENT_GAIN * math.sqrt(max(y, 0.0)))
    brake = descent - vy
    if touching:
        turn = -0.3 * omega - 0.5 * angle
        brake = -TOUCHDOWN_SPEED_MPS - vy

    if brake > 0.0 and (brake > 0.5 * abs(turn) or abs(angle) < 0.3):
        action = public.FIRE_MAIN
    elif turn > 0.05:
        action = public.FIRE_LEFT
    elif turn < -0.05:
        action = public.FIRE_RIGHT
    else:
        action = public.NOOP
    if not continuous:
        return action
    main = 1.0 if action == public.FIRE_MAIN else -1.0
    lateral = {public.FIRE_LEFT: -1.0, public.FIRE_RIGHT: 1.0}.get(action, 0.0)
    return np.array([main, lateral], dtype=np.float32)
