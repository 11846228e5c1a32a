"""What any agent may know about ``LunarLanding-v0``: the published interface.

This module is the *only* part of ``envs/`` that ``physics_baseline/`` may import. It
holds the observation layout and scaling, the action meanings, and the structure of
the model (which forces act and how actions map to them), with no parameter values:
gravity, thrust, masses, drag and wind are unknown and must be measured.

Coordinates: x to the right, y up, angles counter-clockwise, SI units (m, s, kg, N).
Observations are measured from the pad: x = 0 is the pad centre, y = 0 is the height
of the lander's centre when its feet just touch the pad with legs relaxed.

Observation (8 entries, the layout of Gymnasium's ``LunarLander-v3``):

=====  ==========================  =======================================
index  meaning                     value
=====  ==========================  =======================================
0      x from the pad centre       x [m] / ``X_SCALE_M``
1      y above touchdown height    y [m] / ``Y_SCALE_M``
2      horizontal velocity         vx [m/s] / ``VX_SCALE_MPS``
3      vertical velocity           vy [m/s] / ``VY_SCALE_MPS``
4      tilt, counter-clockwise     angle [rad], wrapped to [-pi, pi)
5      angular velocity            omega [rad/s] / ``OMEGA_SCALE_RADPS``
6, 7   left / right leg contact    1.0 when the foot touches the ground
=====  ==========================  =======================================

With ``observe_fuel=True`` one entry follows: fuel left / fuel at start, in [0, 1]
(1.0 throughout when the engines burn no fuel). With ``observe_context=True`` the
entries of ``CONTEXT_OBSERVATION_FIELDS`` follow, each divided by its scale in
``CONTEXT_OBSERVATION_SCALES``. Every entry is clipped to the observation space
(a saturating sensor); ``observation_noise`` adds Gaussian noise to entries 0-5.

Model structure (``body_acceleration`` below states it as code)::

    m dv/dt     = u_main * T_main * (-sin a,  cos a)      # main engine, along the body axis
                + u_side * T_side * ( cos a,  sin a)      # side engines, across the body
                + c * |w - v| * (w - v)                   # air drag toward the wind w
                + m * (0, -g)                             # gravity
    I domega/dt = -u_side * T_side * h                    # side engines sit above the centre
    dm/dt       = -(r_main * u_main + r_side * |u_side|)  # until the tank is empty

Unknown: g, T_main, T_side, m (falls as fuel burns), I, h, c, the wind w (a steady
horizontal part plus gusts), fuel and burn rates r. Legs are springs; the ground
pushes back through them on contact. The air (drag and wind) acts only while neither
leg touches the ground, as LunarLander-v3's wind does. The action held during a step
acts for the whole ``DT_S``, integrated in fixed physics substeps.
"""

from __future__ import annotations

import math
from typing import NamedTuple

#: Decisions per second [Hz]; one action lasts ``DT_S`` seconds.
FPS = 50
#: Duration of one env step [s].
DT_S = 1.0 / FPS
#: Steps before the time limit truncates an episode (20 s).
MAX_EPISODE_STEPS = 1000

#: Width of the world [m]; leaving it ends the episode.
WORLD_WIDTH_M = 20.0
#: Height of the default view [m].
WORLD_HEIGHT_M = 40.0 / 3.0
#: Metres per unit of observation 0 (x).
X_SCALE_M = WORLD_WIDTH_M / 2
#: Metres per unit of observation 1 (y).
Y_SCALE_M = WORLD_HEIGHT_M / 2
#: Metres per second per unit of observation 2 (vx), as in LunarLander-v3.
VX_SCALE_MPS = FPS / X_SCALE_M
#: Metres per second per unit of observation 3 (vy), as in LunarLander-v3.
VY_SCALE_MPS = FPS / Y_SCALE_M
#: Radians per second per unit of observation 5 (angular velocity), as in v3.
OMEGA_SCALE_RADPS = FPS / 20.0

#: An observation y at or above this ends the episode: the lander flew away.
CEILING_Y = 2.4

#: Observation indices.
X, Y, VX, VY, ANGLE, OMEGA, LEFT_CONTACT, RIGHT_CONTACT = range(8)

#: Bounds of the 8 base observations (those of LunarLander-v3).
OBSERVATION_LOW = (-2.5, -2.5, -10.0, -10.0, -2 * math.pi, -10.0, 0.0, 0.0)
OBSERVATION_HIGH = (2.5, 2.5, 10.0, 10.0, 2 * math.pi, 10.0, 1.0, 1.0)

