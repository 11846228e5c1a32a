"""An agent that samples uniformly from the action space: the floor of every comparison."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from exgen.agents.base import OnlineAgent


class RandomAgent(OnlineAgent):
    """Uniform random actions from the env's action space, seeded."""

    def __init__(self, env: gym.Env, seed: int | None = None) -> None:
        super().__init__(env, seed)
        self.action_space = env.action_space
        self.action_space.seed(seed)

    def predict(self, observation: np.ndarray, state: Any = None,
                episode_start: np.ndarray | None = None,
                deterministic: bool = False) -> tuple[Any, Any]:
        return self.action_space.sample(), state
