"""User agents for the Ray backend's tests, loaded by ``package.module:Class`` paths."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from exgen.agents.random_agent import RandomAgent


class Steady(RandomAgent):
    """Random (seeded) while it learns or transfers; does nothing when evaluated.

    Evaluation draws nothing from its generator and never lands, so the criterion is
    never met: its records depend on its seeds only, whatever evaluation seeds a run
    draws, and two backends can be compared row by row.
    """

    def predict(self, observation: np.ndarray, state: Any = None,
                episode_start: np.ndarray | None = None,
                deterministic: bool = False) -> tuple[Any, Any]:
        if deterministic:
            return 0, state
        return super().predict(observation, state, episode_start, deterministic)


class DiesOnce(Steady):
    """Kills its own worker process once: at the first learning step after a finished
    episode, unless ``marker`` exists (which it creates before dying)."""

    def __init__(self, env: gym.Env, seed: int | None = None, marker: str = "") -> None:
        super().__init__(env, seed)
        self.marker = marker
        self.finished_episodes = 0

    def end_episode(self, record: Any) -> None:
        self.finished_episodes += 1

    def predict(self, observation: np.ndarray, state: Any = None,
                episode_start: np.ndarray | None = None,
                deterministic: bool = False) -> tuple[Any, Any]:
        if not deterministic and self.finished_episodes >= 1 and not Path(self.marker).exists():
            Path(self.marker).write_text(str(os.getpid()), encoding="utf-8")
            os._exit(1)  # the worker dies mid-job, as if killed
        return super().predict(observation, state, episode_start, deterministic)
