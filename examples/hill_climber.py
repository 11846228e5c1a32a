"""An example of your own agent: a linear policy improved by hill climbing.

It scores each action as ``weights @ observation`` and takes the best. After every
episode it keeps the weights if they beat the best return so far, then tries a random
perturbation of the best. Train and evaluate it like any built-in agent::

    exgen train --agent examples.hill_climber:HillClimber --episodes 300
    exgen evaluate runs/examples.hill_climber.HillClimber-LunarLanding-v0-10000
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from exgen.agents import EpisodeRecord, OnlineAgent


class HillClimber(OnlineAgent):
    """Random-search hill climbing over a linear policy (discrete actions)."""

    def __init__(self, env: gym.Env, seed: int | None = None, noise: float = 0.5) -> None:
        super().__init__(env, seed)
        if not isinstance(env.action_space, gym.spaces.Discrete):
            raise TypeError("HillClimber needs a Discrete action space")
        shape = (int(env.action_space.n), int(np.prod(env.observation_space.shape)))
        self.noise = noise
        self.best = np.zeros(shape)
        self.best_return = -np.inf
        self.weights = self.best

    def predict(self, observation: np.ndarray, state: Any = None,
                episode_start: np.ndarray | None = None,
                deterministic: bool = False) -> tuple[int, Any]:
        weights = self.best if deterministic else self.weights
        return int(np.argmax(weights @ np.ravel(observation))), state

    def end_episode(self, record: EpisodeRecord) -> None:
        if record.episode_return > self.best_return:
            self.best, self.best_return = self.weights, record.episode_return
        self.weights = self.best + self.noise * self.rng.standard_normal(self.best.shape)
