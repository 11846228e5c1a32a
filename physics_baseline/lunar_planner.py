"""The physics-model planner for ``LunarLanding-v0``: measure the world, then land.

Each step it (1) adds the last transition to its :class:`Estimator` and refits the
model, (2) probes while a parameter it needs is still unknown (a short free fall for
gravity, a main-engine pulse for thrust, a pair of side pulses for turning), and
(3) otherwise follows a guidance law built on the identified model: a target velocity
(toward the pad, descending no faster than the measured braking authority allows,
staying above the hills until over the pad), a thrust direction that achieves it
against the measured gravity and wind, and a one-step model-predictive choice among
the engine commands. Its estimates carry over to the next trial in the same world
and are dropped when the first transitions of a trial stop fitting them.

It sees only observations and the published interface (:mod:`exgen.envs.lunar.public`).
"""

from __future__ import annotations

import math
from itertools import product
from typing import Any

import gymnasium as gym
import numpy as np

from exgen.agents.base import OnlineAgent
from exgen.envs.lunar import public
from exgen.physics_baseline.lunar_model import Estimate, Estimator, State, predicted_acceleration

#: Probe until these standard errors are reached [m/s²], [m/s²], [rad/s²].
G_TOLERANCE = 0.05
MAIN_TOLERANCE = 0.5
TURN_TOLERANCE = 2.0
#: Steps of the probe phase at most (0.4 s).
MAX_PROBE_STEPS = 20
#: Guidance: horizontal approach gain [1/s] and speed limit [m/s].
APPROACH_GAIN = 0.8
MAX_APPROACH_MPS = 3.0
#: Descent: speed at touchdown (at most) [m/s], cruise limit [m/s], share of the braking
#: margin used.
TOUCHDOWN_MPS = 0.6
MAX_DESCENT_MPS = 5.0
BRAKING_SHARE = 0.35
#: Height kept above the pad until within this distance of its centre [m], [m].
SAFE_HEIGHT_M = 4.5
OVER_PAD_M = 0.3
#: Height of the final drop [m], and the most it leans into the wind there [rad].
FINAL_DROP_M = 1.0
FINAL_TILT_RAD = 0.3
#: Descent speed allowed per metre of height in the last metres [1/s].
FINAL_DESCENT_GAIN = 1.0
#: Coasting above this height [m] would leave the world through its ceiling.
CEILING_M = (public.CEILING_Y - 0.3) * public.Y_SCALE_M
#: Velocity tracking gain [1/s]; attitude gain [1/s]; largest tilt [rad] and the
#: thrust margin kept when tilting (vertical thrust >= margin x weight).
VELOCITY_GAIN = 2.5
ATTITUDE_GAIN = 4.0
MAX_TILT_RAD = 1.2
TILT_MARGIN = 1.5
#: Weight of spin error against velocity error in the one-step cost [s²].
SPIN_WEIGHT = 20.0
#: Time constant of the tracked unmodelled acceleration (gusts) [s].
DISTURBANCE_TIME_S = 0.5
#: A trial whose first transitions misfit the model by more than this many times the
#: fit's own residual (and at least this many m/s²) means the world changed.
MISFIT_RATIO = 5.0
MISFIT_FLOOR = 0.5
MISFIT_CHECK_STEPS = 25
#: The check runs every step from this many transitions until MISFIT_CHECK_STEPS.
MISFIT_FIRST_CHECK = 5

# Continuous commands tried each step (v3's mapping: main runs 50-100% above 0, side
# engines 50-100% beyond +-0.5; 0.55 stays clear of those edges).
_CONTINUOUS_MAIN = (0.0, 0.55, 0.75, 1.0)
_CONTINUOUS_SIDE = (-1.0, -0.75, -0.55, 0.0, 0.55, 0.75, 1.0)


