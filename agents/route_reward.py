"""The learner's route-completion reward, in the spirit of CaRL (Jaeger et al., 2025).

CaRL pays a driving policy, per step, the gain in route completion times soft penalty
factors, ends a training episode at a broken rule, and adds a terminal penalty;
unlike an additive shaped reward, PPO keeps improving on it as its minibatches grow.

With ``route_reward = true`` in a hyperparameter table (``CityDriving-v0``), the
learner is paid, instead of the env's reward:

- ``100 * (route_completion - previous route_completion)``: the route in percent, so a
  whole route pays 100 and driving away from the destination costs as much;
- a gain (not a loss) times ``max(0, 1 - excess / overspeed_mps)``, ``excess`` being
  the speed above the published limit [m/s] (nuPlan's and CaRL's 2.23 m/s by default),
  and times 0.5 while the time to collision is below ``ttc_s`` [s] (0 turns it off):
  the gap from the car's front to the nearest lidar hit in its path, over its speed;
- ``-terminal_penalty`` (route percent, default 1) when the episode ends otherwise than
  by arriving or by the time limit: a collision, or giving up (on an infraction named
  by ``give_up_on_infraction``, or stuck for ``give_up_after_steps``);
- ``-wrong_lane_penalty`` (route percent, default 0: off) each time the car enters the
  wrong side of a street (``info["infractions"]["wrong_lane"]`` grows), which does not
  end an episode.

The reward reads the car's speed, the published speed limit, its route completion, the
episode's outcome (``info``, all in the world's ``LEARNER_INFO``) and its own lidar
(the observation); never other cars' states, light timers or the context. The episode
log and every evaluation keep the env's own reward.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper

from exgen.agents.learner_infos import info_column, learner_infos, outcome_in

#: The hyperparameter-table keys of this reward.
ROUTE_REWARD_KEYS = ("route_reward", "terminal_penalty", "ttc_s", "overspeed_mps",
                     "wrong_lane_penalty")
#: Route completion [0, 1] in route percent.
PERCENT = 100.0
#: The speed above the limit at which a gain pays nothing [m/s] (nuPlan, CaRL).
OVERSPEED_MPS = 2.23
#: The factor on a gain while the time to collision is below ``ttc_s``.
TTC_FACTOR = 0.5
#: Episode outcomes that end it without a terminal penalty.
UNPENALIZED = ("arrived", "timeout")


def check_route_reward(table: dict[str, Any], env_id: str | None, lidar_envs: Any) -> None:
    """Raise ``ValueError`` naming a key of ``table``'s route reward with an invalid
    value, or one that ``env_id`` cannot support (``lidar_envs``: the env ids whose
    lidar the time to collision can read)."""
    enabled = table.get("route_reward", False)
    if not isinstance(enabled, bool):
        raise ValueError(f"route_reward must be true or false, got {enabled!r}")
    for key in ROUTE_REWARD_KEYS[1:]:
        if key not in table:
            continue
        value = table[key]
        if (isinstance(value, bool) or not isinstance(value, (int, float))
                or not np.isfinite(value) or value < 0):
            raise ValueError(f"{key} must be a number >= 0, got {value!r}")
        if not enabled:
            raise ValueError(f"{key} needs route_reward = true")
    if table.get("overspeed_mps", OVERSPEED_MPS) == 0:
        raise ValueError("overspeed_mps must be > 0, got 0")
    if not enabled:
        return
    if env_id is not None and env_id not in lidar_envs:
        raise ValueError(f"route_reward needs an env with a route, a speed limit and a "
                         f"lidar: {', '.join(lidar_envs)}, not {env_id}")


class RouteReward(VecEnvWrapper):
    """Pays ``venv``'s learner the route-completion reward (module docstring);
    ``lidar_gap`` maps flat observations to the gap [m] ahead of each car's front."""

    def __init__(self, venv: VecEnv, lidar_gap: Any, terminal_penalty: float = 1.0,
                 ttc_s: float = 0.0, overspeed_mps: float = OVERSPEED_MPS,
                 wrong_lane_penalty: float = 0.0) -> None:
        super().__init__(venv)
        self.lidar_gap = lidar_gap
        self.terminal_penalty = float(terminal_penalty)
        self.ttc_s = float(ttc_s)
        self.overspeed_mps = float(overspeed_mps)
        self.wrong_lane_penalty = float(wrong_lane_penalty)
        self.completion = np.zeros(venv.num_envs)
        self.wrong_lanes = np.zeros(venv.num_envs)

    def reset(self) -> Any:
        self.completion[:] = 0.0
        self.wrong_lanes[:] = 0.0
        return self.venv.reset()

    def step_wait(self) -> Any:
        observations, _, dones, infos = self.venv.step_wait()
        arrays = learner_infos(self.venv)  # a batched world's arrays, else None
        completion = info_column(arrays, infos, "route_completion")
        gain = PERCENT * (completion - self.completion)
        speeds = info_column(arrays, infos, "speed_mps")
        limits = info_column(arrays, infos, "speed_limit_mps")
        factor = np.clip(1.0 - (speeds - limits) / self.overspeed_mps, 0.0, 1.0)
        if self.ttc_s:
            seen = step_observations(observations, dones, infos)
            close = self.lidar_gap(seen) < self.ttc_s * speeds
            factor = np.where(close, factor * TTC_FACTOR, factor)
        rewards = np.where(gain > 0.0, gain * factor, gain)
        penalized = dones & ~outcome_in(arrays, infos, UNPENALIZED)
        rewards = rewards - self.terminal_penalty * penalized
        if self.wrong_lane_penalty:
            entries = info_column(arrays, infos, "infractions", "wrong_lane")
            rewards = rewards - self.wrong_lane_penalty * (entries - self.wrong_lanes)
            self.wrong_lanes = np.where(dones, 0.0, entries)
        self.completion = np.where(dones, 0.0, completion)
        return observations, rewards.astype(np.float32), dones, infos


def flat_observations(observations: Any) -> np.ndarray:
    """The flat observations (``observe_raster``'s ``"vector"`` from a Dict)."""
    if isinstance(observations, dict):
        observations = observations["vector"]
    return np.atleast_2d(np.asarray(observations))


def step_observations(observations: Any, dones: np.ndarray,
                      infos: list[dict[str, Any]]) -> np.ndarray:
    """The flat observations a vec env's step reached: for an env whose episode ended,
    its ``terminal_observation``, not the next episode's first."""
    seen = flat_observations(observations).copy()
    for index in np.flatnonzero(dones):
        seen[index] = flat_observations(infos[index]["terminal_observation"])
    return seen
