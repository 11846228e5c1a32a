"""Timing helpers shared by the worlds' speed benchmarks (env steps per second)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import gymnasium as gym
import numpy as np


@dataclass(frozen=True)
class Throughput:
    """Env steps per second of one env, best of ``repeats`` runs of ``steps`` steps."""

    env_id: str
    steps: int
    repeats: int
    steps_per_second: float

    @property
    def microseconds_per_step(self) -> float:
        return 1e6 / self.steps_per_second


def random_actions(steps: int, continuous: bool, seed: int) -> list:
    """A seeded sequence of random actions: ``(steps, 2)`` in [-1, 1] when continuous, else
    integers 0..3 (the lunar discrete actions)."""
    rng = np.random.default_rng(seed)
    if continuous:
        return list(rng.uniform(-1.0, 1.0, (steps, 2)).astype(np.float32))
    return [int(a) for a in rng.integers(0, 4, steps)]


def measure(env: gym.Env, actions: list, repeats: int, seed: int) -> float:
    """Best steps per second over ``repeats`` runs of ``actions`` on ``env``."""
    best = 0.0
    for _ in range(repeats):
        env.reset(seed=seed)
        start = time.perf_counter()
        for action in actions:
            _, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                env.reset()
        best = max(best, len(actions) / (time.perf_counter() - start))
    return best


def timed(call: Callable[[], object]) -> tuple[float, object]:
    """Seconds one call takes, and what it returned."""
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result
