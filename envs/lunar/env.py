"""``LunarLanding-v0``: land a sprung-leg lander on a pad in a world you can change."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from exgen.envs.lunar import public
from exgen.envs.lunar.config import LanderConfig
from exgen.envs.lunar.public import Throttles
from exgen.envs.lunar.world import LanderWorld
from exgen.envs.world_env import WorldEnv, discrete_action

#: Identifier recorded with every result produced on this env.
ENV_ID = "LunarLanding-v0"
#: The lander is at rest below these speeds [m/s], [rad/s], held for ``REST_STEPS``.
REST_SPEED_MPS = 0.1
REST_ANGULAR_SPEED_RADPS = 0.1
REST_STEPS = 10
#: Reward terms, as in LunarLander-v3.
LANDING_BONUS = 100.0
CRASH_PENALTY = -100.0
MAIN_ENGINE_COST = 0.30
SIDE_ENGINE_COST = 0.03

_KINEMATIC_LOW = public.OBSERVATION_LOW[:6]
_KINEMATIC_HIGH = public.OBSERVATION_HIGH[:6]
_ENV_ARGUMENTS = ("config", "preset", "render_mode", "observe_fuel", "observe_context",
                  "physics_substeps")


class LunarLandingEnv(WorldEnv, gym.Env[np.ndarray, np.int64 | np.ndarray]):
    """Land on the pad, upright and at rest, under any gravity, wind and terrain.

    A pymunk rigid-body lander with two sprung legs, a main engine along its axis and
    two side engines that turn it and push it sideways. The world is set by a
    :class:`~exgen.envs.lunar.config.LanderConfig` (the *context*): gravity, thrust, masses
    and fuel, wind and gusts, terrain, pad, start spread and landing limits. Any
    numeric field may be a ``(low, high)`` range, sampled at every reset. At default
    settings the task has the scale, timing and interface of Gymnasium's
    ``LunarLander-v3``, with an engine strong enough to land from 0.5 to 25 m/s².

    ## Action Space
    ``Discrete(4)``: 0 do nothing, 1 fire the left orientation engine, 2 fire the
    main engine, 3 fire the right orientation engine. With ``continuous=True``,
    ``Box(-1, 1, (2,))``: main throttle (off at <= 0, 50-100% above) and lateral
    (off within ±0.5; below, the left engine; above, the right), clipped as in v3.

    ## Observation Space
    ``Box`` of 8 float32, v3's layout and scaling (see :mod:`exgen.envs.lunar.public`):

    | index | observation | unit |
    | --- | --- | --- |
    | 0 | x from the pad centre | 10 m |
    | 1 | y above touchdown height | 6.67 m |
    | 2 | horizontal velocity | 5 m/s |
    | 3 | vertical velocity | 7.5 m/s |
    | 4 | tilt, counter-clockwise, wrapped to [-pi, pi) | rad |
    | 5 | angular velocity | 2.5 rad/s |
    | 6, 7 | left, right leg touches the ground | 0 or 1 |

    ``observe_fuel`` appends the fraction of fuel left; ``observe_context`` appends
    the context fields of ``public.CONTEXT_OBSERVATION_FIELDS``, scaled.

    ## Rewards
    As v3: the change in a shaping term (-100 per unit distance to the pad, -100 per
    unit speed, -100 per radian of tilt, +10 per leg in contact), -0.3 per step of
    full main engine and -0.03 per step of full side engine, and +100 on the step
    that lands. On the step that crashes, lands too fast or leaves the world the
    reward is -100, replacing the rest as in v3. A clean landing scores about 200 or
    more.

    ## Starting State
    The lander starts ``initial_height`` above the pad (at least 2 m above the
    ground below it) near the middle of the world, with random velocity and tilt.

    ## Episode End
    Terminated when the lander is at rest on its legs (``info["is_success"]`` is
    True when that is on the pad and within ``max_landing_tilt``), when the hull
    touches the ground, a leg touches down while the hull moves faster than
    ``max_touchdown_speed`` (speed in any direction, sliding included), or
    it leaves the world. Truncated after 1000 steps (20 s) by the registered time
    limit. ``info["outcome"]`` names the reason: ``landed``, ``landed_off_pad``,
    ``landed_tilted``, ``crashed``, ``hard_landing``, ``out_of_bounds``, or
    ``flying`` while the episode runs.

    ## Arguments
    ``gym.make("LunarLanding-v0", config=None, preset=None, render_mode=None,
    observe_fuel=False, observe_context=False, physics_substeps=2, **fields)``:
    ``preset`` names one or more of ``config.PRESETS`` (for example
    ``("mars", "strong_wind")``), ``fields`` are ``LanderConfig`` fields for what
    the presets leave alone (a field that contradicts a preset is an error).
    ``reset`` puts the context used into ``info["context"]``, with ``landable``,
    ``landable_reason`` and ``thrust_to_weight``.

    ## Version History
    - v0: first version. Unlike v3: pymunk, SI units, fuel, wind as air speed with
      drag (in flight only, as v3's wind), changeable everything, no random engine
      dispersion, success defined by rest on the pad.
    """

    metadata = {"render_modes": ["human", "rgb_array"], "render_fps": public.FPS}

    def __init__(self, config: LanderConfig | None = None, *,
                 preset: str | Sequence[str] | None = None,
                 render_mode: str | None = None, observe_fuel: bool = False,
                 observe_context: bool = False, physics_substeps: int = 2,
                 **fields: Any) -> None:
        self.config = LanderConfig.for_env(config, preset, fields, _ENV_ARGUMENTS)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']} "
                             f"or None, got {render_mode!r}")
        for name, flag in (("observe_fuel", observe_fuel), ("observe_context", observe_context)):
            if not isinstance(flag, bool | np.bool_):
                raise TypeError(f"{name} must be a bool, got {type(flag).__name__}")
        if (isinstance(physics_substeps, bool)
                or not isinstance(physics_substeps, int | np.integer)):
            raise TypeError(f"physics_substeps must be an int in [1, 50], "
                            f"got {type(physics_substeps).__name__}")
        if not 1 <= physics_substeps <= 50:
            raise ValueError(f"physics_substeps={physics_substeps} is out of range; "
                             f"valid: [1, 50]")
        self.render_mode = render_mode
        self.observe_fuel = bool(observe_fuel)
        self.observe_context = bool(observe_context)
        self.physics_substeps = int(physics_substeps)

        self.action_space = (spaces.Box(-1.0, 1.0, (2,), np.float32) if self.config.continuous
                             else spaces.Discrete(4))
        self.observation_space = _observation_space(self.config, self.observe_fuel,
                                                    self.observe_context)
        self.world: LanderWorld | None = None
        self.context: LanderConfig | None = None
        self._context_observation: list[float] = []
        self._context_info: dict[str, Any] = {}
        self._renderer = None
        self._prev_shaping = 0.0
        self._rest_steps = 0
        self._outcome = "flying"

    @property
    def continuous(self) -> bool:
        """Whether actions are continuous (named as in LunarLander-v3)."""
        return self.config.continuous

    # -------------------------------------------------------------------- API
    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        if options:
            raise ValueError(f"LunarLanding-v0 takes no reset options, got {sorted(options)}; "
                             f"make a new env to change the context")
        context = self.config.sample(self.np_random)
        if context is not self.context:
            self.context = context
            self._context_info = _describe_context(context)
            self._context_observation = _context_observation(context)
        world_rng = np.random.Generator(np.random.PCG64(int(self.np_random.integers(2**63))))
        self.world = LanderWorld(self.context, world_rng, self.physics_substeps)
        self._rest_steps = 0
        self._outcome = "flying"
        observation, shaping = self._observe(self.world.kinematics())
        self._prev_shaping = shaping
        info = self._info(False)
        info["context"] = dict(self._context_info)
        if self.render_mode == "human":
            self.render()
        return observation, info

    def step(self, action: Any) -> tuple[np.ndarray, SupportsFloat, bool, bool,
                                          dict[str, Any]]:
        if self.world is None:
            raise RuntimeError("call reset() before step()")
        if self._outcome != "flying":
            raise RuntimeError(f"the episode has ended ({self._outcome}); call reset()")
        throttles = self._throttles(action)
        world = self.world
        world.step(throttles)
        kinematics = world.kinematics()
        observation, shaping = self._observe(kinematics)
        applied = world.throttles
        reward = (shaping - self._prev_shaping - MAIN_ENGINE_COST * applied.main
                  - SIDE_ENGINE_COST * abs(applied.side))
        self._prev_shaping = shaping
        self._outcome = self._judge(kinematics)
        success = self._outcome == "landed"
        if success:
            reward += LANDING_BONUS
        elif self._outcome in ("crashed", "hard_landing", "out_of_bounds"):
            reward = CRASH_PENALTY
        if self.render_mode == "human":
            self.render()
        return observation, reward, self._outcome != "flying", False, self._info(success)

    def _new_renderer(self) -> Any:
        from exgen.envs.lunar.render import LanderRenderer

        return LanderRenderer(self.render_mode, self.metadata["render_fps"])

    # --------------------------------------------------------------- internals
    def _throttles(self, action: Any) -> Throttles:
        if self.config.continuous:
            return public.continuous_throttles(*_continuous_action(action))
        return public.discrete_throttles(discrete_action(action, len(public.ACTION_MEANINGS)))

    def _observe(self, kinematics: tuple[float, ...]) -> tuple[np.ndarray, float]:
        """The observation and the shaping potential of the true state."""
        world = self.world
        x, y, vx, vy, angle, omega = kinematics
        angle = (angle + math.pi) % (2 * math.pi) - math.pi
        left, right = float(world.leg_contacts[0] > 0), float(world.leg_contacts[1] > 0)
        xo, yo = x / public.X_SCALE_M, y / public.Y_SCALE_M
        vxo, vyo = vx / public.VX_SCALE_MPS, vy / public.VY_SCALE_MPS
        shaping = (-100.0 * math.hypot(xo, yo) - 100.0 * math.hypot(vxo, vyo)
                   - 100.0 * abs(angle) + 10.0 * left + 10.0 * right)
        values = [xo, yo, vxo, vyo, angle, omega / public.OMEGA_SCALE_RADPS]
        noise = self.context.observation_noise
        if noise > 0.0:
            values = np.add(values, self.np_random.normal(0.0, noise, 6)).tolist()
        # A saturating sensor: clip to the space (plain floats beat np.clip here).
        values = [min(max(v, low), high) for v, low, high in zip(values, _KINEMATIC_LOW,
                                                                _KINEMATIC_HIGH, strict=True)]
        values += (left, right)
        if self.observe_fuel:
            start = self.context.fuel_mass
            values.append(world.fuel / start if world.fuel_limited and start > 0 else 1.0)
        if self.observe_context:
            values.extend(self._context_observation)
        return np.array(values, dtype=np.float32), shaping

    def _judge(self, kinematics: tuple[float, ...]) -> str:
        """The outcome after this step: ``flying`` or why the episode ended."""
        world = self.world
        if world.crashed:
            return "crashed"
        if world.hard_landing:
            return "hard_landing"
        x, y, vx, vy, angle, omega = kinematics
        if abs(x + world.pad_center_x - public.WORLD_WIDTH_M / 2) >= public.WORLD_WIDTH_M / 2:
            return "out_of_bounds"
        if y / public.Y_SCALE_M >= public.CEILING_Y:
            return "out_of_bounds"
        resting = (world.leg_contacts[0] > 0 and world.leg_contacts[1] > 0
                   and math.hypot(vx, vy) < REST_SPEED_MPS
                   and abs(omega) < REST_ANGULAR_SPEED_RADPS)
        self._rest_steps = self._rest_steps + 1 if resting else 0
        if self._rest_steps < REST_STEPS:
            return "flying"
        if not world.feet_on_pad():
            return "landed_off_pad"
        tilt = abs((angle + math.pi) % (2 * math.pi) - math.pi)
        return "landed" if tilt <= self.context.max_landing_tilt else "landed_tilted"

    def _info(self, success: bool) -> dict[str, Any]:
        world = self.world
        return {"is_success": success, "outcome": self._outcome, "fuel": world.fuel,
                "fuel_used": world.fuel_used,
                "touchdown_speed": world.touchdown_speed}


def _observation_space(config: LanderConfig, observe_fuel: bool,
                       observe_context: bool) -> spaces.Box:
    low, high = list(public.OBSERVATION_LOW), list(public.OBSERVATION_HIGH)
    if observe_fuel:
        low.append(0.0)
        high.append(1.0)
    if observe_context:
        from exgen.envs.lunar.config import field_bounds

        for name in public.CONTEXT_OBSERVATION_FIELDS:
            bounds = field_bounds(name)
            scale = public.CONTEXT_OBSERVATION_SCALES[name]
            low.append(bounds.low / scale)
            high.append(bounds.high / scale)
    return spaces.Box(np.array(low, np.float32), np.array(high, np.float32), dtype=np.float32)


def _describe_context(context: LanderConfig) -> dict[str, Any]:
    """``info["context"]``: the concrete context as plain data, with derived facts."""
    landable, reason = context.landability()
    return {**context.to_dict(), "env_id": ENV_ID, "landable": landable,
            "landable_reason": reason, "thrust_to_weight": context.thrust_to_weight()}


def _context_observation(context: LanderConfig) -> list[float]:
    return [getattr(context, name) / public.CONTEXT_OBSERVATION_SCALES[name]
            for name in public.CONTEXT_OBSERVATION_FIELDS]


def _continuous_action(action: Any) -> tuple[float, float]:
    array = np.asarray(action)
    if array.shape != (2,):
        raise ValueError(f"continuous action must have shape (2,), got shape {array.shape}")
    if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise TypeError(f"continuous action must be real numbers, got dtype {array.dtype}")
    main, lateral = float(array[0]), float(array[1])
    if math.isnan(main) or math.isnan(lateral):
        raise ValueError(f"continuous action contains NaN: {array.tolist()}")
    return main, lateral