class LunarPlanner(OnlineAgent):
    """Land by measuring gravity, thrust, turning and wind, then planning on that model.

    ``report()`` says what it has measured and, when the measured thrust cannot hold
    the craft against gravity, that the landing is impossible.
    """

    name = "planner"

    def __init__(self, env: gym.Env, seed: int | None = None) -> None:
        super().__init__(env, seed)
        self.continuous = isinstance(env.action_space, gym.spaces.Box)
        self.estimator = Estimator()
        self.episode_rows: list[tuple[float, ...]] = []
        self.trials = 0
        self.world_changes = 0
        self._previous: tuple[np.ndarray, public.Throttles] | None = None
        self._probe_step = 0
        self._checked_fit = False
        self._braking_climb = False
        self._disturbance = (0.0, 0.0)
        self._carry_over = False

    # ----------------------------------------------------------------- agent API
    def predict(self, observation: np.ndarray, state: Any = None,
                episode_start: np.ndarray | None = None,
                deterministic: bool = False) -> tuple[Any, Any]:
        if episode_start is not None and np.any(episode_start):
            self._start_episode()
        if self._previous is not None:
            before, throttles = self._previous
            if self.estimator.add(before, throttles, observation):
                row = self.estimator.rows[-1]
                self.episode_rows.append(row)
                self._check_world()
                self._refit()
                self._track_disturbance(row)
        throttles = self._decide(State.from_observation(observation))
        self._previous = (np.array(observation, dtype=np.float64), throttles)
        return self._action(throttles), state

    def end_episode(self, record: Any) -> None:
        """Between trials: the measurements of this trial carry over to the next."""
        self.trials += 1
        self._carry_over = True

    def reset(self) -> None:
        """Forget everything measured (for a new world)."""
        self.estimator = Estimator()
        self.episode_rows = []
        self._checked_fit = False

    def report(self) -> dict[str, Any]:
        """The current estimates with standard errors, and whether landing is possible."""
        estimate = self.estimator.estimate
        data = estimate.as_dict()
        data["possible"], data["reason"] = self.feasibility(estimate)
        data.update(trials=self.trials, world_changes=self.world_changes)
        return data

    @staticmethod
    def feasibility(estimate: Estimate) -> tuple[bool, str]:
        if estimate.transitions == 0 or not math.isfinite(estimate.error("main")):
            return True, "not measured yet"
        if estimate.main <= estimate.g * 1.02 and estimate.error("main") < 0.2 * estimate.main:
            return False, (f"impossible: measured main-engine acceleration "
                           f"{estimate.main:.2f} m/s² does not exceed gravity "
                           f"{estimate.g:.2f} m/s²; braking to a soft landing cannot work")
        return True, ""

    # ------------------------------------------------------------------ internals
    def _start_episode(self) -> None:
        if not self._carry_over:
            # Learning between trials is frozen (or this is the first trial): start from
            # what was committed before, dropping this agent's in-episode additions.
            committed = len(self.estimator) - len(self.episode_rows)
            if self.episode_rows and committed >= 0:
                rows = list(self.estimator.rows)[:committed]
                self.estimator = Estimator()
                self.estimator.extend(rows)
                self.estimator.fit()
        self._carry_over = False
        self.episode_rows = []
        self._previous = None
        self._probe_step = 0
        self._checked_fit = len(self.estimator) == 0
        self._braking_climb = False
        self._disturbance = (0.0, 0.0)

    def _check_world(self) -> None:
        """Early in a trial, drop old measurements that no longer fit: a new world."""
        if self._checked_fit or len(self.episode_rows) < MISFIT_FIRST_CHECK:
            return
        self._checked_fit = len(self.episode_rows) >= MISFIT_CHECK_STEPS
        old = self.estimator.estimate
        misfit = self.estimator.misfit(self.episode_rows)
        if misfit > max(MISFIT_RATIO * old.residual_rms, MISFIT_FLOOR):
            self._checked_fit = True
            self.world_changes += 1
            rows = list(self.episode_rows)
            self.estimator = Estimator()
            self.estimator.extend(rows)
            self.estimator.fit()

    def _track_disturbance(self, row: tuple[float, ...]) -> None:
        """Low-pass the acceleration the model misses (gusts, fuel burn, bias)."""
        angle, vx, vy, ax, ay, _, main, side = row
        px, py = predicted_acceleration(self.estimator.values, angle, vx, vy, main, side)
        blend = public.DT_S / DISTURBANCE_TIME_S
        dx, dy = self._disturbance
        self._disturbance = (dx + blend * (ax - px - dx), dy + blend * (ay - py - dy))

    def _refit(self) -> None:
        rows = len(self.estimator)
        if rows < 50 or rows % 5 == 0:
            self.estimator.fit()

    def _needs_probe(self, estimate: Estimate) -> str | None:
        if self._probe_step >= MAX_PROBE_STEPS:
            return None
        if not estimate.error("g") < G_TOLERANCE * max(1.0, estimate.g):
            return "fall"
        if not estimate.error("main") < MAIN_TOLERANCE:
            return "main"
        if not estimate.turn_error < TURN_TOLERANCE:
            return "turn"
        return None

    def _decide(self, state: State) -> public.Throttles:
        estimate = self.estimator.estimate
        probe = self._needs_probe(estimate) if not state.touching else None
        if probe is not None and state.y > 2.0:
            self._probe_step += 1
            if probe == "fall" and state.vy > -6.0:
                return public.Throttles(0.0, 0.0)
            if probe == "main" or probe == "fall":
                return public.Throttles(1.0, 0.0)
            return public.Throttles(0.0, 1.0 if self._probe_step % 2 else -1.0)
        possible, _ = self.feasibility(estimate)
        if not possible:
            return public.Throttles(1.0, 0.0)  # slow the fall as much as it can
        return self._guide(state, estimate)

    def _guide(self, state: State, estimate: Estimate) -> public.Throttles:
        g = max(estimate.g, 0.05)
        main = max(estimate.main, g * 1.05)
        turn = max(estimate.turn, 0.5)
        values = estimate.values
        # Target velocity: toward the pad, above the hills until over it, slow and
        # upright near the ground.
        # Touch down slower where gravity is weak: the sprung legs would bounce it up.
        touchdown = min(TOUCHDOWN_MPS, 0.25 + 0.05 * g)
        if state.touching:
            target_vx, target_vy, target_angle = 0.0, -touchdown, 0.0
        else:
            height_above_pad = max(state.y, 0.0)
            # Tilt as far as the engine can still hold the craft up with a margin: far at
            # low gravity (sideways braking needs it), little when thrust is scarce.
            max_tilt = min(MAX_TILT_RAD, max(0.25, math.acos(min(1.0, TILT_MARGIN * g / main))))
            # Sideways braking: the tilted engine's spare thrust beyond hovering.
            side_braking = max(BRAKING_SHARE * math.sin(max_tilt) * (main - g), 0.2)
            approach_limit = min(MAX_APPROACH_MPS, 0.3 + 0.7 * height_above_pad,
                                 math.sqrt(2 * side_braking * abs(state.x)) + 0.1)
            target_vx = min(max(-APPROACH_GAIN * state.x, -approach_limit), approach_limit)
            floor = SAFE_HEIGHT_M * min(1.0, max(0.0, abs(state.x) - OVER_PAD_M))
            braking = max(BRAKING_SHARE * (main * math.cos(min(max_tilt, 0.5)) - g), 0.3)
            height = state.y - floor
            apex = state.y + max(state.vy, 0.0) ** 2 / (2 * g)
            # Coasting up into the ceiling: turn over and brake until descending.
            if state.vy > 0.2 and apex > CEILING_M:
                self._braking_climb = True
            elif state.vy < -0.5:
                self._braking_climb = False
            flying_away = self._braking_climb
            if flying_away:
                target_vy = -1.0
            elif height > 0:
                target_vy = -min(touchdown + math.sqrt(2 * braking * height),
                                 touchdown + FINAL_DESCENT_GAIN * height, MAX_DESCENT_MPS)
                # Falling faster needs gravity's help (the engine only pushes up): ask
                # no more than gravity adds in a second, or sideways thrust is blocked.
                target_vy = max(target_vy, min(state.vy, 0.0) - g * 1.0)
            else:
                target_vy = min(-0.5 * height, 2.0)
            # Thrust (per unit mass) that reaches the target velocity against gravity/drag.
            drag_x, drag_y = predicted_acceleration(values, 0.0, state.vx, state.vy, 0.0, 0.0)
            drag_x += self._disturbance[0]
            drag_y += values[0] + self._disturbance[1]
            want_x = VELOCITY_GAIN * (target_vx - state.vx) - drag_x
            want_y = VELOCITY_GAIN * (target_vy - state.vy) - drag_y + g
            if flying_away:
                target_angle = math.atan2(-want_x, want_y)
            else:
                # Upright near the ground, except as far as holding against the wind needs
                # (until the last metre, where it drops upright and drifts a little).
                hold_x = predicted_acceleration(values, 0.0, 0.0, 0.0, 0.0, 0.0)[0]
                hold_tilt = math.atan2(abs(hold_x + self._disturbance[0]), g) + 0.1
                tilt_limit = 0.15 + 0.1 * height_above_pad
                if height_above_pad > FINAL_DROP_M:
                    tilt_limit = max(tilt_limit, hold_tilt)
                else:
                    tilt_limit = max(tilt_limit, min(hold_tilt, FINAL_TILT_RAD))
                tilt_limit = min(max_tilt, tilt_limit)
                target_angle = math.atan2(-want_x, max(want_y, 0.3 * g))
                target_angle = min(max(target_angle, -tilt_limit), tilt_limit)
        angle_error = (target_angle - state.angle + math.pi) % (2 * math.pi) - math.pi
        # Turn toward the target no faster than the side engines can stop the turn.
        stoppable = 0.7 * math.sqrt(2 * turn * abs(angle_error))
        target_omega = math.copysign(min(ATTITUDE_GAIN * abs(angle_error), stoppable),
                                     angle_error)
        # The main engine only fires within reach of the wanted attitude (upside down
        # only when braking a climb), so it never drives the craft into the ground.
        reach = abs(target_angle) + 0.35
        allow_main = state.touching or abs(state.angle) <= reach
        return self._best_command(state, values, turn, target_vx, target_vy, target_omega,
                                  allow_main)

    def _best_command(self, state: State, values: np.ndarray, turn: float, target_vx: float,
                      target_vy: float, target_omega: float,
                      allow_main: bool = True) -> public.Throttles:
        """The engine command whose predicted next state is closest to the targets."""
        candidates = (product(_CONTINUOUS_MAIN, _CONTINUOUS_SIDE) if self.continuous
                      else (public.discrete_throttles(a) for a in range(4)))
        best, best_cost = public.Throttles(0.0, 0.0), math.inf
        for main_throttle, side_throttle in candidates:
            if main_throttle > 0 and (not allow_main or (state.touching and state.vy > -1.5)):
                continue
            omega = state.omega - side_throttle * turn * public.DT_S
            mid_angle = state.angle + 0.5 * (state.omega + omega) * public.DT_S / 2
            ax, ay = predicted_acceleration(values, mid_angle, state.vx, state.vy,
                                            main_throttle, side_throttle)
            if not state.touching:
                ax += self._disturbance[0]
                ay += self._disturbance[1]
            vx = state.vx + ax * public.DT_S
            vy = state.vy + ay * public.DT_S
            cost = ((vx - target_vx) ** 2 + (vy - target_vy) ** 2
                    + SPIN_WEIGHT * (omega - target_omega) ** 2)
            if cost < best_cost:
                best, best_cost = public.Throttles(main_throttle, side_throttle), cost
        return best

    def _action(self, throttles: public.Throttles) -> Any:
        if not self.continuous:
            return {(0.0, 0.0): public.NOOP, (0.0, -1.0): public.FIRE_LEFT,
                    (1.0, 0.0): public.FIRE_MAIN, (0.0, 1.0): public.FIRE_RIGHT}[
                (throttles.main, throttles.side)]
        main = 2.0 * throttles.main - 1.0 if throttles.main > 0 else -1.0
        return np.array([main, throttles.side], dtype=np.float32)