#: Context fields appended by ``observe_context=True``, in this order.
CONTEXT_OBSERVATION_FIELDS = (
    "gravity", "main_engine_thrust", "side_engine_thrust", "dry_mass", "fuel_mass",
    "wind_speed", "turbulence", "drag_coefficient",
)
#: Divisor of each appended context field, in the field's unit.
CONTEXT_OBSERVATION_SCALES = {
    "gravity": 10.0, "main_engine_thrust": 200.0, "side_engine_thrust": 20.0,
    "dry_mass": 5.0, "fuel_mass": 1.0, "wind_speed": 10.0, "turbulence": 5.0,
    "drag_coefficient": 0.1,
}

#: Discrete actions, as in LunarLander-v3.
NOOP, FIRE_LEFT, FIRE_MAIN, FIRE_RIGHT = range(4)
ACTION_MEANINGS = {
    NOOP: "do nothing",
    FIRE_LEFT: "fire the left orientation engine: turn counter-clockwise, push left",
    FIRE_MAIN: "fire the main engine at full throttle",
    FIRE_RIGHT: "fire the right orientation engine: turn clockwise, push right",
}


class Throttles(NamedTuple):
    """Engine commands for one step: ``main`` in [0, 1], ``side`` in [-1, 1]."""

    main: float
    side: float


def discrete_throttles(action: int) -> Throttles:
    """Engine commands of a discrete action (0..3)."""
    return _DISCRETE_THROTTLES[action]


_DISCRETE_THROTTLES = (
    Throttles(0.0, 0.0), Throttles(0.0, -1.0), Throttles(1.0, 0.0), Throttles(0.0, 1.0))


def continuous_throttles(main: float, lateral: float) -> Throttles:
    """Engine commands of a continuous action, clipped to [-1, 1] as in v3.

    ``main`` <= 0 is off; above 0 the throttle runs from 50% to 100%.
    ``|lateral|`` <= 0.5 is off; above it the side throttle runs from 50% to 100%,
    negative firing the left engine (as discrete action 1), positive the right one.
    """
    main = min(max(main, -1.0), 1.0)
    lateral = min(max(lateral, -1.0), 1.0)
    main_throttle = 0.5 + 0.5 * main if main > 0.0 else 0.0
    side_throttle = lateral if abs(lateral) > 0.5 else 0.0
    return Throttles(main_throttle, side_throttle)


def body_acceleration(
    angle: float,
    velocity: tuple[float, float],
    throttles: Throttles,
    *,
    gravity: float,
    main_accel: float,
    side_accel: float,
    drag_per_mass: float = 0.0,
    air_velocity: tuple[float, float] = (0.0, 0.0),
) -> tuple[float, float]:
    """Linear acceleration [m/s²] of the free-flying lander under the model above.

    The parameters are per unit mass and are the unknowns to measure:
    ``main_accel`` = T_main / m, ``side_accel`` = T_side / m, ``drag_per_mass`` = c / m.
    """
    sin_a, cos_a = math.sin(angle), math.cos(angle)
    rel_x, rel_y = air_velocity[0] - velocity[0], air_velocity[1] - velocity[1]
    drag = drag_per_mass * math.hypot(rel_x, rel_y)
    ax = (-throttles.main * main_accel * sin_a + throttles.side * side_accel * cos_a
          + drag * rel_x)
    ay = (throttles.main * main_accel * cos_a + throttles.side * side_accel * sin_a
          + drag * rel_y - gravity)
    return ax, ay


def angular_acceleration(throttles: Throttles, *, side_angular_accel: float) -> float:
    """Angular acceleration [rad/s²]; ``side_angular_accel`` = T_side * h / I."""
    return -throttles.side * side_angular_accel


#: ``info`` keys an agent may read (``exgen.agents.public_view.PublicView`` passes these).
AGENT_INFO = ("is_success",)
#: ``info`` keys the experiment's episode recorder may read for the results store. The
#: recorder is the runner's, not an agent: it sits between the env and the agent's view.
RECORDER_INFO = ("is_success", "outcome", "context")
#: ``info`` keys the learner-only training wrappers (``exgen.agents.reward_shaping``) may
#: read; they too sit inside the agent's view. Giving up and the step penalty read none.
LEARNER_INFO = ()
