"""Reward shaping for RL training only: what the learner is paid, not what is recorded.

A hyperparameter table may set ``step_penalty`` (reward units per env step): the
learner's reward is lowered by it at every step, so that standing still until the time
limit stops being a safe harbour (the city's PPO otherwise learns to park). It may also
set ``normalize_reward = true``: the learner's rewards are divided by a running
estimate of the standard deviation of the discounted return (SB3's ``VecNormalize``
with ``norm_obs=False``, as rl-baselines3-zoo's ``normalize`` does for rewards).
Observations are left alone, so a saved agent needs no statistics to act. The episode
log sits inside these wrappers and evaluations use the plain env, so recorded returns
and successes are the env's own.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper

#: The hyperparameter-table keys this module reads.
SHAPING_KEYS = ("step_penalty", "normalize_reward")


def check_shaping(table: dict[str, Any]) -> None:
    """Raise ``ValueError`` naming a shaping key of ``table`` with an invalid value."""
    _check_penalty(table.get("step_penalty", 0.0))
    if not isinstance(table.get("normalize_reward", False), bool):
        raise ValueError(f"normalize_reward must be true or false, got "
                         f"{table['normalize_reward']!r}")


def _check_penalty(penalty: Any) -> None:
    if (isinstance(penalty, bool) or not isinstance(penalty, (int, float))
            or not np.isfinite(penalty) or penalty < 0):
        raise ValueError(f"step_penalty must be a number >= 0, got {penalty!r}")


def shape_rewards(venv: VecEnv, table: dict[str, Any]) -> VecEnv:
    """``venv`` wrapped as the hyperparameter ``table`` asks (``step_penalty``,
    ``normalize_reward`` with its ``gamma``), for the learner's eyes only."""
    from stable_baselines3.common.vec_env import VecNormalize

    if table.get("step_penalty"):
        venv = StepPenalty(venv, float(table["step_penalty"]))
    if table.get("normalize_reward"):
        venv = VecNormalize(venv, norm_obs=False, norm_reward=True,
                            gamma=float(table.get("gamma", 0.99)))
    return venv


class StepPenalty(VecEnvWrapper):
    """Subtracts ``penalty`` from every reward of ``venv``."""

    def __init__(self, venv: VecEnv, penalty: float) -> None:
        _check_penalty(penalty)
        super().__init__(venv)
        self.penalty = float(penalty)

    def reset(self) -> Any:
        return self.venv.reset()

    def step_wait(self) -> Any:
        observations, rewards, dones, infos = self.venv.step_wait()
        return observations, rewards - self.penalty, dones, infos
